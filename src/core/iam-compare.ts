/**
 * One request value against one policy value, IAM's way, in three values: true, false, or Unknown
 * when IAM documents no reading of the values (evaluate.ts then fails closed and reports a caveat).
 * Pure. AWS IAM User Guide, reference_policies_elements_condition_operators.html and
 * reference_policies_variables.html; each rule cites its page below.
 */
import {
  booleanValue,
  type ConditionOperator,
  isIgnoreCaseOperator,
  isPatternOperator,
  type LikePiece,
  likePieces,
  matchesPieces,
} from './iam-conditions.js';

/** Condition key → values in the request (several values = a multi-valued key). */
export type RequestContext = Record<string, string[]>;

/** Why an answer might not be IAM's: a reading IAM does not document, or an assumption of the caller. */
export type CaveatCode =
  | 'principal-wildcard'
  | 'null-value'
  | 'bool-value'
  | 'numeric-format'
  | 'date-format'
  | 'arn-format'
  | 'variable-default'
  | 'variable-unresolved'
  | 'ignore-case-non-ascii'
  | 'operator-not-modelled'
  | 'issuer-assumed';

// ---------- Three-valued results ----------

/** A comparison IAM documents no reading of. */
export interface Unknown {
  unknown: CaveatCode;
  why: string;
}
export type Tri = boolean | Unknown;

export const unknown = (code: CaveatCode, why: string): Unknown => ({ unknown: code, why });
export const isUnknown = (t: Tri | LikePiece[] | LikePiece[][]): t is Unknown =>
  typeof t === 'object' && !Array.isArray(t);

/** OR: any true is true; else any unknown is unknown. */
export function anyOf(values: Tri[]): Tri {
  if (values.includes(true)) return true;
  return values.find(isUnknown) ?? false;
}
/** AND: any false is false; else any unknown is unknown. */
export function allOf(values: Tri[]): Tri {
  if (values.includes(false)) return false;
  return values.find(isUnknown) ?? true;
}
export const not = (t: Tri): Tri => (isUnknown(t) ? t : !t);

// ---------- Wildcards and policy variables ----------

/** reference_policies_variables.html: "separate the variable text and the default value with a comma and space (, )". */
const VARIABLE_WITH_DEFAULT = /^(.+?), '([^']*)'$/;

/**
 * Splits a policy value into pieces, substituting policy variables (`${gitlab.com:sub}`,
 * `${key, 'default'}`) and the escapes `${*}`, `${?}`, `${$}` (Version 2012-10-17 only).
 * Unknown when a variable has no single value in the request and no default (reference_policies_variables.html:
 * this "might cause the entire statement to be invalid"), or its default is not written as documented.
 */
function compileValue(
  value: string,
  like: boolean,
  ctx: ContextLookup,
  variables: boolean,
): LikePiece[] | Unknown {
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
    const withDefault = VARIABLE_WITH_DEFAULT.exec(inner);
    if (!withDefault && inner.includes(',')) {
      return unknown(
        'variable-default',
        `\`\${${inner}}\`: IAM documents a default only as \`\${key, 'default'}\` (a comma and a space)`,
      );
    }
    const name = withDefault ? (withDefault[1] ?? '') : inner;
    const found = ctx(name);
    if (found && found.length === 1) pushLiteral(found[0] ?? '');
    else if (withDefault) pushLiteral(withDefault[2] ?? '');
    else {
      return unknown(
        'variable-unresolved',
        `\`\${${inner}}\` has ${found ? 'several values' : 'no value'} in the request and no default: IAM documents that this may make the statement invalid`,
      );
    }
  }
  pushPattern(value.slice(last));
  return pieces;
}

// ---------- Context lookup ----------

export type ContextLookup = (key: string) => string[] | undefined;

export function lookupIn(context: RequestContext): ContextLookup {
  const lower = new Map<string, string[]>();
  for (const [k, v] of Object.entries(context)) lower.set(k.toLowerCase(), v);
  return (key) => {
    const v = lower.get(key.toLowerCase());
    return v && v.length > 0 ? v : undefined;
  };
}

// ---------- One comparison ----------

