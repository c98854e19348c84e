/**
 * `--managed-policy` ARNs are checked while planning (iam:GetPolicy), before any change and also with
 * --dry-run: a policy that does not exist is a usage error (exit 2) naming the flag and the ARN, told
 * apart as an AWS managed policy (a typo) or a customer policy; GetPolicy refused (AccessDenied) is a
 * warning, not a refusal. --offline checks nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/core/types.js';
import { ExitCode, UsageError } from '../../src/errors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { BASE_FLAGS, runInitWith, tempDir } from './helpers.js';

const DOC: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }],
};
const TYPO = 'arn:aws:iam::aws:policy/ReadOnlyAcess';

let fake: FakeAws;
let cleanup: () => void = () => {};
afterEach(() => {
  fake?.restore();
  cleanup();
});

function setup() {
  fake = createFakeAws();
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  return { dir: tmp.dir };
}

async function refusal(promise: Promise<unknown>): Promise<UsageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe('init --managed-policy', () => {
  it('a misspelt AWS managed policy: exit 2 naming --managed-policy and the ARN, no change, no retries', async () => {
    const { dir } = setup();
    const began = Date.now();
    const error = await refusal(runInitWith({ ...BASE_FLAGS, managedPolicy: [TYPO] }, dir, { aws: fake }));
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.issues).toEqual([
      {
        field: '--managed-policy',
        message: expect.stringContaining(`AWS managed policy ${TYPO} does not exist`),
      },
    ]);
    expect(error.message).toContain(TYPO);
    expect(error.hint).toMatch(/aws iam list-policies --scope AWS/);
    expect(fake.mutatingCalls()).toEqual([]);
    expect(
      fake
        .calls()
        .filter((c) => c.command === 'GetPolicy')
        .map((c) => (c.input as { PolicyArn?: string }).PolicyArn),
    ).toContain(TYPO);
  });

  it('a customer policy that does not exist: exit 2 naming the account, no change', async () => {
    const { dir } = setup();
    const arn = 'arn:aws:iam::123456789012:policy/deploy-app';
    const error = await refusal(runInitWith({ ...BASE_FLAGS, managedPolicy: [arn] }, dir, { aws: fake }));
    expect(error.issues[0]).toMatchObject({ field: '--managed-policy' });
    expect(error.issues[0]?.message).toMatch(
      /customer managed policy .*deploy-app does not exist in account 123456789012/,
    );
    expect(fake.mutatingCalls()).toEqual([]);
  });

  it('names every missing ARN at once, and only those', async () => {
    const { dir } = setup();
    const present = fake.addPolicy({ name: 'ReadOnlyAccess', awsManaged: true, document: DOC });
    const other = 'arn:aws:iam::aws:policy/PowerUserAcces';
    const error = await refusal(
      runInitWith({ ...BASE_FLAGS, managedPolicy: [present, TYPO, other] }, dir, { aws: fake }),
    );
    expect(error.issues.map((i) => i.message.split(' does not')[0])).toEqual([
      `AWS managed policy ${TYPO}`,
      `AWS managed policy ${other}`,
    ]);
  });

  it('is checked with --dry-run too', async () => {
    const { dir } = setup();
    await refusal(runInitWith({ ...BASE_FLAGS, dryRun: true, managedPolicy: [TYPO] }, dir, { aws: fake }));
    expect(fake.mutatingCalls()).toEqual([]);
  });

  it('existing policies pass and are attached', async () => {
    const { dir } = setup();
    const arn = fake.addPolicy({ name: 'ReadOnlyAccess', awsManaged: true, document: DOC });
    const { result } = await runInitWith({ ...BASE_FLAGS, managedPolicy: [arn] }, dir, { aws: fake });
    expect(result.status).toBe('applied');
    expect(fake.mutatingCalls()).toContain('AttachRolePolicy');
  });

  it('GetPolicy refused (AccessDenied): a warning that it could not be checked, not a refusal', async () => {
    const { dir } = setup();
    const arn = fake.addPolicy({ name: 'ReadOnlyAccess', awsManaged: true, document: DOC });
    fake.failNext('GetPolicy', 'AccessDenied', 'not authorized to perform: iam:GetPolicy');
    const { result } = await runInitWith({ ...BASE_FLAGS, dryRun: true, managedPolicy: [arn] }, dir, {
      aws: fake,
    });
    expect(result.warnings.join('\n')).toMatch(
      new RegExp(
        `could not check that --managed-policy ${arn.replace(/[/.]/g, '\\$&')} exists .*AccessDenied`,
      ),
    );
  });

  it('--offline checks nothing (no AWS call at all)', async () => {
    const { dir } = setup();
    const { result } = await runInitWith(
      { ...BASE_FLAGS, dryRun: true, offline: true, managedPolicy: [TYPO] },
      dir,
      {
        aws: fake,
      },
    );
    expect(result.status).toBe('planned');
    expect(fake.calls()).toEqual([]);
  });
});
