/**
 * `init`'s ref check: reads the project's protected branch and tag rules (once each, only for the ref
 * types the role trusts), decides which allowed refs are protected (core/protected-refs.ts), plans
 * `protectBranch`/`protectTag` steps for the rest under `--protect-refs`, and whether the trust pins
 * `gitlab.com:ref_protected` (by default on gitlab.com when every allowed ref is, or will be, protected).
 *
 * Listing the rules needs the Maintainer role (GitLab authorizes it as project administration). With
 * less (a Reporter token, or anonymous on a public project) the rules cannot be read: each literal
 * branch is then asked about on its own (GET /repository/branches/:name reports `protected`), and
 * patterns and tags stay unknown: never counted as protected, so ref_protected is not pinned by default.
 */
import {
  checkRefProtection,
  protectionRuleFor,
  type RefProtection,
  refLabel,
} from '../core/protected-refs.js';
import type { RefRule } from '../core/types.js';
import { CliError } from '../errors.js';
import { gitlabStatusOf } from '../gitlab/api/apply.js';
import type { GitlabPort, ProtectedRef } from '../gitlab/api/ports.js';
import type { GitlabStep } from '../gitlab/api/steps.js';

export interface RefProtectionInput {
  projectId: number;
  projectPath: string;
  refs: readonly RefRule[];
  gitlabCom: boolean;
  /** --protect-refs: plan the missing protection rules. */
  protectRefs: boolean;
  /** --protected-only given, or kept from the role. */
  protectedOnly: boolean;
  /** Neither --protected-only nor --no-protected-only was given: pin when every ref is protected. */
  autoProtectedOnly: boolean;
}

export interface RefVerdict extends RefProtection {
  /** The rule this run creates for it (--protect-refs). */
  willProtect?: string | undefined;
  /** How it was decided: from the rules, from the branch itself (rules not readable), or not at all. */
  source: 'rules' | 'branch' | 'unknown';
}

export interface RefProtectionPlan {
  refs: RefVerdict[];
  steps: GitlabStep[];
  /** The effective --protected-only. */
  protectedOnly: boolean;
  /** True when this run turned ref_protected on by itself (every ref protected). */
  pinnedByDefault: boolean;
  warnings: string[];
  notes: string[];
}

/** The rules of one kind, or undefined when this token may not list them (401/403, or 404 anonymously). */
async function readRules(list: () => Promise<ProtectedRef[]>): Promise<string[] | undefined> {
  try {
    return (await list()).map((r) => r.name);
  } catch (error) {
    const status = gitlabStatusOf(error);
    if (status === 401 || status === 403 || status === 404) return undefined;
    throw error;
  }
}

/** Per-ref verdicts when the rules could not be read: literal branches asked one by one. */
async function verdictsWithoutRules(
  port: GitlabPort,
  projectId: number,
  refs: readonly RefRule[],
): Promise<RefVerdict[]> {
  return Promise.all(
    refs.map(async (ref): Promise<RefVerdict> => {
      if (ref.type !== 'branch' || /[*?]/.test(ref.pattern)) return { ref, partly: [], source: 'unknown' };
      const branch = await port.getBranch(projectId, ref.pattern).catch((error: unknown) => {
        const status = gitlabStatusOf(error);
        if (status === 401 || status === 403) return undefined;
        throw error;
      });
      if (branch === undefined) return { ref, partly: [], source: 'unknown' };
      return { ref, protectedBy: branch.protected ? ref.pattern : undefined, partly: [], source: 'branch' };
    }),
  );
}

export async function planRefProtection(
  port: GitlabPort,
  input: RefProtectionInput,
): Promise<RefProtectionPlan> {
  const wants = (type: RefRule['type']) => input.refs.some((r) => r.type === type);
  const [branchRules, tagRules] = await Promise.all([
    wants('branch') ? readRules(() => port.listProtectedBranches(input.projectId)) : Promise.resolve([]),
    wants('tag') ? readRules(() => port.listProtectedTags(input.projectId)) : Promise.resolve([]),
  ]);
  const warnings: string[] = [];
  let verdicts: RefVerdict[];
  if (branchRules && tagRules) {
    verdicts = checkRefProtection(input.refs, { branches: branchRules, tags: tagRules }).map((v) => ({
      ...v,
      source: 'rules' as const,
    }));
  } else {
    if (input.protectRefs) {
      throw new CliError(
        'GITLAB_FORBIDDEN',
        `--protect-refs: the protection rules of ${input.projectPath} cannot be read with this token (listing them needs the Maintainer role, as creating them does). Nothing was changed.`,
        {
          hint: 'Use a token with the api scope of a Maintainer of the project (--gitlab-token-env NAME), or drop --protect-refs.',
        },
      );
    }
    verdicts = await verdictsWithoutRules(port, input.projectId, input.refs);
    warnings.push(
      `The protection rules of ${input.projectPath} could not be read (listing them needs the Maintainer role): ${
        verdicts.some((v) => v.source === 'branch') ? 'literal branches were checked one by one, ' : ''
      }patterns and tags are not known to be protected.`,
    );
  }

  const steps: GitlabStep[] = [];
  const refs = verdicts.map((v): RefVerdict => {
    if (v.protectedBy || !input.protectRefs) return v;
    const rule = protectionRuleFor(v.ref);
    if (rule === undefined) return v;
    steps.push(
      v.ref.type === 'branch'
        ? { kind: 'protectBranch', project: input.projectId, name: rule }
        : { kind: 'protectTag', project: input.projectId, name: rule },
    );
    return { ...v, willProtect: rule };
  });
  const left = refs.filter((r) => !r.protectedBy && !r.willProtect);
  const allProtected = left.length === 0;
  const pinnedByDefault = input.gitlabCom && input.autoProtectedOnly && !input.protectedOnly && allProtected;
  const protectedOnly = input.protectedOnly || pinnedByDefault;

  for (const r of left) {
    const consequence = protectedOnly
      ? 'its jobs are refused by the trust policy (ref_protected)'
      : 'anyone allowed to push it can run a job that assumes the role';
    if (r.source === 'unknown') {
      warnings.push(
        `${refLabel(r.ref)}: not known to be protected in ${input.projectPath}; if it is not, ${consequence}.`,
      );
      continue;
    }
    const partly = r.partly.length ? ` (only ${r.partly.join(', ')} of what it matches)` : '';
    const fix =
      protectionRuleFor(r.ref) === undefined
        ? `GitLab's rules have no single-character wildcard, so protect what "${r.ref.pattern}" matches by hand (Settings > Repository)`
        : input.protectRefs
          ? ''
          : '--protect-refs protects it (needs the Maintainer role and a token with the api scope)';
    warnings.push(
      `${refLabel(r.ref)} is not protected in ${input.projectPath}${partly}: ${consequence}${fix ? `; ${fix}` : ''}.`,
    );
  }
  const notes: string[] = [];
  if (pinnedByDefault) {
    notes.push(
      `Every allowed ref is ${steps.length ? 'protected (after the protection rules above)' : 'protected'} in GitLab: the trust requires gitlab.com:ref_protected = "true" (--no-protected-only to not require it).`,
    );
  }
  return { refs, steps, protectedOnly, pinnedByDefault, warnings, notes };
}
