/**
 * Re-running `init --yes` after the role was changed by hand, with the built binary against the
 * loopback IAM server: the hand edit (ref_protected and project_id added to the trust policy) is drift,
 * and overwriting it drops conditions (a widening). Without --overwrite-drift and --allow-widening the
 * run refuses before any change (exit 2, both flags named, the --json error lists the items); with them
 * it applies; the next run has nothing to do.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, type IamServer, runCli, startIamServer } from '../helpers/iam-server.js';

const ACCOUNT = '123412341234';
const ROLE = 'gitlab-acme-web';
let server: IamServer;
let dir: string;
let cwd: string;
let home: string;

beforeAll(async () => {
  server = await startIamServer({ account: ACCOUNT });
  dir = mkdtempSync(join(tmpdir(), 'gao-drift-'));
  cwd = join(dir, 'repo');
  home = join(dir, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const INIT = ['init', '--project', 'acme/web', '--branch', 'main', '--yes'];
const run = (args: string[]) => runCli(args, { cwd, env: cliEnv(server, home) }).done;

describe('init re-run after a hand edit of the trust policy (built binary)', () => {
  it('refuses without consent (exit 2, nothing changed), applies with both flags, then has no changes', async () => {
    const first = await run(INIT);
    expect(first.code, first.stderr).toBe(0);

    const role = server.state.roles.get(ROLE)!;
    const trust = JSON.parse(role.trustPolicy);
    const statement = Array.isArray(trust.Statement) ? trust.Statement[0] : trust.Statement;
    statement.Condition.StringEquals['gitlab.com:ref_protected'] = 'true';
    statement.Condition.StringEquals['gitlab.com:project_id'] = '4242';
    role.trustPolicy = JSON.stringify(trust);
    const edited = role.trustPolicy;
    const before = server.mutating().length;

    const refused = await run(INIT);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('--overwrite-drift');
    expect(refused.stderr).toContain('--allow-widening');
    expect(refused.stderr).toContain('trust policy drops the condition gitlab.com:ref_protected = "true"');
    expect(server.mutating().length).toBe(before);
    expect(server.state.roles.get(ROLE)!.trustPolicy).toBe(edited);

    const refusedJson = await run([...INIT, '--json']);
    expect(refusedJson.code).toBe(2);
    const doc = JSON.parse(refusedJson.stdout);
    expect(doc).toMatchObject({
      ok: false,
      command: 'init',
      exitCode: 2,
      error: { code: 'CONSENT_REQUIRED' },
    });
    expect(doc.error.consents.map((c: { flag: string }) => c.flag)).toEqual([
      '--overwrite-drift',
      '--allow-widening',
      '--allow-widening',
    ]);
    expect(server.mutating().length).toBe(before);

    const applied = await run([...INIT, '--overwrite-drift', '--allow-widening']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(server.mutating().slice(before)).toEqual(['UpdateAssumeRolePolicy']);
    expect(server.state.roles.get(ROLE)!.trustPolicy).not.toContain('ref_protected');

    const after = server.mutating().length;
    const again = await run(INIT);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/No changes/i);
    expect(server.mutating().length).toBe(after);
  });
});
