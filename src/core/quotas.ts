/**
 * IAM quotas checked before any change, with numbers: from the account summary (GetAccountSummary's
 * SummaryMap) and what a fleet plan would add. Pure: the caller reads the summary and the providers,
 * and decides what to do with the refusals (refuse the run; `--dry-run` shows them).
 *
 * Only creations count: a plan that also deletes roles frees them after it has created, so the peak
 * is what the account must hold.
 */
import { CliError } from '../errors.js';
import { MAX_TRUST_POLICY_QUOTA, TRUST_POLICY_QUOTA } from './trust-policy.js';

/**
 * GetAccountSummary's SummaryMap as IAM returned it (the IAM port's `getAccountSummary().summaryMap`):
 * the raw map, so a key IAM left out is reported as not checked instead of read as 0.
 */
export type SummaryMap = Readonly<Record<string, number | undefined>>;

/** Hard limits not in the summary (IAM and STS quotas page / CreateOpenIDConnectProvider). */
export const MAX_CLIENT_IDS_PER_PROVIDER = 100;
/** IAM quota OpenIdConnectProvidersPerAccount (not adjustable). */
export const MAX_OIDC_PROVIDERS = 100;
/** IAM's default for managed policies per role (AttachedPoliciesPerRoleQuota), raisable to 20. */
export const DEFAULT_MANAGED_POLICIES_PER_ROLE = 10;
/** At or above this share of a quota after the run, a warning (the next onboarding will hit it). */
const NEAR_QUOTA = 0.9;

export interface ServiceQuotaRef {
  /** Service Quotas service code. */
  service: 'iam';
  code: string;
  name: string;
  /** The most it can be raised to. */
  max: number;
}

/** Quota codes of Service Quotas for IAM (service code `iam`). */
export const SERVICE_QUOTAS = {
  roles: { service: 'iam', code: 'L-FE177D64', name: 'Roles per account', max: 5000 },
  policies: { service: 'iam', code: 'L-E95E4862', name: 'Customer managed policies per account', max: 5000 },
  attachedPerRole: { service: 'iam', code: 'L-0DA4ABF3', name: 'Managed policies per role', max: 20 },
  trustPolicyLength: {
    service: 'iam',
    code: 'L-C07B4B0D',
    name: 'Role trust policy length',
    max: MAX_TRUST_POLICY_QUOTA,
  },
} as const satisfies Record<string, ServiceQuotaRef>;

export interface FleetQuotaPlan {
  rolesToCreate: number;
  /** Tool-managed permission policies to create. */
  policiesToCreate: number;
  /** Every role the plan creates or changes, with the managed policies it will have attached. */
  managedPoliciesPerRole?: ReadonlyArray<{ roleName: string; count: number }> | undefined;
  /**
   * Managed policies per role to check against when the account summary does not report
   * AttachedPoliciesPerRoleQuota (a raised quota the caller knows of); default IAM's 10.
   */
  managedPoliciesPerRoleMax?: number | undefined;
  /** Each provider the plan creates or changes, with its client IDs after the change. */
  providers?: ReadonlyArray<{ url: string; clientIds: number }> | undefined;
  /**
   * OIDC providers the account has now (ListOpenIDConnectProviders' count; undefined when not read) and
   * the plan creates.
   */
  oidcProviders?: { existing?: number | undefined; toCreate: number } | undefined;
  /** Every trust policy the plan writes, with its size (trustPolicySize). */
  trustPolicies?: ReadonlyArray<{ roleName: string; size: number }> | undefined;
  /** `--trust-policy-max` (default 2,048). */
  trustPolicyMax?: number | undefined;
}

export type QuotaKind =
  | 'roles'
  | 'policies'
  | 'managed-policies-per-role'
  | 'client-ids-per-provider'
  | 'oidc-providers'
  | 'trust-policy-length';

export interface QuotaRefusal {
  kind: QuotaKind;
  /** `would create 312 roles; the account has 950 of 1,000 (RolesQuota)` */
  message: string;
  /** In use now (or the size / count of the worst item). */
  used: number;
  limit: number;
  /** What the plan adds (or the offending item's count or size). */
  requested: number;
  /** Where to raise it, when it can be raised. */
  serviceQuota?: ServiceQuotaRef | undefined;
  /** Role or provider names concerned (for per-role and per-provider quotas). */
  items?: string[] | undefined;
  hint: string;
}

export interface QuotaCheck {
  refusals: QuotaRefusal[];
  warnings: string[];
}

