/**
 * GitLab ID-token claims as the trust-policy evaluator sees them: build a simulated claim set for a
 * job, parse `--claims sub=…,aud=…`, and turn claims into the request context STS evaluates
 * (`<host>:sub`, `<host>:aud`, and on gitlab.com the extra `gitlab.com:*` keys). Pure.
 */
import { type FieldIssue, UsageError } from '../errors.js';
import type { RequestContext } from './evaluate.js';
import {
  DEFAULT_SUB_COMPONENTS,
  formatSubClaim,
  GITLAB_COM_EXTRA_CLAIMS,
  isProjectComponent,
  isRefType,
  OIDC_CONDITION_CLAIMS,
  parseSubClaim,
  type SubComponent,
} from './gitlab-claims.js';
import { issuerFromUrl } from './issuer.js';
import type { Issuer, RefType } from './types.js';

export {
  DEFAULT_SUB_COMPONENTS,
  GITLAB_COM_EXTRA_CLAIMS,
  parseSubClaim as parseSubject,
  SUB_COMPONENTS,
  type SubClaimParts as ParsedSubject,
  type SubComponent,
} from './gitlab-claims.js';
export { issuerFromUrl } from './issuer.js';

export type ClaimValue = string | string[] | number | boolean;

/** The claims of a GitLab ID token (real or simulated). IDs are strings, as GitLab sends them. */
export interface ClaimSet {
  sub: string;
  aud: string | string[];
  iss?: string | undefined;
  [claim: string]: ClaimValue | undefined;
}

/** Claims a GitLab ID token may carry (accepted by `--claims`). */
export const KNOWN_CLAIMS = [
  'iss',
  'sub',
  'aud',
  'project_id',
  'project_path',
  'namespace_id',
  'namespace_path',
  'ref',
  'ref_type',
  'ref_path',
  'ref_protected',
  'environment',
  'environment_protected',
  'deployment_tier',
  'environment_action',
  'pipeline_id',
  'pipeline_source',
  'job_id',
  'user_id',
  'user_login',
  'user_email',
  'user_access_level',
  'user_identities',
  'runner_id',
  'runner_environment',
  'ci_config_ref_uri',
  'ci_config_sha',
  'project_visibility',
  'sha',
  'jti',
  'iat',
  'nbf',
  'exp',
] as const;

const NUMERIC_ID_CLAIMS = new Set([
  'project_id',
  'namespace_id',
  'user_id',
  'pipeline_id',
  'job_id',
  'runner_id',
]);
const BOOLEAN_STRING_CLAIMS = new Set(['ref_protected', 'environment_protected']);
const TIME_CLAIMS = new Set(['iat', 'nbf', 'exp']);

// ---------- sub ----------

/** Builds `sub` from claims in the given component order (GitLab's `component:value` pairs joined by `:`). */
export function buildSubject(
  values: Partial<Record<SubComponent, string | undefined>>,
  components: readonly SubComponent[] = DEFAULT_SUB_COMPONENTS,
): string {
  if (!isProjectComponent(components[0])) {
    throw UsageError.field('sub components', 'the first component must be project_path or project_id');
  }
  return formatSubClaim(
    components.map((c) => {
      const v = values[c];
      if (v === undefined || v === '')
        throw UsageError.field(c, `needed to build sub (components: ${components.join(',')})`);
      return [c, v] as const;
    }),
  );
}

// ---------- Simulated job ----------

export interface SimulatedJob {
  issuer: Issuer | string;
  /** `group/subgroup/project`. */
  projectPath: string;
  branch?: string | undefined;
  tag?: string | undefined;
  audience: string | string[];
  projectId?: string | undefined;
  namespaceId?: string | undefined;
  refProtected?: boolean | undefined;
  /** The project's `sub` components (default GitLab's `project_path,ref_type,ref`). */
  subComponents?: readonly SubComponent[] | undefined;
  environment?: string | undefined;
  environmentProtected?: boolean | undefined;
  deploymentTier?: string | undefined;
  pipelineSource?: string | undefined;
}

