/**
 * The README's IAM permission lists come from COMMAND_PORT_METHODS. Here every command runs its realistic
 * flows through its run function against the in-memory IAM/STS, with the ports wrapped in a recording
 * Proxy, and two things are checked per command:
 *   1. every IamPort/StsPort method it called is declared for it (the list is not too short), and for
 *      the commands whose flows reach every declared method, nothing more is declared (not too long);
 *   2. every IAM/STS API call that reached the wire is an action in REQUIRED_PERMISSIONS for it (the
 *      port → action mapping is not too short either).
 * init's apply path is covered step by step (every PlanStep kind) in permissions.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseAuditFlags } from '../../src/audit/options.js';
import { runAudit } from '../../src/audit/run.js';
import {
  COMMAND_PORT_METHODS,
  type PermissionScope,
  REQUIRED_PERMISSIONS,
} from '../../src/aws/permissions.js';
import type { AwsPorts, IamPort, StsPort } from '../../src/aws/ports.js';
import { readExistingRole } from '../../src/aws/read-state.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { runDestroyFleet } from '../../src/destroy/fleet.js';
import { parseDestroyFlags } from '../../src/destroy/options.js';
import { runDestroy } from '../../src/destroy/run.js';
import { resolveExportOptions } from '../../src/export/options.js';
import { runExport } from '../../src/export/run.js';
import { createMemoryLogger } from '../../src/io/logger.js';
import { parseStatusFlags } from '../../src/status/options.js';
import { runStatus } from '../../src/status/run.js';
import { resolveVerifyOptions } from '../../src/verify/options.js';
import { createDefaultVerifyDeps, runVerify } from '../../src/verify/run.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { BASE_FLAGS, runInitWith, tempDir } from '../init/helpers.js';
import { initProject } from '../status/init-helper.js';

interface Usage {
  iam: Set<keyof IamPort>;
  sts: Set<keyof StsPort>;
  /** API calls that reached the (fake) wire. */
  api: Set<string>;
}

const STS_COMMANDS = new Set(['GetCallerIdentity', 'AssumeRoleWithWebIdentity']);
/** Unsigned: authorised by the role's trust policy, not by the caller's permissions. */
const UNSIGNED = new Set(['sts:AssumeRoleWithWebIdentity']);

const fakes: FakeAws[] = [];
afterEach(() => {
  for (const f of fakes.splice(0)) f.restore();
});

function newFake(options: Parameters<typeof createFakeAws>[0] = {}): FakeAws {
  const f = createFakeAws({ pageSize: 2, ...options });
  fakes.push(f);
  return f;
}

const newUsage = (): Usage => ({ iam: new Set(), sts: new Set(), api: new Set() });

/** A Proxy over a port that records each method called into `into`. */
function recording<T extends object>(port: T, into: Set<keyof T>): T {
  return new Proxy(port, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        into.add(key as keyof T);
        return value.apply(target, args);
      };
    },
  });
}

function recordedPorts(fake: FakeAws, usage: Usage): AwsPorts {
  return { iam: recording(fake.ports.iam, usage.iam), sts: recording(fake.ports.sts, usage.sts) };
}

/** Runs one flow, adding the API calls it sent to `usage.api`; failures of the flow itself are kept. */
async function during<T>(fake: FakeAws, usage: Usage, run: () => Promise<T>): Promise<T> {
  const mark = fake.calls().length;
  try {
    return await run();
  } finally {
    for (const c of fake.calls().slice(mark)) usage.api.add(c.command);
  }
}

const sorted = <T>(values: Iterable<T>) => [...values].map(String).sort();

function expectDeclared(scope: PermissionScope, usage: Usage, exact: boolean): void {
  const declared = COMMAND_PORT_METHODS[scope];
  expect(usage.iam.size + usage.sts.size, `${scope}: the flows called nothing`).toBeGreaterThan(0);
  const undeclaredIam = sorted(usage.iam).filter((m) => !(declared.iam as readonly string[]).includes(m));
  const undeclaredSts = sorted(usage.sts).filter((m) => !(declared.sts as readonly string[]).includes(m));
  expect(undeclaredIam, `${scope}: IamPort methods called but not declared`).toEqual([]);
  expect(undeclaredSts, `${scope}: StsPort methods called but not declared`).toEqual([]);
  if (exact) {
    expect(sorted(usage.iam), `${scope}: declared IamPort methods`).toEqual(sorted(declared.iam));
    expect(sorted(usage.sts), `${scope}: declared StsPort methods`).toEqual(sorted(declared.sts));
  }
  const actions = sorted(usage.api).map((c) => (STS_COMMANDS.has(c) ? `sts:${c}` : `iam:${c}`));
  const missing = actions.filter((a) => !UNSIGNED.has(a) && !REQUIRED_PERMISSIONS[scope].includes(a));
  expect(missing, `${scope}: API actions sent but missing from REQUIRED_PERMISSIONS`).toEqual([]);
}

