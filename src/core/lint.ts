/**
 * The one trust-policy linter, shared by `init` (refuses to write a policy with critical findings),
 * `audit` (every role in the account, or a file offline) and `status`. Pure: no I/O, no SDK.
 *
 *   const findings = lintTrustPolicy(doc, { providers, isWriteRole: true });
 *   if (hasFindingsAtLeast(findings, 'critical')) refuse();
 *
 * Every Allow statement and every condition value is judged on its own: a list of values is as weak
 * as its weakest value, and a policy as weak as its weakest statement. Each finding names its rule
 * (stable ID, see `RULES`), the statement, condition key, operator and value, why it matters and the
 * exact fix.
 */
import { WEB_IDENTITY_ACTION } from './evaluate.js';
import { conditionClaimsFor, GITLAB_COM_HOST, subProjectComponent } from './gitlab-claims.js';
import {
  conditionValueMatches,
  expandsPolicyVariables,
  hasWildcard,
  holdsPolicyVariable,
  isAllWildcard,
  isLiteralOperator,
  isPatternOperator,
  isStringLikeOperator,
  matchesStringLike,
  operatorSpelling,
  policyVariablesAsWildcards,
} from './iam-conditions.js';
import { providerHost } from './issuer.js';
import { checkProviderUsage, checkSessionDuration, type ProviderUsageInput } from './lint-rules/account.js';
import {
  type ConditionEntry,
  flattenConditions,
  isPositiveMatch,
  passesWhenMissing,
  splitConditionKey,
} from './lint-rules/conditions.js';
import { analyzeGithubSub, GITHUB_SUB_EXAMPLE, isGithubActionsHost } from './lint-rules/github-sub.js';
import {
  classifyAccess,
  lintPermissionSources,
  type PermissionSource,
  statementsOf,
} from './lint-rules/permissions.js';
import { RULES, type RuleId, SEVERITIES, type Severity } from './lint-rules/rules.js';
import { type AccessLevel, analyzeGitlabSub, type SubIssue } from './lint-rules/subject.js';
import { findMalformations, type Malformation } from './policy-grammar.js';
import type { PolicyDocument, PolicyStatement } from './types.js';

export { providerHost } from './issuer.js';
export type { PermissionSource } from './lint-rules/permissions.js';
export { classifyAccess } from './lint-rules/permissions.js';
export {
  RULE_IDS,
  RULES,
  type RuleId,
  type RuleMeta,
  SEVERITIES,
  type Severity,
} from './lint-rules/rules.js';

/** What a finding is about, when it is not (only) a statement of a document being linted. */
export interface FindingTarget {
  kind: 'role' | 'oidc-provider' | 'policy' | 'file';
  /** Role name, provider URL, policy ARN/name, or file path. */
  id: string;
  arn?: string | undefined;
}

export interface Finding {
  /** Stable rule ID (`GAO001`…), see `RULES`. */
  ruleId: RuleId;
  severity: Severity;
  /** The rule's title. */
  title: string;
  /** Index of the statement in `Statement` (0 when `Statement` is a single object). */
  statementIndex?: number | undefined;
  sid?: string | undefined;
  conditionKey?: string | undefined;
  /** The condition operator as written (`StringLike`, `ForAllValues:StringEquals`). */
  operator?: string | undefined;
  /** The offending value. */
  value?: string | undefined;
  /** Why this is dangerous (or broken), specific to this finding. */
  why: string;
  /** The exact change that fixes it. */
  fix: string;
  /** The fix as one condition value, where it is one (what `fix` says, in a form a tool can apply). */
  suggestion?: SuggestedCondition | undefined;
  /** Set by `audit`/`status`: the role, provider or file the finding belongs to. */
  target?: FindingTarget | undefined;
  /** For permission findings: the policy (ARN, or name for inline/file policies) the finding is about. */
  policy?: string | undefined;
  /** For GAO043: the policy element IAM refuses (`Effect`, `Resource`, `Version`, `Condition`, …). */
  element?: string | undefined;
}

/**
 * Put `value` under `operator` → `conditionKey` in the same statement; with `replaces`, instead of that
 * value (under the finding's `operator` and `conditionKey`). Placeholders such as `<project-id>`,
 * `<group>/<project>` or `<branch>` are the user's to fill.
 */
export interface SuggestedCondition {
  operator: string;
  conditionKey: string;
  value: string;
  replaces?: string | undefined;
}

const addCondition = (conditionKey: string, value: string): SuggestedCondition => ({
  operator: 'StringEquals',
  conditionKey,
  value,
});

/** An IAM OIDC provider as the linter needs it. `url` with or without `https://`. */
export interface LintProvider {
  arn: string;
  url: string;
  clientIds: string[];
  /** Known to be a GitLab instance (tag, discovery); gitlab.com and hosts named gitlab.* are assumed. */
  gitlab?: boolean | undefined;
}

