import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerDestroy } from '../../src/commands/destroy.js';
import { runDestroyCommand } from '../../src/destroy/command.js';
import { AbortError, UsageError } from '../../src/errors.js';
import { createPalette } from '../../src/io/colors.js';
import { errorDocument, formatError } from '../../src/io/output.js';
import { createScriptedPrompter } from '../../src/prompts/prompter.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { initProject } from '../status/init-helper.js';

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

  it('grp/app on two GitLab instances: no plan, no change, an error naming --gitlab-url; then --gitlab-url', async () => {
    fake.state.roles.clear();
    fake.state.providers.clear();
    await initProject(fake, { project: 'grp/app', withPolicy: false });
    await initProject(fake, {
      project: 'grp/app',
      gitlabUrl: 'https://gitlab.example.com',
      roleName: 'gitlab-grp-app-self',
      withPolicy: false,
    });
    const before = fake.mutatingCalls().length;
    const io = capture(true);
    const prompter = createScriptedPrompter({});
    const error = await runDestroyCommand({ project: 'grp/app' }, io.context, {
      prompter: async () => prompter,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(prompter.asked).toEqual([]);
    expect(io.out()).toBe('');
    expect(fake.mutatingCalls().length).toBe(before);
    expect(formatError(error, createPalette(0))).toEqual([
      'error: --project grp/app matches resources of 2 GitLab instances: https://gitlab.com (role gitlab-grp-app), https://gitlab.example.com (role gitlab-grp-app-self). Nothing was deleted.',
      '  --gitlab-url: required: project grp/app exists on 2 GitLab instances',
      'hint: Say which one: --gitlab-url https://gitlab.com or --gitlab-url https://gitlab.example.com.',
    ]);
    expect(errorDocument(error, 'destroy')).toMatchObject({
      ok: false,
      command: 'destroy',
      exitCode: 2,
      error: { code: 'USAGE', issues: [{ field: '--gitlab-url' }] },
    });

    const json = capture(false);
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerDestroy(program, json.context);
    await program.parseAsync([
      'node',
      'x',
      'destroy',
      '--project',
      'grp/app',
      '--gitlab-url',
      'https://gitlab.example.com',
      '--yes',
      '--json',
    ]);
    expect(JSON.parse(json.out())).toMatchObject({
      ok: true,
      target: { project: 'grp/app', gitlabUrl: 'https://gitlab.example.com' },
      done: ['delete OIDC provider gitlab.example.com', 'delete role gitlab-grp-app-self'],
    });
    expect([...fake.state.roles.values()].map((r) => r.name)).toEqual(['gitlab-grp-app']);
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
