import { describe, expect, it } from 'vitest';
import { type CliError, ExitCode, InterruptedError, PartialApplyError } from '../../src/errors.js';
import { applyGitlabSteps, describeGitlabStep, type GitlabApplyEvent } from '../../src/gitlab/api/apply.js';
import type { GitlabPort } from '../../src/gitlab/api/ports.js';
import type { GitlabStep } from '../../src/gitlab/api/steps.js';
import { createMemoryGitlab, MemoryGitlabError } from '../helpers/memory-gitlab.js';

const project = () => ({ id: 42, path: 'acme/app', namespaceId: 7, protectedBranches: ['main'] });

const STEPS: GitlabStep[] = [
  { kind: 'protectBranch', project: 42, name: 'release/*' },
  { kind: 'protectTag', project: 42, name: 'v*' },
];

describe('applyGitlabSteps', () => {
  it('makes one port call per step, in plan order, and reports each', async () => {
    const gitlab = createMemoryGitlab([project()]);
    const events: GitlabApplyEvent[] = [];
    const result = await applyGitlabSteps(STEPS, gitlab.port, { onEvent: (e) => events.push(e) });
    expect(gitlab.mutatingCalls()).toEqual(['protectBranch', 'protectTag']);
    expect(gitlab.projects[0]?.protectedBranches).toEqual(['main', 'release/*']);
    expect(gitlab.projects[0]?.protectedTags).toEqual(['v*']);
    expect(result.done).toEqual(STEPS.map(describeGitlabStep));
    expect(events.map((e) => e.type)).toEqual(['start', 'done', 'start', 'done']);
  });

  it('stops at the first failure and lists what was done and what was not', async () => {
    const gitlab = createMemoryGitlab([project()]);
    gitlab.failOn('protectTag', new MemoryGitlabError(500, '500 Internal Server Error'));
    const error = await applyGitlabSteps(
      [...STEPS, { kind: 'protectTag', project: 42, name: 'w*' }],
      gitlab.port,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartialApplyError);
    const partial = error as PartialApplyError;
    expect(partial.done).toEqual(['protect branch release/* in project 42 (push and merge: Maintainers)']);
    expect(partial.notDone).toEqual([
      'protect tag v* in project 42 (create: Maintainers)',
      'protect tag w* in project 42 (create: Maintainers)',
    ]);
    // The failed call is not retried and nothing after it is attempted.
    expect(gitlab.mutatingCalls()).toEqual(['protectBranch', 'protectTag']);
    expect(partial.exitCode).toBe(ExitCode.Failure);
  });

  it('a 403 names the role and scope the step needs', async () => {
    const gitlab = createMemoryGitlab([project()]);
    gitlab.failOn('protectBranch', new MemoryGitlabError(403, '403 Forbidden'));
    const error = (await applyGitlabSteps(STEPS, gitlab.port).catch((e: unknown) => e)) as PartialApplyError;
    const cause = error.cause as CliError;
    expect(cause.code).toBe('GITLAB_FORBIDDEN');
    expect(cause.message).toContain('protect branch release/*');
    expect(cause.hint).toContain('Maintainer');
    expect(cause.hint).toContain('api scope');
  });

  it('an abort starts no further step', async () => {
    const gitlab = createMemoryGitlab([project()]);
    const controller = new AbortController();
    const port: GitlabPort = {
      ...gitlab.port,
      protectBranch: async (p, n) => {
        const r = await gitlab.port.protectBranch(p, n);
        controller.abort();
        return r;
      },
    };
    const error = await applyGitlabSteps(STEPS, port, { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).notDone).toEqual([
      'protect tag v* in project 42 (create: Maintainers)',
    ]);
    expect(gitlab.mutatingCalls()).toEqual(['protectBranch']);
  });

  it('no steps: no call', async () => {
    const gitlab = createMemoryGitlab([project()]);
    expect(await applyGitlabSteps([], gitlab.port)).toEqual({ done: [] });
    expect(gitlab.calls).toEqual([]);
  });
});

describe('describeGitlabStep', () => {
  it.each<[GitlabStep, string]>([
    [
      { kind: 'setSubClaim', project: 1, from: undefined, to: ['project_id', 'ref_type', 'ref'] },
      'set the ID token sub claim in project 1 to project_id, ref_type, ref (was the default)',
    ],
    [
      {
        kind: 'createVariable',
        project: 1,
        variable: { key: 'AWS_ROLE_ARN', value: 'arn:aws:iam::1:role/r', protected: true, masked: false },
      },
      'create CI/CD variable AWS_ROLE_ARN = "arn:aws:iam::1:role/r" (protected) in project 1',
    ],
    [
      {
        kind: 'updateVariable',
        project: 1,
        variable: { key: 'K', value: 'new', protected: false, masked: true },
        from: { key: 'K', protected: false, masked: true },
      },
      'update CI/CD variable K = (masked) → (masked) (not protected, masked) in project 1',
    ],
    [
      {
        kind: 'commit',
        project: 1,
        branch: 'gitlab-aws-oidc/setup',
        startBranch: 'main',
        message: 'm',
        actions: [{ action: 'update', filePath: '.gitlab-ci.yml', content: 'x' }],
      },
      'commit to branch gitlab-aws-oidc/setup (from main) in project 1: update .gitlab-ci.yml',
    ],
    [
      { kind: 'updateMergeRequest', project: 1, iid: 3, title: 'T', description: 'd' },
      'update merge request !3 in project 1: "T"',
    ],
  ])('%j', (step, text) => {
    expect(describeGitlabStep(step)).toBe(text);
  });
});
