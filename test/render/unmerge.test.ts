import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { templatePath } from '../../src/io/package-root.js';
import {
  CHECK_JOB_NAME,
  CI_TEMPLATE_FILE,
  HIDDEN_JOB_NAME,
  jobNamesFor,
  renderCiSnippet,
  VERIFY_JOB_NAME,
} from '../../src/render/ci-file.js';
import { ciYamlToJs } from '../../src/render/ci-yaml.js';
import { mergeCiFile } from '../../src/render/merge.js';
import {
  buildJobSkeletons,
  matchesSkeleton,
  templateHeader,
  unmergeCiFile,
} from '../../src/render/unmerge.js';
import { schemaAvailable, validateCi, warnIfSchemaMissing } from '../helpers/ci-schema.js';
import { baseInput, fixture, verifyFromImage } from './helpers.js';

warnIfSchemaMissing();

const templateText = readFileSync(templatePath('gitlab-ci', CI_TEMPLATE_FILE), 'utf8');
const snippet = renderCiSnippet(baseInput);
const withVerify = renderCiSnippet({ ...baseInput, verify: verifyFromImage });
const merge = (existing: string | undefined, snip = snippet) =>
  mergeCiFile(existing, snip, { force: false, fileName: '.gitlab-ci.yml' }).text;
const unmerge = (text: string, force = false) =>
  unmergeCiFile(text, { templateText, force, fileName: '.gitlab-ci.yml' });
const jobs = (text: string) => (ciYamlToJs(text) ?? {}) as Record<string, unknown>;

function caught(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error('expected a UsageError');
}

/** A user job that uses the hidden job, as the README tells people to write. */
const DEPLOY = `
deploy:
  stage: deploy
  extends: .aws-oidc
  script: [aws s3 sync dist/ s3://bucket/]
`;