export interface TrustLintContext {
  /**
   * The account's OIDC providers. When given, a federated provider missing from the list is a
   * functional error (GAO028) and aud values are checked against its client IDs (GAO022).
   */
  providers?: LintProvider[] | undefined;
  roleName?: string | undefined;
  /** Whether the role can change things. Unknown (undefined and no `attachedPolicies`) counts as write. */
  isWriteRole?: boolean | undefined;
  /** The role's permission policies; used to tell write roles from read-only ones when `isWriteRole` is unset. */
  attachedPolicies?: PermissionSource[] | undefined;
  /** More distinct projects than this in one role is GAO013 (default 3). */
  maxProjectsPerRole?: number | undefined;
}

// ---------------------------------------------------------------------------------------------
// Severity helpers

const RANK: Record<Severity, number> = { critical: 5, high: 4, functional: 3, medium: 2, low: 1 };

/** True when `severity` is at least as strong as `threshold` (order: critical, high, functional, medium, low). */
export function severityAtLeast(severity: Severity, threshold: Severity): boolean {
  return RANK[severity] >= RANK[threshold];
}

export function hasFindingsAtLeast(findings: readonly Finding[], threshold: Severity): boolean {
  return findings.some((f) => severityAtLeast(f.severity, threshold));
}

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

/** Strongest first, then by statement, rule and value: a stable order for output and tests. */
export function sortFindings<T extends Finding>(findings: readonly T[]): T[] {
  return [...findings].sort(
    (a, b) =>
      RANK[b.severity] - RANK[a.severity] ||
      (a.target?.id ?? '').localeCompare(b.target?.id ?? '') ||
      (a.statementIndex ?? -1) - (b.statementIndex ?? -1) ||
      a.ruleId.localeCompare(b.ruleId) ||
      (a.value ?? '').localeCompare(b.value ?? ''),
  );
}

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts = { critical: 0, high: 0, functional: 0, medium: 0, low: 0 };
  for (const f of findings) counts[f.severity] += 1;
  return counts;
}

function finding(
  ruleId: RuleId,
  fields: Omit<Finding, 'ruleId' | 'title' | 'severity'> & { severity?: Severity | undefined },
): Finding {
  const { severity, ...rest } = fields;
  const f: Finding = {
    ruleId,
    severity: severity ?? RULES[ruleId].severity,
    title: RULES[ruleId].title,
    ...rest,
  };
  for (const k of Object.keys(f) as (keyof Finding)[]) if (f[k] === undefined) delete f[k];
  return f;
}

// ---------------------------------------------------------------------------------------------
// Issuers

/** The audience GitHub's configure-aws-credentials action requests. */
const GITHUB_AWS_AUDIENCE = 'sts.amazonaws.com';

/** Issuers whose tokens anyone can obtain: a missing sub there is open to the world. */
const SHARED_ISSUERS = new Set([
  'gitlab.com',
  'token.actions.githubusercontent.com',
  'app.terraform.io',
  'accounts.google.com',
  'cognito-identity.amazonaws.com',
  'graph.facebook.com',
  'www.amazon.com',
]);

interface FederatedPrincipal {
  value: string;
  /** Lower-cased provider host (`gitlab.com`, `gitlab.example.com/gitlab`). */
  host: string;
  /** An IAM OIDC provider ARN (as opposed to Cognito/Google/… names). */
  isOidcArn: boolean;
}

const asList = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

function federatedOf(st: PolicyStatement): FederatedPrincipal[] {
  if (!st.Principal || st.Principal === '*' || typeof st.Principal !== 'object') return [];
  return asList(st.Principal.Federated)
    .filter((v) => v !== '*')
    .map((value) => {
      const at = value.indexOf(':oidc-provider/');
      return at >= 0
        ? { value, host: value.slice(at + ':oidc-provider/'.length).toLowerCase(), isOidcArn: true }
        : { value, host: value.toLowerCase(), isOidcArn: false };
    });
}

function isGitlabIssuer(host: string, provider: LintProvider | undefined, subValues: string[]): boolean {
  if (provider?.gitlab !== undefined) return provider.gitlab;
  if (isGithubActionsHost(host)) return false;
  if (host === GITLAB_COM_HOST || /(^|[./])gitlab[.-]/.test(host) || host.startsWith('gitlab')) return true;
  return subValues.some((v) => subProjectComponent(v) !== undefined);
}

// ---------------------------------------------------------------------------------------------
// The linter

/** All statements of a document, as an array (a single-object `Statement` is index 0). */
export function trustStatements(doc: PolicyDocument): PolicyStatement[] {
  return statementsOf(doc);
}

function accessLevel(ctx: TrustLintContext): AccessLevel {
  if (ctx.isWriteRole === true) return 'write';
  if (ctx.isWriteRole === false) return 'read-only';
  if (ctx.attachedPolicies && ctx.attachedPolicies.length > 0) return classifyAccess(ctx.attachedPolicies);
  return 'unknown';
}

/** Literal, unconditional pin of a claim: `StringEquals {"gitlab.com:project_id": "42"}`. */
function pinned(
  entries: ConditionEntry[],
  host: string,
  claim: string,
  accept: (v: string) => boolean,
): string[] | undefined {
  const pins = entries.filter(
    (e) =>
      e.host === host &&
      e.claim === claim &&
      e.known &&
      isLiteralOperator(e) &&
      !e.negated &&
      !e.ifExists &&
      e.set === undefined &&
      e.values.length > 0 &&
      e.values.every(accept),
  );
  return pins.length > 0 ? pins.flatMap((e) => e.values) : undefined;
}

