/** planVariableCleanup: which of the project's CI/CD variables go with the roles a destroy run deletes. */
import { describe, expect, it } from 'vitest';
import { desiredVariables } from '../../src/delivery/variables.js';
import { planVariableCleanup, toolVariableKey } from '../../src/destroy/ci-variables.js';
import type { CiVariable } from '../../src/gitlab/api/ports.js';
import { jobNamesFor } from '../../src/render/ci-file.js';

const ACCOUNT = '111122223333';
const WEB = `arn:aws:iam::${ACCOUNT}:role/gitlab-acme-web`;
const DEV = `arn:aws:iam::${ACCOUNT}:role/web-dev`;

/** What init --ci-variables writes for a role (the real descriptions). */
function tool(roleArn: string, suffix?: string): CiVariable[] {
  return desiredVariables({
    jobNames: jobNamesFor(suffix),
    roleArn,
    region: 'eu-west-1',
    refsProtected: true,
  }).map((v) => ({ ...v, variableType: 'env_var', hidden: false, raw: true, environmentScope: '*' }));
}
const plain = (key: string, value: string | undefined, extra: Partial<CiVariable> = {}): CiVariable => ({
  key,
  value,
  variableType: 'env_var',
  protected: false,
  masked: false,
  hidden: false,
  raw: false,
  environmentScope: '*',
  ...extra,
});
const verdicts = (vars: CiVariable[], targets: Parameters<typeof planVariableCleanup>[2]) =>
  planVariableCleanup('acme/web', vars, targets).variables.map((v) => [v.key, v.action, v.reason]);

describe('planVariableCleanup', () => {
  it('keys: only the tool’s names, with their tail', () => {
    expect(toolVariableKey('AWS_OIDC_ROLE_ARN')).toEqual({ kind: 'roleArn', tail: '' });
    expect(toolVariableKey('AWS_OIDC_REGION_WEB_DEV')).toEqual({ kind: 'region', tail: '_WEB_DEV' });
    expect(toolVariableKey('AWS_ROLE_ARN')).toBeUndefined();
    expect(toolVariableKey('AWS_OIDC_ROLE_ARNX')).toBeUndefined();
  });

  it('two roles in one project: only the deleted role’s pair goes, region first', () => {
    const vars = [...tool(WEB), ...tool(DEV, 'web-dev')];
    const plan = planVariableCleanup('acme/web', vars, { roleArns: [DEV], account: ACCOUNT });
    expect(plan.steps.map((s) => s.key)).toEqual(['AWS_OIDC_REGION_WEB_DEV', 'AWS_OIDC_ROLE_ARN_WEB_DEV']);
    expect(plan.variables.filter((v) => v.action === 'keep').map((v) => v.reason)).toEqual([
      'names role gitlab-acme-web, which this run does not delete',
      'goes with AWS_OIDC_ROLE_ARN, which is kept',
    ]);
  });

  it('kept: hidden, another account’s role, not a role ARN; foreign ones listed only when they concern the run', () => {
    const other = `arn:aws:iam::999988887777:role/gitlab-acme-web`;
    const [arn, region] = tool(WEB);
    expect(
      verdicts([{ ...arn!, value: undefined, hidden: true }], { roleArns: [WEB], account: ACCOUNT }),
    ).toEqual([['AWS_OIDC_ROLE_ARN', 'keep', 'hidden: its value cannot be read to tell whose it is']]);
    expect(verdicts([{ ...arn!, value: other }, region!], { roleArns: [WEB], account: ACCOUNT })).toEqual([
      [
        'AWS_OIDC_ROLE_ARN',
        'keep',
        'names role gitlab-acme-web of account 999988887777, which this run does not delete',
      ],
      ['AWS_OIDC_REGION', 'keep', 'goes with AWS_OIDC_ROLE_ARN, which is kept'],
    ]);
    expect(verdicts([{ ...arn!, value: 'not-an-arn' }], { roleArns: [WEB], account: ACCOUNT })).toEqual([
      ['AWS_OIDC_ROLE_ARN', 'keep', 'its value is not a role ARN'],
    ]);
    // Set by hand: listed as kept when it names a role of this run, not listed otherwise.
    expect(
      verdicts([plain('AWS_OIDC_ROLE_ARN', WEB), plain('AWS_OIDC_ROLE_ARN_X', DEV)], {
        roleArns: [WEB],
        account: ACCOUNT,
      }),
    ).toEqual([['AWS_OIDC_ROLE_ARN', 'keep', 'not set by gitlab-aws-oidc']]);
  });

  it('--role names the role even when IAM no longer has it; an environment-scoped pair is its own', () => {
    const scoped = tool(WEB).map((v) => ({ ...v, environmentScope: 'production' }));
    const plan = planVariableCleanup('acme/web', [...tool(DEV), ...scoped], {
      roleArns: [],
      roleName: 'GITLAB-ACME-WEB',
      account: ACCOUNT,
    });
    expect(plan.steps).toEqual([
      { kind: 'deleteVariable', project: 'acme/web', key: 'AWS_OIDC_REGION', environmentScope: 'production' },
      {
        kind: 'deleteVariable',
        project: 'acme/web',
        key: 'AWS_OIDC_ROLE_ARN',
        environmentScope: 'production',
      },
    ]);
  });
});
