import { describe, expect, it } from 'vitest';
import type { CiVariable } from '../../src/gitlab/api/ports.js';
import { findCredentialVariables } from '../../src/migrate/variables.js';

const v = (key: string, value: string | undefined, extra: Partial<CiVariable> = {}): CiVariable => ({
  key,
  value,
  variableType: 'env_var',
  protected: false,
  masked: false,
  hidden: value === undefined,
  raw: false,
  environmentScope: '*',
  ...extra,
});
const KEY = 'AKIAIOSFODNN7EXAMPLE';
const OTHER = 'AKIAI44QH8DHBEXAMPLE'.replace('8', 'Z');

describe('findCredentialVariables', () => {
  it('project over nearest group over parent; scopes: * shadows all, a scope shadows the same scope only', () => {
    const found = findCredentialVariables([
      {
        source: 'project',
        path: 'g/s/p',
        variables: [v('AWS_ACCESS_KEY_ID', KEY, { environmentScope: 'production' })],
      },
      {
        source: 'group',
        path: 'g/s',
        variables: [v('AWS_ACCESS_KEY_ID', OTHER, { environmentScope: 'production' })],
      },
      {
        source: 'group',
        path: 'g',
        variables: [v('AWS_ACCESS_KEY_ID', OTHER), v('AWS_SESSION_TOKEN', 'tok')],
      },
    ]);
    expect(found.map((f) => [f.path, f.environmentScope, f.inEffect, f.shadowedBy])).toEqual([
      ['g/s/p', 'production', true, undefined],
      ['g/s', 'production', false, 'project variable'],
      // `*` at the top still reaches jobs outside production.
      ['g', '*', true, undefined],
      ['g', '*', true, undefined],
    ]);
    const all = findCredentialVariables([
      { source: 'project', path: 'g/p', variables: [v('AWS_ACCESS_KEY_ID', KEY)] },
      {
        source: 'group',
        path: 'g',
        variables: [v('AWS_ACCESS_KEY_ID', OTHER, { environmentScope: 'staging' })],
      },
    ]);
    expect(all[1]).toMatchObject({ inEffect: false, shadowedBy: 'project variable' });
  });

  it('classifies: key IDs, secrets never scanned, hidden by name, a reference is no key ID, others ignored', () => {
    const found = findCredentialVariables([
      {
        source: 'project',
        path: 'g/p',
        variables: [
          v('AWS_ACCESS_KEY_ID', '$VAULT_KEY'),
          v('AWS_SECRET_ACCESS_KEY', `x${KEY}x`),
          v('AWS_SESSION_TOKEN', undefined),
          v('LEGACY_KEY', ` ${KEY} `),
          v('PLAIN', 'hello'),
        ],
      },
      { source: 'group', path: 'g', variables: undefined },
    ]);
    expect(found.map((f) => [f.key, f.kind, f.value, f.keyIds])).toEqual([
      ['AWS_ACCESS_KEY_ID', 'access-key-id', 'not-a-key-id', []],
      ['AWS_SECRET_ACCESS_KEY', 'secret-access-key', 'secret', []],
      ['AWS_SESSION_TOKEN', 'session-token', 'hidden', []],
      ['LEGACY_KEY', 'holds-key-id', 'key-id', [KEY]],
    ]);
  });
});
