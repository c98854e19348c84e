/**
 * What the planner's parts share (plan.ts: provider and policy; plan-role.ts: the role): the options,
 * the accumulator, the consent items, the ownership check. Pure.
 */
import { CliError, ExitCode } from '../errors.js';
import { providerHost } from './issuer.js';
import {
  type Consent,
  type ConsentItem,
  type FieldChange,
  GITLAB_URL_TAG,
  isToolManaged,
  PACK_TAG,
  type PlanStep,
  type PolicyDocument,
  PROJECT_TAG,
  type ResourcePlan,
  type Tags,
} from './types.js';

export interface PlanOptions {
  /** Take over a role/policy not tagged as managed by this tool, or tagged for another project. */
  adoptExisting?: boolean | undefined;
  /** `--role-path` was given: an existing role at another path is a usage error, not a note. */
  rolePathGiven?: boolean | undefined;
  /**
   * `--detach-unowned`: detach the policies (and remove the boundary) the tool did not attach or set.
   * Without it they are kept, with a note. The consent gate still lists what it removes.
   */
  detachUnowned?: boolean | undefined;
  /** Carried into the plan: warnings and broadening notes from building the desired state. */
  warnings?: readonly string[] | undefined;
  broadening?: readonly string[] | undefined;
  /**
   * The project's path and ID, as GitLab confirmed them: a trust policy that switches its `sub` between
   * `project_path:<path>:…` and `project_id:<id>:…` (`--sub-claim`) names the same jobs, not new ones.
   */
  sameProject?: { projectPath: string; projectId: string } | undefined;
  /**
   * A packed role (`role: per-group`): the trust that widening is judged against, i.e. the new trust
   * without the projects this run adds to the role (their subjects are the onboarding the fleet's plan
   * shows). Undefined when every member is new.
   */
  trustBaseline?: PolicyDocument | undefined;
}

const DEFAULT_ATTACHED_QUOTA = 10;

/**
 * Whether the resource is the tool's (true) or being adopted (false). A name taken by a resource the
 * tool did not create, or made for another project or instance, is refused (NOT_MANAGED /
 * OTHER_PROJECT, exit 2: choose another name) unless `adoptExisting`.
 */
export function checkOwnership(
  what: string,
  name: string,
  tags: Tags,
  desiredTags: Tags,
  opts: PlanOptions,
): boolean {
  const project = desiredTags[PROJECT_TAG];
  if (!isToolManaged(tags)) {
    if (opts.adoptExisting) return false;
    throw new CliError(
      'NOT_MANAGED',
      `${what} "${name}" already exists and was not created by gitlab-aws-oidc.`,
      {
        hint: `Choose another name, or pass --adopt-existing to take it over (its settings are replaced; what the tool did not attach is kept).`,
        exitCode: ExitCode.Usage,
      },
    );
  }
  refusePackMismatch(what, name, tags, desiredTags, opts);
  const owner = tags[PROJECT_TAG];
  // A project is a path on one instance: grp/app on a private GitLab is not grp/app on gitlab.com.
  const ownerUrl = tags[GITLAB_URL_TAG];
  const url = desiredTags[GITLAB_URL_TAG];
  const otherUrl =
    ownerUrl !== undefined && url !== undefined && providerHost(ownerUrl) !== providerHost(url);
  if (otherUrl && !opts.adoptExisting) {
    throw new CliError(
      'OTHER_PROJECT',
      `${what} "${name}" is managed by gitlab-aws-oidc for ${owner ?? 'a project'} on ${ownerUrl}, not ${project ?? 'a project'} on ${url}.`,
      {
        hint: 'Check --gitlab-url. Choose another name (--role-name/--policy-name), or pass --adopt-existing to re-point it to this instance.',
        exitCode: ExitCode.Usage,
      },
    );
  }
  if (owner !== undefined && project !== undefined && owner !== project && !opts.adoptExisting) {
    throw new CliError(
      'OTHER_PROJECT',
      `${what} "${name}" is managed by gitlab-aws-oidc for project ${owner}, not ${project}.`,
      {
        hint: 'Choose another name (--role-name/--policy-name), or pass --adopt-existing to re-point it to this project.',
        exitCode: ExitCode.Usage,
      },
    );
  }
  return true;
}

/**
 * A role packed for a group (PACK_TAG) is not one project's, and one project's role is not a group's:
 * taking either for the other would replace the trust of every project it serves (OTHER_PROJECT).
 */
function refusePackMismatch(
  what: string,
  name: string,
  tags: Tags,
  desiredTags: Tags,
  opts: PlanOptions,
): void {
  if (opts.adoptExisting) return;
  const group = tags[PACK_TAG];
  const wantGroup = desiredTags[PACK_TAG];
  if (group !== undefined && wantGroup === undefined) {
    throw new CliError(
      'OTHER_PROJECT',
      `${what} "${name}" is managed by gitlab-aws-oidc as a per-group role shared by projects of ${group}, not ${desiredTags[PROJECT_TAG] ?? 'one project'} alone.`,
      {
        hint: 'Choose another --role-name, or run the config file with role: per-group that made it (--config); --adopt-existing would replace the trust of every project it serves.',
        exitCode: ExitCode.Usage,
      },
    );
  }
  const project = tags[PROJECT_TAG];
  if (wantGroup !== undefined && project !== undefined) {
    throw new CliError(
      'OTHER_PROJECT',
      `${what} "${name}" is managed by gitlab-aws-oidc for project ${project}, not as a per-group role for ${wantGroup}.`,
      {
        hint: 'Choose another roleName pattern for the per-group roles, or pass --adopt-existing to turn it into one.',
        exitCode: ExitCode.Usage,
      },
    );
  }
}

export interface Acc {
  steps: PlanStep[];
  /** Steps that must run after everything else on the resource (the ownership record). */
  finalSteps: PlanStep[];
  resources: ResourcePlan[];
  warnings: string[];
  broadening: string[];
  consents: ConsentItem[];
}

/** Records that `change` needs `consent`, with a human line carrying the values. */
export function requireConsent(
  acc: Acc,
  change: FieldChange,
  consent: Consent,
  resource: string,
  message: string,
): void {
  if (!change.needs?.includes(consent)) change.needs = [...(change.needs ?? []), consent];
  acc.consents.push({ consent, resource, field: change.field, message });
}

/**
 * A change to a field that was changed outside the tool since its last run (current ≠ last written):
 * marked as drift, and it needs --overwrite-drift.
 */
export function requireDriftConsent(acc: Acc, change: FieldChange, resource: string, message: string): void {
  change.drift = true;
  requireConsent(acc, change, 'overwrite-drift', resource, message);
}

export const show = (value: unknown) => (value === undefined ? 'none' : JSON.stringify(value));
/** The tags to add so `have` carries `want` (IAM merges: only new or changed keys are sent). */
export function missingTags(have: Tags, want: Tags): Tags {
  return Object.fromEntries(Object.entries(want).filter(([k, v]) => have[k] !== v));
}

/** One `tags` change, the record's tags included (the plan shows those as a count, not one by one). */
export function tagChanges(have: Tags, added: Tags): FieldChange[] {
  return [{ field: 'tags', from: have, to: { ...have, ...added } }];
}
export function warnAttachedQuota(count: number, acc: Acc): void {
  if (count > DEFAULT_ATTACHED_QUOTA) {
    acc.warnings.push(
      `The role would have ${count} managed policies; IAM's default quota is ${DEFAULT_ATTACHED_QUOTA} (raisable to 20).`,
    );
  }
}
