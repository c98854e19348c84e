// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform interpolations are literal text here
/**
 * `export` through the real resolver and orchestration, against the in-memory IAM: import blocks for
 * what init made (and an export equal to it, so adoption is a no-op plan), --offline, --out writes,
 * --json, --ci-file, and bad input refused (exit 2) before any AWS call.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readExistingRole } from '../../src/aws/read-state.js';
import { ExitCode, exitCodeFor } from '../../src/errors.js';
import { CFN_IDS } from '../../src/export/cloudformation.js';
import { parseCloudFormation } from '../../src/export/cloudformation-yaml.js';
import { runExportCommand } from '../../src/export/command.js';
import { EXPORT_MARKER } from '../../src/export/marker.js';
import { type RawExportFlags, resolveExportOptions } from '../../src/export/options.js';
import { type ExportResult, runExport } from '../../src/export/run.js';
import { resolveThumbprints } from '../../src/gitlab/thumbprint.js';
import { createMemoryLogger } from '../../src/io/logger.js';
import { captureContext } from '../helpers/capture-context.js';
import { resolveTemplate } from '../helpers/cfn-resolve.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { BASE_FLAGS, runInitWith, tempDir } from '../init/helpers.js';
import { type Hcl, literal, parseFiles, parseHcl, resource } from './hcl-parse.js';

const ACCOUNT = '111122223333';
let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  aws = createFakeAws({ account: ACCOUNT });
  tmp = tempDir();
});
afterEach(() => {
  aws.restore();
  tmp.cleanup();
});

const SETUP = {
  project: 'acme/platform/web',
  template: 's3-deploy',
  templateParam: ['bucket=acme-web-site'],
  managedPolicy: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
} satisfies RawExportFlags;

/** Runs export as the CLI does (the resolver reads the existing role unless --offline). */
async function exportWith(
  flags: RawExportFlags,
  cwd = tmp.dir,
): Promise<{ result: ExportResult; awsUsed: boolean }> {
  let awsUsed = false;
  const ports = async () => {
    awsUsed = true;
    return aws.ports;
  };
  const options = await resolveExportOptions(
    { yes: true, region: 'eu-west-1', ...flags },
    {
      cwd,
      env: {},
      interactive: false,
      git: {},
      prompter: async () => {
        throw new Error('no prompts');
      },
      readExisting: async (target) => readExistingRole((await ports()).iam, target),
    },
  );
  const result = await runExport(options, {
    logger: createMemoryLogger(),
    aws: ports,
    resolveThumbprints: (issuer, override) => resolveThumbprints({ issuer, override }),
  });
  return { result, awsUsed };
}

async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

const filesOf = (result: ExportResult) =>
  result.files.map((f) => ({ path: f.path, content: f.content ?? '' }));

const addReadOnly = () =>
  aws.addPolicy({
    name: 'ReadOnlyAccess',
    awsManaged: true,
    document: { Version: '2012-10-17', Statement: [] },
  });

/** init applied against the fake IAM; returns the role's name. */
async function initSetup(ciFile: string | false = false): Promise<string> {
  addReadOnly();
  const { result } = await runInitWith({ ...BASE_FLAGS, ...SETUP, ciFile }, tmp.dir, { aws });
  expect(result.status).toBe('applied');
  return result.roleArn.split('/').pop() as string;
}

