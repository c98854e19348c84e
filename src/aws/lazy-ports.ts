/**
 * The AWS ports as the commands build them: on first use, through a dynamic import of the factory,
 * so that `--help` and runs that never reach AWS do not load the SDK.
 */
import { createLogger } from '../io/logger.js';
import { resolveTimeouts } from '../io/timeouts.js';
import { VERSION } from '../version.js';
import type { AwsClientOptions, AwsPorts } from './ports.js';

export function lazyAwsPorts(
  options: Pick<AwsClientOptions, 'region' | 'profile'>,
  /** Required: every AWS call of a command is cancelled by its signal and bounded by its timeouts. */
  context: {
    signal: AbortSignal | undefined;
    env: NodeJS.ProcessEnv | undefined;
    /** Where debug lines go (GITLAB_AWS_OIDC_DEBUG): the SDK's throttling retries, one line each. */
    stderr?: NodeJS.WritableStream | undefined;
  },
): () => Promise<AwsPorts> {
  return async () => {
    const env = context.env ?? process.env;
    const debug =
      context.stderr && env.GITLAB_AWS_OIDC_DEBUG
        ? createLogger({ stream: context.stderr, env }).debug
        : undefined;
    const { createAwsPorts } = await import('./factory.js');
    return createAwsPorts({
      region: options.region,
      profile: options.profile,
      userAgent: VERSION,
      signal: context.signal,
      timeouts: resolveTimeouts(context.env),
      debug,
    });
  };
}
