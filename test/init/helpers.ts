import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readExistingRole } from '../../src/aws/read-state.js';
import type { RawInitFlags } from '../../src/commands/init.js';
import type { GitlabPort } from '../../src/gitlab/api/ports.js';
import { resolveThumbprints } from '../../src/gitlab/thumbprint.js';
import type { InitOptions } from '../../src/init/options.js';
import { resolveInitOptions } from '../../src/init/resolve.js';
import { type InitDeps, type InitResult, runInit } from '../../src/init/run.js';
import { createMemoryLogger } from '../../src/io/logger.js';
import { createScriptedPrompter, type ScriptedAnswer } from '../../src/prompts/prompter.js';
import type { FakeAws } from '../helpers/fake-aws.js';

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gao-init-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Flags → options exactly as the CLI does it, without a terminal and without git. */
export function resolveFlags(
  flags: RawInitFlags,
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<InitOptions> {
  return resolveInitOptions(flags, {
    cwd,
    env,
    interactive: false,
    git: {},
    prompter: async () => {
      throw new Error('no prompts in non-interactive tests');
    },
  });
}

export interface RunOptions {
  aws: FakeAws;
  answers?: Record<string, ScriptedAnswer>;
  interactive?: boolean;
  signal?: AbortSignal;
  /** Resolve as the CLI does against AWS: read the existing role (through the fake IAM) for the defaults. */
  readExisting?: boolean;
  /** Run the wizard (interactive resolution) with these answers; `enterForUnscripted` presses Enter elsewhere. */
  wizard?: { answers: Record<string, ScriptedAnswer>; enterForUnscripted?: boolean };
  env?: NodeJS.ProcessEnv;
  /** The GitLab API the run uses (resolve's lookup and runInit's reads and steps); none when undefined. */
  gitlab?: GitlabPort | undefined;
}

/** Runs init through the real resolver and orchestration against the fake AWS. */
export async function runInitWith(
  flags: RawInitFlags,
  cwd: string,
  run: RunOptions,
): Promise<{
  result: InitResult;
  logger: ReturnType<typeof createMemoryLogger>;
  notes: string[];
  wizard?: ReturnType<typeof createScriptedPrompter>;
}> {
  const notes: string[] = [];
  const wizard = run.wizard
    ? createScriptedPrompter(run.wizard.answers, { enterForUnscripted: run.wizard.enterForUnscripted })
    : undefined;
  const options =
    run.readExisting || wizard || run.gitlab
      ? await resolveInitOptions(flags, {
          cwd,
          env: run.env ?? {},
          interactive: wizard !== undefined,
          git: {},
          prompter: async () => {
            if (!wizard) throw new Error('no wizard in this test');
            return wizard;
          },
          note: (m) => notes.push(m),
          ...(run.gitlab ? { gitlab: async () => run.gitlab } : {}),
          ...(run.readExisting
            ? { readExisting: (target) => readExistingRole(run.aws.ports.iam, target) }
            : {}),
        })
      : await resolveFlags(flags, cwd, run.env);
  const logger = createMemoryLogger();
  const prompter = createScriptedPrompter(run.answers ?? {});
  const deps: InitDeps = {
    logger,
    interactive: run.interactive ?? false,
    prompter: async () => prompter,
    aws: async () => run.aws.ports,
    resolveThumbprints: (issuer, override) => resolveThumbprints({ issuer, override }),
    signal: run.signal,
    retry: virtualClock(),
    ...(run.gitlab ? { gitlab: async () => run.gitlab } : {}),
  };
  const result = await runInit(options, deps);
  return { result, logger, notes, ...(wizard ? { wizard } : {}) };
}

/** Backoff on a virtual clock: sleeping advances time instantly, so bounded retries end at once. */
export function virtualClock(): { sleep(ms: number): Promise<void>; now(): number; maxElapsedMs: number } {
  let t = 0;
  return {
    sleep: async (ms) => {
      t += ms;
    },
    now: () => t,
    maxElapsedMs: 120_000,
  };
}

export const BASE_FLAGS: RawInitFlags = {
  project: 'acme/platform/web',
  branch: ['main'],
  yes: true,
  region: 'eu-west-1',
};
