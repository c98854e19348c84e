/**
 * End to end: the built binary (npm test builds it first), spawned like a user would run it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GITLAB_CLIENT_LOADED, sdkProbeArgs } from '../../scripts/sdk-probe.mjs';
import { VERSION } from '../../src/version.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'gitlab-aws-oidc.js');
let cwd: string;

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'cli.js')))
    throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  cwd = mkdtempSync(join(tmpdir(), 'gao-e2e-'));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !k.startsWith('AWS_') &&
        k !== 'FORCE_COLOR' &&
        !['GITLAB_TOKEN', 'GITLAB_ACCESS_TOKEN', 'OAUTH_TOKEN', 'GLAB_CONFIG_DIR'].includes(k),
    ),
  );
  const r = spawnSync(process.execPath, [...nodeArgs, bin, ...args], {
    cwd,
    // No anonymous GitLab lookup on gitlab.com: a test never reaches the real internet.
    env: { ...clean, CI: 'true', NO_COLOR: '1', HOME: cwd, GITLAB_AWS_OIDC_GITLAB_ANONYMOUS: 'off', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const OFFLINE = [
  'init',
  '--project',
  'grp/app',
  '--branch',
  'main',
  '--dry-run',
  '--offline',
  '--no-ci-file',
];

describe('gitlab-aws-oidc (built binary)', () => {
  it('--help lists the commands and examples, exit 0', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: gitlab-aws-oidc/);
    expect(r.stdout).toMatch(/init/);
    expect(r.stdout).toMatch(/Examples:/);
    expect(r.stdout).toMatch(/Exit codes: 0/);
  });

  it('--version prints the package version', () => {
    const r = run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version).toBe(VERSION);
  });

  it('init --help documents every flag with examples', () => {
    const r = run(['init', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--gitlab-url',
      '--project',
      '--branch',
      '--tag',
      '--audience',
      '--dry-run',
      '--offline',
      '--json',
      '--yes',
      '--no-ci-file',
      '--gitlab-token-env',
      '--gitlab-api-url',
    ]) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toMatch(/Examples:/);
  });

  it('the --help start-up code (dist/cli.js and the chunks it imports statically) bundles no zod', () => {
    // zod is bundled, so the resolve-hook probe cannot see it: read the static import graph instead.
    // Command modules that only register flags must import from fleet/selection-flags.ts, not the zod
    // schemas of selection-options.ts (a 755 KB chunk on every --help otherwise).
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^(?:import\s[^;]*?from\s*|import\s*)"(\.\/[^"]+)";?$/gms)) {
        visit(join(file, '..', m[1] as string));
      }
    };
    visit(join(root, 'dist', 'cli.js'));
    expect(seen.size).toBeGreaterThan(1);
    const bundledZod = [...seen].filter((f) => readFileSync(f, 'utf8').includes('node_modules/zod/'));
    expect(bundledZod).toEqual([]);
  });

  it('--help does not load the AWS SDK', () => {
    const help = run(['--help'], {}, sdkProbeArgs);
    expect(help.code).toBe(0);
    expect(help.stderr).not.toContain('AWS_SDK_LOADED');
    // The probe itself works: a command that does use the SDK is seen loading it.
    const verify = run(
      ['init', '--project', 'grp/app', '--dry-run', '--no-ci-file', '--json'],
      {
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_MAX_ATTEMPTS: '1',
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'y',
      },
      sdkProbeArgs,
    );
    expect(verify.stderr).toContain('AWS_SDK_LOADED');
  });

  it('a GitLab token is never printed: not on stdout, not on stderr, not in --json, not in a usage error', () => {
    const secret = 'glpat-E2E-secret-token-42';
    for (const extra of [['--json'], []]) {
      const r = run([...OFFLINE, ...extra, '--gitlab-token-env', 'MY_GITLAB_TOKEN'], {
        MY_GITLAB_TOKEN: secret,
        GITLAB_TOKEN: secret,
      });
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
    // A token pasted where the variable name goes is refused without being echoed.
    const pasted = run([...OFFLINE, '--json', '--gitlab-token-env', secret]);
    expect(pasted.code).toBe(2);
    expect(JSON.parse(pasted.stdout).error.issues[0].field).toBe('--gitlab-token-env');
    expect(pasted.stdout + pasted.stderr).not.toContain(secret);
    const human = run([...OFFLINE, '--gitlab-token-env', secret]);
    expect(human.code).toBe(2);
    expect(human.stderr).toContain('--gitlab-token-env');
    expect(human.stdout + human.stderr).not.toContain(secret);
  });

  it('--help, init --help and an offline dry run do not load the GitLab client (undici)', () => {
    for (const args of [['--help'], ['init', '--help'], OFFLINE]) {
      const r = run(args, {}, sdkProbeArgs);
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain(GITLAB_CLIENT_LOADED);
    }
    // The probe itself works: an import of undici (external in the bundle, scripts/build.mjs) is seen.
    const probe = spawnSync(
      process.execPath,
      [...sdkProbeArgs, '--input-type=module', '-e', "await import('undici')"],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(probe.stderr).toContain(GITLAB_CLIENT_LOADED);
  });

  it('init --dry-run --offline --json prints exactly one JSON document, progress on stderr', () => {
    const r = run([...OFFLINE, '--json', '--account-id', '210987654321']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.status).toBe('planned');
    expect(doc.roleArn).toBe('arn:aws:iam::210987654321:role/gitlab-oidc/gitlab-grp-app');
    expect(doc.plan.resources.map((x: { kind: string }) => x.kind)).toEqual(['oidc-provider', 'role']);
    expect(doc.checks.expectDeny.every((c: { allowed: boolean }) => !c.allowed)).toBe(true);
    expect(r.stderr).not.toContain('{');
  });

  it('human dry run shows the plan on stdout without colour under NO_COLOR', () => {
    const r = run(OFFLINE, { FORCE_COLOR: '' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\+ create\s+OIDC provider\s+https:\/\/gitlab\.com/);
    expect(r.stdout).toMatch(/Dry run \(offline\)/);
    expect(r.stdout + r.stderr).not.toMatch(/\u001b\[/);
  });

  it('a missing required value without a terminal is a usage error naming the flag (exit 2)', () => {
    const r = run(['init', '--dry-run', '--offline', '--json']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.error.issues[0].field).toBe('--project');
    expect(r.stderr).toMatch(/--project/);
  });

  it('invalid values are reported one line per field before anything runs (exit 2)', () => {
    const r = run([
      'init',
      '--project',
      'grp/app',
      '--region',
      'nowhere',
      '--max-session-duration',
      '100',
      '--dry-run',
      '--offline',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--region: must be an AWS region/);
    expect(r.stderr).toMatch(/--max-session-duration: must be at least 3600/);
    expect(r.stdout).toBe('');
  });

  it('an unknown flag is a usage error (exit 2)', () => {
    const r = run(['init', '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option/);
    const j = run(['init', '--no-such-flag', '--json']);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)).toMatchObject({
      ok: false,
      command: 'init',
      exitCode: 2,
      error: { code: 'USAGE', issues: [{ field: '--no-such-flag' }] },
    });
  });

  it.each([
    ['init', '--group', 'acme', '--group', 'beta', '--dry-run'],
    ['status', '--config', 'a.yml', '--config', 'b.yml'],
    ['migrate', '--group', 'acme', '--group', 'beta'],
  ])(
    'a second --group/--config is exit 2 naming both values, never the last one silently (%s)',
    (...args) => {
      const r = run([...args, '--json']);
      expect(r.code).toBe(2);
      const doc = JSON.parse(r.stdout);
      expect(doc.error.code).toBe('USAGE');
      expect(doc.error.message).toMatch(
        /(--group|--config) is given twice \("(acme|a\.yml)", "(beta|b\.yml)"\)/,
      );
    },
  );

  it('applying without a terminal needs --yes (exit 2, no AWS call)', () => {
    const r = run(['init', '--project', 'grp/app', '--no-ci-file']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes/);
  });

  it('a missing --profile is named in the credentials error (exit 1)', () => {
    const r = run(
      ['init', '--project', 'grp/app', '--dry-run', '--no-ci-file', '--profile', 'no-such-profile'],
      {
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: join(cwd, 'missing-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(cwd, 'missing-credentials'),
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No usable AWS credentials found.*\(profile "no-such-profile"\)/);
    expect(r.stderr).toMatch(/aws configure list-profiles/);
  });
});
