import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RawInitFlags } from '../../src/commands/init.js';
import { UsageError } from '../../src/errors.js';
import { detectGitContext, type GitContext } from '../../src/gitlab/remote.js';
import { type ResolveContext, resolveInitOptions } from '../../src/init/resolve.js';
import { createScriptedPrompter } from '../../src/prompts/prompter.js';
import { createGitRepo } from '../helpers/git-repo.js';
import { resolveFlags } from './helpers.js';

const CWD = '/repo';

describe('resolveInitOptions without a terminal', () => {
  it('fills defaults: gitlab.com, audience = URL, derived names', async () => {
    const o = await resolveFlags({ project: 'grp/sub/app', branch: ['main'] }, CWD);
    expect(o.gitlabUrl).toBe('https://gitlab.com');
    expect(o.refs).toEqual([{ type: 'branch', pattern: 'main' }]);
    expect(o.audience).toBe('https://gitlab.com');
    expect(o.roleName).toBe('gitlab-grp-sub-app');
    expect(o.rolePath).toBe('/gitlab-oidc/');
    expect(o.maxSessionDuration).toBe(3600);
    expect(o.region).toBe('us-east-1');
    expect(o.ciFile).toBe('/repo/.gitlab-ci.yml');
  });

  it('takes project, URL and default branch from git', async () => {
    const o = await resolveInitOptions(
      {},
      {
        cwd: CWD,
        env: { AWS_REGION: 'eu-central-1' },
        interactive: false,
        git: { gitlabUrl: 'https://gitlab.example.com', projectPath: 'ops/infra', defaultBranch: 'trunk' },
        prompter: async () => {
          throw new Error('must not prompt');
        },
      },
    );
    expect(o.gitlabUrl).toBe('https://gitlab.example.com');
    expect(o.project).toBe('ops/infra');
    expect(o.refs).toEqual([{ type: 'branch', pattern: 'trunk' }]);
    expect(o.region).toBe('eu-central-1');
  });

  it('names the missing flag when the project is unknown', async () => {
    const error = await resolveFlags({}, CWD).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.issues[0].field).toBe('--project');
    expect(error.exitCode).toBe(2);
  });

  it('reports every invalid field at once, each naming its flag', async () => {
    const error = await resolveFlags(
      {
        project: 'grp/app',
        audience: 'a*b',
        region: 'mars-1',
        roleName: 'bad name!',
        managedPolicy: ['not-an-arn'],
        maxSessionDuration: '100',
        branch: ['has space'],
      },
      CWD,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    const fields = error.issues.map((i: { field: string }) => i.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        '--audience',
        '--region',
        '--role-name',
        '--managed-policy',
        '--max-session-duration',
        '--branch',
      ]),
    );
  });

  it('refuses an --audience holding an IAM policy variable (it would unpin aud)', async () => {
    const e = await resolveFlags({ project: 'g/a', audience: `$\{gitlab.com:aud}` }, CWD).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.issues.map((i: { field: string }) => i.field)).toEqual(['--audience']);
    expect(e.issues[0].message).toMatch(/policy variable/);
  });

  // STS sets gitlab.com:* keys only for the provider https://gitlab.com: on any other instance these
  // flags would be silently dropped, and the role would trust unprotected refs or a re-registered path.
  it.each([
    [{ protectedOnly: true }, '--protected-only'],
    [{ projectId: '42' }, '--project-id'],
    [{ namespaceId: '7' }, '--namespace-id'],
  ])('refuses %j on a self-managed instance, naming the flag', async (flags, field) => {
    const base = { project: 'g/a', branch: ['release/*'], gitlabUrl: 'https://gitlab.example.com/gitlab' };
    const e = await resolveFlags({ ...base, ...flags }, CWD).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.issues.map((i: { field: string }) => i.field)).toEqual([field]);
    const o = await resolveFlags({ ...base, gitlabUrl: 'https://GitLab.com/', ...flags }, CWD);
    expect(o.gitlabUrl).toBe('https://gitlab.com');
  });

  it('prints notes about defaults only when the options are valid', async () => {
    const notes: string[] = [];
    const ctx = {
      cwd: CWD,
      env: {},
      interactive: false,
      git: {},
      prompter: async () => {
        throw new Error('no prompts');
      },
      note: (m: string) => notes.push(m),
    };
    const env = { CI_DEFAULT_BRANCH: 'main' };
    await expect(
      resolveInitOptions({ project: 'g/a', offline: true }, { ...ctx, env }),
    ).rejects.toBeInstanceOf(UsageError);
    expect(notes).toEqual([]);
    await resolveInitOptions({ project: 'g/a' }, { ...ctx, env });
    expect(notes.join('\n')).toMatch(
      /Only branch "main" may assume the role \(the default branch of g\/a, from CI_DEFAULT_BRANCH/,
    );
  });

  it('refuses a self-managed project URL as --gitlab-url when the git remote names that project', async () => {
    const ctx = (projectPath?: string) => ({
      cwd: CWD,
      env: {},
      interactive: false,
      git: projectPath ? { gitlabUrl: 'https://gitlab.example.com', projectPath } : {},
      prompter: async () => {
        throw new Error('must not prompt');
      },
    });
    const e = await resolveInitOptions(
      { gitlabUrl: 'https://gitlab.example.com/ops/infra' },
      ctx('ops/infra'),
    ).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.issues).toEqual([
      {
        field: '--gitlab-url',
        message: expect.stringContaining('use --gitlab-url https://gitlab.example.com --project ops/infra'),
      },
    ]);
    // A relative-URL install is an instance, not a project, when nothing says otherwise.
    const o = await resolveInitOptions(
      { gitlabUrl: 'https://gitlab.example.com/gitlab', project: 'ops/infra', branch: ['main'] },
      ctx('ops/infra'),
    );
    expect(o.gitlabUrl).toBe('https://gitlab.example.com/gitlab');
  });

  it('takes --trust-policy-max as the quota (default 2048)', async () => {
    const base = { project: 'g/a', branch: ['main'] };
    expect((await resolveFlags(base, CWD)).trustPolicyMax).toBe(2048);
    expect((await resolveFlags({ ...base, trustPolicyMax: '4096' }, CWD)).trustPolicyMax).toBe(4096);
  });

  it('rejects --offline without --dry-run and --account-id without --offline', async () => {
    const e1 = await resolveFlags({ project: 'g/a', branch: ['main'], offline: true }, CWD).catch((e) => e);
    expect(e1.issues.map((i: { field: string }) => i.field)).toContain('--offline');
    const e2 = await resolveFlags({ project: 'g/a', branch: ['main'], accountId: '123456789012' }, CWD).catch(
      (e) => e,
    );
    expect(e2.issues.map((i: { field: string }) => i.field)).toContain('--account-id');
  });

  it('refuses --account-id and --partition without --offline before the existing role is read', async () => {
    for (const flags of [{ accountId: '123456789012' }, { partition: 'aws-cn' }]) {
      const readExisting = vi.fn(async () => undefined);
      const error = await resolveInitOptions(
        { project: 'g/a', branch: ['main'], yes: true, ciFile: false, ...flags },
        {
          cwd: CWD,
          env: {},
          interactive: false,
          git: {},
          prompter: async () => createScriptedPrompter({}),
          readExisting,
        },
      ).catch((e) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.issues.map((i: { field: string }) => i.field)).toEqual([
        'accountId' in flags ? '--account-id' : '--partition',
      ]);
      expect(readExisting).not.toHaveBeenCalled();
    }
  });

  it('refuses a wildcard project path and a bare * ref without --allow-any-ref', async () => {
    await expect(resolveFlags({ project: 'grp/*' }, CWD)).rejects.toMatchObject({
      issues: [{ field: '--project' }],
    });
    const e = await resolveFlags({ project: 'grp/app', branch: ['*'] }, CWD).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
  });

  it('fails fast on an unknown template and malformed key=value flags', async () => {
    await expect(resolveFlags({ project: 'g/a', template: 'nope' }, CWD)).rejects.toMatchObject({
      issues: [{ field: '--template' }],
    });
    await expect(resolveFlags({ project: 'g/a', awsTag: ['novalue'] }, CWD)).rejects.toMatchObject({
      issues: [{ field: '--aws-tag' }],
    });
    await expect(resolveFlags({ project: 'g/a', maxSessionDuration: '1h' }, CWD)).rejects.toMatchObject({
      issues: [{ field: '--max-session-duration' }],
    });
  });

  it('keeps --no-ci-file as no pipeline file', async () => {
    const o = await resolveFlags({ project: 'g/a', branch: ['main'], ciFile: false }, CWD);
    expect(o.ciFile).toBeUndefined();
  });
});

