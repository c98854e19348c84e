/**
 * The role and the OIDC provider as IAM holds them, read for an explanation, and the issuer STS
 * would look the provider up by. Read failures become a problem to report, never a thrown error.
 */
import { issuerFromUrl } from '../core/claims.js';
import type { Caveat } from '../core/evaluate.js';
import { parseIssuerUrl } from '../core/issuer.js';
import { describeIssuerMismatch, type Trap } from '../core/traps.js';
import type { OidcProviderState, PolicyDocument, RoleState } from '../core/types.js';
import { AbortError } from '../errors.js';
import { describeError, type VerifyContext } from './context.js';
import type { ProviderInfo } from './result.js';
import type { LoadedInput } from './token-source.js';

export interface RoleArnParts {
  partition: string;
  account: string;
  name: string;
}

export function parseRoleArn(arn: string): RoleArnParts {
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

/** The role and its trust policy, or why they cannot be had. */
export async function readRole(
  ctx: VerifyContext,
  role: RoleArnParts,
): Promise<{ role?: RoleState | undefined; problem?: string | undefined }> {
  const { options } = ctx;
  let roleState: RoleState | undefined;
  let problem: string | undefined;
  try {
    roleState = await (await ctx.ports()).iam.getRole(role.name);
    if (!roleState) problem = `the role ${role.name} does not exist in account ${role.account}`;
    else if (roleState.arn !== options.roleArn) {
      problem = `the role's ARN is ${roleState.arn}, not ${options.roleArn} (check the path)`;
    }
  } catch (error) {
    if (error instanceof AbortError) throw error;
    problem = `cannot read the role: ${ctx.scrub(describeError(error))}`;
  }
  return { role: roleState, problem };
}

/**
 * The issuer, as STS will look it up: the token's iss exactly (minus the scheme). A simulation takes
 * --gitlab-url (or the claims' iss), else the trust policy's single provider, else gitlab.com; the
 * last two are guesses, returned as an `assumption` the answer rests on.
 */
export function resolveIssuer(
  ctx: VerifyContext,
  input: LoadedInput,
  roleState: RoleState | undefined,
): { hostPath: string; isGitlabCom: boolean; assumption?: Caveat | undefined } {
  if (input.kind === 'token') {
    const iss = typeof input.claims?.iss === 'string' ? input.claims.iss : '';
    return { hostPath: iss.replace(/^[a-z]+:\/\//i, ''), isGitlabCom: iss === 'https://gitlab.com' };
  }
  const fromFlag =
    ctx.options.gitlabUrl ?? (typeof input.partial?.iss === 'string' ? input.partial.iss : undefined);
  if (fromFlag) {
    const issuer = parseIssuerUrl(fromFlag);
    return { hostPath: issuer.hostPath, isGitlabCom: issuer.isGitlabCom };
  }
  const fromPolicy = federatedHost(roleState?.trustPolicy);
  const issuer = fromPolicy ? issuerFromUrl(fromPolicy) : parseIssuerUrl('https://gitlab.com');
  const missing = input.kind === 'claims' ? 'no iss in --claims and no --gitlab-url' : 'no --gitlab-url';
  const why = fromPolicy
    ? 'the one provider the trust policy names'
    : 'the trust policy names no single provider';
  return {
    hostPath: issuer.hostPath,
    isGitlabCom: issuer.isGitlabCom,
    assumption: {
      code: 'issuer-assumed',
      message: `${missing}: assumed the job comes from ${issuer.url} (${why}); give ${input.kind === 'claims' ? 'iss= or --gitlab-url' : '--gitlab-url'} to check another GitLab instance`,
    },
  };
}

/** The provider STS would use; for a token whose provider is missing, the near miss that explains it. */
export async function readProvider(
  ctx: VerifyContext,
  input: LoadedInput,
  role: RoleArnParts,
  hostPath: string,
): Promise<{ provider: ProviderInfo; providerState?: OidcProviderState | undefined; traps: Trap[] }> {
  const providerArn = `arn:${role.partition}:iam::${role.account}:oidc-provider/${hostPath}`;
  const provider: ProviderInfo = { arn: providerArn };
  let providerState: OidcProviderState | undefined;
  const traps: Trap[] = [];
  try {
    const iam = (await ctx.ports()).iam;
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
      if (near && mismatch) traps.push({ code: 'issuer-provider-mismatch', severity: 'error', ...mismatch });
      else if (/^http:\/\//i.test(iss) && mismatch) {
        traps.push({ code: 'issuer-provider-mismatch', severity: 'error', ...mismatch });
      }
    }
  } catch (error) {
    if (error instanceof AbortError) throw error;
    ctx.deps.logger?.debug(`cannot read the OIDC provider: ${ctx.scrub(describeError(error))}`);
  }
  return { provider, providerState, traps };
}
