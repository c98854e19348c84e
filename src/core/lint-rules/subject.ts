/**
 * GitLab `sub` values, taken apart and judged one value at a time.
 * A value is a literal (StringEquals) or a pattern (StringLike with `*`/`?`); the default GitLab
 * shape is `project_path:<path>:ref_type:<branch|tag>:ref:<name>`, and projects may reorder or
 * extend it with the documented components. Pure; no I/O.
 */
import { isProjectComponent, isSubComponent, SUB_COMPONENTS } from '../gitlab-claims.js';
import { hasWildcard, isAllWildcard } from '../iam-conditions.js';
import type { RuleId, Severity } from './rules.js';

/** One `key:value` pair of a `sub` value, as written (the key may be one GitLab never uses). */
export interface SubPart {
  key: string;
  value: string;
}

export interface ParsedSub {
  components: SubPart[];
  /** The value starts with a wildcard (or its first key has one): it matches any project. */
  headWildcard: boolean;
  /** A trailing `*` can swallow every later component (`*` also matches `:`). */
  openTail: boolean;
  /** Why the value cannot be read as key:value pairs, if it cannot. */
  malformed: string | undefined;
}

/** How an issuer's `sub` grammar differs from GitLab's `key:value` pairs. */
export interface SubGrammar {
  /** Keys that stand alone, without a value (GitHub's `pull_request`). */
  valueless?: ReadonlySet<string>;
  /** When the last value's wildcard swallows every later component (default: it holds a `*`). */
  openTailIf?: (lastValue: string) => boolean;
}

export function parseSub(value: string, pattern: boolean, grammar: SubGrammar = {}): ParsedSub {
  const openTailIf = grammar.openTailIf ?? ((v: string) => v.includes('*'));
  const tokens = value.split(':');
  const components: SubPart[] = [];
  let headWildcard = false;
  let openTail = false;
  let malformed: string | undefined;
  let i = 0;
  while (i < tokens.length) {
    const key = tokens[i] as string;
    if (pattern && hasWildcard(key)) {
      if (i === 0) headWildcard = true;
      openTail = key.includes('*');
      break;
    }
    if (grammar.valueless?.has(key)) {
      components.push({ key, value: '' });
      i += 1;
      continue;
    }
    if (i + 1 >= tokens.length) {
      malformed = `"${key}" has no value`;
      break;
    }
    components.push({ key, value: tokens[i + 1] as string });
    i += 2;
  }
  const last = components[components.length - 1];
  if (pattern && !openTail && last && i >= tokens.length && openTailIf(last.value)) openTail = true;
  return { components, headWildcard, openTail, malformed };
}

/** What a role may do, as far as the linter can tell: any-ref is worse on a role that can write. */
export type AccessLevel = 'write' | 'read-only' | 'unknown';

export interface SubFlags {
  /** Host of the provider, for messages and fixes (`gitlab.com`). */
  host: string;
  gitlabCom: boolean;
  /** `gitlab.com:ref_protected` = "true" is required by the same statement. */
  protectedPinned: boolean;
  /** `gitlab.com:project_id` pinned to these literal IDs by the same statement. */
  projectIdPinned: boolean;
  /** `gitlab.com:namespace_id` pinned by the same statement. */
  namespaceIdPinned: boolean;
  access: AccessLevel;
}

export interface SubIssue {
  ruleId: RuleId;
  severity: Severity;
  /** Which part of the subject is weak; used to combine ANDed conditions. */
  dimension: 'project' | 'ref' | 'other';
  why: string;
  fix: string;
  /** The sub value the fix proposes instead of this one (placeholders in `<…>`), when it proposes one. */
  replacement?: string;
}

export interface SubFacts {
  /** Literal project identifiers: `path:grp/app` or `id:42`. */
  projects: string[];
  /** The value binds the project by path (not by ID). */
  usesPath: boolean;
  /** Literal refs, as `branch main` / `tag v1.0.0` / `ref main`. */
  literalRefs: string[];
  /** The value itself requires `ref_protected:true`. */
  protectedInSub: boolean;
  /** The value can never match a GitLab token. */
  dead: boolean;
}

