import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../src/config/load.js';
import { expandRoleName, layersFor, settingsForProject } from '../../src/config/member.js';

const where = { path: '/cfg/gitlab-aws-oidc.yml', shownPath: 'gitlab-aws-oidc.yml' };
const load = (text: string) => parseFleetConfig(text, where).config;

const CONFIG = `version: 1
group: acme
defaults:
  refs: { branches: [main] }
  audience: https://gitlab.com
  roleName: gitlab-{path}
  tags: { team: platform, cost: shared }
  permissions: { template: read-only }
projects:
  - match: "acme/web/**"
    refs: { branches: [main, "release/*"] }
    tags: { cost: web }
  - path: acme/web/shop
    roleName: shop-deployer
    permissions: { managedPolicies: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] }
  - match: "acme/*/shop"
    roleName: never-used-exact-path-wins
    delivery: ci-variables
  - match: "acme/web/*"
    tags: { cost: web-direct }
`;

describe('settingsForProject: defaults < match globs (file order) < exact paths (file order)', () => {
  const config = load(CONFIG);
  const cases: {
    project: string;
    layers: string[];
    flags: Record<string, unknown>;
    delivery?: string;
  }[] = [
    {
      project: 'acme/api',
      layers: ['defaults'],
      flags: {
        branch: ['main'],
        roleName: 'gitlab-acme-api',
        awsTag: ['team=platform', 'cost=shared'],
        template: 'read-only',
      },
    },
    {
      project: 'acme/web/blog',
      layers: ['defaults', 'projects[0]', 'projects[3]'],
      flags: {
        branch: ['main', 'release/*'],
        awsTag: ['team=platform', 'cost=web-direct'],
        roleName: 'gitlab-acme-web-blog',
      },
    },
    {
      project: 'acme/web/deep/app',
      layers: ['defaults', 'projects[0]'],
      flags: { awsTag: ['team=platform', 'cost=web'] },
    },
    {
      // The exact path beats every glob, even a glob listed after it.
      project: 'acme/web/shop',
      layers: ['defaults', 'projects[0]', 'projects[2]', 'projects[3]', 'projects[1]'],
      flags: {
        roleName: 'shop-deployer',
        managedPolicy: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
        // permissions replace as a whole: the default template is not kept.
        template: undefined,
      },
      delivery: 'ci-variables',
    },
    {
      // Globs match case-insensitively, as GitLab paths are.
      project: 'ACME/Web/Blog',
      layers: ['defaults', 'projects[0]', 'projects[3]'],
      flags: {},
    },
  ];
  for (const c of cases) {
    it(`${c.project}: ${c.layers.join(' < ')}`, () => {
      expect(
        layersFor(config, c.project).map((l) =>
          l.path.length === 1 ? l.path[0] : `${l.path[0]}[${l.path[1]}]`,
        ),
      ).toEqual(c.layers);
      const s = settingsForProject(config, c.project, { configDir: '/cfg' });
      expect(s.flags).toMatchObject({ project: c.project, ciFile: false });
      for (const [k, v] of Object.entries(c.flags)) expect(s.flags[k as keyof typeof s.flags]).toEqual(v);
      expect(s.delivery).toBe(c.delivery ?? 'none');
    });
  }

  it('records the node that set each flag, and each list element and tag', () => {
    const s = settingsForProject(config, 'acme/web/blog', { configDir: '/cfg' });
    expect(s.origins.field.branch).toEqual(['projects', 0, 'refs', 'branches']);
    expect(s.origins.elements.branch).toEqual([
      ['projects', 0, 'refs', 'branches', 0],
      ['projects', 0, 'refs', 'branches', 1],
    ]);
    expect(s.origins.field.roleName).toEqual(['defaults', 'roleName']);
    expect(s.origins.elements.awsTag).toEqual([
      ['defaults', 'tags', 'team'],
      ['projects', 3, 'tags', 'cost'],
    ]);
    expect(s.origins.field.template).toEqual(['defaults', 'permissions', 'template']);
  });

  it('resolves policyFile relative to the config file and passes numbers as init flag strings', () => {
    const s = settingsForProject(
      load(
        'version: 1\nprojects:\n  - path: a/b\n    maxSessionDuration: 7200\n    permissions: { policyFile: policies/deploy.json }\n',
      ),
      'a/b',
      { configDir: '/cfg' },
    );
    expect(s.flags.policyFile).toBe('/cfg/policies/deploy.json');
    expect(s.flags.maxSessionDuration).toBe('7200');
  });

  it('per-group: one role per namespace, named gitlab-{group} unless roleName says otherwise', () => {
    const c = load('version: 1\ngroup: acme\ndefaults:\n  role: per-group\n');
    const s = settingsForProject(c, 'acme/team/app', { configDir: '/cfg' });
    expect(s.role).toBe('per-group');
    expect(s.flags.roleName).toBe('gitlab-acme-team');
    expect(s.origins.field.roleName).toEqual(['defaults', 'role']);
    expect(s.problems).toEqual([]);
  });

  it('per-group with a per-project placeholder is a problem at the roleName node', () => {
    const c = load('version: 1\ngroup: acme\ndefaults:\n  role: per-group\n  roleName: r-{project}\n');
    const s = settingsForProject(c, 'acme/app', { configDir: '/cfg' });
    expect(s.problems).toEqual([
      expect.objectContaining({
        path: ['defaults', 'roleName'],
        message: expect.stringMatching(/uses \{project\} but role is per-group \(set at defaults\.role\)/),
      }),
    ]);
  });
});

describe('expandRoleName', () => {
  const cases: [string, string, string][] = [
    ['gitlab-{group}-{project}', 'acme/platform/api', 'gitlab-acme-platform-api'],
    ['ci-{path}', 'acme/app', 'ci-acme-app'],
    ['{project}', 'acme/sub/x.y', 'x.y'],
    ['fixed', 'acme/app', 'fixed'],
    ['a {project}', 'acme/app', 'a-app'],
  ];
  for (const [pattern, project, expected] of cases) {
    it(`${pattern} for ${project} → ${expected}`, () => {
      expect(expandRoleName(pattern, project)).toBe(expected);
    });
  }
});
