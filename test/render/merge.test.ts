import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { UsageError } from '../../src/errors.js';
import {
  CHECK_JOB_NAME,
  HIDDEN_JOB_NAME,
  jobNamesFor,
  renderCiSnippet,
  VERIFY_JOB_NAME,
} from '../../src/render/ci-file.js';
import { ciYamlToJs, parseCiDocument } from '../../src/render/ci-yaml.js';
import { findLegacyJwtUsage, mergeCiFile } from '../../src/render/merge.js';
import { schemaAvailable, validateCi, warnIfSchemaMissing } from '../helpers/ci-schema.js';
import { baseInput, fixture, verifyFromImage } from './helpers.js';

const snippet = renderCiSnippet(baseInput);
const merge = (existing: string | undefined, snip = snippet, force = false) =>
  mergeCiFile(existing, snip, { force, fileName: '.gitlab-ci.yml' });

function jobs(text: string): Record<string, unknown> {
  return ciYamlToJs(text) as Record<string, unknown>;
}

function caught(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error('expected a UsageError');
}

describe('mergeCiFile', () => {
  it('creates the file from the snippet when there is none', () => {
    expect(merge(undefined)).toEqual({ text: snippet, action: 'create', conflicts: [], warnings: [] });
  });

  it('appends to a realistic file, leaving every existing byte in place, and re-merging is a no-op', () => {
    const existing = fixture('realistic.yml');
    const result = merge(existing);
    expect(result.action).toBe('update');
    expect(result.conflicts).toEqual([]);
    expect(result.text.startsWith(existing)).toBe(true);
    expect(result.text.slice(existing.length)).toBe(`\n${snippet}`);

    const before = jobs(existing);
    const after = jobs(result.text);
    for (const key of Object.keys(before)) expect(after[key], key).toEqual(before[key]);
    expect(Object.keys(after)).toEqual([...Object.keys(before), HIDDEN_JOB_NAME, CHECK_JOB_NAME]);
    expect((after[CHECK_JOB_NAME] as { stage: string }).stage).toBe('test');

    const again = merge(result.text);
    expect(again.action).toBe('no-op');
    expect(again.text).toBe(result.text);
  });

  it('warns about default: id_tokens and a default before_script in the existing file', () => {
    const { warnings } = merge(fixture('realistic.yml'));
    expect(warnings.some((w) => /default: id_tokens.*replace the default/.test(w))).toBe(true);
    expect(warnings.some((w) => /default before_script/.test(w))).toBe(true);
  });

  it('updates only its own jobs in place: text before and after the block stays byte-identical', () => {
    const head = fixture('realistic.yml');
    const tail = '\n# added by a human after init\nlate-job:\n  script: [echo late] # keep me\n';
    const existing = `${merge(head).text}${tail}`;
    const result = merge(existing, renderCiSnippet({ ...baseInput, region: 'us-east-2' }));
    expect(result.action).toBe('update');
    expect(result.text.startsWith(head)).toBe(true);
    expect(result.text.endsWith(tail)).toBe(true);
    const changed = result.text.split('\n').filter((l, i) => l !== existing.split('\n')[i]);
    expect(changed).toEqual(["    AWS_REGION: 'us-east-2'", "    AWS_DEFAULT_REGION: 'us-east-2'"]);
  });

  it('reports CI_JOB_JWT* usage with line numbers and still merges', () => {
    const existing = fixture('legacy-jwt.yml');
    expect(findLegacyJwtUsage(existing)).toEqual([
      { line: 16, column: 29, variable: 'CI_JOB_JWT_V2' },
      { line: 22, column: 24, variable: 'CI_JOB_JWT_V1' },
      { line: 22, column: 59, variable: 'CI_JOB_JWT' },
    ]);
    const result = merge(existing);
    expect(result.warnings.filter((w) => /removed in GitLab 17\.0/.test(w))).toEqual([
      '.gitlab-ci.yml:16: CI_JOB_JWT_V2 was removed in GitLab 17.0; jobs using it fail. Use id_tokens (extend .aws-oidc).',
      '.gitlab-ci.yml:22: CI_JOB_JWT_V1 was removed in GitLab 17.0; jobs using it fail. Use id_tokens (extend .aws-oidc).',
      '.gitlab-ci.yml:22: CI_JOB_JWT was removed in GitLab 17.0; jobs using it fail. Use id_tokens (extend .aws-oidc).',
    ]);
    expect(result.text.startsWith(existing)).toBe(true);
  });

  it('findLegacyJwtUsage ignores comments and longer names', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell variable syntax
    expect(findLegacyJwtUsage('# $CI_JOB_JWT\nx: $MY_CI_JOB_JWT $CI_JOB_JWT_V3 ${CI_JOB_JWT_V2}\n')).toEqual([
      { line: 2, column: 36, variable: 'CI_JOB_JWT_V2' },
    ]);
  });

  it('uses the always-present .pre stage when stages: lacks "test", and stays idempotent', () => {
    const existing = fixture('custom-stages.yml');
    const result = merge(existing);
    expect((jobs(result.text)[CHECK_JOB_NAME] as { stage: string }).stage).toBe('.pre');
    expect(result.warnings.some((w) => /stages: without "test".*"\.pre"/.test(w))).toBe(true);
    expect(result.text.startsWith(existing)).toBe(true);
    expect(merge(result.text).action).toBe('no-op');
  });

  it('uses .pre when include: may define the stages, test when the file has neither', () => {
    const included = merge('include:\n  - local: ci/base.yml\n');
    expect((jobs(included.text)[CHECK_JOB_NAME] as { stage: string }).stage).toBe('.pre');
    const plain = merge('lint:\n  script: [make lint]\n');
    expect((jobs(plain.text)[CHECK_JOB_NAME] as { stage: string }).stage).toBe('test');
    expect(plain.warnings).toEqual([]);
  });

  it('refuses to replace a same-named job it did not write, naming --force and the key', () => {
    const existing = fixture('user-job-conflict.yml');
    const error = caught(() => merge(existing));
    expect(error.message).toContain('"aws-oidc-check"');
    expect(error.hint).toContain('--force');
    expect(error.issues).toEqual([
      {
        field: '.gitlab-ci.yml:2',
        message: 'job "aws-oidc-check" exists and was not written by gitlab-aws-oidc',
      },
    ]);
  });

  it('replaces it with force, keeping the other jobs and comments', () => {
    const existing = fixture('user-job-conflict.yml');
    const result = merge(existing, snippet, true);
    expect(result.conflicts).toEqual([CHECK_JOB_NAME]);
    expect(result.warnings.some((w) => w.includes('--force'))).toBe(true);
    expect(result.text.startsWith('# Someone already has a job with our name.\n')).toBe(true);
    expect(result.text.endsWith('\nother:\n  script: [echo other]\n')).toBe(true);
    const after = jobs(result.text);
    expect(Object.keys(after)).toEqual([HIDDEN_JOB_NAME, CHECK_JOB_NAME, 'other']);
    expect(after[CHECK_JOB_NAME]).toEqual(jobs(snippet)[CHECK_JOB_NAME]);
    // Now marked as ours: no force needed any more.
    expect(merge(result.text).action).toBe('no-op');
  });

  it('recognises its jobs without the marker when they are structurally identical', () => {
    const unmarked = snippet
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');
    const result = merge(unmarked);
    expect(result.conflicts).toEqual([]);
    expect(result.action).toBe('update');
    expect(jobs(result.text)).toEqual(jobs(snippet));
  });

  it('adds the verify job next to the others later, and keeps (with a warning) a verify job no longer asked for', () => {
    const first = merge('build:\n  script: [make]\n').text;
    const withVerify = merge(first, renderCiSnippet({ ...baseInput, verify: verifyFromImage }));
    expect(Object.keys(jobs(withVerify.text))).toEqual([
      'build',
      HIDDEN_JOB_NAME,
      CHECK_JOB_NAME,
      VERIFY_JOB_NAME,
    ]);
    const without = merge(withVerify.text);
    expect(without.action).toBe('no-op');
    expect(without.warnings.some((w) => w.includes(VERIFY_JOB_NAME))).toBe(true);
  });

  it('says plainly when a verify job kept from an earlier version runs an npm package by name', () => {
    const old = merge(
      'build:\n  script: [make]\n',
      renderCiSnippet({ ...baseInput, verify: verifyFromImage }),
    ).text.replace(/ {4}- gitlab-aws-oidc verify\n/, '    - npx --yes gitlab-aws-oidc@0.1.0 verify\n');
    const { warnings } = merge(old);
    expect(warnings).toEqual([
      '.gitlab-ci.yml keeps "aws-oidc-verify" from an earlier run; delete it by hand if you no longer want it. It runs `npx --yes gitlab-aws-oidc@…`, a package fetched from the npm registry by name, with the role\'s credentials: re-run with --verify-job --verify-image <image>@sha256:<digest>, or delete it.',
    ]);
  });

  it('puts a missing job before the next present one', () => {
    const onlyCheck = merge(undefined).text.replace(
      /# managed by gitlab-aws-oidc 0\.1\.0: add[\s\S]*?\n\n/,
      '',
    );
    expect(Object.keys(jobs(onlyCheck))).toEqual([CHECK_JOB_NAME]);
    const result = merge(onlyCheck);
    expect(Object.keys(jobs(result.text))).toEqual([HIDDEN_JOB_NAME, CHECK_JOB_NAME]);
    expect(result.text).toBe(snippet);
  });

  it('turns invalid YAML into a UsageError naming the file and the line', () => {
    const error = caught(() => merge('build:\n  script: [make\nlint:\n  script: x\n'));
    expect(error.message).toMatch(/^\.gitlab-ci\.yml is not valid YAML \(line \d+, column \d+\)/);
    expect(error.issues[0]!.field).toMatch(/^\.gitlab-ci\.yml:\d+$/);
    expect(caught(() => merge('a: 1\na: 2\n')).message).toContain('line 2');
  });

  it('refuses a top level that is not a block mapping', () => {
    expect(caught(() => merge('- a\n- b\n')).message).toContain('block mapping');
    expect(caught(() => merge('{build: {script: [make]}}\n')).message).toContain('block mapping');
  });

  it('appends to an empty or comment-only file', () => {
    expect(merge('').text).toBe(snippet);
    const commented = '# nothing yet\n';
    const result = merge(commented);
    expect(result.text).toBe(`${commented}\n${snippet}`);
    expect(merge(result.text).action).toBe('no-op');
  });

  it('keeps CRLF line endings', () => {
    const existing = 'build:\r\n  script: [make]\r\n';
    const result = merge(existing);
    expect(result.text.startsWith(existing)).toBe(true);
    expect(result.text.replace(/\r\n/g, '')).not.toContain('\n');
    expect(merge(result.text).action).toBe('no-op');
  });

  // Windows editors save a UTF-8 byte order mark; GitLab reads such a file. The mark stays, and the
  // tool's jobs are not indented by it.
  it('merges into a file that starts with a byte order mark, keeping the mark', () => {
    const existing = '\uFEFFbuild:\n  script: [make]\n';
    const result = merge(existing);
    expect(result.text.startsWith(existing)).toBe(true);
    expect(result.text).toContain(`\n${HIDDEN_JOB_NAME}:\n`);
    expect(Object.keys(jobs(result.text))).toEqual(['build', HIDDEN_JOB_NAME, CHECK_JOB_NAME]);
    expect(merge(result.text).action).toBe('no-op');
  });

  it('merges after a spec: header document', () => {
    const existing = 'spec:\n  inputs:\n    env:\n      default: dev\n---\nbuild:\n  script: [make]\n';
    const result = merge(existing);
    expect(result.text.startsWith(existing)).toBe(true);
    expect(Object.keys(parseCiDocument(result.text).toJS())).toEqual([
      'build',
      HIDDEN_JOB_NAME,
      CHECK_JOB_NAME,
    ]);
  });

  it('warns when a job extends .aws-oidc but overrides before_script or id_tokens, or static keys are set', () => {
    const existing = [
      'variables:',
      '  AWS_ACCESS_KEY_ID: AKIAEXAMPLE',
      'deploy:',
      '  extends: [.base, .aws-oidc]',
      '  before_script: [echo hi]',
      '  id_tokens:',
      '    OTHER: {aud: x}',
      '  script: [aws s3 ls]',
      'ok:',
      '  extends: .aws-oidc',
      '  before_script:',
      '    - !reference [.aws-oidc, before_script]',
      '  script: [aws s3 ls]',
      '',
    ].join('\n');
    const { warnings } = merge(existing);
    expect(warnings).toEqual([
      '.gitlab-ci.yml sets AWS_ACCESS_KEY_ID in variables:; the AWS CLI and SDKs prefer those over the web identity token. Remove them.',
      'Job "deploy" extends .aws-oidc but sets its own before_script, so the token file is never written; add "- !reference [.aws-oidc, before_script]" to it.',
      'Job "deploy" sets its own id_tokens, which replace those of .aws-oidc.',
    ]);
  });

  it('refuses a forced replacement that would break an alias elsewhere', () => {
    const existing = 'aws-oidc-check: &mine\n  script: [echo mine]\nother:\n  <<: *mine\n';
    expect(caught(() => merge(existing, snippet, true)).message).toMatch(/would leave it invalid/);
  });

  it('keeps indentation of an indented top-level mapping', () => {
    const existing = '  build:\n    script: [make]\n';
    const result = merge(existing);
    expect(parse(result.text)[CHECK_JOB_NAME]).toEqual(parse(snippet)[CHECK_JOB_NAME]);
    expect(merge(result.text).action).toBe('no-op');
  });
});

