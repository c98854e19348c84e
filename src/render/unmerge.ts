/**
 * The inverse of merge.ts: removes the jobs gitlab-aws-oidc wrote from a pipeline file, splicing text so
 * that everything else stays byte-identical (comments, other jobs, anchors, key order). Pure: the caller
 * reads the file and the template.
 *
 * A job is the tool's when it has one of the tool's names and either the marker comment line above it
 * (as merge.ts recognises it) or the exact structure the template renders, with any role ARN, region,
 * audience, token variable, refs and image tags. The header comment merge.ts appends with the jobs goes
 * too. Jobs that still use the hidden job (`extends: .aws-oidc`, `!reference [.aws-oidc, …]`) would make
 * GitLab reject the whole pipeline once it is gone: that is refused unless `force`.
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar } from 'yaml';
import { CliError, UsageError } from '../errors.js';
import {
  AWS_CLI_IMAGE,
  DEFAULT_JOB_STAGE,
  HIDDEN_JOB_NAME,
  MANAGED_JOB_NAMES,
  MANAGED_MARKER,
  NODE_IMAGE,
  renderCiFromTemplate,
} from './ci-file.js';
import { parseCiDocument } from './ci-yaml.js';
import { type ExistingPair, lineOf, toJsOrThrow, topLevelPairs, yamlUsageError } from './merge.js';

export interface UnmergeOptions {
  /** The shipped template (templates/gitlab-ci/aws-oidc.yml), to recognise jobs that lost their marker. */
  templateText: string;
  /** Remove the hidden job even though other jobs still use it. */
  force: boolean;
  /** Shown in errors and warnings. Default `.gitlab-ci.yml`. */
  fileName?: string | undefined;
}

export interface RecognisedJob {
  name: string;
  /** 1-based line of the job's key. */
  line: number;
  by: 'marker' | 'structure';
}

export interface UnmergeResult {
  text: string;
  action: 'update' | 'no-op';
  /** The tool's jobs, removed from `text`. */
  removed: RecognisedJob[];
  /** Jobs with one of the tool's names that it did not write: left in place. */
  kept: string[];
  /** Jobs still using the hidden job (only when the hidden job is removed). */
  dependents: { name: string; line: number }[];
  /** `AWS_ROLE_ARN` of the removed hidden job. */
  roleArn?: string | undefined;
  /** Only comments and blank lines are left (GitLab refuses such a pipeline file). */
  empty: boolean;
  /**
   * Nothing at all is left but whitespace (and a byte order mark): the file only held the generated
   * jobs (init created it). The caller deletes it rather than leave an empty `.gitlab-ci.yml`.
   */
  deleteFile: boolean;
  warnings: string[];
}

const BYTE_ORDER_MARK = '\uFEFF';
/** The stage merge.ts falls back to when `stages:` lacks `test`. */
const FALLBACK_STAGE = '.pre';
const MARKER_LINE = new RegExp(`^\\s*#\\s*${escapeRegExp(MANAGED_MARKER)}\\b`);
const RULE_IF = /^\$CI_COMMIT_(?:BRANCH|TAG)(?:$| == | =~ )/;

/**
 * Recognisable values rendered into the template in place of the inputs; in the rendered jobs each one
 * is a hole that accepts what `pattern` matches. The same hole must hold the same value everywhere
 * (the token variable is both an `id_tokens` key and part of `before_script`).
 */
const HOLES = [
  { sample: 'arn:aws:iam::000000000000:role/GAOHOLEROLE', pattern: 'arn:aws[a-z-]*:iam::\\d{12}:role/.+' },
  { sample: 'zz-gaohole-9', pattern: '[a-z]{2,}(?:-[a-z]+)+-\\d{1,2}' },
  { sample: 'GAOHOLEAUD', pattern: '.+' },
  { sample: 'GAOHOLETOKEN', pattern: '[A-Za-z_][A-Za-z0-9_]*' },
  { sample: '999.999.999-gaohole', pattern: '\\d+\\.\\d+\\.\\d+[^\\s]*' },
  // Pinned images change between releases: any tag of the same image.
  { sample: AWS_CLI_IMAGE, pattern: `${escapeRegExp(AWS_CLI_IMAGE.replace(/:[^:/]+$/, ''))}:[^\\s]+` },
  { sample: NODE_IMAGE, pattern: `${escapeRegExp(NODE_IMAGE.replace(/:[^:/]+$/, ''))}:[^\\s]+` },
] as const;
const HOLE_SPLIT = new RegExp(`(${HOLES.map((h) => escapeRegExp(h.sample)).join('|')})`);