/** A plain allow-list on a key: false when no value matches, and false when the key is absent. */
function closesWhenNoValueMatches(e: ConditionEntry): boolean {
  return isPositiveMatch(e) && !e.ifExists && e.set !== 'ForAllValues';
}

/**
 * A statement that never matches grants nothing today, so it is not reported as open to anyone
 * (GAO002). That becomes true once the dead part is fixed, so the finding that says why nothing
 * matches also says that nothing restricts sub, and how to restrict it.
 */
function foldOpenIntoDead(findings: Finding[], from: number, dead: readonly Finding[]): void {
  const open: Finding[] = [];
  for (let i = findings.length - 1; i >= from; i--) {
    if (findings[i]?.ruleId === 'GAO002') open.unshift(...findings.splice(i, 1));
  }
  // A dead condition on sub itself (a sub key for another host, under a misspelt operator): fixing it
  // restricts sub, so there is nothing to add.
  if (dead.some((d) => d.conditionKey !== undefined && splitConditionKey(d.conditionKey).claim === 'sub'))
    return;
  const first = dead[0];
  if (!first) return;
  for (const o of open) {
    const rest = o.why.replace(/^Nothing restricts sub: /, '');
    // A reason outside the statement (a Version IAM refuses) names the statement the note is about.
    const where = first.statementIndex === o.statementIndex ? '' : ` in statement #${o.statementIndex}`;
    first.why = `${first.why} Nothing restricts sub${where} either: once the statement matches, ${rest}`;
    first.fix = `${first.fix} Then restrict sub (GAO002): ${o.fix.charAt(0).toLowerCase()}${o.fix.slice(1)}`;
  }
}

const MALFORMED_FIX: Record<string, string> = {
  Policy: 'Write the policy as {"Version": "2012-10-17", "Statement": [ … ]}.',
  Statement: 'Write each statement as an object under "Statement".',
  Version: 'Set "Version": "2012-10-17" (or remove it).',
  Effect: 'Set "Effect" to "Allow" or "Deny", spelt exactly so.',
  Action:
    'Give the statement exactly one of Action and NotAction: "Action": "sts:AssumeRoleWithWebIdentity".',
  Principal:
    'Name the principal: "Principal": {"Federated": "arn:<partition>:iam::<account>:oidc-provider/<host>"} (principal types: AWS, Federated, Service, CanonicalUser).',
  NotPrincipal:
    'Keep only one of Principal and NotPrincipal; a trust policy for CI names its provider in Principal.',
  Resource: 'Remove "Resource": the resource of a trust policy is the role itself.',
  NotResource: 'Remove "NotResource": the resource of a trust policy is the role itself.',
  Condition:
    'Write each condition as {"<operator>": {"<key>": "<value>"}}, a value being a string, number, boolean or a list of them.',
};

/** GAO043: one reason IAM refuses the document (unknown operators are GAO029). */
function malformedFinding(
  m: Malformation,
  at: { statementIndex?: number; sid?: string | undefined },
): Finding {
  return finding('GAO043', {
    ...at,
    element: m.element,
    operator: m.operator,
    conditionKey: m.conditionKey,
    why: `IAM refuses this policy (MalformedPolicyDocument): ${m.message}. The change that carries it fails, so none of the policy is applied.`,
    fix: MALFORMED_FIX[m.element] ?? 'Correct the element the finding names.',
  });
}

/** GAO029: an operator IAM does not know (or spelt in the wrong case), in any statement. */
function unknownOperatorFinding(
  e: ConditionEntry,
  at: { statementIndex: number; sid?: string | undefined },
): Finding {
  const spelt = operatorSpelling(e.operator);
  return finding('GAO029', {
    ...at,
    conditionKey: e.key,
    operator: e.operator,
    why: `IAM refuses this policy (MalformedPolicyDocument): "${e.operator}" is not an IAM condition operator${spelt ? ` (operator names are case sensitive: IAM knows ${spelt})` : ''}. The change that carries it fails, so none of the policy is applied.`,
    fix: spelt ? `Spell it ${spelt}.` : 'Use StringEquals for literal values or StringLike for patterns.',
  });
}

/**
 * A statement that never matches (or a policy IAM refuses) grants nothing today. Its other findings
 * still say what it would grant once the dead part is fixed, so they are kept, say so first, and
 * rank below the reason it is dead (at most medium): a `--fail-on` gate fails on such a statement
 * exactly when it fails on that reason, and on the other findings once the statement can match.
 */
function markLatent(
  findings: Finding[],
  from: number,
  dead: readonly Finding[],
  statementIndex: number,
): void {
  const reasons = [...new Set(dead.map((d) => d.ruleId))].join(', ');
  for (let i = from; i < findings.length; i++) {
    const f = findings[i] as Finding;
    if (dead.includes(f) || f.severity === 'functional') continue;
    f.why = `Not exploitable today: statement #${statementIndex} never applies (${reasons}). Once it does: ${f.why}`;
    if (severityAtLeast(f.severity, 'high')) f.severity = 'medium';
  }
}