/** The claims GitLab would put in this job's ID token. */
export function buildClaims(job: SimulatedJob): ClaimSet {
  const issuer = typeof job.issuer === 'string' ? issuerFromUrl(job.issuer) : job.issuer;
  if ((job.branch === undefined) === (job.tag === undefined)) {
    throw UsageError.field('--branch/--tag', 'give exactly one of a branch or a tag');
  }
  const refType: RefType = job.branch !== undefined ? 'branch' : 'tag';
  const ref = (job.branch ?? job.tag) as string;
  const refProtected = job.refProtected === undefined ? undefined : String(job.refProtected);
  const envProtected = job.environmentProtected === undefined ? undefined : String(job.environmentProtected);
  const slash = job.projectPath.lastIndexOf('/');
  const claims: ClaimSet = {
    iss: issuer.url,
    aud: job.audience,
    sub: buildSubject(
      {
        project_path: job.projectPath,
        project_id: job.projectId,
        ref_type: refType,
        ref,
        ref_protected: refProtected,
        environment_protected: envProtected,
        deployment_tier: job.deploymentTier,
      },
      job.subComponents ?? DEFAULT_SUB_COMPONENTS,
    ),
    project_path: job.projectPath,
    namespace_path: slash > 0 ? job.projectPath.slice(0, slash) : job.projectPath,
    ref,
    ref_type: refType,
    ref_path: `refs/${refType === 'branch' ? 'heads' : 'tags'}/${ref}`,
  };
  const optional: Record<string, string | undefined> = {
    project_id: job.projectId,
    namespace_id: job.namespaceId,
    ref_protected: refProtected,
    environment: job.environment,
    environment_protected: envProtected,
    deployment_tier: job.deploymentTier,
    pipeline_source: job.pipelineSource,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) claims[k] = v;
  return claims;
}

// ---------- --claims ----------

export type PartialClaims = Partial<ClaimSet>;

/**
 * Parses `sub=…,aud=…,project_id=…` strictly. Pairs are split on commas followed by `name=`, so values
 * may contain `=`, `:` and `/`. `aud` may repeat (a list); any other repeated claim is an error.
 */
