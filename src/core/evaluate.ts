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
 */
import {
  type ConditionOperator,
  conditionValues,
  expandsPolicyVariables,
  isIgnoreCaseOperator,
  isPatternOperator,
  type LikePiece,
  likePieces,
  type MissingKeyOutcome,
  matchesPieces,
  matchesStringLike,
  nullConditionHolds,
  parseConditionOperator,
  whenKeyMissing,
} from './iam-conditions.js';
import type { ConditionValue, PolicyDocument, PolicyStatement } from './types.js';

/** `StringLike` matching (case-sensitive; `*` any run, `?` one character), under its older name. */
export { matchesStringLike as matchesLike } from './iam-conditions.js';

export const WEB_IDENTITY_ACTION = 'sts:AssumeRoleWithWebIdentity';

/** Condition key → values in the request (several values = a multi-valued key). */
export type RequestContext = Record<string, string[]>;

export type Decision = 'allowed' | 'denied-explicit' | 'denied-implicit';

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
   * modelled: result unknown (reported as failed).
   */
  | 'unsupported';

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
  /** Human line: "`gitlab.com:sub` StringEquals `…:ref:main` ≠ `…:ref:feature-x`". */
  line: string;
}

export interface StatementCheck {
  index: number;
  sid?: string | undefined;
  effect: 'Allow' | 'Deny';
  principalMatched: boolean;
  actionMatched: boolean;
  conditions: ConditionCheck[];
  conditionsPassed: boolean;
  /** Principal, action and every condition match: the statement's effect applies to the request. */
  applies: boolean;
  /** Why principal or action did not match, or other remarks. */
  notes: string[];
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
}

// ---------- Wildcards and policy variables ----------

/**
 * Splits a policy value into pieces, substituting policy variables (`${gitlab.com:sub}`,
 * `${key, 'default'}`) and the escapes `${*}`, `${?}`, `${$}` (Version 2012-10-17 only).
 * Returns undefined when a referenced variable is missing and has no default (the value cannot match).
 */
function compileValue(
  value: string,
  like: boolean,
  ctx: ContextLookup,
  variables: boolean,
): LikePiece[] | undefined {
  const pieces: LikePiece[] = [];
  const pushLiteral = (text: string) => {
    if (text) pieces.push({ lit: text });
  };
  const pushPattern = (text: string) => {
    if (like) pieces.push(...likePieces(text));
    else pushLiteral(text);
  };
  if (!variables) {
    pushPattern(value);
    return pieces;
  }
  const re = /\$\{([^}]*)\}/g;
  let last = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    pushPattern(value.slice(last, m.index));
    last = m.index + m[0].length;
    const inner = (m[1] ?? '').trim();
    if (inner === '*' || inner === '?' || inner === '$') {
      pushLiteral(inner);
      continue;
    }
    const withDefault = /^([^,]+?)\s*,\s*'([^']*)'$/.exec(inner);
    const name = withDefault ? (withDefault[1] ?? '') : inner;
    const found = ctx(name);
    if (found && found.length === 1) pushLiteral(found[0] ?? '');
    else if (withDefault) pushLiteral(withDefault[2] ?? '');
    else return undefined;
  }
  pushPattern(value.slice(last));
  return pieces;
}

// ---------- Context lookup ----------

type ContextLookup = (key: string) => string[] | undefined;

function lookupIn(context: RequestContext): ContextLookup {
  const lower = new Map<string, string[]>();
  for (const [k, v] of Object.entries(context)) lower.set(k.toLowerCase(), v);
  return (key) => {
    const v = lower.get(key.toLowerCase());
    return v && v.length > 0 ? v : undefined;
  };
}

// ---------- One comparison ----------

/** Compares one request value with one policy value; undefined when the operator is not modelled. */
function compareOne(
  op: ConditionOperator,
  actual: string,
  expected: string,
  ctx: ContextLookup,
  variables: boolean,
): boolean | undefined {
  switch (op.family) {
    case 'String':
    case 'Arn': {
      // StringLike and every Arn operator take `*`/`?` patterns; `…IgnoreCase` compares without case.
      const pieces = compileValue(expected, isPatternOperator(op), ctx, variables);
      return pieces ? matchesPieces(pieces, actual, isIgnoreCaseOperator(op)) : false;
    }
    case 'Numeric': {
      const a = Number(actual);
      const e = Number(expected);
      if (actual.trim() === '' || expected.trim() === '' || Number.isNaN(a) || Number.isNaN(e)) return false;
      return compareOrdered(op.base.slice('Numeric'.length), a, e);
    }
    case 'Date': {
      const a = parseDate(actual);
      const e = parseDate(expected);
      if (a === undefined || e === undefined) return false;
      return compareOrdered(op.base.slice('Date'.length), a, e);
    }
    case 'Bool':
      return actual.toLowerCase() === expected.toLowerCase();
    default:
      return undefined;
  }
}

