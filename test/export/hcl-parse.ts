/** Parses exported Terraform files back with a maintained HCL parser (@cdktf/hcl2json). */
import type { ExportFile } from '../../src/export/types.js';

// Loaded untyped: its declarations pull in `lib="dom"`, whose globals (crypto, fetch) would change
// the types of the whole test program.
const HCL2JSON: string = '@cdktf/hcl2json';
const { parse } = (await import(HCL2JSON)) as {
  parse(filename: string, contents: string): Promise<Record<string, unknown>>;
};

// biome-ignore lint/suspicious/noExplicitAny: hcl2json returns untyped JSON.
export type Hcl = Record<string, any>;

/** One HCL text parsed to JSON (a syntax error rejects). */
export async function parseHcl(filename: string, content: string): Promise<Hcl> {
  return (await parse(filename, content)) as Hcl;
}

/** Every file parsed (a syntax error rejects), by path. */
export async function parseFiles(files: ExportFile[]): Promise<Record<string, Hcl>> {
  const parsed: Record<string, Hcl> = {};
  for (const f of files) parsed[f.path] = await parseHcl(f.path, f.content);
  return parsed;
}

/**
 * The value of an HCL string that hcl2json returns in template form: `$${` and `%%{` are literal
 * `${` and `%{`. Fails when the string still holds an interpolation (it would not be a literal).
 */
export function literal(value: unknown): string {
  if (typeof value !== 'string') throw new Error(`not a string: ${JSON.stringify(value)}`);
  const withoutEscapes = value.replace(/\$\$\{|%%\{/g, '');
  if (/\$\{|%\{/.test(withoutEscapes)) throw new Error(`not a literal string: ${value}`);
  return value.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
}

/** The one block `resource.<type>.<name>` (hcl2json wraps each in a list). */
export function resource(hcl: Hcl, type: string, name: string): Hcl {
  const blocks = hcl.resource?.[type]?.[name];
  if (!Array.isArray(blocks) || blocks.length !== 1) throw new Error(`no single resource ${type}.${name}`);
  return blocks[0];
}
