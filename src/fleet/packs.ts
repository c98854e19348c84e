/**
 * `role: per-group` in a fleet: the members that share a role name base are packed into as few roles
 * as the trust-policy size quota allows (core/packing `packProjects`), and each member is given its
 * packed role (`InitOptions.pack`), so the members of one role all desire the same role and init's own
 * planner writes it. Pure: the account's roles (names, trust policies, tags when known) come from the
 * fleet's bulk read (aws/account-snapshot), so packing makes no IAM call of its own.
 *
 * - The previous assignment is read from the roles named `<base>-<n>`: the projects their trust's `sub`
 *   values name. Kept wherever a project still fits (stable across runs; a new project never moves one).
 * - A project a role trusts that this run does not select (narrowed with --include, archived, listed by
 *   another config) is kept in its role as it is: rebuilt from its `sub` values (and the role's ID pins
 *   the selected projects do not account for), never dropped. When it cannot be rebuilt exactly (IDs
 *   left unmatched, several namespaces, another sub form) or would have to move, the pack is refused
 *   (exit 2).
 * - Moves (a project that outgrew its role) and emptied roles are reported (PackSummary), not hidden;
 *   an emptied role is left as it is.
 */
import { parseIssuerUrl, providerArnFor } from '../core/issuer.js';
import {
  type PackProject,
  type PackResult,
  type PreviousRole,
  packProjectKey,
  packProjects,
} from '../core/packing.js';
import { instanceKey } from '../core/tool-resources.js';
import type { Issuer, PolicyDocument, RefRule, Tags } from '../core/types.js';
import { isToolManaged, PACK_TAG } from '../core/types.js';
import { type FieldIssue, UsageError } from '../errors.js';
import type { InitOptions } from '../init/options.js';
import { summarizeTrust } from '../status/drift.js';
import { assertPackedRolesSafe } from '../verify/pack-safety.js';

/** A role of the account, as the fleet's bulk read has it (tags undefined when only ListRoles was read). */
export interface AccountRole {
  name: string;
  trustPolicy: PolicyDocument;
  tags?: Tags | undefined;
}

export interface PackSummary {
  /** The roles' name base: `<base>-<n>`. */
  base: string;
  group: string;
  /** The trust policy size quota packed against (`--trust-policy-max`). */
  quota: number;
  roles: Array<{
    roleName: string;
    /** Selected projects the role serves. */
    projects: string[];
    /** Projects the role serves that this run does not select: kept as they are. */
    kept: string[];
    /** Projects this run adds to the role (new, or moved in). */
    added: string[];
    /** Trust policy size (characters, whitespace excluded). */
    size: number;
  }>;
  /** Projects placed in another role than before. */
  moves: Array<{ project: string; from: string; to: string; reason: string }>;
  /** Roles left serving no project: not deleted (`destroy --role NAME` deletes one). */
  emptied: string[];
  /** Roles this run leaves as they are because they serve only projects it does not select. */
  untouched: string[];
}

export interface PackedFleet {
  /** The members, per-group ones given their packed role (`pack`, `roleName`, `policyName`). */
  members: InitOptions[];
  packs: PackSummary[];
}

/** Members that must share one set of roles: one GitLab instance, one role name base. */
const familyKey = (o: InitOptions) => JSON.stringify([instanceKey(o.gitlabUrl), o.roleName.toLowerCase()]);

/** What every member of one family must agree on: it is one role (or several identical ones). */
const SHARED: Array<[string, (o: InitOptions) => unknown]> = [
  ['audience', (o) => o.audience],
  ['rolePath', (o) => o.rolePath],
  ['permissions.managedPolicies', (o) => [...o.managedPolicies].sort()],
  [
    'permissions',
    (o) => [o.policyFile ?? null, o.template ?? null, o.templateParams, o.keptPolicyDocument ?? null],
  ],
  ['region', (o) => (o.template ? o.region : null)],
  ['boundary', (o) => o.permissionsBoundary ?? null],
  ['maxSessionDuration', (o) => o.maxSessionDuration],
  ['tags', (o) => Object.entries(o.awsTags).sort()],
  ['--trust-policy-max', (o) => o.trustPolicyMax],
];

