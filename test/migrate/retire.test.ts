/**
 * `migrate --retire` in-process: the real GitLab client against the loopback fake GitLab and the
 * in-memory IAM. The whole cycle (not proven → kept; proven → variables deleted, key deactivated;
 * re-run → nothing; --delete-keys), shared keys and group variables, failures injected after each
 * mutating call converging on a re-run. Every run's stdout, stderr and error (as the CLI would print
 * it, human and --json) is checked for secrets and full key IDs.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitlabClient, type GitlabClient } from '../../src/gitlab/api/client.js';
import { createPalette } from '../../src/io/colors.js';
import { errorDocument, formatError } from '../../src/io/output.js';
import { runMigrateCommand } from '../../src/migrate/command.js';
import type { RawMigrateFlags } from '../../src/migrate/options.js';
import { parseMigrateFlags } from '../../src/migrate/options.js';
import { type RetireReport, runMigrateRetire } from '../../src/migrate/retire-run.js';
import { createScriptedPrompter } from '../../src/prompts/prompter.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import type { FakeAccessKey } from '../helpers/fake-aws-iam.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';

const TOKEN = 'glpat-migrate-retire-0001';
const NOW = new Date('2026-12-01T12:00:00Z');
const CREATED = new Date('2026-11-01T00:00:00Z');
const KEY_USED = new Date('2026-10-20T08:00:00Z');
const ROLE_USED = new Date('2026-11-10T09:00:00Z');

let gitlab: FakeGitlab;
let aws: FakeAws;
const clients: GitlabClient[] = [];
let secrets: string[];

beforeAll(async () => {
  gitlab = await startFakeGitlab();
});
afterAll(() => gitlab.close());
beforeEach(() => {
  aws = createFakeAws();
  secrets = [TOKEN];
});
afterEach(async () => {
  aws.restore();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  gitlab.reset();
});

function port(): GitlabClient {
  const c = createGitlabClient({
    baseUrl: gitlab.url,
    token: TOKEN,
    tokenSource: 'GITLAB_TOKEN',
    ca: gitlab.caPem,
    env: {},
    // A 5xx is retried by the client; failures here must reach the run.
    maxRetries: 0,
  });
  clients.push(c);
  return c;
}

interface Run {
  out: string;
  err: string;
  doc?: (RetireReport & { ok: boolean; mode: string; exitCode: number }) | undefined;
  failure?: unknown;
}

/** Runs the command; asserts no secret in stdout, stderr, or the error as the CLI prints it. */
async function run(flags: RawMigrateFlags, options: { answer?: boolean; now?: Date } = {}): Promise<Run> {
  const { context, out, err } = captureContext({ interactive: options.answer !== undefined });
  const gl = port();
  const prompter = createScriptedPrompter(options.answer === undefined ? {} : { '--yes': options.answer });
  const failure = await runMigrateCommand({ retire: true, ...flags }, context, {
    gitlab: async () => gl,
    aws: async () => aws.ports,
    now: () => options.now ?? NOW,
    prompter: async () => prompter,
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  const printed = failure
    ? [JSON.stringify(errorDocument(failure, 'migrate')), ...formatError(failure, createPalette(0))].join(
        '\n',
      )
    : '';
  for (const secret of secrets) {
    expect(out(), 'stdout').not.toContain(secret);
    expect(err(), 'stderr').not.toContain(secret);
    expect(printed, 'error').not.toContain(secret);
  }
  const doc = flags.json && !failure ? (JSON.parse(out()) as Run['doc']) : undefined;
  return { out: out(), err: err(), doc, failure };
}

function userKey(name: string, lastUsed: Date | undefined = KEY_USED): FakeAccessKey {
  if (!aws.state.users.has(name)) aws.addUser({ name });
  const key = aws.addAccessKey(
    name,
    lastUsed ? { lastUsed: { date: lastUsed, service: 's3', region: 'eu-west-1' } } : {},
  );
  secrets.push(key.accessKeyId, key.secretAccessKey);
  return key;
}

function toolRole(project: string, lastUsed?: Date) {
  const name = `gitlab-${project.replace(/\//g, '-')}`;
  aws.addRole({
    name,
    trustPolicy: { Version: '2012-10-17', Statement: [] },
    tags: { 'managed-by': 'gitlab-aws-oidc', 'gitlab-aws-oidc:project': project },
    ...(lastUsed ? { lastUsed: { date: lastUsed, region: 'eu-west-1' } } : {}),
  });
  const role = aws.state.roles.get(name.toLowerCase());
  if (role) role.createDate = CREATED;
  return name;
}

/** A project with its own key variables (ID, secret). */
function projectWithKey(path: string, key: FakeAccessKey) {
  const p = gitlab.addProject(path);
  gitlab.addProjectVariable(p, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
  gitlab.addProjectVariable(p, 'AWS_SECRET_ACCESS_KEY', { value: key.secretAccessKey, masked: true });
  return p;
}

const variableKeys = (path: string) => (gitlab.project(path)?.variables ?? []).map((v) => v.key).sort();
const keyOf = (user: string) => aws.state.users.get(user)?.accessKeys[0];
const userTags = (user: string) => aws.state.users.get(user)?.tags ?? {};
const RECORD = (key: FakeAccessKey) => `gitlab-aws-oidc:deactivated:${key.accessKeyId.slice(-8)}`;
const owner = () => gitlab.addToken(TOKEN, { scopes: ['api'], access: { acme: 'owner' } });

describe('migrate --retire', () => {
  it('not proven (the role never used): kept with the reason, nothing changed', async () => {
    const key = userKey('deploy-bot');
    projectWithKey('acme/api', key);
    owner();
    toolRole('acme/api');
    const { doc, failure } = await run({ project: ['acme/api'], yes: true, json: true });
    expect(failure).toBeUndefined();
    expect(doc).toMatchObject({ ok: true, mode: 'retire', exitCode: 0, changes: 0, done: [] });
    expect(doc?.keys).toEqual([
      {
        ref: 'k1',
        keyId: `${key.accessKeyId.slice(0, 4)}…${key.accessKeyId.slice(-4)}`,
        userName: 'deploy-bot',
        projects: ['acme/api'],
        retire: false,
        reasons: [
          'role gitlab-acme-api of acme/api has not been used since it was created (2026-11-01): the switch is not proven',
        ],
        steps: [],
      },
    ]);
    expect(aws.mutatingCalls()).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('a project without a tool role, a key used after the switch, a key of another account: each kept with its reason', async () => {
    const late = userKey('late-bot', new Date('2026-11-20T00:00:00Z'));
    const lonely = userKey('lonely-bot');
    const foreign = aws.foreignAccessKeyId('210987654321');
    secrets.push(foreign);
    projectWithKey('acme/late', late);
    projectWithKey('acme/lonely', lonely);
    const f = gitlab.addProject('acme/foreign');
    gitlab.addProjectVariable(f, 'AWS_ACCESS_KEY_ID', { value: foreign });
    owner();
    toolRole('acme/late', ROLE_USED);
    toolRole('acme/foreign', ROLE_USED);
    const { doc, out } = await run({ group: 'acme', dryRun: true, json: true });
    const reasons = Object.fromEntries((doc?.keys ?? []).map((k) => [k.projects[0], k.reasons]));
    expect(reasons).toEqual({
      'acme/foreign': ['a key of account 210987654321: retire it there'],
      'acme/late': ["still used: last on 2026-11-20, not before the role's last use on 2026-11-10"],
      'acme/lonely': ['acme/lonely has no role made by gitlab-aws-oidc (run init for it first)'],
    });
    expect(out).toContain('"changes": 0');
    expect(aws.mutatingCalls()).toEqual([]);
  });

  it('the cycle: --dry-run plans, proven → variables deleted and key deactivated (recorded on the user); re-run → no changes; --delete-keys deletes it', async () => {
    const key = userKey('deploy-bot');
    const other = userKey('unrelated-bot');
    projectWithKey('acme/api', key);
    owner();
    toolRole('acme/api', ROLE_USED);

    const plan = await run({ project: ['acme/api'], dryRun: true });
    expect(plan.failure).toBeUndefined();
    expect(plan.out).toContain('k1');
    expect(plan.out).toContain('retire');
    expect(plan.out).toContain(`record on IAM user deploy-bot that gitlab-aws-oidc deactivates its key`);
    expect(plan.out).toContain('deactivate access key');
    expect(plan.out).toContain('delete GitLab variable AWS_SECRET_ACCESS_KEY (scope *) of project acme/api');
    expect(plan.out).toContain('Plan: 4 changes (dry run: nothing is changed).');
    expect(plan.out).toContain(
      'switch proven: last used 2026-10-20, before the roles of acme/api were used (earliest last use 2026-11-10)',
    );
    expect(aws.mutatingCalls()).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);

    const applied = await run({ project: ['acme/api'], yes: true, json: true });
    expect(applied.failure).toBeUndefined();
    expect(applied.doc?.done).toHaveLength(4);
    expect(aws.mutatingCalls()).toEqual(['TagUser', 'UpdateAccessKey']);
    expect(keyOf('deploy-bot')?.status).toBe('Inactive');
    expect(userTags('deploy-bot')).toEqual({ [RECORD(key)]: NOW.toISOString() });
    expect(variableKeys('acme/api')).toEqual([]);
    // The secret goes first, the key ID last (a re-run finds the key by it).
    expect(gitlab.mutatingCalls().map((c) => c.route)).toEqual([
      'DELETE /projects/:id/variables/:key',
      'DELETE /projects/:id/variables/:key',
    ]);
    expect(applied.doc?.done.some((d) => d.startsWith('deactivate access key'))).toBe(true);

    aws.state.roles.get('gitlab-acme-api')!.lastUsed = { date: NOW, region: 'eu-west-1' };
    const again = await run({ project: ['acme/api'], yes: true, json: true });
    expect(again.doc).toMatchObject({ changes: 0, keys: [], done: [] });
    expect(aws.mutatingCalls()).toEqual(['TagUser', 'UpdateAccessKey']);

    const deleted = await run({ project: ['acme/api'], deleteKeys: true, yes: true, json: true });
    expect(deleted.failure).toBeUndefined();
    expect(deleted.doc?.deleteKeys).toEqual([
      expect.objectContaining({ userName: 'deploy-bot', delete: true, deactivatedAt: NOW.toISOString() }),
    ]);
    expect(aws.state.users.get('deploy-bot')?.accessKeys).toEqual([]);
    expect(userTags('deploy-bot')).toEqual({});
    // Only the recorded key: the other user's key (Active, no record) is untouched.
    expect(keyOf('unrelated-bot')).toMatchObject({ accessKeyId: other.accessKeyId, status: 'Active' });

    const last = await run({ project: ['acme/api'], deleteKeys: true, yes: true, json: true });
    expect(last.doc).toMatchObject({ changes: 0, deleteKeys: [] });
  });

  it('--delete-keys leaves a key deactivated by hand, one re-activated since, and one used after its deactivation', async () => {
    const byHand = userKey('hand-bot');
    aws.state.users.get('hand-bot')!.accessKeys[0]!.status = 'Inactive';
    const reactivated = userKey('again-bot');
    aws.state.users.get('again-bot')!.tags = { [RECORD(reactivated)]: '2026-11-15T00:00:00.000Z' };
    const usedSince = userKey('used-bot', new Date('2026-11-20T00:00:00Z'));
    aws.state.users.get('used-bot')!.accessKeys[0]!.status = 'Inactive';
    aws.state.users.get('used-bot')!.tags = { [RECORD(usedSince)]: '2026-11-15T00:00:00.000Z' };
    gitlab.addProject('acme/api');
    owner();
    const { doc } = await run({ project: ['acme/api'], deleteKeys: true, yes: true, json: true });
    expect(doc?.deleteKeys?.map((d) => [d.userName, d.delete, d.reasons])).toEqual([
      ['again-bot', false, ['active again since it was deactivated on 2026-11-15: someone re-activated it']],
      [
        'used-bot',
        false,
        ['used on 2026-11-20, after it was deactivated on 2026-11-15: it was re-activated in between'],
      ],
    ]);
    expect(aws.mutatingCalls()).toEqual([]);
    expect(keyOf('hand-bot')).toMatchObject({ accessKeyId: byHand.accessKeyId, status: 'Inactive' });
  });

  it('a shared key where one project has not switched is untouched, with the reason', async () => {
    const key = userKey('shared-bot');
    projectWithKey('acme/a', key);
    projectWithKey('acme/b', key);
    owner();
    toolRole('acme/a', ROLE_USED);
    toolRole('acme/b');
    const { doc, out } = await run({ group: 'acme', yes: true, json: true });
    expect(doc?.keys[0]).toMatchObject({
      projects: ['acme/a', 'acme/b'],
      retire: false,
      reasons: [
        'role gitlab-acme-b of acme/b has not been used since it was created (2026-11-01): the switch is not proven',
      ],
    });
    expect(out).not.toContain('deactivate');
    expect(aws.mutatingCalls()).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);
    expect(variableKeys('acme/a')).toHaveLength(2);
  });

  it('a group variable seen by a project this run did not read keeps the key whole; with the whole group read it goes', async () => {
    const key = userKey('group-bot');
    gitlab.addGroup('acme/platform');
    gitlab.addProject('acme/platform/api');
    gitlab.addProject('acme/platform/web');
    gitlab.addGroupVariable('acme/platform', 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    gitlab.addGroupVariable('acme/platform', 'AWS_SECRET_ACCESS_KEY', { value: key.secretAccessKey });
    owner();
    toolRole('acme/platform/api', ROLE_USED);
    toolRole('acme/platform/web', ROLE_USED);

    const one = await run({ project: ['acme/platform/api'], yes: true, json: true });
    expect(one.doc?.keys[0]).toMatchObject({
      retire: false,
      reasons: [
        'a variable of group acme/platform names it, and this run did not read every project of acme/platform: other projects may get the key (select the whole group: --group acme/platform, no --include/--exclude)',
      ],
    });
    const excluded = await run({
      group: 'acme',
      exclude: ['acme/platform/web'],
      yes: true,
      json: true,
    });
    expect(excluded.doc?.keys[0]?.retire).toBe(false);
    expect(excluded.doc?.skipped).toEqual([
      { path: 'acme/platform/web', reason: 'excluded by "acme/platform/web"' },
    ]);
    expect(aws.mutatingCalls()).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);

    const whole = await run({ group: 'acme/platform', yes: true, json: true });
    expect(whole.doc?.keys[0]?.retire).toBe(true);
    expect(gitlab.mutatingCalls().map((c) => c.route)).toEqual([
      'DELETE /groups/:id/variables/:key',
      'DELETE /groups/:id/variables/:key',
    ]);
    expect(gitlab.group('acme/platform')?.variables).toEqual([]);
    expect(keyOf('group-bot')?.status).toBe('Inactive');
  });

  it('what cannot be read keeps the key: the roles (bulk read refused), its last use; a hidden key ID and an unreadable list are named as not seen', async () => {
    const key = userKey('deploy-bot');
    projectWithKey('acme/api', key);
    const dark = gitlab.addProject('acme/dark');
    gitlab.addProjectVariable(dark, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId, hidden: true });
    gitlab.addGroupVariable('acme', 'UNRELATED', { value: 'x' });
    gitlab.addToken(TOKEN, { scopes: ['api'], access: { acme: 'maintainer' } });
    toolRole('acme/api', ROLE_USED);
    toolRole('acme/dark', ROLE_USED);

    aws.failNext('GetAccountAuthorizationDetails', 'AccessDenied');
    const noRoles = await run({ project: ['acme/api', 'acme/dark'], yes: true, json: true });
    expect(noRoles.doc?.keys[0]?.reasons).toEqual([
      "the tool's roles could not be read (iam:GetAccountAuthorizationDetails): the switch cannot be proven",
    ]);
    expect(noRoles.doc?.notSeen).toEqual([
      'acme/api: group acme variables not readable with this token (needs the Owner role on the group): keys there are not seen',
      'acme/dark: AWS_ACCESS_KEY_ID (project) is hidden: its key cannot be read, so it is not retired here',
      'acme/dark: group acme variables not readable with this token (needs the Owner role on the group): keys there are not seen',
    ]);

    aws.failNext('GetAccessKeyLastUsed', 'Throttling');
    const noUse = await run({ project: ['acme/api'], yes: true, json: true });
    expect(noUse.doc?.keys[0]?.reasons).toEqual([
      'its last use could not be read (iam:GetAccessKeyLastUsed)',
    ]);
    expect(noUse.doc?.incomplete.map((i) => i.resource)).toContain('last use of a key of deploy-bot');
    expect(aws.mutatingCalls()).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('--json: one document with the plan, --delete-keys part and what was done', async () => {
    const key = userKey('deploy-bot');
    projectWithKey('acme/api', key);
    owner();
    toolRole('acme/api', ROLE_USED);
    const { doc, out } = await run({ project: ['acme/api'], deleteKeys: true, dryRun: true, json: true });
    expect(Object.keys(doc ?? {}).sort()).toEqual(
      [
        'ok',
        'command',
        'mode',
        'exitCode',
        'gitlabUrl',
        'account',
        'dryRun',
        'changes',
        'keys',
        'deleteKeys',
        'done',
        'projects',
        'notSeen',
        'skipped',
        'incomplete',
      ].sort(),
    );
    expect(doc).toMatchObject({ dryRun: true, changes: 4, deleteKeys: [], done: [], projects: ['acme/api'] });
    expect(doc?.keys[0]?.steps.map((s) => s.kind)).toEqual([
      'tagUser',
      'deactivateKey',
      'deleteVariable',
      'deleteVariable',
    ]);
    expect(out.trim().startsWith('{') && out.trim().endsWith('}')).toBe(true);
  });

  it('a credentials-file variable holding a retired key and a kept one is not deleted, with the reason', async () => {
    const old = userKey('old-bot');
    const busy = userKey('busy-bot', new Date('2026-11-25T00:00:00Z'));
    const p = gitlab.addProject('acme/jobs');
    gitlab.addProjectVariable(p, 'AWS_CREDENTIALS_FILE', {
      value: `[old]\naws_access_key_id = ${old.accessKeyId}\naws_secret_access_key = ${old.secretAccessKey}\n[busy]\naws_access_key_id = ${busy.accessKeyId}\naws_secret_access_key = ${busy.secretAccessKey}\n`,
      variableType: 'file',
    });
    owner();
    toolRole('acme/jobs', ROLE_USED);
    const { doc } = await run({ project: ['acme/jobs'], yes: true, json: true });
    const [first, second] = doc?.keys ?? [];
    expect(first).toMatchObject({ userName: 'old-bot', retire: true });
    expect(first?.reasons).toEqual([
      'variable AWS_CREDENTIALS_FILE of project acme/jobs also holds k2, which is kept: the variable is not deleted',
    ]);
    expect(first?.steps.map((s) => s.kind)).toEqual(['tagUser', 'deactivateKey']);
    expect(second).toMatchObject({ userName: 'busy-bot', retire: false });
    expect(variableKeys('acme/jobs')).toEqual(['AWS_CREDENTIALS_FILE']);
    expect(gitlab.mutatingCalls()).toEqual([]);
    expect(keyOf('busy-bot')?.status).toBe('Active');
  });

  describe('a failure after each mutating call converges on a re-run', () => {
    const setup = () => {
      const key = userKey('deploy-bot');
      projectWithKey('acme/api', key);
      owner();
      toolRole('acme/api', ROLE_USED);
      return key;
    };
    const converged = async (key: FakeAccessKey) => {
      const rerun = await run({ project: ['acme/api'], yes: true, json: true });
      expect(rerun.failure).toBeUndefined();
      expect(keyOf('deploy-bot')?.status).toBe('Inactive');
      expect(userTags('deploy-bot')).toEqual({ [RECORD(key)]: NOW.toISOString() });
      expect(variableKeys('acme/api')).toEqual([]);
      const quiet = await run({ project: ['acme/api'], yes: true, json: true });
      expect(quiet.doc?.changes).toBe(0);
    };
    const partial = (r: Run) => {
      expect(r.failure).toMatchObject({ code: 'PARTIAL_APPLY', exitCode: 1 });
      return r.failure as { done: string[]; notDone: string[] };
    };

    for (const code of ['Throttling', 'AccessDenied', 'LimitExceeded']) {
      it(`TagUser ${code}: nothing changed, the re-run does it all`, async () => {
        const key = setup();
        aws.failNext('TagUser', code, undefined, { times: 2 });
        const failed = partial(await run({ project: ['acme/api'], yes: true }));
        expect(failed.done).toEqual([]);
        // --json prints the report with the error: the same shape as a run that succeeded.
        const doc = errorDocument(
          (await run({ project: ['acme/api'], yes: true, json: true })).failure,
          'migrate',
        );
        expect(doc).toMatchObject({
          ok: false,
          mode: 'retire',
          exitCode: 1,
          changes: 4,
          error: { code: 'PARTIAL_APPLY' },
        });
        expect(failed.notDone).toHaveLength(4);
        expect(keyOf('deploy-bot')?.status).toBe('Active');
        await converged(key);
      });
    }

    for (const code of ['Throttling', 'AccessDenied', 'NoSuchEntity']) {
      it(`UpdateAccessKey ${code}: recorded, not deactivated, variables kept; the re-run finishes`, async () => {
        const key = setup();
        aws.failNext('UpdateAccessKey', code, `cannot update the access key ${key.accessKeyId}`);
        const r = await run({ project: ['acme/api'], yes: true });
        const failed = partial(r);
        expect(failed.done).toHaveLength(1);
        expect(keyOf('deploy-bot')?.status).toBe('Active');
        expect(variableKeys('acme/api')).toHaveLength(2);
        await converged(key);
      });
    }

    for (const status of [500, 403]) {
      it(`GitLab ${status} deleting the secret, then the key ID variable: the re-run deletes what is left`, async () => {
        const key = setup();
        gitlab.fault({ method: 'DELETE', path: '/projects/:id/variables/:key', status });
        const first = partial(await run({ project: ['acme/api'], yes: true }));
        expect(first.done).toHaveLength(2);
        expect(keyOf('deploy-bot')?.status).toBe('Inactive');
        expect(variableKeys('acme/api')).toHaveLength(2);

        gitlab.fault({ method: 'DELETE', path: '/projects/:id/variables/:key', status, nth: 2 });
        const second = partial(await run({ project: ['acme/api'], yes: true }));
        // The key is already Inactive: no tag or deactivation again, only the variables.
        expect(second.done).toEqual([
          'delete GitLab variable AWS_SECRET_ACCESS_KEY (scope *) of project acme/api',
        ]);
        expect(variableKeys('acme/api')).toEqual(['AWS_ACCESS_KEY_ID']);
        await converged(key);
      });
    }

    it('DeleteAccessKey Throttling, then UntagUser AccessDenied: --delete-keys converges', async () => {
      const key = setup();
      await run({ project: ['acme/api'], yes: true });
      aws.failNext('DeleteAccessKey', 'Throttling');
      partial(await run({ project: ['acme/api'], deleteKeys: true, yes: true }));
      expect(keyOf('deploy-bot')?.status).toBe('Inactive');
      aws.failNext('UntagUser', 'AccessDenied');
      partial(await run({ project: ['acme/api'], deleteKeys: true, yes: true }));
      expect(aws.state.users.get('deploy-bot')?.accessKeys).toEqual([]);
      expect(userTags('deploy-bot')).toEqual({ [RECORD(key)]: NOW.toISOString() });
      const last = await run({ project: ['acme/api'], deleteKeys: true, yes: true, json: true });
      expect(last.doc?.deleteKeys).toEqual([
        expect.objectContaining({ delete: true, reasons: ['already deleted: only the record is left'] }),
      ]);
      expect(userTags('deploy-bot')).toEqual({});
    });
  });

  describe('confirmation and exit codes', () => {
    it('without --yes and no terminal: exit 2 naming --yes, before any call', async () => {
      const { failure } = await run({ project: ['acme/api'] });
      expect(failure).toMatchObject({ exitCode: 2 });
      expect((failure as { issues: { field: string }[] }).issues.map((i) => i.field)).toEqual(['--yes']);
      expect(aws.calls()).toEqual([]);
      expect(gitlab.calls).toEqual([]);
    });

    it('answering no at the prompt is exit 130 with nothing changed; yes applies', async () => {
      const key = userKey('deploy-bot');
      projectWithKey('acme/api', key);
      owner();
      toolRole('acme/api', ROLE_USED);
      const no = await run({ project: ['acme/api'] }, { answer: false });
      expect(no.failure).toMatchObject({ code: 'ABORTED', exitCode: 130 });
      expect(aws.mutatingCalls()).toEqual([]);
      expect(gitlab.mutatingCalls()).toEqual([]);
      const yes = await run({ project: ['acme/api'] }, { answer: true });
      expect(yes.failure).toBeUndefined();
      expect(keyOf('deploy-bot')?.status).toBe('Inactive');
      expect(yes.out).toContain('Done: 4 changes applied.');
      // Progress of each change on stderr (never a key ID in full).
      expect(yes.err).toContain('deactivate access key');
    });

    it('interrupted after the first change: exit 130 with what was and was not done; the re-run finishes', async () => {
      const key = userKey('deploy-bot');
      projectWithKey('acme/api', key);
      owner();
      toolRole('acme/api', ROLE_USED);
      const controller = new AbortController();
      const gl = port();
      const failure = await runMigrateRetire(
        parseMigrateFlags({ project: ['acme/api'], retire: true, yes: true }),
        {
          gitlab: async () => gl,
          aws: async () => aws.ports,
          now: () => NOW,
          signal: controller.signal,
          onEvent: (e) => {
            if (e.state === 'done') controller.abort();
          },
        },
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure).toMatchObject({ code: 'PARTIAL_APPLY', exitCode: 130 });
      expect((failure as { done: string[] }).done).toHaveLength(1);
      expect((failure as { notDone: string[] }).notDone).toHaveLength(3);
      expect(JSON.stringify(errorDocument(failure, 'migrate'))).not.toContain(key.accessKeyId);
      expect(errorDocument(failure, 'migrate')).toMatchObject({ ok: false, mode: 'retire', exitCode: 130 });
      expect(keyOf('deploy-bot')?.status).toBe('Active');
      const rerun = await run({ project: ['acme/api'], yes: true, json: true });
      expect(rerun.doc?.done).toHaveLength(4);
      expect(keyOf('deploy-bot')?.status).toBe('Inactive');
    });

    it('bad flag combinations are exit 2, each named', async () => {
      const combos: [RawMigrateFlags, string[]][] = [
        [{ retire: false, deleteKeys: true, project: ['acme/a'] }, ['--delete-keys']],
        [{ retire: false, yes: true, project: ['acme/a'] }, ['--yes']],
        [{ aws: false, project: ['acme/a'], yes: true }, ['--aws']],
        [{ project: ['acme/a'], group: 'acme', yes: true }, ['--project']],
        [{ project: ['acme/a'], include: ['acme/*'], yes: true }, ['--include']],
      ];
      for (const [flags, fields] of combos) {
        const { failure } = await run(flags);
        expect(failure, JSON.stringify(flags)).toMatchObject({ exitCode: 2 });
        expect((failure as { issues: { field: string }[] }).issues.map((i) => i.field)).toEqual(fields);
      }
      expect(gitlab.calls).toEqual([]);
    });
  });
});
