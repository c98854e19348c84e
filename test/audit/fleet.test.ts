/**
 * `audit --group/--config`: only the roles that trust the selected projects, from the one account
 * read the whole-account audit makes (no per-project or per-role IAM read), findings per project,
 * the selected projects no role trusts, and bad selection input refused before any call.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runAuditCommand } from '../../src/audit/command.js';
import { defaultRoleName } from '../../src/core/naming.js';
import { UsageError } from '../../src/errors.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { callsByAction, gitlabPorts, seedGitlab, seedIam } from '../helpers/fleet-fixture.js';
import { tempDir } from '../init/helpers.js';

let gitlab: FakeGitlab;
let ports: ReturnType<typeof gitlabPorts>;
let fake: FakeAws;
/** IAM calls the seeding made (not the command's). */
let seeded = 0;
beforeAll(async () => {
  gitlab = await startFakeGitlab({ seed: seedGitlab });
  ports = gitlabPorts(gitlab);
});
afterAll(() => gitlab.close());
beforeEach(async () => {
  fake = createFakeAws();
  await seedIam(fake);
  // A hand-made role whose sub admits acme/web and acme/worker (and a typo'd wildcard ref).
  fake.addRole({
    name: 'acme-w-deployer',
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: fake.providerArn('gitlab.com') },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { 'gitlab.com:aud': 'https://gitlab.com' },
            StringLike: { 'gitlab.com:sub': 'project_path:acme/w*:ref_type:branch:ref:*' },
          },
        },
      ],
    },
  });
  seeded = fake.calls().length;
  gitlab.clearCalls();
});
afterEach(async () => {
  fake.restore();
  await ports.closeAll();
});

const run = (flags: Parameters<typeof runAuditCommand>[0], cwd?: string) => {
  const io = captureContext(cwd ? { cwd } : {});
  return { io, done: runAuditCommand(flags, io.context, { gitlab: ports.gitlab }) };
};

describe('audit --group', () => {
  it('lints only the roles that trust the selected projects, per project, with one account read', async () => {
    const { io, done } = run({ group: 'acme', exclude: ['acme/sandbox/**'], json: true });
    await done;
    const doc = JSON.parse(io.out());
    expect(doc).toMatchObject({ ok: true, command: 'audit', scope: 'selection' });
    const roleNames = doc.roles.map((r: { name: string }) => r.name).sort();
    expect(roleNames).toEqual(
      [
        'acme-w-deployer',
        ...['acme/api', 'acme/web', 'acme/worker', 'acme/tools/cli', 'acme/empty'].map(defaultRoleName),
      ].sort(),
    );
    const byProject = Object.fromEntries(
      doc.selection.projects.map((p: { project: string; roles: string[] }) => [p.project, p.roles]),
    );
    expect(Object.keys(byProject)).toEqual([
      'acme/api',
      'acme/docs',
      'acme/empty',
      'acme/tools/cli',
      'acme/tools/lint',
      'acme/web',
      'acme/worker',
    ]);
    expect(byProject['acme/web']).toEqual(['acme-w-deployer', defaultRoleName('acme/web')].sort());
    expect(byProject['acme/api']).toEqual([defaultRoleName('acme/api')]);
    expect(doc.selection.untrusted).toEqual(['acme/docs', 'acme/tools/lint']);
    expect(
      doc.selection.skipped.map((s: { project: string; reason: string }) => `${s.project}: ${s.reason}`),
    ).toEqual(['acme/legacy/old1: archived', 'acme/legacy/old2: archived', 'acme/sandbox/tmp: excluded']);
    // The wildcard ref of the hand-made role is a finding of acme/web and acme/worker, not of acme/api.
    const deployerFindings = doc.findings.filter(
      (f: { target: { id: string } }) => f.target.id === 'acme-w-deployer',
    );
    expect(deployerFindings.length).toBeGreaterThan(0);
    const web = doc.selection.projects.find((p: { project: string }) => p.project === 'acme/web');
    const api = doc.selection.projects.find((p: { project: string }) => p.project === 'acme/api');
    expect(web.findings).toBeGreaterThanOrEqual(deployerFindings.length);
    expect(api.findings).toBe(web.findings - deployerFindings.length);
    // Roles outside the selection (archived, excluded, other group) are not audited.
    expect(roleNames).not.toContain(defaultRoleName('acme/legacy/old1'));
    expect(roleNames).not.toContain(defaultRoleName('other/thing'));
    expect(doc.providers.map((p: { url: string }) => p.url)).toEqual(['gitlab.com']);

    // The same bulk read as the whole-account audit: no GetRole or per-role list, whatever N is.
    expect(callsByAction(fake, seeded)).toEqual({
      GetCallerIdentity: 1,
      ListOpenIDConnectProviders: 1,
      GetOpenIDConnectProvider: 1,
      ListRoles: 1,
      GetAccountAuthorizationDetails: 1,
    });
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('prints a section per project and the projects no role trusts', async () => {
    const { io, done } = run({ group: 'acme' });
    await done;
    const out = io.out();
    expect(out).toContain('Selected 8 projects (group acme), 2 skipped:');
    expect(out).toMatch(/acme\/api {2}role: gitlab-acme-api {2}/);
    expect(out).toMatch(/acme\/web {2}roles: acme-w-deployer, gitlab-acme-web {2}/);
    expect(out).toContain('No role trusts 2 selected projects:\n  acme/docs\n  acme/tools/lint');
    expect(out).toContain('acme/legacy/old1: archived');
  });

  it('--config: the file selects the projects (its include/exclude), one account read', async () => {
    const tmp = tempDir();
    try {
      writeFileSync(
        join(tmp.dir, 'gitlab-aws-oidc.yml'),
        ['version: 1', 'group: acme', 'include: ["acme/tools/**", "acme/api"]', ''].join('\n'),
      );
      const { io, done } = run({ config: 'gitlab-aws-oidc.yml', json: true }, tmp.dir);
      await done;
      const doc = JSON.parse(io.out());
      expect(doc.selection).toMatchObject({ kind: 'config', source: 'gitlab-aws-oidc.yml' });
      expect(doc.roles.map((r: { name: string }) => r.name).sort()).toEqual(
        [defaultRoleName('acme/api'), defaultRoleName('acme/tools/cli')].sort(),
      );
      expect(doc.selection.untrusted).toEqual(['acme/tools/lint']);
      expect(callsByAction(fake, seeded).GetRole).toBeUndefined();
    } finally {
      tmp.cleanup();
    }
  });
});

describe('audit selection: bad input is exit 2 before any GitLab or AWS call', () => {
  const cases: [string, Parameters<typeof runAuditCommand>[0], string][] = [
    ['a group path that is not one', { group: 'acme//x' }, '--group'],
    ['--group with --config', { group: 'acme', config: 'f.yml' }, '--config'],
    ['--include without --group', { include: ['acme/*'] }, '--include'],
    ['an empty glob', { group: 'acme', exclude: [' '] }, '--exclude'],
    ['--group with --role', { group: 'acme', role: 'r' }, '--role'],
    ['--group with --policy-file', { group: 'acme', policyFile: 'trust.json' }, '--policy-file'],
    ['--config that does not exist', { config: 'missing.yml' }, 'missing.yml'],
  ];
  for (const [name, flags, field] of cases) {
    it(name, async () => {
      const { done } = run(flags);
      const error = await done.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(2);
      expect(JSON.stringify([(error as UsageError).message, (error as UsageError).issues])).toContain(field);
      expect(fake.calls().length).toBe(seeded);
      expect(gitlab.calls).toEqual([]);
    });
  }
});