function checkFamily(base: string, family: readonly InitOptions[]): FieldIssue[] {
  const first = family[0] as InitOptions;
  const issues: FieldIssue[] = [];
  for (const [field, get] of SHARED) {
    const want = JSON.stringify(get(first));
    const odd = family.find((o) => JSON.stringify(get(o)) !== want);
    if (odd) {
      issues.push({
        field,
        message: `${odd.project} and ${first.project} share the per-group roles ${base}-<n> but differ here; give them the same value or another roleName`,
      });
    }
  }
  const idForm = family.find((o) => o.subClaim === 'project_id');
  if (idForm) {
    issues.push({
      field: '--sub-claim',
      message: `${idForm.project}: per-group roles name their projects by path in sub (project-path); project-id is per-project only`,
    });
  }
  return issues;
}

/** The group a family serves: the longest common namespace of its projects (the base when none). */
function commonGroup(paths: readonly string[], base: string): string {
  const split = paths.map((p) => p.split('/').slice(0, -1));
  const first = split[0] ?? [];
  let n = first.length;
  for (const s of split) {
    let i = 0;
    while (i < n && i < s.length && s[i]?.toLowerCase() === first[i]?.toLowerCase()) i++;
    n = i;
  }
  return n > 0 ? first.slice(0, n).join('/') : base;
}

const indexOf = (base: string, name: string): number | undefined => {
  const m = /^-(\d+)$/.exec(name.slice(base.length));
  return name.toLowerCase().startsWith(`${base.toLowerCase()}-`) && m ? Number(m[1]) : undefined;
};

const isPackRole = (r: AccountRole) =>
  r.tags === undefined || (isToolManaged(r.tags) && r.tags[PACK_TAG] !== undefined);

/** The roles of the family found in the account, with the subjects their trust names. */
function previousRoles(base: string, roles: readonly AccountRole[]) {
  return roles
    .filter((r) => indexOf(base, r.name) !== undefined)
    .filter(isPackRole)
    .map((r) => ({ name: r.name, trust: summarizeTrust(r.trustPolicy), trustPolicy: r.trustPolicy }))
    .sort((a, b) => (indexOf(base, a.name) ?? 0) - (indexOf(base, b.name) ?? 0));
}

interface Outsider {
  project: PackProject;
  roleName: string;
}

/**
 * Rebuilds the projects a previous role trusts that are not selected, from its `sub` values; a UsageError
 * when that cannot be done exactly (the projects would otherwise lose their access).
 */
function outsidersOf(
  role: ReturnType<typeof previousRoles>[number],
  selected: { has: (subjectProject: string) => boolean; ids: ReadonlySet<string> },
  issuer: Issuer,
): { outsiders: Outsider[]; problems: string[] } {
  const refs = new Map<string, RefRule[]>();
  const problems: string[] = [];
  for (const s of role.trust.subjects) {
    if (selected.has(s.project)) continue;
    if (s.project.startsWith('project ') || /[*?]/.test(s.project) || s.refType === 'any') {
      problems.push(`${role.name} trusts ${s.project} (${s.refType} ${s.ref})`);
      continue;
    }
    refs.set(s.project, [...(refs.get(s.project) ?? []), { type: s.refType, pattern: s.ref }]);
  }
  // ID pins (gitlab.com): the role ORs its projects' IDs apart from their paths, so the IDs the
  // selected projects do not account for are the others' (which goes with which does not change the
  // policy). Kept exactly when there is one per project left and one namespace; else refused.
  const projectIds = role.trust.projectIds.filter((id) => !selected.ids.has(id));
  const namespaceIds = conditionValuesOf(role.trustPolicy, `${issuer.hostPath}:namespace_id`);
  const paths = [...refs.keys()];
  if (paths.length && role.trust.projectIds.length && projectIds.length !== paths.length) {
    problems.push(
      `${role.name} pins ${projectIds.length} project IDs besides the selected projects' for ${paths.length} project(s) (${paths.join(', ')})`,
    );
  }
  const outsiders = paths.map((projectPath, i) => ({
    roleName: role.name,
    project: {
      projectPath,
      refs: refs.get(projectPath) as RefRule[],
      protectedOnly: role.trust.protectedOnly || undefined,
      ...(role.trust.projectIds.length ? { projectId: projectIds[i] } : {}),
      ...(namespaceIds.length ? { namespaceId: namespaceIds[0] } : {}),
    },
  }));
  // One namespace (the usual group): theirs. Several: which one is theirs is not known.
  if (paths.length && namespaceIds.length > 1) {
    problems.push(
      `${role.name} pins ${namespaceIds.length} namespace IDs; which are those of ${paths.join(', ')} is not known`,
    );
  }
  return { outsiders, problems };
}

