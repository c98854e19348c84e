import { describe, expect, it } from 'vitest';
import { matchesStringLike } from '../../src/core/iam-conditions.js';
import { parseIssuerUrl, providerArnFor } from '../../src/core/issuer.js';
import {
  assertTrustPolicyFits,
  buildTrustPolicy,
  findTrustBroadening,
  trustPolicySize,
} from '../../src/core/trust-policy.js';
import type { PolicyDocument, PolicyStatement, RefRule, TrustInput } from '../../src/core/types.js';
import { usageError } from '../helpers/usage-error.js';

const gitlabCom = parseIssuerUrl('https://gitlab.com');
const selfManaged = parseIssuerUrl('https://git.example.com/gitlab');
const arnFor = (issuer = gitlabCom) => providerArnFor('aws', '123456789012', issuer);

function input(over: Partial<TrustInput> = {}): TrustInput {
  const issuer = over.issuer ?? gitlabCom;
  return {
    providerArn: arnFor(issuer),
    issuer,
    audience: issuer.url,
    projectPath: 'acme/app',
    refs: [{ type: 'branch', pattern: 'main' }],
    ...over,
  };
}

/**
 * Minimal IAM evaluation of an AssumeRoleWithWebIdentity request (StringEquals/StringLike only,
 * operators and keys ANDed, values ORed, key names case-insensitive, missing key = false).
 */
function allows(doc: PolicyDocument, providerArn: string, claims: Record<string, string>): boolean {
  const context = new Map(Object.entries(claims).map(([k, v]) => [k.toLowerCase(), v]));
  const statements: PolicyStatement[] = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return statements.some((st) => {
    if (st.Effect !== 'Allow') return false;
    const principal = st.Principal === '*' ? ['*'] : [st.Principal?.Federated ?? []].flat();
    if (!principal.includes(providerArn) && !principal.includes('*')) return false;
    if (![st.Action ?? []].flat().includes('sts:AssumeRoleWithWebIdentity')) return false;
    return Object.entries(st.Condition ?? {}).every(([op, block]) =>
      Object.entries(block).every(([key, raw]) => {
        const actual = context.get(key.toLowerCase());
        if (actual === undefined) return false;
        const values = [raw].flat().map(String);
        if (op === 'StringEquals') return values.includes(actual);
        if (op === 'StringLike') return values.some((p) => matchesStringLike(p, actual));
        throw new Error(`operator ${op} not modelled`);
      }),
    );
  });
}

function token(
  issuer: typeof gitlabCom,
  project: string,
  type: string,
  ref: string,
  extra: Record<string, string> = {},
) {
  return {
    [`${issuer.hostPath}:aud`]: issuer.url,
    [`${issuer.hostPath}:sub`]: `project_path:${project}:ref_type:${type}:ref:${ref}`,
    ...extra,
  };
}

