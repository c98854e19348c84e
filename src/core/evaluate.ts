/**
 * Evaluates a role trust policy for `sts:AssumeRoleWithWebIdentity` the way IAM does, and explains
 * the outcome statement by statement and condition by condition. Pure: no I/O, no SDK.
 *
 * Semantics followed (AWS IAM User Guide):
 * - reference_policies_elements_condition_operators.html: a key missing from the request context makes a
 *   positive operator false and a negated one (`StringNotEquals`, `StringNotLike`, …) true; `…IfExists`
 *   is true on a missing key; `Null` tests presence.
 * - reference_policies_multi-value-conditions.html: operators AND, keys AND, values OR; for a negated
 *   operator the values are NOR ("not any of them").
 * - reference_policies_condition-single-vs-multi-valued-context-keys.html: `ForAllValues` is true when
 *   the key is missing (fail-open); `ForAnyValue` is false when it is missing.
 * - reference_policies_evaluation-logic.html: an explicit Deny wins over any Allow; nothing allowed =
 *   implicit deny.
 * - Condition key names are case-insensitive; values are case-sensitive unless `…IgnoreCase`.
 *
 * Never fail open where IAM is silent or refuses: a policy IAM refuses to store (policy-grammar.ts)
 * is `malformed`, never `allowed`. A comparison IAM documents no reading of (a `Null`/`Bool` value
 * other than true/false, a number that is not an integer or decimal, an `Arn…` value that is not an
 * ARN, a variable default without `, `, `…IgnoreCase` folding a non-ASCII letter, `{"Federated": "*"}`)
 * is read as "IAM would refuse or not match": an Allow resting on it does not apply, a Deny resting
 * on it does, and the result lists it in `caveats`.
 */

import {
  allOf,
  anyOf,
  type CaveatCode,
  compareOne,
  describeValue,
  isUnknown,
  lookupIn,
  not,
  type RequestContext,
  type Tri,
  type Unknown,
  unknown,
} from './iam-compare.js';
import {
  booleanValue,
  conditionValues,
  expandsPolicyVariables,
  type MissingKeyOutcome,
  matchesStringLike,
  parseConditionOperator,
  whenKeyMissing,
} from './iam-conditions.js';
import { findMalformations, type Malformation } from './policy-grammar.js';
import type { ConditionValue, PolicyDocument, PolicyStatement } from './types.js';

/** `StringLike` matching (case-sensitive; `*` any run, `?` one character), under its older name. */
export { matchesStringLike as matchesLike } from './iam-conditions.js';
export type { Malformation } from './policy-grammar.js';

export const WEB_IDENTITY_ACTION = 'sts:AssumeRoleWithWebIdentity';

export type { CaveatCode, RequestContext } from './iam-compare.js';

/** `malformed`: IAM refuses to store this trust policy (MalformedPolicyDocument), so nothing is allowed. */
export type Decision = 'allowed' | 'denied-explicit' | 'denied-implicit' | 'malformed';

export interface Caveat {
  code: CaveatCode;
  message: string;
  /** The statement whose outcome rests on it. */
  statement?: number | undefined;
}

export type ConditionOutcome =
  /** The key is present and the comparison decided the result. */
  | 'compared'
  /**
   * The key is missing: a positive operator is false, a negated one true, `…IfExists` true,
   * `ForAllValues:` true (fails open), `ForAnyValue:` false.
   */
  | MissingKeyOutcome
  /** `Null` presence check. */
  | 'null-check'
  /**
   * Not an IAM operator (IAM refuses the policy), or the key is present but the operator is not
   * modelled: result unknown (not matching in an Allow, matching in a Deny).
   */
  | 'unsupported'
  /** IAM documents no reading of this comparison (see `caveat`): not matching in an Allow, matching in a Deny. */
  | 'undocumented';

