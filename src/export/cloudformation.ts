/**
 * `export --format cloudformation`: the setup `init` would apply, as one CloudFormation template (YAML).
 *
 * - The OIDC provider sits behind the `CreateProvider` parameter: IAM allows one provider per URL per
 *   account, so a stack in an account that already has one must not try to create it (the create fails,
 *   and its rollback has been seen to delete the existing provider). The default is `false` when the
 *   export found a provider for the URL. It is retained on stack deletion: other roles trust it.
 * - `ThumbprintList` is always written: CloudFormation's handler rejects a provider without it
 *   ("Value null at 'thumbprintList'", cloudformation-coverage-roadmap#2092) although the schema and
 *   IAM say it is optional.
 * - The trust policy is `desired.role.trustPolicy` (what `init` sends) with only the provider ARN
 *   replaced by a reference to the provider; resolved for an account, it is the same document, key
 *   order included.
 * - ARNs of the exporting account and partition are written with `${AWS::AccountId}` and
 *   `${AWS::Partition}`, so one template deploys to every account of a StackSet.
 */
import { issuerFromUrl } from '../core/issuer.js';
import type { DesiredState, PolicyDocument, Tags } from '../core/types.js';
import { UsageError } from '../errors.js';
import {
  fnEquals,
  fnIf,
  getAtt,
  type Intrinsic,
  ref,
  stringifyCloudFormation,
  sub,
} from './cloudformation-yaml.js';
import type { ExportContext, ExportRenderer } from './types.js';

export const CFN_IDS = {
  createProviderParameter: 'CreateProvider',
  createProviderCondition: 'ShouldCreateProvider',
  provider: 'GitLabOidcProvider',
  policy: 'PermissionPolicy',
  role: 'GitLabRole',
} as const;

/**
 * gitlab.com: AWS validates its certificate with its own trusted CAs and keeps, but never uses, the
 * provider's thumbprints (IAM API reference: "These OIDC IdPs include Auth0, GitHub, GitLab, Google").
 * CloudFormation still needs a list, so this inert placeholder fills it; it matches no certificate,
 * so it could never make AWS trust one.
 */
export const GITLAB_COM_PLACEHOLDER_THUMBPRINT = 'ffffffffffffffffffffffffffffffffffffffff';

const MAX_TEMPLATE_DESCRIPTION = 1024;

/** `${name}`: a variable of Fn::Sub. */
const subVariable = (name: string) => `\${${name}}`;

/** `arn:aws:iam::111122223333:x` → `!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:x` (this account only). */
function portableArn(arn: string, context: ExportContext): string | Intrinsic {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return arn;
  let changed = false;
  const escaped = parts.map((part) => part.replaceAll('${', '${!'));
  if (parts[1] === context.identity.partition) {
    escaped[1] = subVariable('AWS::Partition');
    changed = true;
  }
  if (parts[4] === context.identity.account) {
    escaped[4] = subVariable('AWS::AccountId');
    changed = true;
  }
  return changed ? sub(escaped.join(':')) : arn;
}

function tagList(tags: Tags): Array<{ Key: string; Value: string }> {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Every occurrence of `from` (a whole string) in the document replaced by `to`; the rest untouched. */
function replaceString(value: unknown, from: string, to: unknown): unknown {
  if (value === from) return to;
  if (Array.isArray(value)) return value.map((item) => replaceString(item, from, to));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceString(v, from, to)]));
  }
  return value;
}

function thumbprintsFor(desired: DesiredState): string[] {
  if (desired.provider.thumbprints.length > 0) return desired.provider.thumbprints;
  if (issuerFromUrl(desired.provider.url).isGitlabCom) return [GITLAB_COM_PLACEHOLDER_THUMBPRINT];
  throw UsageError.field(
    '--thumbprint',
    `CloudFormation needs the TLS thumbprint of ${desired.provider.url} (ThumbprintList), and none was computed`,
    'Run the export without --offline so it is computed, or pass --thumbprint <40 hex characters>.',
  );
}

