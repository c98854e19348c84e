/**
 * `verify` in pipeline mode, with the built binary: the job's token in GITLAB_OIDC_TOKEN, the role in
 * AWS_ROLE_ARN, STS and IAM on the loopback server (which checks tokens and trust policies like STS),
 * and a loopback HTTPS GitLab issuer whose private CA the binary trusts through NODE_EXTRA_CA_CERTS.
 * Also pins the loopback STS's refusals (codes, HTTP status, messages) in-process, through the SDK.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/aws/apply.js';
import { readCurrentState } from '../../src/aws/read-state.js';
import { buildDesiredState } from '../../src/core/desired-state.js';
import { issuerFromUrl } from '../../src/core/issuer.js';
import { defaultRoleName } from '../../src/core/naming.js';
import { buildPlan } from '../../src/core/plan.js';
import { AwsError } from '../../src/errors.js';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import {
  type CliRun,
  cliEnv,
  createServerPorts,
  type IamServer,
  runCli,
  startIamServer,
} from '../helpers/iam-server.js';
import { type OidcIssuer, startOidcIssuer } from '../helpers/oidc-issuer.js';

const ACCOUNT = '345634563456';
/** The issuer's default claims: project acme/platform/api, branch main, project 20, job 302. */
const PROJECT = 'acme/platform/api';
const ROLE_NAME = defaultRoleName(PROJECT);
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/gitlab-oidc/${ROLE_NAME}`;
const SESSION = 'gitlab-20-302';

let issuer: OidcIssuer;
let server: IamServer;
let dir: string;
let cwd: string;
let home: string;
let caFile: string;
/** Every token minted here: none may ever be printed. */
const minted: string[] = [];

beforeAll(async () => {
  [issuer, server] = await Promise.all([startOidcIssuer(), startIamServer({ account: ACCOUNT })]);
  // STS fetches the issuer's JWKS (over TLS, trusting the test CA), as real STS does.
  await server.trustIssuer(issuer.url, issuer.caPem);

  dir = mkdtempSync(join(tmpdir(), 'gao-verify-assume-'));
  cwd = join(dir, 'repo');
  home = join(dir, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
  caFile = join(dir, 'gitlab-ca.pem');
  writeFileSync(caFile, issuer.caPem);

  // The provider and role, as `init` makes them. `init` itself can't be used: the loopback issuer's
  // URL has a port (https://127.0.0.1:<port>), which IAM refuses in a provider URL and so init refuses
  // in --gitlab-url (src/core/issuer.ts parseIssuerUrl). So this runs what init runs after that check,
  // the same pure desired state, read, plan and apply, with the issuer parsed leniently (port kept:
  // issuerFromUrl), through the real SDK clients and the server's own CreateOpenIDConnectProvider /
  // CreateRole. The trust policy is byte for byte what init writes, with `127.0.0.1:<port>` as the host.
  const ports = createServerPorts(server);
  const gitlab = issuerFromUrl(issuer.url);
  const { desired } = buildDesiredState({
    identity: { account: ACCOUNT, partition: 'aws' },
    issuer: gitlab,
    audience: gitlab.url,
    projectPath: PROJECT,
    refs: [{ type: 'branch', pattern: 'main' }],
    roleName: ROLE_NAME,
  });
  const current = await readCurrentState(ports.iam, {
    providerArn: desired.provider.arn,
    roleName: desired.role.name,
  });
  await applyPlan(buildPlan(desired, current), ports.iam, { retry: { sleep: async () => {} } });
  expect(server.state.roles.get(ROLE_NAME.toLowerCase())?.arn).toBe(ROLE_ARN);
});

afterAll(async () => {
  await Promise.all([issuer?.close(), server?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function mint(...args: Parameters<OidcIssuer['mintToken']>): Promise<string> {
  const token = await issuer.mintToken(...args);
  minted.push(token);
  return token;
}

/** `verify` as the generated aws-oidc-verify job runs it: no flags, everything from the job's env. */
async function verifyInPipeline(
  token: string,
  flags: string[] = [],
  extra: Record<string, string> = {},
): Promise<CliRun> {
  const env = cliEnv(server, home, {
    GITLAB_OIDC_TOKEN: token,
    AWS_ROLE_ARN: ROLE_ARN,
    CI_PROJECT_ID: '20',
    CI_JOB_ID: '302',
    NODE_EXTRA_CA_CERTS: caFile,
    ...extra,
  });
  const r = await runCli(['verify', ...flags], { cwd, env }).done;
  const all = r.stdout + r.stderr;
  for (const t of minted) {
    expect(all).not.toContain(t);
    expect(all).not.toContain(t.split('.')[2]); // not even the signature alone
  }
  for (const secret of ['fake-assumed-secret', 'fake-session-token', 'ASIAFAKE']) {
    expect(all).not.toContain(secret);
  }
  return r;
}

const stsAnswers = () => server.responses.filter((x) => x.action === 'AssumeRoleWithWebIdentity');

describe('verify in a pipeline (built binary, loopback STS + GitLab issuer)', () => {
  it('a token for the trusted branch assumes the role: exit 0 and the assumed-role ARN', async () => {
    const before = stsAnswers().length;
    const r = await verifyInPipeline(await mint());
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `✓ assumed as arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE_NAME}/${SESSION} (account ${ACCOUNT})`,
    );
    expect(stsAnswers().slice(before)).toEqual([expect.objectContaining({ status: 200 })]);
    expect(server.stsDecisions.at(-1)).toEqual({ roleArn: ROLE_ARN });
    // GetCallerIdentity was signed with the credentials STS just issued.
    expect(server.requests.slice(-1)).toEqual(['GetCallerIdentity']);
  });

  it('behind HTTPS_PROXY/HTTP_PROXY: STS, discovery and JWKS all go through the proxy; NODE_EXTRA_CA_CERTS still trusts the issuer', async () => {
    const proxy = await startConnectProxy();
    try {
      const env = { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url };
      const stsHost = new URL(server.url).host;
      const ok = await verifyInPipeline(await mint(), [], env);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(ok.stdout).toContain(
        `✓ assumed as arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE_NAME}/${SESSION}`,
      );
      expect(proxy.tunnels).toContain(stsHost);
      // A refusal makes verify check the token itself: discovery and JWKS over HTTPS, through the proxy.
      const refused = await verifyInPipeline(
        await mint({ ref: 'feature-x', ref_path: 'refs/heads/feature-x' }),
        [],
        env,
      );
      expect(refused.code, refused.stdout + refused.stderr).toBe(1);
      expect(refused.stdout).toContain('signature, issuer and lifetime verified');
      const issuerHost = new URL(issuer.url).host;
      expect(proxy.tunnels.filter((t) => t === issuerHost)).toHaveLength(2);
      expect(new Set(proxy.tunnels)).toEqual(new Set([issuerHost, stsHost]));
      expect(proxy.requests).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('NO_PROXY naming 127.0.0.1 keeps every call direct', async () => {
    const proxy = await startConnectProxy();
    try {
      const r = await verifyInPipeline(
        await mint({ ref: 'feature-x', ref_path: 'refs/heads/feature-x' }),
        [],
        {
          HTTPS_PROXY: proxy.url,
          HTTP_PROXY: proxy.url,
          NO_PROXY: 'localhost,127.0.0.1',
        },
      );
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toContain('signature, issuer and lifetime verified');
      expect(proxy.tunnels).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('--json: one document naming the assumed role, no credentials', async () => {
    const r = await verifyInPipeline(await mint(), ['--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      ok: true,
      command: 'verify',
      mode: 'assume',
      roleArn: ROLE_ARN,
      sessionName: SESSION,
      assume: {
        status: 'assumed',
        account: ACCOUNT,
        assumedRoleArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE_NAME}/${SESSION}`,
      },
    });
  });

  it('a token for another branch is refused by STS (AccessDenied): exit 1 with the ≠ explanation', async () => {
    const before = stsAnswers().length;
    const r = await verifyInPipeline(await mint({ ref: 'feature-x', ref_path: 'refs/heads/feature-x' }));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    // One refusal, no retry: the trust policy already explains it.
    expect(stsAnswers().slice(before)).toEqual([
      expect.objectContaining({ status: 403, code: 'AccessDenied' }),
    ]);
    expect(server.stsDecisions.at(-1)).toEqual({ roleArn: ROLE_ARN, refusedWith: 'AccessDenied' });
    const host = issuer.url.replace('https://', '');
    expect(r.stdout).toContain(
      `\`${host}:sub\` StringEquals \`project_path:${PROJECT}:ref_type:branch:ref:main\` ≠ \`…:ref:feature-x\``,
    );
    expect(r.stdout).toContain('Not authorized to perform sts:AssumeRoleWithWebIdentity');
    // The signature was checked against the issuer's JWKS, trusted through NODE_EXTRA_CA_CERTS.
    expect(r.stdout).toContain('signature, issuer and lifetime verified');
    expect(r.stderr).toMatch(/^error: AWS refused to let this token assume .*AccessDenied/m);
  });

  it('an expired token is refused by STS (ExpiredTokenException): exit 1, not retried', async () => {
    const before = stsAnswers().length;
    const r = await verifyInPipeline(await mint({}, { expired: true, expiredBySec: 900 }));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(stsAnswers().slice(before)).toEqual([
      expect.objectContaining({ status: 400, code: 'ExpiredTokenException' }),
    ]);
    expect(r.stdout).toMatch(/✗ refused: ExpiredTokenException: Token expired: current date\/time \d+/);
    expect(r.stdout).toMatch(/The token expired at .* \(9\d\d s ago\)/);
    expect(r.stderr).toMatch(/^error: AWS refused to let this token assume .*ExpiredTokenException/m);
  });
});

