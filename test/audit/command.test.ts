import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAuditCommand } from '../../src/audit/command.js';
import { AuditFailedError } from '../../src/audit/errors.js';
import { registerAudit } from '../../src/commands/audit.js';
import { errorDocument } from '../../src/io/output.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const fixturePath = (f: string) => join(here, '..', 'fixtures', 'trust-policies', f);

const capture = () => captureContext({ cwd: root });

let fake: FakeAws;
beforeEach(() => {
  fake = createFakeAws();
});
afterEach(() => fake.restore());

describe('runAuditCommand', () => {
  it('prints a table grouped by severity for a policy file', async () => {
    const io = capture();
    await runAuditCommand({ policyFile: fixturePath('bad/forallvalues-sub.json') }, io.context);
    const out = io.out();
    expect(out).toContain('Linted');
    expect(out.indexOf('HIGH (1)')).toBeGreaterThan(0);
    expect(out.indexOf('LOW (1)')).toBeGreaterThan(out.indexOf('HIGH (1)'));
    expect(out).toMatch(/GAO006 {2}ForAllValues\/ForAnyValue\/IfExists on sub or aud/);
    expect(out).toContain(
      'at  Statement[0], ForAllValues:StringLike gitlab.com:sub = "project_path:acme/web:ref_type:branch:ref:main"',
    );
    expect(out).toContain('fix Use plain StringLike for "gitlab.com:sub".');
    expect(out).toContain('Summary: 0 critical, 1 high, 0 functional, 0 medium, 1 low.');
  });

  it('prints SARIF and then fails the gate', async () => {
    const io = capture();
    const file = fixturePath('bad/sub-star.json');
    const error = await runAuditCommand(
      { policyFile: file, format: 'sarif', failOn: 'high' },
      io.context,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(AuditFailedError);
    expect(error.exitCode).toBe(1);
    const log = JSON.parse(io.out());
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0].results.map((r: { ruleId: string }) => r.ruleId)).toEqual(['GAO003']);
    expect(log.runs[0].results[0].locations[0].physicalLocation.region.startLine).toBeGreaterThan(1);
  });

  it('--fail-on high stops a policy IAM refuses (a Deny with a mis-cased operator was silently ignored)', async () => {
    const io = capture();
    const error = await runAuditCommand(
      { policyFile: fixturePath('bad/malformed-deny-operator-case.json'), failOn: 'high' },
      io.context,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(AuditFailedError);
    expect(error.exitCode).toBe(1);
    expect(io.out()).toContain('IAM refuses this policy (MalformedPolicyDocument)');
    expect(io.out()).toContain('Summary: 0 critical, 1 high, 0 functional, 0 medium, 0 low.');
  });

  it('a statement that never applies fails the gates its reason fails, whatever it would allow once fixed', async () => {
    const policyFile = fixturePath('bad/dead-statement-any-project.json');
    const high = capture();
    await runAuditCommand({ policyFile, failOn: 'high' }, high.context);
    expect(high.out()).toMatch(
      /MEDIUM \(2\)\n {2}GAO003 {2}sub matches any project\n.*\n {10}why Not exploitable today: statement #0 never applies \(GAO023\)\. Once it does: project_path "\*" matches every project/,
    );
    expect(high.out()).toContain('Summary: 0 critical, 0 high, 1 functional, 2 medium, 1 low.');
    const functional = capture();
    const error = await runAuditCommand({ policyFile, failOn: 'functional' }, functional.context).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(AuditFailedError);
  });

  it('--json on success prints one document; on failure prints nothing (the CLI prints the error document)', async () => {
    const ok = capture();
    await runAuditCommand(
      { policyFile: fixturePath('good/self-managed-literal.json'), json: true },
      ok.context,
    );
    expect(JSON.parse(ok.out())).toMatchObject({
      ok: true,
      command: 'audit',
      exitCode: 0,
      scope: 'file',
      findings: [],
    });

    const bad = capture();
    const error = await runAuditCommand(
      { policyFile: fixturePath('bad/sub-star.json'), json: true, failOn: 'critical' },
      bad.context,
    ).catch((e) => e);
    expect(bad.out()).toBe('');
    expect(errorDocument(error, 'audit')).toMatchObject({
      ok: false,
      command: 'audit',
      exitCode: 1,
      findings: [{ ruleId: 'GAO003' }],
      error: { code: 'AUDIT_FAILED' },
    });
  });

  it('--format json on failure prints the error document itself', async () => {
    const io = capture();
    await expect(
      runAuditCommand(
        { policyFile: fixturePath('bad/sub-star.json'), format: 'json', failOn: 'critical' },
        io.context,
      ),
    ).rejects.toBeInstanceOf(AuditFailedError);
    expect(JSON.parse(io.out())).toMatchObject({
      ok: false,
      command: 'audit',
      exitCode: 1,
      scope: 'file',
      findings: [{ ruleId: 'GAO003' }],
      error: { code: 'AUDIT_FAILED' },
    });
  });

  it('audits the account through the real port factory (mocked SDK clients)', async () => {
    const provider = fake.addProvider({ url: 'https://gitlab.com', clientIds: ['https://gitlab.com'] });
    fake.addRole({
      name: 'open',
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Federated: provider }, Action: 'sts:AssumeRoleWithWebIdentity' },
        ],
      },
    });
    const io = capture();
    await runAuditCommand({ json: true }, io.context);
    const doc = JSON.parse(io.out());
    expect(doc.findings.map((f: { ruleId: string }) => f.ruleId)).toEqual(['GAO002', 'GAO042']);
    expect(io.err()).toBe(''); // no progress chatter in --json mode
  });
});

describe('registerAudit', () => {
  it('parses argv, runs the command lazily, and rejects unknown choices', async () => {
    const io = capture();
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerAudit(program, io.context);
    await program.parseAsync([
      'node',
      'x',
      'audit',
      '--policy-file',
      fixturePath('good/self-managed-literal.json'),
      '--json',
    ]);
    expect(JSON.parse(io.out()).ok).toBe(true);

    const p2 = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerAudit(p2, io.context);
    await expect(p2.parseAsync(['node', 'x', 'audit', '--fail-on', 'severe'])).rejects.toMatchObject({
      code: 'commander.invalidArgument',
    });
  });

  it('does not import the AWS SDK, directly or transitively', () => {
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      // Static imports only: `await import(...)` is the lazy boundary.
      for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
        const spec = m[1] as string;
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        else bare.add(spec);
      }
    };
    for (const cmd of ['audit', 'status', 'destroy']) {
      const file = join(root, 'src', 'commands', `${cmd}.ts`);
      try {
        readFileSync(file);
      } catch {
        continue;
      }
      visit(file);
    }
    expect([...bare].filter((s) => s.startsWith('@aws-sdk'))).toEqual([]);
    expect([...seen].filter((f) => f.includes(`${join('src', 'aws')}`) && !f.endsWith('ports.ts'))).toEqual(
      [],
    );
  });
});