describe('buildTrustPolicy', () => {
  it('gitlab.com, one literal branch: exact document', () => {
    const { policy } = buildTrustPolicy(input({ projectId: '42', namespaceId: '7', protectedOnly: true }));
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/gitlab.com' },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'gitlab.com:aud': 'https://gitlab.com',
              'gitlab.com:sub': 'project_path:acme/app:ref_type:branch:ref:main',
              'gitlab.com:project_id': '42',
              'gitlab.com:namespace_id': '7',
              'gitlab.com:ref_protected': 'true',
            },
          },
        },
      ],
    });
  });

  it('self-managed with a path: condition keys use host/path, no gitlab.com pins', () => {
    const { policy, warnings } = buildTrustPolicy(
      input({
        issuer: selfManaged,
        projectId: '42',
        protectedOnly: true,
        refs: [{ type: 'tag', pattern: 'v1.0' }],
      }),
    );
    const st = (policy.Statement as PolicyStatement[])[0]!;
    expect(st.Principal).toEqual({
      Federated: 'arn:aws:iam::123456789012:oidc-provider/git.example.com/gitlab',
    });
    expect(st.Condition).toEqual({
      StringEquals: {
        'git.example.com/gitlab:aud': 'https://git.example.com/gitlab',
        'git.example.com/gitlab:sub': 'project_path:acme/app:ref_type:tag:ref:v1.0',
      },
    });
    expect(warnings.join('\n')).toMatch(/--protected-only has no effect/);
    expect(warnings.join('\n')).toMatch(/IDs are not pinned/);
  });

  it('literal refs only: sub under StringEquals, several values as a list', () => {
    const refs: RefRule[] = [
      { type: 'branch', pattern: 'main' },
      { type: 'tag', pattern: 'v1.0' },
    ];
    const { policy } = buildTrustPolicy(input({ refs }));
    const cond = (policy.Statement as PolicyStatement[])[0]!.Condition!;
    expect(cond.StringLike).toBeUndefined();
    expect(cond.StringEquals!['gitlab.com:sub']).toEqual([
      'project_path:acme/app:ref_type:branch:ref:main',
      'project_path:acme/app:ref_type:tag:ref:v1.0',
    ]);
  });

  describe('literal and pattern refs mixed', () => {
    const refs: RefRule[] = [
      { type: 'branch', pattern: 'main' },
      { type: 'branch', pattern: 'release/*' },
      { type: 'tag', pattern: 'v?.*' },
    ];
    const { policy, warnings } = buildTrustPolicy(input({ refs, projectId: '42' }));
    const arn = arnFor();
    const withId = { 'gitlab.com:project_id': '42' };

    it('puts every sub value under StringLike and none under StringEquals', () => {
      const cond = (policy.Statement as PolicyStatement[])[0]!.Condition!;
      expect(cond.StringEquals!['gitlab.com:sub']).toBeUndefined();
      expect(cond.StringLike!['gitlab.com:sub']).toHaveLength(3);
      expect(policy.Statement as PolicyStatement[]).toHaveLength(1);
    });

    it.each([
      ['branch', 'main'],
      ['branch', 'release/1.0'],
      ['branch', 'release/x/y'],
      ['tag', 'v1.0'],
      ['tag', 'v2.3.4'],
    ])('allows a job on %s %s', (type, ref) => {
      expect(allows(policy, arn, token(gitlabCom, 'acme/app', type, ref, withId))).toBe(true);
    });

    it.each([
      ['acme/app', 'branch', 'main2'],
      ['acme/app', 'branch', 'feature/x'],
      ['acme/app', 'tag', 'main'],
      ['acme/app', 'branch', 'v1.0'],
      ['acme/app', 'tag', 'v10'],
      ['acme/app-2', 'branch', 'main'],
      ['acme/app/sub', 'branch', 'release/1'],
      ['evil/acme/app', 'branch', 'main'],
    ])('denies %s on %s %s', (project, type, ref) => {
      expect(allows(policy, arn, token(gitlabCom, project, type, ref, withId))).toBe(false);
    });

    it('denies a matching sub with the wrong audience or project_id', () => {
      const good = token(gitlabCom, 'acme/app', 'branch', 'main', withId);
      expect(allows(policy, arn, { ...good, 'gitlab.com:aud': 'sts.amazonaws.com' })).toBe(false);
      expect(allows(policy, arn, { ...good, 'gitlab.com:project_id': '43' })).toBe(false);
    });

    it('the naive form (literals under StringEquals AND patterns under StringLike) would deny main', () => {
      const naive = structuredClone(policy);
      const cond = (naive.Statement as PolicyStatement[])[0]!.Condition!;
      cond.StringEquals!['gitlab.com:sub'] = 'project_path:acme/app:ref_type:branch:ref:main';
      cond.StringLike!['gitlab.com:sub'] = [
        'project_path:acme/app:ref_type:branch:ref:release/*',
        'project_path:acme/app:ref_type:tag:ref:v?.*',
      ];
      expect(allows(naive, arn, token(gitlabCom, 'acme/app', 'branch', 'main', withId))).toBe(false);
    });

    it('warns that pattern refs should be protected', () => {
      expect(warnings.join('\n')).toMatch(/branch release\/\*, tag v\?\.\*.*--protected-only/);
    });
  });

  it('protected-only on gitlab.com pins ref_protected and silences the pattern warning', () => {
    const refs: RefRule[] = [{ type: 'branch', pattern: 'release/*' }];
    const { policy, warnings } = buildTrustPolicy(input({ refs, protectedOnly: true, projectId: '42' }));
    const claims = token(gitlabCom, 'acme/app', 'branch', 'release/1', { 'gitlab.com:project_id': '42' });
    expect(allows(policy, arnFor(), { ...claims, 'gitlab.com:ref_protected': 'true' })).toBe(true);
    expect(allows(policy, arnFor(), { ...claims, 'gitlab.com:ref_protected': 'false' })).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('warns about a path-only binding on gitlab.com', () => {
    expect(buildTrustPolicy(input()).warnings.join('\n')).toMatch(/--project-id/);
    expect(buildTrustPolicy(input({ projectId: '42' })).warnings.join('\n')).not.toMatch(/--project-id/);
  });

  it('any-ref needs allowAnyRef and is reported as broadening', () => {
    const refs: RefRule[] = [{ type: 'branch', pattern: '*' }];
    const error = usageError(() => buildTrustPolicy(input({ refs })));
    expect(error.issues[0]?.field).toBe('--branch');
    const result = buildTrustPolicy(input({ refs, allowAnyRef: true }));
    expect(result.broadening).toEqual(['Any branch of acme/app can assume the role (branch pattern "*").']);
    expect(allows(result.policy, arnFor(), token(gitlabCom, 'acme/app', 'branch', 'x'))).toBe(true);
    expect(allows(result.policy, arnFor(), token(gitlabCom, 'acme/other', 'branch', 'x'))).toBe(false);
  });

  it.each([
    [{ projectPath: 'acme/*' }, '--project'],
    [{ projectPath: 'acme*/app' }, '--project'],
    [{ refs: [] }, '--branch'],
    [{ refs: [{ type: 'tag', pattern: '**' }] as RefRule[] }, '--tag'],
    [{ refs: [{ type: 'branch', pattern: 'a b' }] as RefRule[] }, '--branch'],
    [{ refs: [{ type: 'tag', pattern: 'refs/tags/v1' }] as RefRule[] }, '--tag'],
    [{ audience: '' }, '--audience'],
    [{ audience: 'sts.*' }, '--audience'],
    // IAM would fill `${…}` from the request: `${gitlab.com:aud}` equals every token's aud.
    [{ audience: `$\{gitlab.com:aud}` }, '--audience'],
    [{ audience: `https://gitlab.com$\{*}` }, '--audience'],
    [{ projectId: 'abc' }, '--project-id'],
    [{ namespaceId: '-1' }, '--namespace-id'],
  ])('refuses %j', (over, field) => {
    expect(usageError(() => buildTrustPolicy(input(over))).issues[0]?.field).toBe(field);
  });
});

