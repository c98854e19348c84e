/**
 * `init --group` / `init --config` with GitLab delivery, through the fleet command (selection → init's
 * resolver with the GitLab lookup → runFleet) against the in-memory IAM and the loopback fake GitLab
 * (the real client): one merge request per member, re-runs with zero writes, mixed delivery from a
 * config file, a 429 storm and a 403 in the middle of the apply that converge on re-run, delivery
 * without a token refused before any call, and the --json shape.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RawInitFlags } from '../../src/commands/init.js';
import { SETUP_BRANCH } from '../../src/delivery/merge-request.js';
import { planGitlabDelivery } from '../../src/delivery/plan.js';
import { exitCodeFor, UsageError } from '../../src/errors.js';
import { type FleetCommandDeps, runFleetInitCommand } from '../../src/fleet/command.js';
import { FleetFailedError } from '../../src/fleet/errors.js';
import { runFleet } from '../../src/fleet/run.js';
import { parseSelectionFlags, type RawSelectionFlags } from '../../src/fleet/selection-options.js';
import { createGitlabClient, type GitlabClient } from '../../src/gitlab/api/client.js';
import { resolveThumbprints } from '../../src/gitlab/thumbprint.js';
import { resolveInitOptions } from '../../src/init/resolve.js';
import { createMemoryLogger } from '../../src/io/logger.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { tempDir, virtualClock } from '../init/helpers.js';

const TOKEN = 'glpat-fleet-maintainer';
const PROJECTS = ['acme/api', 'acme/web', 'acme/worker', 'acme/tools/cli', 'acme/tools/lint'];
const CI = 'build:\n  script: [make]\n';

let fake: FakeGitlab;
let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;
const clients: GitlabClient[] = [];

beforeAll(async () => {
  fake = await startFakeGitlab();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.addGroup('acme');
  fake.addGroup('acme/tools');
  for (const p of PROJECTS) {
    const project = fake.addProject(p, { files: { '.gitlab-ci.yml': CI } });
    fake.protectBranch(project, 'main');
  }
  fake.addProject('acme/old', { archived: true });
  fake.addToken(TOKEN, { scopes: ['api'], access: { acme: 'maintainer' } });
  aws = createFakeAws({ account: '111122223333' });
  tmp = tempDir();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  aws.restore();
  tmp.cleanup();
});

/** The real client against the fake (the issuer stays gitlab.com); retries without waiting. */
/** `null`: no token (anonymous). */
function gitlabDeps(token: string | null = TOKEN): FleetCommandDeps & { ports: number } {
  const deps = {
    ports: 0,
    gitlab: async () => {
      deps.ports++;
      const c = createGitlabClient({
        baseUrl: fake.url,
        token: token ?? undefined,
        ca: fake.caPem,
        sleep: async () => {},
      });
      clients.push(c);
      return c;
    },
  };
  return deps;
}

async function run(flags: RawInitFlags & RawSelectionFlags, deps: FleetCommandDeps = gitlabDeps()) {
  const { context, out, err } = captureContext({ cwd: tmp.dir });
  const selection = parseSelectionFlags(flags);
  if (selection.kind === 'project') throw new Error('a fleet selection is needed');
  const error = await runFleetInitCommand(selection, flags, context, deps).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { out: out(), err: err(), error };
}

const byRoute = (routes: Record<string, number>, prefix: string) =>
  Object.fromEntries(Object.entries(routes).filter(([r]) => r.startsWith(prefix)));
const openMrs = (path: string) => fake.project(path)?.mergeRequests.filter((m) => m.state === 'opened') ?? [];
const iamWrites = () => aws.mutatingCalls();

