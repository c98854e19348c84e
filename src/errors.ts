/**
 * Typed errors and the single mapping to exit codes.
 * Only `cli.ts` turns an error into an exit code; everything else throws.
 */

export const ExitCode = {
  /** Done, no changes, assumable, all expectations met. */
  Ok: 0,
  /**
   * A failure: AWS or GitLab refused (AwsError, GitlabApiError in gitlab/api/errors.ts: 401/403/404/429/5xx),
   * an endpoint was unreachable or timed out, a check failed, something went wrong.
   */
  Failure: 1,
  /** Usage error or invalid input (detected before any AWS call or file write). */
  Usage: 2,
  /** The user aborted (Ctrl-C, or answered "no" to the confirmation). */
  Aborted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface FieldIssue {
  /** The flag or field, as the user knows it: `--branch`, `--role-name`, `policy file Statement[0]`. */
  field: string;
  message: string;
}

export interface CliErrorOptions {
  hint?: string;
  cause?: unknown;
  exitCode?: ExitCodeValue;
}

/** Base class of every error the tool reports on purpose. */
export class CliError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCodeValue;

  constructor(code: string, message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.Failure;
  }

  /** Extra lines shown under the message (one per invalid field, and so on). */
  details(): string[] {
    return [];
  }

  /**
   * For commands whose failure is itself a result (verify refused, audit over threshold): the command's
   * --json document, so a failed run prints the same shape as a successful one, plus `error`.
   */
  resultDocument(): Record<string, unknown> | undefined {
    return undefined;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details().length ? { details: this.details() } : {}),
    };
  }
}

/** Bad flags or bad input. Exit 2. Carries one issue per invalid field. */
export class UsageError extends CliError {
  readonly issues: FieldIssue[];

  constructor(message: string, issues: FieldIssue[] = [], options: Omit<CliErrorOptions, 'exitCode'> = {}) {
    super('USAGE', message, { ...options, exitCode: ExitCode.Usage });
    this.issues = issues;
  }

  /** Convenience: one invalid field. */
  static field(field: string, message: string, hint?: string): UsageError {
    return new UsageError(`Invalid ${field}: ${message}`, [{ field, message }], hint ? { hint } : {});
  }

  override details(): string[] {
    return this.issues.map((i) => `${i.field}: ${i.message}`);
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** The user said no, or pressed Ctrl-C. Exit 130. */
export class AbortError extends CliError {
  constructor(message = 'Aborted.', options: Omit<CliErrorOptions, 'exitCode'> = {}) {
    super('ABORTED', message, { ...options, exitCode: ExitCode.Aborted });
  }
}

/** One change a non-interactive run may make only with its consent flag. */
export interface ConsentRequest {
  /** `overwrite-drift`, `allow-widening`, `detach-unowned`. */
  consent: string;
  /** The flag that gives it: `--allow-widening`. */
  flag: string;
  resource: string;
  field: string;
  /** Human line with the values. */
  message: string;
}

/**
 * The plan overwrites changes made outside the tool, widens access, or removes what the tool did not
 * create, and the run may not ask (--yes, no terminal, --json). Exit 2, before any change.
 */
export class ConsentRequiredError extends CliError {
  readonly items: ConsentRequest[];

  constructor(items: ConsentRequest[]) {
    const flags = [...new Set(items.map((i) => i.flag))];
    super(
      'CONSENT_REQUIRED',
      `Nothing was changed: this plan needs explicit consent (${flags.join(', ')}).`,
      {
        exitCode: ExitCode.Usage,
        hint: `Check the plan (printed above; --dry-run shows it again), then re-run with ${flags.join(' ')} to apply it, or change the inputs so it is not needed.`,
      },
    );
    this.items = items;
  }

  override details(): string[] {
    return this.items.map((i) => `${i.message} (needs ${i.flag})`);
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), consents: this.items };
  }
}

/**
 * Interrupted (SIGINT/SIGTERM) part-way through applying: what was done and what was not. Exit 130.
 * The message lists both too, for the human report.
 */
export class InterruptedError extends AbortError {
  readonly done: string[];
  readonly notDone: string[];

  constructor(
    message: string,
    done: string[],
    notDone: string[],
    options: Omit<CliErrorOptions, 'exitCode'> = {},
  ) {
    super(message, options);
    this.done = done;
    this.notDone = notDone;
  }

  /** The interrupt report: how far the run got, then one line per change done and not done. */
  static after(done: string[], notDone: string[], cause?: unknown): InterruptedError {
    // A call cancelled in flight says which one, and whether IAM may have applied it.
    const inFlight = cause instanceof AbortError ? [cause.message] : [];
    const lines = [
      `Aborted after ${done.length} of ${done.length + notDone.length} changes; re-run the same command to finish.`,
      ...inFlight,
      ...done.map((d) => `  done: ${d}`),
      ...notDone.map((d) => `  not done: ${d}`),
    ];
    return new InterruptedError(lines.join('\n'), done, notDone, cause === undefined ? {} : { cause });
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), done: this.done, notDone: this.notDone };
  }
}

