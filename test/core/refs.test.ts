import { describe, expect, it } from 'vitest';
import {
  buildRefRules,
  matchesAnyRef,
  validateGroupPath,
  validateProjectPath,
  validateRefName,
} from '../../src/core/refs.js';
import { usageError } from '../helpers/usage-error.js';

describe('validateProjectPath', () => {
  it.each([
    'group/project',
    'my-group/sub.group/my_project',
    'A/B',
    'g/s1/s2/s3/p',
    '_g/.hidden-ish',
    'g/p-',
  ])('accepts %s', (path) => {
    expect(validateProjectPath(path)).toBe(path);
  });

  it('trims surrounding whitespace', () => {
    expect(validateProjectPath(' group/project ')).toBe('group/project');
  });

  it.each([
    ['', /empty/],
    ['project', /no group/],
    ['group/*', /wildcard/],
    ['grp*/app', /wildcard/],
    ['group/proj?', /wildcard/],
    ['/group/project', /start or end/],
    ['group/project/', /start or end/],
    ['group//project', /empty segment/],
    ['group/project.git', /\.git/],
    ['group/project.atom', /\.git/],
    ['group/-project', /may only hold/],
    ['group/project.', /may only hold/],
    ['group/pro ject', /may only hold/],
    ['group/pro:ject', /may only hold/],
    ['https://gitlab.com/group/project', /URL/],
    [`g/${'p'.repeat(260)}`, /longer than 255/],
  ])('rejects %j', (path, message) => {
    const error = usageError(() => validateProjectPath(path));
    expect(error.issues[0]?.field).toBe('--project');
    expect(error.message).toMatch(message);
  });

  it('names the flag it is given', () => {
    expect(usageError(() => validateProjectPath('x', 'project')).issues[0]?.field).toBe('project');
  });
});

describe('validateRefName', () => {
  it.each(['main', 'feature/x-1', 'release/*', 'v*', 'v?.?', 'v1.2.3', 'a@b', 'deps/bump_{x}', 'ünïcode'])(
    'accepts %s',
    (ref) => {
      expect(validateRefName(ref, '--branch')).toBe(ref);
    },
  );

  it.each([
    ['', /empty/],
    ['my branch', /space/],
    ['tab\tbranch', /space or a control/],
    ['a..b', /\.\./],
    ['a~1', /~/],
    ['a^b', /~ \^/],
    ['a:b', /:/],
    ['a\\b', /\\/],
    ['a[b]', /\[/],
    ['feature/', /start or end/],
    ['/feature', /start or end/],
    ['a//b', /\/\//],
    ['topic.lock', /\.lock/],
    ['x.lock/y', /\.lock/],
    ['.hidden', /starting with "\."/],
    ['a/.b', /starting with "\."/],
    ['ends.', /end with "\."/],
    ['@', /@\{/],
    ['a@{1}', /@\{/],
    ['-rf', /start with "-"/],
    ['refs/heads/main', /full ref/],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is the point
    ['x${foo}', /policy variable/],
  ])('rejects %j', (ref, message) => {
    const error = usageError(() => validateRefName(ref, '--tag'));
    expect(error.issues[0]?.field).toBe('--tag');
    expect(error.message).toMatch(message);
  });
});

describe('matchesAnyRef', () => {
  it.each([
    ['*', true],
    ['**', true],
    ['?*', true],
    ['*?', true],
    ['?', false],
    ['release/*', false],
    ['*main', false],
    ['main', false],
  ])('%s → %s', (pattern, expected) => {
    expect(matchesAnyRef(pattern)).toBe(expected);
  });
});

describe('buildRefRules', () => {
  it('builds branch then tag rules, deduplicated', () => {
    expect(buildRefRules({ branches: ['main', 'release/*', 'main'], tags: ['v*'] })).toEqual([
      { type: 'branch', pattern: 'main' },
      { type: 'branch', pattern: 'release/*' },
      { type: 'tag', pattern: 'v*' },
    ]);
  });

  it('keeps the same name as branch and tag apart', () => {
    expect(buildRefRules({ branches: ['main'], tags: ['main'] })).toHaveLength(2);
  });

  it('requires at least one ref', () => {
    const error = usageError(() => buildRefRules({}));
    expect(error.issues[0]?.field).toBe('--branch');
    expect(error.hint).toMatch(/--branch/);
  });

  it.each([
    [{ branches: ['*'] }, '--branch'],
    [{ tags: ['**'] }, '--tag'],
    [{ branches: ['main'], tags: ['?*'] }, '--tag'],
  ])('refuses any-ref pattern %j without allowAnyRef', (input, field) => {
    const error = usageError(() => buildRefRules(input));
    expect(error.issues[0]?.field).toBe(field);
    expect(error.message).toMatch(/matches every/);
    expect(error.hint).toMatch(/--allow-any-ref/);
  });

  it('accepts any-ref with explicit consent', () => {
    expect(buildRefRules({ branches: ['*'], allowAnyRef: true })).toEqual([{ type: 'branch', pattern: '*' }]);
  });

  it('names the flag of an invalid ref', () => {
    expect(usageError(() => buildRefRules({ branches: ['ok'], tags: ['bad tag'] })).issues[0]?.field).toBe(
      '--tag',
    );
  });
});

describe('validateGroupPath', () => {
  it('accepts a top-level group and subgroups, with the segment rules of a project path', () => {
    expect(validateGroupPath('acme')).toBe('acme');
    expect(validateGroupPath(' acme/platform.team ')).toBe('acme/platform.team');
  });
  const bad: [string, RegExp][] = [
    ['', /it is empty/],
    ['acme/*', /a group path must be literal/],
    ['/acme', /must not start or end with "\/"/],
    ['acme//x', /empty segment/],
    ['-acme', /segment "-acme"/],
    ['https://gitlab.com/acme', /./],
  ];
  for (const [path, message] of bad) {
    it(`refuses ${JSON.stringify(path)} naming --group`, () => {
      const error = usageError(() => validateGroupPath(path));
      expect(error.issues).toEqual([{ field: '--group', message: expect.stringMatching(message) }]);
    });
  }
});
