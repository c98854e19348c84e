/**
 * `verify`: prove a role can be assumed with a GitLab ID token, and explain exactly why not.
 *
 * 1. Claims come from a real token (env var, file, stdin) or are simulated (--claims, --project).
 * 2. With a token: AssumeRoleWithWebIdentity (bounded retry with backoff and jitter for
 *    InvalidIdentityToken / IDPCommunicationError / propagation AccessDenied), then GetCallerIdentity
 *    as the assumed role.
 * 3. On refusal, without a token, with --no-assume or --expect-deny: read the role's trust policy and
 *    the OIDC provider (when permitted), verify the token against the issuer's JWKS, evaluate the
 *    policy as IAM does, report known traps, and run the should-be-refused probes.
 *
 * The token and the credentials stay in memory: they are never put in the result, a log line or an error.
 */
import type { AssumedRole, AwsClientOptions, AwsPorts, StsPort } from '../aws/ports.js';
import {
  buildClaims,
  buildRequestContext,
  type ClaimSet,
  completeClaims,
  issuerFromUrl,
  type PartialClaims,
  parseClaimsFlag,
  parseSubject,
  summarizeClaims,
} from '../core/claims.js';
import { type Evaluation, evaluateTrustPolicy } from '../core/evaluate.js';
import { parseIssuerUrl } from '../core/issuer.js';
import {
  BLOCKING_TRAP_CODES,
  describeIssuerMismatch,
  detectTraps,
  STS_CLOCK_SKEW_SECONDS,
  type Trap,
} from '../core/traps.js';
import type { OidcProviderState, PolicyDocument, RoleState } from '../core/types.js';
import { AwsError, CliError, UsageError } from '../errors.js';
import type { HttpOptions } from '../gitlab/http.js';
import { decodeGitlabToken, TokenError, type VerifyTokenOptions } from '../gitlab/token.js';
import type { Logger } from '../io/logger.js';
import { VERSION } from '../version.js';
import { runExpectDenyChecks } from './expect-deny.js';
import type { VerifyOptions } from './options.js';
import type { AssumeOutcome, ExpectDenySummary, ProviderInfo, TokenCheck, VerifyResult } from './result.js';

export interface VerifyDeps {
  /** Ports to use; otherwise `createPorts` builds them (once, only when AWS is needed). */
  ports?: AwsPorts | undefined;
  createPorts?: ((options: AwsClientOptions) => AwsPorts | Promise<AwsPorts>) | undefined;
  /** An StsPort acting with the assumed role's credentials (for GetCallerIdentity). */
  stsForCredentials: (
    credentials: AssumedRole['credentials'],
    options: AwsClientOptions,
  ) => StsPort | Promise<StsPort>;
  /** Verifies a token against its issuer's JWKS (gitlab/token.ts `verifyGitlabToken`). */
  verifyToken: (token: string, options: VerifyTokenOptions) => Promise<unknown>;
  env: NodeJS.ProcessEnv;
  readFile: (path: string) => Promise<string>;
  readStdin: () => Promise<string>;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  random?: (() => number) | undefined;
  /** CA / fetch / timeout for OIDC discovery and JWKS. */
  http?: HttpOptions | undefined;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
}

/** AssumeRoleWithWebIdentity errors worth retrying: IAM propagation and IdP hiccups. */
export const RETRYABLE_ASSUME_CODES = new Set([
  'InvalidIdentityToken',
  'IDPCommunicationError',
  'AccessDenied',
]);
const BLOCKING_TRAPS = BLOCKING_TRAP_CODES;
const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 10_000;

interface LoadedInput {
  kind: 'token' | 'claims' | 'job';
  /** Only for kind `token`. Never leaves this module. */
  token?: string;
  sourceLabel?: string;
  /** Final for a token; completed after the provider is read for simulations. */
  claims?: ClaimSet;
  partial?: PartialClaims;
}

interface Explained {
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
}

function sourceFlag(options: VerifyOptions): string {
  if (options.input.kind !== 'token') return options.input.kind === 'claims' ? '--claims' : '--project';
  const s = options.input.source;
  return s.kind === 'env' ? '--token-env' : s.kind === 'stdin' ? '--token' : s.flag;
}

