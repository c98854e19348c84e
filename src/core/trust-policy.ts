/**
 * The role's trust policy, secure by construction.
 *
 * One Allow statement for the provider, `sts:AssumeRoleWithWebIdentity`, `aud` pinned with
 * StringEquals and `sub` naming the literal project. Operator choice for `sub`:
 * IAM ANDs operators, so literal refs under StringEquals plus pattern refs under StringLike in the same
 * statement would require a token to match BOTH lists (nobody could assume the role). We therefore put
 * every `sub` value under StringLike as soon as one of them is a pattern: StringLike on a value with no
 * `*`/`?` is an exact match (refs.ts rejects `${`, the only other thing StringLike interprets), and the
 * values of one key are ORed. This keeps a single statement (half the size of two) with the same meaning.
 * With no pattern at all, `sub` stays under StringEquals.
 */
import { UsageError } from '../errors.js';
import { hasWildcard } from './iam-conditions.js';
import { policySize } from './policy-json.js';
import { matchesAnyRef, validateProjectPath, validateRefName } from './refs.js';
import { buildSubjectsFor, patternCovers, subjectWithPath } from './subject.js';
import type { ConditionValue, PolicyDocument, PolicyStatement, TrustInput } from './types.js';

/** IAM default quota for a role trust policy (characters, whitespace excluded); raisable (`--trust-policy-max`). */
export const TRUST_POLICY_QUOTA = 2048;
/** The most IAM's "Role trust policy length" quota can be raised to in Service Quotas. */
export const MAX_TRUST_POLICY_QUOTA = 8192;
const MAX_AUDIENCE = 255;

export interface TrustPolicyResult {
  policy: PolicyDocument;
  /** Things the user should know (shown as warnings). */
  warnings: string[];
  /** What the user explicitly consented to that widens who can assume the role. */
  broadening: string[];
}

function scalarOrList(values: string[]): ConditionValue {
  return values.length === 1 ? values[0]! : values;
}

function checkInput(input: TrustInput): void {
  validateProjectPath(input.projectPath);
  if (input.refs.length === 0) {
    throw UsageError.field('--branch', 'no branch or tag given', 'Pass at least one --branch or --tag.');
  }
  for (const ref of input.refs) {
    validateRefName(ref.pattern, ref.type === 'branch' ? '--branch' : '--tag');
    if (matchesAnyRef(ref.pattern) && !input.allowAnyRef) {
      throw UsageError.field(
        ref.type === 'branch' ? '--branch' : '--tag',
        `"${ref.pattern}" matches every ${ref.type} of the project`,
        'Name the refs, use a narrower pattern, or pass --allow-any-ref to accept this.',
      );
    }
  }
  const aud = input.audience;
  if (aud.trim() === '' || aud.length > MAX_AUDIENCE || hasWildcard(aud)) {
    throw UsageError.field('--audience', `must be 1-${MAX_AUDIENCE} characters without * or ?`);
  }
  // IAM fills `${…}` from the request: `${gitlab.com:aud}` would equal every token's aud.
  if (aud.includes('${')) {
    throw UsageError.field('--audience', `"${aud}" contains "\${", which IAM reads as a policy variable`);
  }
  for (const [field, id] of [
    ['--project-id', input.projectId],
    ['--namespace-id', input.namespaceId],
  ] as const) {
    if (id !== undefined && !/^[1-9]\d{0,19}$/.test(id))
      throw UsageError.field(field, `"${id}" is not a numeric ID`);
  }
  if (input.subClaim === 'project_id' && input.projectId === undefined) {
    throw UsageError.field(
      '--project-id',
      'is needed with --sub-claim project-id (the trust names project_id:<id> in sub)',
      'Pass --project-id <id>, or a GitLab token so init looks the project up.',
    );
  }
}

