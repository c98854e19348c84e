/**
 * Bad input for init, table-driven: every row must fail as a usage error (exit 2) that names the right
 * flag (or file), BEFORE any AWS call and without writing any file (harness: test/helpers/bad-input.ts;
 * verify, audit, destroy and status have their table in bad-input-commands.test.ts).
 *
 * To add a row: append `{ name, flags, field }` to `INIT.cases` (optionally `files` to create in the
 * working folder first, `setup` for anything else, `message` to pin the wording).
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RawInitFlags } from '../../src/commands/init.js';
import { resolveThumbprints } from '../../src/gitlab/thumbprint.js';
import { runInit } from '../../src/init/run.js';
import { createMemoryLogger } from '../../src/io/logger.js';
import { type CommandUnderTest, describeBadInput, useSandbox } from '../helpers/bad-input.js';
import { resolveFlags } from '../init/helpers.js';

const long = (n: number, c = 'a') => c.repeat(n);
const policy = (statement: object) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
const PINNED_IMAGE = `registry.example.com/tools/gao@sha256:${'0'.repeat(64)}`;
const okStatement = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };

const INIT: CommandUnderTest<RawInitFlags> = {
  command: 'init',
  base: { project: 'grp/app', branch: ['main'], yes: true },
  async run(flags, cwd, aws, env) {
    const options = await resolveFlags(flags, cwd, env);
    return runInit(options, {
      logger: createMemoryLogger(),
      interactive: false,
      aws: async () => aws.ports,
      resolveThumbprints: (issuer, override) => resolveThumbprints({ issuer, override }),
    });
  },
  cases: [
    // ----- GitLab API flags -----
    {
      name: 'GitLab API URL over plain http to a non-loopback host',
      flags: { gitlabApiUrl: 'http://gitlab-api.example.com' },
      field: '--gitlab-api-url',
      message: /plain http/,
    },
    {
      name: 'GitLab API URL with a query',
      flags: { gitlabApiUrl: 'https://gitlab-api.example.com/?private_token=x' },
      field: '--gitlab-api-url',
    },
    {
      name: 'a token pasted as --gitlab-token-env',
      flags: { gitlabTokenEnv: 'glpat-abc.def-123' },
      field: '--gitlab-token-env',
      message: /name of an environment variable/,
    },
    // ----- ARNs -----
    {
      name: 'managed policy that is not an ARN',
      flags: { managedPolicy: ['ReadOnlyAccess'] },
      field: '--managed-policy',
    },
    {
      name: 'managed policy ARN of a role',
      flags: { managedPolicy: ['arn:aws:iam::aws:role/ReadOnlyAccess'] },
      field: '--managed-policy',
    },
    {
      name: 'managed policy ARN with a short account',
      flags: { managedPolicy: ['arn:aws:iam::12345:policy/Deploy'] },
      field: '--managed-policy',
    },
    {
      name: 'managed policy ARN of another service',
      flags: { managedPolicy: ['arn:aws:s3:::my-bucket'] },
      field: '--managed-policy',
    },
    {
      name: 'one good and one bad managed policy',
      flags: { managedPolicy: ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::aws:policy/'] },
      field: '--managed-policy',
    },
    {
      name: 'permissions boundary not an ARN',
      flags: { permissionsBoundary: 'boundary' },
      field: '--permissions-boundary',
    },
    {
      name: 'permissions boundary ARN of a user',
      flags: { permissionsBoundary: 'arn:aws:iam::123456789012:user/bob' },
      field: '--permissions-boundary',
    },
    {
      name: 'permissions boundary ARN without a policy name',
      flags: { permissionsBoundary: 'arn:aws:iam::aws:policy/' },
      field: '--permissions-boundary',
    },
    {
      name: '21 managed policies (IAM allows at most 20 per role)',
      flags: { managedPolicy: Array.from({ length: 21 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`) },
      field: '--managed-policy',
    },
    // ----- names and paths over IAM's limits -----
    { name: 'role name of 65 characters', flags: { roleName: long(65) }, field: '--role-name' },
    { name: 'role name with a space', flags: { roleName: 'my role' }, field: '--role-name' },
    { name: 'role name with a slash', flags: { roleName: 'team/deploy' }, field: '--role-name' },
    { name: 'empty role name', flags: { roleName: '' }, field: '--role-name' },
    { name: 'policy name of 129 characters', flags: { policyName: long(129) }, field: '--policy-name' },
    { name: 'policy name with a colon', flags: { policyName: 'deploy:s3' }, field: '--policy-name' },
    { name: 'role path without slashes', flags: { rolePath: 'gitlab' }, field: '--role-path' },
    { name: 'role path without the trailing slash', flags: { rolePath: '/gitlab' }, field: '--role-path' },
    { name: 'role path of 513 characters', flags: { rolePath: `/${long(511)}/` }, field: '--role-path' },
    { name: 'role path with a space', flags: { rolePath: '/a b/' }, field: '--role-path' },
    // ----- permission policy file -----
    {
      name: 'policy file that is not JSON',
      flags: { policyFile: 'policy.json' },
      files: { 'policy.json': '{ "Version": "2012-10-17", Statement: [] ' },
      field: '--policy-file',
      message: /policy\.json is not valid JSON/,
    },
    {
      name: 'policy file with Effect "Permit"',
      flags: { policyFile: 'policy.json' },
      files: { 'policy.json': policy({ ...okStatement, Effect: 'Permit' }) },
      field: /--policy-file/,
    },
    {
      name: 'policy file with a Principal (a trust policy by mistake)',
      flags: { policyFile: 'policy.json' },
      files: { 'policy.json': policy({ ...okStatement, Principal: { AWS: '*' } }) },
      field: /--policy-file/,
    },
    {
      name: 'policy file over 6,144 characters',
      flags: { policyFile: 'policy.json' },
      files: {
        'policy.json': JSON.stringify({
          Version: '2012-10-17',
          Statement: Array.from({ length: 80 }, (_, i) => ({ ...okStatement, Sid: `S${i}${long(40, 'x')}` })),
        }),
      },
      field: '--policy-file',
      message: /6,?144/,
    },
    {
      name: 'policy file that does not exist',
      flags: { policyFile: 'missing.json' },
      field: '--policy-file',
    },
    {
      name: 'policy file that is a folder',
      flags: { policyFile: 'policies' },
      setup: (cwd) => mkdirSync(join(cwd, 'policies')),
      field: '--policy-file',
    },
    {
      name: 'policy file with no statement',
      flags: { policyFile: 'policy.json' },
      files: { 'policy.json': '{"Version":"2012-10-17","Statement":[]}' },
      field: /--policy-file/,
    },
    {
      name: 'policy file that is a JSON array',
      flags: { policyFile: 'policy.json' },
      files: { 'policy.json': '[]' },
      field: /--policy-file/,
    },
    {
      name: 'policy file statement without Action',
      flags: { policyFile: 'policy.json' },
      files: { 'policy.json': policy({ Effect: 'Allow', Resource: '*' }) },
      field: /--policy-file/,
    },
    {
      name: 'policy file with an unknown Version',
      flags: { policyFile: 'policy.json' },
      files: { 'policy.json': JSON.stringify({ Version: '2020-01-01', Statement: [okStatement] }) },
      field: /--policy-file/,
    },
    {
      name: 'policy file and template together',
      flags: { policyFile: 'policy.json', template: 'read-only' },
      files: { 'policy.json': policy(okStatement) },
      field: '--policy-file',
    },
    // ----- templates -----
    { name: 'unknown template', flags: { template: 's3-admin' }, field: '--template' },
    {
      name: 'unknown template parameter',
      flags: { template: 's3-deploy', templateParam: ['bucket=my-site', 'colour=red'] },
      field: '--template-param',
    },
    {
      name: 'missing required template parameter',
      flags: { template: 's3-deploy' },
      field: '--template-param',
    },
    {
      name: 'template parameter without "="',
      flags: { template: 's3-deploy', templateParam: ['bucket'] },
      field: '--template-param',
    },
    {
      name: 'template parameter without a template',
      flags: { templateParam: ['bucket=my-site'] },
      field: '--template-param',
    },
    {
      name: 'template parameter given twice',
      flags: { template: 's3-deploy', templateParam: ['bucket=site-a', 'bucket=site-b'] },
      field: '--template-param',
    },
    {
      name: 'empty required template parameter',
      flags: { template: 's3-deploy', templateParam: ['bucket='] },
      field: '--template-param',
    },
    {
      name: 'invalid ECR repository name',
      flags: { template: 'ecr-push', templateParam: ['repository=Bad Repo'] },
      field: '--template-param',
    },
    {
      name: 'invalid DynamoDB lock table name',
      flags: { template: 'terraform-state', templateParam: ['bucket=tf-state-1', 'lockTable=bad table!'] },
      field: '--template-param',
    },
    {
      name: 'invalid S3 bucket name',
      flags: { template: 's3-deploy', templateParam: ['bucket=My_Bucket'] },
      field: '--template-param',
    },
    // ----- GitLab URL (a path is fine: see the accepted inputs below) -----
    {
      name: 'GitLab URL with a port',
      flags: { gitlabUrl: 'https://gitlab.example.com:8443' },
      field: '--gitlab-url',
    },
    {
      name: 'GitLab URL with a query',
      flags: { gitlabUrl: 'https://gitlab.example.com/?x=1' },
      field: '--gitlab-url',
    },
    {
      name: 'GitLab URL over http',
      flags: { gitlabUrl: 'http://gitlab.example.com' },
      field: '--gitlab-url',
    },
    {
      name: 'GitLab URL with a fragment',
      flags: { gitlabUrl: 'https://gitlab.example.com/#top' },
      field: '--gitlab-url',
    },
    {
      name: 'GitLab URL that is not a URL',
      flags: { gitlabUrl: 'gitlab.example.com' },
      field: '--gitlab-url',
    },
    { name: 'GitLab URL without a host', flags: { gitlabUrl: 'https://' }, field: '--gitlab-url' },
    {
      name: 'GitLab URL with an empty query',
      flags: { gitlabUrl: 'https://gitlab.example.com/?' },
      field: '--gitlab-url',
    },
    {
      name: 'GitLab URL with a path and an explicit port',
      flags: { gitlabUrl: 'https://example.com:443/gitlab' },
      field: '--gitlab-url',
    },
    {
      name: 'GitLab URL with credentials',
      flags: { gitlabUrl: 'https://user:pw@gitlab.example.com' },
      field: '--gitlab-url',
    },
    // ----- project -----
    { name: 'empty project path', flags: { project: '' }, field: '--project' },
    { name: 'project path of spaces', flags: { project: '   ' }, field: '--project' },
    { name: 'project without a group', flags: { project: 'app' }, field: '--project' },
    { name: 'wildcard project', flags: { project: 'grp/*' }, field: '--project' },
    { name: 'wildcard in the group', flags: { project: 'grp*/app' }, field: '--project' },
    {
      name: 'project path with a colon (the sub separator)',
      flags: { project: 'grp/app:ref_type' },
      field: '--project',
    },
    { name: 'project given as a URL', flags: { project: 'https://gitlab.com/grp/app' }, field: '--project' },
    { name: 'project path with an empty segment', flags: { project: 'grp//app' }, field: '--project' },
    {
      name: 'project URL pasted as --gitlab-url on gitlab.com',
      flags: { gitlabUrl: 'https://gitlab.com/acme/web', project: undefined },
      field: '--gitlab-url',
      message: /--gitlab-url https:\/\/gitlab\.com --project acme\/web/,
    },
    {
      name: 'group URL pasted as --gitlab-url on gitlab.com',
      flags: { gitlabUrl: 'https://gitlab.com/grp' },
      field: '--gitlab-url',
      message: /--gitlab-url https:\/\/gitlab\.com/,
    },
    {
      name: 'self-managed project URL as --gitlab-url, its path = --project',
      flags: { gitlabUrl: 'https://gitlab.example.com/grp/app' },
      field: '--gitlab-url',
      message: /--gitlab-url https:\/\/gitlab\.example\.com --project grp\/app/,
    },
    {
      name: 'project URL under a relative-URL GitLab as --gitlab-url',
      flags: { gitlabUrl: 'https://example.com/gitlab/grp/app' },
      field: '--gitlab-url',
      message: /--gitlab-url https:\/\/example\.com\/gitlab --project grp\/app/,
    },
    { name: 'project ID that is not a number', flags: { projectId: 'abc' }, field: '--project-id' },
    { name: 'project ID zero', flags: { projectId: '0' }, field: '--project-id' },
    { name: 'negative namespace ID', flags: { namespaceId: '-5' }, field: '--namespace-id' },
    { name: 'namespace given by path instead of ID', flags: { namespaceId: 'grp' }, field: '--namespace-id' },
    { name: 'project ID of 21 digits', flags: { projectId: '123456789012345678901' }, field: '--project-id' },
    // ----- refs -----
    { name: 'branch with a space', flags: { branch: ['my branch'] }, field: '--branch' },
    { name: 'branch with ".."', flags: { branch: ['feature/..x'] }, field: '--branch' },
    { name: 'branch given as a full ref', flags: { branch: ['refs/heads/main'] }, field: '--branch' },
    { name: 'branch with a colon', flags: { branch: ['main:evil'] }, field: '--branch' },
    { name: 'empty branch', flags: { branch: [''] }, field: '--branch' },
    { name: 'branch ending in .lock', flags: { branch: ['main.lock'] }, field: '--branch' },
    {
      name: '60 branches: trust policy over the 2,048-character quota (says by how much)',
      flags: { branch: Array.from({ length: 60 }, (_, i) => `feature-number-${i}`) },
      field: '--branch/--tag',
      message: /\d+ over the 2048-character quota/,
    },
    { name: 'tag with a space', flags: { branch: [], tag: ['v 1'] }, field: '--tag' },
    {
      name: '"*" branch without --allow-any-ref',
      flags: { branch: ['*'] },
      field: /--allow-any-ref|--branch/,
    },
    {
      name: '"*" tag without --allow-any-ref',
      flags: { branch: [], tag: ['*'] },
      field: /--allow-any-ref|--tag/,
    },
    {
      name: '--trust-policy-max below the IAM default',
      flags: { trustPolicyMax: '1000' },
      field: '--trust-policy-max',
    },
    { name: '--trust-policy-max over 8,192', flags: { trustPolicyMax: '9000' }, field: '--trust-policy-max' },
    { name: '--trust-policy-max "4k"', flags: { trustPolicyMax: '4k' }, field: '--trust-policy-max' },
    {
      name: '200 branches: over a raised --trust-policy-max 4096 (says which quota)',
      flags: { branch: Array.from({ length: 200 }, (_, i) => `feature-number-${i}`), trustPolicyMax: '4096' },
      field: '--branch/--tag',
      message: /\d+ over the 4096-character quota/,
    },
    // ----- role settings -----
    { name: 'max session 100 s', flags: { maxSessionDuration: '100' }, field: '--max-session-duration' },
    { name: 'max session 99999 s', flags: { maxSessionDuration: '99999' }, field: '--max-session-duration' },
    { name: 'max session "abc"', flags: { maxSessionDuration: 'abc' }, field: '--max-session-duration' },
    { name: 'max session "1h"', flags: { maxSessionDuration: '1h' }, field: '--max-session-duration' },
    { name: 'max session empty', flags: { maxSessionDuration: '' }, field: '--max-session-duration' },
    { name: 'tag without "="', flags: { awsTag: ['team'] }, field: '--aws-tag' },
    { name: 'tag with the reserved aws: prefix', flags: { awsTag: ['aws:team=web'] }, field: '--aws-tag' },
    { name: 'tag key over 128 characters', flags: { awsTag: [`${long(129)}=x`] }, field: '--aws-tag' },
    { name: 'tag value over 256 characters', flags: { awsTag: [`team=${long(257)}`] }, field: '--aws-tag' },
    { name: 'tag given twice', flags: { awsTag: ['team=a', 'team=b'] }, field: '--aws-tag' },
    { name: 'tag value with ";"', flags: { awsTag: ['team=a;b'] }, field: '--aws-tag' },
    {
      name: '51 tags',
      flags: { awsTag: Array.from({ length: 51 }, (_, i) => `k${i}=v`) },
      field: '--aws-tag',
    },
    {
      name: 'tag overriding a tool tag',
      flags: { awsTag: ['managed-by=someone-else'] },
      field: '--aws-tag',
    },
    // ----- provider -----
    { name: 'thumbprint too short', flags: { thumbprint: ['abc123'] }, field: '--thumbprint [0]' },
    {
      name: 'thumbprint with colons',
      flags: { thumbprint: [Array(20).fill('ab').join(':')] },
      field: '--thumbprint [0]',
    },
    { name: 'six thumbprints', flags: { thumbprint: Array(6).fill(long(40, 'a')) }, field: '--thumbprint' },
    { name: 'audience with "*"', flags: { audience: 'https://gitlab.com/*' }, field: '--audience' },
    { name: 'empty audience', flags: { audience: '' }, field: '--audience' },
    { name: 'audience with a space', flags: { audience: 'my audience' }, field: '--audience' },
    { name: 'audience over 255 characters', flags: { audience: long(256) }, field: '--audience' },
    // ----- modes and AWS placeholders -----
    { name: '--offline without --dry-run', flags: { offline: true }, field: '--offline' },
    {
      name: 'account ID of 11 digits',
      flags: { dryRun: true, offline: true, accountId: '12345678901' },
      field: '--account-id',
    },
    {
      name: 'account ID without --offline',
      flags: { dryRun: true, accountId: '123456789012' },
      field: '--account-id',
    },
    {
      name: 'partition without --offline',
      flags: { dryRun: true, partition: 'aws-cn' },
      field: '--partition',
    },
    {
      name: 'unknown partition',
      flags: { dryRun: true, offline: true, partition: 'aws-mars' },
      field: '--partition',
    },
    {
      name: '--protect-refs with --offline',
      flags: { dryRun: true, offline: true, protectRefs: true },
      field: '--protect-refs',
    },
    { name: 'region that is not a region', flags: { region: 'nowhere' }, field: '--region' },
    { name: 'region in upper case', flags: { region: 'US-EAST-1' }, field: '--region' },
    { name: 'empty profile', flags: { profile: '' }, field: '--profile' },
    { name: 'applying without --yes and without a terminal', flags: { yes: false }, field: '--yes' },
    // ----- pipeline file -----
    {
      name: 'existing .gitlab-ci.yml that is not valid YAML (names the file and line)',
      flags: {},
      files: { '.gitlab-ci.yml': 'stages: [build]\nbuild:\n  script: [make\n  stage: build\n' },
      field: /\.gitlab-ci\.yml:\d+$/,
      message: /\.gitlab-ci\.yml is not valid YAML \(line \d+/,
    },
    {
      name: 'existing .gitlab-ci.yml that is a list, not a mapping of jobs',
      flags: {},
      files: { '.gitlab-ci.yml': '- build\n- test\n' },
      field: /\.gitlab-ci\.yml/,
    },
    {
      name: '.gitlab-ci.yml that is a symlink outside the repository',
      flags: {},
      setup(cwd, outside) {
        writeFileSync(join(outside, 'shared-ci.yml'), 'build:\n  script: [make]\n');
        symlinkSync(join(outside, 'shared-ci.yml'), join(cwd, '.gitlab-ci.yml'));
      },
      field: /\.gitlab-ci\.yml/,
      message: /outside the repository/,
    },
    {
      name: '--ci-file outside the repository',
      flags: { ciFile: '../elsewhere.yml' },
      field: /elsewhere\.yml/,
      message: /outside the repository/,
    },
    {
      name: '.gitlab-ci.yml that is a folder',
      flags: {},
      setup(cwd) {
        mkdirSync(join(cwd, '.gitlab-ci.yml'));
      },
      field: /\.gitlab-ci\.yml/,
    },
    {
      name: 'a job of the same name the tool did not write (no --force)',
      flags: {},
      files: { '.gitlab-ci.yml': 'aws-oidc-check:\n  script: [echo mine]\n' },
      field: /\.gitlab-ci\.yml:1$/,
      message: /aws-oidc-check/,
    },
    {
      name: '--ci-file in a folder that does not exist',
      flags: { ciFile: 'ci/missing/pipeline.yml' },
      field: '--ci-file',
      message: /does not exist/,
    },
    {
      name: '--verify-job with --no-ci-file',
      flags: { verifyJob: true, ciFile: false, verifyImage: PINNED_IMAGE },
      field: '--verify-job',
    },
    // ----- GitLab delivery (issue 8): --merge-request / --ci-variables need the API and a file -----
    {
      name: '--merge-request with --no-ci-file',
      flags: { mergeRequest: true, ciFile: false },
      field: '--merge-request',
      message: /drop --no-ci-file/,
    },
    {
      name: '--merge-request with --offline',
      flags: { mergeRequest: true, dryRun: true, offline: true },
      field: '--merge-request',
      message: /drop --offline/,
    },
    {
      name: '--ci-variables with --offline',
      flags: { ciVariables: true, dryRun: true, offline: true },
      field: '--ci-variables',
      message: /drop --offline/,
    },
    {
      name: '--merge-request with an absolute --ci-file (it names the file in the repository)',
      flags: { mergeRequest: true, ciFile: '/etc/pipeline.yml' },
      field: '--ci-file',
      message: /path inside the repository/,
    },
    {
      name: '--merge-request with a --ci-file outside the repository',
      flags: { mergeRequest: true, ciFile: 'ci/../../pipeline.yml' },
      field: '--ci-file',
    },
    // ----- the verify job runs with the role: what it runs is named and pinned (issue 7, defect 10) -----
    {
      name: '--verify-job without saying what it runs',
      flags: { verifyJob: true },
      field: '--verify-job',
      message: /--verify-image <image>@sha256:<digest>.*--verify-package/,
    },
    {
      name: '--verify-image pinned by tag only, without consent',
      flags: { verifyJob: true, verifyImage: 'registry.example.com/tools/gao:1.0' },
      field: '--verify-image',
      message: /pinned by tag only.*--allow-unpinned-verify/,
    },
    {
      name: '--verify-image without tag or digest',
      flags: { verifyJob: true, verifyImage: 'registry.example.com/tools/gao', allowUnpinnedVerify: true },
      field: '--verify-image',
      message: /no tag or digest/,
    },
    {
      name: '--verify-image that is not an image reference',
      flags: { verifyJob: true, verifyImage: 'gao:1.0 && curl evil' },
      field: '--verify-image',
    },
    {
      name: '--verify-package from the registry without consent',
      flags: { verifyJob: true, verifyPackage: 'gitlab-aws-oidc@0.1.0' },
      field: '--verify-package',
      message: /--allow-unpinned-verify/,
    },
    {
      name: '--verify-package with a range',
      flags: { verifyJob: true, verifyPackage: 'gitlab-aws-oidc@^0.1.0', allowUnpinnedVerify: true },
      field: '--verify-package',
      message: /exact version/,
    },
    {
      name: '--verify-package without a version',
      flags: { verifyJob: true, verifyPackage: 'gitlab-aws-oidc', allowUnpinnedVerify: true },
      field: '--verify-package',
    },
    {
      name: '--verify-image and --verify-package together',
      flags: { verifyJob: true, verifyImage: PINNED_IMAGE, verifyPackage: 'gitlab-aws-oidc@0.1.0' },
      field: '--verify-package',
      message: /not both/,
    },
    {
      name: '--verify-image without --verify-job',
      flags: { verifyImage: PINNED_IMAGE },
      field: '--verify-image',
      message: /only goes with --verify-job/,
    },
  ],
};

