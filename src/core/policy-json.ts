/**
 * Policy documents as JSON: parsing with clear errors, a normal form for semantic comparison,
 * and a readable line diff. IAM returns documents re-serialised (key order, scalar vs one-element
 * list, URL-encoding), so "did it change?" must compare normal forms, never raw text.
 */
import { UsageError } from '../errors.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** IAM's default when a document has no Version. */
const DEFAULT_VERSION = '2008-10-17';
/** Elements whose values IAM compares case-insensitively (action names). */
const CASE_INSENSITIVE_VALUES = new Set(['Action', 'NotAction']);

function canonical(value: JsonValue): string {
  return JSON.stringify(value);
}

function normalizeValue(
  value: unknown,
  key: string | undefined,
  inCondition: number,
  fold = true,
): JsonValue {
  if (Array.isArray(value)) {
    const items = value.map((v) => normalizeValue(v, key, inCondition, fold));
    const unique = [...new Map(items.map((v) => [canonical(v), v])).entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, v]) => v);
    return unique.length === 1 ? unique[0]! : unique;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
      // Condition > operator > key: key names are case-insensitive in IAM.
      const depth = key === 'Condition' ? 1 : inCondition > 0 ? inCondition + 1 : 0;
      const name = depth === 2 && fold ? k.toLowerCase() : k;
      return [name, normalizeValue(v, k, depth, fold)] as const;
    });
    for (const [k, v] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = v;
    return out;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') {
    return fold && key !== undefined && CASE_INSENSITIVE_VALUES.has(key) && inCondition === 0
      ? value.toLowerCase()
      : value;
  }
  return value === undefined ? null : (value as JsonValue);
}

function decodeDocument(doc: unknown): unknown {
  if (typeof doc !== 'string') return doc;
  const text = /^\s*%7b/i.test(doc) ? decodeURIComponent(doc) : doc;
  return JSON.parse(text) as unknown;
}

/**
 * Normal form for semantic comparison: strings parsed (and URL-decoded), keys sorted, lists sorted
 * and de-duplicated, one-element lists ≡ scalars, booleans/numbers as strings, action names and
 * condition key names lower-cased, Version defaulted to IAM's 2008-10-17.
 */
export function normalizePolicy(doc: unknown, options: { foldCase?: boolean } = {}): JsonValue {
  const decoded = decodeDocument(doc);
  const withVersion =
    decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded) && !('Version' in decoded)
      ? { Version: DEFAULT_VERSION, ...decoded }
      : decoded;
  return normalizeValue(withVersion, undefined, 0, options.foldCase ?? true);
}

/** True when two documents mean the same thing (see normalizePolicy). */
export function policiesEqual(a: unknown, b: unknown): boolean {
  return canonical(normalizePolicy(a)) === canonical(normalizePolicy(b));
}

/** Parses a policy file's text; a UsageError naming `fieldName` (and the JSON error) when it is not a JSON object. */
export function parsePolicyJson(text: string, fieldName: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw UsageError.field(fieldName, `is not valid JSON: ${detail}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw UsageError.field(fieldName, 'must be a JSON object with Version and Statement');
  }
  return parsed as Record<string, unknown>;
}

/** Policy size as IAM counts it against its quotas: characters of the JSON, whitespace excluded. */
export function policySize(doc: unknown): number {
  const json = typeof doc === 'string' ? doc : JSON.stringify(doc);
  return json.replace(/\s/g, '').length;
}

/** Pretty-printed normal form, one array per line. Names keep their case: this is for people to read. */
export function formatPolicy(doc: unknown): string {
  return JSON.stringify(normalizePolicy(doc, { foldCase: false }), null, 2);
}

/**
 * Line diff of the pretty-printed normal forms: `+ ` added, `- ` removed, `  ` unchanged.
 * Empty when the documents are equal; every line `+ ` when there is no `before`.
 */
export function policyDiff(before: unknown, after: unknown): string[] {
  const b = before === undefined ? [] : formatPolicy(before).split('\n');
  const a = formatPolicy(after).split('\n');
  if (before !== undefined && policiesEqual(before, after)) return [];
  // Longest common subsequence table, then walk it; documents are small.
  const lcs: number[][] = Array.from({ length: b.length + 1 }, () => new Array<number>(a.length + 1).fill(0));
  for (let i = b.length - 1; i >= 0; i--) {
    for (let j = a.length - 1; j >= 0; j--) {
      lcs[i]![j] = b[i] === a[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < b.length || j < a.length) {
    if (i < b.length && j < a.length && b[i] === a[j]) {
      out.push(`  ${b[i++]}`);
      j++;
    } else if (i < b.length && (j >= a.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push(`- ${b[i++]}`);
    } else {
      out.push(`+ ${a[j++]}`);
    }
  }
  return out;
}
