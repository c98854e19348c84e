/** What the steps of one verify run share: options, deps, the lazily built AWS ports and redaction. */
import type { AwsClientOptions, AwsPorts } from '../aws/ports.js';
import { CliError } from '../errors.js';
import { VERSION } from '../version.js';
import type { VerifyDeps } from './deps.js';
import type { VerifyOptions } from './options.js';

export interface VerifyContext {
  options: VerifyOptions;
  deps: VerifyDeps;
  awsOptions: AwsClientOptions;
  /** The AWS ports, built once and only when first needed. */
  ports: () => Promise<AwsPorts>;
  /** Replaces the token with `<redacted>` in text bound for a log line or the result. */
  scrub: (text: string) => string;
}

export function createVerifyContext(
  options: VerifyOptions,
  deps: VerifyDeps,
  secret: string | undefined,
): VerifyContext {
  const scrub = (text: string) => (secret ? text.split(secret).join('<redacted>') : text);
  const awsOptions: AwsClientOptions = {
    region: options.region,
    profile: options.profile,
    userAgent: VERSION,
  };
  let portsPromise: Promise<AwsPorts> | undefined;
  const ports = (): Promise<AwsPorts> => {
    portsPromise ??= (async () => {
      if (deps.ports) return deps.ports;
      if (!deps.createPorts) throw new CliError('VERIFY_NO_AWS', 'No AWS client available.');
      return deps.createPorts(awsOptions);
    })();
    return portsPromise;
  };
  return { options, deps, awsOptions, ports, scrub };
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
