/**
 * init with the GitLab API (in-memory port): the project lookup (IDs pinned, default branch, archived,
 * mismatches, moved, not visible), the protected-ref check (ref_protected by default, --protect-refs),
 * and the GitLab steps: planned, applied after IAM and before the pipeline, idempotent, re-runnable.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, PartialApplyError, UsageError } from '../../src/errors.js';
import { formatPlan, formatResult } from '../../src/init/format.js';
import { createPalette } from '../../src/io/colors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { createMemoryGitlab, MemoryGitlabError, type MemoryProject } from '../helpers/memory-gitlab.js';
import { BASE_FLAGS, runInitWith, tempDir } from './helpers.js';

let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  aws = createFakeAws({ account: '111122223333' });
  tmp = tempDir();
});
afterEach(() => {
  aws.restore();
  tmp.cleanup();
});

const PROJECT = (over: Partial<MemoryProject> = {}): MemoryProject => ({
  id: 4242,
  path: 'acme/platform/web',
  namespaceId: 77,
  defaultBranch: 'trunk',
  protectedBranches: ['main', 'release/*'],
  protectedTags: ['v*'],
  ...over,
});

const plainPalette = createPalette(0);

const trustOf = (name = 'gitlab-acme-platform-web') => {
  const role = aws.state.roles.get(name);
  return JSON.stringify(JSON.parse(decodeURIComponent(String(role?.trustPolicy))));
};

const usage = async (p: Promise<unknown>) => {
  const error = await p.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
};

describe('init looks the project up on gitlab.com', () => {
  it('pins project_id and namespace_id and ref_protected with no flag and no prompt', async () => {
    const gitlab = createMemoryGitlab([PROJECT()]);
    const { result, notes } = await runInitWith(BASE_FLAGS, tmp.dir, { aws, gitlab: gitlab.port });
    expect(result.status).toBe('applied');
    const trust = trustOf();
    expect(trust).toContain('"gitlab.com:project_id":"4242"');
    expect(trust).toContain('"gitlab.com:namespace_id":"77"');
    expect(trust).toContain('"gitlab.com:ref_protected":"true"');
    expect(result.gitlab?.project).toMatchObject({ id: 4242, namespaceId: 77, defaultBranch: 'trunk' });
    expect(result.gitlab?.protectedOnlyByDefault).toBe(true);
    expect(result.gitlab?.refs?.map((r) => r.protectedBy)).toEqual(['main']);
    expect(notes.join('\n')).toContain('Pinned project ID 4242 and namespace ID 77');
    // Reads only: one lookup, one protected-branches read (no tag refs: protected tags are not read).
    expect(gitlab.calls.map((c) => c.method)).toEqual(['getProject', 'listProtectedBranches']);
    expect(gitlab.mutatingCalls()).toEqual([]);
    // The generated jobs run on protected refs only, as with --protected-only.
    expect(readFileSync(join(tmp.dir, '.gitlab-ci.yml'), 'utf8')).toContain('CI_COMMIT_REF_PROTECTED');
  });

  it('the wizard asks for no ID when the lookup worked', async () => {
    const gitlab = createMemoryGitlab([PROJECT()]);
    const { wizard } = await runInitWith(
      {
        project: 'acme/platform/web',
        region: 'eu-west-1',
        template: 's3-deploy',
        templateParam: ['bucket=acme-web-site'],
      },
      tmp.dir,
      {
        aws,
        gitlab: gitlab.port,
        interactive: true,
        answers: { '--yes': true },
        wizard: { answers: { '--gitlab-url': 'https://gitlab.com' }, enterForUnscripted: true },
      },
    );
    const asked = wizard?.asked ?? [];
    expect(asked).toContain('--branch');
    expect(asked).not.toContain('--project-id');
    expect(asked).not.toContain('--namespace-id');
    expect(trustOf()).toContain('"gitlab.com:project_id":"4242"');
  });

  it("uses GitLab's default branch when git names none", async () => {
    const gitlab = createMemoryGitlab([PROJECT({ protectedBranches: ['trunk'] })]);
    const { result, notes } = await runInitWith({ ...BASE_FLAGS, branch: undefined }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
    });
    expect(result.refs).toEqual([{ type: 'branch', pattern: 'trunk' }]);
    expect(notes.join('\n')).toContain('from GitLab');
  });

  it('refuses an archived project before any AWS call (exit 2)', async () => {
    const gitlab = createMemoryGitlab([PROJECT({ archived: true })]);
    const error = await usage(
      runInitWith(BASE_FLAGS, tmp.dir, { aws, gitlab: gitlab.port, readExisting: true }),
    );
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.message).toMatch(/acme\/platform\/web is archived/);
    expect(aws.calls()).toEqual([]);
  });

  it.each([
    [
      '--project-id',
      { projectId: '4243' },
      /4243 is not the project ID of acme\/platform\/web: GitLab says 4242/,
    ],
    [
      '--namespace-id',
      { namespaceId: '78' },
      /78 is not the namespace ID of acme\/platform\/web: GitLab says 77/,
    ],
  ])(
    '%s that disagrees with the lookup is a usage error naming both values',
    async (flag, extra, message) => {
      const gitlab = createMemoryGitlab([PROJECT()]);
      const error = await usage(
        runInitWith({ ...BASE_FLAGS, ...extra }, tmp.dir, { aws, gitlab: gitlab.port, readExisting: true }),
      );
      expect(error.issues[0]?.field).toBe(flag);
      expect(error.message).toMatch(message);
      expect(aws.calls()).toEqual([]);
    },
  );

  it('a role pinned to another project ID than the one now at the path is refused (path reuse)', async () => {
    const first = createMemoryGitlab([PROJECT()]);
    await runInitWith(BASE_FLAGS, tmp.dir, { aws, gitlab: first.port });
    // The project was deleted and the path taken by a new project.
    const reused = createMemoryGitlab([PROJECT({ id: 9999 })]);
    const error = await usage(
      runInitWith(BASE_FLAGS, tmp.dir, { aws, gitlab: reused.port, readExisting: true }),
    );
    expect(error.issues[0]?.field).toBe('--project-id');
    expect(error.message).toMatch(/trusts project ID 4242, but acme\/platform\/web is now project 9999/);
  });

  it('a moved project: the trust is on the new path, with a loud warning', async () => {
    const gitlab = createMemoryGitlab([PROJECT({ path: 'acme/web', formerPaths: ['acme/platform/web'] })]);
    const { result } = await runInitWith(BASE_FLAGS, tmp.dir, { aws, gitlab: gitlab.port });
    expect(result.project).toBe('acme/web');
    expect(trustOf('gitlab-acme-web')).toContain('project_path:acme/web:ref_type:branch:ref:main');
    expect(result.warnings.join('\n')).toMatch(/acme\/platform\/web has MOVED to acme\/web/);
    expect(result.warnings.join('\n')).toContain('destroy --project acme/platform/web');
  });

  it('a private project without a token: a clear error naming the token, unless the IDs are given', async () => {
    const gitlab = createMemoryGitlab([PROJECT()], { authenticated: false });
    const error = await usage(runInitWith(BASE_FLAGS, tmp.dir, { aws, gitlab: gitlab.port }));
    expect(error.issues[0]?.field).toBe('--gitlab-token-env');
    expect(error.message).toMatch(/not found on https:\/\/gitlab.com without a token/);
    expect(error.hint).toMatch(/GITLAB_TOKEN/);
    expect(error.hint).toMatch(/--project-id/);
    expect(aws.calls()).toEqual([]);

    const { result, notes } = await runInitWith({ ...BASE_FLAGS, projectId: '4242' }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
    });
    expect(result.status).toBe('applied');
    expect(result.gitlab).toBeUndefined();
    expect(notes.join('\n')).toMatch(/warning: .*were not checked; to check them, set GITLAB_TOKEN/);
    expect(trustOf()).not.toContain('ref_protected');
  });

  it('a public project is looked up without a token', async () => {
    const gitlab = createMemoryGitlab([PROJECT({ visibility: 'public' })], { authenticated: false });
    const { result } = await runInitWith(BASE_FLAGS, tmp.dir, { aws, gitlab: gitlab.port });
    expect(result.gitlab?.project.id).toBe(4242);
  });

  it('--offline calls no GitLab API', async () => {
    const gitlab = createMemoryGitlab([PROJECT()]);
    await runInitWith({ ...BASE_FLAGS, dryRun: true, offline: true }, tmp.dir, { aws, gitlab: gitlab.port });
    expect(gitlab.calls).toEqual([]);
  });
});

describe('self-managed', () => {
  it('validates the project and reads protection, but pins no ID (STS sees only sub and aud)', async () => {
    const gitlab = createMemoryGitlab([PROJECT({ protectedBranches: [] })], {
      baseUrl: 'https://gitlab.example.com',
    });
    const { result } = await runInitWith(
      { ...BASE_FLAGS, gitlabUrl: 'https://gitlab.example.com', thumbprint: ['a'.repeat(40)] },
      tmp.dir,
      { aws, gitlab: gitlab.port },
    );
    const role = aws.state.roles.get('gitlab-acme-platform-web');
    const trust = decodeURIComponent(String(role?.trustPolicy));
    expect(trust).not.toContain('project_id');
    expect(trust).not.toContain('ref_protected');
    expect(result.gitlab?.project.id).toBe(4242);
    expect(result.warnings.join('\n')).toMatch(/branch main is not protected in acme\/platform\/web/);
  });

  it('an archived project is refused there too', async () => {
    const gitlab = createMemoryGitlab([PROJECT({ archived: true })], {
      baseUrl: 'https://gitlab.example.com',
    });
    await usage(
      runInitWith(
        { ...BASE_FLAGS, gitlabUrl: 'https://gitlab.example.com', thumbprint: ['a'.repeat(40)] },
        tmp.dir,
        {
          aws,
          gitlab: gitlab.port,
        },
      ),
    );
  });
});

describe('protected refs', () => {
  const FLAGS = { ...BASE_FLAGS, branch: ['main', 'feature/*'], tag: ['v*'] };

  it('some unprotected: no ref_protected pin, a warning naming them, no change in GitLab', async () => {
    const gitlab = createMemoryGitlab([PROJECT({ protectedBranches: ['main', 'feature/1'] })]);
    const { result } = await runInitWith(FLAGS, tmp.dir, { aws, gitlab: gitlab.port });
    expect(trustOf()).not.toContain('ref_protected');
    const warnings = result.warnings.join('\n');
    expect(warnings).toMatch(
      /branch feature\/\* is not protected in acme\/platform\/web \(only feature\/1 of what it matches\)/,
    );
    expect(warnings).toContain('--protect-refs');
    expect(result.gitlabSteps).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);
    expect(gitlab.calls.map((c) => c.method)).toEqual([
      'getProject',
      'listProtectedBranches',
      'listProtectedTags',
    ]);
  });

  it('--protect-refs plans the missing rules, shows them, applies them after IAM, then pins ref_protected', async () => {
    const gitlab = createMemoryGitlab([PROJECT({ protectedBranches: ['main'], protectedTags: [] })]);
    const dry = await runInitWith({ ...FLAGS, protectRefs: true, dryRun: true }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
    });
    expect(dry.result.gitlabSteps).toEqual([
      { kind: 'protectBranch', project: 4242, name: 'feature/*' },
      { kind: 'protectTag', project: 4242, name: 'v*' },
    ]);
    const plan = formatPlan(dry.result, plainPalette).join('\n');
    expect(plan).toContain('protect branch feature/* in project 4242');
    expect(plan).toContain('✓ branch main: protected');
    expect(plan).toContain('branch feature/*: not protected; protected by this run (rule feature/*)');
    expect(JSON.parse(JSON.stringify(dry.result)).gitlabSteps).toHaveLength(2);
    // --dry-run changes nothing in GitLab.
    expect(gitlab.mutatingCalls()).toEqual([]);

    const { result } = await runInitWith({ ...FLAGS, protectRefs: true }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
    });
    expect(gitlab.mutatingCalls()).toEqual(['protectBranch', 'protectTag']);
    expect(gitlab.projects[0]?.protectedBranches).toEqual(['main', 'feature/*']);
    expect(result.gitlabApplied).toHaveLength(2);
    expect(trustOf()).toContain('"gitlab.com:ref_protected":"true"');
    expect(formatResult(result, plainPalette)[0]).toMatch(
      /Done: \d+ IAM changes and 2 GitLab changes applied/,
    );

    // Re-run: nothing new, zero mutating GitLab calls.
    const before = gitlab.mutatingCalls().length;
    const again = await runInitWith({ ...FLAGS, protectRefs: true }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
      readExisting: true,
    });
    expect(again.result.status).toBe('no-changes');
    expect(gitlab.mutatingCalls().length).toBe(before);
  });

  it('--no-protected-only keeps the trust without ref_protected even when all refs are protected', async () => {
    const gitlab = createMemoryGitlab([PROJECT()]);
    await runInitWith({ ...BASE_FLAGS, protectedOnly: false }, tmp.dir, { aws, gitlab: gitlab.port });
    expect(trustOf()).not.toContain('ref_protected');
  });

  it('a fault after each mutating GitLab call: done / not done reported, pipeline not written, re-run converges', async () => {
    for (const [method, nth] of [
      ['protectBranch', 1],
      ['protectTag', 1],
    ] as const) {
      aws.restore();
      aws = createFakeAws({ account: '111122223333' });
      tmp.cleanup();
      tmp = tempDir();
      const gitlab = createMemoryGitlab([PROJECT({ protectedBranches: ['main'], protectedTags: [] })]);
      // The call takes effect in GitLab, then the answer is lost (the worst case for a re-run).
      gitlab.failOn(method, new MemoryGitlabError(502, '502 Bad Gateway'), { nth, after: true });
      const error = await runInitWith({ ...FLAGS, protectRefs: true }, tmp.dir, {
        aws,
        gitlab: gitlab.port,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PartialApplyError);
      const partial = error as PartialApplyError;
      expect(partial.done.some((d) => d.startsWith('create role'))).toBe(true);
      expect(partial.notDone.at(-1)).toBe('write .gitlab-ci.yml');
      expect(() => readFileSync(join(tmp.dir, '.gitlab-ci.yml'))).toThrow();

      const rerun = await runInitWith({ ...FLAGS, protectRefs: true }, tmp.dir, {
        aws,
        gitlab: gitlab.port,
        readExisting: true,
      });
      expect(rerun.result.status).toBe('applied');
      expect(gitlab.projects[0]?.protectedBranches).toEqual(['main', 'feature/*']);
      expect(gitlab.projects[0]?.protectedTags).toEqual(['v*']);
      const third = await runInitWith({ ...FLAGS, protectRefs: true }, tmp.dir, {
        aws,
        gitlab: gitlab.port,
        readExisting: true,
      });
      expect(third.result.status).toBe('no-changes');
    }
  });

  it('a fault in IAM lists the GitLab steps and the pipeline as not done', async () => {
    const gitlab = createMemoryGitlab([PROJECT({ protectedBranches: ['main'], protectedTags: [] })]);
    aws.failNext('CreateRole', 'ServiceFailure');
    const error = (await runInitWith({ ...FLAGS, protectRefs: true }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
    }).catch((e: unknown) => e)) as PartialApplyError;
    expect(error).toBeInstanceOf(PartialApplyError);
    expect(error.notDone.slice(-3)).toEqual([
      'protect branch feature/* in project 4242 (push and merge: Maintainers)',
      'protect tag v* in project 4242 (create: Maintainers)',
      'write .gitlab-ci.yml',
    ]);
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('a 403 on protecting says Maintainer and the api scope are needed', async () => {
    const gitlab = createMemoryGitlab([PROJECT({ protectedBranches: ['main'], protectedTags: [] })]);
    gitlab.failOn('protectBranch', new MemoryGitlabError(403, '403 Forbidden'));
    const error = (await runInitWith({ ...FLAGS, protectRefs: true }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
    }).catch((e: unknown) => e)) as PartialApplyError;
    expect(error.hint).toBeDefined();
    expect(JSON.stringify(error.toJSON())).toMatch(
      /Maintainer role on the project and a token with the api scope/,
    );
  });
});

describe('--protect-refs without the GitLab project', () => {
  it('is a usage error before any AWS call when the project could not be looked up', async () => {
    const gitlab = createMemoryGitlab([PROJECT()], { authenticated: false });
    const error = await usage(
      runInitWith({ ...BASE_FLAGS, projectId: '4242', protectRefs: true }, tmp.dir, {
        aws,
        gitlab: gitlab.port,
      }),
    );
    expect(error.issues[0]?.field).toBe('--protect-refs');
    expect(aws.calls()).toEqual([]);
  });
});

describe('protection rules this token may not list (Reporter, or anonymous)', () => {
  it('literal branches are asked one by one; patterns and tags stay unknown and nothing is pinned', async () => {
    const gitlab = createMemoryGitlab(
      [PROJECT({ protectedBranches: ['main', 'release/*'], branches: ['main'] })],
      {
        canReadRules: false,
      },
    );
    const { result } = await runInitWith({ ...BASE_FLAGS, branch: ['main', 'release/*'] }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
    });
    expect(result.gitlab?.refs?.map((r) => [r.ref.pattern, r.source, r.protectedBy])).toEqual([
      ['main', 'branch', 'main'],
      ['release/*', 'unknown', undefined],
    ]);
    expect(trustOf()).not.toContain('ref_protected');
    expect(result.warnings.join('\n')).toMatch(
      /could not be read \(listing them needs the Maintainer role\)/,
    );
    expect(formatPlan(result, plainPalette).join('\n')).toContain('? branch release/*: not known');
  });

  it('one literal branch, protected: ref_protected is pinned from the branch itself', async () => {
    const gitlab = createMemoryGitlab([PROJECT({ branches: ['main'] })], { canReadRules: false });
    await runInitWith(BASE_FLAGS, tmp.dir, { aws, gitlab: gitlab.port });
    expect(trustOf()).toContain('"gitlab.com:ref_protected":"true"');
    expect(gitlab.calls.map((c) => c.method)).toEqual(['getProject', 'listProtectedBranches', 'getBranch']);
  });

  it('--protect-refs: refused before any change (creating the rules needs the same role)', async () => {
    const gitlab = createMemoryGitlab([PROJECT()], { canReadRules: false });
    const error = await runInitWith({ ...BASE_FLAGS, protectRefs: true }, tmp.dir, {
      aws,
      gitlab: gitlab.port,
    }).catch((e: unknown) => e as Error);
    expect((error as Error).message).toMatch(/cannot be read with this token/);
    expect(aws.mutatingCalls()).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);
  });
});
