/**
 * For the find report: could each key be retired now (planRetire's decision, without its steps)?
 * Reads the tool's roles in bulk (iam:GetAccountAuthorizationDetails: tags, creation, last use).
 */
import type { IamPort } from '../aws/ports.js';
import { maskAccessKeyId } from '../core/access-keys.js';
import { GITLAB_URL_TAG, isToolManaged, PROJECT_TAG } from '../core/types.js';
import { sameGitlabUrl } from '../destroy/plan.js';
import { AbortError } from '../errors.js';
import type { KeyResolution } from './resolve-keys.js';
import { describeFailure } from './resolve-keys.js';
import { planRetire, type RetireKeyInput, type RetireVariable, type ToolRole } from './retire-plan.js';
import type { FoundVariable } from './variables.js';

export interface ScannedProject {
  path: string;
  variables: FoundVariable[];
}

/** The tool's roles, by the project they were made for (on this GitLab instance, or untagged). */
export async function readToolRoles(
  iam: IamPort,
  gitlabUrl: string,
  incomplete: { resource: string; error: string }[],
): Promise<ToolRole[] | undefined> {
  try {
    const { roles } = await iam.getAccountAuthorizationDetails();
    return roles.flatMap((r): ToolRole[] => {
      const project = r.tags[PROJECT_TAG];
      const url = r.tags[GITLAB_URL_TAG];
      if (!isToolManaged(r.tags) || !r.createDate) return [];
      if (url !== undefined && !sameGitlabUrl(url, gitlabUrl)) return [];
      return [{ name: r.name, project, createDate: r.createDate, lastUsed: r.lastUsed?.date }];
    });
  } catch (error) {
    if (error instanceof AbortError) throw error;
    incomplete.push({
      resource: 'IAM roles (iam:GetAccountAuthorizationDetails)',
      error: describeFailure(error),
    });
    return undefined;
  }
}

const same = (a: RetireVariable, b: RetireVariable) =>
  a.key === b.key && a.source === b.source && a.path === b.path && a.environmentScope === b.environmentScope;

function pushOnce(list: RetireVariable[], v: RetireVariable) {
  if (!list.some((x) => same(x, v))) list.push(v);
}

/** planRetire's inputs: per key, its owner, last use, the projects that get it and its variables. */
export function buildRetireInputs(
  keyIds: readonly string[],
  scanned: readonly ScannedProject[],
  resolved: ReadonlyMap<string, KeyResolution>,
): RetireKeyInput[] {
  return keyIds.map((id) => {
    const owner = resolved.get(id)?.owner;
    const idVariables: RetireVariable[] = [];
    const secretVariables: RetireVariable[] = [];
    for (const project of scanned) {
      for (const v of project.variables) {
        if (!v.keyIds.includes(id)) continue;
        const at = { key: v.key, source: v.source, path: v.path, environmentScope: v.environmentScope };
        pushOnce(idVariables, at);
        for (const s of project.variables) {
          if (
            (s.kind === 'secret-access-key' || s.kind === 'session-token') &&
            s.source === v.source &&
            s.path === v.path &&
            s.environmentScope === v.environmentScope
          )
            pushOnce(secretVariables, {
              key: s.key,
              source: s.source,
              path: s.path,
              environmentScope: s.environmentScope,
            });
        }
      }
    }
    const lastUsed = resolved.get(id)?.lastUsed?.date;
    return {
      accessKeyId: id,
      masked: maskAccessKeyId(id),
      owner:
        owner?.kind === 'user'
          ? { kind: 'user', userName: owner.userName, status: owner.status }
          : owner?.kind === 'other-account'
            ? { kind: 'other-account', account: owner.account }
            : { kind: 'unknown' },
      lastUsed: lastUsed ? new Date(lastUsed) : undefined,
      lastUsedUnknown: owner?.kind === 'user' && resolved.get(id)?.lastUsed === undefined,
      projects: scanned
        .filter((p) => p.variables.some((v) => v.inEffect && v.keyIds.includes(id)))
        .map((p) => p.path),
      idVariables,
      secretVariables,
    };
  });
}

/** Full key ID → { ready, reasons }. */
export function retireReadiness(
  keyIds: readonly string[],
  scanned: readonly ScannedProject[],
  resolved: ReadonlyMap<string, KeyResolution>,
  roles: readonly ToolRole[],
  context: { now: Date; coveredGroups: readonly string[] },
): Map<string, { ready: boolean; reasons: string[] }> {
  const decisions = planRetire(buildRetireInputs(keyIds, scanned, resolved), roles, context);
  return new Map(
    keyIds.map((id, i) => [id, { ready: decisions[i]!.retire, reasons: decisions[i]!.reasons }]),
  );
}
