/**
 * The built binary against a loopback server speaking the real IAM/STS Query protocol, reached only
 * through the SDK's endpoint settings (`AWS_ENDPOINT_URL_IAM`/`_STS`): what a LocalStack or moto user
 * does. Also pins the server's own wire format, in-process, with the real SDK clients.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { PolicyDocument } from '../../src/core/types.js';
import { AwsError } from '../../src/errors.js';
import {
  cliEnv,
  createServerPorts,
  type IamServer,
  isMutatingAction,
  ROOT,
  runCli,
  startIamServer,
} from '../helpers/iam-server.js';

const ACCOUNT = '210987654321';
const INIT = ['init', '--project', 'grp/app', '--branch', 'main', '--yes', '--json'];
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/gitlab.com`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/gitlab-oidc/gitlab-grp-app`;

let base: string;
const servers: IamServer[] = [];

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js')))
    throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  base = mkdtempSync(join(tmpdir(), 'gao-endpoint-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

async function setup(options: Parameters<typeof startIamServer>[0] = {}) {
  const server = await startIamServer({ account: ACCOUNT, ...options });
  servers.push(server);
  const dir = mkdtempSync(join(base, 'case-'));
  const cwd = join(dir, 'repo');
  const home = join(dir, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
  const run = (args: string[], extra: Record<string, string> = {}) =>
    runCli(args, { cwd, env: cliEnv(server, home, extra) }).done;
  return { server, cwd, run };
}

describe('init through AWS_ENDPOINT_URL_IAM/STS (built binary)', () => {
  it('creates the provider, role and pipeline; a second run changes nothing', async () => {
    const { server, cwd, run } = await setup();
    const first = await run(INIT);
    expect(first.stderr).not.toMatch(/unexpected failure/);
    expect(first.code).toBe(0);
    const doc = JSON.parse(first.stdout);
    expect(doc).toMatchObject({ ok: true, status: 'applied', providerArn: PROVIDER_ARN, roleArn: ROLE_ARN });
    expect(doc.identity).toMatchObject({ account: ACCOUNT, partition: 'aws' });
    expect(server.requests[0]).toBe('GetCallerIdentity');
    expect(server.mutating()).toEqual(['CreateOpenIDConnectProvider', 'CreateRole']);

    const provider = server.state.providers.get(PROVIDER_ARN);
    expect(provider?.clientIds).toEqual(['https://gitlab.com']);
    expect(provider?.thumbprints).toEqual([]);
    expect(provider?.tags['managed-by']).toBe('gitlab-aws-oidc');
    const role = server.state.roles.get('gitlab-grp-app');
    expect(role?.arn).toBe(ROLE_ARN);
    const trust = JSON.parse(role?.trustPolicy ?? '{}');
    const statement = [trust.Statement].flat()[0];
    expect(statement.Principal.Federated).toBe(PROVIDER_ARN);
    expect(statement.Condition.StringEquals).toMatchObject({
      'gitlab.com:aud': 'https://gitlab.com',
      'gitlab.com:sub': 'project_path:grp/app:ref_type:branch:ref:main',
    });
    expect(role?.tags).toMatchObject({
      'managed-by': 'gitlab-aws-oidc',
      'gitlab-aws-oidc:project': 'grp/app',
    });
    const ci = parse(readFileSync(join(cwd, '.gitlab-ci.yml'), 'utf8'));
    expect(JSON.stringify(ci['.aws-oidc'])).toContain(ROLE_ARN);

    const before = server.requests.length;
    const second = await run(INIT);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).status).toBe('no-changes');
    const secondRequests = server.requests.slice(before);
    expect(secondRequests).toContain('GetRole');
    expect(secondRequests.filter(isMutatingAction)).toEqual([]);
    expect(server.mutating()).toHaveLength(2);

    // The binary reads the existing role before resolving: with only --project it keeps the refs.
    const bare = await run(['init', '--project', 'grp/app', '--yes', '--json']);
    expect(bare.code, bare.stderr).toBe(0);
    expect(JSON.parse(bare.stdout).status).toBe('no-changes');
    expect(bare.stderr).toMatch(/Kept from the existing role gitlab-grp-app: refs main/);
    expect(server.mutating()).toHaveLength(2);
  });

  it('--dry-run reads IAM and makes zero mutating requests, writing no file', async () => {
    const { server, cwd, run } = await setup();
    const r = await run([...INIT.filter((a) => a !== '--yes'), '--dry-run']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'planned', dryRun: true });
    expect(server.requests).toContain('GetCallerIdentity');
    expect(server.requests).toContain('GetOpenIDConnectProvider');
    expect(server.mutating()).toEqual([]);
    expect(server.state.providers.size + server.state.roles.size + server.state.policies.size).toBe(0);
    expect(existsSync(join(cwd, '.gitlab-ci.yml'))).toBe(false);
  });

  it('AccessDenied on CreateRole: exit 1, code and request ID on stderr and in the JSON document', async () => {
    const { server, cwd, run } = await setup({ failOn: { action: 'CreateRole', code: 'AccessDenied' } });
    const r = await run(INIT);
    expect(r.code).toBe(1);
    const failed = server.responses.find((x) => x.code === 'AccessDenied');
    expect(failed).toMatchObject({ action: 'CreateRole', status: 403 });
    const requestId = failed?.requestId as string;
    expect(r.stderr).toContain('AccessDenied');
    expect(r.stderr).toContain(requestId);
    expect(r.stderr).toMatch(/not done: .*role/i);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: false, exitCode: 1 });
    expect(doc.error.code).toBe('PARTIAL_APPLY');
    expect(doc.error.cause).toMatchObject({ awsCode: 'AccessDenied', requestId });
    expect(doc.error.cause.operation).toContain('CreateRole');
    // IAM first, pipeline last: nothing written after a failure
    expect(existsSync(join(cwd, '.gitlab-ci.yml'))).toBe(false);
  });

  it('AccessDenied on the very first call (GetCallerIdentity) is reported with its request ID', async () => {
    const { server, run } = await setup({ failOn: { action: 'GetCallerIdentity', code: 'AccessDenied' } });
    const r = await run(INIT);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.error).toMatchObject({ awsCode: 'AccessDenied', requestId: server.responses[0]?.requestId });
    expect(server.mutating()).toEqual([]);
  });

  it('a --managed-policy that does not exist: exit 2 naming the flag and the ARN, before any change', async () => {
    const { server, cwd, run } = await setup();
    const arn = 'arn:aws:iam::aws:policy/ReadOnlyAcess';
    const r = await run([...INIT, '--managed-policy', arn]);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.error.code).toBe('USAGE');
    expect(doc.error.issues).toEqual([
      {
        field: '--managed-policy',
        message: expect.stringContaining(`AWS managed policy ${arn} does not exist`),
      },
    ]);
    expect(server.requests).toContain('GetPolicy');
    expect(server.mutating()).toEqual([]);
    expect(existsSync(join(cwd, '.gitlab-ci.yml'))).toBe(false);
  });

  it('Throttling is left to the SDK retry: with AWS_MAX_ATTEMPTS=2 the run completes', async () => {
    const { server, run } = await setup({ failOn: { action: 'CreateRole', code: 'Throttling' } });
    const r = await run(INIT, { AWS_MAX_ATTEMPTS: '2' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe('applied');
    expect(server.responses.filter((x) => x.action === 'CreateRole').map((x) => x.status)).toEqual([
      400, 200,
    ]);
    expect(server.state.roles.has('gitlab-grp-app')).toBe(true);
  });
});

describe('the loopback server speaks the IAM/STS Query protocol', () => {
  let server: IamServer;
  beforeAll(async () => {
    server = await startIamServer({ account: ACCOUNT });
  });
  afterAll(() => server.close());

  const post = async (body: string) => {
    const res = await fetch(`${server.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    return { status: res.status, text: await res.text(), requestId: res.headers.get('x-amzn-requestid') };
  };

  it('answers form-encoded requests with <XResponse><XResult> and ResponseMetadata', async () => {
    const r = await post(
      'Action=CreateOpenIDConnectProvider&Version=2010-05-08&Url=https%3A%2F%2Fwire.example.com' +
        '&ClientIDList.member.1=aud-1&ClientIDList.member.2=aud-2&ThumbprintList=' +
        '&Tags.member.1.Key=team&Tags.member.1.Value=a%26b',
    );
    expect(r.status).toBe(200);
    expect(r.text).toMatch(
      /^<CreateOpenIDConnectProviderResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><CreateOpenIDConnectProviderResult>/,
    );
    expect(r.text).toContain(
      `<OpenIDConnectProviderArn>arn:aws:iam::${ACCOUNT}:oidc-provider/wire.example.com</OpenIDConnectProviderArn>`,
    );
    expect(r.text).toContain('<Tags><member><Key>team</Key><Value>a&#38;b</Value></member></Tags>');
    expect(r.text).toContain(`<ResponseMetadata><RequestId>${r.requestId}</RequestId></ResponseMetadata>`);
    const provider = server.state.providers.get(`arn:aws:iam::${ACCOUNT}:oidc-provider/wire.example.com`);
    expect(provider).toMatchObject({ clientIds: ['aud-1', 'aud-2'], thumbprints: [], tags: { team: 'a&b' } });
  });

  it('answers errors with <ErrorResponse>, the code, type and HTTP status', async () => {
    const r = await post('Action=GetRole&Version=2010-05-08&RoleName=missing');
    expect(r.status).toBe(404);
    expect(r.text).toMatch(
      /^<ErrorResponse xmlns="[^"]+"><Error><Type>Sender<\/Type><Code>NoSuchEntity<\/Code><Message>[^<]+<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
    );
    const unknown = await post('Action=NoSuchAction&Version=2010-05-08');
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('<Code>InvalidAction</Code>');
  });

  it('round-trips every type through the real SDK clients (numbers, booleans, dates, lists, tags)', async () => {
    const { iam, sts } = createServerPorts(server);
    expect(await sts.getCallerIdentity()).toMatchObject({ account: ACCOUNT, partition: 'aws' });

    const providerArn = await iam.createOidcProvider({
      url: 'https://sdk.example.com/gitlab',
      clientIds: ['https://sdk.example.com/gitlab'],
      thumbprints: [],
      tags: { a: '1' },
    });
    expect(await iam.getOidcProvider(providerArn)).toMatchObject({
      url: expect.stringContaining('sdk.example.com/gitlab'),
      clientIds: ['https://sdk.example.com/gitlab'],
      thumbprints: [],
      tags: { a: '1' },
    });
    const document: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
    };
    const policyArn = await iam.createPolicy({ name: 'wire-p', path: '/t/', document, tags: { b: '2' } });
    await iam.createPolicyVersion(policyArn, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::x/*' }],
    });
    const policy = await iam.getPolicy(policyArn);
    expect(policy?.versions.map((v) => [v.versionId, v.isDefault])).toEqual(
      expect.arrayContaining([
        ['v2', true],
        ['v1', false],
      ]),
    );
    expect(policy?.versions[0]?.createDate).toBeInstanceOf(Date);

    const trustPolicy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: providerArn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { 'sdk.example.com/gitlab:sub': 'project_path:a/b:ref_type:branch:ref:main' },
          },
        },
      ],
    };
    await iam.createRole({
      name: 'wire-role',
      path: '/t/',
      description: 'desc & <more>',
      trustPolicy,
      maxSessionDuration: 7200,
      tags: { c: '3' },
    });
    await iam.attachRolePolicy('wire-role', policyArn);
    const role = await iam.getRole('wire-role');
    expect(role).toMatchObject({
      maxSessionDuration: 7200,
      tags: { c: '3' },
      attachedPolicyArns: [policyArn],
    });
    expect(role?.trustPolicy).toEqual(trustPolicy);
    expect(role?.description).toBe('desc & <more>');
    expect(await iam.getRole('nope')).toBeUndefined();

    const error = await iam.deleteOidcProvider('arn:aws:iam::1:oidc-provider/x').catch((e: unknown) => e);
    // NoSuchEntity on delete counts as done; a refused call carries code and request ID.
    expect(error).toBeUndefined();
    const refused = await iam.deletePolicy(policyArn).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AwsError);
    expect(refused).toMatchObject({
      awsCode: 'DeleteConflict',
      requestId: server.responses.at(-1)?.requestId,
    });
  });
});
