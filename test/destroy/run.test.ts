import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultPolicyName, defaultRoleName } from '../../src/core/naming.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { parseDestroyFlags } from '../../src/destroy/options.js';
import { DESTROY_JOURNAL_TAG } from '../../src/destroy/plan.js';
import { DestroyBlockedError, type DestroyDeps, runDestroy } from '../../src/destroy/run.js';
import { AbortError, ExitCode, PartialApplyError, UsageError } from '../../src/errors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { initProject } from '../status/init-helper.js';

const TOOL = { 'managed-by': 'gitlab-aws-oidc', 'gitlab-aws-oidc:gitlab-url': 'https://gitlab.com' };
const doc = (action: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }],
});
const trust = (providerArn: string, project: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: providerArn },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          'gitlab.com:aud': 'https://gitlab.com',
          'gitlab.com:sub': `project_path:${project}:ref_type:branch:ref:main`,
        },
      },
    },
  ],
});

let fake: FakeAws;
beforeEach(() => {
  fake = createFakeAws({ pageSize: 2 });
});
afterEach(() => fake.restore());

interface Seed {
  provider: string;
  toolPolicy: string;
  readOnly: string;
}

/** One project set up by init: tagged provider, role, tool policy (with old versions) + an AWS managed policy. */
function seedProject(f: FakeAws, opts: { policyName?: string; project?: string } = {}): Seed {
  const project = opts.project ?? 'acme/web';
  const provider = f.addProvider({
    url: 'https://gitlab.com',
    clientIds: ['https://gitlab.com'],
    tags: TOOL,
  });
  const projectTags = { ...TOOL, 'gitlab-aws-oidc:project': project };
  const toolPolicy = f.addPolicy({
    name: opts.policyName ?? defaultPolicyName(project),
    path: '/gitlab-oidc/',
    document: doc('s3:PutObject'),
    olderVersions: [doc('s3:GetObject'), doc('s3:ListBucket')],
    tags: projectTags,
  });
  const readOnly = f.addPolicy({ name: 'ReadOnlyAccess', awsManaged: true, document: doc('s3:Get*') });
  f.addRole({
    name: 'gitlab-acme-web',
    path: '/gitlab-oidc/',
    trustPolicy: trust(provider, project),
    tags: projectTags,
    attachedPolicyArns: [toolPolicy, readOnly],
  });
  // Untouchable neighbours.
  f.addRole({
    name: 'unrelated',
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    },
    attachedPolicyArns: [readOnly],
  });
  return { provider, toolPolicy, readOnly };
}

const snapshot = (f: FakeAws) => ({
  providers: [...f.state.providers.keys()].sort(),
  roles: [...f.state.roles.values()]
    .map((r) => `${r.name}:${[...r.attachedPolicyArns].sort().join(',')}`)
    .sort(),
  policies: [...f.state.policies.values()].map((p) => `${p.arn}:${p.versions.length}`).sort(),
});

const deps = (f: FakeAws, extra: Partial<DestroyDeps> = {}): DestroyDeps => ({
  aws: () => f.ports,
  ...extra,
});
const project = (extra: Record<string, unknown> = {}) =>
  parseDestroyFlags({ project: 'acme/web', yes: true, ...extra });

