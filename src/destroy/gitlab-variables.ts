/**
 * `destroy` and GitLab: reads the project's CI/CD variables (one GET, through the lazy GitLab port, so
 * nothing loads the client unless a token is there), plans the removal of the ones `init --ci-variables`
 * set for the roles being destroyed (ci-variables.ts), and deletes them once IAM is done.
 *
 * Not checked, and the plan says why and how: `--offline`; no token for the instance; a `--role` whose
 * role is gone (its GitLab project is only known from its tags); a project GitLab does not find (404).
 * Any other GitLab error while reading stops the run before any change (exit 1), naming the way out.
 */
import { mapWithConcurrency } from '../core/concurrency.js';
import { variableValues } from '../delivery/variables.js';
import { AbortError, CliError } from '../errors.js';
import { GitlabApiError } from '../gitlab/api/errors.js';
import type { CiVariable, GitlabPort } from '../gitlab/api/ports.js';
import { parseRoleArn } from '../render/ci-jobs.js';
import {
  type DeleteVariableStep,
  type DestroyVariable,
  describeVariableStep,
  namedRoles,
  planVariableCleanup,
  type VariableTargets,
} from './ci-variables.js';

/** The GitLab port for an instance; undefined when there is no token for it. */
export type DestroyGitlab = (gitlabUrl: string) => Promise<GitlabPort | undefined> | GitlabPort | undefined;

/** What the plan, the result and --json say about the project's CI/CD variables. */
export interface DestroyCiVariables {
  /** The GitLab project and instance looked at (undefined: not known). */
  project: string | undefined;
  gitlabUrl: string | undefined;
  checked: boolean;
  /** Not checked: why, and how to check them. */
  reason?: string | undefined;
  hint?: string | undefined;
  /** The tool's keys found: deleted (or to be) or kept, with their values. */
  variables: DestroyVariable[];
  steps: string[];
  /** Steps carried out. */
  done: string[];
}

export interface DestroyVariablesRead {
  view: DestroyCiVariables;
  steps: DeleteVariableStep[];
  /** The project's variables (`{ key: value }`), for pipeline jobs that read their role ARN from one. */
  values: Record<string, string> | undefined;
  /** ARNs the variables name that IAM no longer has (the pipeline file's jobs of those go too). */
  goneRoleArns: string[];
  port: GitlabPort | undefined;
}

export interface ReadDestroyVariablesInput {
  gitlab: DestroyGitlab | undefined;
  offline: boolean;
  /** The GitLab project; undefined when it cannot be known (the reason is `unknownProject`). */
  project: string | undefined;
  unknownProject?: string | undefined;
  gitlabUrl: string;
  targets: Omit<VariableTargets, 'goneRoleArns'>;
  /**
   * --project: asks IAM (or the fleet's snapshot) whether a role the variables name, that this run
   * does not delete, still exists: a gone one's variables go (a re-run after IAM went).
   */
  findGone?: { roleExists: (name: string) => Promise<boolean> | boolean; concurrency: number } | undefined;
}

const notChecked = (
  input: Pick<ReadDestroyVariablesInput, 'project' | 'gitlabUrl'>,
  reason: string,
  hint: string,
): DestroyVariablesRead => ({
  view: {
    project: input.project,
    gitlabUrl: input.project === undefined ? undefined : input.gitlabUrl,
    checked: false,
    reason,
    hint,
    variables: [],
    steps: [],
    done: [],
  },
  steps: [],
  values: undefined,
  goneRoleArns: [],
  port: undefined,
});

const KEYS = 'AWS_OIDC_ROLE_ARN[_<ROLE>] and AWS_OIDC_REGION[_<ROLE>]';