/** reference_policies_elements_condition_operators.html (Numeric): "an integer or decimal value". */
const DOCUMENTED_NUMBER = /^-?\d+(\.\d+)?$/;
/** …(Date): "one of the W3C implementations of the ISO 8601 date formats or in epoch (UNIX) time". */
const DOCUMENTED_DATE = /^(\d+|\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?)$/;

/**
 * …(ARN): "Each of the six colon-delimited components of the ARN is checked separately": the first five
 * colons split an ARN (the resource part keeps its own); a colon inside `${…}` splits nothing.
 * Undefined when the text has fewer than six parts.
 */
function arnParts(text: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length && parts.length < 5; i++) {
    if (text.startsWith('${', i)) depth++;
    else if (text[i] === '}' && depth > 0) depth--;
    else if (text[i] === ':' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (parts.length < 5) return undefined;
  parts.push(text.slice(start));
  return parts;
}

export function describeValue(v: string): string {
  return `\`${v}\``;
}

/** String and Arn matching of one request value against one policy value (pieces already compiled). */
function matchString(pieces: LikePiece[], actual: string, ignoreCase: boolean): Tri {
  if (matchesPieces(pieces, actual, ignoreCase)) return true;
  if (!ignoreCase) return false;
  // Matches only when non-ASCII letters are folded too (KELVIN SIGN → k): IAM documents no such folding.
  const folded = pieces.map((p) => ('lit' in p ? { lit: p.lit.toLowerCase() } : p));
  if (matchesPieces(folded, actual.toLowerCase())) {
    return unknown(
      'ignore-case-non-ascii',
      `${describeValue(actual)} matches only if non-ASCII letters are case-folded, which IAM does not document for …IgnoreCase`,
    );
  }
  return false;
}

/**
 * Compares one request value with one policy value; undefined when the operator is not modelled,
 * Unknown when IAM documents no reading of the values.
 */
export function compareOne(
  op: ConditionOperator,
  actual: string,
  expected: string,
  ctx: ContextLookup,
  variables: boolean,
): Tri | undefined {
  switch (op.family) {
    case 'String': {
      // StringLike takes `*`/`?` patterns; `…IgnoreCase` compares without (ASCII) case.
      const pieces = compileValue(expected, isPatternOperator(op), ctx, variables);
      return isUnknown(pieces) ? pieces : matchString(pieces, actual, isIgnoreCaseOperator(op));
    }
    case 'Arn': {
      // Every Arn operator takes `*`/`?` patterns, part by part: `*` never runs across a colon.
      const got = arnParts(actual);
      const want = arnParts(expected);
      if (!got || !want || got[0] !== 'arn') {
        return unknown(
          'arn-format',
          `${describeValue(got?.[0] !== 'arn' ? actual : expected)} is not an ARN (six colon-separated parts): IAM documents Arn operators for ARNs only`,
        );
      }
      const results = want.map((part, i) => {
        const pieces = compileValue(part, true, ctx, variables);
        return isUnknown(pieces) ? pieces : matchesPieces(pieces, got[i] ?? '');
      });
      return allOf(results);
    }
    case 'Numeric': {
      const bad = [actual, expected].find((v) => !DOCUMENTED_NUMBER.test(v));
      if (bad !== undefined) {
        return unknown(
          'numeric-format',
          `${describeValue(bad)} is not an integer or decimal number, the only form IAM documents for Numeric operators`,
        );
      }
      return compareOrdered(op.base.slice('Numeric'.length), Number(actual), Number(expected));
    }
    case 'Date': {
      const bad = [actual, expected].find((v) => !DOCUMENTED_DATE.test(v) || parseDate(v) === undefined);
      if (bad !== undefined) {
        return unknown(
          'date-format',
          `${describeValue(bad)} is neither a W3C ISO 8601 date nor epoch seconds, the forms IAM documents for Date operators`,
        );
      }
      return compareOrdered(op.base.slice('Date'.length), parseDate(actual) ?? 0, parseDate(expected) ?? 0);
    }
    case 'Bool': {
      const a = booleanValue(actual);
      const e = booleanValue(expected);
      if (a === undefined || e === undefined) {
        return unknown(
          'bool-value',
          `${describeValue(a === undefined ? actual : expected)} is not true or false, the only values IAM documents for Bool`,
        );
      }
      return a === e;
    }
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
