/**
 * Known traps that make a GitLab → AWS OIDC setup refuse tokens (or accept the wrong ones), reported
 * next to an evaluation so "Not authorized to perform sts:AssumeRoleWithWebIdentity" gets a cause. Pure.
 */
import { audiencesOf, type ClaimSet, parseSubject } from './claims.js';
import {
  GITLAB_COM_EXTRA_CLAIMS,
  GITLAB_COM_HOST,
  isGitlabComExtraClaim,
  OIDC_CONDITION_CLAIMS,
  subProjectComponent,
} from './gitlab-claims.js';
import {
  conditionValueMatches,
  hasWildcard,
  isLiteralOperator,
  passesWhenKeyMissing,
} from './iam-conditions.js';
import { providerHost } from './issuer.js';
import { type ConditionEntry, flattenConditions } from './lint-rules/conditions.js';
import { statementsOf } from './lint-rules/permissions.js';
import type { PolicyDocument } from './types.js';

export type TrapCode =
  | 'wildcard-under-string-equals'
  | 'ref-type-mr'
  | 'foreign-host-key'
  | 'key-not-provided'
  | 'audience-not-in-provider'
  | 'policy-audience-not-in-provider'
  | 'sub-format-mismatch'
  | 'token-expired'
  | 'token-expired-within-skew'
  | 'token-not-yet-valid'
  | 'issuer-provider-mismatch'
  | 'principal-other-provider'
  | 'provider-not-found';

export interface Trap {
  code: TrapCode;
  /** `error`: makes STS refuse (or the policy useless, or fail open); `warning`: worth knowing. */
  severity: 'error' | 'warning';
  message: string;
  hint?: string | undefined;
  statement?: number | undefined;
  key?: string | undefined;
}

export interface TrapInput {
  policy?: PolicyDocument | undefined;
  provider?:
    | {
        arn?: string | undefined;
        /** Provider URL without scheme, as IAM stores it: `gitlab.com`, `gitlab.example.com/gitlab`. */
        hostPath: string;
        clientIds?: string[] | undefined;
        isGitlabCom?: boolean | undefined;
        /** False when IAM has no provider for this URL in the role's account. */
        found?: boolean | undefined;
      }
    | undefined;
  claims?: ClaimSet | undefined;
  /** Needed for the expiry checks. */
  now?: Date | undefined;
}

/** Traps that on their own make STS refuse the token, whatever the trust policy says. */
export const BLOCKING_TRAP_CODES: ReadonlySet<TrapCode> = new Set<TrapCode>([
  'token-expired',
  'token-not-yet-valid',
  'issuer-provider-mismatch',
  'provider-not-found',
  'audience-not-in-provider',
]);

/** IAM accepts an OIDC token up to five minutes after `exp` (clock skew, per OIDC Core). */
export const STS_CLOCK_SKEW_SECONDS = 300;

const q = (s: string) => `\`${s}\``;

interface StatementEntry extends ConditionEntry {
  statement: number;
  effect: 'Allow' | 'Deny';
}

function conditionEntries(policy: PolicyDocument | undefined): StatementEntry[] {
  return statementsOf(policy).flatMap((s, statement) =>
    flattenConditions(s.Condition).map((e) => ({ ...e, statement, effect: s.Effect })),
  );
}

