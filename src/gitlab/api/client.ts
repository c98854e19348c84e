/**
 * The GitlabPort over GitLab's REST API v4: one method per endpoint, each naming the role and scope it
 * needs (for the 401/403 hint). Transport, retries, redirects and pagination are in `transport.ts`;
 * JSON mapping in `mappers.ts`. Built only by `factory.ts`.
 *
 * Idempotent on purpose, for a re-run after a failure part-way: protecting an already protected ref
 * returns it (GitLab's 409); a retried create of a variable or merge request that GitLab answers
 * "already exists" returns the existing one; deleting what is gone counts as done. A commit is never
 * retried on 5xx (a repeat could commit twice).
 */
import type * as z from 'zod';
import {
  branchSchema,
  commitBody,
  commitSchema,
  fileSchema,
  groupSchema,
  mergeRequestSchema,
  projectSchema,
  protectedRefSchema,
  userSchema,
  variableBody,
  variableSchema,
  versionSchema,
} from './mappers.js';
import type { CiVariableInput, GitlabClientOptions, GitlabPort, MergeRequest, ProjectRef } from './ports.js';
import { type CallSpec, GitlabTransport } from './transport.js';

const READ = 'the read_api scope (and access to the project)';
const MAINTAINER = 'the Maintainer role on the project and the api scope';
const DEVELOPER = 'at least the Developer role on the project and the api scope';
const GROUP_OWNER = 'the Owner role on the group and the api scope';

/** `group/sub/app` → `group%2Fsub%2Fapp`; a numeric ID stays as it is. */
export function encodeRef(ref: ProjectRef): string {
  return typeof ref === 'number' ? String(ref) : encodeURIComponent(ref.trim().replace(/^\/+|\/+$/g, ''));
}

export interface GitlabClient extends GitlabPort {
  /** Closes pooled connections (tests; a CLI run just exits). */
  close(): Promise<void>;
}

