import { describe, expect, it } from 'vitest';
import { buildClaims, buildRequestContext } from '../../src/core/claims.js';
import { evaluateTrustPolicy } from '../../src/core/evaluate.js';
import { parseIssuerUrl, providerArnFor } from '../../src/core/issuer.js';
import { buildTrustPolicy } from '../../src/core/trust-policy.js';
import type {
  ConditionBlock,
  PolicyDocument,
  PolicyStatement,
  RefRule,
  TrustInput,
} from '../../src/core/types.js';
import {
  buildExpectDenyProbes,
  describeExpectDeny,
  type ExpectDenyInput,
  runExpectDenyChecks,
} from '../../src/verify/expect-deny.js';

const PROVIDER = 'arn:aws:iam::123456789012:oidc-provider/gitlab.com';

function trust(condition: ConditionBlock): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: PROVIDER },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
    ],
  };
}

const main: RefRule[] = [{ type: 'branch', pattern: 'main' }];
const input = (over: Partial<ExpectDenyInput> = {}): ExpectDenyInput => ({
  issuer: 'https://gitlab.com',
  providerArn: PROVIDER,
  clientIds: ['https://gitlab.com'],
  projectPath: 'grp/app',
  refs: main,
  ...over,
});

function allowedIds(policy: PolicyDocument, over: Partial<ExpectDenyInput> = {}): string[] {
  return runExpectDenyChecks(policy, input(over))
    .filter((c) => c.allowed)
    .map((c) => c.id);
}

describe('buildExpectDenyProbes', () => {
  it('builds the standard probes for a project in a group', () => {
    const probes = buildExpectDenyProbes(input());
    expect(probes.map((p) => [p.id, p.claims.sub])).toEqual([
      ['other-branch', 'project_path:grp/app:ref_type:branch:ref:expect-deny/other-branch'],
      ['tag-not-allowed', 'project_path:grp/app:ref_type:tag:ref:main'],
      ['other-project', 'project_path:grp/expect-deny-other-project:ref_type:branch:ref:main'],
      ['look-alike-group', 'project_path:grp-evil/app:ref_type:branch:ref:main'],
      ['project-name-prefix', 'project_path:grp/app-evil:ref_type:branch:ref:main'],
      ['nested-subgroup', 'project_path:grp/expect-deny-subgroup/app:ref_type:branch:ref:main'],
    ]);
    expect(probes.every((p) => p.claims.aud === 'https://gitlab.com')).toBe(true);
  });

  it('adds a parent-group sibling for nested projects, and changes IDs for other projects', () => {
    const probes = buildExpectDenyProbes(
      input({ projectPath: 'grp/sub/app', projectId: '42', namespaceId: '7' }),
    );
    const byId = Object.fromEntries(probes.map((p) => [p.id, p.claims]));
    expect(byId['parent-group-sibling']?.project_path).toBe('grp/sub-sibling/app');
    expect(byId['look-alike-group']?.project_path).toBe('grp-evil/sub/app');
    expect(byId['other-branch']?.project_id).toBe('42');
    expect(byId['other-project']?.project_id).toBe('43');
    expect(byId['look-alike-group']?.namespace_id).toBe('8');
  });

  it('does not probe a branch when every branch is allowed, and picks tags no rule allows', () => {
    const probes = buildExpectDenyProbes(
      input({
        refs: [
          { type: 'branch', pattern: '*' },
          { type: 'tag', pattern: 'v*' },
        ],
      }),
    );
    const ids = probes.map((p) => p.id);
    expect(ids).not.toContain('other-branch');
    expect(probes.find((p) => p.id === 'tag-not-allowed')?.claims.ref).toBe('expect-deny-tag');
    // branch `vx` is allowed by branch rule `*`, so no branch-named-like-tag probe.
    expect(ids).not.toContain('branch-named-like-tag');
  });

  it('adds an unprotected-ref probe when the policy is meant to require protected refs', () => {
    const probes = buildExpectDenyProbes(input({ protectedOnly: true }));
    const p = probes.find((x) => x.id === 'unprotected-ref');
    expect(p?.claims.ref_protected).toBe('false');
    expect(probes.find((x) => x.id === 'other-branch')?.claims.ref_protected).toBe('true');
  });
});

