/**
 * runFleet against the in-memory IAM: many `init` members planned once, confirmed once, applied with
 * bounded concurrency; the shared provider created once; failures in the middle (one project's
 * AccessDenied, a throttling burst, Ctrl-C) leave the others done and converge on a re-run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCurrentState } from '../../src/aws/read-state.js';
import type { RawInitFlags } from '../../src/commands/init.js';
import { ConsentRequiredError } from '../../src/errors.js';
import { FleetFailedError } from '../../src/fleet/errors.js';
import { countFleet, fleetDocument, formatFleetPlan, formatFleetResult } from '../../src/fleet/format.js';
import { type FleetDeps, type FleetResult, runFleet } from '../../src/fleet/run.js';
import { resolveThumbprints } from '../../src/gitlab/thumbprint.js';
import type { InitOptions } from '../../src/init/options.js';
import { createPalette } from '../../src/io/colors.js';
import { createMemoryLogger } from '../../src/io/logger.js';
import { createScriptedPrompter } from '../../src/prompts/prompter.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { resolveFlags, tempDir, virtualClock } from '../init/helpers.js';

const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  aws = createFakeAws({ account: '111122223333' });
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

const project = (i: number) => `acme/team-${String(i).padStart(2, '0')}/app`;
const roleOf = (i: number) => `gitlab-acme-team-${String(i).padStart(2, '0')}-app`;

function members(n: number, extra: RawInitFlags = {}): Promise<InitOptions[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      resolveFlags(
        {
          project: project(i),
          branch: ['main'],
          managedPolicy: [READ_ONLY],
          region: 'eu-west-1',
          ciFile: false,
          yes: true,
          ...extra,
        },
        tmp.dir,
      ),
    ),
  );
}

function deps(
  overrides: Partial<FleetDeps> = {},
): FleetDeps & { logger: ReturnType<typeof createMemoryLogger> } {
  return {
    logger: createMemoryLogger(),
    interactive: false,
    aws: async () => aws.ports,
    resolveThumbprints: (issuer, override) => resolveThumbprints({ issuer, override }),
    retry: virtualClock(),
    concurrency: 4,
    resumeCommand: (m) => `gitlab-aws-oidc init --project ${m.project} --branch main --yes`,
    ...overrides,
  } as FleetDeps & { logger: ReturnType<typeof createMemoryLogger> };
}

const calls = (name: string) => aws.calls().filter((c) => c.command === name).length;
const statuses = (fleet: FleetResult) => fleet.members.map((m) => m.status);

describe('runFleet: fresh onboarding and re-run', () => {
  // Per project: CreateRole (carrying the whole ownership record, attachments included) and
  // AttachRolePolicy; no TagRole after them (issue 9's budget: 2 per project, plus one provider).
  it.each([3, 20])(
    '%i projects: one provider, 2 mutating calls per project, then a re-run changes nothing',
    async (n) => {
      const fleet = await runFleet(await members(n), deps());
      expect(fleet.exitCode).toBe(0);
      expect(fleet.status).toBe('applied');
      expect(statuses(fleet)).toEqual(Array(n).fill('applied'));
      const mutating = aws.mutatingCalls();
      expect(mutating.filter((c) => c === 'CreateOpenIDConnectProvider')).toHaveLength(1);
      const perProject = mutating.filter((c) => c !== 'CreateOpenIDConnectProvider');
      expect(perProject).toHaveLength(2 * n);
      for (const call of ['CreateRole', 'AttachRolePolicy'])
        expect(perProject.filter((c) => c === call)).toHaveLength(n);
      for (let i = 0; i < n; i++)
        expect(aws.state.roles.get(roleOf(i))?.attachedPolicyArns).toEqual([READ_ONLY]);
      // Shared reads: one identity, one GetPolicy for the managed policy all members attach.
      expect(calls('GetCallerIdentity')).toBe(1);
      expect(calls('GetPolicy')).toBe(1);

      const before = aws.calls().length;
      const again = await runFleet(await members(n), deps());
      expect(statuses(again)).toEqual(Array(n).fill('no-changes'));
      expect(again.status).toBe('no-changes');
      expect(aws.mutatingCalls()).toEqual(mutating);
      // The provider once, the roles in bulk: nothing read per member.
      const reads = aws
        .calls()
        .slice(before)
        .map((c) => c.command);
      expect(reads.filter((c) => c === 'GetOpenIDConnectProvider')).toHaveLength(1);
      expect(reads.filter((c) => c === 'GetRole')).toHaveLength(0);
      expect(reads.filter((c) => c === 'GetAccountAuthorizationDetails')).toHaveLength(1);
    },
  );

  it('a tool-managed policy: 3 mutating calls per project (CreatePolicy, CreateRole, AttachRolePolicy), plus the provider', async () => {
    const n = 5;
    const list = await members(n, { managedPolicy: [], template: 'read-only' });
    const fleet = await runFleet(list, deps());
    expect(statuses(fleet)).toEqual(Array(n).fill('applied'));
    const mutating = aws.mutatingCalls();
    expect(mutating.filter((c) => c === 'CreateOpenIDConnectProvider')).toHaveLength(1);
    expect(mutating.length - 1).toBe(3 * n);
    for (const call of ['CreatePolicy', 'CreateRole', 'AttachRolePolicy'])
      expect(mutating.filter((c) => c === call)).toHaveLength(n);
    const again = await runFleet(await members(n, { managedPolicy: [], template: 'read-only' }), deps());
    expect(statuses(again)).toEqual(Array(n).fill('no-changes'));
    expect(aws.mutatingCalls()).toEqual(mutating);
  });

  it('projects with two audiences: the provider is created once and the second client ID added once', async () => {
    const list = [...(await members(3)), ...(await members(3, { audience: 'sts.amazonaws.com' }))].map(
      (m, i) => ({ ...m, project: project(i), roleName: roleOf(i), policyName: `p-${i}` }),
    );
    const fleet = await runFleet(list, deps());
    expect(fleet.members.map((m) => [m.status, m.error && String(m.error)])).toEqual(
      Array(6).fill(['applied', undefined]),
    );
    const mutating = aws.mutatingCalls();
    expect(mutating.filter((c) => c === 'CreateOpenIDConnectProvider')).toHaveLength(1);
    expect(mutating.filter((c) => c === 'AddClientIDToOpenIDConnectProvider')).toHaveLength(1);
    expect(aws.state.providers.get(aws.providerArn('https://gitlab.com'))?.clientIds.sort()).toEqual(
      ['https://gitlab.com', 'sts.amazonaws.com'].sort(),
    );
  });

  it('--dry-run reads only and reports the counts per resource kind', async () => {
    const list = await members(4, { dryRun: true, yes: false });
    const fleet = await runFleet(list, deps());
    expect(fleet.status).toBe('planned');
    expect(aws.mutatingCalls()).toEqual([]);
    expect(countFleet(fleet)['oidc-provider']).toEqual({ create: 1, update: 0, delete: 0, 'no-op': 0 });
    expect(countFleet(fleet).role).toEqual({ create: 4, update: 0, delete: 0, 'no-op': 0 });
    const lines = formatFleetPlan(fleet, createPalette(0));
    expect(lines).toContain('  OIDC provider  1 to create');
    expect(lines).toContain('  IAM role       4 to create');
  });
});

describe('runFleet: planning reads the account in bulk', () => {
  const readsByAction = (from: number) => {
    const counts: Record<string, number> = {};
    for (const { command } of aws.calls().slice(from)) counts[command] = (counts[command] ?? 0) + 1;
    return counts;
  };
  const plansOf = (fleet: FleetResult) => fleet.members.map((m) => m.result?.plan);

  it('150 projects: a handful of IAM reads, not ~2 per project; the same plans as the per-member reads', async () => {
    const n = 150;
    expect((await runFleet(await members(n), deps())).exitCode).toBe(0);
    // One role changed by hand, so the plans are not all "no change".
    const role = aws.state.roles.get(roleOf(7));
    if (role) role.maxSessionDuration = 7200;
    const dry = { dryRun: true, yes: false };

    let mark = aws.calls().length;
    const perMember = await runFleet(await members(n, dry), deps({ readState: readCurrentState }));
    const before = readsByAction(mark);
    expect(before.GetRole).toBe(n);

    mark = aws.calls().length;
    const bulk = await runFleet(await members(n, dry), deps());
    // The caller's identity was read by the first run (the STS port keeps it).
    expect(readsByAction(mark)).toEqual({
      GetPolicy: 1,
      ListOpenIDConnectProviders: 1,
      GetOpenIDConnectProvider: 1,
      // Pages of up to 1,000 (MaxItems): one page each for 150 roles, not two of IAM's default 100.
      ListRoles: 1,
      GetAccountAuthorizationDetails: 1,
      // The quotas, once for the fleet (a plan changes role 7).
      GetAccountSummary: 1,
    });
    expect(aws.mutatingCalls()).toHaveLength(1 + 2 * n);
    expect(plansOf(bulk)).toStrictEqual(plansOf(perMember));
    expect(statuses(bulk)).toEqual(statuses(perMember));
    expect(bulk.members[7]?.status).toBe('planned');
  });

  it('a tool-managed policy: its tags read once per project (GetPolicy), the plans unchanged', async () => {
    const n = 20;
    const flags = { managedPolicy: [], template: 'read-only' };
    await runFleet(await members(n, flags), deps());
    const dry = { ...flags, dryRun: true, yes: false };
    const perMember = await runFleet(await members(n, dry), deps({ readState: readCurrentState }));
    const mark = aws.calls().length;
    const bulk = await runFleet(await members(n, dry), deps());
    const reads = readsByAction(mark);
    expect(reads.GetPolicy).toBe(n);
    expect(reads.GetRole).toBeUndefined();
    expect(reads.GetPolicyVersion).toBeUndefined();
    expect(plansOf(bulk)).toStrictEqual(plansOf(perMember));
    expect(statuses(bulk)).toEqual(Array(n).fill('no-changes'));
  });

  it('the bulk read refused (AccessDenied): each member reads its own, the same plans', async () => {
    const n = 5;
    await runFleet(await members(n), deps());
    const dry = { dryRun: true, yes: false };
    const perMember = await runFleet(await members(n, dry), deps({ readState: readCurrentState }));
    aws.failNext('GetAccountAuthorizationDetails', 'AccessDenied', 'no bulk read');
    const mark = aws.calls().length;
    const logger = createMemoryLogger();
    const fallback = await runFleet(await members(n, dry), deps({ logger }));
    expect(readsByAction(mark).GetRole).toBe(n);
    expect(plansOf(fallback)).toStrictEqual(plansOf(perMember));
    expect(logger.lines.join('\n')).toMatch(
      /Reading the account in bulk failed .*reading role by role instead/,
    );
  });
});

describe('runFleet: IAM quotas before any change', () => {
  const fill = (roles: number) => {
    const trust = {
      Version: '2012-10-17' as const,
      Statement: [
        { Effect: 'Allow' as const, Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    };
    for (let i = 0; i < roles; i++) aws.addRole({ name: `other-${i}`, trustPolicy: trust });
  };

  it('more roles than RolesQuota leaves: refused with its numbers, zero mutating calls, exit 1', async () => {
    fill(995);
    const fleet = await runFleet(await members(10), deps());
    expect(aws.mutatingCalls()).toEqual([]);
    expect(fleet.exitCode).toBe(1);
    expect(fleet.status).toBe('failed');
    expect(calls('GetAccountSummary')).toBe(1);
    expect(fleet.quotas?.refusals.map((r) => r.message)).toEqual([
      'would create 10 roles; the account has 995 of 1,000 (RolesQuota), 5 too many',
    ]);
    const error = new FleetFailedError(fleet);
    expect([error.code, error.exitCode]).toEqual(['QUOTA_EXCEEDED', 1]);
    expect(error.message).toContain('995 of 1,000 (RolesQuota)');
    expect((error.resultDocument() as { quotas: unknown }).quotas).toEqual(fleet.quotas);
    expect(formatFleetPlan(fleet, createPalette(0)).join('\n')).toContain(
      '✗ would create 10 roles; the account has 995 of 1,000 (RolesQuota), 5 too many',
    );
    expect(formatFleetResult(fleet, createPalette(0))[0]).toMatch(/^Refused: the plan exceeds 1 IAM quota/);
  });

  it('--dry-run shows the refusal and changes nothing', async () => {
    fill(995);
    const fleet = await runFleet(await members(10, { dryRun: true, yes: false }), deps());
    expect(aws.mutatingCalls()).toEqual([]);
    expect(fleet.status).toBe('planned');
    expect(fleet.quotas?.refusals.map((r) => r.kind)).toEqual(['roles']);
    expect((fleetDocument(fleet) as { quotas: unknown }).quotas).toEqual(fleet.quotas);
  });

  it('GetAccountSummary refused: roles and policies per account not checked (a warning), the rest still is; the run goes on', async () => {
    aws.failNext('GetAccountSummary', 'AccessDenied', 'no summary');
    const fleet = await runFleet(await members(3), deps());
    expect(fleet.exitCode).toBe(0);
    expect(fleet.quotas?.warnings).toEqual([
      'Not checked: roles and policies per account (GetAccountSummary failed: AccessDenied: no summary).',
      "Managed policies per role checked against IAM's default, 10 (the account summary was not read).",
    ]);
  });

  it('OIDC providers per account: 100 other providers, the fleet would create one: refused with numbers, zero mutating calls', async () => {
    for (let i = 0; i < 100; i++)
      aws.addProvider({ url: `https://gitlab-${i}.example.com`, clientIds: ['x'] });
    const fleet = await runFleet(await members(4), deps());
    expect(aws.mutatingCalls()).toEqual([]);
    expect(fleet.exitCode).toBe(1);
    expect(fleet.quotas?.refusals.map((r) => [r.kind, r.message])).toEqual([
      ['oidc-providers', 'would create 1 OIDC provider; the account has 100 of 100'],
    ]);
    // Counted from the bulk read's ListOpenIDConnectProviders: no second listing.
    expect(calls('ListOpenIDConnectProviders')).toBe(1);
    // 99 others: within.
    aws.state.providers.delete(aws.providerArn('https://gitlab-0.example.com'));
    const ok = await runFleet(await members(4), deps());
    expect(ok.exitCode).toBe(0);
    expect(ok.quotas?.refusals).toEqual([]);
  });

  it('managed policies per role over the AttachedPoliciesPerRoleQuota: refused, zero mutating calls', async () => {
    const arns = Array.from({ length: 11 }, (_, i) => {
      aws.addPolicy({
        name: `P${i}`,
        awsManaged: true,
        document: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }],
        },
      });
      return `arn:aws:iam::aws:policy/P${i}`;
    });
    const fleet = await runFleet(await members(2, { managedPolicy: arns }), deps());
    expect(aws.mutatingCalls()).toEqual([]);
    expect(fleet.quotas?.refusals.map((r) => r.kind)).toEqual(['managed-policies-per-role']);
    expect(fleet.quotas?.refusals[0]?.message).toMatch(
      /^2 roles would have more than 10 managed policies attached \(AttachedPoliciesPerRoleQuota\), up to 11: /,
    );
  });

  it('within the quota: checked once, applied', async () => {
    fill(990);
    const fleet = await runFleet(await members(10), deps());
    expect(fleet.exitCode).toBe(0);
    expect(fleet.quotas?.refusals).toEqual([]);
    expect(calls('GetAccountSummary')).toBe(1);
    expect(aws.state.roles.size).toBe(1000);
  });
});

describe('runFleet: failures in the middle', () => {
  it("one project's AccessDenied: the others are done, the summary lists it with its resume command, a re-run converges", async () => {
    const n = 8;
    const list = await members(n);
    const denied = roleOf(5);
    aws.iamMock; // the fake's handlers stay in place; refuse one role's CreateRole
    const original = aws.ports.iam.createRole;
    const ports = {
      ...aws.ports,
      iam: {
        ...aws.ports.iam,
        createRole: ((input: { name: string }) => {
          if (input.name === denied) aws.failNext('CreateRole', 'AccessDenied', 'not allowed here');
          return original(input as never);
        }) as typeof original,
      },
    };
    const fleet = await runFleet(list, deps({ aws: async () => ports }));
    expect(fleet.exitCode).toBe(1);
    expect(fleet.status).toBe('failed');
    const failed = fleet.members.filter((m) => m.status === 'failed');
    expect(failed.map((m) => m.project)).toEqual([project(5)]);
    expect(fleet.members.filter((m) => m.status === 'applied')).toHaveLength(n - 1);
    const summary = formatFleetResult(fleet, createPalette(0));
    expect(summary[0]).toBe(`Done with failures: ${n - 1} applied, 1 failed (of ${n} projects).`);
    expect(summary.join('\n')).toContain(
      `✗ ${project(5)} (failed): Apply stopped part-way: CreateRole failed: AccessDenied: not allowed here`,
    );
    expect(summary).toContain(
      `      resume: gitlab-aws-oidc init --project ${project(5)} --branch main --yes`,
    );
    expect(aws.state.roles.has(denied)).toBe(false);

    const again = await runFleet(await members(n), deps());
    expect(again.exitCode).toBe(0);
    expect(again.members.filter((m) => m.status === 'applied').map((m) => m.project)).toEqual([project(5)]);
    expect(again.members.filter((m) => m.status === 'no-changes')).toHaveLength(n - 1);
    expect(aws.state.roles.has(denied)).toBe(true);
  });

  it('a throttling burst fails the members it hits; the others are done; a re-run converges', async () => {
    const n = 10;
    const fleet = await runFleet(await members(n), deps({ concurrency: 3 }));
    expect(fleet.exitCode).toBe(0);
    // A second fleet, fresh: the burst hits three CreateRole calls in the middle.
    aws.restore();
    aws = createFakeAws({ account: '111122223333' });
    aws.addPolicy({
      name: 'ReadOnlyAccess',
      awsManaged: true,
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }] },
    });
    aws.failAfter(4, 'Throttling', 'Rate exceeded');
    const burst = await runFleet(await members(n), deps({ concurrency: 3 }));
    expect(burst.exitCode).toBe(1);
    const failed = burst.members.filter((m) => m.status === 'failed');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(burst.members.filter((m) => m.status === 'applied').length).toBe(n - failed.length);
    for (const m of failed)
      expect(m.resume).toBe(`gitlab-aws-oidc init --project ${m.project} --branch main --yes`);
    expect(formatFleetResult(burst, createPalette(0)).join('\n')).toContain('Throttling: Rate exceeded');
    const again = await runFleet(await members(n), deps({ concurrency: 3 }));
    expect(again.exitCode).toBe(0);
    expect(
      again.members
        .filter((m) => m.status === 'applied')
        .map((m) => m.project)
        .sort(),
    ).toEqual(failed.map((m) => m.project).sort());
    const third = await runFleet(await members(n), deps({ concurrency: 3 }));
    expect(statuses(third)).toEqual(Array(n).fill('no-changes'));
  });

  it('Ctrl-C: no new member starts, the ones in flight finish, exit 130; a re-run converges', async () => {
    const n = 12;
    const controller = new AbortController();
    const original = aws.ports.iam.createRole;
    let created = 0;
    const ports = {
      ...aws.ports,
      iam: {
        ...aws.ports.iam,
        createRole: (async (input: never) => {
          const out = await original(input);
          if (++created === 3) controller.abort();
          return out;
        }) as typeof original,
      },
    };
    const fleet = await runFleet(
      await members(n),
      deps({ aws: async () => ports, signal: controller.signal, concurrency: 2 }),
    );
    expect(fleet.exitCode).toBe(130);
    expect(fleet.status).toBe('interrupted');
    const notStarted = fleet.members.filter((m) => m.status === 'not-started');
    expect(notStarted.length).toBeGreaterThan(0);
    for (const m of notStarted) expect(aws.state.roles.has(m.options.roleName)).toBe(false);
    expect(fleet.members.filter((m) => m.status === 'applied').length).toBeGreaterThanOrEqual(1);
    expect(formatFleetResult(fleet, createPalette(0))[0]).toMatch(/^Interrupted: /);
    const again = await runFleet(await members(n), deps());
    expect(again.exitCode).toBe(0);
    expect(aws.state.roles.size).toBe(n);
    const third = await runFleet(await members(n), deps());
    expect(statuses(third)).toEqual(Array(n).fill('no-changes'));
  });

  it('a member refused while planning is listed first and the others are applied (exit 1)', async () => {
    const list = await members(4);
    list[2] = { ...(list[2] as InitOptions), managedPolicies: ['arn:aws:iam::aws:policy/NoSuchPolicy'] };
    const fleet = await runFleet(list, deps());
    expect(statuses(fleet)).toEqual(['applied', 'applied', 'refused', 'applied']);
    expect(fleet.exitCode).toBe(1);
    const doc = fleetDocument(fleet) as {
      attention: { project: string; status: string; error: { code: string } }[];
    };
    expect(doc.attention).toEqual([
      expect.objectContaining({
        project: project(2),
        status: 'refused',
        error: expect.objectContaining({ code: 'USAGE' }),
      }),
    ]);
    expect(new FleetFailedError(fleet).exitCode).toBe(1);
  });
});

describe('runFleet: one gate, one confirmation', () => {
  async function driftedFleet(): Promise<InitOptions[]> {
    await runFleet(await members(3), deps());
    // Someone widens one role's session by hand: the next run would overwrite it.
    const role = aws.state.roles.get(roleOf(1));
    if (role) role.maxSessionDuration = 7200;
    return members(3);
  }

  it('non-interactive: a plan needing consent refuses the whole fleet before any change', async () => {
    const list = await driftedFleet();
    const before = aws.mutatingCalls().length;
    const error = await runFleet(list, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConsentRequiredError);
    expect((error as ConsentRequiredError).items[0]?.message).toMatch(new RegExp(`^${project(1)}: `));
    expect(aws.mutatingCalls()).toHaveLength(before);
  });

  it('interactive: one consent question and one confirmation for every project', async () => {
    const list = (await driftedFleet()).map((m) => ({ ...m, yes: false }));
    const prompter = createScriptedPrompter({ '--overwrite-drift': true, '--yes': true });
    const fleet = await runFleet(list, deps({ interactive: true, prompter: async () => prompter }));
    expect(fleet.exitCode).toBe(0);
    expect(prompter.asked).toEqual(['--overwrite-drift', '--yes']);
    expect(aws.state.roles.get(roleOf(1))?.maxSessionDuration).toBe(3600);
  });
});

describe('fleet --json', () => {
  it('has the counts, the attention list and every member with its init result', async () => {
    const fleet = await runFleet(await members(3), deps());
    const doc = JSON.parse(JSON.stringify(fleetDocument(fleet)));
    expect(Object.keys(doc)).toEqual([
      'ok',
      'command',
      'fleet',
      'status',
      'dryRun',
      'counts',
      'gitlabSteps',
      'quotas',
      'attention',
      'members',
    ]);
    expect(doc).toMatchObject({
      ok: true,
      command: 'init',
      fleet: true,
      status: 'applied',
      dryRun: false,
      attention: [],
    });
    expect(Object.keys(doc.counts)).toEqual(['oidc-provider', 'role', 'policy', 'pipeline']);
    expect(doc.counts.role.create).toBe(3);
    expect(doc.members).toHaveLength(3);
    expect(doc.members[0]).toMatchObject({ project: project(0), status: 'applied', consents: [] });
    expect(doc.members[0].result).toMatchObject({ command: 'init', status: 'applied', project: project(0) });
  });
});
