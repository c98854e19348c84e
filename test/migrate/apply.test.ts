/**
 * `migrate --apply` in-process: the real GitLab client against the loopback fake GitLab (project and
 * group variables, a hidden key ID, a key of another account, a key shared by two projects) and the
 * in-memory IAM (a user with groups, inline and attached policies and a boundary). The full find →
 * apply cycle through init's fleet path; a failure after each mutating AWS and GitLab call converging
 * on re-run (the second re-run changes nothing); secrets never in any stream; the --json shape; exit 2
 * before any call.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REQUIRED_PERMISSIONS } from '../../src/aws/permissions.js';
import type { PolicyDocument, PolicyStatement } from '../../src/core/types.js';
import { SETUP_BRANCH } from '../../src/delivery/merge-request.js';
import { AbortError, ExitCode, UsageError } from '../../src/errors.js';
import { createGitlabClient, type GitlabClient } from '../../src/gitlab/api/client.js';
import { MigrateApplyFailedError } from '../../src/migrate/apply-format.js';
import { runMigrateCommand } from '../../src/migrate/command.js';
import type { RawMigrateFlags } from '../../src/migrate/options.js';
import { createScriptedPrompter, type Prompter } from '../../src/prompts/prompter.js';
import { UNSET_STATIC_KEYS } from '../../src/render/ci-file.js';
import { ciYamlToJs } from '../../src/render/ci-yaml.js';
import { captureContext } from '../helpers/capture-context.js';
import { schemaAvailable, validateCi, warnIfSchemaMissing } from '../helpers/ci-schema.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, type FakeProject, startFakeGitlab } from '../helpers/fake-gitlab.js';

warnIfSchemaMissing();

const TOKEN = 'glpat-migrate-apply-0001';
const OTHER_ACCOUNT = '210987654321';
const ACCOUNT = '111122223333';
const USER_CI = 'stages: [build, test]\nbuild:\n  stage: build\n  script: [make]\n';

let gitlab: FakeGitlab;
let aws: FakeAws;
const clients: GitlabClient[] = [];
let secrets: string[];

beforeAll(async () => {
  gitlab = await startFakeGitlab();
});
afterAll(() => gitlab.close());
beforeEach(() => {
  aws = createFakeAws({ account: ACCOUNT });
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
    ca: gitlab.caPem,
    maxRetries: 0,
    env: {},
  });
  clients.push(c);
  return c;
}

/** The parts of the --json document the tests read. */
interface ApplyDocument {
  ok: boolean;
  status: string;
  projects: {
    path: string;
    status: string;
    reason?: string;
    userName?: string;
    keys: string[];
    sharedKeys?: string[];
    variables?: { key: string; where: string }[];
    policyName?: string;
    permissions?: { sources: { holder: string; kind: string; role: string }[] };
    notCarriedOver?: { source: string; reason: string }[];
    init?: { status: string };
  }[];
}

async function run(flags: RawMigrateFlags, interactive?: { prompter: Prompter }) {
  const { context, out, err } = captureContext({ interactive: interactive !== undefined });
  const gl = port();
  const failure = await runMigrateCommand(flags, context, {
    gitlab: async () => gl,
    aws: async () => aws.ports,
    ...(interactive ? { prompter: async () => interactive.prompter } : {}),
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  for (const secret of secrets) {
    expect(out(), 'stdout').not.toContain(secret);
    expect(err(), 'stderr').not.toContain(secret);
    if (failure instanceof Error) expect(JSON.stringify(failure), 'error').not.toContain(secret);
  }
  const doc = flags.json && out() ? (JSON.parse(out()) as ApplyDocument) : undefined;
  return { out: out(), err: err(), doc, failure };
}

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });

interface World {
  api: FakeProject;
  web: FakeProject;
  readOnly: string;
  ecr: string;
  boundary: string;
}