export function detectTraps(input: TrapInput): Trap[] {
  const traps: Trap[] = [];
  const entries = conditionEntries(input.policy);
  const provider = input.provider;
  const keyHost = provider?.hostPath.toLowerCase();
  const isGitlabCom = provider?.isGitlabCom ?? keyHost === GITLAB_COM_HOST;

  for (const e of entries) {
    // `${*}`, `${?}` are escapes for a literal `*`, `?`: no pattern was meant there.
    if (e.known && isLiteralOperator(e) && e.values.some((v) => hasWildcard(v.replace(/\$\{[*?$]\}/g, '')))) {
      traps.push({
        code: 'wildcard-under-string-equals',
        severity: 'error',
        statement: e.statement,
        key: e.key,
        message: `${q(e.key)} uses ${e.operator} with a wildcard (${e.values
          .filter(hasWildcard)
          .map(q)
          .join(
            ', ',
          )}): under ${e.base} \`*\` and \`?\` are literal characters, so it never matches a real token.`,
        hint: 'Use StringLike for values with * or ?, and StringEquals for literal values.',
      });
    }
    if (e.host !== undefined && e.claim === 'sub' && e.values.some((v) => /(^|:)ref_type:mr(:|$)/.test(v))) {
      traps.push({
        code: 'ref-type-mr',
        severity: 'error',
        statement: e.statement,
        key: e.key,
        message: `${q(e.key)} expects \`ref_type:mr\`, which GitLab never issues: ref_type is only \`branch\` or \`tag\` (merge-request pipelines carry the source branch).`,
        hint: 'Match the source branch with ref_type:branch, or use a protected branch for deployments.',
      });
    }
    if (e.host === undefined || !keyHost) continue;
    const host = e.host;
    const failsOpen = passesWhenKeyMissing(e, e.values);
    const gitlabComExtra = host === GITLAB_COM_HOST && isGitlabComExtraClaim(e.claim);
    if (host !== keyHost && !(gitlabComExtra && isGitlabCom)) {
      const writtenHost = e.key.slice(0, e.key.lastIndexOf(':'));
      traps.push({
        code: 'foreign-host-key',
        severity: 'error',
        statement: e.statement,
        key: e.key,
        message: failsOpen
          ? `${q(e.key)} names host ${q(writtenHost)}, not the provider's ${q(provider?.hostPath ?? '')}: the key is never in the request, and with ${e.operator} the condition is always true (fails open).`
          : `${q(e.key)} names host ${q(writtenHost)}, not the provider's ${q(provider?.hostPath ?? '')}: the key is never in the request, so the condition never matches.`,
        hint: `Condition keys must start with the provider host: ${q(`${provider?.hostPath}:sub`)}.`,
      });
      continue;
    }
    const provided = (OIDC_CONDITION_CLAIMS as readonly string[]).includes(e.claim) || gitlabComExtra;
    if (!provided) {
      traps.push({
        code: 'key-not-provided',
        severity: 'error',
        statement: e.statement,
        key: e.key,
        message: isGitlabCom
          ? `${q(e.key)} is not a key STS sets for gitlab.com (it sets sub, aud and ${GITLAB_COM_EXTRA_CLAIMS.join(', ')}): ${failsOpen ? 'the condition is always true (fails open)' : 'the condition never matches'}.`
          : `${q(e.key)}: for a self-managed GitLab, STS sets only \`:sub\` and \`:aud\`; ${failsOpen ? 'the condition is always true (fails open)' : 'the condition never matches'}.`,
        hint: isGitlabCom ? undefined : 'Encode what you need in sub (ci_id_token_sub_claim_components).',
      });
    }
  }

  if (provider?.found === false) {
    traps.push({
      code: 'provider-not-found',
      severity: 'error',
      message: `There is no IAM OIDC provider for ${q(`https://${provider.hostPath}`)}${provider.arn ? ` (${q(provider.arn)})` : ''}: STS refuses every token from this issuer (InvalidIdentityToken).`,
      hint: 'Create it with gitlab-aws-oidc init (or check the account and the GitLab URL).',
    });
  }

  // Principal names another provider.
  if (provider?.arn) {
    statementsOf(input.policy).forEach((s, i) => {
      if (s.Effect !== 'Allow' || s.Principal === undefined || s.Principal === '*') return;
      const fed = s.Principal.Federated;
      const list = fed === undefined ? [] : Array.isArray(fed) ? fed : [fed];
      if (list.length && !list.includes(provider.arn as string)) {
        traps.push({
          code: 'principal-other-provider',
          severity: 'error',
          statement: i,
          message: `Statement #${i} trusts ${list.map(q).join(', ')}, not the provider the token maps to (${q(provider.arn as string)}).`,
        });
      }
    });
  }

  // Audiences.
  if (provider?.clientIds) {
    const ids = provider.clientIds;
    const list = `[${ids.map(q).join(', ')}]`;
    if (input.claims) {
      const auds = audiencesOf(input.claims);
      if (!auds.some((a) => ids.includes(a))) {
        traps.push({
          code: 'audience-not-in-provider',
          severity: 'error',
          message: `The token's aud ${auds.map(q).join(', ')} is not among the provider's client IDs ${list}: STS refuses it (InvalidIdentityToken: Incorrect token audience).`,
          hint: `Set id_tokens.<NAME>.aud in .gitlab-ci.yml to one of them, or add it to the provider (aws iam add-client-id-to-open-id-connect-provider).`,
        });
      }
    }
    for (const e of entries) {
      if (e.claim !== 'aud' || e.host !== keyHost) continue;
      if (e.negated || e.base === 'Null' || e.effect !== 'Allow') continue;
      const missing = e.values.filter((v) => !ids.some((id) => conditionValueMatches(e, v, id)));
      if (missing.length === e.values.length) {
        traps.push({
          code: 'policy-audience-not-in-provider',
          severity: 'error',
          statement: e.statement,
          key: e.key,
          message: `Statement #${e.statement} requires aud ${missing.map(q).join(', ')}, which is not among the provider's client IDs ${list}: no token can satisfy both.`,
        });
      }
    }
  }

  // sub format: project_path vs project_id.
  if (input.claims && keyHost) {
    const tokenFormat = parseSubject(input.claims.sub).format;
    const subValues = entries
      .filter((e) => e.effect === 'Allow' && e.host === keyHost && e.claim === 'sub' && !e.negated)
      .flatMap((e) => e.values);
    const policyFormats = new Set(subValues.map((v) => subProjectComponent(v) ?? 'other'));
    if (
      tokenFormat !== 'unknown' &&
      subValues.length > 0 &&
      !policyFormats.has(tokenFormat) &&
      !policyFormats.has('other')
    ) {
      const other = tokenFormat === 'project_id' ? 'project_path' : 'project_id';
      traps.push({
        code: 'sub-format-mismatch',
        severity: 'error',
        message: `The policy's sub is built for ${q(`${other}:…`)} but the token's sub starts with ${q(`${tokenFormat}:`)}: the project's ID-token sub components (ci_id_token_sub_claim_components) differ from what the policy expects.`,
        hint:
          tokenFormat === 'project_id'
            ? 'Rebuild the trust policy with a project_id-first sub (safer against namespace reuse).'
            : "Set the project's sub components to start with project_id, or rebuild the policy for project_path.",
      });
    }
  }

  // Token lifetime.
  const now = input.now;
  const exp = input.claims?.exp;
  const nbf = input.claims?.nbf;
  if (now && typeof exp === 'number') {
    const t = Math.floor(now.getTime() / 1000);
    const ago = t - exp;
    if (ago > STS_CLOCK_SKEW_SECONDS) {
      traps.push({
        code: 'token-expired',
        severity: 'error',
        message: `The token expired at ${new Date(exp * 1000).toISOString()} (${ago} s ago): STS refuses it (ExpiredTokenException).`,
        hint: 'ID tokens live as long as the job timeout (5 minutes without one). Mint a fresh one by re-running the job.',
      });
    } else if (ago >= 0) {
      traps.push({
        code: 'token-expired-within-skew',
        severity: 'warning',
        message: `The token expired ${ago} s ago; STS still accepts it for ${STS_CLOCK_SKEW_SECONDS} s of clock skew, not longer.`,
      });
    }
  }
  if (now && typeof nbf === 'number' && nbf - Math.floor(now.getTime() / 1000) > STS_CLOCK_SKEW_SECONDS) {
    traps.push({
      code: 'token-not-yet-valid',
      severity: 'error',
      message: `The token is not valid before ${new Date(nbf * 1000).toISOString()}: check this machine's clock.`,
    });
  }

  // Issuer vs provider URL.
  const iss = input.claims?.iss;
  if (typeof iss === 'string' && provider) {
    const mismatch = describeIssuerMismatch(iss, provider.hostPath);
    if (mismatch) traps.push({ code: 'issuer-provider-mismatch', severity: 'error', ...mismatch });
  }
  return traps;
}

