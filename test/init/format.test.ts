import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatPlan } from '../../src/init/format.js';
import { createPalette } from '../../src/io/colors.js';
import { createFakeAws, type FakeAws } from '../helpers/fake-aws.js';
import { BASE_FLAGS, runInitWith, tempDir } from './helpers.js';

let aws: FakeAws;
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  aws = createFakeAws({ account: '111122223333' });
  tmp = tempDir();
});
afterEach(() => {
  aws.restore();
  tmp.cleanup();
});

describe('formatPlan', () => {
  it('does not claim the user asked for a broadening they did not ask for (a pin dropped on re-run)', async () => {
    const flags = { ...BASE_FLAGS, projectId: '42', ciFile: false as const };
    await runInitWith({ ...flags, protectedOnly: true }, tmp.dir, { aws });
    const { result } = await runInitWith({ ...flags, dryRun: true }, tmp.dir, { aws });
    expect(result.plan.broadening.join('\n')).toMatch(/ref_protected/);
    const text = formatPlan(result, createPalette(0)).join('\n');
    expect(text).toMatch(/Broadens trust/);
    expect(text).not.toMatch(/you asked for this/);
  });
});

describe('formatPlan: who else could assume it', () => {
  it('shows a refusal that rests on an undocumented case as NOT PROVEN REFUSED with the caveat, not ALLOWED', async () => {
    const { result } = await runInitWith({ ...BASE_FLAGS, ciFile: false, dryRun: true }, tmp.dir, { aws });
    const [refused, other] = result.checks.expectDeny;
    expect(refused?.allowed).toBe(false);
    const caveat = {
      code: 'principal-wildcard' as const,
      message: 'Principal {"Federated": "*"}: IAM documents only "*" and {"AWS": "*"} as principal wildcards',
      statement: 0,
    };
    result.checks.expectDeny = [
      {
        ...refused!,
        allowed: true,
        unproven: true,
        evaluation: { ...refused!.evaluation, caveats: [caveat] },
      },
      other!,
    ];
    const lines = formatPlan(result, createPalette(0));
    const line = lines.find((l) => l.includes(refused!.label));
    expect(line).toMatch(/✗ NOT PROVEN REFUSED: /);
    expect(line).toContain('the refusal rests on a case IAM does not document');
    expect(line).toContain(caveat.message);
    expect(line).not.toMatch(/ALLOWED/);
    expect(lines.find((l) => l.includes(other!.label))).toMatch(/✓ refused: /);
  });
});
