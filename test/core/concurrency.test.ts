import { describe, expect, it } from 'vitest';
import {
  type ConcurrencyProgress,
  mapWithConcurrency,
  memoizeAsync,
  promiseCache,
  settleWithConcurrency,
} from '../../src/core/concurrency.js';

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

/** A task runner that records the peak number in flight and which items started/finished. */
function tracker() {
  const t = { inFlight: 0, peak: 0, started: [] as number[], finished: [] as number[] };
  const run = async (n: number, fail?: (n: number) => boolean, ms = 1) => {
    t.inFlight++;
    t.peak = Math.max(t.peak, t.inFlight);
    t.started.push(n);
    await tick(ms);
    t.inFlight--;
    t.finished.push(n);
    if (fail?.(n)) throw new Error(`item ${n} failed`);
    return n * 2;
  };
  return { t, run };
}
const items = (n: number) => [...Array(n).keys()];

describe('mapWithConcurrency', () => {
  it('keeps order and never has more than the limit in flight', async () => {
    const { t, run } = tracker();
    const out = await mapWithConcurrency(items(20), 3, (n) => run(n));
    expect(out).toEqual(items(20).map((n) => n * 2));
    expect(t.peak).toBe(3);
  });

  it('a failure: no new call starts, the calls in flight finish, then it rejects with that failure', async () => {
    const { t, run } = tracker();
    await expect(mapWithConcurrency(items(20), 4, (n) => run(n, (x) => x === 1))).rejects.toThrow(
      'item 1 failed',
    );
    // 0..3 started first; after 1 failed nothing new started, and nothing is left running.
    expect(t.inFlight).toBe(0);
    expect(t.started.length).toBeLessThan(8);
    expect([...t.finished].sort()).toEqual([...t.started].sort());
  });

  it('an abort rejects with the signal’s reason once the calls in flight finish', async () => {
    const { t, run } = tracker();
    const controller = new AbortController();
    const reason = new Error('Ctrl-C');
    const promise = mapWithConcurrency(items(10), { limit: 2, signal: controller.signal }, async (n) => {
      if (n === 3) controller.abort(reason);
      return run(n);
    });
    await expect(promise).rejects.toBe(reason);
    expect(t.inFlight).toBe(0);
    expect(t.started).not.toContain(6);
  });

  it('a limit above the item count, zero items, or a nonsense limit still works', async () => {
    expect(await mapWithConcurrency([1, 2], 50, async (n) => n)).toEqual([1, 2]);
    expect(await mapWithConcurrency([], 4, async (n) => n)).toEqual([]);
    const { t, run } = tracker();
    await mapWithConcurrency(items(3), 0, (n) => run(n));
    expect(t.peak).toBe(1);
  });
});

describe('settleWithConcurrency', () => {
  it('settle mode: every item runs; failures are collected with their item, in the order they happened', async () => {
    const { t, run } = tracker();
    // Item 4 fails fast, item 2 slowly: 4's failure happens first.
    const settled = await settleWithConcurrency(items(8), { limit: 3 }, (n) =>
      run(n, (x) => x === 2 || x === 4, n === 2 ? 30 : 1),
    );
    expect(t.started.sort()).toEqual(items(8));
    expect(t.peak).toBe(3);
    expect(settled.failures.map((f) => [f.item, f.index, (f.reason as Error).message])).toEqual([
      [4, 4, 'item 4 failed'],
      [2, 2, 'item 2 failed'],
    ]);
    expect(settled.results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect(settled.results[7]).toEqual({ status: 'fulfilled', value: 14 });
    expect([settled.skipped, settled.aborted]).toEqual([[], false]);
  });

  it('stopOnFailure: items after the first failure are skipped, not run', async () => {
    const { run } = tracker();
    const settled = await settleWithConcurrency(items(10), { limit: 1, stopOnFailure: true }, (n) =>
      run(n, (x) => x === 2),
    );
    expect(settled.failures.map((f) => f.item)).toEqual([2]);
    expect(settled.skipped).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(settled.aborted).toBe(false);
  });

  it('abort: no new item starts, the ones in flight finish and their results are kept', async () => {
    const { t, run } = tracker();
    const controller = new AbortController();
    const settled = await settleWithConcurrency(
      items(10),
      { limit: 3, signal: controller.signal },
      async (n) => {
        if (n === 4) controller.abort();
        return run(n, undefined, 5);
      },
    );
    expect(settled.aborted).toBe(true);
    expect(t.inFlight).toBe(0);
    const ran = settled.results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(ran).toEqual([0, 1, 2, 3, 4, 5].filter((i) => t.finished.includes(i)));
    expect(ran).toContain(4); // started before the abort was seen: finished, not dropped
    expect(settled.skipped).toEqual(items(10).filter((i) => !ran.includes(i)));
    // Aborted before the start: nothing runs.
    const before = await settleWithConcurrency(items(3), { limit: 2, signal: AbortSignal.abort() }, (n) =>
      run(n),
    );
    expect([before.skipped, before.aborted]).toEqual([[0, 1, 2], true]);
  });

  it('progress: one call per item in completion order, with counts', async () => {
    const events: Array<Omit<ConcurrencyProgress<number>, 'error'>> = [];
    await settleWithConcurrency(
      [30, 1, 10],
      {
        limit: 2,
        onProgress: ({ error: _error, ...p }) => events.push(p),
      },
      async (ms) => {
        await tick(ms);
        if (ms === 10) throw new Error('x');
        return ms;
      },
    );
    expect(events).toEqual([
      { item: 1, index: 1, ok: true, done: 1, failed: 0, total: 3, inFlight: 1 },
      { item: 10, index: 2, ok: false, done: 2, failed: 1, total: 3, inFlight: 1 },
      { item: 30, index: 0, ok: true, done: 3, failed: 1, total: 3, inFlight: 0 },
    ]);
  });
});

describe('memoizeAsync', () => {
  it('calls once per key, concurrent callers share the promise', async () => {
    let calls = 0;
    const get = memoizeAsync(async (k) => {
      calls++;
      await tick();
      return k.toUpperCase();
    });
    expect(await Promise.all([get('a'), get('a'), get('b')])).toEqual(['A', 'A', 'B']);
    expect(calls).toBe(2);
  });
});

describe('promiseCache', () => {
  it('keeps a failure by default; with forgetFailures the next caller asks again', async () => {
    let calls = 0;
    const fail = async () => {
      calls++;
      throw new Error('Throttling');
    };
    const kept = promiseCache<string>();
    await expect(kept.get('k', fail)).rejects.toThrow('Throttling');
    await expect(kept.get('k', fail)).rejects.toThrow('Throttling');
    expect(calls).toBe(1);

    const forgetting = promiseCache<string>({ forgetFailures: true });
    await expect(forgetting.get('k', fail)).rejects.toThrow('Throttling');
    expect(await forgetting.get('k', async () => 'ok')).toBe('ok');
    expect(await forgetting.get('k', fail)).toBe('ok');
    expect(calls).toBe(2);
  });

  it('clear forgets every key; a failure settling after clear does not drop the newer entry', async () => {
    const cache = promiseCache<string>({ forgetFailures: true });
    let reject: (e: Error) => void = () => {};
    const old = cache.get('k', () => new Promise<string>((_, r) => (reject = r)));
    cache.clear();
    expect(await cache.get('k', async () => 'new')).toBe('new');
    reject(new Error('late'));
    await expect(old).rejects.toThrow('late');
    expect(await cache.get('k', async () => 'newer')).toBe('new');
  });
});
