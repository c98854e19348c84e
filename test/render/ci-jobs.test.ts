/**
 * Several roles in one pipeline file: which names each role's jobs get (defect 6 of issue 7: a second
 * role used to take over `.aws-oidc`, silently).
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { jobNamesFor, renderCiSnippet } from '../../src/render/ci-file.js';
import { chooseJobNames, isSameRole, parseJobName, parseRoleArn } from '../../src/render/ci-jobs.js';
import { mergeCiFile } from '../../src/render/merge.js';
import { baseInput } from './helpers.js';

const PROD = 'arn:aws:iam::123456789012:role/gitlab-oidc/gitlab-acme-web';
const DEV = 'arn:aws:iam::123456789012:role/gitlab-oidc/gitlab-acme-web-dev';

/** What init writes for `roleArn` into `existing`, names chosen as init chooses them. */
function write(existing: string | undefined, roleArn: string): string {
  const { names } = chooseJobNames(existing, roleArn);
  const snippet = renderCiSnippet({ ...baseInput, roleArn, jobNames: names });
  return mergeCiFile(existing, snippet, { force: false, jobNames: names }).text;
}

describe('parseJobName / parseRoleArn / isSameRole', () => {
  it('reads the kind and the role suffix from a job name', () => {
    expect(parseJobName('.aws-oidc')).toEqual({ kind: 'hidden', suffix: undefined });
    expect(parseJobName('.aws-oidc-gitlab-acme-web-dev')).toEqual({
      kind: 'hidden',
      suffix: 'gitlab-acme-web-dev',
    });
    expect(parseJobName('aws-oidc-check')).toEqual({ kind: 'check', suffix: undefined });
    expect(parseJobName('aws-oidc-check-dev')).toEqual({ kind: 'check', suffix: 'dev' });
    expect(parseJobName('aws-oidc-verify-dev')).toEqual({ kind: 'verify', suffix: 'dev' });
    for (const other of ['build', '.aws-oidc-', 'aws-oidc', 'aws-oidc-deploy', 'x.aws-oidc']) {
      expect(parseJobName(other), other).toBeUndefined();
    }
  });

  it('a role is its name in its account; the path does not count, case does not either', () => {
    expect(parseRoleArn(PROD)).toEqual({ account: '123456789012', name: 'gitlab-acme-web' });
    expect(parseRoleArn('arn:aws:iam::123456789012:user/x')).toBeUndefined();
    expect(isSameRole(PROD, 'arn:aws:iam::123456789012:role/gitlab-acme-web')).toBe(true);
    expect(isSameRole(PROD, 'arn:aws:iam::123456789012:role/GITLAB-ACME-WEB')).toBe(true);
    expect(isSameRole(PROD, DEV)).toBe(false);
    const otherAccount = 'arn:aws:iam::999999999999:role/gitlab-oidc/gitlab-acme-web';
    expect(isSameRole(PROD, otherAccount)).toBe(false);
    expect(isSameRole(PROD, otherAccount, true)).toBe(true);
  });
});

describe('chooseJobNames', () => {
  it('the first role of a file (or of a new file) gets the plain names', () => {
    const plain = { names: jobNamesFor(), found: false, others: [] };
    expect(chooseJobNames(undefined, DEV)).toEqual(plain);
    expect(chooseJobNames('build:\n  script: [make]\n', DEV)).toEqual(plain);
  });

  it('a further role gets names suffixed with its role name; the first role keeps .aws-oidc', () => {
    const prodOnly = write(undefined, PROD);
    const choice = chooseJobNames(prodOnly, DEV);
    expect(choice.names).toEqual(jobNamesFor('gitlab-acme-web-dev'));
    expect(choice.found).toBe(false);
    expect(choice.others).toEqual([{ names: jobNamesFor(), suffix: undefined, roleArn: PROD }]);
    const both = write(prodOnly, DEV);
    // Each role finds its own jobs again on a re-run, whichever came first.
    expect(chooseJobNames(both, PROD)).toMatchObject({ names: jobNamesFor(), found: true });
    expect(chooseJobNames(both, DEV).names).toEqual(jobNamesFor('gitlab-acme-web-dev'));
    expect(chooseJobNames(both, DEV).others.map((o) => o.roleArn)).toEqual([PROD]);
  });

  it('finds a role whose jobs hold another path of the same name (the role is its name)', () => {
    const file = write(undefined, 'arn:aws:iam::123456789012:role/old/path/gitlab-acme-web');
    expect(chooseJobNames(file, PROD)).toEqual({ names: jobNamesFor(), found: true, others: [] });
  });

  it('before the account is known, a same-named role matches in any account', () => {
    const file = write(undefined, PROD);
    const placeholder = 'arn:aws:iam::123456789012:role/gitlab-oidc/gitlab-acme-web';
    const realAccount = 'arn:aws:iam::555555555555:role/gitlab-oidc/gitlab-acme-web';
    expect(chooseJobNames(file, placeholder, { anyAccount: true }).names).toEqual(jobNamesFor());
    // Known account: the other account's role is another role.
    expect(chooseJobNames(file, realAccount).names).toEqual(jobNamesFor('gitlab-acme-web'));
  });

  it('refuses when the suffixed names already hold a same-named role of another account', () => {
    const a = write(undefined, DEV);
    const b = write(a, PROD); // .aws-oidc-gitlab-acme-web for PROD
    const otherAccount = 'arn:aws:iam::555555555555:role/gitlab-acme-web';
    let caught: unknown;
    try {
      chooseJobNames(b, otherAccount);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as UsageError).issues[0]?.field).toBe('--role-name');
    expect((caught as UsageError).message).toContain('".aws-oidc-gitlab-acme-web"');
  });

  it('a .aws-oidc that names no role (a job the user wrote) keeps the plain names: the merge reports it', () => {
    const user = '.aws-oidc:\n  variables:\n    FOO: bar\n';
    expect(chooseJobNames(user, DEV).names).toEqual(jobNamesFor());
    expect(chooseJobNames('not: [valid\n', DEV).names).toEqual(jobNamesFor());
  });
});
