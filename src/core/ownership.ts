/**
 * What gitlab-aws-oidc last wrote to a resource, recorded in the resource's own tags (the way
 * `kubectl apply` keeps its last-applied configuration). A re-run then tells three states apart:
 *
 *   last written (the record) · current (read from IAM) · desired (this run's inputs)
 *
 * - current = last written: nobody touched the field since the tool wrote it; the tool may converge it.
 * - current ≠ last written and current ≠ desired: somebody changed it outside the tool (drift). `status`
 *   reports it; `init` refuses to overwrite it without `--overwrite-drift`.
 * - no record (made by an older version, or adopted): provenance unknown; see `FieldRecord`.
 *
 * IAM tag values hold at most 256 characters of `[\p{L}\p{Z}\p{N}_.:/=+\-@]`, so documents are kept as
 * digests of their normal form (`normalizePolicy`, the same comparison `policiesEqual` makes), and
 * attachments as one short digest per ARN. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { normalizePolicy } from './policy-json.js';
import { isToolManaged, type PolicyDocument, type Tags } from './types.js';

/** Tag keys of the record. All start with `gitlab-aws-oidc:` and are reserved (users cannot set them). */
export const RECORD_TAGS = {
  /** Role: digest of the trust policy the tool last wrote. */
  trust: 'gitlab-aws-oidc:trust',
  /** Role: MaxSessionDuration the tool last wrote, in seconds (plain number). */
  session: 'gitlab-aws-oidc:session',
  /** Role: digest of the permissions boundary ARN the tool last set, or `none`. */
  boundary: 'gitlab-aws-oidc:boundary',
  /**
   * Role: space-separated digests of the managed policy ARNs the tool attached, or `none`. Written with
   * CreateRole for the attachments it is about to make; a digest prefixed with `+` (PENDING_MARK) is one
   * a creation that stopped part-way was approved to attach and had not (`unfinishedCreationTags`).
   */
  attached: 'gitlab-aws-oidc:attached',
  /** Role: digest of the description the tool last wrote. */
  description: 'gitlab-aws-oidc:description',
  /** Tool-managed customer policy: digest of the default version's document the tool last wrote. */
  document: 'gitlab-aws-oidc:document',
} as const;

export const RECORD_TAG_KEYS: readonly string[] = Object.values(RECORD_TAGS);
export const NONE = 'none';
/** Marks a digest in the `attached` value as approved but not attached yet (an unfinished creation). */
export const PENDING_MARK = '+';

function digest(text: string, length: number): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url').slice(0, length);
}

/** Digest of a policy document's normal form: equal for documents `policiesEqual` calls equal. */
export function policyDigest(doc: PolicyDocument | string): string {
  return digest(JSON.stringify(normalizePolicy(doc)), 22);
}

/** Digest of one string value (an ARN, a description). ARNs compare case-sensitively, as IAM does. */
export function valueDigest(value: string): string {
  return digest(value, 22);
}

/** Short digest of one attached policy ARN (20 attachments × 11 characters fit in one tag value). */
export function arnDigest(arn: string): string {
  return digest(arn, 10);
}

/** What the tool wrote to a role, as recorded in its tags. */
export interface RoleRecordInput {
  trustPolicy: PolicyDocument;
  maxSessionDuration: number;
  permissionsBoundaryArn?: string | undefined;
  /** The managed policy ARNs the tool itself attached (not those it found and kept). */
  attachedByTool: readonly string[];
  description: string;
}

/** The record tags for a role, to write with (or after) the calls that make it so. */
export function roleRecordTags(input: RoleRecordInput): Tags {
  const attached = [...new Set(input.attachedByTool.map(arnDigest))].sort();
  return {
    [RECORD_TAGS.trust]: policyDigest(input.trustPolicy),
    [RECORD_TAGS.session]: String(input.maxSessionDuration),
    [RECORD_TAGS.boundary]: input.permissionsBoundaryArn ? valueDigest(input.permissionsBoundaryArn) : NONE,
    [RECORD_TAGS.attached]: attached.length ? attached.join(' ') : NONE,
    [RECORD_TAGS.description]: valueDigest(input.description),
  };
}

/** The record tag for the tool-managed permission policy. */
export function policyRecordTags(document: PolicyDocument): Tags {
  return { [RECORD_TAGS.document]: policyDigest(document) };
}

/** One field's record, read back: `unknown` when the tag is absent (older version, adopted resource). */
export type FieldRecord<T> = { known: true; value: T } | { known: false };

export interface RoleRecord {
  trust: FieldRecord<string>;
  session: FieldRecord<number>;
  boundary: FieldRecord<string | undefined>;
  /** The digests of the attachments the tool made. */
  attached: FieldRecord<ReadonlySet<string>>;
  description: FieldRecord<string>;
  /**
   * Digests of attachments a creation that stopped part-way was approved to make and had not (or not
   * knowingly: one in flight when it stopped may have landed). Empty for a finished record.
   */
  pending: ReadonlySet<string>;
}

const unknown = { known: false } as const;

