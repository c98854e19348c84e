/**
 * The body of `npm run bench:fleet-gitlab` (bundled by scripts/bench-fleet-gitlab.mjs with esbuild):
 * `init --group acme --merge-request` through the fleet command (selection → init's resolver with the
 * GitLab lookup → runFleet), in-process, against the loopback IAM/STS (real SDK clients over HTTP,
 * through AWS_ENDPOINT_URL_IAM/_STS) and the loopback fake GitLab (the real GitLab client over TLS),
 * fresh onboarding then a re-run. Reports wall time, GitLab calls by endpoint, IAM calls by action.
 */
import { PassThrough } from 'node:stream';
import { runFleetInitCommand } from '../src/fleet/command.js';
import { createGitlabClient, type GitlabClient } from '../src/gitlab/api/client.js';
import type { CommandContext } from '../src/io/context.js';
import { type FakeGitlab, startFakeGitlab } from '../test/helpers/fake-gitlab.js';
import { type IamServer, startIamServer } from '../test/helpers/iam-server.js';

const TOKEN = 'glpat-bench-maintainer';
const CI = 'build:\n  script: [make]\n';

export interface RunFigures {
  wallMs: number;
  /** User + system CPU of this process (the servers' included): steadier than wall time under load. */
  cpuMs: number;
  exitOk: boolean;
  /** `METHOD /route` → count. */
  gitlab: Record<string, number>;
  gitlabReads: number;
  gitlabWrites: number;
  iam: Record<string, number>;
  iamMutating: number;
  heapPeakMb: number;
  /** The summary's head line (`Done: 100 applied (of 100 projects).`). */
  summary: string;
}

const sorted = (counts: Map<string, number>) =>
  Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : 1)));

function context(): { context: CommandContext; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += String(d);
  });
  stderr.on('data', (d) => {
    err += String(d);
  });
  return {
    context: {
      stdout,
      stderr,
      env: { NO_COLOR: '1', GITLAB_AWS_OIDC_GITLAB_ANONYMOUS: 'off' },
      cwd: process.cwd(),
      interactive: false,
      signal: new AbortController().signal,
    },
    out: () => out,
    err: () => err,
  };
}

async function measure(iam: IamServer, gitlab: FakeGitlab, fn: () => Promise<string>): Promise<RunFigures> {
  const from = iam.requests.length;
  gitlab.clearCalls();
  globalThis.gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 5);
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let summary = '';
  let exitOk = true;
  try {
    summary = await fn();
  } catch (error) {
    exitOk = false;
    summary = (error as Error).message;
  }
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  clearInterval(timer);
  const routes = new Map<string, number>();
  for (const c of gitlab.calls) routes.set(c.route, (routes.get(c.route) ?? 0) + 1);
  const actions = new Map<string, number>();
  const requests = iam.requests.slice(from);
  for (const a of requests) actions.set(a, (actions.get(a) ?? 0) + 1);
  const writes = gitlab.mutatingCalls().length;
  return {
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    exitOk,
    gitlab: sorted(routes),
    gitlabReads: gitlab.calls.length - writes,
    gitlabWrites: writes,
    iam: sorted(actions),
    iamMutating: requests.filter((a) => !/^(Get|List)/.test(a)).length,
    heapPeakMb: (Math.max(peak, process.memoryUsage().heapUsed) - base) / 2 ** 20,
    summary,
  };
}

export async function benchFleetGitlab(
  n: number,
  concurrency: number,
): Promise<{ fresh: RunFigures; rerun: RunFigures }> {
  const iam = await startIamServer({ account: '111122223333' });
  const gitlab = await startFakeGitlab();
  const clients: GitlabClient[] = [];
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_IAM: iam.url,
    AWS_ENDPOINT_URL_STS: iam.url,
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  try {
    gitlab.addGroup('acme');
    for (let i = 0; i < Math.ceil(n / 50); i++) gitlab.addGroup(`acme/team-${i}`);
    for (let i = 0; i < n; i++) {
      const p = gitlab.addProject(`acme/team-${Math.floor(i / 50)}/app-${i}`, {
        files: { '.gitlab-ci.yml': CI },
      });
      gitlab.protectBranch(p, 'main');
    }
    gitlab.addToken(TOKEN, { scopes: ['api'], access: { acme: 'maintainer' } });
    const flags = {
      group: 'acme',
      mergeRequest: true,
      managedPolicy: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      yes: true,
      concurrency: String(concurrency),
    };
    const once = async () => {
      const c = context();
      const port = createGitlabClient({ baseUrl: gitlab.url, token: TOKEN, ca: gitlab.caPem });
      clients.push(port);
      await runFleetInitCommand(
        { kind: 'group', group: 'acme', include: [], exclude: [] },
        flags,
        c.context,
        {
          gitlab: async () => port,
        },
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${c.out().slice(-2000)}`);
      });
      return (
        c
          .out()
          .split('\n')
          .find((l) => /^(Done|No changes)/.test(l)) ?? c.out().slice(0, 200)
      );
    };
    const { insertPolicy } = await import('../test/helpers/fake-aws-iam.js');
    insertPolicy(iam.state, {
      arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
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
    const fresh = await measure(iam, gitlab, once);
    const rerun = await measure(iam, gitlab, once);
    return { fresh, rerun };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await gitlab.close();
    await iam.close();
  }
}