function buildTemplate(desired: DesiredState, context: ExportContext): Record<string, unknown> {
  const { provider, role, policy } = desired;
  const ids = CFN_IDS;
  const providerArn = fnIf(
    ids.createProviderCondition,
    getAtt(ids.provider, 'Arn'),
    portableArn(provider.arn, context),
  );
  const trustPolicy = replaceString(role.trustPolicy, provider.arn, providerArn) as PolicyDocument;
  const managedPolicyArns = role.managedPolicyArns.map((arn) =>
    policy && arn === policy.arn ? ref(ids.policy) : portableArn(arn, context),
  );

  const resources: Record<string, unknown> = {
    [ids.provider]: {
      Type: 'AWS::IAM::OIDCProvider',
      Condition: ids.createProviderCondition,
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Url: provider.url,
        ClientIdList: provider.clientIds,
        ThumbprintList: thumbprintsFor(desired),
        Tags: tagList(provider.tags),
      },
    },
  };
  if (policy) {
    // AWS::IAM::ManagedPolicy has no Tags property: the policy's tags cannot be set from a template.
    resources[ids.policy] = {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: { ManagedPolicyName: policy.name, Path: policy.path, PolicyDocument: policy.document },
    };
  }
  resources[ids.role] = {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: role.name,
      Path: role.path,
      Description: role.description,
      AssumeRolePolicyDocument: trustPolicy,
      MaxSessionDuration: role.maxSessionDuration,
      ...(role.permissionsBoundaryArn
        ? { PermissionsBoundary: portableArn(role.permissionsBoundaryArn, context) }
        : {}),
      ...(managedPolicyArns.length ? { ManagedPolicyArns: managedPolicyArns } : {}),
      Tags: tagList(role.tags),
    },
  };

  const outputs: Record<string, unknown> = {
    RoleArn: {
      Description: 'Set it as the AWS_ROLE_ARN CI/CD variable of the project.',
      Value: getAtt(ids.role, 'Arn'),
    },
    ProviderArn: { Description: `The IAM OIDC provider for ${provider.url}.`, Value: providerArn },
  };
  if (policy) outputs.PolicyArn = { Description: 'The permission policy.', Value: ref(ids.policy) };

  const description = `gitlab-aws-oidc: GitLab CI/CD OIDC role ${role.name} for ${context.project} on ${provider.url}`;
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: description.slice(0, MAX_TEMPLATE_DESCRIPTION),
    Parameters: {
      [ids.createProviderParameter]: {
        Type: 'String',
        AllowedValues: ['true', 'false'],
        Default: context.existing.providerArn ? 'false' : 'true',
        Description:
          `Create the IAM OIDC provider for ${provider.url}. IAM allows one per URL per account: ` +
          'use false in accounts that already have it.',
      },
    },
    Conditions: {
      [ids.createProviderCondition]: fnEquals(ref(ids.createProviderParameter), 'true'),
    },
    Resources: resources,
    Outputs: outputs,
  };
}

function header(desired: DesiredState, context: ExportContext): string[] {
  const found = context.existing.providerArn;
  return [
    `Generated by gitlab-aws-oidc ${context.toolVersion} for ${context.project} (role ${desired.role.name}).`,
    'The same provider, policy and role `gitlab-aws-oidc init` would apply; the trust policy is the one init writes.',
    `Deploy in one region (IAM is global) with --capabilities CAPABILITY_NAMED_IAM.`,
    found
      ? `CreateProvider defaults to false: ${found} exists in account ${context.identity.account}.`
      : `CreateProvider defaults to true: no provider for ${desired.provider.url} was found (or --offline).`,
    'Set it to false in any account that already has the provider (one per URL per account).',
  ];
}

/** Renders the CloudFormation template (one file). */
export const renderCloudFormation: ExportRenderer = (desired, context) => [
  {
    path: `${desired.role.name}.cfn.yaml`,
    content: stringifyCloudFormation(buildTemplate(desired, context), header(desired, context)),
  },
];
