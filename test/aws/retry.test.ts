import { describe, expect, it, vi } from 'vitest';
import {
  anyOf,
  isConcurrentModification,
  isInvalidPrincipal,
  isNoSuchEntity,
  type RetryOptions,
  retryWithBackoff,
} from '../../src/aws/retry.js';
import { AwsError } from '../../src/errors.js';

const invalidPrincipal = () =>
  new AwsError('CreateRole', 'MalformedPolicyDocument', 'Invalid principal in policy: "Federated":"arn:…"');

/** Instant sleep on a virtual clock. */
function virtualTime(): Required<Pick<RetryOptions, 'sleep' | 'now' | 'random'>> & { slept: number[] } {
  let clock = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => clock,
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
    random: () => 1,
  };
}

describe('retryWithBackoff', () => {
  it('retries a retryable error until it succeeds, with growing capped delays', async () => {
    const time = virtualTime();
    const fn = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(invalidPrincipal())
      .mockRejectedValueOnce(invalidPrincipal())
      .mockRejectedValueOnce(invalidPrincipal())
      .mockResolvedValue('arn:role');

    await expect(
      retryWithBackoff(fn, isInvalidPrincipal, { ...time, baseDelayMs: 1000, maxDelayMs: 3000 }),
    ).resolves.toBe('arn:role');
    expect(fn).toHaveBeenCalledTimes(4);
    expect(time.slept).toEqual([1000, 2000, 3000]);
  });

  it('gives up after the time budget with the last error', async () => {
    const time = virtualTime();
    let n = 0;
    const fn = async () => {
      n++;
      throw new AwsError(
        'CreateRole',
        'MalformedPolicyDocument',
        `Invalid principal in policy (attempt ${n})`,
      );
    };

    const error = await retryWithBackoff(fn, isInvalidPrincipal, { ...time, maxElapsedMs: 120_000 }).catch(
      (e) => e,
    );

    expect(error.message).toContain(`attempt ${n}`);
    expect(time.slept.reduce((a, b) => a + b, 0)).toBe(120_000);
    expect(n).toBeGreaterThan(5);
    expect(n).toBeLessThan(30);
  });

  it('is bounded by the time slept even when the clock does not move', async () => {
    const slept: number[] = [];
    const fn = vi.fn(async () => {
      throw invalidPrincipal();
    });
    await expect(
      retryWithBackoff(fn, isInvalidPrincipal, {
        now: () => 0,
        sleep: async (ms) => void slept.push(ms),
        maxElapsedMs: 5_000,
      }),
    ).rejects.toBeInstanceOf(AwsError);
    expect(slept.reduce((a, b) => a + b, 0)).toBe(5_000);
  });

  it('does not retry other errors', async () => {
    const time = virtualTime();
    const fn = vi.fn(async () => {
      throw new AwsError('CreateRole', 'MalformedPolicyDocument', 'Syntax errors in policy.');
    });
    await expect(retryWithBackoff(fn, isInvalidPrincipal, time)).rejects.toThrow(/Syntax errors/);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(time.slept).toEqual([]);
  });

  it('stops retrying once aborted', async () => {
    const controller = new AbortController();
    const fn = vi.fn(async () => {
      throw invalidPrincipal();
    });
    const sleep = async () => controller.abort();
    await expect(
      retryWithBackoff(fn, isInvalidPrincipal, { sleep, signal: controller.signal }),
    ).rejects.toBeInstanceOf(AwsError);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('cuts a real wait short on abort', async () => {
    const controller = new AbortController();
    const fn = vi.fn(async () => {
      throw invalidPrincipal();
    });
    setTimeout(() => controller.abort(), 10);
    const started = Date.now();
    await expect(
      retryWithBackoff(fn, isInvalidPrincipal, { baseDelayMs: 60_000, signal: controller.signal }),
    ).rejects.toBeInstanceOf(AwsError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reports each wait', async () => {
    const time = virtualTime();
    const onRetry = vi.fn();
    const fn = vi.fn<() => Promise<void>>().mockRejectedValueOnce(invalidPrincipal()).mockResolvedValue();
    await retryWithBackoff(fn, isInvalidPrincipal, { ...time, onRetry });
    expect(onRetry).toHaveBeenCalledWith({ attempt: 1, delayMs: 1000, error: expect.any(AwsError) });
  });
});

describe('retry predicates', () => {
  it('recognise the eventual-consistency errors by AWS code', () => {
    expect(isInvalidPrincipal(invalidPrincipal())).toBe(true);
    expect(isInvalidPrincipal(new AwsError('CreateRole', 'MalformedPolicyDocument', 'invalid Json'))).toBe(
      false,
    );
    expect(isConcurrentModification(new AwsError('TagRole', 'ConcurrentModification', 'x'))).toBe(true);
    expect(isNoSuchEntity(new AwsError('AttachRolePolicy', 'NoSuchEntity', 'x'))).toBe(true);
    expect(isNoSuchEntity(new Error('NoSuchEntity'))).toBe(false);
    const either = anyOf(isNoSuchEntity, isConcurrentModification);
    expect(either(new AwsError('X', 'ConcurrentModification', 'x'))).toBe(true);
    expect(either(new AwsError('X', 'Throttling', 'x'))).toBe(false);
  });
});
