/**
 * `export --format terraform`: the desired state `init` would apply, as a Terraform / OpenTofu root
 * module. Pure: (desired state, context) → files.
 *
 * Decisions:
 * - The trust policy and the permission policy are the exact JSON text `init` sends to IAM (compact
 *   `JSON.stringify`), as one HCL string literal. `jsonencode()` would reorder keys, so only a literal
 *   keeps the bytes. The role `depends_on` the provider, which a literal ARN would not imply.
 * - Account and partition are literals, not variables: the permission policy, the boundary and the
 *   managed policy ARNs were checked for that one account, so a variable could only lie. Instead a
 *   precondition fails the plan when the credentials belong to another account or partition.
 * - An OIDC provider is one per URL per account and shared by every role of the GitLab instance: an
 *   existing one is read with a data source (and the plan fails when it lacks the audience), so this
 *   configuration never changes or destroys it. `manageExistingProvider` imports it instead, for the
 *   one configuration that should own it. An absent provider is created here.
 * - What already exists gets an `import` block (Terraform 1.5+, OpenTofu 1.6+), and the arguments
 *   (tags included: the tool's ownership record too) equal what `init` writes, so adopting an
 *   init-made setup is a no-op plan.
 */
import { policyRecordTags, roleRecordTags } from '../core/ownership.js';
import type { DesiredState, Tags } from '../core/types.js';
import {
  attr,
  blank,
  block,
  comment,
  type HclItem,
  type HclValue,
  hclIdentifier,
  hclString,
  ref,
  renderHclFile,
} from './hcl.js';
import { exportHeader } from './marker.js';
import type { ExportContext, ExportFile, ExportRenderer } from './types.js';

export const TERRAFORM_FILES = ['versions.tf', 'main.tf', 'imports.tf', 'outputs.tf'] as const;
/** thumbprint_list became optional in hashicorp/aws 5.81.0 (PR #37255, December 2024). */
export const AWS_PROVIDER_VERSION = '>= 5.81.0';
/** `import` blocks: Terraform 1.5+ (OpenTofu 1.6+, whose versions satisfy this too). */
export const TERRAFORM_VERSION = '>= 1.5.0';

const NAME = 'gitlab_ci';
const PROVIDER = 'gitlab';

/** The tags `init` puts on the role: the tool's own plus its ownership record of what it wrote. */
export function roleTagsAsInitWrites(desired: DesiredState): Tags {
  const role = desired.role;
  return { ...role.tags, ...roleRecordTags({ ...role, attachedByTool: role.managedPolicyArns }) };
}

/** The tags `init` puts on the tool-managed policy. */
export function policyTagsAsInitWrites(policy: NonNullable<DesiredState['policy']>): Tags {
  return { ...policy.tags, ...policyRecordTags(policy.document) };
}

const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];

interface Addresses {
  provider: { address: string; arn: string; managed: boolean; items: HclItem[] };
  attachments: { name: string; policyArn: string; value: HclValue }[];
}

function providerPart(desired: DesiredState, context: ExportContext): Addresses['provider'] {
  const want = desired.provider;
  const have = context.existing.providerArn ? context.existing.provider : undefined;
  const exists = context.existing.providerArn !== undefined;
  if (exists && !context.manageExistingProvider) {
    return {
      address: `data.aws_iam_openid_connect_provider.${PROVIDER}`,
      arn: context.existing.providerArn as string,
      managed: false,
      items: [
        comment(
          `The OIDC provider for ${want.url} exists in the account and is shared by every role of the\ninstance: read, never changed or destroyed here (export --manage-provider imports it instead).`,
        ),
        block('data', ['aws_iam_openid_connect_provider', PROVIDER], [attr('url', want.url)]),
      ],
    };
  }
  // An imported provider keeps the client IDs other projects rely on (init only ever adds its own).
  const clientIds = have ? union(have.clientIds, want.clientIds) : want.clientIds;
  const thumbprints = want.thumbprints.length ? want.thumbprints : (have?.thumbprints ?? []);
  const tags = have ? have.tags : want.tags;
  return {
    address: `aws_iam_openid_connect_provider.${PROVIDER}`,
    arn: want.arn,
    managed: true,
    items: [
      ...(have
        ? [
            comment(
              'Imported (export --manage-provider): every role of this GitLab instance in the account trusts\nthis provider; destroying this configuration deletes it for all of them.',
            ),
          ]
        : []),
      block(
        'resource',
        ['aws_iam_openid_connect_provider', PROVIDER],
        [
          attr('url', want.url),
          attr('client_id_list', clientIds),
          // None for gitlab.com: AWS checks its certificate against its own trusted CAs.
          ...(thumbprints.length ? [attr('thumbprint_list', thumbprints)] : []),
          attr('tags', tags),
        ],
      ),
    ],
  };
}

