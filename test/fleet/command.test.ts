/**
 * `init --config` through the command (selection → init's resolver → runFleet) against the in-memory
 * IAM: the fleet summary on stdout, one --json document, a failed member's exit 1 with its resume
 * command; and `init --project` as the fleet of one prints what a single init prints.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RawInitFlags } from '../../src/commands/init.js';
import { exitCodeFor } from '../../src/errors.js';
import { resumeArgs } from '../../src/fleet/command.js';
import { FleetFailedError } from '../../src/fleet/errors.js';
import type { RawSelectionFlags } from '../../src/fleet/selection-options.js';
import { runInitCommand } from '../../src/init/command.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { tempDir } from '../init/helpers.js';

let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  aws = createFakeAws({ account: '111122223333' });
  tmp = tempDir();
});
afterEach(() => {
  aws.restore();
  tmp.cleanup();
});

function config(paths: string[]): string {
  const file = join(tmp.dir, 'gitlab-aws-oidc.yml');
  const entries = paths.map((p) => `  - path: ${p}`).join('\n');
  writeFileSync(file, `version: 1\ndefaults:\n  refs: { branches: [main] }\nprojects:\n${entries}\n`);
  return file;
}

async function run(flags: RawInitFlags & RawSelectionFlags) {
  const { context, out, err } = captureContext({ cwd: tmp.dir });
  const error = await runInitCommand(flags, context).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { out: out(), err: err(), error };
}

const PATHS = ['acme/a', 'acme/b', 'acme/c'];

describe('init --config', () => {
  it('plans the members once, applies them, prints the fleet summary; a re-run has no changes', async () => {
    const file = config(PATHS);
    const first = await run({ config: file, yes: true });
    expect(first.error).toBeUndefined();
    expect(first.out).toContain('Plan for 3 projects in AWS account 111122223333');
    expect(first.out).toContain('  OIDC provider  1 to create');
    expect(first.out).toContain('  IAM role       3 to create');
    expect(first.out).toContain('Done: 3 applied (of 3 projects).');
    // Only the summary: no per-project plan without --details.
    expect(first.out).not.toContain('Plan for acme/a');
    expect(aws.mutatingCalls().filter((c) => c === 'CreateOpenIDConnectProvider')).toHaveLength(1);
    expect(aws.state.roles.size).toBe(3);

    const again = await run({ config: file, yes: true, json: true });
    const doc = JSON.parse(again.out);
    expect(doc).toMatchObject({ ok: true, command: 'init', fleet: true, status: 'no-changes' });
    expect(doc.members.map((m: { status: string }) => m.status)).toEqual([
      'no-changes',
      'no-changes',
      'no-changes',
    ]);
  });

  it('--details prints each project plan before the summary', async () => {
    const r = await run({ config: config(PATHS), yes: true, dryRun: true, details: true });
    expect(r.error).toBeUndefined();
    for (const p of PATHS) expect(r.out).toContain(`Plan for ${p} on https://gitlab.com`);
    expect(r.out.indexOf('Plan for acme/c on')).toBeLessThan(r.out.indexOf('Plan for 3 projects'));
    expect(r.out).toContain('Dry run: nothing was changed (3 planned).');
    expect(aws.mutatingCalls()).toEqual([]);
  });

  it("one member's failure: the others are done, exit 1, --json lists it with the command that resumes it", async () => {
    aws.failNext('CreateRole', 'AccessDenied', 'not allowed here');
    const r = await run({ config: config(PATHS), yes: true, json: true, concurrency: '1' });
    expect(r.error).toBeInstanceOf(FleetFailedError);
    expect(exitCodeFor(r.error)).toBe(1);
    const doc = (r.error as FleetFailedError).resultDocument() as {
      status: string;
      members: { project: string; status: string; resume?: string; error?: { code: string } }[];
    };
    expect(doc.status).toBe('failed');
    const failed = doc.members.filter((m) => m.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.error?.code).toBe('PARTIAL_APPLY');
    expect(failed[0]?.resume).toMatch(new RegExp(`--include ${failed[0]?.project}$`));
    expect(doc.members.filter((m) => m.status === 'applied')).toHaveLength(2);
  });

  it('a bad --concurrency is exit 2 naming the flag, before anything is read', async () => {
    const r = await run({ config: config(PATHS), yes: true, concurrency: '0' });
    expect(exitCodeFor(r.error)).toBe(2);
    expect((r.error as Error).message).toBe('Invalid --concurrency: "0" is not a whole number from 1 to 32');
    expect(aws.calls()).toEqual([]);
  });

  it('--offline plans a config that lists its projects, and makes no call at all', async () => {
    const r = await run({ config: config(PATHS), dryRun: true, offline: true, json: true });
    expect(r.error).toBeUndefined();
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ ok: true, command: 'init', fleet: true });
    expect(doc.members.map((m: { project: string }) => m.project)).toEqual(PATHS);
    expect(doc.counts.role.create).toBe(3);
    expect(aws.calls()).toEqual([]);
  });
});

describe('init --group --offline', () => {
  it("is exit 2 naming --offline: a group's projects cannot be listed without a GitLab call", async () => {
    const r = await run({ group: 'acme', branch: ['main'], dryRun: true, offline: true });
    expect(exitCodeFor(r.error)).toBe(2);
    expect((r.error as Error).message).toContain('--offline');
    expect((r.error as Error).message).toContain("cannot list a group's projects");
    expect(aws.calls()).toEqual([]);
  });
});

describe('init --project: the fleet of one', () => {
  it('prints the single plan and result (no fleet summary) and the single --json document', async () => {
    const r = await run({ project: 'acme/a', branch: ['main'], yes: true, ciFile: false, json: true });
    expect(r.error).toBeUndefined();
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ ok: true, command: 'init', status: 'applied', project: 'acme/a' });
    expect(doc.fleet).toBeUndefined();
    const human = await run({ project: 'acme/a', branch: ['main'], yes: true, ciFile: false });
    expect(human.out).toMatch(/^No changes: the AWS account and the pipeline already match\./);
    expect(human.out).not.toContain('projects');
  });

  it('a refused member is the run error itself (exit 2), as before', async () => {
    const r = await run({
      project: 'acme/a',
      branch: ['main'],
      yes: true,
      ciFile: false,
      managedPolicy: ['arn:aws:iam::aws:policy/Nope'],
    });
    expect(exitCodeFor(r.error)).toBe(2);
    expect(r.error).not.toBeInstanceOf(FleetFailedError);
  });
});

describe('resumeArgs', () => {
  it('narrows the same command line to one project', () => {
    expect(
      resumeArgs(
        ['init', '--group', 'acme', '--include', 'acme/**', '--exclude=acme/x/*', '--yes'],
        'acme/b',
      ),
    ).toEqual(['init', '--group', 'acme', '--yes', '--include', 'acme/b']);
  });
});

describe('init --config with role: per-group', () => {
  it('packs the projects into one role gitlab-acme-1 (one CreateRole), and --json shows the pack', async () => {
    const file = join(tmp.dir, 'per-group.yml');
    const entries = PATHS.map((p) => `  - path: ${p}`).join('\n');
    writeFileSync(
      file,
      `version: 1\ndefaults:\n  refs: { branches: [main] }\n  role: per-group\nprojects:\n${entries}\n`,
    );
    const first = await run({ config: file, yes: true });
    expect(first.error).toBeUndefined();
    expect(first.out).toContain('Per-group roles gitlab-acme-<n> (group acme, trust policy quota 2,048):');
    expect(first.out).toMatch(
      / {2}gitlab-acme-1 {2}3 projects, [\d,]+ characters \+ acme\/a, acme\/b, acme\/c/,
    );
    expect([...aws.state.roles.keys()]).toEqual(['gitlab-acme-1']);
    expect(aws.mutatingCalls().filter((c) => c === 'CreateRole')).toHaveLength(1);

    const again = await run({ config: file, yes: true, json: true });
    const doc = JSON.parse(again.out);
    expect(doc).toMatchObject({ ok: true, status: 'no-changes' });
    expect(doc.packs).toEqual([
      {
        base: 'gitlab-acme',
        group: 'acme',
        quota: 2048,
        roles: [
          {
            roleName: 'gitlab-acme-1',
            projects: PATHS,
            kept: [],
            added: [],
            size: expect.any(Number),
          },
        ],
        moves: [],
        emptied: [],
        untouched: [],
      },
    ]);
    for (const m of doc.members)
      expect(m.result.roleArn).toBe('arn:aws:iam::111122223333:role/gitlab-oidc/gitlab-acme-1');
  });
});
