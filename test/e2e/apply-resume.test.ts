/**
 * Surviving failure, end to end: the built binary against the loopback IAM/STS server, interrupted at
 * the mutating requests of a fresh `init` (checked against an uninterrupted run):
 *   - refused with Throttling (no SDK retry left) or AccessDenied: EVERY step, the two codes alternating;
 *   - killed (SIGKILL) while the request is in flight after IAM applied it (the response is lost):
 *     every step; killed before IAM applied it: sampled (state-wise it equals a refusal, covered above);
 *   - Ctrl-C (SIGINT) or SIGTERM while a request is in flight: sampled (test/init/failure-injection.test.ts
 *     aborts at every call in-process): the call in flight is cancelled, nothing new starts, exit 130,
 *     and IAM applying the cancelled request anyway does not stop the re-run from converging.
 * Then the same command is re-run with the binary: the account must end exactly as after the
 * uninterrupted run (same resources, trust policy, attachments, tags, policy versions; nothing
 * orphaned or duplicated) and the pipeline file must be absent or complete (never partial). The
 * second re-run, which must be a no-op, runs in-process through the same HTTP wire protocol (real SDK
 * clients, `resolveInitOptions` + `runInit` with the same flags) to keep this file fast; the
 * uninterrupted case checks that the binary agrees.
 * Each case has its own server and temp folders, so the cases run concurrently.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RawInitFlags } from '../../src/commands/init.js';
import { resolveThumbprints } from '../../src/gitlab/thumbprint.js';
import { runInit } from '../../src/init/run.js';
import { createMemoryLogger } from '../../src/io/logger.js';
import type { FakeIamState } from '../helpers/fake-aws-iam.js';
import {
  cliEnv,
  createServerPorts,
  type HoldRule,
  type IamServer,
  type IamServerOptions,
  isMutatingAction,
  ROOT,
  runCli,
  startIamServer,
} from '../helpers/iam-server.js';
import { resolveFlags, virtualClock } from '../init/helpers.js';

const ACCOUNT = '111122223333';
const ARGS = [
  'init',
  '--project',
  'grp/app',
  '--branch',
  'main',
  '--template',
  's3-deploy',
  '--template-param',
  'bucket=resume-site',
  '--yes',
  '--json',
];

/** `ARGS` as the flags commander hands to the command. */
const FLAGS: RawInitFlags = {
  project: 'grp/app',
  branch: ['main'],
  template: 's3-deploy',
  templateParam: ['bucket=resume-site'],
  yes: true,
  json: true,
};

/** Everything that matters about the account, without timestamps or generated IDs. */
function snapshot(state: FakeIamState) {
  const byKey = <T>(items: Iterable<T>, key: (t: T) => string) =>
    [...items].sort((a, b) => key(a).localeCompare(key(b)));
  return {
    providers: byKey(state.providers.values(), (p) => p.arn).map((p) => ({
      arn: p.arn,
      url: p.url,
      clientIds: p.clientIds,
      thumbprints: p.thumbprints,
      tags: p.tags,
    })),
    roles: byKey(state.roles.values(), (r) => r.arn).map((r) => ({
      arn: r.arn,
      trustPolicy: JSON.parse(r.trustPolicy),
      maxSessionDuration: r.maxSessionDuration,
      description: r.description,
      permissionsBoundaryArn: r.permissionsBoundaryArn,
      tags: r.tags,
      attachedPolicyArns: [...r.attachedPolicyArns].sort(),
      inlinePolicies: Object.keys(r.inlinePolicies),
    })),
    policies: byKey(state.policies.values(), (p) => p.arn).map((p) => ({
      arn: p.arn,
      tags: p.tags,
      versions: p.versions.map((v) => ({
        id: v.versionId,
        isDefault: v.isDefault,
        document: JSON.parse(v.document),
      })),
    })),
  };
}

interface Baseline {
  /** Mutating actions of an uninterrupted fresh run, in order. */
  steps: string[];
  applied: string[];
  final: ReturnType<typeof snapshot>;
  ci: string;
}

if (!existsSync(join(ROOT, 'dist', 'cli.js')))
  throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
