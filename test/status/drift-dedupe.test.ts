/** `notSaidByRecord`: a drift item is dropped only when the record says the same thing, for the same policy. */
import { describe, expect, it } from 'vitest';
import { type DriftItem, notSaidByRecord } from '../../src/status/drift.js';

const arn = (name: string) => `arn:aws:iam::123456789012:policy/gitlab-oidc/${name}`;
const detachedItem = (name: string): DriftItem => ({
  what: 'policy',
  message: `The tool-managed policy ${arn(name)} exists but is not attached to the role.`,
  policyArn: arn(name),
});

describe('notSaidByRecord', () => {
  it('drops the detached-policy item the record already reports as a missing attachment', () => {
    const items = [detachedItem('foo')];
    expect(notSaidByRecord(items, { missingPolicyArns: new Set([arn('foo')]), trustWritten: false })).toEqual(
      [],
    );
  });

  it('keeps the item about policy foo-bar when only policy foo is missing (not a substring match)', () => {
    const items = [detachedItem('foo-bar')];
    expect(notSaidByRecord(items, { missingPolicyArns: new Set([arn('foo')]), trustWritten: false })).toEqual(
      items,
    );
  });

  it('drops a trust diff only when the record shows the trust policy as written', () => {
    const trust: DriftItem = { what: 'trust-policy', message: 'differs', diff: ['- a', '+ b'] };
    expect(notSaidByRecord([trust], { missingPolicyArns: new Set(), trustWritten: true })).toEqual([]);
    expect(notSaidByRecord([trust], { missingPolicyArns: new Set(), trustWritten: false })).toEqual([trust]);
  });
});
