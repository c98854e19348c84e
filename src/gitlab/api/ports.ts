/**
 * The narrow GitLab REST port. Only types here: no fetch, no client, so core, plans and commands can
 * depend on it without loading the client. The implementation (plain fetch over undici, typed errors,
 * pagination, redirects, Retry-After) lives in `gitlab/api/client.ts`, built once per run by
 * `gitlab/api/factory.ts` (lazy: `--help` and `--offline` runs never load it).
 *
 * Every method is one GitLab REST endpoint (a list method follows every page). IDs are GitLab's
 * numeric IDs; a `project` argument may also be a `group/sub/project` path (the client URL-encodes it).
 * Errors are the typed GitlabApiError of `gitlab/api/errors.ts` (status, GitLab's own message, the
 * role or scope needed); the token never appears in one.
 */

export type ProjectRef = number | string;

/** GET /projects/:id (fields this tool reads; snake_case mapped to camelCase). */
export interface GitlabProject {
  id: number;
  /** `group/sub/project` as GitLab spells it now (after a move, the new path). */
  pathWithNamespace: string;
  namespace: { id: number; fullPath: string; kind: 'group' | 'user' };
  /** Undefined for an empty repository. */
  defaultBranch?: string | undefined;
  visibility: 'private' | 'internal' | 'public';
  archived: boolean;
  webUrl: string;
  /**
   * `ci_id_token_sub_claim_components` (17.10+); undefined when the instance does not return it
   * (older GitLab, or not visible to this token).
   */
  subClaimComponents?: string[] | undefined;
  /** True when the lookup by path was answered with a redirect (the project moved). */
  movedFrom?: string | undefined;
}

/** GET /groups/:id */
export interface GitlabGroup {
  id: number;
  fullPath: string;
  parentId?: number | undefined;
  webUrl: string;
}

/** A protected branch or tag rule; `name` may be a wildcard (`release/*`), as GitLab returns it. */
export interface ProtectedRef {
  name: string;
}

export interface GitlabBranch {
  name: string;
  commitSha: string;
  protected: boolean;
  default: boolean;
}

/** A CI/CD variable (project or group). */
export interface CiVariable {
  key: string;
  /** Undefined when the variable is hidden (`masked_and_hidden`): GitLab never returns its value. */
  value?: string | undefined;
  variableType: 'env_var' | 'file';
  protected: boolean;
  masked: boolean;
  hidden: boolean;
  raw: boolean;
  environmentScope: string;
  description?: string | null | undefined;
}

/** What POST/PUT variables take (value always given on write). */
export interface CiVariableInput {
  key: string;
  value: string;
  variableType?: 'env_var' | 'file' | undefined;
  protected: boolean;
  masked: boolean;
  raw?: boolean | undefined;
  environmentScope?: string | undefined;
  description?: string | undefined;
}

/** GET /projects/:id/repository/files/:path?ref= (content base64-decoded to bytes). */
export interface RepositoryFile {
  filePath: string;
  ref: string;
  content: Uint8Array;
  blobId: string;
  lastCommitId: string;
}

export interface CommitAction {
  action: 'create' | 'update' | 'delete';
  filePath: string;
  /** Text content (sent as-is, or base64 when `encoding` is base64). */
  content?: string | undefined;
  encoding?: 'text' | 'base64' | undefined;
  /** Optimistic lock: GitLab refuses the commit when the file changed since this commit. */
  lastCommitId?: string | undefined;
}

export interface CommitInput {
  branch: string;
  /** Create `branch` from this one when it does not exist. */
  startBranch?: string | undefined;
  commitMessage: string;
  actions: CommitAction[];
  force?: boolean | undefined;
}

export interface MergeRequest {
  iid: number;
  webUrl: string;
  title: string;
  description: string;
  sourceBranch: string;
  targetBranch: string;
  state: 'opened' | 'closed' | 'locked' | 'merged';
}

export interface MergeRequestInput {
  sourceBranch: string;
  targetBranch: string;
  title: string;
  description: string;
  removeSourceBranch?: boolean | undefined;
}

export interface GitlabVersion {
  version: string;
  revision?: string | undefined;
}

/** The authenticated user (GET /user); undefined without a token. */
export interface GitlabUser {
  id: number;
  username: string;
}

export interface GitlabPort {
  /** The instance base URL (`https://gitlab.example.com`, maybe with a path), no trailing slash. */
  readonly baseUrl: string;
  /** True when a token is configured (anonymous otherwise: public projects only). */
  readonly authenticated: boolean;

  /** GET /version (needs a token). */
  getVersion(): Promise<GitlabVersion>;
  /** GET /user. */
  getCurrentUser(): Promise<GitlabUser>;

  // Projects
  /** GET /projects/:id — follows the 16.7+ redirect of a moved project (sets `movedFrom`). */
  getProject(project: ProjectRef): Promise<GitlabProject>;
  /** PUT /projects/:id with `ci_id_token_sub_claim_components`. */
  setSubClaimComponents(project: ProjectRef, components: string[]): Promise<GitlabProject>;

  // Groups (fleet, migrate)
  /** GET /groups/:id */
  getGroup(group: ProjectRef): Promise<GitlabGroup>;
  /** GET /groups/:id/projects?include_subgroups=true (every page; archived included unless `archived: false`). */
  listGroupProjects(
    group: ProjectRef,
    options?: { includeSubgroups?: boolean; archived?: boolean },
  ): Promise<GitlabProject[]>;
  /** GET /groups/:id/descendant_groups (every page). */
  listDescendantGroups(group: ProjectRef): Promise<GitlabGroup[]>;

