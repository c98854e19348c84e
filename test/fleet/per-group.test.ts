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
import { buildPackTrust, type PackProject } from '../../src/core/packing.js';
import { trustPolicySize } from '../../src/core/trust-policy.js';
import { PACK_TAG, type PolicyDocument, PROJECT_TAG } from '../../src/core/types.js';
import { runDestroyFleet } from '../../src/destroy/fleet.js';
import { parseDestroyFlags } from '../../src/destroy/options.js';
import { UsageError } from '../../src/errors.js';
import { fleetDocument, formatFleetPlan, formatPacks } from '../../src/fleet/format.js';
import { packFleet } from '../../src/fleet/packs.js';
import { type FleetDeps, type FleetResult, runFleet } from '../../src/fleet/run.js';
import { resolveThumbprints } from '../../src/gitlab/thumbprint.js';
import type { InitOptions } from '../../src/init/options.js';
import { createPalette } from '../../src/io/colors.js';
import { createMemoryLogger } from '../../src/io/logger.js';
import { runStatusFleet } from '../../src/status/fleet.js';
import { parseStatusFlags } from '../../src/status/options.js';
import { runStatus } from '../../src/status/run.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { resolveFlags, runInitWith, tempDir, virtualClock } from '../init/helpers.js';

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
    // Per role: CreateRole (its whole ownership record in its tags) and AttachRolePolicy (never once
    // per member); one provider.
    const mutating = aws.mutatingCalls();
    expect(mutating.filter((c) => c === 'CreateOpenIDConnectProvider')).toHaveLength(1);
    expect(mutating.filter((c) => c === 'CreateRole')).toHaveLength(roles.length);
    expect(mutating.filter((c) => c !== 'CreateOpenIDConnectProvider')).toHaveLength(2 * roles.length);
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

  it("a role's first member failing (AccessDenied mid-run): the next member of that role writes it; a re-run converges", async () => {
    const ids = range(1, 41);
    // The provider's leader makes 4 changes (provider, role 1, its attachment and record): the next fails.
    aws.failAfter(4, 'AccessDenied', 'not allowed here');
    const fleet = await runFleet(await members(ids), deps());
    expect(fleet.exitCode).toBe(1);
    const failed = fleet.members.filter((m) => m.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(String(failed[0]?.error)).toMatch(/AccessDenied|not allowed here/);
    // Every role exists all the same, and trusts all its projects (the failed one's too).
    expect(packedRoles()).toHaveLength(3);
    for (const m of fleet.members) {
      const roleName = m.result?.roleArn.split('/').pop() as string;
      expect(assumes(roleName, m.project)).toBe(true);
    }
    const again = await runFleet(await members(ids), deps());
    expect(again.exitCode).toBe(0);
    const mark = aws.mutatingCalls().length;
    const third = await runFleet(await members(ids), deps());
    expect(statuses(third)).toEqual(Array(40).fill('no-changes'));
    expect(aws.mutatingCalls()).toHaveLength(mark);
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
    // The role it left no longer trusts it; the others there are kept.
    expect(assumes(first, project(1))).toBe(false);
    expect(assumes(first, project(2))).toBe(true);
    expect(fleetDocument(fleet)).toMatchObject({
      packs: [{ moves: [{ project: project(1), from: first, to: moves[0]?.to, reason: 'no longer fits' }] }],
    });
    for (const r of packedRoles()) expect(trustPolicySize(r.trustPolicy)).toBeLessThanOrEqual(2048);
  });
});