/** The jobs the template renders, with holes in place of every input. */
export function buildJobSkeletons(templateText: string): Record<string, unknown> {
  const text = renderCiFromTemplate(templateText, {
    roleArn: HOLES[0].sample,
    region: HOLES[1].sample,
    audience: HOLES[2].sample,
    tokenVariable: HOLES[3].sample,
    toolVersion: HOLES[4].sample,
    refs: [{ type: 'branch', pattern: 'gaoholeref' }],
    includeVerifyJob: true,
  });
  return parseCiDocument(text).toJS() as Record<string, unknown>;
}

/** The comment lines the template starts with (merge.ts appends them above the jobs), without blank lines. */
export function templateHeader(templateText: string): string {
  const lines = templateText.split(/\r?\n/);
  const firstMarker = lines.findIndex((l) => MARKER_LINE.test(l));
  const header = lines.slice(0, Math.max(firstMarker, 0));
  while (header.length && header[header.length - 1]!.trim() === '') header.pop();
  return header.every((l) => l.startsWith('#')) && header.length ? `${header.join('\n')}\n` : '';
}

/** Does `actual` have the structure of `skeleton` (a job rendered with holes)? */
export function matchesSkeleton(actual: unknown, skeleton: unknown): boolean {
  return matchValue(actual, skeleton, undefined, new Map());
}

/** Removes the tool's jobs from `existingText`. Throws a UsageError when other jobs still use the hidden job. */
export function unmergeCiFile(existingText: string, opts: UnmergeOptions): UnmergeResult {
  // A UTF-8 byte order mark (as merge.ts keeps it) stays first and is no part of the first line.
  if (existingText.startsWith(BYTE_ORDER_MARK)) {
    const inner = unmergeCiFile(existingText.slice(BYTE_ORDER_MARK.length), opts);
    return inner.action === 'no-op'
      ? { ...inner, text: existingText }
      : { ...inner, text: inner.deleteFile ? '' : BYTE_ORDER_MARK + inner.text };
  }
  const fileName = opts.fileName ?? '.gitlab-ci.yml';
  const none = (warnings: string[] = []): UnmergeResult => ({
    text: existingText,
    action: 'no-op',
    removed: [],
    kept: [],
    dependents: [],
    empty: isEmptyPipeline(existingText),
    deleteFile: false,
    warnings,
  });

  const doc = parseCiDocument(existingText);
  if (doc.errors.length) throw yamlUsageError(fileName, doc.errors[0]!);
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return none();
  // merge.ts never writes into anything but a block mapping.
  if (!isMap(root) || root.flow) return none();

  const js = toJsOrThrow(doc, `${fileName} cannot be read as a pipeline`);
  const skeletons = buildJobSkeletons(opts.templateText);
  const pairs = topLevelPairs(existingText, root);

  const removedPairs: ExistingPair[] = [];
  const removed: RecognisedJob[] = [];
  const kept: string[] = [];
  for (const pair of pairs) {
    if (!(MANAGED_JOB_NAMES as readonly string[]).includes(pair.name)) continue;
    const by =
      pair.markerStart !== undefined
        ? 'marker'
        : matchesSkeleton(js[pair.name], skeletons[pair.name])
          ? 'structure'
          : undefined;
    if (!by) {
      kept.push(pair.name);
      continue;
    }
    removedPairs.push(pair);
    removed.push({ name: pair.name, line: lineOf(existingText, pair.keyLineStart), by });
  }
  const warnings: string[] = kept.map(
    (name) => `${fileName}: job "${name}" was not written by gitlab-aws-oidc (no marker); left in place.`,
  );
  if (removed.length === 0) return { ...none(warnings), kept };

  const removedNames = new Set(removed.map((r) => r.name));
  const dependents = removedNames.has(HIDDEN_JOB_NAME)
    ? pairs
        .filter((p) => !removedNames.has(p.name) && usesHiddenJob(js[p.name]))
        .map((p) => ({ name: p.name, line: lineOf(existingText, p.keyLineStart) }))
    : [];
  if (dependents.length && !opts.force) {
    throw new UsageError(
      `${fileName}: ${quoteList(dependents.map((d) => d.name))} still use${dependents.length === 1 ? 's' : ''} ${HIDDEN_JOB_NAME}; removing it would make GitLab reject the pipeline`,
      dependents.map((d) => ({
        field: `${fileName}:${d.line}`,
        message: `job "${d.name}" extends or references ${HIDDEN_JOB_NAME}`,
      })),
      {
        hint: `Remove \`extends: ${HIDDEN_JOB_NAME}\` (and \`!reference [${HIDDEN_JOB_NAME}, …]\`) from them first, or pass --force to remove the generated jobs anyway.`,
      },
    );
  }
  for (const d of dependents) {
    warnings.push(
      `${fileName}:${d.line}: job "${d.name}" still uses ${HIDDEN_JOB_NAME}, which was removed (--force); GitLab rejects the pipeline until you edit it.`,
    );
  }

  const ranges = removedPairs.map((p): [number, number] => [p.markerStart ?? p.keyLineStart, p.end]);
  if (removedNames.has(HIDDEN_JOB_NAME)) {
    const column = removedPairs[0]?.column ?? 0;
    const header = headerRange(existingText, indentLines(templateHeader(opts.templateText), column), ranges);
    if (header) ranges.push(header);
  }
  let text = existingText;
  for (const [start, end] of absorbBlankLines(existingText, ranges).reverse()) {
    text = text.slice(0, start) + text.slice(end);
  }

  checkUnmerged(text, js, removedNames, fileName);
  const hidden = js[HIDDEN_JOB_NAME] as { variables?: Record<string, unknown> } | undefined;
  const roleArn =
    removedNames.has(HIDDEN_JOB_NAME) && typeof hidden?.variables?.AWS_ROLE_ARN === 'string'
      ? hidden.variables.AWS_ROLE_ARN
      : undefined;
  const empty = isEmptyPipeline(text);
  const deleteFile = text.trim() === '';
  if (empty && !deleteFile) {
    warnings.push(
      `${fileName} has no jobs left; GitLab refuses an empty pipeline file, so delete it or add jobs.`,
    );
  }
  return { text, action: 'update', removed, kept, dependents, roleArn, empty, deleteFile, warnings };
}