describe('export --format terraform against an account init set up', () => {
  it('imports the role, the policy and the attachments, and every argument equals what IAM holds (a no-op plan)', async () => {
    const roleName = await initSetup();
    const calls = aws.mutatingCalls().length;
    // No --branch: the refs the role trusts now are kept, as init's resolver does.
    const { result } = await exportWith({ ...SETUP, format: 'terraform' });
    expect(aws.mutatingCalls().length).toBe(calls);
    const hcl = await parseFiles(filesOf(result));
    const main = hcl['main.tf'] as Hcl;

    const fakeRole = aws.state.roles.get(roleName.toLowerCase());
    expect(fakeRole).toBeDefined();
    const role = resource(main, 'aws_iam_role', 'gitlab_ci');
    // Byte for byte the text init sent to CreateRole.
    expect(literal(role.assume_role_policy)).toBe(fakeRole?.trustPolicy);
    expect(role.name).toBe(fakeRole?.name);
    expect(role.path).toBe(fakeRole?.path);
    expect(role.description).toBe(fakeRole?.description);
    expect(role.max_session_duration).toBe(fakeRole?.maxSessionDuration);
    expect(role.tags).toEqual(fakeRole?.tags);

    const policyArn = result.policyArn as string;
    const fakePolicy = aws.state.policies.get(policyArn);
    expect(fakePolicy).toBeDefined();
    const policy = resource(main, 'aws_iam_policy', 'gitlab_ci');
    const version = fakePolicy?.versions.find((v) => v.isDefault);
    expect(JSON.parse(literal(policy.policy))).toEqual(
      JSON.parse(decodeURIComponent(version?.document ?? '')),
    );
    expect(policy.name).toBe(fakePolicy?.name);
    expect(policy.path).toBe(fakePolicy?.path);
    expect(policy.tags).toEqual(fakePolicy?.tags);

    const attachments = Object.values(
      main.resource.aws_iam_role_policy_attachment as Record<string, Hcl[]>,
    ).map(([a]) => (a?.policy_arn === '${aws_iam_policy.gitlab_ci.arn}' ? policyArn : a?.policy_arn));
    expect(attachments.sort()).toEqual([...(fakeRole?.attachedPolicyArns ?? [])].sort());

    // The provider exists (shared): a data source, never an import.
    expect(main.data.aws_iam_openid_connect_provider.gitlab[0].url).toBe('https://gitlab.com');
    expect(main.resource).not.toHaveProperty('aws_iam_openid_connect_provider');
    const imports = (hcl['imports.tf'] as Hcl).import as { to: string; id: string }[];
    expect(imports).toEqual(
      expect.arrayContaining([
        { to: '${aws_iam_role.gitlab_ci}', id: roleName },
        { to: '${aws_iam_policy.gitlab_ci}', id: policyArn },
        { to: '${aws_iam_role_policy_attachment.gitlab_ci}', id: `${roleName}/${policyArn}` },
        {
          to: '${aws_iam_role_policy_attachment.readonlyaccess}',
          id: `${roleName}/arn:aws:iam::aws:policy/ReadOnlyAccess`,
        },
      ]),
    );
    expect(imports).toHaveLength(4);
    expect(result.existing).toMatchObject({
      providerArn: aws.providerArn('gitlab.com'),
      roleName,
      policyArn,
    });
  });

  it('--manage-provider imports the provider by ARN, with the client IDs and tags it has', async () => {
    await initSetup();
    const { result } = await exportWith({ ...SETUP, format: 'terraform', manageProvider: true });
    const hcl = await parseFiles(filesOf(result));
    const arn = aws.providerArn('gitlab.com');
    const fake = aws.state.providers.get(arn);
    const provider = resource(hcl['main.tf'] as Hcl, 'aws_iam_openid_connect_provider', 'gitlab');
    expect(provider.client_id_list).toEqual(fake?.clientIds);
    expect(provider.tags).toEqual(fake?.tags);
    expect(provider).not.toHaveProperty('thumbprint_list');
    expect((hcl['imports.tf'] as Hcl).import).toContainEqual({
      to: '${aws_iam_openid_connect_provider.gitlab}',
      id: arn,
    });
  });

  it('a role of the same name the tool did not create needs --adopt-existing (exit 2), as with init', async () => {
    addReadOnly();
    const offline = await exportWith({ ...SETUP, branch: ['main'], format: 'terraform', offline: true });
    const name = offline.result.roleArn.split('/').pop() as string;
    aws.addRole({
      name,
      path: '/gitlab-oidc/',
      trustPolicy: { Version: '2012-10-17', Statement: [] },
    });
    const error = await failureOf(() => exportWith({ ...SETUP, branch: ['main'], format: 'terraform' }));
    expect(error).toMatchObject({ code: 'NOT_MANAGED' });
    expect(exitCodeFor(error)).toBe(ExitCode.Usage);
    const { result } = await exportWith({
      ...SETUP,
      branch: ['main'],
      format: 'terraform',
      adoptExisting: true,
    });
    expect(result.existing.roleName).toBe(name);
  });
});

