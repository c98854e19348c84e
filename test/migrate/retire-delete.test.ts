import { describe, expect, it } from 'vitest';
import { planDeleteKeys, type TaggedUser } from '../../src/migrate/retire-delete.js';

const KEY = 'AKIAIOSFODNN7EXAMPLE';
const TWIN = 'AKIAJOSFODNN7EXAMPLE';
const tag = (id: string) => `gitlab-aws-oidc:deactivated:${id.slice(-8)}`;
const at = '2026-11-15T00:00:00.000Z';
const user = (extra: Partial<TaggedUser> = {}): TaggedUser => ({
  userName: 'bot',
  tags: { [tag(KEY)]: at, team: 'x' },
  keys: [{ accessKeyId: KEY, status: 'Inactive', lastUsed: new Date('2026-11-01T00:00:00Z') }],
  ...extra,
});

describe('planDeleteKeys', () => {
  it('a recorded, Inactive key unused since: delete it, then the record; other tags are not records', () => {
    const [d, ...rest] = planDeleteKeys([user()], new Set());
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ masked: 'AKIA…MPLE', delete: true, deactivatedAt: at, reasons: [] });
    expect(d!.steps).toEqual([
      { kind: 'deleteKey', userName: 'bot', accessKeyId: KEY },
      { kind: 'untagUser', userName: 'bot', tagKey: tag(KEY) },
    ]);
  });

  it('kept, each with its reason: named in GitLab, not a date, two keys with the recorded ending, last use unknown', () => {
    expect(planDeleteKeys([user()], new Set([KEY]))[0]!.reasons).toEqual([
      'CI/CD variables still name it: --retire deletes them first',
    ]);
    expect(planDeleteKeys([user({ tags: { [tag(KEY)]: 'yesterday' } })], new Set())[0]!.reasons).toEqual([
      'the record\'s date "yesterday" is not a date',
    ]);
    const twins = user({
      keys: [
        { accessKeyId: KEY, status: 'Inactive' },
        { accessKeyId: TWIN, status: 'Inactive' },
      ],
    });
    expect(planDeleteKeys([twins], new Set())[0]).toMatchObject({
      delete: false,
      reasons: ['2 keys of the user end with the recorded characters'],
    });
    const unknown = user({ keys: [{ accessKeyId: KEY, status: 'Inactive', lastUsed: 'unknown' }] });
    expect(planDeleteKeys([unknown], new Set())[0]!.reasons).toEqual([
      'its last use could not be read (iam:GetAccessKeyLastUsed)',
    ]);
  });
});