// ---------- recognition ----------

function matchValue(
  actual: unknown,
  skeleton: unknown,
  key: string | undefined,
  holes: Map<number, string>,
): boolean {
  if (key === 'stage' && typeof skeleton === 'string') {
    return actual === DEFAULT_JOB_STAGE || actual === FALLBACK_STAGE;
  }
  if (key === 'rules' && Array.isArray(skeleton)) {
    return (
      Array.isArray(actual) &&
      actual.length > 0 &&
      actual.every((rule) => {
        const r = asRecord(rule);
        return (
          r !== undefined && Object.keys(r).join() === 'if' && typeof r.if === 'string' && RULE_IF.test(r.if)
        );
      })
    );
  }
  if (typeof skeleton === 'string') return typeof actual === 'string' && matchString(actual, skeleton, holes);
  if (Array.isArray(skeleton)) {
    return (
      Array.isArray(actual) &&
      actual.length === skeleton.length &&
      skeleton.every((s, i) => matchValue(actual[i], s, undefined, holes))
    );
  }
  const skel = asRecord(skeleton);
  if (skel) {
    const act = asRecord(actual);
    if (!act) return false;
    const skelKeys = Object.keys(skel);
    const actKeys = Object.keys(act);
    if (skelKeys.length !== actKeys.length) return false;
    const holeKeys = skelKeys.filter((k) => HOLE_SPLIT.test(k));
    const literal = skelKeys.filter((k) => !holeKeys.includes(k));
    if (!literal.every((k) => k in act && matchValue(act[k], skel[k], k, holes))) return false;
    const rest = actKeys.filter((k) => !literal.includes(k));
    if (holeKeys.length > 1) return false;
    if (holeKeys.length === 0) return rest.length === 0;
    const [holeKey] = holeKeys as [string];
    const [actKey] = rest as [string];
    return matchString(actKey, holeKey, holes) && matchValue(act[actKey], skel[holeKey], actKey, holes);
  }
  return Object.is(actual, skeleton);
}

function matchString(actual: string, skeleton: string, holes: Map<number, string>): boolean {
  const parts = skeleton.split(HOLE_SPLIT);
  if (parts.length === 1) return actual === skeleton;
  const order: number[] = [];
  let source = '^';
  parts.forEach((part, i) => {
    if (i % 2 === 0) source += escapeRegExp(part);
    else {
      const index = HOLES.findIndex((h) => h.sample === part);
      order.push(index);
      source += `(${HOLES[index]!.pattern})`;
    }
  });
  const m = new RegExp(`${source}$`, 's').exec(actual);
  if (!m) return false;
  return order.every((index, i) => {
    const value = m[i + 1] as string;
    const bound = holes.get(index);
    if (bound === undefined) holes.set(index, value);
    return bound === undefined || bound === value;
  });
}

