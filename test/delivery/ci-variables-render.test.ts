import { describe, expect, it } from 'vitest';
import { ciVariableKeys } from '../../src/delivery/variables.js';
import { HIDDEN_JOB_NAME, jobNamesFor, renderCiSnippet } from '../../src/render/ci-file.js';
import { chooseJobNames, findRoleJobs, variableReference } from '../../src/render/ci-jobs.js';
import { ciYamlToJs } from '../../src/render/ci-yaml.js';
import { mergeCiFile } from '../../src/render/merge.js';
import { schemaAvailable, validateCi, warnIfSchemaMissing } from '../helpers/ci-schema.js';
import { baseInput } from '../render/helpers.js';

warnIfSchemaMissing();

const PROD = 'arn:aws:iam::123456789012:role/gitlab-oidc/prod';
const DEV = 'arn:aws:iam::123456789012:role/gitlab-oidc/dev.eu';

type Jobs = Record<string, { variables?: Record<string, string> }>;

describe('--ci-variables: the hidden job reads the role ARN and region from project variables', () => {
  it('names the keys after the hidden job, so two roles never share one', () => {
    expect(ciVariableKeys(jobNamesFor())).toEqual({
      roleArn: 'AWS_OIDC_ROLE_ARN',
      region: 'AWS_OIDC_REGION',
    });
    expect(ciVariableKeys(jobNamesFor('dev.eu'))).toEqual({
      roleArn: 'AWS_OIDC_ROLE_ARN_DEV_EU',
      region: 'AWS_OIDC_REGION_DEV_EU',
    });
    expect(ciVariableKeys(jobNamesFor('ci+dev@x=y,z')).roleArn).toBe('AWS_OIDC_ROLE_ARN_CI_DEV_X_Y_Z');
  });

  it('renders $KEY references instead of the literals, and says where they come from', () => {
    const names = jobNamesFor('dev.eu');
    const text = renderCiSnippet({
      ...baseInput,
      roleArn: DEV,
      jobNames: names,
      ciVariables: ciVariableKeys(names),
    });
    const js = ciYamlToJs(text) as Jobs;
    expect(js[names.hidden]!.variables).toMatchObject({
      AWS_ROLE_ARN: '$AWS_OIDC_ROLE_ARN_DEV_EU',
      AWS_REGION: '$AWS_OIDC_REGION_DEV_EU',
      AWS_DEFAULT_REGION: '$AWS_OIDC_REGION_DEV_EU',
    });
    expect(text).not.toContain('123456789012');
    expect(text).not.toContain('eu-west-1');
    expect(text).toContain('CI/CD variables AWS_OIDC_ROLE_ARN_DEV_EU and AWS_OIDC_REGION_DEV_EU');
    // Without the flag the comment is not there and the literals are.
    const plain = renderCiSnippet(baseInput);
    expect(plain).not.toContain('CI/CD variables AWS_OIDC');
    expect(plain).toContain(baseInput.roleArn);
  });

  it('a merge recognises its own variables-mode jobs on a re-run (the marker block holds the new comment)', () => {
    const snippet = renderCiSnippet({ ...baseInput, ciVariables: ciVariableKeys(jobNamesFor()) });
    const first = mergeCiFile('build:\n  script: [make]\n', snippet, { force: false });
    expect(mergeCiFile(first.text, snippet, { force: false }).action).toBe('no-op');
    // Switching to literals rewrites the same jobs (no conflict, no second copy).
    const back = mergeCiFile(first.text, renderCiSnippet(baseInput), { force: false });
    expect(back.action).toBe('update');
    expect(Object.keys(ciYamlToJs(back.text) as object)).toEqual([
      'build',
      HIDDEN_JOB_NAME,
      'aws-oidc-check',
    ]);
  });

  it("finds a role's jobs through the project variable its AWS_ROLE_ARN names", () => {
    expect(variableReference('$AWS_OIDC_ROLE_ARN')).toBe('AWS_OIDC_ROLE_ARN');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: GitLab variable syntax
    expect(variableReference('${AWS_OIDC_ROLE_ARN_X}')).toBe('AWS_OIDC_ROLE_ARN_X');
    expect(variableReference('arn:aws:iam::1:role/$X')).toBeUndefined();
    const js = { '.aws-oidc': { variables: { AWS_ROLE_ARN: '$AWS_OIDC_ROLE_ARN' } } };
    expect(findRoleJobs(js)[0]!.roleArn).toBeUndefined();
    expect(findRoleJobs(js, { AWS_OIDC_ROLE_ARN: PROD })[0]!.roleArn).toBe(PROD);

    // A second role joins a variables-mode file: it gets the suffixed names, the first keeps the plain ones.
    const snippet = renderCiSnippet({
      ...baseInput,
      roleArn: PROD,
      ciVariables: ciVariableKeys(jobNamesFor()),
    });
    const file = mergeCiFile(undefined, snippet, { force: false }).text;
    const vars = { AWS_OIDC_ROLE_ARN: PROD };
    expect(chooseJobNames(file, PROD, { variables: vars })).toMatchObject({
      found: true,
      names: jobNamesFor(),
    });
    expect(chooseJobNames(file, DEV, { variables: vars }).names).toEqual(jobNamesFor('dev.eu'));
  });
});

describe.skipIf(!schemaAvailable)("--ci-variables snippet against GitLab's CI schema", () => {
  it('validates for the first role and a further one', () => {
    const first = renderCiSnippet({ ...baseInput, ciVariables: ciVariableKeys(jobNamesFor()) });
    expect(validateCi(ciYamlToJs(first))).toEqual([]);
    const names = jobNamesFor('dev.eu');
    const further = renderCiSnippet({
      ...baseInput,
      roleArn: DEV,
      jobNames: names,
      protectedOnly: true,
      ciVariables: ciVariableKeys(names),
    });
    expect(validateCi(ciYamlToJs(further))).toEqual([]);
  });
});