describe('init --group --merge-request', () => {
  it('opens one MR per project from one listing (no GET /projects/:id); a re-run makes no write', async () => {
    const deps = gitlabDeps();
    const first = await run({ group: 'acme', mergeRequest: true, yes: true }, deps);
    expect(first.error).toBeUndefined();
    for (const p of PROJECTS) {
      expect(openMrs(p)).toHaveLength(1);
      expect(fake.fileText(p, '.gitlab-ci.yml', SETUP_BRANCH)).toContain('.aws-oidc');
      expect(fake.fileText(p, '.gitlab-ci.yml', 'main')).toBe(CI);
    }
    expect(first.out).toContain('Plan for 5 projects in AWS account 111122223333');
    expect(first.out).toContain('  GitLab         5 merge requests to open, 5 commits');
    expect(first.out).toContain('Done: 5 applied (of 5 projects).');
    expect(first.out).toContain('Merge requests to review (5):');
    expect(first.out).toMatch(/acme\/api {2}!1 https:\/\/127\.0\.0\.1:\d+\/acme\/api\/-\/merge_requests\/1/);
    // One port for the whole fleet; the listing once; every member's facts from it.
    expect(deps.ports).toBe(1);
    const routes = fake.callsByRoute();
    expect(routes['GET /groups/:id/projects']).toBe(1);
    expect(routes['GET /projects/:id']).toBeUndefined();
    // Per member, once (the 4 members re-planned against the provider the first created reuse them):
    // the protected branches (only branches are allowed), the file, the setup branch and its open MRs.
    expect(byRoute(routes, 'GET /projects/:id/')).toEqual({
      'GET /projects/:id/protected_branches': 5,
      'GET /projects/:id/repository/files/:file_path': 5,
      'GET /projects/:id/repository/branches/:branch': 5,
      'GET /projects/:id/merge_requests': 5,
    });
    expect(
      fake
        .mutatingCalls()
        .map((c) => c.route)
        .sort(),
    ).toEqual(
      [
        ...PROJECTS.map(() => 'POST /projects/:id/repository/commits'),
        ...PROJECTS.map(() => 'POST /projects/:id/merge_requests'),
      ].sort(),
    );
    // gitlab.com: the trust pins each project's own IDs, from the listing.
    const api = fake.project('acme/api');
    const trust = String(aws.state.roles.get('gitlab-acme-api')?.trustPolicy);
    expect(trust).toContain(`"gitlab.com:project_id":"${api?.id}"`);
    expect(trust).toContain(`"gitlab.com:namespace_id":"${api?.namespaceId}"`);

    fake.clearCalls();
    const writes = iamWrites().length;
    const again = await run({ group: 'acme', mergeRequest: true, yes: true, json: true });
    expect(again.error).toBeUndefined();
    expect(JSON.parse(again.out)).toMatchObject({ status: 'no-changes', gitlabSteps: {} });
    expect(fake.mutatingCalls()).toEqual([]);
    expect(iamWrites()).toHaveLength(writes);
    for (const p of PROJECTS) expect(openMrs(p)).toHaveLength(1);
  });

  it('without --merge-request / --ci-variables nothing is delivered (and nothing needs a token)', async () => {
    const human = await run({ group: 'acme', dryRun: true });
    expect(human.error).toBeUndefined();
    expect(human.out).toContain('  GitLab         nothing delivered: --merge-request / --ci-variables');
    const r = await run({ group: 'acme', dryRun: true, json: true });
    expect(r.error).toBeUndefined();
    const doc = JSON.parse(r.out);
    expect(doc.gitlabSteps).toEqual({});
    expect(doc.members.map((m: { mergeRequest?: unknown }) => m.mergeRequest)).toEqual(
      PROJECTS.map(() => undefined),
    );
    expect(fake.mutatingCalls()).toEqual([]);
  });

  it('a 429 storm on commits part-way: those members fail with error and resume; re-runs converge', async () => {
    // Five 429s per attempt cycle (the first try and 4 retries): members 2 and 3 of 5 fail their commit.
    fake.fault({ method: 'POST', path: '/projects/:id/repository/commits', nth: 2, times: 10, status: 429 });
    const flags = { group: 'acme', mergeRequest: true, yes: true, concurrency: '1' };
    const r = await run({ ...flags, json: true });
    expect(r.error).toBeInstanceOf(FleetFailedError);
    expect(exitCodeFor(r.error)).toBe(1);
    const doc = (r.error as FleetFailedError).resultDocument() as {
      members: {
        project: string;
        status: string;
        resume?: string;
        error?: { code: string; message: string };
      }[];
    };
    const failed = doc.members.filter((m) => m.status === 'failed');
    expect(failed.map((m) => m.project)).toEqual(['acme/tools/cli', 'acme/tools/lint']);
    for (const m of failed) {
      expect(m.error?.code).toBe('PARTIAL_APPLY');
      expect(m.error?.message).toContain('429');
      expect(m.resume).toMatch(new RegExp(`--include ${m.project}$`));
    }
    expect(doc.members.filter((m) => m.status === 'applied')).toHaveLength(3);
    // IAM was done for every member (the GitLab steps come after it).
    expect(aws.state.roles.size).toBe(5);

    fake.clearCalls();
    const writes = iamWrites().length;
    const second = await run(flags);
    expect(second.error).toBeUndefined();
    expect(second.out).toContain('Done: 2 applied, 3 no-changes (of 5 projects).');
    expect(fake.mutatingCalls().map((c) => c.route)).toEqual([
      'POST /projects/:id/repository/commits',
      'POST /projects/:id/merge_requests',
      'POST /projects/:id/repository/commits',
      'POST /projects/:id/merge_requests',
    ]);
    expect(iamWrites()).toHaveLength(writes);

    fake.clearCalls();
    const third = await run(flags);
    expect(third.out).toContain('No changes: all 5 projects already match.');
    expect(fake.mutatingCalls()).toEqual([]);
    expect(iamWrites()).toHaveLength(writes);
    for (const p of PROJECTS) expect(openMrs(p)).toHaveLength(1);
  });
  it('a 429 storm on the reads while planning: those members are refused with a resume command, the others done', async () => {
    fake.fault({ method: 'GET', path: '/projects/:id/merge_requests', nth: 1, times: 5, status: 429 });
    const flags = { group: 'acme', mergeRequest: true, yes: true, concurrency: '1' };
    const r = await run({ ...flags, json: true });
    expect(exitCodeFor(r.error)).toBe(1);
    const doc = (r.error as FleetFailedError).resultDocument() as {
      members: { project: string; status: string; resume?: string; error?: { message: string } }[];
    };
    const refused = doc.members.filter((m) => m.status === 'refused');
    expect(refused.map((m) => m.project)).toEqual(['acme/api']);
    expect(refused[0]?.error?.message).toContain('429');
    expect(refused[0]?.resume).toMatch(/--include acme\/api$/);
    expect(doc.members.filter((m) => m.status === 'applied')).toHaveLength(4);
    // Nothing was changed for the refused member, in AWS or GitLab.
    expect(aws.state.roles.has('gitlab-acme-api')).toBe(false);
    expect(openMrs('acme/api')).toEqual([]);

    const again = await run(flags);
    expect(again.out).toContain('Done: 1 applied, 4 no-changes (of 5 projects).');
    expect(openMrs('acme/api')).toHaveLength(1);
  });

  it('--details --dry-run shows each project plan with its GitLab steps; nothing is written', async () => {
    const r = await run({ group: 'acme', mergeRequest: true, dryRun: true, details: true });
    expect(r.error).toBeUndefined();
    for (const p of PROJECTS) {
      const id = fake.project(p)?.id;
      expect(r.out).toContain(`Plan for ${p} on https://gitlab.com`);
      expect(r.out).toContain(`open merge request ${SETUP_BRANCH} → main in project ${id}`);
    }
    expect(fake.mutatingCalls()).toEqual([]);
    expect(aws.mutatingCalls()).toEqual([]);
  });
});

