/**
 * IAM condition operators and StringLike matching: one reading of the rules for the evaluator
 * (evaluate.ts), the linter (lint*.ts) and the trap finder (traps.ts). Pure.
 *
 * AWS IAM User Guide, reference_policies_elements_condition_operators.html:
 * - An operator is `[ForAllValues:|ForAnyValue:]<base>[IfExists]`; `IfExists` goes on any operator
 *   except `Null`. Anything else is refused by IAM (MalformedPolicyDocument).
 * - StringLike: `*` matches any run of characters (`/` and `:` included, also none), `?` exactly one;
 *   case-sensitive. The Arn operators match the same way. `…IgnoreCase` compares without case.
 * - A key missing from the request makes a positive operator false and a negated one true;
 *   `…IfExists` is true; `ForAllValues` is true (fails open); `ForAnyValue` is false.
 */
import type { ConditionValue } from './types.js';

export type OperatorFamily =
  | 'String'
  | 'Numeric'
  | 'Date'
  | 'Bool'
  | 'Null'
  | 'Arn'
  | 'Ip'
  | 'Binary'
  | 'Unknown';

export type SetOperator = 'ForAllValues' | 'ForAnyValue';

const OPERATOR_FAMILY: ReadonlyMap<string, OperatorFamily> = new Map<string, OperatorFamily>([
  ['StringEquals', 'String'],
  ['StringNotEquals', 'String'],
  ['StringEqualsIgnoreCase', 'String'],
  ['StringNotEqualsIgnoreCase', 'String'],
  ['StringLike', 'String'],
  ['StringNotLike', 'String'],
  ['NumericEquals', 'Numeric'],
  ['NumericNotEquals', 'Numeric'],
  ['NumericLessThan', 'Numeric'],
  ['NumericLessThanEquals', 'Numeric'],
  ['NumericGreaterThan', 'Numeric'],
  ['NumericGreaterThanEquals', 'Numeric'],
  ['DateEquals', 'Date'],
  ['DateNotEquals', 'Date'],
  ['DateLessThan', 'Date'],
  ['DateLessThanEquals', 'Date'],
  ['DateGreaterThan', 'Date'],
  ['DateGreaterThanEquals', 'Date'],
  ['Bool', 'Bool'],
  ['Null', 'Null'],
  ['ArnEquals', 'Arn'],
  ['ArnNotEquals', 'Arn'],
  ['ArnLike', 'Arn'],
  ['ArnNotLike', 'Arn'],
  ['IpAddress', 'Ip'],
  ['NotIpAddress', 'Ip'],
  ['BinaryEquals', 'Binary'],
]);

/** Negated operators: true on a missing key, and their values are NOR ("none of them"). */
const NEGATED_OPERATORS: ReadonlySet<string> = new Set([
  'StringNotEquals',
  'StringNotEqualsIgnoreCase',
  'StringNotLike',
  'NumericNotEquals',
  'DateNotEquals',
  'NotIpAddress',
  'ArnNotEquals',
  'ArnNotLike',
]);

/** Operators whose values are compared literally (a `*` is just a character). */
const LITERAL_STRING_OPERATORS: ReadonlySet<string> = new Set([
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
]);

/** Operators that accept `*`/`?` patterns (the Arn* operators all do, ArnEquals included). */
const PATTERN_OPERATORS: ReadonlySet<string> = new Set([
  'StringLike',
  'StringNotLike',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
]);

export interface ConditionOperator {
  /** As written in the policy: `ForAnyValue:StringLikeIfExists`. */
  raw: string;
  set: SetOperator | undefined;
  /** Without set prefix and IfExists: `StringLike`. */
  base: string;
  ifExists: boolean;
  /** StringNotEquals, StringNotLike, ArnNotLike, … */
  negated: boolean;
  /** An operator IAM accepts (else it refuses the policy). */
  known: boolean;
  /** `Unknown` when the operator is not `known`. */
  family: OperatorFamily;
}

export function parseConditionOperator(raw: string): ConditionOperator {
  let rest = raw;
  let set: SetOperator | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const prefix = rest.slice(0, colon);
    if (prefix === 'ForAllValues' || prefix === 'ForAnyValue') set = prefix;
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.endsWith('IfExists') && rest !== 'IfExists') {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  const family = OPERATOR_FAMILY.get(rest);
  const known = family !== undefined && (colon < 0 || set !== undefined) && !(ifExists && family === 'Null');
  return {
    raw,
    set,
    base: rest,
    ifExists,
    negated: NEGATED_OPERATORS.has(rest),
    known,
    family: known && family ? family : 'Unknown',
  };
}

/**
 * The documented spelling of an operator written in the wrong letter case (`stringnotequals` →
 * `StringNotEquals`, `forallvalues:stringlike` → `ForAllValues:StringLike`); undefined when none is.
 */
