/**
 * Surviving failure, in-process: `init` against the stateful fake IAM with a failure injected at EVERY
 * mutating call (n = 0 … calls of an uninterrupted run − 1), for several error codes, and Ctrl-C (an
 * AbortSignal) arriving while each mutating call is in flight. Each time:
 *   - the error says exactly what was done and what was not (PartialApplyError / AbortError);
 *   - the user's `.gitlab-ci.yml` is untouched (the pipeline is written only after IAM);
 *   - re-running the same command converges to the uninterrupted run's final state, and once more is a no-op.
 * Three scenarios: a fresh account; an update of a managed setup (new trust policy, a sixth policy
 * version that needs the oldest pruned first, new tags, longer sessions), which exercises the other steps;
 * and a template dropped, whose tool policy is detached and deleted (an interrupted run must not leave
 * it orphaned: the re-run finds it by name and deletes it).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AwsPorts, IamPort } from '../../src/aws/ports.js';
import type { RawInitFlags } from '../../src/commands/init.js';
import { AbortError, AwsError, exitCodeFor, PartialApplyError } from '../../src/errors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import type { FakeIamState } from '../helpers/fake-aws-iam.js';
import { BASE_FLAGS, runInitWith, tempDir } from './helpers.js';

const FIXTURE_CI = readFileSync(new URL('../fixtures/ci/realistic.yml', import.meta.url), 'utf8');

const FRESH: RawInitFlags = {
  ...BASE_FLAGS,
  template: 's3-deploy',
  templateParam: ['bucket=acme-web-site'],
};

interface Scenario {
  name: string;
  flags: RawInitFlags;
  /** Brings the account (and folder) to the state the scenario starts from. */
  setup(aws: FakeAws, cwd: string): Promise<void>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'fresh account, existing user pipeline',
    flags: FRESH,
    async setup(_aws, cwd) {
      writeFileSync(join(cwd, '.gitlab-ci.yml'), FIXTURE_CI);
    },
  },
  {
    name: 'update of a managed setup (policy already at 5 versions)',
    flags: {
      ...FRESH,
      branch: ['main', 'release/*'],
      templateParam: ['bucket=acme-web-v6'],
      awsTag: ['team=web'],
      maxSessionDuration: '7200',
      // release/* widens who may assume the role.
      allowWidening: true,
    },
    async setup(aws, cwd) {
      for (const v of [1, 2, 3, 4, 5]) {
        await runInitWith({ ...FRESH, templateParam: [`bucket=acme-web-v${v}`] }, cwd, { aws });
      }
      const policy = [...aws.state.policies.values()][0];
      expect(policy?.versions).toHaveLength(5);
    },
  },
  {
    name: 'the template of an earlier run dropped (its policy detached, its versions and itself deleted)',
    flags: { ...BASE_FLAGS, managedPolicy: ['arn:aws:iam::aws:policy/ReadOnlyAccess'], allowWidening: true },
    async setup(aws, cwd) {
      aws.addPolicy({ name: 'ReadOnlyAccess', awsManaged: true, document: READ_ONLY });
      for (const v of [1, 2]) {
        await runInitWith({ ...FRESH, templateParam: [`bucket=acme-web-v${v}`] }, cwd, { aws });
      }
      expect(
        [...aws.state.policies.values()].find((p) => p.name !== 'ReadOnlyAccess')?.versions,
      ).toHaveLength(2);
    },
  },
];

const READ_ONLY = {
  Version: '2012-10-17' as const,
  Statement: [{ Effect: 'Allow' as const, Action: 's3:Get*', Resource: '*' }],
};

/** Everything that matters about the account, without timestamps or generated IDs. */
function snapshot(state: FakeIamState) {
  const sorted = <T extends { arn: string }>(items: Iterable<T>) =>
    [...items].sort((a, b) => a.arn.localeCompare(b.arn));
  return {
    providers: sorted(state.providers.values()).map(({ arn, url, clientIds, thumbprints, tags }) => ({
      arn,
      url,
      clientIds,
      thumbprints,
      tags,
    })),
    roles: sorted(state.roles.values()).map((r) => ({
      arn: r.arn,
      trustPolicy: JSON.parse(r.trustPolicy),
      maxSessionDuration: r.maxSessionDuration,
      description: r.description,
      permissionsBoundaryArn: r.permissionsBoundaryArn,
      tags: r.tags,
      attachedPolicyArns: [...r.attachedPolicyArns].sort(),
    })),
    policies: sorted(state.policies.values()).map((p) => ({
      arn: p.arn,
      tags: p.tags,
      versions: p.versions.map((v) => ({
        id: v.versionId,
        isDefault: v.isDefault,
        doc: JSON.parse(v.document),
      })),
    })),
  };
}

