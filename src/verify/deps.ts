/** What `verify` needs from the outside world, and the real implementations of it. */
import type { AssumedRole, AwsClientOptions, AwsPorts, StsPort } from '../aws/ports.js';
import type { GitlabPort } from '../gitlab/api/ports.js';
import type { HttpOptions } from '../gitlab/http.js';
import type { VerifyTokenOptions } from '../gitlab/token.js';
import type { Logger } from '../io/logger.js';
import { resolveTimeouts } from '../io/timeouts.js';

export interface VerifyDeps {
  /** Ports to use; otherwise `createPorts` builds them (once, only when AWS is needed). */
  ports?: AwsPorts | undefined;
  createPorts?: ((options: AwsClientOptions) => AwsPorts | Promise<AwsPorts>) | undefined;
  /** An StsPort acting with the assumed role's credentials (for GetCallerIdentity). */
  stsForCredentials: (
    credentials: AssumedRole['credentials'],
    options: AwsClientOptions,
  ) => StsPort | Promise<StsPort>;
  /** Verifies a token against its issuer's JWKS (gitlab/token.ts `verifyGitlabToken`). */
  verifyToken: (token: string, options: VerifyTokenOptions) => Promise<unknown>;
  env: NodeJS.ProcessEnv;
  readFile: (path: string) => Promise<string>;
  readStdin: () => Promise<string>;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  random?: (() => number) | undefined;
  /** CA / fetch / timeout for OIDC discovery and JWKS. */
  http?: HttpOptions | undefined;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
  /**
   * The GitLab API of an instance (`https://host[/path]`), when a token for it is there; undefined
   * otherwise. `verify --project` then fills project_id, namespace_id, ref_protected and the sub
   * components from GitLab. The client loads on the first call.
   */
  gitlab?: ((gitlabUrl: string) => (() => Promise<GitlabPort>) | undefined) | undefined;
}

/** Real dependencies; the AWS SDK and jose verification load only when used. */
export function createDefaultVerifyDeps(context: {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
}): VerifyDeps {
  // Ctrl-C/SIGTERM cancels the AWS call in flight; GITLAB_AWS_OIDC_TIMEOUT_MS bounds each one.
  const runSettings = (): AwsClientOptions => ({
    signal: context.signal,
    timeouts: resolveTimeouts(context.env),
  });
  return {
    createPorts: async (o) => (await import('../aws/factory.js')).createAwsPorts({ ...runSettings(), ...o }),
    stsForCredentials: async (c, o) =>
      (await import('../aws/factory.js')).createStsPortForCredentials(c, { ...runSettings(), ...o }),
    verifyToken: async (t, o) => (await import('../gitlab/token.js')).verifyGitlabToken(t, o),
    env: context.env,
    readFile: async (path) => (await import('node:fs/promises')).readFile(path, 'utf8'),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks).toString('utf8');
    },
    now: () => new Date(),
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          context.signal?.removeEventListener('abort', done);
          resolve();
        }
        context.signal?.addEventListener('abort', done, { once: true });
      }),
    logger: context.logger,
    signal: context.signal,
  };
}
