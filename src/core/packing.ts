/**
 * `role: per-group`: several projects' subjects packed into as few roles as the trust-policy size
 * quota allows.
 *
 * Each project's conditions are exactly what buildTrustPolicy writes for it alone (it is called per
 * project, so its validation, refusals, warnings and `sub` values are reused, not re-implemented).
 * Projects share a role only when their conditions agree on everything but their identity: the same
 * `aud` and `ref_protected`, and either all or none pinning `gitlab.com:project_id` / `namespace_id`
 * (a project without an ID pin must never widen one with it, nor the reverse). Their `sub` values and
 * ID pins are then ORed in one statement. Keys are ANDed, but a token carries one project's `sub` and
 * that same project's ID, so a project outside the pack matches neither list; the cost of sharing (any
 * member could use another member's refs after taking over its path) is the "many projects share one
 * role" finding, accepted with `role: per-group`. As in trust-policy.ts, every `sub` goes under
 * StringLike as soon as one member has a ref pattern.
 *
 * Sizes are measured with trustPolicySize on the document itself, as IAM counts them.
 *
 * Stable: projects are taken in a fixed order (numeric project ID, then path), the previous assignment
 * (role → projects, read from the roles made earlier) is kept wherever a project still fits, and the
 * rest go first-fit into the existing roles in order, new roles appended as `<base>-<n>` with the next
 * unused number. A new project (GitLab IDs only grow) therefore never moves an existing one.
 */
import { UsageError } from '../errors.js';
import { defaultRoleName, MAX_ROLE_NAME, shortHash, validateRoleName } from './naming.js';
import {
  buildTrustPolicy,
  MAX_TRUST_POLICY_QUOTA,
  TRUST_POLICY_QUOTA,
  type TrustPolicyResult,
  trustPolicySize,
} from './trust-policy.js';
import type { ConditionBlock, ConditionValue, Issuer, PolicyDocument, RefRule } from './types.js';

export interface PackProject {
  /** `group/subgroup/project`. */
  projectPath: string;
  /** Numeric ID (string); the project's key when known, so a rename keeps its place. */
  projectId?: string | undefined;
  namespaceId?: string | undefined;
  refs: RefRule[];
  protectedOnly?: boolean | undefined;
  allowAnyRef?: boolean | undefined;
}

export interface PreviousRole {
  roleName: string;
  /** Project keys (packProjectKey) the role held. */
  projects: readonly string[];
}

export interface PackInput {
  issuer: Issuer;
  providerArn: string;
  audience: string;
  projects: readonly PackProject[];
  /** Packed roles are named `<roleNameBase>-1`, `-2`, … */
  roleNameBase: string;
  /** Role trust policy length quota (`--trust-policy-max`), default 2,048. */
  trustPolicyMax?: number | undefined;
  /** The assignment found in IAM; kept wherever a project still fits its role. */
  previous?: readonly PreviousRole[] | undefined;
  /** Names of existing roles that are not the pack's (another owner): a new role never takes one. */
  taken?: readonly string[] | undefined;
}

export interface PackedRole {
  roleName: string;
  /** Member keys, in the order their subjects appear. */
  projects: string[];
  members: PackProject[];
  trustPolicy: PolicyDocument;
  /** trustPolicySize(trustPolicy). */
  size: number;
}

export interface PackMove {
  project: string;
  from: string;
  to: string;
  reason: 'no longer fits' | 'conditions changed';
}

export interface PackResult {
  roles: PackedRole[];
  /** Project key → role name. */
  assignment: Record<string, string>;
  /** Previously packed projects placed in another role this time. */
  moves: PackMove[];
  /** Previous roles left with no member (the caller deletes or keeps them). */
  emptied: string[];
  /** Previously packed projects not in `projects` any more. */
  removed: string[];
  /** buildTrustPolicy's warnings, de-duplicated, prefixed with the project when project-specific. */
  warnings: string[];
  broadening: string[];
  quota: number;
}

/**
 * The packed role a fleet member is given (fleet/packs.ts): its desired state and trust checks are
 * built from it instead of from the member alone, so every member of the role desires the same role.
 */
