/**
 * A loopback HTTP CONNECT proxy for tests: what a corporate proxy does for HTTPS (and what undici and
 * https-proxy-agent do for plain HTTP too): `CONNECT host:port`, 200, then bytes both ways.
 *
 *   const proxy = await startConnectProxy();
 *   try {
 *     await fetchDiscovery(issuer.url, { ca, env: { HTTPS_PROXY: proxy.url } });
 *     expect(proxy.tunnels).toEqual([`127.0.0.1:${issuer.port}`]);
 *   } finally {
 *     await proxy.close();
 *   }
 *
 * `refuse: 403` answers every CONNECT with that status instead; `credentials: 'user:pass'` answers 407
 * to a CONNECT without that Basic Proxy-Authorization. Anything but CONNECT gets 405 (recorded in
 * `requests`). Binds 127.0.0.1 on an ephemeral port; close() ends every tunnel.
 */
import { createServer } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

export interface ConnectProxyOptions {
  /** Answer every CONNECT with this status (e.g. 403) instead of tunnelling. */
  refuse?: number;
  /** `user:password` the proxy requires (Basic); a CONNECT without it gets 407. */
  credentials?: string;
}

export interface ConnectProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** `host:port` of every CONNECT that was tunnelled, in order. */
  tunnels: string[];
  /** `host:port` of every CONNECT that was refused (403/407). */
  refused: string[];
  /** Non-CONNECT requests (method and URL): a client that forgot to tunnel. */
  requests: string[];
  close(): Promise<void>;
}

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const refused: string[] = [];
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };

  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(405, { connection: 'close' }).end('only CONNECT');
  });
  server.on('connection', track);
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const expected = options.credentials && `Basic ${Buffer.from(options.credentials).toString('base64')}`;
    const status =
      options.refuse ?? (expected && req.headers['proxy-authorization'] !== expected ? 407 : undefined);
    if (status) {
      refused.push(target);
      const extra = status === 407 ? 'Proxy-Authenticate: Basic realm="test"\r\n' : '';
      client.end(
        `HTTP/1.1 ${status} ${status === 407 ? 'Proxy Authentication Required' : 'Forbidden'}\r\n${extra}Content-Length: 0\r\n\r\n`,
      );
      return;
    }
    const { hostname, port } = new URL(`http://${target}`);
    const upstream = net.connect(Number(port), hostname.replace(/^\[(.*)\]$/, '$1'), () => {
      tunnels.push(target);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tunnels,
    refused,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