/**
 * STS finds the provider from the token's `iss`: it must be exactly `https://` + the provider URL.
 * Returns why not, or undefined when they agree.
 */
export function describeIssuerMismatch(
  iss: string,
  providerHostPath: string,
): { message: string; hint?: string } | undefined {
  const expected = `https://${providerHostPath}`;
  if (iss === expected) return undefined;
  const same = providerHost(iss) === providerHost(expected);
  if (/^http:\/\//i.test(iss)) {
    return {
      message: `The token's issuer ${q(iss)} uses http://; IAM OIDC providers are https only, so no provider matches it.`,
      hint: 'Serve GitLab over https and set its external_url (the issuer) to the https URL.',
    };
  }
  if (same && iss.replace(/\/+$/, '') !== iss) {
    return {
      message: `The token's issuer ${q(iss)} ends with a slash but the provider URL is ${q(expected)}: STS compares them exactly, so the token maps to no provider.`,
      hint: "Create the provider with exactly the issuer URL the token carries (or fix GitLab's external_url).",
    };
  }
  if (same && expected.endsWith('/')) {
    return {
      message: `The provider URL ${q(expected)} ends with a slash but the token's issuer is ${q(iss)}: STS compares them exactly.`,
      hint: 'Recreate the provider without the trailing slash.',
    };
  }
  if (same) {
    return {
      message: `The token's issuer ${q(iss)} differs from the provider URL ${q(expected)} in letter case.`,
    };
  }
  return {
    message: `The token's issuer ${q(iss)} is not the provider ${q(expected)}: STS looks for a provider for ${q(providerHost(iss))} and, without one, refuses the token.`,
    hint: 'Create an IAM OIDC provider for this issuer (gitlab-aws-oidc init), or use the role that trusts it.',
  };
}
