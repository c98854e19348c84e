/**
 * The built binary, with a GitLab token, against the loopback IAM/STS and the loopback fake GitLab:
 * `init --sub-claim project-id` sets the project's sub claim and writes the trust on its ID (a re-run
 * writes nothing), `audit` confirms or clears the protection finding of a project_id-first role from the
 * project's real rules, and `verify --project` simulates the job as GitLab runs it (project_id sub).
 * The token is never printed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/aws/apply.js';
import { readCurrentState } from '../../src/aws/read-state.js';
import { buildDesiredState } from '../../src/core/desired-state.js';
import { parseIssuerUrl } from '../../src/core/issuer.js';
import { buildPlan } from '../../src/core/plan.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { cliEnv, createServerPorts, type IamServer, runCli, startIamServer } from '../helpers/iam-server.js';

const TOKEN = 'glpat-e2e-reporter-0123456789';
const MAINTAINER = 'glpat-e2e-maintainer-9876543210';
const URL = 'https://gitlab.example.com';
let server: IamServer;
let gitlab: FakeGitlab;
let dir: string;
let cwd: string;
let home: string;
let caFile: string;
let roleArn: string;

beforeAll(async () => {
  server = await startIamServer();
  gitlab = await startFakeGitlab({ protectedRefsReadAccess: 'reporter' });
  const project = gitlab.addProject('ops/deploy', { id: 314 });
  project.subClaimComponents = ['project_id', 'ref_type', 'ref'];
  gitlab.protectBranch(project, 'main');
  gitlab.addToken(TOKEN, { scopes: ['read_api'], access: { 'ops/deploy': 'reporter' } });
  gitlab.addProject('ops/site', { id: 271 });
  gitlab.protectBranch('ops/site', 'main');
  gitlab.addToken(MAINTAINER, { scopes: ['api'], access: { 'ops/site': 'maintainer' } });
  dir = mkdtempSync(join(tmpdir(), 'gao-e2e-gitlab-'));
  cwd = join(dir, 'repo');
  home = join(dir, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
  caFile = gitlab.writeCaFile(dir);

  // The role as `init --sub-claim project-id` writes it (the same pure desired state, plan and apply).
  const ports = createServerPorts(server);
  const { desired } = buildDesiredState({
    identity: { account: server.account, partition: 'aws' },
    issuer: parseIssuerUrl(URL),
    audience: URL,
    projectPath: 'ops/deploy',
    projectId: '314',
    subClaim: 'project_id',
    refs: [
      { type: 'branch', pattern: 'main' },
      { type: 'branch', pattern: 'release/*' },
    ],
    roleName: 'gitlab-ops-deploy',
    thumbprints: ['c'.repeat(40)],
  });
  roleArn = desired.role.arn;
  const current = await readCurrentState(ports.iam, {
    providerArn: desired.provider.arn,
    roleName: desired.role.name,
  });
  await applyPlan(buildPlan(desired, current), ports.iam, { retry: { sleep: async () => {} } });
});
afterAll(async () => {
  await Promise.all([server?.close(), gitlab?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = async (args: string[]) => {
  const env = cliEnv(server, home, { GITLAB_TOKEN: TOKEN, NODE_EXTRA_CA_CERTS: caFile });
  const r = await runCli([...args, '--gitlab-url', URL, '--gitlab-api-url', gitlab.url, '--json'], {
    cwd,
    env,
  }).done;
  expect(r.stdout + r.stderr).not.toContain(TOKEN);
  return { ...r, json: JSON.parse(r.stdout) as Record<string, unknown> };
};

describe('init --sub-claim project-id (built binary)', () => {
  const init = async (extra: string[] = []) => {
    const env = cliEnv(server, home, { GITLAB_TOKEN: MAINTAINER, NODE_EXTRA_CA_CERTS: caFile });
    const args = ['init', '--gitlab-url', URL, '--gitlab-api-url', gitlab.url, '--project', 'ops/site'];
    args.push(
      '--branch',
      'main',
      '--thumbprint',
      'c'.repeat(40),
      '--no-ci-file',
      '--yes',
      '--json',
      ...extra,
    );
    const r = await runCli(args, { cwd, env }).done;
    expect(r.stdout + r.stderr).not.toContain(MAINTAINER);
    return { ...r, json: JSON.parse(r.stdout) as Record<string, unknown> };
  };

  it('sets the sub claim, then the trust on project_id; the re-run makes no GitLab write', async () => {
    const first = await init(['--sub-claim', 'project-id']);
    expect(first.stderr).toContain('The trust names project ID 271 of ops/site in sub, from GitLab.');
    expect(first.code).toBe(0);
    expect(first.json.status).toBe('applied');
    expect(gitlab.project('ops/site')?.subClaimComponents).toEqual(['project_id', 'ref_type', 'ref']);
    const trust = decodeURIComponent(String(server.state.roles.get('gitlab-ops-site')?.trustPolicy));
    expect(trust).toContain('project_id:271:ref_type:branch:ref:main');
    gitlab.clearCalls();
    const again = await init();
    expect(again.code).toBe(0);
    expect(again.json.status).toBe('no-changes');
    expect(gitlab.mutatingCalls()).toEqual([]);
  });
});

describe('audit and verify read GitLab with a token (built binary)', () => {
  it('audit: the ref pattern is confirmed unprotected, then cleared once GitLab protects it', async () => {
    let r = await run(['audit', '--role', 'gitlab-ops-deploy']);
    expect(r.code).toBe(0);
    const findings = r.json.findings as { ruleId: string; why: string }[];
    expect(findings.find((f) => f.ruleId === 'GAO010')?.why).toMatch(
      /^confirmed unprotected: branch release\/\*/,
    );
    expect(r.json.gitlab).toMatchObject({ url: URL, checked: true, cleared: [] });

    gitlab.protectBranch('ops/deploy', 'release/*');
    r = await run(['audit', '--role', 'gitlab-ops-deploy']);
    expect((r.json.findings as { ruleId: string }[]).map((f) => f.ruleId)).not.toContain('GAO010');
    expect((r.json.gitlab as { cleared: unknown[] }).cleared).toEqual([
      { role: 'gitlab-ops-deploy', ruleId: 'GAO010', refs: ['release/*'], project: 'project 314' },
    ]);
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('verify --project: the job as GitLab runs it (project_id sub, ref_protected) may assume the role', async () => {
    const r = await run(['verify', '--role-arn', roleArn, '--project', 'ops/deploy', '--branch', 'main']);
    expect(r.code).toBe(0);
    expect(r.json.claims).toMatchObject({
      sub: 'project_id:314:ref_type:branch:ref:main',
      project_id: '314',
      ref_protected: 'true',
    });
    expect((r.json.gitlab as { filled: string[] }).filled).toEqual([
      'project_id',
      'namespace_id',
      'ref_protected',
      'sub components',
    ]);
  });
});
