import { describe, expect, it } from 'vitest';
import {
  commitContent,
  type MergeRequestPlanInput,
  planMergeRequest,
  type RemotePipelineState,
  readRemotePipeline,
  SETUP_BRANCH,
  type TextMerge,
} from '../../src/delivery/merge-request.js';
import { UsageError } from '../../src/errors.js';
import type { GitlabBranch, MergeRequest, RepositoryFile } from '../../src/gitlab/api/ports.js';

const JOBS = '# managed by x\n.aws-oidc:\n  variables: {}\n';
/** A stand-in merge: appends the jobs unless the text has them. */
const merge = (before: string | undefined): TextMerge => {
  if (before?.includes(JOBS)) return { text: before, action: 'no-op' };
  return {
    text: before === undefined ? JOBS : `${before}\n${JOBS}`,
    action: before === undefined ? 'create' : 'update',
  };
};

const file = (text: string | Uint8Array, ref: string, lastCommitId: string): RepositoryFile => ({
  filePath: '.gitlab-ci.yml',
  ref,
  content: typeof text === 'string' ? Buffer.from(text, 'utf8') : text,
  blobId: `blob-${lastCommitId}`,
  lastCommitId,
});
const branch: GitlabBranch = { name: SETUP_BRANCH, commitSha: 'c9', protected: false, default: false };
const mr = (over: Partial<MergeRequest> = {}): MergeRequest => ({
  iid: 3,
  webUrl: 'https://gitlab.example.com/g/app/-/merge_requests/3',
  title: 'T',
  description: 'D',
  sourceBranch: SETUP_BRANCH,
  targetBranch: 'main',
  state: 'opened',
  ...over,
});
const USER = 'build:\n  script: [make]\n';

function plan(state: Partial<RemotePipelineState>, over: Partial<MergeRequestPlanInput<TextMerge>> = {}) {
  return planMergeRequest({
    project: 42,
    path: '.gitlab-ci.yml',
    state: {
      defaultBranch: 'main',
      base: undefined,
      branch: undefined,
      branchFile: undefined,
      openMergeRequests: [],
      ...state,
    },
    merge,
    title: 'T',
    description: 'D',
    commitMessage: 'ci: m',
    ...over,
  });
}

const decoded = (content: string | undefined) => Buffer.from(content ?? '', 'base64').toString('utf8');

