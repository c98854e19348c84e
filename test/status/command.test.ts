import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerStatus } from '../../src/commands/status.js';
import { UsageError } from '../../src/errors.js';
import { runStatusCommand } from '../../src/status/command.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { initProject, recordAsWritten } from './init-helper.js';

let fake: FakeAws;
beforeEach(() => {
  fake = createFakeAws();
});
afterEach(() => fake.restore());

describe('status command', () => {
  it('prints the table, or one JSON document with --json', async () => {
    await initProject(fake, { project: 'grp/app', projectId: '7', protectedOnly: true });
    recordAsWritten(fake, 'gitlab-grp-app');
    const table = captureContext();
    await runStatusCommand({}, table.context);
    expect(table.out()).toContain('Managed by gitlab-aws-oidc in account 123456789012');
    expect(table.out()).toContain('1 role, 0 drifted, 0 with high/critical findings.');

    const json = captureContext();
    const program = new Command().exitOverride();
    registerStatus(program, json.context);
    await program.parseAsync(['node', 'x', 'status', '--project', 'grp/app', '--json']);
    expect(JSON.parse(json.out())).toMatchObject({
      ok: true,
      command: 'status',
      project: 'grp/app',
      summary: { roles: 1 },
    });
  });

  it('takes --gitlab-url and reports it in the JSON document', async () => {
    await initProject(fake, { project: 'grp/app', gitlabUrl: 'https://gitlab.example.com' });
    const io = captureContext();
    const program = new Command().exitOverride();
    registerStatus(program, io.context);
    await program.parseAsync([
      'node',
      'x',
      'status',
      '--project',
      'grp/app',
      '--gitlab-url',
      'https://gitlab.example.com/',
      '--json',
    ]);
    expect(JSON.parse(io.out())).toMatchObject({
      project: 'grp/app',
      gitlabUrl: 'https://gitlab.example.com',
      roles: [{ gitlabUrl: 'https://gitlab.example.com' }],
      summary: { roles: 1 },
    });
  });

  it('rejects a bad --gitlab-url before any AWS call', async () => {
    await expect(
      runStatusCommand({ gitlabUrl: 'https://gitlab.example.com:8443' }, captureContext().context),
    ).rejects.toMatchObject({ issues: [{ field: '--gitlab-url' }] });
    expect(fake.calls()).toEqual([]);
  });

  it('rejects a bad --project before any AWS call', async () => {
    await expect(
      runStatusCommand({ project: 'not a path' }, captureContext().context),
    ).rejects.toBeInstanceOf(UsageError);
    expect(fake.calls()).toEqual([]);
  });
});
