/**
 * A loopback HTTP server that speaks the real IAM and STS Query protocol (form-encoded POST
 * `Action=…&Version=…`, XML responses and AWS error documents), backed by the same stateful fake
 * IAM as `fake-aws.ts`. The built binary talks to it through the SDK's own endpoint settings
 * (`AWS_ENDPOINT_URL_IAM` / `AWS_ENDPOINT_URL_STS`), which is also how a user points the tool at
 * LocalStack or moto: nothing in the tool knows it is not AWS.
 *
 *   const server = await startIamServer({ failOn: { action: 'CreateRole', code: 'AccessDenied' } });
 *   try {
 *     const r = await runCli(['init', ...], { cwd, env: cliEnv(server, home) }).done;
 *     expect(server.mutating()).toEqual([...]);
 *   } finally {
 *     await server.close();
 *   }
 *
 * Wire format (checked against AWS's API references and the SDK's awsQuery protocol):
 * - request: `Action=CreateRole&Version=2010-05-08&RoleName=…&Tags.member.1.Key=…&Tags.member.1.Value=…`;
 *   lists as `X.member.N`, an empty list as `X=`; decoded generically with the SDK's own operation schema.
 * - response: `<CreateRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateRoleResult>…
 *   </CreateRoleResult><ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></CreateRoleResponse>`;
 *   lists as `<member>`, dates ISO 8601, booleans lowercase.
 * - error: HTTP 4xx/5xx with `<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code>
 *   <Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`.
 *
 * AssumeRoleWithWebIdentity decides like STS, with the same checks as the in-process fake
 * (fake-sts-oidc.ts): the token's `iss` must name an OIDC provider of this account, its signature must
 * verify against the issuer's keys (fetched once with `server.trustIssuer(url, ca)`, as STS fetches the
 * JWKS), it must not be expired, its `aud` must be a client ID of the provider, and the role's trust
 * policy must allow it (src/core/evaluate.ts). Refusals carry STS's codes: InvalidIdentityToken,
 * ExpiredTokenException, AccessDenied. `assumeAnyToken: true` restores the old shortcut (any token for
 * any existing role); a test must ask for it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as iamSdk from '@aws-sdk/client-iam';
import * as stsSdk from '@aws-sdk/client-sts';
import { NormalizedSchema } from '@smithy/core/schema';
import { decodeJwt } from 'jose';
import { createIamPort } from '../../src/aws/iam.js';
import type { AwsPorts } from '../../src/aws/ports.js';
import { createStsPort } from '../../src/aws/sts.js';
import { FakeAwsFailure, fail } from './fake-aws-errors.js';
import {
  accessKeyAccount,
  createFakeIamState,
  createIamHandlers,
  type FakeIamState,
  type IamHandler,
} from './fake-aws-iam.js';
import { createFakeStsOidc, type StsDecision } from './fake-sts-oidc.js';

const IAM_VERSION = '2010-05-08';
const STS_VERSION = '2011-06-15';
const XMLNS = {
  iam: `https://iam.amazonaws.com/doc/${IAM_VERSION}/`,
  sts: `https://sts.amazonaws.com/doc/${STS_VERSION}/`,
};

/** HTTP status of IAM/STS error codes (IAM API reference, "Errors"); anything else is a 400. */
const ERROR_STATUS: Record<string, number> = {
  NoSuchEntity: 404,
  EntityAlreadyExists: 409,
  LimitExceeded: 409,
  DeleteConflict: 409,
  ConcurrentModification: 409,
  AccessDenied: 403,
  InvalidClientTokenId: 403,
  IDPRejectedClaim: 403,
  ServiceFailure: 500,
  InternalFailure: 500,
  ServiceUnavailable: 503,
};

const DEFAULT_MESSAGES: Record<string, string> = {
  AccessDenied: 'User: arn:aws:iam::123456789012:user/ci-admin is not authorized to perform this action',
  Throttling: 'Rate exceeded',
  ServiceFailure: 'The request processing has failed because of an unknown error, exception or failure.',
};

