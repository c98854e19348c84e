/**
 * `audit` with a GitLab token: the "unprotected ref" findings the linter can only guess at (GAO012, a
 * literal ref on gitlab.com without ref_protected; GAO010, a ref pattern nothing checks) are checked
 * against the project's real protection rules (GET …/protected_branches and …/protected_tags, once per
 * project). A ref GitLab protects clears its finding; one it does not is "confirmed unprotected".
 * Without a token the findings stay as the linter wrote them and the report says why.
 *
 * Only roles that federate to the provider of `--gitlab-url` are checked: the token is never sent to
 * another host found in the account.
 */
import type { RoleSummary } from '../aws/ports.js';
import type { Finding } from '../core/lint.js';
import { trustStatements } from '../core/lint.js';
import { parseSub } from '../core/lint-rules/subject.js';
import { checkRefProtection } from '../core/protected-refs.js';
import type { RefRule, RefType } from '../core/types.js';
import { AbortError, CliError } from '../errors.js';
import type { GitlabPort, ProjectRef } from '../gitlab/api/ports.js';

/** The rules whose verdict depends on GitLab's protection settings. */
export const PROTECTION_RULES = new Set(['GAO010', 'GAO012']);

export interface GitlabRefCheck {
  /** The instance whose protection rules were (or would be) read. */
  url: string;
  /** True when GitLab was read. */
  checked: boolean;
  /** Findings cleared because GitLab protects every ref they name. */
  cleared: { role: string; ruleId: string; refs: string[]; project: string }[];
  notes: string[];
}

export interface GitlabRefCheckInput {
  findings: Finding[];
  roles: readonly RoleSummary[];
  gitlabUrl: string;
  /** The port for `gitlabUrl` when a token is there. */
  port?: (() => Promise<GitlabPort>) | undefined;
}

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `gitlab.com`, `gitlab.example.com/gitlab`: the condition-key host of the instance. */
const hostOf = (url: string) =>
  url
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '')
    .toLowerCase();

/** The literal projects the sub values for `host` name: `grp/app` or `42` (a project_id sub). */
function projectsOf(role: RoleSummary, host: string): Set<string> {
  const projects = new Set<string>();
  for (const st of trustStatements(role.trustPolicy)) {
    for (const [operator, block] of Object.entries(st?.Condition ?? {})) {
      if (/not/i.test(operator) || !block || typeof block !== 'object') continue;
      for (const [key, value] of Object.entries(block)) {
        if (key.toLowerCase() !== `${host}:sub`) continue;
        for (const v of asList(value)) {
          const project = literalProject(String(v), /like/i.test(operator));
          if (project !== undefined) projects.add(project);
        }
      }
    }
  }
  return projects;
}

function literalProject(sub: string, pattern: boolean): string | undefined {
  const parsed = parseSub(sub, pattern);
  const first = parsed.components[0];
  if (parsed.headWildcard || !first || (pattern && /[*?]/.test(first.value))) return undefined;
  if (first.key === 'project_path' && first.value.includes('/')) return first.value;
  if (first.key === 'project_id' && /^\d+$/.test(first.value)) return first.value;
  return undefined;
}

const types = (refType: string | undefined): RefType[] =>
  refType === 'branch' || refType === 'tag' ? [refType] : ['branch', 'tag'];

/** The refs a finding is about: GAO012's value lists `branch main, tag v1, ref x`; GAO010's is the sub pattern. */
function refsOf(f: Finding): { refs: RefRule[]; project?: string | undefined } | undefined {
  if (f.value === undefined) return undefined;
  if (f.ruleId === 'GAO012') {
    const refs: RefRule[] = [];
    // Ref names never hold spaces, so ", " separates them.
    for (const item of f.value.split(', ')) {
      const space = item.indexOf(' ');
      if (space <= 0) return undefined;
      const name = item.slice(space + 1);
      for (const type of types(item.slice(0, space))) refs.push({ type, pattern: name });
    }
    return { refs };
  }
  const parsed = parseSub(f.value, true);
  const get = (k: string) => parsed.components.find((c) => c.key === k)?.value;
  const ref = get('ref');
  if (ref === undefined) return undefined;
  return {
    refs: types(get('ref_type')).map((type) => ({ type, pattern: ref })),
    project: literalProject(f.value, true),
  };
}

const label = (r: RefRule) => `${r.type} ${r.pattern}`;

/**
 * One verdict per ref from the project's rules; a token that may not list them (GitLab: Maintainer)
 * still gets literal branches from the branch itself (`protected`, GitLab's own matching). Anything
 * else then throws, and the finding stays.
 */