describe('init --group --ci-variables', () => {
  it("one member's 403 on a variable write does not stop the others; the re-run finishes it", async () => {
    const web = fake.project('acme/web');
    fake.fault({ method: 'POST', path: `/projects/${web?.id}/variables`, times: 1, status: 403 });
    const flags = { group: 'acme', ciVariables: true, yes: true };
    const r = await run(flags);
    expect(r.error).toBeInstanceOf(FleetFailedError);
    expect(r.out).toContain('Done with failures: 4 applied, 1 failed (of 5 projects).');
    expect(r.out).toMatch(/✗ acme\/web \(failed\): .*403/);
    expect(r.out).toContain('resume: gitlab-aws-oidc');
    for (const p of PROJECTS.filter((x) => x !== 'acme/web'))
      expect(fake.project(p)?.variables.map((v) => v.key)).toEqual(['AWS_OIDC_ROLE_ARN', 'AWS_OIDC_REGION']);
    expect(web?.variables).toEqual([]);

    fake.clearCalls();
    const again = await run(flags);
    expect(again.error).toBeUndefined();
    expect(fake.mutatingCalls().map((c) => c.path)).toEqual([
      `/api/v4/projects/${web?.id}/variables`,
      `/api/v4/projects/${web?.id}/variables`,
    ]);
  });
});

