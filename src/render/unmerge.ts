/**
 * The inverse of merge.ts: removes the jobs gitlab-aws-oidc wrote from a pipeline file, splicing text so
 * that everything else stays byte-identical (comments, other jobs, anchors, key order). Pure: the caller
 * reads the file and the template.
 *
 * A job is the tool's when it has one of the tool's names (`.aws-oidc`, `aws-oidc-check`, `aws-oidc-verify`,
 * or the same suffixed with a role name, ci-jobs.ts) and either the marker comment line above it (as
 * merge.ts recognises it) or the exact structure the template renders, with any role ARN, region,
 * audience, token variable, refs, images and verify command. The jobs are grouped by role (the suffix);
 * `select` picks the roles whose jobs go, and the others stay byte for byte. The header comment merge.ts
 * appends goes with the last of the tool's jobs. Jobs that still use a removed hidden job
 * (`extends: .aws-oidc`, `!reference [.aws-oidc, …]`) would make GitLab reject the whole pipeline once it
 * is gone: that is refused unless `force`.
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar } from 'yaml';
import { CliError, UsageError } from '../errors.js';
import {
  AWS_CLI_IMAGE,
  type CiJobNames,
  DEFAULT_JOB_STAGE,
  jobNamesFor,
  MANAGED_MARKER,
  renderCiFromTemplate,
} from './ci-file.js';
import { type CiRoleJobs, parseJobName } from './ci-jobs.js';
import { asRecord, parseCiDocument } from './ci-yaml.js';
import { type ExistingPair, lineOf, toJsOrThrow, topLevelPairs, yamlUsageError } from './merge.js';

export interface UnmergeOptions {
  /** The shipped template (templates/gitlab-ci/aws-oidc.yml), to recognise jobs that lost their marker. */
  templateText: string;
  /** Remove the hidden job even though other jobs still use it. */
  force: boolean;
  /** Shown in errors and warnings. Default `.gitlab-ci.yml`. */
  fileName?: string | undefined;
  /**
   * Which roles' jobs to remove (each role's jobs are told apart by their names, see ci-jobs.ts).
   * Default: every role's.
   */
  select?: ((role: CiRoleJobs) => boolean) | undefined;
}

/** The jobs of one role that the tool wrote, found in the file. */
export interface UnmergeRole extends CiRoleJobs {
  /** The tool's jobs of this role, in file order. */
  jobs: string[];
  /** Selected: removed from `text`. */
  removed: boolean;
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
  /** Jobs still using a removed hidden job. */
  dependents: { name: string; line: number }[];
  /** `AWS_ROLE_ARN` of the (first) removed hidden job. */
  roleArn?: string | undefined;
  /** Every role whose jobs the tool wrote into the file, removed or not. */
  roles: UnmergeRole[];
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
const RULE_IF = /^(?:\$CI_COMMIT_REF_PROTECTED == "true" && )?\$CI_COMMIT_(?:BRANCH|TAG)(?:$| == | =~ )/;
/** Stands for the verify job's image and command, which the user chooses. */
const VERIFY_IMAGE_SAMPLE = 'gaohole.invalid/gaohole/verify:gaohole';
const VERIFY_COMMAND_SAMPLE = 'gaohole-verify-command';

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
  { sample: VERIFY_IMAGE_SAMPLE, pattern: '[^\\s]+' },
  // `gitlab-aws-oidc verify` from an image, through `npx --package=…`, or as earlier versions wrote it.
  {
    sample: VERIFY_COMMAND_SAMPLE,
    pattern: '(?:npx --yes (?:--package=\\S+ -- )?)?gitlab-aws-oidc(?:@\\S+)? verify',
  },
] as const;
const HOLE_SPLIT = new RegExp(`(${HOLES.map((h) => escapeRegExp(h.sample)).join('|')})`);

