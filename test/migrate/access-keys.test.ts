import { describe, expect, it } from 'vitest';
import {
  accessKeyKind,
  findAccessKeyIds,
  isAccessKeyId,
  maskAccessKeyId,
  maskAccessKeyIdsIn,
} from '../../src/core/access-keys.js';
import { ancestorGroups } from '../../src/migrate/select.js';
import { accessKeyAccount, makeAccessKeyId } from '../helpers/fake-aws-iam.js';

describe('access key IDs', () => {
  it('recognises AKIA/ASIA + 16 base32 characters only', () => {
    expect(isAccessKeyId('AKIAIOSFODNN7EXAMPLE')).toBe(true);
    expect(isAccessKeyId('ASIAY34FZKBOKMUTVV7A')).toBe(true);
    expect(isAccessKeyId('AKIAIOSFODNN7EXAMPL')).toBe(false); // 15
    expect(isAccessKeyId('AKIAIOSFODNN7EXAMPL1')).toBe(false); // 1 is not base32
    expect(isAccessKeyId('AIDAIOSFODNN7EXAMPLE')).toBe(false); // a user ID
    expect(isAccessKeyId(' AKIAIOSFODNN7EXAMPLE')).toBe(false);
  });

  it('finds IDs inside a value (a credentials file), once each, not inside longer words', () => {
    const file =
      'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\nother=AKIAIOSFODNN7EXAMPLE\nXAKIAIOSFODNN7EXAMPLE';
    expect(findAccessKeyIds(file)).toEqual(['AKIAIOSFODNN7EXAMPLE']);
    expect(findAccessKeyIds('$AWS_KEY')).toEqual([]);
  });

  it('masks to the prefix and the last four, in text too', () => {
    expect(maskAccessKeyId('AKIAIOSFODNN7EXAMPLE')).toBe('AKIA…MPLE');
    expect(maskAccessKeyIdsIn('The Access Key with id AKIAIOSFODNN7EXAMPLE cannot be found.')).toBe(
      'The Access Key with id AKIA…MPLE cannot be found.',
    );
    expect(accessKeyKind('ASIAY34FZKBOKMUTVV7A')).toBe('temporary');
    expect(accessKeyKind('AKIAIOSFODNN7EXAMPLE')).toBe('long-lived');
  });

  it('the fake names the account a key ID encodes, as sts:GetAccessKeyInfo does', () => {
    // A published example: ASIAY34FZKBOKMUTVV7A belongs to account 609629065308.
    expect(accessKeyAccount('ASIAY34FZKBOKMUTVV7A')).toBe('609629065308');
    for (const account of ['123456789012', '210987654321', '000000000001']) {
      const id = makeAccessKeyId(account);
      expect(isAccessKeyId(id)).toBe(true);
      expect(accessKeyAccount(id)).toBe(account);
    }
    expect(maskAccessKeyId(makeAccessKeyId('123456789012'))).not.toBe(
      maskAccessKeyId(makeAccessKeyId('123456789012')),
    );
  });

  it('ancestor groups, nearest first', () => {
    expect(ancestorGroups('a/b/c')).toEqual(['a/b/c', 'a/b', 'a']);
    expect(ancestorGroups('a')).toEqual(['a']);
  });
});
