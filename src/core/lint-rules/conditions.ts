/**
 * Condition blocks flattened into one entry per (operator, key), with what IAM does with each:
 * whether the operator is negated, set-qualified or …IfExists, and whether it passes when the key is
 * absent from the request context. Pure; no I/O.
 */
import type { ConditionBlock, ConditionValue } from '../types.js';

const KNOWN_BASE_OPERATORS = new Set([
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'BinaryEquals',
  'IpAddress',
  'NotIpAddress',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'Null',
]);

const NEGATED_OPERATORS = new Set([
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
const LITERAL_STRING_OPERATORS = new Set([
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
]);

/** Operators that accept `*`/`?` patterns (the Arn* operators all do, ArnEquals included). */
const PATTERN_OPERATORS = new Set([
  'StringLike',
  'StringNotLike',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
]);

/** The string operators whose whole point is a pattern: a value without `*`/`?` signals confusion. */
export const STRING_LIKE_OPERATORS = new Set(['StringLike', 'StringNotLike']);

export interface ConditionEntry {
  /** The operator as written: `ForAllValues:StringLikeIfExists`. */
  operator: string;
  /** Without qualifier and IfExists: `StringLike`. */
  base: string;
  qualifier: 'ForAllValues' | 'ForAnyValue' | undefined;
  ifExists: boolean;
  /** A known IAM operator (else IAM refuses the policy). */
  known: boolean;
  /** StringNotEquals, StringNotLike, ArnNotLike, … */
  negated: boolean;
  /** The key as written. */
  key: string;
  /** Lower-cased part before the last `:` when it names a host (`gitlab.com`, `gitlab.example.com/gitlab`). */
  host: string | undefined;
  /** Lower-cased part after the last `:` (`sub`, `aud`, `project_id`); the whole key when there is no `:`. */
  claim: string;
  /** Values as strings (IAM compares strings; numbers and booleans are stringified). */
  values: string[];
}

export function parseOperator(
  operator: string,
): Pick<ConditionEntry, 'base' | 'qualifier' | 'ifExists' | 'known' | 'negated'> {
  let rest = operator;
  let qualifier: ConditionEntry['qualifier'];
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const q = rest.slice(0, colon);
    if (q === 'ForAllValues' || q === 'ForAnyValue') qualifier = q;
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.endsWith('IfExists') && rest !== 'IfExists') {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  const known =
    KNOWN_BASE_OPERATORS.has(rest) &&
    (colon < 0 || qualifier !== undefined) &&
    !(ifExists && rest === 'Null');
  return { base: rest, qualifier, ifExists, known, negated: NEGATED_OPERATORS.has(rest) };
}

function toValues(value: ConditionValue): string[] {
  return (Array.isArray(value) ? value : [value]).map((v) => String(v));
}

/** Splits `gitlab.com:sub` into host and claim. Keys of AWS services (`aws:…`, `sts:…`) have no host. */
export function splitConditionKey(key: string): { host: string | undefined; claim: string } {
  const at = key.lastIndexOf(':');
  if (at < 0) return { host: undefined, claim: key.toLowerCase() };
  const prefix = key.slice(0, at).toLowerCase();
  const claim = key.slice(at + 1).toLowerCase();
  // Service prefixes (aws, sts, s3, …) never contain a dot or a slash; issuer hosts always do.
  const isHost = prefix.includes('.') || prefix.includes('/');
  return { host: isHost ? prefix : undefined, claim };
}

export function flattenConditions(block: ConditionBlock | undefined): ConditionEntry[] {
  if (!block || typeof block !== 'object') return [];
  const entries: ConditionEntry[] = [];
  for (const [operator, keys] of Object.entries(block)) {
    if (!keys || typeof keys !== 'object') continue;
    const op = parseOperator(operator);
    for (const [key, value] of Object.entries(keys)) {
      entries.push({ operator, ...op, key, ...splitConditionKey(key), values: toValues(value) });
    }
  }
  return entries;
}

/** What IAM does with the condition when the key is absent from the request context. */
export function passesWhenMissing(entry: ConditionEntry): boolean {
  if (entry.base === 'Null') return entry.values.some((v) => v.toLowerCase() === 'true');
  if (entry.ifExists) return true;
  if (entry.qualifier === 'ForAllValues') return true;
  if (entry.qualifier === 'ForAnyValue') return false;
  return entry.negated;
}

/** A positive matching operator: the condition allow-lists values (StringEquals, StringLike, ArnLike, …). */
export function isPositiveMatch(entry: ConditionEntry): boolean {
  return (
    entry.known &&
    !entry.negated &&
    entry.base !== 'Null' &&
    (isLiteralOperator(entry) || isPatternOperator(entry))
  );
}

export function isLiteralOperator(entry: ConditionEntry): boolean {
  return LITERAL_STRING_OPERATORS.has(entry.base);
}

export function isPatternOperator(entry: ConditionEntry): boolean {
  return PATTERN_OPERATORS.has(entry.base);
}

export function hasWildcard(value: string): boolean {
  return value.includes('*') || value.includes('?');
}

/** True when the value is made only of wildcards (`*`, `**`, `?*`): it matches (nearly) anything. */
export function isAllWildcard(value: string): boolean {
  return value.length > 0 && /^[*?]+$/.test(value) && value.includes('*');
}

/** IAM's StringLike matching: `*` any run of characters (including `/` and `:`), `?` exactly one. */
export function globMatch(pattern: string, text: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const t = ignoreCase ? text.toLowerCase() : text;
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
