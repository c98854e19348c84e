/**
 * Corporate proxies: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY (either case), as the AWS CLI,
 * glab and curl honour them, for the tool's own HTTPS (OIDC discovery, JWKS, the thumbprint TLS probe)
 * and for the AWS SDK, which does not look at them by itself. (The GitLab REST client uses undici's
 * EnvHttpProxyAgent, which reads the same variables.)
 *
 * - The decision is proxy-from-env's `getProxyForUrl` (scheme → `<scheme>_proxy`, else `all_proxy`;
 *   NO_PROXY host, `.suffix`, `*.suffix`, `host:port` and `*`). Loopback is not special: like curl and
 *   the AWS CLI, 127.0.0.1 and localhost go through the proxy unless NO_PROXY names them.
 * - A value without a scheme (`proxy.corp:3128`) means http://, as curl, botocore and Go do.
 * - Only http:// and https:// proxies (CONNECT tunnels, by https-proxy-agent); anything else, or a value
 *   that is not a URL, is a usage error naming the variable.
 * - TLS to the target is unchanged: `ca` when given, else Node's roots plus NODE_EXTRA_CA_CERTS.
 * - The environment is passed in (default `process.env`), so tests never have to change process.env.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type tls from 'node:tls';
import { Agent, type AgentConnectOpts } from 'agent-base';
import { HttpsProxyAgent, type HttpsProxyAgentOptions } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { UsageError } from '../errors.js';

export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/** The variables proxy-from-env reads, lower case first (it prefers lower case, like curl). */
const PROXY_NAMES = ['https_proxy', 'http_proxy', 'all_proxy'] as const;
const ENV_NAMES = [...PROXY_NAMES, 'no_proxy'].flatMap((n) => [n, n.toUpperCase()]);

function read(env: ProxyEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** Some proxy variable is set (so requests may need an agent at all). */
export function hasProxyEnv(env: ProxyEnv = process.env): boolean {
  return PROXY_NAMES.some((n) => read(env, n) || read(env, n.toUpperCase()));
}

/** `proxy.corp:3128` → `http://proxy.corp:3128`; a value with a scheme is kept. */
function withScheme(value: string): string {
  return value.includes('://') ? value : `http://${value}`;
}

/** A proxy URL without its credentials, for messages. */
export function describeProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

function parseProxy(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(withScheme(value));
  } catch {
    throw UsageError.field(
      name,
      'is not a proxy URL',
      `Use http://host:port (credentials as http://user:password@host:port), or unset ${name}.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw UsageError.field(
      name,
      `uses ${url.protocol}// (only http:// and https:// proxies are supported)`,
      'Point it at an HTTP proxy that accepts CONNECT, for example http://proxy.example.com:3128.',
    );
  }
  return url;
}

/** Checks every proxy variable that is set: a usage error names the first bad one. */
export function validateProxyEnv(env: ProxyEnv = process.env): void {
  for (const name of PROXY_NAMES.flatMap((n) => [n, n.toUpperCase()])) {
    const value = read(env, name);
    if (value) parseProxy(name, value);
  }
}

/**
 * Runs proxy-from-env against `env` instead of process.env. It reads process.env synchronously and
 * nothing else, so process.env is swapped for a copy of just the proxy variables and put back before
 * returning: no other code (this is one synchronous call) can see the swap.
 */
function getProxyForUrlIn(url: string, env: ProxyEnv): string {
  const scoped: Record<string, string> = {};
  for (const name of ENV_NAMES) {
    const value = read(env, name);
    if (value) scoped[name] = name.toLowerCase() === 'no_proxy' ? value : withScheme(value);
  }
  const saved = process.env;
  process.env = scoped;
  try {
    return getProxyForUrl(url);
  } finally {
    process.env = saved;
  }
}

/**
 * The proxy to use for `url`, or undefined for a direct connection (no variable for its scheme, or
 * NO_PROXY matches). Throws a UsageError naming the variable when the proxy URL is not usable.
 */
export function proxyFor(url: string | URL, env: ProxyEnv = process.env): URL | undefined {
  const target = typeof url === 'string' ? url : url.href;
  const chosen = getProxyForUrlIn(target, env);
  if (!chosen) return undefined;
  const scheme = target.slice(0, target.indexOf(':')).toLowerCase();
  const name =
    [`${scheme}_proxy`, 'all_proxy']
      .flatMap((n) => [n, n.toUpperCase()])
      .find((n) => read(env, n) && withScheme(read(env, n)!) === chosen) ?? `${scheme.toUpperCase()}_PROXY`;
  return parseProxy(name, chosen);
}

/** Which variable applies to `url`, for hints: `HTTPS_PROXY` for https://, `HTTP_PROXY` for http://. */
export function proxyVariableFor(url: string): string {
  return url.startsWith('http:') ? 'HTTP_PROXY' : 'HTTPS_PROXY';
}

/** A CONNECT-tunnelling agent for one proxy (https-proxy-agent). One per proxy; it pools like http.Agent. */
export function createProxyAgent(
  proxy: URL,
  options: HttpsProxyAgentOptions<string> = {},
): HttpsProxyAgent<string> {
  return new HttpsProxyAgent(proxy, options);
}

