/**
 * How long a network call may take before it is given up: AWS (per attempt, through the SDK's
 * request handler) and the tool's own HTTPS fetches (OIDC discovery, JWKS, the thumbprint TLS probe).
 * One override for all of them, `GITLAB_AWS_OIDC_TIMEOUT_MS`, for slow links and for tests.
 */
import { UsageError } from '../errors.js';

export const TIMEOUT_ENV = 'GITLAB_AWS_OIDC_TIMEOUT_MS';

export interface Timeouts {
  /** TCP/TLS connection set-up. */
  connectMs: number;
  /** One AWS request attempt, from sending to the last byte of the answer (the SDK retries on its own). */
  awsRequestMs: number;
  /** One HTTPS fetch or TLS probe of the GitLab instance. */
  httpMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 10_000, awsRequestMs: 30_000, httpMs: 10_000 };

const MAX_MS = 600_000;

/** The timeouts for this run: the defaults, or `GITLAB_AWS_OIDC_TIMEOUT_MS` for every request. */
export function resolveTimeouts(env: NodeJS.ProcessEnv = process.env): Timeouts {
  const raw = env[TIMEOUT_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_TIMEOUTS;
  const ms = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || ms < 1 || ms > MAX_MS) {
    throw UsageError.field(
      TIMEOUT_ENV,
      `"${raw}" is not a whole number of milliseconds between 1 and ${MAX_MS}`,
      `For example ${TIMEOUT_ENV}=60000 for one minute per request; unset it for the defaults (AWS 30 s, GitLab 10 s).`,
    );
  }
  return { connectMs: Math.min(ms, DEFAULT_TIMEOUTS.connectMs), awsRequestMs: ms, httpMs: ms };
}
