/**
 * `role: per-group` end to end through runFleet against the in-memory IAM: the members are packed into
 * as few roles as the trust-policy quota allows, each role is written once (its other members re-plan
 * to no change), every project's own jobs get its role and a project outside it is refused, and a
 * re-run, a new project, a narrowed selection and a member that outgrew its role all converge.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildClaims, buildRequestContext } from '../../src/core/claims.js';
import { evaluateTrustPolicy } from '../../src/core/evaluate.js';
import { parseIssuerUrl } from '../../src/core/issuer.js';
import { trustPolicySize } from '../../src/core/trust-policy.js';
import { PACK_TAG, type PolicyDocument, PROJECT_TAG } from '../../src/core/types.js';
import { fleetDocument, formatFleetPlan } from '../../src/fleet/format.js';
import { type FleetDeps, type FleetResult, runFleet } from '../../src/fleet/run.js';
import { resolveThumbprints } from '../../src/gitlab/thumbprint.js';
import type { InitOptions } from '../../src/init/options.js';
import { createPalette } from '../../src/io/colors.js';
import { createMemoryLogger } from '../../src/io/logger.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { resolveFlags, tempDir, virtualClock } from '../init/helpers.js';

const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const ACCOUNT = '111122223333';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/gitlab.com`;
let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  aws = createFakeAws({ account: ACCOUNT });
  aws.addPolicy({
    name: 'ReadOnlyAccess',
    awsManaged: true,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }] },
  });
  tmp = tempDir();
});
afterEach(() => {
  aws.restore();
  tmp.cleanup();
});

const project = (i: number) => `acme/app-${String(i).padStart(3, '0')}`;
const BRANCHES = ['main', 'develop'];

async function member(i: number, extra: { branch?: string[]; trustPolicyMax?: string } = {}) {
  const options = await resolveFlags(
    {
      project: project(i),
      branch: extra.branch ?? BRANCHES,
      managedPolicy: [READ_ONLY],
      roleName: 'gitlab-acme',
      region: 'eu-west-1',
      ciFile: false,
      yes: true,
      ...(extra.trustPolicyMax ? { trustPolicyMax: extra.trustPolicyMax } : {}),
    },
    tmp.dir,
  );
  return { ...options, perGroup: true };
}

const members = (ids: readonly number[], extra?: Parameters<typeof member>[1]): Promise<InitOptions[]> =>
  Promise.all(ids.map((i) => member(i, extra)));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function deps(overrides: Partial<FleetDeps> = {}): FleetDeps {
  return {
    logger: createMemoryLogger(),
    interactive: false,
    aws: async () => aws.ports,
    resolveThumbprints: (issuer, override) => resolveThumbprints({ issuer, override }),
    retry: virtualClock(),
    concurrency: 4,
    ...overrides,
  };
}

const statuses = (fleet: FleetResult) => fleet.members.map((m) => m.status);
/** The packed roles in the fake IAM, by name, with their trust policy parsed. */
const packedRoles = () =>
  [...aws.state.roles.values()]
    .filter((r) => r.name.startsWith('gitlab-acme-'))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
    .map((r) => ({ ...r, trustPolicy: trustOf(r.name) }));
const trustOf = (roleName: string): PolicyDocument => {
  const t = aws.state.roles.get(roleName)?.trustPolicy as unknown;
  return (typeof t === 'string' ? JSON.parse(t) : t) as PolicyDocument;
};
const issuer = parseIssuerUrl('https://gitlab.com');

/** Whether a job of `path` on `branch` gets `roleName` (IAM's evaluation of its trust policy as stored). */
function assumes(roleName: string, path: string, branch = 'main'): boolean {
  if (!aws.state.roles.get(roleName)) return false;
  const claims = buildClaims({ issuer, projectPath: path, branch, audience: 'https://gitlab.com' });
  return evaluateTrustPolicy({
    policy: trustOf(roleName),
    providerArn: PROVIDER,
    clientIds: ['https://gitlab.com'],
    context: buildRequestContext(claims, issuer),
  }).assumable;
}

