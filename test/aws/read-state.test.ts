import { afterEach, describe, expect, it } from 'vitest';
import { readCurrentState } from '../../src/aws/read-state.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { buildTrust, PERMISSIONS } from './apply-fixtures.js';

let fake: FakeAws;
afterEach(() => fake.restore());

describe('readCurrentState', () => {
  it('reads provider, role and policy concurrently', async () => {
    fake = createFakeAws();
    const providerArn = fake.addProvider({ url: 'https://gitlab.com', clientIds: ['https://gitlab.com'] });
    const policyArn = fake.addPolicy({ name: 'app', document: PERMISSIONS });
    fake.addRole({ name: 'deploy', trustPolicy: buildTrust(providerArn), attachedPolicyArns: [policyArn] });

    const pending = readCurrentState(fake.ports.iam, { providerArn, roleName: 'deploy', policyArn });
    // The first request of each read is out before any answer comes back.
    expect(fake.calls().map((c) => c.command)).toEqual([
      'GetOpenIDConnectProvider',
      'GetRole',
      'ListAttachedRolePolicies',
      'GetPolicy',
    ]);
    const state = await pending;

    expect(state.provider?.clientIds).toEqual(['https://gitlab.com']);
    expect(state.role?.attachedPolicyArns).toEqual([policyArn]);
    expect(state.policy?.document).toEqual(PERMISSIONS);
  });

  it('reports absent resources as undefined and skips the policy when none is managed', async () => {
    fake = createFakeAws();
    const state = await readCurrentState(fake.ports.iam, {
      providerArn: fake.providerArn('https://gitlab.com'),
      roleName: 'deploy',
    });
    expect(state).toEqual({ provider: undefined, role: undefined, policy: undefined });
    expect(fake.calls().some((c) => c.command === 'GetPolicy')).toBe(false);
  });

  it('propagates errors other than NoSuchEntity', async () => {
    fake = createFakeAws();
    fake.failNext('GetOpenIDConnectProvider', 'AccessDenied');
    await expect(
      readCurrentState(fake.ports.iam, {
        providerArn: fake.providerArn('https://gitlab.com'),
        roleName: 'r',
      }),
    ).rejects.toMatchObject({ awsCode: 'AccessDenied', operation: 'GetOpenIDConnectProvider' });
  });
});
