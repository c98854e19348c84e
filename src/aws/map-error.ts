/**
 * Turns whatever the SDK throws into the tool's typed errors. No SDK import: errors are
 * recognised by shape (`name`, `Code`, `$metadata`), which also covers mocked clients.
 */
import { AwsError, CliError, CredentialsError } from '../errors.js';

/** Error names the SDK's credential chain throws when it finds nothing usable. */
const NO_CREDENTIALS_NAMES = new Set(['CredentialsProviderError', 'ProviderError', 'TokenProviderError']);

/** Service answers meaning "your credentials are not valid", reported like missing credentials. */
const BAD_CREDENTIALS_CODES = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
]);

/**
 * Wire codes whose modeled SDK class appends `Exception` to the name (`NoSuchEntityException`).
 * A real response also carries `Code` (the wire code); a hand-made error in a test may not.
 */
const SUFFIXED_CODES = new Set([
  'NoSuchEntity',
  'EntityAlreadyExists',
  'MalformedPolicyDocument',
  'LimitExceeded',
  'DeleteConflict',
  'ConcurrentModification',
  'InvalidInput',
  'ServiceFailure',
  'UnmodifiableEntity',
  'EntityTemporarilyUnmodifiable',
  'PolicyNotAttachable',
  'InvalidIdentityToken',
  'IDPRejectedClaim',
  'IDPCommunicationError',
  'PackedPolicyTooLarge',
]);

interface SdkErrorShape {
  name?: unknown;
  Code?: unknown;
  message?: unknown;
  $metadata?: { requestId?: unknown };
  /** From the XML error body, when the response had no x-amzn-requestid header. */
  RequestId?: unknown;
}

/** The AWS error code as IAM/STS documents it (`NoSuchEntity`, `Throttling`, `AccessDenied`). */
export function readAwsErrorCode(error: unknown): string {
  const e = (error ?? {}) as SdkErrorShape;
  if (typeof e.Code === 'string' && e.Code) return e.Code;
  const name = typeof e.name === 'string' && e.name ? e.name : 'UnknownError';
  const stripped = name.replace(/Exception$/, '');
  return SUFFIXED_CODES.has(stripped) ? stripped : name;
}

/** True when `error` (SDK or already mapped) carries this AWS error code. */
export function hasAwsErrorCode(error: unknown, code: string): boolean {
  if (error instanceof AwsError) return error.awsCode === code;
  return readAwsErrorCode(error) === code;
}

export interface MapErrorOptions {
  /** Strings (a web identity token) scrubbed from the message before it is kept. */
  secrets?: string[];
  /**
   * False for unsigned calls (AssumeRoleWithWebIdentity): there `ExpiredTokenException` is about the
   * web identity token, not the caller's credentials.
   */
  signed?: boolean;
}

/**
 * Maps an SDK error to `CredentialsError` or `AwsError`; `CliError`s pass through.
 * The SDK error itself is not kept as `cause`: only its name, message and request ID survive.
 */
export function mapAwsError(operation: string, error: unknown, options: MapErrorOptions = {}): CliError {
  const { secrets = [], signed = true } = options;
  if (error instanceof CliError) return error;
  const e = (error ?? {}) as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  const rawMessage = typeof e.message === 'string' ? e.message : String(error);
  const message = redactSecrets(rawMessage, secrets);
  if (NO_CREDENTIALS_NAMES.has(name)) {
    return new CredentialsError(`No usable AWS credentials found: ${message}`);
  }
  const code = readAwsErrorCode(error);
  const requestId = [e.$metadata?.requestId, e.RequestId].find(
    (id): id is string => typeof id === 'string' && id !== '',
  );
  const awsError = new AwsError(operation, code, message, { requestId });
  if (signed && BAD_CREDENTIALS_CODES.has(code)) {
    return new CredentialsError(`AWS rejected the credentials (${code}): ${message}`, { cause: awsError });
  }
  return awsError;
}

function redactSecrets(message: string, secrets: string[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join('<redacted>');
  }
  return out;
}