function attachmentsOf(desired: DesiredState): Addresses['attachments'] {
  const used = new Set<string>();
  return desired.role.managedPolicyArns.map((policyArn) => {
    const own = desired.policy !== undefined && policyArn === desired.policy.arn;
    let name = own ? NAME : hclIdentifier(policyArn.split('/').pop() ?? 'policy');
    if (!own && name === NAME) name = `${name}_managed`;
    const base = name;
    for (let n = 2; used.has(name); n++) name = `${base}_${n}`;
    used.add(name);
    return { name, policyArn, value: own ? ref(`aws_iam_policy.${NAME}.arn`) : policyArn };
  });
}

function renderMain(desired: DesiredState, context: ExportContext, parts: Addresses): string {
  const { account, partition } = context.identity;
  const role = desired.role;
  const provider = parts.provider;
  const preconditions = [
    block(
      'precondition',
      [],
      [
        attr(
          'condition',
          ref(
            `data.aws_caller_identity.current.account_id == "${account}" && data.aws_partition.current.partition == "${partition}"`,
          ),
        ),
        attr(
          'error_message',
          `This configuration was exported for AWS account ${account} (${partition}): its ARNs and policies name that account. Run it with credentials for that account, or export again for the other one.`,
        ),
      ],
    ),
    ...(provider.managed
      ? []
      : desired.provider.clientIds.map((aud) =>
          block(
            'precondition',
            [],
            [
              attr('condition', ref(`contains(${provider.address}.client_id_list, ${hclString(aud)})`)),
              attr(
                'error_message',
                `The OIDC provider for ${desired.provider.url} does not list the audience ${aud}: jobs could not assume the role. Add it (aws iam add-client-id-to-open-id-connect-provider) or export with --manage-provider.`,
              ),
            ],
          ),
        )),
  ];
  const items: HclItem[] = [
    comment(exportHeader('terraform', context.toolVersion).slice(2)),
    comment(`GitLab project ${context.project} on ${desired.provider.url}, AWS account ${account}.`),
    blank,
    block('data', ['aws_caller_identity', 'current'], []),
    block('data', ['aws_partition', 'current'], []),
    ...provider.items,
  ];
  if (desired.policy) {
    const policy = desired.policy;
    items.push(
      block(
        'resource',
        ['aws_iam_policy', NAME],
        [
          attr('name', policy.name),
          attr('path', policy.path),
          comment('The document init writes, byte for byte.'),
          attr('policy', JSON.stringify(policy.document)),
          attr('tags', policyTagsAsInitWrites(policy)),
        ],
      ),
    );
  }
  items.push(
    block(
      'resource',
      ['aws_iam_role', NAME],
      [
        attr('name', role.name),
        attr('path', role.path),
        attr('description', role.description),
        attr('max_session_duration', role.maxSessionDuration),
        ...(role.permissionsBoundaryArn ? [attr('permissions_boundary', role.permissionsBoundaryArn)] : []),
        comment('The trust policy init writes, byte for byte (compact JSON).'),
        attr('assume_role_policy', JSON.stringify(role.trustPolicy)),
        attr('tags', roleTagsAsInitWrites(desired)),
        blank,
        // The trust policy names the provider by its ARN: IAM refuses it until the provider exists.
        ...(provider.managed ? [attr('depends_on', [ref(provider.address)])] : []),
        block('lifecycle', [], preconditions),
      ],
    ),
  );
  for (const a of parts.attachments) {
    items.push(
      block(
        'resource',
        ['aws_iam_role_policy_attachment', a.name],
        [attr('role', ref(`aws_iam_role.${NAME}.name`)), attr('policy_arn', a.value)],
      ),
    );
  }
  return renderHclFile(items);
}