  // Refs
  /** GET /projects/:id/repository/branches/:branch; undefined on 404. */
  getBranch(project: ProjectRef, branch: string): Promise<GitlabBranch | undefined>;
  /** GET /projects/:id/protected_branches (every page; wildcard rules as patterns). */
  listProtectedBranches(project: ProjectRef): Promise<ProtectedRef[]>;
  /** GET /projects/:id/protected_tags (every page). */
  listProtectedTags(project: ProjectRef): Promise<ProtectedRef[]>;
  /** POST /projects/:id/protected_branches (push and merge: Maintainer by default). */
  protectBranch(project: ProjectRef, name: string): Promise<ProtectedRef>;
  /** POST /projects/:id/protected_tags (create: Maintainer by default). */
  protectTag(project: ProjectRef, name: string): Promise<ProtectedRef>;

  // CI/CD variables
  /** GET /projects/:id/variables (every page). */
  listProjectVariables(project: ProjectRef): Promise<CiVariable[]>;
  /** POST /projects/:id/variables */
  createProjectVariable(project: ProjectRef, input: CiVariableInput): Promise<CiVariable>;
  /** PUT /projects/:id/variables/:key?filter[environment_scope]= */
  updateProjectVariable(project: ProjectRef, input: CiVariableInput): Promise<CiVariable>;
  /** DELETE /projects/:id/variables/:key?filter[environment_scope]=; 404 counts as done. */
  deleteProjectVariable(project: ProjectRef, key: string, environmentScope?: string): Promise<void>;
  /** GET /groups/:id/variables (every page; needs Owner). */
  listGroupVariables(group: ProjectRef): Promise<CiVariable[]>;
  /** DELETE /groups/:id/variables/:key; 404 counts as done. */
  deleteGroupVariable(group: ProjectRef, key: string, environmentScope?: string): Promise<void>;

  // Repository and merge requests
  /** GET /projects/:id/repository/files/:path?ref=; undefined on 404. */
  getFile(project: ProjectRef, filePath: string, ref: string): Promise<RepositoryFile | undefined>;
  /** POST /projects/:id/repository/commits → the new commit's SHA. */
  createCommit(project: ProjectRef, input: CommitInput): Promise<{ id: string }>;
  /** GET /projects/:id/merge_requests?state=opened&source_branch=&target_branch= */
  listOpenMergeRequests(
    project: ProjectRef,
    filter: { sourceBranch: string; targetBranch?: string | undefined },
  ): Promise<MergeRequest[]>;
  /** POST /projects/:id/merge_requests */
  createMergeRequest(project: ProjectRef, input: MergeRequestInput): Promise<MergeRequest>;
  /** PUT /projects/:id/merge_requests/:iid (title, description). */
  updateMergeRequest(
    project: ProjectRef,
    iid: number,
    input: { title?: string | undefined; description?: string | undefined },
  ): Promise<MergeRequest>;
}

/** How the port is built: one per run, by `gitlab/api/factory.ts`. */
export interface GitlabClientOptions {
  /** Instance URL (`https://gitlab.com`, or self-managed with an optional path). */
  baseUrl: string;
  /** Never logged, never in an error or in --json. */
  token?: string | undefined;
  /** Where the token came from (`GITLAB_TOKEN`, `--gitlab-token-env CI_API_TOKEN`, `glab config (…)`), for messages. */
  tokenSource?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Per-request timeout; default from GITLAB_AWS_OIDC_TIMEOUT_MS (io/timeouts.ts). */
  timeoutMs?: number | undefined;
  /** Tests: a fetch double (default: global fetch with the run's proxy dispatcher). */
  fetchImpl?: typeof fetch | undefined;
  /** Bounded retries for 429 and 5xx (default 4); Retry-After honoured up to `maxRetryAfterMs`. */
  maxRetries?: number | undefined;
  maxRetryAfterMs?: number | undefined;
  /** Called before each retry wait (progress on stderr). */
  onRetry?: ((info: { status: number; delayMs: number; attempt: number; path: string }) => void) | undefined;
  /**
   * How the token is sent: `private-token` (`PRIVATE-TOKEN:` header; personal, project and group access
   * tokens) or `oauth` (`Authorization: Bearer`; OAUTH_TOKEN, glab's OAuth login). Default private-token.
   */
  tokenKind?: 'private-token' | 'oauth' | undefined;
  /**
   * PEM CA certificate(s) to trust instead of Node's roots (a private CA, tests). Without it the
   * default roots plus NODE_EXTRA_CA_CERTS apply.
   */
  ca?: string | string[] | undefined;
  /** Where HTTPS_PROXY/HTTP_PROXY/NO_PROXY (either case) are read; default process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  /** A list method stops with an error after this many pages (default 500, 50 000 items). */
  maxPages?: number | undefined;
  /** Tests: the wait between retries (default: a timer that ends early on abort). */
  sleep?: ((ms: number, signal: AbortSignal | undefined) => Promise<void>) | undefined;
  /** Tests: 0..1 for the retry jitter (default Math.random). */
  random?: (() => number) | undefined;
}