export interface RolePack {
  roleName: string;
  /** The group the role serves: the PACK_TAG value and the description. */
  group: string;
  /** Every project the role trusts (this member included), as packProjects placed them. */
  members: PackProject[];
  /**
   * Paths of the members this run adds to an existing role (new projects, moves): their subjects are the
   * onboarding the plan shows, not a widening of what the role trusted.
   */
  added: string[];
}

/** A project's key: its ID when known (survives renames), else its path. */
export function packProjectKey(project: Pick<PackProject, 'projectId' | 'projectPath'>): string {
  return project.projectId ?? project.projectPath;
}

/** Room kept for `-<n>` after a default base (up to -9999). */
const INDEX_ROOM = 5;

/**
 * Default base of a group's packed roles: `gitlab-<group>-<sub>` (defaultRoleName's form), shortened with a
 * hash of the path when `-<n>` would not fit in a role name.
 */
export function defaultPackRoleBase(groupPath: string): string {
  const base = defaultRoleName(groupPath);
  const max = MAX_ROLE_NAME - INDEX_ROOM;
  if (base.length <= max) return base;
  const tail = `-${shortHash(groupPath)}`;
  return `${base.slice(0, max - tail.length).replace(/[-.]+$/, '')}${tail}`;
}

/** `<base>-<n>`, validated as a role name (field: the role name pattern). */
export function packRoleName(base: string, index: number): string {
  return validateRoleName(`${base}-${index}`, 'role name (per-group)');
}

/** Keys whose values are the project's identity: ORed across members. */
const IDENTITY_KEYS = new Set(['gitlab.com:project_id', 'gitlab.com:namespace_id']);

interface Member {
  project: PackProject;
  key: string;
  subs: string[];
  /** Any `sub` under StringLike (a ref pattern). */
  like: boolean;
  /** operator → key → value, the sub key excluded, in buildTrustPolicy's order. */
  rest: Array<{ operator: string; key: string; values: string[] }>;
  /** Members with the same class may share a role. */
  klass: string;
  /** The policy buildTrustPolicy writes for the project alone. */
  alone: PolicyDocument;
  warnings: string[];
  broadening: string[];
}

const asStrings = (v: ConditionValue): string[] => (Array.isArray(v) ? v : [v]).map(String);
const scalarOrList = (values: string[]): ConditionValue => (values.length === 1 ? values[0]! : values);

function toMember(input: PackInput, project: PackProject): Member {
  const built = buildTrustPolicy({
    providerArn: input.providerArn,
    issuer: input.issuer,
    audience: input.audience,
    projectPath: project.projectPath,
    refs: project.refs,
    projectId: project.projectId,
    namespaceId: project.namespaceId,
    protectedOnly: project.protectedOnly,
    allowAnyRef: project.allowAnyRef,
  });
  const statement = (built.policy.Statement as { Condition?: ConditionBlock }[])[0];
  const subKey = `${input.issuer.hostPath}:sub`;
  const subs: string[] = [];
  let like = false;
  const rest: Member['rest'] = [];
  for (const [operator, block] of Object.entries(statement?.Condition ?? {})) {
    for (const [key, value] of Object.entries(block)) {
      if (key === subKey) {
        subs.push(...asStrings(value));
        like ||= operator === 'StringLike';
      } else rest.push({ operator, key, values: asStrings(value) });
    }
  }
  const klass = JSON.stringify(
    rest.map((r) => (IDENTITY_KEYS.has(r.key) ? [r.operator, r.key] : [r.operator, r.key, r.values])),
  );
  return {
    project,
    key: packProjectKey(project),
    subs,
    like,
    rest,
    klass,
    alone: built.policy,
    warnings: built.warnings,
    broadening: built.broadening,
  };
}