export interface SubAnalysis {
  issues: SubIssue[];
  facts: SubFacts;
}

const REF_NAME_INVALID = /(\s|\.\.|~|\^|:|\\|^\/|\/$|^-)/;

function severityForAnyRef(flags: SubFlags, protectedHere: boolean): Severity {
  if (protectedHere) return 'low';
  return flags.access === 'read-only' ? 'medium' : 'high';
}

function projectSeverity(base: Severity, flags: SubFlags, rule: RuleId): Severity {
  if (flags.projectIdPinned) return 'low';
  if (flags.namespaceIdPinned && (rule === 'GAO003' || rule === 'GAO004')) return 'high';
  return base;
}

function mitigation(flags: SubFlags, rule: RuleId): string {
  if (flags.projectIdPinned)
    return ' Mitigated: the statement also pins gitlab.com:project_id, so only the listed project IDs match.';
  if (flags.namespaceIdPinned && (rule === 'GAO003' || rule === 'GAO004'))
    return ' Partly mitigated: gitlab.com:namespace_id limits it to one namespace.';
  return '';
}

function rebuild(components: SubPart[], replace: Record<string, string>): string {
  const keys = new Set(components.map((c) => c.key));
  const out = components.map((c) => `${c.key}:${replace[c.key] ?? c.value}`);
  for (const [k, v] of Object.entries(replace)) if (!keys.has(k)) out.push(`${k}:${v}`);
  return out.join(':');
}

/** The literal `project_path:<p>:ref_type:branch:ref:<b>` suggestion, keeping what is already literal. */
function suggestion(components: SubPart[], overrides: Record<string, string> = {}): string {
  const get = (k: string) => components.find((c) => c.key === k)?.value;
  const literal = (v: string | undefined) => (v !== undefined && !hasWildcard(v) && v !== '' ? v : undefined);
  const idFirst = components[0]?.key === 'project_id';
  // A GitHub-style `repo:<owner>/<repo>` names the project the author meant.
  const path = literal(get('project_path')) ?? literal(get('repo'));
  const project = idFirst
    ? `project_id:${overrides.project_id ?? literal(get('project_id')) ?? '<project-id>'}`
    : `project_path:${overrides.project_path ?? (path?.includes('/') ? path : undefined) ?? '<group>/<project>'}`;
  // GitLab's ref is the bare name: `refs/heads/main` is the branch main, `refs/tags/v1` the tag v1.
  const full = /^refs\/(heads|tags)\/(.+)$/.exec(literal(get('ref')) ?? '');
  const refTypeValue = full ? (full[1] === 'tags' ? 'tag' : 'branch') : literal(get('ref_type'));
  const refType = overrides.ref_type ?? (refTypeValue === 'tag' ? 'tag' : 'branch');
  const refValue = full ? full[2] : literal(get('ref'));
  const validRef = refValue !== undefined && !REF_NAME_INVALID.test(refValue) ? refValue : undefined;
  const ref = overrides.ref ?? validRef ?? (refType === 'tag' ? '<tag>' : '<branch>');
  return `${project}:ref_type:${refType}:ref:${ref}`;
}

