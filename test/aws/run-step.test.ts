/**
 * Which NoSuchEntity on AttachRolePolicy is IAM propagation (retried) and which is a policy that does
 * not exist (failed at once): an AWS managed policy exists in every account from the start, so its
 * NoSuchEntity is never propagation, whatever this run created.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRunContext, runStep } from '../../src/aws/run-step.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { AwsError } from '../../src/errors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { virtualClock } from '../init/helpers.js';

let fake: FakeAws;
afterEach(() => fake?.restore());

const TRUST: PolicyDocument = { Version: '2012-10-17', Statement: [] };
const attempts = (f: FakeAws) => f.calls().filter((c) => c.command === 'AttachRolePolicy').length;

describe('runStep attachPolicy', () => {
  it('a missing AWS managed policy on a role this run created fails at once (no propagation retry)', async () => {
    fake = createFakeAws();
    const ctx = createRunContext();
    fake.addRole({ name: 'app', trustPolicy: TRUST });
    ctx.createdRoleNames.add('app');
    const policyArn = 'arn:aws:iam::aws:policy/ReadOnlyAcess';
    const error = await runStep(
      { kind: 'attachPolicy', roleName: 'app', policyArn },
      fake.ports.iam,
      ctx,
      virtualClock(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsError);
    expect((error as AwsError).awsCode).toBe('NoSuchEntity');
    expect(attempts(fake)).toBe(1);
  });

  it('NoSuchEntity for the role this run just created is still retried (propagation)', async () => {
    fake = createFakeAws();
    const ctx = createRunContext();
    fake.addRole({ name: 'app', trustPolicy: TRUST });
    ctx.createdRoleNames.add('app');
    const policyArn = fake.addPolicy({
      name: 'ReadOnlyAccess',
      awsManaged: true,
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }] },
    });
    // The role is not visible yet: GetRole-style NoSuchEntity twice, then it is there.
    fake.failNext('AttachRolePolicy', 'NoSuchEntity', 'The role with name app cannot be found.', {
      times: 2,
    });
    await runStep(
      { kind: 'attachPolicy', roleName: 'app', policyArn },
      fake.ports.iam,
      ctx,
      virtualClock(),
    ).catch(() => {});
    expect(attempts(fake)).toBe(3);
  });
});
