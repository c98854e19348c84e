/**
 * End to end: a loopback HTTPS GitLab issuer (real RS256 tokens, JWKS behind a private CA) and the
 * in-memory IAM/STS, whose AssumeRoleWithWebIdentity checks tokens like STS (fake-sts-oidc.ts).
 */
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConditionBlock, PolicyDocument } from '../../src/core/types.js';
import { AbortError, AwsError, exitCodeFor } from '../../src/errors.js';
import { createPalette } from '../../src/io/colors.js';
import type { CommandContext } from '../../src/io/context.js';
import { errorDocument, formatError } from '../../src/io/output.js';
import { runVerifyCommand } from '../../src/verify/command.js';
import { VerifyFailedError } from '../../src/verify/errors.js';
import type { RawVerifyFlags } from '../../src/verify/options.js';
import type { VerifyResult } from '../../src/verify/result.js';
import type { VerifyDeps } from '../../src/verify/run.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { createFakeStsOidc } from '../helpers/fake-sts-oidc.js';
import { type OidcIssuer, startOidcIssuer } from '../helpers/oidc-issuer.js';

const PROJECT = 'acme/platform/api';
let issuer: OidcIssuer;
let stranger: OidcIssuer;
const sts = createFakeStsOidc();
/** Every token minted in this file, to prove none is ever printed. */
const minted: string[] = [];

beforeAll(async () => {
  issuer = await startOidcIssuer();
  stranger = await startOidcIssuer({ kid: 'stranger-key', freshKeys: true });
  await sts.trustIssuer(issuer.url, issuer.caPem);
  await sts.trustIssuer(stranger.url, stranger.caPem);
});
afterAll(async () => {
  await issuer?.close();
  await stranger?.close();
});

let fake: FakeAws;
let host: string;
let providerArn: string;
let roleArn: string;

function trust(condition: ConditionBlock): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
    ],
  };
}

function mainOnly(): PolicyDocument {
  return trust({
    StringEquals: {
      [`${host}:sub`]: `project_path:${PROJECT}:ref_type:branch:ref:main`,
      [`${host}:aud`]: issuer.url,
    },
  });
}

beforeEach(() => {
  fake = createFakeAws({ onAssumeRoleWithWebIdentity: sts.handler });
  host = issuer.url.replace('https://', '');
  providerArn = fake.addProvider({ url: issuer.url, clientIds: [issuer.url] });
  // The role is created after providerArn is known (its trust policy names it).
  roleArn = fake.addRole({ name: 'api-deploy', path: '/gitlab-oidc/', trustPolicy: '{}' });
  setTrustPolicy(mainOnly());
});
afterEach(() => fake.restore());

function setTrustPolicy(policy: PolicyDocument): void {
  const role = fake.state.roles.get('api-deploy');
  if (!role) throw new Error('no role');
  role.trustPolicy = JSON.stringify(policy);
}

async function mint(
  claims: Record<string, unknown> = {},
  options: Parameters<OidcIssuer['mintToken']>[1] = {},
  from = issuer,
) {
  const token = await from.mintToken(claims, options);
  minted.push(token);
  return token;
}

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
  result?: VerifyResult;
  json?: Record<string, unknown>;
  slept: number[];
}

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  return {
    stream: new Writable({
      write(chunk, _enc, cb) {
        text += String(chunk);
        cb();
      },
    }),
    text: () => text,
  };
}

