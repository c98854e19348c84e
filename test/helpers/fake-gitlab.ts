/**
 * A loopback HTTPS fake GitLab that speaks GitLab's REST API v4 (not the GitlabPort): stateful, with
 * GitLab's documented response shapes, status codes and error bodies, so the real client
 * (src/gitlab/api/client.ts) and the built binary can be tested end to end without the internet.
 *
 *   const gitlab = await startFakeGitlab({ pathPrefix: '/gitlab', oidc: true });
 *   try {
 *     const project = gitlab.addProject('acme/platform/api', { files: { '.gitlab-ci.yml': 'stages: [test]\n' } });
 *     gitlab.addToken('glpat-maintainer', { access: { 'acme/platform/api': 'maintainer' } });
 *     gitlab.protectBranch(project, 'main');
 *     gitlab.fault({ method: 'POST', path: '/projects/:id/variables', status: 429, retryAfterSec: 1 });
 *     // … the client, or the binary: runCli([…], { env: { NODE_EXTRA_CA_CERTS: gitlab.writeCaFile(home) } })
 *     expect(gitlab.mutatingCalls()).toEqual([]);
 *   } finally {
 *     await gitlab.close();
 *   }
 *
 * Trust it with `caPem` (undici: `new Agent({ connect: { ca: gitlab.caPem } })`; a child process:
 * write it to a file for NODE_EXTRA_CA_CERTS). Binds 127.0.0.1 only, on an ephemeral port.
 *
 * What it models (GitLab REST docs, gitlabhq source; [approx] marks what is not checked against GitLab):
 * - Paths: `/api/v4/projects/:id` with a numeric ID or the URL-encoded path (an unencoded `/` makes a
 *   different route: 404 `{"error":"404 Not Found"}`). A moved project's old path answers GET with
 *   301 + Location (the same URL with the numeric ID, query kept; GitLab 16.7+) and any other method
 *   with 405 "Non GET methods are not allowed for moved projects".
 * - Auth: `PRIVATE-TOKEN` or `Authorization: Bearer`. Unknown token → 401 `{"message":"401 Unauthorized"}`;
 *   expired/revoked → 401 `{"error":"invalid_token",…}`; a scope too low (read_api on a write) → 403
 *   `{"error":"insufficient_scope",…}`; a role too low → 403 `{"message":"403 Forbidden"}`; a project or
 *   group the token cannot see → 404 `{"message":"404 Project Not Found"}` (anonymous: public only).
 *   Roles: Guest 10, Reporter 20, Developer 30, Maintainer 40, Owner 50; a group role applies to every
 *   project and subgroup below it. Project variables, PUT project, protected refs: Maintainer; group
 *   variables: Owner; commits, MRs: Developer; pushing to a protected branch: Maintainer. Archived
 *   projects refuse writes (403).
 * - Protected refs: `*` matches any run of characters, `/` included (Gitlab::RefMatcher: `*` → `.*`).
 *   Duplicate branch rule → 409 "Protected branch 'x' already exists"; duplicate tag rule → 422
 *   `{"message":["Name has already been taken"]}`.
 * - Variables: duplicate key+scope → 400 `{"message":{"key":["(KEY) has already been taken"]}}`;
 *   several matches without `filter[environment_scope]` → 409; `masked_and_hidden` → `hidden: true`,
 *   `value: null` in every response; missing → 404 "404 Variable Not Found".
 * - Commits: create on an existing file → 400 "A file with this name already exists"; update/delete of a
 *   missing file → 400 "A file with this name doesn't exist"; a stale `last_commit_id` → 400 "The file has
 *   changed since you started editing it: <path>"; `start_branch` with an existing, different branch
 *   (no `force`) → 400 "A branch called 'x' already exists. Switch to that branch in order to make changes".
 * - Merge requests: an open MR for the same source and target → 409
 *   `{"message":["Another open merge request already exists for this source branch: !<iid>"]}`.
 * - `ci_id_token_sub_claim_components` on GET/PUT /projects/:id (17.10+; first element project_path, or
 *   also project_id with `subClaimProjectId`); `subClaimSupported: false` is an older GitLab: the
 *   attribute is absent from responses and ignored on PUT (a PUT of it alone: 400 "… at least one
 *   parameter must be provided", as Grape's at_least_one_of answers).
 * - Offset pagination on every list: `page`, `per_page` (default 20, max 100), X-Page, X-Per-Page,
 *   X-Next-Page, X-Prev-Page, X-Total, X-Total-Pages and Link (prev/next/first/last); above 10,000
 *   records X-Total, X-Total-Pages and rel="last" are left out, as GitLab does.
 * - Faults: `fault({ method, path, nth, times, status | hang | drip | delayMs })`; a 429 carries
 *   Retry-After and GitLab's rack-attack body (`Retry later`, text/plain).
 * - With `oidc`, the same URL is also the OIDC issuer (discovery + JWKS, `mintToken`), as a
 *   self-managed GitLab is.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  createOidcIssuerCore,
  type MintOptions,
  normalizePathPrefix,
  type OidcIssuerCore,
  type OidcIssuerCoreOptions,
} from './oidc-issuer.js';
import { generateServerTls } from './test-pki.js';

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

export const ACCESS = {
  none: 0,
  guest: 10,
  reporter: 20,
  developer: 30,
  maintainer: 40,
  owner: 50,
} as const;
export type AccessName = keyof typeof ACCESS;
export type AccessLevel = (typeof ACCESS)[AccessName];
export type Visibility = 'private' | 'internal' | 'public';
export type TokenScope = 'api' | 'read_api' | 'read_user' | 'read_repository' | 'write_repository';

export interface FakeUser {
  id: number;
  username: string;
  name: string;
}

export interface FakeToken {
  user: FakeUser;
  scopes: TokenScope[];
  /** Role per project or group, keyed by numeric ID or full path. A group role covers everything below it. */
  access: Record<string, AccessLevel>;
  /** Instance administrator: every project and group, any role. */
  admin: boolean;
  state: 'active' | 'expired' | 'revoked';
}

export interface FakeVariable {
  key: string;
  /** Kept even when hidden (tests may read it); never returned for a hidden variable. */
  value: string;
  variableType: 'env_var' | 'file';
  protected: boolean;
  masked: boolean;
  hidden: boolean;
  raw: boolean;
  environmentScope: string;
  description: string | null;
}

export interface FakeNamespace {
  id: number;
  /** The last path segment. */
  path: string;
  name: string;
  kind: 'group' | 'user';
  parentId: number | undefined;
  visibility: Visibility;
  /** Group CI/CD variables (kind `group` only). */
  variables: FakeVariable[];
  createdAt: string;
}

export interface FakeFile {
  content: Buffer;
  blobId: string;
  lastCommitId: string;
}

export interface FakeBranch {
  name: string;
  /** Head commit SHA. */
  commit: string;
  files: Map<string, FakeFile>;
}

export interface FakeCommit {
  id: string;
  branch: string;
  message: string;
  parentIds: string[];
  actions: { action: string; filePath: string }[];
  authorName: string;
  createdAt: string;
}

export interface FakeProtectedRef {
  id: number;
  name: string;
  /** push (branches) or create (tags) access level. */
  accessLevel: AccessLevel | 0;
  mergeAccessLevel: AccessLevel | 0;
  allowForcePush: boolean;
}

export interface FakeMergeRequest {
  id: number;
  iid: number;
  title: string;
  description: string;
  sourceBranch: string;
  targetBranch: string;
  state: 'opened' | 'closed' | 'locked' | 'merged';
  removeSourceBranch: boolean;
  authorId: number;
  createdAt: string;
  updatedAt: string;
}

export interface FakeProject {
  id: number;
  path: string;
  name: string;
  namespaceId: number;
  visibility: Visibility;
  archived: boolean;
  /** Undefined: an empty repository. */
  defaultBranch: string | undefined;
  description: string | null;
  branches: Map<string, FakeBranch>;
  protectedBranches: FakeProtectedRef[];
  protectedTags: FakeProtectedRef[];
  variables: FakeVariable[];
  commits: FakeCommit[];
  mergeRequests: FakeMergeRequest[];
  /** `ci_id_token_sub_claim_components`. */
  subClaimComponents: string[];
  createdAt: string;
}

export interface FakeGitlabState {
  version: string;
  revision: string;
  /** Instance knows `ci_id_token_sub_claim_components` (17.10+). False: absent on GET, ignored on PUT. */
  subClaimSupported: boolean;
  /** The sub claim may start with `project_id` (newer GitLab); false: project_path only (17.10). */
  subClaimProjectId: boolean;
  /** Role needed to read protected branch/tag rules (GitLab: `authorize_admin_project`, Maintainer). */
  protectedRefsReadAccess: AccessLevel;
  users: Map<number, FakeUser>;
  tokens: Map<string, FakeToken>;
  namespaces: Map<number, FakeNamespace>;
  projects: Map<number, FakeProject>;
  /** Old full path (lower case) → project ID, for moved projects. */
  redirects: Map<string, number>;
  nextId: { namespace: number; project: number; user: number; rule: number; mr: number };
}

