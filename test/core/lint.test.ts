import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type Finding,
  hasFindingsAtLeast,
  lintTrustPolicy,
  RULE_IDS,
  RULES,
  type RuleId,
  type Severity,
  severityAtLeast,
  sortFindings,
  type TrustLintContext,
} from '../../src/core/lint.js';
import type { PolicyDocument } from '../../src/core/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const corpus = join(here, '..', 'fixtures', 'trust-policies');
const load = (file: string) => JSON.parse(readFileSync(join(corpus, file), 'utf8')) as PolicyDocument;

const SM = 'arn:aws:iam::123456789012:oidc-provider/gitlab.example.com';
const smProvider = (clientIds: string[]) => ({
  providers: [{ arn: SM, url: 'https://gitlab.example.com', clientIds }],
});

interface Case {
  file: string;
  ids: RuleId[];
  ctx?: TrustLintContext;
  /** Expected severity of every finding of this rule, where the case is about severity. */
  severity?: Partial<Record<RuleId, Severity>>;
}

const good: Case[] = [
  { file: 'good/gitlab-com-main-pinned.json', ids: [] },
  { file: 'good/gitlab-com-tags-protected.json', ids: [] },
  { file: 'good/gitlab-com-branch-list.json', ids: [] },
  { file: 'good/gitlab-com-project-id-sub.json', ids: [] },
  { file: 'good/self-managed-literal.json', ids: [] },
  { file: 'good/self-managed-subgroup-path.json', ids: [] },
  { file: 'good/self-managed-protected-in-sub.json', ids: [] },
  { file: 'good/self-managed-relative-url.json', ids: [] },
  { file: 'good/anded-literal-anchor.json', ids: [] },
  { file: 'good/deny-statement-ignored.json', ids: [] },
  { file: 'good/object-statement.json', ids: [] },
  { file: 'good/aud-matches-provider.json', ids: [], ctx: smProvider(['sts.amazonaws.com']) },
  // GitHub's AWS guide and its environment form (docs.github.com, "OpenID Connect reference").
  { file: 'good/github-aws-docs.json', ids: [] },
  { file: 'good/github-environment.json', ids: [] },
  {
    file: 'good/gitlab-com-minimal.json',
    ids: ['GAO011', 'GAO012'],
    severity: { GAO011: 'low', GAO012: 'low' },
  },
  // GitLab's AWS guide (docs.gitlab.com/ee/ci/cloud_services/aws), verbatim: only hardening advice.
  { file: 'good/gitlab-docs-example.json', ids: ['GAO015'], severity: { GAO015: 'low' } },
  {
    file: 'good/gitlab-docs-example-gitlab-com.json',
    ids: ['GAO011', 'GAO012', 'GAO015'],
    severity: { GAO011: 'low', GAO012: 'low', GAO015: 'low' },
  },
  { file: 'good/project-id-mitigates-group-wide.json', ids: ['GAO008'], severity: { GAO008: 'low' } },
  {
    file: 'good/read-only-any-branch.json',
    ids: ['GAO009'],
    ctx: { isWriteRole: false },
    severity: { GAO009: 'medium' },
  },
];

