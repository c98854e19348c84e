/**
 * Reads `gitlab-aws-oidc.yml`: strict UTF-8 (as pipeline files are read), YAML with positions, then the
 * zod schema of `schema.ts`. Every problem is one issue `file:line:column: <field path>` → `<problem>
 * (allowed: …)`, all of them in one UsageError (exit 2), before any AWS or GitLab call.
 */
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import {
  type Document,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from 'yaml';
import type * as z from 'zod';
import { type FieldIssue, UsageError } from '../errors.js';
import { decodeUtf8Strict } from '../render/write-file.js';
import { type FleetConfig, fleetConfigSchema } from './schema.js';

export type ConfigPath = readonly (string | number)[];

/** Where a value of the config file is: for error messages and for the members' sources. */
export interface ConfigPosition {
  /** The file as the user named it (relative to the working folder when inside it). */
  file: string;
  line: number;
  column: number;
  /** `projects[3].refs.branches[0]` */
  field: string;
}

export interface LoadedConfig {
  /** Absolute path of the file. */
  path: string;
  /** As shown in messages. */
  shownPath: string;
  /** The folder `permissions.policyFile` is relative to. */
  dir: string;
  config: FleetConfig;
  /** Position of the node at `path`, or of its nearest ancestor present in the file. */
  positionOf(path: ConfigPath): ConfigPosition;
}

/** `projects[3].refs.branches[0]` */
export function formatConfigPath(path: ConfigPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out || '(top level)';
}

/** One issue as the loader reports it: the field is `file:line:column: field path`. */
export function configIssue(
  position: ConfigPosition,
  message: string,
  allowed?: readonly string[],
): FieldIssue {
  const suffix = allowed?.length ? ` (allowed: ${allowed.join(', ')})` : '';
  return {
    field: `${position.file}:${position.line}:${position.column}: ${position.field}`,
    message: `${message}${suffix}`,
  };
}

export function configError(shownPath: string, issues: FieldIssue[]): UsageError {
  return new UsageError(
    `Invalid config file ${shownPath} (${issues.length} problem${issues.length === 1 ? '' : 's'}).`,
    issues,
    {
      hint: 'The format is in the README, "Fleet configuration file"; editors check it with its JSON Schema.',
    },
  );
}

export interface LoadConfigOptions {
  cwd: string;
  /** Tests: read bytes from somewhere else. */
  readBytes?: (path: string) => Promise<Uint8Array>;
}

/** Reads, parses and validates the config file. Throws a UsageError listing every problem. */
export async function loadFleetConfig(file: string, options: LoadConfigOptions): Promise<LoadedConfig> {
  const path = resolve(options.cwd, file);
  const rel = relative(options.cwd, path);
  const shownPath = rel && !rel.startsWith('..') ? rel : path;
  let bytes: Uint8Array;
  try {
    bytes = await (options.readBytes ?? readFile)(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw UsageError.field('--config', `cannot read ${shownPath} (${code})`);
  }
  return parseFleetConfig(decodeConfigText(bytes, shownPath), { path, shownPath });
}

function decodeConfigText(bytes: Uint8Array, shownPath: string): string {
  try {
    return decodeUtf8Strict(bytes, shownPath).replace(/^\uFEFF/, '');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // The decoder names the line and column in its message; the issue gets them as every other one does.
    const at = /\(line (\d+), column (\d+)\)/.exec(error.message);
    const issues = at
      ? error.issues.map((i) => ({ field: `${shownPath}:${at[1]}:${at[2]}: (file)`, message: i.message }))
      : error.issues;
    throw new UsageError(error.message, issues, {
      cause: error,
      hint: `The config file must be UTF-8; convert it (for example \`iconv -f latin1 -t utf-8 ${shownPath}\`).`,
    });
  }
}

/** Parses and validates config text (the file's bytes already decoded). */
export function parseFleetConfig(text: string, where: { path: string; shownPath: string }): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, field: string): ConfigPosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file: where.shownPath, line, column: col, field };
  };
  const positionOf = (path: ConfigPath) => locate(doc, path, at);
  if (doc.errors.length) {
    const issues = doc.errors.map((e) =>
      configIssue(at(e.pos[0], 'YAML'), e.message.replace(/ at line \d+, column \d+.*$/s, '')),
    );
    throw configError(where.shownPath, issues);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw configError(where.shownPath, [configIssue(at(0, 'YAML'), (error as Error).message)]);
  }
  if (value === null || value === undefined) {
    throw configError(where.shownPath, [
      configIssue(at(0, '(top level)'), 'the file is empty', ['version: 1, then group and/or projects']),
    ]);
  }
  const result = fleetConfigSchema.safeParse(value);
  if (!result.success) {
    throw configError(
      where.shownPath,
      result.error.issues.flatMap((issue) => issuesOf(issue, doc, at)),
    );
  }
  return {
    path: where.path,
    shownPath: where.shownPath,
    dir: dirname(where.path),
    config: result.data,
    positionOf,
  };
}

