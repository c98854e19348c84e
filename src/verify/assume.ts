/**
 * AssumeRoleWithWebIdentity with a bounded retry (backoff with jitter, up to --timeout) for IAM
 * propagation and IdP hiccups, then GetCallerIdentity as the assumed role. The credentials never
 * leave this module.
 */
import type { AssumedRole } from '../aws/ports.js';
import { BLOCKING_TRAP_CODES } from '../core/traps.js';
import { AbortError, AwsError, CliError } from '../errors.js';
import { describeError, type VerifyContext } from './context.js';
import type { Explained } from './explain.js';
import type { AssumeOutcome } from './result.js';

/** AssumeRoleWithWebIdentity errors worth retrying: IAM propagation and IdP hiccups. */
export const RETRYABLE_ASSUME_CODES = new Set([
  'InvalidIdentityToken',
  'IDPCommunicationError',
  'AccessDenied',
]);
const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 10_000;

/** The local checks already say STS refuses: waiting for propagation would not help. */
const conclusive = (ex: Explained): boolean =>
  (ex.evaluation !== undefined && !ex.evaluation.assumable) ||
  ex.token?.signature === 'invalid' ||
  ex.traps.some((t) => BLOCKING_TRAP_CODES.has(t.code));

export async function assumeWithRetry(
  ctx: VerifyContext,
  token: string,
  explain: () => Promise<Explained>,
): Promise<AssumeOutcome> {
  const { options, deps, scrub } = ctx;
  const log = deps.logger;
  const sts = (await ctx.ports()).sts;
  const start = deps.now().getTime();
  const random = deps.random ?? Math.random;
  let slept = 0;
  for (let attempt = 1; ; attempt++) {
    let assumed: AssumedRole;
    try {
      assumed = await sts.assumeRoleWithWebIdentity({
        roleArn: options.roleArn,
        token,
        sessionName: options.sessionName,
      });
    } catch (error) {
      // Ctrl-C/SIGTERM cancelled the call: the run ends (exit 130); it is no answer from STS.
      if (error instanceof AbortError) throw error;
      const code =
        error instanceof AwsError ? error.awsCode : error instanceof CliError ? error.code : 'UnknownError';
      const message = scrub(
        error instanceof AwsError
          ? error.message.replace(/^AssumeRoleWithWebIdentity failed: [^:]+: /, '')
          : describeError(error),
      );
      const refused = (stoppedBecause: Extract<AssumeOutcome, { status: 'refused' }>['stoppedBecause']) =>
        ({ status: 'refused', code, message, attempts: attempt, stoppedBecause }) as const;
      if (!RETRYABLE_ASSUME_CODES.has(code)) return refused('not-retryable');
      if (deps.signal?.aborted) return refused('aborted');
      if (conclusive(await explain())) return refused('explained');
      const elapsed = Math.max(deps.now().getTime() - start, slept);
      const remaining = options.timeoutMs - elapsed;
      if (remaining <= 0) return refused('timeout');
      const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1));
      const delay = Math.min(remaining, Math.round(ceiling / 2 + (random() * ceiling) / 2));
      log?.info(
        `${code} (attempt ${attempt}): retrying in ${(delay / 1000).toFixed(1)} s; a just-created role or provider can take a moment to propagate (gives up after ${Math.round(options.timeoutMs / 1000)} s, --timeout)`,
      );
      await deps.sleep(delay);
      slept += delay;
      if (deps.signal?.aborted) return refused('aborted');
      continue;
    }
    // Assumed. Prove the credentials work by asking STS who we are with them.
    let account = options.roleArn.split(':')[4] ?? '';
    let assumedRoleArn = assumed.assumedRoleArn;
    try {
      const asRole = await deps.stsForCredentials(assumed.credentials, ctx.awsOptions);
      const identity = await asRole.getCallerIdentity();
      account = identity.account;
      assumedRoleArn = identity.arn;
    } catch (error) {
      log?.warn(
        `GetCallerIdentity with the assumed role's credentials failed: ${scrub(describeError(error))}`,
      );
    }
    return {
      status: 'assumed',
      account,
      assumedRoleArn,
      expiration: assumed.expiration.toISOString(),
      attempts: attempt,
    };
  }
}