function compareOrdered(kind: string, a: number, e: number): boolean {
  switch (kind) {
    case 'Equals':
    case 'NotEquals':
      return a === e;
    case 'LessThan':
      return a < e;
    case 'LessThanEquals':
      return a <= e;
    case 'GreaterThan':
      return a > e;
    case 'GreaterThanEquals':
      return a >= e;
    default:
      return false;
  }
}

function parseDate(text: string): number | undefined {
  if (/^\d+$/.test(text.trim())) return Number(text) * 1000;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}

// ---------- One condition (operator + key + values) ----------

export function evaluateCondition(
  operator: string,
  key: string,
  value: ConditionValue,
  context: RequestContext,
  options: { variables?: boolean } = {},
): ConditionCheck {
  const ctx = lookupIn(context);
  const variables = options.variables ?? true;
  const op = parseConditionOperator(operator);
  const expected = conditionValues(value);
  const actual = ctx(key) ?? null;

  const done = (passed: boolean, outcome: ConditionOutcome): ConditionCheck => {
    const check: ConditionCheck = { operator, key, expected, actual, passed, outcome, line: '' };
    check.line = describeCondition(check);
    return check;
  };

  // IAM refuses a policy with an operator it does not know: nothing to model, never a match.
  if (!op.known) return done(false, 'unsupported');
  // "true": passes when the key is absent; "false": passes when it is present.
  if (op.family === 'Null') return done(nullConditionHolds(expected, actual !== null), 'null-check');
  if (actual === null) {
    const missing = whenKeyMissing(op);
    return done(missing.passed, missing.outcome);
  }

  // "Does this request value match any of the policy values?" (values are OR).
  let unsupported = false;
  const matchesAny = (v: string): boolean =>
    expected.some((e) => {
      const r = compareOne(op, v, e, ctx, variables);
      if (r === undefined) unsupported = true;
      return r === true;
    });
  // A negated operator holds for a request value when it matches none of the policy values (NOR).
  const holds = (v: string): boolean => (op.negated ? !matchesAny(v) : matchesAny(v));

  let passed: boolean;
  if (op.set === 'ForAllValues') passed = actual.every(holds);
  else if (op.set === 'ForAnyValue') passed = actual.some(holds);
  // No set operator on a multi-valued key: positive = any value matches; negated = no value matches.
  else if (op.negated) passed = actual.every(holds);
  else passed = actual.some(holds);

  if (unsupported) return done(false, 'unsupported');
  return done(passed, 'compared');
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
        ? `${head}: operator not modelled by this evaluator (treated as not matching)`
        : `${head}: not an IAM condition operator, IAM refuses the policy (treated as not matching)`;
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

function principalListMatches(principal: PolicyStatement['Principal'], providerArn: string, notes: string[]) {
  if (principal === undefined) return false;
  if (principal === '*') return true;
  const federated = asArray(principal.Federated);
  if (federated.includes(providerArn) || federated.includes('*')) return true;
  if (asArray(principal.AWS).includes('*')) return true;
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
  const notes: string[] = [];
  let principalMatched: boolean;
  if (statement.NotPrincipal) {
    const listed = principalListMatches(statement.NotPrincipal, input.providerArn, []);
    principalMatched = !listed;
    if (listed) notes.push('NotPrincipal lists the token provider.');
  } else {
    principalMatched = principalListMatches(statement.Principal, input.providerArn, notes);
  }

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
        evaluateCondition(operator, key, value, input.context, { variables: input.variables ?? true }),
      );
    }
  }
  const conditionsPassed = conditions.every((c) => c.passed);
  return {
    index,
    sid: statement.Sid,
    effect: statement.Effect,
    principalMatched,
    actionMatched,
    conditions,
    conditionsPassed,
    applies: principalMatched && actionMatched && conditionsPassed,
    notes,
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

  const deny = statements.find((s) => s.effect === 'Deny' && s.applies);
  const allow = statements.find((s) => s.effect === 'Allow' && s.applies);
  const reasons: string[] = [];
  let decision: Decision;
  let decisive: StatementRef | undefined;
  let closest: StatementRef | undefined;

  if (deny) {
    decision = 'denied-explicit';
    decisive = ref(deny);
    reasons.push(
      `Explicitly denied by ${describeStatementRef(decisive)}: an explicit Deny overrides any Allow.`,
    );
    for (const c of deny.conditions) reasons.push(`  ${c.line}`);
  } else if (allow) {
    decision = 'allowed';
    decisive = ref(allow);
    reasons.push(`Allowed by ${describeStatementRef(decisive)}.`);
    for (const c of allow.conditions) reasons.push(`  ${c.line}`);
  } else {
    decision = 'denied-implicit';
    const allows = statements.filter((s) => s.effect === 'Allow');
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

  return {
    decision,
    assumable: decision === 'allowed' && audience.passed,
    decisive,
    closest,
    statements,
    audience,
    reasons,
  };
}
