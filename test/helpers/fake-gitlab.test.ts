import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeGitlab, gitlabRefMatches, startFakeGitlab } from './fake-gitlab.js';

let gitlab: FakeGitlab;
let agent: Agent;

const MAINTAINER = 'glpat-maintainer';
const DEVELOPER = 'glpat-developer';
const READER = 'glpat-read-api';
const OWNER = 'glpat-owner';

function seed(g: FakeGitlab): void {
  const api = g.addProject('acme/platform/api', {
    id: 20,
    files: { '.gitlab-ci.yml': 'stages: [test]\n' },
    branches: ['release/1.0', 'feature/x'],
  });
  g.addProject('acme/platform/web', { id: 21, visibility: 'public' });
  g.addProject('acme/old', { id: 22, archived: true });
  g.addProject('acme/tools/deep/lib', { id: 23 });
  g.addProject('other/secret', { id: 30 });
  g.protectBranch(api, 'main');
  g.protectBranch(api, 'release/*');
  g.protectTag(api, 'v*');
  g.addToken(MAINTAINER, {
    username: 'maint',
    access: { 'acme/platform/api': 'maintainer', acme: 'reporter' },
  });
  g.addToken(DEVELOPER, { username: 'dev', access: { 20: 'developer' } });
  g.addToken(READER, { username: 'reader', scopes: ['read_api'], access: { acme: 'maintainer' } });
  g.addToken(OWNER, { username: 'owner', access: { acme: 'owner' } });
  g.addToken('glpat-expired', { state: 'expired', access: { acme: 'owner' } });
}

beforeAll(async () => {
  gitlab = await startFakeGitlab({ pathPrefix: '/gitlab', oidc: true, seed });
  agent = new Agent({ connect: { ca: gitlab.caPem } });
});
afterAll(async () => {
  await agent.close();
  await gitlab.close();
});
beforeEach(() => gitlab.reset());

interface Res {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}
async function call(
  method: string,
  path: string,
  options: { token?: string; bearer?: string; json?: unknown; form?: string } = {},
): Promise<Res> {
  const headers: Record<string, string> = {};
  if (options.token) headers['private-token'] = options.token;
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = options.form;
  }
  const res = await fetch(`${gitlab.apiUrl}${path}`, {
    method,
    headers,
    body,
    dispatcher: agent,
    redirect: 'manual',
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed, text };
}
const get = (path: string, token?: string) => call('GET', path, { token });

describe('fake GitLab: server', () => {
  it('binds 127.0.0.1 under the path prefix, answers /version with a token and 401 without', async () => {
    expect(gitlab.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/gitlab$/);
    expect((await get('/version', READER)).body).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+/),
    });
    expect(await get('/version')).toMatchObject({ status: 401, body: { message: '401 Unauthorized' } });
    const outside = await fetch(`https://127.0.0.1:${gitlab.port}/api/v4/version`, { dispatcher: agent });
    expect(outside.status).toBe(404);
    expect(await get('/nope', MAINTAINER)).toMatchObject({ status: 404, body: { error: '404 Not Found' } });
  });

  it('GET /user names the token user; PRIVATE-TOKEN and Bearer both work; bad tokens get 401', async () => {
    expect((await get('/user', MAINTAINER)).body).toMatchObject({
      username: 'maint',
      id: expect.any(Number),
    });
    expect((await call('GET', '/user', { bearer: DEVELOPER })).body).toMatchObject({ username: 'dev' });
    expect(await get('/user', 'glpat-wrong')).toMatchObject({
      status: 401,
      body: { message: '401 Unauthorized' },
    });
    expect(await get('/user', 'glpat-expired')).toMatchObject({
      status: 401,
      body: { error: 'invalid_token' },
    });
  });

  it('serves OIDC discovery and JWKS at the same URL, and its minted tokens verify', async () => {
    const disc = await fetch(`${gitlab.url}/.well-known/openid-configuration`, { dispatcher: agent });
    const doc = (await disc.json()) as { issuer: string; jwks_uri: string };
    expect(doc).toMatchObject({ issuer: gitlab.url, jwks_uri: gitlab.jwksUri });
    const token = await gitlab.mintToken({ project_id: '20' });
    const jwks = (await (await fetch(doc.jwks_uri, { dispatcher: agent })).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: gitlab.url });
    expect(payload).toMatchObject({ iss: gitlab.url, project_id: '20' });
  });
});

