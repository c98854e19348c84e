/**
 * `status --group/--config`: every selected project's status (in sync, drift with values, no record,
 * missing pieces, not set up), from the one bulk account read single status makes; the projects that
 * need attention first; skipped ones shown; bad selection input refused before any call.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultPolicyName, defaultRoleName } from '../../src/core/naming.js';
import { UsageError } from '../../src/errors.js';
import { runStatusCommand } from '../../src/status/command.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { callsByAction, gitlabPorts, seedGitlab, seedIam } from '../helpers/fleet-fixture.js';
import { tempDir } from '../init/helpers.js';
import { dropRecord, initProject, recordAsWritten } from './init-helper.js';

let gitlab: FakeGitlab;
let ports: ReturnType<typeof gitlabPorts>;
let fake: FakeAws;
let seeded = 0;
let seededMutations = 0;
beforeAll(async () => {
  gitlab = await startFakeGitlab({ seed: seedGitlab });
  ports = gitlabPorts(gitlab);
});
afterAll(() => gitlab.close());

const role = (project: string) => {
  const r = fake.state.roles.get(defaultRoleName(project).toLowerCase());
  if (!r) throw new Error(`no role for ${project}`);
  return r;
};

beforeEach(async () => {
  fake = createFakeAws();
  // Onboarded: acme/api, web, worker, tools/cli, sandbox/tmp, empty, legacy/old1 (archived), other/thing.
  await seedIam(fake);
  for (const p of ['acme/api', 'acme/web', 'acme/worker', 'acme/empty', 'acme/sandbox/tmp'])
    recordAsWritten(fake, defaultRoleName(p));
  // acme/web: MaxSessionDuration changed by hand (drift, with both values).
  role('acme/web').maxSessionDuration = 7200;
  // acme/worker: its tool policy detached by hand (a missing piece).
  const worker = role('acme/worker');
  worker.attachedPolicyArns = worker.attachedPolicyArns.filter(
    (a) => !a.includes(defaultPolicyName('acme/worker')),
  );
  // acme/tools/cli: made by a version that kept no record.
  dropRecord(fake, defaultRoleName('acme/tools/cli'));
  // acme/docs: its tool policy is there, its role was deleted by hand.
  await initProject(fake, { project: 'acme/docs' });
  const docs = role('acme/docs');
  docs.attachedPolicyArns = [];
  fake.state.roles.delete(defaultRoleName('acme/docs').toLowerCase());
  // acme/tools/lint: never onboarded.
  seeded = fake.calls().length;
  seededMutations = fake.mutatingCalls().length;
  gitlab.clearCalls();
});
afterEach(async () => {
  fake.restore();
  await ports.closeAll();
});

const run = (flags: Parameters<typeof runStatusCommand>[0], cwd?: string) => {
  const io = captureContext(cwd ? { cwd } : {});
  return { io, done: runStatusCommand(flags, io.context, { gitlab: ports.gitlab }) };
};

// biome-ignore lint/suspicious/noExplicitAny: ad-hoc reads of the JSON document
type Doc = Record<string, any>;

describe('status --group', () => {
  it('gives every selected project its state from one account read, attention first', async () => {
    const { io, done } = run({ group: 'acme', exclude: ['acme/sandbox/**'], json: true });
    await done;
    const doc: Doc = JSON.parse(io.out());
    expect(doc).toMatchObject({ ok: true, command: 'status', fleet: true, account: fake.account });
    const states = Object.fromEntries(doc.projects.map((p: Doc) => [p.project, p.state]));
    expect(states).toEqual({
      'acme/api': 'in-sync',
      'acme/docs': 'missing',
      'acme/empty': 'in-sync',
      'acme/tools/cli': 'no-record',
      'acme/tools/lint': 'not-set-up',
      'acme/web': 'drift',
      'acme/worker': 'missing',
    });
    expect(doc.counts).toEqual({
      projects: 7,
      inSync: 2,
      drift: 1,
      missing: 2,
      noRecord: 1,
      notSetUp: 1,
      skipped: 3,
      withFindings: 0,
    });
    expect(doc.attention.map((a: Doc) => `${a.state} ${a.project}`)).toEqual([
      'missing acme/docs',
      'missing acme/worker',
      'drift acme/web',
      'no-record acme/tools/cli',
    ]);
    const byProject = Object.fromEntries(doc.projects.map((p: Doc) => [p.project, p]));
    expect(byProject['acme/docs'].missing).toEqual([
      expect.objectContaining({
        kind: 'role',
        arn: fake.policyArn(defaultPolicyName('acme/docs'), '/gitlab-oidc/'),
      }),
    ]);
    expect(byProject['acme/worker'].missing).toEqual([
      expect.objectContaining({
        kind: 'attachment',
        role: defaultRoleName('acme/worker'),
        arn: fake.policyArn(defaultPolicyName('acme/worker'), '/gitlab-oidc/'),
      }),
    ]);
    expect(byProject['acme/tools/lint']).toMatchObject({ roles: [], missing: [], reasons: [] });
    // The drift with its values, as single status reports it (the role in `roles`, once).
    const web = doc.roles.find((r: Doc) => r.name === defaultRoleName('acme/web'));
    expect(web.fields).toContainEqual(
      expect.objectContaining({
        field: 'maxSessionDuration',
        provenance: 'drifted',
        current: 7200,
        lastWritten: 3600,
      }),
    );
    expect(byProject['acme/web'].reasons).toEqual([
      expect.stringMatching(/MaxSessionDuration is 7200 s .*set 3600 s/),
    ]);
    // Roles outside the selection (archived, excluded, another group) are not read or shown.
    const names = doc.roles.map((r: Doc) => r.name);
    for (const p of ['acme/legacy/old1', 'acme/sandbox/tmp', 'other/thing'])
      expect(names).not.toContain(defaultRoleName(p));
    expect(doc.selection).toMatchObject({ kind: 'group', source: 'acme', projects: 7 });
    expect(doc.selection.skipped.map((s: Doc) => `${s.project}: ${s.reason}`)).toEqual([
      'acme/legacy/old1: archived',
      'acme/legacy/old2: archived',
      'acme/sandbox/tmp: excluded',
    ]);
    expect(doc.providers.map((p: Doc) => p.url)).toEqual(['gitlab.com']);

    // One account read; a GetPolicy (tags) only for the selected projects' tool policies that exist.
    expect(callsByAction(fake, seeded)).toEqual({
      GetCallerIdentity: 1,
      ListOpenIDConnectProviders: 1,
      GetOpenIDConnectProvider: 1,
      ListRoles: 1,
      GetAccountAuthorizationDetails: 1,
      // api, web, worker, tools/cli, empty, docs (not lint: it has none; not the unselected ones).
      GetPolicy: 6,
    });
    expect(fake.mutatingCalls().slice(seededMutations)).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('prints the counts, then what needs attention, what is not set up and what was skipped', async () => {
    const { io, done } = run({ group: 'acme' });
    await done;
    const out = io.out();
    expect(out).toContain('Status of 8 selected projects (group acme) in account 123456789012');
    expect(out).toContain(
      '3 in sync, 1 drifted, 2 with missing pieces, 1 without a record, 1 not set up; 2 skipped.',
    );
    const order = [
      'Need attention (4):',
      'acme/docs (missing pieces)',
      'acme/worker (missing pieces)',
      'acme/web (drift)',
      'acme/tools/cli (no record)',
      'Not set up (1',
      'acme/tools/lint',
      'Skipped (2):',
      'acme/legacy/old1: archived',
    ];
    const at = order.map((s) => out.indexOf(s));
    expect(
      at.every((i) => i >= 0),
      out,
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(out).toContain(`is not attached to role ${defaultRoleName('acme/worker')}`);
    expect(out).toContain('onboard them with: gitlab-aws-oidc init --group acme');
    // acme/sandbox/tmp is selected here (no --exclude) and in sync.
    expect(out).not.toContain('trusts:');
    expect(out).toContain("Each project's roles: --details");
  });

  it('--details: each project with its roles as single status shows them', async () => {
    const { io, done } = run({ group: 'acme', details: true });
    await done;
    const out = io.out();
    const web = out.slice(out.indexOf('acme/web  (drift)'));
    expect(web).toContain(`${defaultRoleName('acme/web')}  project acme/web`);
    expect(web).toContain('trusts:   branch main');
    expect(web).toMatch(/✗ drift MaxSessionDuration is 7200 s/);
    expect(out).toContain('✗ missing no role of the tool, but its tool policy');
    expect(out).toContain('OIDC providers');
  });

  it('--config: the file selects the projects, one account read', async () => {
    const tmp = tempDir();
    try {
      writeFileSync(
        join(tmp.dir, 'gitlab-aws-oidc.yml'),
        ['version: 1', 'group: acme', 'include: ["acme/tools/**", "acme/api"]', ''].join('\n'),
      );
      const { io, done } = run({ config: 'gitlab-aws-oidc.yml', json: true }, tmp.dir);
      await done;
      const doc: Doc = JSON.parse(io.out());
      expect(doc.selection).toMatchObject({ kind: 'config', source: 'gitlab-aws-oidc.yml' });
      expect(doc.projects.map((p: Doc) => `${p.project} ${p.state}`)).toEqual([
        'acme/api in-sync',
        'acme/tools/cli no-record',
        'acme/tools/lint not-set-up',
      ]);
      const calls = callsByAction(fake, seeded);
      expect(calls.GetRole).toBeUndefined();
      expect(calls.GetPolicy).toBe(2);
    } finally {
      tmp.cleanup();
    }
  });

  it('each role is reported exactly as status --project reports it', async () => {
    const fleet = run({ group: 'acme', json: true });
    await fleet.done;
    const doc: Doc = JSON.parse(fleet.io.out());
    for (const project of ['acme/web', 'acme/worker', 'acme/tools/cli']) {
      const single = captureContext();
      await runStatusCommand({ project, json: true }, single.context);
      const roles = JSON.parse(single.out()).roles;
      expect(roles).toHaveLength(1);
      expect(doc.roles.find((r: Doc) => r.name === roles[0].name)).toEqual(roles[0]);
    }
  });

  it('a role serving several projects is shown under each of them', async () => {
    // One tool role whose trust admits acme/tools/lint as well as acme/api (a packed role).
    const api = role('acme/api');
    const trust = JSON.parse(api.trustPolicy);
    const sub = trust.Statement[0].Condition.StringEquals['gitlab.com:sub'];
    trust.Statement[0].Condition.StringEquals['gitlab.com:sub'] = [
      ...[sub].flat(),
      'project_path:acme/tools/lint:ref_type:branch:ref:main',
    ];
    api.trustPolicy = JSON.stringify(trust);
    const { io, done } = run({ group: 'acme', json: true });
    await done;
    const doc: Doc = JSON.parse(io.out());
    const byProject = Object.fromEntries(doc.projects.map((p: Doc) => [p.project, p]));
    expect(byProject['acme/tools/lint'].roles).toEqual([defaultRoleName('acme/api')]);
    expect(byProject['acme/api'].roles).toEqual([defaultRoleName('acme/api')]);
    expect(doc.roles.filter((r: Doc) => r.name === defaultRoleName('acme/api'))).toHaveLength(1);
  });
});

describe('status --group: where the roles come from', () => {
  it('reports the same role by role when the bulk read is refused', async () => {
    const bulk = run({ group: 'acme', json: true });
    await bulk.done;
    const mark = fake.calls().length;
    fake.failNext('GetAccountAuthorizationDetails', 'AccessDenied');
    const perRole = run({ group: 'acme', json: true });
    await perRole.done;
    expect(JSON.parse(perRole.io.out())).toEqual(JSON.parse(bulk.io.out()));
    // Every candidate role read with GetRole instead (as single status does without the bulk read).
    expect(callsByAction(fake, mark).GetRole).toBe(fake.state.roles.size);
  });

  it("a role of the same path on another GitLab instance is another project's", async () => {
    await initProject(fake, {
      project: 'acme/tools/lint',
      gitlabUrl: 'https://gitlab.example.com',
      roleName: 'gitlab-acme-tools-lint-example',
      policyName: 'gitlab-acme-tools-lint-example-permissions',
    });
    const onCom = run({ group: 'acme', json: true });
    await onCom.done;
    const com: Doc = JSON.parse(onCom.io.out());
    expect(com.projects.find((p: Doc) => p.project === 'acme/tools/lint')).toMatchObject({
      state: 'not-set-up',
      roles: [],
    });
    expect(com.providers.map((p: Doc) => p.url)).toEqual(['gitlab.com']);

    const onExample = run({ group: 'acme', gitlabUrl: 'https://gitlab.example.com', json: true });
    await onExample.done;
    const example: Doc = JSON.parse(onExample.io.out());
    expect(example.selection.gitlabUrl).toBe('https://gitlab.example.com');
    expect(example.projects.filter((p: Doc) => p.roles.length).map((p: Doc) => p.roles)).toEqual([
      ['gitlab-acme-tools-lint-example'],
    ]);
    expect(example.providers.map((p: Doc) => p.url)).toEqual(['gitlab.example.com']);
  });
});

describe('status --group: a provider gone', () => {
  it('is a missing piece of every project whose role trusts it, said once', async () => {
    const arn = fake.providerArn('gitlab.com');
    fake.state.providers.delete(arn);
    const { io, done } = run({ group: 'acme', include: ['acme/api'], json: true });
    await done;
    const doc: Doc = JSON.parse(io.out());
    expect(doc.projects).toMatchObject([
      {
        project: 'acme/api',
        state: 'missing',
        missing: [{ kind: 'provider', role: defaultRoleName('acme/api'), arn }],
      },
    ]);
    const reasons: string[] = doc.projects[0].reasons;
    expect(reasons.filter((r) => r.includes(arn))).toHaveLength(1);
    expect(doc.providers).toEqual([]);
  });
});

describe('status selection: bad input is exit 2 before any GitLab or AWS call', () => {
  const cases: [string, Parameters<typeof runStatusCommand>[0], string][] = [
    ['a group path that is not one', { group: 'acme//x' }, '--group'],
    ['--group with --config', { group: 'acme', config: 'f.yml' }, '--config'],
    ['--group with --project', { group: 'acme', project: 'acme/api' }, '--group'],
    ['--include without --group', { include: ['acme/*'] }, '--include'],
    ['an empty glob', { group: 'acme', exclude: [' '] }, '--exclude'],
    ['--details without --group', { details: true }, '--details'],
    [
      '--gitlab-api-url without --group',
      { gitlabApiUrl: 'https://gitlab.example.com/api/v4' },
      '--gitlab-api-url',
    ],
    ['a bad --gitlab-url with --group', { group: 'acme', gitlabUrl: 'http://x' }, '--gitlab-url'],
    ['--config that does not exist', { config: 'missing.yml' }, 'missing.yml'],
  ];
  for (const [name, flags, field] of cases) {
    it(name, async () => {
      const { done } = run(flags);
      const error = await done.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(2);
      expect(JSON.stringify([(error as UsageError).message, (error as UsageError).issues])).toContain(field);
      expect(fake.calls().length).toBe(seeded);
      expect(gitlab.calls).toEqual([]);
    });
  }
});
