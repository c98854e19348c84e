/**
 * Hung endpoints and interrupts, end to end (built binary):
 *   - an IAM endpoint that accepts the connection and never answers: `init` times out with a typed
 *     error naming the endpoint (exit 1, one --json document) instead of hanging;
 *   - SIGINT and SIGTERM (how GitLab cancels a job) during a hung call: the call is cancelled, the run
 *     says what was done and not done (the pipeline write included), exit 130, one --json document;
 *   - two signals at once: still exit 130 and exactly one --json document;
 *   - `destroy` interrupted exits 130 like `init`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BlackHole, startBlackHole } from '../helpers/black-hole.js';
import { cliEnv, type IamServer, ROOT, runCli, startIamServer } from '../helpers/iam-server.js';

const ACCOUNT = '210987654321';
const INIT = ['init', '--project', 'grp/app', '--branch', 'main', '--yes', '--json'];
const DESTROY = ['destroy', '--project', 'grp/app', '--yes', '--json'];

let base: string;
const servers: IamServer[] = [];
const holes: BlackHole[] = [];

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js')))
    throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  base = mkdtempSync(join(tmpdir(), 'gao-timeouts-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(holes.splice(0).map((h) => h.close()));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

async function setup(options: Parameters<typeof startIamServer>[0] = {}) {
  const server = await startIamServer({ account: ACCOUNT, ...options });
  servers.push(server);
  const dir = mkdtempSync(join(base, 'case-'));
  const cwd = join(dir, 'repo');
  const home = join(dir, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
  const start = (args: string[], extra: Record<string, string> = {}) =>
    runCli(args, { cwd, env: cliEnv(server, home, extra), timeoutMs: 15_000 });
  return { server, cwd, start };
}

/** Exactly one JSON document on stdout. */
function oneDocument(stdout: string): Record<string, unknown> & { error: Record<string, unknown> } {
  expect(stdout.trim()).not.toBe('');
  return JSON.parse(stdout);
}

describe('an IAM endpoint that accepts and never answers', () => {
  it('init times out with an error naming the endpoint, exit 1, one --json document', async () => {
    const hole = await startBlackHole();
    holes.push(hole);
    const { cwd, start } = await setup();
    const began = Date.now();
    const run = await start(INIT, { AWS_ENDPOINT_URL_IAM: hole.url, GITLAB_AWS_OIDC_TIMEOUT_MS: '300' }).done;
    expect(Date.now() - began).toBeLessThan(8_000);
    expect(run.code).toBe(1);
    expect(hole.connections()).toBeGreaterThan(0);
    const doc = oneDocument(run.stdout);
    expect(doc).toMatchObject({ ok: false, command: 'init', exitCode: 1 });
    expect(doc.error.code).toBe('TIMEOUT');
    expect(doc.error.endpoint).toBe(hole.url);
    expect(doc.error.timeoutMs).toBe(300);
    expect(String(doc.error.message)).toContain(hole.url.replace('http://', ''));
    expect(String(doc.error.message)).toMatch(/nothing was changed/i);
    expect(String(doc.error.hint)).toContain('GITLAB_AWS_OIDC_TIMEOUT_MS');
    expect(run.stderr).toMatch(/error: .*did not answer/);
    expect(run.stderr).not.toMatch(/unexpected failure/);
    expect(existsSync(join(cwd, '.gitlab-ci.yml'))).toBe(false);
  });

  it('a mutating call that never answers: exit 1 with done / not done, the call may have been applied', async () => {
    const { server, cwd, start } = await setup({ hangOn: { action: 'CreateRole' } });
    const run = await start(INIT, { GITLAB_AWS_OIDC_TIMEOUT_MS: '400' }).done;
    expect(run.code).toBe(1);
    const doc = oneDocument(run.stdout);
    expect(doc.error.code).toBe('PARTIAL_APPLY');
    expect(doc.error.cause).toMatchObject({ code: 'TIMEOUT', operation: 'CreateRole', endpoint: server.url });
    expect(String((doc.error.cause as { message: string }).message)).toMatch(
      /may or may not have been applied/,
    );
    expect(doc.error.done).toEqual(['create OIDC provider https://gitlab.com']);
    expect(doc.error.notDone).toEqual([expect.stringMatching(/^create role /), 'write .gitlab-ci.yml']);
    expect(existsSync(join(cwd, '.gitlab-ci.yml'))).toBe(false);
  });

  it('with the SDK retrying (3 attempts) it still ends, exit 1', async () => {
    const hole = await startBlackHole();
    holes.push(hole);
    const { start } = await setup();
    const run = await start(INIT, {
      AWS_ENDPOINT_URL_IAM: hole.url,
      AWS_MAX_ATTEMPTS: '3',
      GITLAB_AWS_OIDC_TIMEOUT_MS: '200',
    }).done;
    expect(run.code).toBe(1);
    expect(hole.connections()).toBeGreaterThanOrEqual(3);
    expect(oneDocument(run.stdout).error.code).toBe('TIMEOUT');
  });

  it('a bad GITLAB_AWS_OIDC_TIMEOUT_MS is a usage error (exit 2) naming it', async () => {
    const { server, start } = await setup();
    const run = await start(INIT, { GITLAB_AWS_OIDC_TIMEOUT_MS: 'soon' }).done;
    expect(run.code).toBe(2);
    expect(JSON.stringify(oneDocument(run.stdout).error)).toContain('GITLAB_AWS_OIDC_TIMEOUT_MS');
    expect(server.requests).toEqual([]);
  });
});

