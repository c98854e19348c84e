/**
 * destroy and .gitlab-ci.yml: the generated jobs go once IAM is done (or with --dry-run, only the diff is
 * shown); a file found on its own is only touched when it uses a role this run deletes; a bad --ci-file
 * is refused before any AWS call.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerDestroy } from '../../src/commands/destroy.js';
import { runDestroyCommand } from '../../src/destroy/command.js';
import { parseDestroyFlags } from '../../src/destroy/options.js';
import { type DestroyDeps, runDestroy } from '../../src/destroy/run.js';
import { PartialApplyError, UsageError } from '../../src/errors.js';
import { jobNamesFor, renderCiSnippet } from '../../src/render/ci-file.js';
import { ciYamlToJs } from '../../src/render/ci-yaml.js';
import { mergeCiFile } from '../../src/render/merge.js';
import { captureContext } from '../helpers/capture-context.js';
import { schemaAvailable, validateCi, warnIfSchemaMissing } from '../helpers/ci-schema.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { tempDir } from '../init/helpers.js';
import { fixture, verifyFromImage } from '../render/helpers.js';
import { initProject } from '../status/init-helper.js';

warnIfSchemaMissing();

const PROJECT = 'acme/web';

let fake: FakeAws;
let dir: string;
let cleanup: () => void;
let roleArn: string;
beforeEach(async () => {
  fake = createFakeAws();
  ({ dir, cleanup } = tempDir());
  roleArn = (await initProject(fake, { project: PROJECT })).role.arn;
});
afterEach(() => {
  fake.restore();
  cleanup();
});

/** What init writes for the role into `original` (undefined: a new file). */
function pipelineFor(arn: string, original?: string): string {
  const snippet = renderCiSnippet({
    roleArn: arn,
    region: 'eu-west-1',
    audience: 'https://gitlab.com',
    refs: [{ type: 'branch', pattern: 'main' }],
    toolVersion: '0.1.0',
    verify: verifyFromImage,
  });
  return mergeCiFile(original, snippet, { force: false }).text;
}

function writeCi(text: string, name = '.gitlab-ci.yml'): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const read = (name = '.gitlab-ci.yml') => readFileSync(join(dir, name), 'utf8');
const jobs = (text: string) => Object.keys((ciYamlToJs(text) ?? {}) as object);

const capture = (cwd = dir) => captureContext({ cwd });

const deps = (extra: Partial<DestroyDeps> = {}): DestroyDeps => ({ aws: () => fake.ports, ...extra });
const options = (flags: Record<string, unknown> = {}) =>
  parseDestroyFlags({ project: PROJECT, yes: true, ...flags }, { cwd: dir });