/** The trust policy of a role holding `members` (same class, at least one), as buildTrustPolicy would lay it out. */
function buildPackedPolicy(providerArn: string, subKey: string, members: readonly Member[]): PolicyDocument {
  const first = members[0]!;
  const like = members.some((m) => m.like);
  const subs = [...new Set(members.flatMap((m) => m.subs))];
  const condition: Record<string, Record<string, ConditionValue>> = { StringEquals: {} };
  for (const [index, entry] of first.rest.entries()) {
    const block = condition[entry.operator] ?? {};
    condition[entry.operator] = block;
    block[entry.key] = IDENTITY_KEYS.has(entry.key)
      ? scalarOrList([...new Set(members.flatMap((m) => m.rest[index]!.values))])
      : scalarOrList(entry.values);
    // buildTrustPolicy puts a literal sub right after aud.
    if (index === 0 && !like) condition.StringEquals![subKey] = scalarOrList(subs);
  }
  if (first.rest.length === 0 && !like) condition.StringEquals![subKey] = scalarOrList(subs);
  if (like) condition.StringLike = { ...condition.StringLike, [subKey]: scalarOrList(subs) };
  if (Object.keys(condition.StringEquals!).length === 0) delete condition.StringEquals;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
    ],
  };
}

/**
 * The trust policy of a role holding `projects` (one packed role of a packProjects result), built the
 * way packProjects built it, with the members' warnings and accepted broadening. Throws a UsageError when
 * the projects' conditions cannot share a role (they must agree on everything but their identity).
 */
export function buildPackTrust(
  input: Pick<PackInput, 'issuer' | 'providerArn' | 'audience'>,
  projects: readonly PackProject[],
): TrustPolicyResult {
  // Every member of a role builds the same policy (from the same list): built once per list and input.
  const key = JSON.stringify([input.issuer.url, input.providerArn, input.audience]);
  const cached = packTrustCache.get(projects)?.get(key);
  if (cached) return cached;
  const built = buildPackTrustOnce(input, projects);
  const byInput = packTrustCache.get(projects) ?? new Map<string, TrustPolicyResult>();
  byInput.set(key, built);
  packTrustCache.set(projects, byInput);
  return built;
}

const packTrustCache = new WeakMap<readonly PackProject[], Map<string, TrustPolicyResult>>();

function buildPackTrustOnce(
  input: Pick<PackInput, 'issuer' | 'providerArn' | 'audience'>,
  projects: readonly PackProject[],
): TrustPolicyResult {
  const members = projects
    .map((p) => toMember({ ...input, projects, roleNameBase: '' }, p))
    .sort(compareProjects);
  const first = members[0];
  if (!first) throw UsageError.field('role (per-group)', 'a packed role needs at least one project');
  const odd = members.find((m) => m.klass !== first.klass);
  if (odd) {
    throw UsageError.field(
      `project ${odd.project.projectPath}`,
      `its trust conditions differ from ${first.project.projectPath}'s, so they cannot share one role`,
    );
  }
  const policy = buildPackedPolicy(input.providerArn, `${input.issuer.hostPath}:sub`, members);
  return {
    policy,
    warnings: [...new Set(members.flatMap((m) => m.warnings))],
    broadening: [...new Set(members.flatMap((m) => m.broadening))],
  };
}

/** Numeric IDs first (by value), then paths (code-point order). */
function compareProjects(a: Member, b: Member): number {
  const ia = a.project.projectId;
  const ib = b.project.projectId;
  if (ia !== undefined && ib !== undefined) {
    const d = BigInt(ia) - BigInt(ib);
    if (d !== 0n) return d < 0n ? -1 : 1;
  } else if (ia !== undefined) return -1;
  else if (ib !== undefined) return 1;
  return a.project.projectPath < b.project.projectPath
    ? -1
    : a.project.projectPath > b.project.projectPath
      ? 1
      : 0;
}

function checkQuota(value: number | undefined): number {
  const quota = value ?? TRUST_POLICY_QUOTA;
  if (!Number.isInteger(quota) || quota < TRUST_POLICY_QUOTA || quota > MAX_TRUST_POLICY_QUOTA) {
    throw UsageError.field(
      '--trust-policy-max',
      `${value} is not a whole number from ${TRUST_POLICY_QUOTA} to ${MAX_TRUST_POLICY_QUOTA} (IAM's "Role trust policy length" quota)`,
    );
  }
  return quota;
}

