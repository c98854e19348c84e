/**
 * Bad input for verify, audit, destroy and status, table-driven: every row must fail as a usage error
 * (exit 2) that names the flag (or the file), BEFORE any AWS call and without writing any file
 * (harness: test/helpers/bad-input.ts). Each command runs the way the CLI runs it: raw flags → the
 * command's own parser/resolver → run…(), with AWS ports that talk to the in-memory IAM/STS (which
 * records every call).
 *
 * To add a row: append `{ name, flags, field }` to a command's `cases` (`files` to create in the working
 * folder first, `env` for the environment, `message` to pin the wording).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { parseAuditFlags, type RawAuditFlags } from '../../src/audit/options.js';
import { runAudit } from '../../src/audit/run.js';
import { parseDestroyFlags, type RawDestroyFlags } from '../../src/destroy/options.js';
import { runDestroy } from '../../src/destroy/run.js';
import { UsageError } from '../../src/errors.js';
import type { CommandContext } from '../../src/io/context.js';
import { parseStatusFlags, type RawStatusFlags } from '../../src/status/options.js';
import { runStatus } from '../../src/status/run.js';
import { runVerifyCommand } from '../../src/verify/command.js';
import type { RawVerifyFlags } from '../../src/verify/options.js';
import { type CommandUnderTest, describeBadInput, failureOf, useSandbox } from '../helpers/bad-input.js';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/gitlab-oidc/gitlab-grp-app';
const long = (n: number, c = 'a') => c.repeat(n);

function silentContext(cwd: string, env: NodeJS.ProcessEnv): CommandContext {
  return {
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    env,
    cwd,
    interactive: false,
    signal: new AbortController().signal,
  };
}

const VERIFY: CommandUnderTest<RawVerifyFlags> = {
  command: 'verify',
  base: { roleArn: ROLE_ARN, project: 'grp/app', branch: 'main' },
  run: (flags, cwd, aws, env) =>
    runVerifyCommand(flags, silentContext(cwd, env), {
      ports: aws.ports,
      verifyToken: async () => ({}),
      sleep: async () => {},
      readFile: (path) => readFileSync(join(cwd, path), 'utf8') as unknown as Promise<string>,
    }),
  cases: [
    // ----- the role ARN -----
    { name: 'role ARN that is a name', flags: { roleArn: 'gitlab-grp-app' }, field: '--role-arn' },
    {
      name: 'role ARN of a user',
      flags: { roleArn: 'arn:aws:iam::123456789012:user/bob' },
      field: '--role-arn',
    },
    {
      name: 'role ARN with a short account',
      flags: { roleArn: 'arn:aws:iam::1234:role/app' },
      field: '--role-arn',
    },
    {
      name: 'role ARN whose name is over 64 characters',
      flags: { roleArn: `arn:aws:iam::123456789012:role/${long(65)}` },
      field: '--role-arn',
    },
    { name: 'role ARN with a space', flags: { roleArn: `${ROLE_ARN} ` }, field: '--role-arn' },
    // ----- simulated claims -----
    {
      name: '--claims without =',
      flags: { project: undefined, branch: undefined, claims: 'project_path:grp/app' },
      field: '--claims',
      message: /not name=value/,
    },
    {
      name: '--claims with an unknown claim',
      flags: { project: undefined, branch: undefined, claims: 'colour=red' },
      field: '--claims colour',
      message: /unknown claim/,
    },
    {
      name: '--claims with an empty value',
      flags: { project: undefined, branch: undefined, claims: 'sub=' },
      field: '--claims sub',
    },
    {
      name: '--claims that is blank',
      flags: { project: undefined, branch: undefined, claims: '   ' },
      field: '--claims',
    },
    {
      name: '--claims together with --project',
      flags: { claims: 'sub=project_path:grp/app:ref_type:branch:ref:main' },
      field: '--claims',
    },
    // ----- simulated job -----
    { name: 'empty --project', flags: { project: '' }, field: '--project' },
    { name: '--project that is a wildcard', flags: { project: '*' }, field: '--project' },
    { name: '--project with a wildcard group', flags: { project: 'grp/*' }, field: '--project' },
    { name: '--project without a group', flags: { project: 'app' }, field: '--project' },
    { name: '--branch with ..', flags: { branch: 'feature..x' }, field: '--branch' },
    { name: '--branch with a space', flags: { branch: 'my branch' }, field: '--branch' },
    { name: '--tag with ..', flags: { branch: undefined, tag: 'v1..2' }, field: '--tag' },
    { name: 'both --branch and --tag', flags: { tag: 'v1' }, field: '--branch' },
    {
      name: '--branch without --project',
      flags: { project: undefined, claims: 'sub=project_path:grp/app:ref_type:branch:ref:main' },
      field: '--branch',
    },
    { name: '--project-id that is not a number', flags: { projectId: '12a' }, field: '--project-id' },
    // ----- retry bound -----
    { name: '--timeout 0', flags: { timeout: '0' }, field: '--timeout' },
    { name: '--timeout abc', flags: { timeout: 'abc' }, field: '--timeout' },
    { name: '--timeout over 900 s', flags: { timeout: '901' }, field: '--timeout' },
    { name: 'negative --timeout', flags: { timeout: '-5' }, field: '--timeout' },
    // ----- token -----
    {
      name: '--token naming a missing file',
      flags: { project: undefined, branch: undefined, token: 'no-such-token.jwt' },
      field: '--token',
      message: /no-such-token\.jwt/,
    },
    {
      name: '--token file that is not a JWT',
      flags: { project: undefined, branch: undefined, token: 'token.txt' },
      files: { 'token.txt': 'glpat-not-a-jwt\n' },
      field: '--token',
    },
    {
      name: '--token file that is empty',
      flags: { project: undefined, branch: undefined, token: 'empty.jwt' },
      files: { 'empty.jwt': '\n' },
      field: '--token',
    },
    {
      name: '--token-env that is not a variable name',
      flags: { project: undefined, branch: undefined, tokenEnv: '1BAD' },
      field: '--token-env',
    },
    {
      name: '--token-env naming an unset variable',
      flags: { project: undefined, branch: undefined, tokenEnv: 'NOT_SET_HERE' },
      field: '--token-env',
    },
    {
      name: 'a token and simulated claims together',
      flags: { token: 'token.jwt' },
      field: '--token',
    },
    // ----- GitLab URL -----
    {
      name: '--gitlab-url over http',
      flags: { gitlabUrl: 'http://gitlab.example.com' },
      field: '--gitlab-url',
    },
    {
      name: '--gitlab-url with a port',
      flags: { gitlabUrl: 'https://gitlab.example.com:8443' },
      field: '--gitlab-url',
    },
    {
      name: '--gitlab-url with a query',
      flags: { gitlabUrl: 'https://gitlab.example.com/?tab=1' },
      field: '--gitlab-url',
    },
    { name: '--gitlab-url that is not a URL', flags: { gitlabUrl: 'gitlab' }, field: '--gitlab-url' },
    // ----- the rest -----
    { name: '--session-name with a space', flags: { sessionName: 'my session' }, field: '--session-name' },
    { name: '--session-name of 65 characters', flags: { sessionName: long(65) }, field: '--session-name' },
    { name: '--region that is not a region', flags: { region: 'Europe' }, field: '--region' },
    { name: 'empty --audience', flags: { audience: '' }, field: '--audience' },
  ],
};

const AUDIT: CommandUnderTest<RawAuditFlags> = {
  command: 'audit',
  base: {},
  run: (flags, cwd, aws) =>
    runAudit(parseAuditFlags(flags), {
      aws: () => aws.ports,
      readFile: async (path) => readFileSync(join(cwd, path), 'utf8'),
    }),
  cases: [
    { name: '--fail-on bogus', flags: { failOn: 'bogus' }, field: '--fail-on' },
    { name: '--format xml', flags: { format: 'xml' }, field: '--format' },
    { name: '--json with --format sarif', flags: { json: true, format: 'sarif' }, field: '--json' },
    { name: '--role of 65 characters', flags: { role: long(65) }, field: '--role' },
    { name: '--role with a slash', flags: { role: 'team/deploy' }, field: '--role' },
    { name: 'empty --role', flags: { role: '' }, field: '--role' },
    {
      name: '--policy-file with invalid JSON',
      flags: { policyFile: 'trust.json' },
      files: { 'trust.json': '{ "Version": "2012-10-17", "Statement": [ }' },
      field: '--policy-file',
      message: /trust\.json/,
    },
    {
      name: '--policy-file that is missing',
      flags: { policyFile: 'nope.json' },
      field: '--policy-file',
      message: /nope\.json does not exist/,
    },
    {
      name: '--policy-file without a Statement',
      flags: { policyFile: 'empty.json' },
      files: { 'empty.json': '{ "Version": "2012-10-17" }' },
      field: '--policy-file',
      message: /empty\.json has no "Statement"/,
    },
    { name: 'empty --policy-file', flags: { policyFile: '' }, field: '--policy-file' },
    {
      name: '--role together with --policy-file',
      flags: { role: 'app', policyFile: 'trust.json' },
      field: '--policy-file',
    },
    { name: '--write-role without --policy-file', flags: { writeRole: true }, field: '--write-role' },
  ],
};

const DESTROY: CommandUnderTest<RawDestroyFlags> = {
  command: 'destroy',
  base: { project: 'grp/app', yes: true },
  run: (flags, cwd, aws) => runDestroy(parseDestroyFlags(flags, { cwd }), { aws: () => aws.ports }),
  cases: [
    { name: 'neither --project nor --role', flags: { project: undefined }, field: '--project' },
    { name: 'both --project and --role', flags: { role: 'gitlab-grp-app' }, field: '--role' },
    {
      name: '--role with a space',
      flags: { project: undefined, role: 'my role' },
      field: '--role',
    },
    {
      name: '--role with a slash (a path is not a name)',
      flags: { project: undefined, role: 'gitlab-oidc/app' },
      field: '--role',
    },
    { name: '--role of 65 characters', flags: { project: undefined, role: long(65) }, field: '--role' },
    { name: '--role that is an ARN', flags: { project: undefined, role: ROLE_ARN }, field: '--role' },
    { name: 'empty --project', flags: { project: '' }, field: '--project' },
    { name: '--project that is a wildcard', flags: { project: '*' }, field: '--project' },
    { name: '--project with a wildcard', flags: { project: 'grp/*' }, field: '--project' },
    { name: '--project with ..', flags: { project: 'grp/../app' }, field: '--project' },
    { name: '--force without --role or --ci-file', flags: { force: true }, field: '--force' },
    // ----- GitLab URL (narrows --project to one instance) -----
    {
      name: '--gitlab-url over http',
      flags: { gitlabUrl: 'http://gitlab.example.com' },
      field: '--gitlab-url',
      message: /must use https/,
    },
    {
      name: '--gitlab-url with a port',
      flags: { gitlabUrl: 'https://gitlab.example.com:8443' },
      field: '--gitlab-url',
      message: /has a port/,
    },
    {
      name: '--gitlab-url with a query',
      flags: { gitlabUrl: 'https://gitlab.example.com/?tab=1' },
      field: '--gitlab-url',
    },
    { name: '--gitlab-url that is not a URL', flags: { gitlabUrl: 'gitlab' }, field: '--gitlab-url' },
    { name: 'empty --gitlab-url', flags: { gitlabUrl: '' }, field: '--gitlab-url' },
    {
      name: '--gitlab-url with --role (it narrows --project)',
      flags: { project: undefined, role: 'gitlab-grp-app', gitlabUrl: 'https://gitlab.com' },
      field: '--gitlab-url',
      message: /only applies with --project/,
    },
    { name: 'empty --ci-file', flags: { ciFile: '' }, field: '--ci-file' },
    {
      name: '--ci-file naming a missing file',
      flags: { ciFile: 'missing.yml' },
      field: '--ci-file',
      message: /missing\.yml does not exist/,
    },
    {
      name: '--ci-file with invalid YAML',
      flags: { ciFile: 'pipeline.yml' },
      files: { 'pipeline.yml': 'build:\n  script: [make\n' },
      field: /^pipeline\.yml:\d+$/,
      message: /pipeline\.yml is not valid YAML/,
    },
    {
      name: 'no --yes without a terminal (nobody to confirm with)',
      flags: { yes: false },
      field: '--yes',
    },
  ],
};

const STATUS: CommandUnderTest<RawStatusFlags> = {
  command: 'status',
  base: {},
  run: (flags, _cwd, aws) => runStatus(parseStatusFlags(flags), { aws: () => aws.ports }),
  cases: [
    { name: 'empty --project', flags: { project: '' }, field: '--project' },
    { name: '--project that is a wildcard', flags: { project: '*' }, field: '--project' },
    { name: '--project with a wildcard group', flags: { project: '*/app' }, field: '--project' },
    { name: '--project without a group', flags: { project: 'app' }, field: '--project' },
    {
      name: '--gitlab-url over http',
      flags: { gitlabUrl: 'http://gitlab.example.com' },
      field: '--gitlab-url',
      message: /must use https/,
    },
    {
      name: '--gitlab-url with a port',
      flags: { project: 'grp/app', gitlabUrl: 'https://gitlab.example.com:8443' },
      field: '--gitlab-url',
      message: /has a port/,
    },
    {
      name: '--gitlab-url with credentials',
      flags: { gitlabUrl: 'https://user:pw@gitlab.example.com' },
      field: '--gitlab-url',
    },
    { name: 'empty --gitlab-url', flags: { gitlabUrl: '' }, field: '--gitlab-url' },
    { name: 'empty --region', flags: { region: '' }, field: '--region' },
    { name: 'empty --profile', flags: { profile: '' }, field: '--profile' },
  ],
};

const sandbox = useSandbox();

function describeCommand<F>(c: CommandUnderTest<F>): void {
  describeBadInput(c, sandbox, {
    name: 'the base flags are valid on their own',
    async check() {
      // A valid run may fail later (the role does not exist), but never as a usage error.
      const error = await failureOf(() => c.run(c.base, sandbox.cwd, sandbox.aws, {}));
      expect(error).not.toBeInstanceOf(UsageError);
      expect(sandbox.aws.calls().length).toBeGreaterThan(0);
    },
  });
}

describeCommand(VERIFY);
describeCommand(AUDIT);
describeCommand(DESTROY);
describeCommand(STATUS);

it('keeps at least 25 rows across verify, audit, destroy and status', () => {
  const rows = [VERIFY, AUDIT, DESTROY, STATUS].reduce((n, c) => n + c.cases.length, 0);
  expect(rows).toBeGreaterThanOrEqual(25);
  for (const c of [VERIFY, AUDIT, DESTROY, STATUS]) expect(c.cases.length, c.command).toBeGreaterThan(0);
});
