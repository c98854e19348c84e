/**
 * `migrate` from the built binary: the fake GitLab over HTTPS (trusted through NODE_EXTRA_CA_CERTS,
 * reached with --gitlab-api-url) and the loopback IAM/STS (AWS_ENDPOINT_URL_IAM/_STS). The secrets and
 * full key IDs never reach stdout or stderr.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertAccessKey,
  insertGroup,
  insertPolicy,
  insertUser,
  makeAccessKeyId,
} from '../helpers/fake-aws-iam.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { cliEnv, type IamServer, ROOT, runCli, startIamServer } from '../helpers/iam-server.js';

const TOKEN = 'glpat-e2e-migrate-000000001';
let base: string;
let gitlab: FakeGitlab;
let server: IamServer;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js')))
    throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  base = mkdtempSync(join(tmpdir(), 'gao-e2e-migrate-'));
  gitlab = await startFakeGitlab();
  server = await startIamServer();
});
afterAll(async () => {
  await Promise.all([gitlab.close(), server.close()]);
  rmSync(base, { recursive: true, force: true });
});

describe('migrate (built binary)', () => {
  it('finds a shared key and another account’s over real HTTPS and the IAM/STS query protocol', async () => {
    insertUser(server.state, { account: server.account, partition: 'aws' }, { name: 'deploy-bot' });
    const key = insertAccessKey(server.state, server.account, 'deploy-bot', {
      lastUsed: { date: new Date('2026-11-01T00:00:00Z'), service: 'ecr', region: 'us-east-1' },
    });
    const foreign = makeAccessKeyId('210987654321');
    const a = gitlab.addProject('acme/a');
    gitlab.addProject('acme/sub/b');
    gitlab.addProjectVariable(a, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    gitlab.addProjectVariable(a, 'AWS_SECRET_ACCESS_KEY', { value: key.secretAccessKey });
    gitlab.addGroupVariable('acme/sub', 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    gitlab.addGroupVariable('acme', 'OLD_KEY', { value: foreign });
    gitlab.addToken(TOKEN, { scopes: ['read_api'], access: { acme: 'owner' } });
    const home = mkdtempSync(join(base, 'home-'));
    const env = cliEnv(server, home, { GITLAB_TOKEN: TOKEN, NODE_EXTRA_CA_CERTS: gitlab.writeCaFile(home) });
    const args = ['migrate', '--group', 'acme', '--gitlab-api-url', gitlab.url];

    const json = await runCli([...args, '--json'], { cwd: home, env }).done;
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ ok: true, command: 'migrate', mode: 'find', account: server.account });
    expect(doc.keys).toMatchObject([
      {
        owner: { kind: 'user', userName: 'deploy-bot' },
        lastUsed: { service: 'ecr' },
        projects: ['acme/a', 'acme/sub/b'],
        shared: true,
      },
      { owner: { kind: 'other-account', account: '210987654321' }, projects: ['acme/a', 'acme/sub/b'] },
    ]);
    expect(server.mutating()).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);

    const table = await runCli(args, { cwd: home, env }).done;
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('key of account 210987654321');
    expect(table.stdout).toContain('SHARED by 2 projects');
    for (const r of [json, table]) {
      for (const secret of [TOKEN, key.accessKeyId, key.secretAccessKey, foreign]) {
        expect(r.stdout).not.toContain(secret);
        expect(r.stderr).not.toContain(secret);
      }
    }
  });

  it("--apply --merge-request --yes: the users' policies read in bulk over the query protocol, a role per project, one MR each; the re-run changes nothing", async () => {
    const scope = { account: server.account, partition: 'aws' };
    const doc = (action: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }],
      });
    const ecr = insertPolicy(server.state, {
      arn: `arn:aws:iam::${server.account}:policy/ecr-push`,
      name: 'ecr-push',
      path: '/',
      documents: [doc('ecr:PutImage')],
      tags: {},
    }).arn;
    insertGroup(server.state, scope, {
      name: 'builders',
      attachedPolicyArns: [ecr],
      inlinePolicies: { logs: JSON.parse(doc('logs:PutLogEvents')) },
    });
    insertUser(server.state, scope, {
      name: 'builder-bot',
      groups: ['builders'],
      inlinePolicies: { s3: JSON.parse(doc('s3:PutObject')) },
    });
    const key = insertAccessKey(server.state, server.account, 'builder-bot');
    const app = gitlab.addProject('shop/app', { files: { '.gitlab-ci.yml': 'build:\n  script: [make]\n' } });
    const api = gitlab.addProject('shop/api', { files: { '.gitlab-ci.yml': 'build:\n  script: [make]\n' } });
    gitlab.addGroupVariable('shop', 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    gitlab.addGroupVariable('shop', 'AWS_SECRET_ACCESS_KEY', { value: key.secretAccessKey, masked: true });
    gitlab.addToken(TOKEN, { scopes: ['api'], access: { shop: 'owner' } });
    const home = mkdtempSync(join(base, 'home-'));
    const env = cliEnv(server, home, { GITLAB_TOKEN: TOKEN, NODE_EXTRA_CA_CERTS: gitlab.writeCaFile(home) });
    const args = [
      'migrate',
      '--group',
      'shop',
      '--gitlab-api-url',
      gitlab.url,
      '--apply',
      '--merge-request',
      '--yes',
    ];

    const first = await runCli([...args, '--json'], { cwd: home, env }).done;
    expect(first.code, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result).toMatchObject({ ok: true, command: 'migrate', mode: 'apply', status: 'applied' });
    expect(
      result.projects.map((p: { path: string; init: { status: string } }) => [p.path, p.init.status]),
    ).toEqual([
      ['shop/api', 'applied'],
      ['shop/app', 'applied'],
    ]);
    for (const name of ['gitlab-shop-api', 'gitlab-shop-app']) {
      const role = server.state.roles.get(name);
      expect(role?.attachedPolicyArns, name).toContain(ecr);
      expect(role?.attachedPolicyArns).toHaveLength(2);
    }
    for (const p of [app, api]) expect(p.mergeRequests.filter((m) => m.state === 'opened')).toHaveLength(1);

    const before = server.mutating().length;
    gitlab.clearCalls();
    const again = await runCli(args, { cwd: home, env }).done;
    expect(again.code, again.stderr).toBe(0);
    expect(server.mutating()).toHaveLength(before);
    expect(gitlab.mutatingCalls()).toEqual([]);
    for (const r of [first, again]) {
      for (const secret of [TOKEN, key.accessKeyId, key.secretAccessKey]) {
        expect(r.stdout).not.toContain(secret);
        expect(r.stderr).not.toContain(secret);
      }
    }
  });

  it('--retire over the wire: without --yes and no terminal exit 2 with nothing changed; with --yes the variables go and the key is deactivated', async () => {
    insertUser(server.state, { account: server.account, partition: 'aws' }, { name: 'old-bot' });
    const key = insertAccessKey(server.state, server.account, 'old-bot', {
      lastUsed: { date: new Date('2026-10-01T00:00:00Z'), service: 's3', region: 'us-east-1' },
    });
    server.state.roles.set('gitlab-depot-api', {
      name: 'gitlab-depot-api',
      path: '/',
      arn: `arn:aws:iam::${server.account}:role/gitlab-depot-api`,
      roleId: 'AROADEPOTAPI',
      trustPolicy: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      maxSessionDuration: 3600,
      tags: { 'managed-by': 'gitlab-aws-oidc', 'gitlab-aws-oidc:project': 'depot/api' },
      attachedPolicyArns: [],
      inlinePolicies: {},
      createDate: new Date('2026-11-01T00:00:00Z'),
      lastUsed: { date: new Date('2026-11-05T00:00:00Z'), region: 'us-east-1' },
    });
    const p = gitlab.addProject('depot/api');
    gitlab.addProjectVariable(p, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    gitlab.addProjectVariable(p, 'AWS_SECRET_ACCESS_KEY', { value: key.secretAccessKey });
    gitlab.addToken(TOKEN, { scopes: ['api'], access: { depot: 'owner' } });
    const home = mkdtempSync(join(base, 'home-'));
    const env = cliEnv(server, home, { GITLAB_TOKEN: TOKEN, NODE_EXTRA_CA_CERTS: gitlab.writeCaFile(home) });
    const args = ['migrate', '--retire', '--group', 'depot', '--gitlab-api-url', gitlab.url];

    // The other tests of this file share the servers: only what this one does counts.
    const before = server.mutating().length;
    const refused = await runCli([...args, '--json'], { cwd: home, env }).done;
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { code: 'USAGE' } });
    const applied = await runCli([...args, '--yes', '--json'], { cwd: home, env }).done;
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({ ok: true, mode: 'retire', changes: 4 });
    expect(server.mutating().slice(before)).toEqual(['TagUser', 'UpdateAccessKey']);
    expect(server.state.users.get('old-bot')?.accessKeys[0]?.status).toBe('Inactive');
    expect(gitlab.project('depot/api')?.variables).toEqual([]);
    const again = await runCli([...args, '--yes'], { cwd: home, env }).done;
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes.');
    for (const r of [refused, applied, again]) {
      for (const secret of [TOKEN, key.accessKeyId, key.secretAccessKey]) {
        expect(r.stdout).not.toContain(secret);
        expect(r.stderr).not.toContain(secret);
      }
    }
  });

  it('--help names the flags, the selection and what --retire needs', async () => {
    const r = await runCli(['migrate', '--help'], { cwd: base, env: cliEnv(server, base) }).done;
    expect(r.code).toBe(0);
    for (const flag of [
      '--project',
      '--group',
      '--config',
      '--include',
      '--exclude',
      '--gitlab-api-url',
      '--gitlab-token-env',
      '--no-aws',
      '--json',
      '--apply',
      '--merge-request',
      '--retire',
      '--delete-keys',
      '--yes',
      '--dry-run',
    ])
      expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('acts on a key only when the switch is');
  });
});