describe('init --config with delivery per member', () => {
  const config = (body: string) => {
    const file = join(tmp.dir, 'gitlab-aws-oidc.yml');
    writeFileSync(file, body);
    return file;
  };
  const MIXED = [
    'version: 1',
    'defaults:',
    '  refs: { branches: [main] }',
    'projects:',
    '  - path: acme/api',
    '    delivery: merge-request',
    '  - path: acme/web',
    '    delivery: ci-variables',
    '  - path: acme/worker',
    '',
  ].join('\n');

  it("merge-request, ci-variables and the default none; --json lists each member's delivery", async () => {
    const file = config(MIXED);
    const r = await run({ config: file, yes: true, json: true });
    expect(r.error).toBeUndefined();
    const doc = JSON.parse(r.out);
    expect(doc.gitlabSteps).toEqual({ createVariable: 2, commit: 1, createMergeRequest: 1 });
    const [api, web, worker] = doc.members;
    expect(api).toMatchObject({
      project: 'acme/api',
      status: 'applied',
      mergeRequest: { action: 'create', branch: SETUP_BRANCH, targetBranch: 'main', iid: 1 },
      result: { mergeRequest: { iid: 1 } },
    });
    expect(api.ciVariables).toBeUndefined();
    expect(web).toMatchObject({
      project: 'acme/web',
      ciVariables: { roleArn: 'AWS_OIDC_ROLE_ARN', region: 'AWS_OIDC_REGION', protected: true },
    });
    expect(web.mergeRequest).toBeUndefined();
    expect(worker.mergeRequest).toBeUndefined();
    expect(worker.ciVariables).toBeUndefined();
    expect(openMrs('acme/api')).toHaveLength(1);
    expect(fake.project('acme/web')?.variables).toHaveLength(2);
    expect(fake.project('acme/worker')?.mergeRequests).toEqual([]);
    // Path entries are not listed: one lookup each (GET /projects/:id), no group listing.
    expect(fake.callsByRoute()['GET /projects/:id']).toBe(3);
    expect(fake.callsByRoute()['GET /groups/:id/projects']).toBeUndefined();

    fake.clearCalls();
    const again = await run({ config: file, yes: true });
    expect(again.out).toContain('No changes: all 3 projects already match.');
    expect(fake.mutatingCalls()).toEqual([]);
  });

  it('--merge-request on the command line is refused with --config, naming the field to use', async () => {
    const r = await run({ config: config(MIXED), mergeRequest: true, yes: true });
    expect(exitCodeFor(r.error)).toBe(2);
    expect((r.error as UsageError).issues).toContainEqual({
      field: '--merge-request',
      message:
        'is set in the config file with --config (defaults.delivery: merge-request, or a projects entry)',
    });
    expect(aws.calls()).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it('without a token: exit 2 naming the config line, before any AWS call and any GitLab write', async () => {
    for (const p of PROJECTS) fake.project(p)!.visibility = 'public';
    const r = await run({ config: config(MIXED), yes: true }, gitlabDeps(null));
    expect(r.error).toBeInstanceOf(UsageError);
    expect(exitCodeFor(r.error)).toBe(2);
    const text = [
      (r.error as UsageError).message,
      ...(r.error as UsageError).issues.map((i) => `${i.field}: ${i.message}`),
    ].join('\n');
    expect(text).toContain('gitlab-aws-oidc.yml:6:15');
    expect(text).toContain('gitlab-aws-oidc.yml:8:15');
    expect(text).toContain('changes GitLab, which needs a GitLab token; none was found');
    expect((r.error as UsageError).hint).toContain('api scope');
    expect(aws.calls()).toEqual([]);
    expect(fake.mutatingCalls()).toEqual([]);
  });

  it('--offline with a delivery in the file: exit 2 at its line (delivery reads GitLab), no call', async () => {
    const r = await run({ config: config(MIXED), dryRun: true, offline: true });
    expect(exitCodeFor(r.error)).toBe(2);
    const issues = (r.error as UsageError).issues.map((i) => `${i.field}: ${i.message}`).join('\n');
    expect(issues).toMatch(/gitlab-aws-oidc\.yml:6:15.*--offline never calls/);
    expect(issues).toMatch(/gitlab-aws-oidc\.yml:8:15.*--offline never calls/);
    expect(aws.calls()).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it('a delivery set in defaults and refused for every member is one line (at defaults.delivery)', async () => {
    const file = config(
      'version: 1\ndefaults:\n  refs: { branches: [main] }\n  delivery: merge-request\nprojects:\n  - path: acme/api\n  - path: acme/web\n  - path: acme/worker\n',
    );
    const r = await run({ config: file, yes: true }, {});
    expect(exitCodeFor(r.error)).toBe(2);
    const issues = (r.error as UsageError).issues;
    expect(issues).toHaveLength(1);
    expect(`${issues[0]?.field}: ${issues[0]?.message}`).toMatch(
      /gitlab-aws-oidc\.yml:4:13.*the token cannot see the project\) \(for acme\/api\)/,
    );
  });

  it('the default GitLab wiring with no token and no anonymous lookup: exit 2, no call at all', async () => {
    const r = await run({ config: config(MIXED), yes: true }, {});
    expect(exitCodeFor(r.error)).toBe(2);
    const issues = (r.error as UsageError).issues.map((i) => `${i.field}: ${i.message}`).join('\n');
    expect(issues).toMatch(/gitlab-aws-oidc\.yml:6:15.*needs the GitLab project, which was not looked up/);
    expect((r.error as UsageError).issues).toHaveLength(2);
    expect(aws.calls()).toEqual([]);
    expect(fake.calls).toEqual([]);
  });
});

describe('init --group without a token', () => {
  it('--merge-request is exit 2 naming the flag, after the listing and before any AWS call', async () => {
    for (const p of PROJECTS) fake.project(p)!.visibility = 'public';
    fake.group('acme')!.visibility = 'public';
    fake.group('acme/tools')!.visibility = 'public';
    const r = await run({ group: 'acme', mergeRequest: true, yes: true }, gitlabDeps(null));
    expect(exitCodeFor(r.error)).toBe(2);
    expect((r.error as UsageError).issues).toEqual([
      {
        field: '--merge-request',
        message: 'changes GitLab, which needs a GitLab token; none was found (for acme/api)',
      },
    ]);
    expect(aws.calls()).toEqual([]);
    expect(fake.mutatingCalls()).toEqual([]);
  });
});

describe('runFleet: a member re-planned against the shared provider', () => {
  it('keeps its GitLab reads and its delivery plan (no second parse and merge of its file)', async () => {
    const port = createGitlabClient({ baseUrl: fake.url, token: TOKEN, ca: fake.caPem });
    clients.push(port);
    const members = await Promise.all(
      PROJECTS.map((project) =>
        resolveInitOptions(
          { project, branch: ['main'], mergeRequest: true, yes: true },
          {
            cwd: tmp.dir,
            env: {},
            interactive: false,
            git: {},
            prompter: async () => {
              throw new Error('no prompts');
            },
            gitlab: async () => port,
          },
        ),
      ),
    );
    let planned = 0;
    fake.clearCalls();
    const fleet = await runFleet(members, {
      logger: createMemoryLogger(),
      interactive: false,
      aws: async () => aws.ports,
      resolveThumbprints: (issuer, override) => resolveThumbprints({ issuer, override }),
      retry: virtualClock(),
      gitlabFor: async () => port,
      planDelivery: (...args) => {
        planned++;
        return planGitlabDelivery(...args);
      },
    });
    expect(fleet.members.map((m) => m.status)).toEqual(PROJECTS.map(() => 'applied'));
    // One plan per member: the 4 re-planned after the first created the provider reuse theirs.
    expect(planned).toBe(5);
    expect(fake.callsByRoute()['GET /projects/:id/repository/files/:file_path']).toBe(5);
    for (const p of PROJECTS) expect(openMrs(p)).toHaveLength(1);
  });
});
