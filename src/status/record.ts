/**
 * A role (and its tool-managed policy) against the record of what gitlab-aws-oidc last wrote
 * (core/ownership): per field, whether it is as written, changed outside the tool, or unknown (no
 * record), with the values status can show. Pure.
 *
 * The record keeps digests, so a value is shown as "last written" only when it is recorded in clear
 * (MaxSessionDuration, "no boundary") or can be rebuilt and checked against the digest (the trust
 * policy, see `recoverWrittenTrust`).
 */
import { formatHours } from '../core/duration.js';
import {
  arnDigest,
  attachedByTool,
  type FieldProvenance,
  policyDigest,
  policyProvenance,
  readRoleRecord,
  roleProvenance,
} from '../core/ownership.js';
import { buildTrustPolicy } from '../core/trust-policy.js';
import type { ManagedPolicyState, OidcProviderState, PolicyDocument, RoleState } from '../core/types.js';
import { changedLines, type DriftItem, recoverWrittenTrust, trustInputsOf } from './drift.js';

/** How much of the record the role carries: `none` for a role made by a version that kept none. */
export type RecordState = 'complete' | 'partial' | 'none';

export type AttachmentOrigin = 'tool' | 'outside' | 'missing' | 'unknown';

export interface FieldStatus {
  field:
    | 'trustPolicy'
    | 'maxSessionDuration'
    | 'permissionsBoundaryArn'
    | 'description'
    | 'managedPolicyArns'
    | 'policyDocument';
  provenance: FieldProvenance;
  /** The value now; `null` for "none" (no boundary). */
  current?: unknown;
  /** What the tool last wrote, when known in clear (`null`: it set none). Absent: only a digest, or no record. */
  lastWritten?: unknown;
  /** What `init` writes for the role's declared project, refs and pins (trust policy only). */
  initWouldWrite?: unknown;
  /** managedPolicyArns: each ARN, attached now or recorded as attached by the tool. */
  attachments?: { arn: string; origin: AttachmentOrigin }[] | undefined;
  /** managedPolicyArns: policies the tool attached that are gone but whose ARN only the digest knows. */
  missingUnnamed?: number | undefined;
  /** policyDocument: which policy. */
  policyArn?: string | undefined;
}

export interface RecordInput {
  role: RoleState;
  /** The provider the role trusts, when it exists (to rebuild the trust policy). */
  provider?: OidcProviderState | undefined;
  project?: string | undefined;
  /** Tool-managed policies of the role's project (attached or not): document provenance, missing ARNs. */
  toolPolicies: ManagedPolicyState[];
}

export interface RecordReport {
  record: RecordState;
  fields: FieldStatus[];
  drift: DriftItem[];
}

const FIELD_LABEL: Record<FieldStatus['field'], string> = {
  trustPolicy: 'trust policy',
  maxSessionDuration: 'MaxSessionDuration',
  permissionsBoundaryArn: 'permissions boundary',
  description: 'description',
  managedPolicyArns: 'attached policies',
  policyDocument: 'permission policy document',
};

/** The names of the fields a role has no record for (for "no record of: …"). */
export function unrecordedFields(fields: FieldStatus[]): string[] {
  return fields.filter((f) => f.provenance === 'unknown').map((f) => FIELD_LABEL[f.field]);
}

function trustStatus(input: RecordInput, provenance: FieldProvenance, digest: string | undefined) {
  const { role, provider, project } = input;
  const field: FieldStatus = { field: 'trustPolicy', provenance, current: role.trustPolicy };
  const inputs = provider && project ? trustInputsOf(role, provider, project) : undefined;
  let expected: PolicyDocument | undefined;
  if (inputs) {
    try {
      expected = buildTrustPolicy(inputs).policy;
      field.initWouldWrite = expected;
    } catch {
      // detectDrift reports why init could not write it.
    }
  }
  if (provenance === 'as-written' || provenance === 'unknown') return { field };
  const written =
    inputs && digest !== undefined
      ? recoverWrittenTrust(inputs, (doc) => policyDigest(doc) === digest)
      : undefined;
  if (written) {
    field.lastWritten = written;
    return {
      field,
      item: {
        what: 'trust-policy',
        message:
          'The trust policy was changed outside gitlab-aws-oidc since it wrote it (- now, + as it wrote it):',
        diff: changedLines(role.trustPolicy, written),
      } satisfies DriftItem,
    };
  }
  const sameForm = expected !== undefined && policyDigest(expected) === policyDigest(role.trustPolicy);
  return {
    field,
    item: {
      what: 'trust-policy',
      message: sameForm
        ? 'The trust policy was changed outside gitlab-aws-oidc since it wrote it, in the form init writes (a ref or pin added or changed by hand: see "trusts" above); init writes what its flags ask for.'
        : 'The trust policy was changed outside gitlab-aws-oidc since it wrote it.',
    } satisfies DriftItem,
  };
}

