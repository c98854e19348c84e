/**
 * One loopback IAM/STS server and a temp folder (`repo/` as the working directory, `home/` as HOME) for a
 * test file that runs the built binary several times against the same state. Started in beforeAll,
 * closed and removed in afterAll; the fields are set once beforeAll has run.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type CliRun, cliEnv, type IamServer, runCli, startIamServer } from './iam-server.js';

export interface CliSandbox {
  server: IamServer;
  dir: string;
  cwd: string;
  home: string;
  /** Runs the built binary in `cwd` with the server's endpoints and credentials. */
  run(args: string[]): Promise<CliRun>;
}

export function useCliSandbox(
  prefix: string,
  options: Parameters<typeof startIamServer>[0] = {},
): CliSandbox {
  const sandbox = {
    run: (args: string[]) =>
      runCli(args, { cwd: sandbox.cwd, env: cliEnv(sandbox.server, sandbox.home) }).done,
  } as CliSandbox;
  beforeAll(async () => {
    sandbox.server = await startIamServer(options);
    sandbox.dir = mkdtempSync(join(tmpdir(), prefix));
    sandbox.cwd = join(sandbox.dir, 'repo');
    sandbox.home = join(sandbox.dir, 'home');
    mkdirSync(sandbox.cwd);
    mkdirSync(sandbox.home);
  });
  afterAll(async () => {
    await sandbox.server?.close();
    if (sandbox.dir) rmSync(sandbox.dir, { recursive: true, force: true });
  });
  return sandbox;
}