describe('unmergeCiFile', () => {
  it.each(['custom-stages.yml', 'legacy-jwt.yml'])(
    'merge then unmerge gives %s back byte for byte, with and without the verify job',
    (name) => {
      const original = fixture(name);
      for (const snip of [snippet, withVerify]) {
        const merged = merge(original, snip);
        expect(merged).not.toBe(original);
        const result = unmerge(merged);
        expect(result.action).toBe('update');
        expect(result.text).toBe(original);
        expect(result.removed.map((r) => r.name)).toEqual(
          snip === withVerify
            ? [HIDDEN_JOB_NAME, CHECK_JOB_NAME, VERIFY_JOB_NAME]
            : [HIDDEN_JOB_NAME, CHECK_JOB_NAME],
        );
        expect(result.removed.every((r) => r.by === 'marker')).toBe(true);
        expect(result.roleArn).toBe(baseInput.roleArn);
        expect(result.empty).toBe(false);
      }
    },
  );

  it('a file init created from nothing is to be deleted (GitLab refuses an empty one)', () => {
    const result = unmerge(merge(undefined));
    expect(result.text).toBe('');
    expect(result.empty).toBe(true);
    expect(result.deleteFile).toBe(true);
    expect(result.warnings).toEqual([]);
  });

  it('a file left with comments only is kept, with a warning', () => {
    const result = unmerge(merge('# our pipeline\n'));
    expect(result.text).toBe('# our pipeline\n');
    expect(result.deleteFile).toBe(false);
    expect(result.warnings.join('\n')).toMatch(/no jobs left; GitLab refuses an empty pipeline file/);
  });

  it('keeps every other byte when the jobs sit between user jobs (comments, anchors, merge keys)', () => {
    const head = `# top comment\nvariables: &vars\n  A: "1" # trailing\n\n.base: &base\n  image: alpine\n\n`;
    const tail = `\n# after our jobs\nlint:\n  <<: *base\n  variables: *vars\n  script: [make lint]\n`;
    const original = head + tail.slice(1);
    const merged = head + snippet.slice(snippet.indexOf('# managed by')) + tail;
    const result = unmerge(merged);
    expect(result.text).toBe(original);
    expect(jobs(result.text).lint).toEqual(jobs(merged).lint);
  });

  it('removes a job placed mid-file by merge (insertion before the next present job)', () => {
    // The check job alone with a marker, followed by a user job: merge inserts the hidden job above it.
    const checkOnly = snippet.slice(snippet.indexOf(`# managed by gitlab-aws-oidc 0.1.0: proves`));
    const original = `build:\n  script: [make]\n\nlater:\n  script: [echo later]\n`;
    const existing = `build:\n  script: [make]\n\n${checkOnly}\nlater:\n  script: [echo later]\n`;
    const merged = merge(existing);
    expect(Object.keys(jobs(merged))).toEqual(['build', HIDDEN_JOB_NAME, CHECK_JOB_NAME, 'later']);
    expect(unmerge(merged).text).toBe(original);
  });

  it('recognises its jobs without the marker when they have the generated structure', () => {
    const merged = merge(fixture('custom-stages.yml'), withVerify).replace(/^# managed by.*\n/gm, '');
    const result = unmerge(merged);
    expect(result.removed.map((r) => [r.name, r.by])).toEqual([
      [HIDDEN_JOB_NAME, 'structure'],
      [CHECK_JOB_NAME, 'structure'],
      [VERIFY_JOB_NAME, 'structure'],
    ]);
    expect(Object.keys(jobs(result.text))).toEqual(['stages', 'prepare', 'ship']);
  });

  it('recognises an unmarked verify job as earlier versions wrote it (npx by name, image as a string)', () => {
    const merged = merge('build:\n  script: [make]\n', withVerify)
      .replace(/^# managed by.*\n/gm, '')
      .replace(
        / {2}image:\n {4}name: 'registry[^\n]*\n {4}entrypoint: \[''\]\n {2}script:\n {4}- gitlab-aws-oidc verify\n/,
        '  image: node:22-alpine\n  script:\n    - npx --yes gitlab-aws-oidc@0.1.0 verify\n',
      );
    expect(merged).toContain('npx --yes gitlab-aws-oidc@0.1.0 verify');
    const result = unmerge(merged);
    expect(result.removed.map((r) => [r.name, r.by])).toContainEqual([VERIFY_JOB_NAME, 'structure']);
    expect(Object.keys(jobs(result.text))).toEqual(['build']);
  });

  it('recognises any role, region, audience, token variable, refs and image tag, but nothing else', () => {
    const skeletons = buildJobSkeletons(templateText);
    const other = jobs(
      renderCiSnippet({
        roleArn: 'arn:aws-us-gov:iam::210987654321:role/team/path/deploy',
        region: 'us-gov-west-1',
        audience: 'sts.amazonaws.com',
        tokenVariable: 'MY_TOKEN',
        refs: [{ type: 'tag', pattern: 'v*' }],
        toolVersion: '3.4.5-rc.1',
        verify: verifyFromImage,
      }),
    );
    for (const name of [HIDDEN_JOB_NAME, CHECK_JOB_NAME, VERIFY_JOB_NAME]) {
      expect(matchesSkeleton(other[name], skeletons[name]), name).toBe(true);
    }
    const hidden = other[HIDDEN_JOB_NAME] as Record<string, Record<string, unknown>>;
    const check = other[CHECK_JOB_NAME] as Record<string, unknown>;
    const changed = (patch: (job: Record<string, unknown>) => void, from: unknown = hidden) => {
      const copy = structuredClone(from) as Record<string, unknown>;
      patch(copy);
      return copy;
    };
    const skelHidden = skeletons[HIDDEN_JOB_NAME];
    const skelCheck = skeletons[CHECK_JOB_NAME];
    // An extra key, a different script, a second token, mismatched regions, a token variable that
    // is not the one written to the file, a custom stage, a rule that is not a ref rule.
    expect(
      matchesSkeleton(
        changed((j) => (j.tags = ['docker'])),
        skelHidden,
      ),
    ).toBe(false);
    expect(
      matchesSkeleton(
        changed((j) => ((j.after_script as string[])[0] = 'true')),
        skelHidden,
      ),
    ).toBe(false);
    expect(
      matchesSkeleton(
        changed((j) => ((j.id_tokens as Record<string, unknown>).X = {})),
        skelHidden,
      ),
    ).toBe(false);
    expect(
      matchesSkeleton(
        changed((j) => ((j.variables as Record<string, unknown>).AWS_DEFAULT_REGION = 'eu-west-1')),
        skelHidden,
      ),
    ).toBe(false);
    expect(
      matchesSkeleton(
        changed((j) => (j.id_tokens = { OTHER: (j.id_tokens as Record<string, unknown>).MY_TOKEN })),
        skelHidden,
      ),
    ).toBe(false);
    expect(
      matchesSkeleton(
        changed((j) => (j.stage = 'deploy'), check),
        skelCheck,
      ),
    ).toBe(false);
    expect(
      matchesSkeleton(
        changed((j) => (j.stage = '.pre'), check),
        skelCheck,
      ),
    ).toBe(true);
    expect(
      matchesSkeleton(
        changed((j) => (j.rules = [{ when: 'always' }]), check),
        skelCheck,
      ),
    ).toBe(false);
    expect(
      matchesSkeleton(
        changed((j) => (j.rules = []), check),
        skelCheck,
      ),
    ).toBe(false);
    expect(
      matchesSkeleton(
        changed((j) => ((j.image as Record<string, unknown>).name = 'amazon/aws-cli:2.0.0'), check),
        skelCheck,
      ),
    ).toBe(false);
  });

  it('leaves a same-named job it did not write in place, with a warning', () => {
    const original = fixture('user-job-conflict.yml');
    const result = unmerge(original);
    expect(result.action).toBe('no-op');
    expect(result.text).toBe(original);
    expect(result.kept).toEqual([CHECK_JOB_NAME]);
    expect(result.warnings.join('\n')).toMatch(/"aws-oidc-check" was not written by gitlab-aws-oidc/);
  });

  it('a file without its jobs is a no-op', () => {
    // realistic.yml has a job extending .aws-oidc, but not the hidden job itself.
    for (const text of ['', '# only a comment\n', fixture('realistic.yml')]) {
      const result = unmerge(text);
      expect(result).toMatchObject({ action: 'no-op', text, removed: [] });
    }
  });

  it('refuses to remove the hidden job while jobs still extend or reference it, naming them and their lines', () => {
    const merged = merge(fixture('realistic.yml'));
    const deployLine = merged.split('\n').indexOf('deploy:') + 1;
    const withRef = `${merged}\nnotify:\n  script:\n    - !reference [.aws-oidc, after_script]\n`;
    const error = caught(() => unmerge(withRef));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/"deploy", "notify" still use \.aws-oidc/);
    expect(error.issues).toEqual([
      { field: `.gitlab-ci.yml:${deployLine}`, message: 'job "deploy" extends or references .aws-oidc' },
      {
        field: `.gitlab-ci.yml:${withRef.split('\n').indexOf('notify:') + 1}`,
        message: 'job "notify" extends or references .aws-oidc',
      },
    ]);
    expect(error.hint).toMatch(/--force/);
  });

  it('with force it removes them anyway and warns about each job left dangling', () => {
    const original = fixture('realistic.yml');
    const result = unmerge(merge(original), true);
    expect(result.text).toBe(original);
    expect(result.dependents).toEqual([{ name: 'deploy', line: 48 }]);
    expect(original.split('\n')[47]).toBe('deploy:');
    expect(result.warnings.join('\n')).toMatch(/:48: job "deploy" still uses \.aws-oidc, which was removed/);
  });

  it('only the example jobs (hidden job taken over by the user): no dependents check', () => {
    const merged = merge(`${DEPLOY.slice(1)}`).replace(
      /# managed by gitlab-aws-oidc 0\.1\.0: add[^\n]*\n(#[^\n]*\n)*\.aws-oidc:/,
      '# mine now\n.aws-oidc:',
    );
    const hidden = jobs(merged)[HIDDEN_JOB_NAME];
    // Changed so that it is not structurally the tool's either.
    const owned = merged.replace('  after_script:\n', '  tags: [docker]\n  after_script:\n');
    const result = unmerge(owned);
    expect(hidden).toBeDefined();
    expect(result.removed.map((r) => r.name)).toEqual([CHECK_JOB_NAME]);
    expect(result.kept).toEqual([HIDDEN_JOB_NAME]);
    expect(result.dependents).toEqual([]);
    expect(result.roleArn).toBeUndefined();
    expect(Object.keys(jobs(result.text))).toEqual(['deploy', HIDDEN_JOB_NAME]);
  });

  it('refuses when a remaining job uses an anchor defined inside a generated job', () => {
    const merged = merge('build:\n  script: [make]\n').replace(
      "    AWS_REGION: 'eu-west-1'",
      "    AWS_REGION: &region 'eu-west-1'",
    );
    const error = caught(() => unmerge(`${merged}\nother:\n  variables:\n    R: *region\n  script: [x]\n`));
    expect(error.message).toMatch(/would leave it invalid/);
  });

  it('keeps CRLF line endings and the header of a CRLF file', () => {
    const original = 'build:\r\n  script: [make]\r\n';
    const merged = merge(original);
    expect(merged).toContain('\r\n# Generated by gitlab-aws-oidc');
    expect(unmerge(merged).text).toBe(original);
  });

  it('removes the jobs from a file that starts with a byte order mark, keeping the mark', () => {
    const original = '\uFEFFbuild:\n  script: [make]\n';
    const merged = `${original}\n${snippet}`;
    expect(unmerge(merged).text).toBe(original);
  });

  it('keeps the header when the user wrote something under it', () => {
    const header = templateHeader(templateText);
    expect(header).toMatch(/^# Generated by gitlab-aws-oidc/);
    const merged = merge('build:\n  script: [make]\n');
    const edited = merged.replace(header, `${header}\nmine:\n  script: [echo mine]\n`);
    const result = unmerge(edited);
    expect(result.text).toContain(header);
    expect(Object.keys(jobs(result.text))).toEqual(['build', 'mine']);
  });

  it('works after a spec: header document and in an indented top-level mapping', () => {
    const spec = 'spec:\n  inputs:\n    env:\n      default: dev\n---\nbuild:\n  script: [make]\n';
    expect(unmerge(merge(spec)).text).toBe(spec);
    const indented = '  build:\n    script: [make]\n';
    expect(unmerge(merge(indented)).text).toBe(indented);
  });

  it('turns invalid YAML into a UsageError naming the file and the line', () => {
    const error = caught(() => unmerge('build:\n  script: [make\n'));
    expect(error.issues[0]?.field).toMatch(/^\.gitlab-ci\.yml:\d+$/);
  });
});

/** Defect 6 of issue 7: destroy removes only the jobs of the role it deletes. */
describe('unmergeCiFile with several roles in one file', () => {
  const PROD = 'arn:aws:iam::123456789012:role/gitlab-oidc/gitlab-acme-web';
  const DEV = 'arn:aws:iam::123456789012:role/gitlab-oidc/gitlab-acme-web-dev';
  const devNames = jobNamesFor('gitlab-acme-web-dev');
  const original = fixture('custom-stages.yml');
  const prodOnly = mergeCiFile(original, renderCiSnippet({ ...baseInput, roleArn: PROD }), {
    force: false,
  }).text;
  const both = mergeCiFile(
    prodOnly,
    renderCiSnippet({
      ...baseInput,
      roleArn: DEV,
      jobNames: devNames,
      verify: verifyFromImage,
      protectedOnly: true,
    }),
    { force: false, jobNames: devNames },
  ).text;
  const only = (arn: string) => (r: { roleArn?: string | undefined }) => r.roleArn === arn;
  const unmergeRole = (text: string, arn: string, force = false) =>
    unmergeCiFile(text, { templateText, force, fileName: '.gitlab-ci.yml', select: only(arn) });

  it("removing the further role gives the first role's file back byte for byte", () => {
    const result = unmergeRole(both, DEV);
    expect(result.text).toBe(prodOnly);
    expect(result.removed.map((r) => r.name)).toEqual([devNames.hidden, devNames.check, devNames.verify]);
    expect(result.roleArn).toBe(DEV);
    expect(result.roles.map((r) => [r.names.hidden, r.roleArn, r.removed])).toEqual([
      [HIDDEN_JOB_NAME, PROD, false],
      [devNames.hidden, DEV, true],
    ]);
  });

  it('removing the first role keeps the header and every byte of the other role', () => {
    const result = unmergeRole(both, PROD);
    expect(result.removed.map((r) => r.name)).toEqual([HIDDEN_JOB_NAME, CHECK_JOB_NAME]);
    const devBlock = both.slice(
      both.indexOf('# managed by gitlab-aws-oidc 0.1.0: add `extends: .aws-oidc-gitlab-acme-web-dev`'),
    );
    expect(result.text.endsWith(devBlock)).toBe(true);
    expect(result.text).toContain('# Generated by gitlab-aws-oidc');
    expect(Object.keys(jobs(result.text))).toEqual(['stages', 'prepare', 'ship', ...Object.values(devNames)]);
    // …and then removing the other role too gives the original file back.
    expect(unmergeRole(result.text, DEV).text).toBe(original);
  });

  it('without a selection every role goes (and the header with them)', () => {
    const result = unmerge(both);
    expect(result.text).toBe(original);
    expect(result.removed).toHaveLength(5);
  });

  it('a job extending the removed role stops the removal; one extending the other role does not', () => {
    const withUsers = `${both}\ndeploy-dev:\n  extends: ${devNames.hidden}\n  script: [x]\n\ndeploy:\n  extends: .aws-oidc\n  script: [y]\n`;
    const error = caught(() => unmergeRole(withUsers, DEV));
    expect(error.message).toMatch(/"deploy-dev" still uses \.aws-oidc-gitlab-acme-web-dev;/);
    expect(error.issues.map((i) => i.message)).toEqual([
      `job "deploy-dev" extends or references ${devNames.hidden}`,
    ]);
    const prodGone = caught(() => unmergeRole(withUsers, PROD));
    expect(prodGone.issues.map((i) => i.message)).toEqual(['job "deploy" extends or references .aws-oidc']);
    expect(unmergeRole(withUsers, DEV, true).dependents).toEqual([
      { name: 'deploy-dev', line: expect.any(Number) },
    ]);
  });

  it("recognises a further role's jobs without their markers, protected-only rules included", () => {
    const unmarked = both.replace(/^# managed by.*\n/gm, '');
    const result = unmergeRole(unmarked, DEV);
    expect(result.removed.map((r) => [r.name, r.by])).toEqual([
      [devNames.hidden, 'structure'],
      [devNames.check, 'structure'],
      [devNames.verify, 'structure'],
    ]);
  });

  it("a user's own .aws-oidc-<something> job is none of the tool's business", () => {
    const text = `${prodOnly}\n.aws-oidc-base:\n  tags: [docker]\n`;
    const result = unmerge(text);
    expect(result.kept).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(Object.keys(jobs(result.text))).toEqual(['stages', 'prepare', 'ship', '.aws-oidc-base']);
  });
});

describe.skipIf(!schemaAvailable)("unmerged files against GitLab's CI schema", () => {
  it.each(['realistic.yml', 'custom-stages.yml', 'legacy-jwt.yml'])(
    '%s merged then unmerged validates',
    (name) => {
      const merged = merge(fixture(name), withVerify);
      const result = unmerge(merged, true);
      expect(validateCi(jobs(result.text))).toEqual([]);
      expect(validateCi(jobs(merged))).toEqual([]);
    },
  );

  it('a file with a job that took the hidden job over validates after removing the example jobs', () => {
    const merged = merge(DEPLOY.slice(1)).replace(/^# managed by gitlab-aws-oidc 0\.1\.0: add.*\n/m, '');
    const owned = merged.replace('  after_script:\n', '  tags: [docker]\n  after_script:\n');
    const result = unmerge(owned);
    expect(result.removed.map((r) => r.name)).toEqual([CHECK_JOB_NAME]);
    expect(validateCi(jobs(result.text))).toEqual([]);
  });
});