export function operatorSpelling(raw: string): string | undefined {
  const lower = raw.toLowerCase();
  const colon = lower.indexOf(':');
  const prefix = colon >= 0 ? lower.slice(0, colon) : undefined;
  const set =
    prefix === undefined
      ? ''
      : ({ forallvalues: 'ForAllValues:', foranyvalue: 'ForAnyValue:' }[prefix] ?? null);
  if (set === null) return undefined;
  let rest = colon >= 0 ? lower.slice(colon + 1) : lower;
  const ifExists = rest.endsWith('ifexists') && rest !== 'ifexists';
  if (ifExists) rest = rest.slice(0, -'ifexists'.length);
  const base = [...OPERATOR_FAMILY.keys()].find((k) => k.toLowerCase() === rest);
  if (base === undefined) return undefined;
  const spelt = `${set}${base}${ifExists ? 'IfExists' : ''}`;
  return parseConditionOperator(spelt).known && spelt !== raw ? spelt : undefined;
}

type Base = Pick<ConditionOperator, 'base'>;

/** StringEquals and friends: `*` and `?` are ordinary characters. */
export function isLiteralOperator(op: Base): boolean {
  return LITERAL_STRING_OPERATORS.has(op.base);
}

/** StringLike, StringNotLike and the Arn operators: `*` and `?` are wildcards. */
export function isPatternOperator(op: Base): boolean {
  return PATTERN_OPERATORS.has(op.base);
}

/** StringLike and StringNotLike: a value without `*`/`?` there signals confusion. */
export function isStringLikeOperator(op: Base): boolean {
  return op.base === 'StringLike' || op.base === 'StringNotLike';
}

export function isIgnoreCaseOperator(op: Base): boolean {
  return op.base.endsWith('IgnoreCase');
}

/** Condition values as strings: IAM compares strings, so numbers and booleans are stringified. */
export function conditionValues(value: ConditionValue): string[] {
  return (Array.isArray(value) ? value : [value]).map((v) => String(v));
}

// ---------- A key missing from the request ----------

export type MissingKeyOutcome =
  | 'missing-key'
  | 'missing-key-negated'
  | 'missing-key-if-exists'
  | 'missing-key-for-all-values'
  | 'missing-key-for-any-value';

/**
 * What IAM decides for a condition (other than `Null`) whose key is not in the request.
 * `ForAnyValue` is false even with `IfExists` (observed on AWS; see re:Post QU9HFmDzP0QGuU-fd7rS6B7w
 * "ForAnyValue:StringEqualsIfExists behaving unexpectedly").
 */
export function whenKeyMissing(op: Pick<ConditionOperator, 'set' | 'ifExists' | 'negated'>): {
  passed: boolean;
  outcome: MissingKeyOutcome;
} {
  if (op.set === 'ForAllValues') return { passed: true, outcome: 'missing-key-for-all-values' };
  if (op.set === 'ForAnyValue') return { passed: false, outcome: 'missing-key-for-any-value' };
  if (op.ifExists) return { passed: true, outcome: 'missing-key-if-exists' };
  if (op.negated) return { passed: true, outcome: 'missing-key-negated' };
  return { passed: false, outcome: 'missing-key' };
}

/**
 * A `Null` or `Bool` value as IAM documents it: `true` or `false` (any letter case); undefined for
 * anything else ("yes", "1", ""), which IAM documents no reading of.
 */
export function booleanValue(value: string): boolean | undefined {
  const v = value.toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

/**
 * `Null`: a value "true" holds when the key is absent, "false" when it is present; values are OR.
 * A value other than true/false never holds (IAM documents no reading of it).
 */
export function nullConditionHolds(values: readonly string[], present: boolean): boolean {
  return values.some((v) => booleanValue(v) === !present);
}

/** Whether a condition holds when its key is not in the request (`Null` included; unknown operators never do). */
export function passesWhenKeyMissing(
  op: Pick<ConditionOperator, 'known' | 'family' | 'set' | 'ifExists' | 'negated'>,
  values: readonly string[],
): boolean {
  if (!op.known) return false;
  if (op.family === 'Null') return nullConditionHolds(values, false);
  return whenKeyMissing(op).passed;
}

// ---------- Policy variables ----------

/** `${…}` in a condition value (IAM User Guide, reference_policies_variables.html). */
const POLICY_VARIABLE = /\$\{([^}]*)\}/g;
/** The escapes `${*}`, `${?}`, `${$}`: the character itself, never a request value. */
const ESCAPES = new Set(['*', '?', '$']);

/** The policy-language version whose String/Arn condition values expand `${…}` (without Version, they are text). */
export function expandsPolicyVariables(version: unknown): boolean {
  return version === '2012-10-17';
}

