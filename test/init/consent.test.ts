/**
 * Re-runs that never loosen security silently: `init` against the stateful fake IAM after changes made
 * outside the tool. Without its consent flag a non-interactive run refuses before any mutating call
 * (exit 2, CONSENT_REQUIRED, the items and their flags); with it, it applies; the next run changes
 * nothing. What the tool did not attach or set is kept by default, so the same inputs give no changes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortError, ConsentRequiredError, exitCodeFor, UsageError } from '../../src/errors.js';
import { errorDocument } from '../../src/io/output.js';
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

const ROLE = 'gitlab-acme-platform-web';
const S3 = { ...BASE_FLAGS, template: 's3-deploy', templateParam: ['bucket=acme-web-site'] };

/** Someone tightens the role by hand: `gitlab.com:ref_protected` and `project_id` added to its trust. */
function handTightenTrust(): void {
  const role = aws.state.roles.get(ROLE)!;
  const trust = JSON.parse(role.trustPolicy);
  const statement = Array.isArray(trust.Statement) ? trust.Statement[0] : trust.Statement;
  statement.Condition.StringEquals['gitlab.com:ref_protected'] = 'true';
  statement.Condition.StringEquals['gitlab.com:project_id'] = '4242';
  role.trustPolicy = JSON.stringify(trust);
}

async function refusal(flags: typeof BASE_FLAGS): Promise<ConsentRequiredError> {
  const error = await runInitWith(flags, tmp.dir, { aws }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConsentRequiredError);
  return error as ConsentRequiredError;
}

