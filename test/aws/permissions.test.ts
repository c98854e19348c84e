import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/aws/apply.js';
import { checkManagedPolicies } from '../../src/aws/check-policies.js';
import { createIamPort } from '../../src/aws/iam.js';
import {
  COMMAND_PORT_METHODS,
  IAM_PORT_ACTIONS,
  listRequiredActions,
  REQUIRED_PERMISSIONS,
  STEP_PORT_METHODS,
  STS_PORT_ACTIONS,
} from '../../src/aws/permissions.js';
import type { IamPort } from '../../src/aws/ports.js';
import { readCurrentState, readProviderUsers } from '../../src/aws/read-state.js';
import { createStsPort } from '../../src/aws/sts.js';
import type { PlanStep } from '../../src/core/types.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { buildPlanFromSteps, buildTrust, INSTANT_RETRY, PERMISSIONS } from './apply-fixtures.js';

let fake: FakeAws | undefined;
afterEach(() => {
  fake?.restore();
  fake = undefined;
});

// Clients built directly below: keep the SDK's Node-version notice out of the test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const MUTATING = /:(Create|Delete|Update|Put|Attach|Detach|Tag|Untag|Add)/;
const clientConfig = { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };

/** Wraps a port and records which methods are called. */
function recordMethods(port: IamPort): { port: IamPort; used: Set<keyof IamPort> } {
  const used = new Set<keyof IamPort>();
  const proxy = new Proxy(port, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        used.add(key as keyof IamPort);
        return value.apply(target, args);
      };
    },
  });
  return { port: proxy, used };
}

/** One step of every kind, each able to succeed against the seeded fake. */
function seedEveryStepKind(f: FakeAws): PlanStep[] {
  const provider = f.addProvider({ url: 'https://gitlab.com', clientIds: ['https://gitlab.com'] });
  const trust = buildTrust(provider);
  const policy = f.addPolicy({
    name: 'five',
    document: PERMISSIONS,
    olderVersions: [PERMISSIONS, PERMISSIONS, PERMISSIONS, PERMISSIONS],
  });
  const boundary = f.addPolicy({ name: 'boundary', document: PERMISSIONS });
  const attached = f.addPolicy({ name: 'attached', document: PERMISSIONS });
  f.addRole({ name: 'existing', trustPolicy: trust, attachedPolicyArns: [attached], tags: { old: '1' } });
  f.addRole({ name: 'bounded', trustPolicy: trust, permissionsBoundaryArn: boundary });
  const unused = f.addPolicy({ name: 'unused', document: PERMISSIONS, olderVersions: [PERMISSIONS] });
  const steps: PlanStep[] = [
    {
      kind: 'createProvider',
      url: 'https://gitlab.example.com',
      clientIds: ['x'],
      thumbprints: [],
      tags: {},
    },
    { kind: 'addClientId', providerArn: provider, clientId: 'sts.amazonaws.com' },
    { kind: 'updateThumbprints', providerArn: provider, thumbprints: ['b'.repeat(40)] },
    { kind: 'tagProvider', providerArn: provider, tags: { a: 'b' } },
    { kind: 'createPolicy', name: 'new', path: '/', document: PERMISSIONS, tags: {} },
    { kind: 'createPolicyVersion', policyArn: policy, document: PERMISSIONS, pruneVersionId: 'v1' },
    {
      kind: 'createRole',
      name: 'new',
      path: '/',
      description: '',
      trustPolicy: trust,
      maxSessionDuration: 3600,
      tags: {},
    },
    { kind: 'updateTrustPolicy', roleName: 'existing', trustPolicy: trust },
    { kind: 'updateRole', roleName: 'existing', maxSessionDuration: 7200, description: 'd' },
    { kind: 'putPermissionsBoundary', roleName: 'existing', boundaryArn: boundary },
    { kind: 'deletePermissionsBoundary', roleName: 'bounded' },
    { kind: 'attachPolicy', roleName: 'existing', policyArn: boundary },
    { kind: 'detachPolicy', roleName: 'existing', policyArn: attached },
    { kind: 'tagRole', roleName: 'existing', tags: { b: '2' } },
    { kind: 'untagRole', roleName: 'existing', tagKeys: ['old'] },
    { kind: 'tagPolicy', policyArn: policy, tags: { c: '3' } },
    { kind: 'deletePolicyVersion', policyArn: unused, versionId: 'v1' },
    { kind: 'deletePolicy', policyArn: unused },
  ];
  const kinds = new Set(steps.map((s) => s.kind));
  expect([...kinds].sort()).toEqual(Object.keys(STEP_PORT_METHODS).sort());
  return steps;
}

