/**
 * audit with a GitLab token: the "unprotected ref" findings (GAO012 literal refs on gitlab.com, GAO010
 * ref patterns) are confirmed or cleared from the project's protection rules; without a token they stay.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAuditFlags } from '../../src/audit/options.js';
import { runAudit } from '../../src/audit/run.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { createMemoryGitlab, type MemoryGitlab, MemoryGitlabError } from '../helpers/memory-gitlab.js';

const trust = (
  providerArn: string,
  condition: Record<string, Record<string, string | string[]>>,
): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: providerArn },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: condition,
    },
  ],
});

let aws: FakeAws;
beforeEach(() => {
  aws = createFakeAws();
});
afterEach(() => aws.restore());

function seed() {
  const gl = aws.addProvider({ url: 'https://gitlab.com', clientIds: ['https://gitlab.com'] });
  const sm = aws.addProvider({ url: 'https://git.corp.example', clientIds: ['https://git.corp.example'] });
  aws.addRole({
    name: 'web-main',
    trustPolicy: trust(gl, {
      StringEquals: {
        'gitlab.com:aud': 'https://gitlab.com',
        'gitlab.com:sub': [
          'project_path:acme/web:ref_type:branch:ref:main',
          'project_path:acme/web:ref_type:tag:ref:v1.0.0',
        ],
        'gitlab.com:project_id': '42',
      },
    }),
  });
  aws.addRole({
    name: 'corp-release',
    trustPolicy: trust(sm, {
      StringEquals: { 'git.corp.example:aud': 'https://git.corp.example' },
      StringLike: { 'git.corp.example:sub': 'project_id:7:ref_type:branch:ref:release/*' },
    }),
  });
}

const ids = (findings: { ruleId: string; target?: { id: string } | undefined }[], role: string) =>
  findings.filter((f) => f.target?.id === role).map((f) => f.ruleId);

const run = (gitlab: MemoryGitlab | undefined, gitlabUrl?: string) =>
  runAudit(parseAuditFlags(gitlabUrl ? { gitlabUrl } : {}), {
    aws: () => aws.ports,
    ...(gitlab
      ? { gitlab: (url: string) => (url === gitlab.port.baseUrl ? async () => gitlab.port : undefined) }
      : {}),
  });

describe('audit: protection findings against GitLab', () => {
  it('without a token: GAO012 stays as the linter guessed, and the report says why', async () => {
    seed();
    const report = await run(undefined);
    expect(ids(report.findings, 'web-main')).toContain('GAO012');
    expect(report.gitlab).toMatchObject({ url: 'https://gitlab.com', checked: false, cleared: [] });
    expect(report.gitlab?.notes[0]).toMatch(
      /GAO012 is the linter's guess: .*without a token for https:\/\/gitlab.com/,
    );
  });

  it('every ref protected in GitLab: GAO012 is cleared (and the role count follows)', async () => {
    seed();
    const gitlab = createMemoryGitlab([
      { id: 42, path: 'acme/web', namespaceId: 5, protectedBranches: ['main'], protectedTags: ['v*'] },
    ]);
    const report = await run(gitlab);
    expect(ids(report.findings, 'web-main')).not.toContain('GAO012');
    expect(report.gitlab?.cleared).toEqual([
      { role: 'web-main', ruleId: 'GAO012', refs: ['main', 'v1.0.0'], project: 'acme/web' },
    ]);
    expect(report.roles.find((r) => r.name === 'web-main')?.findings).toBe(
      ids(report.findings, 'web-main').length,
    );
    // One read per rule list of the project, nothing written.
    expect(gitlab.calls.map((c) => [c.method, c.args[0]])).toEqual([
      ['listProtectedBranches', 'acme/web'],
      ['listProtectedTags', 'acme/web'],
    ]);
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('a ref GitLab does not protect: "confirmed unprotected", naming only that ref', async () => {
    seed();
    const gitlab = createMemoryGitlab([
      { id: 42, path: 'acme/web', namespaceId: 5, protectedBranches: ['main'] },
    ]);
    const report = await run(gitlab);
    const f = report.findings.find((x) => x.ruleId === 'GAO012' && x.target?.id === 'web-main');
    expect(f?.value).toBe('tag v1.0.0');
    expect(f?.why).toMatch(
      /^confirmed unprotected: tag v1\.0\.0 \(the protection rules of acme\/web on https:\/\/gitlab.com, read now\)/,
    );
    expect(report.gitlab?.cleared).toEqual([]);
  });

  it('self-managed ref pattern (GAO010) of a project_id sub: read by ID; a covering rule clears it, a partial one confirms it', async () => {
    seed();
    const corp = 'https://git.corp.example';
    const covered = createMemoryGitlab(
      [{ id: 7, path: 'ops/deploy', namespaceId: 3, protectedBranches: ['release/*'] }],
      {
        baseUrl: corp,
      },
    );
    let report = await run(covered, corp);
    expect(ids(report.findings, 'corp-release')).not.toContain('GAO010');
    expect(report.gitlab?.cleared).toEqual([
      { role: 'corp-release', ruleId: 'GAO010', refs: ['release/*'], project: 'project 7' },
    ]);
    expect(covered.calls[0]?.args[0]).toBe(7);
    // gitlab.com's findings are left alone: the token is only for --gitlab-url.
    expect(ids(report.findings, 'web-main')).toContain('GAO012');

    const partly = createMemoryGitlab(
      [{ id: 7, path: 'ops/deploy', namespaceId: 3, protectedBranches: ['release/1'] }],
      {
        baseUrl: corp,
      },
    );
    report = await run(partly, corp);
    expect(report.findings.find((f) => f.ruleId === 'GAO010')?.why).toMatch(
      /^confirmed unprotected: branch release\/\*/,
    );
  });

  it('a project GitLab does not show keeps the finding, with a note', async () => {
    seed();
    const gitlab = createMemoryGitlab([]);
    gitlab.failOn('listProtectedBranches', new MemoryGitlabError(404, '404 Project Not Found'));
    const report = await run(gitlab);
    expect(ids(report.findings, 'web-main')).toContain('GAO012');
    expect(report.gitlab?.notes).toEqual([
      'GAO012 on role web-main was not checked: project acme/web was not found on https://gitlab.com, or the token cannot see it.',
    ]);
  });
});

