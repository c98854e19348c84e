/**
 * The GitLab client against a fetch double: mapping, auth headers, typed errors with GitLab's message
 * and hints, pagination (Link and X-Next-Page, page cap), moved-project redirects, 429 Retry-After and
 * 5xx retries with full jitter (injected sleep and random: the suite waits for nothing), idempotent
 * creates, timeouts and abort, and a token that never reaches a message.
 */
import { describe, expect, it } from 'vitest';
import { AbortError, type CliError, TimeoutError } from '../../../src/errors.js';
import { createGitlabClient } from '../../../src/gitlab/api/client.js';
import { GitlabApiError } from '../../../src/gitlab/api/errors.js';
import type { GitlabClientOptions } from '../../../src/gitlab/api/ports.js';
import { backoffDelayMs, parseNextLink, parseRetryAfter } from '../../../src/gitlab/api/transport.js';

const BASE = 'https://gitlab.example.com';
const TOKEN = 'glpat-SECRET-token-value-123';

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}
type Reply = { status?: number; body?: unknown; headers?: Record<string, string> } | 'hang';
type Handler = (req: Seen, n: number) => Reply;

function double(handler: Handler) {
  const seen: Seen[] = [];
  const fetchImpl = (async (url: string, init: RequestInit & { headers: Record<string, string> }) => {
    const req: Seen = {
      url,
      method: String(init.method),
      headers: init.headers,
      body: init.body === undefined ? undefined : JSON.parse(String(init.body)),
    };
    seen.push(req);
    const reply = handler(req, seen.length);
    if (reply === 'hang') {
      return new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () =>
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
        );
      });
    }
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
    return new Response(reply.status === 204 ? null : text, {
      status: reply.status ?? 200,
      headers: { 'content-type': 'application/json', ...reply.headers },
    });
  }) as unknown as typeof fetch;
  return { seen, fetchImpl };
}

