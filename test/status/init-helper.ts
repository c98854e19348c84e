/**
 * Creates what `init` creates, through the same pure pieces init uses (desired state, plan) and H2's
 * apply, against the fake AWS. Lets status/destroy tests start from the real thing.
 */
import { applyPlan } from '../../src/aws/apply.js';
import { readCurrentState } from '../../src/aws/read-state.js';
import { buildDesiredState } from '../../src/core/desired-state.js';
import { parseIssuerUrl } from '../../src/core/issuer.js';
import { defaultPolicyName, defaultRoleName } from '../../src/core/naming.js';
import { policyRecordTags, RECORD_TAG_KEYS, roleRecordTags } from '../../src/core/ownership.js';
import { buildPlan } from '../../src/core/plan.js';
import { type PolicyDocument, PROJECT_TAG, type RefRule } from '../../src/core/types.js';
import type { FakeAws } from '../helpers/fake-aws.js';

export interface InitLike {
  project: string;
  gitlabUrl?: string;
  refs?: RefRule[];
  projectId?: string;
  protectedOnly?: boolean;
  withPolicy?: boolean;
  managedPolicyArns?: string[];
  /** Default: init's (`gitlab-<group>-<project>`, `…-permissions`), which one path shares across instances. */
  roleName?: string;
  policyName?: string;
}

export async function initProject(fake: FakeAws, input: InitLike) {
  const issuer = parseIssuerUrl(input.gitlabUrl ?? 'https://gitlab.com');
  const { desired } = buildDesiredState({
    identity: { account: fake.account, partition: fake.partition },
    issuer,
    audience: issuer.url,
    projectPath: input.project,
    refs: input.refs ?? [{ type: 'branch', pattern: 'main' }],
    projectId: input.projectId,
    protectedOnly: input.protectedOnly,
    roleName: input.roleName ?? defaultRoleName(input.project),
    managedPolicyArns: input.managedPolicyArns,
    policy:
      input.withPolicy === false
        ? undefined
        : {
            name: input.policyName ?? defaultPolicyName(input.project),
            document: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::site/*' }],
            },
          },
  });
  const current = await readCurrentState(fake.ports.iam, {
    providerArn: desired.provider.arn,
    roleName: desired.role.name,
    policyArn: desired.policy?.arn,
  });
  const plan = buildPlan(desired, current);
  await applyPlan(plan, fake.ports.iam, { retry: { sleep: async () => {} } });
  return desired;
}

/**
 * Writes the ownership record (core/ownership) for a role and its tool-managed policy as they are now,
 * as if gitlab-aws-oidc had just written them. `attachedByTool` defaults to every attached ARN.
 * Lets status tests start from a recorded role whatever the planner records on its own.
 */
export function recordAsWritten(fake: FakeAws, roleName: string, attachedByTool?: string[]): void {
  const role = fake.state.roles.get(roleName.toLowerCase());
  if (!role) throw new Error(`no role ${roleName}`);
  Object.assign(
    role.tags,
    roleRecordTags({
      trustPolicy: JSON.parse(role.trustPolicy) as PolicyDocument,
      maxSessionDuration: role.maxSessionDuration,
      permissionsBoundaryArn: role.permissionsBoundaryArn,
      attachedByTool: attachedByTool ?? role.attachedPolicyArns,
      description: role.description ?? '',
    }),
  );
  for (const arn of role.attachedPolicyArns) {
    const policy = fake.state.policies.get(arn);
    const version = policy?.versions.find((v) => v.isDefault);
    if (policy && version && policy.tags[PROJECT_TAG])
      Object.assign(policy.tags, policyRecordTags(JSON.parse(version.document) as PolicyDocument));
  }
}

/** Removes the record, as on a role made by a version of the tool that kept none. */
export function dropRecord(fake: FakeAws, roleName: string): void {
  const role = fake.state.roles.get(roleName.toLowerCase());
  if (!role) throw new Error(`no role ${roleName}`);
  for (const key of RECORD_TAG_KEYS) delete role.tags[key];
  for (const arn of role.attachedPolicyArns) {
    const policy = fake.state.policies.get(arn);
    if (policy) for (const key of RECORD_TAG_KEYS) delete policy.tags[key];
  }
}