/** deploy-bot (group ci-users) holds the key of api and web; dark hides its key ID; legacy has another account's key. */
function seed(options: { projects?: ('api' | 'web' | 'dark' | 'legacy' | 'none')[] } = {}): World {
  const want = new Set(options.projects ?? ['api', 'web', 'dark', 'legacy', 'none']);
  const readOnly = aws.addPolicy({
    name: 'ReadOnlyAccess',
    awsManaged: true,
    document: doc({ Effect: 'Allow', Action: 's3:Get*', Resource: '*' }),
  });
  const ecr = aws.addPolicy({
    name: 'ecr-push',
    document: doc({ Effect: 'Allow', Action: 'ecr:PutImage', Resource: '*' }),
  });
  const boundary = aws.addPolicy({
    name: 'ci-boundary',
    document: doc({ Effect: 'Allow', Action: ['s3:*', 'ecr:*', 'logs:*'], Resource: '*' }),
  });
  aws.addGroup({
    name: 'ci-users',
    attachedPolicyArns: [ecr],
    inlinePolicies: { logs: doc({ Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: '*' }) },
  });
  aws.addUser({
    name: 'deploy-bot',
    groups: ['ci-users'],
    attachedPolicyArns: [readOnly],
    permissionsBoundaryArn: boundary,
    inlinePolicies: {
      's3-deploy': doc(
        { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::site/*' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template.
        { Effect: 'Allow', Action: 'iam:GetUser', Resource: 'arn:aws:iam::*:user/${aws:username}' },
      ),
    },
  });
  const key = aws.addAccessKey('deploy-bot');
  secrets.push(key.accessKeyId, key.secretAccessKey);
  const foreign = aws.foreignAccessKeyId(OTHER_ACCOUNT);
  secrets.push(foreign);

  gitlab.addGroup('acme');
  gitlab.addGroup('acme/platform');
  const files = { '.gitlab-ci.yml': USER_CI };
  const api = gitlab.addProject('acme/platform/api', { files });
  const web = gitlab.addProject('acme/platform/web', { files });
  // The secret at group level reaches both projects.
  gitlab.addGroupVariable('acme/platform', 'AWS_SECRET_ACCESS_KEY', {
    value: key.secretAccessKey,
    masked: true,
  });
  if (want.has('api')) gitlab.addProjectVariable(api, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
  if (want.has('web')) gitlab.addProjectVariable(web, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
  if (want.has('dark')) {
    const dark = gitlab.addProject('acme/platform/dark', { files });
    gitlab.addProjectVariable(dark, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId, hidden: true });
  }
  if (want.has('legacy')) {
    const legacy = gitlab.addProject('acme/platform/legacy', { files });
    gitlab.addProjectVariable(legacy, 'AWS_ACCESS_KEY_ID', { value: foreign });
  }
  if (want.has('none')) gitlab.addProject('acme/platform/none', { files });
  gitlab.addToken(TOKEN, { scopes: ['api'], access: { acme: 'owner' } });
  return { api, web, readOnly, ecr, boundary };
}

/**
 * A one-project run's mutating AWS calls: provider, policy, role (its boundary and whole ownership
 * record with CreateRole), three attachments; no TagRole after them.
 */
const AWS_MUTATING_CALLS = 6;
const APPLY: RawMigrateFlags = { group: 'acme', apply: true, mergeRequest: true, yes: true };
const openMrs = (p: FakeProject) => p.mergeRequests.filter((m) => m.state === 'opened');

describe('migrate --apply', () => {
  it("find → apply: a role per project with the user's permissions, trust as init, an MR that unsets the key; the re-run changes nothing", async () => {
    const w = seed();
    const { doc: plan, failure } = await run({ ...APPLY, dryRun: true, yes: false, json: true });
    expect(failure).toBeUndefined();
    expect(aws.mutatingCalls()).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);
    expect(plan).toMatchObject({
      ok: true,
      command: 'migrate',
      mode: 'apply',
      dryRun: true,
      status: 'planned',
    });

    const { doc: done, failure: applyFailure } = await run({ ...APPLY, json: true });
    expect(applyFailure).toBeUndefined();
    expect(done).toMatchObject({ ok: true, mode: 'apply', status: 'applied', exitCode: 0, account: ACCOUNT });
    expect(Object.keys(done!).sort()).toEqual(
      [
        'account',
        'command',
        'dryRun',
        'exitCode',
        'gitlabUrl',
        'incomplete',
        'keys',
        'mode',
        'ok',
        'projects',
        'quotas',
        'skipped',
        'status',
      ].sort(),
    );
    const byPath = Object.fromEntries(done!.projects.map((p) => [p.path, p]));
    expect(Object.fromEntries(Object.entries(byPath).map(([k, v]) => [k, v.status]))).toEqual({
      'acme/platform/api': 'migrate',
      'acme/platform/dark': 'not-migratable',
      'acme/platform/legacy': 'not-migratable',
      'acme/platform/none': 'nothing-to-migrate',
      'acme/platform/web': 'migrate',
    });
    expect(byPath['acme/platform/dark']!.reason).toMatch(/^AWS_ACCESS_KEY_ID \(project variable\) is hidden/);
    expect(byPath['acme/platform/legacy']!.reason).toContain(`key of account ${OTHER_ACCOUNT}`);
    const api = byPath['acme/platform/api']!;
    expect(api).toMatchObject({ userName: 'deploy-bot', init: { status: 'applied' } });
    expect(api.sharedKeys).toEqual(api.keys);
    expect(api.variables).toEqual([
      { key: 'AWS_ACCESS_KEY_ID', where: 'project variable' },
      { key: 'AWS_SECRET_ACCESS_KEY', where: 'group acme/platform variable' },
    ]);
    expect(api.permissions!.sources.map((s) => [s.holder, s.kind, s.role])).toEqual([
      ['user deploy-bot', 'inline', `partly copied into ${api.policyName} (see below)`],
      ['group ci-users', 'inline', `copied into ${api.policyName}`],
      ['user deploy-bot', 'managed', 'attached'],
      ['group ci-users', 'managed', 'attached'],
      ['user deploy-bot', 'boundary', 'its permissions boundary'],
    ]);
    expect(api.notCarriedOver).toEqual([
      {
        source: 'user deploy-bot inline policy s3-deploy, Statement[1]',
        reason: 'uses aws:username, which a role session does not have',
      },
    ]);

    // IAM: each project its own role, with the user's permissions and boundary; init's trust.
    for (const path of ['acme/platform/api', 'acme/platform/web']) {
      const name = `gitlab-${path.replaceAll('/', '-')}`;
      const role = aws.state.roles.get(name)!;
      expect(role, name).toBeDefined();
      expect(role.permissionsBoundaryArn).toBe(w.boundary);
      const toolPolicy = aws.policyArn(`${name}-permissions`, '/gitlab-oidc/');
      expect([...role.attachedPolicyArns].sort()).toEqual([toolPolicy, w.readOnly, w.ecr].sort());
      const copied = JSON.parse(aws.state.policies.get(toolPolicy)!.versions.at(-1)!.document);
      expect(copied.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
        'UserInlines3deploy0',
        'Groupciuserslogs0',
      ]);
      const trust = JSON.parse(String(role.trustPolicy)) as { Statement: { Condition: object }[] };
      expect(trust.Statement).toHaveLength(1);
      expect(trust.Statement[0]!.Condition).toMatchObject({
        StringEquals: {
          'gitlab.com:aud': 'https://gitlab.com',
          'gitlab.com:sub': `project_path:${path}:ref_type:branch:ref:main`,
        },
      });
    }

    // GitLab: one MR per project; the file unsets the key variables and is valid GitLab CI.
    for (const project of [w.api, w.web]) {
      expect(openMrs(project)).toHaveLength(1);
      const text = gitlab.fileText(project, '.gitlab-ci.yml', SETUP_BRANCH)!;
      expect(text.startsWith(USER_CI)).toBe(true);
      const js = ciYamlToJs(text) as Record<string, { before_script?: string[] }>;
      expect(js['.aws-oidc']!.before_script![0]).toBe(UNSET_STATIC_KEYS);
      if (schemaAvailable) expect(validateCi(js)).toEqual([]);
      const description = openMrs(project)[0]!.description;
      expect(description).toContain('gitlab-aws-oidc migrate --apply --merge-request');
      expect(description).toContain(`first runs \`${UNSET_STATIC_KEYS}\``);
      expect(description).toContain('- `AWS_ACCESS_KEY_ID` (project variable)');
      expect(description).toContain('`gitlab-aws-oidc migrate --retire`');
      expect(description).toContain('IAM user `deploy-bot`');
      expect(project.commits.find((c) => c.branch === SETUP_BRANCH)?.message).toMatch(
        /\(gitlab-aws-oidc migrate --apply\)$/,
      );
    }
    // Nothing retired: the variables are all still there.
    expect(w.api.variables.map((v) => v.key)).toEqual(['AWS_ACCESS_KEY_ID']);

    // Every IAM/STS call that reached the wire is in the README's list for migrate --apply.
    const allowed = new Set(REQUIRED_PERMISSIONS.migrateApply);
    const sts = new Set(['GetCallerIdentity', 'GetAccessKeyInfo']);
    for (const { command } of aws.calls()) {
      expect(allowed, command).toContain(`${sts.has(command) ? 'sts' : 'iam'}:${command}`);
    }

    // The re-run: nothing to change, no mutating call anywhere.
    aws.iamMock.resetHistory();
    gitlab.clearCalls();
    const before = aws.mutatingCalls().length;
    const again = await run({ ...APPLY, json: true });
    expect(again.failure).toBeUndefined();
    expect(again.doc).toMatchObject({ status: 'no-changes', exitCode: 0 });
    expect(aws.mutatingCalls().length).toBe(before);
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('the plan shows the permissions side by side, what is left behind, the shared key and the unset line', async () => {
    seed();
    // Without iam:GetAccountSummary the carry-over assumes IAM's default quota, and says so.
    aws.failNext('GetAccountSummary', 'AccessDenied');
    const { out, err, failure } = await run({ ...APPLY, dryRun: true, yes: false });
    expect(failure).toBeUndefined();
    expect(out).toContain(
      'Plan: replace the AWS keys of 2 projects with OIDC roles in AWS account 111122223333',
    );
    expect(out).toMatch(/acme\/platform\/api ← IAM user deploy-bot, key k1 AKIA…\w{4}/);
    expect(out).toMatch(/The user's permissions\s+→ {2}Role gitlab-acme-platform-api/);
    expect(out).toMatch(/managed arn:aws:iam::aws:policy\/ReadOnlyAccess\s+→ {2}attached/);
    expect(out).toMatch(/group ci-users: managed arn:aws:iam::111122223333:policy\/ecr-push\s+→ {2}attached/);
    expect(out).toMatch(
      /group ci-users: inline logs\s+→ {2}copied into gitlab-acme-platform-api-permissions/,
    );
    expect(out).toMatch(
      /boundary arn:aws:iam::111122223333:policy\/ci-boundary\s+→ {2}its permissions boundary/,
    );
    expect(out).toContain('Not carried over (1):');
    expect(out).toContain('! user deploy-bot inline policy s3-deploy, Statement[1]: uses aws:username');
    expect(out).toContain(
      'key k1 is shared by 2 projects (acme/platform/api, acme/platform/web): each gets its own role',
    );
    expect(out).toContain(`Pipeline: the hidden job first runs \`${UNSET_STATIC_KEYS}\``);
    expect(out).toContain('Not migratable (2): no role can be planned');
    expect(out).toContain('Nothing to migrate: acme/platform/none.');
    expect(out).toContain('Dry run: nothing was changed');
    // Said once, in the plan; the result only counts them.
    expect(out.split('Not migratable (2)')).toHaveLength(2);
    expect(out).toContain('2 projects not migratable, 1 with nothing to migrate (listed in the plan).');
    expect(err).toContain(
      "acme/platform/api: 1 of the user's permissions is not carried over (see the plan)",
    );
    expect(err).toContain('GetAccountAuthorizationDetails');
    expect(err).toContain(
      "Could not read the account's quotas (iam:GetAccountSummary): assuming IAM's default",
    );
  });

  it.each([
    ...Array.from({ length: AWS_MUTATING_CALLS }, (_, i) => ['AWS', i] as const),
    ['GitLab', 1] as const,
    ['GitLab', 2] as const,
  ])(
    'a failure at mutating %s call %i: exit 1, the re-run finishes, the next changes nothing',
    async (side, n) => {
      seed({ projects: ['api'] });
      const flags = { ...APPLY, project: ['acme/platform/api'], group: undefined, json: true };
      if (side === 'AWS') aws.failAfter(n);
      else {
        const [method, path] =
          n === 1
            ? (['POST', '/projects/:id/repository/commits'] as const)
            : (['POST', '/projects/:id/merge_requests'] as const);
        gitlab.fault({ method, path, nth: 1, status: 500 });
      }
      const first = await run(flags);
      expect(first.failure).toBeInstanceOf(MigrateApplyFailedError);
      expect((first.failure as MigrateApplyFailedError).exitCode).toBe(ExitCode.Failure);
      // --json keeps its one document on failure.
      expect((first.failure as MigrateApplyFailedError).resultDocument()).toMatchObject({
        ok: false,
        mode: 'apply',
      });
      gitlab.clearFaults();
      const second = await run(flags);
      expect(second.failure).toBeUndefined();
      expect(second.doc).toMatchObject({ status: 'applied' });
      const mutatingBefore = aws.mutatingCalls().length;
      gitlab.clearCalls();
      const third = await run(flags);
      expect(third.doc).toMatchObject({ status: 'no-changes' });
      expect(aws.mutatingCalls().length).toBe(mutatingBefore);
      expect(gitlab.mutatingCalls()).toEqual([]);
      expect(openMrs(gitlab.project('acme/platform/api')!)).toHaveLength(1);
    },
  );

  it('the failure cases above cover every mutating call of a one-project run', async () => {
    seed({ projects: ['api'] });
    await run({ ...APPLY, project: ['acme/platform/api'], group: undefined, json: true });
    expect(aws.mutatingCalls()).toHaveLength(AWS_MUTATING_CALLS);
    expect(gitlab.mutatingCalls().map((c) => c.route)).toEqual([
      'POST /projects/:id/repository/commits',
      'POST /projects/:id/merge_requests',
    ]);
  });

  it('a project init refuses (an empty repository: no branch to trust) is shown refused, exit 1; the others are applied', async () => {
    seed({ projects: ['api'] });
    const key = aws.addAccessKey('deploy-bot');
    secrets.push(key.accessKeyId, key.secretAccessKey);
    const empty = gitlab.addProject('acme/platform/empty', { defaultBranch: null });
    gitlab.addProjectVariable(empty, 'AWS_ACCESS_KEY_ID', { value: key.accessKeyId });
    const { out, failure } = await run(APPLY);
    expect(failure).toBeInstanceOf(MigrateApplyFailedError);
    expect((failure as MigrateApplyFailedError).exitCode).toBe(ExitCode.Failure);
    expect(out).toMatch(/acme\/platform\/empty ← IAM user deploy-bot[\s\S]*✗ refused: .*--branch/);
    expect(out).toContain('acme/platform/empty: refused');
    expect(out).toMatch(
      /acme\/platform\/api: applied, role arn:aws:iam::111122223333:role\/gitlab-oidc\/gitlab-acme-platform-api, merge request https:/,
    );
    expect(aws.state.roles.has('gitlab-acme-platform-empty')).toBe(false);
  });

  it('with a terminal: the plan, then one confirmation for every project; "no" changes nothing', async () => {
    seed();
    const prompter = createScriptedPrompter({ '--yes': false });
    const { out, failure } = await run({ ...APPLY, yes: false }, { prompter });
    expect(failure).toBeInstanceOf(AbortError);
    expect(prompter.asked).toEqual(['--yes']);
    expect(out).toContain('Plan: replace the AWS keys of 2 projects');
    expect(aws.mutatingCalls()).toEqual([]);
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('bad input is exit 2 before any call', async () => {
    seed({ projects: ['api'] });
    const cases: [RawMigrateFlags, string][] = [
      [{ group: 'acme', apply: true }, '--merge-request'],
      [{ group: 'acme', apply: true, mergeRequest: true, aws: false }, '--no-aws'],
      [{ group: 'acme', dryRun: true }, '--dry-run'],
      [{ group: 'acme', mergeRequest: true }, '--merge-request'],
      [{ group: 'acme', apply: true, mergeRequest: true }, '--yes'],
    ];
    for (const [flags, field] of cases) {
      const { failure } = await run(flags);
      expect(failure, JSON.stringify(flags)).toBeInstanceOf(UsageError);
      expect((failure as UsageError).exitCode).toBe(ExitCode.Usage);
      expect((failure as UsageError).issues.map((i) => i.field)).toContain(field);
    }
    expect(aws.calls()).toEqual([]);
    expect(gitlab.calls.length).toBe(0);
  });
});