interface Reference {
  /** Mutating calls of the uninterrupted run. */
  calls: string[];
  /** Its applied step descriptions. */
  applied: string[];
  final: ReturnType<typeof snapshot>;
  ci: string;
}

const fakes: FakeAws[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];
afterEach(() => {
  for (const f of fakes.splice(0)) f.restore();
  for (const d of dirs.splice(0)) d.cleanup();
});

interface Start {
  state: FakeIamState;
  ci: string;
}

/** Runs the scenario's setup once; each case then starts from a deep copy of the result. */
async function buildStart(scenario: Scenario): Promise<Start> {
  const aws = createFakeAws({ account: '111122223333' });
  const dir = tempDir();
  try {
    await scenario.setup(aws, dir.dir);
    return { state: structuredClone(aws.state), ci: readFileSync(join(dir.dir, '.gitlab-ci.yml'), 'utf8') };
  } finally {
    aws.restore();
    dir.cleanup();
  }
}

function prepare(start: Start) {
  const aws = createFakeAws({ account: '111122223333' });
  fakes.push(aws);
  const copy = structuredClone(start.state);
  aws.state.providers = copy.providers;
  aws.state.roles = copy.roles;
  aws.state.policies = copy.policies;
  const dir = tempDir();
  dirs.push(dir);
  writeFileSync(join(dir.dir, '.gitlab-ci.yml'), start.ci);
  return { aws, cwd: dir.dir, ciBefore: start.ci, callsBefore: aws.mutatingCalls().length };
}

/** Only the calls this run made (the setup's are left out). */
const callsSince = (aws: FakeAws, from: number) => aws.mutatingCalls().slice(from);

