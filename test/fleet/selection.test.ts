import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RawInitFlags } from '../../src/commands/init.js';
import { UsageError } from '../../src/errors.js';
import { type GroupLister, resolveSelection } from '../../src/fleet/selection.js';
import type { Selection } from '../../src/fleet/selection-options.js';
import type { GitlabProject } from '../../src/gitlab/api/ports.js';
import { tempDir } from '../init/helpers.js';

function project(path: string, extra: Partial<GitlabProject> = {}): GitlabProject {
  const ns = path.split('/').slice(0, -1).join('/');
  return {
    id: 1000 + path.length,
    pathWithNamespace: path,
    namespace: { id: 10 + ns.length, fullPath: ns, kind: 'group' },
    defaultBranch: 'main',
    visibility: 'private',
    archived: false,
    webUrl: `https://gitlab.com/${path}`,
    ...extra,
  };
}

const GROUP: GitlabProject[] = [
  project('acme/api'),
  project('acme/web/shop', { defaultBranch: 'trunk' }),
  project('acme/web/blog'),
  project('acme/web/deep/app'),
  project('acme/legacy/old', { archived: true }),
  project('acme/empty', { defaultBranch: undefined }),
  project('acme/.hidden'),
];

/** A GitlabPort double: records its calls, answers from a list. */
function fakeGitlab(projects: GitlabProject[] = GROUP) {
  const calls: { group: unknown; options: unknown; gitlabUrl: string | undefined }[] = [];
  let url: string | undefined;
  const port: GroupLister = {
    listGroupProjects: async (group, options) => {
      calls.push({ group, options, gitlabUrl: url });
      return projects;
    },
  };
  return {
    calls,
    factory: (gitlabUrl: string | undefined) => {
      url = gitlabUrl;
      return port;
    },
  };
}

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  const tmp = tempDir();
  dir = tmp.dir;
  cleanup = tmp.cleanup;
});
afterEach(() => cleanup());

function run(selection: Selection, flags: RawInitFlags = {}, gitlab = fakeGitlab()) {
  return resolveSelection(selection, flags, { cwd: dir, env: {}, gitlab: gitlab.factory });
}

