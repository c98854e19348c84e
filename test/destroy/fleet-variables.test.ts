/**
 * `destroy --group` and the CI/CD variables `init --ci-variables` set, per member: the tool's variables
 * of each destroyed role go after its IAM, a foreign variable is kept, a GitLab 403 fails that member
 * only (the others finish) with the command that finishes the job, and the re-run (IAM gone) deletes
 * only what is left.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultRoleName } from '../../src/core/naming.js';
import { desiredVariables } from '../../src/delivery/variables.js';
import { runDestroyCommand } from '../../src/destroy/command.js';
import { UsageError } from '../../src/errors.js';
import type { GitlabClient } from '../../src/gitlab/api/client.js';
import { createGitlabPort } from '../../src/gitlab/api/factory.js';
import { errorDocument } from '../../src/io/output.js';
import { jobNamesFor } from '../../src/render/ci-file.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { type FakeGitlab, startFakeGitlab } from '../helpers/fake-gitlab.js';
import { gitlabPorts, seedGitlab, seedIam } from '../helpers/fleet-fixture.js';

const MAINTAINER = 'glpat-fleet-maintainer';
let gitlab: FakeGitlab;
let selectionPorts: ReturnType<typeof gitlabPorts>;
let fake: FakeAws;
const clients: GitlabClient[] = [];

beforeAll(async () => {
  gitlab = await startFakeGitlab({ seed: seedGitlab });
  selectionPorts = gitlabPorts(gitlab);
});
afterAll(() => gitlab.close());
beforeEach(async () => {
  gitlab.reset();
  gitlab.addToken(MAINTAINER, { scopes: ['api'], access: { acme: 'maintainer' } });
  fake = createFakeAws();
  await seedIam(fake);
});
afterEach(async () => {
  fake.restore();
  await selectionPorts.closeAll();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

const maintainer = () => {
  const c = createGitlabPort({
    apiBase: gitlab.url,
    token: { token: MAINTAINER, source: 'GITLAB_TOKEN', kind: 'private-token' },
    ca: gitlab.caPem,
    env: {},
    maxRetries: 0,
  });
  clients.push(c);
  return c;
};

const roleArn = (project: string) => {
  const name = defaultRoleName(project);
  return [...fake.state.roles.values()].find((r) => r.name === name)!.arn;
};

/** The variables init --ci-variables sets for the project's role (the real helper writes their descriptions). */
function setToolVariables(project: string) {
  for (const v of desiredVariables({
    jobNames: jobNamesFor(),
    roleArn: roleArn(project),
    region: 'eu-west-1',
    refsProtected: false,
  })) {
    gitlab.addProjectVariable(project, v.key, { value: v.value, description: v.description ?? null });
  }
}
const keysOf = (project: string) => gitlab.project(project)!.variables.map((v) => v.key);