describe('runDestroy --project', () => {
  it('deletes the provider, the tool policy (versions first) and the role; detaches and keeps the rest', async () => {
    const seed = seedProject(fake);
    const result = await runDestroy(project(), deps(fake));
    expect(result.changed).toBe(true);
    expect(fake.mutatingCalls()).toEqual([
      'TagRole',
      'DeleteOpenIDConnectProvider',
      'DetachRolePolicy',
      'DetachRolePolicy',
      'DeletePolicyVersion',
      'DeletePolicyVersion',
      'DeletePolicy',
      'DeleteRole',
    ]);
    expect(snapshot(fake)).toEqual({
      providers: [],
      roles: [`unrelated:${seed.readOnly}`],
      policies: [`${seed.readOnly}:1`],
    });
    expect(result.plan.resources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'policy',
          arn: seed.readOnly,
          action: 'detach',
          reason: 'AWS managed policy',
        }),
        expect.objectContaining({ kind: 'oidc-provider', arn: seed.provider, action: 'delete' }),
      ]),
    );
    // A second run has nothing left to do.
    const again = await runDestroy(project(), deps(fake));
    expect(again.changed).toBe(false);
    expect(again.summary).toMatch(/Nothing of project acme\/web left to destroy/);
  });

  it('keeps a provider another role trusts, or that the tool did not create, or with --keep-provider', async () => {
    const seed = seedProject(fake);
    fake.addRole({ name: 'other-team', trustPolicy: trust(seed.provider, 'other/app') });
    const r1 = await runDestroy(project(), deps(fake));
    expect(r1.plan.resources.find((r) => r.kind === 'oidc-provider')).toMatchObject({
      action: 'keep',
      reason: 'still trusted by role other-team',
    });
    expect(fake.state.providers.has(seed.provider)).toBe(true);

    fake.restore();
    fake = createFakeAws();
    const s2 = seedProject(fake);
    fake.state.providers.get(s2.provider)!.tags = {};
    const r2 = await runDestroy(project(), deps(fake));
    expect(r2.plan.resources.find((r) => r.kind === 'oidc-provider')?.reason).toBe(
      'not created by gitlab-aws-oidc',
    );

    fake.restore();
    fake = createFakeAws();
    seedProject(fake);
    const r3 = await runDestroy(project({ keepProvider: true }), deps(fake));
    expect(r3.plan.resources.find((r) => r.kind === 'oidc-provider')?.reason).toBe('kept (--keep-provider)');
    expect(fake.mutatingCalls()).not.toContain('DeleteOpenIDConnectProvider');
  });

  it('never touches roles of another project or without the tag', async () => {
    const seed = seedProject(fake);
    fake.addRole({
      name: 'look-alike',
      trustPolicy: trust(seed.provider, 'acme/web'),
      attachedPolicyArns: [seed.toolPolicy],
    });
    fake.addRole({
      name: 'api',
      trustPolicy: trust(seed.provider, 'acme/api'),
      tags: { ...TOOL, 'gitlab-aws-oidc:project': 'acme/api' },
    });
    await runDestroy(project(), deps(fake));
    expect([...fake.state.roles.keys()].sort()).toEqual(['api', 'look-alike', 'unrelated']);
    // The tool policy is still attached to the look-alike role: IAM refuses to delete it, so it is kept.
    expect(fake.state.policies.has(seed.toolPolicy)).toBe(true);
  });

  it('--dry-run plans without changing anything', async () => {
    seedProject(fake);
    const shown: string[][] = [];
    const result = await runDestroy(
      project({ dryRun: true, yes: false }),
      deps(fake, { showPlan: (p) => shown.push(p.steps.map((s) => s.kind)) }),
    );
    expect(fake.mutatingCalls()).toEqual([]);
    expect(result).toMatchObject({ dryRun: true, changed: true, done: [] });
    expect(result.plan.steps).toHaveLength(8);
    expect(shown).toHaveLength(1);
  });

  it('asks before deleting; "no" aborts, no terminal without --yes is a usage error', async () => {
    seedProject(fake);
    const asked: string[] = [];
    await expect(
      runDestroy(
        project({ yes: false }),
        deps(fake, {
          confirm: async (m) => {
            asked.push(m);
            return false;
          },
        }),
      ),
    ).rejects.toBeInstanceOf(AbortError);
    expect(asked[0]).toMatch(/^Delete what is listed above for project acme\/web in account 123456789012\?$/);
    await expect(runDestroy(project({ yes: false }), deps(fake))).rejects.toMatchObject({
      constructor: UsageError,
      issues: [{ field: '--yes' }],
    });
    expect(fake.mutatingCalls()).toEqual([]);
    await runDestroy(project({ yes: false }), deps(fake, { confirm: async () => true }));
    expect(fake.state.roles.has('gitlab-acme-web')).toBe(false);
  });

  it('retries DeleteRole after detaching what was attached meanwhile (DeleteConflict)', async () => {
    const seed = seedProject(fake);
    const extra = fake.addPolicy({ name: 'added-by-someone', document: doc('sqs:SendMessage') });
    await runDestroy(
      project(),
      deps(fake, {
        // Between planning and applying, someone attaches another policy.
        showPlan: () => fake.state.roles.get('gitlab-acme-web')!.attachedPolicyArns.push(extra),
      }),
    );
    expect(fake.state.roles.has('gitlab-acme-web')).toBe(false);
    expect(fake.state.policies.has(extra)).toBe(true); // detached, not deleted
    expect(fake.mutatingCalls().filter((c) => c === 'DeleteRole')).toHaveLength(2);
    expect(seed).toBeTruthy();
  });
});

