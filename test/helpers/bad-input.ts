/**
 * The bad-input harness shared by the init and the verify/audit/destroy/status tables: every row must
 * fail as a usage error (exit 2) that names the flag (or the file), BEFORE any AWS call and without
 * writing any file, in the working folder or outside it.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitCodeFor, UsageError } from '../../src/errors.js';
import { tempDir } from '../init/helpers.js';
import { createFakeAws, type FakeAws } from './fake-aws.js';

export interface BadInput<F> {
  name: string;
  /** Merged over the command's base flags; a flag given as undefined is left out. */
  flags: Partial<F>;
  /**
   * The flag (or file) the error must name: exactly one issue's field, or (for an error without
   * issues) a part of the message. A pattern must match an issue's field, or the message when there
   * are no issues.
   */
  field: string | RegExp;
  /** Also required in the message or in an issue's message. */
  message?: RegExp;
  /** Files to create in the working folder first (relative path → content). */
  files?: Record<string, string>;
  /** Anything else to prepare; `outside` is a folder outside the working folder. */
  setup?: (cwd: string, outside: string) => void;
  /** The environment the command sees (default: empty). */
  env?: NodeJS.ProcessEnv;
}

export interface CommandUnderTest<F> {
  command: string;
  /** Valid on their own; each row's flags are merged over them. */
  base: F;
  /** Runs the command the way the CLI does (raw flags → its own parser/resolver → run…()) against the fake AWS. */
  run(flags: F, cwd: string, aws: FakeAws, env: NodeJS.ProcessEnv): Promise<unknown>;
  cases: BadInput<F>[];
}

export interface Sandbox {
  /** The in-memory IAM/STS, which records every call. */
  aws: FakeAws;
  /** The working folder, empty at the start of each test. */
  cwd: string;
  /** A folder beside it, to catch writes that escape the working folder. */
  outside: string;
}

/** A fresh sandbox for each test (set up in beforeEach, removed in afterEach). */
export function useSandbox(): Sandbox {
  const sandbox = {} as Sandbox;
  let cleanup = () => {};
  beforeEach(() => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    sandbox.aws = createFakeAws();
    sandbox.cwd = join(tmp.dir, 'repo');
    sandbox.outside = join(tmp.dir, 'outside');
    mkdirSync(sandbox.cwd);
    mkdirSync(sandbox.outside);
  });
  afterEach(() => {
    sandbox.aws.restore();
    cleanup();
  });
  return sandbox;
}

/** Every file and folder under `dir` (a file with its size, mtime and content), to prove nothing was written. */
export function listTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = join(rel, name);
      const stats = statSync(join(dir, path), { throwIfNoEntry: false });
      if (stats?.isDirectory()) {
        out[path] = '<dir>';
        walk(path);
      } else {
        out[path] = stats
          ? `${stats.size}:${stats.mtimeMs}:${readFileSync(join(dir, path), 'utf8')}`
          : '<dangling>';
      }
    }
  };
  walk('');
  return out;
}

/** What `run` fails with (a synchronous throw, from a parser, included), or undefined when it succeeds. */
export async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return error;
  }
}

/**
 * One test per row of `cut.cases`, after `control`, a test that the base flags are valid on their own
 * (what "valid" means differs: init can plan offline, the others reach AWS).
 */
export function describeBadInput<F>(
  cut: CommandUnderTest<F>,
  sandbox: Sandbox,
  control: { name: string; check(): Promise<void> },
): void {
  describe(`${cut.command}: bad input is a usage error (exit 2) naming the flag, before any AWS call or file write`, () => {
    it(`control: ${control.name}`, () => control.check());

    it.each(cut.cases)('$name', async (row) => {
      const { aws, cwd, outside } = sandbox;
      for (const [path, content] of Object.entries(row.files ?? {})) writeFileSync(join(cwd, path), content);
      row.setup?.(cwd, outside);
      const before = { cwd: listTree(cwd), outside: listTree(outside) };
      const flags = { ...cut.base, ...row.flags } as F;
      for (const [k, v] of Object.entries(row.flags))
        if (v === undefined) delete (flags as Record<string, unknown>)[k];

      const error = await failureOf(() => cut.run(flags, cwd, aws, row.env ?? {}));

      expect(error, 'expected a UsageError').toBeInstanceOf(UsageError);
      const usage = error as UsageError;
      expect(usage.exitCode).toBe(2);
      expect(exitCodeFor(usage)).toBe(2);
      const named = usage.issues.length ? usage.issues.map((i) => i.field) : [usage.message];
      const names = (text: string) =>
        typeof row.field === 'string'
          ? usage.issues.length
            ? text === row.field
            : text.includes(row.field)
          : row.field.test(text);
      expect(named.some(names), `${JSON.stringify(named)} should name ${String(row.field)}`).toBe(true);
      const lines = usage.issues.map((i) => `${i.field}: ${i.message}`);
      expect(lines, 'each problem reported once').toEqual([...new Set(lines)]);
      if (row.message) {
        const texts = [usage.message, ...usage.issues.map((i) => i.message)];
        expect(
          texts.some((t) => row.message?.test(t)),
          `${JSON.stringify(texts)} ~ ${row.message}`,
        ).toBe(true);
      }
      expect(aws.calls(), 'no AWS call').toEqual([]);
      expect({ cwd: listTree(cwd), outside: listTree(outside) }, 'no file written').toEqual(before);
    });
  });
}
