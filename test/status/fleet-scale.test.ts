/**
 * `status --group` of a 100-project group in an account that also holds another group's 100 tool roles
 * and 40 foreign ones, counting IAM calls on the stateful fake (pages of 1,000, the MaxItems the bulk
 * reads ask for). The
 * account is read once in bulk (a fixed handful of calls whatever N is); the only per-project calls are
 * one GetPolicy for the tags of each selected project's tool policy (no bulk read returns policy tags),
 * none for the projects outside the selection. No GetRole, no per-role list.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY_PATH,
  DEFAULT_ROLE_PATH,
  defaultPolicyName,
  defaultRoleName,
} from '../../src/core/naming.js';
import type { PolicyDocument } from '../../src/core/types.js';
import { runStatusCommand } from '../../src/status/command.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { callsByAction, gitlabPorts } from '../helpers/fleet-fixture.js';

const N = 100;
const TOOL_TAGS = { 'managed-by': 'gitlab-aws-oidc', 'gitlab-aws-oidc:gitlab-url': 'https://gitlab.com' };
const trust = (provider: string, project: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: provider },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          'gitlab.com:aud': 'https://gitlab.com',
          'gitlab.com:sub': `project_path:${project}:ref_type:branch:ref:main`,
        },
      },
    },
  ],
});

let gitlab: FakeGitlab;
let ports: ReturnType<typeof gitlabPorts>;
let fake: FakeAws;
beforeAll(async () => {
  gitlab = await startFakeGitlab({
    seed: (g) => {
      g.addGroup('big');
      g.addGroup('else');
      for (let i = 0; i < N; i++) g.addProject(`big/p${i}`);
      g.addToken('glpat-reader', { scopes: ['read_api'], access: { big: 'reporter' } });
    },
  });
  ports = gitlabPorts(gitlab);
});
afterAll(() => gitlab.close());
beforeEach(() => {
  fake = createFakeAws();
  const gl = fake.addProvider({
    url: 'https://gitlab.com',
    clientIds: ['https://gitlab.com'],
    tags: TOOL_TAGS,
  });
  const onboard = (project: string) => {
    const tags = { ...TOOL_TAGS, 'gitlab-aws-oidc:project': project };
    const policy = fake.addPolicy({
      name: defaultPolicyName(project),
      path: DEFAULT_POLICY_PATH,
      document: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::site/*' }],
      },
      tags,
    });
    fake.addRole({
      name: defaultRoleName(project),
      path: DEFAULT_ROLE_PATH,
      trustPolicy: trust(gl, project),
      tags,
      attachedPolicyArns: [policy],
    });
  };
  // 90 of the group's projects onboarded; 10 not yet. Another group's 100 are onboarded too.
  for (let i = 0; i < N; i++) if (i % 10 !== 9) onboard(`big/p${i}`);
  for (let i = 0; i < N; i++) onboard(`else/q${i}`);
  for (let i = 0; i < 40; i++)
    fake.addRole({ name: `foreign-${i}`, path: '/', trustPolicy: trust(gl, `other/x${i}`) });
  gitlab.clearCalls();
});
afterEach(async () => {
  fake.restore();
  await ports.closeAll();
});

describe(`status --group of ${N} projects`, () => {
  it('reads the account once; per project only the GetPolicy of its tool policy', async () => {
    const io = captureContext();
    await runStatusCommand({ group: 'big', json: true }, io.context, { gitlab: ports.gitlab });
    const doc = JSON.parse(io.out());
    expect(doc.counts).toMatchObject({ projects: N, noRecord: 90, notSetUp: 10, missing: 0 });
    expect(doc.roles).toHaveLength(90);

    const calls = callsByAction(fake);
    expect(calls).toEqual({
      GetCallerIdentity: 1,
      ListOpenIDConnectProviders: 1,
      GetOpenIDConnectProvider: 1,
      // 240 roles, 1,000 a page (MaxItems).
      ListRoles: 1,
      // 240 roles + 190 customer policies, 1,000 entities a page (MaxItems).
      GetAccountAuthorizationDetails: 1,
      // The tags of the 90 selected projects' tool policies: not the other group's 100, not the 10
      // projects without one (the bulk read shows it does not exist).
      GetPolicy: 90,
    });
    const { GetPolicy, ...fixed } = calls;
    expect(Object.values(fixed).reduce((a, b) => a + b, 0)).toBe(5);
    expect(fake.mutatingCalls()).toEqual([]);
    // GitLab: one page of the group's projects (100 a page, subgroups included), nothing written.
    expect(gitlab.calls.map((c) => c.route)).toEqual(['GET /groups/:id/projects']);
  });
});