describe('buildTrustPolicy --sub-claim project-id (project_id-first sub)', () => {
  const idToken = (issuer: typeof gitlabCom, id: string, type: string, ref: string) => ({
    [`${issuer.hostPath}:aud`]: issuer.url,
    [`${issuer.hostPath}:sub`]: `project_id:${id}:ref_type:${type}:ref:${ref}`,
  });

  it('self-managed: sub names project_id:<id>, no path anywhere; only that ID and ref are allowed', () => {
    const { policy, warnings } = buildTrustPolicy(
      input({ issuer: selfManaged, projectId: '42', subClaim: 'project_id' }),
    );
    const st = (policy.Statement as PolicyStatement[])[0]!;
    expect(st.Condition).toEqual({
      StringEquals: {
        'git.example.com/gitlab:aud': 'https://git.example.com/gitlab',
        'git.example.com/gitlab:sub': 'project_id:42:ref_type:branch:ref:main',
      },
    });
    expect(JSON.stringify(policy)).not.toContain('acme/app');
    expect(warnings.join('\n')).not.toMatch(/IDs are not pinned/);
    const arn = arnFor(selfManaged);
    expect(allows(policy, arn, idToken(selfManaged, '42', 'branch', 'main'))).toBe(true);
    // A new project that took over the path has another ID: refused. So is another ref, and the path form.
    expect(allows(policy, arn, idToken(selfManaged, '43', 'branch', 'main'))).toBe(false);
    expect(allows(policy, arn, idToken(selfManaged, '420', 'branch', 'main'))).toBe(false);
    expect(allows(policy, arn, idToken(selfManaged, '42', 'branch', 'dev'))).toBe(false);
    expect(allows(policy, arn, idToken(selfManaged, '42', 'tag', 'main'))).toBe(false);
    expect(allows(policy, arn, token(selfManaged, 'acme/app', 'branch', 'main'))).toBe(false);
  });

  it('patterns go under StringLike as in the path form, and cannot reach another ID', () => {
    const { policy } = buildTrustPolicy(
      input({
        issuer: selfManaged,
        projectId: '42',
        subClaim: 'project_id',
        refs: [
          { type: 'branch', pattern: 'main' },
          { type: 'branch', pattern: 'release/*' },
        ],
      }),
    );
    const cond = (policy.Statement as PolicyStatement[])[0]!.Condition!;
    expect(cond.StringLike).toEqual({
      'git.example.com/gitlab:sub': [
        'project_id:42:ref_type:branch:ref:main',
        'project_id:42:ref_type:branch:ref:release/*',
      ],
    });
    const arn = arnFor(selfManaged);
    expect(allows(policy, arn, idToken(selfManaged, '42', 'branch', 'release/1'))).toBe(true);
    expect(allows(policy, arn, idToken(selfManaged, '4', 'branch', 'release/1'))).toBe(false);
    expect(allows(policy, arn, idToken(selfManaged, '421', 'branch', 'release/1'))).toBe(false);
  });

  it('gitlab.com keeps the gitlab.com:project_id pin (so a switch drops no condition) and has no path warning', () => {
    const { policy, warnings } = buildTrustPolicy(input({ projectId: '42', subClaim: 'project_id' }));
    expect((policy.Statement as PolicyStatement[])[0]!.Condition!.StringEquals).toEqual({
      'gitlab.com:aud': 'https://gitlab.com',
      'gitlab.com:sub': 'project_id:42:ref_type:branch:ref:main',
      'gitlab.com:project_id': '42',
    });
    expect(warnings.join('\n')).not.toMatch(/project path only/);
  });

  it('refuses the project_id form without a project ID, naming --project-id', () => {
    const error = usageError(() => buildTrustPolicy(input({ issuer: selfManaged, subClaim: 'project_id' })));
    expect(error.issues[0]?.field).toBe('--project-id');
    expect(error.message).toMatch(/--sub-claim project-id/);
  });

  it('switching the form is not broadening when path and ID are the same project (GitLab said so)', () => {
    const byPath = buildTrustPolicy(input({ issuer: selfManaged })).policy;
    const byId = buildTrustPolicy(
      input({ issuer: selfManaged, projectId: '42', subClaim: 'project_id' }),
    ).policy;
    const same = { projectPath: 'acme/app', projectId: '42' };
    expect(findTrustBroadening(byPath, byId, { sameProject: same })).toEqual([]);
    expect(findTrustBroadening(byId, byPath, { sameProject: same })).toEqual([]);
    // Without that knowledge, a new sub value; with another ID, still one.
    expect(findTrustBroadening(byPath, byId)).toEqual([
      'allows new sub value(s): project_id:42:ref_type:branch:ref:main',
    ]);
    expect(findTrustBroadening(byPath, byId, { sameProject: { ...same, projectId: '43' } })).toHaveLength(1);
    // A wider ref in the new form is still broadening.
    const wider = buildTrustPolicy(
      input({
        issuer: selfManaged,
        projectId: '42',
        subClaim: 'project_id',
        refs: [{ type: 'branch', pattern: 'm*' }],
      }),
    ).policy;
    expect(findTrustBroadening(byPath, wider, { sameProject: same })).toEqual([
      'allows new sub value(s): project_id:42:ref_type:branch:ref:m*',
    ]);
  });
});