/**
 * Lints one trust policy. Returns findings in statement order (use `sortFindings` for display).
 * Never throws on odd input: a document IAM would refuse still gets the findings it can.
 */
export function lintTrustPolicy(doc: PolicyDocument, ctx: TrustLintContext = {}): Finding[] {
  const findings: Finding[] = [];
  const access = accessLevel(ctx);
  const providers = ctx.providers;
  const providerFor = (f: FederatedPrincipal) =>
    providers?.find((p) => p.arn === f.value) ?? providers?.find((p) => providerHost(p.url) === f.host);
  const projectPaths = new Set<string>();
  const projectIds = new Set<string>();
  let firstProjectStatement: number | undefined;
  // IAM fills `${…}` in String/Arn values from the request: such a value is not a literal.
  const variables = expandsPolicyVariables((doc as { Version?: unknown } | null)?.Version);
  const holdsVariable = (v: string) => variables && holdsPolicyVariable(v);

  // What IAM refuses to store (policy-grammar): GAO043, or GAO029 for an unknown operator.
  const malformations = findMalformations(doc).filter((m) => !m.unknownOperator);
  // A document-level one (Version, no Statement) means no statement ever applies.
  const refusedDocument = malformations
    .filter((m) => m.statement === undefined)
    .map((m) => malformedFinding(m, {}));
  findings.push(...refusedDocument);

  trustStatements(doc).forEach((st, statementIndex) => {
    const at = { statementIndex, sid: st.Sid };
    const entries = flattenConditions(st.Condition);
    const malformed = malformations.filter((m) => m.statement === statementIndex);
    // `Effect: "allow"` is refused by IAM (GAO043) but read as an Allow below, for what it would grant.
    const allow =
      st.Effect === 'Allow' || (typeof st.Effect === 'string' && st.Effect.toLowerCase() === 'allow');
    if (!allow) {
      // A Deny (or an Effect IAM does not know) grants nothing, but IAM still refuses it when malformed.
      for (const m of malformed) findings.push(malformedFinding(m, at));
      for (const e of entries) if (!e.known) findings.push(unknownOperatorFinding(e, at));
      return;
    }
    // Findings that show the statement never matches (no token, or no policy IAM would store): such a
    // statement is not also reported as open to anyone (GAO002); that risk is folded into the first one.
    const deadBecause: Finding[] = [];
    const statementStart = findings.length;
    const pushDead = (f: Finding) => {
      findings.push(f);
      deadBecause.push(f);
    };
    const finishStatement = () => {
      if (deadBecause.length === 0) return;
      foldOpenIntoDead(findings, statementStart, deadBecause);
      markLatent(findings, statementStart, deadBecause, statementIndex);
    };
    for (const m of malformed) pushDead(malformedFinding(m, at));
    deadBecause.push(...refusedDocument);

    // -- operators and literal/pattern confusion, for every key
    for (const e of entries) {
      const where = { ...at, conditionKey: e.key, operator: e.operator };
      if (!e.known) {
        pushDead(unknownOperatorFinding(e, at));
        continue;
      }
      const literalWildcard = (v: string) => isLiteralOperator(e) && hasWildcard(v) && !holdsVariable(v);
      // A plain allow-list whose every value is dead: the condition is false, whatever the token.
      const entryDead = closesWhenNoValueMatches(e) && e.values.length > 0 && e.values.every(literalWildcard);
      let entryDeadReported = false;
      for (const v of e.values) {
        if (isLiteralOperator(e) && hasWildcard(v)) {
          const f = finding('GAO020', {
            ...where,
            value: v,
            why: `${e.base} compares literally, so "${v}" only matches a value that contains "${v.includes('*') ? '*' : '?'}" itself${entryDead ? ': the condition never matches, so no job can assume the role' : e.claim === 'sub' && !e.negated ? ': no job ever matches it' : ''}.`,
            fix: `Use ${e.negated ? 'StringNotLike' : 'StringLike'} for "${e.key}" if a pattern was meant, or write the literal value.`,
          });
          if (entryDead && !entryDeadReported) pushDead(f);
          else findings.push(f);
          entryDeadReported ||= entryDead;
        } else if (isStringLikeOperator(e) && !e.values.some((x) => hasWildcard(x) || holdsVariable(x))) {
          // Only when no value of the key is a pattern: a literal next to patterns has to share
          // their operator (IAM ANDs operators, so splitting the list would require both).
          findings.push(
            finding('GAO014', {
              ...where,
              value: v,
              why: `"${v}" has no * or ?, so ${e.base} behaves like ${e.negated ? 'StringNotEquals' : 'StringEquals'}: harmless, but it suggests a pattern was intended or the operators were confused.`,
              fix: `Move "${e.key}": "${v}" under ${e.negated ? 'StringNotEquals' : 'StringEquals'}.`,
              suggestion: {
                operator: e.negated ? 'StringNotEquals' : 'StringEquals',
                conditionKey: e.key,
                value: v,
                replaces: v,
              },
            }),
          );
        }
      }
    }

    // -- principal
    const principal = st.Principal;
    const wildcardPrincipal =
      principal === '*' ||
      (principal !== undefined &&
        typeof principal === 'object' &&
        Object.values(principal).some((v) => asList(v as string | string[]).includes('*')));
    const federatedWildcardOnly =
      principal !== '*' &&
      typeof principal === 'object' &&
      asList(principal.Federated as string | string[] | undefined).includes('*') &&
      !Object.entries(principal).some(
        ([type, v]) => type !== 'Federated' && asList(v as string | string[]).includes('*'),
      );
    if (wildcardPrincipal || st.NotPrincipal !== undefined) {
      findings.push(
        finding('GAO001', {
          ...at,
          value:
            st.NotPrincipal !== undefined
              ? `NotPrincipal ${JSON.stringify(st.NotPrincipal)}`
              : JSON.stringify(principal),
          why:
            st.NotPrincipal !== undefined
              ? 'An Allow with NotPrincipal trusts every principal except the ones listed.'
              : federatedWildcardOnly
                ? 'IAM does not document {"Federated": "*"} (its principal wildcards are "*" and {"AWS": "*"}): it may refuse the policy or read it as every provider. Read the permissive way, any web identity accepted by any provider in the account can assume the role when the conditions hold.'
                : 'Principal "*" lets any AWS principal, or any web identity accepted by any provider in the account, assume the role when the conditions hold.',
          fix: 'Set "Principal": {"Federated": "arn:<partition>:iam::<account>:oidc-provider/<gitlab-host>"} and remove NotPrincipal.',
        }),
      );
    }

    const federated = federatedOf(st);
    if (federated.length === 0) {
      finishStatement();
      return;
    }
    const hosts = new Set(federated.map((f) => f.host));

    // -- action
    if (st.NotAction === undefined && federated.some((f) => f.isOidcArn)) {
      const actions = asList(st.Action);
      if (actions.length > 0 && !actions.some((a) => matchesStringLike(a, WEB_IDENTITY_ACTION, true))) {
        pushDead(
          finding('GAO026', {
            ...at,
            value: actions.join(', '),
            why: `The statement federates to an OIDC provider but allows only ${actions.join(', ')}; jobs call AssumeRoleWithWebIdentity, so it never applies.`,
            fix: 'Set "Action": "sts:AssumeRoleWithWebIdentity".',
          }),
        );
      }
    }

    // -- provider exists
    if (providers) {
      const missing = federated.filter((f) => f.isOidcArn && !providerFor(f));
      missing.forEach((f, i) => {
        const found = finding('GAO028', {
          ...at,
          value: f.value,
          why: `No OIDC provider ${f.value} exists in the account, so no token is accepted.`,
          fix: `Create the provider for https://${f.host} (gitlab-aws-oidc init does) or correct the ARN.`,
        });
        // Dead only when no principal of the statement exists.
        if (i === 0 && missing.length === federated.length) pushDead(found);
        else findings.push(found);
      });
    }

    const positiveSubOn = (host: string) =>
      entries.some((e) => e.host === host && e.claim === 'sub' && isPositiveMatch(e));
    const anyPositiveSub = [...hosts].some(positiveSubOn);
    const failOpenSeverity = anyPositiveSub ? 'high' : 'critical';

    // -- keys for another host
    for (const e of entries) {
      if (!e.known || e.host === undefined || hosts.has(e.host)) continue;
      const where = { ...at, conditionKey: e.key, operator: e.operator, value: e.values.join(', ') };
      const providerHosts = [...hosts].join(', ');
      if (passesWhenMissing(e)) {
        findings.push(
          finding('GAO005', {
            ...where,
            severity: failOpenSeverity,
            why: `"${e.key}" belongs to ${e.host}, but the statement federates to ${providerHosts}: the key is never in the request, and ${e.operator} passes when it is missing, so this condition restricts nothing.${anyPositiveSub ? '' : ' Nothing else restricts sub.'}`,
            fix: `Use "${[...hosts][0]}:${e.claim}" with ${e.base.replace(/^String(Not)?/, 'String').replace('NotLike', 'Like')} (no IfExists, no ForAllValues).`,
          }),
        );
      } else {
        pushDead(
          finding('GAO023', {
            ...where,
            why: `"${e.key}" belongs to ${e.host}, but the statement federates to ${providerHosts}: the key is never in the request, so ${e.operator} is false and no job can assume the role.`,
            fix: `Rename the key to "${[...hosts][0]}:${e.claim}".`,
          }),
        );
      }
    }

    for (const fed of federated) {
      const host = fed.host;
      const provider = providerFor(fed);
      const own = entries.filter((e) => e.known && e.host === host);
      const subEntries = own.filter((e) => e.claim === 'sub');
      const audEntries = own.filter((e) => e.claim === 'aud');
      const positiveSub = subEntries.filter(isPositiveMatch);
      const gitlab = isGitlabIssuer(
        host,
        provider,
        positiveSub.flatMap((e) => e.values),
      );
      const gitlabCom = host === GITLAB_COM_HOST;
      const github = !gitlab && isGithubActionsHost(host);
      /** An allow-list sub for this issuer, to suggest. */
      const exampleSub = gitlab
        ? 'project_path:<group>/<project>:ref_type:branch:ref:<branch>'
        : github
          ? GITHUB_SUB_EXAMPLE
          : undefined;

      // -- claims this issuer never exposes
      if (gitlab) {
        const supported = conditionClaimsFor(gitlabCom);
        for (const e of own) {
          if (supported.includes(e.claim)) continue;
          const where = { ...at, conditionKey: e.key, operator: e.operator, value: e.values.join(', ') };
          const instead = gitlabCom
            ? `gitlab.com exposes ${supported.join(', ')}`
            : `IAM exposes only sub and aud (and amr, azp) for a self-managed GitLab; encode ${e.claim} in sub through the project's sub claim components`;
          if (passesWhenMissing(e)) {
            findings.push(
              finding('GAO005', {
                ...where,
                severity: failOpenSeverity,
                why: `IAM never puts "${e.key}" in the request (${instead}), and ${e.operator} passes when the key is missing, so this condition restricts nothing.`,
                fix: gitlabCom
                  ? `Remove "${e.key}" or replace it with a supported key.`
                  : `Remove "${e.key}" and express the restriction in "${host}:sub".`,
              }),
            );
          } else {
            pushDead(
              finding('GAO024', {
                ...where,
                why: `IAM never puts "${e.key}" in the request (${instead}), so ${e.operator} is false and no job can assume the role.`,
                fix: gitlabCom
                  ? `Remove "${e.key}" or replace it with a supported key.`
                  : `Remove "${e.key}" and express the restriction in "${host}:sub".`,
              }),
            );
          }
        }
      }

      // -- set operators / IfExists on sub and aud
      for (const e of [...subEntries, ...audEntries]) {
        if (e.set === undefined && !e.ifExists) continue;
        // ForAllValues and …IfExists pass when the key is absent (fail open); ForAnyValue without
        // IfExists is false then (fails closed) and, on a one-value claim, matches like the plain operator.
        const failsOpen = e.set === 'ForAllValues' || e.ifExists;
        findings.push(
          finding('GAO006', {
            ...at,
            severity: failsOpen ? 'high' : 'low',
            conditionKey: e.key,
            operator: e.operator,
            value: e.values.join(', '),
            why: failsOpen
              ? `${e.claim} is a single-valued claim; ${e.operator} passes when the claim is absent, which AWS warns makes policies overly permissive.`
              : `${e.claim} is a single-valued claim; ${e.operator} treats it as a one-element set, so it matches exactly like plain ${e.base} and is false when the claim is absent (fails closed). Harmless, but AWS advises against set operators on single-valued keys and IAM Access Analyzer reports them.`,
            fix: `Use plain ${e.base} for "${e.key}".`,
          }),
        );
      }

      // -- sub
      const shared = gitlab || github || SHARED_ISSUERS.has(host);
      if (positiveSub.length === 0) {
        const negatives = subEntries.filter((e) => e.negated);
        if (negatives.length > 0) {
          for (const e of negatives) {
            findings.push(
              finding('GAO007', {
                ...at,
                conditionKey: e.key,
                operator: e.operator,
                value: e.values.join(', '),
                why: github
                  ? `sub is only restricted by ${e.operator}: every other workflow of every repository on GitHub (anyone can create one) can assume the role.`
                  : `sub is only restricted by ${e.operator}: every other ${gitlab ? 'project and ref' : 'subject'} of ${host} can assume the role.`,
                fix: `Replace it with an allow-list: "StringEquals": {"${host}:sub": "${exampleSub ?? '<subject>'}"}.`,
                suggestion: exampleSub ? addCondition(`${host}:sub`, exampleSub) : undefined,
              }),
            );
          }
        } else {
          findings.push(
            finding('GAO002', {
              ...at,
              severity: shared ? 'critical' : 'high',
              value: fed.value,
              why: gitlabCom
                ? 'Nothing restricts sub: every job of every project on gitlab.com (anyone can sign up) can assume the role.'
                : gitlab
                  ? `Nothing restricts sub: every job of every project on ${host}, personal projects included, can assume the role.`
                  : github
                    ? `Nothing restricts sub: every workflow of every repository on GitHub (anyone can create one) can assume the role.`
                    : `Nothing restricts sub: every token ${host} issues is accepted.`,
              fix: `Add "StringEquals": {"${host}:sub": "${exampleSub ?? '<subject>'}"}.`,
              suggestion: exampleSub ? addCondition(`${host}:sub`, exampleSub) : undefined,
            }),
          );
        }
      } else {
        const literalAnchors = positiveSub.filter(
          (e) =>
            isLiteralOperator(e) &&
            !e.ifExists &&
            e.set === undefined &&
            e.values.every((v) => !hasWildcard(v) && !holdsVariable(v)),
        );
        const judged = literalAnchors.length > 0 ? literalAnchors : positiveSub;
        const flags = {
          host,
          gitlabCom,
          protectedPinned:
            gitlabCom && pinned(entries, host, 'ref_protected', (v) => v === 'true') !== undefined,
          projectIdPinned:
            gitlabCom && pinned(entries, host, 'project_id', (v) => /^[0-9]+$/.test(v)) !== undefined,
          namespaceIdPinned:
            gitlabCom && pinned(entries, host, 'namespace_id', (v) => /^[0-9]+$/.test(v)) !== undefined,
          access,
        };
        const perEntry: { entry: ConditionEntry; value: string; issue: SubIssue }[][] = [];
        let usesPath = false;
        const literalRefs: string[] = [];
        for (const e of judged) {
          const issues: { entry: ConditionEntry; value: string; issue: SubIssue }[] = [];
          for (const v of e.values) {
            const expanded = variables ? policyVariablesAsWildcards(v) : undefined;
            if (expanded === undefined && isLiteralOperator(e) && hasWildcard(v)) continue; // dead value, GAO020 already
            const judgedValue = expanded ?? v;
            const pattern =
              expanded !== undefined ? hasWildcard(expanded) : isPatternOperator(e) && hasWildcard(v);
            const because =
              expanded === undefined
                ? ''
                : `IAM replaces the policy variable in "${v}" with a value from the request, so it is read as "${expanded}": `;
            if (!gitlab && !github) {
              if (pattern && isAllWildcard(judgedValue)) {
                issues.push({
                  entry: e,
                  value: v,
                  issue: {
                    ruleId: 'GAO003',
                    severity: shared ? 'critical' : 'high',
                    dimension: 'project',
                    why: `${because}"${judgedValue}" matches every subject ${host} issues tokens for.`,
                    fix: `Replace "${v}" with the literal subject(s) that may assume the role, under StringEquals.`,
                  },
                });
              }
              continue;
            }
            const analysis = github
              ? analyzeGithubSub(judgedValue, pattern, { host, access })
              : analyzeGitlabSub(judgedValue, pattern, flags);
            for (const issue of analysis.issues)
              issues.push({ entry: e, value: v, issue: { ...issue, why: `${because}${issue.why}` } });
            if (analysis.facts.dead) continue;
            if (analysis.facts.usesPath) usesPath = true;
            literalRefs.push(...analysis.facts.literalRefs.filter(() => !analysis.facts.protectedInSub));
            for (const p of analysis.facts.projects) {
              if (p.startsWith('path:')) projectPaths.add(p.slice(5));
              else projectIds.add(p.slice(3));
              firstProjectStatement ??= statementIndex;
            }
          }
          perEntry.push(issues);
        }
        // Conditions on sub are ANDed: a weakness in one dimension (project or ref) only counts when
        // every ANDed condition is weak in it.
        for (const issues of perEntry) {
          for (const { entry, value, issue } of issues) {
            if (
              issue.dimension !== 'other' &&
              perEntry.length > 1 &&
              !perEntry.every((other) => other.some((o) => o.issue.dimension === issue.dimension))
            )
              continue;
            findings.push(
              finding(issue.ruleId, {
                ...at,
                severity: issue.severity,
                conditionKey: entry.key,
                operator: entry.operator,
                value,
                why: issue.why,
                fix: issue.fix,
                suggestion:
                  issue.replacement !== undefined
                    ? {
                        operator: hasWildcard(issue.replacement) ? 'StringLike' : 'StringEquals',
                        conditionKey: entry.key,
                        value: issue.replacement,
                        replaces: value,
                      }
                    : issue.ruleId === 'GAO010' && gitlabCom
                      ? addCondition(`${host}:ref_protected`, 'true')
                      : undefined,
              }),
            );
          }
        }
        if (gitlabCom && usesPath && !flags.projectIdPinned) {
          findings.push(
            finding('GAO011', {
              ...at,
              conditionKey: judged[0]?.key,
              why: 'The project is identified by path only. If the group is deleted or renamed, anyone can register the same path on gitlab.com and inherit this trust.',
              fix: 'Add "gitlab.com:project_id": "<project-id>" to the StringEquals block (the ID is on the project overview page), or switch the sub claim to start with project_id.',
              suggestion: addCondition(`${host}:project_id`, '<project-id>'),
            }),
          );
        }
        if (gitlabCom && literalRefs.length > 0 && !flags.protectedPinned) {
          findings.push(
            finding('GAO012', {
              ...at,
              conditionKey: judged[0]?.key,
              value: [...new Set(literalRefs)].join(', '),
              why: `The policy does not check that ${[...new Set(literalRefs)].join(', ')} ${literalRefs.length > 1 ? 'are' : 'is'} protected, and the linter cannot see GitLab's protection settings: if not protected, any developer can push it (or create a tag of that name) and assume the role.`,
              fix: 'Protect the ref in GitLab (Settings › Repository) and add "gitlab.com:ref_protected": "true" to the StringEquals block.',
              suggestion: addCondition(`${host}:ref_protected`, 'true'),
            }),
          );
        }
      }

      // -- aud
      const positiveAud = audEntries.filter(isPositiveMatch);
      if (provider && provider.clientIds.length > 0) {
        for (const e of positiveAud) {
          const literalWildcard = (v: string) => isLiteralOperator(e) && hasWildcard(v) && !holdsVariable(v);
          const unknownAud = (v: string) =>
            !literalWildcard(v) &&
            !holdsVariable(v) &&
            !provider.clientIds.some((c) => conditionValueMatches(e, v, c));
          // Every value either dead or no client ID: the condition never holds (the statement is dead).
          const entryDead =
            closesWhenNoValueMatches(e) &&
            e.values.some(unknownAud) &&
            e.values.every((v) => literalWildcard(v) || unknownAud(v));
          let reported = false;
          for (const v of e.values.filter(unknownAud)) {
            const f = finding('GAO022', {
              ...at,
              conditionKey: e.key,
              operator: e.operator,
              value: v,
              why: `"${v}" is not a client ID of the provider (${provider.clientIds.join(', ')}); STS rejects tokens with that aud before the trust policy is read, so this value never matches${entryDead ? ' and no job can assume the role' : ''}.`,
              fix: `Use one of ${provider.clientIds.map((c) => `"${c}"`).join(', ')}, or add it: aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${provider.arn} --client-id '${v}'.`,
            });
            if (entryDead && !reported) pushDead(f);
            else findings.push(f);
            reported = true;
          }
        }
      }
      // A value filled from the request (`${…:aud}`) or a bare `*` pattern lets every audience through.
      const audChecked = positiveAud.some(
        (e) => !e.values.some((v) => holdsVariable(v) || (isPatternOperator(e) && isAllWildcard(v))),
      );
      if ((gitlab || github) && !audChecked && !(provider && provider.clientIds.length === 1)) {
        // GitHub's official action (configure-aws-credentials) asks for sts.amazonaws.com.
        const audience = github
          ? provider?.clientIds.includes(GITHUB_AWS_AUDIENCE) || !provider
            ? GITHUB_AWS_AUDIENCE
            : (provider.clientIds[0] as string)
          : (provider?.clientIds[0] ?? `https://${host}`);
        findings.push(
          finding('GAO015', {
            ...at,
            why: `aud is not checked${positiveAud.length ? ' (its value matches any audience: a bare wildcard, or a policy variable filled from the token itself)' : ''}: a token for any audience registered on the ${host} provider${provider ? ` (${provider.clientIds.join(', ')})` : ''} is accepted${github ? '; GitHub tokens carry the audience the workflow asks for, and the AWS action asks for sts.amazonaws.com' : ''}.`,
            fix: `Add "${host}:aud": "${audience}" to the StringEquals block.`,
            suggestion: addCondition(`${host}:aud`, audience),
          }),
        );
      }
    }

    finishStatement();
  });

  const maxProjects = ctx.maxProjectsPerRole ?? 3;
  const projectCount = Math.max(projectPaths.size, projectIds.size);
  if (projectCount > maxProjects) {
    const names =
      projectPaths.size >= projectIds.size ? [...projectPaths] : [...projectIds].map((i) => `project ${i}`);
    findings.push(
      finding('GAO013', {
        statementIndex: firstProjectStatement,
        value: names.join(', '),
        why: `${projectCount} projects share ${ctx.roleName ? `role ${ctx.roleName}` : 'this role'}: each gets everything the role can do, so the weakest project's pipeline decides the security of all.`,
        fix: 'Create one role per project (gitlab-aws-oidc init --project <path>) with only the permissions that project needs.',
      }),
    );
  }
  return findings;
}

