/**
 * Builds the AWS ports once per run. The ONLY module that loads @aws-sdk/* at runtime
 * (`iam.ts`/`sts.ts` are reached through here).
 *
 * What is left to the SDK on purpose, so the usual AWS environment keeps working:
 * - credentials: the default chain (env, SSO, web identity, profiles, container/instance metadata);
 *   `profile` goes into the client config, which the chain honours like AWS_PROFILE;
 * - endpoints: no `endpoint` is passed, so AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_IAM / _STS work;
 * - retries: the SDK's own, in its adaptive mode (client-side rate limiting once IAM throttles: what a
 *   bulk run needs) with DEFAULT_MAX_ATTEMPTS attempts, unless AWS_RETRY_MODE / AWS_MAX_ATTEMPTS say
 *   otherwise (then the SDK reads them as usual). Adaptive costs nothing until a call is throttled: its
 *   rate limiter only starts then. (A profile's retry_mode / max_attempts give way to these defaults.)
 *   The tool's IAM eventual-consistency retries (retry.ts) are separate: they wrap whole calls.
 * What is set: connection and request timeouts on the SDK's own Node HTTP handler (given as options,
 * so the SDK still builds its handler and agent), and the run's abort signal on every call
 * (`guard-client.ts`): a hung endpoint ends in a TimeoutError, Ctrl-C/SIGTERM cancels the call.
 * Proxies: the JS SDK ignores HTTPS_PROXY/HTTP_PROXY/NO_PROXY, the AWS CLI does not; when one is set
 * the handler gets agents that decide per request, from the endpoint the SDK resolved (so a loopback
 * AWS_ENDPOINT_URL_* listed in NO_PROXY stays direct): src/io/proxy.ts. Without one, nothing changes.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { CredentialsError } from '../errors.js';
import { createAwsProxyAgents } from '../io/proxy.js';
import { resolveTimeouts, type Timeouts } from '../io/timeouts.js';
import { guardClient, type SdkAttempt } from './guard-client.js';
import { createIamPort } from './iam.js';
import type { AssumedRole, AwsClientOptions, AwsPorts, StsPort } from './ports.js';
import { createStsPort } from './sts.js';

const TOOL_NAME = 'gitlab-aws-oidc';
const DEFAULT_REGION = 'us-east-1';
/** Attempts per AWS call (the first and the SDK's retries) when AWS_MAX_ATTEMPTS is not set. */
export const DEFAULT_MAX_ATTEMPTS = 6;

/** The SDK retry settings to pass: adaptive and DEFAULT_MAX_ATTEMPTS, each unless the environment sets it. */
export function resolveRetrySettings(...envs: Readonly<Record<string, string | undefined>>[]): {
  retryMode?: 'adaptive';
  maxAttempts?: number;
} {
  const set = (name: string) => envs.some((env) => env[name] !== undefined && env[name] !== '');
  return {
    ...(set('AWS_RETRY_MODE') ? {} : { retryMode: 'adaptive' as const }),
    ...(set('AWS_MAX_ATTEMPTS') ? {} : { maxAttempts: DEFAULT_MAX_ATTEMPTS }),
  };
}

/** One debug line per failed SDK attempt, and per call that succeeded after a retry. */
export function describeSdkAttempt(a: SdkAttempt): string {
  const call = `${a.service} ${a.operation}`;
  if (a.error === undefined) return `${call}: succeeded on attempt ${a.attempt} of ${a.maxAttempts}`;
  // Query-protocol errors carry IAM's own code (`Throttling`); `name` is the SDK's class name.
  const e = a.error as { Code?: string; name?: string; message?: string };
  const why = `${e.Code ?? e.name ?? 'Error'}${e.message ? `: ${e.message}` : ''}`;
  return a.attempt < a.maxAttempts
    ? `${call}: attempt ${a.attempt} of ${a.maxAttempts} failed (${why}); the SDK retries it if the error is retryable`
    : `${call}: attempt ${a.attempt} of ${a.maxAttempts} failed (${why}); no attempt left`;
}