async function usage(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UsageError) return error.issues.map((i) => `${i.field}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a UsageError');
}

const group = (include: string[] = [], exclude: string[] = []): Selection => ({
  kind: 'group',
  group: 'acme',
  include,
  exclude,
});

describe('resolveSelection --project: a fleet of one', () => {
  it('is one member with the flags as given, and asks GitLab nothing', async () => {
    const gitlab = fakeGitlab();
    const r = await run({ kind: 'project', project: 'acme/api' }, { branch: ['main'], yes: true }, gitlab);
    expect(r.members).toEqual([
      expect.objectContaining({
        project: 'acme/api',
        flags: { branch: ['main'], yes: true, project: 'acme/api' },
        sources: { branch: { kind: 'flag', flag: '--branch' }, yes: { kind: 'flag', flag: '--yes' } },
      }),
    ]);
    expect(gitlab.calls).toEqual([]);
  });
});

describe('resolveSelection --group', () => {
  it('lists the group with its subgroups; archived and empty projects are skipped with a reason', async () => {
    const gitlab = fakeGitlab();
    const r = await run(group(), { yes: true }, gitlab);
    expect(gitlab.calls).toEqual([
      { group: 'acme', options: { includeSubgroups: true }, gitlabUrl: undefined },
    ]);
    expect(r.members.map((m) => m.project)).toEqual([
      'acme/.hidden',
      'acme/api',
      'acme/web/blog',
      'acme/web/deep/app',
      'acme/web/shop',
    ]);
    expect(r.skipped).toEqual([
      expect.objectContaining({ project: 'acme/empty', reason: 'empty-repository' }),
      expect.objectContaining({ project: 'acme/legacy/old', reason: 'archived', detail: 'archived' }),
    ]);
  });

  it("fills the refs with GitLab's default branch, and the member knows GitLab's IDs", async () => {
    const r = await run(group(), {});
    const shop = r.members.find((m) => m.project === 'acme/web/shop');
    expect(shop?.flags).toEqual({ project: 'acme/web/shop', ciFile: false, branch: ['trunk'] });
    expect(shop?.sources.branch).toEqual({ kind: 'gitlab', detail: 'default branch of acme/web/shop' });
    expect(shop?.gitlab).toEqual({ projectId: 1013, namespaceId: 18, defaultBranch: 'trunk' });
  });

  it('applies the command-line flags to every member, and keeps given refs (an empty repo is then a member)', async () => {
    const r = await run(group(), { tag: ['v*'], template: 'read-only' });
    expect(r.members).toHaveLength(6);
    for (const m of r.members) {
      expect(m.flags).toMatchObject({ tag: ['v*'], template: 'read-only', ciFile: false });
      expect(m.flags.branch).toBeUndefined();
    }
  });

  const globCases: { name: string; include?: string[]; exclude?: string[]; members: string[] }[] = [
    { name: '* stays within one segment', include: ['acme/*'], members: ['acme/.hidden', 'acme/api'] },
    {
      name: '** crosses segments',
      include: ['acme/web/**'],
      members: ['acme/web/blog', 'acme/web/deep/app', 'acme/web/shop'],
    },
    {
      name: 'acme/web/* is direct children only',
      include: ['acme/web/*'],
      members: ['acme/web/blog', 'acme/web/shop'],
    },
    {
      name: 'exclude wins over include',
      include: ['acme/**'],
      exclude: ['acme/web/**'],
      members: ['acme/.hidden', 'acme/api'],
    },
    { name: 'matching is case-insensitive', include: ['ACME/API'], members: ['acme/api'] },
    {
      name: 'several includes: any of them',
      include: ['acme/api', '**/shop'],
      members: ['acme/api', 'acme/web/shop'],
    },
  ];
  for (const c of globCases) {
    it(`--include/--exclude: ${c.name}`, async () => {
      const r = await run(group(c.include, c.exclude));
      expect(r.members.map((m) => m.project)).toEqual(c.members);
      // Every project is either a member or skipped with a reason.
      expect(r.skipped.length + c.members.length).toBe(GROUP.length);
    });
  }

  it('says which glob excluded a project, and which includes did not match', async () => {
    const r = await run(group(['acme/api'], ['acme/web/**']));
    expect(r.skipped).toContainEqual(
      expect.objectContaining({
        project: 'acme/web/shop',
        reason: 'excluded',
        detail: 'excluded by "acme/web/**"',
      }),
    );
    expect(r.skipped).toContainEqual(
      expect.objectContaining({
        project: 'acme/.hidden',
        reason: 'not-included',
        detail: 'not matched by --include ("acme/api")',
      }),
    );
  });

  it('refuses per-project flags, naming each, before GitLab is asked', async () => {
    const gitlab = fakeGitlab();
    expect(await usage(run(group(), { roleName: 'x', projectId: '4', ciFile: 'a.yml' }, gitlab))).toEqual([
      expect.stringMatching(/^--role-name: does not go with --group: every member would get the same role/),
      '--project-id: does not go with --group: GitLab gives each member its own ID',
      expect.stringMatching(/^--ci-file: does not go with --group/),
    ]);
    expect(gitlab.calls).toEqual([]);
  });

  it("validates every member with init's own parsing (one error per problem, the flag named)", async () => {
    expect(await usage(run(group(['acme/api']), { managedPolicy: ['arn:aws:iam::aws:policy'] }))).toEqual([
      expect.stringMatching(
        /^--managed-policy: "arn:aws:iam::aws:policy" is not a managed policy ARN.* \(for acme\/api\)$/,
      ),
    ]);
  });
});

function writeConfig(text: string, name = 'gitlab-aws-oidc.yml'): Selection {
  writeFileSync(join(dir, name), text);
  return { kind: 'config', file: name, include: [], exclude: [] };
}

describe('resolveSelection --config', () => {
  it('members from the group and the exact path entries; include/exclude filter only the group', async () => {
    const gitlab = fakeGitlab();
    const sel = writeConfig(`version: 1
gitlabUrl: https://gitlab.com
group: acme
exclude: ["acme/web/**"]
defaults:
  audience: sts.amazonaws.com
projects:
  - path: acme/web/shop
    refs: { branches: [main] }
  - path: other/tool
    refs: { tags: ["v*"] }
`);
    const r = await run(sel, { yes: true }, gitlab);
    expect(gitlab.calls[0]?.gitlabUrl).toBe('https://gitlab.com');
    expect(r.members.map((m) => m.project)).toEqual([
      'acme/.hidden',
      'acme/api',
      'acme/web/shop',
      'other/tool',
    ]);
    const shop = r.members.find((m) => m.project === 'acme/web/shop');
    expect(shop?.flags).toMatchObject({ branch: ['main'], audience: 'sts.amazonaws.com', yes: true });
    expect(shop?.gitlab?.projectId).toBe(1013);
    expect(shop?.sources.branch).toMatchObject({
      kind: 'config',
      position: { file: 'gitlab-aws-oidc.yml', line: 9, column: 23, field: 'projects[0].refs.branches' },
    });
    expect(shop?.sources.yes).toEqual({ kind: 'flag', flag: '--yes' });
    expect(r.members.find((m) => m.project === 'other/tool')?.gitlab).toBeUndefined();
    expect(r.skipped.map((s) => `${s.project}: ${s.detail}`)).toEqual([
      'acme/empty: empty repository: GitLab reports no default branch, and no refs are set for it',
      'acme/legacy/old: archived',
      'acme/web/blog: excluded by "acme/web/**"',
      'acme/web/deep/app: excluded by "acme/web/**"',
    ]);
  });

  it('without a group, asks GitLab nothing', async () => {
    const gitlab = fakeGitlab();
    const r = await run(
      writeConfig('version: 1\nprojects:\n  - path: a/b\n    refs: { branches: [main] }\n'),
      {},
      gitlab,
    );
    expect(r.members.map((m) => m.project)).toEqual(['a/b']);
    expect(gitlab.calls).toEqual([]);
  });

  it('refuses command-line flags that the config file sets, naming the config field', async () => {
    const sel = writeConfig('version: 1\nprojects:\n  - path: a/b\n');
    expect(await usage(run(sel, { branch: ['main'], awsTag: ['a=b'], profile: 'p' }))).toEqual([
      '--branch: is set in the config file with --config (defaults.refs.branches, or a projects entry)',
      '--aws-tag: is set in the config file with --config (defaults.tags, or a projects entry)',
    ]);
  });

  // Init's own validation of the members, each problem at the config node that set the value.
  const initCases: {
    name: string;
    text: string;
    files?: Record<string, string>;
    expected: string[];
    gitlabCalled: boolean;
  }[] = [
    {
      name: 'a bad managed policy ARN in defaults fails before GitLab is asked',
      text: `version: 1
group: acme
defaults:
  permissions:
    managedPolicies:
      - arn:aws:iam::aws:policy/ReadOnlyAccess
      - not-an-arn
`,
      expected: [
        expect.stringMatching(
          /^gitlab-aws-oidc\.yml:7:9: defaults\.permissions\.managedPolicies\[1\]: "not-an-arn" is not a managed policy ARN \(for defaults\)$/,
        ) as unknown as string,
      ],
      gitlabCalled: false,
    },
    {
      name: 'a bad value in a match entry that matches no project is still found',
      text: `version: 1
projects:
  - path: acme/api
    refs: { branches: [main] }
  - match: "other/**"
    rolePath: no-slashes
`,
      expected: [
        'gitlab-aws-oidc.yml:6:15: projects[1].rolePath: "no-slashes" must start and end with "/", e.g. /gitlab-oidc/ (for match other/**)',
      ],
      gitlabCalled: false,
    },
    {
      name: 'a bad branch in a match entry, at the list element',
      text: `version: 1
group: acme
projects:
  - match: "acme/web/**"
    refs:
      branches: [main, "refs/heads/dev"]
`,
      expected: [
        expect.stringMatching(
          /^gitlab-aws-oidc\.yml:6:24: projects\[0\]\.refs\.branches\[1\]: "refs\/heads\/dev" is a full ref; give the bare name/,
        ) as unknown as string,
      ],
      gitlabCalled: false,
    },
    {
      name: 'a reserved tag key, at the tag that set it',
      text: `version: 1
projects:
  - path: acme/api
    refs: { branches: [main] }
    tags:
      team: x
      "aws:owner": me
`,
      expected: [
        'gitlab-aws-oidc.yml:7:20: projects[0].tags.aws:owner: tag key "aws:owner" uses the reserved "aws:" prefix (for acme/api)',
      ],
      gitlabCalled: false,
    },
    {
      name: 'a session duration out of range, and an audience with a wildcard, both at once',
      text: `version: 1
projects:
  - path: acme/api
    refs: { branches: [main] }
    maxSessionDuration: 60
    audience: "aud*"
`,
      expected: [
        'gitlab-aws-oidc.yml:6:15: projects[0].audience: must not contain *, ? or spaces (for acme/api)',
        'gitlab-aws-oidc.yml:5:25: projects[0].maxSessionDuration: must be at least 3600 seconds (1 hour) (for acme/api)',
      ],
      gitlabCalled: false,
    },
    {
      name: 'protectedOnly on a self-managed instance',
      text: `version: 1
gitlabUrl: https://gitlab.example.com
projects:
  - path: acme/api
    refs: { branches: [main] }
    protectedOnly: true
`,
      expected: [
        expect.stringMatching(
          /^gitlab-aws-oidc\.yml:6:20: projects\[0\]\.protectedOnly: only works on https:\/\/gitlab\.com/,
        ) as unknown as string,
      ],
      gitlabCalled: false,
    },
    {
      name: 'an unknown template',
      text: `version: 1
projects:
  - path: acme/api
    refs: { branches: [main] }
    permissions: { template: s3-deplyo }
`,
      expected: [
        expect.stringMatching(
          /^gitlab-aws-oidc\.yml:5:30: projects\[0\]\.permissions\.template: unknown template "s3-deplyo"\. Choose one of: s3-deploy/,
        ) as unknown as string,
      ],
      gitlabCalled: false,
    },
    {
      name: 'a policy file that does not exist, relative to the config file',
      text: `version: 1
projects:
  - path: acme/api
    refs: { branches: [main] }
    permissions: { policyFile: policies/missing.json }
`,
      expected: [
        expect.stringMatching(
          /^gitlab-aws-oidc\.yml:5:32: projects\[0\]\.permissions\.policyFile: cannot read .*policies\/missing\.json \(ENOENT\)/,
        ) as unknown as string,
      ],
      gitlabCalled: false,
    },
    {
      name: 'a policy file that is not a policy',
      files: { 'policies/deploy.json': '{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}' },
      text: `version: 1
projects:
  - path: acme/api
    refs: { branches: [main] }
    permissions: { policyFile: policies/deploy.json }
`,
      expected: [
        'gitlab-aws-oidc.yml:5:32: projects[0].permissions.policyFile: Statement[0].Action: Action or NotAction is required (for acme/api)',
        'gitlab-aws-oidc.yml:5:32: projects[0].permissions.policyFile: Statement[0].Resource: Resource or NotResource is required (for acme/api)',
      ],
      gitlabCalled: false,
    },
    {
      name: 'a bad project path in an exact entry',
      text: 'version: 1\nprojects:\n  - path: "acme/*"\n    refs: { branches: [main] }\n',
      expected: [
        expect.stringMatching(
          /^gitlab-aws-oidc\.yml:3:11: projects\[0\]\.path: "acme\/\*" contains a wildcard/,
        ) as unknown as string,
      ],
      gitlabCalled: false,
    },
    {
      name: 'a bad group path',
      text: 'version: 1\ngroup: "acme/"\n',
      expected: ['gitlab-aws-oidc.yml:2:8: group: "acme/" must not start or end with "/"'],
      gitlabCalled: false,
    },
    {
      name: 'no refs and no default branch known for an exact path: reported at the entry',
      text: 'version: 1\nprojects:\n  - path: acme/api\n',
      expected: [
        expect.stringMatching(
          /^gitlab-aws-oidc\.yml:3:11: projects\[0\]\.path: --branch: is required: the default branch of acme\/api is unknown/,
        ) as unknown as string,
      ],
      gitlabCalled: false,
    },
    {
      name: 'a role name too long for one member only: found after the listing, at the pattern',
      text: `version: 1
group: acme
defaults:
  roleName: "{path}-0123456789012345678901234567890123456789012345678"
`,
      expected: [
        'gitlab-aws-oidc.yml:4:13: defaults.roleName: must be 1-64 characters (for acme/web/deep/app)',
      ],
      gitlabCalled: true,
    },
    {
      name: 'a per-project placeholder with per-group roles',
      text: 'version: 1\ngroup: acme\ndefaults:\n  role: per-group\n  roleName: "r-{path}"\n',
      expected: [
        'gitlab-aws-oidc.yml:5:13: defaults.roleName: uses {path} but role is per-group (set at defaults.role): one role serves every project of the group (allowed: {group}, literal text)',
      ],
      gitlabCalled: false,
    },
  ];
  for (const c of initCases) {
    it(c.name, async () => {
      for (const [name, content] of Object.entries(c.files ?? {})) {
        mkdirSync(join(dir, name, '..'), { recursive: true });
        writeFileSync(join(dir, name), content);
      }
      const gitlab = fakeGitlab();
      expect(await usage(run(writeConfig(c.text), {}, gitlab))).toEqual(c.expected);
      expect(gitlab.calls.length > 0).toBe(c.gitlabCalled);
    });
  }

  it('reads the config file as strict UTF-8', async () => {
    writeFileSync(join(dir, 'bad.yml'), Buffer.from([0x76, 0x65, 0x72, 0x3a, 0x20, 0xe9, 0x0a]));
    const issues = await usage(run({ kind: 'config', file: 'bad.yml', include: [], exclude: [] }));
    expect(issues).toEqual(['bad.yml:1:6: (file): invalid UTF-8 byte 0xe9']);
  });

  it('a missing config file names --config', async () => {
    expect(await usage(run({ kind: 'config', file: 'nope.yml', include: [], exclude: [] }))).toEqual([
      '--config: cannot read nope.yml (ENOENT)',
    ]);
  });

  it('a problem of the defaults is listed once, not once per member', async () => {
    const sel = writeConfig(
      'version: 1\ndefaults:\n  refs: { branches: [main] }\n  boundary: nope\nprojects:\n  - path: a/b\n  - path: a/c\n',
    );
    expect(await usage(run(sel))).toEqual([
      expect.stringMatching(
        /^gitlab-aws-oidc\.yml:4:13: defaults\.boundary: "nope" is not a managed policy ARN \(for a\/b\)$/,
      ),
    ]);
  });

  it('lists at most 50 problems, and counts the rest', async () => {
    const entries = Array.from(
      { length: 60 },
      (_, i) => `  - path: acme/app-${i}\n    refs: { branches: [main] }\n    audience: "a*${i}"\n`,
    );
    const issues = await usage(run(writeConfig(`version: 1\nprojects:\n${entries.join('')}`)));
    expect(issues).toHaveLength(51);
    expect(issues[0]).toBe(
      'gitlab-aws-oidc.yml:5:15: projects[0].audience: must not contain *, ? or spaces (for acme/app-0)',
    );
    expect(issues[50]).toBe('…: and 10 more problems');
  });

  it("the README example: every member passes init's parsing", async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const example = /```yaml\n(# yaml-language-server: [\s\S]*?)```/.exec(readme)?.[1] as string;
    mkdirSync(join(dir, 'policies'));
    writeFileSync(
      join(dir, 'policies/shop.json'),
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::acme-shop/*' }],
      }),
    );
    const gitlab = fakeGitlab([...GROUP, project('acme/sandbox/try'), project('acme/web/legacy-cms')]);
    const r = await run(writeConfig(example), { yes: true }, gitlab);
    expect(r.members.map((m) => m.project)).toEqual([
      'acme/.hidden',
      'acme/api',
      'acme/empty',
      'acme/web/blog',
      'acme/web/deep/app',
      'acme/web/shop',
      'ops/terraform',
    ]);
    const shop = r.members.find((m) => m.project === 'acme/web/shop');
    expect(shop?.flags).toMatchObject({
      branch: ['main', 'release/*'],
      roleName: 'gitlab-acme-web-shop',
      policyFile: join(dir, 'policies/shop.json'),
      managedPolicy: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      awsTag: ['team=platform', 'cost-centre=web'],
    });
    expect(shop?.flags.template).toBeUndefined();
    // refs replace as a whole: the default branches are not kept next to the entry's tags.
    const terraform = r.members.find((m) => m.project === 'ops/terraform');
    expect(terraform).toMatchObject({ delivery: 'ci-variables', flags: { tag: ['v*'] } });
    expect(terraform?.flags.branch).toBeUndefined();
    expect(r.skipped.map((s) => `${s.project}: ${s.detail}`)).toEqual([
      'acme/legacy/old: archived',
      'acme/sandbox/try: excluded by "acme/sandbox/**"',
      'acme/web/legacy-cms: excluded by "**/legacy-*"',
    ]);
  });
});
