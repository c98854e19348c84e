/**
 * Whether the refs a role trusts are protected in GitLab, from the project's protected branch and tag
 * rules. Pure: rules + refs → one verdict per ref.
 *
 * Two wildcard languages meet here:
 * - GitLab's protection rules (Gitlab::RefMatcher): a rule is an exact name, or a pattern in which `*`
 *   matches any run of characters, `/` included (`release/*` protects `release/1` and `release/1/hotfix`);
 *   every other character, `?` too, is literal. Matching is case-sensitive and anchored at both ends.
 * - Our allowed refs (IAM `StringLike`): `*` any run of characters, `?` exactly one.
 *
 * A literal ref is protected when some rule matches it. A pattern ref is protected only when ONE rule
 * matches every ref the pattern can match (the rule's language contains the pattern's): `release/*` is
 * covered by the rule `release/*` or `*`, not by `release/1` + `release/2` (a new `release/3` would be
 * unprotected), and `v?` is covered by `v*` but not by the rule `v?` (GitLab reads that `?` literally).
 * Coverage by several rules together is not claimed (it would need every future name enumerated): the
 * check is conservative, never optimistic — a "protected" verdict always holds, an "unprotected" one
 * may, rarely, be too cautious.
 */
import type { RefRule, RefType } from './types.js';

export interface ProtectionRules {
  /** Names (or `*` patterns) of the project's protected branches, as GitLab returns them. */
  branches: readonly string[];
  /** …and of its protected tags. */
  tags: readonly string[];
}

export interface RefProtection {
  ref: RefRule;
  /** The rule that protects every ref `ref` can match; undefined when none does. */
  protectedBy?: string | undefined;
  /**
   * For an unprotected pattern: the protected rules it overlaps (they protect some of its refs, not all),
   * e.g. `release/1` for the pattern `release/*`.
   */
  partly: string[];
}

type Token = { kind: 'lit'; ch: string } | { kind: 'star' } | { kind: 'one' };

const tokens = (text: string, wildcards: { star: boolean; one: boolean }): Token[] =>
  [...text].map((ch) =>
    wildcards.star && ch === '*'
      ? { kind: 'star' }
      : wildcards.one && ch === '?'
        ? { kind: 'one' }
        : { kind: 'lit', ch },
  );

/**
 * True when every string the IAM pattern `pattern` matches is matched by the GitLab rule `rule`.
 * Dynamic programming over (rule position, pattern position): a rule `*` absorbs any run of pattern
 * tokens (literals, `*`, `?`), a rule literal only the same pattern literal. Sound: each absorbed
 * pattern token stands for a string the rule's `*` also absorbs.
 */
export function ruleCoversPattern(rule: string, pattern: string): boolean {
  const r = tokens(rule, { star: true, one: false });
  const p = tokens(pattern, { star: true, one: true });
  // memo[i][j]: r[i..] covers p[j..]
  const memo = new Map<number, boolean>();
  const covers = (i: number, j: number): boolean => {
    const key = i * (p.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    const rt = r[i];
    if (rt === undefined) result = j === p.length;
    else if (rt.kind === 'star') result = covers(i + 1, j) || (j < p.length && covers(i, j + 1));
    else {
      const pt = p[j];
      result =
        pt !== undefined && pt.kind === 'lit' && rt.kind === 'lit' && pt.ch === rt.ch && covers(i + 1, j + 1);
    }
    memo.set(key, result);
    return result;
  };
  return covers(0, 0);
}

/** GitLab's own test: does the protection rule `rule` protect the ref named `name`? */
export function ruleMatchesRef(rule: string, name: string): boolean {
  if (rule === '') return false;
  return rule === name || (rule.includes('*') && ruleCoversPattern(rule, name.replace(/[*?]/g, '\u0000')));
}

/** Whether the IAM pattern `pattern` (with `*`/`?`) matches the literal `name` (a rule without `*`). */
function patternMatchesName(pattern: string, name: string): boolean {
  let re = '';
  for (const ch of pattern) {
    re += ch === '*' ? '[\\s\\S]*' : ch === '?' ? '[\\s\\S]' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'u').test(name);
}

const hasWildcard = (s: string) => /[*?]/.test(s);

/** One verdict per ref, in the order given (branches against branch rules, tags against tag rules). */
export function checkRefProtection(refs: readonly RefRule[], rules: ProtectionRules): RefProtection[] {
  const rulesFor = (type: RefType) => (type === 'branch' ? rules.branches : rules.tags);
  return refs.map((ref) => {
    const candidates = rulesFor(ref.type);
    const protectedBy =
      candidates.find((rule) => rule === ref.pattern) ??
      candidates.find((rule) => ruleCoversPattern(rule, ref.pattern));
    const partly =
      protectedBy || !hasWildcard(ref.pattern)
        ? []
        : candidates.filter((rule) => !rule.includes('*') && patternMatchesName(ref.pattern, rule));
    return { ref, protectedBy, partly };
  });
}

/** The GitLab rule that protects exactly what `ref` matches, or undefined when GitLab cannot express it (`?`). */
export function protectionRuleFor(ref: RefRule): string | undefined {
  return ref.pattern.includes('?') ? undefined : ref.pattern;
}

/** `branch release/*` for messages. */
export const refLabel = (ref: RefRule): string => `${ref.type} ${ref.pattern}`;
