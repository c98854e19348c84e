/**
 * CloudFormation's YAML dialect: the short-form intrinsic tags (`!Ref`, `!Sub`, `!GetAtt`, `!If`,
 * `!Equals`) and YAML 1.1 scalars (CloudFormation reads YAML 1.1, where `yes`, `no`, `on`, `off`, `y`,
 * `n` are booleans and `2012-10-17` is a timestamp: such strings must be quoted).
 *
 * The renderer builds a plain object in which an intrinsic is an `Intrinsic` instance (a class, so a
 * policy document that happens to contain a `{"Ref": …}` map is never mistaken for one); the tags write
 * it in short form. Parsing reads each short form back as CloudFormation's JSON long form
 * (`{ "Ref": "X" }`, `{ "Fn::If": [...] }`), which is what a test resolves.
 */
import { type CollectionTag, Document, parse, Scalar, type ScalarTag, YAMLSeq } from 'yaml';

export type IntrinsicName = 'Ref' | 'Fn::Sub' | 'Fn::GetAtt' | 'Fn::If' | 'Fn::Equals';

/** One intrinsic function call in a template being built. */
export class Intrinsic {
  constructor(
    readonly fn: IntrinsicName,
    readonly arg: unknown,
  ) {}
}

export const ref = (name: string) => new Intrinsic('Ref', name);
export const sub = (text: string) => new Intrinsic('Fn::Sub', text);
export const getAtt = (resource: string, attribute: string) =>
  new Intrinsic('Fn::GetAtt', [resource, attribute]);
export const fnIf = (condition: string, whenTrue: unknown, whenFalse: unknown) =>
  new Intrinsic('Fn::If', [condition, whenTrue, whenFalse]);
export const fnEquals = (a: unknown, b: unknown) => new Intrinsic('Fn::Equals', [a, b]);

const isCall = (fn: IntrinsicName) => (value: unknown) => value instanceof Intrinsic && value.fn === fn;

function scalarTag(
  fn: IntrinsicName,
  write: (arg: unknown) => string,
  read: (text: string) => unknown,
): ScalarTag {
  return {
    tag: `!${fn.replace('Fn::', '')}`,
    identify: isCall(fn),
    createNode: (_schema, value) => new Scalar(write((value as Intrinsic).arg)),
    resolve: (text) => ({ [fn]: read(text) }),
  };
}

function sequenceTag(fn: IntrinsicName): CollectionTag {
  return {
    tag: `!${fn.replace('Fn::', '')}`,
    collection: 'seq',
    identify: isCall(fn),
    createNode: (schema, value, ctx) => {
      const seq = YAMLSeq.from(schema, (value as Intrinsic).arg, ctx);
      seq.flow = true;
      return seq;
    },
    resolve: (seq) => ({ [fn]: (seq as YAMLSeq).toJSON() }),
  };
}

/** The short-form intrinsic tags, for writing (`Intrinsic` → `!Tag`) and reading (`!Tag` → long form). */
export const CFN_TAGS = [
  scalarTag('Ref', String, (text) => text),
  scalarTag('Fn::Sub', String, (text) => text),
  scalarTag(
    'Fn::GetAtt',
    (arg) => (arg as string[]).join('.'),
    (text) => {
      const dot = text.indexOf('.');
      return dot < 0 ? [text] : [text.slice(0, dot), text.slice(dot + 1)];
    },
  ),
  sequenceTag('Fn::If'),
  sequenceTag('Fn::Equals'),
];

/** Writes a template object as CloudFormation YAML, with `header` as a leading `#` comment block. */
export function stringifyCloudFormation(template: Record<string, unknown>, header: string[]): string {
  // No anchors/aliases: a value used twice (the provider ARN) is written out twice.
  const doc = new Document(template, { version: '1.1', customTags: CFN_TAGS, aliasDuplicateObjects: false });
  doc.commentBefore = header.map((line) => (line ? ` ${line}` : '')).join('\n');
  return doc.toString({ lineWidth: 0, directives: false, flowCollectionPadding: false });
}

/** Reads CloudFormation YAML: intrinsics come back in their JSON long form. */
export function parseCloudFormation(text: string): Record<string, unknown> {
  return parse(text, { version: '1.1', customTags: CFN_TAGS }) as Record<string, unknown>;
}
