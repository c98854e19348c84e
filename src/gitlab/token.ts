/**
 * GitLab CI ID tokens: decode (for explanations), verify (as STS would: signature from the
 * instance's JWKS, issuer, audience, time) and redact (for printing). The raw token never appears
 * in an error, a log line or a return value.
 */
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { CliError } from '../errors.js';
import { fetchDiscovery } from './discovery.js';
import { fetchJson, type HttpOptions } from './http.js';

/** The claims GitLab puts in an ID token (IDs are strings, except `runner_id`, a number). */
export interface GitlabIdTokenClaims extends JWTPayload {
  namespace_id?: string;
  namespace_path?: string;
  project_id?: string;
  project_path?: string;
  user_id?: string;
  user_login?: string;
  user_email?: string;
  user_access_level?: string;
  pipeline_id?: string;
  pipeline_source?: string;
  job_id?: string;
  ref?: string;
  ref_type?: string;
  ref_path?: string;
  ref_protected?: string;
  environment?: string;
  environment_protected?: string;
  deployment_tier?: string;
  runner_id?: number | string;
  runner_environment?: string;
  sha?: string;
  ci_config_ref_uri?: string;
  ci_config_sha?: string;
  project_visibility?: string;
}

/** Claims that are safe to print: they identify the job, not the person, and grant nothing. */
export const SAFE_CLAIMS = [
  'sub',
  'aud',
  'iss',
  'project_id',
  'project_path',
  'namespace_id',
  'namespace_path',
  'ref',
  'ref_type',
  'ref_protected',
  'environment',
  'pipeline_source',
  'exp',
  'iat',
  'nbf',
] as const;
export type SafeClaimName = (typeof SAFE_CLAIMS)[number];
export type SafeClaims = Partial<Pick<GitlabIdTokenClaims, SafeClaimName>>;

/** Keeps only SAFE_CLAIMS (user e-mail/login, jti, runner and pipeline details are dropped). */
export function redactClaims(claims: GitlabIdTokenClaims | JWTPayload): SafeClaims {
  const out: Record<string, unknown> = {};
  const source = claims as Record<string, unknown>;
  for (const name of SAFE_CLAIMS) if (source[name] !== undefined) out[name] = source[name];
  return out as SafeClaims;
}

export type TokenFailure =
  | 'malformed'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'issuer-mismatch'
  | 'unknown-kid'
  | 'audience-mismatch'
  | 'algorithm'
  | 'invalid-claims';

/** Why a token did not verify. `claims` are the redacted (unverified) claims, when decodable. */
export class TokenError extends CliError {
  readonly reason: TokenFailure;
  readonly claims: SafeClaims | undefined;

  constructor(
    reason: TokenFailure,
    message: string,
    options: { hint?: string; cause?: unknown; claims?: SafeClaims | undefined } = {},
  ) {
    super(`TOKEN_${reason.toUpperCase().replace(/-/g, '_')}`, message, {
      ...(options.hint ? { hint: options.hint } : {}),
      cause: options.cause,
    });
    this.reason = reason;
    this.claims = options.claims;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reason: this.reason, ...(this.claims ? { claims: this.claims } : {}) };
  }
}

/** Decodes claims without verifying anything. For explanations only: never trust the result. */
export function decodeGitlabToken(token: string): GitlabIdTokenClaims {
  try {
    return decodeJwt(token.trim()) as GitlabIdTokenClaims;
  } catch (error) {
    throw new TokenError(
      'malformed',
      'The value is not a JWT (expected three base64url parts separated by dots).',
      {
        hint: 'Pass the ID token itself (the value of the variable named under id_tokens), not CI_JOB_TOKEN.',
        cause: error,
      },
    );
  }
}

/** `3m 12s`, `2h 5m`, `4d 1h`, `45s`. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [label, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || (parts.length === 0 && size === 1)) parts.push(`${n}${label}`);
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

function isoOf(epochSeconds: unknown): string {
  return typeof epochSeconds === 'number' ? new Date(epochSeconds * 1000).toISOString() : 'unknown';
}

export interface VerifyTokenOptions extends HttpOptions {
  /** The instance the token must come from. Default: the token's own `iss` (then check it yourself). */
  issuerUrl?: string | undefined;
  /** `aud` the token must carry (one of the provider's client IDs). Not checked when absent. */
  audience?: string | string[] | undefined;
  /** The clock to check exp/nbf against. Default: now. */
  now?: Date | undefined;
  /** Allowed clock skew in seconds. Default 0 (STS allows little). */
  clockToleranceSec?: number | undefined;
}

/**
 * Verifies a GitLab ID token against its issuer's published keys (discovery → jwks_uri), RS256 only.
 * Returns the verified claims, or throws a TokenError whose `reason` says exactly why not.
 */