/** Runs the command as cli.ts does (same error printing and --json error document). */
async function run(
  flags: RawVerifyFlags,
  env: Record<string, string> = {},
  overrides: Partial<VerifyDeps> = {},
): Promise<Run> {
  const out = sink();
  const err = sink();
  const slept: number[] = [];
  const context: CommandContext = {
    stdout: out.stream,
    stderr: err.stream,
    env: { CI_PROJECT_ID: '20', CI_JOB_ID: '302', ...env },
    cwd: process.cwd(),
    interactive: false,
    signal: new AbortController().signal,
  };
  let exitCode = 0;
  let result: VerifyResult | undefined;
  try {
    result = await runVerifyCommand(flags, context, {
      ports: fake.ports,
      http: { ca: [issuer.caPem, stranger.caPem] },
      sleep: async (ms) => {
        slept.push(ms);
      },
      random: () => 0.5,
      ...overrides,
    });
  } catch (error) {
    exitCode = exitCodeFor(error);
    if (error instanceof VerifyFailedError) result = error.result;
    for (const line of formatError(error, createPalette(0))) err.stream.write(`${line}\n`);
    if (flags.json) out.stream.write(`${JSON.stringify(errorDocument(error, 'verify'), null, 2)}\n`);
  }
  const stdout = out.text();
  const parsed = flags.json && stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
  return { exitCode, stdout, stderr: err.text(), result, json: parsed, slept };
}

const SECRETS = ['fake-assumed-secret', 'fake-session-token', 'ASIAFAKE'];
function expectNoSecrets(r: Run): void {
  const all = r.stdout + r.stderr;
  for (const token of minted) {
    expect(all).not.toContain(token);
    // Not even the signature part alone.
    expect(all).not.toContain(token.split('.')[2]);
  }
  for (const s of SECRETS) expect(all).not.toContain(s);
}