describe('role: per-group through runFleet', () => {
  it('40 projects: packed into a few roles, each created once; every project gets exactly its role', async () => {
    const fleet = await runFleet(await members(range(1, 41)), deps());
    expect(
      fleet.members
        .map((m) => [m.project, m.status, m.error && String(m.error)])
        .filter((x) => x[1] !== 'applied' && x[1] !== 'no-changes'),
    ).toEqual([]);
    expect(fleet.exitCode).toBe(0);
    const roles = packedRoles();
    expect(roles.length).toBeGreaterThan(1);
    for (const r of roles) expect(trustPolicySize(r.trustPolicy)).toBeLessThanOrEqual(2048);
    // Per role: CreateRole, AttachRolePolicy, TagRole (never once per member); one provider.
    const mutating = aws.mutatingCalls();
    expect(mutating.filter((c) => c === 'CreateOpenIDConnectProvider')).toHaveLength(1);
    expect(mutating.filter((c) => c === 'CreateRole')).toHaveLength(roles.length);
    expect(mutating.filter((c) => c !== 'CreateOpenIDConnectProvider')).toHaveLength(3 * roles.length);
    for (const r of roles) {
      expect(r.tags[PACK_TAG]).toBe('acme');
      expect(r.tags[PROJECT_TAG]).toBeUndefined();
      expect(r.attachedPolicyArns).toEqual([READ_ONLY]);
    }
    // Each member's result names its packed role; its jobs get that role and no other.
    for (const m of fleet.members) {
      const roleName = m.result?.roleArn.split('/').pop() as string;
      expect(roleName).toMatch(/^gitlab-acme-\d+$/);
      expect(assumes(roleName, m.project, 'main')).toBe(true);
      expect(assumes(roleName, m.project, 'develop')).toBe(true);
      expect(assumes(roleName, m.project, 'feature')).toBe(false);
      for (const other of roles.filter((r) => r.name !== roleName))
        expect(assumes(other.name, m.project)).toBe(false);
    }
    // A project outside the pack, a look-alike and a parent-group path are refused by every role.
    for (const r of roles) {
      expect(assumes(r.name, 'acme/app-999')).toBe(false);
      expect(assumes(r.name, 'acme/app-001-evil')).toBe(false);
      expect(assumes(r.name, 'other/app-001')).toBe(false);
    }
    // The summary and --json show the packs.
    expect(fleet.packs).toHaveLength(1);
    const pack = fleet.packs?.[0];
    expect(pack?.roles.map((r) => r.roleName)).toEqual(roles.map((r) => r.name));
    expect(pack?.roles.flatMap((r) => r.projects).sort()).toEqual(range(1, 41).map(project));
    expect(pack?.moves).toEqual([]);
    const doc = fleetDocument(fleet) as { packs: unknown[] };
    expect(doc.packs).toEqual(fleet.packs);

    // Re-run: nothing to change, not one mutating call.
    const before = aws.mutatingCalls().length;
    const again = await runFleet(await members(range(1, 41)), deps());
    expect(statuses(again)).toEqual(Array(40).fill('no-changes'));
    expect(aws.mutatingCalls()).toHaveLength(before);
  });

  it('a new project lands in an existing role with room, without moving any other', async () => {
    await runFleet(await members(range(1, 41)), deps());
    const before = new Map(packedRoles().map((r) => [r.name, r.trustPolicy]));
    const fleet = await runFleet(await members(range(1, 42)), deps());
    expect(fleet.exitCode).toBe(0);
    expect(fleet.packs?.[0]?.moves).toEqual([]);
    const added = fleet.packs?.[0]?.roles.filter((r) => r.added.length);
    expect(added).toEqual([expect.objectContaining({ added: [project(41)] })]);
    const target = added?.[0]?.roleName as string;
    expect(packedRoles().map((r) => r.name)).toEqual([...before.keys()]);
    expect(assumes(target, project(41))).toBe(true);
    // Only that role's trust was rewritten (one UpdateAssumeRolePolicy), no --allow-widening needed.
    expect(aws.mutatingCalls().filter((c) => c === 'UpdateAssumeRolePolicy')).toHaveLength(1);
    for (const r of packedRoles().filter((x) => x.name !== target))
      expect(r.trustPolicy).toEqual(before.get(r.name));
    for (const i of range(1, 41)) {
      const m = fleet.members[i - 1];
      expect(m?.result?.roleArn).toBe(
        `arn:aws:iam::${ACCOUNT}:role/gitlab-oidc/${fleet.packs?.[0]?.roles.find((r) => r.projects.includes(project(i)))?.roleName}`,
      );
    }
  });

  it('a narrowed selection keeps the other projects of its role trusted as they are', async () => {
    await runFleet(await members(range(1, 11)), deps());
    const [role] = packedRoles();
    const trust = role?.trustPolicy;
    // Only project 3 selected (the resume command's --include): nothing changes, nobody is dropped.
    const fleet = await runFleet(await members([3]), deps());
    expect(statuses(fleet)).toEqual(['no-changes']);
    expect(packedRoles()[0]?.trustPolicy).toEqual(trust);
    expect(fleet.packs?.[0]?.roles[0]?.kept).toHaveLength(9);
    // Project 3 now needs another branch: widening an existing project's access still needs consent
    // (a project new to the role does not: test above); then its subjects are added, the nine others kept.
    const release = await member(3, { branch: ['main', 'develop', 'release'] });
    await expect(runFleet([release], deps())).rejects.toThrow(/--allow-widening/);
    const wider = await runFleet([{ ...release, allowWidening: true }], deps());
    expect(wider.exitCode).toBe(0);
    for (const i of range(1, 11)) expect(assumes(role?.name as string, project(i))).toBe(true);
    expect(assumes(role?.name as string, project(3), 'release')).toBe(true);
    expect(assumes(role?.name as string, project(4), 'release')).toBe(false);
  });

  it('a member that outgrew its role moves to another; the plan shows the move', async () => {
    const ids = range(1, 41);
    await runFleet(await members(ids), deps());
    const first = packedRoles()[0]?.name as string;
    const many = Array.from({ length: 12 }, (_, i) => `release/v${i}`);
    const grown = await Promise.all(
      ids.map((i) => (i === 1 ? member(i, { branch: [...BRANCHES, ...many] }) : member(i))),
    );
    const plan = await runFleet(
      grown.map((m) => ({ ...m, dryRun: true })),
      deps(),
    );
    const moves = plan.packs?.[0]?.moves ?? [];
    expect(moves.length).toBeGreaterThan(0);
    expect(moves[0]).toMatchObject({ from: first, reason: 'no longer fits' });
    const lines = formatFleetPlan(plan, createPalette(0)).join('\n');
    expect(lines).toMatch(/moves from gitlab-acme-1 to gitlab-acme-\d+ \(no longer fits\)/);
    const fleet = await runFleet(grown, deps());
    expect(fleet.exitCode).toBe(0);
    for (const m of fleet.members) {
      const roleName = m.result?.roleArn.split('/').pop() as string;
      expect(assumes(roleName, m.project)).toBe(true);
    }
    for (const r of packedRoles()) expect(trustPolicySize(r.trustPolicy)).toBeLessThanOrEqual(2048);
  });
});