export interface FailRule {
  /** Action name, e.g. `CreateRole`. */
  action: string;
  /** AWS error code, e.g. `AccessDenied`, `Throttling`. */
  code: string;
  /** How many requests of `action` fail (from the first). Default 1. */
  times?: number;
  message?: string;
}

export interface HoldRule {
  action: string;
  /** Which occurrence of `action` (1-based). Default 1. */
  nth?: number;
  /**
   * Apply the request to the state before holding it (the change happened, the response is lost):
   * what a client killed mid-request sees when AWS had already done the work. Default false.
   */
  applyFirst?: boolean;
}

export interface IamServerOptions {
  account?: string;
  partition?: string;
  /**
   * The most items a page of List* calls and GetAccountAuthorizationDetails holds (IAM returns MaxItems,
   * default 100, at most 1,000, and may return fewer); default 1,000; 1–2 to exercise Marker.
   */
  pageSize?: number;
  /** ARN GetCallerIdentity reports for the static credentials. */
  callerArn?: string;
  failOn?: FailRule | FailRule[];
  /** Hold that request until `release()` is called or `ms` pass, then handle it (apply and answer) as usual. */
  delayOn?: HoldRule & { ms: number };
  /** Never answer that request (until the client goes away or the server closes). */
  hangOn?: HoldRule;
  /** Called as each request arrives, before it is handled. */
  onRequest?: (action: string, input: Record<string, unknown>) => void;
  /** Calls before a new provider can be named in a trust policy (IAM eventual consistency). Default 0. */
  propagationDelayCalls?: number;
  /**
   * AssumeRoleWithWebIdentity hands out credentials for any token (even a non-JWT) to any existing role,
   * without checking the token or the trust policy. Default false: it checks them like STS.
   */
  assumeAnyToken?: boolean;
  /** STS's clock for token expiry. Default: the real time. */
  now?: () => Date;
}

export interface LoggedResponse {
  action: string;
  status: number;
  requestId: string;
  /** AWS error code for failures. */
  code?: string;
}

export interface IamServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  account: string;
  state: FakeIamState;
  /** Action names in arrival order (failed, held and hung ones included). */
  requests: string[];
  /** What was answered, in order. */
  responses: LoggedResponse[];
  /** Names of the mutating requests, in order. */
  mutating(): string[];
  /** Requests received but not answered yet (a hung request counts until its client disconnects). */
  inFlight(): number;
  /**
   * Resolves when the `hangOn` (or else `delayOn`) request has arrived (and, with `applyFirst`, been
   * applied): the moment to signal or kill the client.
   */
  held(): Promise<string>;
  /**
   * Resolves once no request other than the held (hung or delayed) one is in flight and none has
   * arrived for `quietMs` (default 50): the client is waiting on the held request alone.
   */
  settled(quietMs?: number): Promise<void>;
  /** Ends the `delayOn` hold now. */
  release(): void;
  /**
   * Fetches `<issuer>/.well-known/openid-configuration` and its JWKS, trusting `ca`: STS can then
   * verify that issuer's tokens. A token from an issuer not fetched is refused (InvalidIdentityToken,
   * "Couldn't retrieve verification key"), as when STS cannot reach the keys.
   */
  trustIssuer(issuerUrl: string, ca: string): Promise<void>;
  /** What STS decided for each checked AssumeRoleWithWebIdentity, in order (none with `assumeAnyToken`). */
  stsDecisions: StsDecision[];
  close(): Promise<void>;
}

/** Same rule as `fake-aws.ts`: reads are Get*, List* and AssumeRoleWithWebIdentity. */
export function isMutatingAction(action: string): boolean {
  return !/^(Get|List)/.test(action) && action !== 'AssumeRoleWithWebIdentity';
}

// ---------- query decoding (schema-driven) ----------

type Schema = Parameters<typeof NormalizedSchema.of>[0];

