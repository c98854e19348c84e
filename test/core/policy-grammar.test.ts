import { describe, expect, it } from 'vitest';
import { findMalformations } from '../../src/core/policy-grammar.js';
import { allowWebIdentity as allow, policyDoc as doc, MAIN_SUB } from './fixtures.js';

describe('findMalformations: what IAM refuses to store as a trust policy', () => {
  it('a well-formed trust policy (with or without Version) has none', () => {
    expect(findMalformations(doc(allow({ StringEquals: { 'gitlab.com:sub': MAIN_SUB } })))).toEqual([]);
    expect(findMalformations({ Statement: allow(undefined) })).toEqual([]);
  });

  it.each([
    [{ ...allow(undefined), Effect: 'DENY' }, 'Effect', /"DENY" is not "Allow" or "Deny"/],
    [{ ...allow(undefined), Action: undefined }, 'Action', /no Action/],
    [{ ...allow(undefined), NotAction: 'sts:AssumeRole' }, 'Action', /both Action and NotAction/],
    [{ ...allow(undefined), Principal: undefined }, 'Principal', /no Principal/],
    [{ ...allow(undefined), Resource: '*' }, 'Resource', /Resource element/],
    [{ ...allow(undefined), Principal: 'arn:aws:iam::1:root' }, 'Principal', /neither "\*" nor a map/],
    [
      { ...allow(undefined), Principal: { federated: 'x' } },
      'Principal',
      /"federated" is not a principal type/,
    ],
    [
      allow({ StringEqualsIfexists: { 'gitlab.com:sub': MAIN_SUB } } as never),
      'Condition',
      /StringEqualsIfexists/,
    ],
    [
      allow({ StringEquals: { 'gitlab.com:sub': { a: 1 } } } as never),
      'Condition',
      /not a string, number, boolean/,
    ],
    [allow({ StringEquals: ['gitlab.com:sub'] } as never), 'Condition', /does not map condition keys/],
  ])('%j → %s', (statement, element, message) => {
    const found = findMalformations(doc(statement as never));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ statement: 0, element });
    expect(found[0]?.message).toMatch(message);
  });

  it('checks the document itself', () => {
    expect(findMalformations(null)).toMatchObject([{ element: 'Policy' }]);
    expect(findMalformations({ Version: '2012-10-17' })).toMatchObject([{ element: 'Statement' }]);
    expect(findMalformations({ Version: '2012-10-18', Statement: allow(undefined) })).toMatchObject([
      { element: 'Version' },
    ]);
  });
});
