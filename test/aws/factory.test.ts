import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createAwsPorts,
  DEFAULT_MAX_ATTEMPTS,
  resolveIamRegion,
  resolveRetrySettings,
  resolveStsRegion,
} from '../../src/aws/factory.js';
import { runUncancellable } from '../../src/aws/guard-client.js';
import { AbortError, AwsError, CredentialsError, TimeoutError, UsageError } from '../../src/errors.js';
import { type BlackHole, startBlackHole } from '../helpers/black-hole.js';

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const LIST_PROVIDERS_XML = `<ListOpenIDConnectProvidersResponse xmlns="${IAM_NS}">
  <ListOpenIDConnectProvidersResult><OpenIDConnectProviderList>
    <member><Arn>arn:aws:iam::123456789012:oidc-provider/gitlab.com</Arn></member>
  </OpenIDConnectProviderList></ListOpenIDConnectProvidersResult>
  <ResponseMetadata><RequestId>req-list</RequestId></ResponseMetadata>
</ListOpenIDConnectProvidersResponse>`;
const CALLER_XML = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA1</UserId><Account>123456789012</Account></GetCallerIdentityResult>
  <ResponseMetadata><RequestId>req-caller</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`;
const FAILURE_XML = `<ErrorResponse xmlns="${IAM_NS}"><Error><Type>Receiver</Type><Code>ServiceFailure</Code>
  <Message>try again</Message></Error><RequestId>req-fail</RequestId></ErrorResponse>`;

interface Seen {
  body: string;
  headers: IncomingHttpHeaders;
}

/** A loopback server standing in for IAM/STS; answers by Action. */
async function startFakeEndpoint(): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ body, headers: req.headers });
      const [status, xml] = body.includes('Action=GetCallerIdentity')
        ? [200, CALLER_XML]
        : body.includes('Action=ListOpenIDConnectProviders')
          ? [200, LIST_PROVIDERS_XML]
          : [500, FAILURE_XML];
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, server };
}

let endpoint: Awaited<ReturnType<typeof startFakeEndpoint>>;
let dir: string;

beforeEach(async () => {
  endpoint = await startFakeEndpoint();
  dir = mkdtempSync(join(tmpdir(), 'gao-factory-'));
  // A hermetic credential chain: only what each test sets.
  for (const name of [
    'AWS_PROFILE',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_ENDPOINT_URL',
    'AWS_SESSION_TOKEN',
    'AWS_MAX_ATTEMPTS',
    'AWS_RETRY_MODE',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_ROLE_ARN',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  ]) {
    vi.stubEnv(name, undefined);
  }
  vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAENVENVENVENVENV1');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'env-secret');
  vi.stubEnv('AWS_ENDPOINT_URL_IAM', endpoint.url);
  vi.stubEnv('AWS_ENDPOINT_URL_STS', endpoint.url);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await new Promise((resolve) => endpoint.server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const scopeOf = (seen: Seen | undefined) =>
  /Credential=([^,]+)/.exec(String(seen?.headers.authorization))?.[1];

describe('createAwsPorts', () => {
  it('honours AWS_ENDPOINT_URL_IAM and AWS_ENDPOINT_URL_STS, signs IAM in us-east-1 and adds the user agent', async () => {
    const { iam, sts } = createAwsPorts({ userAgent: '1.2.3' });

    expect(await iam.listOidcProviderArns()).toEqual(['arn:aws:iam::123456789012:oidc-provider/gitlab.com']);
    expect(await sts.getCallerIdentity()).toMatchObject({ account: '123456789012', partition: 'aws' });

    expect(endpoint.seen.map((s) => s.body.split('&')[0])).toEqual([
      'Action=ListOpenIDConnectProviders',
      'Action=GetCallerIdentity',
    ]);
    expect(scopeOf(endpoint.seen[0])).toMatch(/^AKIAENVENVENVENVENV1\/\d{8}\/us-east-1\/iam\/aws4_request$/);
    expect(scopeOf(endpoint.seen[1])).toMatch(/\/us-east-1\/sts\/aws4_request$/);
    expect(endpoint.seen[0]?.headers['user-agent']).toContain('gitlab-aws-oidc/1.2.3');
  });

  it('signs IAM in the partition of the region and STS in the region itself', async () => {
    const { iam, sts } = createAwsPorts({ region: 'cn-northwest-1' });
    await iam.listOidcProviderArns();
    await sts.getCallerIdentity();
    expect(scopeOf(endpoint.seen[0])).toMatch(/\/cn-north-1\/iam\/aws4_request$/);
    expect(scopeOf(endpoint.seen[1])).toMatch(/\/cn-northwest-1\/sts\/aws4_request$/);
  });

  it('takes the region from AWS_REGION when none is given', async () => {
    vi.stubEnv('AWS_REGION', 'us-gov-east-1');
    const { iam, sts } = createAwsPorts();
    await iam.listOidcProviderArns();
    await sts.getCallerIdentity();
    expect(scopeOf(endpoint.seen[0])).toMatch(/\/us-gov-west-1\/iam\//);
    expect(scopeOf(endpoint.seen[1])).toMatch(/\/us-gov-east-1\/sts\//);
  });

  it('uses the named profile for both clients', async () => {
    writeFileSync(
      join(dir, 'credentials'),
      '[deployer]\naws_access_key_id = AKIAPROFILEPROFILE01\naws_secret_access_key = profile-secret\n',
    );
    vi.stubEnv('AWS_ACCESS_KEY_ID', undefined);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);
    const { iam, sts } = createAwsPorts({ profile: 'deployer' });
    await iam.listOidcProviderArns();
    await sts.getCallerIdentity();
    expect(scopeOf(endpoint.seen[0])).toMatch(/^AKIAPROFILEPROFILE01\//);
    expect(scopeOf(endpoint.seen[1])).toMatch(/^AKIAPROFILEPROFILE01\//);
  });

  it('reports an empty credential chain as CredentialsError before any request', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', undefined);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);
    const error = await createAwsPorts()
      .sts.getCallerIdentity()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(endpoint.seen).toEqual([]);
  });

  it('retries with the SDK (adaptive mode), 6 attempts by default; AWS_MAX_ATTEMPTS when set', async () => {
    const lines: string[] = [];
    const { iam } = createAwsPorts({ debug: (m) => lines.push(m) });
    const error = await iam
      .deleteOidcProvider('arn:aws:iam::123456789012:oidc-provider/x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsError);
    expect(error).toMatchObject({ awsCode: 'ServiceFailure', requestId: 'req-fail' });
    expect(endpoint.seen.map((s) => s.headers['amz-sdk-request'])).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) => `attempt=${n}; max=${DEFAULT_MAX_ATTEMPTS}`),
    );
    // Each failed attempt is one debug line.
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe(
      'IAM DeleteOpenIDConnectProvider: attempt 1 of 6 failed (ServiceFailure: try again); the SDK retries it if the error is retryable',
    );
    expect(lines[5]).toMatch(/attempt 6 of 6 failed .*; no attempt left$/);

    vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
    endpoint.seen.length = 0;
    await createAwsPorts()
      .iam.deleteOidcProvider('arn:aws:iam::123456789012:oidc-provider/x')
      .catch(() => undefined);
    expect(endpoint.seen).toHaveLength(1);
  });

  it('runUncancellable: a call made in it still goes out after the run was aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const { iam } = createAwsPorts({ signal: controller.signal });
    expect(await iam.listOidcProviderArns().catch((e: unknown) => e)).toBeInstanceOf(AbortError);
    expect(endpoint.seen).toHaveLength(0);
    expect(await runUncancellable(() => iam.listOidcProviderArns())).toEqual([
      'arn:aws:iam::123456789012:oidc-provider/gitlab.com',
    ]);
    expect(endpoint.seen).toHaveLength(1);
    // Only inside it.
    expect(await iam.listOidcProviderArns().catch((e: unknown) => e)).toBeInstanceOf(AbortError);
  });
});

describe('SDK retry settings', () => {
  it.each([
    [{}, { retryMode: 'adaptive', maxAttempts: 6 }],
    [{ AWS_RETRY_MODE: 'standard' }, { maxAttempts: 6 }],
    [{ AWS_MAX_ATTEMPTS: '10' }, { retryMode: 'adaptive' }],
    [{ AWS_RETRY_MODE: 'legacy', AWS_MAX_ATTEMPTS: '2' }, {}],
    [{ AWS_RETRY_MODE: '' }, { retryMode: 'adaptive', maxAttempts: 6 }],
  ])('environment %j → %j', (env, expected) => {
    expect(resolveRetrySettings(env)).toEqual(expected);
  });
});

describe('region resolution', () => {
  it.each([
    [undefined, 'us-east-1'],
    ['eu-west-1', 'us-east-1'],
    ['cn-north-1', 'cn-north-1'],
    ['cn-northwest-1', 'cn-north-1'],
    ['us-gov-east-1', 'us-gov-west-1'],
  ])('signs IAM for region %s in %s', (region, expected) => {
    expect(resolveIamRegion(region)).toBe(expected);
  });

  it('picks the STS region from the option, then AWS_REGION, then us-east-1', () => {
    expect(resolveStsRegion('eu-west-1', { AWS_REGION: 'eu-central-1' })).toBe('eu-west-1');
    expect(resolveStsRegion(undefined, { AWS_REGION: 'eu-central-1' })).toBe('eu-central-1');
    expect(resolveStsRegion(undefined, {})).toBe('us-east-1');
  });
});

describe('createAwsPorts against an endpoint that accepts and never answers', () => {
  let hole: BlackHole;
  beforeEach(async () => {
    hole = await startBlackHole();
    vi.stubEnv('AWS_ENDPOINT_URL_IAM', hole.url);
    vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
  });
  afterEach(() => hole.close());

  it('times out each call with a TimeoutError naming the operation and the endpoint', async () => {
    const { iam, sts } = createAwsPorts({ timeouts: { connectMs: 1000, awsRequestMs: 200, httpMs: 200 } });
    expect(await sts.getCallerIdentity()).toMatchObject({ account: '123456789012' });
    const error = await iam.getRole('app').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({
      code: 'TIMEOUT',
      operation: 'GetRole',
      endpoint: hole.url,
      timeoutMs: 200,
    });
    expect((error as TimeoutError).message).toMatch(
      /^GetRole at http:\/\/127\.0\.0\.1:\d+ \(IAM\) did not answer within 200 ms\. It only reads: nothing was changed/,
    );
  });

  it('says a mutating call that timed out may have been applied', async () => {
    const { iam } = createAwsPorts({ timeouts: { connectMs: 1000, awsRequestMs: 200, httpMs: 200 } });
    const error = await iam.deleteRole('app').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIMEOUT', operation: 'DeleteRole' });
    expect((error as TimeoutError).message).toMatch(/may or may not have been applied/);
  });

  it('the abort signal cancels the call in flight at once (AbortError) and closes the connection', async () => {
    const controller = new AbortController();
    const { iam } = createAwsPorts({ signal: controller.signal });
    const pending = iam.listOidcProviderArns().catch((e: unknown) => e);
    await vi.waitFor(() => expect(hole.connections()).toBe(1));
    const began = Date.now();
    controller.abort();
    const error = await pending;
    expect(Date.now() - began).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).message).toMatch(
      /ListOpenIDConnectProviders .* cancelled in flight; it only reads/,
    );
    await vi.waitFor(() => expect(hole.open()).toBe(0));
  });

  it('takes its limits from GITLAB_AWS_OIDC_TIMEOUT_MS and refuses a bad value before any request', async () => {
    vi.stubEnv('GITLAB_AWS_OIDC_TIMEOUT_MS', '150');
    const error = await createAwsPorts()
      .iam.listRoles()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIMEOUT', timeoutMs: 150 });
    vi.stubEnv('GITLAB_AWS_OIDC_TIMEOUT_MS', '-1');
    expect(() => createAwsPorts()).toThrow(UsageError);
  });
});
