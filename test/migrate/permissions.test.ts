/**
 * migrate's IAM/STS permissions: the port methods a find run calls are exactly the ones declared
 * for it, and every API call that reached the (fake) wire is in REQUIRED_PERMISSIONS.migrate.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { COMMAND_PORT_METHODS, REQUIRED_PERMISSIONS } from '../../src/aws/permissions.js';
import type { AwsPorts } from '../../src/aws/ports.js';
import { createGitlabClient } from '../../src/gitlab/api/client.js';
import { parseMigrateFlags } from '../../src/migrate/options.js';
import { runMigrateRetire } from '../../src/migrate/retire-run.js';
import { runMigrateFind } from '../../src/migrate/run.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';

let gitlab: FakeGitlab;
let aws: FakeAws;
beforeAll(async () => {
  gitlab = await startFakeGitlab();
});
afterAll(() => gitlab.close());
afterEach(() => aws.restore());

function recording<T extends object>(port: T, into: Set<string>): T {
  return new Proxy(port, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        into.add(String(key));
        return value.apply(target, args);
      };
    },
  });
}

it('a find run calls exactly the declared port methods, and only permitted actions', async () => {
  aws = createFakeAws({ pageSize: 1 });
  aws.addUser({ name: 'a' });
  aws.addUser({ name: 'b' });
  const mine = aws.addAccessKey('a');
  const foreign = aws.foreignAccessKeyId('999988887777');
  const p = gitlab.addProject('grp/app');
  gitlab.addProjectVariable(p, 'AWS_ACCESS_KEY_ID', { value: mine.accessKeyId });
  gitlab.addGroupVariable('grp', 'AWS_ACCESS_KEY_ID', { value: foreign, environmentScope: 'prod' });
  gitlab.addToken('glpat-perm', { access: { grp: 'owner' } });
  const iam = new Set<string>();
  const sts = new Set<string>();
  const ports: AwsPorts = { iam: recording(aws.ports.iam, iam), sts: recording(aws.ports.sts, sts) };
  const client = createGitlabClient({ baseUrl: gitlab.url, token: 'glpat-perm', ca: gitlab.caPem, env: {} });
  try {
    await runMigrateFind(parseMigrateFlags({ project: ['grp/app'] }), {
      gitlab: async () => client,
      aws: async () => ports,
    });
  } finally {
    await client.close();
  }
  expect([...iam].sort()).toEqual([...COMMAND_PORT_METHODS.migrate.iam].sort());
  expect([...sts].sort()).toEqual([...COMMAND_PORT_METHODS.migrate.sts].sort());
  const sent = [...new Set(aws.calls().map((c) => c.command))].map((c) =>
    c.startsWith('GetCallerIdentity') || c === 'GetAccessKeyInfo' ? `sts:${c}` : `iam:${c}`,
  );
  expect(sent.filter((a) => !REQUIRED_PERMISSIONS.migrate.includes(a))).toEqual([]);
  expect(REQUIRED_PERMISSIONS.migrate).toEqual([
    'iam:GetAccessKeyLastUsed',
    'iam:GetAccountAuthorizationDetails',
    'iam:ListAccessKeys',
    'iam:ListUsers',
    'sts:GetAccessKeyInfo',
    'sts:GetCallerIdentity',
  ]);
});

it('a --retire run, then --delete-keys, call exactly the declared port methods, and only permitted actions', async () => {
  gitlab.reset();
  aws = createFakeAws({ pageSize: 1 });
  aws.addUser({ name: 'a' });
  aws.addUser({ name: 'b' });
  const mine = aws.addAccessKey('a', {
    lastUsed: { date: new Date('2026-10-01T00:00:00Z'), service: 's3', region: 'eu-west-1' },
  });
  const foreign = aws.foreignAccessKeyId('999988887777');
  aws.addRole({
    name: 'gitlab-grp-app',
    trustPolicy: { Version: '2012-10-17', Statement: [] },
    tags: { 'managed-by': 'gitlab-aws-oidc', 'gitlab-aws-oidc:project': 'grp/app' },
    lastUsed: { date: new Date('2026-11-10T00:00:00Z'), region: 'eu-west-1' },
  });
  aws.state.roles.get('gitlab-grp-app')!.createDate = new Date('2026-11-01T00:00:00Z');
  const p = gitlab.addProject('grp/app');
  gitlab.addProjectVariable(p, 'AWS_ACCESS_KEY_ID', { value: mine.accessKeyId });
  gitlab.addGroupVariable('grp', 'AWS_ACCESS_KEY_ID', { value: foreign, environmentScope: 'prod' });
  gitlab.addToken('glpat-perm', { access: { grp: 'owner' } });
  const iam = new Set<string>();
  const sts = new Set<string>();
  const ports: AwsPorts = { iam: recording(aws.ports.iam, iam), sts: recording(aws.ports.sts, sts) };
  const client = createGitlabClient({ baseUrl: gitlab.url, token: 'glpat-perm', ca: gitlab.caPem, env: {} });
  const deps = {
    gitlab: async () => client,
    aws: async () => ports,
    now: () => new Date('2026-12-01T00:00:00Z'),
  };
  try {
    const retired = await runMigrateRetire(
      parseMigrateFlags({ group: 'grp', retire: true, yes: true }),
      deps,
    );
    expect(retired.done).toHaveLength(3);
    const deleted = await runMigrateRetire(
      parseMigrateFlags({ group: 'grp', retire: true, deleteKeys: true, yes: true }),
      deps,
    );
    expect(deleted.done).toHaveLength(2);
  } finally {
    await client.close();
  }
  expect([...iam].sort()).toEqual([...COMMAND_PORT_METHODS.migrateRetire.iam].sort());
  expect([...sts].sort()).toEqual([...COMMAND_PORT_METHODS.migrateRetire.sts].sort());
  const sent = [...new Set(aws.calls().map((c) => c.command))].map((c) =>
    c.startsWith('GetCallerIdentity') || c === 'GetAccessKeyInfo' ? `sts:${c}` : `iam:${c}`,
  );
  expect(sent.filter((a) => !REQUIRED_PERMISSIONS.migrateRetire.includes(a))).toEqual([]);
});