const fmt = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`) => `${fmt(n)} ${n === 1 ? one : many}`;

function raiseHint(ref: ServiceQuotaRef, limit: number, also = ''): string {
  const raise =
    limit < ref.max
      ? `raise "${ref.name}" (Service Quotas, service ${ref.service}, quota ${ref.code}, up to ${fmt(ref.max)})`
      : `"${ref.name}" is already at its maximum (${fmt(ref.max)})`;
  return also
    ? `${raise[0]!.toUpperCase()}${raise.slice(1)}, or ${also}.`
    : `${raise[0]!.toUpperCase()}${raise.slice(1)}.`;
}

function listed(items: string[]): string {
  return items.length <= 3
    ? items.join(', ')
    : `${items.slice(0, 3).join(', ')} and ${fmt(items.length - 3)} more`;
}

interface CountQuota {
  kind: QuotaKind;
  what: string;
  whats: string;
  usedKey: string;
  quotaKey: string;
  requested: number;
  ref: ServiceQuotaRef;
  also: string;
}

function checkCount(summary: SummaryMap, q: CountQuota, out: QuotaCheck): void {
  if (q.requested <= 0) return;
  const used = summary[q.usedKey];
  const limit = summary[q.quotaKey];
  if (used === undefined || limit === undefined) {
    out.warnings.push(
      `Not checked: the account summary has no ${used === undefined ? q.usedKey : q.quotaKey}; ` +
        `this run creates ${plural(q.requested, q.what, q.whats)}.`,
    );
    return;
  }
  const after = used + q.requested;
  if (after > limit) {
    out.refusals.push({
      kind: q.kind,
      message:
        `would create ${plural(q.requested, q.what, q.whats)}; the account has ${fmt(used)} of ${fmt(limit)} (${q.quotaKey}), ` +
        `${fmt(after - limit)} too many`,
      used,
      limit,
      requested: q.requested,
      serviceQuota: q.ref,
      hint: raiseHint(q.ref, limit, q.also),
    });
  } else if (after >= limit * NEAR_QUOTA) {
    out.warnings.push(
      `After this run the account has ${fmt(after)} of ${fmt(limit)} ${q.whats} (${q.quotaKey}); ` +
        `consider raising "${q.ref.name}" (${q.ref.code}).`,
    );
  }
}

/**
 * Every quota the plan would exceed, with numbers and where to raise it; warnings for what was not
 * checked. Without the account summary (`undefined`: GetAccountSummary refused), roles and policies per
 * account are left to the caller's warning; the rest is still checked.
 */
export function checkFleetQuotas(summaryRead: SummaryMap | undefined, plan: FleetQuotaPlan): QuotaCheck {
  const out: QuotaCheck = { refusals: [], warnings: [] };
  const summary = summaryRead ?? {};
  if (summaryRead) checkCounts(summary, plan, out);
  checkManagedPerRole(summaryRead, plan, out);
  checkProviders(plan, out);
  checkTrustPolicies(summary, plan, out);
  return out;
}

function checkCounts(summary: SummaryMap, plan: FleetQuotaPlan, out: QuotaCheck): void {
  checkCount(
    summary,
    {
      kind: 'roles',
      what: 'role',
      whats: 'roles',
      usedKey: 'Roles',
      quotaKey: 'RolesQuota',
      requested: plan.rolesToCreate,
      ref: SERVICE_QUOTAS.roles,
      also: 'pack projects into fewer roles (role: per-group), or onboard fewer projects (--include/--exclude)',
    },
    out,
  );
  checkCount(
    summary,
    {
      kind: 'policies',
      what: 'policy',
      whats: 'policies',
      usedKey: 'Policies',
      quotaKey: 'PoliciesQuota',
      requested: plan.policiesToCreate,
      ref: SERVICE_QUOTAS.policies,
      also: 'share one permission policy (--managed-policy) instead of one per project',
    },
    out,
  );
}

/** The account's AttachedPoliciesPerRoleQuota when the summary has it, else the given one, else IAM's default. */
function checkManagedPerRole(summary: SummaryMap | undefined, plan: FleetQuotaPlan, out: QuotaCheck): void {
  const attached = plan.managedPoliciesPerRole ?? [];
  if (!attached.length) return;
  const reported = summary?.AttachedPoliciesPerRoleQuota;
  const given = plan.managedPoliciesPerRoleMax;
  let limit: number;
  let source: string;
  if (reported !== undefined) {
    [limit, source] = [reported, 'AttachedPoliciesPerRoleQuota'];
    if (given !== undefined && given > reported)
      out.warnings.push(
        `The given managed-policies-per-role quota is ${fmt(given)} but the account summary reports ${fmt(reported)} (AttachedPoliciesPerRoleQuota): checked against ${fmt(reported)}.`,
      );
  } else if (given !== undefined) {
    [limit, source] = [given, 'the given quota'];
  } else {
    [limit, source] = [DEFAULT_MANAGED_POLICIES_PER_ROLE, "IAM's default"];
    out.warnings.push(
      `Managed policies per role checked against IAM's default, ${DEFAULT_MANAGED_POLICIES_PER_ROLE} (${summary ? 'the account summary has no AttachedPoliciesPerRoleQuota' : 'the account summary was not read'}).`,
    );
  }
  const over = attached.filter((r) => r.count > limit);
  if (!over.length) return;
  const worst = Math.max(...over.map((r) => r.count));
  out.refusals.push({
    kind: 'managed-policies-per-role',
    message:
      `${plural(over.length, 'role')} would have more than ${fmt(limit)} managed policies attached ` +
      `(${source}), up to ${fmt(worst)}: ${listed(over.map((r) => `${r.roleName} (${r.count})`))}`,
    used: worst,
    limit,
    requested: worst,
    serviceQuota: SERVICE_QUOTAS.attachedPerRole,
    items: over.map((r) => r.roleName),
    hint: raiseHint(SERVICE_QUOTAS.attachedPerRole, limit, 'attach fewer --managed-policy ARNs'),
  });
}