/** The jobs the template renders under `names`, with holes in place of every input. */
export function buildJobSkeletons(
  templateText: string,
  names: CiJobNames = jobNamesFor(),
): Record<string, unknown> {
  const text = renderCiFromTemplate(templateText, {
    roleArn: HOLES[0].sample,
    region: HOLES[1].sample,
    audience: HOLES[2].sample,
    tokenVariable: HOLES[3].sample,
    toolVersion: HOLES[4].sample,
    refs: [{ type: 'branch', pattern: 'gaoholeref' }],
    verify: { kind: 'image', image: `${VERIFY_IMAGE_SAMPLE}@sha256:${'0'.repeat(64)}` },
    jobNames: names,
  });
  const skeletons = parseCiDocument(text).toJS() as Record<string, Record<string, unknown>>;
  const verify = skeletons[names.verify];
  if (verify) {
    verify.image = { ...(verify.image as Record<string, unknown>), name: VERIFY_IMAGE_SAMPLE };
    verify.script = [VERIFY_COMMAND_SAMPLE];
  }
  return skeletons;
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
    roles: [],
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
  const pairs = topLevelPairs(existingText, root);
  const roles = recogniseRoles(pairs, js, opts);

  const removedPairs: ExistingPair[] = [];
  const removed: RecognisedJob[] = [];
  const kept: string[] = [];
  for (const role of roles.values()) {
    if (!role.removed) continue;
    kept.push(...role.notOurs);
    for (const pair of role.pairs) {
      removedPairs.push(pair.pair);
      removed.push({ name: pair.pair.name, line: lineOf(existingText, pair.pair.keyLineStart), by: pair.by });
    }
  }
  removed.sort((a, b) => a.line - b.line);
  const warnings: string[] = kept.map(
    (name) => `${fileName}: job "${name}" was not written by gitlab-aws-oidc (no marker); left in place.`,
  );
  const found = [...roles.values()]
    .filter((r) => r.pairs.length > 0)
    .map(
      (r): UnmergeRole => ({
        names: r.names,
        suffix: r.suffix,
        roleArn: r.roleArn,
        jobs: r.pairs.map((p) => p.pair.name),
        removed: r.removed,
      }),
    );
  if (removed.length === 0) return { ...none(warnings), kept, roles: found };

  const removedNames = new Set(removed.map((r) => r.name));
  const removedHidden = [...roles.values()]
    .filter((r) => r.removed && removedNames.has(r.names.hidden))
    .map((r) => r.names.hidden);
  const dependents = pairs
    .filter((p) => !removedNames.has(p.name))
    .map((p) => ({ pair: p, uses: removedHidden.filter((h) => usesHiddenJob(js[p.name], h)) }))
    .filter((d) => d.uses.length > 0)
    .map((d) => ({ name: d.pair.name, line: lineOf(existingText, d.pair.keyLineStart), uses: d.uses }));
  if (dependents.length && !opts.force) {
    const used = [...new Set(dependents.flatMap((d) => d.uses))];
    throw new UsageError(
      `${fileName}: ${quoteList(dependents.map((d) => d.name))} still use${dependents.length === 1 ? 's' : ''} ${used.join(', ')}; removing it would make GitLab reject the pipeline`,
      dependents.map((d) => ({
        field: `${fileName}:${d.line}`,
        message: `job "${d.name}" extends or references ${d.uses.join(', ')}`,
      })),
      {
        hint: `Remove \`extends: ${used[0]}\` (and \`!reference [${used[0]}, …]\`) from them first, or pass --force to remove the generated jobs anyway.`,
      },
    );
  }
  for (const d of dependents) {
    warnings.push(
      `${fileName}:${d.line}: job "${d.name}" still uses ${d.uses.join(', ')}, which was removed (--force); GitLab rejects the pipeline until you edit it.`,
    );
  }

  const ranges = removedPairs.map((p): [number, number] => [p.markerStart ?? p.keyLineStart, p.end]);
  // The header goes with the last of the tool's jobs.
  if (found.every((r) => r.removed)) {
    const column = removedPairs[0]?.column ?? 0;
    const header = headerRange(existingText, indentLines(templateHeader(opts.templateText), column), ranges);
    if (header) ranges.push(header);
  }
  let text = existingText;
  for (const [start, end] of absorbBlankLines(existingText, ranges).reverse()) {
    text = text.slice(0, start) + text.slice(end);
  }

  checkUnmerged(text, js, removedNames, fileName);
  const roleArn = found.find((r) => r.removed && removedHidden.includes(r.names.hidden))?.roleArn;
  const empty = isEmptyPipeline(text);
  const deleteFile = text.trim() === '';
  if (empty && !deleteFile) {
    warnings.push(
      `${fileName} has no jobs left; GitLab refuses an empty pipeline file, so delete it or add jobs.`,
    );
  }
  return {
    text,
    action: 'update',
    removed,
    kept,
    dependents: dependents.map(({ name, line }) => ({ name, line })),
    roleArn,
    roles: found,
    empty,
    deleteFile,
    warnings,
  };
}

