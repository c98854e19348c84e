/**
 * The init plan shows values: every update line from → to, red (with the flag it needs) for changes
 * that need consent, a "Needs your explicit consent" section, and the pipeline diff before every
 * confirmation. Built from hand-made plans (the planner's own tests cover how they are computed).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsentItem, Plan, PolicyDocument, ResourcePlan } from '../../src/core/types.js';
import { runInitCommand } from '../../src/init/command.js';
import { formatPlan } from '../../src/init/format.js';
import type { InitResult } from '../../src/init/result.js';
import { createPalette } from '../../src/io/colors.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { BASE_FLAGS, tempDir } from './helpers.js';

const ROLE_ARN = 'arn:aws:iam::111122223333:role/gitlab-oidc/gitlab-grp-app';
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const HAND = 'arn:aws:iam::111122223333:policy/Hand';
const OLD_TP = 'a'.repeat(40);
const NEW_TP = 'b'.repeat(40);
const plain = createPalette(0);
const red = createPalette(1);

const doc = (action: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }],
});

function resultWith(resources: ResourcePlan[], more: Partial<Plan> = {}, extra: Partial<InitResult> = {}) {
  const plan: Plan = {
    resources,
    steps: [],
    trustPolicy: { after: doc('sts:AssumeRoleWithWebIdentity') },
    broadening: [],
    consents: [],
    warnings: [],
    hasChanges: true,
    ...more,
  };
  return {
    ok: true,
    command: 'init',
    status: 'planned',
    dryRun: false,
    offline: false,
    identity: {
      account: '111122223333',
      partition: 'aws',
      arn: 'arn:aws:iam::111122223333:root',
      userId: 'x',
    },
    region: 'eu-west-1',
    project: 'grp/app',
    gitlabUrl: 'https://gitlab.com',
    audience: 'https://gitlab.com',
    refs: [{ type: 'branch', pattern: 'main' }],
    providerArn: 'arn:aws:iam::111122223333:oidc-provider/gitlab.com',
    roleArn: ROLE_ARN,
    permissions: { managedPolicyArns: [] },
    plan,
    trustPolicyDiff: [],
    checks: { lint: [], expectDeny: [] },
    thumbprints: { thumbprints: [], source: 'not-needed', details: [], warnings: [] },
    applied: [],
    gitlabSteps: [],
    gitlabApplied: [],
    warnings: [],
    nextSteps: [],
    ...extra,
  } as InitResult;
}

const role = (changes: ResourcePlan['changes'], more: Partial<ResourcePlan> = {}): ResourcePlan => ({
  kind: 'role',
  id: 'gitlab-grp-app',
  arn: ROLE_ARN,
  action: 'update',
  changes,
  ...more,
});

describe('formatPlan: every update shows from → to', () => {
  it('role fields: session, boundary, attachments by ARN, tags, description, kept notes', () => {
    const result = resultWith([
      role(
        [
          { field: 'maxSessionDuration', from: 3600, to: 7200 },
          { field: 'permissionsBoundaryArn', from: undefined, to: 'arn:aws:iam::111122223333:policy/B' },
          { field: 'managedPolicyArns', from: [HAND], to: [HAND, READ_ONLY] },
          {
            field: 'tags',
            from: { team: 'a', old: 'x', 'gitlab-aws-oidc:trust': 'd1' },
            to: { team: 'b', env: 'prod', 'gitlab-aws-oidc:trust': 'd2', 'gitlab-aws-oidc:session': '3600' },
          },
          { field: 'description', from: 'old', to: 'new' },
        ],
        { notes: [`kept: policy ${HAND}, attached outside the tool`] },
      ),
    ]);
    const lines = formatPlan(result, plain);
    const at = lines.indexOf('  ~ update  IAM role       gitlab-grp-app');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 12)).toEqual([
      '      max session: 3600 s (1 h) → 7200 s (2 h)',
      '      permissions boundary: (none) → arn:aws:iam::111122223333:policy/B',
      '      attached policies:',
      `        + ${READ_ONLY}`,
      '      tags:',
      '        + env: prod',
      '        - old: x',
      '        ~ team: a → b',
      '        (+ 2 gitlab-aws-oidc record tags)',
      '      description: "old" → "new"',
      `      kept: policy ${HAND}, attached outside the tool`,
    ]);
  });

  it('what is kept is shown on a resource that does not change too', () => {
    const lines = formatPlan(
      resultWith([role([], { action: 'no-op', notes: [`kept: policy ${HAND}, attached outside the tool`] })]),
      plain,
    );
    const at = lines.indexOf('  = no-op   IAM role       gitlab-grp-app');
    expect(lines[at + 1]).toBe(`      kept: policy ${HAND}, attached outside the tool`);
  });

  it('a detach is a - line by ARN; a boundary removed reads arn → (none)', () => {
    const lines = formatPlan(
      resultWith([
        role([
          { field: 'managedPolicyArns', from: [READ_ONLY, HAND], to: [READ_ONLY] },
          { field: 'permissionsBoundaryArn', from: 'arn:aws:iam::111122223333:policy/B', to: undefined },
        ]),
      ]),
      plain,
    );
    expect(lines).toContain('      attached policies:');
    expect(lines).toContain(`        - ${HAND}`);
    expect(lines).toContain('      permissions boundary: arn:aws:iam::111122223333:policy/B → (none)');
  });

  it('one change per attachment (a single ARN as from or to): one heading, each line with its flag', () => {
    const lines = formatPlan(
      resultWith([
        role([
          { field: 'managedPolicyArns', to: READ_ONLY, needs: ['allow-widening'] },
          { field: 'managedPolicyArns', from: HAND, needs: ['detach-unowned'] },
        ]),
      ]),
      plain,
    );
    expect(lines.slice(lines.indexOf('  ~ update  IAM role       gitlab-grp-app') + 1)).toEqual([
      '      attached policies:',
      `        + ${READ_ONLY}  [needs --allow-widening]`,
      `        - ${HAND}  [needs --detach-unowned]`,
    ]);
  });

  it('the permission policy document as a diff', () => {
    const lines = formatPlan(
      resultWith([
        {
          kind: 'policy',
          id: 'gitlab-grp-app-permissions',
          arn: 'arn:aws:iam::111122223333:policy/gitlab-oidc/gitlab-grp-app-permissions',
          action: 'update',
          changes: [
            { field: 'document', from: doc('s3:GetObject'), to: doc('s3:PutObject') },
            { field: 'versions', from: 'v1', to: 'deleted (IAM keeps at most 5)' },
          ],
        },
      ]),
      plain,
    );
    const at = lines.indexOf('  ~ update  IAM policy     gitlab-grp-app-permissions');
    expect(lines.slice(at + 1, at + 12)).toEqual([
      '      permission policy document:',
      '          {',
      '            "Statement": {',
      '        -     "Action": "s3:GetObject",',
      '        +     "Action": "s3:PutObject",',
      '              "Effect": "Allow",',
      '              "Resource": "*"',
      '            },',
      '            "Version": "2012-10-17"',
      '          }',
      '      versions: v1 → deleted (IAM keeps at most 5)',
    ]);
  });

  it('thumbprints old and new, audiences added, and the other roles that use the provider', () => {
    const lines = formatPlan(
      resultWith([
        {
          kind: 'oidc-provider',
          id: 'https://gitlab.example.com',
          arn: 'arn:aws:iam::111122223333:oidc-provider/gitlab.example.com',
          action: 'update',
          changes: [
            {
              field: 'clientIds',
              from: ['https://gitlab.example.com'],
              to: ['https://gitlab.example.com', 'sts.amazonaws.com'],
            },
            { field: 'thumbprints', from: [OLD_TP], to: [NEW_TP], needs: ['allow-widening'] },
          ],
          usedBy: ['role-a', 'role-b'],
        },
      ]),
      plain,
    );
    const at = lines.indexOf('  ~ update  OIDC provider  https://gitlab.example.com');
    expect(lines.slice(at + 1, at + 4)).toEqual([
      '      audiences: + sts.amazonaws.com',
      `      thumbprints: ${OLD_TP} → ${NEW_TP}  [needs --allow-widening]`,
      '      used by: role-a, role-b',
    ]);
  });

  it('the trust policy line points at its diff; broadening, drift and needs are named with their flags', () => {
    const lines = formatPlan(
      resultWith([
        role([
          { field: 'trustPolicy', from: doc('a'), to: doc('b'), broadening: true, needs: ['allow-widening'] },
          { field: 'maxSessionDuration', from: 7200, to: 3600, drift: true, needs: ['overwrite-drift'] },
        ]),
      ]),
      plain,
    );
    expect(lines).toContain(
      '      trust policy: changes (diff below)  [widens access; needs --allow-widening]',
    );
    expect(lines).toContain(
      '      max session: 7200 s (2 h) → 3600 s (1 h)  [changed outside the tool; needs --overwrite-drift]',
    );
  });
});

describe('formatPlan: consent', () => {
  const consents: ConsentItem[] = [
    {
      consent: 'overwrite-drift',
      resource: 'gitlab-grp-app',
      field: 'maxSessionDuration',
      message:
        'Role gitlab-grp-app: max session was changed outside gitlab-aws-oidc to 7200; this run sets 3600',
    },
    {
      consent: 'allow-widening',
      resource: 'gitlab-grp-app',
      field: 'trustPolicy',
      message: 'Role gitlab-grp-app: trust policy drops the condition gitlab.com:ref_protected = "true"',
    },
    {
      consent: 'overwrite-drift',
      resource: 'gitlab-grp-app-permissions',
      field: 'document',
      message:
        'Policy gitlab-grp-app-permissions: the document (default version v1) was changed outside gitlab-aws-oidc; this run replaces it',
    },
  ];
  const changes: ResourcePlan['changes'] = [
    { field: 'maxSessionDuration', from: 7200, to: 3600, drift: true, needs: ['overwrite-drift'] },
  ];

  it('lists plan.consents grouped by consent, each group with its flag; the resource named once', () => {
    const lines = formatPlan(resultWith([role(changes)], { consents }), plain);
    const at = lines.indexOf('Needs your explicit consent:');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at, at + 6)).toEqual([
      'Needs your explicit consent:',
      '  --overwrite-drift (changed outside gitlab-aws-oidc since it last wrote it):',
      '    Role gitlab-grp-app: max session was changed outside gitlab-aws-oidc to 7200; this run sets 3600',
      '    Policy gitlab-grp-app-permissions: the document (default version v1) was changed outside gitlab-aws-oidc; this run replaces it',
      '  --allow-widening (widens who can assume the role or what it may do):',
      '    Role gitlab-grp-app: trust policy drops the condition gitlab.com:ref_protected = "true"',
    ]);
  });

  it('uses the red palette for consent items and the changes that need them', () => {
    const lines = formatPlan(resultWith([role(changes)], { consents }), red);
    expect(lines).toContain(red.danger('Needs your explicit consent:'));
    expect(lines).toContain(
      `    ${red.danger('Role gitlab-grp-app: trust policy drops the condition gitlab.com:ref_protected = "true"')}`,
    );
    expect(lines).toContain(
      `      ${red.danger('max session: 7200 s (2 h) → 3600 s (1 h)  [changed outside the tool; needs --overwrite-drift]')}`,
    );
    expect(red.danger('x')).not.toBe('x');
    // An ordinary change is not red.
    const calm = formatPlan(resultWith([role([{ field: 'maxSessionDuration', from: 3600, to: 7200 }])]), red);
    expect(calm).toContain('      max session: 3600 s (1 h) → 7200 s (2 h)');
  });

  it('no section without consents', () => {
    const lines = formatPlan(resultWith([role([{ field: 'description', from: 'a', to: 'b' }])]), plain);
    expect(lines).not.toContain('Needs your explicit consent:');
  });
});

describe('formatPlan: the pipeline diff', () => {
  const ciFile = (dryRun: boolean) =>
    resultWith(
      [],
      {},
      {
        dryRun,
        ciFile: {
          path: '.gitlab-ci.yml',
          action: 'update',
          diff: '--- a/.gitlab-ci.yml\n+++ b/.gitlab-ci.yml\n@@ -1 +1,2 @@\n stages: [deploy]\n+include: x',
          added: 1,
          removed: 0,
          conflicts: [],
          warnings: [],
          legacyJwt: [],
          written: false,
        },
      },
    );

  it('is shown before a confirmation (not only under --dry-run)', () => {
    const lines = formatPlan(ciFile(false), plain);
    const at = lines.indexOf('.gitlab-ci.yml will change:');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1)).toEqual([
      '--- a/.gitlab-ci.yml',
      '+++ b/.gitlab-ci.yml',
      '@@ -1 +1,2 @@',
      ' stages: [deploy]',
      '+include: x',
    ]);
  });

  it('and under --dry-run', () => {
    expect(formatPlan(ciFile(true), plain)).toContain('.gitlab-ci.yml would change:');
  });
});

describe('init command: the pipeline diff is printed before applying, without --dry-run', () => {
  let aws: FakeAws;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    aws = createFakeAws({ account: '111122223333' });
    tmp = tempDir();
  });
  afterEach(() => {
    aws.restore();
    tmp.cleanup();
  });

  it('with --yes, stdout shows the .gitlab-ci.yml diff above the result', async () => {
    const io = captureContext({ cwd: tmp.dir });
    await runInitCommand({ ...BASE_FLAGS, yes: true }, io.context);
    const out = io.out();
    const diffAt = out.indexOf('.gitlab-ci.yml will change:');
    expect(diffAt).toBeGreaterThan(0);
    expect(out.slice(diffAt)).toMatch(/^\+\.aws-oidc:/m);
    expect(diffAt).toBeLessThan(out.indexOf('Done:'));
    // captureContext sets NO_COLOR: no escape codes, red or otherwise.
    expect(out).not.toMatch(/\u001b\[/);
  });
});