describe('destroy and .gitlab-ci.yml in the working folder', () => {
  it('removes the generated jobs after IAM, keeps every other byte and a .bak', async () => {
    const original = fixture('custom-stages.yml');
    const merged = writeCi(pipelineFor(roleArn, original));
    const io = capture();
    await runDestroyCommand({ project: PROJECT, yes: true }, io.context);

    expect(read()).toBe(original);
    expect(readFileSync(`${merged}.bak`, 'utf8')).toBe(pipelineFor(roleArn, original));
    expect(fake.state.roles.size).toBe(0);
    expect(io.err()).toContain('✓ removed .aws-oidc, aws-oidc-check, aws-oidc-verify from .gitlab-ci.yml');
    expect(io.out()).toMatch(
      /Destroyed project acme\/web: \d+ changes; removed the generated jobs from \.gitlab-ci\.yml\./,
    );
  });

  it('--dry-run shows the diff in the plan and writes nothing', async () => {
    const text = pipelineFor(roleArn, fixture('custom-stages.yml'));
    writeCi(text);
    const io = capture();
    const mutations = fake.mutatingCalls().length;
    await runDestroyCommand({ project: PROJECT, dryRun: true }, io.context);
    expect(read()).toBe(text);
    expect(existsSync(join(dir, '.gitlab-ci.yml.bak'))).toBe(false);
    expect(fake.mutatingCalls().length).toBe(mutations);
    const out = io.out();
    expect(out).toContain('- remove  .aws-oidc, aws-oidc-check, aws-oidc-verify from .gitlab-ci.yml');
    expect(out).toContain('--- a/.gitlab-ci.yml');
    expect(out).toContain('-aws-oidc-check:');
    expect(out).toMatch(/Dry run: \d+ changes would be made; nothing was changed\./);
  });

  it('--json prints one document with the file part, diff included', async () => {
    writeCi(pipelineFor(roleArn));
    const io = capture();
    await runDestroyCommand({ project: PROJECT, yes: true, json: true }, io.context);
    const doc = JSON.parse(io.out());
    // The file only held the generated jobs: it is deleted (GitLab rejects an empty one), a copy kept.
    expect(doc.ciFile).toMatchObject({
      path: '.gitlab-ci.yml',
      action: 'delete',
      jobs: ['.aws-oidc', 'aws-oidc-check', 'aws-oidc-verify'],
      written: true,
      backupPath: join(dir, '.gitlab-ci.yml.bak'),
    });
    expect(doc.ciFile.warnings).toEqual([]);
    expect(doc.done.at(-1)).toBe('delete .gitlab-ci.yml');
    expect(existsSync(join(dir, '.gitlab-ci.yml'))).toBe(false);
    expect(read('.gitlab-ci.yml.bak')).toBe(pipelineFor(roleArn));
  });

  it('leaves a file alone when its jobs use another role, and says so', async () => {
    const other = 'arn:aws:iam::123456789012:role/gitlab-oidc/gitlab-other-app';
    const text = pipelineFor(other, fixture('custom-stages.yml'));
    writeCi(text);
    const io = capture();
    await runDestroyCommand({ project: PROJECT, yes: true }, io.context);
    expect(read()).toBe(text);
    expect(fake.state.roles.size).toBe(0);
    expect(io.out()).toContain(
      `.gitlab-ci.yml: left alone (its generated jobs use ${other}, not a role this run deletes; pass --ci-file .gitlab-ci.yml to remove them anyway)`,
    );
  });

  it('leaves a file alone when jobs still extend .aws-oidc, naming them; IAM is still destroyed', async () => {
    const text = pipelineFor(roleArn, fixture('realistic.yml'));
    writeCi(text);
    const result = await runDestroy(options(), deps());
    expect(read()).toBe(text);
    expect(result.ciFile).toMatchObject({ action: 'skipped', written: false });
    expect(result.ciFile?.reason).toMatch(/"deploy" still uses \.aws-oidc/);
    expect(result.ciFile?.reason).toMatch(/--ci-file \.gitlab-ci\.yml --force/);
    expect(fake.state.roles.size).toBe(0);
  });

  it('--no-ci-file never touches it; no file, or a file without generated jobs, is not mentioned', async () => {
    const text = pipelineFor(roleArn);
    writeCi(text);
    const result = await runDestroy(options({ ciFile: false }), deps());
    expect(read()).toBe(text);
    expect(result.ciFile).toBeUndefined();

    await initProject(fake, { project: PROJECT });
    writeCi(fixture('custom-stages.yml'));
    expect((await runDestroy(options(), deps())).ciFile).toBeUndefined();
    expect(read()).toBe(fixture('custom-stages.yml'));
  });

  it('a programmatic run without a working folder looks for no file', async () => {
    const text = pipelineFor(roleArn);
    writeCi(text);
    const result = await runDestroy(parseDestroyFlags({ project: PROJECT, yes: true }), deps());
    expect(result.ciFile).toBeUndefined();
    expect(read()).toBe(text);
  });
});