export interface ConditionCheck {
  /** As written in the policy: `ForAnyValue:StringLikeIfExists`. */
  operator: string;
  /** As written in the policy. */
  key: string;
  expected: string[];
  /** Values in the request; `null` when the key is not in the request context. */
  actual: string[] | null;
  passed: boolean;
  outcome: ConditionOutcome;
  /** For an `undocumented` or not-modelled comparison: what the result rests on. */
  caveat?: Caveat | undefined;
  /** Human line: "`gitlab.com:sub` StringEquals `…:ref:main` ≠ `…:ref:feature-x`". */
  line: string;
}

export interface StatementCheck {
  index: number;
  sid?: string | undefined;
  /** As written; IAM accepts only `Allow` and `Deny`. */
  effect: string;
  principalMatched: boolean;
  actionMatched: boolean;
  conditions: ConditionCheck[];
  conditionsPassed: boolean;
  /** Principal, action and every condition match: the statement's effect applies to the request. */
  applies: boolean;
  /** Why principal or action did not match, or other remarks. */
  notes: string[];
  /**
   * The undocumented readings this statement's outcome rests on: empty when it matches or fails on
   * documented grounds alone.
   */
  caveats: Caveat[];
}

export interface AudienceCheck {
  /** False when the provider's client IDs were not known (not readable). */
  checked: boolean;
  passed: boolean;
  audiences: string[];
  clientIds?: string[] | undefined;
  line: string;
}

export interface StatementRef {
  index: number;
  sid?: string | undefined;
}

export interface Evaluation {
  /** What the trust policy decides. */
  decision: Decision;
  /** The policy allows it and the audience is one of the provider's client IDs. */
  assumable: boolean;
  /** The statement that decided: the first matching Deny, else the first matching Allow. */
  decisive?: StatementRef | undefined;
  /** For an implicit deny: the Allow statement that came closest (fewest failed checks). */
  closest?: StatementRef | undefined;
  statements: StatementCheck[];
  audience: AudienceCheck;
  /** Human summary lines, most important first. */
  reasons: string[];
  /** Why IAM refuses to store the policy; non-empty exactly when `decision` is `malformed`. */
  malformed: Malformation[];
  /** What the answer rests on besides IAM's documented behaviour (assumptions first); empty when nothing. */
  caveats: Caveat[];
}

export interface EvaluateInput {
  policy: PolicyDocument;
  /** The IAM OIDC provider ARN the token's issuer maps to (the federated principal of the request). */
  providerArn: string;
  /** The provider's client IDs (audiences). Undefined: unknown, the audience check is skipped. */
  clientIds?: string[] | undefined;
  /** The token's audiences (`aud`, string or list). Defaults to the `…:aud` values in the context. */
  audiences?: string[] | undefined;
  context: RequestContext;
  /** Defaults to `sts:AssumeRoleWithWebIdentity`. */
  action?: string | undefined;
  /** False: IAM has no such provider, so STS refuses the token before it reads the trust policy. */
  providerFound?: boolean | undefined;
  /** What the caller assumed to build the request (e.g. the issuer): reported first in `caveats`. */
  assumptions?: Caveat[] | undefined;
}

// ---------- One condition (operator + key + values) ----------

/**
 * One condition. `indeterminate` is how a comparison IAM documents no reading of (or an operator
 * this evaluator does not model) counts: `no-match` in an Allow, `match` in a Deny ("IAM would refuse").
 */