export interface FakeGitlabCall {
  method: string;
  /** As requested, after the path prefix, without the query: `/api/v4/projects/acme%2Fapi/variables`. */
  path: string;
  /** The matched route, method first: `POST /projects/:id/variables` (`-` when none matched). */
  route: string;
  query: Record<string, string>;
  /** 0 while unanswered (a hung request). */
  status: number;
}

export interface FaultSpec {
  /** Default: any method. */
  method?: string;
  /**
   * A route template (`/projects/:id/variables`), the same with its method (`POST /projects/:id/variables`,
   * as `calls[].route` spells it), an exact request path after `/api/v4` (`/projects/20/variables`), or a
   * RegExp tested against that request path.
   */
  path: string | RegExp;
  /** The first matching call (1-based, counted from when the fault was added) that fails. Default 1. */
  nth?: number;
  /** How many matching calls fail from `nth` on. Default 1; Infinity for all. */
  times?: number;
  /** Status to answer with (default 500; 429 adds Retry-After). */
  status?: number;
  /** Response body (object → JSON). Default: GitLab's body for the status. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Retry-After in seconds for a 429 (default 1). */
  retryAfterSec?: number;
  /** Never answer (the socket stays open until the client gives up or close()). */
  hang?: boolean;
  /** Send 200 headers, then one byte every `intervalMs`, never finishing (or after `totalMs`). */
  drip?: { intervalMs: number; totalMs?: number };
  /** Answer normally, after this delay. */
  delayMs?: number;
}

export interface FaultHandle {
  /** Matching calls seen so far. */
  readonly seen: number;
  /** Calls this fault answered. */
  readonly fired: number;
  remove(): void;
}

export interface FakeGitlabOptions {
  /** Serve under a path (relative URL install): `/gitlab` → `https://127.0.0.1:<port>/gitlab/api/v4`. */
  pathPrefix?: string;
  /** Also serve OIDC discovery + JWKS at the same URL (true, or the issuer options). */
  oidc?: boolean | OidcIssuerCoreOptions;
  version?: string;
  subClaimSupported?: boolean;
  subClaimProjectId?: boolean;
  protectedRefsReadAccess?: AccessName;
  /** Builds the initial state; run again by reset(). */
  seed?: (gitlab: FakeGitlab) => void;
}

export interface AddProjectOptions {
  id?: number;
  visibility?: Visibility;
  archived?: boolean;
  /** Default `main`; null makes an empty repository (no branches). */
  defaultBranch?: string | null;
  /** Files on the default branch (one initial commit). */
  files?: Record<string, string>;
  /** More branches, created from the default branch's head. */
  branches?: string[];
  description?: string;
}

export interface AddTokenOptions {
  username?: string;
  scopes?: TokenScope[];
  /** Role per project or group (numeric ID or full path). */
  access?: Record<string, AccessName | AccessLevel>;
  admin?: boolean;
  state?: FakeToken['state'];
}

export interface AddVariableOptions {
  value: string;
  variableType?: 'env_var' | 'file';
  protected?: boolean;
  masked?: boolean;
  hidden?: boolean;
  raw?: boolean;
  environmentScope?: string;
  description?: string | null;
}

export interface FakeGitlab {
  /** `https://127.0.0.1:<port>[/prefix]`, no trailing slash (the GitLab instance URL). */
  url: string;
  /** `${url}/api/v4`. */
  apiUrl: string;
  port: number;
  /** The root CA (PEM) that signs the server's certificate. */
  caPem: string;
  /** Writes `caPem` to `<dir>/fake-gitlab-ca.pem` and returns the path (for NODE_EXTRA_CA_CERTS). */
  writeCaFile(dir: string): string;
  state: FakeGitlabState;
  calls: FakeGitlabCall[];
  /** Calls other than GET/HEAD. */
  mutatingCalls(): FakeGitlabCall[];
  /** `route` → count, for "GitLab calls by endpoint". */
  callsByRoute(): Record<string, number>;
  clearCalls(): void;
  /** Fresh state (seed run again), no calls, no faults. */
  reset(): void;

  addGroup(fullPath: string, options?: { id?: number; visibility?: Visibility }): FakeNamespace;
  /** Creates missing parent groups (private) on the way; `user:alice/proj` puts it in a user namespace. */
  addProject(fullPath: string, options?: AddProjectOptions): FakeProject;
  addToken(token: string, options?: AddTokenOptions): FakeToken;
  /** Moves (or renames) a project; the old path then redirects. */
  moveProject(project: FakeProject | number | string, newFullPath: string): FakeProject;
  protectBranch(project: FakeProject | number | string, name: string, pushAccess?: AccessName | 'none'): void;
  protectTag(project: FakeProject | number | string, name: string, createAccess?: AccessName | 'none'): void;
  addProjectVariable(
    project: FakeProject | number | string,
    key: string,
    v: AddVariableOptions,
  ): FakeVariable;
  addGroupVariable(group: FakeNamespace | number | string, key: string, v: AddVariableOptions): FakeVariable;
  project(ref: number | string): FakeProject | undefined;
  group(ref: number | string): FakeNamespace | undefined;
  fullPath(ns: FakeNamespace | FakeProject): string;
  /** A file's text on a branch (undefined when absent). */
  fileText(project: FakeProject | number | string, filePath: string, branch?: string): string | undefined;
  /** GitLab's wildcard matching for protected refs. */
  refMatches(pattern: string, name: string): boolean;

  fault(spec: FaultSpec): FaultHandle;
  clearFaults(): void;

