/**
 * What `init` returns: the plan, the checks, what was applied and written, and the next steps.
 * Printed by format.ts, or as the one --json document.
 */
import type { Finding } from '../core/lint.js';
import type { Identity, Plan } from '../core/types.js';
import type { GitlabStep } from '../gitlab/api/steps.js';
import type { ThumbprintResolution } from '../gitlab/thumbprint.js';
import type { CiJobNames } from '../render/ci-file.js';
import type { CiFilePlan } from '../render/write-file.js';
import type { ExpectDenyCheck } from '../verify/expect-deny.js';
import type { GitlabProjectFacts } from './gitlab-project.js';
import type { RefProtectionPlan } from './gitlab-refs.js';
import type { InitOptions } from './options.js';

export type InitStatus = 'planned' | 'no-changes' | 'applied';

export interface InitResult {
  ok: true;
  command: 'init';
  status: InitStatus;
  dryRun: boolean;
  offline: boolean;
  identity: Identity;
  region: string;
  project: string;
  gitlabUrl: string;
  audience: string;
  refs: InitOptions['refs'];
  providerArn: string;
  roleArn: string;
  policyArn?: string | undefined;
  permissions: { source?: string | undefined; managedPolicyArns: string[] };
  plan: Plan;
  trustPolicyDiff: string[];
  checks: { lint: Finding[]; expectDeny: ExpectDenyCheck[] };
  thumbprints: ThumbprintResolution;
  ciFile?:
    | {
        path: string;
        action: CiFilePlan['action'];
        /** This role's jobs: `hidden` is what jobs extend (always set by init). */
        jobs?: CiJobNames | undefined;
        /** Other roles' hidden jobs in the file (left as they are). */
        otherRoles?: { job: string; roleArn: string }[] | undefined;
        /** What the verify job runs with the role's credentials (no verify job when undefined). */
        verifyRuns?: string | undefined;
        diff: string;
        added: number;
        removed: number;
        conflicts: string[];
        warnings: string[];
        legacyJwt: CiFilePlan['legacyJwt'];
        written: boolean;
        backupPath?: string | undefined;
      }
    | undefined;
  /** What GitLab said about the project and the allowed refs (undefined offline or without the API). */
  gitlab?:
    | {
        project: GitlabProjectFacts;
        /** One verdict per allowed ref (undefined when the rules were not read). */
        refs?: RefProtectionPlan['refs'] | undefined;
        /** ref_protected was pinned because every allowed ref is protected. */
        protectedOnlyByDefault?: boolean | undefined;
      }
    | undefined;
  /** The GitLab-side changes, in apply order (after IAM, before the pipeline file); empty when none. */
  gitlabSteps: GitlabStep[];
  /** `--merge-request`: the branch and the merge request the pipeline change goes through. */
  mergeRequest?:
    | {
        branch: string;
        targetBranch: string;
        /** `create`/`update`: planned (or done, once applied); `none`: nothing new (reused as it is, or not needed). */
        action: 'create' | 'update' | 'none';
        /** A commit to the branch is planned (or was made). */
        commit: boolean;
        iid?: number | undefined;
        /** Known for a reused MR, and once a new one is created. */
        url?: string | undefined;
        title: string;
      }
    | undefined;
  /** `--ci-variables`: the project CI/CD variables the hidden job reads. */
  ciVariables?: { roleArn: string; region: string; protected: boolean; protection: string } | undefined;
  /** IAM changes applied, in order. */
  applied: string[];
  /** GitLab changes applied, in order. */
  gitlabApplied: string[];
  warnings: string[];
  nextSteps: string[];
}
