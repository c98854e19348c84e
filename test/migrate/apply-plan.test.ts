import { describe, expect, it } from 'vitest';
import { planMigrations, userPermissionsOf } from '../../src/migrate/apply-plan.js';
import type {
  KeyOwner,
  MigrateFindReport,
  ReportedProject,
  ReportedVariable,
} from '../../src/migrate/report.js';

const variable = (key: string, extra: Partial<ReportedVariable> = {}): ReportedVariable => ({
  key,
  kind:
    key === 'AWS_ACCESS_KEY_ID'
      ? 'access-key-id'
      : key.startsWith('AWS_')
        ? 'secret-access-key'
        : 'holds-key-id',
  source: 'project',
  path: 'g/p',
  environmentScope: '*',
  protected: false,
  masked: false,
  hidden: false,
  variableType: 'env_var',
  value: 'key-id',
  keyIds: [],
  keys: [],
  inEffect: true,
  ...extra,
});
const project = (
  path: string,
  keys: string[],
  variables: ReportedVariable[],
  extra: Partial<ReportedProject> = {},
) =>
  ({
    path,
    id: 1,
    webUrl: '',
    archived: false,
    variables,
    unreadable: [],
    keys,
    hiddenCredentials: false,
    ...extra,
  }) satisfies ReportedProject;
const user = (userName: string): KeyOwner => ({
  kind: 'user',
  userName,
  userArn: `arn:aws:iam::111122223333:user/${userName}`,
  status: 'Active',
});
const key = (ref: string, owner: KeyOwner, projects: string[]) => ({
  ref,
  keyId: `AKIA…${ref.toUpperCase().padStart(4, 'X')}`,
  type: 'long-lived' as const,
  owner,
  projects,
  shadowedIn: [],
  shared: projects.length > 1,
});

describe('planMigrations', () => {
  it('one user: migrate (shared key noted, a file variable and an unreadable group warned); otherwise why not', () => {
    const report: MigrateFindReport = {
      gitlabUrl: 'https://gitlab.com',
      account: '111122223333',
      skipped: [],
      incomplete: [],
      keys: [
        key('k1', user('a'), ['g/one', 'g/two']),
        key('k2', user('b'), ['g/two']),
        key('k3', { kind: 'not-found', account: '111122223333' }, ['g/three']),
        key('k4', { kind: 'other-account', account: '999999999999' }, ['g/four']),
      ],
      projects: [
        project(
          'g/one',
          ['k1'],
          [variable('AWS_ACCESS_KEY_ID'), variable('CREDS', { variableType: 'file' })],
          {
            unreadable: [{ source: 'group', path: 'g', reason: 'not readable with this token' }],
          },
        ),
        project('g/two', ['k1', 'k2'], [variable('AWS_ACCESS_KEY_ID')]),
        project('g/three', ['k3'], [variable('AWS_ACCESS_KEY_ID')]),
        project('g/four', ['k4'], [variable('AWS_ACCESS_KEY_ID')]),
        project('g/five', [], [variable('AWS_ACCESS_KEY_ID', { value: 'hidden', hidden: true })]),
        project('g/six', [], [variable('AWS_SECRET_ACCESS_KEY', { value: 'hidden', hidden: true })]),
        project('g/old', ['k1'], [variable('AWS_ACCESS_KEY_ID')], { archived: true }),
      ],
    };
    const plan = planMigrations(report);
    expect(plan[0]).toMatchObject({
      path: 'g/one',
      status: 'migrate',
      userName: 'a',
      sharedKeys: ['k1'],
      variables: [{ key: 'AWS_ACCESS_KEY_ID', where: 'project variable' }],
    });
    expect(plan[0]?.status === 'migrate' && plan[0].warnings).toEqual([
      expect.stringMatching(/^CREDS \(project variable\) holds the key in another form/),
      expect.stringMatching(/^the group g variables were not readable/),
    ]);
    expect(plan.slice(1).map((p) => [p.path, p.status, 'reason' in p ? p.reason : ''])).toEqual([
      ['g/two', 'not-migratable', expect.stringMatching(/^keys of 2 IAM users reach its jobs \(a, b\)/)],
      ['g/three', 'not-migratable', expect.stringMatching(/no such key in account 111122223333/)],
      ['g/four', 'not-migratable', expect.stringMatching(/key of account 999999999999/)],
      [
        'g/five',
        'not-migratable',
        expect.stringMatching(/^AWS_ACCESS_KEY_ID \(project variable\) is hidden/),
      ],
      ['g/six', 'nothing-to-migrate', 'no readable AWS key variable reaches its jobs'],
      ['g/old', 'nothing-to-migrate', 'archived'],
    ]);
  });
});

describe('userPermissionsOf', () => {
  it("joins the user's groups and the customer policies' documents; an unknown user is undefined", () => {
    const document = { Version: '2012-10-17' as const, Statement: [] };
    const details = {
      users: [
        {
          name: 'a',
          path: '/',
          arn: 'arn:aws:iam::1:user/a',
          inlinePolicies: [],
          groupNames: ['g', 'gone'],
          attachedPolicyArns: ['arn:p'],
          permissionsBoundaryArn: 'arn:b',
        },
      ],
      groups: [
        {
          name: 'g',
          path: '/',
          arn: 'arn:g',
          inlinePolicies: [{ name: 'i', document }],
          attachedPolicyArns: ['arn:q'],
        },
      ],
      policies: [],
    };
    expect(userPermissionsOf(details, 'a')).toMatchObject({
      userArn: 'arn:aws:iam::1:user/a',
      permissionsBoundaryArn: 'arn:b',
      groups: [
        { name: 'g', attachedPolicyArns: ['arn:q'], inlinePolicies: [{ name: 'i', document }] },
        { name: 'gone', attachedPolicyArns: [], inlinePolicies: [] },
      ],
    });
    expect(userPermissionsOf(details, 'nobody')).toBeUndefined();
  });
});
