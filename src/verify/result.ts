/**
 * The result of `verify`, and its `--json` document. The document is the stable contract for
 * scripts (see `verifyDocument`). Nothing here ever holds the token or credentials.
 */
import type { ClaimSummary } from '../core/claims.js';
import type { Evaluation } from '../core/evaluate.js';
import type { Trap } from '../core/traps.js';
import type { ProbeId } from './expect-deny.js';
import type { GitlabLookupSummary } from './gitlab-facts.js';

export type VerifyMode =
  /** A real token: AssumeRoleWithWebIdentity was called. */
  | 'assume'
  /** A real token with --no-assume: verified and evaluated, not exchanged. */
  | 'explain'
  /** No token: --claims or --project/--branch/--tag, evaluated against the live trust policy. */
  | 'simulate';

export interface TokenCheck {
  /** Where the token was read: `$GITLAB_OIDC_TOKEN`, `--token ./t.jwt`, `stdin`, `AWS_WEB_IDENTITY_TOKEN_FILE`. */
  source: string;
  /** Signature, exp/nbf and issuer against the issuer's published keys. */
  signature: 'verified' | 'invalid' | 'not-checked';
  failure?: { reason: string; message: string; hint?: string | undefined } | undefined;
  /** Why it was not checked (e.g. the JWKS could not be fetched). */
  note?: string | undefined;
}

export type AssumeOutcome =
  | {
      status: 'assumed';
      account: string;
      /** `arn:aws:sts::…:assumed-role/<role>/<session>` as GetCallerIdentity reports it. */
      assumedRoleArn: string;
      /** ISO time the temporary credentials expire. */
      expiration: string;
      attempts: number;
    }
  | {
      status: 'refused';
      /** AWS error code: AccessDenied, InvalidIdentityToken, ExpiredTokenException, … */
      code: string;
      message: string;
      attempts: number;
      /** Why retrying stopped: `not-retryable`, `timeout`, or `explained` (the trust policy refuses it). */
      stoppedBecause: 'not-retryable' | 'timeout' | 'explained' | 'aborted';
    }
  | { status: 'skipped'; reason: string };

export interface ProviderInfo {
  arn: string;
  /** Whether IAM has it (undefined: could not be read). */
  found?: boolean | undefined;
  url?: string | undefined;
  clientIds?: string[] | undefined;
}

export type Explanation = { available: true; evaluation: Evaluation } | { available: false; reason: string };

export interface ExpectDenyResult {
  id: ProbeId;
  label: string;
  sub: string;
  /** True = the trust policy would let this job in, or its refusal is `unproven`: an expectation failure. */
  allowed: boolean;
  /** Refused only through a case IAM does not document (see the explanation's caveats). */
  unproven?: true | undefined;
  decision: Evaluation['decision'];
  decisiveStatement?: number | undefined;
}

export type ExpectDenySummary =
  | { checked: true; results: ExpectDenyResult[]; allowedCount: number }
  | { checked: false; reason: string };

export interface VerifyResult {
  /** Exit 0: assumable (and every --expect-deny probe refused). */
  ok: boolean;
  mode: VerifyMode;
  roleArn: string;
  sessionName?: string | undefined;
  /** What the claims came from. */
  claimsSource: 'token' | 'claims' | 'job';
  /** The claims that matter, redacted (never the token). */
  claims: ClaimSummary;
  token?: TokenCheck | undefined;
  assume: AssumeOutcome;
  provider?: ProviderInfo | undefined;
  explanation?: Explanation | undefined;
  traps: Trap[];
  expectDeny?: ExpectDenySummary | undefined;
  /** `--project` with a GitLab token: the claims GitLab filled (the flags win), and notes. */
  gitlab?: GitlabLookupSummary | undefined;
  /** One line: what happened. */
  summary: string;
}

/**
 * The `--json` document. On success it is printed as is; on failure (exit 1) the same object is
 * the top level of the error document the CLI prints (plus `error`):
 *   { ok: true, command: 'verify', exitCode: 0, mode, roleArn, claims, assume, … }
 *   { ok: false, command: 'verify', exitCode: 1, mode, roleArn, …, error: { code: 'VERIFY_FAILED', message, hint } }
 * Fields: see VerifyResult. `explanation.evaluation.statements[].conditions[]` carry
 * operator, key, expected, actual, passed, outcome and the human `line`;
 * `explanation.evaluation.malformed[]` why IAM refuses the policy (decision `malformed`), and
 * `explanation.evaluation.caveats[]` ({ code, message, statement? }) what the answer rests on besides
 * IAM's documented behaviour (an assumed issuer, an undocumented comparison).
 */
export function verifyDocument(result: VerifyResult): Record<string, unknown> {
  const { ok, ...rest } = result;
  return { ok, command: 'verify', exitCode: ok ? 0 : 1, ...rest };
}
