/**
 * `migrate` (find) in-process: the real GitLab client against the loopback fake GitLab (project and
 * group variables, hidden ones, a group the token may not read) and the in-memory IAM/STS (users, keys
 * with last use, a key of another account). Every run's stdout, stderr and --json document are
 * checked for secrets and full key IDs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitlabClient, type GitlabClient } from '../../src/gitlab/api/client.js';
import { runMigrateCommand } from '../../src/migrate/command.js';
import type { RawMigrateFlags } from '../../src/migrate/options.js';
import type { MigrateFindReport } from '../../src/migrate/report.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';

const TOKEN = 'glpat-migrate-reader-0001';
const OTHER_ACCOUNT = '210987654321';

let gitlab: FakeGitlab;
let aws: FakeAws;
const clients: GitlabClient[] = [];
/** Values that must never appear in any output. */
let secrets: string[];

beforeAll(async () => {
  gitlab = await startFakeGitlab();
});
afterAll(() => gitlab.close());
beforeEach(() => {
  aws = createFakeAws();
  secrets = [TOKEN];
});
afterEach(async () => {
  aws.restore();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  gitlab.reset();
});

function port(token: string | undefined = TOKEN): GitlabClient {
  const c = createGitlabClient({
    baseUrl: gitlab.url,
    token,
    tokenSource: 'GITLAB_TOKEN',
    ca: gitlab.caPem,
    env: {},
  });
  clients.push(c);
  return c;
}

