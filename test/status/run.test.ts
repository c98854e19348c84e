import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultPolicyName, defaultRoleName } from '../../src/core/naming.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { parseDestroyFlags } from '../../src/destroy/options.js';
import { runDestroy } from '../../src/destroy/run.js';
import { createPalette } from '../../src/io/colors.js';
import { formatStatus } from '../../src/status/format.js';
import { parseStatusFlags } from '../../src/status/options.js';
import { runStatus } from '../../src/status/run.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { dropRecord, initProject, recordAsWritten } from './init-helper.js';

let fake: FakeAws;
beforeEach(() => {
  fake = createFakeAws({ pageSize: 3 });
  fake.addPolicy({
    name: 'ReadOnlyAccess',
    awsManaged: true,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }] },
  });
});
afterEach(() => fake.restore());

const status = (flags: Parameters<typeof parseStatusFlags>[0] = {}) =>
  runStatus(parseStatusFlags(flags), { aws: () => fake.ports });

describe('runStatus', () => {
  it('shows what init created, in sync, with what each role trusts', async () => {
    await initProject(fake, {
      project: 'acme/web',
      refs: [
        { type: 'branch', pattern: 'main' },
        { type: 'tag', pattern: 'v*' },
      ],
      projectId: '4242',
      protectedOnly: true,
      managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    });
    await initProject(fake, { project: 'acme/api', withPolicy: false });
    recordAsWritten(fake, defaultRoleName('acme/web'));
    recordAsWritten(fake, defaultRoleName('acme/api'));
    fake.addRole({ name: 'not-ours', trustPolicy: { Version: '2012-10-17', Statement: [] } });

    const report = await status();
    expect(
      fake
        .mutatingCalls()
        .filter(
          (c) =>
            ![
              'CreateOpenIDConnectProvider',
              'CreatePolicy',
              'CreateRole',
              'AttachRolePolicy',
              'TagRole',
            ].includes(c),
        ),
    ).toEqual([]);
    expect(report.providers).toEqual([
      expect.objectContaining({
        url: 'gitlab.com',
        managedByTool: true,
        trustedBy: [defaultRoleName('acme/api'), defaultRoleName('acme/web')],
      }),
    ]);
    expect(report.roles.map((r) => r.project)).toEqual(['acme/api', 'acme/web']);
    const web = report.roles[1]!;
    expect(web.drift).toEqual([]);
    expect(web.findings).toEqual([]);
    expect(web.trust).toMatchObject({
      subjects: [
        { project: 'acme/web', refType: 'branch', ref: 'main' },
        { project: 'acme/web', refType: 'tag', ref: 'v*' },
      ],
      audiences: ['https://gitlab.com'],
      projectIds: ['4242'],
      protectedOnly: true,
    });
    expect(web.policies).toEqual(
      expect.arrayContaining([
        {
          arn: fake.policyArn(defaultPolicyName('acme/web'), '/gitlab-oidc/'),
          name: defaultPolicyName('acme/web'),
          toolManaged: true,
          origin: 'tool',
        },
        {
          arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
          name: 'ReadOnlyAccess',
          toolManaged: false,
          origin: 'tool',
        },
      ]),
    );
    expect(report.summary).toEqual({ roles: 2, drifted: 0, unrecorded: 0, withFindings: 0 });
    const text = formatStatus(report, createPalette(0)).join('\n');
    expect(text).toContain(
      'trusts:   branch main, tag v*  (project_id 4242; protected refs only; aud https://gitlab.com)',
    );
    expect(text).toContain('✓ unchanged since gitlab-aws-oidc last wrote it');
    expect(text).not.toContain('in sync');

    const only = await status({ project: 'acme/api' });
    expect(only.roles.map((r) => r.name)).toEqual([defaultRoleName('acme/api')]);
  });

  it('reports drift: hand-edited trust, detached tool policy, deleted provider', async () => {
    const desired = await initProject(fake, { project: 'acme/web' });
    // Without a record (an older version's role): found by rebuilding what init writes.
    dropRecord(fake, desired.role.name);
    const role = fake.state.roles.get(desired.role.name.toLowerCase())!;
    const edited = JSON.parse(role.trustPolicy) as PolicyDocument & {
      Statement: { Condition: Record<string, Record<string, string>> }[];
    };
    delete edited.Statement[0]!.Condition.StringEquals!['gitlab.com:sub'];
    edited.Statement[0]!.Condition.StringLike = { 'gitlab.com:sub': 'project_path:acme/*' };
    role.trustPolicy = JSON.stringify(edited);
    role.attachedPolicyArns = [];

    const report = await status();
    const drift = report.roles[0]!.drift;
    expect(drift.map((d) => d.what).sort()).toEqual(['policy', 'trust-policy']);
    expect(drift.find((d) => d.what === 'trust-policy')?.message).toMatch(/not in the form init writes/);
    expect(report.roles[0]!.findings.map((f) => f.ruleId).sort()).toEqual(['GAO008', 'GAO009']);

    fake.state.providers.clear();
    const gone = await status();
    expect(gone.roles[0]!.drift.map((d) => d.message)).toContainEqual(
      expect.stringMatching(/no longer exists/),
    );
  });

  it('reports a changed ref as a diff against what init would write', async () => {
    const desired = await initProject(fake, { project: 'acme/web' });
    const role = fake.state.roles.get(desired.role.name.toLowerCase())!;
    const doc = JSON.parse(role.trustPolicy);
    doc.Statement[0].Condition.StringEquals['gitlab.com:sub'] = [
      'project_path:acme/web:ref_type:branch:ref:main',
    ];
    doc.Statement[0].Condition.StringEquals['gitlab.com:user_login'] = 'alice';
    role.trustPolicy = JSON.stringify(doc);
    const [r] = (await status()).roles;
    expect(r!.drift).toHaveLength(1);
    expect(r!.drift[0]).toMatchObject({ what: 'trust-policy' });
    expect(r!.drift[0]!.diff?.join('\n')).toMatch(/^- .*user_login/m);
  });

  it('--project shows a path on every GitLab instance, each role naming its own; --gitlab-url narrows', async () => {
    const SELF = 'https://gitlab.example.com';
    await initProject(fake, { project: 'grp/app', withPolicy: false });
    await initProject(fake, {
      project: 'grp/app',
      gitlabUrl: SELF,
      roleName: 'gitlab-grp-app-self',
      policyName: 'gitlab-grp-app-self-permissions',
    });
    await initProject(fake, { project: 'grp/other', gitlabUrl: SELF, withPolicy: false });

    const both = await status({ project: 'grp/app' });
    expect(both.roles.map((r) => [r.name, r.gitlabUrl])).toEqual([
      ['gitlab-grp-app', 'https://gitlab.com'],
      ['gitlab-grp-app-self', SELF],
    ]);
    expect(both.providers.map((p) => p.url)).toEqual(['gitlab.com', 'gitlab.example.com']);
    const text = formatStatus(both, createPalette(0));
    expect(text).toContain('  gitlab-grp-app  project grp/app on https://gitlab.com');
    expect(text).toContain(`  gitlab-grp-app-self  project grp/app on ${SELF}`);
    expect(text).toContain(
      `note: project grp/app has roles on 2 GitLab instances (https://gitlab.com, ${SELF}): they are different projects; pass --gitlab-url to destroy one of them.`,
    );

    // Written the way a user might: upper case, trailing slash.
    const one = await status({ project: 'grp/app', gitlabUrl: 'https://GitLab.example.com/' });
    expect(one.gitlabUrl).toBe(SELF);
    expect(one.roles.map((r) => r.name)).toEqual(['gitlab-grp-app-self']);
    expect(one.roles[0]!.policies).toEqual([
      expect.objectContaining({ name: 'gitlab-grp-app-self-permissions', toolManaged: true }),
    ]);
    expect(one.providers.map((p) => p.url)).toEqual(['gitlab.example.com']);
    const oneText = formatStatus(one, createPalette(0));
    expect(oneText[0]).toBe(
      `Managed by gitlab-aws-oidc in account 123456789012 for project grp/app on ${SELF}`,
    );
    expect(oneText.join('\n')).not.toContain('note:');

    const instance = await status({ gitlabUrl: SELF });
    expect(instance.roles.map((r) => r.name)).toEqual(['gitlab-grp-app-self', defaultRoleName('grp/other')]);
    expect(instance.providers.map((p) => p.url)).toEqual(['gitlab.example.com']);

    const none = await status({ project: 'grp/app', gitlabUrl: 'https://other.example.com' });
    expect(formatStatus(none, createPalette(0))).toEqual([
      'Nothing managed by gitlab-aws-oidc for project grp/app on https://other.example.com in account 123456789012.',
    ]);
  });

  it('says so when nothing is managed', async () => {
    const report = await status();
    expect(report.roles).toEqual([]);
    expect(formatStatus(report, createPalette(0))).toEqual([
      'Nothing managed by gitlab-aws-oidc in account 123456789012.',
    ]);
  });
});

describe('init → destroy round trip', () => {
  it('destroy removes exactly what init created for the project', async () => {
    await initProject(fake, {
      project: 'acme/web',
      managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    });
    await initProject(fake, { project: 'acme/api' });
    const before = {
      providers: fake.state.providers.size,
      roles: fake.state.roles.size,
      policies: fake.state.policies.size,
    };
    await runDestroy(parseDestroyFlags({ project: 'acme/web', yes: true }), { aws: () => fake.ports });
    expect({
      providers: fake.state.providers.size,
      roles: fake.state.roles.size,
      policies: fake.state.policies.size,
    }).toEqual({
      providers: before.providers, // still trusted by acme/api
      roles: before.roles - 1,
      policies: before.policies - 1,
    });
    await runDestroy(parseDestroyFlags({ project: 'acme/api', yes: true }), { aws: () => fake.ports });
    expect(fake.state.providers.size).toBe(0);
    expect(fake.state.roles.size).toBe(0);
    expect([...fake.state.policies.keys()].filter((a) => !a.includes(':iam::aws:'))).toEqual([]);
    const report = await status();
    expect(report.roles).toEqual([]);
  });
});
