/**
 * init and the pipeline file, issue 7: several roles per project (defect 6), what the verify job runs
 * (defect 10) and protected-only rules (defect 11), through the real resolver and the fake AWS.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { UsageError } from '../../src/errors.js';
import { formatPlan } from '../../src/init/format.js';
import { createPalette } from '../../src/io/colors.js';
import { jobNamesFor } from '../../src/render/ci-file.js';
import { schemaAvailable, validateCi, warnIfSchemaMissing } from '../helpers/ci-schema.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { BASE_FLAGS, runInitWith, tempDir } from './helpers.js';

warnIfSchemaMissing();

let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  aws = createFakeAws({ account: '111122223333' });
  tmp = tempDir();
});
afterEach(() => {
  aws.restore();
  tmp.cleanup();
});

const PROD_ROLE = 'gitlab-acme-platform-web';
const DEV_ROLE = 'gitlab-acme-platform-web-dev';
const DEV = { ...BASE_FLAGS, roleName: DEV_ROLE, branch: ['develop'] };
const devNames = jobNamesFor(DEV_ROLE);
const PINNED = `registry.example.com/tools/gitlab-aws-oidc:0.1.0@sha256:${'ab'.repeat(32)}`;
const ciPath = () => join(tmp.dir, '.gitlab-ci.yml');
const readCi = () => readFileSync(ciPath(), 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: ad-hoc reads of the parsed pipeline
const ciJobs = () => parse(readCi()) as Record<string, any>;

describe('init with two roles for one project (prod/dev split with --role-name)', () => {
  it("writes one set of jobs per role; the second run leaves the first role's jobs byte for byte", async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    const prodOnly = readCi();
    const { result } = await runInitWith(DEV, tmp.dir, { aws });

    expect(result.ciFile?.jobs).toEqual(devNames);
    expect(result.ciFile?.otherRoles).toEqual([
      { job: '.aws-oidc', roleArn: `arn:aws:iam::111122223333:role/gitlab-oidc/${PROD_ROLE}` },
    ]);
    const both = readCi();
    expect(both.startsWith(prodOnly)).toBe(true);
    const js = ciJobs();
    expect(js['.aws-oidc'].variables.AWS_ROLE_ARN).toMatch(new RegExp(`:role/gitlab-oidc/${PROD_ROLE}$`));
    expect(js[devNames.hidden].variables.AWS_ROLE_ARN).toMatch(new RegExp(`:role/gitlab-oidc/${DEV_ROLE}$`));
    expect(js['aws-oidc-check'].rules).toEqual([{ if: '$CI_COMMIT_BRANCH == "main"' }]);
    expect(js[devNames.check].rules).toEqual([{ if: '$CI_COMMIT_BRANCH == "develop"' }]);
    expect(js[devNames.check].extends).toBe(devNames.hidden);

    // Re-running init for prod (with new refs) does not touch dev's jobs.
    const devBlock = both.slice(prodOnly.length);
    const again = await runInitWith(
      { ...BASE_FLAGS, branch: ['main', 'hotfix'], allowWidening: true },
      tmp.dir,
      { aws },
    );
    expect(again.result.ciFile?.jobs).toEqual(jobNamesFor());
    const after = readCi();
    expect(after.endsWith(devBlock)).toBe(true);
    expect(ciJobs()['aws-oidc-check'].rules).toEqual([
      { if: '$CI_COMMIT_BRANCH == "main"' },
      { if: '$CI_COMMIT_BRANCH == "hotfix"' },
    ]);
    // …and re-running dev with the same inputs is a no-op for the file.
    const devAgain = await runInitWith(DEV, tmp.dir, { aws });
    expect(devAgain.result.ciFile?.action).toBe('no-op');
    expect(readCi()).toBe(after);
  });

  it('says the other role stays trusted and offers the exact destroy --role command (plan and next steps)', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    const { result } = await runInitWith(DEV, tmp.dir, { aws });
    const command = `gitlab-aws-oidc destroy --role ${PROD_ROLE}`;
    const warning = result.warnings.find((w) => w.includes('keeps ".aws-oidc"'));
    expect(warning).toBe(
      `.gitlab-ci.yml keeps ".aws-oidc" for role ${PROD_ROLE} (arn:aws:iam::111122223333:role/gitlab-oidc/${PROD_ROLE}); this run writes "${devNames.hidden}" for ${DEV_ROLE} next to it. If role ${PROD_ROLE} still exists, it keeps its trust policy: if --role-name renamed it, remove the old role with \`${command}\`.`,
    );
    expect(result.nextSteps).toContain(
      `.gitlab-ci.yml also has .aws-oidc for role ${PROD_ROLE}, which still trusts its refs; if this role replaces it, remove it and its jobs: ${command}`,
    );
    expect(result.nextSteps[0]).toBe(
      `Commit and push .gitlab-ci.yml: the ${devNames.check} job proves the role can be assumed; jobs that need the role use \`extends: ${devNames.hidden}\`.`,
    );
    const plan = formatPlan(result, createPalette(0)).join('\n');
    expect(plan).toContain(`jobs ${devNames.hidden}, ${devNames.check}`);
    expect(plan).toContain(command);

    // Said once, when the role's jobs join the file: re-runs of either role are quiet about it.
    const devAgain = await runInitWith(
      { ...DEV, branch: ['develop', 'staging'], allowWidening: true },
      tmp.dir,
      { aws },
    );
    const prodAgain = await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    for (const run of [devAgain, prodAgain]) {
      expect(run.result.ciFile?.otherRoles).toEqual([]);
      expect(run.result.warnings.join('\n')).not.toContain('destroy --role');
      expect(run.result.nextSteps.join('\n')).not.toContain('destroy --role');
    }
  });

  it('names a --ci-file and --profile in the destroy command when they are not the defaults', async () => {
    const flags = { ...BASE_FLAGS, ciFile: 'ci/aws.yml', profile: 'prod admin' };
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(tmp.dir, 'ci'));
    await runInitWith(flags, tmp.dir, { aws });
    const { result } = await runInitWith({ ...DEV, ciFile: 'ci/aws.yml', profile: 'prod admin' }, tmp.dir, {
      aws,
    });
    expect(result.nextSteps.find((step) => step.includes('destroy --role'))).toMatch(
      new RegExp(`destroy --role ${PROD_ROLE} --ci-file 'ci/aws.yml' --profile 'prod admin'$`),
    );
  });

  it('--dry-run --offline plans the same role under its own jobs (the stand-in account is no other role)', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    await runInitWith(DEV, tmp.dir, { aws });
    const before = readCi();
    const { result } = await runInitWith(
      { ...DEV, branch: ['main'], dryRun: true, offline: true, yes: false },
      tmp.dir,
      {
        aws,
      },
    );
    expect(result.ciFile?.jobs).toEqual(devNames);
    expect(result.ciFile?.diff).toMatch(/^\+ +- if: '\$CI_COMMIT_BRANCH == "main"'$/m);
    expect(readCi()).toBe(before);
  });

  it('a re-run for one role never rewrites .aws-oidc for another (the old behaviour, silently)', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    const prod = ciJobs()['.aws-oidc'];
    await runInitWith(DEV, tmp.dir, { aws });
    await runInitWith(DEV, tmp.dir, { aws });
    expect(ciJobs()['.aws-oidc']).toEqual(prod);
  });
});

describe('init --verify-job: what runs with the role is named, never defaulted', () => {
  it('runs the given pinned image and says so in the plan and the next steps', async () => {
    const { result } = await runInitWith(
      { ...BASE_FLAGS, verifyJob: true, verifyImage: PINNED, dryRun: false },
      tmp.dir,
      { aws },
    );
    expect(ciJobs()['aws-oidc-verify']).toMatchObject({
      image: { name: PINNED, entrypoint: [''] },
      script: ['gitlab-aws-oidc verify'],
    });
    expect(readCi()).not.toMatch(/npx --yes/);
    expect(result.ciFile?.verifyRuns).toBe(`image ${PINNED}`);
    expect(formatPlan(result, createPalette(0)).join('\n')).toContain(
      `aws-oidc-verify runs with the role's credentials: image ${PINNED}`,
    );
    expect(result.nextSteps).toContain(
      `The aws-oidc-verify job runs, with the role's credentials: image ${PINNED}.`,
    );
  });

  it('an npm package needs --allow-unpinned-verify, and the plan says it is fetched by name', async () => {
    const flags = { ...BASE_FLAGS, verifyJob: true, verifyPackage: 'gitlab-aws-oidc@0.1.0' };
    const refused = await runInitWith(flags, tmp.dir, { aws }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as UsageError).issues[0]).toMatchObject({
      field: '--verify-package',
      message: expect.stringMatching(/by name .*anyone, until it is published.*--allow-unpinned-verify/),
    });
    expect(aws.calls()).toEqual([]);

    const { result } = await runInitWith({ ...flags, allowUnpinnedVerify: true }, tmp.dir, { aws });
    expect(ciJobs()['aws-oidc-verify'].script).toEqual([
      'npx --yes --package=gitlab-aws-oidc@0.1.0 -- gitlab-aws-oidc verify',
    ]);
    expect(result.ciFile?.verifyRuns).toMatch(
      /^npm package gitlab-aws-oidc@0\.1\.0, fetched from the npm registry by name/,
    );
  });

  it('no verify job unless asked', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    expect(Object.keys(ciJobs())).toEqual(['.aws-oidc', 'aws-oidc-check']);
  });
});

describe('init --protected-only', () => {
  it('the jobs run only on protected refs, as the trust policy requires', async () => {
    await runInitWith({ ...BASE_FLAGS, protectedOnly: true, tag: ['v*'] }, tmp.dir, { aws });
    expect(ciJobs()['aws-oidc-check'].rules).toEqual([
      { if: '$CI_COMMIT_REF_PROTECTED == "true" && $CI_COMMIT_BRANCH == "main"' },
      { if: '$CI_COMMIT_REF_PROTECTED == "true" && $CI_COMMIT_TAG =~ /^v.*$/' },
    ]);
  });
});

describe.skipIf(!schemaAvailable)('two roles and a verify job validate against GitLab’s schema', () => {
  it('prod with a verify job, dev protected-only, merged into an existing file', async () => {
    writeFileSync(ciPath(), 'stages: [build, test]\n\nbuild:\n  stage: build\n  script: [make]\n');
    await runInitWith({ ...BASE_FLAGS, verifyJob: true, verifyImage: PINNED }, tmp.dir, { aws });
    await runInitWith({ ...DEV, protectedOnly: true }, tmp.dir, { aws });
    expect(Object.keys(ciJobs())).toEqual([
      'stages',
      'build',
      '.aws-oidc',
      'aws-oidc-check',
      'aws-oidc-verify',
      devNames.hidden,
      devNames.check,
    ]);
    expect(validateCi(ciJobs())).toEqual([]);
  });
});
