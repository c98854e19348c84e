/**
 * The body of `npm run bench:fleet` (bundled by scripts/bench-fleet.mjs with esbuild, as the build
 * does): runFleet against the loopback IAM/STS with the CLI's own clients (aws/factory.ts: adaptive
 * retry, 6 attempts, timeouts, the abort guard; endpoints through AWS_ENDPOINT_URL_IAM/_STS), and a bare
 * SDK script making the same calls (same actions, same counts) with the same client settings and the
 * same concurrency, for the wall-time comparison. Not a timed test: it prints figures.
 */

import { getHeapStatistics } from 'node:v8';
import {
  AttachRolePolicyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetAccountAuthorizationDetailsCommand,
  GetAccountSummaryCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  IAMClient,
  ListOpenIDConnectProvidersCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createAwsPorts, resolveRetrySettings } from '../src/aws/factory.js';
import { mapWithConcurrency } from '../src/core/concurrency.js';
import { errorLine, type FleetResult, runFleet } from '../src/fleet/run.js';
import type { InitOptions } from '../src/init/options.js';
import { resolveInitOptions } from '../src/init/resolve.js';
import { createMemoryLogger } from '../src/io/logger.js';
import { resolveTimeouts } from '../src/io/timeouts.js';
import { type FakeRole, insertPolicy } from '../test/helpers/fake-aws-iam.js';
import { type IamServer, isMutatingAction, startIamServer } from '../test/helpers/iam-server.js';

const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const DOC = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }],
});
const CREDENTIALS = { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret-access-key' };

export interface Figures {
  wallMs: number;
  calls: Record<string, number>;
  mutating: number;
  /** IAM reads before the first mutating call (STS left out). */
  planningReads: number;
  heapPeakMb: number;
  /** Wall time per fleet phase (the progress labels), in order. */
  phases: [string, number][];
}

async function server(): Promise<IamServer> {
  const s = await startIamServer({ account: '111122223333' });
  insertPolicy(s.state, { arn: READ_ONLY, name: 'ReadOnlyAccess', path: '/', documents: [DOC], tags: {} });
  return s;
}

const byAction = (requests: readonly string[]) => {
  const out: Record<string, number> = {};
  for (const r of requests) out[r] = (out[r] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort());
};

/** Runs `fn`, sampling the heap every 5 ms: wall time, calls, and the peak heap above the start. */
async function measure(s: IamServer, fn: (phases: [string, number][]) => Promise<void>): Promise<Figures> {
  const from = s.requests.length;
  globalThis.gc?.();
  const base = getHeapStatistics().used_heap_size;
  let peak = base;
  // getHeapStatistics is far cheaper than memoryUsage (no RSS walk): sampling must not be the cost.
  const timer = setInterval(() => {
    peak = Math.max(peak, getHeapStatistics().used_heap_size);
  }, 5);
  const phases: [string, number][] = [];
  const start = performance.now();
  await fn(phases);
  const wallMs = performance.now() - start;
  clearInterval(timer);
  peak = Math.max(peak, getHeapStatistics().used_heap_size);
  const requests = s.requests.slice(from);
  const firstChange = requests.findIndex(isMutatingAction);
  const planning = firstChange < 0 ? requests : requests.slice(0, firstChange);
  return {
    wallMs,
    calls: byAction(requests),
    mutating: requests.filter(isMutatingAction).length,
    planningReads: planning.filter((a) => a !== 'GetCallerIdentity').length,
    heapPeakMb: (peak - base) / 2 ** 20,
    phases,
  };
}

const project = (i: number) => `acme/team-${i % 20}/app-${i}`;

function resolveMembers(n: number): Promise<InitOptions[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      resolveInitOptions(
        { project: project(i), branch: ['main'], managedPolicy: [READ_ONLY], ciFile: false, yes: true },
        {
          cwd: process.cwd(),
          env: {},
          interactive: false,
          git: {},
          prompter: async () => {
            throw new Error('no prompts');
          },
        },
      ),
    ),
  );
}

/** runFleet as `init --group` runs it: the CLI's clients, one set per run. */
async function fleetRun(members: InitOptions[], concurrency: number, phases: [string, number][]) {
  const ports = createAwsPorts({ timeouts: resolveTimeouts({}) });
  return runFleet(members, {
    logger: createMemoryLogger(),
    interactive: false,
    aws: async () => ports,
    resolveThumbprints: async () => ({
      thumbprints: [],
      source: 'not-needed' as const,
      details: [],
      warnings: [],
    }),
    concurrency,
    // Wall time per phase, from the progress reporter runFleet opens and stops around each one.
    progress: (label) => {
      const began = performance.now();
      return {
        mode: 'silent',
        tick: () => {},
        log: () => {},
        stop: () => {
          phases.push([label, performance.now() - began]);
        },
      };
    },
  });
}

