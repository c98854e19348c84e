/**
 * A small in-memory GitlabPort double for the delivery planners: one project's variables, files per
 * branch and merge requests. Only the reads the planners make (and the project's state set up by the
 * test); every other method throws, so a planner that calls one is caught. The end-to-end behaviour
 * (writes, faults, call counts) is tested against the loopback fake GitLab instead.
 */
import type { CiVariable, GitlabPort, MergeRequest, RepositoryFile } from '../../src/gitlab/api/ports.js';

export interface MemoryGitlab {
  port: GitlabPort;
  variables: CiVariable[];
  /** branch → path → text */
  files: Map<string, Map<string, string>>;
  mergeRequests: MergeRequest[];
  calls: string[];
}

export function createMemoryGitlab(): MemoryGitlab {
  const state: MemoryGitlab = {
    port: undefined as unknown as GitlabPort,
    variables: [],
    files: new Map(),
    mergeRequests: [],
    calls: [],
  };
  const unsupported = (name: string) => () => {
    throw new Error(`memory GitLab: ${name} is not expected here`);
  };
  const port = {
    baseUrl: 'https://gitlab.example.com',
    authenticated: true,
    async listProjectVariables() {
      state.calls.push('listProjectVariables');
      return state.variables.map((v) => ({ ...v }));
    },
    async getBranch(_p: unknown, name: string) {
      state.calls.push(`getBranch ${name}`);
      return state.files.has(name)
        ? { name, commitSha: `sha-${name}`, protected: false, default: name === 'main' }
        : undefined;
    },
    async getFile(_p: unknown, filePath: string, ref: string): Promise<RepositoryFile | undefined> {
      state.calls.push(`getFile ${filePath}@${ref}`);
      const text = state.files.get(ref)?.get(filePath);
      if (text === undefined) return undefined;
      return { filePath, ref, content: Buffer.from(text, 'utf8'), blobId: 'b', lastCommitId: `c-${ref}` };
    },
    async listOpenMergeRequests(_p: unknown, f: { sourceBranch: string; targetBranch?: string }) {
      state.calls.push('listOpenMergeRequests');
      return state.mergeRequests.filter(
        (m) =>
          m.state === 'opened' &&
          m.sourceBranch === f.sourceBranch &&
          (!f.targetBranch || m.targetBranch === f.targetBranch),
      );
    },
  } as Partial<GitlabPort>;
  for (const name of [
    'getVersion',
    'getCurrentUser',
    'getProject',
    'setSubClaimComponents',
    'getGroup',
    'listGroupProjects',
    'listDescendantGroups',
    'listProtectedBranches',
    'listProtectedTags',
    'protectBranch',
    'protectTag',
    'createProjectVariable',
    'updateProjectVariable',
    'deleteProjectVariable',
    'listGroupVariables',
    'deleteGroupVariable',
    'createCommit',
    'createMergeRequest',
    'updateMergeRequest',
  ] as const) {
    (port as Record<string, unknown>)[name] = unsupported(name);
  }
  state.port = port as GitlabPort;
  return state;
}