/** Inputs that look unusual but are legitimate: they must pass validation. */
const INIT_ACCEPTED: { name: string; flags: Partial<RawInitFlags> }[] = [
  { name: 'GitLab served under a relative URL path', flags: { gitlabUrl: 'https://example.com/gitlab' } },
  { name: 'subgroups and dots in the project path', flags: { project: 'grp/sub.team/my_app-2' } },
  {
    name: 'ref patterns with a protected-ref warning',
    flags: { branch: ['main', 'release/*'], tag: ['v*'] },
  },
  { name: '"*" with explicit consent', flags: { branch: ['*'], allowAnyRef: true } },
  { name: 'max session at both limits', flags: { maxSessionDuration: '43200' } },
  { name: 'role name of exactly 64 characters', flags: { roleName: long(64) } },
  {
    name: 'a self-managed GitLab under a path that is not the project',
    flags: { gitlabUrl: 'https://example.com/tools/gitlab', project: 'tools/app' },
  },
  {
    name: '60 branches with --trust-policy-max 4096 (quota raised in Service Quotas)',
    flags: { branch: Array.from({ length: 60 }, (_, i) => `feature-number-${i}`), trustPolicyMax: '4096' },
  },
  { name: '--trust-policy-max at the 8,192 ceiling', flags: { trustPolicyMax: '8192' } },
  {
    name: 'verify job from an image pinned by digest',
    flags: { verifyJob: true, verifyImage: PINNED_IMAGE },
  },
  {
    name: 'verify job from a tagged image on a registry port, with consent',
    flags: { verifyJob: true, verifyImage: 'localhost:5000/gao:1.0', allowUnpinnedVerify: true },
  },
  {
    name: 'verify job from an npm package at an exact version, with consent',
    flags: { verifyJob: true, verifyPackage: '@acme/gitlab-aws-oidc@1.2.3-rc.1', allowUnpinnedVerify: true },
  },
];

const sandbox = useSandbox();

it('has at least 40 bad inputs for init', () => {
  expect(INIT.cases.length).toBeGreaterThanOrEqual(40);
  expect(new Set(INIT.cases.map((c) => c.name)).size).toBe(INIT.cases.length);
});

describeBadInput(INIT, sandbox, {
  name: 'the base flags alone are valid (dry run, offline)',
  async check() {
    await expect(
      INIT.run({ ...INIT.base, dryRun: true, offline: true, yes: false }, sandbox.cwd, sandbox.aws, {}),
    ).resolves.toBeTruthy();
    expect(sandbox.aws.calls()).toEqual([]);
  },
});

describe('init: legitimate inputs that look unusual are accepted', () => {
  it.each(INIT_ACCEPTED)('$name', async (row) => {
    const result = await INIT.run(
      { ...INIT.base, ...row.flags, dryRun: true, offline: true, yes: false },
      sandbox.cwd,
      sandbox.aws,
      {},
    );
    expect(result).toMatchObject({ ok: true, status: 'planned' });
    expect(sandbox.aws.calls()).toEqual([]);
  });
});
