/**
 * A fleet to run `audit`/`destroy` over: group `acme` on the loopback fake GitLab (10 projects, two
 * archived, one empty repository, one in a subgroup the tests exclude) and, in the in-memory IAM,
 * what `init` made for some of them plus a project outside the group. The GitLab port is the real
 * client (createGitlabPort with the fake's CA), as the selection's own tests use it.
 */
import type { GitlabClient } from '../../src/gitlab/api/client.js';
import { createGitlabPort } from '../../src/gitlab/api/factory.js';
import { initProject } from '../status/init-helper.js';
import type { FakeAws } from './fake-aws.js';
import type { FakeGitlab } from './fake-gitlab.js';

export const GROUP_PROJECTS = [
  'acme/api',
  'acme/web',
  'acme/worker',
  'acme/docs',
  'acme/tools/cli',
  'acme/tools/lint',
  'acme/sandbox/tmp',
  'acme/empty',
] as const;
export const ARCHIVED = ['acme/legacy/old1', 'acme/legacy/old2'] as const;

/** Projects init was run for (their roles and tool policies exist). */
export const ONBOARDED = [
  'acme/api',
  'acme/web',
  'acme/worker',
  'acme/tools/cli',
  'acme/sandbox/tmp',
  'acme/empty',
  'acme/legacy/old1',
  'other/thing',
] as const;

export function seedGitlab(gitlab: FakeGitlab): void {
  gitlab.addGroup('acme');
  gitlab.addGroup('acme/tools');
  gitlab.addGroup('acme/sandbox');
  gitlab.addGroup('acme/legacy');
  gitlab.addGroup('other');
  for (const p of GROUP_PROJECTS) {
    gitlab.addProject(p, p === 'acme/empty' ? { defaultBranch: null } : {});
  }
  for (const p of ARCHIVED) gitlab.addProject(p, { archived: true });
  gitlab.addProject('other/thing');
  gitlab.addToken('glpat-reader', { scopes: ['read_api'], access: { acme: 'reporter' } });
}

export async function seedIam(fake: FakeAws): Promise<void> {
  for (const project of ONBOARDED) await initProject(fake, { project });
}

/** The selection's GitLab port: the real client against the fake, closed by `closeAll`. */
export function gitlabPorts(gitlab: FakeGitlab) {
  const clients: GitlabClient[] = [];
  return {
    gitlab: () => {
      const c = createGitlabPort({
        apiBase: gitlab.url,
        token: { token: 'glpat-reader', source: 'GITLAB_TOKEN', kind: 'private-token' },
        ca: gitlab.caPem,
        env: {},
      });
      clients.push(c);
      return c;
    },
    closeAll: () => Promise.all(clients.splice(0).map((c) => c.close())),
  };
}

/** IAM calls by action, from the `since`-th call on. */
export function callsByAction(fake: FakeAws, since = 0): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of fake.calls().slice(since)) counts[c.command] = (counts[c.command] ?? 0) + 1;
  return counts;
}
