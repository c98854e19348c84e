/**
 * IamPort methods for IAM users and their access keys (migrate). Imported only through `iam.ts`.
 * An access key ID that IAM echoes in an error ("The Access Key with id … cannot be found") is
 * scrubbed before the error is kept: reports show key IDs masked only.
 */
import {
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  type IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  type ManagedPolicyDetail,
  type PolicyDetail,
  type GroupDetail as SdkGroupDetail,
  type UserDetail as SdkUserDetail,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { toPolicyDetail } from './iam-account.js';
import {
  callAws,
  callIgnoringMissing,
  collectPages,
  decodePolicyDocument,
  fromTagList,
  isNoSuchEntity,
  toTagList,
} from './iam-call.js';
import { mapAwsError } from './map-error.js';
import type { AccessKeyMetadata, GroupDetail, IamPort, InlinePolicyDetail, UserDetail } from './ports.js';

type UserMethods = Pick<
  IamPort,
  | 'listUsers'
  | 'listAccessKeys'
  | 'getAccessKeyLastUsed'
  | 'getUserAuthorizationDetails'
  | 'updateAccessKey'
  | 'deleteAccessKey'
  | 'listUserTags'
  | 'tagUser'
  | 'untagUser'
>;

const inlinePolicies = (list: PolicyDetail[] | undefined, owner: string): InlinePolicyDetail[] =>
  (list ?? []).flatMap((p) =>
    p.PolicyName
      ? [
          {
            name: p.PolicyName,
            document: decodePolicyDocument(p.PolicyDocument, `inline policy ${p.PolicyName} of ${owner}`),
          },
        ]
      : [],
  );

const attachedArns = (list: { PolicyArn?: string | undefined }[] | undefined): string[] =>
  (list ?? []).flatMap((p) => (p.PolicyArn ? [p.PolicyArn] : []));

function toUserDetail(user: SdkUserDetail): UserDetail {
  const name = user.UserName ?? '';
  return {
    name,
    path: user.Path ?? '/',
    arn: user.Arn ?? '',
    inlinePolicies: inlinePolicies(user.UserPolicyList, `user ${name}`),
    groupNames: user.GroupList ?? [],
    attachedPolicyArns: attachedArns(user.AttachedManagedPolicies),
    ...(user.PermissionsBoundary?.PermissionsBoundaryArn
      ? { permissionsBoundaryArn: user.PermissionsBoundary.PermissionsBoundaryArn }
      : {}),
  };
}

function toGroupDetail(group: SdkGroupDetail): GroupDetail {
  const name = group.GroupName ?? '';
  return {
    name,
    path: group.Path ?? '/',
    arn: group.Arn ?? '',
    inlinePolicies: inlinePolicies(group.GroupPolicyList, `group ${name}`),
    attachedPolicyArns: attachedArns(group.AttachedManagedPolicies),
  };
}

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

    async getUserAuthorizationDetails() {
      const pages = await collectPages(async (Marker) => {
        const out = await callAws('GetAccountAuthorizationDetails', () =>
          client.send(
            new GetAccountAuthorizationDetailsCommand({
              Filter: ['User', 'Group', 'LocalManagedPolicy'],
              Marker,
            }),
          ),
        );
        return {
          items: [
            {
              users: out.UserDetailList ?? [],
              groups: out.GroupDetailList ?? [],
              policies: out.Policies ?? ([] as ManagedPolicyDetail[]),
            },
          ],
          isTruncated: out.IsTruncated,
          marker: out.Marker,
        };
      });
      return {
        users: pages.flatMap((p) => p.users.map(toUserDetail)),
        groups: pages.flatMap((p) => p.groups.map(toGroupDetail)),
        policies: pages.flatMap((p) => p.policies.map(toPolicyDetail)),
      };
    },

    async updateAccessKey(userName, accessKeyId, status) {
      await callAboutKey('UpdateAccessKey', accessKeyId, () =>
        client.send(
          new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: status }),
        ),
      );
    },

    async deleteAccessKey(userName, accessKeyId) {
      try {
        await callAboutKey('DeleteAccessKey', accessKeyId, () =>
          client.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId })),
        );
      } catch (error) {
        if (!isNoSuchEntity(error)) throw error;
      }
    },

    async listUserTags(userName) {
      const tags = await collectPages(async (Marker) => {
        const out = await callAws('ListUserTags', () =>
          client.send(new ListUserTagsCommand({ UserName: userName, Marker })),
        );
        return { items: out.Tags ?? [], isTruncated: out.IsTruncated, marker: out.Marker };
      });
      return fromTagList(tags);
    },

    async tagUser(userName, tags) {
      await callAws('TagUser', () =>
        client.send(new TagUserCommand({ UserName: userName, Tags: toTagList(tags) })),
      );
    },

    async untagUser(userName, tagKeys) {
      await callIgnoringMissing('UntagUser', () =>
        client.send(new UntagUserCommand({ UserName: userName, TagKeys: tagKeys })),
      );
    },
  };
}
