/**
 * `status --group` from the built binary: the fake GitLab over HTTPS (trusted through
 * NODE_EXTRA_CA_CERTS, reached with --gitlab-api-url) lists the group, the loopback IAM/STS holds what
 * `init` (the same binary) made. One JSON document with every selected project's state, the bulk read's
 * few calls, exit 0 with drift; a fleet with --project is exit 2 before any call.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { cliEnv, type IamServer, ROOT, runCli, startIamServer } from '../helpers/iam-server.js';

const TOKEN = 'glpat-e2e-status-fleet-0001';
let base: string;
let gitlab: FakeGitlab;
let server: IamServer;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js')))
    throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  base = mkdtempSync(join(tmpdir(), 'gao-e2e-status-fleet-'));
  gitlab = await startFakeGitlab();
  server = await startIamServer();
});
afterAll(async () => {
  await Promise.all([gitlab.close(), server.close()]);
  rmSync(base, { recursive: true, force: true });
});

function countBy(actions: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of actions) counts[a] = (counts[a] ?? 0) + 1;
  return counts;
}

describe('status --group (built binary)', () => {
  it('reports every selected project from one bulk read, over real HTTPS and the IAM query protocol', async () => {
    gitlab.addGroup('acme');
    for (const p of ['acme/api', 'acme/web', 'acme/docs']) gitlab.addProject(p);
    gitlab.addProject('acme/old', { archived: true });
    gitlab.addToken(TOKEN, { scopes: ['read_api'], access: { acme: 'reporter' } });
    const home = mkdtempSync(join(base, 'home-'));
    // init runs without a GitLab token (nothing is looked up on gitlab.com); status lists the group.
    const initEnv = cliEnv(server, home);
    for (const project of ['acme/api', 'acme/web']) {
      const init = await runCli(
        [
          'init',
          '--project',
          project,
          '--branch',
          'main',
          '--template',
          's3-deploy',
          '--template-param',
          `bucket=${project.replace('/', '-')}-site`,
          '--yes',
          '--json',
        ],
        {
          cwd: home,
          env: initEnv,
        },
      ).done;
      expect(init.code, init.stderr).toBe(0);
    }
    // acme/web's MaxSessionDuration changed by hand.
    const web = server.state.roles.get('gitlab-acme-web');
    if (!web) throw new Error('init made no gitlab-acme-web');
    web.maxSessionDuration = 7200;

    const env = cliEnv(server, home, { GITLAB_TOKEN: TOKEN, NODE_EXTRA_CA_CERTS: gitlab.writeCaFile(home) });
    const args = ['status', '--group', 'acme', '--gitlab-api-url', gitlab.url];
    const mark = server.requests.length;
    const written = server.mutating().length;
    const json = await runCli([...args, '--json'], { cwd: home, env }).done;
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({
      ok: true,
      command: 'status',
      fleet: true,
      account: server.account,
      selection: { kind: 'group', source: 'acme', projects: 3 },
      counts: { projects: 3, drift: 1, notSetUp: 1, skipped: 1 },
      attention: [{ project: 'acme/web', state: 'drift' }],
    });
    expect(doc.projects.map((p: { project: string; state: string }) => `${p.project} ${p.state}`)).toEqual([
      'acme/api in-sync',
      'acme/docs not-set-up',
      'acme/web drift',
    ]);
    expect(doc.selection.skipped).toMatchObject([{ project: 'acme/old', reason: 'archived' }]);
    expect(doc.roles.map((r: { name: string }) => r.name)).toEqual(['gitlab-acme-api', 'gitlab-acme-web']);
    expect(doc.roles[1].fields).toContainEqual(
      expect.objectContaining({ field: 'maxSessionDuration', provenance: 'drifted', current: 7200 }),
    );
    // The bulk read and the two tool policies' tags; nothing per project or role, nothing written.
    expect(countBy(server.requests.slice(mark))).toEqual({
      GetCallerIdentity: 1,
      ListOpenIDConnectProviders: 1,
      GetOpenIDConnectProvider: 1,
      ListRoles: 1,
      GetAccountAuthorizationDetails: 1,
      GetPolicy: 2,
    });
    expect(server.mutating().length).toBe(written);
    expect(gitlab.mutatingCalls()).toEqual([]);

    const table = await runCli(args, { cwd: home, env }).done;
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('Status of 3 selected projects (group acme)');
    expect(table.stdout).toContain(
      '1 in sync, 1 drifted, 0 with missing pieces, 0 without a record, 1 not set up; 1 skipped.',
    );
    expect(table.stdout).toMatch(/Need attention \(1\):\n {2}✗ acme\/web \(drift\)/);
    expect(table.stdout).not.toContain(TOKEN);
    expect(table.stderr).not.toContain(TOKEN);

    // A fleet with --project: exit 2 before any GitLab or AWS call.
    const requests = server.requests.length;
    const gitlabCalls = gitlab.calls.length;
    const bad = await runCli([...args, '--project', 'acme/api'], { cwd: home, env }).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--group');
    expect(server.requests.length).toBe(requests);
    expect(gitlab.calls.length).toBe(gitlabCalls);
  });
});
