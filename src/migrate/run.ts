/**
 * `migrate` (find, read only): the AWS credential variables each selected project sees, which of
 * them reach its jobs, and whose keys they are. GitLab: one variables list per project and one per
 * ancestor group (each group read once per run); a list the token may not read (403: group variables
 * need the Owner role, project variables Maintainer) is reported as not readable, never fatal. AWS: see
 * resolve-keys.ts. Nothing is changed anywhere.
 */

import type { AwsPorts } from '../aws/ports.js';
import { accessKeyKind, maskAccessKeyId } from '../core/access-keys.js';
import { mapWithConcurrency } from '../core/concurrency.js';
import { GitlabApiError } from '../gitlab/api/errors.js';
import type { CiVariable, GitlabPort, GitlabProject } from '../gitlab/api/ports.js';
import type { MigrateFindOptions } from './options.js';
import type { MigrateFindReport, ReportedKey, ReportedProject, Unreadable } from './report.js';
import { resolveKeys } from './resolve-keys.js';
import { readToolRoles, retireReadiness } from './retire-readiness.js';
import { ancestorGroups, selectProjects } from './select.js';
import { type FoundVariable, findCredentialVariables, type VariableLevel } from './variables.js';

export interface MigrateDeps {
  /** The clock the retire readiness is judged at (tests). */
  now?: (() => Date) | undefined;
  gitlab: () => Promise<GitlabPort>;
  /** Undefined with --no-aws: keys are not resolved. */
  aws?: (() => Promise<AwsPorts>) | undefined;
  progress?: ((message: string) => void) | undefined;
}

const NEEDS = {
  project: 'needs the Maintainer role on the project',
  group: 'needs the Owner role on the group',
};

/** Reads a variable list; a 403 is "not readable with this token", anything else fails the run. */
async function readVariables(
  source: 'project' | 'group',
  path: string,
  read: () => Promise<CiVariable[]>,
): Promise<{ variables?: CiVariable[]; unreadable?: Unreadable }> {
  try {
    return { variables: await read() };
  } catch (error) {
    if (error instanceof GitlabApiError && error.status === 403) {
      return { unreadable: { source, path, reason: `not readable with this token (${NEEDS[source]})` } };
    }
    throw error;
  }
}

export async function runMigrateFind(
  options: MigrateFindOptions,
  deps: MigrateDeps,
): Promise<MigrateFindReport> {
  const progress = deps.progress ?? (() => {});
  // Fail fast on missing AWS credentials, before reading GitLab.
  const aws = deps.aws ? await deps.aws() : undefined;
  const identity = aws ? await aws.sts.getCallerIdentity() : undefined;
  const gitlab = await deps.gitlab();

  progress('Selecting projects…');
  const { projects, skipped } = await selectProjects(gitlab, {
    projects: options.project,
    groups: options.group,
  });

  const groupReads = new Map<string, ReturnType<typeof readVariables>>();
  const groupVariables = (path: string) => {
    let read = groupReads.get(path);
    if (!read) {
      read = readVariables('group', path, () => gitlab.listGroupVariables(path));
      groupReads.set(path, read);
    }
    return read;
  };

  progress(`Reading CI/CD variables of ${projects.length} project${projects.length === 1 ? '' : 's'}…`);
  const found = await mapWithConcurrency(projects, options.concurrency, async (project: GitlabProject) => {
    const own = await readVariables('project', project.pathWithNamespace, () =>
      gitlab.listProjectVariables(project.id),
    );
    const levels: VariableLevel[] = [
      { source: 'project', path: project.pathWithNamespace, variables: own.variables },
    ];
    const unreadable: Unreadable[] = own.unreadable ? [own.unreadable] : [];
    if (project.namespace.kind === 'group') {
      for (const path of ancestorGroups(project.namespace.fullPath)) {
        const group = await groupVariables(path);
        levels.push({ source: 'group', path, variables: group.variables });
        if (group.unreadable) unreadable.push(group.unreadable);
      }
    }
    return { project, variables: findCredentialVariables(levels), unreadable };
  });

  // Run-local references, in order of first appearance (projects sorted by path).
  const refOf = new Map<string, string>();
  for (const { variables } of found) {
    for (const v of variables)
      for (const id of v.keyIds) if (!refOf.has(id)) refOf.set(id, `k${refOf.size + 1}`);
  }

  const incomplete: MigrateFindReport['incomplete'] = [];
  const keyIds = [...refOf.keys()];
  const resolved =
    aws && identity
      ? await resolveKeys(
          keyIds,
          aws,
          identity.account,
          { concurrency: options.concurrency, progress },
          incomplete,
        )
      : new Map();
  const roles =
    aws && keyIds.length ? await readToolRoles(aws.iam, options.gitlabUrl, incomplete) : undefined;
  const readiness = roles
    ? retireReadiness(
        keyIds,
        found.map((f) => ({ path: f.project.pathWithNamespace, variables: f.variables })),
        resolved,
        roles,
        { now: deps.now?.() ?? new Date(), coveredGroups: options.group },
      )
    : undefined;

  const reportedProjects: ReportedProject[] = found.map(({ project, variables, unreadable }) => ({
    path: project.pathWithNamespace,
    id: project.id,
    webUrl: project.webUrl,
    archived: project.archived,
    variables: variables.map((v) => ({
      key: v.key,
      kind: v.kind,
      source: v.source,
      path: v.path,
      environmentScope: v.environmentScope,
      protected: v.protected,
      masked: v.masked,
      hidden: v.hidden,
      variableType: v.variableType,
      value: v.value,
      keyIds: v.keyIds.map(maskAccessKeyId),
      keys: v.keyIds.map((id) => refOf.get(id) as string),
      inEffect: v.inEffect,
      ...(v.shadowedBy ? { shadowedBy: v.shadowedBy } : {}),
    })),
    unreadable,
    keys: [...new Set(variables.filter((v) => v.inEffect).flatMap((v) => v.keyIds))].map(
      (id) => refOf.get(id) as string,
    ),
    hiddenCredentials: variables.some((v: FoundVariable) => v.inEffect && v.value === 'hidden'),
  }));

  const keys: ReportedKey[] = [...refOf].map(([id, ref]) => {
    const using = found.filter((f) => f.variables.some((v) => v.inEffect && v.keyIds.includes(id)));
    const shadowed = found.filter(
      (f) => !using.includes(f) && f.variables.some((v) => v.keyIds.includes(id)),
    );
    const resolution = resolved.get(id);
    return {
      ref,
      keyId: maskAccessKeyId(id),
      type: accessKeyKind(id),
      owner: resolution?.owner ?? { kind: 'unknown', reason: 'not resolved (--no-aws)' },
      ...(resolution?.lastUsed ? { lastUsed: resolution.lastUsed } : {}),
      projects: using.map((f) => f.project.pathWithNamespace),
      shadowedIn: shadowed.map((f) => f.project.pathWithNamespace),
      shared: using.length > 1,
      ...(readiness?.get(id) ? { retire: readiness.get(id) } : {}),
    };
  });

  return {
    gitlabUrl: options.gitlabUrl,
    ...(identity ? { account: identity.account } : {}),
    projects: reportedProjects,
    keys,
    skipped,
    incomplete,
  };
}