export function evaluateCondition(
  operator: string,
  key: string,
  value: ConditionValue,
  context: RequestContext,
  options: { variables?: boolean; indeterminate?: 'no-match' | 'match' } = {},
): ConditionCheck {
  const ctx = lookupIn(context);
  const variables = options.variables ?? true;
  const op = parseConditionOperator(operator);
  const expected = conditionValues(value);
  const actual = ctx(key) ?? null;

  const done = (passed: boolean, outcome: ConditionOutcome, caveat?: Caveat): ConditionCheck => {
    const check: ConditionCheck = { operator, key, expected, actual, passed, outcome, line: '' };
    if (caveat) check.caveat = caveat;
    check.line = describeCondition(check);
    return check;
  };
  const undecided = (u: Unknown): ConditionCheck => {
    const outcome = u.unknown === 'operator-not-modelled' ? 'unsupported' : 'undocumented';
    return done(options.indeterminate === 'match', outcome, {
      code: u.unknown,
      message: `${q(key)} ${operator}: ${u.why}`,
    });
  };

  // IAM refuses a policy with an operator it does not know: nothing to model, never a match.
  if (!op.known) return done(false, 'unsupported');
  // "true": passes when the key is absent; "false": passes when it is present (values OR).
  if (op.family === 'Null') {
    const readings: Tri[] = expected.map((v) => {
      const b = booleanValue(v);
      if (b === undefined) {
        return unknown(
          'null-value',
          `${describeValue(v)} is not true or false, the only values IAM documents for Null`,
        );
      }
      return b === (actual === null);
    });
    const result = anyOf(readings);
    return isUnknown(result) ? undecided(result) : done(result, 'null-check');
  }
  if (actual === null) {
    const missing = whenKeyMissing(op);
    return done(missing.passed, missing.outcome);
  }

  // "Does this request value match any of the policy values?" (values are OR).
  const matchesAny = (v: string): Tri =>
    anyOf(
      expected.map(
        (e) =>
          compareOne(op, v, e, ctx, variables) ??
          unknown('operator-not-modelled', `${operator} is not modelled by this evaluator`),
      ),
    );
  // A negated operator holds for a request value when it matches none of the policy values (NOR).
  const holds = (v: string): Tri => (op.negated ? not(matchesAny(v)) : matchesAny(v));

  let result: Tri;
  if (op.set === 'ForAllValues') result = allOf(actual.map(holds));
  else if (op.set === 'ForAnyValue') result = anyOf(actual.map(holds));
  // No set operator on a multi-valued key: positive = any value matches; negated = no value matches.
  else if (op.negated) result = allOf(actual.map(holds));
  else result = anyOf(actual.map(holds));

  return isUnknown(result) ? undecided(result) : done(result, 'compared');
}

// ---------- Human lines ----------

const q = (s: string) => `\`${s}\``;

/**
 * Shortens `actual` against `expected` by replacing their common prefix with `…`, keeping the last
 * `:label:` before the difference: `project_path:g/a:ref_type:branch:ref:x` vs `…:ref:main` → `…:ref:x`.
 */
export function abbreviateAgainst(actual: string, expected: string): string {
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  if (i === actual.length && i === expected.length) return actual;
  const common = actual.slice(0, i);
  const lastColon = common.lastIndexOf(':');
  if (lastColon < 0) return actual;
  const cut = common.lastIndexOf(':', lastColon - 1);
  if (cut <= 0 || cut < 8) return actual;
  return `…${actual.slice(cut)}`;
}

function closestExpected(expected: string[], actual: string): string {
  let best = expected[0] ?? '';
  let bestLen = -1;
  for (const e of expected) {
    let i = 0;
    while (i < e.length && i < actual.length && e[i] === actual[i]) i++;
    if (i > bestLen) {
      best = e;
      bestLen = i;
    }
  }
  return best;
}

