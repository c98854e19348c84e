import { isDeepStrictEqual } from 'node:util';
import { type Document, isMap, isScalar, type Pair, type YAMLError, type YAMLMap } from 'yaml';
import { CliError, UsageError } from '../errors.js';
import {
  type CiJobNames,
  DEFAULT_JOB_STAGE,
  HIDDEN_JOB_NAME,
  jobNamesFor,
  MANAGED_MARKER,
} from './ci-file.js';
import { parseJobName } from './ci-jobs.js';
import { asRecord, parseCiDocument } from './ci-yaml.js';

export type CiMergeAction = 'create' | 'update' | 'no-op';

export interface MergeOptions {
  /** Replace same-named jobs the tool did not write. */
  force: boolean;
  /** Shown in errors and warnings. Default `.gitlab-ci.yml`. */
  fileName?: string | undefined;
  /** The names of the jobs the snippet holds (one role's). Default: the plain names. */
  jobNames?: CiJobNames | undefined;
}

export interface MergeResult {
  text: string;
  action: CiMergeAction;
  /** Same-named jobs the tool did not write and replaced because of `force` (empty otherwise). */
  conflicts: string[];
  warnings: string[];
}

export interface LegacyJwtUsage {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  variable: 'CI_JOB_JWT' | 'CI_JOB_JWT_V1' | 'CI_JOB_JWT_V2';
}

const BYTE_ORDER_MARK = '\uFEFF';
/** A stage that exists in every pipeline, whatever `stages:` says. */
const ALWAYS_PRESENT_STAGE = '.pre';
const MARKER_LINE = new RegExp(`^\\s*#\\s*${MANAGED_MARKER.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`);
const STATIC_CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
];

/** Every use of the removed `CI_JOB_JWT*` variables, comment lines excepted. */
export function findLegacyJwtUsage(text: string): LegacyJwtUsage[] {
  const found: LegacyJwtUsage[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trimStart().startsWith('#')) return;
    for (const m of line.matchAll(/\bCI_JOB_JWT(?:_V[12])?\b/g)) {
      found.push({
        line: index + 1,
        column: (m.index ?? 0) + 1,
        variable: m[0] as LegacyJwtUsage['variable'],
      });
    }
  });
  return found;
}

interface SnippetJob {
  name: string;
  /** Marker comment lines + the job, ending with a newline. */
  text: string;
  js: unknown;
  /** Offsets of the `stage:` value inside `text`, when the job has one. */
  stageRange?: [number, number] | undefined;
}

/** A top-level key of a pipeline file, with the text range of its job (and marker comment). */
export interface ExistingPair {
  name: string;
  keyLineStart: number;
  /** Start of the tool's marker comment block above the key, when there is one. */
  markerStart: number | undefined;
  /** End of the job's last line (after its newline). */
  end: number;
  column: number;
}

/**
 * Merges the rendered snippet into an existing `.gitlab-ci.yml`, splicing text so that everything the tool does
 * not own stays byte-identical (comments, anchors, key order, formatting). The tool's jobs are recognised by
 * the marker comment line above them or by being structurally identical to what it would write.
 */
