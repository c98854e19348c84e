/**
 * Human lines for a verify result (stdout). Pure: result → lines; colour through the semantic palette.
 */
import { describeStatementRef } from '../core/evaluate.js';
import { BLOCKING_TRAP_CODES } from '../core/traps.js';
import type { Palette } from '../io/colors.js';
import type { VerifyResult } from './result.js';

const plain: Palette = {
  good: (t) => t,
  change: (t) => t,
  danger: (t) => t,
  warn: (t) => t,
  muted: (t) => t,
  strong: (t) => t,
  code: (t) => t,
};

const LABEL_WIDTH = 14;
const label = (name: string) => name.padEnd(LABEL_WIDTH);
const indent = ' '.repeat(LABEL_WIDTH);

function section(name: string, lines: string[]): string[] {
  return lines.map((line, i) => `${i === 0 ? label(name) : indent}${line}`);
}

export function formatVerifyResult(result: VerifyResult, palette: Palette = plain): string[] {
  const p = palette;
  const out: string[] = [];
  out.push(`${label('Role')}${result.roleArn}`);

  if (result.token) {
    const t = result.token;
    const state =
      t.signature === 'verified'
        ? p.good('signature, issuer and lifetime verified against the issuer keys')
        : t.signature === 'invalid'
          ? p.danger(`INVALID (${t.failure?.reason}): ${t.failure?.message ?? ''}`)
          : result.assume.status === 'assumed'
            ? p.good('accepted by STS')
            : p.muted(`not checked${t.note ? `: ${t.note}` : ''}`);
    out.push(`${label('Token')}${t.source}: ${state}`);
  } else {
    out.push(
      `${label('Claims from')}${result.claimsSource === 'claims' ? '--claims' : '--project/--branch/--tag'} (simulated job, no token)`,
    );
  }

  const c = result.claims;
  const claimLines = [
    `sub ${p.code(c.sub)}`,
    `aud ${c.aud.map((a) => p.code(a)).join(', ')}${c.iss ? `   iss ${c.iss}` : ''}`,
  ];
  const project = c.project_path
    ? `project ${c.project_path}${c.project_id ? ` (id ${c.project_id})` : ''}`
    : '';
  const ref = c.ref
    ? `ref ${c.ref} (${c.ref_type ?? '?'}${c.ref_protected === 'true' ? ', protected' : c.ref_protected === 'false' ? ', not protected' : ''})`
    : '';
  const extra = [project, ref, c.expires ? `expires ${c.expires}` : ''].filter(Boolean).join('   ');
  if (extra) claimLines.push(extra);
  out.push(...section('Claims', claimLines));
  if (result.gitlab) {
    const g = result.gitlab;
    const filled = g.filled.length
      ? `filled ${g.filled.join(', ')} from ${g.url}`
      : `nothing filled from ${g.url}`;
    out.push(...section('GitLab', [filled, ...g.notes.map((n) => p.muted(n))]));
  }

  const a = result.assume;
  if (a.status === 'assumed') {
    out.push(
      `${label('Result')}${p.good('✓ assumed')} as ${a.assumedRoleArn} (account ${a.account}); credentials expire ${a.expiration}${a.attempts > 1 ? ` (after ${a.attempts} attempts)` : ''}`,
    );
  } else if (a.status === 'refused') {
    const stopped = {
      'not-retryable': 'not retryable',
      timeout: 'gave up: --timeout reached',
      explained: 'not retried: the checks below explain it',
      aborted: 'interrupted',
    }[a.stoppedBecause];
    out.push(
      `${label('Result')}${p.danger(`✗ refused: ${a.code}`)}: ${a.message} (${a.attempts} attempt${a.attempts === 1 ? '' : 's'}; ${stopped})`,
    );
  } else if (result.explanation?.available) {
    const ev = result.explanation.evaluation;
    const blocked =
      result.traps.some((t) => BLOCKING_TRAP_CODES.has(t.code)) || result.token?.signature === 'invalid';
    const verdict =
      ev.decision === 'malformed'
        ? p.danger('✗ would be refused: IAM refuses this trust policy (MalformedPolicyDocument)')
        : ev.assumable && !blocked
          ? p.good('✓ would be allowed')
          : p.danger('✗ would be refused');
    out.push(`${label('Result')}${verdict} (${a.reason})`);
  } else {
    out.push(`${label('Result')}${p.warn('? cannot tell')} (${a.reason})`);
  }

  if (result.provider) {
    const pr = result.provider;
    const state =
      pr.found === false
        ? p.danger('NOT FOUND')
        : pr.found
          ? `client IDs ${(pr.clientIds ?? []).map((id) => p.code(id)).join(', ') || '(none)'}`
          : p.muted('could not be read');
    out.push(`${label('Provider')}${pr.arn}: ${state}`);
  }

  if (result.explanation) {
    const ex = result.explanation;
    if (!ex.available) {
      out.push(`${label('Why')}${p.muted(`no explanation: ${ex.reason}`)}`);
    } else {
      const ev = ex.evaluation;
      out.push(...section('Why', ev.reasons));
      const policyLines: string[] = [];
      for (const s of ev.statements) {
        const ref = describeStatementRef(s);
        const passed = s.conditions.filter((x) => x.passed).length;
        const mark = s.applies ? p.good('✓') : p.danger('✗');
        policyLines.push(
          `${mark} ${ref} ${s.effect}: principal ${s.principalMatched ? '✓' : '✗'}, action ${s.actionMatched ? '✓' : '✗'}, conditions ${passed}/${s.conditions.length}`,
        );
        for (const cond of s.conditions)
          policyLines.push(`    ${cond.passed ? p.good('✓') : p.danger('✗')} ${cond.line}`);
      }
      policyLines.push(`${ev.audience.passed ? p.good('✓') : p.danger('✗')} ${ev.audience.line}`);
      out.push(...section('Trust policy', policyLines));
      // What the answer rests on besides IAM's documented behaviour.
      const caveats = ev.caveats.map(
        (c) => `${p.warn('!')} ${c.statement !== undefined ? `statement #${c.statement}: ` : ''}${c.message}`,
      );
      if (caveats.length) out.push(...section('Caveats', caveats));
    }
  }

  if (result.traps.length) {
    const lines: string[] = [];
    for (const t of result.traps) {
      lines.push(`${t.severity === 'error' ? p.danger('✗') : p.warn('!')} ${t.message}`);
      if (t.hint) lines.push(p.muted(`  hint: ${t.hint}`));
    }
    out.push(...section('Traps', lines));
  }
  if (result.token?.failure?.hint) out.push(`${indent}${p.muted(`hint: ${result.token.failure.hint}`)}`);

  if (result.expectDeny) {
    const e = result.expectDeny;
    if (!e.checked) out.push(`${label('Expect deny')}${p.warn(`not checked: ${e.reason}`)}`);
    else {
      out.push(
        ...section(
          'Expect deny',
          e.results.map((r) =>
            r.unproven
              ? p.danger(
                  `✗ NOT PROVEN REFUSED: ${r.label} (the refusal rests on a case IAM does not document)`,
                )
              : r.allowed
                ? p.danger(
                    `✗ ALLOWED: ${r.label}${r.decisiveStatement !== undefined ? ` (by statement #${r.decisiveStatement})` : ''}`,
                  )
                : `${p.good('✓')} refused: ${r.label}`,
          ),
        ),
      );
    }
  }

  // On failure the CLI prints the summary as the error (stderr); do not say it twice.
  if (result.ok) out.push('', p.good(result.summary));
  return out;
}
