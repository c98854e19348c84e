/**
 * `init --merge-request`: the pipeline change delivered without a local checkout. The file is read from
 * the default branch, merged exactly as a local write merges (same bytes), committed to the branch
 * `gitlab-aws-oidc/setup`, and one merge request into the default branch is opened, or reused.
 *
 * The rules, in order (reads: the file on the default branch, the branch, the file on it, open MRs):
 * 1. The default branch already has the jobs as they would be written: nothing to deliver (the MR of an
 *    earlier run was merged, or the jobs were added by hand).
 * 2. An open MR from the branch is reused. Its branch is under review: the jobs are merged into the
 *    file as it is on the branch (edits made there are kept) and committed on top, only when that
 *    changes it; the optimistic lock is the commit the branch's file was read at.
 * 3. No open MR (first run, or the earlier MR was merged or closed): a branch left over from it is
 *    stale, so the commit starts again from the default branch (`force`: the branch is reset), unless
 *    the branch holds exactly the file this run writes (a run stopped between commit and MR). The lock
 *    is the commit the default branch's file was read at.
 * 4. The MR is opened, or updated when its title or description differ. Nothing new: no call at all.
 */
import type { GitlabBranch, GitlabPort, MergeRequest, RepositoryFile } from '../gitlab/api/ports.js';
import type { GitlabStep } from '../gitlab/api/steps.js';
import { decodeUtf8Strict } from '../render/write-file.js';

export const SETUP_BRANCH = 'gitlab-aws-oidc/setup';

/** What the plan is made from: four reads. */
export interface RemotePipelineState {
  defaultBranch: string;
  /** The file on the default branch (undefined: none). */
  base: RepositoryFile | undefined;
  branch: GitlabBranch | undefined;
  /** The file on the setup branch (undefined: no branch, or no file on it). */
  branchFile: RepositoryFile | undefined;
  /** Open MRs from the setup branch into the default branch. */
  openMergeRequests: MergeRequest[];
}

/** Reads what planMergeRequest needs. Read-only (fine under --dry-run). */
export async function readRemotePipeline(
  port: Pick<GitlabPort, 'getFile' | 'getBranch' | 'listOpenMergeRequests'>,
  project: number,
  path: string,
  defaultBranch: string,
): Promise<RemotePipelineState> {
  const [base, branch, openMergeRequests] = await Promise.all([
    port.getFile(project, path, defaultBranch),
    port.getBranch(project, SETUP_BRANCH),
    port.listOpenMergeRequests(project, { sourceBranch: SETUP_BRANCH, targetBranch: defaultBranch }),
  ]);
  const branchFile = branch ? await port.getFile(project, path, SETUP_BRANCH) : undefined;
  return { defaultBranch, base, branch, branchFile, openMergeRequests };
}

/** The text of a file read from GitLab: strictly UTF-8 (a byte order mark kept), as a local read. */
export function remoteText(file: RepositoryFile | undefined, shownName: string): string | undefined {
  return file === undefined ? undefined : decodeUtf8Strict(file.content, shownName);
}

/** How one text merges (init's pipeline merge, with the text given instead of read from disk). */
export interface TextMerge {
  text: string;
  action: 'create' | 'update' | 'no-op';
}

export interface MergeRequestPlanInput<M extends TextMerge> {
  project: number;
  /** The file's path in the repository. */
  path: string;
  state: RemotePipelineState;
  /** Merges the jobs into a text (undefined: no file); `where` names it in messages. */
  merge: (before: string | undefined, where: string) => M;
  title: string;
  description: string;
  commitMessage: string;
}

export interface MergeRequestPlan<M extends TextMerge> {
  steps: Extract<GitlabStep, { kind: 'commit' | 'createMergeRequest' | 'updateMergeRequest' }>[];
  /** The merge this run commits (or would): into the branch's file (rule 2) or the default branch's. */
  pipeline: M;
  /** Which file `pipeline` merged into. */
  mergedInto: 'default' | 'branch';
  /** The open MR that is reused. */
  existing?: MergeRequest | undefined;
  /** Plain facts for the plan (a reused MR, a branch reset). */
  notes: string[];
}

/** Base64 of the UTF-8 bytes: GitLab stores exactly these (a byte order mark and CRLF included). */
export function commitContent(text: string): { content: string; encoding: 'base64' } {
  return { content: Buffer.from(text, 'utf8').toString('base64'), encoding: 'base64' };
}

export function planMergeRequest<M extends TextMerge>(input: MergeRequestPlanInput<M>): MergeRequestPlan<M> {
  const { project, path, state } = input;
  const target = state.defaultBranch;
  const notes: string[] = [];
  const baseText = remoteText(state.base, `${path} on ${target}`);
  const onDefault = input.merge(baseText, `${path} on ${target}`);
  const existing = state.openMergeRequests.find(
    (mr) => mr.sourceBranch === SETUP_BRANCH && mr.targetBranch === target && mr.state === 'opened',
  );
  if (onDefault.action === 'no-op') {
    if (existing) {
      notes.push(
        `${target} already has the jobs; merge request !${existing.iid} (${existing.webUrl}) is still open and can be closed.`,
      );
    }
    return { steps: [], pipeline: onDefault, mergedInto: 'default', existing, notes };
  }

  const steps: MergeRequestPlan<M>['steps'] = [];
  let pipeline = onDefault;
  let mergedInto: 'default' | 'branch' = 'default';
  if (existing && state.branch) {
    // Rule 2: the branch under review keeps what was changed on it.
    mergedInto = 'branch';
    pipeline = input.merge(
      remoteText(state.branchFile, `${path} on ${SETUP_BRANCH}`),
      `${path} on ${SETUP_BRANCH}`,
    );
    notes.push(`Reusing the open merge request !${existing.iid}: ${existing.webUrl}`);
    if (pipeline.action !== 'no-op') {
      steps.push({
        kind: 'commit',
        project,
        branch: SETUP_BRANCH,
        message: input.commitMessage,
        actions: [
          {
            action: state.branchFile ? 'update' : 'create',
            filePath: path,
            ...commitContent(pipeline.text),
            lastCommitId: state.branchFile?.lastCommitId,
          },
        ],
      });
    }
  } else {
    // Rule 3: from the default branch.
    const branchText = remoteText(state.branchFile, `${path} on ${SETUP_BRANCH}`);
    const branchReady = state.branch !== undefined && branchText === onDefault.text;
    if (!branchReady) {
      if (state.branch) {
        notes.push(
          `Branch ${SETUP_BRANCH} exists without an open merge request (an earlier one was merged or closed): it is reset to ${target} plus this commit.`,
        );
      }
      steps.push({
        kind: 'commit',
        project,
        branch: SETUP_BRANCH,
        startBranch: target,
        message: input.commitMessage,
        actions: [
          {
            action: state.base ? 'update' : 'create',
            filePath: path,
            ...commitContent(onDefault.text),
            lastCommitId: state.base?.lastCommitId,
          },
        ],
        ...(state.branch ? { force: true } : {}),
      });
    }
  }
  if (existing) {
    if (existing.title !== input.title || existing.description !== input.description) {
      steps.push({
        kind: 'updateMergeRequest',
        project,
        iid: existing.iid,
        title: input.title,
        description: input.description,
      });
    }
  } else {
    steps.push({
      kind: 'createMergeRequest',
      project,
      sourceBranch: SETUP_BRANCH,
      targetBranch: target,
      title: input.title,
      description: input.description,
    });
  }
  return { steps, pipeline, mergedInto, existing, notes };
}
