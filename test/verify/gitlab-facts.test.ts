/**
 * verify --project with a GitLab token: the simulated job carries what GitLab would put in its token
 * (project_id, namespace_id, ref_protected, the project's sub components), read through the real
 * client from the loopback fake GitLab; the role and provider come from the fake IAM.
 */
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitlabPort } from '../../src/gitlab/api/factory.js';
import type { GitlabPort } from '../../src/gitlab/api/ports.js';
import type { CommandContext } from '../../src/io/context.js';
import { runVerifyCommand } from '../../src/verify/command.js';
import { VerifyFailedError } from '../../src/verify/errors.js';
import type { RawVerifyFlags } from '../../src/verify/options.js';
import type { VerifyResult } from '../../src/verify/result.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';

const URL = 'https://gitlab.example.com';
const TOKEN = 'glpat-verify-reporter';
let gitlab: FakeGitlab;
let port: GitlabPort;
let aws: FakeAws;
let roleArn: string;

beforeAll(async () => {
  gitlab = await startFakeGitlab({
    seed: (g) => {
      g.addProject('ops/deploy', { id: 314, branches: ['dev'] });
      g.protectBranch('ops/deploy', 'main');
      g.protectTag('ops/deploy', 'v*');
      g.addToken(TOKEN, { scopes: ['read_api'], access: { 'ops/deploy': 'reporter' } });
    },
  });
  port = createGitlabPort({
    apiBase: gitlab.url,
    token: { token: TOKEN, source: 'GITLAB_TOKEN', kind: 'private-token' },
    ca: gitlab.caPem,
    env: {},
  });
});
afterAll(async () => {
  await gitlab.close();
});
beforeEach(() => {
  gitlab.reset();
  aws = createFakeAws();
  const providerArn = aws.addProvider({ url: URL, clientIds: [URL] });
  roleArn = aws.addRole({
    name: 'deploy',
    trustPolicy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: providerArn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { 'gitlab.example.com:aud': URL },
            StringLike: {
              'gitlab.example.com:sub': [
                'project_id:314:ref_type:branch:ref:main',
                'project_id:314:ref_type:tag:ref:v*',
              ],
            },
          },
        },
      ],
    }),
  });
});
afterEach(() => aws.restore());

const sink = () => {
  let text = '';
  return {
    stream: new Writable({
      write(chunk, _e, cb) {
        text += String(chunk);
        cb();
      },
    }),
    text: () => text,
  };
};

async function verify(
  flags: RawVerifyFlags,
  withGitlab = true,
): Promise<{ result: VerifyResult; stdout: string }> {
  const out = sink();
  const context: CommandContext = {
    stdout: out.stream,
    stderr: sink().stream,
    env: {},
    cwd: process.cwd(),
    interactive: false,
    signal: new AbortController().signal,
  };
  const result = await runVerifyCommand({ roleArn, gitlabUrl: URL, ...flags }, context, {
    ports: aws.ports,
    gitlab: withGitlab ? () => async () => port : () => undefined,
  }).catch((error: unknown) => {
    if (error instanceof VerifyFailedError) return error.result;
    throw error;
  });
  return { result, stdout: out.text() };
}

describe('verify --project with GitLab', () => {
  it("fills project_id, namespace_id, ref_protected and the project's sub components", async () => {
    gitlab.project('ops/deploy')!.subClaimComponents = ['project_id', 'ref_type', 'ref'];
    const { result, stdout } = await verify({ project: 'ops/deploy', branch: 'main' });
    expect(result.ok).toBe(true);
    expect(result.claims).toMatchObject({
      sub: 'project_id:314:ref_type:branch:ref:main',
      project_id: '314',
      ref_protected: 'true',
    });
    expect(result.claims.namespace_id).toMatch(/^\d+$/);
    expect(result.gitlab).toEqual({
      url: URL,
      filled: ['project_id', 'namespace_id', 'ref_protected', 'sub components'],
      notes: [],
    });
    expect(stdout).toContain(
      `GitLab        filled project_id, namespace_id, ref_protected, sub components from ${URL}`,
    );
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('a tag: ref_protected from the protected tag rules (v* covers v1.2), when the token may list them', async () => {
    gitlab.project('ops/deploy')!.subClaimComponents = ['project_id', 'ref_type', 'ref'];
    // A Reporter token cannot list protection rules: the rest is filled, ref_protected is not.
    let { result } = await verify({ project: 'ops/deploy', tag: 'v1.2' });
    expect(result.claims).toMatchObject({
      sub: 'project_id:314:ref_type:tag:ref:v1.2',
      ref_protected: 'false',
    });
    expect(result.gitlab?.filled).not.toContain('ref_protected');
    expect(result.gitlab?.notes.join('\n')).toMatch(
      /protected tag rules of ops\/deploy are not visible to this token/,
    );
    gitlab.state.protectedRefsReadAccess = 20;
    ({ result } = await verify({ project: 'ops/deploy', tag: 'v1.2' }));
    expect(result.claims).toMatchObject({
      sub: 'project_id:314:ref_type:tag:ref:v1.2',
      ref_protected: 'true',
    });
    expect(result.ok).toBe(true);
  });

  it('the project still sends the path form: the simulated sub says so and the role refuses it', async () => {
    const { result } = await verify({ project: 'ops/deploy', branch: 'dev' });
    expect(result.claims).toMatchObject({
      sub: 'project_path:ops/deploy:ref_type:branch:ref:dev',
      ref_protected: 'false',
    });
    expect(result.ok).toBe(false);
  });

  it('a flag that disagrees with GitLab is kept and named', async () => {
    const { result } = await verify({ project: 'ops/deploy', branch: 'main', projectId: '999' });
    expect(result.claims.project_id).toBe('999');
    expect(result.gitlab?.notes).toContain('--project-id 999 is kept, but GitLab says project_id is 314.');
  });

  it('without a token nothing is looked up (as before)', async () => {
    const { result } = await verify({ project: 'ops/deploy', branch: 'main' }, false);
    expect(result.gitlab).toBeUndefined();
    expect(result.claims.project_id).toBeUndefined();
    expect(gitlab.calls).toEqual([]);
  });

  it('a project GitLab does not show: the flags alone, with a note', async () => {
    const { result } = await verify({ project: 'ops/missing', branch: 'main' });
    expect(result.gitlab?.filled).toEqual([]);
    expect(result.gitlab?.notes[0]).toMatch(/ops\/missing was not found on .*, or the token cannot see it/);
  });
});