/**
 * Lints permission policies of a CI role: AdministratorAccess/PowerUserAccess, `*`/`*:*`, iam:* and
 * IAM escalation actions, sts:AssumeRole on `*` (high), and service-wide wildcards such as s3:* on `*`
 * (medium). `attachedArns` are checked by name even without documents.
 */
export function lintPermissions(documents: PermissionSource[], attachedArns: string[] = []): Finding[] {
  return lintPermissionSources(documents, attachedArns).map((i) =>
    finding(i.ruleId, {
      severity: i.severity,
      statementIndex: i.statementIndex,
      sid: i.sid,
      value: i.action,
      why: i.why,
      fix: i.fix,
      target: { kind: 'policy', id: i.policy, arn: i.policy.startsWith('arn:') ? i.policy : undefined },
      policy: i.policy,
    }),
  );
}

/** GAO040: MaxSessionDuration more than twice the need (default one hour). */
export function lintMaxSessionDuration(
  maxSessionDuration: number,
  roleName: string,
  needSeconds?: number,
): Finding[] {
  const issue = checkSessionDuration(maxSessionDuration, roleName, needSeconds);
  return issue
    ? [
        finding(issue.ruleId, {
          severity: issue.severity,
          value: issue.value,
          why: issue.why,
          fix: issue.fix,
        }),
      ]
    : [];
}

/** GAO041 providers no role trusts, GAO042 client IDs no role checks. Findings target the provider. */
export function lintProviderUsage(input: ProviderUsageInput): Finding[] {
  return checkProviderUsage(input).map((i) => {
    const provider = input.providers.find((p) => p.arn === i.providerArn);
    return finding(i.ruleId, {
      severity: i.severity,
      value: i.value,
      why: i.why,
      fix: i.fix,
      target: { kind: 'oidc-provider', id: providerHost(provider?.url ?? i.providerArn), arn: i.providerArn },
    });
  });
}