/** Defect 6 of issue 7: a prod/dev split keeps one set of jobs per role; destroy removes only its role's. */
describe('destroy and a pipeline file with the jobs of two roles', () => {
  const DEV = 'gitlab-acme-web-dev';
  const devNames = jobNamesFor(DEV);
  let devArn: string;
  let prodOnly: string;
  let both: string;
  beforeEach(async () => {
    devArn = (await initProject(fake, { project: PROJECT, roleName: DEV, policyName: `${DEV}-permissions` }))
      .role.arn;
    prodOnly = pipelineFor(roleArn, fixture('custom-stages.yml'));
    const dev = renderCiSnippet({
      roleArn: devArn,
      region: 'eu-west-1',
      audience: 'https://gitlab.com',
      refs: [{ type: 'branch', pattern: 'develop' }],
      toolVersion: '0.1.0',
      jobNames: devNames,
    });
    both = mergeCiFile(prodOnly, dev, { force: false, jobNames: devNames }).text;
    writeCi(both);
  });

  it('destroy --role removes that role and its jobs only; the other role stays byte for byte', async () => {
    const io = capture();
    await runDestroyCommand({ role: DEV, yes: true }, io.context);
    expect(read()).toBe(prodOnly);
    expect([...fake.state.roles.keys()]).toEqual(['gitlab-acme-web']);
    expect(io.err()).toContain(`✓ removed ${devNames.hidden}, ${devNames.check} from .gitlab-ci.yml`);

    await runDestroyCommand({ role: 'gitlab-acme-web', yes: true }, capture().context);
    expect(read()).toBe(fixture('custom-stages.yml'));
  });

  it('the first role goes the same way, leaving the header and the other role', async () => {
    const result = await runDestroy(options({ project: undefined, role: 'gitlab-acme-web' }), deps());
    expect(result.ciFile?.jobs).toEqual(['.aws-oidc', 'aws-oidc-check', 'aws-oidc-verify']);
    const text = read();
    expect(
      text.endsWith(
        both.slice(both.indexOf(`# managed by gitlab-aws-oidc 0.1.0: add \`extends: ${devNames.hidden}\``)),
      ),
    ).toBe(true);
    expect(jobs(text)).toEqual(['stages', 'prepare', 'ship', devNames.hidden, devNames.check]);
  });

  it('destroy --project deletes both roles and removes both sets of jobs', async () => {
    const result = await runDestroy(options(), deps());
    expect(fake.state.roles.size).toBe(0);
    expect(result.ciFile?.jobs).toHaveLength(5);
    expect(read()).toBe(fixture('custom-stages.yml'));
  });

  it('a job extending one role blocks only the removal of that role, before anything is deleted', async () => {
    writeCi(`${both}\ndeploy:\n  extends: .aws-oidc\n  script: [x]\n`);
    const dev = await runDestroy(options({ project: undefined, role: DEV }), deps());
    expect(dev.ciFile?.jobs).toEqual([devNames.hidden, devNames.check]);
    const before = fake.mutatingCalls().length;
    const error = await runDestroy(
      options({ project: undefined, role: 'gitlab-acme-web', ciFile: '.gitlab-ci.yml' }),
      deps(),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/"deploy" still uses \.aws-oidc;/);
    expect(fake.mutatingCalls().length).toBe(before);
  });

  it('a re-run of destroy --role after the role is gone still removes exactly its jobs', async () => {
    await runDestroy(options({ project: undefined, role: DEV, ciFile: false }), deps());
    expect(fake.state.roles.has(DEV)).toBe(false);
    expect(read()).toBe(both);
    const result = await runDestroy(options({ project: undefined, role: DEV }), deps());
    expect(result.ciFile).toMatchObject({ jobs: [devNames.hidden, devNames.check], written: true });
    expect(read()).toBe(prodOnly);
  });

  it("--role with --ci-file never removes another role's jobs, even when the file has only those", async () => {
    writeCi(prodOnly);
    const result = await runDestroy(
      options({ project: undefined, role: DEV, ciFile: '.gitlab-ci.yml' }),
      deps(),
    );
    expect(fake.state.roles.has(DEV)).toBe(false);
    expect(read()).toBe(prodOnly);
    expect(result.ciFile).toMatchObject({ action: 'no-op', jobs: [] });
    expect(result.ciFile?.warnings).toEqual([
      `.gitlab-ci.yml has the jobs of .aws-oidc (${roleArn}), not a role this run deletes; nothing was removed from it.`,
    ]);
  });

  it('--ci-file with two roles, neither of them deleted by this run: nothing removed, and why', async () => {
    await initProject(fake, { project: 'acme/other', roleName: 'gitlab-acme-other' });
    const result = await runDestroy(
      options({ project: undefined, role: 'gitlab-acme-other', ciFile: '.gitlab-ci.yml' }),
      deps(),
    );
    expect(read()).toBe(both);
    expect(result.ciFile).toMatchObject({ action: 'no-op', jobs: [], written: false });
    expect(result.ciFile?.warnings.join('\n')).toMatch(
      /has the jobs of 2 roles, none of which this run deletes/,
    );
  });
});

