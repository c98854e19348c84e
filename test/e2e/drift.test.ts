import { describe, expect, it } from 'vitest';
import { useCliSandbox } from '../helpers/cli-sandbox.js';

const ACCOUNT = '123412341234';
const ROLE = 'gitlab-acme-web';
const sandbox = useCliSandbox('gao-drift-', { account: ACCOUNT });

const INIT = ['init', '--project', 'acme/web', '--branch', 'main', '--yes'];
const run = sandbox.run;

describe('init re-run after a hand edit of the trust policy (built binary)', () => {
  it('keeps the hand edit on a plain re-run; dropping it needs consent (exit 2, nothing changed), applies with both flags, then has no changes', async () => {
    const first = await run(INIT);
    expect(first.code, first.stderr).toBe(0);

    const role = sandbox.server.state.roles.get(ROLE)!;
    const trust = JSON.parse(role.trustPolicy);
    const statement = Array.isArray(trust.Statement) ? trust.Statement[0] : trust.Statement;
    statement.Condition.StringEquals['gitlab.com:ref_protected'] = 'true';
    role.trustPolicy = JSON.stringify(trust);
    const edited = role.trustPolicy;

    // A re-run with the same flags keeps what it did not ask to change (the condition added by hand),
    // and says it now records it as its own: one TagRole, the trust policy untouched.
    const asked = sandbox.server.requests.length;
    const kept = await run(INIT);
    expect(kept.code, kept.stderr).toBe(0);
    // The existing role is read with the same clients as the plan: the caller is asked once per run.
    expect(sandbox.server.requests.slice(asked).filter((a) => a === 'GetCallerIdentity')).toHaveLength(1);
    expect(kept.stdout).toContain('kept and recorded as written by gitlab-aws-oidc: trust policy');
    expect(sandbox.server.state.roles.get(ROLE)!.trustPolicy).toBe(edited);

    // Someone adds another hand edit; this time the re-run asks to drop the protection explicitly.
    const trust2 = JSON.parse(edited);
    const statement2 = Array.isArray(trust2.Statement) ? trust2.Statement[0] : trust2.Statement;
    statement2.Condition.StringEquals['gitlab.com:project_id'] = '4242';
    sandbox.server.state.roles.get(ROLE)!.trustPolicy = JSON.stringify(trust2);
    const edited2 = sandbox.server.state.roles.get(ROLE)!.trustPolicy;
    const before = sandbox.server.mutating().length;
    const DROP = [...INIT, '--no-protected-only'];

    const refused = await run(DROP);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('--overwrite-drift');
    expect(refused.stderr).toContain('--allow-widening');
    expect(refused.stderr).toContain('trust policy drops the condition gitlab.com:ref_protected = "true"');
    expect(sandbox.server.mutating().length).toBe(before);
    expect(sandbox.server.state.roles.get(ROLE)!.trustPolicy).toBe(edited2);

    const refusedJson = await run([...DROP, '--json']);
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
    ]);
    expect(sandbox.server.mutating().length).toBe(before);

    const applied = await run([...DROP, '--overwrite-drift', '--allow-widening']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(sandbox.server.mutating().slice(before)).toEqual(['UpdateAssumeRolePolicy', 'TagRole']);
    expect(sandbox.server.state.roles.get(ROLE)!.trustPolicy).not.toContain('ref_protected');
    // The project ID pin added by hand is kept (no flag asked to drop it).
    expect(sandbox.server.state.roles.get(ROLE)!.trustPolicy).toContain('4242');

    const after = sandbox.server.mutating().length;
    const again = await run(DROP);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/No changes/i);
    expect(sandbox.server.mutating().length).toBe(after);
  });
});

describe('init re-run after a policy was attached by hand (built binary)', () => {
  it('keeps it unowned: the same inputs change nothing, and a later permission change keeps it attached', async () => {
    const project = ['--project', 'acme/ops', '--branch', 'main', '--yes'];
    const first = await run(['init', ...project]);
    expect(first.code, first.stderr).toBe(0);
    const hand = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
    sandbox.server.state.roles.get('gitlab-acme-ops')!.attachedPolicyArns.push(hand);
    const before = sandbox.server.mutating().length;

    const kept = await run(['init', ...project]);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toMatch(/No changes/i);
    expect(kept.stderr).toContain(`${hand} (attached outside the tool)`);
    expect(sandbox.server.mutating().length).toBe(before);

    const template = [
      '--template',
      's3-deploy',
      '--template-param',
      'bucket=acme-ops-site',
      '--allow-widening',
    ];
    const changed = await run(['init', ...project, ...template]);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toContain(`kept: policy ${hand} (not attached by gitlab-aws-oidc`);
    expect(sandbox.server.mutating().slice(before)).not.toContain('DetachRolePolicy');
    expect(sandbox.server.state.roles.get('gitlab-acme-ops')!.attachedPolicyArns).toContain(hand);
  });
});
