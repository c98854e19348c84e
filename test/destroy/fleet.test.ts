/**
 * `destroy --group/--config` against the in-memory IAM and the fake GitLab (real client): one plan
 * for the selected projects from one bulk read, one confirmation, per-member apply where one failure
 * does not stop the others, the provider kept while a remaining role trusts it, a re-run that
 * converges, the --json shapes, and bad selection input refused before any call.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultPolicyName, defaultRoleName } from '../../src/core/naming.js';
import { runDestroyCommand } from '../../src/destroy/command.js';
import { FleetDestroyError, runDestroyFleet } from '../../src/destroy/fleet.js';
import { parseDestroyFlags } from '../../src/destroy/options.js';
import { UsageError } from '../../src/errors.js';
import { errorDocument } from '../../src/io/output.js';
import { createScriptedPrompter } from '../../src/prompts/prompter.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { callsByAction, gitlabPorts, seedGitlab, seedIam } from '../helpers/fleet-fixture.js';
import { initProject } from '../status/init-helper.js';

let gitlab: FakeGitlab;
let ports: ReturnType<typeof gitlabPorts>;
let fake: FakeAws;
let seeded = 0;
beforeAll(async () => {
  gitlab = await startFakeGitlab({ seed: seedGitlab });
  ports = gitlabPorts(gitlab);
});
afterAll(() => gitlab.close());
beforeEach(() => {
  fake = createFakeAws();
  gitlab.clearCalls();
});
afterEach(async () => {
  fake.restore();
  await ports.closeAll();
});

type Flags = Parameters<typeof runDestroyCommand>[0];
async function run(flags: Flags, options: { interactive?: boolean; answer?: boolean } = {}) {
  const io = captureContext({ interactive: options.interactive ?? false });
  const prompter = createScriptedPrompter({ '--yes': options.answer ?? true });
  const error = await runDestroyCommand(flags, io.context, {
    gitlab: ports.gitlab,
    prompter: async () => prompter,
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  // A failed --json run's document is printed by cli.ts from the error, as errorDocument builds it.
  const json = () => (error === undefined ? JSON.parse(io.out()) : errorDocument(error, 'destroy'));
  return { io, error, asked: prompter.asked, json };
}

const roleNames = () => [...fake.state.roles.values()].map((r) => r.name).sort();
const SELECTED_WITH_ROLES = ['acme/api', 'acme/empty', 'acme/tools/cli', 'acme/web', 'acme/worker'];
const mutating = () => fake.mutatingCalls().length;

describe('destroy --group', () => {
  beforeEach(async () => {
    await seedIam(fake);
    seeded = fake.calls().length;
  });

  it('--dry-run: one plan for the selection from one bulk read, counts, nothing changed', async () => {
    const before = mutating();
    const r = await run({ group: 'acme', exclude: ['acme/sandbox/**'], dryRun: true, json: true });
    expect(r.error).toBeUndefined();
    const doc = r.json();
    expect(doc).toMatchObject({
      ok: true,
      command: 'destroy',
      dryRun: true,
      changed: true,
      selection: { kind: 'group', source: 'acme', projects: 7 },
      counts: {
        projects: 7,
        withChanges: 5,
        nothingToDestroy: 2,
        blocked: 0,
        roles: 5,
        policiesDeleted: 5,
        providersDeleted: 0,
      },
    });
    const states = Object.fromEntries(
      doc.members.map((m: { project: string; state: string }) => [m.project, m.state]),
    );
    expect(states).toEqual({
      'acme/api': 'planned',
      'acme/docs': 'nothing',
      'acme/empty': 'planned',
      'acme/tools/cli': 'planned',
      'acme/tools/lint': 'nothing',
      'acme/web': 'planned',
      'acme/worker': 'planned',
    });
    const api = doc.members.find((m: { project: string }) => m.project === 'acme/api');
    expect(api.steps).toContain(`delete role ${defaultRoleName('acme/api')}`);
    // The excluded, archived and other-group roles still trust gitlab.com: it is kept.
    expect(doc.providers).toEqual([
      expect.objectContaining({ kind: 'oidc-provider', id: 'gitlab.com', action: 'keep' }),
    ]);
    expect(doc.providers[0].reason).toMatch(/still trusted by roles .*gitlab-acme-legacy-old1/);
    expect(doc.selection.skipped.map((s: { project: string }) => s.project)).toEqual([
      'acme/legacy/old1',
      'acme/legacy/old2',
      'acme/sandbox/tmp',
    ]);
    expect(mutating()).toBe(before);
    // Reads: the account once; per member only its tool policy (GetPolicy + its versions).
    const calls = callsByAction(fake, seeded);
    expect(calls).toEqual({
      GetCallerIdentity: 1,
      GetAccountAuthorizationDetails: 1,
      ListOpenIDConnectProviders: 1,
      GetOpenIDConnectProvider: 1,
      GetPolicy: 5,
      GetPolicyVersion: 5,
      ListPolicyVersions: 5,
    });
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('asks once, applies every member, keeps what the selection does not own', async () => {
    const r = await run({ group: 'acme', exclude: ['acme/sandbox/**'] }, { interactive: true });
    expect(r.error).toBeUndefined();
    expect(r.asked).toEqual(['--yes']);
    expect(r.io.out()).toContain('Plan: destroy 5 of 7 selected projects (group acme)');
    expect(r.io.out()).toContain('5 roles and 5 policies to delete, 0 to detach, 0 OIDC providers to delete');
    expect(r.io.out()).toContain('Destroyed 5 of 5 projects.');
    expect(r.io.err()).toContain(`acme/web: delete role ${defaultRoleName('acme/web')}`);
    expect(roleNames()).toEqual(
      ['acme/sandbox/tmp', 'acme/legacy/old1', 'other/thing'].map(defaultRoleName).sort(),
    );
    expect(fake.state.providers.size).toBe(1);
    for (const p of SELECTED_WITH_ROLES) {
      expect(fake.state.policies.has(fake.policyArn(defaultPolicyName(p)))).toBe(false);
    }
  });

  it('answering no deletes nothing', async () => {
    const before = mutating();
    const r = await run({ group: 'acme' }, { interactive: true, answer: false });
    expect(r.error).toMatchObject({ code: 'ABORTED' });
    expect(mutating()).toBe(before);
  });

  it('one member fails: the others are destroyed, the summary names it and the command to finish; a re-run converges', async () => {
    fake.failNext('DeleteRole', 'AccessDenied', 'not allowed to delete this one');
    const r = await run({ group: 'acme', exclude: ['acme/sandbox/**'], yes: true, json: true });
    expect(r.error).toBeInstanceOf(FleetDestroyError);
    expect((r.error as FleetDestroyError).exitCode).toBe(1);
    const doc = r.json();
    expect(doc.ok).toBe(false);
    expect(doc.error).toMatchObject({ code: 'DESTROY_INCOMPLETE' });
    expect(doc.failures).toHaveLength(1);
    const failed = doc.failures[0];
    expect(SELECTED_WITH_ROLES).toContain(failed.project);
    expect(failed.error).toContain('not allowed to delete this one');
    expect(failed.notDone).toEqual([`delete role ${defaultRoleName(failed.project)}`]);
    expect(doc.members.filter((m: { state: string }) => m.state === 'destroyed')).toHaveLength(4);
    expect(doc.resume).toBe("gitlab-aws-oidc destroy --group acme --exclude 'acme/sandbox/**' --yes");
    expect(roleNames()).toContain(defaultRoleName(failed.project));

    const again = await run({ group: 'acme', exclude: ['acme/sandbox/**'], yes: true, json: true });
    expect(again.error).toBeUndefined();
    const second = again.json();
    expect(second.counts).toMatchObject({ withChanges: 1, nothingToDestroy: 6 });
    expect(second.failures).toEqual([]);
    expect(roleNames()).toEqual(
      ['acme/sandbox/tmp', 'acme/legacy/old1', 'other/thing'].map(defaultRoleName).sort(),
    );
    const third = await run({ group: 'acme', exclude: ['acme/sandbox/**'], yes: true, json: true });
    expect(third.json()).toMatchObject({ changed: false, counts: { withChanges: 0 } });
  });

  it('Ctrl-C: the calls in flight finish, nothing more starts, exit 130; the re-run finishes', async () => {
    // Interrupted after the first change of the fleet.
    const stop = new AbortController();
    const interrupted = await runDestroyFleet(
      parseDestroyFlags({ yes: true }, { fleet: true }),
      { kind: 'group', group: 'acme', include: [], exclude: [] },
      {
        kind: 'group',
        source: 'acme',
        projects: SELECTED_WITH_ROLES.map((project) => ({ project })),
        skipped: [],
      },
      {
        aws: () => fake.ports,
        signal: stop.signal,
        onEvent: (_, e) => {
          if (e.state === 'done') stop.abort();
        },
      },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(interrupted).toBeInstanceOf(FleetDestroyError);
    expect((interrupted as FleetDestroyError).exitCode).toBe(130);
    expect((interrupted as FleetDestroyError).result.failures.length).toBeGreaterThan(0);
    expect(fake.state.providers.size).toBe(1);
    const again = await run({ group: 'acme', exclude: ['acme/sandbox/**'], yes: true, json: true });
    expect(again.error).toBeUndefined();
    expect(roleNames()).toEqual(
      ['acme/sandbox/tmp', 'acme/legacy/old1', 'other/thing'].map(defaultRoleName).sort(),
    );
  });

  it('--json without --yes: exit 2 before any AWS call', async () => {
    const r = await run({ group: 'acme', json: true });
    expect(r.error).toBeInstanceOf(UsageError);
    expect(fake.calls().length).toBe(seeded);
  });
});

describe('destroy --group: the shared OIDC provider', () => {
  it('goes last, once no remaining role trusts it; kept while a failed member’s role does', async () => {
    for (const project of SELECTED_WITH_ROLES) await initProject(fake, { project });
    fake.failNext('DeleteRole', 'ServiceFailure', 'IAM hiccup');
    const first = await run({ group: 'acme', yes: true, json: true });
    expect(first.error).toBeInstanceOf(FleetDestroyError);
    const doc = first.json();
    expect(doc.providerDone).toEqual([]);
    expect(doc.providers[0]).toMatchObject({ id: 'gitlab.com', action: 'keep' });
    expect(fake.state.providers.size).toBe(1);

    const second = await run({ group: 'acme', yes: true, json: true });
    expect(second.error).toBeUndefined();
    expect(second.json().providerDone).toEqual(['delete OIDC provider gitlab.com']);
    expect(fake.state.providers.size).toBe(0);
    expect(fake.state.roles.size).toBe(0);
    expect(fake.state.policies.size).toBe(0);
  });

  it('a run stopped after the roles went still finds the provider (the tool’s, of this instance)', async () => {
    await initProject(fake, { project: 'acme/api' });
    fake.state.roles.clear();
    fake.state.policies.clear();
    const r = await run({ group: 'acme', yes: true, json: true });
    expect(r.error).toBeUndefined();
    expect(r.json().providerDone).toEqual(['delete OIDC provider gitlab.com']);
  });

  it('--keep-provider keeps it', async () => {
    await initProject(fake, { project: 'acme/api' });
    const r = await run({ group: 'acme', yes: true, keepProvider: true, json: true });
    expect(r.json().providers[0]).toMatchObject({ action: 'keep', reason: 'kept (--keep-provider)' });
    expect(fake.state.providers.size).toBe(1);
  });
});

describe('destroy selection: bad input is exit 2 before any GitLab or AWS call', () => {
  const cases: [string, Flags, string][] = [
    ['--group with --role', { group: 'acme', role: 'r', yes: true }, '--role'],
    ['--group with --project', { group: 'acme', project: 'acme/api', yes: true }, '--group'],
    ['--group with --ci-file', { group: 'acme', ciFile: '.gitlab-ci.yml', yes: true }, '--ci-file'],
    ['--group with --force', { group: 'acme', force: true, yes: true }, '--force'],
    [
      '--config with --gitlab-url',
      { config: 'f.yml', gitlabUrl: 'https://gitlab.example.com', yes: true },
      '--gitlab-url',
    ],
    ['a bad group path', { group: '/acme', yes: true }, '--group'],
    ['--exclude without a selection', { project: 'acme/api', exclude: ['x/*'], yes: true }, '--exclude'],
  ];
  for (const [name, flags, field] of cases) {
    it(name, async () => {
      const r = await run(flags);
      expect(r.error).toBeInstanceOf(UsageError);
      expect((r.error as UsageError).exitCode).toBe(2);
      expect(JSON.stringify([(r.error as UsageError).message, (r.error as UsageError).issues])).toContain(
        field,
      );
      expect(fake.calls()).toEqual([]);
      expect(gitlab.calls).toEqual([]);
    });
  }
});