/** The values of one condition key across the policy's Allow statements (any operator). */
function conditionValuesOf(policy: PolicyDocument, key: string): string[] {
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  const values = new Set<string>();
  for (const st of statements as { Effect?: string; Condition?: Record<string, Record<string, unknown>> }[]) {
    if (st?.Effect !== 'Allow') continue;
    for (const block of Object.values(st.Condition ?? {})) {
      const v = block[key];
      for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) values.add(String(x));
    }
  }
  return [...values];
}

const summarizeResult = (
  pack: Pick<PackSummary, 'base' | 'group' | 'untouched'>,
  result: PackResult,
  added: ReadonlyMap<string, string[]>,
  outsiderKeys: ReadonlySet<string>,
  keyToPath: ReadonlyMap<string, string>,
): PackSummary => {
  const path = (k: string) => keyToPath.get(k) ?? k;
  return {
    base: pack.base,
    group: pack.group,
    quota: result.quota,
    roles: result.roles.map((r) => ({
      roleName: r.roleName,
      projects: r.projects.filter((k) => !outsiderKeys.has(k)).map(path),
      kept: r.projects.filter((k) => outsiderKeys.has(k)).map(path),
      added: added.get(r.roleName) ?? [],
      size: r.size,
    })),
    moves: result.moves.map((m) => ({ ...m, project: path(m.project) })),
    emptied: result.emptied,
    untouched: pack.untouched,
  };
};

/**
 * Gives every per-group member its packed role. `identity` is the account the roles are in; `roles` the
 * account's roles (empty offline). Throws a UsageError (exit 2, before any change) for members of one
 * family that disagree, subjects that cannot be kept, or a project too big for a role alone.
 */
