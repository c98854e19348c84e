import { describe, expect, it } from 'vitest';
import { settleWithConcurrency } from '../../src/core/concurrency.js';
import { createLogger } from '../../src/io/logger.js';
import {
  createProgress,
  type ProgressStream,
  progressAwareStream,
  progressModeFor,
  reportConcurrencyProgress,
} from '../../src/io/progress.js';
import { captureStreams } from '../helpers/capture-context.js';

/** A stderr stand-in: a terminal (80 columns) or not, recording what is written. */
function fakeStderr(isTTY: boolean) {
  const { stderr, err } = captureStreams();
  const stream = Object.assign(stderr, { isTTY, columns: 100 }) as unknown as ProgressStream;
  return { stream, text: err };
}
const ANSI = /\x1b\[/;
const COLOUR = /\x1b\[\d+(;\d+)*m/;
const settle = () => new Promise((r) => setImmediate(r));

describe('progressModeFor', () => {
  it.each([
    ['terminal', { isTTY: true }, {}, 'bar'],
    ['terminal, TERM=dumb', { isTTY: true }, { env: { TERM: 'dumb' } }, 'lines'],
    ['not a terminal', { isTTY: false }, {}, 'lines'],
    ['--json', { isTTY: true }, { json: true }, 'silent'],
    ['--json with progress asked for', { isTTY: false }, { json: true, progress: true }, 'lines'],
    ['--quiet', { isTTY: true }, { quiet: true }, 'silent'],
    ['progress: false', { isTTY: true }, { progress: false }, 'silent'],
  ] as const)('%s → %s', (_name, tty, over, mode) => {
    const { stream } = fakeStderr(tty.isTTY);
    expect(progressModeFor({ stream, env: {}, ...over })).toBe(mode);
  });
});

describe('createProgress', () => {
  it('not a terminal: plain lines at most every interval and a final one, no ANSI', async () => {
    const { stream, text } = fakeStderr(false);
    let clock = 0;
    const p = createProgress({
      label: 'Onboarding projects',
      total: 1000,
      stream,
      env: {},
      intervalMs: 5000,
      now: () => clock,
    });
    expect(p.mode).toBe('lines');
    for (let i = 0; i < 1000; i++) {
      clock += 10; // 10 s in all: one line at 5 s, then the final one
      p.tick({ failed: i % 250 === 0 });
    }
    p.log('warning: acme/x: AccessDenied');
    p.stop();
    p.stop();
    await settle();
    expect(text()).toBe(
      'Onboarding projects: 500/1,000 (50%), 2 failed, 5s\n' +
        'warning: acme/x: AccessDenied\n' +
        'Onboarding projects: 1,000/1,000 (100%), 4 failed, 10s\n',
    );
    expect(text()).not.toMatch(ANSI);
  });

  it('not a terminal, FORCE_COLOR set: still no ANSI', async () => {
    const { stream, text } = fakeStderr(false);
    const p = createProgress({ label: 'x', total: 1, stream, env: { FORCE_COLOR: '3' }, now: () => 0 });
    p.tick();
    p.stop();
    await settle();
    expect(text()).toBe('x: 1/1 (100%), 0s\n');
  });

  it('terminal: a bar redrawn in place with counts and failures; stop ends the line', async () => {
    const { stream, text } = fakeStderr(true);
    const p = createProgress({ label: 'Onboarding', total: 4, stream, env: {} });
    expect(p.mode).toBe('bar');
    p.tick();
    p.tick({ failed: true });
    p.log('warning: one project failed');
    p.tick();
    p.tick();
    p.stop();
    await settle();
    const out = text();
    expect(out).toContain('\x1b[1G'); // redrawn from column 1
    expect(out).toMatch(COLOUR); // palette on a terminal
    expect(out).toContain('\r\x1b[2Kwarning: one project failed\n');
    const plain = out.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '');
    expect(plain).toMatch(/Onboarding █{30} 100% 4\/4 {2}1 failed\n$/);
  });

  it('terminal with NO_COLOR: the bar has no colour codes', async () => {
    const { stream, text } = fakeStderr(true);
    const p = createProgress({ label: 'x', total: 2, stream, env: { NO_COLOR: '1' } });
    p.tick({ failed: true });
    p.stop();
    await settle();
    expect(text()).toContain('1 failed');
    expect(text()).not.toMatch(COLOUR);
  });

  it('silent with --json: nothing written, log included', async () => {
    const { stream, text } = fakeStderr(true);
    const p = createProgress({ label: 'x', total: 2, stream, env: {}, json: true });
    p.tick();
    p.log('hello');
    p.stop();
    await settle();
    expect([p.mode, text()]).toEqual(['silent', '']);
  });

  it('feeds from settleWithConcurrency progress', async () => {
    const { stream, text } = fakeStderr(false);
    const p = createProgress({ label: 'Reading roles', total: 3, stream, env: {}, now: () => 0 });
    await settleWithConcurrency(
      [1, 2, 3],
      { limit: 2, onProgress: reportConcurrencyProgress(p) },
      async (n) => {
        if (n === 2) throw new Error('boom');
        return n;
      },
    );
    p.stop();
    await settle();
    expect(text()).toBe('Reading roles: 3/3 (100%), 1 failed, 0s\n');
  });

  it('progressAwareStream: the logger writes above the bar on a terminal, straight through otherwise', async () => {
    for (const isTTY of [true, false]) {
      const { stream, text } = fakeStderr(isTTY);
      const p = createProgress({ label: 'x', total: 2, stream, env: { NO_COLOR: '1' }, now: () => 0 });
      const logger = createLogger({ stream: progressAwareStream(p, stream), env: { NO_COLOR: '1' } });
      p.tick();
      logger.warn('acme/a: AccessDenied');
      p.tick();
      p.stop();
      await settle();
      if (isTTY) expect(text()).toContain('\r\x1b[2Kwarning: acme/a: AccessDenied\n');
      else expect(text()).toBe('warning: acme/a: AccessDenied\nx: 2/2 (100%), 0s\n');
    }
  });
});
