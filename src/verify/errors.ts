import { CliError } from '../errors.js';
import { type VerifyResult, verifyDocument } from './result.js';

/**
 * The role could not be assumed, the simulated job would be refused, or an --expect-deny probe
 * would be allowed. Exit 1. Carries the whole result so `--json` failures keep the same document
 * (the verify document, with `ok: false` and `error`).
 */
export class VerifyFailedError extends CliError {
  readonly result: VerifyResult;

  constructor(result: VerifyResult) {
    super('VERIFY_FAILED', result.summary, { hint: hintFor(result) });
    this.result = result;
  }

  override resultDocument(): Record<string, unknown> {
    return verifyDocument(this.result);
  }
}

function hintFor(result: VerifyResult): string | undefined {
  const firstHint = result.traps.find((t) => t.severity === 'error' && t.hint)?.hint;
  if (firstHint) return firstHint;
  if (result.explanation && !result.explanation.available) {
    return 'Run verify on a machine whose AWS credentials may read the role (iam:GetRole, iam:GetOpenIDConnectProvider) for a full explanation.';
  }
  return undefined;
}
