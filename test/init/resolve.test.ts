import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { resolveInitOptions } from '../../src/init/resolve.js';
import { createScriptedPrompter } from '../../src/prompts/prompter.js';
import { resolveFlags } from './helpers.js';

const CWD = '/repo';

describe('resolveInitOptions without a terminal', () => {
  it('fills defaults: gitlab.com, default branch, audience = URL, derived names', async () => {
    const o = await resolveFlags({ project: 'grp/sub/app' }, CWD);
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
    await expect(resolveInitOptions({ project: 'g/a', offline: true }, ctx)).rejects.toBeInstanceOf(
      UsageError,
    );
    expect(notes).toEqual([]);
    await resolveInitOptions({ project: 'g/a' }, ctx);
    expect(notes.join('\n')).toMatch(/Only branch "main"/);
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
      { gitlabUrl: 'https://gitlab.example.com/gitlab', project: 'ops/infra' },
      ctx('ops/infra'),
    );
    expect(o.gitlabUrl).toBe('https://gitlab.example.com/gitlab');
  });

  it('takes --trust-policy-max as the quota (default 2048)', async () => {
    expect((await resolveFlags({ project: 'g/a' }, CWD)).trustPolicyMax).toBe(2048);
    expect((await resolveFlags({ project: 'g/a', trustPolicyMax: '4096' }, CWD)).trustPolicyMax).toBe(4096);
  });

  it('rejects --offline without --dry-run and --account-id without --offline', async () => {
    const e1 = await resolveFlags({ project: 'g/a', offline: true }, CWD).catch((e) => e);
    expect(e1.issues.map((i: { field: string }) => i.field)).toContain('--offline');
    const e2 = await resolveFlags({ project: 'g/a', accountId: '123456789012' }, CWD).catch((e) => e);
    expect(e2.issues.map((i: { field: string }) => i.field)).toContain('--account-id');
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
    const o = await resolveFlags({ project: 'g/a', ciFile: false }, CWD);
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