async function loadInput(options: VerifyOptions, deps: VerifyDeps): Promise<LoadedInput> {
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

function parseRoleArn(arn: string): { partition: string; account: string; name: string } {
  const parts = arn.split(':');
  return { partition: parts[1] ?? 'aws', account: parts[4] ?? '', name: arn.split('/').pop() ?? '' };
}

/** The single `oidc-provider/<host>` federated principal of a trust policy, if there is exactly one. */
function federatedHost(policy: PolicyDocument | undefined): string | undefined {
  if (!policy) return undefined;
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  const hosts = new Set<string>();
  for (const s of statements) {
    if (s.Effect !== 'Allow' || !s.Principal || s.Principal === '*') continue;
    const fed = s.Principal.Federated;
    for (const f of fed === undefined ? [] : Array.isArray(fed) ? fed : [fed]) {
      const m = /:oidc-provider\/(.+)$/.exec(f);
      if (m?.[1]) hosts.add(m[1]);
    }
  }
  return hosts.size === 1 ? [...hosts][0] : undefined;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function runVerify(options: VerifyOptions, deps: VerifyDeps): Promise<VerifyResult> {
  const log = deps.logger;
  const input = await loadInput(options, deps);
  const secret = input.token;
  const scrub = (text: string) => (secret ? text.split(secret).join('<redacted>') : text);
  const awsOptions: AwsClientOptions = {
    region: options.region,
    profile: options.profile,
    userAgent: VERSION,
  };
  let portsPromise: Promise<AwsPorts> | undefined;
  const ports = (): Promise<AwsPorts> => {
    portsPromise ??= (async () => {
      if (deps.ports) return deps.ports;
      if (!deps.createPorts) throw new CliError('VERIFY_NO_AWS', 'No AWS client available.');
      return deps.createPorts(awsOptions);
    })();
    return portsPromise;
  };
  const role = parseRoleArn(options.roleArn);
  const mode: VerifyResult['mode'] =
    input.kind === 'token' ? (options.assume ? 'assume' : 'explain') : 'simulate';

  let explained: Explained | undefined;
  const explain = async (): Promise<Explained> => {
    explained ??= await buildExplanation();
    return explained;
  };

  async function buildExplanation(): Promise<Explained> {
    const now = deps.now();
    // 1. The role and its trust policy.
    let roleState: RoleState | undefined;
    let roleProblem: string | undefined;
    try {
      roleState = await (await ports()).iam.getRole(role.name);
      if (!roleState) roleProblem = `the role ${role.name} does not exist in account ${role.account}`;
      else if (roleState.arn !== options.roleArn) {
        roleProblem = `the role's ARN is ${roleState.arn}, not ${options.roleArn} (check the path)`;
      }
    } catch (error) {
      roleProblem = `cannot read the role: ${scrub(describeError(error))}`;
    }

    // 2. The issuer, as STS will look it up: the token's iss exactly (minus the scheme).
    let hostPath: string;
    let isGitlabCom: boolean;
    if (input.kind === 'token') {
      const iss = typeof input.claims?.iss === 'string' ? input.claims.iss : '';
      hostPath = iss.replace(/^[a-z]+:\/\//i, '');
      isGitlabCom = iss === 'https://gitlab.com';
    } else {
      const fromFlag =
        options.gitlabUrl ?? (typeof input.partial?.iss === 'string' ? input.partial.iss : undefined);
      const fromPolicy = federatedHost(roleState?.trustPolicy);
      const issuer = fromFlag
        ? parseIssuerUrl(fromFlag)
        : fromPolicy
          ? issuerFromUrl(fromPolicy)
          : parseIssuerUrl('https://gitlab.com');
      hostPath = issuer.hostPath;
      isGitlabCom = issuer.isGitlabCom;
    }

    // 3. The provider STS would use.
    const providerArn = `arn:${role.partition}:iam::${role.account}:oidc-provider/${hostPath}`;
    const provider: ProviderInfo = { arn: providerArn };
    let providerState: OidcProviderState | undefined;
    const extraTraps: Trap[] = [];
    try {
      const iam = (await ports()).iam;
      providerState = await iam.getOidcProvider(providerArn);
      provider.found = providerState !== undefined;
      if (providerState) {
        provider.url = providerState.url;
        provider.clientIds = providerState.clientIds;
      } else if (input.kind === 'token') {
        // A near miss (trailing slash, case, http) is the usual cause: name it.
        const arns = await iam.listOidcProviderArns().catch(() => [] as string[]);
        const norm = (h: string) => h.replace(/\/+$/, '').toLowerCase();
        const near = arns
          .map((a) => a.split(':oidc-provider/')[1] ?? '')
          .find((h) => h && norm(h) === norm(hostPath));
        const iss = String(input.claims?.iss ?? '');
        const mismatch = describeIssuerMismatch(iss, near ?? hostPath);
        if (near && mismatch)
          extraTraps.push({ code: 'issuer-provider-mismatch', severity: 'error', ...mismatch });
        else if (/^http:\/\//i.test(iss) && mismatch) {
          extraTraps.push({ code: 'issuer-provider-mismatch', severity: 'error', ...mismatch });
        }
      }
    } catch (error) {
      log?.debug(`cannot read the OIDC provider: ${scrub(describeError(error))}`);
    }

    // 4. The claims (simulations are completed now that the issuer and audiences are known).
    let claims: ClaimSet;
    if (input.claims) claims = input.claims;
    else {
      const issuerUrl = `https://${hostPath}`;
      const ids = provider.clientIds ?? [];
      const audience = options.audience ?? (ids.includes(issuerUrl) ? issuerUrl : (ids[0] ?? issuerUrl));
      if (input.kind === 'claims') {
        claims = completeClaims(input.partial ?? {}, { audience, issuerUrl, flag: '--claims' });
      } else {
        const job = options.input.kind === 'job' ? options.input.job : undefined;
        claims = buildClaims({
          issuer: { url: issuerUrl, hostPath, isGitlabCom },
          projectPath: job?.project ?? '',
          branch: job?.branch,
          tag: job?.tag,
          audience,
          projectId: job?.projectId,
          namespaceId: job?.namespaceId,
          // GitLab always sends ref_protected; a simulated job is unprotected unless --ref-protected.
          refProtected: job?.refProtected ?? false,
        });
      }
    }

    // 5. The token itself, as STS checks it: signature (JWKS), exp/nbf, issuer.
    let token: TokenCheck | undefined;
    if (input.token) {
      token = { source: input.sourceLabel ?? 'token', signature: 'not-checked' };
      try {
        await deps.verifyToken(input.token, {
          now,
          clockToleranceSec: STS_CLOCK_SKEW_SECONDS,
          ca: deps.http?.ca,
          fetchImpl: deps.http?.fetchImpl,
          timeoutMs: deps.http?.timeoutMs,
        });
        token.signature = 'verified';
      } catch (error) {
        if (error instanceof TokenError) {
          token.signature = 'invalid';
          token.failure = { reason: error.reason, message: scrub(error.message), hint: error.hint };
        } else {
          token.note = `could not check the signature: ${scrub(describeError(error))}`;
        }
      }
    }

    // 6. The trust policy, evaluated as IAM does, and the known traps.
    const evaluation = roleState
      ? evaluateTrustPolicy({
          policy: roleState.trustPolicy,
          providerArn,
          clientIds: provider.clientIds,
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
    };
  }

  /** The local checks already say STS refuses: waiting for propagation would not help. */
  const conclusive = (ex: Explained): boolean =>
    (ex.evaluation !== undefined && !ex.evaluation.assumable) ||
    ex.token?.signature === 'invalid' ||
    ex.traps.some((t) => BLOCKING_TRAPS.has(t.code));

  async function assumeWithRetry(token: string): Promise<AssumeOutcome> {
    const sts = (await ports()).sts;
    const start = deps.now().getTime();
    const random = deps.random ?? Math.random;
    let slept = 0;
    for (let attempt = 1; ; attempt++) {
      let assumed: AssumedRole;
      try {
        assumed = await sts.assumeRoleWithWebIdentity({
          roleArn: options.roleArn,
          token,
          sessionName: options.sessionName,
        });
      } catch (error) {
        const code =
          error instanceof AwsError ? error.awsCode : error instanceof CliError ? error.code : 'UnknownError';
        const message = scrub(
          error instanceof AwsError
            ? error.message.replace(/^AssumeRoleWithWebIdentity failed: [^:]+: /, '')
            : describeError(error),
        );
        const refused = (stoppedBecause: Extract<AssumeOutcome, { status: 'refused' }>['stoppedBecause']) =>
          ({ status: 'refused', code, message, attempts: attempt, stoppedBecause }) as const;
        if (!RETRYABLE_ASSUME_CODES.has(code)) return refused('not-retryable');
        if (deps.signal?.aborted) return refused('aborted');
        if (conclusive(await explain())) return refused('explained');
        const elapsed = Math.max(deps.now().getTime() - start, slept);
        const remaining = options.timeoutMs - elapsed;
        if (remaining <= 0) return refused('timeout');
        const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1));
        const delay = Math.min(remaining, Math.round(ceiling / 2 + (random() * ceiling) / 2));
        log?.info(
          `${code} (attempt ${attempt}): retrying in ${(delay / 1000).toFixed(1)} s; a just-created role or provider can take a moment to propagate (gives up after ${Math.round(options.timeoutMs / 1000)} s, --timeout)`,
        );
        await deps.sleep(delay);
        slept += delay;
        if (deps.signal?.aborted) return refused('aborted');
        continue;
      }
      // Assumed. Prove the credentials work by asking STS who we are with them.
      let account = options.roleArn.split(':')[4] ?? '';
      let assumedRoleArn = assumed.assumedRoleArn;
      try {
        const asRole = await deps.stsForCredentials(assumed.credentials, awsOptions);
        const identity = await asRole.getCallerIdentity();
        account = identity.account;
        assumedRoleArn = identity.arn;
      } catch (error) {
        log?.warn(
          `GetCallerIdentity with the assumed role's credentials failed: ${scrub(describeError(error))}`,
        );
      }
      return {
        status: 'assumed',
        account,
        assumedRoleArn,
        expiration: assumed.expiration.toISOString(),
        attempts: attempt,
      };
    }
  }

  const assume: AssumeOutcome =
    mode === 'assume' && input.token
      ? await assumeWithRetry(input.token)
      : { status: 'skipped', reason: mode === 'explain' ? '--no-assume' : 'no token: simulated claims' };

  const needExplanation = assume.status !== 'assumed' || options.expectDeny;
  const ex = needExplanation ? await explain() : undefined;
  const claims = ex?.claims ?? input.claims;
  if (!claims) throw new CliError('VERIFY_INTERNAL', 'No claims to report.');

  // --expect-deny: the standard should-be-refused jobs for this project, against the live policy.
  let expectDeny: ExpectDenySummary | undefined;
  if (options.expectDeny) {
    expectDeny = runExpectations(ex, claims);
  }

  const evaluation = ex?.evaluation;
  const traps = ex?.traps ?? detectTraps({ claims, now: deps.now() });
  const expectationsMet = !expectDeny || (expectDeny.checked && expectDeny.allowedCount === 0);
  let ok: boolean;
  if (assume.status === 'assumed') ok = expectationsMet;
  else if (assume.status === 'refused') ok = false;
  else {
    ok =
      evaluation?.assumable === true &&
      ex?.token?.signature !== 'invalid' &&
      !traps.some((t) => BLOCKING_TRAPS.has(t.code)) &&
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
    summary: '',
  };
  result.summary = summarize(result);
  return result;

  function runExpectations(ex: Explained | undefined, claims: ClaimSet): ExpectDenySummary {
    if (!ex?.role) return { checked: false, reason: ex?.roleProblem ?? 'the trust policy could not be read' };
    const parsed = parseSubject(claims.sub);
    const projectPath =
      typeof claims.project_path === 'string' ? claims.project_path : parsed.components.project_path;
    const refType = claims.ref_type === 'tag' ? 'tag' : 'branch';
    const ref = typeof claims.ref === 'string' ? claims.ref : parsed.components.ref;
    if (!projectPath || !ref) {
      return { checked: false, reason: 'the claims name no project_path and ref to derive the probes from' };
    }
    const aud = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
    const checks = runExpectDenyChecks(ex.role.trustPolicy, {
      issuer: { url: `https://${ex.hostPath}`, hostPath: ex.hostPath, isGitlabCom: ex.isGitlabCom },
      providerArn: ex.provider.arn,
      clientIds: ex.provider.clientIds,
      audience: aud,
      projectPath,
      refs: [{ type: refType, pattern: ref }],
      projectId: typeof claims.project_id === 'string' ? claims.project_id : undefined,
      namespaceId: typeof claims.namespace_id === 'string' ? claims.namespace_id : undefined,
      subComponents: parsed.format === 'unknown' ? undefined : parsed.order,
      protectedOnly:
        JSON.stringify(ex.role.trustPolicy).includes('ref_protected') && claims.ref_protected === 'true',
    });
    const results = checks.map((c) => ({
      id: c.id,
      label: c.label,
      sub: c.claims.sub,
      allowed: c.allowed,
      decision: c.evaluation.decision,
      ...(c.evaluation.decisive ? { decisiveStatement: c.evaluation.decisive.index } : {}),
    }));
    return { checked: true, results, allowedCount: results.filter((r) => r.allowed).length };
  }
}

function summarize(r: VerifyResult): string {
  const expect =
    r.expectDeny === undefined
      ? ''
      : r.expectDeny.checked
        ? r.expectDeny.allowedCount > 0
          ? `; ${r.expectDeny.allowedCount} of ${r.expectDeny.results.length} should-be-refused jobs would be ALLOWED`
          : `; all ${r.expectDeny.results.length} should-be-refused jobs are refused`
        : `; --expect-deny not checked: ${r.expectDeny.reason}`;
  const decision = r.explanation?.available ? r.explanation.evaluation.decision : undefined;
  if (r.assume.status === 'assumed') return `Assumed ${r.roleArn} as ${r.assume.assumedRoleArn}${expect}.`;
  if (r.assume.status === 'refused') {
    const why = decision && decision !== 'allowed' ? ` (trust policy: ${decision})` : '';
    return `AWS refused to let this token assume ${r.roleArn}: ${r.assume.code}${why}${expect}.`;
  }
  const who = r.mode === 'simulate' ? 'A job with these claims' : 'This token';
  if (!r.explanation?.available) {
    return `Cannot tell whether ${who.toLowerCase()} may assume ${r.roleArn}: ${r.explanation?.reason ?? 'no explanation'}${expect}.`;
  }
  const blocking = r.traps.find((t) => BLOCKING_TRAPS.has(t.code));
  const assumable = r.explanation.evaluation.assumable && !blocking && r.token?.signature !== 'invalid';
  return `${who} ${assumable ? 'may' : 'may NOT'} assume ${r.roleArn}${assumable ? '' : ` (${blocking ? blocking.code : r.token?.signature === 'invalid' ? 'invalid token' : r.explanation.evaluation.decision})`}${expect}.`;
}

/** Real dependencies; the AWS SDK and jose verification load only when used. */
export function createDefaultVerifyDeps(context: {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
}): VerifyDeps {
  return {
    createPorts: async (o) => (await import('../aws/factory.js')).createAwsPorts(o),
    stsForCredentials: async (c, o) => (await import('../aws/factory.js')).createStsPortForCredentials(c, o),
    verifyToken: async (t, o) => (await import('../gitlab/token.js')).verifyGitlabToken(t, o),
    env: context.env,
    readFile: async (path) => (await import('node:fs/promises')).readFile(path, 'utf8'),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks).toString('utf8');
    },
    now: () => new Date(),
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          context.signal?.removeEventListener('abort', done);
          resolve();
        }
        context.signal?.addEventListener('abort', done, { once: true });
      }),
    logger: context.logger,
    signal: context.signal,
  };
}
