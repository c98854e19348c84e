import { describe, expect, it } from 'vitest';
import {
  conditionValueMatches,
  expandsPolicyVariables,
  hasWildcard,
  holdsPolicyVariable,
  isAllWildcard,
  matchesStringLike,
  operatorSpelling,
  parseConditionOperator,
  passesWhenKeyMissing,
  policyVariablesAsWildcards,
  whenKeyMissing,
} from '../../src/core/iam-conditions.js';

describe('parseConditionOperator', () => {
  it.each([
    ['StringEquals', { base: 'StringEquals', ifExists: false, negated: false, set: undefined }],
    ['StringNotLikeIfExists', { base: 'StringNotLike', ifExists: true, negated: true, set: undefined }],
    [
      'ForAllValues:StringEquals',
      { base: 'StringEquals', ifExists: false, negated: false, set: 'ForAllValues' },
    ],
    [
      'ForAnyValue:StringLikeIfExists',
      { base: 'StringLike', ifExists: true, negated: false, set: 'ForAnyValue' },
    ],
    ['Null', { base: 'Null', ifExists: false, negated: false, family: 'Null' }],
    ['ArnNotLike', { base: 'ArnNotLike', negated: true, known: true, family: 'Arn' }],
    ['NotIpAddressIfExists', { base: 'NotIpAddress', ifExists: true, negated: true, family: 'Ip' }],
  ])('%s', (raw, expected) => {
    expect(parseConditionOperator(raw)).toMatchObject({ raw, known: true, ...expected });
  });

  // What IAM refuses (MalformedPolicyDocument): the linter reports it (GAO029), the evaluator never
  // lets it match, and no part of it is read as a valid operator.
  it.each([
    'NullIfExists', // IfExists goes on any operator except Null
    'ForAnyValue:ForAllValues:StringEquals', // one set prefix at most
    'Foo:StringEquals', // not a set prefix
    'IfExists',
    'stringequals', // operators are case-sensitive
    'StringLikeIgnoreCase',
    'constructor', // no prototype lookups
    '',
  ])('%j is not an IAM operator', (raw) => {
    const op = parseConditionOperator(raw);
    expect(op.known).toBe(false);
    expect(op.family).toBe('Unknown');
  });
});

