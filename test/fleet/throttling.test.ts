/**
 * A fleet against the loopback IAM/STS (real SDK clients from the factory, real HTTP) while IAM answers
 * Throttling bursts: the SDK's adaptive retry absorbs them (the tool's own eventual-consistency retries
 * are not involved), every member is applied, each retry is one debug line, and a re-run changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAwsPorts } from '../../src/aws/factory.js';
import type { AwsPorts } from '../../src/aws/ports.js';
import { type FleetDeps, runFleet } from '../../src/fleet/run.js';
import type { InitOptions } from '../../src/init/options.js';
import { createMemoryLogger } from '../../src/io/logger.js';
import { insertPolicy } from '../helpers/fake-aws-iam.js';
import { type IamServer, type IamServerOptions, startIamServer } from '../helpers/iam-server.js';
import { resolveFlags } from '../init/helpers.js';

const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const N = 6;

let server: IamServer;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gao-throttle-'));
  for (const name of [
    'AWS_PROFILE',
    'AWS_SESSION_TOKEN',
    'AWS_MAX_ATTEMPTS',
    'AWS_RETRY_MODE',
    'AWS_ENDPOINT_URL',
  ])
    vi.stubEnv(name, undefined);
  vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFAKEFAKEFAKEFAKE');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'fake-secret');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(failOn: IamServerOptions['failOn']) {
  server = await startIamServer({ account: '111122223333', failOn });
  insertPolicy(server.state, {
    arn: READ_ONLY,
    name: 'ReadOnlyAccess',
    path: '/',
    documents: [
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }],
      }),
    ],
    tags: {},
  });
  vi.stubEnv('AWS_ENDPOINT_URL_IAM', server.url);
  vi.stubEnv('AWS_ENDPOINT_URL_STS', server.url);
}

const members = (): Promise<InitOptions[]> =>
  Promise.all(
    Array.from({ length: N }, (_, i) =>
      resolveFlags(
        { project: `acme/app-${i}`, branch: ['main'], managedPolicy: [READ_ONLY], ciFile: false, yes: true },
        dir,
      ),
    ),
  );

function deps(debug: string[]): FleetDeps {
  let ports: AwsPorts | undefined;
  return {
    logger: createMemoryLogger(),
    interactive: false,
    aws: async () => {
      ports ??= createAwsPorts({ debug: (m) => debug.push(m) });
      return ports;
    },
    resolveThumbprints: async () => ({ thumbprints: [], source: 'not-needed', details: [], warnings: [] }),
    // The tool's propagation retries must not be what absorbs the throttling: none is allowed to wait.
    retry: {
      sleep: async () => {
        throw new Error('the eventual-consistency retry ran');
      },
    },
    concurrency: 4,
  } as FleetDeps;
}

describe('a fleet under IAM throttling (loopback IAM, SDK adaptive retry)', () => {
  it('Throttling bursts on CreateRole and AttachRolePolicy: every member applied, retries in the debug output, re-run no-op', async () => {
    await start([
      { action: 'CreateRole', code: 'Throttling', times: 2 },
      { action: 'AttachRolePolicy', code: 'Throttling', times: 1 },
    ]);
    const debug: string[] = [];
    const fleet = await runFleet(await members(), deps(debug));
    expect(fleet.members.map((m) => m.status)).toEqual(Array(N).fill('applied'));
    expect(fleet.exitCode).toBe(0);
    const throttled = server.responses.filter((r) => r.code === 'Throttling').map((r) => r.action);
    expect(throttled.sort()).toEqual(['AttachRolePolicy', 'CreateRole', 'CreateRole']);
    // One line per throttled attempt, and one per call that then succeeded.
    const failedAttempts = debug.filter((l) =>
      /attempt \d of 6 failed \(Throttling: Rate exceeded\)/.test(l),
    );
    expect(failedAttempts).toHaveLength(3);
    expect(failedAttempts).toContain(
      'IAM CreateRole: attempt 1 of 6 failed (Throttling: Rate exceeded); the SDK retries it if the error is retryable',
    );
    expect(debug.filter((l) => /: succeeded on attempt [2-6] of 6$/.test(l)).length).toBeGreaterThanOrEqual(
      2,
    );
    // 2 mutating calls per project (CreateRole, AttachRolePolicy) plus the provider, retries aside.
    const answered = server.responses.filter((r) => r.status < 400).map((r) => r.action);
    expect(answered.filter((a) => a === 'CreateRole')).toHaveLength(N);
    expect(answered.filter((a) => a === 'AttachRolePolicy')).toHaveLength(N);
    expect(answered.filter((a) => a === 'TagRole')).toHaveLength(0);

    const mutating = server.mutating().length;
    const again = await runFleet(await members(), deps([]));
    expect(again.members.map((m) => m.status)).toEqual(Array(N).fill('no-changes'));
    expect(server.mutating()).toHaveLength(mutating);
  });
});
