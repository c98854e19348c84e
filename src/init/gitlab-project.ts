/**
 * `init`'s project lookup (GET /projects/:path, one call): the numeric project and namespace IDs that
 * pin the trust on gitlab.com, the default branch, and the checks that refuse a wrong target before
 * anything is read from or written to AWS: an archived project, IDs given by flag that are not this
 * project's, a role pinned to another project now holding the path (path reuse), a moved project.
 */
import { UsageError } from '../errors.js';
import { gitlabStatusOf } from '../gitlab/api/apply.js';
import type { GitlabPort, GitlabProject } from '../gitlab/api/ports.js';

/** What the lookup found; carried in the options (`gitlabProject`) and shown in the plan and --json. */
export interface GitlabProjectFacts {
  id: number;
  namespaceId: number;
  /** The path GitLab spells now (after a move, the new one): what it puts in `sub`. */
  path: string;
  defaultBranch?: string | undefined;
  /** The path asked for, when GitLab answered with a redirect (the project moved). */
  movedFrom?: string | undefined;
  visibility: 'private' | 'internal' | 'public';
  webUrl: string;
  /** `ci_id_token_sub_claim_components` (17.10+); undefined when GitLab does not return it. */
  subClaimComponents?: string[] | undefined;
}

export const TOKEN_HINT =
  'set GITLAB_TOKEN (or name another variable with --gitlab-token-env NAME) to a token with the read_api scope and at least the Reporter role';

export interface LookupInput {
  project: string;
  gitlabUrl: string;
  gitlabCom: boolean;
  /** --project-id / --namespace-id as given. */
  projectIdFlag?: string | undefined;
  namespaceIdFlag?: string | undefined;
  /**
   * The project as a listing already returned it (GET /groups/:id/projects gives the same project
   * entity as GET /projects/:id): used instead of the per-project GET, with the same checks.
   */
  listed?: GitlabProject | undefined;
  /** What the existing role pins now (gitlab.com), to catch a path now held by another project. */
  current?:
    | { roleName: string; projectId?: string | undefined; namespaceId?: string | undefined }
    | undefined;
}

export interface LookupResult {
  facts?: GitlabProjectFacts | undefined;
  warnings: string[];
}

/**
 * Looks the project up. A project this token cannot see (404) is an error unless the run has what the
 * lookup would have given (on gitlab.com, --project-id); then it goes on without, with a warning.
 */
export async function lookupGitlabProject(port: GitlabPort, input: LookupInput): Promise<LookupResult> {
  const { project, gitlabUrl } = input;
  let found: GitlabProject;
  try {
    found = input.listed ?? (await port.getProject(project));
  } catch (error) {
    if (gitlabStatusOf(error) !== 404) throw error;
    const anonymous = !port.authenticated;
    const why = anonymous
      ? `${project} was not found on ${gitlabUrl} without a token (a private or internal project is visible only with one)`
      : `${project} was not found on ${gitlabUrl}, or the token cannot see it`;
    const enough = !input.gitlabCom || input.projectIdFlag !== undefined;
    if (enough) {
      return {
        warnings: [
          `${why}: its IDs, default branch and protected refs were not checked${anonymous ? `; to check them, ${TOKEN_HINT}` : ''}.`,
        ],
      };
    }
    throw UsageError.field(
      anonymous ? '--gitlab-token-env' : '--project',
      why,
      anonymous
        ? `To look it up, ${TOKEN_HINT}; or pass --project-id <id> (and --namespace-id <id>) from the project's overview page to go on without the lookup.`
        : 'Check the path (as in the project URL) and that the token has read_api and at least the Reporter role on it; or pass --project-id <id> to go on without the lookup.',
    );
  }
  const facts: GitlabProjectFacts = {
    id: found.id,
    namespaceId: found.namespace.id,
    path: found.pathWithNamespace,
    defaultBranch: found.defaultBranch,
    movedFrom: found.movedFrom,
    visibility: found.visibility,
    webUrl: found.webUrl,
    subClaimComponents: found.subClaimComponents,
  };
  if (found.archived) {
    throw UsageError.field(
      '--project',
      `${facts.path} is archived on ${gitlabUrl}: its pipelines do not run, so a role for it would never be used`,
      'Unarchive the project (Settings > General > Advanced), or pick another one with --project.',
    );
  }
  const mismatch = (flag: string, given: string | undefined, actual: number, what: string) => {
    if (given !== undefined && given !== String(actual)) {
      throw UsageError.field(
        flag,
        `${given} is not the ${what} of ${facts.path}: GitLab says ${actual}`,
        `Drop ${flag} (the lookup pins ${actual}), or check --project and --gitlab-url.`,
      );
    }
  };
  mismatch('--project-id', input.projectIdFlag, facts.id, 'project ID');
  mismatch('--namespace-id', input.namespaceIdFlag, facts.namespaceId, 'namespace ID');
  // A move is reported by runInit (movedWarning), in the result and --json.
  return { facts, warnings: [] };
}

/**
 * A role pinned (gitlab.com:project_id) to another project than the one at the path now: the project
 * was deleted and the path taken by another one (or recreated). Moving the trust needs --project-id.
 */
export function checkPathReuse(
  facts: GitlabProjectFacts,
  current: { roleName: string; projectId?: string | undefined },
): void {
  if (current.projectId === undefined || current.projectId === String(facts.id)) return;
  throw UsageError.field(
    '--project-id',
    `the role ${current.roleName} trusts project ID ${current.projectId}, but ${facts.path} is now project ${facts.id}: the path may have been deleted and taken by another project`,
    `Check that project ${facts.id} (${facts.webUrl}) is the one the role is for, then pass --project-id ${facts.id} to move the trust to it.`,
  );
}

/** The loud warning for a moved project, or undefined. */
export function movedWarning(facts: GitlabProjectFacts | undefined): string | undefined {
  if (facts?.movedFrom === undefined) return undefined;
  return `${facts.movedFrom} has MOVED to ${facts.path} (GitLab redirected the lookup): the trust is written on ${facts.path}, the path GitLab puts in sub now. Anyone may register ${facts.movedFrom} again: delete any role that still trusts it (gitlab-aws-oidc destroy --project ${facts.movedFrom}) and pass --project ${facts.path} from now on.`;
}
