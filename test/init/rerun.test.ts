/**
 * Re-runs start from the current state: the wizard's defaults are what the role has now, and a `--yes`
 * run keeps the role's current value for every flag it is not given. Explicit flags still win.
 * And (defect 9) every wizard answer is validated where it is asked: a bad one is re-asked.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RawInitFlags } from '../../src/commands/init.js';
import { runInitCommand } from '../../src/init/command.js';
import { ENTER, type ScriptedAnswer } from '../../src/prompts/prompter.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { runInitWith, tempDir } from './helpers.js';

let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  aws = createFakeAws({ account: '111122223333' });
  aws.addPolicy({
    name: 'ReadOnlyAccess',
    awsManaged: true,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }] },
  });
  tmp = tempDir();
});
afterEach(() => {
  aws.restore();
  tmp.cleanup();
});

const PROJECT = 'acme/platform/web';
const ROLE = 'gitlab-acme-platform-web';
/** A first run that sets a value for everything a re-run could silently reset. */
const FIRST: RawInitFlags = {
  project: PROJECT,
  projectId: '4242',
  branch: ['main', 'release/*'],
  tag: ['v*'],
  protectedOnly: true,
  audience: 'sts.amazonaws.com',
  template: 's3-deploy',
  templateParam: ['bucket=acme-web-site'],
  managedPolicy: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
  maxSessionDuration: '7200',
  region: 'eu-west-1',
  yes: true,
};

async function firstRun() {
  const { result } = await runInitWith(FIRST, tmp.dir, { aws });
  expect(result.status).toBe('applied');
  return aws.mutatingCalls().length;
}