export function packFleet(
  members: readonly InitOptions[],
  context: { identity: { account: string; partition: string }; roles: readonly AccountRole[] },
): PackedFleet {
  const families = new Map<string, InitOptions[]>();
  for (const m of members.filter((o) => o.perGroup)) {
    const key = familyKey(m);
    families.set(key, [...(families.get(key) ?? []), m]);
  }
  if (families.size === 0) return { members: [...members], packs: [] };
  const issues = [...families.values()].flatMap((f) => checkFamily((f[0] as InitOptions).roleName, f));
  if (issues.length) throw new UsageError('Invalid per-group roles.', issues);

  const given = new Map<InitOptions, InitOptions>();
  const packs: PackSummary[] = [];
  for (const family of families.values()) {
    const first = family[0] as InitOptions;
    const base = first.roleName;
    const issuer = parseIssuerUrl(first.gitlabUrl);
    const providerArn = providerArnFor(context.identity.partition, context.identity.account, issuer);
    const projects: PackProject[] = family.map((o) => ({
      projectPath: o.project,
      projectId: o.projectId,
      namespaceId: o.namespaceId,
      refs: o.refs,
      protectedOnly: o.protectedOnly || undefined,
      allowAnyRef: o.allowAnyRef || undefined,
    }));
    const byPath = new Map(projects.map((p) => [p.projectPath.toLowerCase(), p]));
    const ids = new Set(projects.flatMap((p) => (p.projectId ? [p.projectId] : [])));
    const isSelected = (subjectProject: string) =>
      subjectProject.startsWith('project ')
        ? ids.has(subjectProject.slice('project '.length))
        : byPath.has(subjectProject.toLowerCase());

    const found = previousRoles(base, context.roles);
    const outsiders: Outsider[] = [];
    const problems: string[] = [];
    for (const role of found) {
      const o = outsidersOf(role, { has: isSelected, ids }, issuer);
      outsiders.push(...o.outsiders);
      problems.push(...o.problems);
    }
    // Listed by two roles (changed by hand): kept in the first.
    const outsiderByPath = new Map<string, Outsider>();
    for (const o of outsiders) {
      const key = o.project.projectPath.toLowerCase();
      const had = outsiderByPath.get(key);
      if (had)
        had.project.refs.push(
          ...o.project.refs.filter(
            (r) => !had.project.refs.some((h) => h.type === r.type && h.pattern === r.pattern),
          ),
        );
      else outsiderByPath.set(key, o);
    }
    if (problems.length) {
      throw new UsageError(
        `The per-group roles ${base}-<n> also serve projects this run does not select and cannot keep exactly.`,
        problems.map((message) => ({ field: 'role (per-group)', message })),
        {
          hint: 'Select those projects too (widen --include/--exclude or the config), or remove them from the role first (destroy with a selection that names them).',
        },
      );
    }
    // The previous assignment, by project key (path for outsiders and for subjects named by path).
    const keyOfPath = new Map(projects.map((p) => [p.projectPath.toLowerCase(), packProjectKey(p)]));
    const keyOfId = new Map(projects.flatMap((p) => (p.projectId ? [[p.projectId, packProjectKey(p)]] : [])));
    const subjectKey = (s: string) =>
      s.startsWith('project ')
        ? keyOfId.get(s.slice('project '.length))
        : (keyOfPath.get(s.toLowerCase()) ?? s);
    const previous: PreviousRole[] = found.map((r) => ({
      roleName: r.name,
      projects: [
        ...new Set(r.trust.subjects.map((s) => subjectKey(s.project)).filter((k) => k !== undefined)),
      ],
    }));
    const kept = [...outsiderByPath.values()];
    const all = [...projects, ...kept.map((o) => o.project)];
    const group = commonGroup(
      all.map((p) => p.projectPath),
      base,
    );
    const packInput = {
      issuer,
      providerArn,
      audience: first.audience,
      roleNameBase: base,
      trustPolicyMax: first.trustPolicyMax,
    };
    // A `<base>-<n>` role that is not a pack's (another owner's): its name is not used.
    const taken = context.roles
      .filter((r) => indexOf(base, r.name) !== undefined && !isPackRole(r))
      .map((r) => r.name);
    const result = packProjects({ ...packInput, projects: all, previous, taken });
    const outsiderKeys = new Set(kept.map((o) => packProjectKey(o.project)));
    const movedOut = result.moves.filter((m) => outsiderKeys.has(m.project));
    if (movedOut.length) {
      throw new UsageError(
        `Packing the per-group roles ${base}-<n> would move projects this run does not select (their pipelines name their role).`,
        movedOut.map((m) => ({
          field: `project ${m.project}`,
          message: `would move from ${m.from} to ${m.to} (${m.reason})`,
        })),
        { hint: 'Select those projects too, so each is given its new role.' },
      );
    }
    assertPackedRolesSafe(packInput, result.roles);

    // Per role, the members this run adds to it (not among the subjects its trust names today).
    const before = new Map(
      found.map((r) => [r.name, new Set(r.trust.subjects.map((s) => s.project.toLowerCase()))]),
    );
    const added = new Map(
      result.roles.map((r) => {
        const had = before.get(r.roleName) ?? new Set<string>();
        return [
          r.roleName,
          r.members.filter((m) => !had.has(m.projectPath.toLowerCase())).map((m) => m.projectPath),
        ];
      }),
    );
    const roleByName = new Map(result.roles.map((r) => [r.roleName, r]));
    for (const o of family) {
      const key = packProjectKey(byPath.get(o.project.toLowerCase()) as PackProject);
      const role = roleByName.get(result.assignment[key] as string);
      if (!role) throw new Error(`packFleet: ${o.project} was not placed`);
      given.set(o, {
        ...o,
        roleName: role.roleName,
        policyName: `${role.roleName}-permissions`,
        pack: {
          roleName: role.roleName,
          group,
          members: role.members,
          added: added.get(role.roleName) ?? [],
        },
      });
    }
    const keyToPath = new Map(all.map((p) => [packProjectKey(p), p.projectPath]));
    const untouched = result.roles
      .filter((r) => !r.members.some((m) => byPath.has(m.projectPath.toLowerCase())))
      .map((r) => r.roleName);
    packs.push(summarizeResult({ base, group, untouched }, result, added, outsiderKeys, keyToPath));
  }
  return { members: members.map((m) => given.get(m) ?? m), packs };
}
