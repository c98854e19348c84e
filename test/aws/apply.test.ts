import { afterEach, describe, expect, it } from 'vitest';
import { type ApplyEvent, applyPlan, groupStepsByPhase } from '../../src/aws/apply.js';
import { describeStep } from '../../src/aws/describe-step.js';
import { AbortError, AwsError, PartialApplyError } from '../../src/errors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import {
  buildFreshPlan,
  buildPlanFromSteps,
  buildTrust,
  GITLAB,
  INSTANT_RETRY,
  PATH,
  PERMISSIONS,
  POLICY,
  ROLE,
} from './apply-fixtures.js';

let fake: FakeAws;
afterEach(() => fake.restore());

describe('applyPlan on a fresh account', () => {
  it('creates provider and policy concurrently, then the role, then the attachments', async () => {
    fake = createFakeAws();
    const plan = buildFreshPlan(fake);
    const events: ApplyEvent[] = [];

    const result = await applyPlan(plan, fake.ports.iam, {
      onEvent: (e) => events.push(e),
      retry: INSTANT_RETRY,
    });

    expect(fake.mutatingCalls()).toEqual([
      'CreateOpenIDConnectProvider',
      'CreatePolicy',
      'CreateRole',
      'AttachRolePolicy',
      'AttachRolePolicy',
    ]);
    expect(events.map((e) => `${e.type} ${e.description}`)).toEqual([
      `start create OIDC provider ${GITLAB}`,
      `start create policy ${PATH}${POLICY}`,
      `done create OIDC provider ${GITLAB}`,
      `done create policy ${PATH}${POLICY}`,
      `start create role ${PATH}${ROLE}`,
      `done create role ${PATH}${ROLE}`,
      `start attach ${fake.policyArn(POLICY, PATH)} to role ${ROLE}`,
      'start attach arn:aws:iam::aws:policy/ReadOnlyAccess to role gitlab-acme-app',
      `done attach ${fake.policyArn(POLICY, PATH)} to role ${ROLE}`,
      'done attach arn:aws:iam::aws:policy/ReadOnlyAccess to role gitlab-acme-app',
    ]);
    expect(result).toEqual({
      done: plan.steps.map(describeStep),
      providerArn: fake.providerArn(GITLAB),
      roleArn: fake.roleArn(ROLE, PATH),
      policyArn: fake.policyArn(POLICY, PATH),
    });
    expect(fake.state.roles.get(ROLE)?.attachedPolicyArns).toHaveLength(2);
  });

  it('waits for a just-created provider to propagate before CreateRole succeeds', async () => {
    fake = createFakeAws({ propagationDelayCalls: 4 });
    const slept: number[] = [];

    await applyPlan(buildFreshPlan(fake), fake.ports.iam, {
      retry: { ...INSTANT_RETRY, sleep: async (ms) => void slept.push(ms) },
    });

    const creates = fake.mutatingCalls().filter((c) => c === 'CreateRole');
    expect(creates.length).toBeGreaterThan(1);
    expect(slept).toHaveLength(creates.length - 1);
    expect(fake.state.roles.has(ROLE)).toBe(true);
  });

  it('gives up on a provider that never propagates, within the retry budget', async () => {
    fake = createFakeAws({ propagationDelayCalls: 1_000 });
    const error = await applyPlan(buildFreshPlan(fake), fake.ports.iam, {
      retry: { ...INSTANT_RETRY, maxElapsedMs: 10_000 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartialApplyError);
    expect((error as PartialApplyError).cause).toMatchObject({ awsCode: 'MalformedPolicyDocument' });
    expect((error as PartialApplyError).notDone[0]).toBe(`create role ${PATH}${ROLE}`);
  });

  it('retries NoSuchEntity when attaching a policy this run created', async () => {
    fake = createFakeAws();
    fake.failNext('AttachRolePolicy', 'NoSuchEntity', 'Policy does not exist or is not attachable.');
    await applyPlan(buildFreshPlan(fake), fake.ports.iam, { retry: INSTANT_RETRY });
    expect(fake.state.roles.get(ROLE)?.attachedPolicyArns).toHaveLength(2);
  });
});

describe('applyPlan on existing resources', () => {
  it('does nothing for an empty plan', async () => {
    fake = createFakeAws();
    const result = await applyPlan(buildPlanFromSteps([], buildTrust('x')), fake.ports.iam);
    expect(result.done).toEqual([]);
    expect(fake.calls()).toEqual([]);
  });

  it('adds only the audience to a provider that has other audiences', async () => {
    fake = createFakeAws();
    const providerArn = fake.addProvider({ url: GITLAB, clientIds: ['sts.amazonaws.com'] });
    const plan = buildPlanFromSteps(
      [{ kind: 'addClientId', providerArn, clientId: GITLAB }],
      buildTrust(providerArn),
    );

    await applyPlan(plan, fake.ports.iam);

    expect(fake.mutatingCalls()).toEqual(['AddClientIDToOpenIDConnectProvider']);
    expect(fake.state.providers.get(providerArn)?.clientIds).toEqual(['sts.amazonaws.com', GITLAB]);
  });

  it('runs role updates concurrently, detaches before attaching, and retries ConcurrentModification', async () => {
    fake = createFakeAws();
    const providerArn = fake.addProvider({ url: GITLAB, clientIds: [GITLAB] });
    const old = Array.from({ length: 10 }, (_, i) =>
      fake.addPolicy({ name: `old-${i}`, document: PERMISSIONS }),
    );
    const boundary = fake.addPolicy({ name: 'boundary', document: PERMISSIONS });
    const fresh = fake.addPolicy({ name: 'fresh', document: PERMISSIONS });
    fake.addRole({
      name: ROLE,
      trustPolicy: buildTrust(providerArn),
      attachedPolicyArns: old,
      tags: { gone: 'x' },
    });
    const trust = { ...buildTrust(providerArn), Id: 'v2' };
    const plan = buildPlanFromSteps(
      [
        { kind: 'attachPolicy', roleName: ROLE, policyArn: fresh },
        { kind: 'tagRole', roleName: ROLE, tags: { 'managed-by': 'gitlab-aws-oidc' } },
        { kind: 'updateTrustPolicy', roleName: ROLE, trustPolicy: trust },
        { kind: 'updateRole', roleName: ROLE, maxSessionDuration: 7200, description: 'new' },
        { kind: 'putPermissionsBoundary', roleName: ROLE, boundaryArn: boundary },
        { kind: 'detachPolicy', roleName: ROLE, policyArn: old[0] as string },
        { kind: 'untagRole', roleName: ROLE, tagKeys: ['gone'] },
      ],
      trust,
    );
    fake.failNext('UpdateRole', 'ConcurrentModification');
    const events: ApplyEvent[] = [];

    await applyPlan(plan, fake.ports.iam, { retry: INSTANT_RETRY, onEvent: (e) => events.push(e) });

    expect(fake.mutatingCalls()).toEqual([
      'UpdateAssumeRolePolicy',
      'UpdateRole',
      'PutRolePermissionsBoundary',
      'UpdateRole',
      'DetachRolePolicy',
      'UntagRole',
      'AttachRolePolicy',
      'TagRole',
    ]);
    // The three role updates were all in flight before the first finished.
    expect(events.slice(0, 3).map((e) => e.type)).toEqual(['start', 'start', 'start']);
    const role = await fake.ports.iam.getRole(ROLE);
    expect(role).toMatchObject({
      trustPolicy: trust,
      maxSessionDuration: 7200,
      description: 'new',
      permissionsBoundaryArn: boundary,
      tags: { 'managed-by': 'gitlab-aws-oidc' },
    });
    expect(role?.attachedPolicyArns).toHaveLength(10);
    expect(role?.attachedPolicyArns).toContain(fresh);
  });

  it('does not retry NoSuchEntity on an entity it did not create', async () => {
    fake = createFakeAws();
    const plan = buildPlanFromSteps(
      [{ kind: 'attachPolicy', roleName: 'missing', policyArn: fake.policyArn('missing') }],
      buildTrust('x'),
    );
    const error = await applyPlan(plan, fake.ports.iam, { retry: INSTANT_RETRY }).catch((e: unknown) => e);
    expect((error as PartialApplyError).cause).toMatchObject({ awsCode: 'NoSuchEntity' });
    expect(fake.mutatingCalls()).toEqual(['AttachRolePolicy']);
  });

  it('deletes the version to prune before adding a sixth', async () => {
    fake = createFakeAws();
    const arn = fake.addPolicy({
      name: POLICY,
      document: PERMISSIONS,
      olderVersions: [PERMISSIONS, PERMISSIONS, PERMISSIONS, PERMISSIONS],
    });
    const next = { ...PERMISSIONS, Id: 'next' };
    const plan = buildPlanFromSteps(
      [{ kind: 'createPolicyVersion', policyArn: arn, document: next, pruneVersionId: 'v1' }],
      buildTrust('x'),
    );

    const { done } = await applyPlan(plan, fake.ports.iam);

    expect(done).toEqual([`update policy ${arn} (new default version; delete old version v1 first)`]);
    expect(fake.mutatingCalls()).toEqual(['DeletePolicyVersion', 'CreatePolicyVersion']);
    const policy = await fake.ports.iam.getPolicy(arn);
    expect(policy?.document).toEqual(next);
    expect(policy?.versions.map((v) => v.versionId)).toEqual(['v6', 'v5', 'v4', 'v3', 'v2']);
  });

  it('without the prune step, the sixth version hits IAM’s limit', async () => {
    fake = createFakeAws();
    const arn = fake.addPolicy({
      name: POLICY,
      document: PERMISSIONS,
      olderVersions: [PERMISSIONS, PERMISSIONS, PERMISSIONS, PERMISSIONS],
    });
    const plan = buildPlanFromSteps(
      [{ kind: 'createPolicyVersion', policyArn: arn, document: PERMISSIONS }],
      buildTrust('x'),
    );
    const error = await applyPlan(plan, fake.ports.iam).catch((e: unknown) => e);
    expect((error as PartialApplyError).cause).toMatchObject({ awsCode: 'LimitExceeded' });
  });
});

describe('applyPlan failures', () => {
  it('lets in-flight steps of the phase settle, then reports done and not done', async () => {
    fake = createFakeAws();
    const plan = buildFreshPlan(fake);
    fake.failNext(
      'CreateOpenIDConnectProvider',
      'AccessDenied',
      'not authorized to perform iam:CreateOpenIDConnectProvider',
    );

    const error = await applyPlan(plan, fake.ports.iam).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PartialApplyError);
    const partial = error as PartialApplyError;
    expect(partial.cause).toBeInstanceOf(AwsError);
    expect(partial.message).toContain('AccessDenied');
    expect(partial.done).toEqual([`create policy ${PATH}${POLICY}`]);
    expect(partial.notDone).toEqual([
      `create OIDC provider ${GITLAB}`,
      `create role ${PATH}${ROLE}`,
      `attach ${fake.policyArn(POLICY, PATH)} to role ${ROLE}`,
      'attach arn:aws:iam::aws:policy/ReadOnlyAccess to role gitlab-acme-app',
    ]);
    expect(partial.details()).toContain(`done: create policy ${PATH}${POLICY}`);
    expect(fake.mutatingCalls()).toEqual(['CreateOpenIDConnectProvider', 'CreatePolicy']);
  });

  it('reports a failed step with a failed event', async () => {
    fake = createFakeAws();
    fake.failNext('CreatePolicy', 'Throttling');
    const events: ApplyEvent[] = [];
    await applyPlan(buildFreshPlan(fake), fake.ports.iam, { onEvent: (e) => events.push(e) }).catch(
      () => undefined,
    );
    const failed = events.find((e) => e.type === 'failed');
    expect(failed?.description).toBe(`create policy ${PATH}${POLICY}`);
    expect(failed?.error).toMatchObject({ awsCode: 'Throttling' });
  });

  it('on abort starts nothing new, lets in-flight steps finish and says what is left', async () => {
    fake = createFakeAws();
    const controller = new AbortController();
    const plan = buildFreshPlan(fake);

    const error = await applyPlan(plan, fake.ports.iam, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'start') controller.abort();
      },
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AbortError);
    const message = (error as AbortError).message;
    expect(message).toMatch(/^Aborted after 1 of 5 changes; re-run the same command to finish\./);
    expect(message).toContain(`done: create OIDC provider ${GITLAB}`);
    expect(message).toContain(`not done: create policy ${PATH}${POLICY}`);
    expect(message).toContain(`not done: create role ${PATH}${ROLE}`);
    expect(fake.mutatingCalls()).toEqual(['CreateOpenIDConnectProvider']);
  });

  it('refuses to start when already aborted', async () => {
    fake = createFakeAws();
    const error = await applyPlan(buildFreshPlan(fake), fake.ports.iam, {
      signal: AbortSignal.abort(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(fake.calls()).toEqual([]);
  });
});

describe('groupStepsByPhase', () => {
  it('orders steps by dependency whatever the plan order', () => {
    const trust = buildTrust('arn:aws:iam::1:oidc-provider/gitlab.com');
    const phases = groupStepsByPhase([
      { kind: 'attachPolicy', roleName: 'r', policyArn: 'p' },
      { kind: 'detachPolicy', roleName: 'r', policyArn: 'q' },
      { kind: 'updateTrustPolicy', roleName: 'r', trustPolicy: trust },
      { kind: 'addClientId', providerArn: 'a', clientId: 'c' },
    ]);
    expect(phases.map((p) => p.map((s) => s.kind))).toEqual([
      ['addClientId'],
      ['updateTrustPolicy'],
      ['detachPolicy'],
      ['attachPolicy'],
    ]);
  });
});