describe('a re-run keeps what the role has now', () => {
  it('wizard: pressing Enter at every question changes nothing', async () => {
    const before = await firstRun();
    const { result, wizard, notes } = await runInitWith({}, tmp.dir, {
      aws,
      readExisting: true,
      wizard: { answers: { '--project': PROJECT }, enterForUnscripted: true },
      interactive: true,
    });
    // What the wizard does not ask is kept too, and said so.
    expect(notes.find((n) => n.startsWith('Kept from the existing role'))).toBe(
      `Kept from the existing role ${ROLE}: protected refs only; max session 7200 s.`,
    );
    expect(wizard?.asked).toEqual([
      '--gitlab-url',
      '--project',
      '--project-id',
      '--branch',
      '--tag',
      '--audience',
      '--template',
      '--region',
    ]);
    expect(wizard?.defaults).toMatchObject({
      '--project-id': '4242',
      '--branch': 'main, release/*',
      '--tag': 'v*',
      '--audience': 'sts.amazonaws.com',
      '--template': 'keep',
      '--region': 'eu-west-1',
    });
    expect(result.status).toBe('no-changes');
    expect(result.plan.steps).toEqual([]);
    expect(aws.mutatingCalls().length).toBe(before);
  });

  it('--yes with only --project changes nothing, and says what it kept', async () => {
    const before = await firstRun();
    const { result, notes } = await runInitWith({ project: PROJECT, yes: true }, tmp.dir, {
      aws,
      readExisting: true,
    });
    expect(result.status).toBe('no-changes');
    expect(aws.mutatingCalls().length).toBe(before);
    const kept = notes.find((n) => n.startsWith('Kept from the existing role'));
    expect(kept).toContain(`Kept from the existing role ${ROLE}: `);
    expect(kept).toContain('refs main, release/*, tag v*');
    expect(kept).toContain('project ID 4242');
    expect(kept).toContain('protected refs only');
    expect(kept).toContain('audience sts.amazonaws.com');
    expect(kept).toContain('arn:aws:iam::aws:policy/ReadOnlyAccess');
    expect(kept).toContain('max session 7200 s');
  });

  it('an explicit --branch still wins: the plan changes the trust policy', async () => {
    await firstRun();
    const { result } = await runInitWith({ project: PROJECT, branch: ['develop'], dryRun: true }, tmp.dir, {
      aws,
      readExisting: true,
    });
    expect(result.status).toBe('planned');
    expect(result.refs).toEqual([{ type: 'branch', pattern: 'develop' }]);
    // The trust policy, then the record of what this run wrote.
    expect(result.plan.steps.map((s) => s.kind)).toEqual(['updateTrustPolicy', 'tagRole']);
    // Everything not given is still kept: only the refs differ.
    expect(result.trustPolicyDiff.filter((l) => l.startsWith('+')).join('\n')).toMatch(/ref:develop/);
    const after = JSON.stringify(result.plan.trustPolicy.after);
    expect(after).toContain('"gitlab.com:ref_protected":"true"');
    expect(after).toContain('"gitlab.com:project_id":"4242"');
    expect(after).toContain('"gitlab.com:aud":"sts.amazonaws.com"');
  });

  it('keeps a hand-added ref_protected condition instead of dropping it', async () => {
    await runInitWith({ project: PROJECT, branch: ['main'], yes: true, region: 'eu-west-1' }, tmp.dir, {
      aws,
    });
    const role = aws.state.roles.get(ROLE)!;
    const trust = JSON.parse(role.trustPolicy);
    trust.Statement[0].Condition.StringEquals['gitlab.com:ref_protected'] = 'true';
    role.trustPolicy = JSON.stringify(trust);
    const { result } = await runInitWith({ project: PROJECT, yes: true }, tmp.dir, {
      aws,
      readExisting: true,
    });
    // The condition stays; only the record changes, and the plan says it records the hand edit.
    expect(result.plan.steps.map((s) => s.kind)).toEqual(['tagRole']);
    expect(
      JSON.parse(aws.state.roles.get(ROLE)!.trustPolicy).Statement[0].Condition.StringEquals,
    ).toMatchObject({
      'gitlab.com:ref_protected': 'true',
    });
    const role2 = result.plan.resources.find((r) => r.kind === 'role')!;
    expect(role2.notes?.join('\n')).toContain(
      'kept and recorded as written by gitlab-aws-oidc: trust policy, changed outside the tool',
    );
    const again = await runInitWith({ project: PROJECT, yes: true }, tmp.dir, { aws, readExisting: true });
    expect(again.result.status).toBe('no-changes');
  });

  it('keeps a policy at the tool-managed ARN that the tool did not create as a plain attachment', async () => {
    const before = await firstRun();
    const arn = 'arn:aws:iam::111122223333:policy/gitlab-oidc/gitlab-acme-platform-web-permissions';
    const policy = aws.state.policies.get(arn)!;
    policy.tags = {};
    const { result, notes } = await runInitWith({ project: PROJECT, yes: true }, tmp.dir, {
      aws,
      readExisting: true,
    });
    expect(result.status).toBe('no-changes');
    expect(aws.mutatingCalls().length).toBe(before);
    expect(notes.join('\n')).toMatch(
      new RegExp(`permissions arn:aws:iam::aws:policy/ReadOnlyAccess, ${arn}`),
    );
  });

  it('--offline reads nothing, and without the existing role needs --branch', async () => {
    await firstRun();
    const calls = aws.calls().length;
    const error = await runInitWith({ project: PROJECT, dryRun: true, offline: true }, tmp.dir, {
      aws,
      readExisting: true,
    }).catch((e) => e);
    expect(error.issues?.[0]?.field).toBe('--branch');
    expect(aws.calls().length).toBe(calls);
  });
});

describe('the command reads the existing role before resolving (as the CLI does)', () => {
  it('--yes with only --project keeps everything; --json gets the same no-changes document', async () => {
    await firstRun();
    const before = aws.mutatingCalls().length;
    const io = captureContext({ cwd: tmp.dir });
    await runInitCommand({ project: PROJECT, yes: true, json: true }, io.context);
    expect(JSON.parse(io.out())).toMatchObject({ ok: true, status: 'no-changes' });
    expect(io.err()).toMatch(
      /Kept from the existing role gitlab-acme-platform-web: refs main, release\/\*, tag v\*/,
    );
    expect(aws.mutatingCalls().length).toBe(before);
    // Identity first, then the role: a wrong profile or no credentials fail as they always did.
    const reads = aws.calls().map((c) => c.command);
    expect(reads.indexOf('GetCallerIdentity')).toBeLessThan(reads.lastIndexOf('GetRole'));
  });

  it('--offline makes no AWS call at all (the SDK is not even needed)', async () => {
    const io = captureContext({ cwd: tmp.dir });
    await runInitCommand(
      { project: PROJECT, branch: ['main'], dryRun: true, offline: true, json: true },
      io.context,
    );
    expect(JSON.parse(io.out())).toMatchObject({ ok: true, status: 'planned' });
    expect(aws.calls()).toEqual([]);
  });
});

