/** The verdict of a verify run: whether it passed, the result document and its one-line summary. */
import { type ClaimSet, summarizeClaims } from '../core/claims.js';
import { BLOCKING_TRAP_CODES, type Trap } from '../core/traps.js';
import type { Explained } from './explain.js';
import type { VerifyOptions } from './options.js';
import type { AssumeOutcome, ExpectDenySummary, VerifyResult } from './result.js';
import type { LoadedInput } from './token-source.js';

export interface VerifyFindings {
  mode: VerifyResult['mode'];
  input: LoadedInput;
  assume: AssumeOutcome;
  ex: Explained | undefined;
  claims: ClaimSet;
  traps: Trap[];
  expectDeny: ExpectDenySummary | undefined;
}

export function buildVerifyResult(options: VerifyOptions, findings: VerifyFindings): VerifyResult {
  const { mode, input, assume, ex, claims, traps, expectDeny } = findings;
  const evaluation = ex?.evaluation;
  const expectationsMet = !expectDeny || (expectDeny.checked && expectDeny.allowedCount === 0);
  let ok: boolean;
  if (assume.status === 'assumed') ok = expectationsMet;
  else if (assume.status === 'refused') ok = false;
  else {
    ok =
      evaluation?.assumable === true &&
      ex?.token?.signature !== 'invalid' &&
      !traps.some((t) => BLOCKING_TRAP_CODES.has(t.code)) &&
      expectationsMet;
  }

  const result: VerifyResult = {
    ok,
    mode,
    roleArn: options.roleArn,
    ...(mode === 'assume' ? { sessionName: options.sessionName } : {}),
    claimsSource: input.kind,
    claims: summarizeClaims(claims),
    ...(ex?.token
      ? { token: ex.token }
      : input.sourceLabel
        ? { token: { source: input.sourceLabel, signature: 'not-checked' as const } }
        : {}),
    assume,
    ...(ex ? { provider: ex.provider } : {}),
    ...(ex
      ? {
          explanation: evaluation
            ? { available: true as const, evaluation }
            : { available: false as const, reason: ex.roleProblem ?? 'the trust policy could not be read' },
        }
      : {}),
    traps,
    ...(expectDeny ? { expectDeny } : {}),
    ...(ex?.gitlab ? { gitlab: ex.gitlab } : {}),
    summary: '',
  };
  result.summary = summarize(result);
  return result;
}

function summarize(r: VerifyResult): string {
  const expect =
    r.expectDeny === undefined
      ? ''
      : r.expectDeny.checked
        ? r.expectDeny.allowedCount > 0
          ? `; ${r.expectDeny.allowedCount} of ${r.expectDeny.results.length} should-be-refused jobs would be ALLOWED${r.expectDeny.results.some((x) => x.unproven) ? ' or are not proven refused' : ''}`
          : `; all ${r.expectDeny.results.length} should-be-refused jobs are refused`
        : `; --expect-deny not checked: ${r.expectDeny.reason}`;
  const decision = r.explanation?.available ? r.explanation.evaluation.decision : undefined;
  const caveats = r.explanation?.available ? r.explanation.evaluation.caveats.length : 0;
  const resting = caveats
    ? `; the answer rests on ${caveats} assumption${caveats === 1 ? '' : 's'} (see Caveats)`
    : '';
  if (r.assume.status === 'assumed') return `Assumed ${r.roleArn} as ${r.assume.assumedRoleArn}${expect}.`;
  if (r.assume.status === 'refused') {
    const why = decision && decision !== 'allowed' ? ` (trust policy: ${decision})` : '';
    return `AWS refused to let this token assume ${r.roleArn}: ${r.assume.code}${why}${expect}.`;
  }
  const who = r.mode === 'simulate' ? 'A job with these claims' : 'This token';
  if (!r.explanation?.available) {
    return `Cannot tell whether ${who.toLowerCase()} may assume ${r.roleArn}: ${r.explanation?.reason ?? 'no explanation'}${expect}.`;
  }
  const blocking = r.traps.find((t) => BLOCKING_TRAP_CODES.has(t.code));
  const assumable = r.explanation.evaluation.assumable && !blocking && r.token?.signature !== 'invalid';
  return `${who} ${assumable ? 'may' : 'may NOT'} assume ${r.roleArn}${assumable ? '' : ` (${blocking ? blocking.code : r.token?.signature === 'invalid' ? 'invalid token' : r.explanation.evaluation.decision})`}${resting}${expect}.`;
}
