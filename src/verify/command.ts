/**
 * `verify` as the CLI runs it: raw flags → options → runVerify → stdout (lines or one JSON document).
 * Loaded lazily by commands/verify.ts, so `--help` never loads the AWS SDK.
 */
import { gitlabWithToken } from '../gitlab/api/with-token.js';
import { createCommandIo } from '../io/command-io.js';
import type { CommandContext } from '../io/context.js';
import { VerifyFailedError } from './errors.js';
import { formatVerifyResult } from './format.js';
import { type RawVerifyFlags, resolveVerifyOptions } from './options.js';
import { type VerifyResult, verifyDocument } from './result.js';
import { createDefaultVerifyDeps, runVerify, type VerifyDeps } from './run.js';

/**
 * Exit 0 when the role is assumable (and every --expect-deny probe is refused); otherwise throws
 * VerifyFailedError (exit 1) after printing the explanation. Bad flags throw UsageError (exit 2).
 */
export async function runVerifyCommand(
  flags: RawVerifyFlags,
  context: CommandContext,
  overrides: Partial<VerifyDeps> = {},
): Promise<VerifyResult> {
  const options = resolveVerifyOptions(flags, context.env);
  const { logger, output, stdoutPalette } = createCommandIo(context, { json: options.json });
  const deps: VerifyDeps = {
    ...createDefaultVerifyDeps({ env: context.env, signal: context.signal, logger }),
    gitlab: gitlabWithToken(context, options),
    ...overrides,
  };
  const result = await runVerify(options, deps);
  output.lines(formatVerifyResult(result, stdoutPalette));
  if (!result.ok) throw new VerifyFailedError(result);
  output.document(verifyDocument(result));
  return result;
}