describe('the wizard validates each answer where it is asked (defect 9)', () => {
  const base: Record<string, ScriptedAnswer> = {
    '--gitlab-url': ENTER,
    '--project': PROJECT,
    '--project-id': '',
    '--branch': 'main',
    '--tag': '',
  };

  it('re-asks a bad bucket name with the rule it breaks, then succeeds', async () => {
    const { result, wizard } = await runInitWith({ dryRun: true }, tmp.dir, {
      aws,
      wizard: {
        answers: {
          ...base,
          '--audience': ENTER,
          '--template': 'template:s3-deploy',
          '--template-param': ['My_Bucket', 'acme-web-site'],
          '--region': ['mars-1', 'eu-west-1'],
        },
      },
      interactive: true,
    });
    expect(result.status).toBe('planned');
    expect(result.permissions.source).toBe('template s3-deploy');
    expect(wizard?.rejected).toEqual([
      {
        field: '--template-param',
        value: 'My_Bucket',
        message: expect.stringMatching(/bucket="My_Bucket" may only hold lower-case/),
      },
      { field: '--region', value: 'mars-1', message: expect.stringMatching(/must be an AWS region/) },
    ]);
  });

  it('re-asks a bad managed policy ARN and an unreadable policy file', async () => {
    writeFileSync(
      join(tmp.dir, 'deploy.json'),
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }],
      }),
    );
    writeFileSync(join(tmp.dir, 'broken.json'), '{ not json');
    const managed = await runInitWith({ dryRun: true, ciFile: false }, tmp.dir, {
      aws,
      wizard: {
        answers: {
          ...base,
          '--audience': ENTER,
          '--template': 'managed',
          '--managed-policy': ['ReadOnlyAccess', 'arn:aws:iam::aws:policy/ReadOnlyAccess'],
          '--region': ENTER,
        },
      },
      interactive: true,
    });
    expect(managed.result.permissions.managedPolicyArns).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
    expect(managed.wizard?.rejected.map((r) => [r.field, r.value])).toEqual([
      ['--managed-policy', 'ReadOnlyAccess'],
    ]);

    const file = await runInitWith({ dryRun: true, ciFile: false }, tmp.dir, {
      aws,
      wizard: {
        answers: {
          ...base,
          '--audience': ENTER,
          '--template': 'file',
          '--policy-file': ['missing.json', 'broken.json', 'deploy.json'],
          '--region': ENTER,
        },
      },
      interactive: true,
    });
    expect(file.result.permissions.source).toBe('--policy-file deploy.json');
    expect(file.wizard?.rejected.map((r) => r.value)).toEqual(['missing.json', 'broken.json']);
    expect(file.wizard?.rejected[0]?.message).toMatch(/cannot read missing\.json/);
  });

  it('refuses "*" at the branch prompt without --allow-any-ref, and an empty set of refs', async () => {
    const { result, wizard } = await runInitWith({ dryRun: true, ciFile: false }, tmp.dir, {
      aws,
      wizard: {
        answers: {
          ...base,
          '--branch': ['*', ''],
          '--tag': ['', 'v*'],
          '--audience': ENTER,
          '--template': 'none',
          '--region': ENTER,
        },
      },
      interactive: true,
    });
    expect(result.refs).toEqual([{ type: 'tag', pattern: 'v*' }]);
    expect(wizard?.rejected.map((r) => r.field)).toEqual(['--branch', '--tag']);
    expect(wizard?.rejected[0]?.message).toMatch(/--allow-any-ref/);
  });
});
