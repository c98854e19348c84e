/**
 * Issue 7, defect 6, with the built binary against the loopback IAM/STS: two roles for one project
 * (a prod/dev split with --role-name) get one set of jobs each; destroying one role removes its jobs and
 * leaves the other role's jobs byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { schemaAvailable, validateCi, warnIfSchemaMissing } from '../helpers/ci-schema.js';
import { useCliSandbox } from '../helpers/cli-sandbox.js';

warnIfSchemaMissing();

const ACCOUNT = '123412341234';
const sandbox = useCliSandbox('gao-two-roles-', { account: ACCOUNT });

const run = sandbox.run;
const ci = () => readFileSync(join(sandbox.cwd, '.gitlab-ci.yml'), 'utf8');
// biome-ignore lint/suspicious/noExplicitAny: ad-hoc reads of the CLI's JSON documents
const json = (stdout: string) => JSON.parse(stdout) as Record<string, any>;

describe('two roles for one project (built binary)', () => {
  it('init prod, init dev → two hidden jobs; destroy dev → prod stays byte-identical', async () => {
    const prod = await run(['init', '--project', 'acme/web', '--branch', 'main', '--yes', '--json']);
    expect(prod.code, prod.stderr).toBe(0);
    const prodOnly = ci();

    const dev = await run([
      'init',
      '--project',
      'acme/web',
      '--role-name',
      'gitlab-acme-web-dev',
      '--branch',
      'develop',
      '--yes',
      '--json',
    ]);
    expect(dev.code, dev.stderr).toBe(0);
    const doc = json(dev.stdout);
    expect(doc.ciFile.jobs).toEqual({
      hidden: '.aws-oidc-gitlab-acme-web-dev',
      check: 'aws-oidc-check-gitlab-acme-web-dev',
      verify: 'aws-oidc-verify-gitlab-acme-web-dev',
    });
    expect(doc.nextSteps.join('\n')).toContain('gitlab-aws-oidc destroy --role gitlab-acme-web');

    const both = ci();
    expect(both.startsWith(prodOnly)).toBe(true);
    const jobs = parse(both) as Record<string, { variables?: Record<string, string> }>;
    expect(Object.keys(jobs)).toEqual([
      '.aws-oidc',
      'aws-oidc-check',
      '.aws-oidc-gitlab-acme-web-dev',
      'aws-oidc-check-gitlab-acme-web-dev',
    ]);
    expect(jobs['.aws-oidc']?.variables?.AWS_ROLE_ARN).toBe(
      `arn:aws:iam::${ACCOUNT}:role/gitlab-oidc/gitlab-acme-web`,
    );
    expect(jobs['.aws-oidc-gitlab-acme-web-dev']?.variables?.AWS_ROLE_ARN).toBe(
      `arn:aws:iam::${ACCOUNT}:role/gitlab-oidc/gitlab-acme-web-dev`,
    );
    if (schemaAvailable) expect(validateCi(jobs)).toEqual([]);

    const destroy = await run(['destroy', '--role', 'gitlab-acme-web-dev', '--yes', '--json']);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(json(destroy.stdout).ciFile.jobs).toEqual([
      '.aws-oidc-gitlab-acme-web-dev',
      'aws-oidc-check-gitlab-acme-web-dev',
    ]);
    expect(ci()).toBe(prodOnly);
    expect([...sandbox.server.state.roles.keys()]).toEqual(['gitlab-acme-web']);
  });
});