const bad: Case[] = [
  { file: 'bad/principal-wildcard.json', ids: ['GAO001'], severity: { GAO001: 'critical' } },
  { file: 'bad/principal-aws-wildcard.json', ids: ['GAO001'] },
  { file: 'bad/not-principal.json', ids: ['GAO001'] },
  { file: 'bad/missing-sub-gitlab-com.json', ids: ['GAO002'], severity: { GAO002: 'critical' } },
  { file: 'bad/missing-sub-self-managed.json', ids: ['GAO002'], severity: { GAO002: 'critical' } },
  { file: 'bad/no-condition.json', ids: ['GAO002', 'GAO015'] },
  { file: 'bad/sub-star.json', ids: ['GAO003'], severity: { GAO003: 'critical' } },
  { file: 'bad/sub-project-path-star.json', ids: ['GAO003', 'GAO009'] },
  { file: 'bad/sub-project-id-star.json', ids: ['GAO003'] },
  { file: 'bad/sub-any-project-fixed-ref.json', ids: ['GAO003'] },
  { file: 'bad/namespace-wildcard.json', ids: ['GAO004', 'GAO011'], severity: { GAO004: 'critical' } },
  { file: 'bad/namespace-wildcard-self-managed.json', ids: ['GAO004'] },
  {
    file: 'bad/forallvalues-other-host-fails-open.json',
    ids: ['GAO002', 'GAO005'],
    severity: { GAO005: 'critical' },
  },
  {
    file: 'bad/ifexists-other-host-fails-open.json',
    ids: ['GAO002', 'GAO005'],
    severity: { GAO005: 'critical' },
  },
  // Never matches: reported as such, not also as open to anyone (GAO002).
  { file: 'bad/key-for-another-host.json', ids: ['GAO023'] },
  { file: 'bad/unsupported-claim-no-sub.json', ids: ['GAO024'] },
  { file: 'bad/unsupported-claim-self-managed.json', ids: ['GAO024'] },
  { file: 'bad/unsupported-claim-ifexists.json', ids: ['GAO005', 'GAO010'], severity: { GAO005: 'high' } },
  { file: 'bad/forallvalues-sub.json', ids: ['GAO006', 'GAO014'], severity: { GAO006: 'high' } },
  // ForAnyValue fails closed when the claim is absent: odd on a single-valued key, not fail-open.
  { file: 'bad/foranyvalue-sub.json', ids: ['GAO006'], severity: { GAO006: 'low' } },
  { file: 'bad/ifexists-aud.json', ids: ['GAO006'] },
  { file: 'bad/negative-only-sub.json', ids: ['GAO007'], severity: { GAO007: 'high' } },
  { file: 'bad/group-wide.json', ids: ['GAO008'], severity: { GAO008: 'high' } },
  { file: 'bad/group-wide-any-ref.json', ids: ['GAO008', 'GAO009'] },
  { file: 'bad/project-name-prefix.json', ids: ['GAO008'] },
  { file: 'bad/any-ref.json', ids: ['GAO009'], severity: { GAO009: 'high' } },
  { file: 'bad/any-ref.json', ids: ['GAO009'], ctx: { isWriteRole: true }, severity: { GAO009: 'high' } },
  { file: 'bad/any-ref-trailing.json', ids: ['GAO009'] },
  { file: 'bad/missing-ref-type.json', ids: ['GAO009'] },
  { file: 'bad/ref-prefix-wildcard.json', ids: ['GAO010'], severity: { GAO010: 'high' } },
  { file: 'bad/tag-prefix-unprotected.json', ids: ['GAO010'] },
  { file: 'bad/path-only-gitlab-com.json', ids: ['GAO011'], severity: { GAO011: 'low' } },
  { file: 'bad/unprotected-literal-ref.json', ids: ['GAO012'], severity: { GAO012: 'low' } },
  { file: 'bad/many-projects.json', ids: ['GAO013'], severity: { GAO013: 'medium' } },
  { file: 'bad/stringlike-no-wildcard.json', ids: ['GAO014'], severity: { GAO014: 'low' } },
  { file: 'bad/no-aud.json', ids: ['GAO015'] },
  { file: 'bad/wildcard-under-stringequals.json', ids: ['GAO020'], severity: { GAO020: 'functional' } },
  { file: 'bad/ref-type-mr.json', ids: ['GAO021'] },
  { file: 'bad/aud-not-client-id.json', ids: ['GAO022'], ctx: smProvider(['sts.amazonaws.com']) },
  { file: 'bad/ref-full-name.json', ids: ['GAO025'] },
  { file: 'bad/wrong-action.json', ids: ['GAO026'] },
  { file: 'bad/github-style-sub.json', ids: ['GAO027'] },
  { file: 'bad/project-path-without-namespace.json', ids: ['GAO027'] },
  { file: 'bad/unknown-provider.json', ids: ['GAO028'], ctx: { providers: [] } },
  // IAM refuses these (MalformedPolicyDocument): the policy a change means to apply never is.
  { file: 'bad/unknown-operator.json', ids: ['GAO029'], severity: { GAO029: 'high' } },
  { file: 'bad/malformed-effect-case.json', ids: ['GAO043'], severity: { GAO043: 'high' } },
  // A Deny with a mis-cased operator: not "deny applies", and not silently ignored either.
  { file: 'bad/malformed-deny-operator-case.json', ids: ['GAO029'], severity: { GAO029: 'high' } },
  { file: 'bad/malformed-resource.json', ids: ['GAO043'], severity: { GAO043: 'high' } },
  // Never matches (aud key for another host), and would match any project once fixed: said, at medium.
  {
    file: 'bad/dead-statement-any-project.json',
    ids: ['GAO023', 'GAO003', 'GAO009', 'GAO015'],
    severity: { GAO023: 'functional', GAO003: 'medium', GAO009: 'medium', GAO015: 'low' },
  },
  { file: 'bad/multiple-statements-one-weak.json', ids: ['GAO003', 'GAO009'] },
  { file: 'bad/list-one-weak-value.json', ids: ['GAO008', 'GAO009'] },
  { file: 'bad/literal-without-ref.json', ids: ['GAO009'], severity: { GAO009: 'medium' } },
  // GitHub Actions trust, as found in the same accounts.
  {
    file: 'bad/github-owner-wide.json',
    ids: ['GAO017', 'GAO018'],
    severity: { GAO017: 'high', GAO018: 'high' },
  },
  { file: 'bad/github-owner-wildcard.json', ids: ['GAO016'], severity: { GAO016: 'critical' } },
  { file: 'bad/github-any-ref.json', ids: ['GAO018'], severity: { GAO018: 'high' } },
  { file: 'bad/github-negative-only.json', ids: ['GAO007'], severity: { GAO007: 'high' } },
  { file: 'bad/github-no-aud.json', ids: ['GAO015'], severity: { GAO015: 'low' } },
  { file: 'bad/github-short-ref.json', ids: ['GAO027'], severity: { GAO027: 'functional' } },
  { file: 'bad/github-tag-pattern.json', ids: ['GAO019'], severity: { GAO019: 'medium' } },
];

