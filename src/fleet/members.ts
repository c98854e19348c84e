/**
 * A fleet member: one project with init's raw flags and where each flag came from. Members are
 * validated by init's own option parsing (`resolveInitOptions`, then `loadPermissionSource` for the
 * policy file or template), never by a second validator; each problem is mapped back to the config
 * node (file:line:column) or the command-line flag that set the value.
 */
import type { RawInitFlags } from '../commands/init.js';
import type { ConfigPath, ConfigPosition } from '../config/load.js';
import { configIssue } from '../config/load.js';
import type { InitFlagKey } from '../config/member.js';
import type { DeliveryMode, RoleMode } from '../config/schema.js';
import { parseKeyValueArgs } from '../core/naming.js';
import { type FieldIssue, UsageError } from '../errors.js';
import type { GitlabProject } from '../gitlab/api/ports.js';
import { loadPermissionSource } from '../init/permissions.js';
import { DEFAULT_REGION, resolveUnattendedInitOptions } from '../init/resolve.js';

export type MemberSource =
  | { kind: 'config'; path: ConfigPath; position: ConfigPosition }
  | { kind: 'flag'; flag: string }
  | { kind: 'gitlab'; detail: string };

export interface FleetMember {
  /** `group/sub/project`, as GitLab spells it when GitLab listed it. */
  project: string;
  /** GitLab's IDs, when the selection read them (group enumeration). */
  gitlab?: { projectId: number; namespaceId: number; defaultBranch?: string | undefined } | undefined;
  /** The project as GitLab's group listing returned it: init's lookup checks it without a GET of its own. */
  listed?: GitlabProject | undefined;
  /** What a single `init` of this project would be given. */
  flags: RawInitFlags;
  /** Where each given flag came from. */
  sources: Partial<Record<InitFlagKey, MemberSource>>;
  /** For list and key=value flags: where each element came from, in the flag's order. */
  elementSources: Partial<Record<InitFlagKey, MemberSource[]>>;
  delivery: DeliveryMode;
  role: RoleMode;
  /** The node problems without a source are reported at (the member's own entry, the group, the file). */
  anchor?: ConfigPosition | undefined;
}

export interface ValidateContext {
  /** The folder relative paths are read from (the config file's, or the working folder). */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Shared between members: each distinct policy file or template is read and checked once. */
  permissionCache?: Map<string, Promise<unknown>>;
}

const flagKey = (flag: string): InitFlagKey =>
  flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as InitFlagKey;

/** The problems init's option parsing finds in a member, each located at its source. */
export async function validateMember(member: FleetMember, ctx: ValidateContext): Promise<FieldIssue[]> {
  try {
    await resolveUnattendedInitOptions(
      member.flags,
      {
        cwd: ctx.cwd,
        env: ctx.env ?? {},
      },
      'a fleet member',
    );
    const { policyFile, template } = member.flags;
    if (policyFile !== undefined || template !== undefined) {
      const cache = ctx.permissionCache ?? new Map<string, Promise<unknown>>();
      const region = member.flags.region ?? ctx.env?.AWS_REGION ?? DEFAULT_REGION;
      const params = member.flags.templateParam ?? [];
      const key = JSON.stringify([policyFile, template, params, region]);
      let check = cache.get(key);
      if (!check) {
        const templateParams = parseKeyValueArgs(params, '--template-param', 'bucket=my-site');
        check = loadPermissionSource({ cwd: ctx.cwd, policyFile, template, templateParams, region });
        cache.set(key, check);
      }
      await check;
    }
    return [];
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const issues = error.issues.length ? error.issues : [{ field: 'options', message: error.message }];
    const hint = issues.length === 1 ? error.hint : undefined;
    return issues.map((issue) => locateIssue(member, issue, hint));
  }
}

/**
 * Maps one of init's issues (`--branch: "x" …`) to the node that set the value: the element of a list
 * whose value the message quotes, else the field; a value nobody set is reported at the member's anchor.
 */
export function locateIssue(member: FleetMember, issue: FieldIssue, hint?: string): FieldIssue {
  const flag = /^--[a-z][a-z-]*/.exec(issue.field)?.[0];
  const key = flag ? flagKey(flag) : undefined;
  const quoted = [...issue.message.matchAll(/"([^"]*)"/g)].map((m) => m[1] as string);
  let source: MemberSource | undefined;
  if (key) {
    const values = member.flags[key];
    const elements = member.elementSources[key];
    if (Array.isArray(values) && elements) {
      const i = values.findIndex((v) => {
        const text = String(v);
        const name = text.includes('=') ? text.slice(0, text.indexOf('=')) : text;
        return quoted.includes(text) || quoted.includes(name) || quoted.includes(name.trim());
      });
      source = i >= 0 ? elements[i] : undefined;
    }
    source ??= member.sources[key];
  }
  // What the field says beyond the flag (`--policy-file Statement[0]`) stays in the message.
  const rest = flag ? issue.field.slice(flag.length).trim() : '';
  const problem = rest ? `${rest}: ${issue.message}` : issue.message;
  const text = `${problem}${hint ? `. ${hint}` : ''} (for ${member.project})`;
  if (source?.kind === 'config') return configIssue(source.position, text);
  const label = source?.kind === 'gitlab' ? `${issue.field} (${source.detail})` : issue.field;
  if (!source && member.anchor) return configIssue(member.anchor, `${label}: ${text}`);
  return { field: label, message: text };
}

/** At most this many issues are listed; the rest are counted. */
export const MAX_LISTED_ISSUES = 50;

/** One UsageError for every member's problems (deduplicated, capped), or nothing. */
export function throwMemberIssues(what: string, issues: FieldIssue[], hint?: string): void {
  const seen = new Set<string>();
  // The same problem at the same node is listed once, whichever member (or stand-in) found it.
  const unique = issues.filter((i) => {
    const k = `${i.field}\n${i.message.replace(/ \(for [^()]*\)$/, '')}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  if (!unique.length) return;
  const listed = unique.slice(0, MAX_LISTED_ISSUES);
  if (unique.length > listed.length) {
    listed.push({ field: '…', message: `and ${unique.length - listed.length} more problems` });
  }
  throw new UsageError(
    `Invalid ${what} (${unique.length} problem${unique.length === 1 ? '' : 's'}).`,
    listed,
    {
      hint: `${hint ? `${hint} ` : ''}Nothing was read from AWS or changed. Fix the lines above and re-run.`,
    },
  );
}