describe('trust policy size', () => {
  it('counts JSON characters without whitespace', () => {
    const { policy } = buildTrustPolicy(input());
    expect(trustPolicySize(policy)).toBe(JSON.stringify(policy).length);
    expect(trustPolicySize(policy)).toBe(JSON.stringify(policy, null, 2).replace(/\s/g, '').length);
  });

  it('passes under the quota and says how far over it is', () => {
    const few = buildTrustPolicy(input()).policy;
    expect(() => assertTrustPolicyFits(few)).not.toThrow();
    const refs: RefRule[] = Array.from({ length: 40 }, (_, i) => ({
      type: 'branch',
      pattern: `feature/number-${i}`,
    }));
    const many = buildTrustPolicy(input({ refs })).policy;
    const size = trustPolicySize(many);
    expect(size).toBeGreaterThan(2048);
    const error = usageError(() => assertTrustPolicyFits(many));
    expect(error.message).toBe(
      `The trust policy is ${size} characters (whitespace excluded), ${size - 2048} over the 2048-character quota.`,
    );
    expect(error.hint).toMatch(/up to 8,192\) in Service Quotas and pass --trust-policy-max/);
    expect(() => assertTrustPolicyFits(many, 4096)).not.toThrow();
    expect(() => assertTrustPolicyFits(many, size)).not.toThrow();
    expect(() => assertTrustPolicyFits(many, size - 1)).toThrow(/1 over/);
  });
});