/** Defect 6 of issue 7: a second role for the same project used to rewrite `.aws-oidc` for itself. */
describe('mergeCiFile with several roles in one file', () => {
  const PROD = 'arn:aws:iam::123456789012:role/gitlab-oidc/gitlab-acme-web';
  const DEV = 'arn:aws:iam::123456789012:role/gitlab-oidc/gitlab-acme-web-dev';
  const devNames = jobNamesFor('gitlab-acme-web-dev');
  const forRole = (roleArn: string, names = jobNamesFor(), extra: Partial<typeof baseInput> = {}) =>
    renderCiSnippet({ ...baseInput, roleArn, jobNames: names, ...extra });
  const mergeRole = (existing: string | undefined, snip: string, names = jobNamesFor()) =>
    mergeCiFile(existing, snip, { force: false, fileName: '.gitlab-ci.yml', jobNames: names });

  it("appends a further role's jobs under its names, leaving the first role's bytes and the header alone", () => {
    const original = fixture('custom-stages.yml');
    const prod = mergeRole(original, forRole(PROD)).text;
    const both = mergeRole(prod, forRole(DEV, devNames, { verify: verifyFromImage }), devNames);
    expect(both.action).toBe('update');
    expect(both.text.startsWith(prod)).toBe(true);
    const added = both.text.slice(prod.length);
    expect(added).not.toContain('# Generated by gitlab-aws-oidc');
    expect(
      added.startsWith('\n# managed by gitlab-aws-oidc 0.1.0: add `extends: .aws-oidc-gitlab-acme-web-dev`'),
    ).toBe(true);
    const js = jobs(both.text);
    expect(Object.keys(js).slice(-5)).toEqual([
      HIDDEN_JOB_NAME,
      CHECK_JOB_NAME,
      devNames.hidden,
      devNames.check,
      devNames.verify,
    ]);
    expect((js[HIDDEN_JOB_NAME] as { variables: Record<string, string> }).variables.AWS_ROLE_ARN).toBe(PROD);
    expect((js[devNames.hidden] as { variables: Record<string, string> }).variables.AWS_ROLE_ARN).toBe(DEV);
    expect((js[devNames.check] as { extends: string }).extends).toBe(devNames.hidden);
    // The stage chosen for the file applies to every role's jobs.
    expect((js[devNames.check] as { stage: string }).stage).toBe('.pre');

    // Re-running either role is a no-op; changing one role's refs changes only its own rules.
    expect(mergeRole(both.text, forRole(PROD)).action).toBe('no-op');
    expect(mergeRole(both.text, forRole(DEV, devNames, { verify: verifyFromImage }), devNames).action).toBe(
      'no-op',
    );
    const prodRefs = mergeRole(
      both.text,
      forRole(PROD, jobNamesFor(), { refs: [{ type: 'tag', pattern: 'v*' }] }),
    );
    expect(prodRefs.text.endsWith(added)).toBe(true);
    expect(jobs(prodRefs.text)[devNames.check]).toEqual(js[devNames.check]);
  });

  it('warns about jobs extending the further role that override its before_script, by its name', () => {
    const prod = mergeRole(undefined, forRole(PROD)).text;
    const withUser = `${prod}\ndeploy-dev:\n  extends: ${devNames.hidden}\n  before_script: [echo hi]\n  script: [x]\n`;
    const { warnings } = mergeRole(withUser, forRole(DEV, devNames), devNames);
    expect(warnings).toEqual([
      `Job "deploy-dev" extends ${devNames.hidden} but sets its own before_script, so the token file is never written; add "- !reference [${devNames.hidden}, before_script]" to it.`,
    ]);
  });
});

