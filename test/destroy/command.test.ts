import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerDestroy } from '../../src/commands/destroy.js';
import { runDestroyCommand } from '../../src/destroy/command.js';
import { AbortError, UsageError } from '../../src/errors.js';
import { createScriptedPrompter } from '../../src/prompts/prompter.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';

const capture = (interactive: boolean) => captureContext({ interactive });

let fake: FakeAws;
beforeEach(() => {
  fake = createFakeAws();
  const tags = { 'managed-by': 'gitlab-aws-oidc', 'gitlab-aws-oidc:project': 'grp/app' };
  const provider = fake.addProvider({ url: 'https://gitlab.com', clientIds: ['https://gitlab.com'], tags });
  fake.addRole({
    name: 'gitlab-grp-app',
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Federated: provider }, Action: 'sts:AssumeRoleWithWebIdentity' },
      ],
    },
    tags,
  });
});
afterEach(() => fake.restore());

describe('runDestroyCommand', () => {
  it('shows the plan, asks, and reports progress on stderr', async () => {
    const io = capture(true);
    const prompter = createScriptedPrompter({ '--yes': true });
    await runDestroyCommand({ project: 'grp/app' }, io.context, { prompter: async () => prompter });
    expect(prompter.asked).toEqual(['--yes']);
    expect(io.out()).toContain('Plan: destroy project grp/app');
    expect(io.out()).toContain('- delete  role gitlab-grp-app');
    expect(io.out()).toContain('- delete  OIDC provider gitlab.com');
    expect(io.out()).toContain('Destroyed project grp/app: 2 changes.');
    expect(io.err()).toContain('✓ delete role gitlab-grp-app');
    expect(fake.state.roles.size).toBe(0);
  });

  it('answering no deletes nothing', async () => {
    const io = capture(true);
    await expect(
      runDestroyCommand({ project: 'grp/app' }, io.context, {
        prompter: async () => createScriptedPrompter({ '--yes': false }),
      }),
    ).rejects.toBeInstanceOf(AbortError);
    expect(fake.mutatingCalls()).toEqual([]);
  });

  it('--json never prompts: needs --yes, then prints exactly one document', async () => {
    const io = capture(true);
    await expect(runDestroyCommand({ project: 'grp/app', json: true }, io.context)).rejects.toBeInstanceOf(
      UsageError,
    );
    expect(io.out()).toBe('');
    await runDestroyCommand({ project: 'grp/app', json: true, yes: true }, io.context);
    const doc = JSON.parse(io.out());
    // Same head as every command's document (init, verify, audit, status): ok and command.
    expect(doc).toMatchObject({
      ok: true,
      command: 'destroy',
      changed: true,
      dryRun: false,
      target: { project: 'grp/app' },
    });
    expect(doc.done).toEqual(['delete OIDC provider gitlab.com', 'delete role gitlab-grp-app']);
  });

  it('is registered with its flags and loads lazily', async () => {
    const io = capture(false);
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerDestroy(program, io.context);
    await program.parseAsync(['node', 'x', 'destroy', '--role', 'gitlab-grp-app', '--dry-run', '--json']);
    expect(JSON.parse(io.out())).toMatchObject({ dryRun: true, changed: true, done: [] });
    expect(fake.mutatingCalls()).toEqual([]);
  });
});
