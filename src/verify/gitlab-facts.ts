/**
 * `verify --project`: what GitLab itself would put in the simulated job's token, read from the API when
 * a token is there: the project and namespace IDs (GET /projects/:path), whether the ref is protected
 * (GET …/repository/branches/:branch, which applies GitLab's wildcard rules; protected tag rules for a
 * tag) and the project's `sub` components (a project_id-first `sub` after `init --sub-claim project-id`).
 * Flags still win: a value given by flag is kept, and a difference from GitLab is said.
 */
import { isProjectComponent, isSubComponent, type SubComponent } from '../core/gitlab-claims.js';
import { ruleMatchesRef } from '../core/protected-refs.js';
import type { GitlabPort } from '../gitlab/api/ports.js';
import type { SimulatedJobOptions } from './options.js';

export interface GitlabJobFacts {
  projectId?: string | undefined;
  namespaceId?: string | undefined;
  refProtected?: boolean | undefined;
  subComponents?: SubComponent[] | undefined;
}

/** What verify did with GitLab, for the result and --json (never the token). */
export interface GitlabLookupSummary {
  /** The instance asked. */
  url: string;
  /** Claims taken from GitLab (`project_id`, `namespace_id`, `ref_protected`, `sub components`). */
  filled: string[];
  notes: string[];
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Components a simulated job has values for (no environment: no environment_protected, deployment_tier). */
const SIMULATED = new Set<string>(['project_path', 'project_id', 'ref_type', 'ref', 'ref_protected']);

/** The project's components, when GitLab returns a list a simulated job can build its `sub` from. */
function componentsOf(list: readonly string[] | undefined, notes: string[]): SubComponent[] | undefined {
  if (!list || list.length === 0 || !isProjectComponent(list[0]) || !list.every(isSubComponent))
    return undefined;
  const missing = list.filter((c) => !SIMULATED.has(c));
  if (missing.length) {
    notes.push(
      `the project's sub claim components include ${missing.join(', ')}, which a simulated job has no value for: the sub is simulated with GitLab's default components.`,
    );
    return undefined;
  }
  return list as SubComponent[];
}

/** Reads the facts of the job's project and ref; a project GitLab does not show (404) gives none, with a note. */
export async function readGitlabJobFacts(
  port: GitlabPort,
  job: Pick<SimulatedJobOptions, 'project' | 'branch' | 'tag'>,
): Promise<{ facts?: GitlabJobFacts | undefined; notes: string[] }> {
  let project: Awaited<ReturnType<GitlabPort['getProject']>>;
  try {
    project = await port.getProject(job.project);
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    return {
      notes: [
        `${job.project} was not found on ${port.baseUrl}${port.authenticated ? ', or the token cannot see it' : ' without a token'}: the simulated claims use only the flags.`,
      ],
    };
  }
  const notes: string[] = [];
  if (project.movedFrom) {
    notes.push(
      `${project.movedFrom} has moved to ${project.pathWithNamespace}: GitLab puts the new path in the token.`,
    );
  }
  let refProtected: boolean | undefined;
  if (job.branch !== undefined) {
    const branch = await port.getBranch(project.id, job.branch);
    if (branch) refProtected = branch.protected;
    else notes.push(`branch ${job.branch} does not exist in ${project.pathWithNamespace}.`);
  } else if (job.tag !== undefined) {
    const tag = job.tag;
    try {
      const rules = await port.listProtectedTags(project.id);
      refProtected = rules.some((r) => ruleMatchesRef(r.name, tag));
    } catch (error) {
      // Listing protection rules needs more than reading the project (GitLab: Maintainer).
      if (statusOf(error) !== 403) throw error;
      notes.push(
        `the protected tag rules of ${project.pathWithNamespace} are not visible to this token (GitLab shows them to Maintainers): ref_protected is not filled.`,
      );
    }
  }
  return {
    facts: {
      projectId: String(project.id),
      namespaceId: String(project.namespace.id),
      refProtected,
      subComponents: componentsOf(project.subClaimComponents, notes),
    },
    notes,
  };
}

/**
 * The simulated job with GitLab's facts where no flag gave a value; a flag that differs from GitLab is
 * kept (the user simulates that job) and named in the notes.
 */
export function mergeGitlabFacts(
  job: SimulatedJobOptions,
  facts: GitlabJobFacts,
): {
  job: SimulatedJobOptions & { subComponents?: SubComponent[] | undefined };
  filled: string[];
  notes: string[];
} {
  const filled: string[] = [];
  const notes: string[] = [];
  const pick = <T>(
    claim: string,
    flag: string,
    given: T | undefined,
    fromGitlab: T | undefined,
  ): T | undefined => {
    if (fromGitlab === undefined) return given;
    if (given === undefined) {
      filled.push(claim);
      return fromGitlab;
    }
    if (given !== fromGitlab)
      notes.push(`${flag} ${String(given)} is kept, but GitLab says ${claim} is ${String(fromGitlab)}.`);
    return given;
  };
  const merged = {
    ...job,
    projectId: pick('project_id', '--project-id', job.projectId, facts.projectId),
    namespaceId: pick('namespace_id', '--namespace-id', job.namespaceId, facts.namespaceId),
    refProtected: pick('ref_protected', '--ref-protected', job.refProtected, facts.refProtected),
  };
  if (facts.subComponents) {
    filled.push('sub components');
    if (facts.subComponents[0] === 'project_id' && merged.projectId !== facts.projectId) {
      notes.push(
        `the sub names project_id ${merged.projectId} (from --project-id), not GitLab's ${facts.projectId}.`,
      );
    }
  }
  return { job: { ...merged, subComponents: facts.subComponents }, filled, notes };
}
