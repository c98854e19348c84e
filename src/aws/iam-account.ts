/** IamPort methods that read the account in bulk. Imported only through `iam.ts`. */
import {
  GetAccountAuthorizationDetailsCommand,
  GetAccountSummaryCommand,
  type IAMClient,
  type ManagedPolicyDetail,
  type RoleDetail as SdkRoleDetail,
} from '@aws-sdk/client-iam';
import { callAws, collectPages, decodePolicyDocument, fromTagList, MAX_PAGE } from './iam-call.js';
import type { AccountSummary, IamPort, LocalPolicyDetail, RoleDetail } from './ports.js';

type AccountMethods = Pick<IamPort, 'getAccountAuthorizationDetails' | 'getAccountSummary'>;

function toRoleDetail(role: SdkRoleDetail): RoleDetail {
  const name = role.RoleName ?? '';
  const lastUsed = role.RoleLastUsed;
  return {
    name,
    path: role.Path ?? '/',
    arn: role.Arn ?? '',
    trustPolicy: decodePolicyDocument(role.AssumeRolePolicyDocument, `the trust policy of role ${name}`),
    permissionsBoundaryArn: role.PermissionsBoundary?.PermissionsBoundaryArn,
    tags: fromTagList(role.Tags),
    attachedPolicyArns: (role.AttachedManagedPolicies ?? []).flatMap((p) =>
      p.PolicyArn ? [p.PolicyArn] : [],
    ),
    inlinePolicyNames: (role.RolePolicyList ?? []).flatMap((p) => (p.PolicyName ? [p.PolicyName] : [])),
    instanceProfiles: (role.InstanceProfileList ?? []).map((p) => ({
      name: p.InstanceProfileName ?? '',
      path: p.Path ?? '/',
      arn: p.Arn ?? '',
    })),
    ...(lastUsed?.LastUsedDate || lastUsed?.Region
      ? { lastUsed: { date: lastUsed.LastUsedDate, region: lastUsed.Region } }
      : {}),
    ...(role.CreateDate ? { createDate: role.CreateDate } : {}),
  };
}

export function toPolicyDetail(policy: ManagedPolicyDetail): LocalPolicyDetail {
  const arn = policy.Arn ?? '';
  const versions = policy.PolicyVersionList ?? [];
  const current =
    versions.find((v) => v.IsDefaultVersion) ?? versions.find((v) => v.VersionId === policy.DefaultVersionId);
  return {
    arn,
    name: policy.PolicyName ?? '',
    path: policy.Path ?? '/',
    defaultVersionId: policy.DefaultVersionId ?? current?.VersionId ?? '',
    document: decodePolicyDocument(current?.Document, `the default version of policy ${arn}`),
    versions: versions.map((v) => ({
      versionId: v.VersionId ?? '',
      isDefault: v.IsDefaultVersion ?? false,
      createDate: v.CreateDate,
    })),
    attachmentCount: policy.AttachmentCount ?? 0,
  };
}

const count = (map: Record<string, number>, key: string) => map[key] ?? 0;

export function createAccountMethods(client: IAMClient): AccountMethods {
  return {
    async getAccountAuthorizationDetails() {
      const pages = await collectPages(async (Marker) => {
        const out = await callAws('GetAccountAuthorizationDetails', () =>
          client.send(
            new GetAccountAuthorizationDetailsCommand({
              Filter: ['Role', 'LocalManagedPolicy'],
              Marker,
              MaxItems: MAX_PAGE,
            }),
          ),
        );
        return {
          items: [{ roles: out.RoleDetailList ?? [], policies: out.Policies ?? [] }],
          isTruncated: out.IsTruncated,
          marker: out.Marker,
        };
      });
      return {
        roles: pages.flatMap((p) => p.roles.map(toRoleDetail)),
        policies: pages.flatMap((p) => p.policies.map(toPolicyDetail)),
      };
    },

    async getAccountSummary(): Promise<AccountSummary> {
      const out = await callAws('GetAccountSummary', () => client.send(new GetAccountSummaryCommand({})));
      const summaryMap = { ...(out.SummaryMap ?? {}) } as Record<string, number>;
      return {
        roles: count(summaryMap, 'Roles'),
        rolesQuota: count(summaryMap, 'RolesQuota'),
        policies: count(summaryMap, 'Policies'),
        policiesQuota: count(summaryMap, 'PoliciesQuota'),
        attachedPoliciesPerRoleQuota: count(summaryMap, 'AttachedPoliciesPerRoleQuota'),
        versionsPerPolicyQuota: count(summaryMap, 'VersionsPerPolicyQuota'),
        providers: count(summaryMap, 'Providers'),
        summaryMap,
      };
    },
  };
}