function client(handler: Handler, extra: Partial<GitlabClientOptions> = {}) {
  const d = double(handler);
  const sleeps: number[] = [];
  const port = createGitlabClient({
    baseUrl: BASE,
    token: TOKEN,
    tokenSource: 'GITLAB_TOKEN',
    fetchImpl: d.fetchImpl,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
  return { port, seen: d.seen, sleeps };
}

const PROJECT = {
  id: 42,
  path_with_namespace: 'grp/sub/app',
  namespace: { id: 7, full_path: 'grp/sub', kind: 'group' },
  default_branch: 'main',
  visibility: 'private',
  archived: false,
  web_url: `${BASE}/grp/sub/app`,
  ci_id_token_sub_claim_components: ['project_path', 'ref_type', 'ref'],
  extra_field: 'ignored',
};

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

describe('requests and mapping', () => {
  it('GET /projects/:id: path URL-encoded, snake_case mapped, PRIVATE-TOKEN sent', async () => {
    const { port, seen } = client(() => ({ body: PROJECT }));
    const project = await port.getProject('grp/sub/app');
    expect(seen[0]!.url).toBe(`${BASE}/api/v4/projects/grp%2Fsub%2Fapp`);
    expect(seen[0]!.headers['private-token']).toBe(TOKEN);
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(seen[0]!.headers['user-agent']).toMatch(/^gitlab-aws-oidc\//);
    expect(project).toEqual({
      id: 42,
      pathWithNamespace: 'grp/sub/app',
      namespace: { id: 7, fullPath: 'grp/sub', kind: 'group' },
      defaultBranch: 'main',
      visibility: 'private',
      archived: false,
      webUrl: `${BASE}/grp/sub/app`,
      subClaimComponents: ['project_path', 'ref_type', 'ref'],
    });
    expect(project.movedFrom).toBeUndefined();
  });

  it('an OAuth token goes as Authorization: Bearer; no token sends neither header', async () => {
    const oauth = client(() => ({ body: PROJECT }), { tokenKind: 'oauth' });
    await oauth.port.getProject(42);
    expect(oauth.seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(oauth.seen[0]!.headers['private-token']).toBeUndefined();
    const anon = client(() => ({ body: PROJECT }), { token: undefined });
    expect(anon.port.authenticated).toBe(false);
    await anon.port.getProject(42);
    expect(anon.seen[0]!.url).toBe(`${BASE}/api/v4/projects/42`);
    expect(anon.seen[0]!.headers['private-token']).toBeUndefined();
    expect(anon.seen[0]!.headers.authorization).toBeUndefined();
  });

  it('a base URL with a relative path (and a trailing /api/v4) keeps the path once', async () => {
    const { port, seen } = client(() => ({ body: PROJECT }), { baseUrl: `${BASE}/gitlab/api/v4/` });
    expect(port.baseUrl).toBe(`${BASE}/gitlab`);
    await port.getProject(1);
    expect(seen[0]!.url).toBe(`${BASE}/gitlab/api/v4/projects/1`);
  });

  it('file paths and variable keys are encoded; repository file content is base64-decoded', async () => {
    const { port, seen } = client(() => ({
      body: {
        file_path: 'ci/.gitlab-ci.yml',
        ref: 'main',
        content: Buffer.from('stages: [deploy]\n').toString('base64'),
        encoding: 'base64',
        blob_id: 'b1',
        last_commit_id: 'c1',
      },
    }));
    const file = await port.getFile('grp/app', 'ci/.gitlab-ci.yml', 'main');
    expect(seen[0]!.url).toBe(
      `${BASE}/api/v4/projects/grp%2Fapp/repository/files/ci%2F.gitlab-ci.yml?ref=main`,
    );
    expect(Buffer.from(file!.content).toString('utf8')).toBe('stages: [deploy]\n');
    expect(file!.lastCommitId).toBe('c1');
  });

  it('lookups that allow absence answer undefined on 404; deletes of what is gone are done', async () => {
    const { port, seen } = client(() => ({ status: 404, body: { message: '404 File Not Found' } }));
    expect(await port.getFile(1, '.gitlab-ci.yml', 'main')).toBeUndefined();
    expect(await port.getBranch(1, 'release/1.0')).toBeUndefined();
    await port.deleteProjectVariable(1, 'AWS_ROLE_ARN', 'production');
    expect(seen[1]!.url).toBe(`${BASE}/api/v4/projects/1/repository/branches/release%2F1.0`);
    expect(seen[2]!.method).toBe('DELETE');
    expect(seen[2]!.url).toBe(
      `${BASE}/api/v4/projects/1/variables/AWS_ROLE_ARN?filter%5Benvironment_scope%5D=production`,
    );
  });

  it('writes send GitLab snake_case bodies', async () => {
    const { port, seen } = client((req) =>
      req.url.endsWith('/repository/commits') ? { status: 201, body: { id: 'abc123' } } : { body: {} },
    );
    const commit = await port.createCommit(5, {
      branch: 'gitlab-aws-oidc/setup',
      startBranch: 'main',
      commitMessage: 'ci: AWS OIDC',
      actions: [{ action: 'update', filePath: '.gitlab-ci.yml', content: 'x', lastCommitId: 'c1' }],
    });
    expect(commit).toEqual({ id: 'abc123' });
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect(seen[0]!.body).toEqual({
      branch: 'gitlab-aws-oidc/setup',
      start_branch: 'main',
      commit_message: 'ci: AWS OIDC',
      actions: [{ action: 'update', file_path: '.gitlab-ci.yml', content: 'x', last_commit_id: 'c1' }],
    });
  });

  it('a server that is not GitLab fails clearly (HTML, or JSON without the fields)', async () => {
    const html = client(() => ({ body: '<html><body>Sign in</body></html>' }));
    const e1 = (await failure(html.port.getProject(1))) as CliError;
    expect(e1.code).toBe('GITLAB_BAD_RESPONSE');
    expect(e1.message).toContain('GET /projects/1');
    expect(e1.message).toContain('JSON');
    expect(e1.hint).toContain('--gitlab-api-url');
    const wrong = client(() => ({ body: { id: 'x' } }));
    const e2 = (await failure(wrong.port.getProject(1))) as CliError;
    expect(e2.code).toBe('GITLAB_BAD_RESPONSE');
    expect(e2.message).toMatch(/a project.*id/);
  });
});

describe('typed errors', () => {
  it('401 names the token source and how to make a token; GitLab OAuth-style bodies are read', async () => {
    const { port } = client(() => ({
      status: 401,
      body: { error: 'invalid_token', error_description: 'Token was revoked. You have to re-authorize.' },
    }));
    const e = (await failure(port.getProject('grp/app'))) as GitlabApiError;
    expect(e).toBeInstanceOf(GitlabApiError);
    expect(e.exitCode).toBe(1);
    expect(e.code).toBe('GITLAB_UNAUTHORIZED');
    expect(e.status).toBe(401);
    expect(e.message).toBe(
      'GitLab GET /projects/grp%2Fapp answered HTTP 401: Token was revoked. You have to re-authorize.',
    );
    expect(e.hint).toContain('GITLAB_TOKEN');
    expect(e.hint).toMatch(/invalid, expired or revoked/);
    expect(e.hint).toContain(`${BASE}/-/user_settings/personal_access_tokens`);
    expect(e.toJSON()).toMatchObject({ status: 401, method: 'GET', path: '/projects/grp%2Fapp' });
  });

  it('403 names the role and scope the call needs', async () => {
    const { port } = client(() => ({ status: 403, body: { message: '403 Forbidden' } }));
    const e = (await failure(port.protectBranch('grp/app', 'main'))) as GitlabApiError;
    expect(e.code).toBe('GITLAB_FORBIDDEN');
    expect(e.gitlabMessage).toBe('403 Forbidden');
    expect(e.hint).toContain('Maintainer role');
    expect(e.hint).toContain('api scope');
    const scoped = client(() => ({
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'needs more', scope: 'api' },
    }));
    const e2 = (await failure(
      scoped.port.createCommit(1, { branch: 'b', commitMessage: 'm', actions: [] }),
    )) as GitlabApiError;
    expect(e2.hint).toMatch(/lacks a scope \(needs: api\)/);
  });

  it('404: not found or not visible to this token; anonymous: set GITLAB_TOKEN', async () => {
    const authed = client(() => ({ status: 404, body: { message: '404 Project Not Found' } }));
    const e = (await failure(authed.port.getProject('grp/app'))) as GitlabApiError;
    expect(e.code).toBe('GITLAB_NOT_FOUND');
    expect(e.hint).toMatch(/Project grp\/app was not found or is not visible to the token from GITLAB_TOKEN/);
    const anon = client(() => ({ status: 404, body: { message: '404 Project Not Found' } }), {
      token: undefined,
    });
    const e2 = (await failure(anon.port.getProject('grp/app'))) as GitlabApiError;
    expect(e2.hint).toMatch(/without a token only public projects are visible\. Set GITLAB_TOKEN/);
  });

  it('a field → messages object is flattened into one line', async () => {
    const { port } = client(() => ({
      status: 400,
      body: { message: { key: ['has already been taken'], value: ['is invalid', 'is too short'] } },
    }));
    const e = (await failure(
      port.updateProjectVariable(1, { key: 'K', value: 'v', protected: false, masked: false }),
    )) as GitlabApiError;
    expect(e.gitlabMessage).toBe('key has already been taken; value is invalid; value is too short');
  });

  it('the token never appears in an error, even when the server echoes it', async () => {
    const { port } = client(() => ({ status: 401, body: { message: `token ${TOKEN} is unknown` } }));
    const e = (await failure(port.getCurrentUser())) as GitlabApiError;
    const everything = JSON.stringify([e.message, e.hint, e.toJSON(), e.details(), String(e.stack)]);
    expect(everything).not.toContain(TOKEN);
    expect(e.message).toContain('[redacted]');
  });
});

describe('pagination', () => {
  const item = (name: string) => ({ name });

  it('follows Link rel="next" with per_page=100', async () => {
    const { port, seen } = client((_req, n) => {
      if (n === 1)
        return {
          body: [item('main')],
          headers: {
            link: `<${BASE}/api/v4/projects/1/protected_branches?page=2&per_page=100>; rel="next", <${BASE}/api/v4/projects/1/protected_branches?page=3&per_page=100>; rel="last"`,
          },
        };
      if (n === 2)
        return {
          body: [item('release/*')],
          headers: { link: `<${BASE}/api/v4/projects/1/protected_branches?page=3&per_page=100>; rel="next"` },
        };
      return { body: [item('v*')] };
    });
    expect(await port.listProtectedBranches(1)).toEqual([item('main'), item('release/*'), item('v*')]);
    expect(seen.map((s) => new URL(s.url).search)).toEqual([
      '?per_page=100',
      '?page=2&per_page=100',
      '?page=3&per_page=100',
    ]);
  });

  it('falls back to X-Next-Page (offset pagination), keeping the query', async () => {
    const { port, seen } = client((req) => {
      const page = new URL(req.url).searchParams.get('page') ?? '1';
      return {
        body: [item(`p${page}`)],
        headers: { 'x-next-page': page === '3' ? '' : String(Number(page) + 1) },
      };
    });
    const refs = await port.listGroupProjects('grp', { archived: false }).catch((e) => e);
    // the items are not projects: the validation names the list item
    expect((refs as CliError).code).toBe('GITLAB_BAD_RESPONSE');
    const tags = await port.listProtectedTags(1);
    expect(tags.map((t) => t.name)).toEqual(['p1', 'p2', 'p3']);
    const q = new URL(seen[0]!.url).searchParams;
    expect(q.get('include_subgroups')).toBe('true');
    expect(q.get('archived')).toBe('false');
    expect(q.get('per_page')).toBe('100');
  });

  it('stops with a clear error at the page cap instead of looping', async () => {
    const { port, seen } = client(() => ({ body: [item('x')], headers: { 'x-next-page': '2' } }), {
      maxPages: 5,
    });
    const e = (await failure(port.listProtectedTags(1))) as CliError;
    expect(e.code).toBe('GITLAB_TOO_MANY_PAGES');
    expect(e.message).toContain('more than 5 pages');
    expect(seen).toHaveLength(5);
  });

  it('refuses a next link to another host (the token would follow it)', async () => {
    const { port, seen } = client(() => ({
      body: [item('x')],
      headers: { link: '<https://evil.example/api/v4/x?page=2>; rel="next"' },
    }));
    const e = (await failure(port.listProtectedTags(1))) as CliError;
    expect(e.code).toBe('GITLAB_BAD_RESPONSE');
    expect(seen).toHaveLength(1);
  });

  it('parseNextLink reads rel lists and ignores other rels', () => {
    expect(parseNextLink('<https://a/1>; rel="prev", <https://a/3>; rel="next"')).toBe('https://a/3');
    expect(parseNextLink('<https://a/1>; rel="first"')).toBeUndefined();
    expect(parseNextLink('<https://a/1>; rel="nextish"')).toBeUndefined();
    expect(parseNextLink('<https://a/2>; rel="prev next"')).toBe('https://a/2');
    expect(parseNextLink(null)).toBeUndefined();
  });
});

describe('moved projects (16.7+ redirect)', () => {
  it('follows a same-origin redirect and sets movedFrom; the token goes along', async () => {
    const { port, seen } = client((req) =>
      req.url.endsWith('/projects/old%2Fapp')
        ? { status: 301, headers: { location: '/api/v4/projects/new%2Fapp' } }
        : { body: { ...PROJECT, path_with_namespace: 'new/app' } },
    );
    const p = await port.getProject('old/app');
    expect(p.pathWithNamespace).toBe('new/app');
    expect(p.movedFrom).toBe('old/app');
    expect(seen.map((s) => s.url)).toEqual([
      `${BASE}/api/v4/projects/old%2Fapp`,
      `${BASE}/api/v4/projects/new%2Fapp`,
    ]);
    expect(seen[1]!.headers['private-token']).toBe(TOKEN);
  });

  it('refuses a redirect to another origin, and a redirect loop', async () => {
    const away = client(() => ({
      status: 302,
      headers: { location: 'https://elsewhere.example/api/v4/projects/1' },
    }));
    const e = (await failure(away.port.getProject('a/b'))) as CliError;
    expect(e.code).toBe('GITLAB_REDIRECT');
    expect(e.message).toContain('https://elsewhere.example');
    expect(away.seen).toHaveLength(1);
    const loop = client((_r, n) => ({ status: 308, headers: { location: `/api/v4/projects/${n}` } }));
    const e2 = (await failure(loop.port.getProject('a/b'))) as CliError;
    expect(e2.code).toBe('GITLAB_REDIRECT');
    expect(loop.seen.length).toBeLessThanOrEqual(4);
  });
});

describe('retries', () => {
  it('429: waits Retry-After (seconds), then succeeds; onRetry is told', async () => {
    const retries: unknown[] = [];
    const { port, sleeps } = client(
      (_r, n) =>
        n < 3
          ? { status: 429, headers: { 'retry-after': '2' }, body: { message: 'Retry later' } }
          : { body: PROJECT },
      { onRetry: (info) => retries.push(info) },
    );
    expect((await port.getProject(42)).id).toBe(42);
    expect(sleeps).toEqual([2000, 2000]);
    expect(retries).toEqual([
      { status: 429, delayMs: 2000, attempt: 1, path: '/projects/42' },
      { status: 429, delayMs: 2000, attempt: 2, path: '/projects/42' },
    ]);
  });

  it('429: Retry-After as an HTTP date; too long a wait fails at once with the wait named', async () => {
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    const { port, sleeps, seen } = client(() => ({ status: 429, headers: { 'retry-after': '600' } }));
    const e = (await failure(port.getProject(1))) as GitlabApiError;
    expect(e.code).toBe('GITLAB_RATE_LIMITED');
    expect(e.hint).toContain('wait 600 s');
    expect(sleeps).toEqual([]);
    expect(seen).toHaveLength(1);
  });

  it('429 and 5xx give up after maxRetries with the attempts counted', async () => {
    const { port, seen, sleeps } = client(() => ({ status: 429, headers: { 'retry-after': '1' } }), {
      maxRetries: 2,
    });
    const e = (await failure(port.getProject(1))) as GitlabApiError;
    expect(e.attempts).toBe(3);
    expect(e.hint).toMatch(/rate-limited this call 3 times/);
    expect(seen).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    const down = client(() => ({ status: 503, body: { message: '503 Service Unavailable' } }), {
      maxRetries: 3,
    });
    const e2 = (await failure(down.port.getProject(1))) as GitlabApiError;
    expect(e2.code).toBe('GITLAB_SERVER_ERROR');
    expect(e2.hint).toMatch(/after 4 attempts/);
  });

  it('5xx backoff is full jitter within a doubling, capped ceiling', async () => {
    const top = () => 0.999999;
    const { port, sleeps } = client((_r, n) => (n <= 6 ? { status: 502 } : { body: PROJECT }), {
      maxRetries: 6,
      random: top,
    });
    await port.getProject(1);
    const ceilings = [500, 1000, 2000, 4000, 8000, 8000];
    expect(sleeps).toHaveLength(6);
    sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(ceilings[i]!);
      expect(ms).toBeGreaterThan(ceilings[i]! * 0.99);
    });
    expect(backoffDelayMs(3, () => 0)).toBe(0);
  });

  it('a commit (non-idempotent POST) is never retried on 5xx', async () => {
    const { port, seen } = client(() => ({ status: 500, body: { message: '500 Internal Server Error' } }));
    const e = (await failure(
      port.createCommit(1, { branch: 'b', commitMessage: 'm', actions: [] }),
    )) as GitlabApiError;
    expect(seen).toHaveLength(1);
    expect(e.hint).toMatch(/not retried because a repeat could apply it twice/);
  });

  it('protecting an already protected branch (409) returns it; a 5xx then 409 too', async () => {
    const { port, seen } = client((_r, n) =>
      n === 1
        ? { status: 502 }
        : { status: 409, body: { message: 'Protected branch release/* already exists' } },
    );
    expect(await port.protectBranch(1, 'release/*')).toEqual({ name: 'release/*' });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.body).toEqual({ name: 'release/*', push_access_level: 40, merge_access_level: 40 });
  });

  it('a variable create retried after 5xx and answered "already been taken" returns the existing one', async () => {
    const variable = {
      key: 'AWS_ROLE_ARN',
      value: 'arn',
      variable_type: 'env_var',
      protected: true,
      masked: false,
      raw: true,
      environment_scope: '*',
    };
    const { port, seen } = client((req, n) => {
      if (req.method === 'GET') return { body: variable };
      return n === 1
        ? { status: 504 }
        : { status: 400, body: { message: { key: ['(AWS_ROLE_ARN) has already been taken'] } } };
    });
    const v = await port.createProjectVariable(1, {
      key: 'AWS_ROLE_ARN',
      value: 'arn',
      protected: true,
      masked: false,
    });
    expect(v).toMatchObject({ key: 'AWS_ROLE_ARN', protected: true, environmentScope: '*' });
    expect(seen.map((s) => s.method)).toEqual(['POST', 'POST', 'GET']);
    // without a retry, "already taken" is a real conflict
    const first = client(() => ({ status: 400, body: { message: { key: ['has already been taken'] } } }));
    const e = (await failure(
      first.port.createProjectVariable(1, { key: 'K', value: 'v', protected: false, masked: false }),
    )) as GitlabApiError;
    expect(e.status).toBe(400);
  });
});

