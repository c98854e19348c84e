/**
 * `migrate --apply`, the pure part: which projects can get a role from the find report, and from whose
 * permissions. A project is migrated when the key variables that reach its jobs name keys of exactly one
 * IAM user of this account. Otherwise it is listed as not migratable, with why: a hidden key ID (its
 * value, so its user, cannot be read), a key of another account, a key no user holds, keys of several
 * users. A shared key (several projects) gives each project its own role: trust is per project.
 */
import type { GroupDetail, UserAuthorizationDetails } from '../aws/ports.js';
import type { PolicyDocument } from '../core/types.js';
import type { UserPermissions } from './carry-over.js';
import { describeOwner } from './format.js';
import type { MigrateFindReport, ReportedKey, ReportedProject, ReportedVariable } from './report.js';

/** A variable that brings the key to the jobs, as the plan and the merge request name it. */
export interface KeyVariable {
  key: string;
  /** `project variable`, `group acme variable`. */
  where: string;
}

export type Migration =
  | {
      path: string;
      status: 'migrate';
      userName: string;
      userArn: string;
      /** References into the report's keys (`k1`). */
      keys: string[];
      /** The keys of `keys` other projects use too. */
      sharedKeys: string[];
      /** The credential variables in effect: the hidden job unsets the standard ones. */
      variables: KeyVariable[];
      warnings: string[];
    }
  | { path: string; status: 'not-migratable'; reason: string; keys: string[] }
  | { path: string; status: 'nothing-to-migrate'; reason: string };

const whereOf = (v: Pick<ReportedVariable, 'source' | 'path'>) =>
  v.source === 'project' ? 'project variable' : `group ${v.path} variable`;

function planProject(project: ReportedProject, keys: ReadonlyMap<string, ReportedKey>): Migration {
  const path = project.path;
  const inEffect = project.variables.filter((v) => v.inEffect);
  const hiddenIds = inEffect.filter((v) => v.value === 'hidden' && v.kind === 'access-key-id');
  if (project.keys.length === 0) {
    if (hiddenIds.length) {
      return {
        path,
        status: 'not-migratable',
        reason: `${hiddenIds.map((v) => `${v.key} (${whereOf(v)})`).join(', ')} is hidden: its value, so the key's IAM user, cannot be read (make it visible, or migrate this project with init)`,
        keys: [],
      };
    }
    return { path, status: 'nothing-to-migrate', reason: 'no readable AWS key variable reaches its jobs' };
  }
  const owners = project.keys.map((ref) => keys.get(ref)?.owner);
  const refused = project.keys.flatMap((ref, i) => {
    const owner = owners[i];
    if (owner?.kind === 'user') return [];
    const key = keys.get(ref);
    return [`key ${ref} (${key?.keyId ?? '?'}): ${owner ? describeOwner(owner) : 'not resolved'}`];
  });
  if (refused.length) {
    return {
      path,
      status: 'not-migratable',
      reason: `no role can be planned from ${refused.join('; ')}`,
      keys: project.keys,
    };
  }
  const users = [...new Set(owners.map((o) => (o?.kind === 'user' ? o.userName : '')))];
  if (users.length > 1) {
    return {
      path,
      status: 'not-migratable',
      reason: `keys of ${users.length} IAM users reach its jobs (${users.join(', ')}): whose permissions the role should have is not clear (leave one user's key, or run init for it)`,
      keys: project.keys,
    };
  }
  const owner = owners[0] as Extract<ReportedKey['owner'], { kind: 'user' }>;
  const warnings: string[] = [];
  if (hiddenIds.length) {
    warnings.push(
      `${hiddenIds.map((v) => v.key).join(', ')} is hidden: if it holds another key, that key is not migrated`,
    );
  }
  for (const v of inEffect.filter((v) => v.kind === 'holds-key-id')) {
    warnings.push(
      `${v.key} (${whereOf(v)}) holds the key in another form (a credentials file?): unsetting the standard variables does not stop a job that reads it; move such jobs to the role by hand`,
    );
  }
  for (const u of project.unreadable) {
    warnings.push(
      `the ${u.source === 'project' ? 'project' : `group ${u.path}`} variables were not readable (${u.reason}): the jobs may see more keys`,
    );
  }
  return {
    path,
    status: 'migrate',
    userName: owner.userName,
    userArn: owner.userArn,
    keys: project.keys,
    sharedKeys: project.keys.filter((ref) => keys.get(ref)?.shared),
    variables: inEffect
      .filter((v) => v.kind !== 'holds-key-id')
      .map((v) => ({ key: v.key, where: whereOf(v) })),
    warnings,
  };
}

/** One entry per reported project, in the report's order. */
export function planMigrations(report: MigrateFindReport): Migration[] {
  const keys = new Map(report.keys.map((k) => [k.ref, k]));
  return report.projects.map((p) =>
    p.archived ? { path: p.path, status: 'nothing-to-migrate', reason: 'archived' } : planProject(p, keys),
  );
}

/** A user's permissions as the bulk read gives them; undefined when the user is not in it (deleted). */
export function userPermissionsOf(
  details: UserAuthorizationDetails,
  userName: string,
): UserPermissions | undefined {
  const user = details.users.find((u) => u.name === userName);
  if (!user) return undefined;
  const groups = new Map(details.groups.map((g) => [g.name, g]));
  const managedPolicyDocuments = new Map<string, PolicyDocument>(
    details.policies.map((p) => [p.arn, p.document]),
  );
  return {
    userName: user.name,
    userArn: user.arn,
    attachedPolicyArns: user.attachedPolicyArns,
    inlinePolicies: user.inlinePolicies,
    groups: user.groupNames.map((name) => {
      const g: GroupDetail | undefined = groups.get(name);
      return {
        name,
        attachedPolicyArns: g?.attachedPolicyArns ?? [],
        inlinePolicies: g?.inlinePolicies ?? [],
      };
    }),
    permissionsBoundaryArn: user.permissionsBoundaryArn,
    managedPolicyDocuments,
  };
}
