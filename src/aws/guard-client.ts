/**
 * Wraps an SDK client's `send` so that every call
 *   - carries the run's abort signal (SIGINT/SIGTERM cancel the request in flight instead of waiting
 *     for it), and fails with the tool's AbortError naming the call;
 *   - fails on the request handler's timeout with a TimeoutError naming the call and the endpoint
 *     (the one the SDK really used: AWS_ENDPOINT_URL_IAM/_STS and the like are honoured).
 * No SDK import: the client is taken by shape, so mocked clients work the same.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { AbortError, TimeoutError } from '../errors.js';

const uncancellable = new AsyncLocalStorage<true>();

/**
 * Runs `fn` with its calls NOT carrying the run's abort signal (the request timeout still bounds each):
 * for the one best-effort call that records what an interrupted run really did (aws/apply.ts), which
 * must still go out after Ctrl-C.
 */
export function runUncancellable<T>(fn: () => Promise<T>): Promise<T> {
  return uncancellable.run(true, fn);
}

interface HttpRequestShape {
  protocol?: string;
  hostname?: string;
  port?: number;
}

type Middleware = (
  next: (args: { request: unknown }) => Promise<unknown>,
  context: { commandName?: string },
) => (args: { request: unknown }) => Promise<unknown>;

export interface GuardableClient {
  send(command: unknown, options?: unknown): Promise<unknown>;
  middlewareStack: { add(middleware: Middleware, options: { step: 'finalizeRequest'; name: string }): void };
}

export interface GuardOptions {
  service: 'IAM' | 'STS';
  signal?: AbortSignal | undefined;
  /** Per attempt, for the error message. */
  requestTimeoutMs: number;
  /** Where the SDK sends requests when no request was made yet (for messages only). */
  defaultEndpoint: string;
  /**
   * Told of each attempt the SDK's own retry makes (throttling, transient errors) that failed, and of a
   * call that succeeded after a retry: for the debug output. Not the tool's eventual-consistency
   * retries (retry.ts), which wrap whole calls.
   */
  onAttempt?: ((attempt: SdkAttempt) => void) | undefined;
}

export interface SdkAttempt {
  service: 'IAM' | 'STS';
  operation: string;
  /** 1-based, from the SDK's `amz-sdk-request: attempt=N; max=M` header. */
  attempt: number;
  maxAttempts: number;
  /** The error of a failed attempt (undefined: the attempt succeeded, after an earlier one failed). */
  error?: unknown;
}

/** `attempt=2; max=6` (the SDK's retry header) → numbers; undefined without it. */
function attemptOf(request: unknown): { attempt: number; max: number } | undefined {
  const headers = (request as { headers?: Record<string, string> } | undefined)?.headers;
  const value = headers?.['amz-sdk-request'];
  const m = value ? /attempt=(\d+);\s*max=(\d+)/.exec(value) : null;
  return m ? { attempt: Number(m[1]), max: Number(m[2]) } : undefined;
}

/** Read-only calls: a timeout or an interrupt there changed nothing. */
export function changesNothing(operation: string): boolean {
  return /^(Get|List)/.test(operation) || operation === 'AssumeRoleWithWebIdentity';
}

function isTimeout(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown } | undefined;
  return e?.name === 'TimeoutError' || e?.code === 'ETIMEDOUT';
}

function isAbort(error: unknown): boolean {
  return (error as { name?: unknown } | undefined)?.name === 'AbortError';
}

export function operationOf(command: unknown): string {
  const name = (command as { constructor?: { name?: string } } | undefined)?.constructor?.name ?? 'request';
  return name.replace(/Command$/, '');
}

export function guardClient<C extends GuardableClient>(client: C, options: GuardOptions): C {
  let endpoint = options.defaultEndpoint;
  const { onAttempt } = options;
  client.middlewareStack.add(
    // Inside the SDK's retry middleware: runs once per attempt.
    (next, context) => async (args) => {
      const request = args.request as HttpRequestShape | undefined;
      if (request?.hostname) {
        const port = request.port ? `:${request.port}` : '';
        endpoint = `${request.protocol ?? 'https:'}//${request.hostname}${port}`;
      }
      if (!onAttempt) return next(args);
      const at = attemptOf(args.request);
      const report = (error?: unknown) =>
        at &&
        onAttempt({
          service: options.service,
          operation: (context.commandName ?? 'request').replace(/Command$/, ''),
          attempt: at.attempt,
          maxAttempts: at.max,
          ...(error === undefined ? {} : { error }),
        });
      try {
        const out = await next(args);
        if (at && at.attempt > 1) report();
        return out;
      } catch (error) {
        report(error);
        throw error;
      }
    },
    { step: 'finalizeRequest', name: 'gitlabAwsOidcEndpointRecorder' },
  );
  const send = client.send.bind(client);
  const guarded = async (command: unknown, sendOptions?: unknown) => {
    const operation = operationOf(command);
    try {
      return await send(command, {
        ...(options.signal && !uncancellable.getStore() ? { abortSignal: options.signal } : {}),
        ...(sendOptions as object | undefined),
      });
    } catch (error) {
      if (isTimeout(error)) {
        throw new TimeoutError(
          {
            operation,
            endpoint,
            timeoutMs: options.requestTimeoutMs,
            changesNothing: changesNothing(operation),
            service: options.service,
          },
          { cause: error },
        );
      }
      if (isAbort(error)) {
        const effect = changesNothing(operation)
          ? 'it only reads: nothing was changed by it'
          : `${options.service} may or may not have applied it`;
        throw new AbortError(
          `Interrupted: ${operation} to ${endpoint} was cancelled in flight; ${effect}. Re-run the same command to finish.`,
        );
      }
      throw error;
    }
  };
  client.send = guarded as C['send'];
  return client;
}