describe('planMergeRequest', () => {
  it('first run: one commit creating the branch from the default branch (locked on the file read), then an MR', () => {
    const p = plan({ base: file(USER, 'main', 'c1') });
    expect(p.steps).toEqual([
      {
        kind: 'commit',
        project: 42,
        branch: SETUP_BRANCH,
        startBranch: 'main',
        message: 'ci: m',
        actions: [
          {
            action: 'update',
            filePath: '.gitlab-ci.yml',
            content: expect.any(String),
            encoding: 'base64',
            lastCommitId: 'c1',
          },
        ],
      },
      {
        kind: 'createMergeRequest',
        project: 42,
        sourceBranch: SETUP_BRANCH,
        targetBranch: 'main',
        title: 'T',
        description: 'D',
      },
    ]);
    const commit = p.steps[0] as Extract<(typeof p.steps)[0], { kind: 'commit' }>;
    expect(decoded(commit.actions[0]!.content)).toBe(`${USER}\n${JOBS}`);
  });

  it('no file on the default branch: a create action (GitLab refuses it if one appeared meanwhile)', () => {
    const p = plan({});
    expect(p.steps[0]).toMatchObject({
      kind: 'commit',
      actions: [{ action: 'create', lastCommitId: undefined }],
    });
  });

  it('re-run with nothing new: no step at all (the open MR is reused as it is)', () => {
    const delivered = `${USER}\n${JOBS}`;
    const p = plan({
      base: file(USER, 'main', 'c1'),
      branch,
      branchFile: file(delivered, SETUP_BRANCH, 'c9'),
      openMergeRequests: [mr()],
    });
    expect(p.steps).toEqual([]);
    expect(p.existing?.iid).toBe(3);
    expect(p.notes).toEqual([expect.stringContaining('Reusing the open merge request !3')]);
  });

  it('an open MR with another title or description is updated, not duplicated', () => {
    const p = plan({
      base: file(USER, 'main', 'c1'),
      branch,
      branchFile: file(`${USER}\n${JOBS}`, SETUP_BRANCH, 'c9'),
      openMergeRequests: [mr({ description: 'old' })],
    });
    expect(p.steps).toEqual([
      { kind: 'updateMergeRequest', project: 42, iid: 3, title: 'T', description: 'D' },
    ]);
  });

  it('an open MR whose branch was edited: merged into the branch file (edits kept), committed on top, locked on it', () => {
    const edited = `${USER}\nlint:\n  script: [lint]\n`;
    const p = plan({
      base: file(USER, 'main', 'c1'),
      branch,
      branchFile: file(edited, SETUP_BRANCH, 'c8'),
      openMergeRequests: [mr()],
    });
    expect(p.mergedInto).toBe('branch');
    expect(p.steps).toHaveLength(1);
    expect(p.steps[0]).toMatchObject({
      kind: 'commit',
      branch: SETUP_BRANCH,
      actions: [{ action: 'update', lastCommitId: 'c8' }],
    });
    expect(p.steps[0]).not.toHaveProperty('startBranch');
    expect(p.steps[0]).not.toHaveProperty('force');
    expect(decoded((p.steps[0] as { actions: { content?: string }[] }).actions[0]!.content)).toBe(
      `${edited}\n${JOBS}`,
    );
  });

  it('a branch left from a merged or closed MR: reset to the default branch plus the commit (force), a new MR', () => {
    const p = plan({
      base: file(`${USER}extra: 1\n`, 'main', 'c5'),
      branch,
      branchFile: file(`${USER}\n${JOBS}old`, SETUP_BRANCH, 'c2'),
    });
    expect(p.steps.map((s) => s.kind)).toEqual(['commit', 'createMergeRequest']);
    expect(p.steps[0]).toMatchObject({ startBranch: 'main', force: true, actions: [{ lastCommitId: 'c5' }] });
    expect(p.notes.join()).toMatch(/exists without an open merge request.*reset to main/);
  });

  it('a run stopped after the commit: the branch holds the file, so only the MR is created', () => {
    const p = plan({
      base: file(USER, 'main', 'c1'),
      branch,
      branchFile: file(`${USER}\n${JOBS}`, SETUP_BRANCH, 'c9'),
    });
    expect(p.steps.map((s) => s.kind)).toEqual(['createMergeRequest']);
  });

  it('the default branch already has the jobs (the MR was merged): nothing, and an open leftover MR is named', () => {
    const merged = `${USER}\n${JOBS}`;
    expect(plan({ base: file(merged, 'main', 'c7'), branch }).steps).toEqual([]);
    const p = plan({ base: file(merged, 'main', 'c7'), openMergeRequests: [mr()] });
    expect(p.steps).toEqual([]);
    expect(p.notes.join()).toMatch(/main already has the jobs; merge request !3 .* is still open/);
  });

  it('an open MR whose branch was deleted: the branch is created again from the default branch, the MR reused', () => {
    const p = plan({ base: file(USER, 'main', 'c1'), openMergeRequests: [mr()] });
    expect(p.steps.map((s) => s.kind)).toEqual(['commit']);
    expect(p.steps[0]).toMatchObject({ startBranch: 'main' });
    expect(p.steps[0]).not.toHaveProperty('force');
  });

  it('a file that is not UTF-8 on the default branch is bad input naming the file and branch', () => {
    const run = () => plan({ base: file(new Uint8Array([0x61, 0x3a, 0x20, 0xe9, 0x0a]), 'main', 'c1') });
    expect(run).toThrow(UsageError);
    expect(run).toThrow(/\.gitlab-ci\.yml on main is not valid UTF-8: byte 0xe9 at offset 3/);
  });

  it('commits exact bytes: a byte order mark and CRLF survive the base64 content', () => {
    const text = '\uFEFFa: 1\r\nb: 2\r\n';
    expect([...Buffer.from(commitContent(text).content, 'base64')].slice(0, 3)).toEqual([0xef, 0xbb, 0xbf]);
    expect(Buffer.from(commitContent(text).content, 'base64').toString('utf8')).toBe(text);
  });
});

describe('readRemotePipeline', () => {
  it('reads the default file, the branch, open MRs, and the branch file only when the branch exists', async () => {
    const calls: string[] = [];
    const port = {
      getFile: async (_p: number | string, path: string, ref: string) => {
        calls.push(`getFile ${path}@${ref}`);
        return ref === 'main' ? file(USER, 'main', 'c1') : undefined;
      },
      getBranch: async (_p: number | string, name: string) => {
        calls.push(`getBranch ${name}`);
        return undefined;
      },
      listOpenMergeRequests: async (
        _p: number | string,
        f: { sourceBranch: string; targetBranch?: string },
      ) => {
        calls.push(`listOpenMergeRequests ${f.sourceBranch}->${f.targetBranch}`);
        return [];
      },
    };
    const state = await readRemotePipeline(port, 42, '.gitlab-ci.yml', 'main');
    expect(state.base?.lastCommitId).toBe('c1');
    expect(state.branchFile).toBeUndefined();
    expect(calls.sort()).toEqual([
      'getBranch gitlab-aws-oidc/setup',
      'getFile .gitlab-ci.yml@main',
      'listOpenMergeRequests gitlab-aws-oidc/setup->main',
    ]);
  });
});