function expectPipelineUntouched(cwd: string, ciBefore: string) {
  expect(readFileSync(join(cwd, '.gitlab-ci.yml'), 'utf8')).toBe(ciBefore);
  expect(readdirSync(cwd).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}

async function expectConverges(aws: FakeAws, cwd: string, scenario: Scenario, ref: Reference) {
  const ciBefore = readFileSync(join(cwd, '.gitlab-ci.yml'), 'utf8');
  const { result } = await runInitWith(scenario.flags, cwd, { aws });
  // Nothing left to do only when the stop came at the very last IAM call and the pipeline needs no change.
  expect(result.status).toBe(result.plan.hasChanges || ciBefore !== ref.ci ? 'applied' : 'no-changes');
  expect(snapshot(aws.state)).toEqual(ref.final);
  expect(readFileSync(join(cwd, '.gitlab-ci.yml'), 'utf8')).toBe(ref.ci);
  const before = aws.mutatingCalls().length;
  const again = await runInitWith(scenario.flags, cwd, { aws });
  expect(again.result.status).toBe('no-changes');
  expect(aws.mutatingCalls().length).toBe(before);
}

/** Wraps the IAM port: `onMutatingCall(n)` runs as the nth mutating call starts, before it is sent. */
function withCallHook(ports: AwsPorts, onMutatingCall: (n: number, method: string) => void): AwsPorts {
  let n = 0;
  const iam = new Proxy(ports.iam, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || /^(get|list)/.test(prop)) return value;
      return (...args: unknown[]) => {
        onMutatingCall(++n, prop);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as IamPort;
  return { ...ports, iam };
}

for (const scenario of SCENARIOS) {
  describe(scenario.name, () => {
    let ref: Reference;
    let start: Start;

    beforeAll(async () => {
      start = await buildStart(scenario);
      const { aws, cwd, callsBefore } = prepare(start);
      const { result } = await runInitWith(scenario.flags, cwd, { aws });
      expect(result.status).toBe('applied');
      ref = {
        calls: callsSince(aws, callsBefore),
        applied: result.applied,
        final: snapshot(aws.state),
        ci: readFileSync(join(cwd, '.gitlab-ci.yml'), 'utf8'),
      };
      aws.restore();
    });

    it('the uninterrupted run is the reference', () => {
      expect(ref.calls.length).toBeGreaterThanOrEqual(4);
      expect(ref.applied.length).toBeGreaterThanOrEqual(3);
      expect(ref.ci).toContain(ref.final.roles[0]?.arn);
    });

    const CODES = ['Throttling', 'AccessDenied', 'ServiceFailure'];
    // Enumerated once the reference run is known: n = 0 … calls − 1, for each code.
    it('a failure at every mutating call: reported precisely, pipeline untouched, re-run converges', async () => {
      let cases = 0;
      for (let n = 0; n < ref.calls.length; n++) {
        for (const code of CODES) {
          const { aws, cwd, ciBefore, callsBefore } = prepare(start);
          aws.failAfter(n, code);
          const error = await runInitWith(scenario.flags, cwd, { aws }).catch((e: unknown) => e);
          const label = `n=${n} (${ref.calls[n]}) ${code}`;

          expect(error, label).toBeInstanceOf(PartialApplyError);
          const partial = error as PartialApplyError;
          expect(exitCodeFor(partial), label).toBe(1);
          expect(partial.cause, label).toBeInstanceOf(AwsError);
          expect((partial.cause as AwsError).awsCode, label).toBe(code);
          expect((partial.cause as AwsError).requestId, label).toBeTruthy();
          const calls = callsSince(aws, callsBefore);
          expect((partial.cause as AwsError).operation, label).toContain(calls[n]);
          // done + not done = exactly the uninterrupted run's steps, then the pipeline write; the
          // failed one is not done
          // (when the run changes the pipeline file at all)
          const iamNotDone = ciBefore === ref.ci ? partial.notDone : partial.notDone.slice(0, -1);
          if (ciBefore !== ref.ci)
            expect(partial.notDone.at(-1), label).toMatch(/^write \S*\.gitlab-ci\.yml$/);
          expect([...partial.done, ...iamNotDone].sort(), label).toEqual([...ref.applied].sort());
          expect(partial.notDone.length, label).toBeGreaterThan(0);
          // each completed step is one successful call (a pruning update is two)
          expect(partial.done.length, label).toBeLessThanOrEqual(calls.length - 1);
          expect(
            partial.details().filter((d) => d.startsWith('not done: ')),
            label,
          ).toHaveLength(partial.notDone.length);
          expect(partial.hint, label).toMatch(/re-run the same command/i);
          expectPipelineUntouched(cwd, ciBefore);
          expect(existsSync(join(cwd, '.gitlab-ci.yml.bak')), label).toBe(false);

          await expectConverges(aws, cwd, scenario, ref);
          aws.restore();
          cases++;
        }
      }
      expect(cases).toBe(ref.calls.length * CODES.length);
    });

    it('Ctrl-C while each mutating call is in flight: it finishes, nothing new starts, exit 130, re-run converges', async () => {
      for (let n = 1; n <= ref.calls.length; n++) {
        const { aws, cwd, ciBefore, callsBefore } = prepare(start);
        const controller = new AbortController();
        const methods: string[] = [];
        const hooked = withCallHook(aws.ports, (i, method) => {
          methods.push(method);
          if (i === n) controller.abort();
        });
        const error = await runInitWith(scenario.flags, cwd, {
          aws: { ...aws, ports: hooked },
          signal: controller.signal,
        }).catch((e: unknown) => e);
        const label = `abort at call ${n} (${ref.calls[n - 1]})`;

        expect(error, label).toBeInstanceOf(AbortError);
        expect(exitCodeFor(error), label).toBe(130);
        const message = (error as AbortError).message;
        expect(message, label).toMatch(/re-run the same command/);
        // The call in flight completed; no step started after it (only the in-flight step's own
        // second call: the new policy version after pruning the oldest).
        const after = methods.slice(n);
        // (A deletePolicyVersion step of its own, deleting an unused tool policy, has no second call.)
        const pruning = methods[n - 1] === 'deletePolicyVersion' && methods[n] === 'createPolicyVersion';
        // A role this run created with attachments still to make: one TagRole (not cancelled) records
        // what was really attached, so the re-run finishes them without asking again.
        const before = methods.slice(0, n);
        const unfinished =
          before.includes('createRole') &&
          before.filter((m) => m === 'attachRolePolicy').length <
            ref.calls.filter((c) => c === 'AttachRolePolicy').length;
        expect(after, label).toEqual(pruning ? ['createPolicyVersion'] : unfinished ? ['tagRole'] : []);
        const calls = callsSince(aws, callsBefore);
        expect(calls, label).toEqual(
          unfinished ? [...ref.calls.slice(0, n), 'TagRole'] : ref.calls.slice(0, n + after.length),
        );
        if (unfinished)
          expect([...aws.state.roles.values()][0]?.tags['gitlab-aws-oidc:attached'], label).toContain('+');
        const done = message.split('\n').filter((l) => l.trim().startsWith('done: '));
        const notDone = message.split('\n').filter((l) => l.trim().startsWith('not done: '));
        // The IAM changes, then the pipeline write (not done: apply stopped before it).
        const writesPipeline = ciBefore !== ref.ci;
        expect(done.length + notDone.length, label).toBe(ref.applied.length + (writesPipeline ? 1 : 0));
        if (writesPipeline) expect(notDone.at(-1), label).toMatch(/not done: write \S*\.gitlab-ci\.yml$/);
        expect(message, label).toContain(
          `Aborted after ${done.length} of ${ref.applied.length + (writesPipeline ? 1 : 0)} changes`,
        );
        expectPipelineUntouched(cwd, ciBefore);

        await expectConverges(aws, cwd, scenario, ref);
        aws.restore();
      }
    });
  });
}