describe('timeouts and abort', () => {
  it('a hung request ends in a TimeoutError naming the call; a GET changed nothing', async () => {
    const { port } = client(() => 'hang', { timeoutMs: 30 });
    const e = (await failure(port.getProject('grp/app'))) as TimeoutError;
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.timeoutMs).toBe(30);
    expect(e.message).toContain('GitLab GET /projects/grp%2Fapp');
    expect(e.message).toContain('nothing was changed');
    expect(e.hint).toContain('GITLAB_AWS_OIDC_TIMEOUT_MS');
  });

  it('the default timeout comes from GITLAB_AWS_OIDC_TIMEOUT_MS in the given env', async () => {
    const { port } = client(() => 'hang', { env: { GITLAB_AWS_OIDC_TIMEOUT_MS: '25' } });
    const e = (await failure(port.getVersion())) as TimeoutError;
    expect(e.timeoutMs).toBe(25);
  });

  it('the run signal cancels a call in flight (AbortError) and stops a retry wait', async () => {
    const controller = new AbortController();
    const { port } = client(() => 'hang', { signal: controller.signal, timeoutMs: 60_000 });
    const pending = failure(port.createCommit(1, { branch: 'b', commitMessage: 'm', actions: [] }));
    setTimeout(() => controller.abort(), 10);
    const e = (await pending) as AbortError;
    expect(e).toBeInstanceOf(AbortError);
    expect(e.exitCode).toBe(130);
    expect(e.message).toMatch(/may or may not have applied it/);

    const c2 = new AbortController();
    const retrying = client(() => ({ status: 503 }), {
      signal: c2.signal,
      sleep: async () => {
        c2.abort();
      },
    });
    const e2 = await failure(retrying.port.getProject(1));
    expect(e2).toBeInstanceOf(AbortError);
    expect(retrying.seen).toHaveLength(1);
  });
});