/** IAM is global: requests are signed in the partition's home region. */
export function resolveIamRegion(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'cn-north-1';
  if (region?.startsWith('us-gov-')) return 'us-gov-west-1';
  return DEFAULT_REGION;
}

/** STS uses its regional endpoint: the given region, else AWS_REGION, else us-east-1. */
export function resolveStsRegion(region: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return region || env.AWS_REGION || DEFAULT_REGION;
}

function buildSharedConfig(options: AwsClientOptions, timeouts: Timeouts) {
  const proxyAgents = createAwsProxyAgents(options.env ?? process.env);
  return {
    ...(options.profile ? { profile: options.profile } : {}),
    // The SDK reads AWS_RETRY_MODE / AWS_MAX_ATTEMPTS from process.env itself.
    ...resolveRetrySettings(process.env, options.env ?? {}),
    ...(options.userAgent ? { customUserAgent: [[TOOL_NAME, options.userAgent]] as [string, string][] } : {}),
    // NodeHttpHandler options: the SDK builds the handler (and its agent) from them.
    requestHandler: {
      connectionTimeout: timeouts.connectMs,
      requestTimeout: timeouts.awsRequestMs,
      throwOnRequestTimeout: true,
      ...proxyAgents,
    },
  };
}

function guard<C extends { send: unknown }>(
  client: C,
  service: 'IAM' | 'STS',
  options: AwsClientOptions,
  timeouts: Timeouts,
): C {
  return guardClient(client as never, {
    service,
    signal: options.signal,
    requestTimeoutMs: timeouts.awsRequestMs,
    defaultEndpoint: `the ${service} endpoint`,
    onAttempt: options.debug ? (a) => options.debug?.(describeSdkAttempt(a)) : undefined,
  }) as C;
}

/**
 * The SDK warns on stderr at client creation when Node is older than its next minimum; this
 * tool supports Node 20 on purpose, so the warning is noise. An explicit setting is respected.
 */
function silenceNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

export function createAwsPorts(options: AwsClientOptions = {}): AwsPorts {
  silenceNodeVersionWarning();
  const timeouts = options.timeouts ?? resolveTimeouts();
  const shared = buildSharedConfig(options, timeouts);
  const stsRegion = resolveStsRegion(options.region);
  const sts = guard(new STSClient({ ...shared, region: stsRegion }), 'STS', options, timeouts);
  // One credential chain for both clients: an SSO or assume-role profile resolves once.
  const iam = guard(
    new IAMClient({
      ...shared,
      region: resolveIamRegion(stsRegion),
      credentials: sts.config.credentials,
    }),
    'IAM',
    options,
    timeouts,
  );
  return { iam: createIamPort(iam), sts: nameProfileOnCredentialErrors(createStsPort(sts), options.profile) };
}

/** With --profile, a credentials failure says which profile was tried and how to check it. */
function nameProfileOnCredentialErrors(port: StsPort, profile: string | undefined): StsPort {
  if (!profile) return port;
  return {
    ...port,
    getCallerIdentity: async () => {
      try {
        return await port.getCallerIdentity();
      } catch (error) {
        if (!(error instanceof CredentialsError)) throw error;
        throw new CredentialsError(`${error.message} (profile "${profile}")`, {
          cause: error,
          hint: `Check that profile "${profile}" exists and has credentials (aws configure list-profiles; aws sso login --profile ${profile}), or drop --profile.`,
        });
      }
    },
  };
}

/**
 * An StsPort acting as an assumed role, e.g. to call GetCallerIdentity with the credentials
 * AssumeRoleWithWebIdentity returned. The credentials stay inside the client.
 */
export function createStsPortForCredentials(
  credentials: AssumedRole['credentials'],
  options: AwsClientOptions = {},
): StsPort {
  silenceNodeVersionWarning();
  const { profile: _ignored, ...rest } = options;
  const timeouts = options.timeouts ?? resolveTimeouts();
  const client = new STSClient({
    ...buildSharedConfig(rest, timeouts),
    region: resolveStsRegion(options.region),
    credentials,
  });
  return createStsPort(guard(client, 'STS', options, timeouts));
}