describe('verify with a real token (pipeline mode)', () => {
  it('a matching token assumes the role and reports account, assumed-role ARN and expiry', async () => {
    const token = await mint();
    const r = await run({}, { GITLAB_OIDC_TOKEN: token, AWS_ROLE_ARN: roleArn });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(
      `✓ assumed as arn:aws:sts::123456789012:assumed-role/api-deploy/gitlab-20-302 (account 123456789012)`,
    );
    expect(r.stdout).toMatch(/credentials expire \d{4}-\d\d-\d\dT/);
    expect(sts.decisions.at(-1)).toEqual({ roleArn });
    // GetCallerIdentity was called with the assumed credentials (the fake answers with the assumed role).
    expect(fake.calls().map((c) => c.command)).toEqual(['AssumeRoleWithWebIdentity', 'GetCallerIdentity']);
    expectNoSecrets(r);
  });

  it('reads AWS_WEB_IDENTITY_TOKEN_FILE when the token variable is absent', async () => {
    const token = await mint();
    const r = await run(
      {},
      {
        AWS_WEB_IDENTITY_TOKEN_FILE: '/builds/.t.jwt',
        AWS_ROLE_ARN: roleArn,
        AWS_ROLE_SESSION_NAME: 'my session!',
      },
      { readFile: async (p) => (p === '/builds/.t.jwt' ? `${token}\n` : Promise.reject(new Error('nope'))) },
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('assumed-role/api-deploy/my-session-');
    expect(r.stdout).toContain('$AWS_WEB_IDENTITY_TOKEN_FILE (/builds/.t.jwt)');
  });

  it('a wrong branch is refused (exit 1) and the explanation names the condition', async () => {
    const token = await mint({ ref: 'feature-x', ref_path: 'refs/heads/feature-x' });
    const r = await run({ roleArn }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(1);
    expect(r.result?.assume).toMatchObject({
      status: 'refused',
      code: 'AccessDenied',
      attempts: 1,
      stoppedBecause: 'explained',
    });
    expect(r.result?.explanation).toMatchObject({
      available: true,
      evaluation: { decision: 'denied-implicit' },
    });
    expect(r.stdout).toContain(
      `\`${host}:sub\` StringEquals \`project_path:${PROJECT}:ref_type:branch:ref:main\` ≠ \`…:ref:feature-x\``,
    );
    expect(r.stdout).toContain('signature, issuer and lifetime verified');
    expect(r.stderr).toMatch(
      /^error: AWS refused to let this token assume .*AccessDenied \(trust policy: denied-implicit\)/,
    );
    expect(r.slept).toEqual([]);
    expectNoSecrets(r);
  });

  it('a wrong audience is refused by the client-ID check, and says so', async () => {
    const token = await mint({ aud: 'sts.amazonaws.com' });
    const r = await run({ roleArn }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(1);
    expect(r.result?.assume).toMatchObject({
      status: 'refused',
      code: 'InvalidIdentityToken',
      stoppedBecause: 'explained',
    });
    expect(r.result?.traps.map((t) => t.code)).toContain('audience-not-in-provider');
    expect(r.stdout).toMatch(/aud `sts.amazonaws.com` is not among the provider's client IDs/);
    expect(r.stderr).toMatch(/hint: Set id_tokens/);
  });

  it('an expired token is refused without retrying', async () => {
    const token = await mint({}, { expired: true, expiredBySec: 900 });
    const r = await run({ roleArn }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(1);
    expect(r.result?.assume).toMatchObject({
      status: 'refused',
      code: 'ExpiredTokenException',
      stoppedBecause: 'not-retryable',
    });
    expect(r.result?.token).toMatchObject({ signature: 'invalid', failure: { reason: 'expired' } });
    expect(r.result?.traps.map((t) => t.code)).toContain('token-expired');
    expect(r.stdout).toMatch(/The token expired at .* \(9\d\d s ago\)/);
    expect(r.slept).toEqual([]);
  });

  it('a bad signature is refused and reported as such', async () => {
    const token = await mint({}, { wrongKey: true });
    const r = await run({ roleArn }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(1);
    expect(r.result?.assume).toMatchObject({
      status: 'refused',
      code: 'InvalidIdentityToken',
      stoppedBecause: 'explained',
    });
    expect(r.result?.token).toMatchObject({ signature: 'invalid', failure: { reason: 'bad-signature' } });
    // The trust policy itself would allow these claims: the signature is the only problem.
    expect(r.result?.explanation).toMatchObject({ available: true, evaluation: { decision: 'allowed' } });
    expect(r.stdout).toContain('INVALID (bad-signature)');
  });

  it('a token from an issuer with no IAM provider is refused: provider not found', async () => {
    const token = await mint({}, {}, stranger);
    const r = await run({ roleArn }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(1);
    expect(r.result?.assume).toMatchObject({
      status: 'refused',
      code: 'InvalidIdentityToken',
      stoppedBecause: 'explained',
    });
    expect(r.result?.provider).toMatchObject({ found: false });
    expect(r.result?.traps.map((t) => t.code)).toContain('provider-not-found');
    expect(r.stdout).toContain('NOT FOUND');
  });

  it('an issuer with a trailing slash is named as the mismatch it is', async () => {
    const token = await mint({ iss: `${issuer.url}/` });
    const r = await run({ roleArn }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(1);
    const mismatch = r.result?.traps.find((t) => t.code === 'issuer-provider-mismatch');
    expect(mismatch?.message).toMatch(/ends with a slash/);
  });

  it('retries propagation refusals with bounded, jittered backoff, then succeeds', async () => {
    fake.failNext(
      'AssumeRoleWithWebIdentity',
      'AccessDenied',
      'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      {
        times: 2,
      },
    );
    const token = await mint();
    const r = await run({ roleArn }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(0);
    expect(r.result?.assume).toMatchObject({ status: 'assumed', attempts: 3 });
    // random() = 0.5: equal jitter → 3/4 of the ceiling (1 s, then 2 s).
    expect(r.slept).toEqual([750, 1500]);
    expect(r.stderr).toMatch(/AccessDenied \(attempt 1\): retrying in 0\.8 s/);
  });

  it('gives up after --timeout when the refusal cannot be explained locally', async () => {
    fake.failNext('AssumeRoleWithWebIdentity', 'InvalidIdentityToken', 'propagating', { times: 1000 });
    const token = await mint();
    const r = await run({ roleArn, timeout: '20' }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(1);
    expect(r.result?.assume).toMatchObject({
      status: 'refused',
      code: 'InvalidIdentityToken',
      stoppedBecause: 'timeout',
    });
    expect(r.slept.reduce((a, b) => a + b, 0)).toBe(20_000);
    expect(Math.max(...r.slept)).toBeLessThanOrEqual(10_000);
    expect(r.stdout).toContain('gave up: --timeout reached');
  });

  it('in a pipeline without IAM read access: shows the decoded claims, no explanation, and still never loops forever', async () => {
    fake.failNext('GetRole', 'AccessDenied', undefined, { times: 100 });
    fake.failNext('GetOpenIDConnectProvider', 'AccessDenied', undefined, { times: 100 });
    const token = await mint({ ref: 'feature-x' });
    const r = await run({ roleArn, timeout: '3' }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(1);
    expect(r.result?.assume).toMatchObject({
      status: 'refused',
      code: 'AccessDenied',
      stoppedBecause: 'timeout',
    });
    expect(r.result?.explanation).toMatchObject({ available: false });
    expect(r.result?.claims).toMatchObject({
      sub: `project_path:${PROJECT}:ref_type:branch:ref:feature-x`,
      ref: 'feature-x',
      ref_protected: 'true',
      project_id: '20',
    });
    expect(r.stdout).toMatch(/no explanation: cannot read the role/);
    expect(r.stdout).not.toContain('sample-user@example.com');
    expectNoSecrets(r);
  });

  it('--no-assume verifies and explains without calling STS', async () => {
    const token = await mint();
    const r = await run({ roleArn, assume: false }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(0);
    expect(fake.calls().map((c) => c.command)).not.toContain('AssumeRoleWithWebIdentity');
    expect(r.stdout).toContain('✓ would be allowed (--no-assume)');
  });

  it('--token - reads stdin', async () => {
    const token = await mint();
    const r = await run({ roleArn, token: '-' }, {}, { readStdin: async () => token });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Token         stdin: accepted by STS');
  });
});

describe('verify on a laptop: simulated jobs', () => {
  it('--project/--branch: an allowed job passes (GitLab URL from the trust policy, aud from the provider)', async () => {
    const r = await run({ roleArn, project: PROJECT, branch: 'main' });
    expect(r.exitCode).toBe(0);
    expect(r.result?.mode).toBe('simulate');
    expect(r.result?.claims).toMatchObject({ aud: [issuer.url], iss: issuer.url });
    expect(fake.calls().map((c) => c.command)).not.toContain('AssumeRoleWithWebIdentity');
    expect(r.stdout).toContain('✓ would be allowed');
  });

  it('--project/--branch: another branch is refused with the failing condition', async () => {
    const r = await run({ roleArn, project: PROJECT, branch: 'feature-x' });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('≠ `…:ref:feature-x`');
    expect(r.stderr).toMatch(/error: A job with these claims may NOT assume/);
  });

  it('--claims: evaluates arbitrary claims', async () => {
    const ok = await run({
      roleArn,
      claims: `sub=project_path:${PROJECT}:ref_type:branch:ref:main,aud=${issuer.url}`,
    });
    expect(ok.exitCode).toBe(0);
    const tag = await run({ roleArn, claims: `project_path=${PROJECT},ref_type=tag,ref=main` });
    expect(tag.exitCode).toBe(1);
    expect(tag.stdout).toContain('≠ `…:ref_type:tag:ref:main`');
  });

  it('--expect-deny passes for a literal policy and fails (exit 1) for a group wildcard', async () => {
    const good = await run({ roleArn, project: PROJECT, branch: 'main', expectDeny: true });
    expect(good.exitCode).toBe(0);
    expect(good.stdout).toContain('✓ refused: a look-alike group `acme-evil/platform/api`');
    setTrustPolicy(
      trust({
        StringLike: { [`${host}:sub`]: 'project_path:acme/*' },
        StringEquals: { [`${host}:aud`]: issuer.url },
      }),
    );
    const bad = await run({ roleArn, project: PROJECT, branch: 'main', expectDeny: true, json: true });
    expect(bad.exitCode).toBe(1);
    const verify = bad.json as unknown as VerifyResult | undefined;
    if (!verify) throw new Error('no verify document');
    expect(verify.expectDeny).toMatchObject({ checked: true });
    const allowed = verify.expectDeny?.checked
      ? verify.expectDeny.results.filter((x) => x.allowed).map((x) => x.id)
      : [];
    expect(allowed).toEqual([
      'other-branch',
      'tag-not-allowed',
      'other-project',
      'project-name-prefix',
      'nested-subgroup',
      'parent-group-sibling',
    ]);
  });

  it('--expect-deny with a real token after a successful assume', async () => {
    const token = await mint();
    const r = await run({ roleArn, expectDeny: true }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(0);
    expect(r.result?.expectDeny).toMatchObject({ checked: true, allowedCount: 0 });
    expect(r.stdout).toMatch(/all \d+ should-be-refused jobs are refused/);
  });
});

describe('verify never answers "allowed" where IAM would refuse or is silent', () => {
  const mainSub = () => `project_path:${PROJECT}:ref_type:branch:ref:main`;

  it('a trust policy IAM refuses to store (Effect "deny") is reported malformed, never allowed', async () => {
    const policy = mainOnly();
    const statements = policy.Statement as PolicyDocument['Statement'][] as never as Record<
      string,
      unknown
    >[];
    // A lower-case "deny" that, if read, would refuse the job: IAM refuses the whole document.
    statements.push({ ...statements[0], Effect: 'deny' });
    setTrustPolicy(policy);
    const r = await run({ roleArn, project: PROJECT, branch: 'main' });
    expect(r.exitCode).toBe(1);
    expect(r.result?.explanation).toMatchObject({ available: true, evaluation: { decision: 'malformed' } });
    expect(r.stdout).toContain('IAM refuses this trust policy (MalformedPolicyDocument)');
    expect(r.stdout).toMatch(/statement #1: Effect "deny" is not "Allow" or "Deny"/);
    expect(r.stdout).not.toMatch(/would be allowed|Allowed by/);
    expect(r.stderr).toMatch(/may NOT assume .*\(malformed\)/);
    const json = await run({ roleArn, project: PROJECT, branch: 'main', json: true });
    expect(json.json).toMatchObject({
      ok: false,
      explanation: {
        evaluation: {
          decision: 'malformed',
          assumable: false,
          malformed: [{ statement: 1, element: 'Effect' }],
        },
      },
    });
  });

  it('--expect-deny on a malformed policy proves nothing: not checked, exit 1', async () => {
    const policy = mainOnly();
    const statements = policy.Statement as never as Record<string, unknown>[];
    statements.push({ ...statements[0], Effect: 'deny' });
    setTrustPolicy(policy);
    const r = await run({ roleArn, project: PROJECT, branch: 'main', expectDeny: true });
    expect(r.exitCode).toBe(1);
    expect(r.result?.expectDeny).toEqual({
      checked: false,
      reason: 'IAM refuses this trust policy (MalformedPolicyDocument)',
    });
    expect(r.stdout).not.toContain('✓ refused');
  });

  it('a Deny with a mis-cased operator makes the policy malformed, not "allowed"', async () => {
    const policy = mainOnly();
    const statements = policy.Statement as never as Record<string, unknown>[];
    statements.push({
      ...statements[0],
      Effect: 'Deny',
      Condition: { stringnotequals: { [`${host}:sub`]: 'x' } },
    });
    setTrustPolicy(policy);
    const r = await run({ roleArn, project: PROJECT, branch: 'main', json: true });
    expect(r.exitCode).toBe(1);
    expect(r.json).toMatchObject({ explanation: { evaluation: { decision: 'malformed' } } });
    expect(JSON.stringify(r.json)).toContain('\\"stringnotequals\\" is not an IAM condition operator');
  });

  it('an answer resting on an undocumented reading says so (Caveats, and caveats in --json)', async () => {
    setTrustPolicy(
      trust({
        ArnLike: { [`${host}:sub`]: `project_path:${PROJECT}:*` },
        StringEquals: { [`${host}:aud`]: issuer.url },
      }),
    );
    const r = await run({ roleArn, project: PROJECT, branch: 'main' });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^ +! statement #0: `[^`]+:sub` ArnLike: `project_path:[^`]+` is not an ARN/m);
    expect(r.stderr).toMatch(
      /may NOT assume .*\(denied-implicit\); the answer rests on 2 assumptions \(see Caveats\)/,
    );
    const json = await run({ roleArn, project: PROJECT, branch: 'main', json: true });
    expect(json.json).toMatchObject({
      explanation: {
        evaluation: {
          decision: 'denied-implicit',
          caveats: [{ code: 'issuer-assumed' }, { code: 'arn-format', statement: 0 }],
        },
      },
    });
  });

  it('--claims without iss: the assumed issuer is a caveat; a provider IAM lacks is never "allowed by statement #0"', async () => {
    const account = roleArn.split(':')[4];
    const elsewhere = 'gitlab.example.com';
    setTrustPolicy({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${elsewhere}` },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${elsewhere}:sub`]: mainSub() } },
        },
      ],
    });
    const r = await run({ roleArn, claims: `sub=${mainSub()},aud=https://${elsewhere}`, json: true });
    expect(r.exitCode).toBe(1);
    const evaluation = (r.result?.explanation as { evaluation?: Record<string, unknown> } | undefined)
      ?.evaluation;
    expect(evaluation).toMatchObject({ assumable: false, caveats: [{ code: 'issuer-assumed' }] });
    expect(JSON.stringify(evaluation?.caveats)).toContain(`assumed the job comes from https://${elsewhere}`);
    const text = await run({ roleArn, claims: `sub=${mainSub()},aud=https://${elsewhere}` });
    expect(text.stdout).toContain('NOT FOUND');
    expect(text.stdout).toMatch(/^Why +There is no OIDC provider `[^`]+gitlab\.example\.com` in IAM/m);
    expect(text.stdout).not.toMatch(/Allowed by statement/);
    expect(text.stdout).toMatch(/^Caveats +! no iss in --claims and no --gitlab-url: assumed/m);
  });

  it('with iss in --claims nothing is assumed', async () => {
    const elsewhere = 'gitlab.example.com';
    const arn = fake.addProvider({ url: `https://${elsewhere}`, clientIds: [`https://${elsewhere}`] });
    setTrustPolicy({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: arn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${elsewhere}:sub`]: mainSub() } },
        },
      ],
    });
    const claims = `sub=${mainSub()},aud=https://${elsewhere}`;
    const r = await run({ roleArn, claims: `${claims},iss=https://${elsewhere}`, json: true });
    expect(r.exitCode).toBe(0);
    expect(r.json).toMatchObject({ explanation: { evaluation: { decision: 'allowed', caveats: [] } } });
    // The same claims without iss pass too, but say what they rest on.
    const guessed = await run({ roleArn, claims });
    expect(guessed.exitCode).toBe(0);
    expect(guessed.stdout).toMatch(
      /^Caveats +! no iss in --claims and no --gitlab-url: assumed the job comes from https:\/\/gitlab\.example\.com \(the one provider the trust policy names\)/m,
    );
    expect(guessed.stdout).toMatch(/may assume .*; the answer rests on 1 assumption \(see Caveats\)\.$/m);
  });
});

describe('--json', () => {
  it('prints exactly one document with a stable shape on success', async () => {
    const token = await mint();
    const r = await run({ roleArn, json: true }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().startsWith('{')).toBe(true);
    expect(Object.keys(r.json ?? {})).toEqual([
      'ok',
      'command',
      'exitCode',
      'mode',
      'roleArn',
      'sessionName',
      'claimsSource',
      'claims',
      'token',
      'assume',
      'traps',
      'summary',
    ]);
    expect(r.json).toMatchObject({
      ok: true,
      command: 'verify',
      exitCode: 0,
      mode: 'assume',
      assume: { status: 'assumed', account: '123456789012', attempts: 1 },
      token: { source: '$GITLAB_OIDC_TOKEN', signature: 'not-checked' },
    });
    expectNoSecrets(r);
  });

  it('a failure is one error document carrying the same verify object', async () => {
    const token = await mint({ ref: 'feature-x' });
    const r = await run({ roleArn, json: true }, { GITLAB_OIDC_TOKEN: token });
    expect(r.exitCode).toBe(1);
    expect(r.json).toMatchObject({
      ok: false,
      command: 'verify',
      exitCode: 1,
      error: { code: 'VERIFY_FAILED' },
    });
    const verify = r.json ?? {};
    expect(Object.keys(verify).filter((k) => k !== 'error')).toEqual([
      'ok',
      'command',
      'exitCode',
      'mode',
      'roleArn',
      'sessionName',
      'claimsSource',
      'claims',
      'token',
      'assume',
      'provider',
      'explanation',
      'traps',
      'summary',
    ]);
    const condition = (verify as unknown as VerifyResult).explanation;
    expect(condition?.available && condition.evaluation.statements[0]?.conditions[0]).toMatchObject({
      operator: 'StringEquals',
      key: `${host}:sub`,
      expected: [`project_path:${PROJECT}:ref_type:branch:ref:main`],
      actual: [`project_path:${PROJECT}:ref_type:branch:ref:feature-x`],
      passed: false,
      outcome: 'compared',
    });
    expectNoSecrets(r);
  });
});

describe('usage errors (exit 2, before any AWS call)', () => {
  it.each([
    [{}, {}, /--token/],
    [{ project: PROJECT, branch: 'main' }, {}, /--role-arn: missing/],
    [
      { roleArn: 'arn:aws:iam:::role/x', project: PROJECT, branch: 'main' },
      {},
      /--role-arn: must be a role ARN/,
    ],
    [
      { roleArn: 'arn:aws:iam::123456789012:role/x', branch: 'main' },
      { GITLAB_OIDC_TOKEN: 'x' },
      /--branch: only applies with --project/,
    ],
    [
      { roleArn: 'arn:aws:iam::123456789012:role/x', project: PROJECT },
      {},
      /exactly one of --branch or --tag/,
    ],
    [{ roleArn: 'arn:aws:iam::123456789012:role/x', claims: 'ref_type=mr' }, {}, /never issues ref_type:mr/],
    [
      { roleArn: 'arn:aws:iam::123456789012:role/x' },
      { GITLAB_OIDC_TOKEN: 'not-a-jwt' },
      /--token-env: .*not a JWT/,
    ],
    [
      { roleArn: 'arn:aws:iam::123456789012:role/x', timeout: 'soon' },
      { GITLAB_OIDC_TOKEN: 'x' },
      /--timeout/,
    ],
  ] as [RawVerifyFlags, Record<string, string>, RegExp][])('%j %j', async (flags, env, message) => {
    const r = await run(flags, env);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(fake.calls()).toEqual([]);
  });
});

describe('interrupted (Ctrl-C/SIGTERM) while a call is in flight', () => {
  it('AssumeRoleWithWebIdentity cancelled: exit 130, not a refusal', async () => {
    const token = await mint();
    const interrupted = new AbortError(
      'Interrupted: AssumeRoleWithWebIdentity to https://sts.amazonaws.com was cancelled in flight; it only reads: nothing was changed by it. Re-run the same command to finish.',
    );
    const ports = {
      ...fake.ports,
      sts: { ...fake.ports.sts, assumeRoleWithWebIdentity: () => Promise.reject(interrupted) },
    };
    const r = await run({ json: true }, { GITLAB_OIDC_TOKEN: token, AWS_ROLE_ARN: roleArn }, { ports });
    expect(r.exitCode).toBe(130);
    expect((r.json?.error as { code?: string } | undefined)?.code).toBe('ABORTED');
  });

  it('the role read cancelled: exit 130, not "cannot read the role"', async () => {
    const token = await mint();
    const ports = {
      ...fake.ports,
      sts: {
        ...fake.ports.sts,
        assumeRoleWithWebIdentity: () =>
          Promise.reject(new AwsError('AssumeRoleWithWebIdentity', 'AccessDenied', 'Not authorized')),
      },
      iam: {
        ...fake.ports.iam,
        getRole: () => Promise.reject(new AbortError('Interrupted: GetRole was cancelled in flight.')),
      },
    };
    const r = await run({ json: true }, { GITLAB_OIDC_TOKEN: token, AWS_ROLE_ARN: roleArn }, { ports });
    expect(r.exitCode).toBe(130);
  });
});