/** Builds the trust policy for one GitLab project; throws a UsageError on unsafe input. */
export function buildTrustPolicy(input: TrustInput): TrustPolicyResult {
  checkInput(input);
  const { issuer, projectPath, refs } = input;
  const host = issuer.hostPath;
  const warnings: string[] = [];
  const broadening: string[] = [];

  const byId = input.subClaim === 'project_id';
  const subjects = buildSubjectsFor({ projectPath, projectId: input.projectId, form: input.subClaim }, refs);
  const patterns = refs.filter((r) => hasWildcard(r.pattern));
  const stringEquals: Record<string, ConditionValue> = { [`${host}:aud`]: input.audience };
  const condition: Record<string, Record<string, ConditionValue>> = { StringEquals: stringEquals };
  if (patterns.length > 0) condition.StringLike = { [`${host}:sub`]: scalarOrList(subjects) };
  else stringEquals[`${host}:sub`] = scalarOrList(subjects);

  if (issuer.isGitlabCom) {
    if (input.projectId) stringEquals['gitlab.com:project_id'] = input.projectId;
    if (input.namespaceId) stringEquals['gitlab.com:namespace_id'] = input.namespaceId;
    if (input.protectedOnly) stringEquals['gitlab.com:ref_protected'] = 'true';
    if (!input.projectId && !byId) {
      warnings.push(
        'The role is bound to the project path only: if the path is ever freed (group deleted or renamed), ' +
          'whoever re-registers it inherits access. Pass --project-id to pin gitlab.com:project_id.',
      );
    }
  } else {
    if (input.protectedOnly) {
      warnings.push(
        `--protected-only has no effect on ${issuer.url}: STS only evaluates sub and aud for self-managed GitLab. ` +
          'Protect the branches/tags in GitLab (Settings > Repository) instead.',
      );
    }
    if (byId && input.namespaceId) {
      warnings.push(
        'The namespace ID is not pinned: STS evaluates gitlab.com:* keys only for https://gitlab.com (the project ID is, in sub).',
      );
    } else if (!byId && (input.projectId || input.namespaceId)) {
      warnings.push(
        'Project/namespace IDs are not pinned: STS evaluates gitlab.com:* keys only for https://gitlab.com. ' +
          'Use --sub-claim project-id to name the project by ID in sub.',
      );
    }
  }

  const enforcedProtection = issuer.isGitlabCom && input.protectedOnly;
  if (patterns.length > 0 && !enforcedProtection) {
    const list = patterns.map((r) => `${r.type} ${r.pattern}`).join(', ');
    warnings.push(
      `Ref patterns (${list}) match any ref of that shape that someone can push; only protected refs should match: ` +
        (issuer.isGitlabCom
          ? 'use --protected-only, and protect those refs in GitLab.'
          : 'protect those refs in GitLab.'),
    );
  }
  for (const rule of refs.filter((r) => matchesAnyRef(r.pattern))) {
    broadening.push(
      `Any ${rule.type} of ${projectPath} can assume the role (${rule.type} pattern "${rule.pattern}").`,
    );
  }

  const policy: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: input.providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
    ],
  };
  return { policy, warnings, broadening };
}

/** Trust-policy size as IAM counts it (whitespace excluded). */
export function trustPolicySize(doc: PolicyDocument): number {
  return policySize(doc);
}

/** Throws a UsageError saying how many characters over when the trust policy exceeds the quota. */
export function assertTrustPolicyFits(doc: PolicyDocument, quota = TRUST_POLICY_QUOTA): void {
  const size = trustPolicySize(doc);
  if (size <= quota) return;
  throw new UsageError(
    `The trust policy is ${size} characters (whitespace excluded), ${size - quota} over the ${quota}-character quota.`,
    [{ field: '--branch/--tag', message: `${size - quota} characters too many` }],
    {
      hint:
        'Allow fewer refs or use patterns (e.g. release/*), or raise the IAM quota "Role trust policy length" ' +
        `(up to ${MAX_TRUST_POLICY_QUOTA.toLocaleString('en-US')}) in Service Quotas and pass --trust-policy-max with the new value.`,
    },
  );
}

// ---------- Broadening: does `after` let in anyone `before` did not? ----------

interface TrustFacts {
  principals: Set<string>;
  subs: string[];
  auds: Set<string>;
  /** Other positive or negative conditions, keyed `operator|key` (lower case), with their values. */
  pins: Map<string, Set<string>>;
  unscopedSub: boolean;
  unscopedAud: boolean;
}

