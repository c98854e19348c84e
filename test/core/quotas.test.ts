import { afterEach, describe, expect, it } from 'vitest';
import {
  assertWithinQuotas,
  checkFleetQuotas,
  type FleetQuotaPlan,
  SERVICE_QUOTAS,
  type SummaryMap,
} from '../../src/core/quotas.js';
import { CliError } from '../../src/errors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';

/** A default account (as GetAccountSummary reports one) with `over` applied. */
function account(over: Partial<Record<string, number>> = {}): SummaryMap {
  return {
    Roles: 100,
    RolesQuota: 1000,
    Policies: 200,
    PoliciesQuota: 1500,
    AttachedPoliciesPerRoleQuota: 10,
    AssumeRolePolicySizeQuota: 2048,
    ...over,
  };
}
const plan = (over: Partial<FleetQuotaPlan> = {}): FleetQuotaPlan => ({
  rolesToCreate: 0,
  policiesToCreate: 0,
  ...over,
});

describe('checkFleetQuotas', () => {
  it.each([
    // [case, summary, plan, kind, message]
    [
      'roles over',
      account({ Roles: 950 }),
      plan({ rolesToCreate: 312 }),
      'roles',
      'would create 312 roles; the account has 950 of 1,000 (RolesQuota), 262 too many',
    ],
    [
      'policies over',
      account({ Policies: 1499 }),
      plan({ policiesToCreate: 2 }),
      'policies',
      'would create 2 policies; the account has 1,499 of 1,500 (PoliciesQuota), 1 too many',
    ],
    [
      'managed policies per role',
      account(),
      plan({
        managedPoliciesPerRole: [
          { roleName: 'a', count: 10 },
          { roleName: 'b', count: 11 },
        ],
      }),
      'managed-policies-per-role',
      '1 role would have more than 10 managed policies attached (AttachedPoliciesPerRoleQuota), up to 11: b (11)',
    ],
    [
      'client IDs per provider',
      account(),
      plan({ providers: [{ url: 'https://gitlab.com', clientIds: 101 }] }),
      'client-ids-per-provider',
      '1 OIDC provider would have more than 100 client IDs (audiences), up to 101: https://gitlab.com (101)',
    ],
    [
      'OIDC providers per account',
      account(),
      plan({ oidcProviders: { existing: 100, toCreate: 1 } }),
      'oidc-providers',
      'would create 1 OIDC provider; the account has 100 of 100',
    ],
    [
      'trust policy one over',
      account(),
      plan({
        trustPolicies: [
          { roleName: 'r-1', size: 2048 },
          { roleName: 'r-2', size: 2049 },
        ],
      }),
      'trust-policy-length',
      '1 trust policy would exceed 2,048 characters (whitespace excluded), up to 2,049: r-2 (2,049)',
    ],
  ] as const)('%s', (_name, summary, p, kind, message) => {
    const { refusals } = checkFleetQuotas(summary, p);
    expect(refusals.map((r) => [r.kind, r.message])).toEqual([[kind, message]]);
  });

  it('exactly at each quota: no refusal', () => {
    const check = checkFleetQuotas(
      account({ Roles: 900, Policies: 1400 }),
      plan({
        rolesToCreate: 100,
        policiesToCreate: 100,
        managedPoliciesPerRole: [{ roleName: 'a', count: 10 }],
        providers: [{ url: 'https://gitlab.com', clientIds: 100 }],
        oidcProviders: { existing: 99, toCreate: 1 },
        trustPolicies: [{ roleName: 'a', size: 2048 }],
      }),
    );
    expect(check.refusals).toEqual([]);
    // 1,000 of 1,000 is within the quota but worth saying.
    expect(check.warnings).toEqual([
      'After this run the account has 1,000 of 1,000 roles (RolesQuota); consider raising "Roles per account" (L-FE177D64).',
      'After this run the account has 1,500 of 1,500 policies (PoliciesQuota); consider raising "Customer managed policies per account" (L-E95E4862).',
    ]);
  });

  it('names the Service Quotas quota to raise, or says it cannot be raised', () => {
    const { refusals } = checkFleetQuotas(
      account({ Roles: 1000, RolesQuota: 1000, AttachedPoliciesPerRoleQuota: 20 }),
      plan({
        rolesToCreate: 1,
        managedPoliciesPerRole: [{ roleName: 'a', count: 21 }],
        oidcProviders: { existing: 100, toCreate: 1 },
        trustPolicies: [{ roleName: 'a', size: 9000 }],
        trustPolicyMax: 8192,
      }),
    );
    const byKind = Object.fromEntries(refusals.map((r) => [r.kind, r]));
    expect(byKind.roles?.serviceQuota).toBe(SERVICE_QUOTAS.roles);
    expect(byKind.roles?.hint).toMatch(
      /^Raise "Roles per account" \(Service Quotas, service iam, quota L-FE177D64, up to 5,000\), or .*role: per-group/,
    );
    expect(byKind['managed-policies-per-role']?.hint).toMatch(/already at its maximum \(20\)/);
    expect(byKind['oidc-providers']?.hint).toMatch(/does not raise this limit/);
    expect(byKind['trust-policy-length']?.message).toContain('exceed 8,192 characters');
    expect(byKind['trust-policy-length']?.hint).toMatch(/already at its maximum \(8,192\)/);
  });

  it('a quota the summary does not report is a warning, never a silent pass or a guess', () => {
    const check = checkFleetQuotas(
      { Roles: 10 },
      plan({ rolesToCreate: 5, managedPoliciesPerRole: [{ roleName: 'a', count: 3 }] }),
    );
    expect(check.refusals).toEqual([]);
    expect(check.warnings).toEqual([
      'Not checked: the account summary has no RolesQuota; this run creates 5 roles.',
      "Managed policies per role checked against IAM's default, 10 (the account summary has no AttachedPoliciesPerRoleQuota).",
    ]);
    // Nothing to create: nothing to check.
    expect(checkFleetQuotas({}, plan())).toEqual({ refusals: [], warnings: [] });
  });

  it.each([
    // [case, summary, plan, refusal messages, warnings]
    [
      'providers: 99 + 1 is within',
      account(),
      plan({ oidcProviders: { existing: 99, toCreate: 1 } }),
      [],
      [],
    ],
    [
      'providers: 100 + 1 is refused (not raisable)',
      account(),
      plan({ oidcProviders: { existing: 100, toCreate: 1 } }),
      ['oidc-providers: would create 1 OIDC provider; the account has 100 of 100'],
      [],
    ],
    [
      'providers: 100 existing, none created: nothing to refuse',
      account(),
      plan({ oidcProviders: { existing: 100, toCreate: 0 } }),
      [],
      [],
    ],
    [
      'providers: the count is unknown and one is created: a warning',
      account(),
      plan({ oidcProviders: { toCreate: 1 } }),
      [],
      [
        'Not checked: OIDC providers per account (100; ListOpenIDConnectProviders was not read); this run creates 1.',
      ],
    ],
    [
      'client IDs: 100 is within, 101 is refused',
      account(),
      plan({
        providers: [
          { url: 'https://gitlab.com', clientIds: 100 },
          { url: 'https://gitlab.example.com', clientIds: 101 },
        ],
      }),
      [
        'client-ids-per-provider: 1 OIDC provider would have more than 100 client IDs (audiences), up to 101: https://gitlab.example.com (101)',
      ],
      [],
    ],
    [
      'per role: the raised quota (20) from the summary wins over the default',
      account({ AttachedPoliciesPerRoleQuota: 20 }),
      plan({ managedPoliciesPerRole: [{ roleName: 'a', count: 15 }] }),
      [],
      [],
    ],
    [
      'per role: no summary value, 11 over the default 10',
      {},
      plan({ managedPoliciesPerRole: [{ roleName: 'a', count: 11 }] }),
      [
        "managed-policies-per-role: 1 role would have more than 10 managed policies attached (IAM's default), up to 11: a (11)",
      ],
      [
        "Managed policies per role checked against IAM's default, 10 (the account summary has no AttachedPoliciesPerRoleQuota).",
      ],
    ],
    [
      'per role: no summary value, a given quota (15)',
      {},
      plan({ managedPoliciesPerRole: [{ roleName: 'a', count: 16 }], managedPoliciesPerRoleMax: 15 }),
      [
        'managed-policies-per-role: 1 role would have more than 15 managed policies attached (the given quota), up to 16: a (16)',
      ],
      [],
    ],
    [
      'per role: the given quota above what the summary reports: checked against the summary, with a warning',
      account(),
      plan({ managedPoliciesPerRole: [{ roleName: 'a', count: 12 }], managedPoliciesPerRoleMax: 15 }),
      [
        'managed-policies-per-role: 1 role would have more than 10 managed policies attached (AttachedPoliciesPerRoleQuota), up to 12: a (12)',
      ],
      [
        'The given managed-policies-per-role quota is 15 but the account summary reports 10 (AttachedPoliciesPerRoleQuota): checked against 10.',
      ],
    ],
  ] as const)('%s', (_name, summary, p, refusals, warnings) => {
    const check = checkFleetQuotas(summary, p);
    expect(check.refusals.map((r) => `${r.kind}: ${r.message}`)).toEqual(refusals);
    expect(check.warnings).toEqual(warnings);
  });

  it('without the account summary (no iam:GetAccountSummary): the quotas that need no summary are still checked', () => {
    const check = checkFleetQuotas(
      undefined,
      plan({
        rolesToCreate: 5,
        oidcProviders: { existing: 100, toCreate: 1 },
        managedPoliciesPerRole: [{ roleName: 'a', count: 11 }],
        trustPolicies: [{ roleName: 'a', size: 2049 }],
      }),
    );
    expect(check.refusals.map((r) => r.kind)).toEqual([
      'managed-policies-per-role',
      'oidc-providers',
      'trust-policy-length',
    ]);
    // The caller says why roles and policies per account were not checked.
    expect(check.warnings).toEqual([
      "Managed policies per role checked against IAM's default, 10 (the account summary was not read).",
    ]);
  });

  it('--trust-policy-max above what the account reports: a warning, sizes checked against the flag', () => {
    const check = checkFleetQuotas(
      account(),
      plan({ trustPolicyMax: 4096, trustPolicies: [{ roleName: 'a', size: 3000 }] }),
    );
    expect(check.refusals).toEqual([]);
    expect(check.warnings[0]).toMatch(
      /--trust-policy-max is 4,096 but the account summary reports 2,048 \(AssumeRolePolicySizeQuota\)/,
    );
  });

  it('assertWithinQuotas: exit 1 with every refusal, nothing when within', () => {
    expect(() => assertWithinQuotas({ refusals: [], warnings: ['x'] })).not.toThrow();
    const check = checkFleetQuotas(
      account({ Roles: 999 }),
      plan({ rolesToCreate: 2, policiesToCreate: 1400 }),
    );
    let error: unknown;
    try {
      assertWithinQuotas(check);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    const cli = error as CliError;
    expect([cli.code, cli.exitCode]).toEqual(['QUOTA_EXCEEDED', 1]);
    expect(cli.message).toBe(
      'The plan exceeds 2 IAM quotas: would create 2 roles; the account has 999 of 1,000 (RolesQuota), 1 too many; ' +
        'would create 1,400 policies; the account has 200 of 1,500 (PoliciesQuota), 100 too many.',
    );
    expect(cli.hint).toContain('L-E95E4862');
  });
});

describe('checkFleetQuotas on the summary the IAM port reads', () => {
  let fake: FakeAws | undefined;
  afterEach(() => {
    fake?.restore();
    fake = undefined;
  });

  it('counts what the account holds (in-memory IAM behind the SDK)', async () => {
    fake = createFakeAws();
    const { iam } = fake.ports;
    const trust = {
      Version: '2012-10-17' as const,
      Statement: [
        { Effect: 'Allow' as const, Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    };
    for (const name of ['a', 'b', 'c']) {
      await iam.createRole({
        name,
        path: '/',
        description: name,
        maxSessionDuration: 3600,
        trustPolicy: trust,
        tags: {},
      });
    }
    const { summaryMap } = await iam.getAccountSummary();
    const check = checkFleetQuotas(summaryMap, plan({ rolesToCreate: 998, policiesToCreate: 1 }));
    expect(check.refusals.map((r) => r.message)).toEqual([
      'would create 998 roles; the account has 3 of 1,000 (RolesQuota), 1 too many',
    ]);
    expect(checkFleetQuotas(summaryMap, plan({ rolesToCreate: 997 })).refusals).toEqual([]);
  });
});
