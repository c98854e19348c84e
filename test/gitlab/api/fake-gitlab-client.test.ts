/**
 * The real client (undici, TLS with the fake's CA) against the loopback fake GitLab: anonymous and
 * token lookups, a moved project, pagination over more than one page, a 429 waited out, GitLab's
 * "already exists" answers turned into idempotent results, writes, and the role/scope errors.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGitlabClient, type GitlabClient } from '../../../src/gitlab/api/client.js';
import type { GitlabApiError } from '../../../src/gitlab/api/errors.js';
import type { GitlabClientOptions } from '../../../src/gitlab/api/ports.js';
import { type FakeGitlab, startFakeGitlab } from '../../helpers/fake-gitlab.js';

let gitlab: FakeGitlab;
const clients: GitlabClient[] = [];
beforeAll(async () => {
  gitlab = await startFakeGitlab({ pathPrefix: '/gitlab' });
});
afterAll(() => gitlab.close());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  gitlab.reset();
});

function client(token: string | undefined, extra: Partial<GitlabClientOptions> = {}) {
  const sleeps: number[] = [];
  const c = createGitlabClient({
    baseUrl: gitlab.url,
    token,
    tokenSource: 'GITLAB_TOKEN',
    ca: gitlab.caPem,
    env: {},
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  clients.push(c);
  return { c, sleeps };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

describe('GitLab client against the fake GitLab', () => {
  it('anonymous: a public project is found, a private one is 404 with the set-a-token hint', async () => {
    gitlab.addProject('acme/site', { visibility: 'public' });
    gitlab.addProject('acme/secret', { visibility: 'private' });
    const { c } = client(undefined);
    const site = await c.getProject('acme/site');
    expect(site).toMatchObject({
      pathWithNamespace: 'acme/site',
      visibility: 'public',
      defaultBranch: 'main',
    });
    expect(site.namespace.fullPath).toBe('acme');
    const e = (await failure(c.getProject('acme/secret'))) as GitlabApiError;
    expect(e.status).toBe(404);
    expect(e.hint).toMatch(/Set GITLAB_TOKEN/);
  });

  it('a moved project is followed (movedFrom), and lists page through more than 100 items', async () => {
    const p = gitlab.addProject('acme/old-name', { visibility: 'private' });
    gitlab.addToken('glpat-m', { access: { acme: 'maintainer' } });
    for (let i = 0; i < 130; i++) gitlab.protectBranch(p, `release/${i}`);
    gitlab.moveProject(p, 'acme/new-name');
    const { c } = client('glpat-m');
    const moved = await c.getProject('acme/old-name');
    expect(moved).toMatchObject({ id: p.id, pathWithNamespace: 'acme/new-name', movedFrom: 'acme/old-name' });
    gitlab.clearCalls();
    const rules = await c.listProtectedBranches(p.id);
    expect(rules).toHaveLength(130);
    expect(gitlab.calls.map((call) => call.query.page ?? '1')).toEqual(['1', '2']);
    expect(gitlab.calls.every((call) => call.query.per_page === '100')).toBe(true);
  });

  it('a 429 is waited out with its Retry-After, then the call succeeds', async () => {
    const p = gitlab.addProject('acme/app');
    gitlab.addToken('glpat-m', { access: { acme: 'maintainer' } });
    gitlab.fault({
      method: 'GET',
      path: '/projects/:id/protected_tags',
      status: 429,
      retryAfterSec: 3,
      times: 2,
    });
    const { c, sleeps } = client('glpat-m');
    expect(await c.listProtectedTags(p.id)).toEqual([]);
    expect(sleeps).toEqual([3000, 3000]);
  });

  it('protecting what is already protected returns it (branch 409, tag 422); variables and MRs round-trip', async () => {
    const p = gitlab.addProject('acme/app', { files: { '.gitlab-ci.yml': 'stages: [test]\n' } });
    gitlab.addToken('glpat-m', { access: { acme: 'maintainer' } });
    const { c } = client('glpat-m');
    expect(await c.protectBranch(p.id, 'release/*')).toEqual({ name: 'release/*' });
    expect(await c.protectBranch(p.id, 'release/*')).toEqual({ name: 'release/*' });
    expect(await c.protectTag(p.id, 'v*')).toEqual({ name: 'v*' });
    expect(await c.protectTag(p.id, 'v*')).toEqual({ name: 'v*' });
    expect((await c.getBranch(p.id, 'main'))?.protected).toBe(false);

    const created = await c.createProjectVariable(p.id, {
      key: 'AWS_ROLE_ARN',
      value: 'arn:aws:iam::123456789012:role/x',
      protected: true,
      masked: false,
      raw: true,
    });
    expect(created).toMatchObject({ key: 'AWS_ROLE_ARN', protected: true, raw: true, environmentScope: '*' });
    const updated = await c.updateProjectVariable(p.id, {
      key: 'AWS_ROLE_ARN',
      value: 'arn:aws:iam::123456789012:role/y',
      protected: true,
      masked: false,
    });
    expect(updated.value).toBe('arn:aws:iam::123456789012:role/y');
    expect((await c.listProjectVariables(p.id)).map((v) => v.key)).toEqual(['AWS_ROLE_ARN']);

    const file = await c.getFile(p.id, '.gitlab-ci.yml', 'main');
    expect(Buffer.from(file!.content).toString()).toBe('stages: [test]\n');
    const commit = await c.createCommit(p.id, {
      branch: 'gitlab-aws-oidc/setup',
      startBranch: 'main',
      commitMessage: 'ci: AWS OIDC',
      actions: [
        {
          action: 'update',
          filePath: '.gitlab-ci.yml',
          content: 'stages: [deploy]\n',
          lastCommitId: file!.lastCommitId,
        },
      ],
    });
    expect(commit.id).toMatch(/^[0-9a-f]{40}$/);
    expect(gitlab.fileText(p, '.gitlab-ci.yml', 'gitlab-aws-oidc/setup')).toBe('stages: [deploy]\n');
    const mr = await c.createMergeRequest(p.id, {
      sourceBranch: 'gitlab-aws-oidc/setup',
      targetBranch: 'main',
      title: 'AWS OIDC',
      description: 'role …',
    });
    expect(mr).toMatchObject({ state: 'opened', sourceBranch: 'gitlab-aws-oidc/setup' });
    const open = await c.listOpenMergeRequests(p.id, { sourceBranch: 'gitlab-aws-oidc/setup' });
    expect(open.map((m) => m.iid)).toEqual([mr.iid]);
    // A second create without a retry is a real conflict: GitLab's message comes through.
    const dup = (await failure(
      c.createMergeRequest(p.id, {
        sourceBranch: 'gitlab-aws-oidc/setup',
        targetBranch: 'main',
        title: 't',
        description: 'd',
      }),
    )) as GitlabApiError;
    expect(dup.status).toBe(409);
    expect(dup.gitlabMessage).toMatch(/Another open merge request already exists/);
  });

  it('a read_api token on a write is 403 insufficient_scope; a Developer on protection is 403 naming Maintainer', async () => {
    const p = gitlab.addProject('acme/app');
    gitlab.addToken('glpat-read', { scopes: ['read_api'], access: { acme: 'maintainer' } });
    gitlab.addToken('glpat-dev', { access: { acme: 'developer' } });
    const read = (await failure(client('glpat-read').c.protectBranch(p.id, 'main'))) as GitlabApiError;
    expect(read.status).toBe(403);
    expect(read.hint).toMatch(/lacks a scope/);
    const dev = (await failure(client('glpat-dev').c.protectBranch(p.id, 'main'))) as GitlabApiError;
    expect(dev.status).toBe(403);
    expect(dev.hint).toMatch(/Maintainer role/);
    const bad = (await failure(client('glpat-unknown').c.getProject(p.id))) as GitlabApiError;
    expect(bad.status).toBe(401);
    expect(JSON.stringify([bad.message, bad.hint, bad.toJSON()])).not.toContain('glpat-unknown');
  });
});