type At = (offset: number, field: string) => ConfigPosition;

/** The node at `path` (a key's value; for a missing key, its parent), with its position. */
function locate(doc: Document, path: ConfigPath, at: At, keyOf?: string): ConfigPosition {
  const field = formatConfigPath(keyOf === undefined ? path : [...path, keyOf]);
  for (let depth = path.length; depth >= 0; depth--) {
    const prefix = path.slice(0, depth);
    const node = prefix.length ? doc.getIn(prefix, true) : doc.contents;
    if (!isNode(node)) continue;
    if (keyOf !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === keyOf);
      const key = pair?.key;
      if (isNode(key) && key.range) return at(key.range[0], field);
    }
    // A key whose value is empty (`refs:`) has a null scalar with no useful range: use the key.
    const range = (node as Node).range;
    if (range && !(isScalar(node) && node.value === null && depth > 0)) return at(range[0], field);
    const parent = depth > 1 ? doc.getIn(prefix.slice(0, -1), true) : doc.contents;
    const name = prefix[prefix.length - 1];
    if (isMap(parent)) {
      const pair = parent.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(name),
      );
      if (isNode(pair?.key) && pair.key.range) return at(pair.key.range[0], field);
    }
  }
  return at(0, field);
}

function issuesOf(issue: z.core.$ZodIssue, doc: Document, at: At): FieldIssue[] {
  const path = issue.path as (string | number)[];
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(path);
    return issue.keys.map((key) => configIssue(locate(doc, path, at, key), 'unknown key', allowed));
  }
  const position = locate(doc, path, at);
  const missing = !hasKey(doc, path);
  switch (issue.code) {
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      return [configIssue(position, missing ? 'is required' : 'not an allowed value', allowed)];
    }
    case 'invalid_type':
      return [
        configIssue(
          position,
          missing ? 'is required' : `must be ${article(issue.expected)}`,
          missing ? [article(issue.expected)] : undefined,
        ),
      ];
    case 'custom': {
      const allowed = (issue.params as { allowed?: string[] } | undefined)?.allowed;
      return [configIssue(position, issue.message, allowed)];
    }
    default:
      return [configIssue(position, issue.message)];
  }
}

function hasKey(doc: Document, path: ConfigPath): boolean {
  if (path.length === 0) return true;
  const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
  const name = String(path[path.length - 1]);
  // A list entry is there when its index is (`- acme/app` where a mapping is expected is the wrong type).
  if (isSeq(parent)) return Number(name) < parent.items.length;
  return isMap(parent) && parent.items.some((p) => isScalar(p.key) && String(p.key.value) === name);
}

function article(type: string): string {
  if (type === 'record' || type === 'object') return 'a mapping (key: value)';
  if (type === 'array') return 'a list';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** The keys the schema allows at `path` (a mapping of the file). */
export function allowedKeysAt(path: ConfigPath): string[] {
  let schema: z.core.$ZodType | undefined = fleetConfigSchema;
  for (const part of path) {
    schema = unwrap(schema);
    const def = schema?._zod.def as {
      type: string;
      shape?: Record<string, z.core.$ZodType>;
      element?: z.core.$ZodType;
      valueType?: z.core.$ZodType;
    };
    if (def?.type === 'object' && typeof part === 'string') schema = def.shape?.[part];
    else if (def?.type === 'array') schema = def.element;
    else if (def?.type === 'record') schema = def.valueType;
    else return [];
  }
  const def = unwrap(schema)?._zod.def as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let s = schema;
  while (
    s &&
    (s._zod.def.type === 'optional' || s._zod.def.type === 'nullable' || s._zod.def.type === 'default')
  ) {
    s = (s._zod.def as unknown as { innerType: z.core.$ZodType }).innerType;
  }
  return s;
}