async function protectionOf(
  port: GitlabPort,
  project: string,
  refs: RefRule[],
  rulesOf: (project: string) => Promise<{ branches: string[]; tags: string[] }>,
): Promise<{ ref: RefRule; protectedBy?: string | undefined }[]> {
  try {
    return checkRefProtection(refs, await rulesOf(project));
  } catch (error) {
    if (statusOf(error) !== 403 || refs.some((r) => r.type !== 'branch' || /[*?]/.test(r.pattern)))
      throw error;
    const ref: ProjectRef = /^\d+$/.test(project) ? Number(project) : project;
    return Promise.all(
      refs.map(async (r) => {
        const branch = await port.getBranch(ref, r.pattern);
        return { ref: r, protectedBy: branch?.protected ? r.pattern : undefined };
      }),
    );
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The findings with GAO010/GAO012 confirmed or cleared from GitLab (the others untouched), and what was
 * done. Without a port, or for roles on another provider, the findings are returned as they were.
 */
export async function checkProtectionFindings(
  input: GitlabRefCheckInput,
): Promise<{ findings: Finding[]; check?: GitlabRefCheck | undefined }> {
  const { gitlabUrl } = input;
  const host = hostOf(gitlabUrl);
  const roleFor = (f: Finding) =>
    f.target?.kind === 'role' ? input.roles.find((r) => r.name === f.target?.id) : undefined;
  const onInstance = (f: Finding) =>
    PROTECTION_RULES.has(f.ruleId) && f.conditionKey?.toLowerCase() === `${host}:sub` && roleFor(f);
  const relevant = input.findings.filter(onInstance);
  if (relevant.length === 0) return { findings: input.findings };
  const check: GitlabRefCheck = { url: gitlabUrl, checked: false, cleared: [], notes: [] };
  if (!input.port) {
    check.notes.push(
      `${[...new Set(relevant.map((f) => f.ruleId))].join(', ')} ${relevant.length === 1 ? 'is' : 'are'} the linter's guess: it cannot see GitLab's protection rules without a token for ${gitlabUrl} (set GITLAB_TOKEN, or --gitlab-token-env NAME, with read_api and the Reporter role).`,
    );
    return { findings: input.findings, check };
  }
  const port = await input.port();
  check.checked = true;
  const rules = new Map<string, Promise<{ branches: string[]; tags: string[] }>>();
  const rulesOf = (project: string) => {
    let found = rules.get(project);
    if (!found) {
      const ref: ProjectRef = /^\d+$/.test(project) ? Number(project) : project;
      found = Promise.all([port.listProtectedBranches(ref), port.listProtectedTags(ref)]).then(
        ([branches, tags]) => ({ branches: branches.map((b) => b.name), tags: tags.map((t) => t.name) }),
      );
      rules.set(project, found);
    }
    return found;
  };
  const out: Finding[] = [];
  for (const f of input.findings) {
    if (!relevant.includes(f)) {
      out.push(f);
      continue;
    }
    const role = roleFor(f) as RoleSummary;
    const about = refsOf(f);
    const candidates = projectsOf(role, host);
    const project = about?.project ?? (candidates.size === 1 ? [...candidates][0] : undefined);
    if (!about || project === undefined) {
      check.notes.push(
        `${f.ruleId} on role ${role.name} was not checked: its trust names ${candidates.size === 0 ? 'no literal project' : `${candidates.size} projects`}.`,
      );
      out.push(f);
      continue;
    }
    let verdicts: { ref: RefRule; protectedBy?: string | undefined }[];
    try {
      verdicts = await protectionOf(port, project, about.refs, rulesOf);
    } catch (error) {
      if (error instanceof AbortError) throw error;
      const status = statusOf(error);
      const why =
        status === 404
          ? `project ${project} was not found on ${gitlabUrl}, or the token cannot see it`
          : error instanceof CliError || error instanceof Error
            ? error.message
            : String(error);
      check.notes.push(`${f.ruleId} on role ${role.name} was not checked: ${why}.`);
      out.push(f);
      continue;
    }
    const open = verdicts.filter((v) => !v.protectedBy).map((v) => v.ref);
    const shown = project.match(/^\d+$/) ? `project ${project}` : project;
    if (open.length === 0) {
      check.cleared.push({
        role: role.name,
        ruleId: f.ruleId,
        refs: [...new Set(about.refs.map((r) => r.pattern))],
        project: shown,
      });
      continue;
    }
    const refs = open.map(label).join(', ');
    out.push({
      ...f,
      ...(f.ruleId === 'GAO012' ? { value: refs } : {}),
      why: `confirmed unprotected: ${refs} (the protection rules of ${shown} on ${gitlabUrl}, read now): anyone allowed to push ${open.length > 1 ? 'them' : 'it'} (or create a tag of that name) can run a job that assumes the role.`,
    });
  }
  return { findings: out, check };
}