/** `extends: .aws-oidc` (alone or in a list), or a `!reference [.aws-oidc, …]` anywhere in the job. */
function usesHiddenJob(job: unknown): boolean {
  const record = asRecord(job);
  if (!record) return false;
  const ext = record.extends;
  if (ext === HIDDEN_JOB_NAME || (Array.isArray(ext) && ext.includes(HIDDEN_JOB_NAME))) return true;
  return containsReference(record);
}

function containsReference(value: unknown): boolean {
  if (Array.isArray(value)) {
    if (value.length >= 2 && value[0] === HIDDEN_JOB_NAME && value.every((v) => typeof v === 'string'))
      return true;
    return value.some(containsReference);
  }
  const record = asRecord(value);
  return record !== undefined && Object.values(record).some(containsReference);
}

// ---------- text ----------

/** The header merge.ts writes above the jobs, when it sits (blank lines apart) right above a removed job. */
function headerRange(text: string, header: string, ranges: [number, number][]): [number, number] | undefined {
  if (!header) return undefined;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const wanted = eol === '\n' ? header : header.replace(/\n/g, eol);
  for (let at = text.indexOf(wanted); at !== -1; at = text.indexOf(wanted, at + 1)) {
    if (at > 0 && text[at - 1] !== '\n') continue;
    const end = at + wanted.length;
    const next = skipBlankLines(text, end);
    if (ranges.some(([start]) => start === next)) return [at, end];
  }
  return undefined;
}

/**
 * Joins ranges separated only by blank lines, then takes the line break merge.ts added or the blank
 * lines that would otherwise pile up. A block at the end (with what follows it) takes exactly the one
 * line break merge.ts appended before it: the blank line above it, or, right after a line of content,
 * that line's newline (the file had no final newline). A block after a blank line (or at the start)
 * takes the blank lines after it. So merge-then-unmerge gives the original file back, byte for byte.
 */
function absorbBlankLines(text: string, ranges: [number, number][]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const joined: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = joined[joined.length - 1];
    if (last && skipBlankLines(text, last[1]) >= start) last[1] = Math.max(last[1], end);
    else joined.push([start, end]);
  }
  return joined.map(([start, end]) => {
    const after = skipBlankLines(text, end);
    if (after === text.length) return [start === 0 ? 0 : lineBreakBefore(text, start), text.length];
    if (start === 0 || isBlankLine(text, lineStartOf(text, start - 1), start)) return [start, after];
    return [start, end];
  });
}

/** Offset after the whitespace-only lines starting at `offset` (a line start). */
function skipBlankLines(text: string, offset: number): number {
  let cursor = offset;
  while (cursor < text.length) {
    const nl = text.indexOf('\n', cursor);
    const end = nl === -1 ? text.length : nl + 1;
    if (!isBlankLine(text, cursor, end)) break;
    cursor = end;
  }
  return cursor;
}

/**
 * The one line break above `offset` (a line start, > 0): the whole line when it is blank, else the
 * newline (`\n` or `\r\n`) ending the line of content before it.
 */
function lineBreakBefore(text: string, offset: number): number {
  const start = lineStartOf(text, offset - 1);
  if (isBlankLine(text, start, offset)) return start;
  return text[offset - 2] === '\r' ? offset - 2 : offset - 1;
}

function isBlankLine(text: string, start: number, end: number): boolean {
  return /^[ \t]*\r?\n?$/.test(text.slice(start, end));
}

function indentLines(text: string, column: number): string {
  return column === 0 ? text : text.replace(/^(?=[^\n])/gm, ' '.repeat(column));
}

function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function isEmptyPipeline(text: string): boolean {
  const doc = parseCiDocument(text);
  const root = doc.contents;
  return doc.errors.length === 0 && (root === null || (isScalar(root) && root.value === null));
}

/** The result must parse (no alias left dangling) and every other job must be exactly what it was. */
function checkUnmerged(
  text: string,
  before: Record<string, unknown>,
  removed: Set<string>,
  fileName: string,
): void {
  const doc = parseCiDocument(text);
  const what = `Removing the gitlab-aws-oidc jobs from ${fileName} would leave it invalid`;
  const hint = 'Another job probably uses an anchor defined in a generated job; edit the file by hand.';
  if (doc.errors.length) {
    throw new UsageError(`${what}: ${doc.errors[0]!.message.split('\n')[0]}`, [], { hint });
  }
  const after = (toJsOrThrow(doc, what, hint) ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(before)) {
    if (removed.has(name) ? name in after : !isDeepStrictEqual(after[name], before[name])) {
      throw new CliError(
        'UNMERGE_FAILED',
        `Internal error: job "${name}" ${removed.has(name) ? 'survived' : 'changed during'} the removal from ${fileName}`,
      );
    }
  }
}

function quoteList(names: string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