describe.each(['SIGINT', 'SIGTERM'] as const)('%s during a hung call', (signal) => {
  it('init: cancels the call, reports done / not done with the pipeline write, exit 130', async () => {
    const { server, cwd, start } = await setup({ hangOn: { action: 'CreateRole' } });
    const run = start(INIT);
    await server.held();
    await server.settled();
    const began = Date.now();
    run.child.kill(signal);
    const result = await run.done;
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(result.code).toBe(130);
    const doc = oneDocument(result.stdout);
    expect(doc).toMatchObject({ ok: false, command: 'init', exitCode: 130 });
    expect(doc.error.code).toBe('ABORTED');
    expect(doc.error.done).toEqual(['create OIDC provider https://gitlab.com']);
    expect(String(doc.error.message)).toMatch(
      /CreateRole to \S+ was cancelled in flight; IAM may or may not have applied it/,
    );
    const notDone = doc.error.notDone as string[];
    expect(notDone[0]).toMatch(/^create role /);
    expect(notDone.at(-1)).toMatch(/write .*\.gitlab-ci\.yml/);
    expect(result.stderr).toMatch(/not done: write .*\.gitlab-ci\.yml/);
    expect(result.stderr).toMatch(/received: cancelling/);
    expect(existsSync(join(cwd, '.gitlab-ci.yml'))).toBe(false);
    // The hung request was cancelled: the client went away.
    await server.settled();
    expect(server.inFlight()).toBe(0);
  });

  it('init: during a read, says nothing was changed, exit 130', async () => {
    const { server, start } = await setup({ hangOn: { action: 'GetRole' } });
    const run = start(INIT);
    await server.held();
    run.child.kill(signal);
    const result = await run.done;
    expect(result.code).toBe(130);
    const doc = oneDocument(result.stdout);
    expect(doc.error.code).toBe('ABORTED');
    expect(String(doc.error.message)).toMatch(/nothing was changed/i);
    expect(server.mutating()).toEqual([]);
  });

  it('destroy: interrupted exits 130 like init, with done / not done', async () => {
    const { server, start } = await setup({ hangOn: { action: 'DeleteRole' } });
    expect((await start(INIT).done).code).toBe(0);
    const run = start(DESTROY);
    await server.held();
    run.child.kill(signal);
    const result = await run.done;
    expect(result.code).toBe(130);
    const doc = oneDocument(result.stdout);
    expect(doc).toMatchObject({ ok: false, command: 'destroy', exitCode: 130 });
    expect(String(doc.error.message)).toMatch(/DeleteRole to \S+ was cancelled in flight/);
    expect(String(doc.error.hint)).not.toMatch(/fix the cause/i);
    expect((doc.error.notDone as string[]).some((s) => /role/.test(s))).toBe(true);
  });
});

describe('two signals at once (SIGTERM then SIGINT)', () => {
  // Whichever path ends the run (the first signal's report, or the second's forced exit: which one
  // wins is a race here; test/io/signals.test.ts covers the forced exit on its own), stdout holds
  // exactly one --json document and the exit status is 130. A SIGINT that lands while the process is
  // already exiting (its document printed) ends it by the signal's default action: status 128 + 2 = 130
  // for the parent, as a shell or GitLab's runner sees it.
  it('exit 130, exactly one --json document', async () => {
    const { server, start } = await setup({ hangOn: { action: 'CreateRole' } });
    const run = start(INIT);
    await server.held();
    await server.settled();
    run.child.kill('SIGTERM');
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code ?? (result.signal === 'SIGINT' ? 130 : result.signal)).toBe(130);
    const doc = oneDocument(result.stdout);
    expect(doc).toMatchObject({ ok: false, command: 'init', exitCode: 130 });
    expect(doc.error.code).toBe('ABORTED');
  });
});
