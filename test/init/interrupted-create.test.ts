/**
 * A fresh role is CreateRole (carrying its whole ownership record, attachments included) then
 * AttachRolePolicy: no TagRole after them. What every reader of the record makes of a run that
 * stopped in between:
 *   - a caught failure (or Ctrl-C) after CreateRole: one compensating TagRole records what was really
 *     attached and marks the rest as approved; `status` says it is not attached yet, the re-run finishes without
 *     asking again;
 *   - a run killed there (kill -9: simulated by the compensating TagRole failing too): the record lists
 *     an attachment that is not there; `status` says so, the re-run refuses to re-attach it without
 *     --allow-widening (a plan line says why), `destroy` still removes everything the tool made.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RawInitFlags } from '../../src/commands/init.js';
import { RECORD_TAGS } from '../../src/core/ownership.js';
import { parseDestroyFlags } from '../../src/destroy/options.js';
import { runDestroy } from '../../src/destroy/run.js';
import { ConsentRequiredError, PartialApplyError } from '../../src/errors.js';
import { parseStatusFlags } from '../../src/status/options.js';
import { runStatus } from '../../src/status/run.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { BASE_FLAGS, runInitWith, tempDir } from './helpers.js';

const FLAGS: RawInitFlags = {
  ...BASE_FLAGS,
  template: 's3-deploy',
  templateParam: ['bucket=acme-web-site'],
  ciFile: false,
};

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup(): { aws: FakeAws; cwd: string } {
  const aws = createFakeAws({ account: '111122223333' });
  const dir = tempDir();
  writeFileSync(join(dir.dir, '.gitlab-ci.yml'), 'build:\n  script: [make]\n');
  cleanups.push(() => aws.restore(), dir.cleanup);
  return { aws, cwd: dir.dir };
}

const onlyRole = (aws: FakeAws) => {
  const roles = [...aws.state.roles.values()];
  expect(roles).toHaveLength(1);
  return roles[0]!;
};
const toolPolicyArn = (aws: FakeAws) => [...aws.state.policies.values()][0]!.arn;
const status = (aws: FakeAws) => runStatus(parseStatusFlags({}), { aws: () => aws.ports });

/** Fails the AttachRolePolicy after CreateProvider, CreatePolicy and CreateRole. */
async function stopAfterCreateRole(aws: FakeAws, cwd: string, { killed }: { killed: boolean }) {
  aws.failAfter(3, 'ServiceFailure');
  // A run killed there never writes its compensating TagRole: the same state as that TagRole failing.
  if (killed) aws.failNext('TagRole', 'ServiceFailure');
  const error = await runInitWith(FLAGS, cwd, { aws }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PartialApplyError);
  expect(aws.mutatingCalls()).toEqual([
    'CreateOpenIDConnectProvider',
    'CreatePolicy',
    'CreateRole',
    'AttachRolePolicy',
    'TagRole',
  ]);
  expect(onlyRole(aws).attachedPolicyArns).toEqual([]);
}

describe('a fresh role: CreateRole + AttachRolePolicy, and a run that stops in between', () => {
  it('an uninterrupted run: CreatePolicy, CreateRole, AttachRolePolicy per project; status in sync; re-run no-op', async () => {
    const { aws, cwd } = setup();
    const { result } = await runInitWith(FLAGS, cwd, { aws });
    expect(result.status).toBe('applied');
    expect(aws.mutatingCalls()).toEqual([
      'CreateOpenIDConnectProvider',
      'CreatePolicy',
      'CreateRole',
      'AttachRolePolicy',
    ]);
    const report = await status(aws);
    expect(report.roles[0]!.record).toBe('complete');
    expect(report.roles[0]!.drift).toEqual([]);
    expect((await runInitWith(FLAGS, cwd, { aws })).result.status).toBe('no-changes');
    expect(aws.mutatingCalls()).toHaveLength(4);
  });

  it('a caught failure after CreateRole: the compensating TagRole records it; status says what is left; the re-run finishes without consent', async () => {
    const { aws, cwd } = setup();
    await stopAfterCreateRole(aws, cwd, { killed: false });
    expect(onlyRole(aws).tags[RECORD_TAGS.attached]).toMatch(/^\+[\w-]{10}$/);

    const report = await status(aws);
    // The one finding: the tool policy is not attached yet, and why (not "changed outside the tool").
    expect(report.roles[0]!.drift.map((d) => d.message)).toEqual([
      `The tool-managed policy ${toolPolicyArn(aws)} is not attached yet: the init run that created the role stopped before attaching it (re-run it to finish).`,
    ]);
    const attachments = report.roles[0]!.fields.find((f) => f.field === 'managedPolicyArns');
    expect(attachments).toMatchObject({ provenance: 'as-written', attachments: [] });

    // Same flags, --yes, no --allow-widening: the approved attachment is made, then the record completed.
    const before = aws.mutatingCalls().length;
    const { result } = await runInitWith(FLAGS, cwd, { aws });
    expect(result.status).toBe('applied');
    expect(aws.mutatingCalls().slice(before)).toEqual(['AttachRolePolicy', 'TagRole']);
    expect(onlyRole(aws).attachedPolicyArns).toEqual([toolPolicyArn(aws)]);
    expect(onlyRole(aws).tags[RECORD_TAGS.attached]).toMatch(/^[\w-]{10}$/);
    expect((await status(aws)).roles[0]!.drift).toEqual([]);
    expect((await runInitWith(FLAGS, cwd, { aws })).result.status).toBe('no-changes');
  });

  it('killed after CreateRole: status reports the missing attachment; the re-run asks for --allow-widening, then converges', async () => {
    const { aws, cwd } = setup();
    await stopAfterCreateRole(aws, cwd, { killed: true });
    const arn = toolPolicyArn(aws);

    const report = await status(aws);
    const attachments = report.roles[0]!.fields.find((f) => f.field === 'managedPolicyArns');
    expect(attachments).toMatchObject({ provenance: 'drifted', attachments: [{ arn, origin: 'missing' }] });

    const before = aws.mutatingCalls().length;
    const refused = await runInitWith(FLAGS, cwd, { aws }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConsentRequiredError);
    expect((refused as ConsentRequiredError).items.map((i) => [i.flag, i.message])).toEqual([
      [
        '--allow-widening',
        `Role gitlab-acme-platform-web: attaches policy ${arn}, which its ownership record lists as attached by gitlab-aws-oidc but is not attached now (detached outside the tool, or a run was killed between CreateRole and AttachRolePolicy)`,
      ],
    ]);
    expect(aws.mutatingCalls()).toHaveLength(before);

    const { result } = await runInitWith({ ...FLAGS, allowWidening: true }, cwd, { aws });
    expect(result.status).toBe('applied');
    // The record already lists it: the attachment alone, no TagRole.
    expect(aws.mutatingCalls().slice(before)).toEqual(['AttachRolePolicy']);
    expect((await status(aws)).roles[0]!.drift).toEqual([]);
    expect((await runInitWith(FLAGS, cwd, { aws })).result.status).toBe('no-changes');
  });

  it.each([false, true])(
    'destroy after a run stopped after CreateRole (killed: %s) removes the role and the tool policy',
    async (killed) => {
      const { aws, cwd } = setup();
      await stopAfterCreateRole(aws, cwd, { killed });
      await runDestroy(parseDestroyFlags({ project: 'acme/platform/web', yes: true }), {
        aws: () => aws.ports,
      });
      expect(aws.state.roles.size).toBe(0);
      expect(aws.state.policies.size).toBe(0);
    },
  );
});