/** The SDK's operation schema for `action` (`CreateRole$`), exported by the client packages. */
function operationSchema(service: 'iam' | 'sts', action: string): { input: Schema; output: Schema } {
  const sdk = (service === 'iam' ? iamSdk : stsSdk) as unknown as Record<string, unknown>;
  const op = sdk[`${action}$`];
  // Static operation schema: [9, namespace, name, traits, input, output].
  if (!Array.isArray(op) || op[0] !== 9)
    throw new Error(`iam-server: no SDK schema for ${service} ${action}`);
  return { input: op[4] as Schema, output: op[5] as Schema };
}

/**
 * Form parameters → SDK input, generically: structure members by name, lists as `X.member.N`
 * (an empty `X=` is an empty list), maps as `X.entry.N.key/value`, numbers, booleans and timestamps
 * typed by the schema.
 */
export function decodeQuery(schema: Schema, params: URLSearchParams): Record<string, unknown> {
  const values = new Map<string, string>();
  for (const [key, value] of params) if (key !== 'Action' && key !== 'Version') values.set(key, value);
  const keys = [...values.keys()];
  const present = (prefix: string) => keys.some((k) => k === prefix || k.startsWith(`${prefix}.`));

  const read = (ns: NormalizedSchema, prefix: string): unknown => {
    if (ns.isStructSchema()) {
      const out: Record<string, unknown> = {};
      for (const [name, member] of ns.structIterator()) {
        const field = member.getMergedTraits().xmlName ?? name;
        const key = prefix ? `${prefix}.${field}` : field;
        const value = read(member, key);
        if (value !== undefined) out[name] = value;
      }
      return out;
    }
    if (ns.isListSchema()) {
      if (values.get(prefix) === '') return [];
      const item = ns.getValueSchema();
      const tag = item.getMergedTraits().xmlName ?? 'member';
      const list: unknown[] = [];
      for (let i = 1; present(`${prefix}.${tag}.${i}`); i++) list.push(read(item, `${prefix}.${tag}.${i}`));
      return list.length ? list : undefined;
    }
    if (ns.isMapSchema()) {
      const out: Record<string, unknown> = {};
      for (let i = 1; present(`${prefix}.entry.${i}`); i++) {
        const key = values.get(`${prefix}.entry.${i}.key`);
        if (key !== undefined) out[key] = read(ns.getValueSchema(), `${prefix}.entry.${i}.value`);
      }
      return Object.keys(out).length ? out : undefined;
    }
    if (ns.isUnitSchema()) return undefined;
    const raw = values.get(prefix);
    if (raw === undefined) return undefined;
    if (ns.isNumericSchema()) {
      const n = Number(raw);
      if (!Number.isFinite(n)) fail('ValidationError', `Value '${raw}' at '${prefix}' is not a number`);
      return n;
    }
    if (ns.isBooleanSchema()) return raw === 'true';
    if (ns.isTimestampSchema()) return new Date(raw);
    if (ns.isBlobSchema()) return Buffer.from(raw, 'base64');
    return raw;
  };

  const ns = NormalizedSchema.of(schema);
  if (ns.isUnitSchema()) return {};
  return (read(ns, '') as Record<string, unknown> | undefined) ?? {};
}

// ---------- XML encoding (generic) ----------

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** SDK output → XML elements: arrays as `<member>`, dates ISO 8601, booleans lowercase, `undefined` left out. */
export function encodeXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((item) => `<member>${encodeXml(item)}</member>`).join('');
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([key, v]) => v !== undefined && v !== null && key !== '$metadata')
      .map(([key, v]) =>
        // The one map in the outputs served (GetAccountSummary): awsQuery writes maps as entry/key/value.
        MAP_MEMBERS.has(key) && typeof v === 'object'
          ? `<${key}>${Object.entries(v as Record<string, unknown>)
              .map(([k, x]) => `<entry><key>${escapeXml(k)}</key><value>${encodeXml(x)}</value></entry>`)
              .join('')}</${key}>`
          : `<${key}>${encodeXml(v)}</${key}>`,
      )
      .join('');
  }
  return escapeXml(String(value));
}

