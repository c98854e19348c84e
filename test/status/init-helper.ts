/**
 * Creates what `init` creates, through the same pure pieces init uses (desired state, plan) and H2's
 * apply, against the fake AWS. Lets status/destroy tests start from the real thing.
 */
import { applyPlan } from '../../src/aws/apply.js';
import { readCurrentState } from '../../src/aws/read-state.js';
import { buildDesiredState } from '../../src/core/desired-state.js';
import { parseIssuerUrl } from '../../src/core/issuer.js';
import { defaultPolicyName, defaultRoleName } from '../../src/core/naming.js';
import { buildPlan } from '../../src/core/plan.js';
import type { RefRule } from '../../src/core/types.js';
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
