import { describe, expect, it } from 'vitest';
import {
  defaultPolicyName,
  defaultRoleName,
  parseTagArgs,
  policyArnFor,
  roleArnFor,
  shortHash,
  validateBoundaryArn,
  validateIamPath,
  validateManagedPolicyArn,
  validateMaxSessionDuration,
  validatePolicyName,
  validateRoleName,
  validateTags,
} from '../../src/core/naming.js';
import { usageError } from '../helpers/usage-error.js';

const IAM_NAME = /^[\w+=,.@-]+$/;
const longGroup = 'a-very-long-group-name/with-a-deep-subgroup/and-another-one';

describe('defaultRoleName', () => {
  it.each([
    ['group/project', 'gitlab-group-project'],
    ['group/sub/project', 'gitlab-group-sub-project'],
    ['My.Group/my_project', 'gitlab-My.Group-my_project'],
  ])('%s → %s', (path, name) => {
    expect(defaultRoleName(path)).toBe(name);
  });

  it('truncates long paths to 64 characters with a stable hash of the full path', () => {
    const path = `${longGroup}/the-project`;
    const name = defaultRoleName(path);
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name.length).toBeGreaterThan(60);
    expect(name).toMatch(IAM_NAME);
    expect(name.endsWith(`-${shortHash(path)}`)).toBe(true);
    expect(name.startsWith('gitlab-a-very-long-group-name-')).toBe(true);
    expect(defaultRoleName(path)).toBe(name);
  });

  it('keeps long paths that share a prefix unique', () => {
    const a = defaultRoleName(`${longGroup}/project-one`);
    const b = defaultRoleName(`${longGroup}/project-two`);
    expect(a).not.toBe(b);
    expect(a.slice(0, -9)).toBe(b.slice(0, -9));
  });

  it('never ends the truncated head with a dangling separator', () => {
    for (let n = 40; n < 80; n++) {
      const name = defaultRoleName(`g/${'x'.repeat(n - 10)}-.${'y'.repeat(10)}`);
      expect(name.length).toBeLessThanOrEqual(64);
      expect(name).not.toMatch(/[-.]-[0-9a-f]{8}$/);
    }
  });

  it('uses the first 8 hex of sha256 (stable across versions and machines)', () => {
    expect(shortHash('group/project')).toBe('de9eb2b1');
    expect(shortHash('group/project')).not.toBe(shortHash('group/Project'));
  });
});

describe('defaultPolicyName', () => {
  it('adds -permissions and stays within 128', () => {
    expect(defaultPolicyName('group/project')).toBe('gitlab-group-project-permissions');
    const long = `${longGroup}/${'p'.repeat(100)}`;
    const name = defaultPolicyName(long);
    expect(name).toHaveLength(128);
    expect(name.endsWith(`-${shortHash(long)}-permissions`)).toBe(true);
    expect(name).toMatch(IAM_NAME);
  });
});

describe('name validators', () => {
  it.each(['a', 'gitlab-acme-app', 'x+=,.@_-', 'r'.repeat(64)])('role name %s', (name) => {
    expect(validateRoleName(name)).toBe(name);
  });

  it.each([
    ['', /1-64/],
    ['r'.repeat(65), /1-64/],
    ['has space', /may only contain/],
    ['slash/no', /may only contain/],
    ['colon:no', /may only contain/],
  ])('rejects role name %j', (name, message) => {
    const error = usageError(() => validateRoleName(name));
    expect(error.issues[0]?.field).toBe('--role-name');
    expect(error.message).toMatch(message);
  });

  it('policy names allow 128', () => {
    expect(validatePolicyName('p'.repeat(128))).toHaveLength(128);
    expect(usageError(() => validatePolicyName('p'.repeat(129))).issues[0]?.field).toBe('--policy-name');
  });

  it.each(['/', '/gitlab-oidc/', '/a/b/c/', `/${'x'.repeat(510)}/`])('path %s', (path) => {
    expect(validateIamPath(path)).toBe(path);
  });

  it.each(['', 'gitlab', '/gitlab', 'gitlab/', '//', '/a b/', `/${'x'.repeat(511)}/`])(
    'rejects path %j',
    (path) => {
      expect(usageError(() => validateIamPath(path, '--policy-path')).issues[0]?.field).toBe('--policy-path');
    },
  );
});