export function describeCondition(check: Omit<ConditionCheck, 'line'>): string {
  const { operator, key, expected, actual, passed, outcome } = check;
  const exp = expected.length === 1 ? q(expected[0] ?? '') : `one of [${expected.map(q).join(', ')}]`;
  const head = `${q(key)} ${operator} ${exp}`;
  switch (outcome) {
    case 'null-check':
      return `${head}: key ${actual === null ? 'absent' : 'present'} → ${passed ? 'true' : 'false'}`;
    case 'missing-key':
      return `${head} ≠ (not in the request: STS does not set this key for this token/provider)`;
    case 'missing-key-negated':
      return `${head}: key not in the request → a negated operator is true`;
    case 'missing-key-if-exists':
      return `${head}: key not in the request → …IfExists is true`;
    case 'missing-key-for-all-values':
      return `${head}: key not in the request → ForAllValues is true (fails open)`;
    case 'missing-key-for-any-value':
      return `${head}: key not in the request → ForAnyValue is false`;
    case 'unsupported':
      return parseConditionOperator(operator).known
        ? `${head}: operator not modelled by this evaluator (treated as ${passed ? 'matching: IAM would refuse' : 'not matching'})`
        : `${head}: not an IAM condition operator, IAM refuses the policy (treated as not matching)`;
    case 'undocumented': {
      const why =
        check.caveat?.message.replace(`${q(key)} ${operator}: `, '') ?? 'IAM documents no reading of it';
      return `${head}: ${why} (treated as ${passed ? 'matching: IAM would refuse' : 'not matching'})`;
    }
    default: {
      const values = actual ?? [];
      const shown = values.map((v) => {
        if (values.length !== 1 || passed) return q(v);
        const against = closestExpected(expected, v);
        return q(expected.length === 1 ? abbreviateAgainst(v, against) : v);
      });
      const act = shown.length === 1 ? (shown[0] ?? '') : `[${shown.join(', ')}]`;
      const op = parseConditionOperator(operator);
      // A negated operator holds when the value matches none of the policy values.
      if (op.negated) return passed ? `${head} ≠ ${act}` : `${head}, but the value is ${act}`;
      return `${head} ${passed ? '=' : '≠'} ${act}`;
    }
  }
}

// ---------- Statements ----------

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Action names are case-insensitive; `*` and `?` are wildcards. */
function actionMatches(patterns: string[], action: string): boolean {
  return patterns.some((p) => matchesStringLike(p, action, true));
}

/**
 * reference_policies_elements_principal.html documents two wildcards, `"*"` and `{"AWS": "*"}`
 * ("everyone"); `{"Federated": "*"}` is not one of them, so it is Unknown (never "every provider").
 */
function principalListMatches(principal: unknown, providerArn: string, notes: string[]): Tri {
  if (principal === undefined) return false;
  if (principal === '*') return true;
  if (principal === null || typeof principal !== 'object') {
    notes.push(`Principal ${q(String(principal))} is neither "*" nor a map of principals.`);
    return false;
  }
  const map = principal as Record<string, string | string[] | undefined>;
  const federated = asArray(map.Federated);
  if (federated.includes(providerArn)) return true;
  if (asArray(map.AWS).includes('*')) return true;
  if (federated.includes('*')) {
    return unknown(
      'principal-wildcard',
      'Principal {"Federated": "*"}: IAM documents only "*" and {"AWS": "*"} as principal wildcards',
    );
  }
  const near = federated.find((f) => f.toLowerCase() === providerArn.toLowerCase());
  if (near) notes.push(`Principal ${q(near)} differs from ${q(providerArn)} only in letter case.`);
  else if (federated.length)
    notes.push(
      `Principal Federated ${federated.map(q).join(', ')} is not the token's provider ${q(providerArn)}.`,
    );
  else notes.push(`Principal names no Federated provider; the request comes from ${q(providerArn)}.`);
  return false;
}

