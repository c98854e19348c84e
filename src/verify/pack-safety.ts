/**
 * init's safety self-check for packed roles (`role: per-group`): for every role, the shared linter, and
 * for every member the expect-deny probes (another branch, another project, a look-alike group, …)
 * on the role's policy, plus proof that each of the member's own refs still gets the role (no subject
 * dropped) and that another role's project (one per role) does not get this one. Pure.
 */
import { buildClaims, buildRequestContext } from '../core/claims.js';
import { evaluateTrustPolicy, matchesLike } from '../core/evaluate.js';
import { type Finding, lintTrustPolicy } from '../core/lint.js';
import type { PackedRole, PackInput, PackProject } from '../core/packing.js';
import type { Issuer } from '../core/types.js';
import { CliError } from '../errors.js';
import { type ExpectDenyCheck, runExpectDenyChecks } from './expect-deny.js';

export interface PackSafetyReport {
  roleName: string;
  /** Critical lint findings on the role's policy. */
  critical: Finding[];
  /** Expect-deny probes (of any member) the role would let in. */
  leaks: Array<{ project: string; check: ExpectDenyCheck }>;
  /** A member's own ref that the role refuses: `<path> branch main`. */
  dropped: string[];
  /** A project of another role (its first member is tried) that this role lets in. */
  foreign: string[];
}

const concrete = (pattern: string) => pattern.replace(/[*?]/g, 'x');

function jobFor(issuer: Issuer, audience: string, p: PackProject, ref = p.refs[0]) {
  const name = concrete(ref?.pattern ?? 'main');
  return buildClaims({
    issuer,
    projectPath: p.projectPath,
    ...(ref?.type === 'tag' ? { tag: name } : { branch: name }),
    audience,
    projectId: p.projectId,
    namespaceId: p.namespaceId,
    refProtected: p.protectedOnly ? true : undefined,
  });
}

type PackSafetyInput = Pick<PackInput, 'issuer' | 'providerArn' | 'audience'> & {
  /** The provider's client IDs (default: the audience). */
  clientIds?: string[] | undefined;
};
type CheckedRole = Pick<PackedRole, 'roleName' | 'trustPolicy' | 'members'>;

function assumableFor(input: PackSafetyInput) {
  const { issuer, providerArn, audience } = input;
  const clientIds = input.clientIds ?? [audience];
  return (role: CheckedRole, claims: ReturnType<typeof buildClaims>) =>
    evaluateTrustPolicy({
      policy: role.trustPolicy,
      providerArn,
      clientIds,
      context: buildRequestContext(claims, issuer),
    }).assumable;
}

/**
 * One member's checks on its packed role: the expect-deny probes less those that are another member's
 * own job (e.g. `grp/app-evil` packed with `grp/app` is meant to get in), and its own refs that the role
 * refuses (`dropped`).
 */
function memberChecks(
  input: PackSafetyInput,
  role: CheckedRole,
  member: PackProject,
): { checks: ExpectDenyCheck[]; dropped: string[] } {
  const { issuer, providerArn, audience } = input;
  const byPath = new Map(role.members.map((m) => [m.projectPath, m]));
  const isMembersOwnJob = (claims: ExpectDenyCheck['claims']) => {
    const other = typeof claims.project_path === 'string' ? byPath.get(claims.project_path) : undefined;
    const ref = claims.ref;
    return (
      other !== undefined &&
      typeof ref === 'string' &&
      other.refs.some((r) => r.type === claims.ref_type && matchesLike(r.pattern, ref))
    );
  };
  const checks = runExpectDenyChecks(role.trustPolicy, {
    issuer,
    providerArn,
    clientIds: input.clientIds ?? [audience],
    audience,
    projectPath: member.projectPath,
    refs: member.refs,
    projectId: member.projectId,
    namespaceId: member.namespaceId,
    protectedOnly: member.protectedOnly && issuer.isGitlabCom,
  }).filter((check) => !(check.allowed && !check.unproven && isMembersOwnJob(check.claims)));
  const assumable = assumableFor(input);
  const dropped = member.refs
    .filter((ref) => !assumable(role, jobFor(issuer, audience, member, ref)))
    .map((ref) => `${member.projectPath} ${ref.type} ${ref.pattern}`);
  return { checks, dropped };
}

/**
 * init's check of one member of a packed role (`projectPath`): its expect-deny probes (those that are
 * another member's own job left out), for checkSafety; throws when the role refuses one of its own refs.
 */
export function checkPackMember(
  input: PackSafetyInput,
  role: CheckedRole,
  projectPath: string,
): ExpectDenyCheck[] {
  const member = role.members.find((m) => m.projectPath === projectPath);
  const { checks, dropped } = member
    ? memberChecks(input, role, member)
    : { checks: [], dropped: [`${projectPath} (not a member of the role)`] };
  if (dropped.length) {
    throw new CliError(
      'UNSAFE_TRUST_POLICY',
      `Refusing to write the packed trust policy of ${role.roleName}: it refuses a project it is meant to allow.`,
      { hint: dropped.map((d) => `refuses ${d}`).join('; ') },
    );
  }
  return checks;
}

/** Checks every packed role; returns one report per role (all lists empty: safe). */
export function checkPackedRoles(input: PackSafetyInput, roles: readonly CheckedRole[]): PackSafetyReport[] {
  const { issuer, providerArn, audience } = input;
  const clientIds = input.clientIds ?? [audience];
  const assumable = assumableFor(input);
  return roles.map((role) => {
    const memberPaths = new Set(role.members.map((m) => m.projectPath));
    const critical = lintTrustPolicy(role.trustPolicy, {
      providers: [{ arn: providerArn, url: issuer.url, clientIds, gitlab: true }],
      roleName: role.roleName,
    }).filter((f) => f.severity === 'critical');
    const leaks: PackSafetyReport['leaks'] = [];
    const dropped: string[] = [];
    for (const member of role.members) {
      const checked = memberChecks(input, role, member);
      for (const check of checked.checks.filter((c) => c.allowed))
        leaks.push({ project: member.projectPath, check });
      dropped.push(...checked.dropped);
    }
    // One member of every other role (all of them would be roles² × members evaluations: 40 s at 1,000 projects).
    const foreign = roles
      .filter((other) => other !== role)
      .flatMap((other) => other.members.slice(0, 1))
      .filter((p) => !memberPaths.has(p.projectPath) && assumable(role, jobFor(issuer, audience, p)))
      .map((p) => p.projectPath);
    return { roleName: role.roleName, critical, leaks, dropped, foreign };
  });
}

/** Throws when any packed role would let someone else in or refuse one of its own projects' refs. */
export function assertPackedRolesSafe(input: PackSafetyInput, roles: readonly CheckedRole[]): void {
  const problems = checkPackedRoles(input, roles).flatMap((r) => [
    ...r.critical.map((f) => `${r.roleName}: ${f.ruleId} ${f.title}: ${f.why}`),
    ...r.leaks.map((l) => `${r.roleName}: would allow ${l.check.label} (sub ${l.check.claims.sub})`),
    ...r.dropped.map((d) => `${r.roleName}: refuses ${d}, which it is meant to allow`),
    ...r.foreign.map((p) => `${r.roleName}: lets in ${p}, a project of another role`),
  ]);
  if (!problems.length) return;
  // packProjects is secure by construction; reaching this is a bug, and writing the policies would be unsafe.
  throw new CliError(
    'UNSAFE_TRUST_POLICY',
    'Refusing to write packed trust policies that are not exactly their projects.',
    {
      hint: problems.join('; '),
    },
  );
}
