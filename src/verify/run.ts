/**
 * `verify`: prove a role can be assumed with a GitLab ID token, and explain exactly why not.
 *
 * 1. Claims come from a real token (env var, file, stdin) or are simulated (--claims, --project):
 *    token-source.ts.
 * 2. With a token: AssumeRoleWithWebIdentity (bounded retry with backoff and jitter for
 *    InvalidIdentityToken / IDPCommunicationError / propagation AccessDenied), then GetCallerIdentity
 *    as the assumed role: assume.ts.
 * 3. On refusal, without a token, with --no-assume or --expect-deny: read the role's trust policy and
 *    the OIDC provider (when permitted), verify the token against the issuer's JWKS, evaluate the
 *    policy as IAM does, report known traps (explain.ts, iam-read.ts), and run the should-be-refused
 *    probes (expectations.ts).
 *
 * The token and the credentials stay in memory: they are never put in the result, a log line or an error.
 */
import { detectTraps } from '../core/traps.js';
import { CliError } from '../errors.js';
import { assumeWithRetry } from './assume.js';
import { createVerifyContext } from './context.js';
import type { VerifyDeps } from './deps.js';
import { runExpectations } from './expectations.js';
import { buildExplanation, type Explained } from './explain.js';
import type { VerifyOptions } from './options.js';
import type { AssumeOutcome, ExpectDenySummary, VerifyResult } from './result.js';
import { buildVerifyResult } from './summary.js';
import { loadInput } from './token-source.js';

export { RETRYABLE_ASSUME_CODES } from './assume.js';
export { createDefaultVerifyDeps, type VerifyDeps } from './deps.js';
export { claimsFromToken } from './token-source.js';

export async function runVerify(options: VerifyOptions, deps: VerifyDeps): Promise<VerifyResult> {
  const input = await loadInput(options, deps);
  const ctx = createVerifyContext(options, deps, input.token);
  const mode: VerifyResult['mode'] =
    input.kind === 'token' ? (options.assume ? 'assume' : 'explain') : 'simulate';

  let explained: Explained | undefined;
  const explain = async (): Promise<Explained> => {
    explained ??= await buildExplanation(ctx, input);
    return explained;
  };

  const assume: AssumeOutcome =
    mode === 'assume' && input.token
      ? await assumeWithRetry(ctx, input.token, explain)
      : { status: 'skipped', reason: mode === 'explain' ? '--no-assume' : 'no token: simulated claims' };

  const needExplanation = assume.status !== 'assumed' || options.expectDeny;
  const ex = needExplanation ? await explain() : undefined;
  const claims = ex?.claims ?? input.claims;
  if (!claims) throw new CliError('VERIFY_INTERNAL', 'No claims to report.');

  let expectDeny: ExpectDenySummary | undefined;
  if (options.expectDeny) {
    expectDeny = runExpectations(ex, claims);
  }

  const traps = ex?.traps ?? detectTraps({ claims, now: deps.now() });
  return buildVerifyResult(options, { mode, input, assume, ex, claims, traps, expectDeny });
}