function renderImports(desired: DesiredState, context: ExportContext, parts: Addresses): string {
  const { existing } = context;
  const imports: { to: string; id: string; what: string }[] = [];
  if (parts.provider.managed && existing.providerArn)
    imports.push({
      to: parts.provider.address,
      id: existing.providerArn,
      what: 'the OIDC provider (by ARN)',
    });
  if (desired.policy && existing.policyArn)
    imports.push({ to: `aws_iam_policy.${NAME}`, id: existing.policyArn, what: 'the policy (by ARN)' });
  if (existing.roleName) {
    imports.push({ to: `aws_iam_role.${NAME}`, id: existing.roleName, what: 'the role (by name)' });
    for (const a of parts.attachments) {
      if (!existing.attachedPolicyArns.includes(a.policyArn)) continue;
      imports.push({
        to: `aws_iam_role_policy_attachment.${a.name}`,
        id: `${existing.roleName}/${a.policyArn}`,
        what: 'an attachment (role-name/policy-arn)',
      });
    }
  }
  const items: HclItem[] = [comment(exportHeader('terraform', context.toolVersion).slice(2))];
  if (imports.length === 0) {
    items.push(
      comment(
        `Nothing to import: none of these resources existed in account ${context.identity.account} when this was\nexported (or the export ran with --offline, which reads nothing).`,
      ),
    );
    return renderHclFile(items);
  }
  items.push(
    comment(
      `What already existed in account ${context.identity.account} when this was exported. import blocks need\nTerraform 1.5+ or OpenTofu 1.6+; once applied they may stay (a no-op) or be removed.`,
    ),
    blank,
  );
  for (const i of imports) {
    items.push(comment(i.what), block('import', [], [attr('to', ref(i.to)), attr('id', i.id)]));
  }
  return renderHclFile(items);
}

function renderVersions(context: ExportContext): string {
  return renderHclFile([
    comment(exportHeader('terraform', context.toolVersion).slice(2)),
    blank,
    block(
      'terraform',
      [],
      [
        comment('import blocks: Terraform 1.5+, OpenTofu 1.6+.'),
        attr('required_version', TERRAFORM_VERSION),
        blank,
        block(
          'required_providers',
          [],
          [
            attr('aws', {
              source: 'hashicorp/aws',
              // thumbprint_list is optional from 5.81.0 (none is written for gitlab.com).
              version: AWS_PROVIDER_VERSION,
            }),
          ],
        ),
      ],
    ),
  ]);
}

function renderOutputs(desired: DesiredState, context: ExportContext, parts: Addresses): string {
  const output = (name: string, description: string, value: string) =>
    block('output', [name], [attr('description', description), attr('value', ref(value))]);
  return renderHclFile([
    comment(exportHeader('terraform', context.toolVersion).slice(2)),
    blank,
    output('role_arn', 'The AWS_ROLE_ARN of the GitLab CI/CD jobs.', `aws_iam_role.${NAME}.arn`),
    output('oidc_provider_arn', 'The IAM OIDC provider the role trusts.', `${parts.provider.address}.arn`),
    ...(desired.policy
      ? [output('policy_arn', 'The tool-managed permission policy.', `aws_iam_policy.${NAME}.arn`)]
      : []),
  ]);
}

export const renderTerraform: ExportRenderer = (desired, context): ExportFile[] => {
  const parts: Addresses = { provider: providerPart(desired, context), attachments: attachmentsOf(desired) };
  return [
    { path: 'versions.tf', content: renderVersions(context) },
    { path: 'main.tf', content: renderMain(desired, context, parts) },
    { path: 'imports.tf', content: renderImports(desired, context, parts) },
    { path: 'outputs.tf', content: renderOutputs(desired, context, parts) },
  ];
};