const idsOf = (findings: Finding[]) => findings.map((f) => f.ruleId).sort();

describe('trust-policy corpus', () => {
  it('has a table row for every fixture file', () => {
    const files = ['good', 'bad'].flatMap((d) => readdirSync(join(corpus, d)).map((f) => `${d}/${f}`));
    const covered = new Set([...good, ...bad].map((c) => c.file));
    expect(files.filter((f) => !covered.has(f))).toEqual([]);
  });

  it.each([...good, ...bad].map((c) => [c.file, c] as const))('%s → exact rule IDs', (_file, c) => {
    const findings = lintTrustPolicy(load(c.file), c.ctx);
    expect(idsOf(findings)).toEqual([...c.ids].sort());
    for (const [id, severity] of Object.entries(c.severity ?? {})) {
      for (const f of findings.filter((x) => x.ruleId === id))
        expect(f.severity, `${id} severity`).toBe(severity);
    }
    for (const f of findings) {
      expect(f.title).toBe(RULES[f.ruleId].title);
      expect(f.why.length).toBeGreaterThan(20);
      expect(f.fix.length).toBeGreaterThan(10);
      expect(typeof f.statementIndex).toBe('number');
    }
  });

  it.each(good.map((c) => [c.file, c] as const))(
    '%s has no high, critical or functional finding',
    (_file, c) => {
      expect(hasFindingsAtLeast(lintTrustPolicy(load(c.file), c.ctx), 'functional')).toBe(false);
    },
  );

  it.each(bad.map((c) => [c.file, c] as const))('%s has at least one finding', (_file, c) => {
    expect(lintTrustPolicy(load(c.file), c.ctx).length).toBeGreaterThan(0);
  });

  it('covers every trust-policy rule with at least one bad fixture', () => {
    const seen = new Set(bad.flatMap((c) => c.ids));
    const trustRules = RULE_IDS.filter((id) => RULES[id].scope === 'trust-policy');
    expect(trustRules.filter((id) => !seen.has(id))).toEqual([]);
  });
});