describe('runExpectDenyChecks', () => {
  it('a literal, branch-scoped policy refuses every probe', () => {
    const good = trust({
      StringEquals: {
        'gitlab.com:sub': 'project_path:grp/app:ref_type:branch:ref:main',
        'gitlab.com:aud': 'https://gitlab.com',
      },
    });
    const checks = runExpectDenyChecks(good, input());
    expect(checks.length).toBeGreaterThanOrEqual(6);
    expect(checks.filter((c) => c.allowed)).toEqual([]);
    expect(describeExpectDeny(checks)[0]).toBe('✓ refused: another branch `expect-deny/other-branch`');
  });

  const ALL = [
    'other-branch',
    'tag-not-allowed',
    'other-project',
    'look-alike-group',
    'project-name-prefix',
    'nested-subgroup',
  ];
  it.each([
    // StringLike sub pattern → the probes it lets in (`*` crosses `/`)
    ['project_path:grp/app:ref_type:branch:ref:*', ['other-branch']],
    ['project_path:grp/app:*', ['other-branch', 'tag-not-allowed']],
    [
      'project_path:grp/*',
      ['other-branch', 'tag-not-allowed', 'other-project', 'project-name-prefix', 'nested-subgroup'],
    ],
    ['project_path:grp*', ALL],
    ['project_path:grp/app*:ref_type:branch:ref:main', ['project-name-prefix']],
    ['project_path:*', ALL],
  ])('StringLike sub %s lets in %j', (sub, expected) => {
    expect(allowedIds(trust({ StringLike: { 'gitlab.com:sub': sub } }))).toEqual(expected);
  });

  it('pinning gitlab.com:project_id refuses other projects even under a group wildcard', () => {
    const policy = trust({
      StringLike: { 'gitlab.com:sub': 'project_path:grp/*:ref_type:branch:ref:main' },
      StringEquals: { 'gitlab.com:project_id': '42' },
    });
    expect(allowedIds(policy, { projectId: '42' })).toEqual([]);
  });

  describe('project_id-first sub (--sub-claim project-id)', () => {
    const SM = 'https://git.example.com';
    const SM_PROVIDER = 'arn:aws:iam::123456789012:oidc-provider/git.example.com';
    const byId = (over: Partial<TrustInput> = {}) =>
      buildTrustPolicy({
        providerArn: SM_PROVIDER,
        issuer: parseIssuerUrl(SM),
        audience: SM,
        projectPath: 'grp/app',
        refs: main,
        projectId: '42',
        subClaim: 'project_id',
        ...over,
      }).policy;
    const idInput = (over: Partial<ExpectDenyInput> = {}) =>
      input({
        issuer: SM,
        providerArn: SM_PROVIDER,
        clientIds: [SM],
        projectId: '42',
        subComponents: ['project_id', 'ref_type', 'ref'],
        ...over,
      });

    it('probes in the project_id form, with a reused path (same path, another ID)', () => {
      const probes = buildExpectDenyProbes(idInput());
      expect(probes.map((p) => [p.id, p.claims.sub])).toEqual([
        ['other-branch', 'project_id:42:ref_type:branch:ref:expect-deny/other-branch'],
        ['tag-not-allowed', 'project_id:42:ref_type:tag:ref:main'],
        ['other-project', 'project_id:43:ref_type:branch:ref:main'],
        ['look-alike-group', 'project_id:43:ref_type:branch:ref:main'],
        ['project-name-prefix', 'project_id:43:ref_type:branch:ref:main'],
        ['nested-subgroup', 'project_id:43:ref_type:branch:ref:main'],
        ['path-reuse', 'project_id:43:ref_type:branch:ref:main'],
      ]);
      expect(probes.find((p) => p.id === 'path-reuse')?.claims.project_path).toBe('grp/app');
    });

    it("init's project_id policy refuses every probe: another ID, a look-alike, another ref", () => {
      const checks = runExpectDenyChecks(byId(), idInput());
      expect(checks.filter((c) => c.allowed)).toEqual([]);
      expect(checks.map((c) => c.id)).toContain('path-reuse');
    });

    it('a project_path policy on self-managed lets the reused path in (what the project_id form defeats)', () => {
      const byPath = byId({ subClaim: undefined });
      // On self-managed STS sees only sub: a newcomer on the same path (another project_id) gets in.
      const newcomer = buildClaims({
        issuer: SM,
        projectPath: 'grp/app',
        branch: 'main',
        audience: SM,
        projectId: '43',
      });
      const verdict = evaluateTrustPolicy({
        policy: byPath,
        providerArn: SM_PROVIDER,
        clientIds: [SM],
        context: buildRequestContext(newcomer, parseIssuerUrl(SM)),
      });
      expect(verdict.assumable).toBe(true);
      const withPathProbes = input({
        issuer: SM,
        providerArn: SM_PROVIDER,
        clientIds: [SM],
        projectId: '42',
      });
      // Default components: the path-reuse probe is not built (its sub would equal the real one).
      expect(buildExpectDenyProbes(withPathProbes).map((p) => p.id)).not.toContain('path-reuse');
      // A project_id wildcard lets other IDs in.
      const wild = trust({ StringLike: { 'git.example.com:sub': 'project_id:4*:ref_type:branch:ref:main' } });
      const open = runExpectDenyChecks(
        {
          ...wild,
          Statement: [
            { ...(wild.Statement as PolicyStatement[])[0]!, Principal: { Federated: SM_PROVIDER } },
          ],
        },
        idInput(),
      );
      expect(open.filter((c) => c.allowed).map((c) => c.id)).toEqual([
        'other-project',
        'look-alike-group',
        'project-name-prefix',
        'nested-subgroup',
        'path-reuse',
      ]);
    });

    it('on gitlab.com a policy meant to pin project_id is probed with a reused path too', () => {
      const pinned = trust({
        StringEquals: {
          'gitlab.com:sub': 'project_path:grp/app:ref_type:branch:ref:main',
          'gitlab.com:aud': 'https://gitlab.com',
          'gitlab.com:project_id': '42',
        },
      });
      expect(allowedIds(pinned, { projectId: '42', projectIdPinned: true })).toEqual([]);
      const unpinned = trust({
        StringEquals: {
          'gitlab.com:sub': 'project_path:grp/app:ref_type:branch:ref:main',
          'gitlab.com:aud': 'https://gitlab.com',
        },
      });
      expect(allowedIds(unpinned, { projectId: '42', projectIdPinned: true })).toEqual(['path-reuse']);
    });
  });

  it('a tag policy refuses a branch named like the allowed tag', () => {
    const refs: RefRule[] = [{ type: 'tag', pattern: 'v*' }];
    const strict = trust({ StringLike: { 'gitlab.com:sub': 'project_path:grp/app:ref_type:tag:ref:v*' } });
    expect(allowedIds(strict, { refs })).toEqual([]);
    const loose = trust({ StringLike: { 'gitlab.com:sub': 'project_path:grp/app:ref_type:*:ref:v*' } });
    expect(allowedIds(loose, { refs })).toEqual(['branch-named-like-tag']);
  });

  it('a protected-only policy refuses the unprotected ref', () => {
    const policy = trust({
      StringEquals: {
        'gitlab.com:sub': 'project_path:grp/app:ref_type:branch:ref:main',
        'gitlab.com:ref_protected': 'true',
      },
    });
    expect(allowedIds(policy, { protectedOnly: true })).toEqual([]);
    const without = trust({
      StringEquals: { 'gitlab.com:sub': 'project_path:grp/app:ref_type:branch:ref:main' },
    });
    expect(allowedIds(without, { protectedOnly: true })).toEqual(['unprotected-ref']);
  });

  it('ForAllValues on a key the token lacks lets every probe in (fail-open)', () => {
    const policy = trust({
      'ForAllValues:StringEquals': { 'gitlab.example.com:sub': 'project_path:grp/app:x' },
    });
    const checks = runExpectDenyChecks(policy, input());
    expect(checks.every((c) => c.allowed)).toBe(true);
    expect(describeExpectDeny(checks)[0]).toMatch(
      /^✗ ALLOWED: another branch .* \(allowed by statement #0\): sub `project_path:grp\/app/,
    );
  });
});

/*
 * Integration with the trust policies `init` writes (core/trust-policy.ts): `init` refuses to apply when
 * a probe is allowed, so every policy it can build must refuse every probe (no false alarms), and the
 * probes must still catch a hand-broadened version of the same policy.
 */
describe('runExpectDenyChecks on policies from buildTrustPolicy', () => {
  const gitlabCom = { url: 'https://gitlab.com', hostPath: 'gitlab.com', isGitlabCom: true };
  const selfManaged = {
    url: 'https://git.example.com/gitlab',
    hostPath: 'git.example.com/gitlab',
    isGitlabCom: false,
  };

  it.each([
    ['gitlab.com, main', gitlabCom, [{ type: 'branch', pattern: 'main' }], {}],
    [
      'gitlab.com, pinned IDs, protected',
      gitlabCom,
      [{ type: 'branch', pattern: 'main' }],
      { projectId: '42', namespaceId: '7', protectedOnly: true },
    ],
    [
      'gitlab.com, release/* and v* tags',
      gitlabCom,
      [
        { type: 'branch', pattern: 'release/*' },
        { type: 'tag', pattern: 'v*' },
      ],
      {},
    ],
    [
      'gitlab.com, any branch (consented)',
      gitlabCom,
      [{ type: 'branch', pattern: '*' }],
      { allowAnyRef: true },
    ],
    ['self-managed with a path, tags only', selfManaged, [{ type: 'tag', pattern: 'v?.*' }], {}],
    [
      'self-managed, two branches',
      selfManaged,
      [
        { type: 'branch', pattern: 'main' },
        { type: 'branch', pattern: 'develop' },
      ],
      {},
    ],
  ] as const)('%s: every probe is refused', async (_name, issuer, refs, extra) => {
    const { buildTrustPolicy } = await import('../../src/core/trust-policy.js');
    const providerArn = `arn:aws:iam::123456789012:oidc-provider/${issuer.hostPath}`;
    const input = {
      providerArn,
      issuer,
      audience: issuer.url,
      projectPath: 'grp/sub/app',
      refs: refs.map((r) => ({ ...r })),
      ...extra,
    };
    const { policy } = buildTrustPolicy(input);
    const checks = runExpectDenyChecks(policy, {
      issuer,
      providerArn,
      clientIds: [issuer.url],
      audience: issuer.url,
      projectPath: input.projectPath,
      refs: input.refs,
      projectId: 'projectId' in extra ? extra.projectId : undefined,
      namespaceId: 'namespaceId' in extra ? extra.namespaceId : undefined,
      protectedOnly: 'protectedOnly' in extra && issuer.isGitlabCom ? extra.protectedOnly : undefined,
    });
    expect(checks.length).toBeGreaterThanOrEqual(5);
    expect(checks.filter((c) => c.allowed).map((c) => c.id)).toEqual([]);
    // The job the policy is for is allowed, so the refusals above are not for an unrelated reason.
    const first = input.refs[0];
    const ref = (first?.pattern ?? 'main').replace(/[*?]/g, 'x');
    const claims = buildClaims({
      issuer,
      projectPath: input.projectPath,
      ...(first?.type === 'tag' ? { tag: ref } : { branch: ref }),
      audience: issuer.url,
      projectId: 'projectId' in extra ? extra.projectId : undefined,
      namespaceId: 'namespaceId' in extra ? extra.namespaceId : undefined,
      refProtected: true,
    });
    const own = evaluateTrustPolicy({
      policy,
      providerArn,
      clientIds: [issuer.url],
      context: buildRequestContext(claims, issuer),
    });
    expect(own.decision).toBe('allowed');
  });
});

/*
 * The policies init writes (buildTrustPolicy) must evaluate exactly as before the evaluator learned to
 * refuse undocumented readings: well formed, allowed for the intended refs with nothing assumed, and
 * every probe refused on documented grounds (no caveat).
 */
describe('init-written policies under the strict evaluator', () => {
  const gitlabCom = parseIssuerUrl('https://gitlab.com');
  const selfManaged = parseIssuerUrl('https://git.example.com/gitlab');
  const cases: Array<[string, Partial<TrustInput>, Array<{ type: 'branch' | 'tag'; name: string }>]> = [
    ['one branch', {}, [{ type: 'branch', name: 'main' }]],
    [
      'branches and tag patterns',
      {
        refs: [
          { type: 'branch', pattern: 'main' },
          { type: 'branch', pattern: 'release/*' },
          { type: 'tag', pattern: 'v*' },
        ],
      },
      [
        { type: 'branch', name: 'release/1.2' },
        { type: 'tag', name: 'v1.0.0' },
      ],
    ],
    [
      'protected refs, pinned IDs',
      { projectId: '42', namespaceId: '7', protectedOnly: true },
      [{ type: 'branch', name: 'main' }],
    ],
    ['self-managed with a path', { issuer: selfManaged }, [{ type: 'branch', name: 'main' }]],
  ];
  it.each(cases)('%s', (_name, over, intended) => {
    const issuer = over.issuer ?? gitlabCom;
    const trustInput: TrustInput = {
      providerArn: providerArnFor('aws', '123456789012', issuer),
      issuer,
      audience: issuer.url,
      projectPath: 'grp/sub/app',
      refs: [{ type: 'branch', pattern: 'main' }],
      ...over,
    };
    const { policy } = buildTrustPolicy(trustInput);
    const common = {
      issuer,
      providerArn: trustInput.providerArn,
      clientIds: [issuer.url],
      projectPath: trustInput.projectPath,
      refs: trustInput.refs,
      projectId: trustInput.projectId,
      namespaceId: trustInput.namespaceId,
      protectedOnly: trustInput.protectedOnly,
    };
    for (const ref of intended) {
      const claims = buildClaims({
        issuer,
        projectPath: trustInput.projectPath,
        ...(ref.type === 'branch' ? { branch: ref.name } : { tag: ref.name }),
        audience: issuer.url,
        projectId: trustInput.projectId,
        namespaceId: trustInput.namespaceId,
        refProtected: trustInput.protectedOnly ? true : undefined,
      });
      const r = evaluateTrustPolicy({
        policy,
        providerArn: trustInput.providerArn,
        clientIds: [issuer.url],
        context: buildRequestContext(claims, issuer),
      });
      expect(r, `${ref.type} ${ref.name}`).toMatchObject({
        decision: 'allowed',
        assumable: true,
        malformed: [],
        caveats: [],
      });
    }
    const checks = runExpectDenyChecks(policy, common);
    expect(checks.length).toBeGreaterThan(4);
    for (const c of checks) {
      expect(c.allowed, c.id).toBe(false);
      expect(c.evaluation.decision, c.id).toBe('denied-implicit');
      expect(c.evaluation.caveats, c.id).toEqual([]);
    }
  });
});

describe('a refusal that rests on an undocumented reading proves nothing', () => {
  it('a probe refused only because {"Federated": "*"} is read as not matching is NOT PROVEN REFUSED', () => {
    const exact = trust({
      StringEquals: { 'gitlab.com:sub': 'project_path:grp/app:ref_type:branch:ref:main' },
    });
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        ...(exact.Statement as PolicyStatement[]),
        {
          Effect: 'Allow',
          Principal: { Federated: '*' },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringLike: { 'gitlab.com:sub': 'project_path:grp/*' } },
        },
      ],
    };
    const checks = runExpectDenyChecks(policy, input());
    const unproven = checks.filter((c) => c.unproven).map((c) => c.id);
    expect(unproven).toEqual([
      'other-branch',
      'tag-not-allowed',
      'other-project',
      'project-name-prefix',
      'nested-subgroup',
    ]);
    expect(checks.filter((c) => c.unproven).every((c) => c.allowed)).toBe(true);
    // The look-alike group is refused on documented grounds: no caveat, proven.
    expect(checks.find((c) => c.id === 'look-alike-group')).toMatchObject({
      allowed: false,
      unproven: false,
    });
    expect(describeExpectDeny(checks).join('\n')).toMatch(
      /✗ NOT PROVEN REFUSED: another project .*IAM documents only "\*" and \{"AWS": "\*"\}/,
    );
  });
});