export async function benchFleet(
  n: number,
  concurrency: number,
): Promise<{ fresh: Figures; rerun: Figures; bare: Figures; bareRerun: Figures }> {
  const s = await server();
  try {
    process.env.AWS_ENDPOINT_URL_IAM = s.url;
    process.env.AWS_ENDPOINT_URL_STS = s.url;
    process.env.AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
    const members = await resolveMembers(n);
    let failed: string[] = [];
    const notDone = (r: FleetResult, want: string) =>
      r.members
        .filter((m) => m.status !== want)
        .map((m) => `${m.project} ${m.status}: ${errorLine(m.error)}`);
    const fresh = await measure(s, async (phases) => {
      failed = notDone(await fleetRun(members, concurrency, phases), 'applied');
    });
    if (failed.length) throw new Error(`${failed.length} members not applied, e.g. ${failed[0]}`);
    const rerun = await measure(s, async (phases) => {
      failed = notDone(await fleetRun(members, concurrency, phases), 'no-changes');
    });
    if (failed.length) throw new Error(`${failed.length} members changed on the re-run, e.g. ${failed[0]}`);
    const roles = [...s.state.roles.values()].map((r) => ({ ...r }));
    // The same calls with the SDK alone, on a fresh account: the inputs are what the fleet sent.
    const bareServer = await server();
    try {
      const bare = await measure(bareServer, () => bareSdk(bareServer, roles, concurrency, 'fresh'));
      const bareRerun = await measure(bareServer, () => bareSdk(bareServer, roles, concurrency, 'rerun'));
      return { fresh, rerun, bare, bareRerun };
    } finally {
      await bareServer.close();
    }
  } finally {
    await s.close();
  }
}

/** Every page of a Marker-paginated IAM list. */
async function allPages(
  send: (marker: string | undefined) => Promise<{ IsTruncated?: boolean; Marker?: string }>,
) {
  let marker: string | undefined;
  do {
    const out = await send(marker);
    marker = out.IsTruncated ? out.Marker : undefined;
  } while (marker);
}

/**
 * What a hand-written script needs to onboard the same roles, with the same reads as the fleet: the
 * caller; the account in bulk (ListOpenIDConnectProviders, ListRoles and GetAccountAuthorizationDetails
 * at once); GetPolicy once for the managed policy; GetAccountSummary for the quotas; the provider
 * created once and read back; then per project CreateRole (its tags) and AttachRolePolicy,
 * `concurrency` projects at a time. The same client settings as the CLI's (adaptive retry, attempts,
 * timeouts). A re-run makes the reads only.
 */
async function bareSdk(
  s: IamServer,
  roles: readonly Pick<
    FakeRole,
    'name' | 'path' | 'trustPolicy' | 'tags' | 'maxSessionDuration' | 'description'
  >[],
  concurrency: number,
  mode: 'fresh' | 'rerun',
): Promise<void> {
  const timeouts = resolveTimeouts({});
  const config = {
    region: 'us-east-1',
    endpoint: s.url,
    credentials: CREDENTIALS,
    ...resolveRetrySettings(process.env),
    requestHandler: {
      connectionTimeout: timeouts.connectMs,
      requestTimeout: timeouts.awsRequestMs,
      throwOnRequestTimeout: true,
    },
  };
  const iam = new IAMClient(config);
  const sts = new STSClient(config);
  await sts.send(new GetCallerIdentityCommand({}));
  const [providers] = await Promise.all([
    iam.send(new ListOpenIDConnectProvidersCommand({})),
    // Pages of 1,000, as the tool's port asks for (aws/iam-call.ts MAX_PAGE).
    allPages((Marker) => iam.send(new ListRolesCommand({ Marker, MaxItems: 1000 }))),
    allPages((Marker) =>
      iam.send(
        new GetAccountAuthorizationDetailsCommand({
          Filter: ['Role', 'LocalManagedPolicy'],
          Marker,
          MaxItems: 1000,
        }),
      ),
    ),
  ]);
  for (const p of providers.OpenIDConnectProviderList ?? [])
    await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: p.Arn }));
  await iam.send(new GetPolicyCommand({ PolicyArn: READ_ONLY }));
  if (mode === 'rerun') return;
  await iam.send(new GetAccountSummaryCommand({}));
  const created = await iam.send(
    new CreateOpenIDConnectProviderCommand({
      Url: 'https://gitlab.com',
      ClientIDList: ['https://gitlab.com'],
      ThumbprintList: [],
    }),
  );
  await iam.send(
    new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: created.OpenIDConnectProviderArn }),
  );
  await mapWithConcurrency(roles, concurrency, async (role) => {
    await iam.send(
      new CreateRoleCommand({
        RoleName: role.name,
        Path: role.path,
        AssumeRolePolicyDocument: role.trustPolicy,
        MaxSessionDuration: role.maxSessionDuration,
        Description: role.description,
        Tags: Object.entries(role.tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: READ_ONLY }));
  });
}
