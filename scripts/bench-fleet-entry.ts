/**
 * The body of `npm run bench:fleet` (bundled by scripts/bench-fleet.mjs with esbuild, as the build
 * does): runFleet against the loopback IAM/STS (real SDK clients, real HTTP), and a bare SDK script
 * making the same minimal calls with the same concurrency, for the wall-time comparison.
 */
import { CreateOpenIDConnectProviderCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createIamPort } from '../src/aws/iam.js';
import { createStsPort } from '../src/aws/sts.js';
import { mapWithConcurrency } from '../src/core/concurrency.js';
import { errorLine, type FleetResult, runFleet } from '../src/fleet/run.js';
import { resolveInitOptions } from '../src/init/resolve.js';
import { createMemoryLogger } from '../src/io/logger.js';
import { type FakeRole, insertPolicy } from '../test/helpers/fake-aws-iam.js';
import { type IamServer, startIamServer } from '../test/helpers/iam-server.js';

/**
 * The SDK's own retry (3 attempts, as the CLI's clients): a keep-alive socket the loopback server
 * closed while the fleet was planning is retried as against IAM (test/helpers' ports make 1 attempt).
 */
const clientConfig = (s: Pick<IamServer, 'url'>) => ({
  region: 'us-east-1',
  endpoint: s.url,
  credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret-access-key' },
  maxAttempts: 3,
});

const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const DOC = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }],
});

export interface Figures {
  wallMs: number;
  calls: Record<string, number>;
  mutating: number;
  heapPeakMb: number;
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

/** Runs `fn`, sampling the heap every 5 ms: wall time and the peak heap above the start. */
async function measure(s: IamServer, fn: () => Promise<void>): Promise<Figures> {
  const from = s.requests.length;
  globalThis.gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 5);
  const start = process.hrtime.bigint();
  await fn();
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  const requests = s.requests.slice(from);
  return {
    wallMs,
    calls: byAction(requests),
    mutating: requests.filter((a) => !/^(Get|List)/.test(a)).length,
    heapPeakMb: (peak - base) / 2 ** 20,
  };
}

const project = (i: number) => `acme/team-${i % 20}/app-${i}`;

export async function benchFleet(
  n: number,
  concurrency: number,
): Promise<{ fresh: Figures; rerun: Figures; bare: Figures }> {
  const s = await server();
  try {
    const members = await Promise.all(
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
    const deps = () => {
      const ports = {
        iam: createIamPort(new IAMClient(clientConfig(s))),
        sts: createStsPort(new STSClient(clientConfig(s))),
      };
      return {
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
      };
    };
    let failed: string[] = [];
    const notDone = (r: FleetResult, want: string) =>
      r.members
        .filter((m) => m.status !== want)
        .map((m) => `${m.project} ${m.status}: ${errorLine(m.error)}`);
    const fresh = await measure(s, async () => {
      failed = notDone(await runFleet(members, deps()), 'applied');
    });
    if (failed.length) throw new Error(`${failed.length} members not applied, e.g. ${failed[0]}`);
    const rerun = await measure(s, async () => {
      failed = notDone(await runFleet(members, deps()), 'no-changes');
    });
    if (failed.length) throw new Error(`${failed.length} members changed on the re-run, e.g. ${failed[0]}`);
    const roles = [...s.state.roles.values()].map((r) => ({ ...r }));
    // The same calls with the SDK alone, on a fresh account: the inputs are what the fleet sent.
    const bareServer = await server();
    try {
      const bare = await measure(bareServer, () => bareSdk(bareServer, roles, concurrency));
      return { fresh, rerun, bare };
    } finally {
      await bareServer.close();
    }
  } finally {
    await s.close();
  }
}

/**
 * What a hand-written script needs at least to onboard the same roles: the caller, the provider read
 * and created once, GetPolicy once for the managed policy, then per project GetRole, CreateRole,
 * AttachRolePolicy and the TagRole the tool writes after attaching, `concurrency` projects at a time.
 */
async function bareSdk(
  s: IamServer,
  roles: readonly Pick<FakeRole, 'name' | 'path' | 'trustPolicy' | 'tags'>[],
  concurrency: number,
): Promise<void> {
  const config = clientConfig(s);
  const iam = new IAMClient(config);
  const sts = new STSClient(config);
  const sdk = await import('@aws-sdk/client-iam');
  await sts.send(new GetCallerIdentityCommand({}));
  const providerArn = 'arn:aws:iam::111122223333:oidc-provider/gitlab.com';
  await iam
    .send(new sdk.GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn }))
    .catch(() => undefined);
  await iam.send(new sdk.GetPolicyCommand({ PolicyArn: READ_ONLY }));
  await iam.send(
    new CreateOpenIDConnectProviderCommand({
      Url: 'https://gitlab.com',
      ClientIDList: ['https://gitlab.com'],
      ThumbprintList: [],
    }),
  );
  await mapWithConcurrency(roles, concurrency, async (role) => {
    const attachedKey = Object.keys(role.tags).find((k) => k.endsWith(':attached'));
    const createTags = Object.entries(role.tags).filter(([k]) => k !== attachedKey);
    await iam.send(new sdk.GetRoleCommand({ RoleName: role.name })).catch(() => undefined);
    await iam.send(
      new sdk.CreateRoleCommand({
        RoleName: role.name,
        Path: role.path,
        AssumeRolePolicyDocument: role.trustPolicy,
        Tags: createTags.map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    await iam.send(new sdk.AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: READ_ONLY }));
    if (attachedKey)
      await iam.send(
        new sdk.TagRoleCommand({
          RoleName: role.name,
          Tags: [{ Key: attachedKey, Value: role.tags[attachedKey] ?? '' }],
        }),
      );
  });
}