const doc = (action: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }],
});
const trust = (providerArn: string, sub: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: providerArn },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { 'gitlab.com:aud': 'https://gitlab.com', 'gitlab.com:sub': sub } },
    },
  ],
});

/** An unsigned JWT with GitLab-like claims (verify decodes it; signature checks are stubbed). */
function fakeToken(claims: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'k' })}.${part(claims)}.${Buffer.from('sig').toString('base64url')}`;
}

describe('every port method a command calls is in its declared permissions', () => {
  it('init (apply): create, re-run, update trust/session/policy (with version pruning), detach, adopt a provider', async () => {
    const usage = newUsage();
    const { dir, cleanup } = tempDir();
    try {
      const fake = newFake();
      const readOnly = fake.addPolicy({ name: 'ReadOnlyAccess', awsManaged: true, document: doc('s3:Get*') });
      const aws = { ...fake, ports: recordedPorts(fake, usage) } as FakeAws;
      const flags = {
        ...BASE_FLAGS,
        ciFile: false as const,
        template: 's3-deploy',
        templateParam: ['bucket=site-0'],
        managedPolicy: [readOnly],
      };
      await during(fake, usage, () => runInitWith(flags, dir, { aws }));
      await during(fake, usage, () => runInitWith(flags, dir, { aws }));
      // Five policy changes: the fifth needs the oldest version pruned first.
      for (let i = 1; i <= 5; i++) {
        await during(fake, usage, () =>
          runInitWith(
            {
              ...flags,
              branch: ['main', 'release/*'],
              allowWidening: true,
              maxSessionDuration: String(3600 + i * 60),
              templateParam: [`bucket=site-${i}`],
            },
            dir,
            { aws },
          ),
        );
      }
      await during(fake, usage, () => runInitWith({ ...flags, managedPolicy: [] }, dir, { aws }));
      // No template any more: the tool's policy is detached and deleted, not orphaned.
      await during(fake, usage, () =>
        runInitWith({ ...BASE_FLAGS, ciFile: false, managedPolicy: [readOnly], allowWidening: true }, dir, {
          aws,
        }),
      );

      const other = newFake();
      other.addProvider({ url: 'https://gitlab.com', clientIds: ['sts.amazonaws.com'] });
      const otherAws = { ...other, ports: recordedPorts(other, usage) } as FakeAws;
      other.addRole({ name: 'other-team', trustPolicy: trust(other.providerArn('https://gitlab.com'), 'x') });
      // A new audience and new thumbprints on a provider another role uses (read with ListRoles).
      await during(other, usage, () =>
        runInitWith(
          { ...BASE_FLAGS, ciFile: false, allowWidening: true, thumbprint: ['a'.repeat(40)] },
          dir,
          { aws: otherAws },
        ),
      );

      expect(usage.iam).toEqual(
        new Set([
          'getOidcProvider',
          'getRole',
          'getPolicy',
          'getPolicySummary',
          'createOidcProvider',
          'createPolicy',
          'createRole',
          'attachRolePolicy',
          'updateTrustPolicy',
          'updateRole',
          'createPolicyVersion',
          'deletePolicyVersion',
          'detachRolePolicy',
          'addOidcClientId',
          'tagRole',
          'tagPolicy',
          'deletePolicy',
          'listRoles',
          'updateOidcThumbprints',
        ]),
      );
      expectDeclared('init', usage, false);
    } finally {
      cleanup();
    }
  });

  it('init --dry-run: reads only', async () => {
    const usage = newUsage();
    const { dir, cleanup } = tempDir();
    try {
      const fake = newFake();
      const readOnly = fake.addPolicy({ name: 'ReadOnlyAccess', awsManaged: true, document: doc('s3:Get*') });
      const aws = { ...fake, ports: recordedPorts(fake, usage) } as FakeAws;
      const flags = {
        ...BASE_FLAGS,
        ciFile: false as const,
        template: 's3-deploy',
        templateParam: ['bucket=my-bucket'],
        managedPolicy: [readOnly],
      };
      await during(fake, usage, () => runInitWith({ ...flags, dryRun: true }, dir, { aws }));
      await initProject(fake, { project: BASE_FLAGS.project as string });
      // A thumbprint change: the plan names the other roles that use the provider (ListRoles).
      await during(fake, usage, () =>
        runInitWith({ ...flags, dryRun: true, branch: ['dev'], thumbprint: ['a'.repeat(40)] }, dir, { aws }),
      );
      expect(sorted(usage.api).filter((c) => !/^(Get|List)/.test(c))).toEqual([]);
      expectDeclared('initDryRun', usage, true);
    } finally {
      cleanup();
    }
  });

  it('export: a fresh account, then the setup init made (imports), reading only', async () => {
    const usage = newUsage();
    const { dir, cleanup } = tempDir();
    try {
      const fake = newFake();
      const readOnly = fake.addPolicy({ name: 'ReadOnlyAccess', awsManaged: true, document: doc('s3:Get*') });
      const ports = recordedPorts(fake, usage);
      const flags = {
        project: BASE_FLAGS.project as string,
        branch: ['main'],
        template: 's3-deploy',
        templateParam: ['bucket=my-bucket'],
        managedPolicy: [readOnly],
        format: 'terraform',
        yes: true,
      };
      const exportOnce = () =>
        during(fake, usage, async () => {
          const options = await resolveExportOptions(flags, {
            cwd: dir,
            env: {},
            interactive: false,
            git: {},
            prompter: async () => {
              throw new Error('no prompts');
            },
            readExisting: (target) => readExistingRole(ports.iam, target),
          });
          return runExport(options, {
            logger: createMemoryLogger(),
            aws: async () => ports,
            resolveThumbprints: async () => ({
              thumbprints: [],
              source: 'not-needed',
              details: [],
              warnings: [],
            }),
          });
        });
      await exportOnce();
      await runInitWith({ ...BASE_FLAGS, ...flags, ciFile: false }, dir, { aws: fake });
      const adopted = await exportOnce();
      expect(adopted.existing.roleName).toBeDefined();
      expect(sorted(usage.api).filter((c) => !/^(Get|List)/.test(c))).toEqual([]);
      expectDeclared('export', usage, true);
    } finally {
      cleanup();
    }
  });

  it('verify: simulate, claims, assume (assumed, and refused with the provider missing), --expect-deny', async () => {
    const usage = newUsage();
    const fake = newFake();
    const desired = await initProject(fake, { project: 'acme/web' });
    const roleArn = desired.role.arn;
    const base = createDefaultVerifyDeps({ env: {} });
    const deps = {
      ...base,
      ports: recordedPorts(fake, usage),
      // The assumed role's own GetCallerIdentity also goes through an StsPort.
      stsForCredentials: async (...args: Parameters<typeof base.stsForCredentials>) =>
        recording(await base.stsForCredentials(...args), usage.sts),
      verifyToken: async () => ({}),
      sleep: async () => {},
    };
    const now = new Date();
    const run = (flags: Parameters<typeof resolveVerifyOptions>[0], env: NodeJS.ProcessEnv = {}) =>
      during(fake, usage, () => runVerify(resolveVerifyOptions(flags, env, now), { ...deps, env }));

    const simulated = await run({ roleArn, project: 'acme/web', branch: 'main', expectDeny: true });
    expect(simulated.ok).toBe(true);
    await run({ roleArn, claims: 'sub=project_path:acme/web:ref_type:branch:ref:dev' });

    const exp = Math.floor(now.getTime() / 1000) + 600;
    const claims = {
      iss: 'https://gitlab.com',
      aud: 'https://gitlab.com',
      sub: 'project_path:acme/web:ref_type:branch:ref:main',
      project_path: 'acme/web',
      ref: 'main',
      ref_type: 'branch',
      exp,
      iat: exp - 900,
    };
    const assumed = await run({ roleArn }, { GITLAB_OIDC_TOKEN: fakeToken(claims) });
    expect(assumed.assume.status).toBe('assumed');

    // A token from an issuer with no provider: refused; the explanation looks for a near-miss provider.
    const refused = await run(
      { roleArn: roleArn.replace(/[^/]+$/, 'missing-role'), timeout: '1' },
      { GITLAB_OIDC_TOKEN: fakeToken({ ...claims, iss: 'https://gitlab.example.com/' }) },
    );
    expect(refused.assume.status).toBe('refused');
    expectDeclared('verify', usage, true);
  });

  it('audit: the whole account, one role, and an offline policy file (no call)', async () => {
    const usage = newUsage();
    const fake = newFake();
    await initProject(fake, { project: 'acme/web', managedPolicyArns: [] });
    const admin = fake.addPolicy({ name: 'AdministratorAccess', awsManaged: true, document: doc('*') });
    fake.addRole({
      name: 'wide',
      trustPolicy: trust(fake.providerArn('https://gitlab.com'), 'project_path:acme/*'),
      attachedPolicyArns: [admin],
    });
    fake.addProvider({ url: 'https://gitlab.unused.example', clientIds: ['x'] });
    const aws = () => recordedPorts(fake, usage);

    const account = await during(fake, usage, () => runAudit(parseAuditFlags({}), { aws }));
    expect(account.roles.map((r) => r.name).sort()).toEqual(['gitlab-acme-web', 'wide']);
    await during(fake, usage, () => runAudit(parseAuditFlags({ role: 'wide' }), { aws }));
    const before = fake.calls().length;
    await runAudit(parseAuditFlags({ policyFile: 'trust.json' }), {
      aws,
      readFile: async () => JSON.stringify(trust(fake.providerArn('https://gitlab.com'), 'x')),
    });
    expect(fake.calls().length).toBe(before);
    expectDeclared('audit', usage, true);
  });

  it('status: the account and one project, with a detached tool policy, and with the bulk read refused', async () => {
    const usage = newUsage();
    const fake = newFake();
    await initProject(fake, { project: 'acme/web' });
    const api = await initProject(fake, { project: 'acme/api' });
    const role = fake.state.roles.get(api.role.name.toLowerCase());
    if (role) role.attachedPolicyArns = [];
    fake.addRole({ name: 'unrelated', trustPolicy: trust(fake.providerArn('https://gitlab.com'), 'x') });
    const aws = () => recordedPorts(fake, usage);

    const all = await during(fake, usage, () => runStatus(parseStatusFlags({}), { aws }));
    expect(all.roles.map((r) => r.project).sort()).toEqual(['acme/api', 'acme/web']);
    await during(fake, usage, () => runStatus(parseStatusFlags({ project: 'acme/api' }), { aws }));
    // The bulk read refused: role by role (GetRole, GetPolicy with its versions), as before.
    fake.failNext('GetAccountAuthorizationDetails', 'AccessDenied');
    await during(fake, usage, () => runStatus(parseStatusFlags({}), { aws }));
    expectDeclared('status', usage, true);
  });

  it('destroy: dry run, a project (DeleteConflict on the policy and the role), a role, nothing left', async () => {
    const usage = newUsage();
    const fake = newFake();
    const web = await initProject(fake, { project: 'acme/web' });
    // Old versions to delete, and an AWS managed policy to detach.
    await initProject(fake, { project: 'acme/web', refs: [{ type: 'branch', pattern: 'dev' }] });
    const readOnly = fake.addPolicy({ name: 'ReadOnlyAccess', awsManaged: true, document: doc('s3:Get*') });
    fake.state.roles.get(web.role.name.toLowerCase())?.attachedPolicyArns.push(readOnly);
    // The role is in an EC2 instance profile: taken out of it (consent given).
    fake.addInstanceProfile({ name: 'web-ec2', roleNames: [web.role.name] });
    const aws = () => recordedPorts(fake, usage);
    const destroy = (flags: Parameters<typeof parseDestroyFlags>[0]) =>
      during(fake, usage, () =>
        runDestroy(parseDestroyFlags({ yes: true, removeFromInstanceProfiles: true, ...flags }), { aws }),
      );

    expect((await destroy({ project: 'acme/web', dryRun: true })).done).toEqual([]);
    const policy = fake.state.policies.get(web.policy?.arn ?? '');
    if (policy) {
      // A version appears between the plan and the delete, and something is attached again.
      policy.versions.push({ ...policy.versions[0]!, versionId: 'v99', isDefault: false });
    }
    fake.failNext('DeletePolicy', 'DeleteConflict');
    fake.failNext('DeleteRole', 'DeleteConflict');
    const result = await destroy({ project: 'acme/web' });
    expect(result.changed).toBe(true);
    expect(fake.state.roles.size).toBe(0);

    await initProject(fake, { project: 'acme/api' });
    await destroy({ role: 'gitlab-acme-api' });
    expect((await destroy({ project: 'acme/api' })).changed).toBe(false);
    // --group/--config: the account read once in bulk, then each member applied.
    await initProject(fake, { project: 'acme/api' });
    const fleet = await during(fake, usage, () =>
      runDestroyFleet(
        parseDestroyFlags({ yes: true }, { fleet: true }),
        { kind: 'group', group: 'acme', include: [], exclude: [] },
        { kind: 'group', source: 'acme', projects: [{ project: 'acme/api' }], skipped: [] },
        { aws },
      ),
    );
    expect(fleet.counts.withChanges).toBe(1);
    expectDeclared('destroy', usage, true);
  });
});