describe('audit: a token that may not list protection rules (Reporter)', () => {
  it('literal branches are checked from the branch itself; a tag leaves the finding, with a note', async () => {
    const { startFakeGitlab } = await import('../helpers/fake-gitlab.js');
    const { createGitlabPort } = await import('../../src/gitlab/api/factory.js');
    const fakeGitlab = await startFakeGitlab();
    try {
      fakeGitlab.addProject('acme/web', { id: 42 });
      fakeGitlab.protectBranch('acme/web', 'main');
      fakeGitlab.addToken('glpat-reporter', { scopes: ['read_api'], access: { 'acme/web': 'reporter' } });
      const port = createGitlabPort({
        apiBase: fakeGitlab.url,
        token: { token: 'glpat-reporter', source: 'GITLAB_TOKEN', kind: 'private-token' },
        ca: fakeGitlab.caPem,
        env: {},
      });
      const gl = aws.addProvider({ url: 'https://gitlab.com', clientIds: ['https://gitlab.com'] });
      const role = (name: string, sub: string) =>
        aws.addRole({
          name,
          trustPolicy: trust(gl, {
            StringEquals: {
              'gitlab.com:aud': 'https://gitlab.com',
              'gitlab.com:sub': sub,
              'gitlab.com:project_id': '42',
            },
          }),
        });
      role('branch-main', 'project_path:acme/web:ref_type:branch:ref:main');
      role('tag-v1', 'project_path:acme/web:ref_type:tag:ref:v1');
      const report = await runAudit(parseAuditFlags({}), {
        aws: () => aws.ports,
        gitlab: () => async () => port,
      });
      expect(ids(report.findings, 'branch-main')).not.toContain('GAO012');
      expect(ids(report.findings, 'tag-v1')).toContain('GAO012');
      expect(report.gitlab?.notes.join('\n')).toMatch(/GAO012 on role tag-v1 was not checked: .*403/);
    } finally {
      await fakeGitlab.close();
    }
  });
});
