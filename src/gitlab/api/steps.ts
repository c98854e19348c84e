/**
 * GitLab-side plan steps: what `init` changes in GitLab after IAM (ref protection, the ID-token `sub`
 * claim, CI/CD variables, the pipeline change as a commit + merge request). Pure data: planned in
 * `init` from what the GitLab reads returned, shown in the plan with their values, applied in order
 * by `gitlab/api/apply.ts` (one port call each), and listed as done / not done when a run stops.
 *
 * Each step is one mutating GitLab call. A re-run with nothing new plans none (zero mutating calls).
 */
import type { CiVariableInput, CommitAction } from './ports.js';

export type GitlabStep =
  /** POST /projects/:id/protected_branches (Maintainer push/merge). */
  | { kind: 'protectBranch'; project: number; name: string }
  /** POST /projects/:id/protected_tags (Maintainer create). */
  | { kind: 'protectTag'; project: number; name: string }
  /**
   * PUT /projects/:id ci_id_token_sub_claim_components. Changes the `sub` of every ID token of the
   * project: shown in red, needs explicit consent (`--sub-claim`).
   */
  | { kind: 'setSubClaim'; project: number; from: string[] | undefined; to: string[] }
  /** POST (create) or PUT (update) /projects/:id/variables; `from` is the current variable on update (value never shown when masked). */
  | {
      kind: 'createVariable' | 'updateVariable';
      project: number;
      variable: CiVariableInput;
      from?: Omit<CiVariableInput, 'value'> & { value?: string | undefined };
    }
  /** POST /projects/:id/repository/commits: one commit on `branch` (created from `startBranch`). */
  | {
      kind: 'commit';
      project: number;
      branch: string;
      startBranch?: string | undefined;
      message: string;
      actions: CommitAction[];
      /** Reset an existing `branch` to `startBranch` + this commit (a leftover branch of a merged or closed MR). */
      force?: boolean | undefined;
    }
  /** POST /projects/:id/merge_requests */
  | {
      kind: 'createMergeRequest';
      project: number;
      sourceBranch: string;
      targetBranch: string;
      title: string;
      description: string;
    }
  /** PUT /projects/:id/merge_requests/:iid (the open MR of an earlier run, reused). */
  | { kind: 'updateMergeRequest'; project: number; iid: number; title: string; description: string };

export type GitlabStepKind = GitlabStep['kind'];
