/**
 * The tool's own HTTPS fetches (OIDC discovery/JWKS) and the thumbprint TLS probe against an endpoint
 * that accepts and never answers: a TimeoutError naming the endpoint (default limit overridable with
 * GITLAB_AWS_OIDC_TIMEOUT_MS), and an abort (Ctrl-C/SIGTERM) ends the wait at once.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortError, TimeoutError, UsageError } from '../../src/errors.js';
import { fetchDiscovery } from '../../src/gitlab/discovery.js';
import { inspectThumbprint, resolveThumbprints } from '../../src/gitlab/thumbprint.js';
import { type BlackHole, startBlackHole } from '../helpers/black-hole.js';

const holes: BlackHole[] = [];
async function hole(): Promise<BlackHole> {
  const h = await startBlackHole();
  holes.push(h);
  return h;
}
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(holes.splice(0).map((h) => h.close()));
});

const httpsUrl = (h: BlackHole) => `https://127.0.0.1:${h.port}`;

describe('OIDC discovery against a hung endpoint', () => {
  it('times out with a TimeoutError naming the URL and the limit', async () => {
    const h = await hole();
    const error = await fetchDiscovery(httpsUrl(h), { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    const timeout = error as TimeoutError;
    expect(timeout.code).toBe('TIMEOUT');
    expect(timeout.endpoint).toBe(`${httpsUrl(h)}/.well-known/openid-configuration`);
    expect(timeout.timeoutMs).toBe(150);
    expect(timeout.message).toMatch(/OIDC discovery document/);
    expect(timeout.message).toMatch(/nothing was changed/);
    expect(timeout.hint).toContain('GITLAB_AWS_OIDC_TIMEOUT_MS');
  });

  it('takes its default limit from GITLAB_AWS_OIDC_TIMEOUT_MS', async () => {
    vi.stubEnv('GITLAB_AWS_OIDC_TIMEOUT_MS', '120');
    const h = await hole();
    const began = Date.now();
    const error = await fetchDiscovery(httpsUrl(h)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIMEOUT', timeoutMs: 120 });
    expect(Date.now() - began).toBeLessThan(3_000);
  });

  it('refuses a GITLAB_AWS_OIDC_TIMEOUT_MS that is not a number of milliseconds', async () => {
    vi.stubEnv('GITLAB_AWS_OIDC_TIMEOUT_MS', '5s');
    const error = await fetchDiscovery('https://127.0.0.1:1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).issues[0]?.field).toBe('GITLAB_AWS_OIDC_TIMEOUT_MS');
  });

  it('an abort ends the wait at once with an AbortError, and closes the connection', async () => {
    const h = await hole();
    const controller = new AbortController();
    const pending = fetchDiscovery(httpsUrl(h), { timeoutMs: 60_000, signal: controller.signal });
    await vi.waitFor(() => expect(h.connections()).toBe(1));
    const began = Date.now();
    controller.abort();
    const error = await pending.catch((e: unknown) => e);
    expect(Date.now() - began).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).message).toContain(`${httpsUrl(h)}/.well-known/openid-configuration`);
    await vi.waitFor(() => expect(h.open()).toBe(0));
  });
});

describe('thumbprint TLS probe against a hung endpoint', () => {
  it('times out with a TimeoutError naming host:port', async () => {
    const h = await hole();
    const error = await inspectThumbprint(`${httpsUrl(h)}/oauth/discovery/keys`, { timeoutMs: 150 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ endpoint: `127.0.0.1:${h.port}`, timeoutMs: 150 });
    expect((error as TimeoutError).hint).toMatch(/--thumbprint/);
  });

  it('an abort ends the probe at once', async () => {
    const h = await hole();
    const controller = new AbortController();
    const pending = inspectThumbprint(`${httpsUrl(h)}/keys`, {
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(h.connections()).toBe(1));
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    await vi.waitFor(() => expect(h.open()).toBe(0));
  });

  it('resolveThumbprints passes the signal on (an aborted run fetches nothing)', async () => {
    const h = await hole();
    const error = await resolveThumbprints({ issuer: httpsUrl(h), signal: AbortSignal.abort() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AbortError);
  });
});