export async function readDestroyVariables(input: ReadDestroyVariablesInput): Promise<DestroyVariablesRead> {
  const where = `Settings > CI/CD > Variables`;
  if (input.project === undefined) {
    return notChecked(
      input,
      input.unknownProject ?? 'the GitLab project is not known',
      `If init --ci-variables set ${KEYS} for it, delete them in ${where} of its project.`,
    );
  }
  if (input.offline) {
    return notChecked(
      input,
      '--offline',
      `Run without --offline, with a GitLab token, to remove the ${KEYS} variables init --ci-variables set (${where} of ${input.project}).`,
    );
  }
  const port = await input.gitlab?.(input.gitlabUrl);
  if (!port?.authenticated) {
    return notChecked(
      input,
      `no GitLab token for ${input.gitlabUrl}`,
      `Set GITLAB_TOKEN (or pass --gitlab-token-env NAME) to a token of a Maintainer of ${input.project} with the api scope, and destroy also removes the ${KEYS} variables init --ci-variables set; or delete them in ${where}.`,
    );
  }
  let variables: CiVariable[];
  try {
    variables = await port.listProjectVariables(input.project);
  } catch (error) {
    if (error instanceof GitlabApiError && error.status === 404) {
      return notChecked(
        input,
        `GitLab project ${input.project} was not found on ${input.gitlabUrl}`,
        error.hint ?? `Check the project path and --gitlab-url.`,
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(
      'GITLAB_VARIABLES_UNREAD',
      `Could not read the CI/CD variables of ${input.project} (${message}); nothing was changed.`,
      {
        cause: error,
        hint: `${error instanceof CliError && error.hint ? `${error.hint} ` : ''}Or pass --offline to leave the CI/CD variables alone (the plan then says they were not checked).`,
      },
    );
  }
  let goneRoleArns: string[] = [];
  let goneRoleNames: string[] = [];
  if (input.findGone) {
    const { roleExists, concurrency } = input.findGone;
    const named = namedRoles(variables, input.targets.account);
    const deleted = new Set(input.targets.roleArns.map((a) => parseRoleArn(a)?.name.toLowerCase()));
    const arns = named.arns.filter((arn) => !deleted.has(parseRoleArn(arn)?.name.toLowerCase()));
    const names = named.orphanNames.filter((n) => !deleted.has(n.toLowerCase()));
    const gone = async (name: string | undefined) => name !== undefined && !(await roleExists(name));
    const [arnGone, nameGone] = await Promise.all([
      mapWithConcurrency(arns, concurrency, (arn) => gone(parseRoleArn(arn)?.name)),
      mapWithConcurrency(names, concurrency, gone),
    ]);
    goneRoleArns = arns.filter((_, i) => arnGone[i]);
    goneRoleNames = names.filter((_, i) => nameGone[i]);
  }
  const planned = planVariableCleanup(input.project, variables, {
    ...input.targets,
    goneRoleArns,
    goneRoleNames,
  });
  return {
    view: {
      project: input.project,
      gitlabUrl: input.gitlabUrl,
      checked: true,
      variables: planned.variables,
      steps: planned.steps.map(describeVariableStep),
      done: [],
    },
    steps: planned.steps,
    values: variableValues(variables),
    goneRoleArns,
    port,
  };
}

/**
 * Deletes the variables, one call each (a variable already gone counts as done). Stops at the first
 * failure: `done` says what went, the caller reports the rest as not done.
 */
export async function applyVariableSteps(
  port: GitlabPort,
  steps: readonly DeleteVariableStep[],
  options: { signal?: AbortSignal | undefined; onDone?: ((step: string) => void) | undefined } = {},
): Promise<{ done: string[]; failed?: { error: unknown; notDone: string[] } }> {
  const done: string[] = [];
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as DeleteVariableStep;
    const notDone = () => steps.slice(i).map(describeVariableStep);
    if (options.signal?.aborted)
      return {
        done,
        failed: {
          error: new AbortError('Interrupted before the CI/CD variables were deleted.'),
          notDone: notDone(),
        },
      };
    try {
      await port.deleteProjectVariable(step.project, step.key, step.environmentScope);
    } catch (error) {
      return { done, failed: { error, notDone: notDone() } };
    }
    done.push(describeVariableStep(step));
    options.onDone?.(describeVariableStep(step));
  }
  return { done };
}
