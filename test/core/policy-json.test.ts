import { describe, expect, it } from 'vitest';
import {
  formatPolicy,
  normalizePolicy,
  parsePolicyJson,
  policiesEqual,
  policyDiff,
  policySize,
} from '../../src/core/policy-json.js';
import { UsageError } from '../../src/errors.js';

const doc = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: 'arn:aws:s3:::b/*',
      Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' }, Bool: { 'aws:SecureTransport': true } },
    },
  ],
};

describe('policiesEqual', () => {
  it.each([
    ['same object', doc],
    ['a JSON string', JSON.stringify(doc)],
    ['a URL-encoded string (as IAM returns it)', encodeURIComponent(JSON.stringify(doc))],
    [
      'reordered keys and lists, scalar statement, boolean as string, action case',
      {
        Statement: {
          Condition: {
            Bool: { 'aws:securetransport': 'true' },
            StringEquals: { 'aws:SourceVpc': ['vpc-1'] },
          },
          Resource: ['arn:aws:s3:::b/*'],
          Action: ['S3:PutObject', 's3:getobject', 's3:GetObject'],
          Effect: 'Allow',
        },
        Version: '2012-10-17',
      },
    ],
  ])('equal: %s', (_, other) => {
    expect(policiesEqual(doc, other)).toBe(true);
  });

  it.each([
    ['another resource', { ...doc, Statement: [{ ...doc.Statement[0], Resource: 'arn:aws:s3:::c/*' }] }],
    [
      'a condition value of another case',
      {
        ...doc,
        Statement: [
          {
            ...doc.Statement[0],
            Condition: { ...doc.Statement[0]!.Condition, StringEquals: { 'aws:SourceVpc': 'VPC-1' } },
          },
        ],
      },
    ],
    ['the default Version (2008-10-17) vs 2012-10-17', { Statement: doc.Statement }],
    [
      'an extra statement',
      { ...doc, Statement: [...doc.Statement, { Effect: 'Deny', Action: '*', Resource: '*' }] },
    ],
  ])('different: %s', (_, other) => {
    expect(policiesEqual(doc, other)).toBe(false);
  });

  it('statement order does not matter', () => {
    const a = { Effect: 'Allow', Action: 'a:b', Resource: '*' };
    const b = { Effect: 'Deny', Action: 'c:d', Resource: '*' };
    expect(
      policiesEqual(
        { Version: '2012-10-17', Statement: [a, b] },
        { Version: '2012-10-17', Statement: [b, a] },
      ),
    ).toBe(true);
  });

  it('normal form collapses lists and stringifies scalars', () => {
    expect(
      normalizePolicy({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['X:Y'], Resource: ['*'] }],
      }),
    ).toEqual({
      Statement: { Action: 'x:y', Effect: 'Allow', Resource: '*' },
      Version: '2012-10-17',
    });
  });
});

describe('parsePolicyJson', () => {
  it('parses an object (BOM tolerated)', () => {
    expect(parsePolicyJson('\uFEFF{"Version":"2012-10-17"}', '--policy-file')).toEqual({
      Version: '2012-10-17',
    });
  });

  it.each([
    ['{"Version": }', /is not valid JSON/],
    ['', /is not valid JSON/],
    ['[1,2]', /must be a JSON object/],
    ['"text"', /must be a JSON object/],
    ['null', /must be a JSON object/],
  ])('rejects %j naming the field', (text, message) => {
    let caught: unknown;
    try {
      parsePolicyJson(text, '--policy-file');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as UsageError).issues[0]).toEqual({
      field: '--policy-file',
      message: expect.stringMatching(message),
    });
  });
});

describe('policyDiff', () => {
  it('is empty for equal documents', () => {
    expect(policyDiff(doc, JSON.stringify(doc))).toEqual([]);
  });

  it('marks every line added when there is no before', () => {
    const lines = policyDiff(undefined, doc);
    expect(lines.length).toBe(formatPolicy(doc).split('\n').length);
    expect(lines.every((l) => l.startsWith('+ '))).toBe(true);
  });

  it('shows removed and added lines around unchanged context', () => {
    const after = { ...doc, Statement: [{ ...doc.Statement[0], Resource: 'arn:aws:s3:::c/*' }] };
    const lines = policyDiff(doc, after);
    expect(lines.filter((l) => !l.startsWith('  '))).toEqual([
      '-     "Resource": "arn:aws:s3:::b/*"',
      '+     "Resource": "arn:aws:s3:::c/*"',
    ]);
    expect(lines).toContain('  {');
    expect(lines.length).toBe(formatPolicy(doc).split('\n').length + 1);
  });
});

describe('policySize', () => {
  it('ignores whitespace', () => {
    expect(policySize(JSON.stringify(doc, null, 4))).toBe(JSON.stringify(doc).length);
    expect(policySize(doc)).toBe(JSON.stringify(doc).length);
  });
});
