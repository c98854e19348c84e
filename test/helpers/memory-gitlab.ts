/**
 * A small stateful in-memory GitlabPort for unit and command-level tests (no HTTP; the loopback fake
 * server is test/helpers/fake-gitlab.ts). Projects by path and ID (moved, archived), protected branch
 * and tag rules, project variables; every call is logged, and `failOn` injects a fault into one call.
 */
import { ruleMatchesRef } from '../../src/core/protected-refs.js';
import type {
  CiVariable,
  GitlabPort,
  GitlabProject,
  MergeRequest,
  ProjectRef,
  ProtectedRef,
} from '../../src/gitlab/api/ports.js';

export class MemoryGitlabError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GitlabApiError';
  }
}

export interface MemoryProject {
  id: number;
  path: string;
  namespaceId: number;
  defaultBranch?: string;
  visibility?: GitlabProject['visibility'];
  archived?: boolean;
  /** Old paths that redirect here (a moved project). */
  formerPaths?: string[];
  protectedBranches?: string[];
  protectedTags?: string[];
  /** Branches in the repository (default: the default branch). */
  branches?: string[];
  variables?: CiVariable[];
  subClaimComponents?: string[];
  /** Repository files: branch → path → text (a branch listed here exists too). */
  files?: Record<string, Record<string, string>>;
  mergeRequests?: MergeRequest[];
}

const MUTATING = new Set([
  'protectBranch',
  'protectTag',
  'setSubClaimComponents',
  'createProjectVariable',
  'updateProjectVariable',
  'deleteProjectVariable',
  'createCommit',
  'createMergeRequest',
  'updateMergeRequest',
]);

export interface MemoryGitlab {
  port: GitlabPort;
  projects: MemoryProject[];
  calls: { method: string; args: unknown[] }[];
  mutatingCalls(): string[];
  /** The next call of `method` (the `nth`, default 1st) fails with `error` (before or after it takes effect). */
  failOn(method: keyof GitlabPort, error: Error, options?: { nth?: number; after?: boolean }): void;
}