describe('export --format cloudformation against an account init set up', () => {
  it('one template in --out: CreateProvider defaults to false, and the resolved trust policy is the text init sent', async () => {
    const roleName = await initSetup();
    const { result } = await exportWith({ ...SETUP, format: 'cloudformation', out: 'cfn' });
    expect(result.files.map((f) => f.path)).toEqual([`${roleName}.cfn.yaml`]);
    const text = readFileSync(join(tmp.dir, 'cfn', `${roleName}.cfn.yaml`), 'utf8');
    // The renderer's own header carries the marker: one header, not two.
    expect(text.split('\n').filter((l) => l.startsWith(EXPORT_MARKER))).toHaveLength(1);
    const template = parseCloudFormation(text);
    const resolved = resolveTemplate(template, {
      account: ACCOUNT,
      partition: 'aws',
      resourceArns: {
        [CFN_IDS.provider]: result.providerArn,
        [CFN_IDS.role]: result.roleArn,
        [CFN_IDS.policy]: result.policyArn as string,
      },
    });
    expect(resolved.parameters[CFN_IDS.createProviderParameter]).toBe('false');
    expect(resolved.resources).not.toHaveProperty(CFN_IDS.provider);
    const trust = resolved.resources[CFN_IDS.role]?.Properties.AssumeRolePolicyDocument;
    expect(JSON.stringify(trust)).toBe(aws.state.roles.get(roleName.toLowerCase())?.trustPolicy);
    // A re-export replaces the file it wrote.
    const again = await exportWith({ ...SETUP, format: 'cloudformation', out: 'cfn' });
    expect(again.result.files[0]?.written).toBe(false);
  });

  it('refuses a template file in --out it did not write, before AWS is read', async () => {
    const offline = await exportWith({ ...SETUP, branch: ['main'], format: 'cloudformation', offline: true });
    const path = offline.result.files[0]?.path as string;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(tmp.dir, 'cfn'));
    writeFileSync(join(tmp.dir, 'cfn', path), 'Resources: {}\n');
    const error = await failureOf(() =>
      exportWith({ ...SETUP, branch: ['main'], format: 'cloudformation', out: 'cfn' }),
    );
    expect(exitCodeFor(error)).toBe(ExitCode.Usage);
    expect(aws.calls()).toEqual([]);
  });
});

describe('export --offline', () => {
  it('makes no AWS call and writes no import block; --account-id names the account', async () => {
    const { result, awsUsed } = await exportWith({
      ...SETUP,
      branch: ['main'],
      format: 'terraform',
      offline: true,
      accountId: '444455556666',
    });
    expect(awsUsed).toBe(false);
    expect(aws.calls()).toEqual([]);
    expect(result.roleArn).toBe('arn:aws:iam::444455556666:role/gitlab-oidc/gitlab-acme-platform-web');
    const hcl = await parseFiles(filesOf(result));
    expect(hcl['imports.tf']).not.toHaveProperty('import');
    const role = resource(hcl['main.tf'] as Hcl, 'aws_iam_role', 'gitlab_ci');
    expect(JSON.parse(literal(role.assume_role_policy)).Statement[0].Principal.Federated).toBe(
      'arn:aws:iam::444455556666:oidc-provider/gitlab.com',
    );
  });
});

