/**
 * The interrupt handler cli.ts installs for SIGINT and SIGTERM: the first signal aborts the run, a second
 * exits at once with 130, printing the --json document first unless the run already printed its one.
 */
import { describe, expect, it } from 'vitest';
import { createOutput } from '../../src/io/output.js';
import { createInterruptHandler } from '../../src/io/signals.js';
import { captureStreams } from '../helpers/capture-context.js';

function setup(json: boolean) {
  const { stdout, stderr, out, err } = captureStreams();
  const controller = new AbortController();
  const exits: number[] = [];
  const handle = createInterruptHandler({
    controller,
    stdout,
    stderr,
    json,
    command: () => 'init',
    exit: (code) => exits.push(code),
  });
  return { handle, controller, exits, stdout, out, err };
}

describe.each(['SIGINT', 'SIGTERM'] as const)('%s', (signal) => {
  it('the first one aborts the run and says how to force, without exiting', () => {
    const s = setup(true);
    s.handle(signal);
    expect(s.controller.signal.aborted).toBe(true);
    expect(s.exits).toEqual([]);
    expect(s.out()).toBe('');
    expect(s.err()).toMatch(/received: cancelling the calls in flight/);
  });

  it('a second one exits 130 at once, printing one --json document', () => {
    const s = setup(true);
    s.handle(signal);
    s.handle(signal === 'SIGINT' ? 'SIGTERM' : 'SIGINT');
    expect(s.exits).toEqual([130]);
    const doc = JSON.parse(s.out());
    expect(doc).toMatchObject({ ok: false, command: 'init', exitCode: 130, error: { code: 'ABORTED' } });
    expect(doc.error.message).toMatch(/Interrupted twice/);
    expect(s.err()).toMatch(/received again: exiting now/);
  });
});

describe('a forced exit', () => {
  it('prints no second document when the run already printed its one', () => {
    const s = setup(true);
    createOutput(true, s.stdout).document({ ok: true, command: 'init' });
    s.handle('SIGTERM');
    s.handle('SIGTERM');
    expect(s.exits).toEqual([130]);
    expect(JSON.parse(s.out())).toEqual({ ok: true, command: 'init' });
  });

  it('prints nothing on stdout without --json', () => {
    const s = setup(false);
    s.handle('SIGINT');
    s.handle('SIGINT');
    expect(s.exits).toEqual([130]);
    expect(s.out()).toBe('');
  });
});