describe('init re-runs after changes made outside the tool', () => {
  it('a hand-tightened trust policy: refused without consent, zero mutating calls; applied with both flags; then no changes', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    handTightenTrust();
    const ci = readFileSync(join(tmp.dir, '.gitlab-ci.yml'), 'utf8');
    const before = aws.mutatingCalls().length;

    const error = await refusal(BASE_FLAGS);
    expect(exitCodeFor(error)).toBe(2);
    expect(error.code).toBe('CONSENT_REQUIRED');
    expect(aws.mutatingCalls().length).toBe(before);
    expect(readFileSync(join(tmp.dir, '.gitlab-ci.yml'), 'utf8')).toBe(ci);
    expect(error.message).toMatch(/--overwrite-drift, --allow-widening/);
    expect(error.details()).toEqual([
      `Role ${ROLE}: trust policy was changed outside gitlab-aws-oidc since its last run; this run replaces it (see the trust policy diff) (needs --overwrite-drift)`,
      `Role ${ROLE}: trust policy drops the condition gitlab.com:ref_protected = "true" (needs --allow-widening)`,
      `Role ${ROLE}: trust policy drops the condition gitlab.com:project_id = "4242" (needs --allow-widening)`,
    ]);
    // The --json error document carries each item with its flag.
    const doc = errorDocument(error, 'init') as { exitCode: number; error: { consents: unknown[] } };
    expect(doc.exitCode).toBe(2);
    expect(doc.error.consents).toContainEqual(
      expect.objectContaining({ consent: 'allow-widening', flag: '--allow-widening', resource: ROLE }),
    );

    // One flag is not enough.
    const half = await refusal({ ...BASE_FLAGS, overwriteDrift: true });
    expect(half.items.map((i) => i.flag)).toEqual(['--allow-widening', '--allow-widening']);
    expect(aws.mutatingCalls().length).toBe(before);

    const { result } = await runInitWith(
      { ...BASE_FLAGS, overwriteDrift: true, allowWidening: true },
      tmp.dir,
      { aws },
    );
    expect(result.status).toBe('applied');
    // Back to what the tool last wrote: the record already says so.
    expect(aws.mutatingCalls().slice(before)).toEqual(['UpdateAssumeRolePolicy']);
    const after = aws.mutatingCalls().length;
    const again = await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    expect(again.result.status).toBe('no-changes');
    expect(aws.mutatingCalls().length).toBe(after);
  });

  it('--dry-run never refuses: the plan carries the consents', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    handTightenTrust();
    const before = aws.mutatingCalls().length;
    const { result } = await runInitWith({ ...BASE_FLAGS, dryRun: true, yes: false }, tmp.dir, { aws });
    expect(result.status).toBe('planned');
    expect(result.plan.consents.map((c) => c.consent)).toEqual([
      'overwrite-drift',
      'allow-widening',
      'allow-widening',
    ]);
    expect(aws.mutatingCalls().length).toBe(before);
    expect(result.nextSteps[0]).toMatch(/explicit consent: --overwrite-drift --allow-widening/);
  });

  it('interactive: one confirmation per consent kind (default No); "no" aborts with nothing changed', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    handTightenTrust();
    const before = aws.mutatingCalls().length;
    const error = await runInitWith({ ...BASE_FLAGS, yes: false }, tmp.dir, {
      aws,
      interactive: true,
      answers: { '--overwrite-drift': true, '--allow-widening': false },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(exitCodeFor(error)).toBe(130);
    expect(aws.mutatingCalls().length).toBe(before);

    const { result } = await runInitWith({ ...BASE_FLAGS, yes: false }, tmp.dir, {
      aws,
      interactive: true,
      answers: { '--overwrite-drift': true, '--allow-widening': true, '--yes': true },
    });
    expect(result.status).toBe('applied');
  });

  it('a policy attached by hand is kept (same inputs: no changes), detached with --detach-unowned', async () => {
    await runInitWith(S3, tmp.dir, { aws });
    const hand = aws.addPolicy({
      name: 'hand-made',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }] },
    });
    aws.state.roles.get(ROLE)!.attachedPolicyArns.push(hand);
    const before = aws.mutatingCalls().length;

    const kept = await runInitWith(S3, tmp.dir, { aws });
    expect(kept.result.status).toBe('no-changes');
    expect(aws.mutatingCalls().length).toBe(before);
    expect(kept.result.plan.resources.find((r) => r.kind === 'role')?.notes).toEqual([
      `kept: policy ${hand} (not attached by gitlab-aws-oidc; --detach-unowned detaches it)`,
    ]);

    const { result } = await runInitWith({ ...S3, detachUnowned: true }, tmp.dir, { aws });
    expect(result.status).toBe('applied');
    expect(aws.mutatingCalls().slice(before)).toEqual(['DetachRolePolicy']);
    expect(aws.state.roles.get(ROLE)!.attachedPolicyArns).not.toContain(hand);
  });

  it('a policy attached by hand stays unowned on a re-run that keeps the permissions: no changes, and a later permission change keeps it', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    const hand = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
    aws.state.roles.get(ROLE)!.attachedPolicyArns.push(hand);
    const before = aws.mutatingCalls().length;

    // No permission flags: the re-run starts from the role's current permissions (the hand policy),
    // but that does not make the tool its owner.
    const kept = await runInitWith(BASE_FLAGS, tmp.dir, { aws, readExisting: true });
    expect(kept.notes.join('\n')).toContain(`permissions ${hand}`);
    expect(kept.result.status).toBe('no-changes');
    expect(aws.mutatingCalls().length).toBe(before);

    const { result } = await runInitWith({ ...S3, allowWidening: true }, tmp.dir, { aws });
    expect(result.status).toBe('applied');
    expect(aws.mutatingCalls().slice(before)).not.toContain('DetachRolePolicy');
    expect(aws.state.roles.get(ROLE)!.attachedPolicyArns).toContain(hand);
    expect(result.plan.resources.find((r) => r.kind === 'role')?.notes).toContain(
      `kept: policy ${hand} (not attached by gitlab-aws-oidc; --detach-unowned detaches it)`,
    );
  });

  it("a role made by an older version (no record): the upgrade run does not record its attachments as the tool's", async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    const role = aws.state.roles.get(ROLE)!;
    for (const key of Object.keys(role.tags))
      if (/:(trust|session|boundary|attached|description)$/.test(key)) delete role.tags[key];
    const other = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
    role.attachedPolicyArns.push(other);

    const upgrade = await runInitWith(BASE_FLAGS, tmp.dir, { aws, readExisting: true });
    expect(upgrade.result.status).toBe('applied');
    const before = aws.mutatingCalls().length;
    const { result } = await runInitWith({ ...S3, allowWidening: true }, tmp.dir, { aws });
    expect(result.status).toBe('applied');
    expect(aws.mutatingCalls().slice(before)).not.toContain('DetachRolePolicy');
    expect(aws.state.roles.get(ROLE)!.attachedPolicyArns).toContain(other);
  });

  it('a permissions boundary kept at adoption stays: the next run with the same inputs changes nothing', async () => {
    const boundary = aws.addPolicy({
      name: 'team-boundary',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    });
    aws.addRole({
      name: ROLE,
      path: '/gitlab-oidc/',
      trustPolicy: { Version: '2012-10-17', Statement: [] },
      permissionsBoundaryArn: boundary,
      tags: { owner: 'team-x' },
    });
    const adopt = { ...BASE_FLAGS, adoptExisting: true, allowWidening: true };
    const first = await runInitWith(adopt, tmp.dir, { aws });
    expect(first.result.status).toBe('applied');
    expect(aws.mutatingCalls()).not.toContain('DeleteRolePermissionsBoundary');
    const before = aws.mutatingCalls().length;
    const again = await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    expect(again.result.status).toBe('no-changes');
    expect(aws.mutatingCalls().length).toBe(before);
    expect(aws.state.roles.get(ROLE)!.permissionsBoundaryArn).toBe(boundary);
  });

  it("a boundary kept at adoption from the role's current state stays unowned: no changes next, replacing it needs --detach-unowned", async () => {
    const boundary = aws.addPolicy({
      name: 'team-boundary',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    });
    aws.addRole({
      name: ROLE,
      path: '/gitlab-oidc/',
      trustPolicy: { Version: '2012-10-17', Statement: [] },
      permissionsBoundaryArn: boundary,
      tags: { owner: 'team-x' },
    });
    // The re-run defaults come from the role (as on the command line): the boundary is one of them.
    const adopt = await runInitWith({ ...BASE_FLAGS, adoptExisting: true, allowWidening: true }, tmp.dir, {
      aws,
      readExisting: true,
    });
    expect(adopt.notes.join('\n')).toContain(`permissions boundary ${boundary}`);
    expect(adopt.result.status).toBe('applied');
    const before = aws.mutatingCalls().length;
    const again = await runInitWith(BASE_FLAGS, tmp.dir, { aws, readExisting: true });
    expect(again.result.status).toBe('no-changes');
    expect(aws.mutatingCalls().length).toBe(before);

    const other = aws.addPolicy({
      name: 'other-boundary',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] },
    });
    const error = await refusal({ ...BASE_FLAGS, permissionsBoundary: other, allowWidening: true });
    expect(error.items.map((i) => i.flag)).toContain('--detach-unowned');
    expect(aws.mutatingCalls().length).toBe(before);
    expect(aws.state.roles.get(ROLE)!.permissionsBoundaryArn).toBe(boundary);
  });

  it('the template policy of an earlier run is detached and deleted when no longer wanted, not orphaned', async () => {
    await runInitWith(S3, tmp.dir, { aws });
    await runInitWith({ ...S3, templateParam: ['bucket=acme-web-v2'] }, tmp.dir, { aws });
    const policyArn = [...aws.state.policies.keys()][0]!;
    expect(aws.state.policies.get(policyArn)?.versions).toHaveLength(2);
    const before = aws.mutatingCalls().length;
    const { result } = await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    expect(result.status).toBe('applied');
    expect(aws.mutatingCalls().slice(before)).toEqual([
      'DetachRolePolicy',
      'DeletePolicyVersion',
      'DeletePolicy',
      'TagRole',
    ]);
    expect(aws.state.policies.size).toBe(0);
    expect(result.plan.resources.find((r) => r.action === 'delete')).toMatchObject({
      kind: 'policy',
      arn: policyArn,
    });
  });
});