export async function verifyGitlabToken(
  token: string,
  options: VerifyTokenOptions = {},
): Promise<GitlabIdTokenClaims> {
  const jwt = token.trim();
  const unverified = decodeGitlabToken(jwt);
  const safe = redactClaims(unverified);
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(jwt).kid;
  } catch (error) {
    throw new TokenError('malformed', 'The token header cannot be decoded.', { cause: error, claims: safe });
  }
  if (typeof unverified.iss !== 'string' || !unverified.iss) {
    throw new TokenError('invalid-claims', 'The token has no "iss" claim: it is not a GitLab ID token.', {
      claims: safe,
    });
  }
  const issuer = options.issuerUrl ? options.issuerUrl.replace(/\/+$/, '') : unverified.iss;
  if (unverified.iss !== issuer) {
    throw new TokenError('issuer-mismatch', `The token was issued by "${unverified.iss}", not "${issuer}".`, {
      hint:
        unverified.iss.replace(/\/+$/, '') === issuer
          ? 'They differ only by a trailing slash; STS compares the issuer exactly.'
          : 'The token comes from another GitLab instance, or the GitLab URL given here is spelled differently ' +
            "from the instance's external_url (scheme, host, port or path).",
      claims: safe,
    });
  }
  if (!issuer.startsWith('https://')) {
    throw new TokenError('issuer-mismatch', `The token's issuer "${issuer}" is not an https URL.`, {
      hint: "IAM only trusts https issuers: the instance's external_url must be https://…",
      claims: safe,
    });
  }

  const http: HttpOptions = {
    ca: options.ca,
    fetchImpl: options.fetchImpl,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  };
  const discovery = await fetchDiscovery(issuer, http);
  const jwksDoc = await fetchJson(discovery.jwks_uri, 'JSON Web Key Set', 'JWKS', http);
  let keySet: ReturnType<typeof createLocalJWKSet>;
  try {
    keySet = createLocalJWKSet(jwksDoc as JSONWebKeySet);
  } catch (error) {
    throw new CliError('JWKS_INVALID', `The JSON Web Key Set at ${discovery.jwks_uri} is not a valid JWKS.`, {
      cause: error,
    });
  }

  const now = options.now ?? new Date();
  try {
    const { payload } = await jwtVerify(jwt, keySet, {
      issuer,
      algorithms: ['RS256'],
      currentDate: now,
      clockTolerance: options.clockToleranceSec ?? 0,
      ...(options.audience !== undefined ? { audience: options.audience } : {}),
    });
    return payload as GitlabIdTokenClaims;
  } catch (error) {
    throw explainJoseError(error, {
      claims: unverified,
      safe,
      kid,
      keySetKids: kidsOf(jwksDoc),
      jwksUri: discovery.jwks_uri,
      audience: options.audience,
      now,
    });
  }
}

function kidsOf(jwks: unknown): string[] {
  const keys = (jwks as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return [];
  return keys.map((k) => (k as { kid?: unknown }).kid).filter((k): k is string => typeof k === 'string');
}

interface FailureContext {
  claims: GitlabIdTokenClaims;
  safe: SafeClaims;
  kid: string | undefined;
  keySetKids: string[];
  jwksUri: string;
  audience: string | string[] | undefined;
  now: Date;
}

function explainJoseError(error: unknown, ctx: FailureContext): Error {
  const { claims, safe } = ctx;
  const nowSec = Math.floor(ctx.now.getTime() / 1000);
  const base = { cause: error, claims: safe };
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenError(
      'bad-signature',
      `The token's signature does not match key "${ctx.kid ?? '(no kid)'}" of ${ctx.jwksUri}.`,
      {
        ...base,
        hint: 'It was altered, or signed by a different key that reuses the kid: do not trust it.',
      },
    );
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    const known = ctx.keySetKids.length ? ctx.keySetKids.join(', ') : 'none';
    return new TokenError(
      'unknown-kid',
      `The instance publishes no key with kid "${ctx.kid ?? '(none)'}" (published: ${known}).`,
      {
        ...base,
        hint: 'The token was signed by another instance, or the signing key was rotated since it was minted.',
      },
    );
  }
  if (error instanceof errors.JWTExpired) {
    const ago = typeof claims.exp === 'number' ? formatDuration(nowSec - claims.exp) : 'some time';
    return new TokenError('expired', `The token expired ${ago} ago (exp ${isoOf(claims.exp)}).`, {
      ...base,
      hint: 'ID tokens live as long as the job timeout (5 minutes when none is set). Re-run the job for a fresh one.',
    });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') {
      const inSec = typeof claims.nbf === 'number' ? formatDuration(claims.nbf - nowSec) : 'some time';
      return new TokenError(
        'not-yet-valid',
        `The token is not valid yet: it becomes valid in ${inSec} (nbf ${isoOf(claims.nbf)}).`,
        {
          ...base,
          hint: "Check this machine's clock (and the GitLab server's).",
        },
      );
    }
    if (error.claim === 'iss') {
      return new TokenError(
        'issuer-mismatch',
        `The token's issuer "${String(claims.iss)}" is not the expected one.`,
        base,
      );
    }
    if (error.claim === 'aud') {
      const got = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
      const want = Array.isArray(ctx.audience) ? ctx.audience : [ctx.audience];
      return new TokenError(
        'audience-mismatch',
        `The token's audience ${JSON.stringify(got)} does not include ${want.map((w) => JSON.stringify(w)).join(' or ')}.`,
        {
          ...base,
          hint: "Set the job's id_tokens aud to one of the IAM provider's client IDs (or add it as one).",
        },
      );
    }
    return new TokenError(
      'invalid-claims',
      `The token's "${error.claim}" claim is invalid: ${error.message}.`,
      base,
    );
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new TokenError(
      'algorithm',
      'The token is not signed with RS256, the algorithm GitLab uses.',
      base,
    );
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new TokenError('malformed', `The token is malformed: ${error.message}.`, base);
  }
  if (error instanceof errors.JOSEError) {
    return new TokenError('invalid-claims', `The token did not verify: ${error.message}.`, base);
  }
  return error instanceof Error ? error : new Error(String(error));
}