const MAP_MEMBERS = new Set(['SummaryMap']);

function successXml(service: 'iam' | 'sts', action: string, output: object, requestId: string): string {
  const result = encodeXml(output);
  return (
    `<${action}Response xmlns="${XMLNS[service]}">` +
    (result ? `<${action}Result>${result}</${action}Result>` : '') +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

function errorXml(service: 'iam' | 'sts', code: string, message: string, requestId: string): string {
  const type = (ERROR_STATUS[code] ?? 400) >= 500 ? 'Receiver' : 'Sender';
  return (
    `<ErrorResponse xmlns="${XMLNS[service]}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

// ---------- the server ----------

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Access key ID from a SigV4 `Authorization` header (`Credential=AKID/date/region/service/aws4_request`). */
function accessKeyOf(req: IncomingMessage): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
}

export async function startIamServer(options: IamServerOptions = {}): Promise<IamServer> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const account = options.account ?? '123456789012';
  const partition = options.partition ?? 'aws';
  const callerArn = options.callerArn ?? `arn:${partition}:iam::${account}:user/ci-admin`;
  const state = createFakeIamState();
  const requests: string[] = [];
  const responses: LoggedResponse[] = [];
  const counts = new Map<string, number>();
  const failQueues = new Map<string, { code: string; message: string }[]>();
  for (const rule of [options.failOn ?? []].flat()) {
    const queue = failQueues.get(rule.action) ?? [];
    for (let i = 0; i < (rule.times ?? 1); i++) {
      queue.push({
        code: rule.code,
        message: rule.message ?? DEFAULT_MESSAGES[rule.code] ?? `Injected ${rule.code}`,
      });
    }
    failQueues.set(rule.action, queue);
  }
  const issuedKeys = new Map<string, string>();
  const stsOidc = createFakeStsOidc(options.now ? { now: options.now } : {});
  let inFlight = 0;
  let heldOpen = 0;
  let lastArrival = 0;
  let releaseHold: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    releaseHold = resolve;
  });
  let markHeld: (action: string) => void = () => {};
  const heldPromise = new Promise<string>((resolve) => {
    markHeld = resolve;
  });

  const iamHandlers = createIamHandlers(state, {
    account,
    partition,
    pageSize: options.pageSize ?? 1000,
    propagationDelayCalls: options.propagationDelayCalls ?? 0,
    callCount: () => requests.length,
  });
  const stsHandlers: Record<string, (input: Record<string, unknown>, req: IncomingMessage) => object> = {
    GetCallerIdentity: (_input, req) => {
      const assumed = issuedKeys.get(accessKeyOf(req) ?? '');
      if (assumed) return { UserId: `AROAFAKE:${assumed.split('/').pop()}`, Account: account, Arn: assumed };
      return { UserId: 'AIDAFAKEFAKEFAKEFAKE', Account: account, Arn: callerArn };
    },
    GetAccessKeyInfo: (input) => ({ Account: accessKeyAccount(String(input.AccessKeyId ?? '')) }),
    AssumeRoleWithWebIdentity: (input) => {
      const roleArn = String(input.RoleArn);
      const token = String(input.WebIdentityToken ?? '');
      const roleName = roleArn.split('/').pop() ?? '';
      // Throws STS's refusal (see fake-sts-oidc.ts) unless the token may assume the role.
      if (!options.assumeAnyToken) {
        stsOidc.handler(
          { RoleArn: roleArn, RoleSessionName: String(input.RoleSessionName), WebIdentityToken: token },
          state,
        );
      }
      const role = state.roles.get(roleName.toLowerCase());
      if (!role || role.arn !== roleArn)
        fail('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
      const claims = options.assumeAnyToken ? {} : decodeJwt(token);
      const assumedArn = `arn:${partition}:sts::${account}:assumed-role/${role.name}/${String(input.RoleSessionName)}`;
      const accessKeyId = `ASIAFAKE${String(issuedKeys.size).padStart(12, '0')}`;
      issuedKeys.set(accessKeyId, assumedArn);
      return {
        Credentials: {
          AccessKeyId: accessKeyId,
          SecretAccessKey: 'fake-assumed-secret',
          SessionToken: 'fake-session-token',
          Expiration: new Date(Date.now() + Number(input.DurationSeconds ?? 3600) * 1000),
        },
        AssumedRoleUser: { Arn: assumedArn, AssumedRoleId: `AROAFAKE:${String(input.RoleSessionName)}` },
        // As STS reports them for an OIDC ID token: its sub, aud and iss.
        SubjectFromWebIdentityToken: claims.sub ?? 'redacted',
        Audience: [claims.aud ?? 'redacted'].flat()[0],
        Provider: claims.iss ?? 'redacted',
      };
    },
  };

  const matches = (rule: HoldRule | undefined, action: string, nth: number) =>
    rule !== undefined && rule.action === action && (rule.nth ?? 1) === nth;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    const send = (action: string, status: number, body: string, code?: string) => {
      responses.push({ action, status, requestId, ...(code ? { code } : {}) });
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      res.end(body);
    };
    const body = await readBody(req);
    const params = new URLSearchParams(body);
    const action = params.get('Action') ?? '';
    const service = params.get('Version') === STS_VERSION ? 'sts' : 'iam';
    requests.push(action);
    const nth = (counts.get(action) ?? 0) + 1;
    counts.set(action, nth);

    const iamHandler: IamHandler | undefined = service === 'iam' ? iamHandlers[action] : undefined;
    const stsHandler = service === 'sts' ? stsHandlers[action] : undefined;
    if (req.method !== 'POST' || (!iamHandler && !stsHandler)) {
      send(
        action,
        400,
        errorXml(service, 'InvalidAction', `Could not find operation ${action}`, requestId),
        'InvalidAction',
      );
      return;
    }
    const run = (input: Record<string, unknown>) =>
      iamHandler ? iamHandler(input) : (stsHandler as NonNullable<typeof stsHandler>)(input, req);

    let input: Record<string, unknown>;
    try {
      input = decodeQuery(operationSchema(service, action).input, params);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      send(action, 400, errorXml(service, 'ValidationError', message, requestId), 'ValidationError');
      return;
    }
    options.onRequest?.(action, input);

    const respond = (output: () => object) => {
      const injected = failQueues.get(action)?.shift();
      try {
        if (injected) fail(injected.code, injected.message);
        send(action, 200, successXml(service, action, output(), requestId));
      } catch (error) {
        if (!(error instanceof FakeAwsFailure)) throw error;
        send(
          action,
          ERROR_STATUS[error.code] ?? 400,
          errorXml(service, error.code, error.message, requestId),
          error.code,
        );
      }
    };

    if (matches(options.hangOn, action, nth)) {
      if (options.hangOn?.applyFirst) {
        try {
          run(input);
        } catch {
          // the client never hears about it either way
        }
      }
      heldOpen++;
      markHeld(action);
      if (!res.closed) await new Promise<void>((resolve) => res.on('close', resolve));
      heldOpen--;
      return;
    }
    if (matches(options.delayOn, action, nth)) {
      const delay = options.delayOn as NonNullable<typeof options.delayOn>;
      let output: object | undefined;
      let early: unknown;
      if (delay.applyFirst) {
        try {
          output = run(input);
        } catch (error) {
          early = error;
        }
      }
      heldOpen++;
      markHeld(action);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([released, new Promise((resolve) => (timer = setTimeout(resolve, delay.ms)))]);
      clearTimeout(timer);
      heldOpen--;
      if (res.closed) return; // the client went away (or the server closed) meanwhile
      respond(() => {
        if (early) throw early;
        return output ?? run(input);
      });
      return;
    }
    respond(() => run(input));
  };

  const server = createServer((req, res) => {
    inFlight++;
    lastArrival = Date.now();
    res.on('close', () => {
      inFlight--;
    });
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`iam-server: ${error instanceof Error ? error.stack : String(error)}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    account,
    state,
    requests,
    responses,
    mutating: () => requests.filter(isMutatingAction),
    inFlight: () => inFlight,
    held: () => heldPromise,
    release: () => releaseHold(),
    trustIssuer: (issuerUrl, ca) => stsOidc.trustIssuer(issuerUrl, ca),
    stsDecisions: stsOidc.decisions,
    settled: async (quietMs = 50) => {
      for (;;) {
        const quietFor = Date.now() - lastArrival;
        if (inFlight - heldOpen <= 0 && quietFor >= quietMs) return;
        await new Promise((resolve) => setTimeout(resolve, Math.max(5, quietMs - quietFor)));
      }
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

// ---------- clients for it ----------

/** In-process ports over real SDK clients (real serialisation, real HTTP) aimed at the server. */
export function createServerPorts(server: Pick<IamServer, 'url'>): AwsPorts {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config = {
    region: 'us-east-1',
    endpoint: server.url,
    credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret-access-key' },
    maxAttempts: 1,
  };
  return {
    iam: createIamPort(new iamSdk.IAMClient(config)),
    sts: createStsPort(new stsSdk.STSClient(config)),
  };
}

// ---------- running the built binary against it ----------

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = `${ROOT}bin/gitlab-aws-oidc.js`;

/**
 * Environment for the built binary: this server as IAM and STS, static fake credentials, one
 * attempt per call (so an injected failure is seen, not retried away), and `HOME` pointing at an
 * empty folder so no real `~/.aws` config, profile or SSO cache is read. Every inherited `AWS_*`
 * variable is dropped, and so are the proxy variables (HTTPS_PROXY, NO_PROXY…: pass them in `extra`).
 */
const GITLAB_ENV = ['GITLAB_TOKEN', 'GITLAB_ACCESS_TOKEN', 'OAUTH_TOKEN', 'GLAB_CONFIG_DIR'];

export function cliEnv(server: Pick<IamServer, 'url'>, home: string, extra: Record<string, string> = {}) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      // A developer's own proxy must not see loopback test traffic: tests set proxies explicitly.
      // Nor the developer's GitLab credentials (a test gives its own token for the fake GitLab).
      ([k]) =>
        !k.startsWith('AWS_') &&
        k !== 'FORCE_COLOR' &&
        !/^(https?|all|no)_proxy$/i.test(k) &&
        !GITLAB_ENV.includes(k),
    ),
  );
  return {
    ...inherited,
    CI: 'true',
    NO_COLOR: '1',
    HOME: home,
    USERPROFILE: home,
    AWS_ENDPOINT_URL_IAM: server.url,
    AWS_ENDPOINT_URL_STS: server.url,
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
    AWS_REGION: 'us-east-1',
    AWS_MAX_ATTEMPTS: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // No anonymous GitLab lookup on gitlab.com: a test never reaches the real internet.
    GITLAB_AWS_OIDC_GITLAB_ANONYMOUS: 'off',
    ...extra,
  } as NodeJS.ProcessEnv;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns `node bin/gitlab-aws-oidc.js …` asynchronously (so a test can signal it mid-run). */
export function runCli(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): { child: ChildProcess; done: Promise<CliRun>; waitForStderr(pattern: RegExp): Promise<void> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: opts.env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const waitForStderr = async (pattern: RegExp) => {
    let exited = false;
    void done.then(() => {
      exited = true;
    });
    while (!pattern.test(stderr)) {
      if (exited) throw new Error(`the CLI exited before printing ${pattern}; stderr:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { child, done, waitForStderr };
}
