import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerVerify, VERIFY_DEFAULT_TOKEN_VARIABLE } from '../../src/commands/verify.js';
import { UsageError } from '../../src/errors.js';
import type { CommandContext } from '../../src/io/context.js';
import { DEFAULT_TOKEN_VARIABLE } from '../../src/render/ci-file.js';
import { defaultSessionName, resolveVerifyOptions, sanitizeSessionName } from '../../src/verify/options.js';

const context: CommandContext = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: {},
  cwd: process.cwd(),
  interactive: false,
  signal: new AbortController().signal,
};

describe('commands/verify.ts', () => {
  it('registers the flags with help examples and exit codes', async () => {
    let help = '';
    const program = new Command()
      .exitOverride()
      .configureOutput({ writeOut: (s) => (help += s), writeErr: () => {} });
    registerVerify(program, context);
    await expect(program.parseAsync(['node', 'cli', 'verify', '--help'])).rejects.toMatchObject({
      code: 'commander.helpDisplayed',
    });
    for (const flag of [
      '--role-arn',
      '--token <file>',
      '--token-env',
      '--claims',
      '--project',
      '--branch',
      '--tag',
      '--expect-deny',
      '--no-assume',
      '--timeout',
      '--json',
    ]) {
      expect(help).toContain(flag);
    }
    expect(help).toContain('Exit codes: 0 assumable');
    expect(help).toContain('--project grp/app --branch feature-x');
  });

  it('stays light: imports no AWS SDK, no jose and no verify implementation at load time', () => {
    const source = readFileSync(new URL('../../src/commands/verify.ts', import.meta.url), 'utf8');
    const staticImports = [...source.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
    expect(staticImports).toEqual(['commander', '../io/context.js', '../version.js']);
    expect(source).toContain("await import('../verify/command.js')");
  });

  it('documents the same default token variable the generated pipeline uses', () => {
    expect(VERIFY_DEFAULT_TOKEN_VARIABLE).toBe(DEFAULT_TOKEN_VARIABLE);
  });
});

describe('resolveVerifyOptions', () => {
  const ROLE = 'arn:aws:iam::123456789012:role/gitlab-oidc/app';
  const now = new Date('2030-01-01T00:00:00Z');

  it('takes the role, token variable and session name from a GitLab job environment', () => {
    const o = resolveVerifyOptions(
      {},
      { AWS_ROLE_ARN: ROLE, GITLAB_OIDC_TOKEN: 'x', CI_PROJECT_ID: '42', CI_JOB_ID: '7' },
      now,
    );
    expect(o).toMatchObject({
      roleArn: ROLE,
      input: { kind: 'token', source: { kind: 'env', name: 'GITLAB_OIDC_TOKEN' } },
      sessionName: 'gitlab-42-7',
      assume: true,
      expectDeny: false,
      timeoutMs: 60_000,
    });
  });

  it('flags win over the environment', () => {
    const o = resolveVerifyOptions(
      { roleArn: ROLE, token: 'jwt.txt', timeout: '5', sessionName: 'me', region: 'eu-west-1' },
      {
        AWS_ROLE_ARN: 'arn:aws:iam::111111111111:role/other',
        GITLAB_OIDC_TOKEN: 'x',
        AWS_REGION: 'us-east-2',
      },
      now,
    );
    expect(o).toMatchObject({
      roleArn: ROLE,
      input: { kind: 'token', source: { kind: 'file', path: 'jwt.txt', flag: '--token' } },
      timeoutMs: 5000,
      sessionName: 'me',
      region: 'eu-west-1',
    });
  });

  it('simulated jobs', () => {
    expect(resolveVerifyOptions({ roleArn: ROLE, project: 'grp/app', tag: 'v1' }, {}, now).input).toEqual({
      kind: 'job',
      job: { project: 'grp/app', tag: 'v1' },
    });
    expect(resolveVerifyOptions({ roleArn: ROLE, claims: 'sub=x' }, {}, now).input).toEqual({
      kind: 'claims',
      claims: 'sub=x',
    });
  });

  it.each([
    [{ claims: 'a=b', project: 'g/p' }, '--claims'],
    [{ claims: 'a=b', token: 'f' }, '--token'],
    [{ token: 'f', tokenEnv: 'X' }, '--token'],
    [{ project: 'g/p', branch: 'main', projectId: 'abc' }, '--project-id'],
    [{ project: 'nogroup', branch: 'main' }, '--project'],
    [{ project: 'g/p', branch: 'bad..ref' }, '--branch'],
    // A simulated job runs on one ref; git refs never hold * or ?, so a pattern is no job at all.
    [{ project: 'g/p', branch: 'release/*' }, '--branch'],
    [{ project: 'g/p', tag: 'v?' }, '--tag'],
    [{ tokenEnv: '1BAD' }, '--token-env'],
    [{ project: 'g/p', branch: 'main', timeout: '901' }, '--timeout'],
    [{ project: 'g/p', branch: 'main', gitlabUrl: 'http://gitlab.example.com' }, '--gitlab-url'],
    [{ project: 'g/p', branch: 'main', sessionName: 'a b' }, '--session-name'],
  ])('%j is a usage error naming %s', (flags, field) => {
    try {
      resolveVerifyOptions({ roleArn: ROLE, ...flags }, {}, now);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect((e as UsageError).issues.map((i) => i.field)).toContain(field);
    }
  });

  it('session names are valid for STS', () => {
    expect(sanitizeSessionName('gitlab job #1 (main)')).toBe('gitlab-job--1--main-');
    expect(sanitizeSessionName('x')).toBe('x-');
    expect(sanitizeSessionName('a'.repeat(80))).toHaveLength(64);
    expect(defaultSessionName({}, now)).toBe('gitlab-aws-oidc-verify-1893456000');
  });
});
