/**
 * IamPort methods for IAM users and their access keys (migrate). Imported only through `iam.ts`.
 * An access key ID that IAM echoes in an error ("The Access Key with id … cannot be found") is
 * scrubbed before the error is kept: reports show key IDs masked only.
 */
import {
  GetAccessKeyLastUsedCommand,
  type IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
} from '@aws-sdk/client-iam';
import { callAws, collectPages, isNoSuchEntity } from './iam-call.js';
import { mapAwsError } from './map-error.js';
import type { AccessKeyMetadata, IamPort } from './ports.js';

type UserMethods = Pick<IamPort, 'listUsers' | 'listAccessKeys' | 'getAccessKeyLastUsed'>;

/** Runs one SDK call about `accessKeyId`; the key never reaches the error message. */
export async function callAboutKey<T>(
  operation: string,
  accessKeyId: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw mapAwsError(operation, error, { secrets: [accessKeyId] });
  }
}

export function createUserMethods(client: IAMClient): UserMethods {
  return {
    listUsers: () =>
      collectPages(async (Marker) => {
        const out = await callAws('ListUsers', () => client.send(new ListUsersCommand({ Marker })));
        return {
          items: (out.Users ?? []).map((u) => ({
            name: u.UserName ?? '',
            path: u.Path ?? '/',
            arn: u.Arn ?? '',
            userId: u.UserId ?? '',
            createDate: u.CreateDate,
          })),
          isTruncated: out.IsTruncated,
          marker: out.Marker,
        };
      }),

    listAccessKeys: (userName) =>
      collectPages(async (Marker) => {
        const out = await callAws('ListAccessKeys', () =>
          client.send(new ListAccessKeysCommand({ UserName: userName, Marker })),
        );
        return {
          items: (out.AccessKeyMetadata ?? []).flatMap((k): AccessKeyMetadata[] =>
            k.AccessKeyId
              ? [
                  {
                    accessKeyId: k.AccessKeyId,
                    userName: k.UserName ?? userName,
                    status: k.Status === 'Inactive' ? 'Inactive' : 'Active',
                    createDate: k.CreateDate,
                  },
                ]
              : [],
          ),
          isTruncated: out.IsTruncated,
          marker: out.Marker,
        };
      }),

    async getAccessKeyLastUsed(accessKeyId) {
      try {
        const out = await callAboutKey('GetAccessKeyLastUsed', accessKeyId, () =>
          client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId })),
        );
        const used = out.AccessKeyLastUsed;
        return {
          userName: out.UserName,
          date: used?.LastUsedDate,
          service: used?.ServiceName,
          region: used?.Region,
        };
      } catch (error) {
        if (isNoSuchEntity(error)) return undefined;
        throw error;
      }
    },
  };
}