const base = mkdtempSync(join(tmpdir(), 'gao-resume-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

async function withCase<T>(
  options: IamServerOptions,
  body: (ctx: {
    server: IamServer;
    cwd: string;
    start: (extra?: string[]) => ReturnType<typeof runCli>;
  }) => Promise<T>,
): Promise<T> {
  const server = await startIamServer({ account: ACCOUNT, ...options });
  const dir = mkdtempSync(join(base, 'case-'));
  const cwd = join(dir, 'repo');
  const home = join(dir, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
  try {
    return await body({
      server,
      cwd,
      start: (extra = []) => runCli([...ARGS, ...extra], { cwd, env: cliEnv(server, home) }),
    });
  } finally {
    await server.close();
  }
}

function ciFileOf(cwd: string): string | undefined {
  const path = join(cwd, '.gitlab-ci.yml');
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** After the interruption: the pipeline is absent or complete, and no temp file is left behind. */
function expectPipelineIntact(cwd: string) {
  const ci = ciFileOf(cwd);
  if (ci !== undefined) expect(ci).toBe(baseline.ci);
  expect(readdirSync(cwd).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}

/** The same init, in-process, over HTTP to the server: returns the status and its mutating requests. */
async function rerunInProcess(server: IamServer, cwd: string) {
  const before = server.requests.length;
  const ports = createServerPorts(server);
  const result = await runInit(await resolveFlags(FLAGS, cwd, { AWS_REGION: 'us-east-1' }), {
    logger: createMemoryLogger(),
    interactive: false,
    aws: async () => ports,
    resolveThumbprints: (issuer, override) => resolveThumbprints({ issuer, override }),
    retry: virtualClock(),
  });
  return { status: result.status, mutating: server.requests.slice(before).filter(isMutatingAction) };
}

/** Re-run (binary) → converges to the uninterrupted final state; re-run again → no mutating request. */
async function expectResumeConverges(server: IamServer, cwd: string, start: () => ReturnType<typeof runCli>) {
  const resumed = await start().done;
  expect(resumed.stderr).not.toMatch(/unexpected failure/);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(['applied', 'no-changes']).toContain(JSON.parse(resumed.stdout).status);
  expect(snapshot(server.state)).toEqual(baseline.final);
  expect(ciFileOf(cwd)).toBe(baseline.ci);

  expect(await rerunInProcess(server, cwd)).toEqual({ status: 'no-changes', mutating: [] });
  expect(snapshot(server.state)).toEqual(baseline.final);
}

/**
 * The uninterrupted run, done while the file is collected so that its mutating requests can be
 * enumerated as test cases: the steps are derived, never hard-coded.
 */
const baseline: Baseline = await withCase({}, async ({ server, cwd, start }) => {
  const r = await start().done;
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout);
  expect(doc.status).toBe('applied');
  // The binary and the in-process re-run agree that nothing is left to do.
  const before = server.requests.length;
  const again = await start().done;
  expect(JSON.parse(again.stdout).status).toBe('no-changes');
  expect(server.requests.slice(before).filter(isMutatingAction)).toEqual([]);
  expect(await rerunInProcess(server, cwd)).toEqual({ status: 'no-changes', mutating: [] });
  return {
    steps: server.mutating(),
    applied: doc.applied,
    final: snapshot(server.state),
    ci: ciFileOf(cwd) as string,
  };
});

it('the uninterrupted run is the reference: provider, policy, role, attachment, pipeline', () => {
  expect(baseline.steps).toEqual(
    expect.arrayContaining(['CreateOpenIDConnectProvider', 'CreatePolicy', 'CreateRole', 'AttachRolePolicy']),
  );
  expect(STEPS.length).toBe(baseline.steps.length);
  expect(baseline.final.providers).toHaveLength(1);
  expect(baseline.final.roles).toHaveLength(1);
  expect(baseline.final.policies).toHaveLength(1);
  expect(baseline.final.roles[0]?.attachedPolicyArns).toEqual([baseline.final.policies[0]?.arn]);
  expect(baseline.ci).toContain(baseline.final.roles[0]?.arn);
});

/** The mutating requests as `{ action, nth }`: the nth request of that action. */
const stepsOf = (actions: string[]): HoldRule[] =>
  actions.map((action, i) => ({ action, nth: actions.slice(0, i + 1).filter((a) => a === action).length }));
const STEPS = stepsOf(baseline.steps);

describe.concurrent('killed (SIGKILL) while a mutating request is in flight, then re-run', () => {
  // After IAM applied it: every step. Before: sampled (state-wise that equals a refusal, which runs
  // for every step below); the first phase is the interesting one, it runs two calls at once.
  const notAppliedSample = new Set(['CreateOpenIDConnectProvider']);
  const cases = STEPS.flatMap((step) => [
    { ...step, applyFirst: true },
    ...(notAppliedSample.has(step.action) ? [{ ...step, applyFirst: false }] : []),
  ]);
  it.each(cases)('$action #$nth (applied by IAM before the kill: $applyFirst)', async (hold) => {
    await withCase({ hangOn: hold }, async ({ server, cwd, start }) => {
      const run = start();
      await server.held();
      // Let the calls running alongside it (same phase) finish, so the kill lands mid-request.
      await server.settled();
      run.child.kill('SIGKILL');
      const killed = await run.done;
      expect(killed.signal).toBe('SIGKILL');
      expect(server.requests.filter((a) => a === hold.action)).toHaveLength(hold.nth ?? 1);
      expectPipelineIntact(cwd);
      if (hold.action === 'CreateRole' && hold.applyFirst) {
        // Killed between CreateRole (whose tags record the attachment it was about to make) and
        // AttachRolePolicy: the record lists a policy that is not attached, which is also what a hand
        // detach leaves; the re-run never re-attaches it silently, it asks and says why.
        const before = server.mutating().length;
        const refused = await start().done;
        expect(refused.code, refused.stderr).toBe(2);
        expect(JSON.parse(refused.stdout).error.code).toBe('CONSENT_REQUIRED');
        expect(refused.stderr).toContain('a run was killed between CreateRole and AttachRolePolicy');
        expect(server.mutating()).toHaveLength(before);
        await expectResumeConverges(server, cwd, () => start(['--allow-widening']));
        return;
      }
      await expectResumeConverges(server, cwd, start);
    });
  });
});

describe.concurrent('refused by IAM (no retry left), then re-run', () => {
  // Every step; the codes alternate (the in-process failure-injection test runs every step × code).
  const cases = STEPS.map((step, i) => ({
    ...step,
    code: i % 2 === 0 ? 'Throttling' : 'AccessDenied',
  }));
  it.each(cases)('$action fails with $code', async ({ action, code }) => {
    await withCase({ failOn: { action, code } }, async ({ server, cwd, start }) => {
      const failed = await start().done;
      expect(failed.code).toBe(1);
      const doc = JSON.parse(failed.stdout);
      expect(doc.ok).toBe(false);
      expect(doc.error.code).toBe('PARTIAL_APPLY');
      expect(doc.error.cause).toMatchObject({ awsCode: code });
      expect(doc.error.cause.operation).toContain(action);
      // What was done and what was not: together exactly the uninterrupted run's changes, then the
      // pipeline write (never done when IAM failed).
      expect(doc.error.notDone.at(-1)).toBe('write .gitlab-ci.yml');
      expect([...doc.error.done, ...doc.error.notDone.slice(0, -1)].sort()).toEqual(
        [...baseline.applied].sort(),
      );
      expect(doc.error.notDone.length).toBeGreaterThan(0);
      expect(failed.stderr).toMatch(/not done: /);
      expect(failed.stderr).toMatch(/re-run the same command/i);
      expect(ciFileOf(cwd)).toBeUndefined();
      expectPipelineIntact(cwd);
      await expectResumeConverges(server, cwd, start);
    });
  });
});

describe.concurrent('Ctrl-C (SIGINT) or SIGTERM while a mutating request is in flight, then re-run', () => {
  // Sampled (the in-process test aborts at every call): the first phase, where the provider and the
  // policy are created concurrently, so one call finishes alongside the interrupted one.
  // IAM may or may not have applied the cancelled request: both are sampled.
  const sample = STEPS.filter((s) => s.action === 'CreateOpenIDConnectProvider').flatMap((s) => [
    { ...s, signal: 'SIGINT' as const, applyFirst: false },
    { ...s, signal: 'SIGTERM' as const, applyFirst: true },
  ]);

  it.each(sample)('$action #$nth ($signal, applied by IAM: $applyFirst)', async ({ signal, ...hold }) => {
    await withCase({ delayOn: { ...hold, ms: 60_000 } }, async ({ server, cwd, start }) => {
      const run = start();
      await server.held();
      await server.settled();
      const sentBefore = server.requests.length;
      run.child.kill(signal);
      // The call in flight is cancelled: the CLI does not wait for IAM to answer it.
      const aborted = await run.done;
      expect(aborted.code).toBe(130);
      expect(server.requests.slice(sentBefore).filter(isMutatingAction)).toEqual([]);
      const doc = JSON.parse(aborted.stdout);
      expect(doc.error.code).toBe('ABORTED');
      expect(doc.error.message).toMatch(/re-run the same command/);
      expect(doc.error.notDone).toContain('write .gitlab-ci.yml');
      expect([...doc.error.done, ...doc.error.notDone.slice(0, -1)].sort()).toEqual(
        [...baseline.applied].sort(),
      );
      expect(aborted.stderr).toMatch(/received: cancelling the calls in flight/);
      expectPipelineIntact(cwd);
      // Cancelled: the CLI went away before IAM answered.
      await server.settled(0);
      expect(server.responses.filter((r) => r.action === hold.action)).toEqual([]);
      await expectResumeConverges(server, cwd, start);
    });
  });
});