/**
 * A network call got no answer in time (an endpoint that accepts and never answers, a black-holed
 * route). Names the endpoint, the call and the limit, and says whether the call could have changed
 * anything. Exit 1.
 */
export class TimeoutError extends CliError {
  readonly operation: string;
  readonly endpoint: string;
  readonly timeoutMs: number;

  constructor(
    input: {
      operation: string;
      endpoint: string;
      timeoutMs: number;
      changesNothing: boolean;
      service?: string;
    },
    options: Omit<CliErrorOptions, 'exitCode'> = {},
  ) {
    const service = input.service ? ` (${input.service})` : '';
    const effect = input.changesNothing
      ? 'It only reads: nothing was changed by it.'
      : 'It may or may not have been applied: re-run the same command, it reads the state again and finishes.';
    super(
      'TIMEOUT',
      `${input.operation} at ${input.endpoint}${service} did not answer within ${formatMs(input.timeoutMs)}. ${effect}`,
      {
        hint:
          options.hint ??
          `Check that ${input.endpoint} is the right endpoint and reachable from here (VPN, firewall, proxy), or raise the limit with GITLAB_AWS_OIDC_TIMEOUT_MS (milliseconds).`,
        ...(options.cause === undefined ? {} : { cause: options.cause }),
      },
    );
    this.operation = input.operation;
    this.endpoint = input.endpoint;
    this.timeoutMs = input.timeoutMs;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      operation: this.operation,
      endpoint: this.endpoint,
      timeoutMs: this.timeoutMs,
    };
  }
}

function formatMs(ms: number): string {
  return ms < 1000 || ms % 1000 !== 0 ? `${ms} ms` : `${ms / 1000} s`;
}

/** An AWS call failed. Carries the AWS error name, the operation and the request ID. */
export class AwsError extends CliError {
  readonly awsCode: string;
  readonly operation: string;
  readonly requestId: string | undefined;

  constructor(
    operation: string,
    awsCode: string,
    message: string,
    options: Omit<CliErrorOptions, 'exitCode'> & { requestId?: string | undefined } = {},
  ) {
    super(`AWS_${awsCode}`, `${operation} failed: ${awsCode}: ${message}`, options);
    this.awsCode = awsCode;
    this.operation = operation;
    this.requestId = options.requestId;
  }

  override details(): string[] {
    return this.requestId ? [`request ID: ${this.requestId}`] : [];
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      awsCode: this.awsCode,
      operation: this.operation,
      ...(this.requestId ? { requestId: this.requestId } : {}),
    };
  }
}

/** No usable AWS credentials were found. */
export class CredentialsError extends CliError {
  constructor(message: string, options: Omit<CliErrorOptions, 'exitCode'> = {}) {
    super('NO_CREDENTIALS', message, {
      hint: 'Configure credentials (aws configure, aws sso login, AWS_PROFILE or --profile), or use --dry-run --offline to plan without AWS.',
      ...options,
    });
  }
}

/**
 * Part of a run was applied and then it failed. Lists what was done and what was not,
 * so the user knows a re-run is safe and what it will do.
 */
export class PartialApplyError extends CliError {
  readonly done: string[];
  readonly notDone: string[];

  /** `hint`: how to finish, when re-running the same command is not all there is to say. */
  constructor(cause: unknown, done: string[], notDone: string[], hint?: string) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super('PARTIAL_APPLY', `Apply stopped part-way: ${inner}`, {
      cause,
      hint:
        hint ??
        (cause instanceof AbortError
          ? 'Nothing is left in an unsafe state. Re-run the same command: it picks up where this run stopped.'
          : 'Nothing is left in an unsafe state. Fix the cause and re-run the same command: it picks up where this run stopped.'),
      // Stopped by an interrupt: the run was aborted (130), not failed.
      ...(cause instanceof AbortError ? { exitCode: ExitCode.Aborted } : {}),
    });
    this.done = done;
    this.notDone = notDone;
  }

  override details(): string[] {
    const base = this.cause instanceof CliError ? this.cause.details() : [];
    return [...base, ...this.done.map((d) => `done: ${d}`), ...this.notDone.map((d) => `not done: ${d}`)];
  }

  override toJSON(): Record<string, unknown> {
    const cause = this.cause instanceof CliError ? this.cause.toJSON() : undefined;
    return { ...super.toJSON(), done: this.done, notDone: this.notDone, ...(cause ? { cause } : {}) };
  }
}

/** Maps anything thrown to an exit code. The single place that does so. */
export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof CliError) return error.exitCode;
  if (isPromptAbort(error)) return ExitCode.Aborted;
  return ExitCode.Failure;
}

/** @inquirer/prompts throws ExitPromptError on Ctrl-C. */
export function isPromptAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError');
}
