import { describe, expect, it } from 'vitest';
import {
  attachedByTool,
  hasFullRecord,
  policyDigest,
  policyProvenance,
  policyRecordTags,
  RECORD_TAGS,
  readRoleRecord,
  roleProvenance,
  roleRecordTags,
  unfinishedCreationTags,
} from '../../src/core/ownership.js';
import type { PolicyDocument, PolicyStatement } from '../../src/core/types.js';

const trust: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'sts:AssumeRoleWithWebIdentity', Principal: { Federated: 'arn:p' } },
  ],
};
const written = {
  trustPolicy: trust,
  maxSessionDuration: 3600,
  permissionsBoundaryArn: undefined,
  attachedByTool: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
  description: 'd',
};

describe('ownership record', () => {
  it('fits IAM tag values: at most 256 allowed characters each', () => {
    const many = Array.from({ length: 20 }, (_, i) => `arn:aws:iam::123456789012:policy/p${i}`);
    const tags = roleRecordTags({ ...written, attachedByTool: many, permissionsBoundaryArn: 'arn:b' });
    for (const value of Object.values(tags)) {
      expect(value.length).toBeLessThanOrEqual(256);
      expect(value).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
    }
  });

  it('reads back as-written for the same state, whatever the key order or scalar-vs-list form', () => {
    const record = readRoleRecord(roleRecordTags(written));
    expect(hasFullRecord(record)).toBe(true);
    const reordered = {
      Statement: {
        Principal: { Federated: ['arn:p'] },
        Action: 'STS:AssumeRoleWithWebIdentity',
        Effect: 'Allow',
      },
      Version: '2012-10-17',
    } as unknown as PolicyDocument;
    expect(
      roleProvenance(record, { trustPolicy: reordered, maxSessionDuration: 3600, description: 'd' }),
    ).toEqual({
      trust: 'as-written',
      session: 'as-written',
      boundary: 'as-written',
      description: 'as-written',
    });
  });

  it('sees each field changed outside the tool as drifted', () => {
    const record = readRoleRecord(roleRecordTags(written));
    const hand = {
      ...trust,
      Statement: [
        {
          ...(trust.Statement as PolicyStatement[])[0]!,
          Condition: { StringEquals: { 'gitlab.com:ref_protected': 'true' } },
        },
      ],
    } as PolicyDocument;
    expect(
      roleProvenance(record, {
        trustPolicy: hand,
        maxSessionDuration: 7200,
        permissionsBoundaryArn: 'arn:aws:iam::1:policy/b',
        description: 'other',
      }),
    ).toEqual({ trust: 'drifted', session: 'drifted', boundary: 'drifted', description: 'drifted' });
  });

  it('knows which attachments the tool made, and says unknown without a record', () => {
    const record = readRoleRecord(roleRecordTags(written));
    expect(attachedByTool(record, 'arn:aws:iam::aws:policy/ReadOnlyAccess')).toBe(true);
    expect(attachedByTool(record, 'arn:aws:iam::aws:policy/AdministratorAccess')).toBe(false);
    const legacy = readRoleRecord({ 'managed-by': 'gitlab-aws-oidc' });
    expect(hasFullRecord(legacy)).toBe(false);
    expect(attachedByTool(legacy, 'arn:aws:iam::aws:policy/ReadOnlyAccess')).toBeUndefined();
    expect(roleProvenance(legacy, { trustPolicy: trust, maxSessionDuration: 3600 }).trust).toBe('unknown');
  });

  it('an unfinished creation: what was attached, and the approved attachments still to make (+digest)', () => {
    const RO = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
    const TOOL = 'arn:aws:iam::123456789012:policy/gitlab-oidc/p';
    const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
    const tags = unfinishedCreationTags([RO, TOOL], [RO]);
    expect(Object.keys(tags)).toEqual([RECORD_TAGS.attached]);
    expect(tags[RECORD_TAGS.attached]).toMatch(/^[\w-]{10} \+[\w-]{10}$/);
    expect(tags[RECORD_TAGS.attached]).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
    const record = readRoleRecord({ ...roleRecordTags(written), ...tags });
    expect(record.attached.known && [...record.attached.value]).toHaveLength(1);
    expect([...record.pending]).toHaveLength(1);
    // Both were approved for the tool to attach (the pending one may have landed as the run stopped).
    expect(attachedByTool(record, RO)).toBe(true);
    expect(attachedByTool(record, TOOL)).toBe(true);
    expect(attachedByTool(record, ADMIN)).toBe(false);
    // Nothing attached yet: only pending digests; a full record has none pending.
    const none = readRoleRecord(unfinishedCreationTags([RO], []));
    expect(none.attached.known && none.attached.value.size).toBe(0);
    expect(none.pending.size).toBe(1);
    expect(readRoleRecord(roleRecordTags(written)).pending.size).toBe(0);
  });

  it('treats malformed record values as unknown, never as a match', () => {
    const record = readRoleRecord({ [RECORD_TAGS.session]: 'abc' });
    expect(record.session.known).toBe(false);
  });

  it('records the tool-managed policy document', () => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
    };
    const tags = policyRecordTags(doc);
    expect(policyProvenance(tags, doc)).toBe('as-written');
    expect(
      policyProvenance(tags, { ...doc, Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
    ).toBe('drifted');
    expect(policyProvenance({}, doc)).toBe('unknown');
    expect(policyDigest(doc)).toHaveLength(22);
  });
});