describe('tags', () => {
  it('accepts IAM tag characters, including unicode letters and spaces', () => {
    const tags = { team: 'Platform Ops', 'cost-center': '42', 'ünï:code/x=y+z@w': 'é_.:/=+-@' };
    expect(validateTags(tags)).toEqual(tags);
  });

  it.each([
    [{ 'aws:foo': 'x' }, /reserved "aws:"/],
    [{ 'AWS:foo': 'x' }, /reserved "aws:"/],
    [{ '': 'x' }, /1-128/],
    [{ ['k'.repeat(129)]: 'x' }, /1-128/],
    [{ k: 'v'.repeat(257) }, /256/],
    [{ 'a*b': 'x' }, /characters IAM does not allow/],
    [{ k: 'semi;colon' }, /characters IAM does not allow/],
    [Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])), /at most 50/],
  ])('rejects %j', (tags, message) => {
    const error = usageError(() => validateTags(tags));
    expect(error.issues[0]?.field).toBe('--aws-tag');
    expect(error.message).toMatch(message);
  });

  it('parses key=value arguments', () => {
    expect(parseTagArgs(['team=ops', 'expr=a=b', 'empty='])).toEqual({ team: 'ops', expr: 'a=b', empty: '' });
    expect(usageError(() => parseTagArgs(['novalue'])).message).toMatch(/not key=value/);
    expect(usageError(() => parseTagArgs(['=x'])).message).toMatch(/not key=value/);
    expect(usageError(() => parseTagArgs(['a=1', 'a=2'])).message).toMatch(/twice/);
  });
});

describe('validateMaxSessionDuration', () => {
  it.each([3600, 7200, 43200])('accepts %i', (n) => {
    expect(validateMaxSessionDuration(n)).toBe(n);
  });
  it.each([0, 3599, 43201, 3600.5, Number.NaN])('rejects %d', (n) => {
    expect(usageError(() => validateMaxSessionDuration(n)).issues[0]?.field).toBe('--max-session-duration');
  });
});

describe('ARN validators', () => {
  it.each([
    'arn:aws:iam::aws:policy/ReadOnlyAccess',
    'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    'arn:aws:iam::123456789012:policy/team/deploy',
    'arn:aws-cn:iam::123456789012:policy/x',
  ])('managed policy %s', (arn) => {
    expect(validateManagedPolicyArn(arn)).toBe(arn);
  });

  it.each([
    'ReadOnlyAccess',
    'arn:aws:iam::aws:role/ReadOnlyAccess',
    'arn:aws:iam::12345:policy/x',
    'arn:aws:s3:::bucket',
    'arn:aws:iam::123456789012:policy/',
    'arn:aws:iam::123456789012:policy/bad name',
  ])('rejects %s', (arn) => {
    const error = usageError(() => validateManagedPolicyArn(arn));
    expect(error.issues[0]?.field).toBe('--managed-policy');
    expect(error.hint).toMatch(/arn:<partition>/);
  });

  it('checks the partition when given', () => {
    expect(validateManagedPolicyArn('arn:aws:iam::aws:policy/X', 'aws')).toBeTruthy();
    expect(usageError(() => validateManagedPolicyArn('arn:aws:iam::aws:policy/X', 'aws-cn')).message).toMatch(
      /partition aws, but the account is in aws-cn/,
    );
  });

  it('boundary ARNs name their own flag', () => {
    expect(validateBoundaryArn('arn:aws:iam::123456789012:policy/boundary')).toBeTruthy();
    expect(usageError(() => validateBoundaryArn('nope')).issues[0]?.field).toBe('--permissions-boundary');
  });

  it('builds role and policy ARNs with paths', () => {
    expect(roleArnFor('aws', '123456789012', '/gitlab-oidc/', 'r')).toBe(
      'arn:aws:iam::123456789012:role/gitlab-oidc/r',
    );
    expect(policyArnFor('aws-us-gov', '123456789012', '/', 'p')).toBe(
      'arn:aws-us-gov:iam::123456789012:policy/p',
    );
  });
});
