/** Hand-built plans for the apply tests (independent of core's buildPlan). */
import type { RetryOptions } from '../../src/aws/retry.js';
import type { Plan, PlanStep, PolicyDocument } from '../../src/core/types.js';
import type { FakeAws } from '../helpers/fake-aws.js';

export const GITLAB = 'https://gitlab.com';
export const ROLE = 'gitlab-acme-app';
export const POLICY = 'gitlab-acme-app';
export const PATH = '/gitlab-oidc/';

export const PERMISSIONS: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::acme-artifacts/*' }],
};

export function buildTrust(providerArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'gitlab.com:aud': GITLAB,
            'gitlab.com:sub': 'project_path:acme/app:ref_type:branch:ref:main',
          },
        },
      },
    ],
  };
}

export function buildPlanFromSteps(steps: PlanStep[], trust: PolicyDocument): Plan {
  return {
    resources: [],
    steps,
    trustPolicy: { after: trust },
    broadening: [],
    consents: [],
    warnings: [],
    hasChanges: steps.length > 0,
  };
}

/** Seeds the AWS managed policy the plans attach and returns its ARN. */
export function seedReadOnly(fake: FakeAws): string {
  return fake.addPolicy({ name: 'ReadOnlyAccess', awsManaged: true, document: PERMISSIONS });
}

/** Fresh account: provider, policy, role, two attachments. */
export function buildFreshPlan(fake: FakeAws): Plan {
  const providerArn = fake.providerArn(GITLAB);
  const trust = buildTrust(providerArn);
  const readOnly = seedReadOnly(fake);
  return buildPlanFromSteps(
    [
      {
        kind: 'createProvider',
        url: GITLAB,
        clientIds: [GITLAB],
        thumbprints: [],
        tags: { 'managed-by': 'gitlab-aws-oidc' },
      },
      { kind: 'createPolicy', name: POLICY, path: PATH, document: PERMISSIONS, tags: {} },
      {
        kind: 'createRole',
        name: ROLE,
        path: PATH,
        description: 'GitLab CI role',
        trustPolicy: trust,
        maxSessionDuration: 3600,
        tags: { 'managed-by': 'gitlab-aws-oidc' },
      },
      { kind: 'attachPolicy', roleName: ROLE, policyArn: fake.policyArn(POLICY, PATH) },
      { kind: 'attachPolicy', roleName: ROLE, policyArn: readOnly },
    ],
    trust,
  );
}

/** Instant retries. */
export const INSTANT_RETRY: RetryOptions = { sleep: async () => {}, now: () => 0, maxElapsedMs: 120_000 };