export function analyzeGitlabSub(value: string, pattern: boolean, flags: SubFlags): SubAnalysis {
  const issues: SubIssue[] = [];
  const facts: SubFacts = {
    projects: [],
    usesPath: false,
    literalRefs: [],
    protectedInSub: false,
    dead: false,
  };
  const parsed = parseSub(value, pattern);
  const { components } = parsed;
  const dead = (
    why: string,
    replacement: string,
    ruleId: RuleId = 'GAO027',
    say = 'Write it as',
  ): SubAnalysis => {
    issues.push({
      ruleId,
      severity: 'functional',
      dimension: 'other',
      why,
      fix: `${say} "${replacement}".`,
      replacement,
    });
    facts.dead = true;
    return { issues, facts };
  };

  if (parsed.headWildcard) {
    issues.push({
      ruleId: 'GAO003',
      severity: projectSeverity('critical', flags, 'GAO003'),
      dimension: 'project',
      why: `"${value}" starts with a wildcard, so it matches jobs of any project on ${flags.host}, including projects anyone can create.${mitigation(flags, 'GAO003')}`,
      fix: `Replace it with a literal subject such as "${suggestion([])}" under StringEquals.`,
      replacement: suggestion([]),
    });
    return { issues, facts };
  }
  if (parsed.malformed && components.length === 0) {
    return dead(
      `"${value}" is not in GitLab's sub format (${parsed.malformed}); GitLab's sub looks like "project_path:group/project:ref_type:branch:ref:main".`,
      suggestion([]),
    );
  }

  const first = components[0];
  if (!first || !isProjectComponent(first.key)) {
    return dead(
      `"${value}" does not start with project_path: or project_id:, which every GitLab sub does, so it never matches.`,
      suggestion(components),
    );
  }
  const seen = new Set<string>();
  for (const c of components) {
    if (!isSubComponent(c.key)) {
      return dead(
        `"${value}" has a component "${c.key}" that GitLab never puts in sub (allowed: ${SUB_COMPONENTS.join(', ')}), so it never matches.`,
        suggestion(components),
      );
    }
    if (seen.has(c.key)) {
      return dead(
        `"${value}" repeats "${c.key}"; a GitLab sub has each component once.`,
        suggestion(components),
      );
    }
    seen.add(c.key);
  }
  if (parsed.malformed) {
    return dead(`"${value}" is not in GitLab's sub format (${parsed.malformed}).`, suggestion(components));
  }

  const get = (k: string) => components.find((c) => c.key === k);

  // ---- project ----
  const path = get('project_path');
  const id = get('project_id');
  if (path) {
    facts.usesPath = true;
    const p = path.value;
    if (p === '') return dead(`"${value}" has an empty project_path.`, suggestion(components));
    if (pattern && hasWildcard(p)) {
      const segments = p.split('/');
      const at = segments.findIndex((s) => hasWildcard(s));
      if (isAllWildcard(p)) {
        issues.push({
          ruleId: 'GAO003',
          severity: projectSeverity('critical', flags, 'GAO003'),
          dimension: 'project',
          why: `project_path "${p}" matches every project on ${flags.host}, so any user's pipeline can assume the role.${mitigation(flags, 'GAO003')}`,
          fix: `Replace "${value}" with "${suggestion(components)}" (one value per project) under StringEquals.`,
          replacement: suggestion(components),
        });
      } else if (at === 0) {
        issues.push({
          ruleId: 'GAO004',
          severity: projectSeverity('critical', flags, 'GAO004'),
          dimension: 'project',
          why: `The top-level group "${segments[0]}" has a wildcard: it also matches groups such as "${(segments[0] ?? '').replace(/[*?]+/g, '-evil')}" that anyone can register${flags.gitlabCom ? ' on gitlab.com' : ''}.${mitigation(flags, 'GAO004')}`,
          fix: `Spell the group out: replace "${value}" with "${suggestion(components, { project_path: '<group>/<project>' })}" (one value per project).`,
          replacement: suggestion(components, { project_path: '<group>/<project>' }),
        });
      } else {
        const group = segments.slice(0, at).join('/');
        issues.push({
          ruleId: 'GAO008',
          severity: projectSeverity('high', flags, 'GAO008'),
          dimension: 'project',
          why: `project_path "${p}" matches every project${p.includes('*') ? ' in every subgroup' : ''} under "${group}" that fits the pattern, including projects added later.${mitigation(flags, 'GAO008')}`,
          fix: `List the projects explicitly: "${suggestion(components, { project_path: `${group}/<project>` })}", one value per project.`,
          replacement: suggestion(components, { project_path: `${group}/<project>` }),
        });
      }
    } else if (!pattern || !hasWildcard(p)) {
      if (!p.includes('/')) {
        return dead(
          `project_path "${p}" has no namespace; GitLab project paths are always "<namespace>/<project>".`,
          suggestion(components, { project_path: `<group>/${p}` }),
          'GAO027',
          'Write the full path:',
        );
      }
      facts.projects.push(`path:${p}`);
    }
  } else if (id) {
    const v = id.value;
    if (pattern && hasWildcard(v)) {
      issues.push({
        ruleId: 'GAO003',
        severity: projectSeverity('critical', flags, 'GAO003'),
        dimension: 'project',
        why: `project_id "${v}" has a wildcard, so it matches unrelated projects whose IDs fit the pattern.${mitigation(flags, 'GAO003')}`,
        fix: `Use the literal numeric project ID: "${suggestion(components, { project_id: '<project-id>' })}".`,
        replacement: suggestion(components, { project_id: '<project-id>' }),
      });
    } else if (!/^[0-9]+$/.test(v)) {
      return dead(
        `project_id "${v}" is not a number; GitLab project IDs are numeric, so this never matches.`,
        suggestion(components, { project_id: '<project-id>' }),
        'GAO027',
        'Use the numeric project ID:',
      );
    } else {
      facts.projects.push(`id:${v}`);
    }
  }

  // ---- ref_protected inside sub ----
  const prot = get('ref_protected');
  if (prot && prot.value === 'true') facts.protectedInSub = true;
  const protectedHere = flags.protectedPinned || facts.protectedInSub;

  // ---- ref_type / ref ----
  const refType = get('ref_type');
  const ref = get('ref');
  if (
    refType &&
    !(pattern && hasWildcard(refType.value)) &&
    refType.value !== 'branch' &&
    refType.value !== 'tag'
  ) {
    issues.push({
      ruleId: 'GAO021',
      severity: 'functional',
      dimension: 'other',
      why: `ref_type "${refType.value}" never occurs: GitLab only sets branch or tag (merge-request pipelines carry the source branch).`,
      fix: `Use "${rebuild(components, { ref_type: 'branch' })}".`,
      replacement: rebuild(components, { ref_type: 'branch' }),
    });
    facts.dead = true;
    return { issues, facts };
  }
  if (ref && !(pattern && hasWildcard(ref.value))) {
    if (/^refs\//.test(ref.value)) {
      issues.push({
        ruleId: 'GAO025',
        severity: 'functional',
        dimension: 'other',
        why: `ref "${ref.value}" is a full ref path; GitLab's ref claim is the bare name, so this never matches.`,
        fix: `Use "${rebuild(components, { ref: ref.value.replace(/^refs\/(heads|tags)\//, '') })}".`,
        replacement: rebuild(components, { ref: ref.value.replace(/^refs\/(heads|tags)\//, '') }),
      });
      facts.dead = true;
      return { issues, facts };
    }
    if (ref.value === '' || REF_NAME_INVALID.test(ref.value)) {
      return dead(
        `ref "${ref.value}" is not a valid branch or tag name, so no job ever carries it.`,
        suggestion(components, { ref: '<branch>' }),
        'GAO027',
        'Use the real branch or tag name:',
      );
    }
  }

  const refTypeWild = !refType || (pattern && hasWildcard(refType.value));
  const refWildValue = ref && pattern && hasWildcard(ref.value) ? ref.value : undefined;
  const anyRefValue = suggestion(
    components,
    ref && !refWildValue ? {} : { ref: refType?.value === 'tag' ? '<tag>' : 'main' },
  );
  const anyRefFix = `Pin the ref: "${anyRefValue}"${flags.gitlabCom ? ' and add "gitlab.com:ref_protected": "true"' : ''}.`;

  if (!ref && !refType && !parsed.openTail) {
    // A literal with no ref component at all: never matches the default sub, and matches every ref
    // of a project that customised its sub claim to project components only.
    issues.push({
      ruleId: 'GAO009',
      severity: protectedHere ? 'low' : 'medium',
      dimension: 'ref',
      why: `"${value}" names no ref: it never matches GitLab's default sub, and if the project's sub claim components are customised to leave the ref out, it matches every branch and tag.`,
      fix: anyRefFix,
      replacement: anyRefValue,
    });
  } else if (!ref && parsed.openTail) {
    issues.push({
      ruleId: 'GAO009',
      severity: severityForAnyRef(flags, protectedHere),
      dimension: 'ref',
      why: `"${value}" ends in a wildcard that swallows ref_type and ref, so every branch and tag (any unreviewed feature branch too) can assume the role${flags.access === 'read-only' ? '' : ' and use its permissions'}.${protectedHere ? ' Limited to protected refs by ref_protected.' : ''}`,
      fix: anyRefFix,
      replacement: anyRefValue,
    });
  } else if (refWildValue !== undefined && isAllWildcard(refWildValue)) {
    issues.push({
      ruleId: 'GAO009',
      severity: severityForAnyRef(flags, protectedHere),
      dimension: 'ref',
      why: `ref "${refWildValue}" matches every ${refTypeWild ? 'branch and tag' : refType?.value === 'tag' ? 'tag' : 'branch'}, so any developer who can push one can assume the role.${protectedHere ? ' Limited to protected refs by ref_protected.' : ''}`,
      fix: anyRefFix,
      replacement: anyRefValue,
    });
  } else if (refWildValue !== undefined) {
    if (!protectedHere) {
      const kind = refType?.value === 'tag' ? 'tags' : refTypeWild ? 'branches or tags' : 'branches';
      issues.push({
        ruleId: 'GAO010',
        severity: flags.access === 'read-only' ? 'medium' : 'high',
        dimension: 'ref',
        why: `ref pattern "${refWildValue}" matches any ${kind} a developer creates with that prefix (\`*\` also matches "/"), and nothing checks that they are protected.`,
        fix: flags.gitlabCom
          ? `Protect ${kind} matching "${refWildValue}" in GitLab and add "gitlab.com:ref_protected": "true" under StringEquals to the same statement.`
          : `Protect ${kind} matching "${refWildValue}" in GitLab, add ref_protected to the project's sub claim components (Projects API ci_id_token_sub_claim_components) and match "…:ref_protected:true" in sub.`,
      });
    }
    if (refTypeWild) {
      issues.push({
        ruleId: 'GAO009',
        severity: severityForAnyRef(flags, protectedHere),
        dimension: 'ref',
        why: `ref_type is not pinned, so tags as well as branches named like "${refWildValue}" match.`,
        fix: `Pin ref_type: "${rebuild(components, { ref_type: 'branch' })}".`,
        replacement: rebuild(components, { ref_type: 'branch' }),
      });
    }
  } else if (ref) {
    // Literal ref.
    if (refTypeWild) {
      issues.push({
        ruleId: 'GAO009',
        severity: severityForAnyRef(flags, protectedHere),
        dimension: 'ref',
        why: `ref_type is not pinned, so a tag named "${ref.value}" (which any developer may be able to create) matches as well as the branch.`,
        fix: `Pin ref_type: "${rebuild(components, { ref_type: 'branch' })}".`,
        replacement: rebuild(components, { ref_type: 'branch' }),
      });
    }
    facts.literalRefs.push(`${refTypeWild ? 'ref' : refType?.value} ${ref.value}`);
  } else if (refType && !ref && !parsed.openTail) {
    issues.push({
      ruleId: 'GAO009',
      severity: protectedHere ? 'low' : 'medium',
      dimension: 'ref',
      why: `"${value}" pins ref_type but names no ref: it never matches GitLab's default sub, and matches every ${refType.value} of a project whose sub claim leaves the ref out.`,
      fix: anyRefFix,
      replacement: anyRefValue,
    });
  }
  return { issues, facts };
}
