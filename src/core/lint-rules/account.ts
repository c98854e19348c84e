/**
 * Account-level checks that look across roles and providers: session length, providers nobody
 * trusts, audiences nobody checks. Pure.
 */
import { conditionValueMatches } from '../iam-conditions.js';
import { providerHost } from '../issuer.js';
import type { PolicyDocument } from '../types.js';
import { flattenConditions, isPositiveMatch } from './conditions.js';
import { statementsOf } from './permissions.js';
import type { RuleId, Severity } from './rules.js';

export interface AccountIssue {
  ruleId: RuleId;
  severity: Severity;
  why: string;
  fix: string;
  value?: string | undefined;
}

/** The usual need of a CI job: one hour (the SDKs refresh web-identity credentials on their own). */
export const TYPICAL_SESSION_SECONDS = 3600;

/**
 * MaxSessionDuration "far above need": more than twice the need is low, more than four times medium.
 * `needSeconds` defaults to one hour.
 */
export function checkSessionDuration(
  maxSessionDuration: number,
  roleName: string,
  needSeconds = TYPICAL_SESSION_SECONDS,
): AccountIssue | undefined {
  if (!(maxSessionDuration > 2 * needSeconds)) return undefined;
  const hours = (s: number) => `${Math.round((s / 3600) * 10) / 10} h`;
  return {
    ruleId: 'GAO040',
    severity: maxSessionDuration > 4 * needSeconds ? 'medium' : 'low',
    value: String(maxSessionDuration),
    why: `MaxSessionDuration is ${maxSessionDuration} s (${hours(maxSessionDuration)}), far above the ${hours(needSeconds)} a CI job needs: credentials leaked from a job stay valid that long.`,
    fix: `aws iam update-role --role-name ${roleName} --max-session-duration ${Math.max(3600, needSeconds)}`,
  };
}

export interface ProviderUsageInput {
  providers: { arn: string; url: string; clientIds: string[] }[];
  roles: { name: string; trustPolicy: PolicyDocument }[];
}

export interface ProviderUsageIssue extends AccountIssue {
  providerArn: string;
}

/** Providers no role federates to (GAO041) and client IDs no role that federates to the provider checks (GAO042). */
export function checkProviderUsage(input: ProviderUsageInput): ProviderUsageIssue[] {
  const issues: ProviderUsageIssue[] = [];
  for (const provider of input.providers) {
    const host = providerHost(provider.url);
    const trusting = input.roles.filter((r) =>
      statementsOf(r.trustPolicy).some((st) => {
        if (st.Effect !== 'Allow' || !st.Principal || st.Principal === '*') return false;
        const fed = st.Principal.Federated;
        return (Array.isArray(fed) ? fed : fed ? [fed] : []).includes(provider.arn);
      }),
    );
    if (trusting.length === 0) {
      issues.push({
        providerArn: provider.arn,
        ruleId: 'GAO041',
        severity: 'low',
        why: `No role in the account trusts the OIDC provider for ${host}.`,
        fix: `If nothing needs it: aws iam delete-open-id-connect-provider --open-id-connect-provider-arn ${provider.arn}`,
      });
      continue;
    }
    const checked = new Set<string>();
    for (const role of trusting) {
      for (const st of statementsOf(role.trustPolicy)) {
        if (st.Effect !== 'Allow') continue;
        for (const e of flattenConditions(st.Condition)) {
          if (e.host !== host || e.claim !== 'aud' || !isPositiveMatch(e)) continue;
          for (const clientId of provider.clientIds) {
            if (e.values.some((v) => conditionValueMatches(e, v, clientId))) checked.add(clientId);
          }
        }
      }
    }
    // Roles without any aud condition accept every client ID; GAO015 reports them per role.
    for (const clientId of provider.clientIds) {
      if (checked.has(clientId)) continue;
      issues.push({
        providerArn: provider.arn,
        ruleId: 'GAO042',
        severity: 'low',
        value: clientId,
        why: `The provider for ${host} accepts audience "${clientId}", but no role that trusts it checks that audience.`,
        fix: `If no job uses it: aws iam remove-client-id-from-open-id-connect-provider --open-id-connect-provider-arn ${provider.arn} --client-id '${clientId}'`,
      });
    }
  }
  return issues;
}
