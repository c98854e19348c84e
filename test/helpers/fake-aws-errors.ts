/**
 * Errors shaped like the ones the SDK deserialises from real IAM/STS responses: the modeled
 * exception class where one exists (name `NoSuchEntityException`), otherwise the service's base
 * exception named after the wire code (`Throttling`, `AccessDenied`), with `Code`, `$fault` and
 * `$metadata.requestId` set as a real response would.
 */
import {
  ConcurrentModificationException,
  DeleteConflictException,
  EntityAlreadyExistsException,
  IAMServiceException,
  InvalidInputException,
  LimitExceededException,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  ServiceFailureException,
  UnmodifiableEntityException,
} from '@aws-sdk/client-iam';
import {
  ExpiredTokenException,
  IDPCommunicationErrorException,
  IDPRejectedClaimException,
  InvalidIdentityTokenException,
  STSServiceException,
} from '@aws-sdk/client-sts';

type ExceptionOptions = {
  message: string;
  $metadata: { httpStatusCode: number; requestId: string; attempts: number; totalRetryDelay: number };
};
type ExceptionClass = new (options: ExceptionOptions) => Error;

const IAM_MODELED: Record<string, ExceptionClass> = {
  ConcurrentModification: ConcurrentModificationException,
  DeleteConflict: DeleteConflictException,
  EntityAlreadyExists: EntityAlreadyExistsException,
  InvalidInput: InvalidInputException,
  LimitExceeded: LimitExceededException,
  MalformedPolicyDocument: MalformedPolicyDocumentException,
  NoSuchEntity: NoSuchEntityException,
  ServiceFailure: ServiceFailureException,
  UnmodifiableEntity: UnmodifiableEntityException,
};

const STS_MODELED: Record<string, ExceptionClass> = {
  ExpiredTokenException: ExpiredTokenException,
  IDPCommunicationError: IDPCommunicationErrorException,
  IDPRejectedClaim: IDPRejectedClaimException,
  InvalidIdentityToken: InvalidIdentityTokenException,
};

const STATUS: Record<string, number> = {
  NoSuchEntity: 404,
  EntityAlreadyExists: 409,
  LimitExceeded: 409,
  DeleteConflict: 409,
  ConcurrentModification: 409,
  AccessDenied: 403,
  ServiceFailure: 500,
};

const DEFAULT_MESSAGES: Record<string, string> = {
  AccessDenied: 'User: arn:aws:iam::123456789012:user/ci-admin is not authorized to perform this action',
  Throttling: 'Rate exceeded',
  ConcurrentModification:
    'A conflicting conditional operation is currently in progress against this resource.',
  ServiceFailure: 'The request processing has failed because of an unknown error, exception or failure.',
};

export function defaultMessageFor(code: string): string {
  return DEFAULT_MESSAGES[code] ?? `Injected ${code}`;
}

/** An error as the SDK would throw it for `code` from `service`. */
export function buildServiceError(
  service: 'iam' | 'sts',
  code: string,
  message: string,
  requestId: string,
): Error {
  const httpStatusCode = STATUS[code] ?? 400;
  const $metadata = { httpStatusCode, requestId, attempts: 1, totalRetryDelay: 0 };
  const modeled = (service === 'iam' ? IAM_MODELED : STS_MODELED)[code];
  const $fault = httpStatusCode >= 500 ? 'server' : 'client';
  const error = modeled
    ? new modeled({ message, $metadata })
    : service === 'iam'
      ? new IAMServiceException({ name: code, $fault, message, $metadata })
      : new STSServiceException({ name: code, $fault, message, $metadata });
  return Object.assign(error, {
    Code: code,
    Type: $fault === 'server' ? 'Receiver' : 'Sender',
    ...(code === 'Throttling' ? { $retryable: { throttling: true } } : {}),
  });
}

/** What the default credential chain throws when it finds nothing. */
export function buildNoCredentialsError(): Error {
  return Object.assign(new Error('Could not load credentials from any providers'), {
    name: 'CredentialsProviderError',
    tryNextLink: false,
  });
}

/** Thrown by handlers; `dispatch` turns it into a service error with the call's request ID. */
export class FakeAwsFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function fail(code: string, message: string): never {
  throw new FakeAwsFailure(code, message);
}