interface RoleInFile extends CiRoleJobs {
  /** The tool's jobs of this role. */
  pairs: { pair: ExistingPair; by: RecognisedJob['by'] }[];
  /** Jobs with this role's names that the tool did not write. */
  notOurs: string[];
  removed: boolean;
}

/** The tool's jobs in the file, by role (told apart by the names' suffix), and which of them go. */
function recogniseRoles(
  pairs: ExistingPair[],
  js: Record<string, unknown>,
  opts: UnmergeOptions,
): Map<string, RoleInFile> {
  const roles = new Map<string, RoleInFile>();
  const skeletons = new Map<string, Record<string, unknown>>();
  for (const pair of pairs) {
    const parsed = parseJobName(pair.name);
    if (!parsed) continue;
    const key = parsed.suffix ?? '';
    let role = roles.get(key);
    if (!role) {
      const names = jobNamesFor(parsed.suffix);
      const variables = asRecord(asRecord(js[names.hidden])?.variables);
      const arn = variables?.AWS_ROLE_ARN;
      role = {
        names,
        suffix: parsed.suffix,
        roleArn: typeof arn === 'string' ? arn : undefined,
        pairs: [],
        notOurs: [],
        removed: false,
      };
      roles.set(key, role);
    }
    let skeleton = skeletons.get(key);
    if (!skeleton) {
      skeleton = buildJobSkeletons(opts.templateText, role.names);
      skeletons.set(key, skeleton);
    }
    const shapes = [skeleton[pair.name]];
    // Earlier versions named the verify job's image as a plain string (`image: node:22-alpine`).
    if (parsed.kind === 'verify')
      shapes.push({ ...(skeleton[pair.name] as object), image: VERIFY_IMAGE_SAMPLE });
    const by =
      pair.markerStart !== undefined
        ? 'marker'
        : shapes.some((shape) => matchesSkeleton(js[pair.name], shape))
          ? 'structure'
          : undefined;
    if (by) role.pairs.push({ pair, by });
    // A suffixed name the tool never wrote (a user's `.aws-oidc-base`) is none of its business.
    else if (parsed.suffix === undefined) role.notOurs.push(pair.name);
  }
  for (const role of roles.values()) {
    role.removed = opts.select ? opts.select(role) : true;
  }
  return roles;
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

/** `extends: <hidden>` (alone or in a list), or a `!reference [<hidden>, …]` anywhere in the job. */
function usesHiddenJob(job: unknown, hidden: string): boolean {
  const record = asRecord(job);
  if (!record) return false;
  const ext = record.extends;
  if (ext === hidden || (Array.isArray(ext) && ext.includes(hidden))) return true;
  return containsReference(record, hidden);
}

function containsReference(value: unknown, hidden: string): boolean {
  if (Array.isArray(value)) {
    if (value.length >= 2 && value[0] === hidden && value.every((v) => typeof v === 'string')) return true;
    return value.some((v) => containsReference(v, hidden));
  }
  const record = asRecord(value);
  return record !== undefined && Object.values(record).some((v) => containsReference(v, hidden));
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

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