describe('runDestroy --role', () => {
  it('refuses an untagged role without --force, before any change', async () => {
    const seed = seedProject(fake);
    const custom = fake.addPolicy({ name: 'hand-made', document: doc('s3:PutObject') });
    fake.addRole({
      name: 'manual',
      trustPolicy: trust(seed.provider, 'acme/web'),
      attachedPolicyArns: [custom],
    });
    const error = await runDestroy(parseDestroyFlags({ role: 'manual', yes: true }), deps(fake)).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(DestroyBlockedError);
    expect(error.hint).toContain('--role manual --force');
    expect(fake.mutatingCalls()).toEqual([]);

    const result = await runDestroy(
      parseDestroyFlags({ role: 'manual', yes: true, force: true }),
      deps(fake),
    );
    expect(result.changed).toBe(true);
    expect(fake.mutatingCalls()).toEqual(['DetachRolePolicy', 'DeleteRole']);
    expect(fake.state.policies.has(custom)).toBe(true);
    expect(fake.state.providers.has(seed.provider)).toBe(true); // still trusted by the tool's role
  });

  it('refuses a role with inline policies and names the command to remove them', async () => {
    const seed = seedProject(fake);
    fake.addRole({
      name: 'with-inline',
      trustPolicy: trust(seed.provider, 'x/y'),
      tags: { ...TOOL, 'gitlab-aws-oidc:project': 'x/y' },
      inlinePolicyNames: ['extra'],
    });
    const error = await runDestroy(parseDestroyFlags({ role: 'with-inline', yes: true }), deps(fake)).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(DestroyBlockedError);
    expect(error.hint).toBe('aws iam delete-role-policy --role-name with-inline --policy-name extra');
  });

  it('a role that does not exist is nothing to do', async () => {
    const result = await runDestroy(parseDestroyFlags({ role: 'gone', yes: true }), deps(fake));
    expect(result).toMatchObject({
      changed: false,
      summary: 'Role gone does not exist in account 123456789012: nothing to destroy.',
    });
  });
});

describe('destroy survives failure at every step', () => {
  const seeds: [string, (f: FakeAws) => Seed][] = [
    ['default policy name', (f) => seedProject(f)],
    [
      'custom policy name (found again through the journal tag)',
      (f) => seedProject(f, { policyName: 'hand-picked-name' }),
    ],
  ];

  for (const [name, seed] of seeds) {
    describe(name, () => {
      const baseline = async () => {
        const f = createFakeAws();
        seed(f);
        await runDestroy(project(), { aws: () => f.ports });
        const snap = snapshot(f);
        const calls = f.mutatingCalls().length;
        f.restore();
        return { snap, calls };
      };

      it('a failed call (throttling, AccessDenied, ServiceFailure) at step k: the re-run converges', async () => {
        const { snap, calls } = await baseline();
        expect(calls).toBe(8);
        const codes = ['Throttling', 'AccessDenied', 'ServiceFailure'];
        for (let k = 0; k < calls; k++) {
          fake.restore();
          fake = createFakeAws({ pageSize: 2 });
          seed(fake);
          fake.failAfter(k, codes[k % codes.length]);
          const error = await runDestroy(project(), deps(fake)).catch((e) => e);
          expect(error, `step ${k}`).toBeInstanceOf(PartialApplyError);
          expect(error.done, `step ${k}`).toHaveLength(k);
          expect(error.notDone.length, `step ${k}`).toBeGreaterThan(0);
          expect(error.message).toContain(codes[k % codes.length]);
          const rerun = await runDestroy(project(), deps(fake));
          expect(rerun.changed, `step ${k}`).toBe(true);
          expect(snapshot(fake), `step ${k}`).toEqual(snap);
          const third = await runDestroy(project(), deps(fake));
          expect(third.changed, `step ${k}`).toBe(false);
        }
      });

      it('interrupted after step k (Ctrl-C, or killed after the call went through): the re-run converges', async () => {
        const { snap, calls } = await baseline();
        for (let k = 1; k <= calls; k++) {
          fake.restore();
          fake = createFakeAws();
          seed(fake);
          const controller = new AbortController();
          let done = 0;
          const outcome = await runDestroy(
            project(),
            deps(fake, {
              signal: controller.signal,
              onEvent: (e) => {
                if (e.state !== 'start' && ++done === k) controller.abort();
              },
            }),
          ).catch((e) => e);
          if (k < calls) {
            expect(outcome, `after ${k}`).toBeInstanceOf(PartialApplyError);
            expect(outcome.cause).toBeInstanceOf(AbortError);
            expect(outcome.done).toHaveLength(k);
            await runDestroy(project(), deps(fake));
          }
          expect(snapshot(fake), `after ${k}`).toEqual(snap);
        }
      });
    });
  }
});

