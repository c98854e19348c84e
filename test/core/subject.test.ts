import { describe, expect, it } from 'vitest';
import { matchesStringLike } from '../../src/core/iam-conditions.js';
import {
  buildProjectIdSubject,
  buildSubject,
  buildSubjects,
  buildSubjectsFor,
  parseSubject,
  patternCovers,
  subClaimComponents,
  subClaimFormOf,
  subjectWithPath,
} from '../../src/core/subject.js';

describe('buildSubject', () => {
  it.each([
    ['g/p', { type: 'branch', pattern: 'main' }, 'project_path:g/p:ref_type:branch:ref:main'],
    ['g/s/p', { type: 'tag', pattern: 'v*' }, 'project_path:g/s/p:ref_type:tag:ref:v*'],
    ['g/p', { type: 'branch', pattern: 'release/*' }, 'project_path:g/p:ref_type:branch:ref:release/*'],
  ] as const)('%s %j', (path, rule, sub) => {
    expect(buildSubject(path, rule)).toBe(sub);
  });

  it('dedupes a list', () => {
    const main = { type: 'branch', pattern: 'main' } as const;
    expect(buildSubjects('g/p', [main, main, { type: 'tag', pattern: 'main' }])).toEqual([
      'project_path:g/p:ref_type:branch:ref:main',
      'project_path:g/p:ref_type:tag:ref:main',
    ]);
  });

  it('builds the project_id variant', () => {
    expect(buildProjectIdSubject('42', { type: 'branch', pattern: 'main' })).toBe(
      'project_id:42:ref_type:branch:ref:main',
    );
  });
});

describe('the sub form (ci_id_token_sub_claim_components)', () => {
  it.each([
    [['project_path', 'ref_type', 'ref'], 'project_path'],
    [['project_id', 'ref_type', 'ref'], 'project_id'],
    [['project_id', 'ref_type', 'ref', 'ref_protected'], undefined],
    [['project_id', 'ref'], undefined],
    [['ref_type', 'project_id', 'ref'], undefined],
    [[], undefined],
    [undefined, undefined],
  ])('%j → %s', (components, form) => {
    expect(subClaimFormOf(components)).toBe(form);
  });

  it('components round-trip through the form', () => {
    expect(subClaimComponents('project_id')).toEqual(['project_id', 'ref_type', 'ref']);
    expect(subClaimFormOf(subClaimComponents('project_path'))).toBe('project_path');
  });

  it('builds one sub per rule in the form, without duplicates', () => {
    const rules = [
      { type: 'branch', pattern: 'main' },
      { type: 'branch', pattern: 'main' },
      { type: 'tag', pattern: 'v*' },
    ] as const;
    expect(buildSubjectsFor({ projectPath: 'g/p', projectId: '42', form: 'project_id' }, rules)).toEqual([
      'project_id:42:ref_type:branch:ref:main',
      'project_id:42:ref_type:tag:ref:v*',
    ]);
    expect(buildSubjectsFor({ projectPath: 'g/p', projectId: '42' }, rules)).toEqual(
      buildSubjects('g/p', rules),
    );
    expect(() => buildSubjectsFor({ projectPath: 'g/p', form: 'project_id' }, rules)).toThrow(/project ID/);
  });

  it('rewrites a project_id sub of that ID to the path form, and nothing else', () => {
    const same = { projectPath: 'g/p', projectId: '42' };
    expect(subjectWithPath('project_id:42:ref_type:branch:ref:main', same)).toBe(
      'project_path:g/p:ref_type:branch:ref:main',
    );
    for (const other of [
      'project_id:420:ref_type:branch:ref:main',
      'project_id:4*',
      'project_path:g/p:ref_type:branch:ref:main',
    ])
      expect(subjectWithPath(other, same)).toBe(other);
  });
});

describe('parseSubject', () => {
  it.each([
    [
      'project_path:g/s/p:ref_type:branch:ref:feature/x',
      { projectPath: 'g/s/p', refType: 'branch', ref: 'feature/x' },
    ],
    ['project_id:42:ref_type:tag:ref:v1.0', { projectId: '42', refType: 'tag', ref: 'v1.0' }],
  ])('%s', (sub, parsed) => {
    expect(parseSubject(sub)).toEqual(parsed);
  });

  it.each(['project_path:g/p', 'project_path:g/p:ref_type:mr:ref:1', 'repo:o/r:ref:refs/heads/main', 'x'])(
    'rejects %s',
    (sub) => {
      expect(parseSubject(sub)).toBeUndefined();
    },
  );
});

describe('sub patterns under StringLike', () => {
  it('a ref pattern never matches another project (the project part is literal and ends in ":")', () => {
    const pattern = buildSubject('acme/app', { type: 'branch', pattern: '*' });
    expect(matchesStringLike(pattern, 'project_path:acme/app:ref_type:branch:ref:x/y')).toBe(true);
    for (const other of ['acme/app-2', 'acme/app/sub', 'acme/ap', 'evil/acme/app']) {
      expect(matchesStringLike(pattern, `project_path:${other}:ref_type:branch:ref:main`)).toBe(false);
    }
    // A tag of the same project does not match a branch pattern either.
    expect(matchesStringLike(pattern, 'project_path:acme/app:ref_type:tag:ref:v1')).toBe(false);
  });
});

describe('patternCovers', () => {
  it.each([
    ['main', 'main', true],
    ['release/*', 'release/1', true],
    ['release/*', 'release/v*', true],
    ['*', 'anything*', true],
    ['release/*', 'rel*', false],
    ['main', 'main*', false],
    ['a?', 'a*', false],
    ['v?', 'v1', true],
    ['v*', 'v?', true],
  ])('%s ⊇ %s → %s', (pattern, candidate, expected) => {
    expect(patternCovers(pattern, candidate)).toBe(expected);
  });
});