describe('role: per-group: the size quota (--trust-policy-max)', () => {
  // 40 projects with two branches need about 4,000 characters of trust policy in all.
  it.each([
    ['2048', 3],
    ['4096', 2],
    ['8192', 1],
  ])('--trust-policy-max %s: %i roles, each within the quota', async (max, count) => {
    const fleet = await runFleet(
      (await members(range(1, 41), { trustPolicyMax: max })).map((m) => ({ ...m, dryRun: true })),
      deps(),
    );
    expect(fleet.exitCode).toBe(0);
    const roles = fleet.packs?.[0]?.roles ?? [];
    expect(roles).toHaveLength(count);
    expect(fleet.packs?.[0]?.quota).toBe(Number(max));
    for (const r of roles) expect(r.size).toBeLessThanOrEqual(Number(max));
    expect(roles.flatMap((r) => r.projects)).toHaveLength(40);
    // Nothing was changed by a dry run.
    expect(aws.mutatingCalls()).toEqual([]);
  });

  it('at the boundary: exactly the quota fits in one role, one character less splits; at 2,048 no role could take the next project', async () => {
    const forty = await members(range(1, 41));
    const identity = { account: ACCOUNT, partition: 'aws' };
    const pack = (max: number) =>
      packFleet(
        forty.map((m) => ({ ...m, trustPolicyMax: max })),
        { identity, roles: [] },
      ).packs[0];
    const together = pack(8192)?.roles[0]?.size as number;
    expect(together).toBeGreaterThan(2048);
    expect(pack(together)?.roles).toHaveLength(1);
    expect(pack(together - 1)?.roles).toHaveLength(2);
    // At the default quota each role is full: the next role's first project does not fit in it.
    const at2048 = packFleet(forty, { identity, roles: [] });
    const roles = at2048.packs[0]?.roles ?? [];
    const issuerOf = { issuer, providerArn: PROVIDER, audience: 'https://gitlab.com' };
    const memberOf = (roleName: string) =>
      at2048.members.find((m) => m.roleName === roleName)?.pack?.members ?? [];
    for (const [i, r] of roles.entries()) {
      expect(r.size).toBeLessThanOrEqual(2048);
      const next = roles[i + 1];
      if (!next) continue;
      const grown = buildPackTrust(issuerOf, [
        ...memberOf(r.roleName),
        memberOf(next.roleName)[0] as PackProject,
      ]);
      expect(trustPolicySize(grown.policy)).toBeGreaterThan(2048);
    }
  });
});

describe('role: per-group offline', () => {
  it('--offline --dry-run packs against the stand-in account with no call at all', async () => {
    const list = (await members(range(1, 41))).map((m) => ({ ...m, offline: true, dryRun: true }));
    const fleet = await runFleet(list, deps());
    expect(fleet.exitCode).toBe(0);
    expect(fleet.packs?.[0]?.roles).toHaveLength(3);
    expect(aws.calls()).toEqual([]);
  });
});

describe('role: per-group: refused before any change', () => {
  it('members sharing a role name base but not its permissions: exit 2 naming both', async () => {
    const [a, b] = await members([1, 2]);
    const other = { ...(b as InitOptions), managedPolicies: ['arn:aws:iam::aws:policy/AdministratorAccess'] };
    const error = await runFleet([a as InitOptions, other], deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).issues).toEqual([
      expect.objectContaining({
        field: 'permissions.managedPolicies',
        message: expect.stringMatching(
          /acme\/app-002 and acme\/app-001 share the per-group roles gitlab-acme-<n>/,
        ),
      }),
    ]);
    expect(aws.mutatingCalls()).toEqual([]);
  });

  it('ID-pinned roles (gitlab.com, IDs from GitLab): a narrowed selection keeps the others, IDs and all', async () => {
    const withIds = async (ids: number[]) =>
      (await members(ids)).map((m, i) => ({
        ...m,
        projectId: String(1000 + (ids[i] as number)),
        namespaceId: '77',
      }));
    await runFleet(await withIds(range(1, 11)), deps());
    const before = packedRoles()[0]?.trustPolicy;
    expect(JSON.stringify(before)).toContain('gitlab.com:project_id');
    const mark = aws.mutatingCalls().length;
    const narrowed = await runFleet(await withIds([4]), deps());
    expect(statuses(narrowed)).toEqual(['no-changes']);
    expect(aws.mutatingCalls()).toHaveLength(mark);
    expect(narrowed.packs?.[0]?.roles[0]?.kept).toHaveLength(9);
  });

  it('a role whose ID pins cannot be matched to the projects outside the selection: refused', () => {
    const trustPolicy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: PROVIDER },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'gitlab.com:aud': 'https://gitlab.com',
              // Two projects, one ID: which project it pins is not known.
              'gitlab.com:sub': [
                'project_path:acme/other:ref_type:branch:ref:main',
                'project_path:acme/more:ref_type:branch:ref:main',
              ],
              'gitlab.com:project_id': '77',
            },
          },
        },
      ],
    };
    return members([1]).then((list) =>
      expect(() =>
        packFleet(list, {
          identity: { account: ACCOUNT, partition: 'aws' },
          roles: [{ name: 'gitlab-acme-1', trustPolicy }],
        }),
      ).toThrow(/also serve projects this run does not select and cannot keep exactly/),
    );
  });

  it("one project's role is not taken for a per-group role, nor the reverse", async () => {
    // A per-project role already named gitlab-acme-1.
    await runInitWith(
      { project: 'acme/solo', branch: ['main'], roleName: 'gitlab-acme-1', ciFile: false, yes: true },
      tmp.dir,
      { aws },
    );
    const solo = trustOf('gitlab-acme-1');
    // Its tags (the bulk read) say it is not a pack's: its name is skipped.
    const skipped = await runFleet(await members([1, 2]), deps());
    expect(skipped.members.map((m) => m.result?.roleArn.split('/').pop())).toEqual([
      'gitlab-acme-2',
      'gitlab-acme-2',
    ]);
    expect(trustOf('gitlab-acme-1')).toEqual(solo);
    // Without the tags (the bulk read refused), the planner still refuses to take it over.
    aws.state.roles.delete('gitlab-acme-2');
    aws.failNext('GetAccountAuthorizationDetails', 'AccessDenied', 'no bulk read');
    const fleet = await runFleet(await members([1, 2]), deps());
    expect(fleet.members.map((m) => m.status)).toEqual(['refused', 'refused']);
    expect(trustOf('gitlab-acme-1')).toEqual(solo);
    expect(String(fleet.members[0]?.error)).toMatch(
      /managed by gitlab-aws-oidc for project acme\/solo, not as a per-group role/,
    );
    // A per-group role is not one project's.
    aws.restore();
    aws = createFakeAws({ account: ACCOUNT });
    aws.addPolicy({
      name: 'ReadOnlyAccess',
      awsManaged: true,
      document: { Version: '2012-10-17', Statement: [] },
    });
    await runFleet(await members([1, 2]), deps());
    const single = await runInitWith(
      { project: 'acme/app-001', branch: ['main'], roleName: 'gitlab-acme-1', ciFile: false, yes: true },
      tmp.dir,
      { aws },
    ).catch((e: unknown) => e);
    expect(String(single)).toMatch(/per-group role shared by projects of acme/);
  });
});