describe('fake GitLab: projects', () => {
  it('looks a project up by ID and by URL-encoded path; an unencoded slash is another route (404)', async () => {
    const byId = await get('/projects/20', MAINTAINER);
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({
      id: 20,
      path_with_namespace: 'acme/platform/api',
      default_branch: 'main',
      visibility: 'private',
      archived: false,
      web_url: `${gitlab.url}/acme/platform/api`,
      namespace: { kind: 'group', full_path: 'acme/platform', id: expect.any(Number) },
      ci_id_token_sub_claim_components: ['project_path', 'ref_type', 'ref'],
    });
    expect((await get('/projects/acme%2Fplatform%2Fapi', MAINTAINER)).body).toMatchObject({ id: 20 });
    expect(await get('/projects/acme/platform/api', MAINTAINER)).toMatchObject({
      status: 404,
      body: { error: '404 Not Found' },
    });
  });

  it('hides private projects from anonymous and non-members (404), shows public ones to anyone', async () => {
    expect(await get('/projects/20')).toMatchObject({
      status: 404,
      body: { message: '404 Project Not Found' },
    });
    expect(await get('/projects/30', MAINTAINER)).toMatchObject({ status: 404 });
    expect((await get('/projects/acme%2Fplatform%2Fweb')).body).toMatchObject({
      id: 21,
      visibility: 'public',
    });
    expect((await get('/projects/22', MAINTAINER)).body).toMatchObject({ archived: true });
  });

  it('redirects GET on a moved project (301 to the ID URL, rest and query kept) and refuses other methods (405)', async () => {
    gitlab.moveProject(20, 'acme/renamed/api');
    const res = await get(
      '/projects/acme%2Fplatform%2Fapi/repository/files/.gitlab-ci.yml?ref=main',
      MAINTAINER,
    );
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe(
      `${gitlab.apiUrl}/projects/20/repository/files/.gitlab-ci.yml?ref=main`,
    );
    const put = await call('PUT', '/projects/acme%2Fplatform%2Fapi', { token: MAINTAINER, json: {} });
    expect(put).toMatchObject({
      status: 405,
      body: { message: 'Non GET methods are not allowed for moved projects' },
    });
    expect((await get('/projects/acme%2Frenamed%2Fapi', MAINTAINER)).body).toMatchObject({ id: 20 });
  });

  it('PUT ci_id_token_sub_claim_components: Maintainer, validated, absent on an instance without it', async () => {
    const ok = await call('PUT', '/projects/20', {
      token: MAINTAINER,
      json: { ci_id_token_sub_claim_components: ['project_id', 'ref_type', 'ref'] },
    });
    expect(ok.body).toMatchObject({ ci_id_token_sub_claim_components: ['project_id', 'ref_type', 'ref'] });
    expect(gitlab.project(20)!.subClaimComponents).toEqual(['project_id', 'ref_type', 'ref']);
    const bad = await call('PUT', '/projects/20', {
      token: MAINTAINER,
      json: { ci_id_token_sub_claim_components: ['ref', 'bogus'] },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('must be the first element of the sub claim');
    expect(JSON.stringify(bad.body)).toContain('bogus is not an allowed sub claim component');
    expect(
      await call('PUT', '/projects/20', {
        token: DEVELOPER,
        json: { ci_id_token_sub_claim_components: ['project_path'] },
      }),
    ).toMatchObject({ status: 403, body: { message: '403 Forbidden' } });
    expect(
      await call('PUT', '/projects/20', {
        token: READER,
        json: { ci_id_token_sub_claim_components: ['project_path'] },
      }),
    ).toMatchObject({ status: 403, body: { error: 'insufficient_scope', scope: 'api' } });

    gitlab.state.subClaimSupported = false;
    const alone = await call('PUT', '/projects/20', {
      token: MAINTAINER,
      json: { ci_id_token_sub_claim_components: ['project_path'] },
    });
    expect(alone.status).toBe(400);
    expect(alone.body).toMatchObject({
      error: expect.stringContaining('at least one parameter must be provided'),
    });
    const old = await call('PUT', '/projects/20', {
      token: MAINTAINER,
      json: { ci_id_token_sub_claim_components: ['project_path'], description: 'd' },
    });
    expect(old.status).toBe(200);
    expect(old.body).not.toHaveProperty('ci_id_token_sub_claim_components');
    expect(gitlab.project(20)!.subClaimComponents).toEqual(['project_id', 'ref_type', 'ref']);
  });

  it('17.10 mode accepts only project_path first', async () => {
    gitlab.state.subClaimProjectId = false;
    const res = await call('PUT', '/projects/20', {
      token: MAINTAINER,
      json: { ci_id_token_sub_claim_components: ['project_id', 'ref'] },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('project_path must be the first element of the sub claim');
  });
});

describe('fake GitLab: groups and pagination', () => {
  beforeEach(() => {
    for (let i = 0; i < 230; i++) gitlab.addProject(`fleet/team${i % 3}/p${String(i).padStart(3, '0')}`);
    gitlab.addProject('fleet/gone', { archived: true });
    gitlab.addToken('glpat-fleet', { access: { fleet: 'owner' } });
  });

  it('looks groups up by ID and path; lists descendant groups', async () => {
    const g = await get('/groups/fleet', 'glpat-fleet');
    expect(g.body).toMatchObject({ full_path: 'fleet', parent_id: null });
    const id = (g.body as { id: number }).id;
    expect((await get(`/groups/${id}`, 'glpat-fleet')).body).toMatchObject({ full_path: 'fleet' });
    expect((await get('/groups/fleet%2Fteam1', 'glpat-fleet')).body).toMatchObject({ parent_id: id });
    const d = await get('/groups/fleet/descendant_groups', 'glpat-fleet');
    expect((d.body as { full_path: string }[]).map((x) => x.full_path)).toEqual([
      'fleet/team0',
      'fleet/team1',
      'fleet/team2',
    ]);
    expect(await get('/groups/fleet', MAINTAINER)).toMatchObject({
      status: 404,
      body: { message: '404 Group Not Found' },
    });
  });

  it('pages /groups/:id/projects with GitLab headers (per_page capped at 100), subgroups and archived filters', async () => {
    const first = await get('/groups/fleet/projects?include_subgroups=true&per_page=500', 'glpat-fleet');
    expect(first.headers.get('x-per-page')).toBe('100');
    expect(first.headers.get('x-total')).toBe('231');
    expect(first.headers.get('x-total-pages')).toBe('3');
    expect(first.headers.get('x-next-page')).toBe('2');
    expect(first.headers.get('x-prev-page')).toBe('');
    expect(first.headers.get('link')).toContain('rel="next"');
    expect(first.headers.get('link')).toContain('rel="last"');
    expect(first.body).toHaveLength(100);

    const seen = new Set<number>();
    let next: string | null =
      `${gitlab.apiUrl}/groups/fleet/projects?include_subgroups=true&archived=false&per_page=100`;
    let pages = 0;
    while (next) {
      const res = await fetch(next, { headers: { 'private-token': 'glpat-fleet' }, dispatcher: agent });
      for (const p of (await res.json()) as { id: number; archived: boolean }[]) {
        expect(p.archived).toBe(false);
        seen.add(p.id);
      }
      next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen.size).toBe(230);

    const direct = await get('/groups/fleet/projects', 'glpat-fleet');
    expect((direct.body as { path_with_namespace: string }[]).map((p) => p.path_with_namespace)).toEqual([
      'fleet/gone',
    ]);
    const last = await get(
      '/groups/fleet/projects?include_subgroups=true&per_page=100&page=3',
      'glpat-fleet',
    );
    expect(last.headers.get('x-next-page')).toBe('');
    expect(last.body).toHaveLength(31);
  });
});

describe('fake GitLab: visibility and large lists', () => {
  it('anonymous sees public projects of a public group; internal needs any token', async () => {
    gitlab.addGroup('open', { visibility: 'public' });
    gitlab.addProject('open/pub', { visibility: 'public' });
    gitlab.addProject('open/int', { visibility: 'internal' });
    gitlab.addProject('open/priv');
    const anon = await get('/groups/open/projects');
    expect((anon.body as { path: string }[]).map((p) => p.path)).toEqual(['pub']);
    const any = await get('/groups/open/projects?sort=asc', DEVELOPER);
    expect((any.body as { path: string }[]).map((p) => p.path)).toEqual(['pub', 'int']);
    expect(
      await call('POST', '/projects/open%2Fpub/variables', { json: { key: 'K', value: 'v' } }),
    ).toMatchObject({
      status: 401,
    });
  });

  it('above 10,000 records leaves out X-Total, X-Total-Pages and rel="last"', async () => {
    const p = gitlab.project(20)!;
    for (let i = 0; i < 10_001; i++) {
      p.protectedBranches.push({
        id: 1000 + i,
        name: `b${i}`,
        accessLevel: 40,
        mergeAccessLevel: 40,
        allowForcePush: false,
      });
    }
    const res = await get('/projects/20/protected_branches?per_page=100&page=2', MAINTAINER);
    expect(res.headers.get('x-total')).toBeNull();
    expect(res.headers.get('x-total-pages')).toBeNull();
    expect(res.headers.get('x-next-page')).toBe('3');
    expect(res.headers.get('link')).not.toContain('rel="last"');
    expect(res.headers.get('link')).toContain('rel="prev"');
  });
});

describe('fake GitLab: branches and protected refs', () => {
  it('evaluates protected with GitLab wildcards (* spans slashes)', async () => {
    expect(gitlabRefMatches('release/*', 'release/1.0')).toBe(true);
    expect(gitlabRefMatches('release/*', 'release/a/b')).toBe(true);
    expect(gitlabRefMatches('*-stable', 'production/app-stable')).toBe(true);
    expect(gitlabRefMatches('v*', 'release')).toBe(false);
    expect(gitlabRefMatches('rel.ase', 'release')).toBe(false);
    const rel = await get('/projects/20/repository/branches/release%2F1.0', DEVELOPER);
    expect(rel.body).toMatchObject({
      name: 'release/1.0',
      protected: true,
      default: false,
      commit: { id: expect.any(String) },
    });
    expect((await get('/projects/20/repository/branches/feature%2Fx', DEVELOPER)).body).toMatchObject({
      protected: false,
    });
    expect((await get('/projects/20/repository/branches/main', DEVELOPER)).body).toMatchObject({
      protected: true,
      default: true,
    });
    expect(await get('/projects/20/repository/branches/nope', DEVELOPER)).toMatchObject({
      status: 404,
      body: { message: '404 Branch Not Found' },
    });
  });

  it('lists and creates protected branches and tags with GitLab shapes and duplicate errors', async () => {
    const list = await get('/projects/20/protected_branches', MAINTAINER);
    expect(list.body).toEqual([
      expect.objectContaining({
        name: 'main',
        push_access_levels: [expect.objectContaining({ access_level: 40 })],
      }),
      expect.objectContaining({ name: 'release/*' }),
    ]);
    expect(await get('/projects/20/protected_branches', DEVELOPER)).toMatchObject({ status: 403 });
    const created = await call('POST', '/projects/20/protected_branches', {
      token: MAINTAINER,
      json: { name: 'hotfix/*' },
    });
    expect(created).toMatchObject({ status: 201, body: { name: 'hotfix/*' } });
    expect(
      await call('POST', '/projects/20/protected_branches', { token: MAINTAINER, form: 'name=main' }),
    ).toMatchObject({
      status: 409,
      body: { message: "Protected branch 'main' already exists" },
    });
    expect(
      await call('POST', '/projects/20/protected_branches', { token: DEVELOPER, json: { name: 'x' } }),
    ).toMatchObject({
      status: 403,
      body: { message: '403 Forbidden' },
    });
    expect((await get('/projects/20/protected_tags', MAINTAINER)).body).toEqual([
      { name: 'v*', create_access_levels: [expect.objectContaining({ access_level: 40 })] },
    ]);
    expect(
      await call('POST', '/projects/20/protected_tags', { token: MAINTAINER, json: { name: 'v*' } }),
    ).toMatchObject({
      status: 422,
      body: { message: ['Name has already been taken'] },
    });
    expect(
      await call('POST', '/projects/20/protected_tags', { token: MAINTAINER, json: { name: 'rel-*' } }),
    ).toMatchObject({
      status: 201,
    });
    expect(gitlab.mutatingCalls().map((c) => [c.route, c.status])).toEqual([
      ['POST /projects/:id/protected_branches', 201],
      ['POST /projects/:id/protected_branches', 409],
      ['POST /projects/:id/protected_branches', 403],
      ['POST /projects/:id/protected_tags', 422],
      ['POST /projects/:id/protected_tags', 201],
    ]);
  });

  it('refuses writes to an archived project', async () => {
    gitlab.addToken('glpat-old', { access: { 22: 'maintainer' } });
    expect(
      await call('POST', '/projects/22/protected_branches', { token: 'glpat-old', json: { name: 'main' } }),
    ).toMatchObject({
      status: 403,
    });
  });
});

describe('fake GitLab: CI/CD variables', () => {
  it('project variables: create, duplicate (400), scopes, filter, update, delete, Maintainer only', async () => {
    const v = { key: 'AWS_ROLE_ARN', value: 'arn:aws:iam::123456789012:role/x', protected: true };
    expect(await call('POST', '/projects/20/variables', { token: MAINTAINER, json: v })).toMatchObject({
      status: 201,
      body: {
        key: 'AWS_ROLE_ARN',
        value: v.value,
        protected: true,
        masked: false,
        hidden: false,
        environment_scope: '*',
      },
    });
    expect(await call('POST', '/projects/20/variables', { token: MAINTAINER, json: v })).toMatchObject({
      status: 400,
      body: { message: { key: ['(AWS_ROLE_ARN) has already been taken'] } },
    });
    await call('POST', '/projects/20/variables', {
      token: MAINTAINER,
      json: { ...v, environment_scope: 'prod' },
    });
    expect(await get('/projects/20/variables/AWS_ROLE_ARN', MAINTAINER)).toMatchObject({ status: 409 });
    expect(
      (await get('/projects/20/variables/AWS_ROLE_ARN?filter[environment_scope]=prod', MAINTAINER)).body,
    ).toMatchObject({ environment_scope: 'prod' });
    const upd = await call('PUT', '/projects/20/variables/AWS_ROLE_ARN?filter[environment_scope]=*', {
      token: MAINTAINER,
      json: { value: 'new', protected: false },
    });
    expect(upd.body).toMatchObject({ value: 'new', protected: false, environment_scope: '*' });
    expect((await get('/projects/20/variables', MAINTAINER)).body).toHaveLength(2);
    const del = await call('DELETE', '/projects/20/variables/AWS_ROLE_ARN?filter[environment_scope]=prod', {
      token: MAINTAINER,
    });
    expect(del.status).toBe(204);
    expect(await get('/projects/20/variables/NOPE', MAINTAINER)).toMatchObject({
      status: 404,
      body: { message: '404 Variable Not Found' },
    });
    expect(await get('/projects/20/variables', DEVELOPER)).toMatchObject({ status: 403 });
    expect(
      await call('POST', '/projects/20/variables', {
        token: MAINTAINER,
        json: { key: 'bad-key', value: 'x' },
      }),
    ).toMatchObject({
      status: 400,
    });
    expect(gitlab.project(20)!.variables.map((x) => [x.key, x.value, x.environmentScope])).toEqual([
      ['AWS_ROLE_ARN', 'new', '*'],
    ]);
  });

  it('hidden variables never return their value', async () => {
    const res = await call('POST', '/projects/20/variables', {
      token: MAINTAINER,
      json: {
        key: 'AWS_SECRET_ACCESS_KEY',
        value: 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY',
        masked_and_hidden: true,
      },
    });
    expect(res.body).toMatchObject({ value: null, hidden: true, masked: true });
    expect((await get('/projects/20/variables', MAINTAINER)).body).toEqual([
      expect.objectContaining({ key: 'AWS_SECRET_ACCESS_KEY', value: null, hidden: true }),
    ]);
    expect((await get('/projects/20/variables/AWS_SECRET_ACCESS_KEY', MAINTAINER)).text).not.toContain(
      'wJalr',
    );
  });

  it('group variables need Owner', async () => {
    gitlab.addGroupVariable('acme', 'AWS_ACCESS_KEY_ID', { value: 'AKIAIOSFODNN7EXAMPLE' });
    gitlab.addGroupVariable('acme', 'AWS_SECRET_ACCESS_KEY', { value: 'secret-secret', hidden: true });
    const list = await get('/groups/acme/variables', OWNER);
    expect(list.body).toEqual([
      expect.objectContaining({ key: 'AWS_ACCESS_KEY_ID', value: 'AKIAIOSFODNN7EXAMPLE' }),
      expect.objectContaining({ key: 'AWS_SECRET_ACCESS_KEY', value: null, hidden: true }),
    ]);
    expect(await get('/groups/acme/variables', MAINTAINER)).toMatchObject({
      status: 403,
      body: { message: '403 Forbidden' },
    });
    expect((await call('DELETE', '/groups/acme/variables/AWS_ACCESS_KEY_ID', { token: OWNER })).status).toBe(
      204,
    );
    expect(gitlab.group('acme')!.variables.map((v) => v.key)).toEqual(['AWS_SECRET_ACCESS_KEY']);
  });
});

describe('fake GitLab: files, commits, merge requests', () => {
  it('reads a file (base64, blob_id, last_commit_id) and 404s on a missing one', async () => {
    const res = await get('/projects/20/repository/files/.gitlab-ci.yml?ref=main', DEVELOPER);
    const body = res.body as { content: string; blob_id: string; last_commit_id: string; encoding: string };
    expect(body.encoding).toBe('base64');
    expect(Buffer.from(body.content, 'base64').toString()).toBe('stages: [test]\n');
    expect(body.blob_id).toMatch(/^[0-9a-f]{40}$/);
    expect(await get('/projects/20/repository/files/missing.yml?ref=main', DEVELOPER)).toMatchObject({
      status: 404,
      body: { message: '404 File Not Found' },
    });
    expect(await get('/projects/20/repository/files/dir%2Fa.yml?ref=main', DEVELOPER)).toMatchObject({
      status: 404,
    });
  });

  it('commits actions to a new branch from start_branch, with GitLab errors for create/update/lock conflicts', async () => {
    const file = (await get('/projects/20/repository/files/.gitlab-ci.yml?ref=main', DEVELOPER)).body as {
      last_commit_id: string;
    };
    const commit = await call('POST', '/projects/20/repository/commits', {
      token: DEVELOPER,
      json: {
        branch: 'gitlab-aws-oidc/setup',
        start_branch: 'main',
        commit_message: 'ci: AWS OIDC',
        actions: [
          {
            action: 'update',
            file_path: '.gitlab-ci.yml',
            content: 'new\n',
            last_commit_id: file.last_commit_id,
          },
          {
            action: 'create',
            file_path: 'b64.txt',
            content: Buffer.from('hi').toString('base64'),
            encoding: 'base64',
          },
        ],
      },
    });
    expect(commit).toMatchObject({
      status: 201,
      body: { id: expect.stringMatching(/^[0-9a-f]{40}$/), title: 'ci: AWS OIDC' },
    });
    expect(gitlab.fileText(20, '.gitlab-ci.yml', 'gitlab-aws-oidc/setup')).toBe('new\n');
    expect(gitlab.fileText(20, 'b64.txt', 'gitlab-aws-oidc/setup')).toBe('hi');
    expect(gitlab.fileText(20, '.gitlab-ci.yml', 'main')).toBe('stages: [test]\n');

    const again = (body: Record<string, unknown>) =>
      call('POST', '/projects/20/repository/commits', {
        token: DEVELOPER,
        json: { branch: 'gitlab-aws-oidc/setup', commit_message: 'm', ...body },
      });
    expect(
      await again({
        start_branch: 'main',
        actions: [{ action: 'update', file_path: '.gitlab-ci.yml', content: 'x' }],
      }),
    ).toMatchObject({
      status: 400,
      body: {
        message:
          "A branch called 'gitlab-aws-oidc/setup' already exists. Switch to that branch in order to make changes",
      },
    });
    expect(
      await again({ actions: [{ action: 'create', file_path: 'b64.txt', content: 'x' }] }),
    ).toMatchObject({
      status: 400,
      body: { message: 'A file with this name already exists' },
    });
    expect(await again({ actions: [{ action: 'update', file_path: 'nope', content: 'x' }] })).toMatchObject({
      status: 400,
      body: { message: "A file with this name doesn't exist" },
    });
    expect(
      await again({
        actions: [
          {
            action: 'update',
            file_path: '.gitlab-ci.yml',
            content: 'x',
            last_commit_id: file.last_commit_id,
          },
        ],
      }),
    ).toMatchObject({
      status: 400,
      body: { message: 'The file has changed since you started editing it: .gitlab-ci.yml' },
    });
    expect(
      await again({ branch: 'nope', actions: [{ action: 'create', file_path: 'a', content: 'x' }] }),
    ).toMatchObject({
      status: 400,
    });
    expect(
      await again({ branch: 'main', actions: [{ action: 'create', file_path: 'a', content: 'x' }] }),
    ).toMatchObject({
      status: 403,
      body: { message: '403 Forbidden - You are not allowed to push into this branch' },
    });
    expect(
      await call('POST', '/projects/20/repository/commits', { token: DEVELOPER, json: {} }),
    ).toMatchObject({
      status: 400,
      body: { error: 'branch is missing, commit_message is missing, actions is missing' },
    });
    expect(gitlab.project(20)!.commits).toHaveLength(2);
  });

  it('merge requests: create, 409 on a duplicate open MR, filtered list, update', async () => {
    const mr = {
      source_branch: 'feature/x',
      target_branch: 'main',
      title: 'Set up AWS OIDC',
      description: 'why',
    };
    const created = await call('POST', '/projects/20/merge_requests', { token: DEVELOPER, json: mr });
    expect(created).toMatchObject({
      status: 201,
      body: {
        iid: 1,
        state: 'opened',
        source_branch: 'feature/x',
        web_url: `${gitlab.url}/acme/platform/api/-/merge_requests/1`,
      },
    });
    expect(await call('POST', '/projects/20/merge_requests', { token: DEVELOPER, json: mr })).toMatchObject({
      status: 409,
      body: { message: ['Another open merge request already exists for this source branch: !1'] },
    });
    const open = await get(
      '/projects/20/merge_requests?state=opened&source_branch=feature%2Fx&target_branch=main',
      DEVELOPER,
    );
    expect((open.body as unknown[]).length).toBe(1);
    expect(
      (await get('/projects/20/merge_requests?state=opened&source_branch=other', DEVELOPER)).body,
    ).toEqual([]);
    const upd = await call('PUT', '/projects/20/merge_requests/1', {
      token: DEVELOPER,
      json: { description: 'new' },
    });
    expect(upd.body).toMatchObject({ iid: 1, description: 'new' });
    await call('PUT', '/projects/20/merge_requests/1', { token: DEVELOPER, json: { state_event: 'close' } });
    expect(
      (await call('POST', '/projects/20/merge_requests', { token: DEVELOPER, json: mr })).body,
    ).toMatchObject({ iid: 2 });
    expect(await call('POST', '/projects/20/merge_requests', { token: READER, json: mr })).toMatchObject({
      status: 403,
    });
  });
});

describe('fake GitLab: faults', () => {
  it('fails the Nth matching call with a status, then recovers; 429 carries Retry-After', async () => {
    const f = gitlab.fault({ method: 'GET', path: '/projects/:id', nth: 2, status: 429, retryAfterSec: 7 });
    expect((await get('/projects/20', MAINTAINER)).status).toBe(200);
    const limited = await get('/projects/20', MAINTAINER);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.text).toBe('Retry later\n');
    expect((await get('/projects/20', MAINTAINER)).status).toBe(200);
    expect([f.seen, f.fired]).toEqual([3, 1]);

    gitlab.fault({ method: 'POST', path: /\/variables$/, status: 500, times: 2 });
    const post = () =>
      call('POST', '/projects/20/variables', { token: MAINTAINER, json: { key: 'K', value: 'v' } });
    expect((await post()).body).toEqual({ message: '500 Internal Server Error' });
    expect((await post()).status).toBe(500);
    expect((await post()).status).toBe(201);
    expect(
      gitlab.calls.filter((c) => c.route === 'POST /projects/:id/variables').map((c) => c.status),
    ).toEqual([500, 500, 201]);
  });

  it('a hung endpoint never answers (client timeout fires) and a dripping one never finishes', async () => {
    gitlab.fault({ path: '/projects/:id', hang: true });
    const hung = fetch(`${gitlab.apiUrl}/projects/20`, {
      dispatcher: agent,
      signal: AbortSignal.timeout(150),
    });
    await expect(hung).rejects.toThrow(/abort|timeout/i);
    gitlab.fault({ path: '/user', drip: { intervalMs: 20 } });
    const res = await fetch(`${gitlab.apiUrl}/user`, {
      headers: { 'private-token': MAINTAINER },
      dispatcher: agent,
      signal: AbortSignal.timeout(200),
    });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow(/abort|timeout/i);
    expect(gitlab.calls.find((c) => c.route === 'GET /projects/:id')?.status).toBe(0);
  });

  it('matches a fault by "METHOD /route" and leaves other methods alone', async () => {
    gitlab.fault({ path: 'DELETE /projects/:id/variables/:key', status: 503, times: Infinity });
    gitlab.addProjectVariable(20, 'K', { value: 'v' });
    expect((await get('/projects/20/variables/K', MAINTAINER)).status).toBe(200);
    expect(await call('DELETE', '/projects/20/variables/K', { token: MAINTAINER })).toMatchObject({
      status: 503,
      body: { message: '503 Service Unavailable' },
    });
    expect(gitlab.project(20)!.variables).toHaveLength(1);
  });

  it('delays a call and then answers normally', async () => {
    gitlab.fault({ path: '/version', delayMs: 60 });
    const t = Date.now();
    expect((await get('/version', MAINTAINER)).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(50);
  });
});

describe('fake GitLab: lifecycle', () => {
  it('counts calls by route and resets state, calls and faults', async () => {
    await get('/projects/20', MAINTAINER);
    await get('/projects/20', MAINTAINER);
    expect(gitlab.callsByRoute()).toEqual({ 'GET /projects/:id': 2 });
    gitlab.project(20)!.archived = true;
    gitlab.fault({ path: '/projects/:id', status: 500, times: Infinity });
    gitlab.reset();
    expect(gitlab.calls).toEqual([]);
    expect((await get('/projects/20', MAINTAINER)).body).toMatchObject({ archived: false });
  });

  it('writes its CA for NODE_EXTRA_CA_CERTS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fake-gitlab-'));
    try {
      expect(readFileSync(gitlab.writeCaFile(dir), 'utf8')).toBe(gitlab.caPem);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('close() frees the port, even with a request hanging', async () => {
    const other = await startFakeGitlab();
    other.fault({ path: '/version', hang: true });
    const a = new Agent({ connect: { ca: other.caPem } });
    const hung = fetch(`${other.apiUrl}/version`, { dispatcher: a }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 30));
    await other.close();
    await other.close();
    expect(await hung).toBeInstanceOf(Error);
    await a.close();
    await new Promise<void>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(other.port, '127.0.0.1', () => s.close(() => resolve()));
    });
  });
});