describe('matchesStringLike (IAM StringLike semantics)', () => {
  it.each([
    ['main', 'main', true],
    ['main', 'Main', false],
    ['main', 'main2', false],
    ['release/*', 'release/1.0', true],
    ['release/*', 'release/', true],
    ['release/*', 'release', false],
    ['*', '', true],
    ['v?', 'v1', true],
    ['v?', 'v10', false],
    ['a*b*c', 'a-x-b-y-c', true],
    ['a*b*c', 'a-x-c', false],
    // `*` crosses `/` and `:`: `project_path:grp/*` covers every subgroup (domain.md).
    ['project_path:g/*', 'project_path:g/sub/p:ref_type:branch:ref:main', true],
    [
      'project_path:grp/*:ref_type:branch:ref:main',
      'project_path:grp/sub/deep/app:ref_type:branch:ref:main',
      true,
    ],
    ['project_path:grp/*', 'project_path:grp/', true],
    ['project_path:grp/*', 'project_path:grp-evil/app', false],
    ['project_path:grp*', 'project_path:grp-evil/app', true],
    ['ref:v?', 'ref:v1', true],
    ['ref:v?', 'ref:v10', false],
    ['ref:v?', 'ref:v', false],
    ['a.b', 'axb', false], // regex metacharacters are literal
    ['a.b', 'a.b', true],
    ['(a|b)+', '(a|b)+', true],
    ['Main', 'main', false], // case-sensitive
    ['', '', true],
    ['', 'x', false],
    ['?', '', false],
    ['**', 'anything', true],
    ['*?', '', false],
    // A `*` or `?` in the value is an ordinary character there; the pattern's `*` still matches it.
    ['*', '*x', true],
    ['*', '*?*', true],
    ['a*b', 'a*xb', true],
    ['?*', 'A*b:b', true],
    ['x*', '*x', false],
  ])('%j ~ %j → %s', (pattern, value, expected) => {
    expect(matchesStringLike(pattern, value)).toBe(expected);
  });

  it.each([
    ['sts:AssumeRoleWithWebIdentity', 'sts:assumerolewithwebidentity', true],
    ['STS:Assume*', 'sts:AssumeRoleWithWebIdentity', true],
    ['sts:*Role', 'STS:ASSUMEROLE', true],
    ['sts:?ssumeRole', 'sts:AssumeRoles', false],
  ])('ignoring case (action names): %j ~ %j → %s', (pattern, value, expected) => {
    expect(matchesStringLike(pattern, value, true)).toBe(expected);
    expect(matchesStringLike(pattern, value)).toBe(pattern === value);
  });

  it('stays fast on many stars (no regular-expression backtracking)', () => {
    const pattern = `${'*a'.repeat(30)}*b`;
    const started = Date.now();
    expect(matchesStringLike(pattern, 'a'.repeat(5000))).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('conditionValueMatches (one policy value, negation not applied)', () => {
  it.each([
    ['StringEquals', 'https://gitlab.com', 'https://gitlab.com', true],
    ['StringEquals', 'https://gitlab.*', 'https://gitlab.com', false], // `*` is literal
    ['StringEquals', 'https://gitlab.*', 'https://gitlab.*', true],
    ['StringEquals', 'HTTPS://GITLAB.COM', 'https://gitlab.com', false],
    ['StringNotEquals', 'https://gitlab.com', 'https://gitlab.com', true],
    ['StringEqualsIgnoreCase', 'HTTPS://GITLAB.COM', 'https://gitlab.com', true],
    ['StringNotEqualsIgnoreCase', 'HTTPS://GITLAB.COM', 'https://gitlab.com', true],
    ['StringLike', 'https://gitlab.*', 'https://gitlab.com', true],
    ['StringLike', 'HTTPS://gitlab.*', 'https://gitlab.com', false],
    ['StringNotLike', 'https://gitlab.*', 'https://gitlab.com', true],
    ['StringLike', '*', 'client*id', true],
    ['ArnEquals', 'arn:aws:iam::*:role/ci', 'arn:aws:iam::123456789012:role/ci', true], // Arn* take patterns
    ['ArnLike', 'arn:aws:iam::*:role/CI', 'arn:aws:iam::123456789012:role/ci', false],
  ])('%s %j vs %j → %s', (operator, policyValue, requestValue, expected) => {
    expect(conditionValueMatches(parseConditionOperator(operator), policyValue, requestValue)).toBe(expected);
  });
});

describe('a key missing from the request', () => {
  it.each([
    ['StringEquals', ['x'], false, 'missing-key'],
    ['StringLike', ['*'], false, 'missing-key'],
    ['StringNotEquals', ['x'], true, 'missing-key-negated'],
    ['ArnNotLike', ['x'], true, 'missing-key-negated'],
    ['StringEqualsIfExists', ['x'], true, 'missing-key-if-exists'],
    ['StringNotEqualsIfExists', ['x'], true, 'missing-key-if-exists'],
    ['ForAllValues:StringEquals', ['x'], true, 'missing-key-for-all-values'],
    ['ForAllValues:StringNotEquals', ['x'], true, 'missing-key-for-all-values'],
    ['ForAnyValue:StringEquals', ['x'], false, 'missing-key-for-any-value'],
    ['ForAnyValue:StringNotEquals', ['x'], false, 'missing-key-for-any-value'],
    // Observed on AWS: ForAnyValue wins over IfExists.
    ['ForAnyValue:StringEqualsIfExists', ['x'], false, 'missing-key-for-any-value'],
  ])('%s → %s (%s)', (operator, values, passed, outcome) => {
    const op = parseConditionOperator(operator);
    expect(whenKeyMissing(op)).toEqual({ passed, outcome });
    expect(passesWhenKeyMissing(op, values)).toBe(passed);
  });

  it.each([
    ['Null', ['true'], true],
    ['Null', ['false'], false],
    ['Null', ['TRUE'], true],
    ['Null', ['false', 'true'], true],
    ['NullIfExists', ['true'], false], // not an operator: never passes
    ['Bogus', ['x'], false],
    ['ForAllValues:Bogus', ['x'], false],
  ])('%s %j → %s', (operator, values, passed) => {
    expect(passesWhenKeyMissing(parseConditionOperator(operator), values)).toBe(passed);
  });
});

describe('wildcards', () => {
  it.each([
    ['main', false, false],
    ['', false, false],
    ['v*', true, false],
    ['v?', true, false],
    ['*', true, true],
    ['**', true, true],
    ['?*', true, true],
    ['*?', true, true],
    ['?', true, false], // one character, not any ref
    ['??', true, false],
  ])('%j: hasWildcard %s, isAllWildcard %s', (value, wildcard, all) => {
    expect(hasWildcard(value)).toBe(wildcard);
    expect(isAllWildcard(value)).toBe(all);
  });
});

describe('policy variables (reference_policies_variables.html)', () => {
  /** `${inner}`, spelled so that it is not mistaken for a template literal. */
  const pv = (inner: string) => `$\{${inner}}`;

  it('are expanded only under Version 2012-10-17 (without Version they are text)', () => {
    expect(expandsPolicyVariables('2012-10-17')).toBe(true);
    expect(expandsPolicyVariables('2008-10-17')).toBe(false);
    expect(expandsPolicyVariables(undefined)).toBe(false);
  });

  it.each([
    [pv('gitlab.com:sub'), '*'],
    [`project_path:${pv('gitlab.com:user_login')}/app`, 'project_path:*/app'],
    [pv("aws:username, 'anon'"), '*'],
    // The escapes are characters, not request values.
    [`ref:${pv('*')}`, undefined],
    [`a${pv('$')}b${pv('?')}`, undefined],
    [`${pv('*')}${pv('gitlab.com:aud')}`, '**'],
    ['project_path:grp/app:ref_type:branch:ref:main', undefined],
    ['$x {y}', undefined],
  ])('%j judged as %j', (value, expected) => {
    expect(policyVariablesAsWildcards(value)).toBe(expected);
    expect(holdsPolicyVariable(value)).toBe(expected !== undefined);
  });
});

describe('operatorSpelling (for GAO029: the documented spelling of a mis-cased operator)', () => {
  it.each([
    ['stringnotequals', 'StringNotEquals'],
    ['STRINGLIKE', 'StringLike'],
    ['forallvalues:stringequalsifexists', 'ForAllValues:StringEqualsIfExists'],
    ['ForAnyValue:stringLike', 'ForAnyValue:StringLike'],
    ['null', 'Null'],
  ])('%j → %s', (raw, spelt) => {
    expect(operatorSpelling(raw)).toBe(spelt);
  });

  it.each(['StringEquals', 'StringEqualz', 'nullifexists', 'foo:stringequals', 'ifexists', 'constructor'])(
    '%j has none',
    (raw) => {
      expect(operatorSpelling(raw)).toBeUndefined();
    },
  );
});