describe('the wizard asks only for what is missing', () => {
  it('asks URL, project, refs, audience, permissions and region, with detected defaults', async () => {
    const prompter = createScriptedPrompter({
      '--gitlab-url': 'https://gitlab.com',
      '--project': 'grp/app',
      '--project-id': '4242',
      '--branch': 'main, release/*',
      '--tag': 'v*',
      '--audience': 'sts.amazonaws.com',
      '--template': 'template:s3-deploy',
      '--template-param': 'my-bucket',
      '--region': 'eu-west-1',
    });
    const o = await resolveInitOptions(
      {},
      {
        cwd: CWD,
        env: {},
        interactive: true,
        git: { projectPath: 'grp/app' },
        prompter: async () => prompter,
      },
    );
    expect(o.refs).toEqual([
      { type: 'branch', pattern: 'main' },
      { type: 'branch', pattern: 'release/*' },
      { type: 'tag', pattern: 'v*' },
    ]);
    expect(o.audience).toBe('sts.amazonaws.com');
    expect(o.projectId).toBe('4242');
    expect(o.template).toBe('s3-deploy');
    expect(o.templateParams).toEqual({ bucket: 'my-bucket' });
    expect(prompter.asked).toEqual([
      '--gitlab-url',
      '--project',
      '--project-id',
      '--branch',
      '--tag',
      '--audience',
      '--template',
      '--template-param',
      '--region',
    ]);
  });

  it('asks nothing that a flag already answered', async () => {
    const prompter = createScriptedPrompter({});
    const o = await resolveInitOptions(
      {
        gitlabUrl: 'https://gitlab.com',
        project: 'grp/app',
        projectId: '42',
        branch: ['main'],
        audience: 'https://gitlab.com',
        managedPolicy: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
        region: 'us-west-2',
      },
      { cwd: CWD, env: {}, interactive: true, git: {}, prompter: async () => prompter },
    );
    expect(prompter.asked).toEqual([]);
    expect(o.managedPolicies).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
  });

  it('refuses a project URL typed as the GitLab URL at the prompt', async () => {
    const prompter = createScriptedPrompter({ '--gitlab-url': 'https://gitlab.com/acme/web' });
    await expect(
      resolveInitOptions(
        {},
        { cwd: CWD, env: {}, interactive: true, git: {}, prompter: async () => prompter },
      ),
    ).rejects.toThrow(/--gitlab-url https:\/\/gitlab\.com --project acme\/web/);
  });

  it('rejects an invalid wizard answer with the validator message', async () => {
    const prompter = createScriptedPrompter({ '--gitlab-url': 'http://gitlab.example.com' });
    await expect(
      resolveInitOptions(
        {},
        { cwd: CWD, env: {}, interactive: true, git: {}, prompter: async () => prompter },
      ),
    ).rejects.toThrow(/rejected/);
  });
});

