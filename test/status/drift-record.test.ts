/**
 * status against the ownership record: what changed outside the tool since it last wrote each field,
 * with values; a role without a record is never called "in sync".
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultPolicyName, defaultRoleName } from '../../src/core/naming.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { createPalette } from '../../src/io/colors.js';
import { runStatusCommand } from '../../src/status/command.js';
import { describeSubject } from '../../src/status/drift.js';
import { formatStatus } from '../../src/status/format.js';
import { parseStatusFlags } from '../../src/status/options.js';
import { runStatus } from '../../src/status/run.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { dropRecord, initProject, recordAsWritten } from './init-helper.js';

const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const ROLE = defaultRoleName('acme/web');
const BOUNDARY = 'arn:aws:iam::123456789012:policy/Boundary';

let fake: FakeAws;
beforeEach(() => {
  fake = createFakeAws();
  fake.addPolicy({
    name: 'ReadOnlyAccess',
    awsManaged: true,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }] },
  });
});
afterEach(() => fake.restore());

const status = async () => runStatus(parseStatusFlags({}), { aws: () => fake.ports });
const text = async () => formatStatus(await status(), createPalette(0));
const role = () => fake.state.roles.get(ROLE.toLowerCase())!;

async function recorded(input: Partial<Parameters<typeof initProject>[1]> = {}) {
  const desired = await initProject(fake, { project: 'acme/web', ...input });
  recordAsWritten(fake, ROLE);
  return desired;
}

describe('status: drift against what gitlab-aws-oidc last wrote', () => {
  it('a recorded role nobody touched is unchanged, with no drift', async () => {
    await recorded();
    const report = await status();
    expect(report.roles[0]!.drift).toEqual([]);
    expect(report.roles[0]!.record).toBe('complete');
    expect(report.roles[0]!.fields.every((f) => f.provenance === 'as-written')).toBe(true);
    expect((await text()).join('\n')).toContain('✓ unchanged since gitlab-aws-oidc last wrote it');
    expect(report.summary).toMatchObject({ roles: 1, drifted: 0, unrecorded: 0 });
  });

  it('hand-added ref_protected and project_id: drift with the trust-policy diff against what it wrote', async () => {
    const desired = await recorded();
    const doc = JSON.parse(role().trustPolicy);
    doc.Statement[0].Condition.StringEquals['gitlab.com:ref_protected'] = 'true';
    doc.Statement[0].Condition.StringEquals['gitlab.com:project_id'] = '4242';
    role().trustPolicy = JSON.stringify(doc);

    const report = await status();
    const r = report.roles[0]!;
    const trust = r.fields.find((f) => f.field === 'trustPolicy')!;
    expect(trust.provenance).toBe('drifted');
    expect(trust.lastWritten).toEqual(desired.role.trustPolicy);
    expect(trust.current).toEqual(doc);
    const item = r.drift.find((d) => d.what === 'trust-policy')!;
    expect(item.message).toBe(
      'The trust policy was changed outside gitlab-aws-oidc since it wrote it (- now, + as it wrote it):',
    );
    expect(item.diff).toEqual([
      '-         "gitlab.com:project_id": "4242",',
      '-         "gitlab.com:ref_protected": "true",',
    ]);
    expect(report.summary.drifted).toBe(1);
    const out = (await text()).join('\n');
    expect(out).toContain(`✗ drift ${item.message}`);
    expect(out).toContain('      -         "gitlab.com:ref_protected": "true",');
    expect(out).not.toContain('✓');
  });

  it('a pin removed by hand: the diff shows what it wrote and is gone now', async () => {
    await recorded({ protectedOnly: true });
    const doc = JSON.parse(role().trustPolicy);
    delete doc.Statement[0].Condition.StringEquals['gitlab.com:ref_protected'];
    role().trustPolicy = JSON.stringify(doc);
    const item = (await status()).roles[0]!.drift.find((d) => d.what === 'trust-policy')!;
    expect(item.diff).toEqual(['+         "gitlab.com:ref_protected": "true",']);
  });

  it('a ref changed by hand, which no rebuild matches: says it changed, in the form init writes', async () => {
    await recorded();
    const doc = JSON.parse(role().trustPolicy);
    doc.Statement[0].Condition.StringEquals['gitlab.com:sub'] =
      'project_path:acme/web:ref_type:branch:ref:dev';
    role().trustPolicy = JSON.stringify(doc);
    const r = (await status()).roles[0]!;
    expect(r.fields.find((f) => f.field === 'trustPolicy')).toMatchObject({ provenance: 'drifted' });
    expect(r.fields.find((f) => f.field === 'trustPolicy')).not.toHaveProperty('lastWritten');
    expect(r.drift.map((d) => d.message)).toEqual([
      'The trust policy was changed outside gitlab-aws-oidc since it wrote it, in the form init writes (a ref or pin added or changed by hand: see "trusts" above); init writes what its flags ask for.',
    ]);
  });

  it('a partial record names the fields it lacks', async () => {
    await recorded();
    delete role().tags['gitlab-aws-oidc:session'];
    const r = (await status()).roles[0]!;
    expect(r.record).toBe('partial');
    expect((await text()).join('\n')).toContain(
      '? no record of what gitlab-aws-oidc wrote for: MaxSessionDuration; the next `init` records it.',
    );
  });

  it('a boundary set outside the tool (kept at adoption), changed, or removed', async () => {
    await recorded();
    role().permissionsBoundaryArn = BOUNDARY;
    let r = (await status()).roles[0]!;
    expect(r.fields.find((f) => f.field === 'permissionsBoundaryArn')).toMatchObject({
      provenance: 'drifted',
      current: BOUNDARY,
      lastWritten: null,
    });
    expect(r.drift.map((d) => d.message)).toContainEqual(
      `Permissions boundary ${BOUNDARY} was set outside gitlab-aws-oidc (it set none).`,
    );
    expect((await text()).join('\n')).toContain(`    boundary: ${BOUNDARY}`);

    recordAsWritten(fake, ROLE);
    role().permissionsBoundaryArn = `${BOUNDARY}2`;
    r = (await status()).roles[0]!;
    expect(r.drift.map((d) => d.message)).toContainEqual(
      `Permissions boundary is now ${BOUNDARY}2, changed since gitlab-aws-oidc set it.`,
    );
    role().permissionsBoundaryArn = undefined;
    r = (await status()).roles[0]!;
    expect(r.fields.find((f) => f.field === 'permissionsBoundaryArn')).toMatchObject({
      provenance: 'drifted',
      current: null,
    });
    expect(r.drift.map((d) => d.message)).toContainEqual(
      'Permissions boundary removed outside gitlab-aws-oidc (it had set one).',
    );
  });

  it('attachments by ARN: by the tool, outside the tool, by the tool but now missing', async () => {
    await recorded();
    const toolPolicy = fake.policyArn(defaultPolicyName('acme/web'), '/gitlab-oidc/');
    role().attachedPolicyArns = [READ_ONLY];

    const r = (await status()).roles[0]!;
    expect(r.fields.find((f) => f.field === 'managedPolicyArns')).toMatchObject({
      provenance: 'drifted',
      current: [READ_ONLY],
      attachments: [
        { arn: READ_ONLY, origin: 'outside' },
        { arn: toolPolicy, origin: 'missing' },
      ],
    });
    const item = r.drift.find((d) => d.what === 'attachment')!;
    expect(item.message).toBe('Managed policies changed outside gitlab-aws-oidc since it attached them:');
    expect(item.details).toEqual([
      `+ ${READ_ONLY}  attached outside the tool`,
      `- ${toolPolicy}  attached by the tool, now missing`,
    ]);
    // The old "exists but is not attached" line says the same thing once only.
    expect(r.drift.filter((d) => d.message.includes(toolPolicy))).toEqual([]);
    const out = (await text()).join('\n');
    expect(out).toContain(`      + ${READ_ONLY}  attached outside the tool`);
    expect(out).toContain('    policies: ReadOnlyAccess (attached outside the tool)');
  });

  it('a hand-attached policy next to the tool one', async () => {
    await recorded();
    role().attachedPolicyArns.push(READ_ONLY);
    const r = (await status()).roles[0]!;
    expect(r.drift.find((d) => d.what === 'attachment')?.details).toEqual([
      `+ ${READ_ONLY}  attached outside the tool`,
    ]);
    expect((await text()).join('\n')).toContain(
      `    policies: ${defaultPolicyName('acme/web')} (tool), ReadOnlyAccess (attached outside the tool)`,
    );
  });

  it('a hand-set MaxSessionDuration: now vs recorded', async () => {
    await recorded();
    role().maxSessionDuration = 7200;
    const r = (await status()).roles[0]!;
    expect(r.fields.find((f) => f.field === 'maxSessionDuration')).toEqual({
      field: 'maxSessionDuration',
      provenance: 'drifted',
      current: 7200,
      lastWritten: 3600,
    });
    expect(r.drift.map((d) => d.message)).toEqual([
      'MaxSessionDuration is 7200 s (2 h); gitlab-aws-oidc set 3600 s (1 h).',
    ]);
  });

  it('the tool-managed policy document changed outside the tool', async () => {
    await recorded();
    const arn = fake.policyArn(defaultPolicyName('acme/web'), '/gitlab-oidc/');
    const policy = fake.state.policies.get(arn)!;
    const edited: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
    };
    for (const v of policy.versions) v.isDefault = false;
    policy.versions.push({
      versionId: 'v2',
      document: JSON.stringify(edited),
      isDefault: true,
      createDate: new Date(),
    });

    const r = (await status()).roles[0]!;
    expect(r.fields.find((f) => f.field === 'policyDocument')).toMatchObject({
      provenance: 'drifted',
      policyArn: arn,
      current: edited,
    });
    expect(r.drift.map((d) => d.message)).toContainEqual(
      `The permission policy ${defaultPolicyName('acme/web')} (default version v2) was changed outside gitlab-aws-oidc since it wrote it.`,
    );
  });

  it('a role with no record: says so plainly and never claims to be in sync', async () => {
    await initProject(fake, { project: 'acme/web' });
    dropRecord(fake, ROLE);
    role().maxSessionDuration = 7200;
    const report = await status();
    const r = report.roles[0]!;
    expect(r.record).toBe('none');
    expect(r.fields.every((f) => f.provenance === 'unknown')).toBe(true);
    expect(report.summary).toMatchObject({ drifted: 0, unrecorded: 1 });
    const out = (await text()).join('\n');
    expect(out).toContain(
      '? gitlab-aws-oidc has no record of what it wrote to this role (created by an older version), so changes made outside it cannot be told apart; the next `init` records it.',
    );
    expect(out).not.toContain('in sync');
    expect(out).not.toContain('✓');
    expect(out).toContain('1 role, 0 drifted, 1 without a record, 0 with high/critical findings.');
  });

  it('--json: one document with per-field drift', async () => {
    await recorded({ managedPolicyArns: [READ_ONLY] });
    role().maxSessionDuration = 7200;
    const io = captureContext();
    await runStatusCommand({ json: true }, io.context);
    const doc = JSON.parse(io.out());
    expect(doc.roles[0].record).toBe('complete');
    expect(doc.roles[0].fields).toContainEqual({
      field: 'maxSessionDuration',
      provenance: 'drifted',
      current: 7200,
      lastWritten: 3600,
    });
    expect(doc.roles[0].fields).toContainEqual(
      expect.objectContaining({ field: 'trustPolicy', provenance: 'as-written' }),
    );
    expect(doc.summary).toMatchObject({ roles: 1, drifted: 1, unrecorded: 0 });
  });
});

describe('status: what a subject admits', () => {
  it('names the projects and refs a subject admits', () => {
    expect(describeSubject({ project: 'acme/*', refType: 'any', ref: '*' }, 'acme/web')).toBe(
      'every project under acme (any branch or tag)',
    );
    expect(describeSubject({ project: 'grp/app', refType: 'any', ref: '*' }, 'grp/app')).toBe(
      'any branch or tag of grp/app',
    );
    expect(describeSubject({ project: 'grp/app', refType: 'branch', ref: '*' }, 'grp/app')).toBe(
      'any branch of grp/app',
    );
    expect(describeSubject({ project: 'grp/app', refType: 'branch', ref: 'main' }, 'grp/app')).toBe(
      'branch main',
    );
    expect(describeSubject({ project: 'other/app', refType: 'tag', ref: 'v*' }, 'grp/app')).toBe(
      'tag v* of other/app',
    );
    expect(describeSubject({ project: '*', refType: 'any', ref: '*' }, 'grp/app')).toBe(
      'any project (any branch or tag)',
    );
    expect(describeSubject({ project: 'grp/ap?', refType: 'branch', ref: 'main' }, 'grp/app')).toBe(
      'branch main of every project matching grp/ap?',
    );
  });

  it('status shows project_path:acme/* as every project under acme', async () => {
    await initProject(fake, { project: 'acme/web' });
    const doc = JSON.parse(role().trustPolicy);
    delete doc.Statement[0].Condition.StringEquals['gitlab.com:sub'];
    doc.Statement[0].Condition.StringLike = { 'gitlab.com:sub': 'project_path:acme/*' };
    role().trustPolicy = JSON.stringify(doc);
    expect((await text()).join('\n')).toContain('trusts:   every project under acme (any branch or tag)');
  });
});