describe('role: per-group and destroy --config/--group', () => {
  const destroy = (projects: string[], dryRun = false) =>
    runDestroyFleet(
      parseDestroyFlags({ yes: true, dryRun }, { fleet: true }),
      { kind: 'group', group: 'acme', include: [], exclude: [] },
      { kind: 'group', source: 'acme', projects: projects.map((project) => ({ project })), skipped: [] },
      { aws: () => aws.ports },
    ).catch((e: unknown) => e);

  it('a packed role serving a project outside the selection is kept (those members blocked); with all selected it goes', async () => {
    await runFleet(await members(range(1, 6)), deps());
    expect(packedRoles().map((r) => r.name)).toEqual(['gitlab-acme-1']);
    const before = aws.mutatingCalls().length;
    const partial = (await destroy([project(1), project(2)])) as {
      result?: { members: { state: string; error?: string }[] };
    };
    expect(partial.result?.members.map((m) => m.state)).toEqual(['blocked', 'blocked']);
    expect(partial.result?.members[0]?.error).toMatch(
      /per-group role \(group acme\) that also serves 3 projects outside this selection \(acme\/app-003, acme\/app-004, acme\/app-005\)/,
    );
    expect(aws.mutatingCalls()).toHaveLength(before);
    expect(packedRoles().map((r) => r.name)).toEqual(['gitlab-acme-1']);

    const all = (await destroy(range(1, 6).map(project))) as { ok: boolean; members: { state: string }[] };
    expect(all.ok).toBe(true);
    expect(all.members.map((m) => m.state)).toEqual([
      'destroyed',
      'nothing',
      'nothing',
      'nothing',
      'nothing',
    ]);
    expect(packedRoles()).toEqual([]);
  });
});

