/**
 * The GitLab client over real undici sockets, all on 127.0.0.1: an HTTPS server with a private CA
 * reached through a loopback CONNECT proxy (HTTPS_PROXY) or directly (NO_PROXY), pagination and a 429
 * against a node:http server, a hung endpoint (timeout, abort), and network failures with their hints.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, type CliError, TimeoutError } from '../../../src/errors.js';
import { createGitlabClient, type GitlabClient } from '../../../src/gitlab/api/client.js';
import { GitlabApiError } from '../../../src/gitlab/api/errors.js';
import type { GitlabClientOptions } from '../../../src/gitlab/api/ports.js';
import { startBlackHole } from '../../helpers/black-hole.js';
import { type OidcIssuer, startOidcIssuer } from '../../helpers/oidc-issuer.js';

const TOKEN = 'glpat-network-secret-999';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}
function closer(server: Server, sockets: Set<Socket> = new Set()): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
}

/** A loopback HTTP CONNECT proxy that records the targets it tunnels to. */
async function startConnectProxy(): Promise<{ url: string; connects: string[] }> {
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => {
    res.writeHead(405).end();
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    connects.push(String(req.url));
    sockets.add(client);
    const [host, port] = String(req.url).split(':');
    const upstream = connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const port = await listen(server);
  cleanups.push(closer(server, sockets));
  return { url: `http://127.0.0.1:${port}`, connects };
}

async function issuer(): Promise<OidcIssuer> {
  const i = await startOidcIssuer();
  cleanups.push(() => i.close());
  return i;
}

function gitlab(options: GitlabClientOptions): GitlabClient {
  const c = createGitlabClient({ token: TOKEN, tokenSource: 'GITLAB_TOKEN', ...options });
  cleanups.push(() => c.close());
  return c;
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

describe('proxy and TLS', () => {
  it('HTTPS_PROXY: the request tunnels through the proxy and trusts the given CA', async () => {
    const server = await issuer();
    const proxy = await startConnectProxy();
    const port = gitlab({ baseUrl: server.url, ca: server.caPem, env: { HTTPS_PROXY: proxy.url } });
    // The issuer knows no API: its 404 proves the request arrived through the tunnel.
    const e = (await failure(port.getProject('grp/app'))) as GitlabApiError;
    expect(e).toBeInstanceOf(GitlabApiError);
    expect(e.status).toBe(404);
    expect(e.gitlabMessage).toBe('404 Not Found');
    expect(proxy.connects).toEqual([`127.0.0.1:${server.port}`]);
    expect(server.requests).toContain('/api/v4/projects/grp%2Fapp');
  });

  it('lower-case https_proxy works too, and NO_PROXY bypasses the proxy', async () => {
    const server = await issuer();
    const proxy = await startConnectProxy();
    const viaLower = gitlab({ baseUrl: server.url, ca: server.caPem, env: { https_proxy: proxy.url } });
    await failure(viaLower.getVersion());
    expect(proxy.connects).toHaveLength(1);
    const bypass = gitlab({
      baseUrl: server.url,
      ca: server.caPem,
      env: { HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' },
    });
    const e = (await failure(bypass.getVersion())) as GitlabApiError;
    expect(e.status).toBe(404);
    expect(proxy.connects).toHaveLength(1);
    expect(server.requests.filter((p) => p === '/api/v4/version')).toHaveLength(2);
  });

  it('an untrusted certificate is a GITLAB_UNREACHABLE naming NODE_EXTRA_CA_CERTS; no token in it', async () => {
    const server = await issuer();
    const port = gitlab({ baseUrl: server.url, env: {} });
    const e = (await failure(port.getProject(1))) as CliError;
    expect(e.code).toBe('GITLAB_UNREACHABLE');
    expect(e.message).toContain('GitLab GET /projects/1');
    expect(e.hint).toContain('NODE_EXTRA_CA_CERTS');
    expect(JSON.stringify([e.message, e.hint, e.toJSON()])).not.toContain(TOKEN);
  });

  it('nothing listening: the hint says so; a dead proxy is named without its credentials', async () => {
    const hole = await startBlackHole();
    await hole.close();
    const direct = gitlab({ baseUrl: hole.url, env: {} });
    const e = (await failure(direct.getProject(1))) as CliError;
    expect(e.code).toBe('GITLAB_UNREACHABLE');
    expect(e.hint).toMatch(/Nothing listens on 127\.0\.0\.1/);
    const viaProxy = gitlab({
      baseUrl: 'https://gitlab.example.com',
      env: { HTTPS_PROXY: `http://user:pa55@127.0.0.1:${hole.port}` },
    });
    const e2 = (await failure(viaProxy.getProject(1))) as CliError;
    expect(e2.code).toBe('GITLAB_UNREACHABLE');
    expect(JSON.stringify([e2.message, e2.hint])).not.toContain('pa55');
  });
});

describe('over a loopback HTTP server', () => {
  async function fakeApi(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
    const server = createServer(handler);
    const port = await listen(server);
    cleanups.push(closer(server));
    return `http://127.0.0.1:${port}`;
  }

  it('pages through Link and X-Next-Page, waiting out a 429 with Retry-After', async () => {
    const seen: string[] = [];
    let limited = false;
    const base = await fakeApi((req, res) => {
      seen.push(String(req.url));
      const url = new URL(String(req.url), 'http://x');
      const page = url.searchParams.get('page') ?? '1';
      if (req.headers['private-token'] !== TOKEN)
        return void res.writeHead(401).end('{"message":"401 Unauthorized"}');
      if (page === '2' && !limited) {
        limited = true;
        return void res.writeHead(429, { 'retry-after': '0' }).end('{"message":"Retry later"}');
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (page === '1')
        headers.link = `<http://${req.headers.host}/api/v4/projects/1/protected_tags?page=2&per_page=100>; rel="next"`;
      if (page === '2') headers['x-next-page'] = '3';
      if (page === '3') headers['x-next-page'] = '';
      res.writeHead(200, headers).end(JSON.stringify([{ name: `v${page}.*` }]));
    });
    const retries: number[] = [];
    const port = gitlab({ baseUrl: base, env: {}, onRetry: (i) => retries.push(i.status) });
    expect((await port.listProtectedTags(1)).map((t) => t.name)).toEqual(['v1.*', 'v2.*', 'v3.*']);
    expect(retries).toEqual([429]);
    expect(seen).toEqual([
      '/api/v4/projects/1/protected_tags?per_page=100',
      '/api/v4/projects/1/protected_tags?page=2&per_page=100',
      '/api/v4/projects/1/protected_tags?page=2&per_page=100',
      '/api/v4/projects/1/protected_tags?page=3&per_page=100',
    ]);
  });

  it("follows a moved project's 301 over a real socket (undici redirect: manual) and sets movedFrom", async () => {
    const base = await fakeApi((req, res) => {
      if (req.url === '/api/v4/projects/old%2Fapp')
        return void res.writeHead(301, { location: '/api/v4/projects/new%2Fapp' }).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 9,
          path_with_namespace: 'new/app',
          namespace: { id: 3, full_path: 'new', kind: 'group' },
          default_branch: 'main',
          visibility: 'public',
          archived: true,
          web_url: 'https://gitlab.example.com/new/app',
        }),
      );
    });
    const project = await gitlab({ baseUrl: base, env: {} }).getProject('old/app');
    expect(project).toMatchObject({
      id: 9,
      pathWithNamespace: 'new/app',
      archived: true,
      movedFrom: 'old/app',
    });
  });

  it('a hung endpoint times out (TimeoutError); an abort ends the wait at once and closes the socket', async () => {
    const hole = await startBlackHole();
    cleanups.push(() => hole.close());
    const slow = gitlab({ baseUrl: hole.url, env: {}, timeoutMs: 150 });
    const e = (await failure(slow.getProject(1))) as TimeoutError;
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.endpoint).toBe(`${hole.url}/api/v4`);

    const controller = new AbortController();
    const c = gitlab({ baseUrl: hole.url, env: {}, timeoutMs: 60_000, signal: controller.signal });
    const pending = failure(c.getProject(2));
    await expect.poll(() => hole.connections()).toBeGreaterThanOrEqual(2);
    const began = Date.now();
    controller.abort();
    expect(await pending).toBeInstanceOf(AbortError);
    expect(Date.now() - began).toBeLessThan(1_000);
  });
});