function asList<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function collectTrustFacts(doc: PolicyDocument): TrustFacts {
  const facts: TrustFacts = {
    principals: new Set(),
    subs: [],
    auds: new Set(),
    pins: new Map(),
    unscopedSub: false,
    unscopedAud: false,
  };
  for (const st of asList<PolicyStatement>(doc.Statement).filter((s) => s.Effect === 'Allow')) {
    if (st.Principal === '*' || st.NotPrincipal) facts.principals.add('*');
    else {
      for (const [type, v] of Object.entries(st.Principal ?? {})) {
        for (const p of asList(v)) facts.principals.add(`${type}:${p}`);
      }
    }
    let hasSub = false;
    let hasAud = false;
    for (const [operator, block] of Object.entries(st.Condition ?? {})) {
      const positive = !/not/i.test(operator) && !/ifexists|forallvalues/i.test(operator);
      for (const [key, raw] of Object.entries(block)) {
        const values = asList(raw).map(String);
        const lower = key.toLowerCase();
        if (positive && lower.endsWith(':sub')) {
          hasSub = true;
          facts.subs.push(...values);
        } else if (positive && lower.endsWith(':aud')) {
          hasAud = true;
          for (const v of values) facts.auds.add(v);
        } else {
          const pinKey = `${operator.toLowerCase()}|${lower}`;
          const set = facts.pins.get(pinKey) ?? new Set<string>();
          for (const v of values) set.add(v);
          facts.pins.set(pinKey, set);
        }
      }
    }
    if (!hasSub) facts.unscopedSub = true;
    if (!hasAud) facts.unscopedAud = true;
  }
  return facts;
}

/** `stringequals|gitlab.com:ref_protected` + {"true"} → `gitlab.com:ref_protected = "true"` (other operators named). */
function pinLabel(pinKey: string, values: ReadonlySet<string>): string {
  const [operator = '', key = ''] = pinKey.split('|');
  const shown = [...values].map((v) => JSON.stringify(v)).join(', ');
  return `${operator === 'stringequals' ? '' : `${operator} `}${key} = ${shown}`;
}

export interface BroadeningOptions {
  /**
   * A project known (from GitLab) by both its path and ID: `project_id:<id>:…` and
   * `project_path:<path>:…` then name the same jobs, so switching the sub form is not broadening.
   */
  sameProject?: { projectPath: string; projectId: string } | undefined;
}

/**
 * Human reasons why `after` trusts more than `before` (empty: not broader, as far as we can tell).
 * Conservative: anything not provably covered by `before` counts as broadening.
 */
export function findTrustBroadening(
  before: PolicyDocument,
  after: PolicyDocument,
  options: BroadeningOptions = {},
): string[] {
  const old = collectTrustFacts(before);
  const next = collectTrustFacts(after);
  const same = options.sameProject;
  const asPath = (s: string) => (same ? subjectWithPath(s, same) : s);
  const reasons: string[] = [];
  const newPrincipals = [...next.principals].filter(
    (p) => !old.principals.has(p) && !old.principals.has('*'),
  );
  if (newPrincipals.length) reasons.push(`trusts new principal(s): ${newPrincipals.join(', ')}`);
  if (next.unscopedSub && !old.unscopedSub) reasons.push('a statement no longer restricts sub');
  if (!old.unscopedSub) {
    const added = next.subs.filter((s) => !old.subs.some((o) => patternCovers(asPath(o), asPath(s))));
    if (added.length) reasons.push(`allows new sub value(s): ${[...new Set(added)].join(', ')}`);
  }
  if (next.unscopedAud && !old.unscopedAud) reasons.push('a statement no longer restricts aud');
  if (!old.unscopedAud) {
    const added = [...next.auds].filter((a) => !old.auds.has(a));
    if (added.length) reasons.push(`accepts new audience(s): ${added.join(', ')}`);
  }
  for (const [key, values] of old.pins) {
    const now = next.pins.get(key);
    const label = pinLabel(key, values);
    if (!now) reasons.push(`drops the condition ${label}`);
    else if ([...now].some((v) => !values.has(v))) {
      const shown = [...now].map((v) => JSON.stringify(v)).join(', ');
      // None of the old values kept: the value is replaced, not widened (still broadening: a new value).
      const replaced = [...values].every((v) => !now.has(v));
      reasons.push(
        replaced
          ? `replaces the condition ${label} with ${shown}`
          : `widens the condition ${label} to ${shown}`,
      );
    }
  }
  return reasons;
}