describe('destroy --ci-file', () => {
  it('cleans the named file whatever role it uses (with a warning), even when IAM has nothing left', async () => {
    await runDestroy(options({ ciFile: false }), deps());
    const other = 'arn:aws:iam::123456789012:role/other';
    mkdirSync(join(dir, 'ci'));
    const original = fixture('custom-stages.yml');
    writeCi(pipelineFor(other, original), 'ci/pipeline.yml');
    const calls = fake.mutatingCalls().length;
    const result = await runDestroy(options({ ciFile: 'ci/pipeline.yml' }), deps());
    expect(fake.mutatingCalls().length).toBe(calls);
    expect(read('ci/pipeline.yml')).toBe(original);
    expect(result.changed).toBe(true);
    expect(result.summary).toBe(
      'Nothing of project acme/web left in IAM; removed the generated jobs from ci/pipeline.yml.',
    );
    expect(result.ciFile?.warnings.join('\n')).toMatch(
      /sets AWS_ROLE_ARN .*role\/other, which is not a role/,
    );
  });

  it('a file without generated jobs is a no-op', async () => {
    writeCi(fixture('custom-stages.yml'));
    const result = await runDestroy(options({ ciFile: '.gitlab-ci.yml' }), deps());
    expect(result.ciFile).toMatchObject({ action: 'no-op', written: false });
    expect(read()).toBe(fixture('custom-stages.yml'));
    expect(existsSync(join(dir, '.gitlab-ci.yml.bak'))).toBe(false);
  });

  it.each([
    ['a missing file', () => 'missing.yml', /missing\.yml does not exist/],
    ['a file in a missing folder', () => 'nope/ci.yml', /does not exist/],
    [
      'invalid YAML',
      () => {
        writeCi('build:\n  script: [make\n');
        return '.gitlab-ci.yml';
      },
      /not valid YAML/,
    ],
    [
      'a symlink to a file outside the working folder',
      () => {
        const outside = tempDir();
        const target = join(outside.dir, 'ci.yml');
        writeFileSync(target, pipelineFor(roleArn));
        symlinkSync(target, join(dir, 'link.yml'));
        return 'link.yml';
      },
      /outside the repository/,
    ],
    [
      'jobs that still extend .aws-oidc (without --force)',
      () => {
        writeCi(pipelineFor(roleArn, fixture('realistic.yml')));
        return '.gitlab-ci.yml';
      },
      /"deploy" still uses \.aws-oidc/,
    ],
  ])('refuses %s before any AWS call (exit 2)', async (_name, setup, message) => {
    const ciFile = setup();
    const before = fake.calls().length;
    const error = await runDestroy(options({ ciFile }), deps()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    const text = [(error as UsageError).message, ...(error as UsageError).details()].join('\n');
    expect(text).toMatch(message);
    expect(fake.calls().length).toBe(before);
    expect(fake.state.roles.size).toBe(1);
  });

  it('--force removes them anyway and warns about the jobs left dangling', async () => {
    writeCi(pipelineFor(roleArn, fixture('realistic.yml')));
    const result = await runDestroy(options({ ciFile: '.gitlab-ci.yml', force: true }), deps());
    expect(read()).toBe(fixture('realistic.yml'));
    expect(result.ciFile?.dependents).toEqual(['deploy']);
    expect(result.ciFile?.warnings.join('\n')).toMatch(
      /job "deploy" still uses \.aws-oidc, which was removed/,
    );
  });

  it('validates the flags: --force needs --role or --ci-file; --ci-file must name a file', () => {
    expect(() => parseDestroyFlags({ project: PROJECT, force: true })).toThrow(UsageError);
    try {
      parseDestroyFlags({ project: PROJECT, force: true });
    } catch (error) {
      expect((error as UsageError).issues.map((i) => i.field)).toEqual(['--force']);
    }
    expect(parseDestroyFlags({ project: PROJECT, force: true, ciFile: 'x.yml' }).force).toBe(true);
    expect(() => parseDestroyFlags({ project: PROJECT, ciFile: '' })).toThrow(UsageError);
  });

  it('is wired in the CLI: --ci-file and --no-ci-file', async () => {
    writeCi(pipelineFor(roleArn, fixture('custom-stages.yml')), 'other.yml');
    const io = capture();
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerDestroy(program, io.context);
    await program.parseAsync([
      'node',
      'x',
      'destroy',
      '--project',
      PROJECT,
      '--ci-file',
      'other.yml',
      '--dry-run',
      '--json',
    ]);
    expect(JSON.parse(io.out()).ciFile).toMatchObject({
      path: 'other.yml',
      action: 'update',
      written: false,
    });

    writeCi(pipelineFor(roleArn));
    const io2 = capture();
    const program2 = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerDestroy(program2, io2.context);
    await program2.parseAsync([
      'node',
      'x',
      'destroy',
      '--project',
      PROJECT,
      '--no-ci-file',
      '--dry-run',
      '--json',
    ]);
    expect(JSON.parse(io2.out()).ciFile).toBeUndefined();
  });
});

describe('destroy and the pipeline file when something fails', () => {
  it('an IAM failure leaves the file untouched and lists it as not done; the re-run finishes both', async () => {
    const original = fixture('custom-stages.yml');
    const text = pipelineFor(roleArn, original);
    writeCi(text);
    fake.failNext('DeleteRole', 'AccessDenied');
    const error = await runDestroy(options(), deps()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PartialApplyError);
    expect((error as PartialApplyError).notDone).toEqual([
      expect.stringMatching(/^delete role /),
      'remove the generated jobs from .gitlab-ci.yml',
    ]);
    expect(read()).toBe(text);

    const again = await runDestroy(options(), deps());
    expect(again.ciFile?.written).toBe(true);
    expect(read()).toBe(original);
    expect(fake.state.roles.size).toBe(0);
  });

  it('a file edited while the user was confirming is not overwritten', async () => {
    const planned = pipelineFor(roleArn, 'build:\n  script: [make]\n');
    writeCi(planned);
    const edited = `${planned}\nlate:\n  script: [echo late]\n`;
    const error = await runDestroy(
      options({ yes: false }),
      deps({
        confirm: async () => {
          writeCi(edited);
          return true;
        },
      }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PartialApplyError);
    expect((error as PartialApplyError).message).toMatch(/changed since it was read; nothing was written/);
    expect((error as PartialApplyError).notDone).toEqual(['remove the generated jobs from .gitlab-ci.yml']);
    expect(read()).toBe(edited);
    expect(fake.state.roles.size).toBe(0);
  });
});

describe.skipIf(!schemaAvailable)("cleaned pipeline files against GitLab's CI schema", () => {
  it.each(['custom-stages.yml', 'legacy-jwt.yml', 'realistic.yml'])('%s', async (name) => {
    await initProject(fake, { project: PROJECT });
    writeCi(pipelineFor(roleArn, fixture(name)));
    const force = name === 'realistic.yml';
    await runDestroy(options({ ciFile: '.gitlab-ci.yml', force }), deps());
    const cleaned = read();
    expect(jobs(cleaned)).not.toContain('aws-oidc-check');
    expect(validateCi(ciYamlToJs(cleaned))).toEqual([]);
  });
});