// Defect 2: `init --yes` on a feature branch must not trust that branch as "the default branch".
describe('the default branch comes from origin/HEAD or CI_DEFAULT_BRANCH, never from a guess', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    while (cleanups.length) await cleanups.pop()!();
  });
  async function gitContextOf(options: Parameters<typeof createGitRepo>[0]) {
    const r = await createGitRepo(options);
    cleanups.push(r.cleanup);
    for (const [k, v] of Object.entries(r.env)) vi.stubEnv(k, v);
    return { dir: r.dir, git: await detectGitContext(r.dir) };
  }
  const resolveIn = (
    repo: { dir: string; git: GitContext },
    flags: RawInitFlags,
    extra: Partial<ResolveContext> = {},
  ) =>
    resolveInitOptions(flags, {
      cwd: repo.dir,
      env: {},
      interactive: false,
      git: repo.git,
      prompter: async () => {
        throw new Error('must not prompt');
      },
      ...extra,
    });

  it('requires --branch on a feature branch with no origin/HEAD (init.defaultBranch set too)', async () => {
    const repo = await gitContextOf({
      branch: 'feature/login',
      origin: 'git@gitlab.com:acme/web.git',
      initDefaultBranch: 'main',
      commit: true,
    });
    const e = await resolveIn(repo, { yes: true }).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.exitCode).toBe(2);
    expect(e.issues.map((i: { field: string }) => i.field)).toEqual(['--branch']);
    expect(e.message).not.toMatch(/feature\/login/);
  });

  it('uses origin/HEAD of a clone of the project, and says where it came from', async () => {
    const repo = await gitContextOf({
      branch: 'feature/login',
      origin: 'git@gitlab.com:acme/web.git',
      originHead: 'trunk',
    });
    const notes: string[] = [];
    const o = await resolveIn(repo, { yes: true }, { note: (m) => notes.push(m) });
    expect(o.refs).toEqual([{ type: 'branch', pattern: 'trunk' }]);
    expect(notes.join('\n')).toMatch(/default branch of acme\/web, from origin\/HEAD/);
    // origin/HEAD of the clone says nothing about another project given with --project.
    const other = await resolveIn(repo, { yes: true, project: 'acme/other' }).catch((x) => x);
    expect(other.issues.map((i: { field: string }) => i.field)).toEqual(['--branch']);
  });

  it("uses CI_DEFAULT_BRANCH in a job of the same project, not another project's", async () => {
    const repo = await gitContextOf({
      branch: 'feature/login',
      origin: 'git@gitlab.com:acme/web.git',
      commit: true,
    });
    const o = await resolveIn(
      repo,
      { yes: true },
      { env: { CI_DEFAULT_BRANCH: 'develop', CI_PROJECT_PATH: 'acme/web' } },
    );
    expect(o.refs).toEqual([{ type: 'branch', pattern: 'develop' }]);
    const e = await resolveIn(
      repo,
      { yes: true },
      { env: { CI_DEFAULT_BRANCH: 'develop', CI_PROJECT_PATH: 'acme/tooling' } },
    ).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    // The error says why CI_DEFAULT_BRANCH was not used, not that there is none.
    expect(e.issues[0].message).toBe(
      'is required: the default branch of acme/web is unknown here (no origin/HEAD for that project; CI_DEFAULT_BRANCH "develop" is that of acme/tooling, from CI_PROJECT_PATH) and there is no terminal to ask',
    );
  });

  it('the wizard offers the current branch as a suggestion, labelled as such', async () => {
    const repo = await gitContextOf({
      branch: 'feature/login',
      origin: 'git@gitlab.com:acme/web.git',
      commit: true,
    });
    const prompter = createScriptedPrompter(
      { '--template': 'none', '--project-id': '' },
      { enterForUnscripted: true },
    );
    const seen: string[] = [];
    const o = await resolveIn(
      repo,
      {},
      {
        interactive: true,
        prompter: async () => ({
          ...prompter,
          input: (field, q) => {
            seen.push(`${field}: ${q.message}`);
            return prompter.input(field, q);
          },
        }),
      },
    );
    expect(prompter.defaults['--branch']).toBe('feature/login');
    expect(seen.find((l) => l.startsWith('--branch'))).toMatch(
      /current git branch: a suggestion, not the default branch/,
    );
    expect(o.refs).toEqual([{ type: 'branch', pattern: 'feature/login' }]);
  });
});