describe('role: per-group and status', () => {
  it('status --project shows the per-group role that serves the project, with its policy and no drift', async () => {
    await runFleet(await members(range(1, 4)), deps());
    const report = await runStatus(parseStatusFlags({ project: project(2) }), { aws: () => aws.ports });
    expect(report.roles.map((r) => r.name)).toEqual(['gitlab-acme-1']);
    expect(report.roles[0]?.drift).toEqual([]);
    expect(report.roles[0]?.record).toBe('complete');
    const none = await runStatus(parseStatusFlags({ project: 'acme/app-999' }), { aws: () => aws.ports });
    expect(none.roles).toEqual([]);
  });

  it('status --group: every project of a packed role is in sync, served by that role', async () => {
    await runFleet(await members(range(1, 4)), deps());
    const report = await runStatusFleet(
      parseStatusFlags({}),
      {
        kind: 'group',
        source: 'acme',
        projects: [...range(1, 4), 9].map((i) => ({ project: project(i) })),
        skipped: [],
      },
      { aws: () => aws.ports },
    );
    expect(report.projects.map((p) => [p.project, p.state, p.roles])).toEqual([
      [project(1), 'in-sync', ['gitlab-acme-1']],
      [project(2), 'in-sync', ['gitlab-acme-1']],
      [project(3), 'in-sync', ['gitlab-acme-1']],
      [project(9), 'not-set-up', []],
    ]);
  });
});

describe('packFleet: the previous assignment read from the account', () => {
  const trust = (paths: string[]): PolicyDocument => ({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: PROVIDER },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'gitlab.com:aud': 'https://gitlab.com',
            'gitlab.com:sub': paths.map((p) => `project_path:${p}:ref_type:branch:ref:main`),
          },
        },
      },
    ],
  });
  const ours = { 'managed-by': 'gitlab-aws-oidc', [PACK_TAG]: 'acme' };
  const identity = { account: ACCOUNT, partition: 'aws' };

  it('a selected project stays in its role; the others there are kept; a role of only others is left as it is', async () => {
    const list = await members([1], { branch: ['main'] });
    const { members: given, packs } = packFleet(list, {
      identity,
      roles: [
        { name: 'gitlab-acme-1', trustPolicy: trust([project(2), project(1), project(3)]), tags: ours },
        { name: 'gitlab-acme-2', trustPolicy: trust([project(4)]), tags: ours },
        // Not the tool's: not read as a previous role.
        { name: 'gitlab-acme-3', trustPolicy: trust([project(1)]), tags: {} },
      ],
    });
    expect(given[0]?.roleName).toBe('gitlab-acme-1');
    expect(given[0]?.pack?.members.map((m) => m.projectPath)).toEqual([project(1), project(2), project(3)]);
    expect(given[0]?.pack?.added).toEqual([]);
    expect(packs[0]).toMatchObject({
      roles: [
        { roleName: 'gitlab-acme-1', projects: [project(1)], kept: [project(2), project(3)], added: [] },
        { roleName: 'gitlab-acme-2', projects: [], kept: [project(4)], added: [] },
      ],
      moves: [],
      emptied: [],
      untouched: ['gitlab-acme-2'],
    });
    // The kept projects' subjects are in the trust the member desires: nothing of the role is dropped.
    const lines = formatPacks({ packs }, createPalette(0));
    expect(lines).toContain(
      '  gitlab-acme-2 serves only projects not selected: left as it is'.replace('  gitlab', '  · gitlab'),
    );
  });

  it('the summary lines: sizes, additions, moves, emptied roles', () => {
    const lines = formatPacks(
      {
        packs: [
          {
            base: 'gitlab-acme',
            group: 'acme',
            quota: 2048,
            roles: [
              {
                roleName: 'gitlab-acme-1',
                projects: ['acme/a', 'acme/b'],
                kept: ['acme/z'],
                added: ['acme/b'],
                size: 1234,
              },
              { roleName: 'gitlab-acme-3', projects: ['acme/c'], kept: [], added: ['acme/c'], size: 2001 },
            ],
            moves: [
              { project: 'acme/c', from: 'gitlab-acme-2', to: 'gitlab-acme-3', reason: 'no longer fits' },
            ],
            emptied: ['gitlab-acme-2'],
            untouched: [],
          },
        ],
      },
      createPalette(0),
    );
    expect(lines).toEqual([
      '',
      'Per-group roles gitlab-acme-<n> (group acme, trust policy quota 2,048):',
      '  gitlab-acme-1  2 projects, 1 not selected (kept), 1,234 characters + acme/b',
      '  gitlab-acme-3  1 project, 2,001 characters + acme/c',
      '  → acme/c moves from gitlab-acme-2 to gitlab-acme-3 (no longer fits)',
      '  ! gitlab-acme-2 serves no project now: left as it is (destroy --role gitlab-acme-2 deletes it)',
    ]);
  });
});