function attachmentStatus(input: RecordInput, record: ReturnType<typeof readRoleRecord>) {
  const { role } = input;
  if (!record.attached.known) {
    const attachments = role.attachedPolicyArns.map((arn) => ({ arn, origin: 'unknown' as const }));
    return {
      field: {
        field: 'managedPolicyArns',
        provenance: 'unknown',
        current: role.attachedPolicyArns,
        attachments,
      } satisfies FieldStatus,
    };
  }
  const attachments: { arn: string; origin: AttachmentOrigin }[] = role.attachedPolicyArns.map((arn) => ({
    arn,
    origin: attachedByTool(record, arn) ? 'tool' : 'outside',
  }));
  const present = new Set(role.attachedPolicyArns.map(arnDigest));
  const gone = [...record.attached.value].filter((d) => !present.has(d));
  const named = new Map(input.toolPolicies.map((p) => [arnDigest(p.arn), p.arn]));
  for (const d of gone) {
    const arn = named.get(d);
    if (arn) attachments.push({ arn, origin: 'missing' });
  }
  const missingUnnamed = gone.filter((d) => !named.has(d)).length;
  const changed = attachments.filter((a) => a.origin === 'outside' || a.origin === 'missing');
  const drifted = changed.length > 0 || missingUnnamed > 0;
  const field: FieldStatus = {
    field: 'managedPolicyArns',
    provenance: drifted ? 'drifted' : 'as-written',
    current: role.attachedPolicyArns,
    attachments,
    ...(missingUnnamed ? { missingUnnamed } : {}),
  };
  if (!drifted) return { field };
  const details = changed.map((a) =>
    a.origin === 'outside'
      ? `+ ${a.arn}  attached outside the tool`
      : `- ${a.arn}  attached by the tool, now missing`,
  );
  if (missingUnnamed)
    details.push(
      `- ${missingUnnamed} more polic${missingUnnamed === 1 ? 'y' : 'ies'} attached by the tool, now missing (the record keeps a digest, not the ARN)`,
    );
  return {
    field,
    item: {
      what: 'attachment',
      message: 'Managed policies changed outside gitlab-aws-oidc since it attached them:',
      details,
    } satisfies DriftItem,
  };
}

/** Compares the role (and its tool-managed policies) with the record in their tags. */
export function compareWithRecord(input: RecordInput): RecordReport {
  const { role } = input;
  const record = readRoleRecord(role.tags);
  const provenance = roleProvenance(record, role);
  const fields: FieldStatus[] = [];
  const drift: DriftItem[] = [];
  const add = (r: { field: FieldStatus; item?: DriftItem }) => {
    fields.push(r.field);
    if (r.item) drift.push(r.item);
  };

  add(trustStatus(input, provenance.trust, record.trust.known ? record.trust.value : undefined));

  const session: FieldStatus = {
    field: 'maxSessionDuration',
    provenance: provenance.session,
    current: role.maxSessionDuration,
    ...(record.session.known ? { lastWritten: record.session.value } : {}),
  };
  add({
    field: session,
    ...(provenance.session === 'drifted' && record.session.known
      ? {
          item: {
            what: 'max-session-duration',
            message: `MaxSessionDuration is ${role.maxSessionDuration} s (${formatHours(role.maxSessionDuration)}); gitlab-aws-oidc set ${record.session.value} s (${formatHours(record.session.value)}).`,
          },
        }
      : {}),
  });

  const boundaryNow = role.permissionsBoundaryArn;
  const boundary: FieldStatus = {
    field: 'permissionsBoundaryArn',
    provenance: provenance.boundary,
    current: boundaryNow ?? null,
    ...(record.boundary.known && record.boundary.value === undefined ? { lastWritten: null } : {}),
  };
  let boundaryMessage: string | undefined;
  if (provenance.boundary === 'drifted' && record.boundary.known) {
    if (record.boundary.value === undefined)
      boundaryMessage = `Permissions boundary ${boundaryNow} was set outside gitlab-aws-oidc (it set none).`;
    else if (boundaryNow === undefined)
      boundaryMessage = 'Permissions boundary removed outside gitlab-aws-oidc (it had set one).';
    else
      boundaryMessage = `Permissions boundary is now ${boundaryNow}, changed since gitlab-aws-oidc set it.`;
  }
  add({
    field: boundary,
    ...(boundaryMessage ? { item: { what: 'boundary', message: boundaryMessage } } : {}),
  });

  add(attachmentStatus(input, record));

  add({
    field: { field: 'description', provenance: provenance.description, current: role.description ?? '' },
    ...(provenance.description === 'drifted'
      ? {
          item: {
            what: 'description',
            message: `The description is now "${role.description ?? ''}", changed since gitlab-aws-oidc set it.`,
          },
        }
      : {}),
  });

  for (const policy of input.toolPolicies.filter((p) => role.attachedPolicyArns.includes(p.arn))) {
    const p = policyProvenance(policy.tags, policy.document);
    add({
      field: { field: 'policyDocument', provenance: p, policyArn: policy.arn, current: policy.document },
      ...(p === 'drifted'
        ? {
            item: {
              what: 'policy-document',
              message: `The permission policy ${policy.name} (default version ${policy.defaultVersionId}) was changed outside gitlab-aws-oidc since it wrote it.`,
            },
          }
        : {}),
    });
  }

  const known = fields.filter((f) => f.provenance !== 'unknown').length;
  const state: RecordState = known === 0 ? 'none' : known === fields.length ? 'complete' : 'partial';
  return { record: state, fields, drift };
}
