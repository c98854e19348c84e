/**
 * Condition blocks flattened into one entry per (operator, key), with what IAM does with each:
 * whether the operator is negated, set-qualified or …IfExists, and whether it passes when the key is
 * absent from the request context. Pure; no I/O.
 */
import { splitOidcKey } from '../gitlab-claims.js';
import {
  type ConditionOperator,
  conditionValues,
  isLiteralOperator,
  isPatternOperator,
  parseConditionOperator,
  passesWhenKeyMissing,
} from '../iam-conditions.js';
import type { ConditionBlock } from '../types.js';

export interface ConditionEntry extends Omit<ConditionOperator, 'raw'> {
  /** The operator as written: `ForAllValues:StringLikeIfExists`. */
  operator: string;
  /** The key as written. */
  key: string;
  /** Lower-cased part before the last `:` when it names a host (`gitlab.com`, `gitlab.example.com/gitlab`). */
  host: string | undefined;
  /** Lower-cased part after the last `:` (`sub`, `aud`, `project_id`); the whole key when there is no `:`. */
  claim: string;
  /** Values as strings (IAM compares strings; numbers and booleans are stringified). */
  values: string[];
}

/** Splits `gitlab.com:sub` into host and claim, lower-cased. Keys of AWS services (`aws:…`, `sts:…`) have no host. */
export function splitConditionKey(key: string): { host: string | undefined; claim: string } {
  const oidc = splitOidcKey(key);
  if (oidc) return { host: oidc.host.toLowerCase(), claim: oidc.claim.toLowerCase() };
  return { host: undefined, claim: key.slice(key.lastIndexOf(':') + 1).toLowerCase() };
}

export function flattenConditions(block: ConditionBlock | undefined): ConditionEntry[] {
  if (!block || typeof block !== 'object') return [];
  const entries: ConditionEntry[] = [];
  for (const [operator, keys] of Object.entries(block)) {
    if (!keys || typeof keys !== 'object') continue;
    const { raw: _, ...op } = parseConditionOperator(operator);
    for (const [key, value] of Object.entries(keys)) {
      entries.push({ operator, ...op, key, ...splitConditionKey(key), values: conditionValues(value) });
    }
  }
  return entries;
}

/**
 * What IAM does with the condition when the key is absent from the request context. Conservative
 * where AWS is ambiguous: `ForAnyValue:…IfExists` counts as passing (AWS has been observed to say
 * false, see whenKeyMissing), so the linter never calls a condition safe that might fail open.
 */
export function passesWhenMissing(entry: ConditionEntry): boolean {
  return entry.ifExists || passesWhenKeyMissing(entry, entry.values);
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