export function mergeCiFile(
  existingText: string | undefined,
  snippetText: string,
  opts: MergeOptions,
): MergeResult {
  // A UTF-8 byte order mark (Windows editors) stays first and is no column of the first key.
  if (existingText?.startsWith(BYTE_ORDER_MARK)) {
    const inner = mergeCiFile(existingText.slice(BYTE_ORDER_MARK.length), snippetText, opts);
    return { ...inner, text: BYTE_ORDER_MARK + inner.text };
  }
  const fileName = opts.fileName ?? '.gitlab-ci.yml';
  const names = opts.jobNames ?? jobNamesFor();
  const snippet = parseSnippet(snippetText);
  if (existingText === undefined) return { text: snippetText, action: 'create', conflicts: [], warnings: [] };

  const doc = parseCiDocument(existingText);
  if (doc.errors.length) throw yamlUsageError(fileName, doc.errors[0]!);
  const root = doc.contents;
  const eol = existingText.includes('\r\n') ? '\r\n' : '\n';
  const warnings: string[] = legacyWarnings(existingText, fileName);

  if (root === null || (isScalar(root) && root.value === null)) {
    // Empty file, or comments only: keep whatever is there and append.
    const text = appendBlock(existingText, snippetText, eol);
    return { text, action: text === existingText ? 'no-op' : 'update', conflicts: [], warnings };
  }
  if (!isMap(root) || root.flow) {
    throw new UsageError(`${fileName} must be a block mapping of jobs at the top level`, [], {
      hint: 'gitlab-aws-oidc only merges into block-style files; add the printed snippet by hand.',
    });
  }

  const existingJs = toJsOrThrow(doc, `${fileName} cannot be read as a pipeline`);
  const stage = chooseStage(existingJs, fileName, warnings);
  const desired = snippet.jobs.map((job) => withStage(job, stage));
  const pairs = topLevelPairs(existingText, root);

  const conflicts: string[] = [];
  const conflictIssues: { field: string; message: string }[] = [];
  const replacements: { start: number; end: number; text: string }[] = [];
  const found = desired.map((job) => pairs.find((p) => p.name === job.name));
  const column = pairs[0]?.column ?? 0;
  desired.forEach((job, index) => {
    const pair = found[index];
    if (!pair) return;
    const original = snippet.jobs[index]!;
    const owned =
      pair.markerStart !== undefined ||
      isDeepStrictEqual(existingJs[job.name], job.js) ||
      isDeepStrictEqual(existingJs[job.name], original.js);
    if (!owned) {
      conflicts.push(job.name);
      conflictIssues.push({
        field: `${fileName}:${lineOf(existingText, pair.keyLineStart)}`,
        message: `job "${job.name}" exists and was not written by gitlab-aws-oidc`,
      });
    }
    const start = pair.markerStart ?? pair.keyLineStart;
    replacements.push({ start, end: pair.end, text: convertEol(indent(job.text, pair.column), eol) });
  });

  if (conflicts.length && !opts.force) {
    throw new UsageError(
      `${fileName} already defines ${conflicts.map((c) => `"${c}"`).join(', ')}, not written by gitlab-aws-oidc`,
      conflictIssues,
      { hint: 'Re-run with --force to replace them, or rename your jobs.' },
    );
  }
  for (const name of conflicts)
    warnings.push(`Replaced job "${name}" in ${fileName} (it was not written by gitlab-aws-oidc; --force).`);

  const staleVerify = pairs.find((p) => p.name === names.verify && p.markerStart !== undefined);
  if (staleVerify && !desired.some((j) => j.name === names.verify)) {
    const script = JSON.stringify(
      (existingJs[names.verify] as { script?: unknown } | undefined)?.script ?? '',
    );
    const byName = /npx --yes gitlab-aws-oidc@/.test(script)
      ? ` It runs \`npx --yes gitlab-aws-oidc@…\`, a package fetched from the npm registry by name, with the role's credentials: re-run with --verify-job --verify-image <image>@sha256:<digest>, or delete it.`
      : '';
    warnings.push(
      `${fileName} keeps "${names.verify}" from an earlier run; delete it by hand if you no longer want it.${byName}`,
    );
  }
  warnings.push(...interplayWarnings(existingJs, fileName, names.hidden));

  let text = existingText;
  if (replacements.length === 0) {
    // Another role's jobs came with the header already: a further role's jobs are appended without it.
    const hasOurJobs = pairs.some((p) => p.markerStart !== undefined && parseJobName(p.name) !== undefined);
    const block = [...(hasOurJobs ? [] : [snippet.header]), ...desired.map((j) => j.text)].join('\n');
    text = appendBlock(existingText, indent(block, column), eol);
  } else {
    replacements.push(...insertionsForMissing(existingText, desired, found, column, eol));
    // Descending; at equal starts the replacement (longer) goes first so an insertion lands before it.
    for (const r of [...replacements].sort((a, b) => b.start - a.start || b.end - a.end)) {
      text = text.slice(0, r.start) + r.text + text.slice(r.end);
    }
  }

  checkMerged(text, desired, fileName);
  const action: CiMergeAction = text === existingText ? 'no-op' : 'update';
  return { text, action, conflicts, warnings };
}

/**
 * Jobs of ours the file lacks go next to the ones it has, in template order: before the next present job,
 * or after the last one.
 */
function insertionsForMissing(
  text: string,
  desired: SnippetJob[],
  found: (ExistingPair | undefined)[],
  column: number,
  eol: string,
): { start: number; end: number; text: string }[] {
  const byPosition = new Map<number, string[]>();
  const lastEnd = Math.max(...found.map((p) => p?.end ?? -1));
  desired.forEach((job, index) => {
    if (found[index]) return;
    const next = found.slice(index + 1).find((p) => p !== undefined);
    const body = indent(job.text, column);
    if (next) {
      const at = next.markerStart ?? next.keyLineStart;
      byPosition.set(at, [...(byPosition.get(at) ?? []), `${body}\n`]);
    } else {
      byPosition.set(lastEnd, [...(byPosition.get(lastEnd) ?? []), `\n${body}`]);
    }
  });
  return [...byPosition].map(([at, parts]) => {
    let block = parts.join('');
    const after = text.slice(at);
    if (at === lastEnd && after.length && !after.startsWith('\n') && !after.startsWith('\r\n')) block += '\n';
    return { start: at, end: at, text: convertEol(block, eol) };
  });
}