/** True when the value holds a policy variable other than the escapes `${*}`, `${?}`, `${$}`. */
export function holdsPolicyVariable(value: string): boolean {
  for (const m of value.matchAll(POLICY_VARIABLE)) if (!ESCAPES.has((m[1] ?? '').trim())) return true;
  return false;
}

/**
 * For judging a value statically: every policy variable becomes `*`, since IAM puts a value from the
 * request there (`${gitlab.com:sub}` is the token's own sub, so it matches every token). The escapes
 * become their character. Undefined when the value holds no variable.
 */
export function policyVariablesAsWildcards(value: string): string | undefined {
  if (!holdsPolicyVariable(value)) return undefined;
  return value.replace(POLICY_VARIABLE, (_m, inner: string) =>
    ESCAPES.has(inner.trim()) ? inner.trim() : '*',
  );
}

// ---------- Wildcards and StringLike ----------

/** True when a value holds a StringLike wildcard (`*` or `?`). */
export function hasWildcard(value: string): boolean {
  return value.includes('*') || value.includes('?');
}

/** True when the value is made only of wildcards (`*`, `**`, `?*`): it matches (nearly) anything. */
export function isAllWildcard(value: string): boolean {
  return value.length > 0 && /^[*?]+$/.test(value) && value.includes('*');
}

/** A value taken apart for matching: literal text and the two wildcards. */
export type LikePiece = { lit: string } | { star: true } | { one: true };

/** Splits a StringLike pattern into pieces: `*` and `?` are wildcards, everything else literal. */
export function likePieces(pattern: string): LikePiece[] {
  const pieces: LikePiece[] = [];
  let lit = '';
  for (const ch of pattern) {
    if (ch !== '*' && ch !== '?') {
      lit += ch;
      continue;
    }
    if (lit) pieces.push({ lit });
    lit = '';
    pieces.push(ch === '*' ? { star: true } : { one: true });
  }
  if (lit) pieces.push({ lit });
  return pieces;
}

const STAR = 0;
const ONE = 1;
/** One UTF-16 code unit of literal text, or a wildcard. */
type Unit = string | typeof STAR | typeof ONE;

/**
 * `…IgnoreCase` folds ASCII letters only: IAM documents no Unicode case folding, and `toLowerCase()`
 * would fold look-alikes into ASCII (KELVIN SIGN U+212A → `k`).
 */
export function foldAsciiCase(text: string): string {
  return text.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

function unitsOf(pieces: readonly LikePiece[], ignoreCase: boolean): Unit[] {
  const units: Unit[] = [];
  let lit = '';
  const flush = () => {
    const text = ignoreCase ? foldAsciiCase(lit) : lit;
    for (let i = 0; i < text.length; i++) units.push(text.charAt(i));
    lit = '';
  };
  for (const piece of pieces) {
    if ('lit' in piece) {
      lit += piece.lit;
      continue;
    }
    flush();
    units.push('star' in piece ? STAR : ONE);
  }
  flush();
  return units;
}

/**
 * Matches `value` against pieces (literal text and wildcards), IAM's StringLike way: `*` any run of
 * characters (`/` and `:` included, or none), `?` exactly one; case-sensitive unless `ignoreCase`
 * (ASCII letters only, see foldAsciiCase).
 * Iterative with single-star backtracking: no regular expression, no exponential blow-up.
 */
export function matchesPieces(pieces: readonly LikePiece[], value: string, ignoreCase = false): boolean {
  const units = unitsOf(pieces, ignoreCase);
  const text = ignoreCase ? foldAsciiCase(value) : value;
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < text.length) {
    const unit = units[p];
    if (unit === ONE || (typeof unit === 'string' && unit === text[v])) {
      p++;
      v++;
    } else if (unit === STAR) {
      star = p++;
      mark = v;
    } else if (star !== -1) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (units[p] === STAR) p++;
  return p === units.length;
}

/** IAM StringLike: `*` matches any run of characters (`/` and `:` included), `?` exactly one. */
export function matchesStringLike(pattern: string, value: string, ignoreCase = false): boolean {
  return matchesPieces(likePieces(pattern), value, ignoreCase);
}

/**
 * Whether a request value matches one policy value under a String or Arn operator (no policy
 * variables): literal for StringEquals…, pattern for StringLike and Arn…, without case for …IgnoreCase.
 * The operator's negation is not applied.
 */
export function conditionValueMatches(op: Base, policyValue: string, requestValue: string): boolean {
  const pieces = isPatternOperator(op) ? likePieces(policyValue) : [{ lit: policyValue }];
  return matchesPieces(pieces, requestValue, isIgnoreCaseOperator(op));
}