describe('export --out', () => {
  const OFFLINE = { ...SETUP, branch: ['main'], format: 'terraform', offline: true } satisfies RawExportFlags;

  it('writes every file atomically (no temp file left), then an unchanged re-run writes nothing', async () => {
    const { result } = await exportWith({ ...OFFLINE, out: 'infra/oidc' });
    const dir = join(tmp.dir, 'infra/oidc');
    expect(result.out).toBe(dir);
    expect(readdirSync(dir).sort()).toEqual(['imports.tf', 'main.tf', 'outputs.tf', 'versions.tf']);
    expect(result.files.every((f) => f.written === true && f.content === undefined)).toBe(true);
    for (const f of result.files) expect(readFileSync(join(dir, f.path)).length).toBe(f.bytes);
    const again = await exportWith({ ...OFFLINE, out: 'infra/oidc' });
    expect(again.result.files.map((f) => f.written)).toEqual([false, false, false, false]);
    // A changed input rewrites the files an export wrote.
    await exportWith({ ...OFFLINE, branch: ['release'], out: 'infra/oidc' });
    expect(readFileSync(join(dir, 'main.tf'), 'utf8')).toContain('ref_type:branch:ref:release');
  });

  it('refuses a file it did not write (exit 2, before AWS, nothing written); --force replaces it and keeps a .bak', async () => {
    const dir = join(tmp.dir, 'infra');
    await exportWith({ ...OFFLINE, out: 'infra' }); // creates the folder
    writeFileSync(join(dir, 'main.tf'), 'resource "null_resource" "mine" {}\n');
    const before = readFileSync(join(dir, 'versions.tf'), 'utf8');
    const error = await failureOf(() =>
      exportWith({ ...SETUP, branch: ['develop'], format: 'terraform', out: 'infra' }),
    );
    expect(exitCodeFor(error)).toBe(ExitCode.Usage);
    expect(String((error as Error).message)).toMatch(/main\.tf .*not written by gitlab-aws-oidc export/);
    expect(aws.calls()).toEqual([]);
    expect(readFileSync(join(dir, 'main.tf'), 'utf8')).toBe('resource "null_resource" "mine" {}\n');
    expect(readFileSync(join(dir, 'versions.tf'), 'utf8')).toBe(before);

    const { result } = await exportWith({ ...OFFLINE, out: 'infra', force: true });
    const main = result.files.find((f) => f.path === 'main.tf');
    expect(main?.backupPath).toBe(join(dir, 'main.tf.bak'));
    expect(readFileSync(join(dir, 'main.tf.bak'), 'utf8')).toBe('resource "null_resource" "mine" {}\n');
    expect(readFileSync(join(dir, 'main.tf'), 'utf8')).toMatch(/^# Generated by gitlab-aws-oidc export/);
  });

  it('refuses an --out that is a file (exit 2)', async () => {
    writeFileSync(join(tmp.dir, 'plain'), 'x');
    const error = await failureOf(() => exportWith({ ...OFFLINE, out: 'plain' }));
    expect(exitCodeFor(error)).toBe(ExitCode.Usage);
    expect(error).toMatchObject({ issues: [{ field: '--out' }] });
  });
});

describe('export --json (runExportCommand)', () => {
  const ARGS = { project: 'g/a', branch: ['main'], format: 'terraform', offline: true, json: true };

  it('prints one document with the file list (path, bytes, sha256) and the contents without --out', async () => {
    const { createHash } = await import('node:crypto');
    const cap = captureContext({ cwd: tmp.dir });
    await runExportCommand(ARGS, cap.context);
    const doc = JSON.parse(cap.out());
    expect(doc).toMatchObject({ ok: true, command: 'export', format: 'terraform', offline: true });
    expect(doc.files.map((f: { path: string }) => f.path)).toEqual([
      'versions.tf',
      'main.tf',
      'imports.tf',
      'outputs.tf',
    ]);
    for (const f of doc.files as { content: string; bytes: number; sha256: string }[]) {
      expect(f.bytes).toBe(Buffer.byteLength(f.content));
      expect(f.sha256).toBe(createHash('sha256').update(f.content).digest('hex'));
    }
  });

  it('with --out: the files written, their sizes and digests, no contents', async () => {
    const cap = captureContext({ cwd: tmp.dir });
    await runExportCommand({ ...ARGS, out: 'tf' }, cap.context);
    const doc = JSON.parse(cap.out());
    expect(doc.out).toBe(join(tmp.dir, 'tf'));
    expect(doc.files[0]).toEqual({
      path: 'versions.tf',
      bytes: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      written: true,
    });
  });

  it('human mode without --out: the files on stdout (parseable as one HCL file), the summary on stderr', async () => {
    const cap = captureContext({ cwd: tmp.dir });
    await runExportCommand({ ...ARGS, json: false }, cap.context);
    const hcl = await parseHcl('all.tf', cap.out());
    expect(resource(hcl, 'aws_iam_role', 'gitlab_ci').name).toBe('gitlab-g-a');
    expect(cap.err()).toMatch(/Exported terraform for g\/a/);
  });
});

describe('export and the pipeline file', () => {
  it('writes no pipeline file without --ci-file, even where init would', async () => {
    await exportWith({ ...SETUP, branch: ['main'], format: 'terraform', offline: true });
    expect(existsSync(join(tmp.dir, '.gitlab-ci.yml'))).toBe(false);
  });

  it('--ci-file writes exactly the file init writes for the same inputs', async () => {
    await initSetup('.gitlab-ci.yml');
    const initCi = readFileSync(join(tmp.dir, '.gitlab-ci.yml'), 'utf8');
    const other = tempDir();
    try {
      const { result } = await exportWith(
        { ...SETUP, format: 'terraform', ciFile: '.gitlab-ci.yml', region: 'eu-west-1' },
        other.dir,
      );
      expect(result.ciFile?.written).toBe(true);
      expect(readFileSync(join(other.dir, '.gitlab-ci.yml'), 'utf8')).toBe(initCi);
    } finally {
      other.cleanup();
    }
  });
});

describe('export: bad input is exit 2 before any AWS call', () => {
  const cases: [string, RawExportFlags, RegExp][] = [
    ['no --format', { project: 'g/a', branch: ['main'] }, /--format: must be terraform or cloudformation/],
    ['an unknown --format', { project: 'g/a', branch: ['main'], format: 'pulumi' }, /--format/],
    [
      '--manage-provider with cloudformation',
      { project: 'g/a', branch: ['main'], format: 'cloudformation', manageProvider: true },
      /--manage-provider: only goes with --format terraform/,
    ],
    [
      '--account-id without --offline',
      { project: 'g/a', branch: ['main'], format: 'terraform', accountId: '444455556666' },
      /--account-id: only goes with --offline/,
    ],
    ['a bad --branch', { project: 'g/a', branch: ['bad..ref'], format: 'terraform' }, /--branch/],
  ];
  for (const [name, flags, message] of cases) {
    it(name, async () => {
      const error = await failureOf(() => exportWith(flags));
      expect(exitCodeFor(error)).toBe(ExitCode.Usage);
      const issues = (error as { issues: { field: string; message: string }[] }).issues;
      expect(issues.map((i) => `${i.field}: ${i.message}`).join('\n')).toMatch(message);
      expect(aws.calls()).toEqual([]);
    });
  }
});