describe('lintTrustPolicy details', () => {
  it('points at the weak statement only when several statements exist', () => {
    const findings = lintTrustPolicy(load('bad/multiple-statements-one-weak.json'));
    expect(findings.every((f) => f.statementIndex === 1 && f.sid === 'Legacy')).toBe(true);
    const any = findings.find((f) => f.ruleId === 'GAO003');
    expect(any).toMatchObject({
      conditionKey: 'gitlab.example.com:sub',
      operator: 'StringLike',
      value: 'project_path:*',
      severity: 'critical',
    });
  });

  it('judges every value of a list: the weak value is named', () => {
    const findings = lintTrustPolicy(load('bad/list-one-weak-value.json'));
    expect(findings.map((f) => f.value)).toEqual(['project_path:ops/*', 'project_path:ops/*']);
  });

  it('does not call a literal next to patterns under StringLike confusion (the list must share one operator)', () => {
    const doc = load('bad/stringlike-no-wildcard.json');
    const cond = (doc.Statement as { Condition: Record<string, Record<string, unknown>> }[])[0]!.Condition;
    cond.StringLike!['gitlab.example.com:sub'] = [
      'project_path:ops/infra:ref_type:branch:ref:main',
      'project_path:ops/infra:ref_type:tag:ref:v*',
    ];
    expect(lintTrustPolicy(doc, { isWriteRole: true }).map((f) => f.ruleId)).toEqual(['GAO010']);
  });

  it('reports fail-open conditions with the key, operator and a fix using the provider host', () => {
    const [f] = lintTrustPolicy(load('bad/forallvalues-other-host-fails-open.json')).filter(
      (x) => x.ruleId === 'GAO005',
    );
    expect(f).toMatchObject({ conditionKey: 'gitlab.example.com:sub', operator: 'ForAllValues:StringLike' });
    expect(f?.fix).toContain('gitlab.com:sub');
    expect(f?.why).toMatch(/passes when it is missing/);
  });

  it.each([
    ['ForAnyValue:StringEquals', 'low', /fails closed/],
    ['ForAnyValue:StringLike', 'low', /fails closed/],
    ['ForAllValues:StringEquals', 'high', /passes when the claim is absent/],
    ['StringEqualsIfExists', 'high', /passes when the claim is absent/],
    ['ForAnyValue:StringEqualsIfExists', 'high', /passes when the claim is absent/],
  ])('GAO006: %s on sub is %s', (operator, severity, why) => {
    const doc = load('bad/foranyvalue-sub.json');
    const cond = (doc.Statement as { Condition: Record<string, unknown> }[])[0]!.Condition;
    cond[operator] = cond['ForAnyValue:StringEquals'];
    if (operator !== 'ForAnyValue:StringEquals') delete cond['ForAnyValue:StringEquals'];
    const f = lintTrustPolicy(doc).find((x) => x.ruleId === 'GAO006');
    expect(f).toMatchObject({ severity, operator, conditionKey: 'gitlab.com:sub' });
    expect(f?.why).toMatch(why);
    if (severity === 'low') expect(f?.why).not.toMatch(/passes when|permissive/);
  });

  describe('a statement that can never match is not also open to anyone', () => {
    const GL = 'arn:aws:iam::123456789012:oidc-provider/gitlab.com';
    const st = (over: Record<string, unknown>) =>
      ({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Federated: GL }, Action: 'sts:AssumeRoleWithWebIdentity', ...over },
        ],
      }) as PolicyDocument;
    const MAIN = 'project_path:a/b:ref_type:branch:ref:main';
    const glProvider = {
      providers: [{ arn: GL, url: 'https://gitlab.com', clientIds: ['https://gitlab.com'] }],
    };
    it.each<[string, PolicyDocument, TrustLintContext | undefined, RuleId]>([
      [
        'a key for another host',
        st({ Condition: { StringEquals: { 'gitlab.example.com:project_path': 'acme/web' } } }),
        undefined,
        'GAO023',
      ],
      [
        'a claim the issuer never exposes',
        st({ Condition: { StringEquals: { 'gitlab.com:project_name': 'web' } } }),
        undefined,
        'GAO024',
      ],
      ['the wrong action', st({ Action: 'sts:AssumeRole' }), undefined, 'GAO026'],
      ['a provider that does not exist', st({}), { providers: [] }, 'GAO028'],
      [
        'an aud that is not a client ID',
        st({ Condition: { StringEquals: { 'gitlab.com:aud': 'sts.amazonaws.com' } } }),
        glProvider,
        'GAO022',
      ],
      [
        'a literal * under StringEquals',
        st({ Condition: { StringEquals: { 'gitlab.com:project_id': '*' } } }),
        undefined,
        'GAO020',
      ],
      [
        'an unknown operator',
        st({ Condition: { StringEqualz: { 'gitlab.com:aud': 'https://gitlab.com' } } }),
        undefined,
        'GAO029',
      ],
    ])('%s: no GAO002, and the dead finding warns that sub is unrestricted', (_name, doc, ctx, rule) => {
      const findings = lintTrustPolicy(doc, ctx);
      expect(findings.map((f) => f.ruleId)).not.toContain('GAO002');
      expect(hasFindingsAtLeast(findings, 'critical')).toBe(false);
      const dead = findings.find((f) => f.ruleId === rule);
      expect(dead?.why).toMatch(
        /no job can assume the role|no token is accepted|never (applies|matches)|IAM refuses/,
      );
      expect(dead?.why).toMatch(/nothing restricts sub/i);
      expect(dead?.fix).toContain('gitlab.com:sub');
    });

    it.each([
      ['a sub key for another host', { StringEquals: { 'gitlab.example.com:sub': MAIN } }, 'GAO023'],
      ['sub under a misspelt operator', { StringEqualz: { 'gitlab.com:sub': MAIN } }, 'GAO029'],
    ])('%s: fixing it restricts sub, so no GAO002 and no note', (_name, condition, rule) => {
      const findings = lintTrustPolicy(st({ Condition: condition }));
      expect(findings.map((f) => f.ruleId).sort()).toEqual([rule, 'GAO015'].sort());
      expect(findings[0]?.why).not.toMatch(/nothing restricts sub/i);
    });

    it('a fail-open condition does not make the statement dead: GAO002 stays critical', () => {
      const findings = lintTrustPolicy(load('bad/ifexists-other-host-fails-open.json'));
      expect(findings.find((f) => f.ruleId === 'GAO002')?.severity).toBe('critical');
    });

    it('a second, live statement still reports GAO002', () => {
      const doc = st({ Condition: { StringEquals: { 'gitlab.com:project_name': 'web' } } });
      (doc.Statement as unknown[]).push({
        Effect: 'Allow',
        Principal: { Federated: GL },
        Action: 'sts:AssumeRoleWithWebIdentity',
      });
      const findings = lintTrustPolicy(doc);
      expect(
        findings.filter((f) => f.ruleId === 'GAO002').map((f) => [f.statementIndex, f.severity]),
      ).toEqual([[1, 'critical']]);
    });
  });

  describe('a policy IAM refuses to store (MalformedPolicyDocument)', () => {
    const GL = 'arn:aws:iam::123456789012:oidc-provider/gitlab.com';
    const MAIN = 'project_path:a/b:ref_type:branch:ref:main';
    const doc = (over: Record<string, unknown>, top: Record<string, unknown> = {}) =>
      ({
        Version: '2012-10-17',
        ...top,
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: GL },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: {
                'gitlab.com:aud': 'https://gitlab.com',
                'gitlab.com:sub': MAIN,
                'gitlab.com:project_id': '42',
                'gitlab.com:ref_protected': 'true',
              },
            },
            ...over,
          },
        ],
      }) as unknown as PolicyDocument;
    const malformed = (d: PolicyDocument) => lintTrustPolicy(d).filter((f) => f.ruleId === 'GAO043');

    it('the well-formed base has no finding', () => {
      expect(lintTrustPolicy(doc({}))).toEqual([]);
    });

    it.each<[string, Record<string, unknown>, RegExp, string]>([
      ['Effect in lower case', { Effect: 'allow' }, /Effect "allow" is not "Allow" or "Deny"/, 'Effect'],
      ['no Action', { Action: undefined }, /has no Action/, 'Action'],
      ['both Action and NotAction', { NotAction: 'sts:AssumeRole' }, /both Action and NotAction/, 'Action'],
      ['no Principal', { Principal: undefined }, /has no Principal/, 'Principal'],
      [
        'a principal type IAM does not know',
        { Principal: { OIDC: GL } },
        /"OIDC" is not a principal type/,
        'Principal',
      ],
      ['a Resource element', { Resource: '*' }, /has a Resource element/, 'Resource'],
      [
        'a condition value that is not a scalar',
        { Condition: { StringEquals: { 'gitlab.com:sub': { a: 1 } } } },
        /is not a string, number, boolean or a list of them/,
        'Condition',
      ],
    ])('%s: one high GAO043 naming the reason, at the statement', (_name, over, reason, element) => {
      const found = malformed(doc(over));
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ severity: 'high', statementIndex: 0, element });
      expect(found[0]?.why).toMatch(/^IAM refuses this policy \(MalformedPolicyDocument\): /);
      expect(found[0]?.why).toMatch(reason);
      expect(found[0]?.title).toBe(RULES.GAO043.title);
    });

    it('a Version IAM does not know: GAO043 on the document, located at Version', () => {
      const found = lintTrustPolicy(doc({}, { Version: '2012-10-18' }));
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ ruleId: 'GAO043', severity: 'high', element: 'Version' });
      expect(found[0]?.statementIndex).toBeUndefined();
      expect(found[0]?.why).toMatch(/"2012-10-18"/);
    });

    it('a Version IAM refuses: no statement is "anyone can assume" either (GAO002 folds into GAO043, per statement)', () => {
      const open = { Condition: { StringEquals: { 'gitlab.com:aud': 'https://gitlab.com' } } };
      const d = doc(open, { Version: '2012-10-18' });
      (d.Statement as unknown[]).push({ ...((d.Statement as unknown[])[0] as object) });
      const findings = lintTrustPolicy(d);
      expect(findings.map((f) => f.ruleId)).toEqual(['GAO043']);
      expect(findings[0]?.why).toMatch(/Nothing restricts sub in statement #0 either/);
      expect(findings[0]?.why).toMatch(/Nothing restricts sub in statement #1 either/);
      expect(hasFindingsAtLeast(findings, 'critical')).toBe(false);
    });

    it('an unknown operator is GAO029 only (never also GAO043), in Allow and Deny statements alike', () => {
      const allow = lintTrustPolicy(doc({ Condition: { StringEqualz: { 'gitlab.com:sub': MAIN } } }));
      expect(allow.map((f) => f.ruleId).sort()).toEqual(['GAO015', 'GAO029']);
      const deny = lintTrustPolicy(load('bad/malformed-deny-operator-case.json'));
      expect(deny).toHaveLength(1);
      expect(deny[0]).toMatchObject({
        ruleId: 'GAO029',
        statementIndex: 1,
        sid: 'NoForks',
        operator: 'stringnotequals',
        severity: 'high',
      });
      expect(deny[0]?.why).toMatch(/IAM refuses this policy \(MalformedPolicyDocument\)/);
      expect(deny[0]?.why).toMatch(/case sensitive: IAM knows StringNotEquals/);
      expect(deny[0]?.fix).toBe('Spell it StringNotEquals.');
    });

    it('an Allow in lower case is not also "anyone can assume": GAO002 is folded into GAO043', () => {
      const findings = lintTrustPolicy(load('bad/malformed-effect-case.json'));
      expect(findings.map((f) => f.ruleId)).toEqual(['GAO043']);
      expect(findings[0]?.why).toMatch(/nothing restricts sub either/i);
      expect(findings[0]?.fix).toContain('gitlab.example.com:sub');
      expect(hasFindingsAtLeast(findings, 'critical')).toBe(false);
    });

    it('{"Federated": "*"} is GAO001 (read as a wildcard) and says IAM does not document it', () => {
      const f = lintTrustPolicy(doc({ Principal: { Federated: '*' } })).find((x) => x.ruleId === 'GAO001');
      expect(f?.severity).toBe('critical');
      expect(f?.why).toMatch(/does not document/);
    });
  });

  describe('findings next to "never matches" describe the statement once fixed, and never outrank it', () => {
    const GL = 'arn:aws:iam::123456789012:oidc-provider/gitlab.com';
    const st = (over: Record<string, unknown>) =>
      ({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Federated: GL }, Action: 'sts:AssumeRoleWithWebIdentity', ...over },
        ],
      }) as unknown as PolicyDocument;
    const anyProject = { 'gitlab.com:sub': 'project_path:*' };
    it.each<[string, Record<string, unknown>, RuleId, Severity]>([
      [
        'a key for another host',
        { Condition: { StringEquals: { 'gitlab.example.com:aud': 'x' }, StringLike: anyProject } },
        'GAO023',
        'functional',
      ],
      [
        'the wrong action',
        { Action: 'sts:AssumeRole', Condition: { StringLike: anyProject } },
        'GAO026',
        'functional',
      ],
      ['Effect in lower case', { Effect: 'allow', Condition: { StringLike: anyProject } }, 'GAO043', 'high'],
    ])('%s: GAO003 is kept, at medium, worded as what it would allow once fixed', (_n, over, rule, sev) => {
      const findings = lintTrustPolicy(st(over));
      const dead = findings.find((f) => f.ruleId === rule);
      expect(dead?.severity).toBe(sev);
      const latent = findings.find((f) => f.ruleId === 'GAO003');
      expect(latent?.severity).toBe('medium');
      expect(latent?.why).toMatch(
        new RegExp(`^Not exploitable today: statement #0 never applies \\(${rule}\\)\\. Once it does: `),
      );
      expect(latent?.why).toMatch(/every project/);
      // The gate follows the reason the statement is dead, not what it would allow.
      expect(hasFindingsAtLeast(findings, 'critical')).toBe(false);
      expect(hasFindingsAtLeast(findings, 'high')).toBe(sev === 'high');
      expect(hasFindingsAtLeast(findings, 'functional')).toBe(true);
      // Displayed after the reason.
      expect(sortFindings(findings)[0]?.ruleId).toBe(rule);
    });

    it('low findings keep their severity and get the same wording; a live statement is untouched', () => {
      const findings = lintTrustPolicy(
        st({
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'gitlab.com:sub': 'project_path:a/b:ref_type:branch:ref:main' } },
        }),
      );
      const low = findings.filter((f) => f.severity === 'low');
      expect(low.length).toBeGreaterThan(0);
      for (const f of low) expect(f.why).toMatch(/^Not exploitable today/);
      const live = lintTrustPolicy(load('bad/sub-project-path-star.json'));
      expect(live.find((f) => f.ruleId === 'GAO003')?.severity).toBe('critical');
      expect(live.every((f) => !/Not exploitable today/.test(f.why))).toBe(true);
    });
  });

  it('names the namespace-wildcard attack and suggests a literal group', () => {
    const f = lintTrustPolicy(load('bad/namespace-wildcard.json')).find((x) => x.ruleId === 'GAO004');
    expect(f?.why).toContain('acme-evil');
    expect(f?.fix).toContain('project_path:<group>/<project>:ref_type:branch:ref:main');
  });

  it('GAO027 on a GitHub-style sub suggests the GitLab form of the same project and branch', () => {
    const f = lintTrustPolicy(load('bad/github-style-sub.json')).find((x) => x.ruleId === 'GAO027');
    expect(f?.suggestion).toEqual({
      operator: 'StringEquals',
      conditionKey: 'gitlab.example.com:sub',
      value: 'project_path:ops/infra:ref_type:branch:ref:main',
      replaces: 'repo:ops/infra:ref:refs/heads/main',
    });
    expect(f?.fix).toBe('Write it as "project_path:ops/infra:ref_type:branch:ref:main".');
  });

  it('fixes a full ref name with the bare name', () => {
    const f = lintTrustPolicy(load('bad/ref-full-name.json'))[0];
    expect(f?.fix).toContain('project_path:ops/infra:ref_type:branch:ref:main');
  });

  it('lowers any-ref when ref_protected is pinned, raises nothing for read-only roles', () => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/gitlab.com' },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'gitlab.com:aud': 'https://gitlab.com',
              'gitlab.com:project_id': '7',
              'gitlab.com:ref_protected': 'true',
            },
            StringLike: { 'gitlab.com:sub': 'project_path:a/b:ref_type:branch:ref:*' },
          },
        },
      ],
    };
    const findings = lintTrustPolicy(doc);
    expect(findings.map((f) => [f.ruleId, f.severity])).toEqual([['GAO009', 'low']]);
  });

  it('infers write access from attached policies when isWriteRole is not given', () => {
    const doc = load('bad/any-ref.json');
    const readOnly = lintTrustPolicy(doc, {
      attachedPolicies: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
    });
    expect(readOnly.map((f) => f.severity)).toEqual(['medium']);
    const write = lintTrustPolicy(doc, {
      attachedPolicies: [
        {
          name: 'deploy',
          document: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }],
          },
        },
      ],
    });
    expect(write.map((f) => f.severity)).toEqual(['high']);
  });

  it('treats keys and hosts case-insensitively, numbers and booleans as strings', () => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/gitlab.com' },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'GitLab.com:Aud': 'https://gitlab.com',
            'gitlab.com:project_id': 4242,
            'gitlab.com:ref_protected': true,
            'GITLAB.COM:sub': 'project_path:acme/web:ref_type:branch:ref:main',
          },
        },
      },
    };
    expect(lintTrustPolicy(doc)).toEqual([]);
  });

  // GAO022 reads aud values the way IAM compares them (iam-conditions.ts conditionValueMatches).
  it.each([
    ['StringEquals', 'sts.amazonaws.com', ['sts.amazonaws.com'], false],
    ['StringEquals', 'STS.amazonaws.com', ['sts.amazonaws.com'], true],
    ['StringEqualsIgnoreCase', 'STS.amazonaws.com', ['sts.amazonaws.com'], false],
    ['StringLike', 'sts.*', ['sts.amazonaws.com'], false],
    ['StringLike', 'gitlab*', ['sts.amazonaws.com'], true],
    // A `*` in a client ID is an ordinary character that the pattern's `*` matches too.
    ['StringLike', '*', ['odd*client'], false],
    ['StringLike', 'odd*', ['odd*client'], false],
  ])('GAO022: aud %s %j against client IDs %j → finding: %s', (operator, aud, clientIds, flagged) => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Principal: { Federated: SM },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { 'gitlab.example.com:sub': 'project_path:ops/infra:ref_type:branch:ref:main' },
          [operator]: { 'gitlab.example.com:aud': aud },
        },
      },
    };
    const ids = lintTrustPolicy(doc, smProvider(clientIds)).map((f) => f.ruleId);
    expect(ids.includes('GAO022')).toBe(flagged);
  });

  // IAM replaces policy variables in String/Arn condition values with values from the request
  // (Version 2012-10-17; without Version they are literal text): `${gitlab.com:sub}` is the token's own sub.
  describe('policy variables in condition values', () => {
    /** `${inner}`, spelled so that it is not mistaken for a template literal. */
    const pv = (inner: string) => `$\{${inner}}`;
    const withSub = (operator: string, sub: string, version?: PolicyDocument['Version']): PolicyDocument =>
      ({
        ...(version ? { Version: version } : {}),
        Statement: {
          Effect: 'Allow',
          Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/gitlab.com' },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { 'gitlab.com:aud': 'https://gitlab.com' },
            [operator]: { 'gitlab.com:sub': sub },
          },
        },
      }) as PolicyDocument;
    const critical = (doc: PolicyDocument) =>
      lintTrustPolicy(doc)
        .filter((f) => f.severity === 'critical')
        .map((f) => f.ruleId);

    it.each([
      ['StringEquals', pv('gitlab.com:sub'), 'GAO003'],
      ['StringLike', pv('gitlab.com:sub'), 'GAO003'],
      ['StringEquals', pv("gitlab.com:sub, 'x'"), 'GAO003'],
      ['StringLike', `project_path:${pv('gitlab.com:user_login')}/app:ref_type:branch:ref:main`, 'GAO004'],
    ])('%s %j matches other projects: critical %s, not "never matches"', (operator, sub, rule) => {
      const findings = lintTrustPolicy(withSub(operator, sub, '2012-10-17'));
      expect(critical(withSub(operator, sub, '2012-10-17'))).toContain(rule);
      expect(findings.map((f) => f.ruleId)).not.toContain('GAO027');
      const f = findings.find((x) => x.ruleId === rule);
      expect(f?.value).toBe(sub);
      expect(f?.why).toMatch(/policy variable/);
    });

    it('without Version the variable is literal text: never matches, nothing critical', () => {
      const doc = withSub('StringEquals', pv('gitlab.com:sub'));
      expect(critical(doc)).toEqual([]);
      expect(lintTrustPolicy(doc).map((f) => f.ruleId)).toContain('GAO027');
    });

    it('an aud pinned to a policy variable checks nothing (GAO015), and is no GAO022', () => {
      const doc: PolicyDocument = {
        Version: '2012-10-17',
        Statement: {
          Effect: 'Allow',
          Principal: { Federated: SM },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              'gitlab.example.com:aud': pv('gitlab.example.com:aud'),
              'gitlab.example.com:sub': 'project_path:ops/infra:ref_type:branch:ref:main',
            },
          },
        },
      };
      const ids = lintTrustPolicy(doc, smProvider(['https://gitlab.example.com', 'sts.amazonaws.com'])).map(
        (f) => f.ruleId,
      );
      expect(ids).toContain('GAO015');
      expect(ids).not.toContain('GAO022');
    });
  });

  it('an aud matched by StringLike "*" checks nothing (GAO015)', () => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Principal: { Federated: SM },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { 'gitlab.example.com:sub': 'project_path:ops/infra:ref_type:branch:ref:main' },
          StringLike: { 'gitlab.example.com:aud': '*' },
        },
      },
    };
    const ids = lintTrustPolicy(doc, smProvider(['https://gitlab.example.com', 'sts.amazonaws.com'])).map(
      (f) => f.ruleId,
    );
    expect(ids).toEqual(['GAO015']);
  });

  it('never throws on malformed documents', () => {
    const odd = [
      { Version: '2012-10-17' },
      { Version: '2012-10-17', Statement: null },
      { Version: '2012-10-17', Statement: [null, 3, 'x', { Effect: 'Allow', Condition: 'nope' }] },
      {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Federated: [] }, Condition: { StringEquals: null } }],
      },
    ] as unknown as PolicyDocument[];
    for (const d of odd) expect(() => lintTrustPolicy(d)).not.toThrow();
  });
});

describe('severity helpers', () => {
  it('orders critical > high > functional > medium > low', () => {
    expect(severityAtLeast('functional', 'high')).toBe(false);
    expect(severityAtLeast('functional', 'medium')).toBe(true);
    expect(severityAtLeast('critical', 'high')).toBe(true);
    expect(severityAtLeast('low', 'medium')).toBe(false);
  });

  it('sorts strongest first', () => {
    const f = (ruleId: RuleId, severity: Severity): Finding => ({
      ruleId,
      severity,
      title: '',
      why: '',
      fix: '',
    });
    expect(
      sortFindings([f('GAO014', 'low'), f('GAO003', 'critical'), f('GAO020', 'functional')]).map(
        (x) => x.ruleId,
      ),
    ).toEqual(['GAO003', 'GAO020', 'GAO014']);
  });
});
