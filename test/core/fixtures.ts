/** Fixtures shared by the core tests: the gitlab.com provider of one account and trust-policy builders. */
import type { PolicyDocument, PolicyStatement } from '../../src/core/types.js';

export const GITLAB_COM_PROVIDER = 'arn:aws:iam::123456789012:oidc-provider/gitlab.com';
/** GitLab's default sub for the main branch of grp/app. */
export const MAIN_SUB = 'project_path:grp/app:ref_type:branch:ref:main';

export function policyDoc(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

/** An Allow of AssumeRoleWithWebIdentity for the gitlab.com provider; `extra` replaces any member. */
export function allowWebIdentity(
  condition: PolicyStatement['Condition'],
  extra: Partial<PolicyStatement> = {},
): PolicyStatement {
  return {
    Effect: 'Allow',
    Principal: { Federated: GITLAB_COM_PROVIDER },
    Action: 'sts:AssumeRoleWithWebIdentity',
    ...(condition ? { Condition: condition } : {}),
    ...extra,
  };
}
