/** IamPort methods for customer managed policies. Imported only through `iam.ts`. */
import {
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  type IAMClient,
  ListPolicyVersionsCommand,
  TagPolicyCommand,
} from '@aws-sdk/client-iam';
import type { PolicyVersionInfo } from '../core/types.js';
import {
  callAws,
  callIgnoringMissing,
  callOrUndefined,
  collectPages,
  decodePolicyDocument,
  encodePolicyDocument,
  fromTagList,
  requireArn,
  toTagList,
  unlessMissing,
} from './iam-call.js';
import type { IamPort } from './ports.js';

type PolicyMethods = Pick<
  IamPort,
  | 'getPolicy'
  | 'getPolicySummary'
  | 'getPolicyDocument'
  | 'createPolicy'
  | 'createPolicyVersion'
  | 'tagPolicy'
  | 'listPolicyVersions'
  | 'deletePolicyVersion'
  | 'deletePolicy'
>;

export function createPolicyMethods(client: IAMClient): PolicyMethods {
  const getVersionDocument = async (arn: string, versionId: string) => {
    const out = await callAws('GetPolicyVersion', () =>
      client.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId })),
    );
    return decodePolicyDocument(out.PolicyVersion?.Document, `policy ${arn} version ${versionId}`);
  };

  const listPolicyVersions = (arn: string): Promise<PolicyVersionInfo[]> =>
    collectPages(async (Marker) => {
      const out = await callAws('ListPolicyVersions', () =>
        client.send(new ListPolicyVersionsCommand({ PolicyArn: arn, Marker })),
      );
      return {
        items: (out.Versions ?? []).map((v) => ({
          versionId: v.VersionId ?? '',
          isDefault: v.IsDefaultVersion ?? false,
          createDate: v.CreateDate,
        })),
        isTruncated: out.IsTruncated,
        marker: out.Marker,
      };
    });

  return {
    async getPolicy(arn) {
      const out = await callOrUndefined('GetPolicy', () =>
        client.send(new GetPolicyCommand({ PolicyArn: arn })),
      );
      const policy = out?.Policy;
      const defaultVersionId = policy?.DefaultVersionId;
      if (!defaultVersionId) return undefined;
      // Undefined as well when the policy is deleted between the reads.
      return unlessMissing(async () => {
        const [document, versions] = await Promise.all([
          getVersionDocument(arn, defaultVersionId),
          listPolicyVersions(arn),
        ]);
        return {
          arn,
          name: policy.PolicyName ?? '',
          path: policy.Path ?? '/',
          defaultVersionId,
          document,
          versions,
          tags: fromTagList(policy.Tags),
          attachmentCount: policy.AttachmentCount,
        };
      });
    },

    async getPolicySummary(arn) {
      const out = await callOrUndefined('GetPolicy', () =>
        client.send(new GetPolicyCommand({ PolicyArn: arn })),
      );
      if (!out) return undefined;
      return {
        arn,
        name: out.Policy?.PolicyName ?? '',
        path: out.Policy?.Path ?? '/',
        tags: fromTagList(out.Policy?.Tags),
      };
    },

    async getPolicyDocument(arn) {
      const out = await callOrUndefined('GetPolicy', () =>
        client.send(new GetPolicyCommand({ PolicyArn: arn })),
      );
      const versionId = out?.Policy?.DefaultVersionId;
      if (!versionId) return undefined;
      return unlessMissing(() => getVersionDocument(arn, versionId));
    },

    async createPolicy({ name, path, document, tags }) {
      const out = await callAws('CreatePolicy', () =>
        client.send(
          new CreatePolicyCommand({
            PolicyName: name,
            Path: path,
            PolicyDocument: encodePolicyDocument(document),
            ...(Object.keys(tags).length ? { Tags: toTagList(tags) } : {}),
          }),
        ),
      );
      return requireArn('CreatePolicy', out.Policy?.Arn);
    },

    async createPolicyVersion(arn, document) {
      await callAws('CreatePolicyVersion', () =>
        client.send(
          new CreatePolicyVersionCommand({
            PolicyArn: arn,
            PolicyDocument: encodePolicyDocument(document),
            SetAsDefault: true,
          }),
        ),
      );
    },

    async tagPolicy(arn, tags) {
      await callAws('TagPolicy', () =>
        client.send(new TagPolicyCommand({ PolicyArn: arn, Tags: toTagList(tags) })),
      );
    },

    listPolicyVersions,

    async deletePolicyVersion(arn, versionId) {
      await callAws('DeletePolicyVersion', () =>
        client.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: versionId })),
      );
    },

    async deletePolicy(arn) {
      await callIgnoringMissing('DeletePolicy', () =>
        client.send(new DeletePolicyCommand({ PolicyArn: arn })),
      );
    },
  };
}
