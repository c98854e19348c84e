/**
 * The StsPort over an SDK `STSClient`. Imported only by `factory.ts` (and tests).
 * Neither the web identity token nor the returned credentials ever reach an error message.
 */
import {
  AssumeRoleWithWebIdentityCommand,
  GetAccessKeyInfoCommand,
  GetCallerIdentityCommand,
  type STSClient,
} from '@aws-sdk/client-sts';
import type { Identity } from '../core/types.js';
import { CliError } from '../errors.js';
import { mapAwsError } from './map-error.js';
import type { StsPort } from './ports.js';

/** `arn:aws-cn:sts::123456789012:assumed-role/x/y` → `aws-cn`. */
export function readPartition(arn: string): string {
  const partition = arn.split(':')[1];
  if (!arn.startsWith('arn:') || !partition) {
    throw new CliError('AWS_BAD_ARN', `STS returned a caller ARN that cannot be parsed: ${arn}`);
  }
  return partition;
}

export function createStsPort(client: STSClient): StsPort {
  // The caller does not change while the port's credentials do not: asked once (a failure is not kept).
  let identity: Promise<Identity> | undefined;
  const readIdentity = async (): Promise<Identity> => {
    const out = await client.send(new GetCallerIdentityCommand({})).catch((error: unknown) => {
      throw mapAwsError('GetCallerIdentity', error);
    });
    const arn = out.Arn ?? '';
    return { account: out.Account ?? '', partition: readPartition(arn), arn, userId: out.UserId ?? '' };
  };
  return {
    getCallerIdentity(): Promise<Identity> {
      identity ??= readIdentity().catch((error: unknown) => {
        identity = undefined;
        throw error;
      });
      return identity;
    },

    async getAccessKeyInfo(accessKeyId) {
      const out = await client
        .send(new GetAccessKeyInfoCommand({ AccessKeyId: accessKeyId }))
        .catch((error: unknown) => {
          throw mapAwsError('GetAccessKeyInfo', error, { secrets: [accessKeyId] });
        });
      if (!out.Account) {
        throw new CliError('AWS_NO_ACCOUNT_RETURNED', 'GetAccessKeyInfo returned no account.');
      }
      return { account: out.Account };
    },

    async assumeRoleWithWebIdentity({ roleArn, token, sessionName, durationSeconds }) {
      try {
        const out = await client.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: roleArn,
            RoleSessionName: sessionName,
            WebIdentityToken: token,
            ...(durationSeconds !== undefined ? { DurationSeconds: durationSeconds } : {}),
          }),
        );
        const creds = out.Credentials;
        if (!creds?.AccessKeyId || !creds.SecretAccessKey || !creds.SessionToken) {
          throw new CliError(
            'AWS_NO_CREDENTIALS_RETURNED',
            'AssumeRoleWithWebIdentity returned no credentials.',
          );
        }
        return {
          assumedRoleArn: out.AssumedRoleUser?.Arn ?? '',
          expiration: creds.Expiration ?? new Date(0),
          credentials: {
            accessKeyId: creds.AccessKeyId,
            secretAccessKey: creds.SecretAccessKey,
            sessionToken: creds.SessionToken,
          },
        };
      } catch (error) {
        throw mapAwsError('AssumeRoleWithWebIdentity', error, { secrets: [token], signed: false });
      }
    },
  };
}