  /** With `oidc`: the issuer is `url`. */
  jwksUri: string | undefined;
  mintToken(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;

  /** Stops the server and ends hung requests (idempotent). */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const ACCESS_DESCRIPTION: Record<number, string> = {
  0: 'No one',
  30: 'Developers + Maintainers',
  40: 'Maintainers',
  60: 'Admins',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}
const message = (status: number, msg: unknown) => new HttpError(status, { message: msg });
const notFound = (what?: string) => message(404, what ? `404 ${what} Not Found` : '404 Not Found');
const forbidden = (reason?: string) => message(403, reason ? `403 Forbidden - ${reason}` : '403 Forbidden');
const badRequest = (msg: unknown) => message(400, msg);
const conflict = (msg: unknown) => message(409, msg);
const missingParams = (names: string[]) =>
  new HttpError(400, { error: names.map((n) => `${n} is missing`).join(', ') });

const DEFAULT_BODY: Record<number, unknown> = {
  400: { message: '400 Bad request' },
  401: { message: '401 Unauthorized' },
  403: { message: '403 Forbidden' },
  404: { message: '404 Not Found' },
  409: { message: '409 Conflict' },
  422: { message: '422 Unprocessable Entity' },
  500: { message: '500 Internal Server Error' },
  502: { message: '502 Bad Gateway' },
  503: { message: '503 Service Unavailable' },
};

function sha1(data: string | Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}
/** Git's blob ID of the content. */
function blobId(content: Buffer): string {
  return sha1(Buffer.concat([Buffer.from(`blob ${content.length}\0`), content]));
}
function newSha(): string {
  return sha1(randomBytes(20));
}
const nowIso = () => new Date().toISOString();

function globRegex(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Gitlab::RefMatcher: exact name, or (when it has a `*`) `*` → `.*` (slashes included). */
export function gitlabRefMatches(pattern: string, name: string): boolean {
  if (!pattern) return false;
  if (pattern === name) return true;
  return pattern.includes('*') && globRegex(pattern).test(name);
}

type Params = Record<string, unknown>;

function bool(v: unknown): boolean | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  return v === 'true' || v === '1' || v === 1;
}
function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return String(v);
}

function parseForm(text: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(text)) {
    if (k.endsWith('[]')) {
      const key = k.slice(0, -2);
      const list = (out[key] as unknown[] | undefined) ?? [];
      list.push(v);
      out[key] = list;
    } else out[k] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

interface Ctx {
  method: string;
  segments: string[];
  query: URLSearchParams;
  params: Params;
  token: FakeToken | undefined;
  /** The route's own path after the matched project/group segment, for redirects. */
  restPath: string;
  rawQuery: string;
  res: ServerResponse;
  headers: Record<string, string>;
}

type Handler = (ctx: Ctx, vars: Record<string, string>) => unknown;
interface Route {
  method: string;
  template: string;
  parts: string[];
  write: boolean;
  handler: Handler;
}

function newState(options: FakeGitlabOptions): FakeGitlabState {
  return {
    version: options.version ?? '18.6.1-ee',
    revision: 'a1b2c3d4e5f',
    subClaimSupported: options.subClaimSupported ?? true,
    subClaimProjectId: options.subClaimProjectId ?? true,
    protectedRefsReadAccess: ACCESS[options.protectedRefsReadAccess ?? 'maintainer'],
    users: new Map(),
    tokens: new Map(),
    namespaces: new Map(),
    projects: new Map(),
    redirects: new Map(),
    nextId: { namespace: 70, project: 20, user: 1, rule: 1, mr: 100 },
  };
}

export async function startFakeGitlab(options: FakeGitlabOptions = {}): Promise<FakeGitlab> {
  const tls = await generateServerTls();
  const oidc: OidcIssuerCore | undefined = options.oidc
    ? await createOidcIssuerCore(options.oidc === true ? {} : options.oidc)
    : undefined;
  const prefix = normalizePathPrefix(options.pathPrefix);
  let url = '';
  let state = newState(options);
  const calls: FakeGitlabCall[] = [];
  interface ActiveFault {
    spec: FaultSpec;
    seen: number;
    fired: number;
  }
  let faults: ActiveFault[] = [];
  const timers = new Set<NodeJS.Timeout>();

  // ---- lookups -------------------------------------------------------------------------------
  // Full paths are derived (a move renames every path below); memoised per request, since a test may
  // edit the state directly between requests. `forget()` drops the memo.
  let pathMemo = new Map<FakeNamespace, string>();
  const forget = () => {
    pathMemo = new Map();
  };
  const nsFullPath = (ns: FakeNamespace): string => {
    let full = pathMemo.get(ns);
    if (full === undefined) {
      const parent = ns.parentId ? state.namespaces.get(ns.parentId) : undefined;
      full = parent ? `${nsFullPath(parent)}/${ns.path}` : ns.path;
      pathMemo.set(ns, full);
    }
    return full;
  };
  const projectFullPath = (p: FakeProject) => `${nsFullPath(state.namespaces.get(p.namespaceId)!)}/${p.path}`;
  const fullPath = (x: FakeNamespace | FakeProject) =>
    'namespaceId' in x ? projectFullPath(x) : nsFullPath(x);
  // By path: compare the last segment first (cheap), the full path only for those.
  const findGroupByPath = (path: string) => {
    const lower = path.toLowerCase();
    const last = lower.slice(lower.lastIndexOf('/') + 1);
    for (const n of state.namespaces.values()) {
      if (n.path.toLowerCase() === last && nsFullPath(n).toLowerCase() === lower) return n;
    }
    return undefined;
  };
  const findProjectByPath = (path: string) => {
    const lower = path.toLowerCase();
    const last = lower.slice(lower.lastIndexOf('/') + 1);
    for (const p of state.projects.values()) {
      if (p.path.toLowerCase() === last && projectFullPath(p).toLowerCase() === lower) return p;
    }
    return undefined;
  };
  const project = (ref: number | string | FakeProject): FakeProject | undefined => {
    if (typeof ref === 'object') return ref;
    if (typeof ref === 'number' || /^\d+$/.test(ref)) return state.projects.get(Number(ref));
    return findProjectByPath(ref);
  };
  const group = (ref: number | string | FakeNamespace): FakeNamespace | undefined => {
    if (typeof ref === 'object') return ref;
    const ns =
      typeof ref === 'number' || /^\d+$/.test(ref) ? state.namespaces.get(Number(ref)) : findGroupByPath(ref);
    return ns?.kind === 'group' ? ns : undefined;
  };
  const mustProject = (ref: number | string | FakeProject) => {
    const p = project(ref);
    if (!p) throw new Error(`fake-gitlab: no project ${String(ref)}`);
    return p;
  };
  const ancestors = (ns: FakeNamespace | undefined): FakeNamespace[] => {
    const out: FakeNamespace[] = [];
    for (let n = ns; n; n = n.parentId ? state.namespaces.get(n.parentId) : undefined) out.push(n);
    return out;
  };

  // ---- access --------------------------------------------------------------------------------
  const directLevel = (token: FakeToken, id: number, path: string): number => {
    const a = token.access;
    return Math.max(a[String(id)] ?? 0, a[path] ?? 0, a[path.toLowerCase()] ?? 0);
  };
  const groupLevel = (token: FakeToken | undefined, ns: FakeNamespace): number => {
    if (!token) return 0;
    if (token.admin) return ACCESS.owner;
    return Math.max(0, ...ancestors(ns).map((n) => directLevel(token, n.id, nsFullPath(n))));
  };
  const projectLevel = (token: FakeToken | undefined, p: FakeProject): number => {
    if (!token) return 0;
    if (token.admin) return ACCESS.owner;
    const ns = state.namespaces.get(p.namespaceId)!;
    if (ns.kind === 'user' && ns.path === token.user.username) return ACCESS.owner;
    return Math.max(directLevel(token, p.id, projectFullPath(p)), groupLevel(token, ns));
  };
  const canSeeProject = (token: FakeToken | undefined, p: FakeProject) =>
    p.visibility === 'public' ||
    (p.visibility === 'internal' && token !== undefined) ||
    projectLevel(token, p) >= ACCESS.guest;
  const canSeeGroup = (token: FakeToken | undefined, ns: FakeNamespace): boolean =>
    ns.visibility === 'public' ||
    (ns.visibility === 'internal' && token !== undefined) ||
    groupLevel(token, ns) >= ACCESS.guest ||
    // Members of a project or subgroup below can see the group.
    [...state.projects.values()].some(
      (p) =>
        ancestors(state.namespaces.get(p.namespaceId)).includes(ns) && projectLevel(token, p) >= ACCESS.guest,
    );
  const needProject = (ctx: Ctx, p: FakeProject, level: number) => {
    if (projectLevel(ctx.token, p) < level) throw forbidden();
  };
  /** Reading code, branches and MRs: visibility is enough on public/internal projects, Reporter on private ones. */
  const needCodeRead = (ctx: Ctx, p: FakeProject) => {
    if (p.visibility === 'private' && projectLevel(ctx.token, p) < ACCESS.reporter) throw forbidden();
  };

  // ---- request-scoped resolution -----------------------------------------------------------
  const resolveProject = (ctx: Ctx, id: string): FakeProject => {
    let p = /^\d+$/.test(id) ? state.projects.get(Number(id)) : findProjectByPath(id);
    if (!p && !/^\d+$/.test(id)) {
      const movedTo = state.redirects.get(id.toLowerCase());
      const moved = movedTo === undefined ? undefined : state.projects.get(movedTo);
      if (moved && canSeeProject(ctx.token, moved)) {
        if (ctx.method !== 'GET') throw message(405, 'Non GET methods are not allowed for moved projects');
        const location = `${url}/api/v4/projects/${moved.id}${ctx.restPath}${ctx.rawQuery}`;
        throw new HttpError(301, '', { location });
      }
      p = undefined;
    }
    if (!p || !canSeeProject(ctx.token, p)) throw notFound('Project');
    return p;
  };
  const resolveGroup = (ctx: Ctx, id: string): FakeNamespace => {
    const ns = /^\d+$/.test(id) ? state.namespaces.get(Number(id)) : findGroupByPath(id);
    if (ns?.kind !== 'group' || !canSeeGroup(ctx.token, ns)) throw notFound('Group');
    return ns;
  };
  const writable = (p: FakeProject) => {
    if (p.archived) throw forbidden();
  };

  // ---- renderers -----------------------------------------------------------------------------
  const renderNamespace = (ns: FakeNamespace) => ({
    id: ns.id,
    name: ns.name,
    path: ns.path,
    kind: ns.kind,
    full_path: nsFullPath(ns),
    parent_id: ns.parentId ?? null,
    avatar_url: null,
    web_url: `${url}/${ns.kind === 'group' ? 'groups/' : ''}${nsFullPath(ns)}`,
  });
  const renderGroup = (ns: FakeNamespace) => ({
    id: ns.id,
    web_url: `${url}/groups/${nsFullPath(ns)}`,
    name: ns.name,
    path: ns.path,
    description: '',
    visibility: ns.visibility,
    full_name: ancestors(ns)
      .reverse()
      .map((n) => n.name)
      .join(' / '),
    full_path: nsFullPath(ns),
    created_at: ns.createdAt,
    parent_id: ns.parentId ?? null,
    avatar_url: null,
  });
  const renderProject = (p: FakeProject, token: FakeToken | undefined) => {
    const ns = state.namespaces.get(p.namespaceId)!;
    const full = projectFullPath(p);
    const out: Record<string, unknown> = {
      id: p.id,
      description: p.description,
      name: p.name,
      name_with_namespace: `${ancestors(ns)
        .reverse()
        .map((n) => n.name)
        .join(' / ')} / ${p.name}`,
      path: p.path,
      path_with_namespace: full,
      created_at: p.createdAt,
      default_branch: p.defaultBranch ?? null,
      ssh_url_to_repo: `git@${new URL(url).host}:${full}.git`,
      http_url_to_repo: `${url}/${full}.git`,
      web_url: `${url}/${full}`,
      visibility: p.visibility,
      archived: p.archived,
      empty_repo: p.branches.size === 0,
      namespace: renderNamespace(ns),
    };
    if (state.subClaimSupported && (token || p.visibility === 'public')) {
      out.ci_id_token_sub_claim_components = [...p.subClaimComponents];
    }
    return out;
  };
  const renderCommit = (
    c: FakeCommit | { id: string; message: string; createdAt: string; parentIds: string[] },
  ) => ({
    id: c.id,
    short_id: c.id.slice(0, 8),
    title: c.message.split('\n')[0],
    message: c.message,
    parent_ids: c.parentIds,
    author_name: 'authorName' in c ? c.authorName : 'Administrator',
    created_at: c.createdAt,
    authored_date: c.createdAt,
    committed_date: c.createdAt,
  });
  const commitById = (p: FakeProject, id: string) =>
    p.commits.find((c) => c.id === id) ?? {
      id,
      message: 'Initial commit',
      createdAt: p.createdAt,
      parentIds: [],
    };
  const branchProtected = (p: FakeProject, name: string) =>
    p.protectedBranches.some((r) => gitlabRefMatches(r.name, name));
  const pushLevel = (p: FakeProject, name: string): number => {
    const rules = p.protectedBranches.filter((r) => gitlabRefMatches(r.name, name));
    if (rules.length === 0) return ACCESS.developer;
    // The most permissive matching rule wins; 0 (No one) blocks everyone but admins.
    const levels = rules.map((r) => (r.accessLevel === 0 ? 1000 : r.accessLevel));
    return Math.min(...levels);
  };
  const renderBranch = (p: FakeProject, b: FakeBranch, token: FakeToken | undefined) => ({
    name: b.name,
    merged: false,
    protected: branchProtected(p, b.name),
    default: b.name === p.defaultBranch,
    developers_can_push: pushLevel(p, b.name) <= ACCESS.developer,
    developers_can_merge: pushLevel(p, b.name) <= ACCESS.developer,
    can_push: projectLevel(token, p) >= pushLevel(p, b.name),
    web_url: `${url}/${projectFullPath(p)}/-/tree/${b.name}`,
    commit: renderCommit(commitById(p, b.commit)),
  });
  const level = (id: number, accessLevel: number) => ({
    id,
    access_level: accessLevel,
    access_level_description: ACCESS_DESCRIPTION[accessLevel] ?? String(accessLevel),
    user_id: null,
    group_id: null,
  });
  const renderProtectedBranch = (r: FakeProtectedRef) => ({
    id: r.id,
    name: r.name,
    push_access_levels: [level(r.id * 2, r.accessLevel)],
    merge_access_levels: [level(r.id * 2 + 1, r.mergeAccessLevel)],
    allow_force_push: r.allowForcePush,
    code_owner_approval_required: false,
  });
  const renderProtectedTag = (r: FakeProtectedRef) => ({
    name: r.name,
    create_access_levels: [level(r.id, r.accessLevel)],
  });
  const renderVariable = (v: FakeVariable) => ({
    variable_type: v.variableType,
    key: v.key,
    value: v.hidden ? null : v.value,
    hidden: v.hidden,
    protected: v.protected,
    masked: v.masked,
    raw: v.raw,
    environment_scope: v.environmentScope,
    description: v.description,
  });
  const renderMr = (p: FakeProject, mr: FakeMergeRequest) => {
    const author = state.users.get(mr.authorId);
    return {
      id: mr.id,
      iid: mr.iid,
      project_id: p.id,
      title: mr.title,
      description: mr.description,
      state: mr.state,
      created_at: mr.createdAt,
      updated_at: mr.updatedAt,
      target_branch: mr.targetBranch,
      source_branch: mr.sourceBranch,
      source_project_id: p.id,
      target_project_id: p.id,
      author: author ? { id: author.id, username: author.username, name: author.name } : null,
      draft: /^(draft:|\[draft\]|\(draft\))/i.test(mr.title),
      merge_status: 'can_be_merged',
      detailed_merge_status: 'mergeable',
      sha: p.branches.get(mr.sourceBranch)?.commit ?? null,
      force_remove_source_branch: mr.removeSourceBranch,
      references: { short: `!${mr.iid}`, full: `${projectFullPath(p)}!${mr.iid}` },
      web_url: `${url}/${projectFullPath(p)}/-/merge_requests/${mr.iid}`,
    };
  };

  // ---- pagination ----------------------------------------------------------------------------
  const paginate = <T>(ctx: Ctx, items: T[]): T[] => {
    const perPageRaw = Number(ctx.query.get('per_page') ?? 20);
    const perPage =
      Number.isFinite(perPageRaw) && perPageRaw >= 1 ? Math.min(Math.floor(perPageRaw), 100) : 20;
    const pageRaw = Number(ctx.query.get('page') ?? 1);
    const page = Number.isFinite(pageRaw) && pageRaw >= 1 ? Math.floor(pageRaw) : 1;
    const total = items.length;
    const totalPages = Math.max(1, Math.ceil(total / perPage));
    const countable = total <= 10_000;
    const link = (n: number) => {
      const q = new URLSearchParams(ctx.query);
      q.set('page', String(n));
      q.set('per_page', String(perPage));
      return `${url}/api/v4/${ctx.segments.map(encodeURIComponent).join('/')}?${q}`;
    };
    const links: string[] = [];
    if (page > 1) links.push(`<${link(page - 1)}>; rel="prev"`);
    if (page < totalPages) links.push(`<${link(page + 1)}>; rel="next"`);
    links.push(`<${link(1)}>; rel="first"`);
    if (countable) links.push(`<${link(totalPages)}>; rel="last"`);
    Object.assign(ctx.headers, {
      'x-page': String(page),
      'x-per-page': String(perPage),
      'x-next-page': page < totalPages ? String(page + 1) : '',
      'x-prev-page': page > 1 ? String(page - 1) : '',
      link: links.join(', '),
    });
    if (countable)
      Object.assign(ctx.headers, { 'x-total': String(total), 'x-total-pages': String(totalPages) });
    return items.slice((page - 1) * perPage, page * perPage);
  };

  // ---- variables (project and group share the rules) --------------------------------------
  const KEY_RE = /^[a-zA-Z0-9_]+$/;
  const variableInput = (params: Params, existing?: FakeVariable): FakeVariable => {
    const value = str(params.value) ?? existing?.value;
    const key = str(params.key) ?? existing?.key;
    const missing = [key === undefined ? 'key' : '', value === undefined ? 'value' : ''].filter(Boolean);
    if (missing.length) throw missingParams(missing);
    if (!KEY_RE.test(key!) || key!.length > 255) {
      throw badRequest({ key: ["can contain only letters, digits and '_'."] });
    }
    const hiddenNew = existing ? existing.hidden : bool(params.masked_and_hidden) === true;
    const masked = hiddenNew || (bool(params.masked) ?? existing?.masked ?? false);
    if (masked && (value!.length < 8 || /\s/.test(value!))) throw badRequest({ value: ['is invalid'] });
    const type = str(params.variable_type) ?? existing?.variableType ?? 'env_var';
    if (type !== 'env_var' && type !== 'file') {
      throw new HttpError(400, { error: 'variable_type does not have a valid value' });
    }
    return {
      key: key!,
      value: value!,
      variableType: type,
      protected: bool(params.protected) ?? existing?.protected ?? false,
      masked,
      hidden: hiddenNew,
      raw: bool(params.raw) ?? existing?.raw ?? false,
      environmentScope: str(params.environment_scope) ?? existing?.environmentScope ?? '*',
      description:
        params.description === undefined ? (existing?.description ?? null) : str(params.description)!,
    };
  };
  const findVariable = (list: FakeVariable[], key: string, ctx: Ctx): FakeVariable => {
    const scope =
      ctx.query.get('filter[environment_scope]') ??
      str((ctx.params.filter as Params | undefined)?.environment_scope);
    const matches = list.filter(
      (v) => v.key === key && (scope === undefined || scope === null || v.environmentScope === scope),
    );
    if (matches.length === 0) throw notFound('Variable');
    if (matches.length > 1) {
      throw conflict(
        "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'",
      );
    }
    return matches[0]!;
  };
  const variableRoutes = (
    base: string,
    owner: (ctx: Ctx, id: string, write: boolean) => FakeVariable[],
  ): [string, string, Handler][] => [
    ['GET', `${base}/variables`, (ctx, v) => paginate(ctx, owner(ctx, v.id!, false)).map(renderVariable)],
    [
      'GET',
      `${base}/variables/:key`,
      (ctx, v) => renderVariable(findVariable(owner(ctx, v.id!, false), v.key!, ctx)),
    ],
    [
      'POST',
      `${base}/variables`,
      (ctx, v) => {
        const list = owner(ctx, v.id!, true);
        const input = variableInput(ctx.params);
        if (list.some((x) => x.key === input.key && x.environmentScope === input.environmentScope)) {
          throw badRequest({ key: [`(${input.key}) has already been taken`] });
        }
        list.push(input);
        ctx.res.statusCode = 201;
        return renderVariable(input);
      },
    ],
    [
      'PUT',
      `${base}/variables/:key`,
      (ctx, v) => {
        const list = owner(ctx, v.id!, true);
        const existing = findVariable(list, v.key!, ctx);
        const next = variableInput({ ...ctx.params, key: v.key }, existing);
        if (
          next.environmentScope !== existing.environmentScope &&
          list.some(
            (x) => x !== existing && x.key === next.key && x.environmentScope === next.environmentScope,
          )
        ) {
          throw badRequest({ key: [`(${next.key}) has already been taken`] });
        }
        Object.assign(existing, next);
        return renderVariable(existing);
      },
    ],
    [
      'DELETE',
      `${base}/variables/:key`,
      (ctx, v) => {
        const list = owner(ctx, v.id!, true);
        const existing = findVariable(list, v.key!, ctx);
        list.splice(list.indexOf(existing), 1);
        ctx.res.statusCode = 204;
        return undefined;
      },
    ],
  ];

  // ---- commits --------------------------------------------------------------------------------
  const createCommit = (ctx: Ctx, p: FakeProject) => {
    const params = ctx.params;
    const branchName = str(params.branch);
    const commitMessage = str(params.commit_message);
    const actions = params.actions as Params[] | undefined;
    const missing = [
      branchName === undefined ? 'branch' : '',
      commitMessage === undefined ? 'commit_message' : '',
      actions === undefined ? 'actions' : '',
    ].filter(Boolean);
    if (missing.length) throw missingParams(missing);
    if (!Array.isArray(actions) || actions.length === 0)
      throw new HttpError(400, { error: 'actions is empty' });
    needProject(ctx, p, ACCESS.developer);
    const startBranch = str(params.start_branch);
    const force = bool(params.force) === true;
    let target = p.branches.get(branchName!);
    let base: FakeBranch | undefined = target;
    if (startBranch !== undefined && startBranch !== branchName) {
      if (target && !force) {
        throw badRequest(
          `A branch called '${branchName}' already exists. Switch to that branch in order to make changes`,
        );
      }
      base = p.branches.get(startBranch);
      if (!base) throw badRequest(`Invalid reference name: ${startBranch}`);
    }
    if (!base && !(p.branches.size === 0 && startBranch === undefined)) {
      throw badRequest('You can only create or edit files when you are on a branch');
    }
    if (projectLevel(ctx.token, p) < pushLevel(p, branchName!)) {
      throw forbidden('You are not allowed to push into this branch');
    }
    const files = new Map(base?.files ?? []);
    const id = newSha();
    const done: { action: string; filePath: string }[] = [];
    for (const a of actions) {
      const action = str(a.action);
      const filePath = str(a.file_path);
      if (!action || !filePath) throw missingParams([!action ? 'actions[action]' : 'actions[file_path]']);
      const current = files.get(filePath);
      const lastCommitId = str(a.last_commit_id);
      if (lastCommitId !== undefined && current && current.lastCommitId !== lastCommitId) {
        throw badRequest(`The file has changed since you started editing it: ${filePath}`);
      }
      const content = () => {
        const text = str(a.content) ?? '';
        return str(a.encoding) === 'base64' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
      };
      if (action === 'create') {
        if (current) throw badRequest('A file with this name already exists');
        const c = content();
        files.set(filePath, { content: c, blobId: blobId(c), lastCommitId: id });
      } else if (action === 'update') {
        if (!current) throw badRequest("A file with this name doesn't exist");
        const c = content();
        files.set(filePath, { content: c, blobId: blobId(c), lastCommitId: id });
      } else if (action === 'delete') {
        if (!current) throw badRequest("A file with this name doesn't exist");
        files.delete(filePath);
      } else {
        throw new HttpError(400, { error: 'actions[action] does not have a valid value' });
      }
      done.push({ action, filePath });
    }
    const commit: FakeCommit = {
      id,
      branch: branchName!,
      message: commitMessage!,
      parentIds: base ? [base.commit] : [],
      actions: done,
      authorName: ctx.token?.user.name ?? 'Anonymous',
      createdAt: nowIso(),
    };
    p.commits.push(commit);
    if (!target) {
      target = { name: branchName!, commit: id, files };
      p.branches.set(branchName!, target);
      p.defaultBranch ??= branchName;
    } else {
      target.commit = id;
      target.files = files;
    }
    ctx.res.statusCode = 201;
    return {
      ...renderCommit(commit),
      stats: { additions: done.length, deletions: 0, total: done.length },
      status: null,
      web_url: `${url}/${projectFullPath(p)}/-/commit/${id}`,
    };
  };

  // ---- routes ---------------------------------------------------------------------------------
  const proj = (ctx: Ctx, id: string) => resolveProject(ctx, id);
  const table: [string, string, Handler][] = [
    [
      'GET',
      '/version',
      (ctx) => {
        if (!ctx.token) throw message(401, '401 Unauthorized');
        return {
          version: state.version,
          revision: state.revision,
          kas: { enabled: false },
          enterprise: true,
        };
      },
    ],
    [
      'GET',
      '/user',
      (ctx) => {
        if (!ctx.token) throw message(401, '401 Unauthorized');
        const u = ctx.token.user;
        return {
          id: u.id,
          username: u.username,
          name: u.name,
          state: 'active',
          is_admin: ctx.token.admin,
          web_url: `${url}/${u.username}`,
        };
      },
    ],
    ['GET', '/projects/:id', (ctx, v) => renderProject(proj(ctx, v.id!), ctx.token)],
    [
      'PUT',
      '/projects/:id',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        needProject(ctx, p, ACCESS.maintainer);
        const components = ctx.params.ci_id_token_sub_claim_components;
        // Grape drops undeclared params, and PUT /projects/:id declares `at_least_one_of` its attributes:
        // an instance without the setting answers a PUT of it alone with 400 (gitlab#477260). [approx wording]
        const known = ['description', 'default_branch', 'name', 'path', 'visibility'];
        if (state.subClaimSupported) known.push('ci_id_token_sub_claim_components');
        if (!known.some((k) => ctx.params[k] !== undefined)) {
          throw new HttpError(400, {
            error: `${known.join(', ')} are missing, at least one parameter must be provided`,
          });
        }
        if (components !== undefined && state.subClaimSupported) {
          const list = (Array.isArray(components) ? components : [components]).map(String);
          const allowed = [
            'project_path',
            'ref_type',
            'ref',
            'ref_protected',
            'environment_protected',
            'deployment_tier',
          ];
          const firsts = ['project_path'];
          if (state.subClaimProjectId) {
            allowed.push('project_id');
            firsts.push('project_id');
          }
          const errors: string[] = [];
          if (list.length === 0) errors.push('is too short (minimum is 1 character)');
          else if (!firsts.includes(list[0]!)) {
            errors.push(
              state.subClaimProjectId
                ? 'project_path or project_id must be the first element of the sub claim'
                : 'project_path must be the first element of the sub claim',
            );
          }
          for (const c of list)
            if (!allowed.includes(c)) errors.push(`${c} is not an allowed sub claim component`);
          if (errors.length) throw badRequest({ 'ci_cd_settings.id_token_sub_claim_components': errors });
          p.subClaimComponents = list;
        }
        if (ctx.params.description !== undefined) p.description = str(ctx.params.description)!;
        if (ctx.params.default_branch !== undefined) {
          const b = str(ctx.params.default_branch)!;
          if (!p.branches.has(b)) throw badRequest({ default_branch: ["branch doesn't exist"] });
          p.defaultBranch = b;
        }
        return renderProject(p, ctx.token);
      },
    ],
    ['GET', '/groups/:id', (ctx, v) => renderGroup(resolveGroup(ctx, v.id!))],
    [
      'GET',
      '/groups/:id/projects',
      (ctx, v) => {
        const g = resolveGroup(ctx, v.id!);
        const deep = bool(ctx.query.get('include_subgroups')) === true;
        const archived = bool(ctx.query.get('archived'));
        const list = [...state.projects.values()]
          .filter((p) => {
            const ns = state.namespaces.get(p.namespaceId)!;
            return deep ? ancestors(ns).includes(g) : ns === g;
          })
          .filter((p) => archived === undefined || p.archived === archived)
          .filter((p) => canSeeProject(ctx.token, p))
          .sort((a, b) => (ctx.query.get('sort') === 'asc' ? a.id - b.id : b.id - a.id));
        return paginate(ctx, list).map((p) => renderProject(p, ctx.token));
      },
    ],
    [
      'GET',
      '/groups/:id/descendant_groups',
      (ctx, v) => {
        const g = resolveGroup(ctx, v.id!);
        const list = [...state.namespaces.values()]
          .filter((n) => n.kind === 'group' && n !== g && ancestors(n).includes(g))
          .filter((n) => canSeeGroup(ctx.token, n))
          .sort((a, b) => nsFullPath(a).localeCompare(nsFullPath(b)));
        return paginate(ctx, list).map(renderGroup);
      },
    ],
    [
      'GET',
      '/projects/:id/repository/branches',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        needCodeRead(ctx, p);
        const search = ctx.query.get('search');
        const list = [...p.branches.values()]
          .filter((b) => !search || b.name.includes(search))
          .sort((a, b) => a.name.localeCompare(b.name));
        return paginate(ctx, list).map((b) => renderBranch(p, b, ctx.token));
      },
    ],
    [
      'GET',
      '/projects/:id/repository/branches/:branch',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        needCodeRead(ctx, p);
        const b = p.branches.get(v.branch!);
        if (!b) throw notFound('Branch');
        return renderBranch(p, b, ctx.token);
      },
    ],
    [
      'POST',
      '/projects/:id/repository/branches',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        const name = str(ctx.params.branch);
        const ref = str(ctx.params.ref);
        const missing = [name === undefined ? 'branch' : '', ref === undefined ? 'ref' : ''].filter(Boolean);
        if (missing.length) throw missingParams(missing);
        needProject(ctx, p, ACCESS.developer);
        if (p.branches.has(name!)) throw badRequest('Branch already exists');
        const from = p.branches.get(ref!) ?? [...p.branches.values()].find((b) => b.commit === ref);
        if (!from) throw badRequest('Invalid reference name: ' + ref);
        const b: FakeBranch = { name: name!, commit: from.commit, files: new Map(from.files) };
        p.branches.set(name!, b);
        ctx.res.statusCode = 201;
        return renderBranch(p, b, ctx.token);
      },
    ],
    [
      'GET',
      '/projects/:id/protected_branches',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        needProject(ctx, p, state.protectedRefsReadAccess);
        const search = ctx.query.get('search');
        return paginate(
          ctx,
          p.protectedBranches.filter((r) => !search || r.name.includes(search)),
        ).map(renderProtectedBranch);
      },
    ],
    [
      'GET',
      '/projects/:id/protected_branches/:name',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        needProject(ctx, p, state.protectedRefsReadAccess);
        const r = p.protectedBranches.find((x) => x.name === v.name);
        if (!r) throw notFound();
        return renderProtectedBranch(r);
      },
    ],
    [
      'POST',
      '/projects/:id/protected_branches',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        const name = str(ctx.params.name);
        if (name === undefined) throw missingParams(['name']);
        needProject(ctx, p, ACCESS.maintainer);
        if (p.protectedBranches.some((r) => r.name === name)) {
          throw conflict(`Protected branch '${name}' already exists`);
        }
        const r: FakeProtectedRef = {
          id: state.nextId.rule++,
          name,
          accessLevel: Number(ctx.params.push_access_level ?? ACCESS.maintainer) as AccessLevel,
          mergeAccessLevel: Number(ctx.params.merge_access_level ?? ACCESS.maintainer) as AccessLevel,
          allowForcePush: bool(ctx.params.allow_force_push) ?? false,
        };
        p.protectedBranches.push(r);
        ctx.res.statusCode = 201;
        return renderProtectedBranch(r);
      },
    ],
    [
      'DELETE',
      '/projects/:id/protected_branches/:name',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        needProject(ctx, p, ACCESS.maintainer);
        const i = p.protectedBranches.findIndex((x) => x.name === v.name);
        if (i < 0) throw notFound();
        p.protectedBranches.splice(i, 1);
        ctx.res.statusCode = 204;
        return undefined;
      },
    ],
    [
      'GET',
      '/projects/:id/protected_tags',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        needProject(ctx, p, state.protectedRefsReadAccess);
        return paginate(ctx, p.protectedTags).map(renderProtectedTag);
      },
    ],
    [
      'GET',
      '/projects/:id/protected_tags/:name',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        needProject(ctx, p, state.protectedRefsReadAccess);
        const r = p.protectedTags.find((x) => x.name === v.name);
        if (!r) throw notFound();
        return renderProtectedTag(r);
      },
    ],
    [
      'POST',
      '/projects/:id/protected_tags',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        const name = str(ctx.params.name);
        if (name === undefined) throw missingParams(['name']);
        needProject(ctx, p, ACCESS.maintainer);
        if (p.protectedTags.some((r) => r.name === name)) throw message(422, ['Name has already been taken']);
        const r: FakeProtectedRef = {
          id: state.nextId.rule++,
          name,
          accessLevel: Number(ctx.params.create_access_level ?? ACCESS.maintainer) as AccessLevel,
          mergeAccessLevel: 0,
          allowForcePush: false,
        };
        p.protectedTags.push(r);
        ctx.res.statusCode = 201;
        return renderProtectedTag(r);
      },
    ],
    [
      'DELETE',
      '/projects/:id/protected_tags/:name',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        needProject(ctx, p, ACCESS.maintainer);
        const i = p.protectedTags.findIndex((x) => x.name === v.name);
        if (i < 0) throw notFound();
        p.protectedTags.splice(i, 1);
        ctx.res.statusCode = 204;
        return undefined;
      },
    ],
    ...variableRoutes('/projects/:id', (ctx, id) => {
      const p = proj(ctx, id);
      needProject(ctx, p, ACCESS.maintainer);
      return p.variables;
    }),
    ...variableRoutes('/groups/:id', (ctx, id) => {
      const g = resolveGroup(ctx, id);
      if (groupLevel(ctx.token, g) < ACCESS.owner) throw forbidden();
      return g.variables;
    }),
    [
      'GET',
      '/projects/:id/repository/files/:file_path',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        const ref = ctx.query.get('ref');
        if (!ref) throw missingParams(['ref']);
        needCodeRead(ctx, p);
        const b = p.branches.get(ref) ?? [...p.branches.values()].find((x) => x.commit === ref);
        if (!b) throw notFound('Commit');
        const f = b.files.get(v.file_path!);
        if (!f) throw notFound('File');
        return {
          file_name: v.file_path!.split('/').pop(),
          file_path: v.file_path,
          size: f.content.length,
          encoding: 'base64',
          content_sha256: createHash('sha256').update(f.content).digest('hex'),
          ref,
          blob_id: f.blobId,
          commit_id: b.commit,
          last_commit_id: f.lastCommitId,
          execute_filemode: false,
          content: f.content.toString('base64'),
        };
      },
    ],
    ['POST', '/projects/:id/repository/commits', (ctx, v) => createCommit(ctx, proj(ctx, v.id!))],
    [
      'GET',
      '/projects/:id/merge_requests',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        needCodeRead(ctx, p);
        const stateFilter = ctx.query.get('state') ?? 'all';
        const source = ctx.query.get('source_branch');
        const target = ctx.query.get('target_branch');
        const list = p.mergeRequests
          .filter((mr) => stateFilter === 'all' || mr.state === stateFilter)
          .filter((mr) => !source || mr.sourceBranch === source)
          .filter((mr) => !target || mr.targetBranch === target)
          .sort((a, b) => b.id - a.id);
        return paginate(ctx, list).map((mr) => renderMr(p, mr));
      },
    ],
    [
      'GET',
      '/projects/:id/merge_requests/:iid',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        needCodeRead(ctx, p);
        const mr = p.mergeRequests.find((m) => String(m.iid) === v.iid);
        if (!mr) throw notFound();
        return renderMr(p, mr);
      },
    ],
    [
      'POST',
      '/projects/:id/merge_requests',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        const source = str(ctx.params.source_branch);
        const target = str(ctx.params.target_branch);
        const title = str(ctx.params.title);
        const missing = [
          source === undefined ? 'source_branch' : '',
          target === undefined ? 'target_branch' : '',
          title === undefined ? 'title' : '',
        ].filter(Boolean);
        if (missing.length) throw missingParams(missing);
        needProject(ctx, p, ACCESS.developer);
        if (source === target) throw conflict(["You can't use same project/branch for source and target"]);
        const open = p.mergeRequests.find(
          (m) => m.state === 'opened' && m.sourceBranch === source && m.targetBranch === target,
        );
        if (open)
          throw conflict([`Another open merge request already exists for this source branch: !${open.iid}`]);
        // [approx] GitLab's wording for a missing branch.
        if (!p.branches.has(source!)) throw badRequest([`Source branch "${source}" does not exist`]);
        if (!p.branches.has(target!)) throw badRequest([`Target branch "${target}" does not exist`]);
        const at = nowIso();
        const mr: FakeMergeRequest = {
          id: state.nextId.mr++,
          iid: Math.max(0, ...p.mergeRequests.map((m) => m.iid)) + 1,
          title: title!,
          description: str(ctx.params.description) ?? '',
          sourceBranch: source!,
          targetBranch: target!,
          state: 'opened',
          removeSourceBranch: bool(ctx.params.remove_source_branch) ?? false,
          authorId: ctx.token!.user.id,
          createdAt: at,
          updatedAt: at,
        };
        p.mergeRequests.push(mr);
        ctx.res.statusCode = 201;
        return renderMr(p, mr);
      },
    ],
    [
      'PUT',
      '/projects/:id/merge_requests/:iid',
      (ctx, v) => {
        const p = proj(ctx, v.id!);
        needProject(ctx, p, ACCESS.developer);
        const mr = p.mergeRequests.find((m) => String(m.iid) === v.iid);
        if (!mr) throw notFound();
        if (ctx.params.title !== undefined) mr.title = str(ctx.params.title)!;
        if (ctx.params.description !== undefined) mr.description = str(ctx.params.description)!;
        if (ctx.params.target_branch !== undefined) mr.targetBranch = str(ctx.params.target_branch)!;
        const event = str(ctx.params.state_event);
        if (event === 'close') mr.state = 'closed';
        if (event === 'reopen') mr.state = 'opened';
        mr.updatedAt = nowIso();
        return renderMr(p, mr);
      },
    ],
  ];
  const routes: Route[] = table.map(([method, template, handler]) => ({
    method,
    template,
    parts: template.split('/').slice(1),
    write: method !== 'GET',
    handler,
  }));

  const matchRoute = (method: string, segments: string[]) => {
    let pathMatched = false;
    for (const r of routes) {
      if (r.parts.length !== segments.length) continue;
      const vars: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < r.parts.length; i++) {
        const part = r.parts[i]!;
        if (part.startsWith(':')) vars[part.slice(1)] = segments[i]!;
        else if (part !== segments[i]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      pathMatched = true;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { route: r, vars };
    }
    return { route: undefined, vars: {}, pathMatched };
  };

  // ---- auth ------------------------------------------------------------------------------------
  const authenticate = (req: IncomingMessage): FakeToken | undefined => {
    const priv = req.headers['private-token'];
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const raw = (Array.isArray(priv) ? priv[0] : priv) ?? bearer;
    if (raw === undefined) return undefined;
    const token = state.tokens.get(raw);
    if (!token) throw message(401, '401 Unauthorized');
    if (token.state === 'expired') {
      throw new HttpError(401, {
        error: 'invalid_token',
        error_description: 'Token is expired. You can either do re-authorization or token refresh.',
      });
    }
    if (token.state === 'revoked') {
      throw new HttpError(401, {
        error: 'invalid_token',
        error_description: 'Token was revoked. You have to re-authorize from the user.',
      });
    }
    return token;
  };
  const checkScope = (token: FakeToken | undefined, route: Route) => {
    if (!token) {
      if (route.write) throw message(401, '401 Unauthorized');
      return;
    }
    const needed: TokenScope[] =
      route.template === '/user' || route.template === '/version'
        ? ['api', 'read_api', 'read_user']
        : route.write
          ? ['api']
          : ['api', 'read_api'];
    if (!needed.some((s) => token.scopes.includes(s))) {
      throw new HttpError(403, {
        error: 'insufficient_scope',
        error_description: 'The request requires higher privileges than provided by the access token.',
        scope: needed.join(' '),
      });
    }
  };

  // ---- faults ----------------------------------------------------------------------------------
  const faultMatches = (spec: FaultSpec, method: string, template: string | undefined, apiPath: string) => {
    if (spec.method && spec.method.toUpperCase() !== method) return false;
    if (spec.path instanceof RegExp) return spec.path.test(apiPath);
    // `POST /projects/:id/variables`: the route, method included.
    const spaced = /^([A-Z]+) (\/.*)$/.exec(spec.path);
    if (spaced) return spaced[1] === method && spaced[2] === template;
    return spec.path === template || spec.path === apiPath;
  };
  const pickFault = (
    method: string,
    template: string | undefined,
    apiPath: string,
  ): FaultSpec | undefined => {
    let chosen: FaultSpec | undefined;
    for (const f of faults) {
      if (!faultMatches(f.spec, method, template, apiPath)) continue;
      f.seen++;
      const nth = f.spec.nth ?? 1;
      const times = f.spec.times ?? 1;
      if (!chosen && f.seen >= nth && f.seen < nth + times) {
        f.fired++;
        chosen = f.spec;
      }
    }
    return chosen;
  };

  // ---- HTTP ------------------------------------------------------------------------------------
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    forget();
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const qIndex = rawUrl.indexOf('?');
    const rawPath = qIndex < 0 ? rawUrl : rawUrl.slice(0, qIndex);
    const rawQuery = qIndex < 0 ? '' : rawUrl.slice(qIndex);
    const query = new URLSearchParams(rawQuery);
    const body = await readBody(req);

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      const isText = typeof payload === 'string';
      const text = payload === undefined ? '' : isText ? payload : JSON.stringify(payload);
      res.writeHead(status, {
        ...(payload === undefined ? {} : { 'content-type': isText ? 'text/plain' : 'application/json' }),
        'content-length': String(Buffer.byteLength(text)),
        ...headers,
      });
      res.end(method === 'HEAD' ? undefined : text);
    };

    if (oidc?.handle(rawPath, url, prefix, (s, b, ct) => send(s, b, ct ? { 'content-type': ct } : {}))) {
      // The issuer documents use the issuer's own content type.
      return;
    }
    const pathAfterPrefix = rawPath.startsWith(prefix) ? rawPath.slice(prefix.length) : undefined;
    const call: FakeGitlabCall = {
      method,
      path: pathAfterPrefix ?? rawPath,
      route: '-',
      query: Object.fromEntries(query),
      status: 0,
    };
    calls.push(call);
    res.on('finish', () => {
      call.status = res.statusCode;
    });
    if (pathAfterPrefix === undefined || !pathAfterPrefix.startsWith('/api/v4/')) {
      send(404, { error: '404 Not Found' });
      return;
    }
    const apiPath = pathAfterPrefix.slice('/api/v4'.length);
    let segments: string[];
    try {
      segments = apiPath.split('/').slice(1).map(decodeURIComponent);
    } catch {
      send(400, { error: '400 Bad request' });
      return;
    }
    const { route, vars } = matchRoute(method, segments);
    if (route) call.route = `${route.method} ${route.template}`;

    const fault = pickFault(method, route?.template, apiPath);
    if (fault) {
      if (fault.hang) return;
      if (fault.drip) {
        res.writeHead(200, { 'content-type': 'application/json' });
        const t = setInterval(() => res.write(' '), fault.drip.intervalMs);
        timers.add(t);
        const stop = () => {
          clearInterval(t);
          timers.delete(t);
        };
        res.on('close', stop);
        if (fault.drip.totalMs !== undefined) {
          const end = setTimeout(() => {
            stop();
            timers.delete(end);
            res.end('[]');
          }, fault.drip.totalMs);
          timers.add(end);
        }
        return;
      }
      if (fault.delayMs !== undefined) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            timers.delete(t);
            resolve();
          }, fault.delayMs);
          timers.add(t);
        });
        if (res.destroyed) return;
      } else {
        const status = fault.status ?? 500;
        const headers = { ...(fault.headers ?? {}) };
        if (status === 429) headers['retry-after'] ??= String(fault.retryAfterSec ?? 1);
        const payload =
          fault.body !== undefined
            ? fault.body
            : status === 429
              ? 'Retry later\n'
              : (DEFAULT_BODY[status] ?? { message: `${status}` });
        send(status, payload, headers);
        return;
      }
    }

    if (!route) {
      send(404, { error: '404 Not Found' });
      return;
    }
    const headers: Record<string, string> = {};
    try {
      const token = authenticate(req);
      checkScope(token, route);
      let params: Params = Object.fromEntries(query);
      if (body) {
        const type = req.headers['content-type'] ?? '';
        if (type.includes('json')) {
          try {
            params = { ...params, ...(JSON.parse(body) as Params) };
          } catch {
            throw new HttpError(400, { error: 'The provided content-type is not supported.' });
          }
        } else params = { ...params, ...parseForm(body) };
      }
      // `:id` is the first variable of every project/group route; the rest of the path follows it.
      const restPath =
        route.parts[0] === 'projects' || route.parts[0] === 'groups'
          ? `/${apiPath.split('/').slice(3).join('/')}`.replace(/\/$/, '')
          : '';
      const ctx: Ctx = { method, segments, query, params, token, restPath, rawQuery, res, headers };
      if (
        route.write &&
        route.parts[0] === 'projects' &&
        vars.id !== undefined &&
        route.template !== '/projects/:id'
      ) {
        writable(resolveProject(ctx, vars.id));
      }
      res.statusCode = 200;
      const result = await route.handler(ctx, vars);
      send(res.statusCode, res.statusCode === 204 ? undefined : result, headers);
    } catch (err) {
      if (err instanceof HttpError) {
        send(err.status, err.status === 301 ? undefined : err.body, err.headers);
        return;
      }
      send(500, { message: '500 Internal Server Error' });
      throw err;
    }
  };

  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A handler bug: report it on the test's stderr instead of hanging the request.
      console.error('fake-gitlab:', err);
      if (!res.headersSent) {
        res.writeHead(500);
        res.end();
      }
    });
  });
  // Keep-alive as a real server does (a benchmark would otherwise time TLS handshakes); close() ends idle sockets.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  url = `https://127.0.0.1:${port}${prefix}`;

  // ---- builders -------------------------------------------------------------------------------
  const makeNamespace = (
    path: string,
    parentId: number | undefined,
    kind: 'group' | 'user',
    id?: number,
    visibility: Visibility = 'private',
  ) => {
    const ns: FakeNamespace = {
      id:
        id ??
        (() => {
          while (state.namespaces.has(state.nextId.namespace)) state.nextId.namespace++;
          return state.nextId.namespace++;
        })(),
      path,
      name: path,
      kind,
      parentId,
      visibility,
      variables: [],
      createdAt: nowIso(),
    };
    if (state.namespaces.has(ns.id)) throw new Error(`fake-gitlab: namespace id ${ns.id} taken`);
    state.namespaces.set(ns.id, ns);
    forget();
    return ns;
  };
  const ensureGroupPath = (parts: string[]): FakeNamespace => {
    let parent: FakeNamespace | undefined;
    for (let i = 0; i < parts.length; i++) {
      const full = parts.slice(0, i + 1).join('/');
      parent = findGroupByPath(full) ?? makeNamespace(parts[i]!, parent?.id, 'group');
    }
    return parent!;
  };
  const ensureUser = (username: string): FakeUser => {
    const existing = [...state.users.values()].find((u) => u.username === username);
    if (existing) return existing;
    const user: FakeUser = { id: state.nextId.user++, username, name: username };
    state.users.set(user.id, user);
    if (![...state.namespaces.values()].some((n) => n.kind === 'user' && n.path === username)) {
      makeNamespace(username, undefined, 'user');
    }
    return user;
  };
  const levelOf = (a: AccessName | AccessLevel | 'none'): AccessLevel | 0 =>
    typeof a === 'number' ? a : ACCESS[a];

  const api: FakeGitlab = {
    url,
    apiUrl: `${url}/api/v4`,
    port,
    caPem: tls.caPem,
    writeCaFile: (dir) => {
      const file = join(dir, 'fake-gitlab-ca.pem');
      writeFileSync(file, tls.caPem);
      return file;
    },
    get state() {
      return state;
    },
    calls,
    mutatingCalls: () => calls.filter((c) => c.method !== 'GET' && c.method !== 'HEAD'),
    callsByRoute: () => {
      const out: Record<string, number> = {};
      for (const c of calls) out[c.route] = (out[c.route] ?? 0) + 1;
      return out;
    },
    clearCalls: () => {
      calls.length = 0;
    },
    reset: () => {
      forget();
      state = newState(options);
      calls.length = 0;
      faults = [];
      options.seed?.(api);
    },
    addGroup: (full, opts = {}) => {
      forget();
      const parts = full.split('/');
      const parent = parts.length > 1 ? ensureGroupPath(parts.slice(0, -1)) : undefined;
      if (findGroupByPath(full)) throw new Error(`fake-gitlab: group ${full} exists`);
      return makeNamespace(parts[parts.length - 1]!, parent?.id, 'group', opts.id, opts.visibility);
    },
    addProject: (full, opts = {}) => {
      forget();
      let ns: FakeNamespace;
      let parts: string[];
      if (full.startsWith('user:')) {
        parts = full.slice(5).split('/');
        ensureUser(parts[0]!);
        ns = [...state.namespaces.values()].find((n) => n.kind === 'user' && n.path === parts[0])!;
      } else {
        parts = full.split('/');
        if (parts.length < 2) throw new Error('fake-gitlab: a project path needs a namespace');
        ns = ensureGroupPath(parts.slice(0, -1));
      }
      let id = opts.id;
      if (id === undefined) {
        while (state.projects.has(state.nextId.project)) state.nextId.project++;
        id = state.nextId.project++;
      }
      if (state.projects.has(id)) throw new Error(`fake-gitlab: project id ${id} taken`);
      const defaultBranch = opts.defaultBranch === null ? undefined : (opts.defaultBranch ?? 'main');
      const p: FakeProject = {
        id,
        path: parts[parts.length - 1]!,
        name: parts[parts.length - 1]!,
        namespaceId: ns.id,
        visibility: opts.visibility ?? 'private',
        archived: opts.archived ?? false,
        defaultBranch,
        description: opts.description ?? null,
        branches: new Map(),
        protectedBranches: [],
        protectedTags: [],
        variables: [],
        commits: [],
        mergeRequests: [],
        subClaimComponents: ['project_path', 'ref_type', 'ref'],
        createdAt: nowIso(),
      };
      if (defaultBranch) {
        const commitId = newSha();
        const files = new Map<string, FakeFile>();
        for (const [path, text] of Object.entries(opts.files ?? {})) {
          const c = Buffer.from(text, 'utf8');
          files.set(path, { content: c, blobId: blobId(c), lastCommitId: commitId });
        }
        p.commits.push({
          id: commitId,
          branch: defaultBranch,
          message: 'Initial commit',
          parentIds: [],
          actions: [...files.keys()].map((filePath) => ({ action: 'create', filePath })),
          authorName: 'Administrator',
          createdAt: p.createdAt,
        });
        p.branches.set(defaultBranch, { name: defaultBranch, commit: commitId, files });
        for (const b of opts.branches ?? [])
          p.branches.set(b, { name: b, commit: commitId, files: new Map(files) });
      }
      state.projects.set(id, p);
      forget();
      return p;
    },
    addToken: (token, opts = {}) => {
      const user = ensureUser(opts.username ?? `user${state.nextId.user}`);
      const access: Record<string, AccessLevel> = {};
      for (const [k, v] of Object.entries(opts.access ?? {})) access[k] = levelOf(v) as AccessLevel;
      const t: FakeToken = {
        user,
        scopes: opts.scopes ?? ['api'],
        access,
        admin: opts.admin ?? false,
        state: opts.state ?? 'active',
      };
      state.tokens.set(token, t);
      return t;
    },
    moveProject: (ref, newFull) => {
      forget();
      const p = mustProject(ref);
      const old = projectFullPath(p);
      const parts = newFull.split('/');
      const ns = ensureGroupPath(parts.slice(0, -1));
      p.namespaceId = ns.id;
      p.path = parts[parts.length - 1]!;
      p.name = p.path;
      state.redirects.set(old.toLowerCase(), p.id);
      state.redirects.delete(newFull.toLowerCase());
      forget();
      return p;
    },
    protectBranch: (ref, name, push = 'maintainer') => {
      const p = mustProject(ref);
      p.protectedBranches.push({
        id: state.nextId.rule++,
        name,
        accessLevel: levelOf(push),
        mergeAccessLevel: ACCESS.maintainer,
        allowForcePush: false,
      });
    },
    protectTag: (ref, name, create = 'maintainer') => {
      const p = mustProject(ref);
      p.protectedTags.push({
        id: state.nextId.rule++,
        name,
        accessLevel: levelOf(create),
        mergeAccessLevel: 0,
        allowForcePush: false,
      });
    },
    addProjectVariable: (ref, key, v) => {
      const variable = toVariable(key, v);
      mustProject(ref).variables.push(variable);
      return variable;
    },
    addGroupVariable: (ref, key, v) => {
      const g = group(ref);
      if (!g) throw new Error(`fake-gitlab: no group ${String(typeof ref === 'object' ? ref.id : ref)}`);
      const variable = toVariable(key, v);
      g.variables.push(variable);
      return variable;
    },
    project: (ref) => {
      forget();
      return project(ref);
    },
    group: (ref) => {
      forget();
      return group(ref);
    },
    fullPath: (x) => {
      forget();
      return fullPath(x);
    },
    fileText: (ref, filePath, branch) => {
      forget();
      const p = mustProject(ref);
      const b = p.branches.get(branch ?? p.defaultBranch ?? '');
      return b?.files.get(filePath)?.content.toString('utf8');
    },
    refMatches: gitlabRefMatches,
    fault: (spec) => {
      const f: ActiveFault = { spec, seen: 0, fired: 0 };
      faults.push(f);
      return {
        get seen() {
          return f.seen;
        },
        get fired() {
          return f.fired;
        },
        remove: () => {
          faults = faults.filter((x) => x !== f);
        },
      };
    },
    clearFaults: () => {
      faults = [];
    },
    jwksUri: oidc ? `${url}/oauth/discovery/keys` : undefined,
    mintToken: (claims, mint) => {
      if (!oidc) throw new Error('fake-gitlab: start it with { oidc: true } to mint ID tokens');
      return oidc.mintToken(url, claims, mint);
    },
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
      return closing;
    },
  };
  let closing: Promise<void> | undefined;
  options.seed?.(api);
  return api;
}

function toVariable(key: string, v: AddVariableOptions): FakeVariable {
  return {
    key,
    value: v.value,
    variableType: v.variableType ?? 'env_var',
    protected: v.protected ?? false,
    masked: v.masked ?? v.hidden ?? false,
    hidden: v.hidden ?? false,
    raw: v.raw ?? false,
    environmentScope: v.environmentScope ?? '*',
    description: v.description ?? null,
  };
}