export function evaluateStatement(
  statement: PolicyStatement,
  index: number,
  input: { providerArn: string; context: RequestContext; action?: string | undefined; variables?: boolean },
): StatementCheck {
  const action = input.action ?? WEB_IDENTITY_ACTION;
  const effect = String(statement.Effect);
  // What IAM documents no reading of counts against the request: an Allow does not apply, a Deny does.
  const indeterminate = effect === 'Deny' ? 'match' : 'no-match';
  const notes: string[] = [];
  const caveats: Caveat[] = [];
  const resolve = (t: Tri, what: string): boolean => {
    if (!isUnknown(t)) return t;
    caveats.push({ code: t.unknown, message: t.why, statement: index });
    notes.push(
      `${what}: ${t.why} (treated as ${indeterminate === 'match' ? 'matching: IAM would refuse' : 'not matching'}).`,
    );
    return indeterminate === 'match';
  };
  let principal: Tri;
  if (statement.NotPrincipal) {
    const listed = principalListMatches(statement.NotPrincipal, input.providerArn, []);
    principal = not(listed);
    if (listed === true) notes.push('NotPrincipal lists the token provider.');
  } else {
    principal = principalListMatches(statement.Principal, input.providerArn, notes);
  }
  const principalMatched = resolve(principal, statement.NotPrincipal ? 'NotPrincipal' : 'Principal');

  let actionMatched: boolean;
  if (statement.Action !== undefined) {
    actionMatched = actionMatches(asArray(statement.Action), action);
    if (!actionMatched)
      notes.push(`Action ${asArray(statement.Action).map(q).join(', ')} does not include ${q(action)}.`);
  } else if (statement.NotAction !== undefined) {
    actionMatched = !actionMatches(asArray(statement.NotAction), action);
    if (!actionMatched) notes.push(`NotAction excludes ${q(action)}.`);
  } else {
    actionMatched = false;
    notes.push('The statement has no Action.');
  }

  const conditions: ConditionCheck[] = [];
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, value] of Object.entries(keys ?? {})) {
      conditions.push(
        evaluateCondition(operator, key, value, input.context, {
          variables: input.variables ?? true,
          indeterminate,
        }),
      );
    }
  }
  for (const c of conditions) if (c.caveat) caveats.push({ ...c.caveat, statement: index });
  const conditionsPassed = conditions.every((c) => c.passed);
  // The caveats matter only when every documented check passes: otherwise the statement fails anyway.
  const documentedPass =
    principal !== false && actionMatched && conditions.every((c) => c.passed || c.caveat !== undefined);
  return {
    index,
    sid: statement.Sid,
    effect,
    principalMatched,
    actionMatched,
    conditions,
    conditionsPassed,
    applies: principalMatched && actionMatched && conditionsPassed,
    notes,
    caveats: documentedPass ? caveats : [],
  };
}

function ref(s: StatementCheck): StatementRef {
  return s.sid === undefined ? { index: s.index } : { index: s.index, sid: s.sid };
}

export function describeStatementRef(s: StatementRef): string {
  return `statement #${s.index}${s.sid ? ` (Sid ${q(s.sid)})` : ''}`;
}

/** Number of failed checks (principal, action, each condition): used to pick the "closest" statement. */
function misses(s: StatementCheck): number {
  return (
    (s.principalMatched ? 0 : 10) + (s.actionMatched ? 0 : 10) + s.conditions.filter((c) => !c.passed).length
  );
}

// ---------- Audience ----------

export function checkAudience(audiences: string[], clientIds: string[] | undefined): AudienceCheck {
  if (!clientIds) {
    return {
      checked: false,
      passed: true,
      audiences,
      line: `aud ${audiences.map(q).join(', ') || '(none)'}: the provider's client IDs are unknown, not checked`,
    };
  }
  const passed = audiences.some((a) => clientIds.includes(a));
  const list = `[${clientIds.map(q).join(', ')}]`;
  return {
    checked: true,
    passed,
    audiences,
    clientIds,
    line: passed
      ? `aud ${audiences.map(q).join(', ')} is one of the provider's client IDs ${list}`
      : `aud ${audiences.map(q).join(', ') || '(none)'} is not among the provider's client IDs ${list}: STS refuses the token (InvalidIdentityToken: Incorrect token audience) before it reads the trust policy`,
  };
}

function audiencesFromContext(context: RequestContext): string[] {
  for (const [k, v] of Object.entries(context)) if (k.toLowerCase().endsWith(':aud')) return v;
  return [];
}

