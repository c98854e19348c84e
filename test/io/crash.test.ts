/**
 * The handler cli.ts installs for uncaught exceptions and unhandled rejections: the failure is reported
 * on stderr, --json gets exactly one document (unless the run printed its own already), and the exit is 1.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { createPalette } from '../../src/io/colors.js';
import { createCrashHandler } from '../../src/io/crash.js';
import { writeDocumentOnce } from '../../src/io/output.js';
import { captureStreams } from '../helpers/capture-context.js';

function setup(json: boolean) {
  const { stdout, stderr, out, err } = captureStreams();
  const exits: number[] = [];
  const handle = createCrashHandler({
    stdout,
    stderr,
    palette: () => createPalette(0),
    json,
    command: () => 'init',
    exit: (code) => exits.push(code),
  });
  return { handle, exits, stdout, out, err };
}

describe('crash handler', () => {
  it('reports an unexpected error on stderr, prints one --json document and exits 1', () => {
    const s = setup(true);
    s.handle(new Error('socket hang up'));
    expect(s.exits).toEqual([1]);
    expect(s.err()).toContain('error: unexpected failure: Error: socket hang up');
    expect(s.err()).toContain('This is a bug in gitlab-aws-oidc');
    const doc = JSON.parse(s.out());
    expect(doc).toEqual({
      ok: false,
      command: 'init',
      exitCode: 1,
      error: { code: 'INTERNAL', message: 'socket hang up' },
    });
  });

  it('keeps a typed error as it is in the document (code and message), still exiting 1', () => {
    const s = setup(true);
    s.handle(UsageError.field('--branch', 'is required'));
    expect(s.exits).toEqual([1]);
    expect(JSON.parse(s.out()).error).toMatchObject({
      code: 'USAGE',
      message: 'Invalid --branch: is required',
    });
  });

  it('prints no document without --json, and never a second document after the run printed its own', () => {
    const human = setup(false);
    human.handle(new Error('boom'));
    expect(human.out()).toBe('');
    expect(human.exits).toEqual([1]);

    const printed = setup(true);
    writeDocumentOnce(printed.stdout, { ok: true, command: 'init' });
    printed.handle(new Error('late failure after the result'));
    expect(printed.out().trim().split('\n')[0]).toBe('{');
    expect(() => JSON.parse(printed.out())).not.toThrow();
    expect(JSON.parse(printed.out())).toEqual({ ok: true, command: 'init' });
    expect(printed.exits).toEqual([1]);
  });

  it('a failure while reporting exits without reporting again', () => {
    const s = setup(true);
    s.handle(new Error('first'));
    s.handle(new Error('second'));
    expect(s.exits).toEqual([1, 1]);
    expect(s.err()).not.toContain('second');
  });
});