export function createGitlabClient(options: GitlabClientOptions): GitlabClient {
  const t = new GitlabTransport(options);

  async function one<S extends z.ZodType>(spec: CallSpec, schema: S, what: string): Promise<z.output<S>> {
    const res = await t.call(spec);
    return t.parse(spec, schema, t.parseJson(spec, res), what);
  }

  async function list<S extends z.ZodType>(spec: CallSpec, schema: S, what: string): Promise<z.output<S>[]> {
    const items = await t.listPages({ ...spec, method: 'GET' });
    return items.map((item) => t.parse(spec, schema, item, what));
  }

  /** GET that answers undefined on 404. */
  async function maybe<S extends z.ZodType>(
    spec: CallSpec,
    schema: S,
    what: string,
  ): Promise<z.output<S> | undefined> {
    const res = await t.call(spec, [404]);
    if (res.status === 404) return undefined;
    return t.parse(spec, schema, t.parseJson(spec, res), what);
  }

  const projectPath = (p: ProjectRef) => `/projects/${encodeRef(p)}`;
  const groupPath = (g: ProjectRef) => `/groups/${encodeRef(g)}`;
  const projectSubject = (p: ProjectRef) => `project ${p}`;
  const groupSubject = (g: ProjectRef) => `group ${g}`;

  async function protect(
    project: ProjectRef,
    kind: 'protected_branches' | 'protected_tags',
    body: Record<string, unknown>,
  ) {
    const spec: CallSpec = {
      method: 'POST',
      path: `${projectPath(project)}/${kind}`,
      body,
      needs: MAINTAINER,
      subject: projectSubject(project),
      retrySafe: true,
    };
    const res = await t.call(spec, [409, 422]);
    // The rule is there, which is what was asked: 409 "Protected branch 'x' already exists" (branches),
    // 422 "Name has already been taken" (tags).
    if (res.status === 409 || (res.status === 422 && /already been taken/i.test(res.text))) {
      return { name: String(body.name) };
    }
    if (res.status === 422) throw t.errorFor(spec, res);
    return t.parse(spec, protectedRefSchema, t.parseJson(spec, res), 'a protected ref');
  }

  async function findVariable(project: ProjectRef, key: string, scope: string) {
    return maybe(
      {
        method: 'GET',
        path: `${projectPath(project)}/variables/${encodeURIComponent(key)}`,
        query: { 'filter[environment_scope]': scope },
        needs: MAINTAINER,
        subject: projectSubject(project),
      },
      variableSchema,
      'a CI/CD variable',
    );
  }

  async function deleteVariable(spec: CallSpec, scope: string | undefined): Promise<void> {
    await t.call(
      { ...spec, method: 'DELETE', query: scope === undefined ? {} : { 'filter[environment_scope]': scope } },
      [404],
    );
  }

  const port: GitlabClient = {
    baseUrl: t.baseUrl,
    authenticated: t.authenticated,
    close: () => t.close(),

    getVersion: () =>
      one({ method: 'GET', path: '/version', needs: 'a token (read_api scope)' }, versionSchema, 'a version'),
    getCurrentUser: () =>
      one({ method: 'GET', path: '/user', needs: 'a token (read_api scope)' }, userSchema, 'a user'),

    async getProject(project) {
      const spec: CallSpec = {
        method: 'GET',
        path: projectPath(project),
        needs: READ,
        subject: projectSubject(project),
      };
      const res = await t.call(spec);
      const found = t.parse(spec, projectSchema, t.parseJson(spec, res), 'a project');
      return res.redirectedTo && typeof project === 'string' ? { ...found, movedFrom: project } : found;
    },
    setSubClaimComponents: (project, components) =>
      one(
        {
          method: 'PUT',
          path: projectPath(project),
          body: { ci_id_token_sub_claim_components: components },
          needs: MAINTAINER,
          subject: projectSubject(project),
        },
        projectSchema,
        'a project',
      ),

    getGroup: (group) =>
      one(
        { method: 'GET', path: groupPath(group), needs: READ, subject: groupSubject(group) },
        groupSchema,
        'a group',
      ),
    listGroupProjects: (group, opts = {}) =>
      list(
        {
          method: 'GET',
          path: `${groupPath(group)}/projects`,
          query: {
            include_subgroups: opts.includeSubgroups ?? true,
            with_shared: false,
            ...(opts.archived === undefined ? {} : { archived: opts.archived }),
          },
          needs: READ,
          subject: groupSubject(group),
        },
        projectSchema,
        'a project',
      ),
    listDescendantGroups: (group) =>
      list(
        {
          method: 'GET',
          path: `${groupPath(group)}/descendant_groups`,
          needs: READ,
          subject: groupSubject(group),
        },
        groupSchema,
        'a group',
      ),

    getBranch: (project, branch) =>
      maybe(
        {
          method: 'GET',
          path: `${projectPath(project)}/repository/branches/${encodeURIComponent(branch)}`,
          needs: READ,
          subject: projectSubject(project),
        },
        branchSchema,
        'a branch',
      ),
    listProtectedBranches: (project) =>
      list(
        {
          method: 'GET',
          path: `${projectPath(project)}/protected_branches`,
          needs: READ,
          subject: projectSubject(project),
        },
        protectedRefSchema,
        'a protected branch',
      ),
    listProtectedTags: (project) =>
      list(
        {
          method: 'GET',
          path: `${projectPath(project)}/protected_tags`,
          needs: READ,
          subject: projectSubject(project),
        },
        protectedRefSchema,
        'a protected tag',
      ),
    protectBranch: (project, name) =>
      protect(project, 'protected_branches', { name, push_access_level: 40, merge_access_level: 40 }),
    protectTag: (project, name) => protect(project, 'protected_tags', { name, create_access_level: 40 }),

    listProjectVariables: (project) =>
      list(
        {
          method: 'GET',
          path: `${projectPath(project)}/variables`,
          needs: MAINTAINER,
          subject: projectSubject(project),
        },
        variableSchema,
        'a CI/CD variable',
      ),
    async createProjectVariable(project, input: CiVariableInput) {
      const spec: CallSpec = {
        method: 'POST',
        path: `${projectPath(project)}/variables`,
        body: variableBody(input),
        needs: MAINTAINER,
        subject: projectSubject(project),
        retrySafe: true,
      };
      const res = await t.call(spec, [400]);
      if (res.status === 400) {
        // After a retried 5xx, "has already been taken" means the first attempt created it.
        const existing =
          res.attempts > 1 && /already been taken/i.test(res.text)
            ? await findVariable(project, input.key, input.environmentScope ?? '*')
            : undefined;
        if (existing) return existing;
        throw t.errorFor(spec, res);
      }
      return t.parse(spec, variableSchema, t.parseJson(spec, res), 'a CI/CD variable');
    },
    updateProjectVariable: (project, input) =>
      one(
        {
          method: 'PUT',
          path: `${projectPath(project)}/variables/${encodeURIComponent(input.key)}`,
          query: { 'filter[environment_scope]': input.environmentScope ?? '*' },
          body: variableBody(input),
          needs: MAINTAINER,
          subject: projectSubject(project),
        },
        variableSchema,
        'a CI/CD variable',
      ),
    deleteProjectVariable: (project, key, scope) =>
      deleteVariable(
        {
          method: 'DELETE',
          path: `${projectPath(project)}/variables/${encodeURIComponent(key)}`,
          needs: MAINTAINER,
          subject: projectSubject(project),
        },
        scope,
      ),
    listGroupVariables: (group) =>
      list(
        {
          method: 'GET',
          path: `${groupPath(group)}/variables`,
          needs: GROUP_OWNER,
          subject: groupSubject(group),
        },
        variableSchema,
        'a CI/CD variable',
      ),
    deleteGroupVariable: (group, key, scope) =>
      deleteVariable(
        {
          method: 'DELETE',
          path: `${groupPath(group)}/variables/${encodeURIComponent(key)}`,
          needs: GROUP_OWNER,
          subject: groupSubject(group),
        },
        scope,
      ),

    getFile: (project, filePath, ref) =>
      maybe(
        {
          method: 'GET',
          path: `${projectPath(project)}/repository/files/${encodeURIComponent(filePath)}`,
          query: { ref },
          needs: READ,
          subject: projectSubject(project),
        },
        fileSchema,
        'a repository file',
      ),
    createCommit: (project, input) =>
      one(
        {
          method: 'POST',
          path: `${projectPath(project)}/repository/commits`,
          body: commitBody(input),
          needs: DEVELOPER,
          subject: projectSubject(project),
        },
        commitSchema,
        'a commit',
      ),
    listOpenMergeRequests: (project, filter) =>
      list(
        {
          method: 'GET',
          path: `${projectPath(project)}/merge_requests`,
          query: {
            state: 'opened',
            source_branch: filter.sourceBranch,
            ...(filter.targetBranch === undefined ? {} : { target_branch: filter.targetBranch }),
          },
          needs: READ,
          subject: projectSubject(project),
        },
        mergeRequestSchema,
        'a merge request',
      ),
    async createMergeRequest(project, input) {
      const spec: CallSpec = {
        method: 'POST',
        path: `${projectPath(project)}/merge_requests`,
        body: {
          source_branch: input.sourceBranch,
          target_branch: input.targetBranch,
          title: input.title,
          description: input.description,
          ...(input.removeSourceBranch === undefined
            ? {}
            : { remove_source_branch: input.removeSourceBranch }),
        },
        needs: DEVELOPER,
        subject: projectSubject(project),
        retrySafe: true,
      };
      const res = await t.call(spec, [409]);
      if (res.status === 409) {
        // After a retried 5xx, GitLab's "Another open merge request already exists" is the first attempt's.
        const open: MergeRequest[] =
          res.attempts > 1
            ? await port.listOpenMergeRequests(project, {
                sourceBranch: input.sourceBranch,
                targetBranch: input.targetBranch,
              })
            : [];
        if (open[0]) return open[0];
        throw t.errorFor(spec, res);
      }
      return t.parse(spec, mergeRequestSchema, t.parseJson(spec, res), 'a merge request');
    },
    updateMergeRequest: (project, iid, input) =>
      one(
        {
          method: 'PUT',
          path: `${projectPath(project)}/merge_requests/${iid}`,
          body: {
            ...(input.title === undefined ? {} : { title: input.title }),
            ...(input.description === undefined ? {} : { description: input.description }),
          },
          needs: DEVELOPER,
          subject: projectSubject(project),
        },
        mergeRequestSchema,
        'a merge request',
      ),
  };
  return port;
}
