/**
 * A small HCL writer for the Terraform export: blocks, attributes and literal values, laid out the way
 * `terraform fmt` does (two-space indent, the `=` of consecutive one-line attributes aligned). Pure.
 * Values are literals unless wrapped in `ref()` (a reference or function call written as is).
 */

/** An expression written verbatim: `aws_iam_role.gitlab_ci.name`. */
export interface HclRef {
  ref: string;
}

export type HclValue = string | number | boolean | HclRef | HclValue[] | { [key: string]: HclValue };

export interface HclBlock {
  type: string;
  labels?: string[];
  body: HclItem[];
}

export type HclItem =
  | { attr: string; value: HclValue }
  | { block: HclBlock }
  | { comment: string }
  | { blank: true };

export const ref = (expression: string): HclRef => ({ ref: expression });
export const attr = (name: string, value: HclValue): HclItem => ({ attr: name, value });
export const block = (type: string, labels: string[], body: HclItem[]): HclItem => ({
  block: { type, labels, body },
});
export const comment = (text: string): HclItem => ({ comment: text });
export const blank: HclItem = { blank: true };

const isRef = (v: unknown): v is HclRef =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && 'ref' in v;

/**
 * A quoted HCL string whose value is exactly `text`: `"` and `\` escaped, control characters as
 * `\uNNNN`, and the template sequences `${` and `%{` doubled so Terraform reads them literally.
 */
export function hclString(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const next = text[i + 1];
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if ((ch === '$' || ch === '%') && next === '{') out += ch + ch;
    else if (ch < ' ' || ch === '\u007f') out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `"${out}"`;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** An object key: bare when it is an identifier, quoted otherwise (`"gitlab-aws-oidc:trust"`). */
function hclKey(key: string): string {
  return IDENTIFIER.test(key) ? key : hclString(key);
}

/** A Terraform identifier (resource name) from free text: `ReadOnlyAccess` → `readonlyaccess`. */
export function hclIdentifier(text: string): string {
  const id = text
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^[a-z_]/.test(id) ? id : `_${id}`;
}

function renderValue(value: HclValue, indent: string): string {
  if (typeof value === 'string') return hclString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isRef(value)) return value.ref;
  if (Array.isArray(value)) {
    const items = value.map((v) => renderValue(v, indent));
    const inline = `[${items.join(', ')}]`;
    if (!items.some((i) => i.includes('\n')) && inline.length <= 100) return inline;
    const inner = `${indent}  `;
    return `[\n${value.map((v) => `${inner}${renderValue(v, inner)},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  const inner = `${indent}  `;
  const keys = entries.map(([k]) => hclKey(k));
  const width = Math.max(...keys.map((k) => k.length));
  const lines = entries.map(
    ([, v], i) => `${inner}${(keys[i] as string).padEnd(width)} = ${renderValue(v, inner)}`,
  );
  return `{\n${lines.join('\n')}\n${indent}}`;
}

function renderBody(items: HclItem[], indent: string): string[] {
  const out: string[] = [];
  // Consecutive one-line attributes align their `=` (terraform fmt); anything else ends the run.
  let run: { name: string; value: string }[] = [];
  const flush = () => {
    const width = Math.max(0, ...run.map((a) => a.name.length));
    for (const a of run) out.push(`${indent}${a.name.padEnd(width)} = ${a.value}`);
    run = [];
  };
  for (const item of items) {
    if ('attr' in item) {
      const value = renderValue(item.value, indent);
      // As terraform fmt does: a value spanning lines is not aligned and ends the run.
      if (value.includes('\n')) {
        flush();
        out.push(`${indent}${item.attr} = ${value}`);
      } else run.push({ name: item.attr, value });
      continue;
    }
    flush();
    if ('blank' in item) out.push('');
    else if ('comment' in item) for (const line of item.comment.split('\n')) out.push(`${indent}# ${line}`);
    else out.push(...renderBlock(item.block, indent));
  }
  flush();
  return out;
}

function renderBlock(b: HclBlock, indent: string): string[] {
  const head = [b.type, ...(b.labels ?? []).map(hclString)].join(' ');
  if (b.body.length === 0) return [`${indent}${head} {}`];
  return [`${indent}${head} {`, ...renderBody(b.body, `${indent}  `), `${indent}}`];
}

/** A whole file: top-level items, each block separated from the next by one blank line. */
export function renderHclFile(items: HclItem[]): string {
  const lines: string[] = [];
  let previous: HclItem | undefined;
  for (const item of items) {
    if (previous && 'block' in previous && !('blank' in item)) lines.push('');
    lines.push(...renderBody([item], ''));
    previous = item;
  }
  return `${lines.join('\n')}\n`;
}
