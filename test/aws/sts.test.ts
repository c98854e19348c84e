import { afterEach, describe, expect, it } from 'vitest';
import { createStsPortForCredentials } from '../../src/aws/factory.js';
import { readPartition } from '../../src/aws/sts.js';
import { AwsError } from '../../src/errors.js';
import { createFakeAws, type FakeAws, fakeAwsError } from '../helpers/fake-aws.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6YWNtZS9hcHAifQ.c2lnbmF0dXJl';

let fake: FakeAws;
afterEach(() => fake.restore());

describe('StsPort', () => {
  it('takes account and partition from the caller identity', async () => {
    fake = createFakeAws({ account: '111122223333', partition: 'aws-cn' });
    expect(await fake.ports.sts.getCallerIdentity()).toEqual({
      account: '111122223333',
      partition: 'aws-cn',
      arn: 'arn:aws-cn:iam::111122223333:user/ci-admin',
      userId: 'AIDAFAKEFAKEFAKEFAKE',
    });
  });

  it.each([
    ['arn:aws:sts::123456789012:assumed-role/r/s', 'aws'],
    ['arn:aws-us-gov:iam::123456789012:user/u', 'aws-us-gov'],
  ])('reads the partition of %s', (arn, partition) => {
    expect(readPartition(arn)).toBe(partition);
  });

  it('refuses an ARN it cannot parse', () => {
    expect(() => readPartition('nonsense')).toThrow(/cannot be parsed/);
  });

  it('assumes a role with a web identity token, without signing, and returns opaque credentials', async () => {
    fake = createFakeAws({ noCredentials: true });
    const roleArn = fake.addRole({ name: 'deploy', trustPolicy: { Version: '2012-10-17', Statement: [] } });

    const assumed = await fake.ports.sts.assumeRoleWithWebIdentity({
      roleArn,
      token: TOKEN,
      sessionName: 'gitlab-aws-oidc-verify',
      durationSeconds: 900,
    });

    expect(assumed.assumedRoleArn).toBe(
      'arn:aws:sts::123456789012:assumed-role/deploy/gitlab-aws-oidc-verify',
    );
    expect(assumed.expiration).toBeInstanceOf(Date);
    expect(assumed.credentials.accessKeyId).toMatch(/^ASIA/);
    expect(fake.calls()[0]).toEqual({
      command: 'AssumeRoleWithWebIdentity',
      input: {
        RoleArn: roleArn,
        RoleSessionName: 'gitlab-aws-oidc-verify',
        WebIdentityToken: TOKEN,
        DurationSeconds: 900,
      },
    });

    // A client built with those credentials acts as the assumed role.
    const asRole = createStsPortForCredentials(assumed.credentials);
    expect((await asRole.getCallerIdentity()).arn).toBe(assumed.assumedRoleArn);
  });

  it('maps a refusal to AwsError without the token anywhere in it', async () => {
    fake = createFakeAws({
      onAssumeRoleWithWebIdentity: (input) => {
        throw fakeAwsError('InvalidIdentityToken', `Incorrect token audience for ${input.WebIdentityToken}`);
      },
    });

    const error = await fake.ports.sts
      .assumeRoleWithWebIdentity({ roleArn: fake.roleArn('deploy'), token: TOKEN, sessionName: 's' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ awsCode: 'InvalidIdentityToken', operation: 'AssumeRoleWithWebIdentity' });
    const everything = JSON.stringify({
      message: (error as Error).message,
      json: (error as AwsError).toJSON(),
    });
    expect(everything).not.toContain(TOKEN);
    expect(everything).toContain('<redacted>');
  });

  it('reports an expired web identity token as an AWS error, not as missing credentials', async () => {
    fake = createFakeAws();
    fake.failNext('AssumeRoleWithWebIdentity', 'ExpiredTokenException', 'Token expired');
    await expect(
      fake.ports.sts.assumeRoleWithWebIdentity({
        roleArn: fake.roleArn('r'),
        token: TOKEN,
        sessionName: 's',
      }),
    ).rejects.toMatchObject({ awsCode: 'ExpiredTokenException' });
  });

  it('refuses a role that does not exist by default', async () => {
    fake = createFakeAws();
    await expect(
      fake.ports.sts.assumeRoleWithWebIdentity({
        roleArn: fake.roleArn('nope'),
        token: TOKEN,
        sessionName: 's',
      }),
    ).rejects.toMatchObject({ awsCode: 'AccessDenied' });
  });
});