/** Runs the command; asserts no secret reached stdout or stderr; returns the streams (and the document). */
async function run(flags: RawMigrateFlags, options: { aws?: boolean; cwd?: string } = {}) {
  const { context, out, err } = captureContext(options.cwd ? { cwd: options.cwd } : {});
  const gl = port();
  const failure = await runMigrateCommand(flags, context, {
    gitlab: async () => gl,
    ...(options.aws === false ? {} : { aws: async () => aws.ports }),
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  for (const secret of secrets) {
    expect(out(), 'stdout').not.toContain(secret);
    expect(err(), 'stderr').not.toContain(secret);
  }
  const doc = flags.json ? (JSON.parse(out()) as MigrateFindReport & Record<string, unknown>) : undefined;
  return { out: out(), err: err(), doc, failure };
}

/** A user with a key (its ID and secret are recorded as must-never-appear). */
function userKey(name: string, lastUsed?: { date: Date; service: string; region: string }) {
  if (!aws.state.users.has(name)) aws.addUser({ name });
  const key = aws.addAccessKey(name, lastUsed ? { lastUsed } : {});
  secrets.push(key.accessKeyId, key.secretAccessKey);
  return key;
}

function foreignKey() {
  const id = aws.foreignAccessKeyId(OTHER_ACCOUNT);
  secrets.push(id);
  return id;
}

function secret(value: string) {
  secrets.push(value);
  return value;
}

describe('migrate (find)', () => {
  it('reports project and group keys, the winner, a shared key, another account, a hidden variable and an unreadable group', async () => {
    const deploy = userKey('deploy-bot', {
      date: new Date('2026-11-20T10:00:00Z'),
      service: 's3',
      region: 'eu-west-1',
    });
    const ops = userKey('ops');
    const foreign = foreignKey();
    gitlab.addGroup('acme/platform');
    const api = gitlab.addProject('acme/platform/api');
    const web = gitlab.addProject('acme/platform/web');
    const jobs = gitlab.addProject('acme/platform/jobs');
    const dark = gitlab.addProject('acme/platform/dark');
    gitlab.addProject('acme/platform/old', { archived: true });
    gitlab.addProjectVariable(api, 'AWS_ACCESS_KEY_ID', { value: deploy.accessKeyId });
    gitlab.addProjectVariable(api, 'AWS_SECRET_ACCESS_KEY', { value: deploy.secretAccessKey, masked: true });
    gitlab.addProjectVariable(web, 'AWS_ACCESS_KEY_ID', { value: deploy.accessKeyId, protected: true });
    gitlab.addProjectVariable(web, 'AWS_SECRET_ACCESS_KEY', { value: deploy.secretAccessKey, hidden: true });
    gitlab.addProjectVariable(jobs, 'DEPLOY_CREDENTIALS', {
      value: `[default]\naws_access_key_id = ${ops.accessKeyId}\naws_secret_access_key = ${ops.secretAccessKey}\n`,
      variableType: 'file',
    });
    gitlab.addProjectVariable(dark, 'AWS_ACCESS_KEY_ID', { value: deploy.accessKeyId, hidden: true });
    gitlab.addProjectVariable(api, 'UNRELATED', { value: secret('not-a-credential-value') });
    // Group level: a key every project without its own gets (shadowed in api and web).
    gitlab.addGroupVariable('acme/platform', 'AWS_ACCESS_KEY_ID', { value: foreign });
    gitlab.addGroupVariable('acme/platform', 'AWS_SECRET_ACCESS_KEY', {
      value: secret('foreignSecretValue/abcdefghijklmnopqrstuv'),
    });
    // The top group: not readable with a token that is Owner of acme/platform only.
    gitlab.addGroupVariable('acme', 'AWS_SESSION_TOKEN', {
      value: secret('FwoGZXIvYXdzEBQaDtopgroupsession'),
    });
    gitlab.addToken(TOKEN, {
      scopes: ['read_api'],
      access: { acme: 'maintainer', 'acme/platform': 'owner' },
    });

    const { doc, out, failure } = await run({ group: 'acme', json: true });
    expect(failure).toBeUndefined();
    expect(doc).toMatchObject({ ok: true, command: 'migrate', mode: 'find', account: aws.account });
    const report = doc as MigrateFindReport;
    expect(report.projects.map((p) => p.path)).toEqual([
      'acme/platform/api',
      'acme/platform/dark',
      'acme/platform/jobs',
      'acme/platform/web',
    ]);
    expect(report.skipped).toEqual([{ path: 'acme/platform/old', reason: 'archived' }]);

    const byPath = Object.fromEntries(report.projects.map((p) => [p.path, p]));
    const k = (masked: string) => report.keys.find((key) => key.keyId === masked);
    const mask = (id: string) => `${id.slice(0, 4)}…${id.slice(-4)}`;
    const deployKey = k(mask(deploy.accessKeyId));
    const opsKey = k(mask(ops.accessKeyId));
    const foreignReported = k(mask(foreign));

    // api: its own key wins over the group's.
    const apiVars = byPath['acme/platform/api']!.variables;
    expect(apiVars.map((v) => [v.key, v.source, v.value, v.inEffect, v.shadowedBy])).toEqual([
      ['AWS_ACCESS_KEY_ID', 'project', 'key-id', true, undefined],
      ['AWS_SECRET_ACCESS_KEY', 'project', 'secret', true, undefined],
      ['AWS_ACCESS_KEY_ID', 'group', 'key-id', false, 'project variable'],
      ['AWS_SECRET_ACCESS_KEY', 'group', 'secret', false, 'project variable'],
    ]);
    expect(byPath['acme/platform/api']!.keys).toEqual([deployKey!.ref]);
    // The top group's variables could not be read: reported, not fatal.
    expect(byPath['acme/platform/api']!.unreadable).toEqual([
      {
        source: 'group',
        path: 'acme',
        reason: 'not readable with this token (needs the Owner role on the group)',
      },
    ]);
    // web: the secret is hidden, reported by name.
    expect(
      byPath['acme/platform/web']!.variables.find(
        (v) => v.key === 'AWS_SECRET_ACCESS_KEY' && v.source === 'project',
      ),
    ).toMatchObject({ value: 'hidden', hidden: true, inEffect: true });
    // dark: a hidden key ID cannot be resolved; the group's key is shadowed by it.
    expect(byPath['acme/platform/dark']!.hiddenCredentials).toBe(true);
    expect(byPath['acme/platform/dark']!.keys).toEqual([]);
    // jobs: a file variable holding a key ID; the group's foreign key reaches its jobs.
    expect(byPath['acme/platform/jobs']!.variables[0]).toMatchObject({
      key: 'DEPLOY_CREDENTIALS',
      kind: 'holds-key-id',
      variableType: 'file',
      keyIds: [mask(ops.accessKeyId)],
    });
    expect(byPath['acme/platform/jobs']!.keys.sort()).toEqual([opsKey!.ref, foreignReported!.ref].sort());

    // Keys: the shared one, with its user and last use; the other account's; a never used one.
    expect(deployKey).toMatchObject({
      type: 'long-lived',
      owner: { kind: 'user', userName: 'deploy-bot', status: 'Active' },
      lastUsed: { date: '2026-11-20T10:00:00.000Z', service: 's3', region: 'eu-west-1' },
      projects: ['acme/platform/api', 'acme/platform/web'],
      shadowedIn: [],
      shared: true,
    });
    expect(opsKey).toMatchObject({ owner: { kind: 'user', userName: 'ops' }, lastUsed: {}, shared: false });
    expect(foreignReported).toMatchObject({
      owner: { kind: 'other-account', account: OTHER_ACCOUNT },
      projects: ['acme/platform/jobs'],
      shadowedIn: ['acme/platform/api', 'acme/platform/dark', 'acme/platform/web'],
    });
    expect(report.incomplete).toEqual([]);
    expect(out).not.toContain('not-a-credential-value');

    // Read in bulk: one ListUsers, one ListAccessKeys per user, one GetAccessKeyLastUsed per key of
    // this account, one GetAccessKeyInfo for the other account's; nothing changed.
    const calls = aws.calls().map((c) => c.command);
    expect(calls.filter((c) => c === 'ListUsers')).toHaveLength(1);
    expect(calls.filter((c) => c === 'ListAccessKeys')).toHaveLength(2);
    expect(calls.filter((c) => c === 'GetAccessKeyLastUsed')).toHaveLength(2);
    expect(calls.filter((c) => c === 'GetAccessKeyInfo')).toHaveLength(1);
    expect(aws.mutatingCalls()).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);
    // Each group's variables are read once for the four projects.
    expect(gitlab.callsByRoute()['GET /groups/:id/variables']).toBe(2);
  });

  it('prints a table with masked key IDs, the owner, the last use and the shared mark', async () => {
    const deploy = userKey('deploy-bot', {
      date: new Date('2026-11-20T10:00:00Z'),
      service: 's3',
      region: 'eu-west-1',
    });
    const a = gitlab.addProject('acme/a');
    const b = gitlab.addProject('acme/b');
    gitlab.addProjectVariable(a, 'AWS_ACCESS_KEY_ID', { value: deploy.accessKeyId });
    gitlab.addProjectVariable(b, 'AWS_ACCESS_KEY_ID', { value: deploy.accessKeyId });
    gitlab.addProjectVariable(b, 'AWS_SECRET_ACCESS_KEY', { value: deploy.secretAccessKey });
    gitlab.addToken(TOKEN, { scopes: ['read_api'], access: { acme: 'owner' } });

    const { out, err, failure } = await run({ project: ['acme/a', 'acme/b'] });
    expect(failure).toBeUndefined();
    const masked = `${deploy.accessKeyId.slice(0, 4)}…${deploy.accessKeyId.slice(-4)}`;
    expect(out).toContain(
      `GitLab https://gitlab.com, AWS account ${aws.account}: 2 projects, 1 access key (1 shared).`,
    );
    expect(out).toMatch(
      new RegExp(`AWS_ACCESS_KEY_ID\\s+project\\s+scope \\*\\s+${masked} \\(k1\\)\\s+in effect`),
    );
    expect(out).toContain('AWS_SECRET_ACCESS_KEY  project  scope *  secret (not shown)');
    expect(out).toContain(
      `k1  ${masked}  long-lived  IAM user deploy-bot (Active)  last used 2026-11-20 s3 eu-west-1`,
    );
    expect(out).toContain('used by: acme/a, acme/b  SHARED by 2 projects');
    expect(err).toContain('Reading IAM users and their access keys');
  });

  it('--no-aws reads GitLab only: no AWS call, keys unresolved', async () => {
    const id = foreignKey();
    const p = gitlab.addProject('acme/a');
    gitlab.addProjectVariable(p, 'AWS_ACCESS_KEY_ID', { value: id });
    gitlab.addToken(TOKEN, { scopes: ['read_api'], access: { acme: 'owner' } });
    const { doc } = await run({ project: ['acme/a'], aws: false, json: true });
    expect(doc?.account).toBeUndefined();
    expect(doc?.keys[0]?.owner).toEqual({ kind: 'unknown', reason: 'not resolved (--no-aws)' });
    expect(aws.calls()).toEqual([]);
  });

  it('a key of this account that no user holds is named as not found; ListUsers refused is incomplete, not fatal', async () => {
    const gone = aws.addUser({ name: 'gone' });
    const key = userKey('gone');
    aws.state.users.delete(gone.name);
    const p = gitlab.addProject('acme/a');
    gitlab.addProjectVariable(p, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    gitlab.addToken(TOKEN, { scopes: ['read_api'], access: { acme: 'owner' } });
    const first = await run({ project: ['acme/a'], json: true });
    expect(first.doc?.keys[0]?.owner).toEqual({ kind: 'not-found', account: aws.account });

    aws.failNext('ListUsers', 'AccessDenied');
    const second = await run({ project: ['acme/a'], json: true });
    expect(second.doc?.keys[0]?.owner).toEqual({
      kind: 'unknown',
      reason: 'a key of this account; its user could not be read',
    });
    expect(second.doc?.incomplete[0]?.resource).toBe('IAM users (iam:ListUsers)');
  });

  it('a project whose variables the token cannot read is reported, the run goes on', async () => {
    const key = userKey('deploy-bot');
    const a = gitlab.addProject('acme/a');
    const b = gitlab.addProject('acme/b');
    gitlab.addProjectVariable(a, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    gitlab.addProjectVariable(b, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    gitlab.addToken(TOKEN, {
      scopes: ['read_api'],
      access: { 'acme/a': 'developer', 'acme/b': 'maintainer' },
    });
    const { doc, out, failure } = await run({ project: ['acme/a', 'acme/b'], json: true });
    expect(failure).toBeUndefined();
    expect(doc?.projects[0]?.unreadable).toEqual([
      {
        source: 'project',
        path: 'acme/a',
        reason: 'not readable with this token (needs the Maintainer role on the project)',
      },
      {
        source: 'group',
        path: 'acme',
        reason: 'not readable with this token (needs the Owner role on the group)',
      },
    ]);
    expect(doc?.keys[0]?.projects).toEqual(['acme/b']);
    expect(out).toContain('"mode": "find"');
  });

  it('an IAM error that echoes the key ID is masked in the report', async () => {
    const key = userKey('deploy-bot');
    const p = gitlab.addProject('acme/a');
    gitlab.addProjectVariable(p, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    gitlab.addToken(TOKEN, { scopes: ['read_api'], access: { acme: 'owner' } });
    aws.failNext('GetAccessKeyLastUsed', 'AccessDenied', `not authorized for access key ${key.accessKeyId}`);
    const { doc } = await run({ project: ['acme/a'], json: true });
    expect(doc?.incomplete[0]?.error).toContain('<redacted>');
  });

  it('says per key whether --retire could retire it: ready only when every project switched and the key is unused since', async () => {
    const trust = { Version: '2012-10-17' as const, Statement: [] };
    const toolRole = (project: string, lastUsed?: string) => {
      const name = `gitlab-${project.replace(/\//g, '-')}`;
      aws.addRole({
        name,
        trustPolicy: trust,
        tags: { 'managed-by': 'gitlab-aws-oidc', 'gitlab-aws-oidc:project': project },
        ...(lastUsed ? { lastUsed: { date: new Date(lastUsed), region: 'eu-west-1' } } : {}),
      });
      aws.state.roles.get(name)!.createDate = new Date('2026-11-01T00:00:00Z');
    };
    const old = userKey('old-bot', {
      date: new Date('2026-10-15T00:00:00Z'),
      service: 's3',
      region: 'eu-west-1',
    });
    const shared = userKey('shared-bot', {
      date: new Date('2026-10-15T00:00:00Z'),
      service: 's3',
      region: 'eu-west-1',
    });
    const a = gitlab.addProject('acme/a');
    const b = gitlab.addProject('acme/b');
    gitlab.addProjectVariable(a, 'AWS_ACCESS_KEY_ID', { value: old.accessKeyId });
    gitlab.addProjectVariable(a, 'MIRROR_KEY', { value: shared.accessKeyId });
    gitlab.addProjectVariable(b, 'MIRROR_KEY', { value: shared.accessKeyId });
    gitlab.addToken(TOKEN, { scopes: ['read_api'], access: { acme: 'owner' } });
    toolRole('acme/a', '2026-11-10T00:00:00Z');
    toolRole('acme/b');

    const { doc, out } = await run({ group: 'acme', json: true });
    const byUser = (u: string) => doc?.keys.find((k) => k.owner.kind === 'user' && k.owner.userName === u);
    expect(byUser('old-bot')?.retire).toEqual({ ready: true, reasons: [] });
    expect(byUser('shared-bot')?.retire).toEqual({
      ready: false,
      reasons: [
        'role gitlab-acme-b of acme/b has not been used since it was created (2026-11-01): the switch is not proven',
      ],
    });
    expect(out).not.toContain('gitlab-aws-oidc:deactivated:');
    expect(aws.mutatingCalls()).toEqual([]);
    const table = await run({ group: 'acme' });
    expect(table.out).toContain('retire: ready (the switch to OIDC is proven)');
    expect(table.out).toContain('retire: not yet\n        - role gitlab-acme-b of acme/b has not been used');
  });

  it('the retire readiness judges a group variable as --retire does: the group counts when every project of it was read', async () => {
    const key = userKey('group-bot', {
      date: new Date('2026-10-15T00:00:00Z'),
      service: 's3',
      region: 'eu-west-1',
    });
    gitlab.addGroup('acme/solo');
    gitlab.addProject('acme/solo/api');
    gitlab.addGroupVariable('acme/solo', 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    gitlab.addToken(TOKEN, { scopes: ['read_api'], access: { acme: 'owner' } });
    aws.addRole({
      name: 'gitlab-acme-solo-api',
      trustPolicy: { Version: '2012-10-17', Statement: [] },
      tags: { 'managed-by': 'gitlab-aws-oidc', 'gitlab-aws-oidc:project': 'acme/solo/api' },
      lastUsed: { date: new Date('2026-11-10T00:00:00Z'), region: 'eu-west-1' },
    });
    aws.state.roles.get('gitlab-acme-solo-api')!.createDate = new Date('2026-11-01T00:00:00Z');
    const { doc } = await run({ project: ['acme/solo/api'], json: true });
    expect(doc?.keys[0]?.retire).toEqual({ ready: true, reasons: [] });
    gitlab.addProject('acme/solo/web');
    const { doc: more } = await run({ project: ['acme/solo/api'], json: true });
    expect(more?.keys[0]?.retire?.ready).toBe(false);
  });

  it('a project in a user namespace has no group level; a GitLab error other than 403 ends the run (exit 1)', async () => {
    const key = userKey('deploy-bot');
    gitlab.addProject('user:alice/tool');
    gitlab.addProjectVariable('alice/tool', 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    gitlab.addToken(TOKEN, { scopes: ['read_api'], access: { 'alice/tool': 'maintainer' } });
    const { doc } = await run({ project: ['alice/tool'], json: true });
    expect(doc?.projects[0]).toMatchObject({ path: 'alice/tool', unreadable: [], keys: ['k1'] });
    expect(gitlab.callsByRoute()['GET /groups/:id/variables']).toBeUndefined();

    gitlab.fault({
      path: '/projects/:id/variables',
      status: 404,
      body: { message: '404 Project Not Found' },
    });
    const failed = await run({ project: ['alice/tool'] });
    expect(failed.failure).toMatchObject({ code: 'GITLAB_NOT_FOUND', exitCode: 1 });
  });

  it('the fleet selection: --config (its group, its path entries, its exclude) and --group with --exclude, skipped projects listed', async () => {
    const key = userKey('deploy-bot');
    for (const path of ['acme/a', 'acme/legacy/old', 'other/tool']) {
      const p = gitlab.addProject(path);
      gitlab.addProjectVariable(p, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    }
    gitlab.addProject('acme/archived', { archived: true });
    gitlab.addToken(TOKEN, { scopes: ['read_api'], access: { acme: 'owner', other: 'owner' } });
    const dir = mkdtempSync(join(tmpdir(), 'gao-migrate-config-'));
    try {
      writeFileSync(
        join(dir, 'gitlab-aws-oidc.yml'),
        "version: 1\ngroup: acme\nexclude: ['acme/legacy/**']\ndefaults:\n  refs: { branches: [main] }\nprojects:\n  - path: other/tool\n",
      );
      const fromConfig = await run({ config: 'gitlab-aws-oidc.yml', json: true }, { cwd: dir });
      expect(fromConfig.failure).toBeUndefined();
      expect(fromConfig.doc?.projects.map((p) => p.path)).toEqual(['acme/a', 'other/tool']);
      expect(fromConfig.doc?.skipped).toEqual([
        { path: 'acme/archived', reason: 'archived' },
        { path: 'acme/legacy/old', reason: 'excluded by "acme/legacy/**"' },
      ]);
      // other/tool, which GitLab did not list for the group, is read by path; acme/a costs no call.
      expect(gitlab.callsByRoute()['GET /projects/:id']).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const grouped = await run({ group: 'acme', include: ['acme/legacy/**'], json: true });
    expect(grouped.doc?.projects.map((p) => p.path)).toEqual(['acme/legacy/old']);
    expect(grouped.doc?.skipped.map((s) => s.path)).toEqual(['acme/a', 'acme/archived']);
  });

  it('a config file naming another GitLab instance is exit 2 naming --gitlab-url, before any GitLab or AWS call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gao-migrate-config-'));
    try {
      writeFileSync(
        join(dir, 'c.yml'),
        'version: 1\ngitlabUrl: https://gitlab.example.com\nprojects:\n  - path: acme/a\n    refs: { branches: [main] }\n',
      );
      const { failure } = await run({ config: 'c.yml' }, { cwd: dir });
      expect(failure).toMatchObject({ exitCode: 2 });
      expect((failure as { issues: { field: string }[] }).issues.map((x) => x.field)).toEqual([
        '--gitlab-url',
      ]);
      expect(gitlab.calls).toEqual([]);
      expect(aws.calls()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no --project or --group is a usage error naming the flags, before any call', async () => {
    const { failure } = await run({});
    expect(failure).toMatchObject({ exitCode: 2 });
    expect((failure as { issues: { field: string }[] }).issues.map((x) => x.field)).toEqual(['--project']);
    expect(gitlab.calls).toEqual([]);
    expect(aws.calls()).toEqual([]);
  });
});