export function parseClaimsFlag(raw: string, flag = '--claims'): PartialClaims {
  const issues: FieldIssue[] = [];
  const out: PartialClaims = {};
  const text = raw.trim();
  if (!text)
    throw UsageError.field(
      flag,
      'is empty',
      'Example: --claims sub=project_path:grp/app:ref_type:branch:ref:main,aud=https://gitlab.com',
    );
  for (const pair of text.split(/,(?=\s*[A-Za-z_][A-Za-z0-9_]*=)/)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      issues.push({ field: flag, message: `"${pair}" is not name=value` });
      continue;
    }
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1);
    const field = `${flag} ${name}`;
    if (!(KNOWN_CLAIMS as readonly string[]).includes(name)) {
      issues.push({ field, message: `unknown claim (known: ${KNOWN_CLAIMS.join(', ')})` });
      continue;
    }
    if (value === '') {
      issues.push({ field, message: 'has no value' });
      continue;
    }
    const problem = validateClaim(name, value);
    if (problem) {
      issues.push({ field, message: problem });
      continue;
    }
    if (name === 'aud') {
      const prev = out.aud;
      out.aud = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
    } else if (out[name] !== undefined) {
      issues.push({ field, message: 'given more than once' });
    } else {
      out[name] = TIME_CLAIMS.has(name) ? Number(value) : value;
    }
  }
  if (issues.length) {
    throw new UsageError(
      `Invalid ${flag}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return out;
}

function validateClaim(name: string, value: string): string | undefined {
  if (name === 'sub') {
    const parsed = parseSubClaim(value);
    if (parsed.format === 'unknown') {
      return "must be GitLab's format, starting with project_path: or project_id: (e.g. project_path:grp/app:ref_type:branch:ref:main)";
    }
    const rt = parsed.components.ref_type;
    if (rt !== undefined && !isRefType(rt)) return refTypeMessage(rt);
    return undefined;
  }
  if (name === 'ref_type' && !isRefType(value)) return refTypeMessage(value);
  if (NUMERIC_ID_CLAIMS.has(name) && !/^\d+$/.test(value)) return 'must be a numeric ID';
  if (BOOLEAN_STRING_CLAIMS.has(name) && value !== 'true' && value !== 'false')
    return 'must be "true" or "false"';
  if (TIME_CLAIMS.has(name) && !/^\d+$/.test(value)) return 'must be a Unix time in seconds';
  if (name === 'iss' && !/^https?:\/\//.test(value)) return 'must be a URL';
  return undefined;
}

function refTypeMessage(v: string): string {
  return v === 'mr'
    ? 'GitLab never issues ref_type:mr; merge-request pipelines carry ref_type:branch with the source branch'
    : `must be branch or tag, not "${v}"`;
}

/**
 * Fills what `--claims` left out: `sub` from project_path/project_id + ref_type + ref, the `ref`,
 * `ref_type` and `project_path` claims from `sub`, `aud` and `iss` from defaults. Inconsistent
 * inputs are usage errors naming the flag.
 */
export function completeClaims(
  partial: PartialClaims,
  defaults: { audience?: string | string[] | undefined; issuerUrl?: string | undefined; flag?: string } = {},
): ClaimSet {
  const flag = defaults.flag ?? '--claims';
  const str = (k: string): string | undefined =>
    typeof partial[k] === 'string' ? (partial[k] as string) : undefined;
  let sub = str('sub');
  if (sub === undefined) {
    const refType = str('ref_type');
    const ref = str('ref');
    const path = str('project_path');
    const id = str('project_id');
    if (!refType || !ref || (!path && !id)) {
      throw UsageError.field(
        `${flag} sub`,
        'missing: give sub=…, or project_path (or project_id), ref_type and ref to build it',
      );
    }
    sub = buildSubject(
      { project_path: path, project_id: id, ref_type: refType, ref },
      path ? DEFAULT_SUB_COMPONENTS : ['project_id', 'ref_type', 'ref'],
    );
  }
  const parsed = parseSubClaim(sub);
  const fromSub: Record<string, string | undefined> = {
    project_path: parsed.components.project_path,
    project_id: parsed.components.project_id,
    ref_type: parsed.components.ref_type,
    ref: parsed.components.ref,
    ref_protected: parsed.components.ref_protected,
  };
  const issues: FieldIssue[] = [];
  const claims: ClaimSet = { ...partial, sub, aud: partial.aud ?? defaults.audience ?? '' };
  for (const [k, v] of Object.entries(fromSub)) {
    if (v === undefined) continue;
    const given = str(k);
    if (given !== undefined && given !== v) {
      issues.push({ field: `${flag} ${k}`, message: `"${given}" contradicts sub, which says "${v}"` });
    } else claims[k] = v;
  }
  if (issues.length)
    throw new UsageError(`Invalid ${flag}: ${issues.map((i) => i.message).join('; ')}`, issues);
  if (claims.aud === '' || (Array.isArray(claims.aud) && claims.aud.length === 0)) {
    throw UsageError.field(`${flag} aud`, 'missing: give aud=… or --audience');
  }
  if (claims.iss === undefined && defaults.issuerUrl) claims.iss = issuerFromUrl(defaults.issuerUrl).url;
  if (claims.namespace_path === undefined && typeof claims.project_path === 'string') {
    const slash = claims.project_path.lastIndexOf('/');
    if (slash > 0) claims.namespace_path = claims.project_path.slice(0, slash);
  }
  return claims;
}

// ---------- Request context ----------

export function audiencesOf(claims: Pick<ClaimSet, 'aud'>): string[] {
  return Array.isArray(claims.aud) ? claims.aud : [claims.aud];
}

/**
 * The condition keys STS puts in the request context for this token and provider: `<hostPath>:sub`,
 * `<hostPath>:aud` (and `:azp`/`:amr` when present); on `https://gitlab.com` also `gitlab.com:<claim>`
 * for the claims in GITLAB_COM_EXTRA_CLAIMS. Every other key is absent.
 */
export function buildRequestContext(
  claims: ClaimSet,
  provider: { hostPath: string; isGitlabCom: boolean },
): RequestContext {
  const ctx: RequestContext = {};
  const host = provider.hostPath;
  ctx[`${host}:sub`] = [claims.sub];
  ctx[`${host}:aud`] = audiencesOf(claims);
  for (const name of OIDC_CONDITION_CLAIMS) {
    const v = claims[name];
    if (name === 'sub' || name === 'aud' || v === undefined) continue;
    ctx[`${host}:${name}`] = Array.isArray(v) ? v : [String(v)];
  }
  if (provider.isGitlabCom) {
    for (const name of GITLAB_COM_EXTRA_CLAIMS) {
      const v = claims[name];
      if (v !== undefined && !Array.isArray(v)) ctx[`gitlab.com:${name}`] = [String(v)];
    }
  }
  return ctx;
}

// ---------- Display ----------

/** The claims worth showing (none of them secret): never the raw token, no e-mail. */
export interface ClaimSummary {
  sub: string;
  aud: string[];
  iss?: string | undefined;
  project_path?: string | undefined;
  project_id?: string | undefined;
  namespace_id?: string | undefined;
  ref?: string | undefined;
  ref_type?: string | undefined;
  ref_protected?: string | undefined;
  environment?: string | undefined;
  pipeline_source?: string | undefined;
  /** ISO time, when the claims carry `exp`. */
  expires?: string | undefined;
}

export function summarizeClaims(claims: ClaimSet): ClaimSummary {
  const s = (k: string) => (claims[k] === undefined ? undefined : String(claims[k]));
  const summary: ClaimSummary = { sub: claims.sub, aud: audiencesOf(claims) };
  const optional = {
    iss: s('iss'),
    project_path: s('project_path'),
    project_id: s('project_id'),
    namespace_id: s('namespace_id'),
    ref: s('ref'),
    ref_type: s('ref_type'),
    ref_protected: s('ref_protected'),
    environment: s('environment'),
    pipeline_source: s('pipeline_source'),
    expires: typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : undefined,
  };
  for (const [k, v] of Object.entries(optional))
    if (v !== undefined) (summary as unknown as Record<string, string>)[k] = v;
  return summary;
}
