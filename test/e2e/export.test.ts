/**
 * End to end: `export` from the built binary (npm test builds it first), offline: stdout, --out and
 * --json, and a usage error before anything is read.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform interpolations are literal text here
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literal, parseHcl, resource } from '../export/hcl-parse.js';
import { BIN, ROOT } from '../helpers/iam-server.js';

let cwd: string;
beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'cli.js')))
    throw new Error('dist/cli.js is missing: run `npm run build` (npm test does)');
  cwd = mkdtempSync(join(tmpdir(), 'gao-e2e-export-'));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function run(args: string[]) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...clean, CI: 'true', NO_COLOR: '1', HOME: cwd },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const BASE = ['export', '--offline', '--format', 'terraform', '--project', 'g/a', '--branch', 'main'];

describe('gitlab-aws-oidc export (built binary)', () => {
  it('export --offline --format terraform prints valid HCL with the trust policy init writes, exit 0', async () => {
    const r = run(BASE);
    expect(r.code).toBe(0);
    const hcl = await parseHcl('all.tf', r.stdout);
    const role = resource(hcl, 'aws_iam_role', 'gitlab_ci');
    expect(JSON.parse(literal(role.assume_role_policy))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/gitlab.com' },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'gitlab.com:aud': 'https://gitlab.com',
              'gitlab.com:sub': 'project_path:g/a:ref_type:branch:ref:main',
            },
          },
        },
      ],
    });
    expect(resource(hcl, 'aws_iam_openid_connect_provider', 'gitlab')).not.toHaveProperty('thumbprint_list');
    expect(r.stderr).toMatch(/Exported terraform for g\/a/);
    expect(existsSync(join(cwd, '.gitlab-ci.yml'))).toBe(false);
  });

  it('--out --json writes the files and prints one document listing them', () => {
    const r = run([...BASE, '--out', 'tf', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.files.map((f: { path: string }) => f.path).sort()).toEqual(
      readdirSync(join(cwd, 'tf')).sort(),
    );
    for (const f of doc.files as { path: string; bytes: number }[])
      expect(readFileSync(join(cwd, 'tf', f.path)).length).toBe(f.bytes);
  });

  it('a missing --format is a usage error (exit 2) naming the flag', () => {
    const r = run(['export', '--offline', '--project', 'g/a', '--branch', 'main', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false });
    expect(r.stdout).toMatch(/--format/);
  });

  it('export --help shows the examples', () => {
    const r = run(['export', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--format <format>/);
    expect(r.stdout).toMatch(/Examples:/);
  });
});
