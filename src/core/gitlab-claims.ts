/**
 * Facts about GitLab ID-token claims and the condition keys STS makes of them, in one place for the
 * claim simulator (claims.ts), the `sub` helpers (subject.ts), the linter and the trap finder. Pure.
 *
 * - `sub` is `component:value` pairs joined by `:`; GitLab's default components are
 *   `project_path,ref_type,ref`, configurable per project (`ci_id_token_sub_claim_components`,
 *   GitLab 17.10+) from SUB_COMPONENTS, the first being `project_path` or `project_id`.
 * - For every OIDC provider STS sets `<host>[/<path>]:sub`, `:aud` (and `:amr`, `:azp`); for the
 *   provider whose URL is exactly `https://gitlab.com` it also sets `gitlab.com:<claim>` for the
 *   claims in GITLAB_COM_EXTRA_CLAIMS. Every other key is absent from the request.
 */
import type { RefType } from './types.js';

/** The host (and IAM provider URL without scheme) of GitLab.com. */
export const GITLAB_COM_HOST = 'gitlab.com';

/** Components allowed in a customised `sub` (`ci_id_token_sub_claim_components`). */
export const SUB_COMPONENTS = [
  'project_path',
  'project_id',
  'ref_type',
  'ref',
  'ref_protected',
  'environment_protected',
  'deployment_tier',
] as const;

export type SubComponent = (typeof SUB_COMPONENTS)[number];

/** GitLab's default `sub`: `project_path:<path>:ref_type:<branch|tag>:ref:<name>`. */
export const DEFAULT_SUB_COMPONENTS: readonly SubComponent[] = ['project_path', 'ref_type', 'ref'];

export function isSubComponent(name: string): name is SubComponent {
  return (SUB_COMPONENTS as readonly string[]).includes(name);
}

/** The components a `sub` may start with: every GitLab `sub` names its project first. */
export function isProjectComponent(name: string | undefined): name is 'project_path' | 'project_id' {
  return name === 'project_path' || name === 'project_id';
}

/** Which project component a `sub` value (or pattern) starts with, if either. */
export function subProjectComponent(sub: string): 'project_path' | 'project_id' | undefined {
  if (sub.startsWith('project_path:')) return 'project_path';
  if (sub.startsWith('project_id:')) return 'project_id';
  return undefined;
}

/** GitLab's `ref_type` is only ever `branch` or `tag` (merge-request pipelines carry the source branch). */
export function isRefType(value: string | undefined): value is RefType {
  return value === 'branch' || value === 'tag';
}

/** A `sub` taken apart into its `component:value` pairs. */
export interface SubClaimParts {
  /** Which identifier the `sub` starts with. */
  format: 'project_path' | 'project_id' | 'unknown';
  components: Partial<Record<SubComponent, string>>;
  /** Component order as found. */
  order: SubComponent[];
}

/**
 * Parses a GitLab `sub` (`project_path:g/p:ref_type:branch:ref:main`) in any component order.
 * Unambiguous because neither project paths nor git refs may contain `:`. A component GitLab does
 * not know, or a name without a value, makes it `unknown` (with no components).
 */
export function parseSubClaim(sub: string): SubClaimParts {
  const parts = sub.split(':');
  const components: Partial<Record<SubComponent, string>> = {};
  const order: SubComponent[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const name = parts[i] ?? '';
    if (!isSubComponent(name)) return { format: 'unknown', components: {}, order: [] };
    components[name] = parts[i + 1] ?? '';
    order.push(name);
  }
  if (parts.length % 2 !== 0) return { format: 'unknown', components: {}, order: [] };
  const first = order[0];
  return { format: isProjectComponent(first) ? first : 'unknown', components, order };
}

/** `[['project_path', 'g/p'], ['ref', 'main']]` → `project_path:g/p:ref:main` (GitLab's pairs joined by `:`). */
export function formatSubClaim(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([component, value]) => `${component}:${value}`).join(':');
}

/** Claims STS sets as `<host>:<claim>` for any OIDC provider. */
export const OIDC_CONDITION_CLAIMS = ['sub', 'aud', 'amr', 'azp'] as const;

/** Claims STS also exposes as `gitlab.com:<claim>` condition keys, only for the provider `https://gitlab.com`. */
export const GITLAB_COM_EXTRA_CLAIMS = [
  'project_id',
  'namespace_id',
  'ref_protected',
  'pipeline_source',
  'runner_environment',
  'user_id',
  'user_login',
  'user_email',
  'user_access_level',
] as const;

/** The claims STS turns into condition keys for a provider, in a stable order (sub, aud, amr, azp, …). */
export function conditionClaimsFor(gitlabCom: boolean): readonly string[] {
  return gitlabCom ? [...OIDC_CONDITION_CLAIMS, ...GITLAB_COM_EXTRA_CLAIMS] : OIDC_CONDITION_CLAIMS;
}

/** True when `claim` (lower case) is one of the extra `gitlab.com:*` keys. */
export function isGitlabComExtraClaim(claim: string): boolean {
  return (GITLAB_COM_EXTRA_CLAIMS as readonly string[]).includes(claim);
}

/**
 * `gitlab.example.com/gitlab:sub` → `{ host: 'gitlab.example.com/gitlab', claim: 'sub' }`, as written
 * (keys are case-insensitive: compare in lower case). Undefined for keys of AWS services and global
 * keys (`aws:…`, `sts:…`, `s3:…`): their prefix has no dot or slash, an issuer host always has one.
 */
export function splitOidcKey(key: string): { host: string; claim: string } | undefined {
  const colon = key.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const host = key.slice(0, colon);
  if (!/[./]/.test(host)) return undefined;
  return { host, claim: key.slice(colon + 1) };
}
