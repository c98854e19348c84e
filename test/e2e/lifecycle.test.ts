import { describe, expect, it } from 'vitest';
import { useCliSandbox } from '../helpers/cli-sandbox.js';

const ACCOUNT = '123412341234';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/gitlab-oidc/gitlab-acme-web`;
const sandbox = useCliSandbox('gao-lifecycle-', { account: ACCOUNT });

const run = sandbox.run;
// biome-ignore lint/suspicious/noExplicitAny: ad-hoc reads of the CLI's JSON documents
const json = (stdout: string) => JSON.parse(stdout) as Record<string, any>;

describe('init → verify → audit → status → destroy (built binary)', () => {
  it('runs the whole lifecycle', async () => {
    const init = await run([
      'init',
      '--project',
      'acme/web',
      '--project-id',
      '4242',
      '--branch',
      'main',
      '--template',
      's3-deploy',
      '--template-param',
      'bucket=acme-web-site',
      '--yes',
      '--json',
    ]);
    expect(init.code, init.stderr).toBe(0);
    expect(json(init.stdout).roleArn).toBe(ROLE_ARN);

    // A job on main would be let in; the explanation is printed for a job on another branch.
    const allowed = await run([
      'verify',
      '--role-arn',
      ROLE_ARN,
      '--project',
      'acme/web',
      '--branch',
      'main',
      '--project-id',
      '4242',
      '--expect-deny',
    ]);
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(/refused: a look-alike group `acme-evil\/web`/);

    const refused = await run([
      'verify',
      '--role-arn',
      ROLE_ARN,
      '--project',
      'acme/web',
      '--branch',
      'feature-x',
      '--project-id',
      '4242',
      '--json',
    ]);
    expect(refused.code).toBe(1);
    const doc = json(refused.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.mode).toBe('simulate');
    expect(JSON.stringify(doc.explanation)).toContain('feature-x');

    const audit = await run(['audit', '--fail-on', 'high', '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    const report = json(audit.stdout);
    expect(
      report.findings.filter((f: { severity: string }) => ['critical', 'high'].includes(f.severity)),
    ).toEqual([]);

    const status = await run(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(ROLE_ARN);

    const plan = await run(['destroy', '--project', 'acme/web', '--dry-run', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(sandbox.server.state.roles.size).toBe(1);

    const destroy = await run(['destroy', '--project', 'acme/web', '--yes', '--json']);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(sandbox.server.state.roles.size).toBe(0);
    expect(sandbox.server.state.policies.size).toBe(0);
    expect(sandbox.server.state.providers.size).toBe(0);

    const again = await run(['destroy', '--project', 'acme/web', '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
  });
});
