/** IamPort methods for roles. Imported only through `iam.ts`. */
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePermissionsBoundaryCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  PutRolePermissionsBoundaryCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from '@aws-sdk/client-iam';
import {
  callAws,
  callIgnoringMissing,
  collectPages,
  decodePolicyDocument,
  encodePolicyDocument,
  fromTagList,
  MAX_PAGE,
  requireArn,
  toTagList,
  unlessMissing,
} from './iam-call.js';
import type { IamPort } from './ports.js';

type RoleMethods = Pick<
  IamPort,
  | 'getRole'
  | 'listRoles'
  | 'createRole'
  | 'updateTrustPolicy'
  | 'updateRole'
  | 'putPermissionsBoundary'
  | 'deletePermissionsBoundary'
  | 'attachRolePolicy'
  | 'detachRolePolicy'
  | 'tagRole'
  | 'untagRole'
  | 'listInlineRolePolicies'
  | 'deleteRole'
  | 'listInstanceProfilesForRole'
  | 'removeRoleFromInstanceProfile'
>;

export function createRoleMethods(client: IAMClient): RoleMethods {
  const listAttachedPolicyArns = (roleName: string) =>
    collectPages(async (Marker) => {
      const out = await callAws('ListAttachedRolePolicies', () =>
        client.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker })),
      );
      return {
        items: (out.AttachedPolicies ?? []).flatMap((p) => (p.PolicyArn ? [p.PolicyArn] : [])),
        isTruncated: out.IsTruncated,
        marker: out.Marker,
      };
    });

  return {
    async getRole(name) {
      // Both reads answer NoSuchEntity for a missing role.
      return unlessMissing(async () => {
        const [got, attachedPolicyArns] = await Promise.all([
          callAws('GetRole', () => client.send(new GetRoleCommand({ RoleName: name }))),
          listAttachedPolicyArns(name),
        ]);
        const role = got.Role;
        if (!role) return undefined;
        return {
          name: role.RoleName ?? name,
          path: role.Path ?? '/',
          arn: role.Arn ?? '',
          trustPolicy: decodePolicyDocument(
            role.AssumeRolePolicyDocument,
            `the trust policy of role ${name}`,
          ),
          maxSessionDuration: role.MaxSessionDuration ?? 3600,
          permissionsBoundaryArn: role.PermissionsBoundary?.PermissionsBoundaryArn,
          description: role.Description,
          tags: fromTagList(role.Tags),
          attachedPolicyArns,
        };
      });
    },

    async listRoles(pathPrefix) {
      return collectPages(async (Marker) => {
        const out = await callAws('ListRoles', () =>
          client.send(
            new ListRolesCommand({
              Marker,
              MaxItems: MAX_PAGE,
              ...(pathPrefix ? { PathPrefix: pathPrefix } : {}),
            }),
          ),
        );
        return {
          items: (out.Roles ?? []).map((role) => ({
            name: role.RoleName ?? '',
            path: role.Path ?? '/',
            arn: role.Arn ?? '',
            trustPolicy: decodePolicyDocument(
              role.AssumeRolePolicyDocument,
              `the trust policy of role ${role.RoleName ?? '?'}`,
            ),
            maxSessionDuration: role.MaxSessionDuration ?? 3600,
            description: role.Description,
          })),
          isTruncated: out.IsTruncated,
          marker: out.Marker,
        };
      });
    },

    async createRole(input) {
      const out = await callAws('CreateRole', () =>
        client.send(
          new CreateRoleCommand({
            RoleName: input.name,
            Path: input.path,
            Description: input.description,
            AssumeRolePolicyDocument: encodePolicyDocument(input.trustPolicy),
            MaxSessionDuration: input.maxSessionDuration,
            ...(input.permissionsBoundaryArn ? { PermissionsBoundary: input.permissionsBoundaryArn } : {}),
            ...(Object.keys(input.tags).length ? { Tags: toTagList(input.tags) } : {}),
          }),
        ),
      );
      return requireArn('CreateRole', out.Role?.Arn);
    },

    async updateTrustPolicy(roleName, trustPolicy) {
      await callAws('UpdateAssumeRolePolicy', () =>
        client.send(
          new UpdateAssumeRolePolicyCommand({
            RoleName: roleName,
            PolicyDocument: encodePolicyDocument(trustPolicy),
          }),
        ),
      );
    },

    async updateRole(roleName, { maxSessionDuration, description }) {
      await callAws('UpdateRole', () =>
        client.send(
          new UpdateRoleCommand({
            RoleName: roleName,
            ...(maxSessionDuration !== undefined ? { MaxSessionDuration: maxSessionDuration } : {}),
            ...(description !== undefined ? { Description: description } : {}),
          }),
        ),
      );
    },

    async putPermissionsBoundary(roleName, boundaryArn) {
      await callAws('PutRolePermissionsBoundary', () =>
        client.send(
          new PutRolePermissionsBoundaryCommand({ RoleName: roleName, PermissionsBoundary: boundaryArn }),
        ),
      );
    },

    async deletePermissionsBoundary(roleName) {
      await callAws('DeleteRolePermissionsBoundary', () =>
        client.send(new DeleteRolePermissionsBoundaryCommand({ RoleName: roleName })),
      );
    },

    async attachRolePolicy(roleName, policyArn) {
      await callAws('AttachRolePolicy', () =>
        client.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn })),
      );
    },

    async detachRolePolicy(roleName, policyArn) {
      await callIgnoringMissing('DetachRolePolicy', () =>
        client.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn })),
      );
    },

    async tagRole(roleName, tags) {
      await callAws('TagRole', () =>
        client.send(new TagRoleCommand({ RoleName: roleName, Tags: toTagList(tags) })),
      );
    },

    async untagRole(roleName, tagKeys) {
      await callAws('UntagRole', () =>
        client.send(new UntagRoleCommand({ RoleName: roleName, TagKeys: tagKeys })),
      );
    },

    async listInlineRolePolicies(roleName) {
      return collectPages(async (Marker) => {
        const out = await callAws('ListRolePolicies', () =>
          client.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker })),
        );
        return { items: out.PolicyNames, isTruncated: out.IsTruncated, marker: out.Marker };
      });
    },

    async deleteRole(roleName) {
      await callIgnoringMissing('DeleteRole', () =>
        client.send(new DeleteRoleCommand({ RoleName: roleName })),
      );
    },

    async listInstanceProfilesForRole(roleName) {
      const profiles = await unlessMissing(() =>
        collectPages(async (Marker) => {
          const out = await callAws('ListInstanceProfilesForRole', () =>
            client.send(new ListInstanceProfilesForRoleCommand({ RoleName: roleName, Marker })),
          );
          return {
            items: (out.InstanceProfiles ?? []).map((p) => ({
              name: p.InstanceProfileName ?? '',
              path: p.Path ?? '/',
              arn: p.Arn ?? '',
            })),
            isTruncated: out.IsTruncated,
            marker: out.Marker,
          };
        }),
      );
      return profiles ?? [];
    },

    async removeRoleFromInstanceProfile(profileName, roleName) {
      await callIgnoringMissing('RemoveRoleFromInstanceProfile', () =>
        client.send(
          new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: profileName, RoleName: roleName }),
        ),
      );
    },
  };
}
