import { describe, expect, it } from 'vitest';
import {
  desiredVariables,
  isToolVariable,
  planVariables,
  variableValues,
} from '../../src/delivery/variables.js';
import { UsageError } from '../../src/errors.js';
import type { CiVariable, CiVariableInput } from '../../src/gitlab/api/ports.js';
import { jobNamesFor } from '../../src/render/ci-file.js';

const ARN = 'arn:aws:iam::123456789012:role/gitlab-oidc/app';
const refs = { refs: ['branch main'], unprotectedRefs: [] };

const desired = (over: Partial<Parameters<typeof desiredVariables>[0]> = {}) =>
  desiredVariables({
    jobNames: jobNamesFor(),
    roleArn: ARN,
    region: 'eu-west-1',
    refsProtected: true,
    ...over,
  });

/** A variable as GitLab returns it, from what the tool would write. */
const asStored = (v: CiVariableInput, over: Partial<CiVariable> = {}): CiVariable => ({
  key: v.key,
  value: v.value,
  variableType: v.variableType ?? 'env_var',
  protected: v.protected,
  masked: v.masked,
  hidden: false,
  raw: v.raw ?? false,
  environmentScope: v.environmentScope ?? '*',
  description: v.description ?? null,
  ...over,
});

describe('desiredVariables', () => {
  it('two unmasked raw env variables for every environment, marked in their description', () => {
    const [arn, region] = desired();
    expect(arn).toMatchObject({
      key: 'AWS_OIDC_ROLE_ARN',
      value: ARN,
      protected: true,
      masked: false,
      raw: true,
    });
    expect(region).toMatchObject({ key: 'AWS_OIDC_REGION', value: 'eu-west-1', environmentScope: '*' });
    expect(arn!.description).toMatch(
      /^Managed by gitlab-aws-oidc: the role ARN for jobs that extend \.aws-oidc \(role app\)/,
    );
    expect(arn!.description!.length).toBeLessThanOrEqual(255);
    expect(isToolVariable(arn!)).toBe(true);
    expect(isToolVariable({ description: 'set by Alice' })).toBe(false);
    expect(isToolVariable({ description: null })).toBe(false);
  });

  it('protected only when every allowed ref is protected', () => {
    expect(desired({ refsProtected: false }).every((v) => !v.protected)).toBe(true);
  });
});

describe('planVariables', () => {
  it.each([
    {
      name: 'nothing there: two creates',
      current: [] as CiVariable[],
      kinds: ['createVariable', 'createVariable'],
    },
    {
      name: 'equal: no step (a re-run makes no call)',
      current: desired().map((v) => asStored(v)),
      kinds: [],
    },
    {
      name: 'the role ARN changed: one update',
      current: desired({ roleArn: 'arn:aws:iam::123456789012:role/old' }).map((v) => asStored(v)),
      kinds: ['updateVariable', 'updateVariable'],
    },
    {
      name: 'the same key in another environment scope only: created for *',
      current: desired().map((v) => asStored(v, { environmentScope: 'production' })),
      kinds: ['createVariable', 'createVariable'],
    },
  ])('$name', ({ current, kinds }) => {
    const plan = planVariables(7, current, desired(), refs);
    expect(plan.steps.map((s) => s.kind)).toEqual(kinds);
    expect(plan.consents).toEqual([]);
  });

  it('an update shows from → to, and needs no consent for a variable the tool wrote', () => {
    const current = desired({ refsProtected: false }).map((v) => asStored(v));
    const plan = planVariables(7, current, desired(), refs);
    expect(plan.steps).toHaveLength(2);
    expect(plan.steps[0]).toMatchObject({
      kind: 'updateVariable',
      project: 7,
      variable: { key: 'AWS_OIDC_ROLE_ARN', protected: true },
      from: { key: 'AWS_OIDC_ROLE_ARN', protected: false, value: ARN },
    });
    expect(plan.consents).toEqual([]);
  });

  it('a variable of the same key the tool did not write is changed only with consent', () => {
    const [arn, region] = desired();
    const current = [
      asStored(arn!, { value: 'arn:aws:iam::1:role/x', description: null }),
      asStored(region!),
    ];
    const plan = planVariables(7, current, desired(), refs);
    expect(plan.steps.map((s) => s.kind)).toEqual(['updateVariable']);
    expect(plan.consents).toEqual([
      expect.objectContaining({
        consent: 'overwrite-drift',
        resource: 'CI/CD variable AWS_OIDC_ROLE_ARN',
        message: expect.stringMatching(
          /was not set by gitlab-aws-oidc.*value: "arn:aws:iam::1:role\/x" → "arn:aws:iam::123456789012:role\/gitlab-oidc\/app"/,
        ),
      }),
    ]);
  });

  it('a masked current value is never shown', () => {
    const [arn] = desired();
    const plan = planVariables(
      7,
      [asStored(arn!, { value: 'secret-ish', masked: true, description: null })],
      [arn!],
      refs,
    );
    expect(plan.consents[0]!.message).toContain('value: (masked) →');
    expect(plan.consents[0]!.message).not.toContain('secret-ish');
  });

  it('refuses a key the tool wrote for another role (names that differ only in . and -)', () => {
    const other = desiredVariables({
      jobNames: jobNamesFor('dev-eu'),
      roleArn: `${ARN}x`,
      region: 'eu-west-1',
      refsProtected: false,
    });
    const mine = desiredVariables({
      jobNames: jobNamesFor('dev.eu'),
      roleArn: ARN,
      region: 'eu-west-1',
      refsProtected: false,
    });
    expect(other[0]!.key).toBe(mine[0]!.key);
    const run = () =>
      planVariables(
        7,
        other.map((v) => asStored(v)),
        mine,
        refs,
      );
    expect(run).toThrow(UsageError);
    expect(run).toThrow(/already the one of \.aws-oidc-dev-eu/);
  });

  it('refuses a hidden variable of the same key (its value cannot be read)', () => {
    const [arn] = desired();
    const run = () =>
      planVariables(7, [asStored(arn!, { value: undefined, hidden: true, masked: true })], [arn!], refs);
    expect(run).toThrow(/is hidden/);
  });

  it('warns about project variables that override the hidden job in every job', () => {
    const stray = asStored(desired()[1]!, { key: 'AWS_DEFAULT_REGION', description: null });
    const plan = planVariables(7, [stray], desired(), refs);
    expect(plan.warnings.join('\n')).toMatch(
      /sets the CI\/CD variable AWS_DEFAULT_REGION: project variables override/,
    );
  });

  it('says why the variables are (not) protected', () => {
    expect(planVariables(7, [], desired(), refs).protection).toMatch(
      /^protected: every allowed ref \(branch main\)/,
    );
    const open = planVariables(7, [], desired({ refsProtected: false }), {
      refs: ['branch main', 'tag v*'],
      unprotectedRefs: ['tag v*'],
    });
    expect(open.protection).toMatch(
      /^not protected: tag v\* is not protected, and a protected variable is empty/,
    );
    expect(
      planVariables(7, [], desired({ refsProtected: false }), { refs: ['branch main'], unprotectedRefs: [] })
        .protection,
    ).toMatch(/is not known/);
  });

  it('variableValues: the values of scope * only (for finding a role through its hidden job)', () => {
    const [arn] = desired();
    expect(
      variableValues([asStored(arn!), asStored(arn!, { environmentScope: 'prod', value: 'x' })]),
    ).toEqual({
      AWS_OIDC_ROLE_ARN: ARN,
    });
  });
});
