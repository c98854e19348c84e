import { describe, expect, it } from 'vitest';
import {
  checkRefProtection,
  protectionRuleFor,
  ruleCoversPattern,
  ruleMatchesRef,
} from '../../src/core/protected-refs.js';

describe('ruleMatchesRef (GitLab RefMatcher semantics)', () => {
  it.each([
    ['main', 'main', true],
    ['main', 'Main', false],
    ['main', 'main2', false],
    ['release/*', 'release/1', true],
    // GitLab's * spans "/" (the regex is .*?), unlike a shell glob.
    ['release/*', 'release/1/hotfix', true],
    ['release/*', 'release/', true],
    ['release/*', 'release', false],
    ['*', 'anything/at/all', true],
    ['*-stable', '13-0-stable', true],
    ['*-stable', '13-0-stable-x', false],
    ['*gitlab*', 'my-gitlab-branch', true],
    // "?" and "." are literal in GitLab rules.
    ['v?', 'v1', false],
    ['v1.0', 'v1x0', false],
    ['', 'main', false],
  ])('rule %j protects %j: %s', (rule, name, expected) => {
    expect(ruleMatchesRef(rule, name)).toBe(expected);
  });
});

describe('ruleCoversPattern: every ref the IAM pattern matches is protected by the rule', () => {
  it.each([
    ['release/*', 'release/*', true],
    ['*', 'release/*', true],
    ['*', 'v?', true],
    ['release/*', 'release/v*', true],
    ['release/*', 'release/?', true],
    ['release/*', 'release*', false], // release-x is not under release/
    ['release/1', 'release/*', false], // only one of its refs
    ['release/*/hotfix', 'release/*', false],
    ['v*', 'v?', true],
    ['v?', 'v?', false], // GitLab reads "?" literally: the rule protects only a ref named "v?"
    ['v*', 'v1.*', true],
    ['v1.*', 'v*', false],
    ['*-stable', '*-stable', true],
    ['*-stable', '1*-stable', true],
    ['*-stable', '*stable', false],
    ['main', 'main', true],
    ['*a*', '*a*', true],
    ['*a*', '?a', true],
    ['a*b', 'a*c', false],
  ])('rule %j covers pattern %j: %s', (rule, pattern, expected) => {
    expect(ruleCoversPattern(rule, pattern)).toBe(expected);
  });
});

describe('checkRefProtection', () => {
  const rules = { branches: ['main', 'release/*', 'hotfix/1'], tags: ['v*'] };

  it('finds the rule protecting each ref, branches against branch rules and tags against tag rules', () => {
    const result = checkRefProtection(
      [
        { type: 'branch', pattern: 'main' },
        { type: 'branch', pattern: 'release/2.0' },
        { type: 'branch', pattern: 'release/*' },
        { type: 'tag', pattern: 'v1.2.3' },
        { type: 'tag', pattern: 'v*' },
        // A branch named like a protected tag is not protected by the tag rule.
        { type: 'branch', pattern: 'v1' },
        { type: 'tag', pattern: 'main' },
      ],
      rules,
    );
    expect(result.map((r) => r.protectedBy)).toEqual([
      'main',
      'release/*',
      'release/*',
      'v*',
      'v*',
      undefined,
      undefined,
    ]);
  });

  it('an exact rule is preferred over a broader one', () => {
    const [r] = checkRefProtection([{ type: 'branch', pattern: 'main' }], {
      branches: ['*', 'main'],
      tags: [],
    });
    expect(r?.protectedBy).toBe('main');
  });

  it('a pattern covered only in part names the rules that protect some of its refs', () => {
    const [r] = checkRefProtection([{ type: 'branch', pattern: 'hotfix/*' }], rules);
    expect(r).toEqual({
      ref: { type: 'branch', pattern: 'hotfix/*' },
      protectedBy: undefined,
      partly: ['hotfix/1'],
    });
  });

  it('with no rules nothing is protected', () => {
    const result = checkRefProtection([{ type: 'branch', pattern: 'main' }], { branches: [], tags: [] });
    expect(result[0]?.protectedBy).toBeUndefined();
    expect(result[0]?.partly).toEqual([]);
  });
});

describe('protectionRuleFor', () => {
  it.each([
    ['main', 'main'],
    ['release/*', 'release/*'],
    // GitLab has no single-character wildcard: no rule protects exactly what v? matches.
    ['v?', undefined],
  ])('%j → %j', (pattern, rule) => {
    expect(protectionRuleFor({ type: 'branch', pattern })).toBe(rule);
  });
});
