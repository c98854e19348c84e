import { describe, expect, it } from 'vitest';
import { planRetire, type RetireKeyInput, type ToolRole } from '../../src/migrate/retire-plan.js';

const KEY = 'AKIAIOSFODNN7EXAMPLE';
const now = new Date('2026-12-01T12:00:00Z');
const created = new Date('2026-11-01T00:00:00Z');
const role = (project: string, lastUsed?: string): ToolRole => ({
  name: `gitlab-${project.replace('/', '-')}`,
  project,
  createDate: created,
  lastUsed: lastUsed ? new Date(lastUsed) : undefined,
});
const input = (extra: Partial<RetireKeyInput> = {}): RetireKeyInput => ({
  accessKeyId: KEY,
  masked: 'AKIA…MPLE',
  owner: { kind: 'user', userName: 'deploy-bot', status: 'Active' },
  lastUsed: new Date('2026-10-30T00:00:00Z'),
  projects: ['g/a'],
  idVariables: [{ key: 'AWS_ACCESS_KEY_ID', source: 'project', path: 'g/a', environmentScope: '*' }],
  secretVariables: [{ key: 'AWS_SECRET_ACCESS_KEY', source: 'project', path: 'g/a', environmentScope: '*' }],
  ...extra,
});
const ctx = { now, coveredGroups: [] as string[] };

describe('planRetire', () => {
  it('a proven switch: tag the user, deactivate, delete the secret, then the key ID variable', () => {
    const [d] = planRetire([input()], [role('g/a', '2026-11-02T00:00:00Z')], ctx);
    expect(d).toMatchObject({ retire: true, reasons: [] });
    expect(d!.steps.map((s) => s.kind)).toEqual([
      'tagUser',
      'deactivateKey',
      'deleteVariable',
      'deleteVariable',
    ]);
    expect(d!.steps[0]).toEqual({
      kind: 'tagUser',
      userName: 'deploy-bot',
      tagKey: `gitlab-aws-oidc:deactivated:${KEY.slice(-8)}`,
      tagValue: now.toISOString(),
    });
    expect(d!.steps.slice(2).map((s) => s.kind === 'deleteVariable' && s.variable.key)).toEqual([
      'AWS_SECRET_ACCESS_KEY',
      'AWS_ACCESS_KEY_ID',
    ]);
  });

  it('a key already deactivated (a re-run after a failure) only has its variables left to delete', () => {
    const [d] = planRetire(
      [input({ owner: { kind: 'user', userName: 'deploy-bot', status: 'Inactive' } })],
      [role('g/a', '2026-11-02T00:00:00Z')],
      ctx,
    );
    expect(d!.steps.map((s) => s.kind)).toEqual(['deleteVariable', 'deleteVariable']);
  });

  it('never touched, with the reason: not switched, role unused, used after the switch, another account, no role', () => {
    const shared = input({ projects: ['g/a', 'g/b'] });
    const decisions = planRetire(
      [
        shared,
        input({ lastUsed: new Date('2026-11-03T00:00:00Z') }),
        // Used while the merge request was open (after the role was made), not since the role's use.
        input({ lastUsed: new Date('2026-11-01T12:00:00Z') }),
        input({ owner: { kind: 'other-account', account: '210987654321' } }),
        input({ owner: { kind: 'not-found' } }),
      ],
      [role('g/a', '2026-11-02T00:00:00Z'), role('g/b')],
      ctx,
    );
    expect(decisions.map((d) => [d.retire, d.reasons, d.steps])).toEqual([
      [
        false,
        [
          'role gitlab-g-b of g/b has not been used since it was created (2026-11-01): the switch is not proven',
        ],
        [],
      ],
      [false, ["still used: last on 2026-11-03, not before the role's last use on 2026-11-02"], []],
      [true, [], expect.any(Array)],
      [false, ['a key of account 210987654321: retire it there'], []],
      [false, ['no IAM user of this account holds it (deleted, or not readable)'], []],
    ]);
    const [none] = planRetire([input()], [], ctx);
    expect(none!.reasons).toEqual(['g/a has no role made by gitlab-aws-oidc (run init for it first)']);
  });

  it('a key named by a group variable is retired only when the run covered the whole group (other projects get it too)', () => {
    const groupVar = {
      key: 'AWS_ACCESS_KEY_ID',
      source: 'group' as const,
      path: 'g/sub',
      environmentScope: '*',
    };
    const key = input({ idVariables: [groupVar], secretVariables: [], projects: ['g/sub/a'] });
    const roles = [role('g/sub/a', '2026-11-02T00:00:00Z')];
    const [partial] = planRetire([key], roles, ctx);
    expect(partial).toMatchObject({ retire: false, steps: [] });
    expect(partial!.reasons).toEqual([
      'a variable of group g/sub names it, and this run did not read every project of g/sub: other projects may get the key (select the whole group: --group g/sub, no --include/--exclude)',
    ]);
    const [covered] = planRetire([key], roles, { now, coveredGroups: ['g'] });
    expect(covered!.steps.map((s) => s.kind)).toEqual(['tagUser', 'deactivateKey', 'deleteVariable']);
  });

  it("a role found by its default name when it has no project tag; the latest used of a project's roles counts; an unreadable last use keeps the key", () => {
    const untagged: ToolRole = { ...role('g/a', '2026-11-02T00:00:00Z'), project: undefined };
    expect(planRetire([input()], [untagged], ctx)[0]).toMatchObject({ retire: true });
    const renamed: ToolRole = { ...untagged, name: 'custom-name' };
    expect(planRetire([input()], [renamed], ctx)[0]!.reasons).toEqual([
      'g/a has no role made by gitlab-aws-oidc (run init for it first)',
    ]);
    const two = [role('g/a'), { ...role('g/a', '2026-11-02T00:00:00Z'), name: 'gitlab-g-a-prod' }];
    expect(planRetire([input()], two, ctx)[0]).toMatchObject({ retire: true });
    expect(planRetire([input({ lastUsedUnknown: true })], two, ctx)[0]!.reasons).toEqual([
      'its last use could not be read (iam:GetAccessKeyLastUsed)',
    ]);
  });
});