describe('runDestroy --project when the path exists on several GitLab instances', () => {
  const SELF = 'https://gitlab.example.com';
  /** grp/app made by init on gitlab.com (default names) and on a private instance (its own names). */
  async function seedTwoInstances(f: FakeAws) {
    await initProject(f, { project: 'grp/app' });
    await initProject(f, {
      project: 'grp/app',
      gitlabUrl: SELF,
      roleName: 'gitlab-grp-app-self',
      policyName: 'gitlab-grp-app-self-permissions',
    });
    return {
      comRole: defaultRoleName('grp/app'),
      comPolicy: f.policyArn(defaultPolicyName('grp/app'), '/gitlab-oidc/'),
      selfPolicy: f.policyArn('gitlab-grp-app-self-permissions', '/gitlab-oidc/'),
      comProvider: f.providerArn('https://gitlab.com'),
      selfProvider: f.providerArn(SELF),
    };
  }
  const failure = (p: Promise<unknown>) => p.then(() => undefined).catch((e: unknown) => e);

  it('without --gitlab-url: refuses (exit 2, names --gitlab-url, lists the instances) before any change', async () => {
    await seedTwoInstances(fake);
    const before = fake.mutatingCalls().length;
    for (const extra of [{}, { dryRun: true, yes: false }]) {
      const error = await failure(runDestroy(project({ project: 'grp/app', ...extra }), deps(fake)));
      expect(error).toBeInstanceOf(UsageError);
      const usage = error as UsageError;
      expect(usage.exitCode).toBe(ExitCode.Usage);
      expect(usage.issues.map((i) => i.field)).toEqual(['--gitlab-url']);
      expect(usage.message).toBe(
        '--project grp/app matches resources of 2 GitLab instances: https://gitlab.com (role gitlab-grp-app), ' +
          `${SELF} (role gitlab-grp-app-self). Nothing was deleted.`,
      );
      expect(usage.hint).toBe(`Say which one: --gitlab-url https://gitlab.com or --gitlab-url ${SELF}.`);
    }
    expect(fake.mutatingCalls().length).toBe(before);
    expect(fake.state.roles.size).toBe(2);
  });

  it("--gitlab-url removes that instance's role, policy and provider only", async () => {
    const seed = await seedTwoInstances(fake);
    // Written the way a user might: upper case, trailing slash.
    const result = await runDestroy(
      project({ project: 'grp/app', gitlabUrl: 'https://GitLab.Example.com/' }),
      deps(fake),
    );
    expect(result.target).toEqual({ project: 'grp/app', gitlabUrl: SELF });
    expect(result.summary).toBe(`Destroyed project grp/app on ${SELF}: 5 changes.`);
    expect([...fake.state.roles.values()].map((r) => r.name)).toEqual([seed.comRole]);
    // gitlab.com's policy carries the project's default name, which read.ts always looks up: kept.
    expect([...fake.state.policies.keys()]).toEqual([seed.comPolicy]);
    expect([...fake.state.providers.keys()]).toEqual([seed.comProvider]);
    expect(result.plan.resources.map((r) => r.arn)).not.toContain(seed.comPolicy);

    // One instance left: --project alone is unambiguous again.
    const rest = await runDestroy(project({ project: 'grp/app' }), deps(fake));
    expect(rest.summary).toBe('Destroyed project grp/app: 5 changes.');
    expect(fake.state.roles.size + fake.state.policies.size + fake.state.providers.size).toBe(0);
  });

  it('--gitlab-url of an instance without the project changes nothing', async () => {
    await seedTwoInstances(fake);
    const before = fake.mutatingCalls().length;
    const result = await runDestroy(
      project({ project: 'grp/app', gitlabUrl: 'https://other.example.com' }),
      deps(fake),
    );
    expect(result).toMatchObject({ changed: false, plan: { hasChanges: false } });
    expect(result.summary).toBe(
      'Nothing of project grp/app on https://other.example.com left to destroy in account 123456789012.',
    );
    expect(fake.mutatingCalls().length).toBe(before);
  });

  it("a tool policy left by another instance's interrupted destroy counts as that instance", async () => {
    const seed = await seedTwoInstances(fake);
    // The private instance's role is gone; its policy (detached, tagged) is still there.
    fake.state.roles.delete('gitlab-grp-app-self');
    fake.state.providers.delete(seed.selfProvider);
    const selfPolicy = fake.state.policies.get(seed.selfPolicy)!;
    // Found through the project's default name, as read.ts looks it up.
    fake.state.policies.delete(seed.selfPolicy);
    fake.state.policies.delete(seed.comPolicy);
    fake.addPolicy({
      name: defaultPolicyName('grp/app'),
      path: '/gitlab-oidc/',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] },
      tags: selfPolicy.tags,
    });
    fake.state.roles.get(seed.comRole)!.attachedPolicyArns = [];
    const error = await failure(runDestroy(project({ project: 'grp/app' }), deps(fake)));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain(
      `https://gitlab.com (role gitlab-grp-app), ${SELF} (policy ${defaultPolicyName('grp/app')})`,
    );
    // Narrowed to gitlab.com, the other instance's policy is left alone.
    const result = await runDestroy(
      project({ project: 'grp/app', gitlabUrl: 'https://gitlab.com' }),
      deps(fake),
    );
    expect(result.plan.resources.map((r) => `${r.kind} ${r.action}`).sort()).toEqual([
      'oidc-provider delete',
      'role delete',
    ]);
    expect([...fake.state.policies.keys()]).toEqual([seed.comPolicy]);
  });

  it('roles without the gitlab-url tag are an instance of their own, removable with --role', async () => {
    await seedTwoInstances(fake);
    delete fake.state.roles.get('gitlab-grp-app-self')!.tags['gitlab-aws-oidc:gitlab-url'];
    const error = (await failure(runDestroy(project({ project: 'grp/app' }), deps(fake)))) as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain('no gitlab-aws-oidc:gitlab-url tag (role gitlab-grp-app-self)');
    expect(error.hint).toBe(
      'Say which one: --gitlab-url https://gitlab.com. A role without the gitlab-url tag can be removed with --role <name>.',
    );
  });
});

describe('parseDestroyFlags', () => {
  it.each([
    [{}, '--project'],
    [{ project: 'a/b', role: 'r' }, '--role'],
    [{ role: 'r', gitlabUrl: 'https://gitlab.com' }, '--gitlab-url'],
    [{ project: 'a/b', gitlabUrl: 'https://gitlab.com:8443' }, '--gitlab-url'],
    [{ gitlabUrl: 'https://gitlab.com' }, '--project'],
    [{ project: 'a/b', force: true }, '--force'],
    [{ project: 'noslash' }, '--project'],
    [{ project: 'grp/*' }, '--project'],
    [{ role: 'bad role' }, '--role'],
  ])('%o → usage error on %s', (flags, field) => {
    let error: unknown;
    try {
      parseDestroyFlags(flags);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).issues.map((i) => i.field)).toContain(field);
  });

  it('journals with the documented tag key', () => {
    expect(DESTROY_JOURNAL_TAG).toBe('gitlab-aws-oidc:destroying-policies');
  });
});