// ---------- snippet ----------

function parseSnippet(snippetText: string): { header: string; jobs: SnippetJob[] } {
  const doc = parseCiDocument(snippetText);
  if (doc.errors.length || !isMap(doc.contents)) {
    throw new CliError('TEMPLATE_INVALID', 'The CI snippet is not a YAML mapping of jobs');
  }
  const js = doc.toJS() as Record<string, unknown>;
  const pairs = topLevelPairs(snippetText, doc.contents);
  const jobs = pairs.map((p): SnippetJob => {
    const start = p.markerStart ?? p.keyLineStart;
    const pair = (doc.contents as YAMLMap).items.find((i) => keyName(i) === p.name)!;
    const stageNode = isMap(pair.value) ? pair.value.get('stage', true) : undefined;
    const stageRange: [number, number] | undefined =
      isScalar(stageNode) && stageNode.range
        ? [stageNode.range[0] - start, stageNode.range[1] - start]
        : undefined;
    return { name: p.name, text: snippetText.slice(start, p.end), js: js[p.name], stageRange };
  });
  const firstStart = jobs.length ? (pairs[0]!.markerStart ?? pairs[0]!.keyLineStart) : snippetText.length;
  return { header: snippetText.slice(0, firstStart).replace(/\s+$/, '\n'), jobs };
}

function withStage(job: SnippetJob, stage: string): SnippetJob {
  if (!job.stageRange || stage === DEFAULT_JOB_STAGE) return job;
  const [s, e] = job.stageRange;
  const text = job.text.slice(0, s) + stage + job.text.slice(e);
  const js = { ...(job.js as Record<string, unknown>), stage };
  return { ...job, text, js };
}

// ---------- existing file ----------

export function topLevelPairs(text: string, root: YAMLMap): ExistingPair[] {
  const out: ExistingPair[] = [];
  for (const pair of root.items as Pair[]) {
    const name = keyName(pair);
    if (name === undefined || !isScalar(pair.key) || !pair.key.range) continue;
    const keyStart = pair.key.range[0];
    const keyLineStart = lineStart(text, keyStart);
    const valueRange = (pair.value as { range?: [number, number, number] } | null)?.range;
    const valueEnd = Math.max(valueRange ? valueRange[1] : pair.key.range[1], pair.key.range[1]);
    out.push({
      name,
      keyLineStart,
      markerStart: markerBlockStart(text, keyLineStart),
      end: lineEnd(text, valueEnd),
      column: keyStart - keyLineStart,
    });
  }
  return out;
}

function keyName(pair: Pair): string | undefined {
  return isScalar(pair.key) && pair.key.value !== null ? String(pair.key.value) : undefined;
}

/** The topmost marker line in the run of comment lines right above the key (no blank line between). */
function markerBlockStart(text: string, keyLineStart: number): number | undefined {
  let found: number | undefined;
  let cursor = keyLineStart;
  while (cursor > 0) {
    const start = lineStart(text, cursor - 1);
    const line = text.slice(start, cursor);
    if (!line.trimStart().startsWith('#')) break;
    if (MARKER_LINE.test(line)) found = start;
    cursor = start;
  }
  return found;
}

function chooseStage(js: Record<string, unknown>, fileName: string, warnings: string[]): string {
  const stages = js.stages;
  if (Array.isArray(stages)) {
    if (stages.flat().includes(DEFAULT_JOB_STAGE)) return DEFAULT_JOB_STAGE;
    warnings.push(
      `${fileName} defines stages: without "${DEFAULT_JOB_STAGE}"; the gitlab-aws-oidc jobs use the always-present "${ALWAYS_PRESENT_STAGE}" stage instead.`,
    );
    return ALWAYS_PRESENT_STAGE;
  }
  if (js.include !== undefined) {
    warnings.push(
      `${fileName} has include: but no stages:; stages may come from included files, so the gitlab-aws-oidc jobs use the always-present "${ALWAYS_PRESENT_STAGE}" stage.`,
    );
    return ALWAYS_PRESENT_STAGE;
  }
  return DEFAULT_JOB_STAGE;
}

