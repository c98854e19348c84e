/**
 * Issue 7, defect 8: a role in an EC2 instance profile. IAM refuses DeleteRole (DeleteConflict) while the
 * role is in one, so destroy used to delete the provider and the policies, then fail on every re-run.
 * Now it reads the instance profiles while planning and either removes the role from them with explicit
 * consent (--remove-from-instance-profiles, or yes at the question) or refuses up front (exit 2).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDestroyCommand } from '../../src/destroy/command.js';
import { parseDestroyFlags, type RawDestroyFlags } from '../../src/destroy/options.js';
import { type DestroyDeps, runDestroy } from '../../src/destroy/run.js';
import { AbortError, UsageError } from '../../src/errors.js';
import { captureContext } from '../helpers/capture-context.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { initProject } from '../status/init-helper.js';

const PROJECT = 'acme/web';
let fake: FakeAws;
let roleName: string;
let profileArn: string;
/** Mutating calls destroy made (init's are not counted). */
let mutations: () => string[];
beforeEach(async () => {
  fake = createFakeAws();
  roleName = (await initProject(fake, { project: PROJECT })).role.name;
  profileArn = fake.addInstanceProfile({ name: 'web-ec2', path: '/apps/', roleNames: [roleName] });
  const setup = fake.mutatingCalls().length;
  mutations = () => fake.mutatingCalls().slice(setup);
});
afterEach(() => fake.restore());

const destroy = (flags: RawDestroyFlags = {}, deps: Partial<DestroyDeps> = {}) =>
  runDestroy(parseDestroyFlags({ project: PROJECT, yes: true, ...flags }), {
    aws: () => fake.ports,
    ...deps,
  });

describe('destroy and instance profiles', () => {
  it('without consent: exit 2 naming the profile and the flag, before any change', async () => {
    const error = await destroy().catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(`Role ${roleName} is in instance profile /apps/web-ec2`);
    expect(error.issues).toEqual([expect.objectContaining({ field: '--remove-from-instance-profiles' })]);
    expect(mutations()).toEqual([]);
    expect(fake.state.roles.size).toBe(1);
    expect(fake.state.providers.size).toBe(1);
  });

  it('with --remove-from-instance-profiles: removes the role first, keeps the profile, deletes the rest', async () => {
    const result = await destroy({ removeFromInstanceProfiles: true });
    expect(result.plan.steps.filter((s) => s.includes('instance profile'))).toEqual([
      `remove role ${roleName} from instance profile /apps/web-ec2`,
    ]);
    // First change after the journal tag: a refusal there leaves everything else in place.
    expect(mutations().slice(0, 2)).toEqual(['TagRole', 'RemoveRoleFromInstanceProfile']);
    expect(result.plan.resources).toContainEqual(
      expect.objectContaining({
        kind: 'instance-profile',
        id: '/apps/web-ec2',
        arn: profileArn,
        action: 'detach',
      }),
    );
    expect(fake.state.roles.size).toBe(0);
    expect(fake.state.instanceProfiles.get('web-ec2')?.roles).toEqual([]);
    expect((await destroy({ removeFromInstanceProfiles: true })).changed).toBe(false);
  });

  it('--dry-run shows the step and the flag it needs, and changes nothing', async () => {
    const io = captureContext({});
    await runDestroyCommand({ project: PROJECT, dryRun: true }, io.context);
    expect(io.out()).toContain(`~ detach  instance profile /apps/web-ec2`);
    expect(io.out()).toContain('needs --remove-from-instance-profiles');
    expect(io.out()).toContain(`remove role ${roleName} from instance profile /apps/web-ec2`);
    expect(mutations()).toEqual([]);
  });

  it('interactive: asks; "no" changes nothing, "yes" goes ahead', async () => {
    const questions: string[] = [];
    const confirm = (answer: (q: string) => boolean) => async (q: string) => {
      questions.push(q);
      return answer(q);
    };
    const no = await destroy(
      { yes: false },
      { confirm: confirm((q) => !q.includes('instance profile')) },
    ).catch((e) => e);
    expect(no).toBeInstanceOf(AbortError);
    expect(questions[0]).toMatch(/Remove role .* from instance profile \/apps\/web-ec2\?/);
    expect(mutations()).toEqual([]);

    questions.length = 0;
    const yes = await destroy({ yes: false }, { confirm: confirm(() => true) });
    expect(questions).toHaveLength(2);
    expect(yes.changed).toBe(true);
    expect(fake.state.roles.size).toBe(0);
  });

  it('a role put into an instance profile during the run is named, not retried blindly', async () => {
    fake.state.instanceProfiles.get('web-ec2')!.roles = [];
    const error = await destroy(
      {},
      {
        onEvent: (e) => {
          if (e.step.kind === 'deleteRole' && e.state === 'start')
            fake.state.instanceProfiles.get('web-ec2')!.roles = [roleName];
        },
      },
    ).catch((e) => e);
    expect(error.message).toMatch(/instance profile \/apps\/web-ec2/);
    expect(String(error.cause?.hint ?? error.hint)).toMatch(
      /--remove-from-instance-profiles|remove-role-from-instance-profile/,
    );
  });
});
