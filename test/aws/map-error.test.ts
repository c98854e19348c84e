import { NoSuchEntityException } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import { mapAwsError, readAwsErrorCode } from '../../src/aws/map-error.js';
import { AwsError, CliError, CredentialsError } from '../../src/errors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';

let fake: FakeAws | undefined;
afterEach(() => {
  fake?.restore();
  fake = undefined;
});

const CODES = [
  'EntityAlreadyExists',
  'NoSuchEntity',
  'MalformedPolicyDocument',
  'LimitExceeded',
  'DeleteConflict',
  'ConcurrentModification',
  'Throttling',
  'AccessDenied',
  'ServiceFailure',
];

describe('AWS error mapping', () => {
  it.each(CODES)(
    'surfaces %s from a mutating call as AwsError with code, operation and request ID',
    async (code) => {
      fake = createFakeAws();
      const arn = fake.addProvider({ url: 'https://gitlab.com', clientIds: [] });
      fake.failNext('AddClientIDToOpenIDConnectProvider', code, `boom ${code}`);

      const error = await fake.ports.iam.addOidcClientId(arn, 'x').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AwsError);
      const aws = error as AwsError;
      expect(aws.awsCode).toBe(code);
      expect(aws.code).toBe(`AWS_${code}`);
      expect(aws.operation).toBe('AddClientIDToOpenIDConnectProvider');
      expect(aws.requestId).toMatch(/^fake-iam-\d+$/);
      expect(aws.message).toBe(`AddClientIDToOpenIDConnectProvider failed: ${code}: boom ${code}`);
      expect(aws.toJSON()).toMatchObject({ awsCode: code, requestId: aws.requestId });
    },
  );

  it('does not swallow errors other than NoSuchEntity on reads', async () => {
    fake = createFakeAws();
    fake.failNext('GetRole', 'AccessDenied');
    await expect(fake.ports.iam.getRole('deploy')).rejects.toMatchObject({
      awsCode: 'AccessDenied',
      operation: 'GetRole',
    });
  });

  it('reports real IAM validation errors from the fake', async () => {
    fake = createFakeAws();
    await fake.ports.iam.createPolicy({
      name: 'p',
      path: '/',
      document: { Version: '2012-10-17', Statement: [] },
      tags: {},
    });
    await expect(
      fake.ports.iam.createPolicy({
        name: 'P',
        path: '/x/',
        document: { Version: '2012-10-17', Statement: [] },
        tags: {},
      }),
    ).rejects.toMatchObject({ awsCode: 'EntityAlreadyExists', operation: 'CreatePolicy' });
  });

  it('maps missing credentials to CredentialsError on STS and IAM alike', async () => {
    fake = createFakeAws({ noCredentials: true });
    const sts = await fake.ports.sts.getCallerIdentity().catch((e: unknown) => e);
    expect(sts).toBeInstanceOf(CredentialsError);
    expect((sts as CredentialsError).code).toBe('NO_CREDENTIALS');
    expect((sts as CredentialsError).hint).toMatch(/aws sso login/);
    await expect(fake.ports.iam.listOidcProviderArns()).rejects.toBeInstanceOf(CredentialsError);
  });

  it('maps expired or invalid caller credentials to CredentialsError, keeping the AWS error as cause', async () => {
    fake = createFakeAws();
    fake.failNext(
      'GetCallerIdentity',
      'ExpiredToken',
      'The security token included in the request is expired',
    );
    const error = await fake.ports.sts.getCallerIdentity().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect((error as CredentialsError).cause).toMatchObject({
      awsCode: 'ExpiredToken',
      requestId: expect.any(String),
    });
  });

  it('reads the wire code, or the modeled class name without its Exception suffix', () => {
    const $metadata = { requestId: 'r-1' };
    expect(readAwsErrorCode(new NoSuchEntityException({ message: 'm', $metadata }))).toBe('NoSuchEntity');
    expect(readAwsErrorCode({ name: 'Throttling' })).toBe('Throttling');
    expect(readAwsErrorCode({ name: 'NoSuchEntityException', Code: 'NoSuchEntity' })).toBe('NoSuchEntity');
    expect(readAwsErrorCode({ name: 'RegionDisabledException' })).toBe('RegionDisabledException');
    expect(readAwsErrorCode(undefined)).toBe('UnknownError');
  });

  it('passes CliErrors through and scrubs secrets from messages', () => {
    const mine = new CliError('X', 'mine');
    expect(mapAwsError('Op', mine)).toBe(mine);
    const mapped = mapAwsError(
      'Op',
      { name: 'InvalidIdentityToken', message: 'bad token eyJabc.def' },
      {
        secrets: ['eyJabc.def'],
      },
    );
    expect(mapped.message).toBe('Op failed: InvalidIdentityToken: bad token <redacted>');
  });
});
