/**
 * Plan → apply → re-read → plan again, over the stateful fake, using core's real buildPlan:
 * whatever step a run fails at, re-running the same command converges.
 */
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { applyPlan } from '../../src/aws/apply.js';
import { describeStep } from '../../src/aws/describe-step.js';
import { readCurrentState } from '../../src/aws/read-state.js';
import { parseIssuerUrl } from '../../src/core/issuer.js';
import { RECORD_TAGS } from '../../src/core/ownership.js';
import { buildDesiredState, buildPlan } from '../../src/core/plan.js';
import type { CurrentState, Plan } from '../../src/core/types.js';
import { PartialApplyError } from '../../src/errors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { GITLAB, INSTANT_RETRY, PERMISSIONS, ROLE, seedReadOnly } from './apply-fixtures.js';

let fake: FakeAws | undefined;
afterEach(() => {
  fake?.restore();
  fake = undefined;
});

async function planNow(f: FakeAws): Promise<{ plan: Plan; current: CurrentState }> {
  const identity = await f.ports.sts.getCallerIdentity();
  const { desired, warnings, broadening } = buildDesiredState({
    identity,
    issuer: parseIssuerUrl(GITLAB),
    audience: GITLAB,
    projectPath: 'acme/app',
    projectId: '42',
    refs: [{ type: 'branch', pattern: 'main' }],
    roleName: 'gitlab-acme-app',
    policy: { name: 'gitlab-acme-app', document: PERMISSIONS },
    managedPolicyArns: [`arn:${identity.partition}:iam::aws:policy/ReadOnlyAccess`],
  });
  const current = await readCurrentState(f.ports.iam, {
    providerArn: desired.provider.arn,
    roleName: desired.role.name,
    policyArn: desired.policy?.arn,
  });
  return { plan: buildPlan(desired, current, { warnings, broadening }), current };
}

/** The state without dates or attachment order, comparable across runs. */
function snapshot(state: CurrentState) {
  return {
    ...state,
    role: state.role && { ...state.role, attachedPolicyArns: [...state.role.attachedPolicyArns].sort() },
    policy: state.policy && {
      ...state.policy,
      versions: state.policy.versions.map(({ versionId, isDefault }) => ({ versionId, isDefault })),
    },
  };
}

function createSeededFake(): FakeAws {
  const f = createFakeAws({ propagationDelayCalls: 2 });
  seedReadOnly(f);
  return f;
}

async function runClean(): Promise<{ mutating: number; final: ReturnType<typeof snapshot> }> {
  const f = createSeededFake();
  try {
    const { plan } = await planNow(f);
    await applyPlan(plan, f.ports.iam, { retry: INSTANT_RETRY });
    const again = await planNow(f);
    expect(again.plan.hasChanges).toBe(false);
    // CreateRole retries while the provider propagates: count calls, not steps.
    return { mutating: f.mutatingCalls().length, final: snapshot(again.current) };
  } finally {
    f.restore();
  }
}

describe('apply converges on re-run', () => {
  it('a clean run leaves nothing to do', async () => {
    const { mutating, final } = await runClean();
    expect(mutating).toBeGreaterThanOrEqual(5);
    // No TagRole after the attachments: CreateRole carries the whole ownership record.
    expect(final.role?.tags[RECORD_TAGS.attached]).not.toContain('+');
    expect(final.role?.attachedPolicyArns).toHaveLength(2);
    expect(final.provider?.clientIds).toEqual([GITLAB]);
  });

  it('whatever mutating call fails, the failed run reports done/not done and a re-run converges', async () => {
    const clean = await runClean();
    for (let n = 0; n < clean.mutating; n++) {
      fake = createSeededFake();
      const { plan } = await planNow(fake);
      const all = plan.steps.length;
      fake.failAfter(n, 'ServiceFailure');

      const error = await applyPlan(plan, fake.ports.iam, { retry: INSTANT_RETRY }).catch((e: unknown) => e);

      expect(error, `failure after ${n} mutating calls`).toBeInstanceOf(PartialApplyError);
      const { done, notDone } = error as PartialApplyError;
      expect(done.length + notDone.length).toBe(all);
      expect(new Set([...done, ...notDone]).size).toBe(all);
      expect(notDone.length).toBeGreaterThan(0);

      // Stopped after CreateRole with attachments left: one TagRole recorded what was really attached,
      // the rest marked as approved, so the re-run finishes them without asking again.
      const role = fake.state.roles.get(ROLE);
      const unfinished =
        done.some((d) => d.startsWith('create role')) && notDone.some((d) => d.startsWith('attach'));
      expect(role?.tags[RECORD_TAGS.attached]?.includes('+') ?? false, `after ${n}`).toBe(unfinished);
      const second = await planNow(fake);
      expect(second.plan.consents, `re-plan after ${n}`).toEqual([]);
      // The re-plan has exactly the work the failed run left (and the TagRole that completes the record).
      expect(second.plan.steps.map(describeStep), `re-plan after ${n}`).toEqual([
        ...notDone,
        ...(unfinished ? [expect.stringMatching(new RegExp(`^tag role ${ROLE} \\(`))] : []),
      ]);
      await applyPlan(second.plan, fake.ports.iam, { retry: INSTANT_RETRY });
      const third = await planNow(fake);
      expect(third.plan.hasChanges, `re-run after failure at call ${n}`).toBe(false);
      expect(snapshot(third.current)).toEqual(clean.final);
      fake.restore();
    }
  });

  it('adds only the audience when the provider exists with other audiences', async () => {
    const fake = createSeededFake();
    onTestFinished(() => fake.restore());
    await applyPlan((await planNow(fake)).plan, fake.ports.iam, { retry: INSTANT_RETRY });
    const provider = fake.state.providers.get(fake.providerArn(GITLAB));
    if (!provider) throw new Error('provider missing');
    provider.clientIds = ['sts.amazonaws.com'];
    const before = fake.mutatingCalls().length;

    const { plan } = await planNow(fake);
    await applyPlan(plan, fake.ports.iam, { retry: INSTANT_RETRY });

    expect(plan.steps.map((s) => s.kind)).toEqual(['addClientId']);
    expect(fake.mutatingCalls().slice(before)).toEqual(['AddClientIDToOpenIDConnectProvider']);
    expect(provider.clientIds).toEqual(['sts.amazonaws.com', GITLAB]);
  });
});
