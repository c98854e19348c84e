import type { DocumentOptions, ParseOptions, SchemaOptions } from 'yaml';
import { type Document, parseAllDocuments, parseDocument } from 'yaml';

/**
 * How every `.gitlab-ci.yml` is parsed here: YAML 1.1 merge keys (`<<: *anchor`, which GitLab accepts)
 * and GitLab's `!reference [job, key]` tag, kept as a tagged sequence so it round-trips and is recognisable.
 */
export const CI_YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  merge: true,
  prettyErrors: true,
  customTags: [{ tag: '!reference', collection: 'seq', resolve: (seq) => seq }],
};

/**
 * Parses a pipeline file. GitLab allows a `spec:` header document before `---`; the pipeline itself is
 * then the last document. Anything else with several documents is returned as-is (with its errors).
 */
export function parseCiDocument(text: string): Document.Parsed {
  const all = parseAllDocuments(text, CI_YAML_OPTIONS);
  if (Array.isArray(all) && all.length === 2 && isSpecHeader(all[0]!)) return all[1]!;
  // One document (the usual case): the same Document parseDocument would build, without parsing twice.
  if (Array.isArray(all) && all.length === 1) return all[0]!;
  return parseDocument(text, CI_YAML_OPTIONS);
}

function isSpecHeader(doc: Document.Parsed): boolean {
  if (doc.errors.length) return false;
  const js: unknown = doc.toJS();
  return (
    typeof js === 'object' && js !== null && !Array.isArray(js) && Object.keys(js).every((k) => k === 'spec')
  );
}

/** Plain JS value of a pipeline file (merge keys resolved, `!reference` kept as a nested array). */
export function ciYamlToJs(text: string): unknown {
  const doc = parseCiDocument(text);
  if (doc.errors.length) throw doc.errors[0];
  return doc.toJS({ maxAliasCount: 1000 });
}

/** A YAML mapping as a plain object (undefined for a list, a scalar or null). */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