interface Bin {
  roleName: string;
  index: number | undefined;
  members: Member[];
  size: number;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function describeProjects(paths: string[]): string {
  const shown = paths.slice(0, 3).join(', ');
  return paths.length <= 3 ? shown : `${shown} and ${fmt(paths.length - 3)} more`;
}

function refuseOversize(oversize: Array<{ member: Member; size: number }>, quota: number): never {
  const lines = oversize.map(
    ({ member, size }) =>
      `${member.project.projectPath}${member.project.projectId ? ` (ID ${member.project.projectId})` : ''}: ` +
      `${fmt(size)} characters alone, ${fmt(size - quota)} over`,
  );
  throw new UsageError(
    `${oversize.length === 1 ? 'A project’s' : `${oversize.length} projects’`} own trust policy does not fit in one role ` +
      `(quota ${fmt(quota)} characters, whitespace excluded): ${lines.join('; ')}.`,
    oversize.map(({ member, size }) => ({
      field: `project ${member.project.projectPath}`,
      message: `its subjects need ${fmt(size)} characters; the quota is ${fmt(quota)}`,
    })),
    {
      hint:
        'Allow those projects fewer refs or use patterns (e.g. release/*), or raise the IAM quota "Role trust policy length" ' +
        `(up to ${fmt(MAX_TRUST_POLICY_QUOTA)}) in Service Quotas and pass --trust-policy-max with the new value.`,
    },
  );
}

/**
 * Packs `input.projects` into roles of at most `trustPolicyMax` characters. Throws a UsageError for a
 * duplicate project, unsafe input (as buildTrustPolicy), or a project that cannot fit in a role alone.
 */
export function packProjects(input: PackInput): PackResult {
  const quota = checkQuota(input.trustPolicyMax);
  const subKey = `${input.issuer.hostPath}:sub`;
  const members = input.projects.map((p) => toMember(input, p)).sort(compareProjects);
  const byKey = new Map<string, Member>();
  const byPath = new Map<string, Member>();
  for (const m of members) {
    if (byKey.has(m.key) || byPath.has(m.project.projectPath))
      throw UsageError.field(`project ${m.project.projectPath}`, `listed twice (key ${m.key})`);
    byKey.set(m.key, m);
    byPath.set(m.project.projectPath, m);
  }

  const aloneSizes = new Map(members.map((m) => [m, trustPolicySize(m.alone)]));
  const aloneSize = (m: Member) => aloneSizes.get(m)!;
  const oversize = members
    .map((member) => ({ member, size: aloneSize(member) }))
    .filter((x) => x.size > quota);
  if (oversize.length) refuseOversize(oversize, quota);

  const measure = (list: Member[]) => trustPolicySize(buildPackedPolicy(input.providerArn, subKey, list));
  const indexOf = (name: string): number | undefined => {
    const match = name.startsWith(`${input.roleNameBase}-`)
      ? /^-(\d+)$/.exec(name.slice(input.roleNameBase.length))
      : null;
    return match ? Number(match[1]) : undefined;
  };

  // 1. The previous assignment, in role order, each member kept while it fits.
  const bins: Bin[] = [];
  const placed = new Map<string, string>();
  const evicted = new Map<string, { from: string; reason: PackMove['reason'] }>();
  const removed: string[] = [];
  const previous = [...(input.previous ?? [])].sort((a, b) => {
    const ia = indexOf(a.roleName) ?? Number.MAX_SAFE_INTEGER;
    const ib = indexOf(b.roleName) ?? Number.MAX_SAFE_INTEGER;
    return ia - ib || (a.roleName < b.roleName ? -1 : a.roleName > b.roleName ? 1 : 0);
  });
  for (const prev of previous) {
    const bin: Bin = { roleName: prev.roleName, index: indexOf(prev.roleName), members: [], size: 0 };
    const wanted = prev.projects
      .map((key) => {
        // Recorded by path before its ID was known: still the same project.
        const m = byKey.get(key) ?? byPath.get(key);
        if (!m && !removed.includes(key)) removed.push(key);
        return m;
      })
      .filter((m): m is Member => m !== undefined && !placed.has(m.key))
      .sort(compareProjects);
    // The role keeps the conditions most of its members share (ties: the first's); a member whose
    // conditions changed (gained an ID pin, --protected-only) leaves.
    const votes = new Map<string, number>();
    for (const m of wanted) votes.set(m.klass, (votes.get(m.klass) ?? 0) + 1);
    const klass = [...votes].reduce<[string, number] | undefined>(
      (best, entry) => (best === undefined || entry[1] > best[1] ? entry : best),
      undefined,
    )?.[0];
    for (const m of wanted.filter((w) => w.klass !== klass)) {
      evicted.set(m.key, { from: bin.roleName, reason: 'conditions changed' });
    }
    const keep = wanted.filter((w) => w.klass === klass);
    // Over the quota (a member gained refs): the largest members leave, most likely the one that grew,
    // until the rest fits; the others stay where they are.
    let size = keep.length ? measure(keep) : 0;
    while (size > quota) {
      const largest = keep.reduce((a, b) => (aloneSize(b) > aloneSize(a) ? b : a));
      keep.splice(keep.indexOf(largest), 1);
      evicted.set(largest.key, { from: bin.roleName, reason: 'no longer fits' });
      size = measure(keep);
    }
    bin.members = keep;
    bin.size = size;
    for (const m of keep) placed.set(m.key, bin.roleName);
    bins.push(bin);
  }

  // 2. Everyone else, first-fit in role order; new roles appended.
  // IAM role names are case-insensitive; names of roles that are not the pack's are never used.
  const taken = new Set([...bins.map((b) => b.roleName), ...(input.taken ?? [])].map((n) => n.toLowerCase()));
  let nextIndex = Math.max(0, ...bins.map((b) => b.index ?? 0)) + 1;
  for (const m of members) {
    if (placed.has(m.key)) continue;
    const extra = m.subs.reduce((n, s) => n + JSON.stringify(s).length + 1, 0);
    let target: Bin | undefined;
    let targetSize = 0;
    for (const bin of bins) {
      if (bin.members.length === 0 || bin.members[0]!.klass !== m.klass) continue;
      // Adding values to a list costs at least the quoted value and a comma: skip full roles cheaply.
      if (bin.size + extra > quota) continue;
      const size = measure([...bin.members, m]);
      if (size <= quota) {
        target = bin;
        targetSize = size;
        break;
      }
    }
    if (!target) {
      // An emptied previous role is reused before a new one is made.
      target = bins.find((b) => b.members.length === 0);
      if (!target) {
        while (taken.has(`${input.roleNameBase}-${nextIndex}`.toLowerCase())) nextIndex++;
        target = {
          roleName: packRoleName(input.roleNameBase, nextIndex),
          index: nextIndex,
          members: [],
          size: 0,
        };
        taken.add(target.roleName.toLowerCase());
        nextIndex++;
        bins.push(target);
      }
      targetSize = measure([m]);
    }
    target.members.push(m);
    target.size = targetSize;
    placed.set(m.key, target.roleName);
  }

  const moves: PackMove[] = [...evicted].map(([project, { from, reason }]) => ({
    project,
    from,
    to: placed.get(project)!,
    reason,
  }));
  const roles: PackedRole[] = bins
    .filter((b) => b.members.length > 0)
    .map((b) => {
      const trustPolicy = buildPackedPolicy(input.providerArn, subKey, b.members);
      return {
        roleName: b.roleName,
        projects: b.members.map((m) => m.key),
        members: b.members.map((m) => m.project),
        trustPolicy,
        size: trustPolicySize(trustPolicy),
      };
    });
  // One line per distinct warning, naming the projects it concerns (1,000 copies help nobody).
  const byWarning = new Map<string, string[]>();
  const broadening = new Set<string>();
  for (const m of members) {
    for (const w of m.warnings) byWarning.set(w, [...(byWarning.get(w) ?? []), m.project.projectPath]);
    for (const b of m.broadening) broadening.add(b);
  }
  const warnings = [...byWarning].map(([w, paths]) => `${w} (${describeProjects(paths)})`);
  return {
    roles,
    assignment: Object.fromEntries(members.map((m) => [m.key, placed.get(m.key)!])),
    moves,
    emptied: bins.filter((b) => b.members.length === 0).map((b) => b.roleName),
    removed,
    warnings,
    broadening: [...broadening],
    quota,
  };
}