describe('init: a thumbprint change on a provider other roles use', () => {
  it('reads who else trusts it (ListRoles, only then), names them, and needs --allow-widening', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    const provider = aws.providerArn('https://gitlab.com');
    aws.addRole({
      name: 'other-team-deploy',
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Federated: provider }, Action: 'sts:AssumeRoleWithWebIdentity' },
        ],
      },
    });
    expect(aws.calls().map((c) => c.command)).not.toContain('ListRoles');
    const before = aws.mutatingCalls().length;
    const flags = { ...BASE_FLAGS, thumbprint: ['a'.repeat(40)] };
    const error = await refusal(flags);
    expect(error.details()).toEqual([
      `OIDC provider gitlab.com: thumbprints [] → ["${'a'.repeat(40)}"], also used by role(s) other-team-deploy (needs --allow-widening)`,
    ]);
    expect(aws.calls().map((c) => c.command)).toContain('ListRoles');
    expect(aws.mutatingCalls().length).toBe(before);
    const { result } = await runInitWith({ ...flags, allowWidening: true }, tmp.dir, { aws });
    expect(result.plan.resources[0]).toMatchObject({ kind: 'oidc-provider', usedBy: ['other-team-deploy'] });
    expect(aws.mutatingCalls().slice(before)).toEqual(['UpdateOpenIDConnectProviderThumbprint']);
  });
});

describe('init --role-path on an existing role (IAM cannot move a role)', () => {
  it('default path: keeps the real path and writes the real ARN into the pipeline', async () => {
    await runInitWith({ ...BASE_FLAGS, rolePath: '/ci/' }, tmp.dir, { aws });
    const real = `arn:aws:iam::111122223333:role/ci/${ROLE}`;
    const before = aws.mutatingCalls().length;
    const { result } = await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    expect(result.roleArn).toBe(real);
    expect(result.status).toBe('no-changes');
    expect(aws.mutatingCalls().length).toBe(before);
    expect(readFileSync(join(tmp.dir, '.gitlab-ci.yml'), 'utf8')).toContain(real);
    expect(result.plan.resources.find((r) => r.kind === 'role')?.notes?.[0]).toMatch(
      /stays at path \/ci\/ \(IAM cannot move a role\)/,
    );
  });

  it('explicit --role-path that differs: usage error naming the flag, the current path and how to move', async () => {
    await runInitWith(BASE_FLAGS, tmp.dir, { aws });
    const before = aws.mutatingCalls().length;
    const error = await runInitWith({ ...BASE_FLAGS, rolePath: '/ci/' }, tmp.dir, { aws }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect(exitCodeFor(error)).toBe(2);
    expect((error as UsageError).issues[0]?.field).toBe('--role-path');
    expect((error as UsageError).message).toMatch(/already exists at path \/gitlab-oidc\/, not \/ci\//);
    expect((error as UsageError).hint).toMatch(new RegExp(`destroy --role ${ROLE}`));
    expect(aws.mutatingCalls().length).toBe(before);
  });
});
