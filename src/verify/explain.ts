/**
 * Why STS would (or would not) let these claims assume the role: the role and provider read from IAM,
 * simulated claims completed, the token checked against its issuer's JWKS, the trust policy evaluated
 * as IAM does, and the known traps.
 */
import {
  buildClaims,
  buildRequestContext,
  type ClaimSet,
  completeClaims,
  type SubComponent,
} from '../core/claims.js';
import { type Evaluation, evaluateTrustPolicy } from '../core/evaluate.js';
import { detectTraps, STS_CLOCK_SKEW_SECONDS, type Trap } from '../core/traps.js';
import type { OidcProviderState, RoleState } from '../core/types.js';
import { AbortError } from '../errors.js';
import { TokenError } from '../gitlab/token.js';
import { describeError, type VerifyContext } from './context.js';
import { type GitlabLookupSummary, mergeGitlabFacts, readGitlabJobFacts } from './gitlab-facts.js';
import { parseRoleArn, readProvider, readRole, resolveIssuer } from './iam-read.js';
import type { SimulatedJobOptions } from './options.js';
import type { ProviderInfo, TokenCheck } from './result.js';
import type { LoadedInput } from './token-source.js';

type SimulatedJob = SimulatedJobOptions & { subComponents?: readonly SubComponent[] | undefined };

export interface Explained {
  role?: RoleState | undefined;
  roleProblem?: string | undefined;
  hostPath: string;
  isGitlabCom: boolean;
  provider: ProviderInfo;
  providerState?: OidcProviderState | undefined;
  claims: ClaimSet;
  token?: TokenCheck | undefined;
  evaluation?: Evaluation | undefined;
  traps: Trap[];
  /** What GitLab filled in a simulated job (`--project` with a GitLab token). */
  gitlab?: GitlabLookupSummary | undefined;
}

export async function buildExplanation(ctx: VerifyContext, input: LoadedInput): Promise<Explained> {
  const now = ctx.deps.now();
  const role = parseRoleArn(ctx.options.roleArn);
  const { role: roleState, problem: roleProblem } = await readRole(ctx, role);
  const { hostPath, isGitlabCom, assumption } = resolveIssuer(ctx, input, roleState);
  const { provider, providerState, traps: extraTraps } = await readProvider(ctx, input, role, hostPath);
  const providerArn = provider.arn;
  const looked = input.claims ? undefined : await lookupJob(ctx, hostPath);
  const claims =
    input.claims ?? simulateClaims(ctx, input, { hostPath, isGitlabCom }, provider.clientIds, looked?.job);
  const token = await checkToken(ctx, input, now);

  // The trust policy, evaluated as IAM does, and the known traps.
  const evaluation = roleState
    ? evaluateTrustPolicy({
        policy: roleState.trustPolicy,
        providerArn,
        clientIds: provider.clientIds,
        providerFound: provider.found,
        assumptions: assumption ? [assumption] : undefined,
        context: buildRequestContext(claims, { hostPath, isGitlabCom }),
      })
    : undefined;
  const traps = [
    ...extraTraps,
    ...detectTraps({
      policy: roleState?.trustPolicy,
      provider: {
        arn: providerArn,
        hostPath,
        clientIds: provider.clientIds,
        isGitlabCom,
        found: provider.found,
      },
      claims,
      now,
    }),
  ];
  return {
    role: roleState,
    roleProblem,
    hostPath,
    isGitlabCom,
    provider,
    providerState,
    claims,
    token,
    evaluation,
    traps,
    ...(looked ? { gitlab: looked.summary } : {}),
  };
}

/** `--project` with a GitLab token for the issuer: the job as GitLab would run it. */
async function lookupJob(
  ctx: VerifyContext,
  hostPath: string,
): Promise<{ job: SimulatedJob; summary: GitlabLookupSummary } | undefined> {
  const { options, deps } = ctx;
  if (options.input.kind !== 'job') return undefined;
  const url = options.gitlabUrl ?? `https://${hostPath}`;
  const port = deps.gitlab?.(url);
  if (!port) return undefined;
  let read: Awaited<ReturnType<typeof readGitlabJobFacts>>;
  try {
    read = await readGitlabJobFacts(await port(), options.input.job);
  } catch (error) {
    // Ctrl-C ends the run; any other GitLab failure leaves the simulation to the flags, said plainly.
    if (error instanceof AbortError) throw error;
    const why = ctx.scrub(describeError(error));
    return { job: options.input.job, summary: { url, filled: [], notes: [`GitLab lookup failed: ${why}`] } };
  }
  const { facts, notes } = read;
  if (!facts) return { job: options.input.job, summary: { url, filled: [], notes } };
  const merged = mergeGitlabFacts(options.input.job, facts);
  return { job: merged.job, summary: { url, filled: merged.filled, notes: [...notes, ...merged.notes] } };
}

/** Simulated claims, completed now that the issuer and the provider's audiences are known. */
function simulateClaims(
  ctx: VerifyContext,
  input: LoadedInput,
  issuer: { hostPath: string; isGitlabCom: boolean },
  clientIds: string[] | undefined,
  fromGitlab?: SimulatedJob | undefined,
): ClaimSet {
  const { options } = ctx;
  const { hostPath, isGitlabCom } = issuer;
  const issuerUrl = `https://${hostPath}`;
  const ids = clientIds ?? [];
  const audience = options.audience ?? (ids.includes(issuerUrl) ? issuerUrl : (ids[0] ?? issuerUrl));
  if (input.kind === 'claims') {
    return completeClaims(input.partial ?? {}, { audience, issuerUrl, flag: '--claims' });
  }
  const job: SimulatedJob | undefined =
    fromGitlab ?? (options.input.kind === 'job' ? options.input.job : undefined);
  return buildClaims({
    issuer: { url: issuerUrl, hostPath, isGitlabCom },
    projectPath: job?.project ?? '',
    branch: job?.branch,
    tag: job?.tag,
    audience,
    projectId: job?.projectId,
    namespaceId: job?.namespaceId,
    // GitLab always sends ref_protected; a simulated job is unprotected unless --ref-protected (or GitLab says so).
    refProtected: job?.refProtected ?? false,
    subComponents: job?.subComponents,
  });
}

/** The token itself, as STS checks it: signature (JWKS), exp/nbf, issuer. */
async function checkToken(
  ctx: VerifyContext,
  input: LoadedInput,
  now: Date,
): Promise<TokenCheck | undefined> {
  if (!input.token) return undefined;
  const { deps, scrub } = ctx;
  const token: TokenCheck = { source: input.sourceLabel ?? 'token', signature: 'not-checked' };
  try {
    await deps.verifyToken(input.token, {
      now,
      clockToleranceSec: STS_CLOCK_SKEW_SECONDS,
      ca: deps.http?.ca,
      fetchImpl: deps.http?.fetchImpl,
      timeoutMs: deps.http?.timeoutMs,
      signal: deps.http?.signal ?? deps.signal,
    });
    token.signature = 'verified';
  } catch (error) {
    // An interrupt ends the run (exit 130); it is not a verdict on the token.
    if (error instanceof AbortError) throw error;
    if (error instanceof TokenError) {
      token.signature = 'invalid';
      token.failure = { reason: error.reason, message: scrub(error.message), hint: error.hint };
    } else {
      token.note = `could not check the signature: ${scrub(describeError(error))}`;
    }
  }
  return token;
}
