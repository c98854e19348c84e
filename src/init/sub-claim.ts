/**
 * `--sub-claim project-id|project-path`: the project's `ci_id_token_sub_claim_components` set to the
 * form the trust policy is written for. Pure planning here (the GitLab step, its consent, the refusal
 * of an instance that cannot do it); the call itself is one `setSubClaim` step.
 *
 * Apply order: the GitLab step runs BEFORE the IAM changes, not after them like the other GitLab
 * steps. Both orders leave a window (seconds) in which a job that starts gets a token in one form while
 * the trust names the other; what differs is how a failure ends:
 * - GitLab first: an instance that refuses `project_id` (HTTP 400) is found out by that very call,
 *   before anything changed (exit 2); and if IAM then fails, re-running the same command finds GitLab
 *   already in the new form (no GitLab step any more) and only writes the matching trust.
 * - IAM first would change the trust for every job and then learn, from the PUT's 400, that the
 *   instance cannot send that form: every job refused until someone puts the old trust back.
 */

import { subClaimComponents, subClaimFormOf } from '../core/subject.js';
import type { ConsentItem, SubClaimForm } from '../core/types.js';
import { UsageError } from '../errors.js';
import type { GitlabProject } from '../gitlab/api/ports.js';
import type { GitlabStep } from '../gitlab/api/steps.js';

export type SetSubClaimStep = Extract<GitlabStep, { kind: 'setSubClaim' }>;

export interface SubClaimPlan {
  /** The PUT to make, when the project's components differ from the form. */
  step?: SetSubClaimStep | undefined;
  /** The consent the step needs (`--sub-claim <form>`, or a "yes" on a terminal). */
  consent?: ConsentItem | undefined;
  warnings: string[];
}

export interface SubClaimInput {
  form: SubClaimForm;
  /** `--sub-claim` was given (the user asked for this form). */
  given: boolean;
  /** The GitLab instance, for messages. */
  gitlabUrl: string;
  /**
   * The project as GitLab returned it; `offline` when GitLab is not read (--offline), `no-token` when
   * it was not looked up (no token, or the token cannot see it).
   */
  project: Pick<GitlabProject, 'id' | 'pathWithNamespace' | 'subClaimComponents'> | 'offline' | 'no-token';
  /** The port has a token (an anonymous lookup of a public project can read the setting, not change it). */
  authenticated?: boolean | undefined;
}

const needsToken = () =>
  UsageError.field(
    '--sub-claim',
    `changes the project's ci_id_token_sub_claim_components, which needs a GitLab token (api scope, Maintainer role on the project)`,
    'Set GITLAB_TOKEN (or name another variable with --gitlab-token-env), or drop --sub-claim.',
  );

export const flagFor = (form: SubClaimForm) =>
  `--sub-claim ${form === 'project_id' ? 'project-id' : 'project-path'}`;

/** `project_path:grp/app:…` / `project_id:42:…`: what the sub of a project's tokens starts with. */
function subPrefix(
  components: readonly string[],
  project: { id: number; pathWithNamespace: string },
): string {
  const first = components[0];
  if (first === 'project_id') return `project_id:${project.id}:…`;
  if (first === 'project_path') return `project_path:${project.pathWithNamespace}:…`;
  return `${components.join(',')}`;
}

/** Plans the project's sub claim components for the form; throws a UsageError (exit 2) where it cannot be done. */
export function planSubClaim(input: SubClaimInput): SubClaimPlan {
  const { form, given, project } = input;
  const wanted = subClaimComponents(form);
  if (project === 'offline') {
    return {
      warnings:
        form === 'project_id'
          ? [
              `--offline: GitLab was not read; a real run sets the sub claim components of the project to ${wanted.join(',')} (GitLab 17.10+, Maintainer) unless they already are.`,
            ]
          : [],
    };
  }
  if (project === 'no-token') {
    // The form is kept from the role (a re-run): nothing asked of GitLab.
    if (!given) return { warnings: [] };
    throw needsToken();
  }
  const current = project.subClaimComponents;
  if (current === undefined) {
    if (form === 'project_path' && !given) return { warnings: [] };
    throw new UsageError(
      `GitLab at ${input.gitlabUrl} does not report ci_id_token_sub_claim_components for ${project.pathWithNamespace}: the instance is older than GitLab 17.10 (the setting does not exist there), or the token cannot see it (it needs the Maintainer role). Nothing was changed.`,
      [
        {
          field: '--sub-claim',
          message: 'not supported by this GitLab instance (or not visible to this token)',
        },
      ],
      {
        hint: `Upgrade GitLab to 17.10 or later (project_id as the first component needs a newer release still), use a Maintainer token, or run without ${flagFor(form)}.`,
      },
    );
  }
  if (current.length === wanted.length && current.every((c, i) => c === wanted[i])) return { warnings: [] };
  if (input.authenticated === false) throw needsToken();
  const path = project.pathWithNamespace;
  const step: SetSubClaimStep = { kind: 'setSubClaim', project: project.id, from: [...current], to: wanted };
  const consent: ConsentItem = {
    consent: 'change-sub-claim',
    resource: path,
    field: 'ci_id_token_sub_claim_components',
    message: `Project ${path}: changes the sub of every ID token of project ${path} (${current.join(',')} → ${wanted.join(',')}): roles trusting ${subPrefix(current, project)} stop matching, ${subPrefix(wanted, project)} is what they carry from now on`,
    flag: flagFor(form),
  };
  const warnings = [
    `The sub claim of ${path} changes before the trust policy does: a job that starts in between gets a token the role refuses until the trust policy is updated (seconds); re-run such a job.`,
  ];
  if (subClaimFormOf(current) === undefined) {
    warnings.push(
      `The sub claim components of ${path} were customised (${current.join(',')}); they are replaced by ${wanted.join(',')}.`,
    );
  }
  return { step, consent, warnings };
}

/**
 * A GitLab refusal of the PUT (HTTP 400: "project_path must be the first element of the sub claim",
 * "project_id is not an allowed sub claim component") becomes a usage error, exit 2: the step runs
 * before any IAM change, so nothing was changed. Any other error is returned as it is.
 */
export function subClaimRefusal(error: unknown, step: SetSubClaimStep, gitlabUrl: string): unknown {
  const status = (error as { status?: unknown } | null)?.status;
  if (status !== 400 && status !== 422) return error;
  const said = error instanceof Error ? error.message : String(error);
  return new UsageError(
    `GitLab at ${gitlabUrl} refused to set the sub claim components of project ${step.project} to ${step.to.join(',')}: ${said}. Nothing was changed.`,
    [{ field: '--sub-claim', message: `${step.to[0]} first is not accepted by this GitLab instance` }],
    {
      hint:
        step.to[0] === 'project_id'
          ? 'This GitLab release accepts only project_path as the first component: upgrade GitLab, or run without --sub-claim project-id.'
          : 'Check the project settings in GitLab (Settings > CI/CD > Token Access).',
      cause: error,
    },
  );
}
