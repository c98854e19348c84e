/**
 * migrate's IAM/STS permissions: the port methods a find run calls are exactly the ones declared
 * for it, and every API call that reached the (fake) wire is in REQUIRED_PERMISSIONS.migrate.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { COMMAND_PORT_METHODS, REQUIRED_PERMISSIONS } from '../../src/aws/permissions.js';
import type { AwsPorts } from '../../src/aws/ports.js';
import { createGitlabClient } from '../../src/gitlab/api/client.js';
import { parseMigrateFlags } from '../../src/migrate/options.js';
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