async function run(flags: Parameters<typeof runDestroyCommand>[0]) {
  const io = captureContext({ interactive: false });
  const error = await runDestroyCommand(flags, io.context, {
    gitlab: selectionPorts.gitlab,
    gitlabPort: () => maintainer(),
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  const json = () => (error === undefined ? JSON.parse(io.out()) : errorDocument(error, 'destroy'));
  return { io, error, json };
}

const FLAGS = { group: 'acme', exclude: ['acme/sandbox/**'], yes: true, json: true };

describe('destroy --group and the CI/CD variables of init --ci-variables', () => {
  it('deletes each member’s own variables after its IAM; a foreign one is kept; a re-run changes nothing', async () => {
    setToolVariables('acme/web');
    setToolVariables('acme/worker');
    gitlab.addProjectVariable('acme/api', 'AWS_OIDC_ROLE_ARN', { value: roleArn('acme/api') });

    const dry = await run({ ...FLAGS, dryRun: true });
    expect(dry.error).toBeUndefined();
    expect(dry.json().counts.variablesDeleted).toBe(4);
    const api = dry.json().members.find((m: { project: string }) => m.project === 'acme/api');
    expect(api.ciVariables.variables).toEqual([
      expect.objectContaining({
        key: 'AWS_OIDC_ROLE_ARN',
        action: 'keep',
        reason: 'not set by gitlab-aws-oidc',
      }),
    ]);
    const human = await run({ ...FLAGS, dryRun: true, json: false });
    expect(human.io.out()).toContain('4 CI/CD variables to delete after IAM');
    expect(human.io.out()).toContain(`- delete  CI/CD variable AWS_OIDC_ROLE_ARN = ${roleArn('acme/web')}`);
    expect(gitlab.mutatingCalls()).toEqual([]);

    const r = await run(FLAGS);
    expect(r.error).toBeUndefined();
    const web = r.json().members.find((m: { project: string }) => m.project === 'acme/web');
    expect(web.state).toBe('destroyed');
    expect(web.done.slice(-2)).toEqual([
      'delete CI/CD variable AWS_OIDC_REGION of GitLab project acme/web',
      'delete CI/CD variable AWS_OIDC_ROLE_ARN of GitLab project acme/web',
    ]);
    expect(keysOf('acme/web')).toEqual([]);
    expect(keysOf('acme/worker')).toEqual([]);
    expect(keysOf('acme/api')).toEqual(['AWS_OIDC_ROLE_ARN']);

    gitlab.clearCalls();
    const again = await run(FLAGS);
    expect(again.json().changed).toBe(false);
    expect(gitlab.mutatingCalls()).toEqual([]);
  });

  it('a GitLab 403 on one member’s delete fails that member only; the resume command finishes it once IAM is gone', async () => {
    setToolVariables('acme/web');
    setToolVariables('acme/worker');
    const encoded = encodeURIComponent('acme/worker');
    gitlab.fault({ method: 'DELETE', path: `/projects/${encoded}/variables/AWS_OIDC_REGION`, status: 403 });
    const r = await run(FLAGS);
    expect(r.error).toBeDefined();
    const doc = r.json();
    expect(doc.failures).toEqual([
      expect.objectContaining({
        project: 'acme/worker',
        error: expect.stringContaining('403'),
        notDone: [
          'delete CI/CD variable AWS_OIDC_REGION of GitLab project acme/worker',
          'delete CI/CD variable AWS_OIDC_ROLE_ARN of GitLab project acme/worker',
        ],
      }),
    ]);
    expect(doc.resume).toBe("gitlab-aws-oidc destroy --group acme --exclude 'acme/sandbox/**' --yes");
    expect(keysOf('acme/web')).toEqual([]);
    expect(keysOf('acme/worker')).toEqual(['AWS_OIDC_ROLE_ARN', 'AWS_OIDC_REGION']);
    expect([...fake.state.roles.values()].some((x) => x.name === defaultRoleName('acme/worker'))).toBe(false);

    const again = await run(FLAGS);
    expect(again.error).toBeUndefined();
    const worker = again.json().members.find((m: { project: string }) => m.project === 'acme/worker');
    expect(worker.ciVariables.variables.map((v: { action: string }) => v.action)).toEqual([
      'delete',
      'delete',
    ]);
    expect(worker.steps).toEqual([
      'delete CI/CD variable AWS_OIDC_REGION of GitLab project acme/worker',
      'delete CI/CD variable AWS_OIDC_ROLE_ARN of GitLab project acme/worker',
    ]);
    expect(keysOf('acme/worker')).toEqual([]);
  });

  it('--group --offline: exit 2 naming --offline before any GitLab or AWS call', async () => {
    gitlab.clearCalls();
    const before = fake.calls().length;
    const r = await run({ ...FLAGS, offline: true });
    expect(r.error).toBeInstanceOf(UsageError);
    expect((r.error as UsageError).issues[0]?.field).toBe('--offline');
    expect(gitlab.calls).toEqual([]);
    expect(fake.calls().length).toBe(before);
  });
});
