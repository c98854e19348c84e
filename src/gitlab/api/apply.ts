/**
 * Applies the GitLab-side steps of an `init` plan (`steps.ts`), in plan order, one port call each,
 * after IAM and before the pipeline file is written. Sequential on purpose: later steps depend on
 * earlier ones (a commit before its merge request) and GitLab rate-limits writes per user.
 *
 * Stops at the first failure: PartialApplyError lists what was done and what was not (the same report
 * IAM failures give). On abort no new step starts: InterruptedError. Every step is planned from what
 * GitLab returned, so a re-run after any stop plans only what is left.
 */
import { CliError, InterruptedError, PartialApplyError } from '../../errors.js';
import type { GitlabPort, MergeRequest } from './ports.js';
import type { GitlabStep } from './steps.js';

export interface GitlabApplyEvent {
  type: 'start' | 'done' | 'failed';
  step: GitlabStep;
  description: string;
  /** Only on `failed`. */
  error?: unknown;
}

export interface GitlabApplyOptions {
  signal?: AbortSignal | undefined;
  onEvent?: ((event: GitlabApplyEvent) => void) | undefined;
}

export interface GitlabApplyResult {
  /** Descriptions of the steps applied, in order. */
  done: string[];
  /** The merge request a createMergeRequest/updateMergeRequest step returned (its address, for the result). */
  mergeRequest?: MergeRequest | undefined;
}

/** What each step needs in GitLab, for the message of a 403. */
export const GITLAB_STEP_NEEDS: Record<GitlabStep['kind'], string> = {
  protectBranch: 'the Maintainer role on the project and a token with the api scope',
  protectTag: 'the Maintainer role on the project and a token with the api scope',
  setSubClaim: 'the Maintainer role on the project and a token with the api scope',
  createVariable: 'the Maintainer role on the project and a token with the api scope',
  updateVariable: 'the Maintainer role on the project and a token with the api scope',
  commit: 'the Developer role (allowed to push to the branch) and a token with the api scope',
  createMergeRequest: 'the Developer role and a token with the api scope',
  updateMergeRequest: 'the Developer role and a token with the api scope',
};

const masked = (v: { value?: string | undefined; masked?: boolean | undefined }) =>
  v.masked ? '(masked)' : JSON.stringify(v.value ?? '');

/** One human line per GitLab step, with its values (used in the plan, progress and stop reports). */
export function describeGitlabStep(step: GitlabStep): string {
  const where = `in project ${step.project}`;
  switch (step.kind) {
    case 'protectBranch':
      return `protect branch ${step.name} ${where} (push and merge: Maintainers)`;
    case 'protectTag':
      return `protect tag ${step.name} ${where} (create: Maintainers)`;
    case 'setSubClaim':
      return `set the ID token sub claim ${where} to ${step.to.join(', ')} (was ${step.from?.join(', ') ?? 'the default'})`;
    case 'createVariable':
    case 'updateVariable': {
      const v = step.variable;
      const scope =
        v.environmentScope && v.environmentScope !== '*' ? `, environments ${v.environmentScope}` : '';
      const flags = `${v.protected ? 'protected' : 'not protected'}${v.masked ? ', masked' : ''}${scope}`;
      const value =
        step.kind === 'updateVariable' && step.from ? `${masked(step.from)} → ${masked(v)}` : masked(v);
      return `${step.kind === 'createVariable' ? 'create' : 'update'} CI/CD variable ${v.key} = ${value} (${flags}) ${where}`;
    }
    case 'commit': {
      const files = step.actions.map((a) => `${a.action} ${a.filePath}`).join(', ');
      const from = step.startBranch ? ` (${step.force ? 'reset to' : 'from'} ${step.startBranch})` : '';
      return `commit to branch ${step.branch}${from} ${where}: ${files}`;
    }
    case 'createMergeRequest':
      return `open merge request ${step.sourceBranch} → ${step.targetBranch} ${where}: ${JSON.stringify(step.title)}`;
    case 'updateMergeRequest':
      return `update merge request !${step.iid} ${where}: ${JSON.stringify(step.title)}`;
  }
}

/** The one port call of a step; a merge request step returns the merge request. */
async function runGitlabStep(step: GitlabStep, port: GitlabPort): Promise<MergeRequest | undefined> {
  switch (step.kind) {
    case 'protectBranch':
      await port.protectBranch(step.project, step.name);
      return;
    case 'protectTag':
      await port.protectTag(step.project, step.name);
      return;
    case 'setSubClaim':
      await port.setSubClaimComponents(step.project, step.to);
      return;
    case 'createVariable':
      await port.createProjectVariable(step.project, step.variable);
      return;
    case 'updateVariable':
      await port.updateProjectVariable(step.project, step.variable);
      return;
    case 'commit':
      await port.createCommit(step.project, {
        branch: step.branch,
        startBranch: step.startBranch,
        commitMessage: step.message,
        actions: step.actions,
        force: step.force,
      });
      return;
    case 'createMergeRequest':
      return port.createMergeRequest(step.project, {
        sourceBranch: step.sourceBranch,
        targetBranch: step.targetBranch,
        title: step.title,
        description: step.description,
      });
    case 'updateMergeRequest':
      return port.updateMergeRequest(step.project, step.iid, {
        title: step.title,
        description: step.description,
      });
  }
}

/** The HTTP status of a GitLab API error (the client's typed error carries it), if any. */
export function gitlabStatusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** A 403 names what the step needs; other errors pass through. */
function explain(step: GitlabStep, description: string, error: unknown): unknown {
  if (gitlabStatusOf(error) !== 403) return error;
  const gitlabMessage = error instanceof Error ? error.message : String(error);
  return new CliError('GITLAB_FORBIDDEN', `GitLab refused to ${description} (403): ${gitlabMessage}`, {
    cause: error,
    hint: `This needs ${GITLAB_STEP_NEEDS[step.kind]}; ask a Maintainer to run it, or use a token that has them (--gitlab-token-env NAME).`,
  });
}

export async function applyGitlabSteps(
  steps: readonly GitlabStep[],
  port: GitlabPort,
  options: GitlabApplyOptions = {},
): Promise<GitlabApplyResult> {
  const { signal, onEvent } = options;
  const done: string[] = [];
  let mergeRequest: MergeRequest | undefined;
  const notDone = (from: number) => steps.slice(from).map(describeGitlabStep);
  for (const [index, step] of steps.entries()) {
    if (signal?.aborted) throw InterruptedError.after(done, notDone(index));
    const description = describeGitlabStep(step);
    onEvent?.({ type: 'start', step, description });
    try {
      mergeRequest = (await runGitlabStep(step, port)) ?? mergeRequest;
    } catch (error) {
      onEvent?.({ type: 'failed', step, description, error });
      if (signal?.aborted) throw InterruptedError.after(done, notDone(index), error);
      throw new PartialApplyError(explain(step, description, error), done, notDone(index));
    }
    done.push(description);
    onEvent?.({ type: 'done', step, description });
  }
  return { done, mergeRequest };
}