describe('findTrustBroadening', () => {
  const base = buildTrustPolicy(input({ projectId: '42', protectedOnly: true })).policy;
  const build = (over: Partial<TrustInput>) =>
    buildTrustPolicy(input({ projectId: '42', protectedOnly: true, ...over })).policy;

  it('nothing for the same policy or a narrower one', () => {
    expect(findTrustBroadening(base, base)).toEqual([]);
    const wide = build({ refs: [{ type: 'branch', pattern: 'release/*' }] });
    const narrow = build({ refs: [{ type: 'branch', pattern: 'release/1' }] });
    expect(findTrustBroadening(wide, narrow)).toEqual([]);
    expect(findTrustBroadening(build({ protectedOnly: false }), base)).toEqual([]);
  });

  it('flags new sub values and patterns', () => {
    const more = build({
      refs: [
        { type: 'branch', pattern: 'main' },
        { type: 'branch', pattern: 'dev*' },
      ],
    });
    expect(findTrustBroadening(base, more)).toEqual([
      'allows new sub value(s): project_path:acme/app:ref_type:branch:ref:dev*',
    ]);
  });

  it('flags removed pins', () => {
    const reasons = findTrustBroadening(base, build({ projectId: undefined, protectedOnly: false }));
    expect(reasons).toEqual([
      'drops the condition gitlab.com:project_id = "42"',
      'drops the condition gitlab.com:ref_protected = "true"',
    ]);
  });

  it('flags a changed pin value, audience and principal', () => {
    expect(findTrustBroadening(base, build({ projectId: '43' }))).toEqual([
      'replaces the condition gitlab.com:project_id = "42" with "43"',
    ]);
    expect(findTrustBroadening(base, build({ audience: 'sts.amazonaws.com' }))).toEqual([
      'accepts new audience(s): sts.amazonaws.com',
    ]);
    const other = buildTrustPolicy(input({ issuer: selfManaged })).policy;
    expect(findTrustBroadening(base, other).join('\n')).toMatch(/new principal.*git\.example\.com/);
  });

  it('a pin that keeps its old value and adds one widens it (not "replaces")', () => {
    const wider = structuredClone(base);
    (wider.Statement as PolicyStatement[])[0]!.Condition!.StringEquals!['gitlab.com:project_id'] = [
      '42',
      '43',
    ];
    expect(findTrustBroadening(base, wider)).toEqual([
      'widens the condition gitlab.com:project_id = "42" to "42", "43"',
    ]);
  });

  it('flags a statement without sub (e.g. a hand-edited policy)', () => {
    const open = structuredClone(base);
    delete (open.Statement as PolicyStatement[])[0]!.Condition!.StringEquals!['gitlab.com:sub'];
    expect(findTrustBroadening(base, open)).toContain('a statement no longer restricts sub');
  });
});
