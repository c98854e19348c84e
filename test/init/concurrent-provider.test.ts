/**
 * Two `init`s for two projects of one GitLab instance, at the same time: both plan "create the OIDC
 * provider", one wins. The other used to fail with EntityAlreadyExists; it now re-reads the provider
 * and continues with it (adding its client ID if missing), reported as adopted concurrently.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AwsPorts, IamPort } from '../../src/aws/ports.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { BASE_FLAGS, runInitWith, tempDir } from './helpers.js';

const GITLAB = 'https://gitlab.com';

let fake: FakeAws;
const cleanups: (() => void)[] = [];
afterEach(() => {
  fake?.restore();
  for (const c of cleanups.splice(0)) c();
});

function dir(): string {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  return tmp.dir;
}

/** Ports whose first CreateOpenIDConnectProvider finds the provider just made by another run. */
function racedBy(ports: AwsPorts, other: () => void): AwsPorts {
  let raced = false;
  const iam = new Proxy(ports.iam, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'createOidcProvider' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (!raced) {
          raced = true;
          other();
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as IamPort;
  return { ...ports, iam };
}

describe('init when another run creates the provider between the read and the create', () => {
  it('adopts the provider, adds its client ID when missing, and says so', async () => {
    fake = createFakeAws();
    const ports = racedBy(fake.ports, () =>
      fake.addProvider({
        url: GITLAB,
        clientIds: ['sts.amazonaws.com'],
        tags: { 'managed-by': 'gitlab-aws-oidc' },
      }),
    );
    const { result } = await runInitWith({ ...BASE_FLAGS, ciFile: false }, dir(), {
      aws: { ...fake, ports } as FakeAws,
    });
    expect(result.status).toBe('applied');
    const providerArn = fake.providerArn(GITLAB);
    expect(result.providerArn).toBe(providerArn);
    expect(result.applied[0]).toMatch(
      /^adopted OIDC provider https:\/\/gitlab\.com: created concurrently by another run/,
    );
    expect(result.applied.join('\n')).toMatch(/client ID https:\/\/gitlab\.com added/);
    expect(fake.state.providers.get(providerArn)?.clientIds.sort()).toEqual(
      [GITLAB, 'sts.amazonaws.com'].sort(),
    );
    expect(fake.state.roles.size).toBe(1);
    const calls = fake.mutatingCalls();
    expect(calls.filter((c) => c === 'CreateOpenIDConnectProvider')).toHaveLength(1);
    expect(calls).toContain('AddClientIDToOpenIDConnectProvider');
    expect(calls).toContain('CreateRole');
  });

  it('adds nothing when the other run registered the same client ID', async () => {
    fake = createFakeAws();
    const ports = racedBy(fake.ports, () =>
      fake.addProvider({ url: GITLAB, clientIds: [GITLAB], tags: { 'managed-by': 'gitlab-aws-oidc' } }),
    );
    const { result } = await runInitWith({ ...BASE_FLAGS, ciFile: false }, dir(), {
      aws: { ...fake, ports } as FakeAws,
    });
    expect(result.status).toBe('applied');
    expect(fake.mutatingCalls()).not.toContain('AddClientIDToOpenIDConnectProvider');
    // A re-run is a no-op.
    const again = await runInitWith({ ...BASE_FLAGS, ciFile: false }, dir(), { aws: fake });
    expect(again.result.status).toBe('no-changes');
  });

  it('two runs for two projects in parallel against one account both succeed, sharing one provider', async () => {
    fake = createFakeAws();
    const [a, b] = await Promise.all([
      runInitWith({ ...BASE_FLAGS, project: 'acme/web', ciFile: false }, dir(), { aws: fake }),
      runInitWith({ ...BASE_FLAGS, project: 'acme/api', ciFile: false }, dir(), { aws: fake }),
    ]);
    expect(a.result.status).toBe('applied');
    expect(b.result.status).toBe('applied');
    expect(fake.state.providers.size).toBe(1);
    expect(fake.state.roles.size).toBe(2);
  });
});
