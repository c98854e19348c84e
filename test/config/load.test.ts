import { describe, expect, it } from 'vitest';
import { allowedKeysAt, parseFleetConfig } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';

const where = { path: '/cfg/gitlab-aws-oidc.yml', shownPath: 'gitlab-aws-oidc.yml' };

function issuesOf(text: string): string[] {
  try {
    parseFleetConfig(text, where);
  } catch (error) {
    if (error instanceof UsageError) return error.issues.map((i) => `${i.field}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a UsageError');
}

const SETTINGS_KEYS =
  'refs, audience, protectedOnly, permissions, roleName, rolePath, boundary, maxSessionDuration, tags, region, delivery, role';

describe('parseFleetConfig: every schema error names file:line:column, the field path and the allowed form', () => {
  const cases: { name: string; text: string; expected: string[] }[] = [
    {
      name: 'unknown top-level key',
      text: 'version: 1\ngroup: acme\ngroops: x\n',
      expected: [
        'gitlab-aws-oidc.yml:3:1: groops: unknown key (allowed: $schema, version, gitlabUrl, group, include, exclude, defaults, projects)',
      ],
    },
    {
      name: 'unknown key in defaults',
      text: 'version: 1\ngroup: acme\ndefaults:\n  audiance: x\n',
      expected: [`gitlab-aws-oidc.yml:4:3: defaults.audiance: unknown key (allowed: ${SETTINGS_KEYS})`],
    },
    {
      name: 'unknown key in a project entry',
      text: 'version: 1\nprojects:\n  - path: acme/app\n    role_name: x\n',
      expected: [
        `gitlab-aws-oidc.yml:4:5: projects[0].role_name: unknown key (allowed: path, match, ${SETTINGS_KEYS})`,
      ],
    },
    {
      name: 'unknown key in refs',
      text: 'version: 1\ngroup: acme\ndefaults:\n  refs:\n    branch: [main]\n',
      expected: [
        'gitlab-aws-oidc.yml:5:5: defaults.refs.branch: unknown key (allowed: branches, tags, allowAnyRef)',
      ],
    },
    {
      name: 'unknown key in permissions',
      text: 'version: 1\ngroup: acme\ndefaults:\n  permissions:\n    arns: []\n',
      expected: [
        'gitlab-aws-oidc.yml:5:5: defaults.permissions.arns: unknown key (allowed: template, params, managedPolicies, policyFile)',
      ],
    },
    {
      name: 'wrong version',
      text: 'version: 2\ngroup: acme\n',
      expected: ['gitlab-aws-oidc.yml:1:10: version: not an allowed value (allowed: 1)'],
    },
    {
      name: 'missing version',
      text: 'group: acme\n',
      expected: ['gitlab-aws-oidc.yml:1:1: version: is required (allowed: 1)'],
    },
    {
      name: 'bad delivery',
      text: 'version: 1\ngroup: acme\ndefaults:\n  delivery: email\n',
      expected: [
        'gitlab-aws-oidc.yml:4:13: defaults.delivery: not an allowed value (allowed: "merge-request", "ci-variables", "none")',
      ],
    },
    {
      name: 'bad role mode',
      text: 'version: 1\nprojects:\n  - path: a/b\n    role: shared\n',
      expected: [
        'gitlab-aws-oidc.yml:4:11: projects[0].role: not an allowed value (allowed: "per-project", "per-group")',
      ],
    },
    {
      name: 'wrong type: branches not a list',
      text: 'version: 1\ngroup: acme\ndefaults:\n  refs:\n    branches: main\n',
      expected: ['gitlab-aws-oidc.yml:5:15: defaults.refs.branches: must be a list'],
    },
    {
      name: 'wrong type: a list entry given as a plain string is not "required" (it is there)',
      text: 'version: 1\nprojects:\n  - acme/web/app\n',
      expected: ['gitlab-aws-oidc.yml:3:5: projects[0]: must be a mapping (key: value)'],
    },
    {
      name: 'wrong type: maxSessionDuration as a string',
      text: 'version: 1\ngroup: acme\ndefaults:\n  maxSessionDuration: "1h"\n',
      expected: ['gitlab-aws-oidc.yml:4:23: defaults.maxSessionDuration: must be a number'],
    },
    {
      name: 'wrong type: tag value not a string',
      text: 'version: 1\ngroup: acme\ndefaults:\n  tags:\n    team: 7\n',
      expected: ['gitlab-aws-oidc.yml:5:11: defaults.tags.team: must be a string'],
    },
    {
      name: 'unknown role name placeholder',
      text: 'version: 1\ngroup: acme\ndefaults:\n  roleName: gitlab-{namespace}-{project}\n',
      expected: [
        'gitlab-aws-oidc.yml:4:13: defaults.roleName: unknown placeholder {namespace} (allowed: {group}, {project}, {path})',
      ],
    },
    {
      name: 'unmatched brace in role name',
      text: 'version: 1\ngroup: acme\ndefaults:\n  roleName: gitlab-{path\n',
      expected: [
        'gitlab-aws-oidc.yml:4:13: defaults.roleName: has an unmatched "{" or "}" (allowed: {group}, {project}, {path})',
      ],
    },
    {
      name: 'entry with both path and match',
      text: 'version: 1\nprojects:\n  - path: a/b\n    match: a/*\n',
      expected: [
        'gitlab-aws-oidc.yml:4:12: projects[0].match: give exactly one of path (one project) or match (a glob) (allowed: path, match)',
      ],
    },
    {
      name: 'entry with neither path nor match',
      text: 'version: 1\ngroup: acme\nprojects:\n  - audience: x\n',
      expected: [
        'gitlab-aws-oidc.yml:4:5: projects[0]: give exactly one of path (one project) or match (a glob) (allowed: path, match)',
      ],
    },
    {
      name: 'nothing selected',
      text: 'version: 1\ndefaults:\n  audience: x\n',
      expected: [
        'gitlab-aws-oidc.yml:1:1: (top level): selects no project: give a group, or projects entries with a path (allowed: group, projects[].path)',
      ],
    },
    {
      name: 'empty include glob',
      text: "version: 1\ngroup: acme\ninclude: ['']\n",
      expected: ['gitlab-aws-oidc.yml:3:11: include[0]: include must not be empty'],
    },
    {
      name: 'empty file',
      text: '# nothing\n',
      expected: [
        'gitlab-aws-oidc.yml:1:1: (top level): the file is empty (allowed: version: 1, then group and/or projects)',
      ],
    },
    {
      name: 'a list instead of a mapping',
      text: '- version: 1\n',
      expected: ['gitlab-aws-oidc.yml:1:1: (top level): must be a mapping (key: value)'],
    },
    {
      name: 'YAML syntax error',
      text: 'version: 1\ngroup: [acme\n',
      expected: [expect.stringMatching(/^gitlab-aws-oidc\.yml:\d+:\d+: YAML: /) as unknown as string],
    },
    {
      name: 'duplicate key',
      text: 'version: 1\ngroup: acme\ngroup: other\n',
      expected: ['gitlab-aws-oidc.yml:3:1: YAML: Map keys must be unique'],
    },
    {
      name: 'several problems at once, each at its own node',
      text: 'version: 1\ngroup: acme\ndefaults:\n  delivery: mail\nprojects:\n  - match: "*"\n    colour: red\n',
      expected: [
        'gitlab-aws-oidc.yml:4:13: defaults.delivery: not an allowed value (allowed: "merge-request", "ci-variables", "none")',
        `gitlab-aws-oidc.yml:7:5: projects[0].colour: unknown key (allowed: path, match, ${SETTINGS_KEYS})`,
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(issuesOf(c.text)).toEqual(c.expected);
    });
  }

  it('is a usage error (exit 2) with a hint to the README', () => {
    try {
      parseFleetConfig('version: 3\ngroup: a\n', where);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(2);
      expect((error as UsageError).message).toBe('Invalid config file gitlab-aws-oidc.yml (1 problem).');
      expect((error as UsageError).hint).toMatch(/Fleet configuration file/);
    }
  });
});

describe('parseFleetConfig: a valid file', () => {
  it('keeps positions for later errors (members, found after parsing)', () => {
    const loaded = parseFleetConfig(
      'version: 1\ngroup: acme\ndefaults:\n  refs:\n    branches: [main, "release/*"]\n',
      where,
    );
    expect(loaded.config.group).toBe('acme');
    expect(loaded.dir).toBe('/cfg');
    expect(loaded.positionOf(['defaults', 'refs', 'branches', 1])).toEqual({
      file: 'gitlab-aws-oidc.yml',
      line: 5,
      column: 22,
      field: 'defaults.refs.branches[1]',
    });
    // A path not in the file: its nearest ancestor.
    expect(loaded.positionOf(['defaults', 'audience'])).toMatchObject({
      line: 4,
      column: 3,
      field: 'defaults.audience',
    });
  });

  it('accepts YAML anchors and aliases to share settings', () => {
    const loaded = parseFleetConfig(
      'version: 1\n' +
        'projects:\n  - path: a/b\n    refs: &r\n      branches: [main]\n  - path: a/c\n    refs: *r\n',
      where,
    );
    expect(loaded.config.projects?.[1]?.refs).toEqual({ branches: ['main'] });
  });

  it('lists the allowed keys of nested mappings from the schema itself', () => {
    expect(allowedKeysAt(['projects', 0, 'permissions'])).toEqual([
      'template',
      'params',
      'managedPolicies',
      'policyFile',
    ]);
    expect(allowedKeysAt(['defaults', 'refs'])).toEqual(['branches', 'tags', 'allowAnyRef']);
  });
});