// ---------- Policy ----------

export function evaluateTrustPolicy(input: EvaluateInput): Evaluation {
  const statementsIn = asArray(input.policy.Statement);
  // Without Version (IAM's default 2008-10-17) `${…}` is literal text.
  const variables = expandsPolicyVariables(input.policy.Version);
  const statements = statementsIn.map((s, i) =>
    evaluateStatement(s, i, {
      providerArn: input.providerArn,
      context: input.context,
      action: input.action,
      variables,
    }),
  );
  const audience = checkAudience(input.audiences ?? audiencesFromContext(input.context), input.clientIds);
  const malformed = findMalformations(input.policy);

  const denies = statements.filter((s) => s.effect === 'Deny' && s.applies);
  // A Deny that applies on documented grounds decides alone; else the answer rests on the Denies' caveats.
  const deny = denies.find((s) => s.caveats.length === 0) ?? denies[0];
  const allow = statements.find((s) => s.effect === 'Allow' && s.applies);
  const reasons: string[] = [];
  const caveats: Caveat[] = [...(input.assumptions ?? [])];
  let decision: Decision;
  let decisive: StatementRef | undefined;
  let closest: StatementRef | undefined;
  const providerMissing = input.providerFound === false;

  if (malformed.length > 0) {
    decision = 'malformed';
    reasons.push(
      'IAM refuses this trust policy (MalformedPolicyDocument), so no job can assume the role with it:',
    );
    for (const m of malformed) reasons.push(`  ${m.message}`);
  } else if (deny) {
    decision = 'denied-explicit';
    decisive = ref(deny);
    if (deny.caveats.length > 0) caveats.push(...denies.flatMap((s) => s.caveats));
    reasons.push(
      `Explicitly denied by ${describeStatementRef(decisive)}: an explicit Deny overrides any Allow.`,
    );
    for (const n of deny.notes) reasons.push(`  ${n}`);
    for (const c of deny.conditions) reasons.push(`  ${c.line}`);
  } else if (allow) {
    decision = 'allowed';
    decisive = ref(allow);
    reasons.push(
      providerMissing
        ? `The trust policy would allow it by ${describeStatementRef(decisive)}, but STS never reads it without the provider.`
        : `Allowed by ${describeStatementRef(decisive)}.`,
    );
    for (const c of allow.conditions) reasons.push(`  ${c.line}`);
  } else {
    decision = 'denied-implicit';
    const allows = statements.filter((s) => s.effect === 'Allow');
    // Had IAM read an undocumented case the permissive way, one of these Allows might apply.
    caveats.push(...allows.flatMap((s) => s.caveats));
    if (allows.length === 0) {
      reasons.push('Implicitly denied: the trust policy has no Allow statement.');
    } else {
      const best = allows.reduce((a, b) => (misses(b) < misses(a) ? b : a));
      closest = ref(best);
      reasons.push(`Implicitly denied: no statement allows it. Closest: ${describeStatementRef(closest)}.`);
      for (const n of best.notes) reasons.push(`  ${n}`);
      for (const c of best.conditions.filter((c) => !c.passed)) reasons.push(`  ${c.line}`);
    }
  }
  if (audience.checked && !audience.passed) reasons.unshift(audience.line);
  if (providerMissing) {
    reasons.unshift(
      `There is no OIDC provider ${q(input.providerArn)} in IAM: STS refuses the token (InvalidIdentityToken) before it reads the trust policy.`,
    );
  }
  if (caveats.length > (input.assumptions?.length ?? 0)) {
    reasons.push('The answer rests on a case IAM does not document (see the caveats).');
  }

  return {
    decision,
    assumable: decision === 'allowed' && audience.passed && !providerMissing,
    decisive,
    closest,
    statements,
    audience,
    reasons,
    malformed,
    caveats,
  };
}