describe('permissions', () => {
  it('maps every IamPort and StsPort method of the implementation to actions', () => {
    const iam = createIamPort(new IAMClient(clientConfig));
    const sts = createStsPort(new STSClient(clientConfig));
    expect(Object.keys(IAM_PORT_ACTIONS).sort()).toEqual(Object.keys(iam).sort());
    expect(Object.keys(STS_PORT_ACTIONS).sort()).toEqual(Object.keys(sts).sort());
    for (const actions of [...Object.values(IAM_PORT_ACTIONS), ...Object.values(STS_PORT_ACTIONS)]) {
      for (const action of actions) expect(action).toMatch(/^(iam|sts):[A-Z][A-Za-z]+$/);
    }
  });

  it("init's list is exactly the union of what readCurrentState, the --managed-policy check and applyPlan call, plus GetCallerIdentity", async () => {
    fake = createFakeAws();
    const steps = seedEveryStepKind(fake);
    const { port, used } = recordMethods(fake.ports.iam);

    await checkManagedPolicies(port, ['arn:aws:iam::aws:policy/ReadOnlyAccess'], '123456789012').catch(
      () => undefined,
    );

    await readCurrentState(port, {
      providerArn: fake.providerArn('https://gitlab.com'),
      roleName: 'existing',
      policyArn: fake.policyArn('five'),
    });
    await readProviderUsers(port, fake.providerArn('https://gitlab.com'), 'existing');
    await applyPlan(buildPlanFromSteps(steps, buildTrust('x')), port, { retry: INSTANT_RETRY });

    expect([...used].sort()).toEqual([...COMMAND_PORT_METHODS.init.iam].sort());
    expect(REQUIRED_PERMISSIONS.init).toEqual(
      listRequiredActions({ iam: [...used], sts: ['getCallerIdentity'] }),
    );
  });

  it('each step kind calls exactly the methods listed for it', async () => {
    fake = createFakeAws();
    const steps = seedEveryStepKind(fake);
    for (const step of steps) {
      const { port, used } = recordMethods(fake.ports.iam);
      await applyPlan(buildPlanFromSteps([step], buildTrust('x')), port, { retry: INSTANT_RETRY });
      expect([...used].sort(), step.kind).toEqual([...STEP_PORT_METHODS[step.kind]].sort());
    }
  });

  it('keeps the read-only commands read-only', () => {
    for (const scope of ['initDryRun', 'verify', 'audit', 'status', 'export'] as const) {
      expect(
        REQUIRED_PERMISSIONS[scope].filter((a) => MUTATING.test(a)),
        scope,
      ).toEqual([]);
      expect(REQUIRED_PERMISSIONS[scope]).toContain('sts:GetCallerIdentity');
    }
    expect(REQUIRED_PERMISSIONS.initDryRun.every((a) => REQUIRED_PERMISSIONS.init.includes(a))).toBe(true);
  });

  it('lists sorted, unique, exact actions', () => {
    for (const actions of Object.values(REQUIRED_PERMISSIONS)) {
      expect(actions).toEqual([...new Set(actions)].sort());
    }
    expect(REQUIRED_PERMISSIONS.init).toEqual(
      expect.arrayContaining([
        'iam:CreateOpenIDConnectProvider',
        'iam:TagRole',
        'iam:CreatePolicyVersion',
        'iam:DeletePolicyVersion',
      ]),
    );
    expect(REQUIRED_PERMISSIONS.destroy).toEqual(
      expect.arrayContaining([
        'iam:DeleteRole',
        'iam:DetachRolePolicy',
        'iam:DeletePolicy',
        'iam:DeleteOpenIDConnectProvider',
      ]),
    );
  });
});
