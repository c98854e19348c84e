/**
 * `migrate` (find, read only): the AWS credential variables each selected project sees, which of
 * them reach its jobs, and whose keys they are (the read is scan.ts), and whether `--retire` could
 * retire each key now. Nothing is changed anywhere.
 */

import { accessKeyKind, maskAccessKeyId } from '../core/access-keys.js';
import type { MigrateFindOptions } from './options.js';
import type { MigrateFindReport, ReportedKey, ReportedProject } from './report.js';
import { coveredGroups, keyGroups } from './retire-read.js';
import { readToolRoles, retireReadiness } from './retire-readiness.js';
import { type MigrateDeps, scanMigrate } from './scan.js';
import type { FoundVariable } from './variables.js';

export type { MigrateDeps } from './scan.js';

export async function runMigrateFind(
  options: MigrateFindOptions,
  deps: MigrateDeps,
): Promise<MigrateFindReport> {
  const scan = await scanMigrate(options, deps);
  const { aws, identity, found, skipped, refOf, resolved, incomplete } = scan;
  const keyIds = [...refOf.keys()];
  const roles =
    aws && keyIds.length ? await readToolRoles(aws.iam, options.gitlabUrl, incomplete) : undefined;
  // The same rule --retire applies: a group's variables count only when this run read the whole group.
  const covered = roles ? await coveredGroups(scan, options, keyGroups(found), incomplete) : [];
  const readiness = roles
    ? retireReadiness(
        keyIds,
        found.map((f) => ({ path: f.project.pathWithNamespace, variables: f.variables })),
        resolved,
        roles,
        { now: deps.now?.() ?? new Date(), coveredGroups: covered },
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