export function createMemoryGitlab(
  projects: MemoryProject[],
  options: {
    baseUrl?: string;
    authenticated?: boolean;
    /** Listing protection rules needs Maintainer: false answers those lists with 403. */
    canReadRules?: boolean;
  } = {},
): MemoryGitlab {
  const calls: MemoryGitlab['calls'] = [];
  const faults = new Map<string, { error: Error; nth: number; after: boolean }>();
  const authenticated = options.authenticated ?? true;
  const find = (ref: ProjectRef): { project: MemoryProject; movedFrom?: string } => {
    const project =
      typeof ref === 'number'
        ? projects.find((p) => p.id === ref)
        : projects.find((p) => p.path.toLowerCase() === ref.toLowerCase());
    if (project && (authenticated || project.visibility === 'public')) return { project };
    const moved =
      typeof ref === 'string'
        ? projects.find((p) => p.formerPaths?.some((f) => f.toLowerCase() === ref.toLowerCase()))
        : undefined;
    if (moved && (authenticated || moved.visibility === 'public'))
      return { project: moved, movedFrom: ref as string };
    throw new MemoryGitlabError(404, '404 Project Not Found');
  };
  const view = (p: MemoryProject, movedFrom?: string): GitlabProject => ({
    id: p.id,
    pathWithNamespace: p.path,
    namespace: { id: p.namespaceId, fullPath: p.path.split('/').slice(0, -1).join('/'), kind: 'group' },
    defaultBranch: p.defaultBranch,
    visibility: p.visibility ?? 'private',
    archived: p.archived ?? false,
    webUrl: `${options.baseUrl ?? 'https://gitlab.com'}/${p.path}`,
    subClaimComponents: p.subClaimComponents,
    movedFrom,
  });
  const requireToken = () => {
    if (!authenticated) throw new MemoryGitlabError(401, '401 Unauthorized');
  };
  const protect = (list: 'protectedBranches' | 'protectedTags') => (ref: ProjectRef, name: string) => {
    requireToken();
    const { project } = find(ref);
    project[list] ??= [];
    if (project[list].includes(name))
      throw new MemoryGitlabError(409, `Protected ref '${name}' already exists`);
    project[list].push(name);
    return { name } satisfies ProtectedRef;
  };
  const unsupported = (method: string) => () => {
    throw new Error(`memory GitLab: ${method} is not modelled here (use test/helpers/fake-gitlab.ts)`);
  };

  const impl = {
    baseUrl: options.baseUrl ?? 'https://gitlab.com',
    authenticated,
    getVersion: async () => ({ version: '17.11.0' }),
    getCurrentUser: async () => {
      requireToken();
      return { id: 1, username: 'tester' };
    },
    getProject: async (ref: ProjectRef) => {
      const { project, movedFrom } = find(ref);
      return view(project, movedFrom);
    },
    setSubClaimComponents: async (ref: ProjectRef, components: string[]) => {
      requireToken();
      const { project } = find(ref);
      project.subClaimComponents = components;
      return view(project);
    },
    getGroup: unsupported('getGroup'),
    listGroupProjects: unsupported('listGroupProjects'),
    listDescendantGroups: unsupported('listDescendantGroups'),
    getBranch: async (ref: ProjectRef, name: string) => {
      const { project } = find(ref);
      const branches = project.branches ?? (project.defaultBranch ? [project.defaultBranch] : []);
      if (!branches.includes(name) && project.files?.[name] === undefined) return undefined;
      const rules = project.protectedBranches ?? [];
      return {
        name,
        commitSha: '0'.repeat(40),
        protected: rules.some((rule) => ruleMatchesRef(rule, name)),
        default: name === project.defaultBranch,
      };
    },
    listProtectedBranches: async (ref: ProjectRef) => {
      const { project } = find(ref);
      if (options.canReadRules === false) throw new MemoryGitlabError(403, '403 Forbidden');
      return (project.protectedBranches ?? []).map((name) => ({ name }));
    },
    listProtectedTags: async (ref: ProjectRef) => {
      const { project } = find(ref);
      if (options.canReadRules === false) throw new MemoryGitlabError(403, '403 Forbidden');
      return (project.protectedTags ?? []).map((name) => ({ name }));
    },
    protectBranch: async (ref: ProjectRef, name: string) => protect('protectedBranches')(ref, name),
    protectTag: async (ref: ProjectRef, name: string) => protect('protectedTags')(ref, name),
    listProjectVariables: async (ref: ProjectRef) => find(ref).project.variables ?? [],
    createProjectVariable: unsupported('createProjectVariable'),
    updateProjectVariable: unsupported('updateProjectVariable'),
    deleteProjectVariable: unsupported('deleteProjectVariable'),
    listGroupVariables: unsupported('listGroupVariables'),
    deleteGroupVariable: unsupported('deleteGroupVariable'),
    getFile: async (ref: ProjectRef, filePath: string, branch: string) => {
      const text = find(ref).project.files?.[branch]?.[filePath];
      return text === undefined
        ? undefined
        : {
            filePath,
            ref: branch,
            content: Buffer.from(text, 'utf8'),
            blobId: 'blob',
            lastCommitId: `c-${branch}`,
          };
    },
    createCommit: unsupported('createCommit'),
    listOpenMergeRequests: async (
      ref: ProjectRef,
      f: { sourceBranch: string; targetBranch?: string | undefined },
    ) =>
      (find(ref).project.mergeRequests ?? []).filter(
        (m) =>
          m.state === 'opened' &&
          m.sourceBranch === f.sourceBranch &&
          (f.targetBranch === undefined || m.targetBranch === f.targetBranch),
      ),
    createMergeRequest: unsupported('createMergeRequest'),
    updateMergeRequest: unsupported('updateMergeRequest'),
  } satisfies GitlabPort;

  const counts = new Map<string, number>();
  const port = Object.fromEntries(
    Object.entries(impl).map(([key, value]) => {
      if (typeof value !== 'function') return [key, value];
      const fn = value as (...args: unknown[]) => Promise<unknown>;
      return [
        key,
        async (...args: unknown[]) => {
          calls.push({ method: key, args });
          const n = (counts.get(key) ?? 0) + 1;
          counts.set(key, n);
          const fault = faults.get(key);
          if (fault && fault.nth === n && !fault.after) throw fault.error;
          const result = await fn(...args);
          if (fault && fault.nth === n && fault.after) throw fault.error;
          return result;
        },
      ];
    }),
  ) as unknown as GitlabPort;

  return {
    port,
    projects,
    calls,
    mutatingCalls: () => calls.filter((c) => MUTATING.has(c.method)).map((c) => c.method),
    failOn: (method, error, o = {}) => {
      faults.set(method, { error, nth: (counts.get(method) ?? 0) + (o.nth ?? 1), after: Boolean(o.after) });
    },
  };
}