/**
 * An http(s).Agent that decides per request, from the host and port it is asked to connect to: a
 * proxy agent when the environment names a proxy for that URL, else a plain Node agent. The AWS SDK
 * takes one agent per client but resolves its endpoint (AWS_ENDPOINT_URL_*, region, FIPS…) per request,
 * so the decision is made where the endpoint is finally known.
 */
export class EnvProxyAgent extends Agent {
  readonly #env: ProxyEnv;
  readonly #options: http.AgentOptions;
  readonly #direct: http.Agent;
  readonly #proxies = new Map<string, HttpsProxyAgent<string>>();

  constructor(secure: boolean, env: ProxyEnv, options: http.AgentOptions = {}) {
    super(options);
    this.#env = env;
    this.#options = options;
    this.#direct = secure ? new https.Agent(options) : new http.Agent(options);
    this.protocol = secure ? 'https:' : 'http:';
  }

  override connect(_req: http.ClientRequest, opts: AgentConnectOpts): http.Agent {
    const host = net.isIPv6(opts.host ?? '') ? `[${opts.host}]` : opts.host;
    const proxy = proxyFor(`${opts.secureEndpoint ? 'https' : 'http'}://${host}:${opts.port}`, this.#env);
    if (!proxy) return this.#direct;
    let agent = this.#proxies.get(proxy.href);
    if (!agent) {
      agent = createProxyAgent(proxy, this.#options);
      this.#proxies.set(proxy.href, agent);
    }
    return agent;
  }

  override destroy(): void {
    this.#direct.destroy();
    for (const agent of this.#proxies.values()) agent.destroy();
    this.#proxies.clear();
    super.destroy();
  }
}

/**
 * The AWS SDK's `httpAgent`/`httpsAgent` when some proxy variable is set, else undefined (the SDK then
 * builds its own agents exactly as before). Same pooling as the SDK's defaults (keep-alive, 50 sockets).
 * Validates the variables first, so a bad HTTPS_PROXY is a usage error before any AWS call.
 */
export function createAwsProxyAgents(
  env: ProxyEnv = process.env,
): { httpAgent: EnvProxyAgent; httpsAgent: EnvProxyAgent } | undefined {
  if (!hasProxyEnv(env)) return undefined;
  validateProxyEnv(env);
  const options = { keepAlive: true, maxSockets: 50 };
  return {
    httpAgent: new EnvProxyAgent(false, env, options),
    httpsAgent: new EnvProxyAgent(true, env, options),
  };
}

/** The proxy answered CONNECT with something other than 200 (403 by policy, 407 for credentials…). */
export class ProxyRefusedError extends Error {
  readonly code = 'PROXY_REFUSED';
  constructor(
    readonly proxy: URL,
    readonly target: string,
    readonly status: number,
    statusText: string,
  ) {
    super(
      `the proxy ${describeProxy(proxy)} refused to tunnel to ${target} (HTTP ${status} ${statusText})`.trim(),
    );
  }
}

/** A hint for a proxy refusal. */
export function proxyRefusalHint(error: ProxyRefusedError, url: string): string {
  const variable = proxyVariableFor(url);
  if (error.status === 407) {
    return `The proxy needs credentials: put them in ${variable} (http://user:password@host:port), or add ${error.target.replace(/:\d+$/, '')} to NO_PROXY if it is reachable directly.`;
  }
  return `Ask for ${error.target} to be allowed through the proxy, or add the host to NO_PROXY if it is reachable directly.`;
}

/**
 * Opens a TLS connection to `host:port` through a CONNECT tunnel of `proxy` (https-proxy-agent does the
 * CONNECT and the TLS upgrade; this only asks it for the socket, as http would). `tlsOptions` are those
 * of the target connection (`ca`, `rejectUnauthorized`, `servername`…). `signal` destroys the connection
 * to the proxy while the tunnel is being set up.
 */
export async function connectTlsThroughProxy(
  proxy: URL,
  target: { host: string; port: number },
  tlsOptions: tls.ConnectionOptions,
  signal?: AbortSignal,
): Promise<tls.TLSSocket> {
  const agent = createProxyAgent(proxy, signal ? { signal } : {});
  // Stands in for the http.ClientRequest the agent normally serves: it only emits events on it.
  const request = new EventEmitter();
  let answer: { statusCode: number; statusText: string } | undefined;
  request.once('proxyConnect', (res: { statusCode: number; statusText: string }) => {
    answer = res;
  });
  const socket = await agent.connect(request as unknown as http.ClientRequest, {
    ...tlsOptions,
    host: target.host,
    port: target.port,
    secureEndpoint: true,
  });
  if (answer?.statusCode !== 200) {
    socket.destroy();
    const where = `${net.isIPv6(target.host) ? `[${target.host}]` : target.host}:${target.port}`;
    throw new ProxyRefusedError(proxy, where, answer?.statusCode ?? 0, answer?.statusText ?? '');
  }
  return socket as tls.TLSSocket;
}