describe('the loopback STS refuses like STS (in-process, real SDK client)', () => {
  const assume = async (token: string, roleArn = ROLE_ARN) => {
    const { sts } = createServerPorts(server);
    return sts
      .assumeRoleWithWebIdentity({ roleArn, token, sessionName: 'probe' })
      .then((assumed) => ({ assumed, status: stsAnswers().at(-1)?.status }))
      .catch((error: unknown) => {
        expect(error).toBeInstanceOf(AwsError);
        const e = error as AwsError;
        return { code: e.awsCode, message: e.message, status: stsAnswers().at(-1)?.status };
      });
  };

  // [case, code, HTTP status, message, token]
  it.each<[string, string, number, RegExp, () => Promise<string>]>([
    [
      'a token of another project',
      'AccessDenied',
      403,
      /^AssumeRoleWithWebIdentity failed: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity/,
      () => mint({ project_path: 'acme-evil/platform/api' }),
    ],
    [
      'a tag instead of the branch',
      'AccessDenied',
      403,
      /Not authorized to perform sts:AssumeRoleWithWebIdentity/,
      () => mint({ ref_type: 'tag', ref_path: 'refs/tags/main' }),
    ],
    [
      'an aud the provider does not list',
      'InvalidIdentityToken',
      400,
      /Incorrect token audience/,
      () => mint({ aud: 'sts.amazonaws.com' }),
    ],
    [
      'a bad signature',
      'InvalidIdentityToken',
      400,
      /not properly signed/,
      () => mint({}, { wrongKey: true }),
    ],
    [
      'an issuer with no IAM provider',
      'InvalidIdentityToken',
      400,
      /No OpenIDConnect provider found in your account for https:\/\/gitlab\.example\.com/,
      () => mint({ iss: 'https://gitlab.example.com' }),
    ],
    [
      'an issuer whose keys STS could not fetch',
      'InvalidIdentityToken',
      400,
      /Couldn't retrieve verification key from your identity provider/,
      async () => {
        const url = 'https://keys.example.com';
        const { iam } = createServerPorts(server);
        if (!(await iam.getOidcProvider(`arn:aws:iam::${ACCOUNT}:oidc-provider/keys.example.com`))) {
          await iam.createOidcProvider({ url, clientIds: [url], thumbprints: [], tags: {} });
        }
        return mint({ iss: url, aud: url });
      },
    ],
    ['not a JWT', 'InvalidIdentityToken', 400, /not a valid JWT/, async () => 'not-a-jwt'],
    [
      'a token expired beyond the clock skew',
      'ExpiredTokenException',
      400,
      /Token expired: current date\/time \d+ must be before the expiration date\/time \d+/,
      () => mint({}, { expired: true, expiredBySec: 301 + 60 }),
    ],
  ])('%s → %s (HTTP %i)', async (_name, code, status, message, token) => {
    const r = await assume(await token());
    expect(r).toMatchObject({ code, status });
    expect('message' in r ? r.message : '').toMatch(message);
  });

  it('an unknown role → AccessDenied, even with a good token', async () => {
    const r = await assume(await mint(), `arn:aws:iam::${ACCOUNT}:role/gitlab-oidc/nope`);
    expect(r).toMatchObject({ code: 'AccessDenied', status: 403 });
  });

  it('a good token is assumed', async () => {
    const r = await assume(await mint());
    expect(r).toMatchObject({
      status: 200,
      assumed: { assumedRoleArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE_NAME}/probe` },
    });
  });

  it('assumeAnyToken (opt-in) is the old shortcut: any token for any existing role', async () => {
    const permissive = await startIamServer({ account: ACCOUNT, assumeAnyToken: true });
    try {
      const { sts } = createServerPorts(permissive);
      const iam = createServerPorts(permissive).iam;
      // A trust policy no token satisfies: only the shortcut lets this one in.
      await iam.createRole({
        name: 'any',
        path: '/',
        description: 'assumable by anyone, with the shortcut',
        maxSessionDuration: 3600,
        trustPolicy: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRoleWithWebIdentity' }],
        },
        tags: {},
      });
      const assumed = await sts.assumeRoleWithWebIdentity({
        roleArn: `arn:aws:iam::${ACCOUNT}:role/any`,
        token: 'not-a-jwt',
        sessionName: 's',
      });
      expect(assumed.assumedRoleArn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/any/s`);
      expect(permissive.stsDecisions).toEqual([]);
    } finally {
      await permissive.close();
    }
  });
});
