/** The token (env var, file, stdin) or the simulated claims `verify` starts from. */
import { type ClaimSet, type PartialClaims, parseClaimsFlag } from '../core/claims.js';
import { type CliError, UsageError } from '../errors.js';
import { decodeGitlabToken } from '../gitlab/token.js';
import type { VerifyDeps } from './deps.js';
import type { VerifyOptions } from './options.js';

export interface LoadedInput {
  kind: 'token' | 'claims' | 'job';
  /** Only for kind `token`. Never leaves the verify modules. */
  token?: string;
  sourceLabel?: string;
  /** Final for a token; completed after the provider is read for simulations. */
  claims?: ClaimSet;
  partial?: PartialClaims;
}

function sourceFlag(options: VerifyOptions): string {
  if (options.input.kind !== 'token') return options.input.kind === 'claims' ? '--claims' : '--project';
  const s = options.input.source;
  return s.kind === 'env' ? '--token-env' : s.kind === 'stdin' ? '--token' : s.flag;
}

export async function loadInput(options: VerifyOptions, deps: VerifyDeps): Promise<LoadedInput> {
  const input = options.input;
  if (input.kind === 'claims') return { kind: 'claims', partial: parseClaimsFlag(input.claims, '--claims') };
  if (input.kind === 'job') return { kind: 'job' };
  const source = input.source;
  const flag = sourceFlag(options);
  let raw: string;
  let label: string;
  if (source.kind === 'env') {
    raw = deps.env[source.name] ?? '';
    label = `$${source.name}`;
    if (!raw.trim()) throw UsageError.field('--token-env', `$${source.name} is not set or is empty`);
  } else if (source.kind === 'stdin') {
    raw = await deps.readStdin();
    label = 'stdin';
  } else {
    label = source.flag === '--token' ? `--token ${source.path}` : `$${source.flag} (${source.path})`;
    try {
      raw = await deps.readFile(source.path);
    } catch (error) {
      const code =
        (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
      throw UsageError.field(flag, `cannot read ${source.path} (${code})`);
    }
  }
  const token = raw.trim();
  if (!token) throw UsageError.field(flag, `the token from ${label} is empty`);
  let decoded: Record<string, unknown>;
  try {
    decoded = decodeGitlabToken(token) as Record<string, unknown>;
  } catch (error) {
    throw UsageError.field(
      flag,
      error instanceof Error ? error.message : 'is not a JWT',
      (error as CliError).hint,
    );
  }
  return { kind: 'token', token, sourceLabel: label, claims: claimsFromToken(decoded, flag) };
}

/** A decoded token payload as a ClaimSet (primitive claims only). */
export function claimsFromToken(payload: Record<string, unknown>, flag = '--token'): ClaimSet {
  const sub = payload.sub;
  const aud = payload.aud;
  if (typeof sub !== 'string' || !sub)
    throw UsageError.field(flag, 'the token has no "sub" claim: not a GitLab ID token');
  const audiences = Array.isArray(aud)
    ? aud.filter((a): a is string => typeof a === 'string')
    : typeof aud === 'string'
      ? [aud]
      : [];
  const claims: ClaimSet = { sub, aud: audiences.length === 1 ? (audiences[0] as string) : audiences };
  for (const [k, v] of Object.entries(payload)) {
    if (k === 'sub' || k === 'aud') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') claims[k] = v;
  }
  return claims;
}