warnIfSchemaMissing();
describe.skipIf(!schemaAvailable)("merged files against GitLab's CI schema", () => {
  it('two roles in one file validate', () => {
    const names = jobNamesFor('gitlab-acme-web-dev');
    const prod = merge(fixture('realistic.yml'), renderCiSnippet({ ...baseInput, verify: verifyFromImage }));
    const dev = renderCiSnippet({
      ...baseInput,
      roleArn: 'arn:aws:iam::123456789012:role/gitlab-acme-web-dev',
      protectedOnly: true,
      jobNames: names,
    });
    const both = mergeCiFile(prod.text, dev, { force: false, jobNames: names }).text;
    expect(Object.keys(jobs(both))).toContain(names.check);
    expect(validateCi(jobs(both))).toEqual([]);
  });

  it.each(['realistic.yml', 'legacy-jwt.yml', 'custom-stages.yml'])('%s merged validates', (name) => {
    const result = merge(fixture(name), renderCiSnippet({ ...baseInput, verify: verifyFromImage }));
    expect(validateCi(jobs(result.text))).toEqual([]);
  });

  it('user-job-conflict.yml merged with --force validates', () => {
    expect(validateCi(jobs(merge(fixture('user-job-conflict.yml'), snippet, true).text))).toEqual([]);
  });
});