function interplayWarnings(js: Record<string, unknown>, fileName: string, hidden: string): string[] {
  const warnings: string[] = [];
  const dflt = asRecord(js.default);
  if (dflt?.id_tokens !== undefined) {
    warnings.push(
      `${fileName} sets default: id_tokens. A job's own id_tokens replace the default (no merge), so jobs that extend ${hidden} get only its token, not the default ones.`,
    );
  }
  if (dflt?.before_script !== undefined || js.before_script !== undefined) {
    warnings.push(
      `${fileName} sets a default before_script. Jobs that extend ${hidden} run its before_script (which writes the token file) instead.`,
    );
  }
  const globalVars = asRecord(js.variables);
  const statics = STATIC_CREDENTIAL_VARIABLES.filter((v) => globalVars && v in globalVars);
  if (statics.length) {
    warnings.push(
      `${fileName} sets ${statics.join(', ')} in variables:; the AWS CLI and SDKs prefer those over the web identity token. Remove them.`,
    );
  }
  for (const [name, value] of Object.entries(js)) {
    const job = asRecord(value);
    if (!job || name === hidden) continue;
    const ext = job.extends;
    const extendsOurs = ext === hidden || (Array.isArray(ext) && ext.includes(hidden));
    if (!extendsOurs) continue;
    const bs = job.before_script;
    if (bs !== undefined && !containsReference(bs, hidden)) {
      warnings.push(
        `Job "${name}" extends ${hidden} but sets its own before_script, so the token file is never written; add "- !reference [${hidden}, before_script]" to it.`,
      );
    }
    if (job.id_tokens !== undefined) {
      warnings.push(`Job "${name}" sets its own id_tokens, which replace those of ${hidden}.`);
    }
  }
  return warnings;
}

function containsReference(value: unknown, hidden: string): boolean {
  if (!Array.isArray(value)) return false;
  if (value[0] === hidden && value[1] === 'before_script') return true;
  return value.some((v) => containsReference(v, hidden));
}

function legacyWarnings(text: string, fileName: string): string[] {
  return findLegacyJwtUsage(text).map(
    (u) =>
      `${fileName}:${u.line}: ${u.variable} was removed in GitLab 17.0; jobs using it fail. Use id_tokens (extend ${HIDDEN_JOB_NAME}).`,
  );
}

function checkMerged(text: string, desired: SnippetJob[], fileName: string): void {
  const doc: Document.Parsed = parseCiDocument(text);
  const what = `Merging into ${fileName} would leave it invalid`;
  const hint = 'A replaced job probably defined an anchor used elsewhere; rename your job or merge by hand.';
  if (doc.errors.length) throw new UsageError(`${what}: ${firstLine(doc.errors[0]!.message)}`, [], { hint });
  const js = toJsOrThrow(doc, what, hint);
  for (const job of desired) {
    if (!isDeepStrictEqual(js[job.name], job.js)) {
      throw new CliError(
        'MERGE_FAILED',
        `Internal error: job "${job.name}" did not survive the merge into ${fileName}`,
      );
    }
  }
}

/** `toJS` throws on some documents that parse cleanly (a merge key on a scalar, alias bombs). */
export function toJsOrThrow(doc: Document.Parsed, what: string, hint?: string): Record<string, unknown> {
  try {
    return doc.toJS({ maxAliasCount: 1000 }) as Record<string, unknown>;
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new UsageError(`${what}: ${firstLine(message)}`, [], { cause, ...(hint ? { hint } : {}) });
  }
}

// ---------- text helpers ----------

export function yamlUsageError(fileName: string, error: YAMLError): UsageError {
  const pos = error.linePos?.[0];
  const where = pos ? `line ${pos.line}, column ${pos.col}` : 'an unknown position';
  const message = firstLine(error.message).replace(/ at line \d+, column \d+:?$/, '');
  return new UsageError(
    `${fileName} is not valid YAML (${where}): ${message}`,
    [{ field: pos ? `${fileName}:${pos.line}` : fileName, message }],
    { hint: `Fix ${fileName} (GitLab's pipeline editor shows the same error), then re-run.`, cause: error },
  );
}

/**
 * Appends after the untouched existing text: one line break more, so a blank line when the file ends
 * with a newline, and none when it does not. Either way unmerge.ts can take exactly that line break
 * away and give the file back byte for byte (final newline or not, trailing blank lines kept).
 */
function appendBlock(existing: string, block: string, eol: string): string {
  const body = convertEol(block, eol);
  if (existing.trim().length === 0) return body;
  return existing + eol + body;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function lineEnd(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl + 1;
}

export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function indent(text: string, column: number): string {
  if (column === 0) return text;
  const pad = ' '.repeat(column);
  return text.replace(/^(?=[^\r\n])/gm, pad);
}

function convertEol(text: string, eol: string): string {
  return eol === '\n' ? text : text.replace(/\r?\n/g, eol);
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