/** Reads a role's record from its tags. Malformed values count as unknown, never as a match. */
export function readRoleRecord(tags: Tags): RoleRecord {
  const trust = tags[RECORD_TAGS.trust];
  const session = tags[RECORD_TAGS.session];
  const boundary = tags[RECORD_TAGS.boundary];
  const attached = tags[RECORD_TAGS.attached];
  const description = tags[RECORD_TAGS.description];
  const tokens = attached === undefined || attached === NONE ? [] : attached.split(/\s+/).filter(Boolean);
  return {
    trust: trust ? { known: true, value: trust } : unknown,
    session: session && /^\d+$/.test(session) ? { known: true, value: Number(session) } : unknown,
    boundary: boundary ? { known: true, value: boundary === NONE ? undefined : boundary } : unknown,
    attached:
      attached !== undefined
        ? { known: true, value: new Set(tokens.filter((t) => !t.startsWith(PENDING_MARK))) }
        : unknown,
    description: description ? { known: true, value: description } : unknown,
    pending: new Set(tokens.filter((t) => t.startsWith(PENDING_MARK) && t.length > 1).map((t) => t.slice(1))),
  };
}

/**
 * The `attached` record of a creation that stopped after CreateRole (whose tags recorded all of
 * `planned` as attached) with only `made` attached: the truth, and the rest marked as approved but not
 * attached yet, so that the re-run finishes them without asking again. One TagRole, on that failure
 * path only (aws/apply.ts). A run killed before it could write this leaves CreateRole's record, which
 * lists attachments that are not there: the re-run then asks (`--allow-widening`), never guessing.
 */
export function unfinishedCreationTags(planned: readonly string[], made: readonly string[]): Tags {
  const done = new Set(made.filter((arn) => planned.includes(arn)).map(arnDigest));
  const todo = new Set(planned.map(arnDigest).filter((d) => !done.has(d)));
  const value = [...[...done].sort(), ...[...todo].sort().map((d) => `${PENDING_MARK}${d}`)].join(' ');
  return { [RECORD_TAGS.attached]: value || NONE };
}

/** Whether the role's record holds every field (a role written by this version of the tool). */
export function hasFullRecord(record: RoleRecord): boolean {
  const { pending: _pending, ...fields } = record;
  return Object.values(fields).every((field) => field.known);
}

/** The state of one field across the three states. */
export type FieldProvenance =
  /** current equals what the tool last wrote */
  | 'as-written'
  /** current differs from what the tool last wrote: changed outside the tool */
  | 'drifted'
  /** no record for this field */
  | 'unknown';

export interface RoleCurrentFields {
  trustPolicy: PolicyDocument;
  maxSessionDuration: number;
  permissionsBoundaryArn?: string | undefined;
  description?: string | undefined;
}

export interface RoleProvenance {
  trust: FieldProvenance;
  session: FieldProvenance;
  boundary: FieldProvenance;
  description: FieldProvenance;
}

function compare<T>(record: FieldRecord<T>, current: T): FieldProvenance {
  if (!record.known) return 'unknown';
  return record.value === current ? 'as-written' : 'drifted';
}

/** Compares a role's current fields with its record (the attachments are per ARN: `attachedByTool`). */
export function roleProvenance(record: RoleRecord, current: RoleCurrentFields): RoleProvenance {
  return {
    trust: compare(record.trust, policyDigest(current.trustPolicy)),
    session: compare(record.session, current.maxSessionDuration),
    boundary: compare(
      record.boundary,
      current.permissionsBoundaryArn ? valueDigest(current.permissionsBoundaryArn) : undefined,
    ),
    description: compare(record.description, valueDigest(current.description ?? '')),
  };
}

/**
 * Whether the tool attached this ARN (per its record). `undefined` when the record has no attachment
 * list: the caller decides (a role the tool created with an older version vs. an adopted one).
 */
export function attachedByTool(record: RoleRecord, arn: string): boolean | undefined {
  if (!record.attached.known) return undefined;
  const digest = arnDigest(arn);
  // Pending: approved for the tool to attach by the run that created the role (it may have landed).
  return record.attached.value.has(digest) || record.pending.has(digest);
}

/** Whether an interrupted creation was approved to attach this ARN and had not (see `unfinishedCreationTags`). */
export function pendingAttachment(record: RoleRecord, arn: string): boolean {
  return record.pending.has(arnDigest(arn));
}

/**
 * What a re-run that keeps the role's current permissions must not take over as the tool's: the
 * attachments its record does not list (none of them on a role it does not manage yet), and a boundary
 * it did not set. Kept as they are by the plan, and removed only with --detach-unowned.
 */
export function notMadeByTool(role: {
  tags: Tags;
  attachedPolicyArns: readonly string[];
  permissionsBoundaryArn?: string | undefined;
}): { policyArns: string[]; boundary: boolean } {
  const managed = isToolManaged(role.tags);
  const record = readRoleRecord(role.tags);
  // No attachment list: an older version's role (unknown, so not the tool's, as the plan reads it), or
  // one this version created and stopped before recording its attachments (the tool's).
  const finishingCreate = record.trust.known && !record.attached.known;
  return {
    policyArns: role.attachedPolicyArns.filter(
      (arn) => !managed || (!finishingCreate && attachedByTool(record, arn) !== true),
    ),
    boundary:
      role.permissionsBoundaryArn !== undefined &&
      (!managed || !record.boundary.known || record.boundary.value === undefined),
  };
}

/** Provenance of the tool-managed policy's current default document. */
export function policyProvenance(tags: Tags, document: PolicyDocument): FieldProvenance {
  const recorded = tags[RECORD_TAGS.document];
  if (!recorded) return 'unknown';
  return recorded === policyDigest(document) ? 'as-written' : 'drifted';
}