function checkProviders(plan: FleetQuotaPlan, out: QuotaCheck): void {
  const crowded = (plan.providers ?? []).filter((p) => p.clientIds > MAX_CLIENT_IDS_PER_PROVIDER);
  if (crowded.length) {
    const worst = Math.max(...crowded.map((p) => p.clientIds));
    out.refusals.push({
      kind: 'client-ids-per-provider',
      message:
        `${plural(crowded.length, 'OIDC provider')} would have more than ${MAX_CLIENT_IDS_PER_PROVIDER} client IDs (audiences), ` +
        `up to ${fmt(worst)}: ${listed(crowded.map((p) => `${p.url} (${p.clientIds})`))}`,
      used: worst,
      limit: MAX_CLIENT_IDS_PER_PROVIDER,
      requested: worst,
      items: crowded.map((p) => p.url),
      hint: 'IAM does not raise this limit: let projects share audiences (the default audience is the GitLab URL).',
    });
  }

  const providers = plan.oidcProviders;
  if (!providers || providers.toCreate <= 0) return;
  if (providers.existing === undefined) {
    out.warnings.push(
      `Not checked: OIDC providers per account (${MAX_OIDC_PROVIDERS}; ListOpenIDConnectProviders was not read); this run creates ${fmt(providers.toCreate)}.`,
    );
    return;
  }
  if (providers.existing + providers.toCreate > MAX_OIDC_PROVIDERS) {
    out.refusals.push({
      kind: 'oidc-providers',
      message:
        `would create ${plural(providers.toCreate, 'OIDC provider')}; the account has ${fmt(providers.existing)} ` +
        `of ${MAX_OIDC_PROVIDERS}`,
      used: providers.existing,
      limit: MAX_OIDC_PROVIDERS,
      requested: providers.toCreate,
      hint: 'IAM does not raise this limit: delete unused OIDC providers (gitlab-aws-oidc audit lists them).',
    });
  }
}

function checkTrustPolicies(summary: SummaryMap, plan: FleetQuotaPlan, out: QuotaCheck): void {
  const max = plan.trustPolicyMax ?? TRUST_POLICY_QUOTA;
  const reported = summary.AssumeRolePolicySizeQuota;
  if (reported !== undefined && max > reported) {
    out.warnings.push(
      `--trust-policy-max is ${fmt(max)} but the account summary reports ${fmt(reported)} (AssumeRolePolicySizeQuota): ` +
        'if the raise has not been granted yet, IAM refuses the larger trust policies with LimitExceeded.',
    );
  }
  const big = (plan.trustPolicies ?? []).filter((t) => t.size > max);
  if (big.length) {
    const worst = Math.max(...big.map((t) => t.size));
    out.refusals.push({
      kind: 'trust-policy-length',
      message:
        `${plural(big.length, 'trust policy', 'trust policies')} would exceed ${fmt(max)} characters ` +
        `(whitespace excluded), up to ${fmt(worst)}: ${listed(big.map((t) => `${t.roleName} (${fmt(t.size)})`))}`,
      used: worst,
      limit: max,
      requested: worst,
      serviceQuota: SERVICE_QUOTAS.trustPolicyLength,
      items: big.map((t) => t.roleName),
      hint: raiseHint(
        SERVICE_QUOTAS.trustPolicyLength,
        max,
        'allow fewer refs, and pass --trust-policy-max with the raised value',
      ),
    });
  }
}

/** Refuses the run (exit 1, before any change) when the plan exceeds a quota; one line per quota in the hint. */
export function assertWithinQuotas(check: QuotaCheck): void {
  if (!check.refusals.length) return;
  throw new CliError(
    'QUOTA_EXCEEDED',
    `The plan exceeds ${plural(check.refusals.length, 'IAM quota')}: ${check.refusals.map((r) => r.message).join('; ')}.`,
    { hint: check.refusals.map((r) => r.hint).join(' ') },
  );
}
