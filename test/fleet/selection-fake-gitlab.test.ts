/**
 * The selection through the real GitLab client (createGitlabPort, TLS with the fake's CA) against the
 * loopback fake GitLab: a group with subgroups over more than one page, archived and empty projects,
 * and a config file whose members are validated by init's parsing; GitLab is only read.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveSelection } from '../../src/fleet/selection.js';
import type { GitlabClient } from '../../src/gitlab/api/client.js';
import { createGitlabPort } from '../../src/gitlab/api/factory.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { tempDir } from '../init/helpers.js';

let gitlab: FakeGitlab;
const clients: GitlabClient[] = [];
beforeAll(async () => {
  gitlab = await startFakeGitlab({});
});
afterAll(() => gitlab.close());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  gitlab.reset();
});

const port = () => {
  const c = createGitlabPort({
    apiBase: gitlab.url,
    token: { token: 'glpat-reader', source: 'GITLAB_TOKEN', kind: 'private-token' },
    ca: gitlab.caPem,
    env: {},
  });
  clients.push(c);
  return c;
};

describe('resolveSelection against the fake GitLab, through the real client', () => {
  it('a 130-project group with subgroups: pages followed, archived and empty skipped, config merged', async () => {
    gitlab.addGroup('acme');
    gitlab.addGroup('acme/web');
    for (let i = 0; i < 120; i++) gitlab.addProject(`acme/app-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < 8; i++) gitlab.addProject(`acme/web/site-${i}`, { defaultBranch: 'trunk' });
    gitlab.addProject('acme/web/old', { archived: true });
    gitlab.addProject('acme/web/empty', { defaultBranch: null });
    gitlab.addProject('other/elsewhere');
    gitlab.addToken('glpat-reader', { scopes: ['read_api'], access: { acme: 'reporter' } });

    const tmp = tempDir();
    try {
      writeFileSync(
        join(tmp.dir, 'gitlab-aws-oidc.yml'),
        [
          'version: 1',
          'group: acme',
          'exclude: ["acme/app-11*"]',
          'defaults:',
          '  roleName: ci-{path}',
          'projects:',
          '  - match: "acme/web/*"',
          '    tags: { team: web }',
          '',
        ].join('\n'),
      );
      const urls: (string | undefined)[] = [];
      const r = await resolveSelection(
        { kind: 'config', file: 'gitlab-aws-oidc.yml', include: [], exclude: [] },
        { yes: true },
        {
          cwd: tmp.dir,
          env: {},
          gitlab: (url) => {
            urls.push(url);
            return port();
          },
        },
      );
      expect(urls).toEqual([undefined]);
      // 120 + 8 listed, minus the 10 excluded (app-110…app-119).
      expect(r.members).toHaveLength(118);
      const site = r.members.find((m) => m.project === 'acme/web/site-3');
      expect(site?.flags).toMatchObject({
        branch: ['trunk'],
        roleName: 'ci-acme-web-site-3',
        awsTag: ['team=web'],
      });
      expect(site?.gitlab?.projectId).toEqual(expect.any(Number));
      expect(r.skipped.map((s) => `${s.project}: ${s.reason}`)).toEqual([
        ...Array.from({ length: 10 }, (_, i) => `acme/app-11${i}: excluded`),
        'acme/web/empty: empty-repository',
        'acme/web/old: archived',
      ]);
      expect(r.members.some((m) => m.project.startsWith('other/'))).toBe(false);
      // One listing, two pages of 100, and nothing written.
      const routes = gitlab.calls.map((c) => c.route);
      expect(new Set(routes)).toEqual(new Set(['GET /groups/:id/projects']));
      expect(routes.length).toBe(2);
      expect(gitlab.mutatingCalls()).toEqual([]);
    } finally {
      tmp.cleanup();
    }
  });
});
