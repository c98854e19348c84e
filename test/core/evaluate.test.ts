// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables (${key}) are literal policy text here.
import { describe, expect, it } from 'vitest';
import {
  abbreviateAgainst,
  evaluateCondition,
  evaluateTrustPolicy,
  type RequestContext,
} from '../../src/core/evaluate.js';
import type { PolicyDocument, PolicyStatement } from '../../src/core/types.js';
import {
  allowWebIdentity as allow,
  policyDoc as doc,
  MAIN_SUB as MAIN,
  GITLAB_COM_PROVIDER as PROVIDER,
} from './fixtures.js';

const FEATURE = 'project_path:grp/app:ref_type:branch:ref:feature-x';

function ctx(sub: string, extra: Record<string, string> = {}): RequestContext {
  const c: RequestContext = { 'gitlab.com:sub': [sub], 'gitlab.com:aud': ['https://gitlab.com'] };
  for (const [k, v] of Object.entries(extra)) c[k] = [v];
  return c;
}

describe('evaluateCondition: every operator', () => {
  const c = ctx(FEATURE, { 'gitlab.com:ref_protected': 'true', 'gitlab.com:project_id': '42' });
  it.each([
    // operator, key, policy value, expected pass, outcome
    ['StringEquals', 'gitlab.com:sub', FEATURE, true, 'compared'],
    ['StringEquals', 'gitlab.com:sub', MAIN, false, 'compared'],
    ['StringEquals', 'gitlab.com:sub', [MAIN, FEATURE], true, 'compared'], // values OR
    ['StringNotEquals', 'gitlab.com:sub', MAIN, true, 'compared'],
    ['StringNotEquals', 'gitlab.com:sub', [MAIN, FEATURE], false, 'compared'], // negated: NOR
    ['StringEqualsIgnoreCase', 'gitlab.com:sub', FEATURE.toUpperCase(), true, 'compared'],
    ['StringNotEqualsIgnoreCase', 'gitlab.com:sub', FEATURE.toUpperCase(), false, 'compared'],
    ['StringLike', 'gitlab.com:sub', 'project_path:grp/app:ref_type:branch:ref:*', true, 'compared'],
    ['StringLike', 'gitlab.com:sub', 'project_path:grp/app:ref_type:tag:ref:*', false, 'compared'],
    ['StringNotLike', 'gitlab.com:sub', 'project_path:grp/app:ref_type:tag:ref:*', true, 'compared'],
    ['StringNotLike', 'gitlab.com:sub', ['x*', 'project_path:*'], false, 'compared'],
    ['Bool', 'gitlab.com:ref_protected', 'true', true, 'compared'],
    ['Bool', 'gitlab.com:ref_protected', false, false, 'compared'],
    ['NumericEquals', 'gitlab.com:project_id', 42, true, 'compared'],
    ['NumericLessThan', 'gitlab.com:project_id', '42', false, 'compared'],
    ['NumericGreaterThanEquals', 'gitlab.com:project_id', '42', true, 'compared'],
    ['NumericNotEquals', 'gitlab.com:project_id', '7', true, 'compared'],
    // Missing keys: positive → false, negated → true, IfExists → true.
    ['StringEquals', 'gitlab.com:pipeline_source', 'push', false, 'missing-key'],
    ['StringLike', 'gitlab.com:pipeline_source', '*', false, 'missing-key'],
    ['StringNotEquals', 'gitlab.com:pipeline_source', 'push', true, 'missing-key-negated'],
    ['StringNotLike', 'gitlab.com:pipeline_source', '*', true, 'missing-key-negated'],
    ['StringEqualsIfExists', 'gitlab.com:pipeline_source', 'push', true, 'missing-key-if-exists'],
    ['StringEqualsIfExists', 'gitlab.com:sub', MAIN, false, 'compared'], // IfExists still checks a present key
    ['BoolIfExists', 'gitlab.com:user_login', 'true', true, 'missing-key-if-exists'],
    ['Bool', 'gitlab.com:user_login', 'true', false, 'missing-key'],
    // Set operators on a missing key: ForAllValues fails open, ForAnyValue does not.
    ['ForAllValues:StringEquals', 'gitlab.com:pipeline_source', 'push', true, 'missing-key-for-all-values'],
    ['ForAnyValue:StringEquals', 'gitlab.com:pipeline_source', 'push', false, 'missing-key-for-any-value'],
    [
      'ForAnyValue:StringEqualsIfExists',
      'gitlab.com:pipeline_source',
      'push',
      false,
      'missing-key-for-any-value',
    ],
    ['ForAllValues:StringEquals', 'gitlab.com:sub', MAIN, false, 'compared'],
    ['ForAnyValue:StringLike', 'gitlab.com:sub', 'project_path:grp/*', true, 'compared'],
    // Null: "true" = must be absent, "false" = must be present.
    ['Null', 'gitlab.com:pipeline_source', 'true', true, 'null-check'],
    ['Null', 'gitlab.com:sub', 'true', false, 'null-check'],
    ['Null', 'gitlab.com:sub', false, true, 'null-check'],
    // Not modelled (present key) → reported, treated as not matching; missing key still follows the rules.
    ['IpAddress', 'gitlab.com:sub', '10.0.0.0/8', false, 'unsupported'],
    ['NotIpAddress', 'aws:SourceIp', '10.0.0.0/8', true, 'missing-key-negated'],
  ] as const)('%s %s %j → %s (%s)', (op, key, value, passed, outcome) => {
    const r = evaluateCondition(op, key, value as never, c);
    expect(r.passed).toBe(passed);
    expect(r.outcome).toBe(outcome);
  });

  // IAM refuses these operators (MalformedPolicyDocument), so no part of them is read as a valid
  // one: never a match, key present or not (no fail-open through a stray `ForAllValues:` prefix).
  it.each([
    ['NullIfExists', 'gitlab.com:pipeline_source', 'true'],
    ['ForAnyValue:ForAllValues:StringEquals', 'gitlab.com:pipeline_source', 'push'],
    ['ForAnyValue:ForAllValues:StringEquals', 'gitlab.com:sub', FEATURE],
    ['ForAllValues:Bogus', 'gitlab.com:pipeline_source', 'push'],
    ['Foo:StringNotEquals', 'gitlab.com:pipeline_source', 'push'],
    ['stringequals', 'gitlab.com:sub', FEATURE],
  ] as const)('%s %s %j → not an operator, false', (op, key, value) => {
    const r = evaluateCondition(op, key, value, c);
    expect(r).toMatchObject({ passed: false, outcome: 'unsupported' });
    expect(r.line).toMatch(/not an IAM condition operator/);
  });

  it('evaluates StringLike patterns and policy variables with one matcher (Arn operators too)', () => {
    const arn = { 'aws:PrincipalArn': ['arn:aws:iam::123456789012:role/CI'] };
    expect(evaluateCondition('ArnLike', 'aws:PrincipalArn', 'arn:aws:iam::*:role/CI', arn).passed).toBe(true);
    expect(evaluateCondition('ArnEquals', 'aws:PrincipalArn', 'arn:aws:iam::*:role/CI', arn).passed).toBe(
      true,
    );
    expect(evaluateCondition('ArnLike', 'aws:PrincipalArn', 'arn:aws:iam::*:role/ci', arn).passed).toBe(
      false,
    );
    // `${*}` is a literal `*`: it does not match `x`, only `*` itself.
    const sub = (v: string) => ({ 'gitlab.com:sub': [v] });
    expect(evaluateCondition('StringLike', 'gitlab.com:sub', 'a${*}', sub('ax')).passed).toBe(false);
    expect(evaluateCondition('StringLike', 'gitlab.com:sub', 'a${*}', sub('a*')).passed).toBe(true);
    expect(evaluateCondition('StringLike', 'gitlab.com:sub', '${gitlab.com:sub}*', sub('x')).passed).toBe(
      true,
    );
  });

  it('describes negated operators in plain words', () => {
    expect(evaluateCondition('StringNotEquals', 'gitlab.com:sub', MAIN, c).line).toBe(
      `\`gitlab.com:sub\` StringNotEquals \`${MAIN}\` ≠ \`${FEATURE}\``,
    );
    expect(evaluateCondition('StringNotLike', 'gitlab.com:sub', 'project_path:*', c).line).toBe(
      `\`gitlab.com:sub\` StringNotLike \`project_path:*\`, but the value is \`${FEATURE}\``,
    );
    expect(evaluateCondition('ForAllValues:StringEquals', 'gitlab.com:environment', 'prod', c).line).toBe(
      '`gitlab.com:environment` ForAllValues:StringEquals `prod`: key not in the request → ForAllValues is true (fails open)',
    );
  });

  it('matches condition key names case-insensitively, values case-sensitively', () => {
    expect(evaluateCondition('StringEquals', 'GitLab.com:SUB', FEATURE, c).passed).toBe(true);
    expect(evaluateCondition('StringEquals', 'gitlab.com:sub', FEATURE.toUpperCase(), c).passed).toBe(false);
  });

  it('StringEquals and StringLike disagree on `*`: a literal under StringEquals, a wildcard under StringLike', () => {
    const value = 'project_path:grp/*:ref_type:branch:ref:main';
    const real = ctx('project_path:grp/app:ref_type:branch:ref:main');
    expect(evaluateCondition('StringEquals', 'gitlab.com:sub', value, real).passed).toBe(false);
    expect(evaluateCondition('StringLike', 'gitlab.com:sub', value, real).passed).toBe(true);
    // The literal string `*` does match StringEquals (and StringLike too).
    const literal = ctx(value);
    expect(evaluateCondition('StringEquals', 'gitlab.com:sub', value, literal).passed).toBe(true);
    // `?` is also literal under StringEquals.
    expect(
      evaluateCondition(
        'StringEquals',
        'gitlab.com:sub',
        'project_path:grp/ap?:ref_type:branch:ref:main',
        real,
      ).passed,
    ).toBe(false);
  });

  it('substitutes policy variables and honours the ${*} escape', () => {
    const c2 = ctx('project_id:42:ref_type:branch:ref:main', { 'gitlab.com:project_id': '42' });
    expect(
      evaluateCondition('StringLike', 'gitlab.com:sub', 'project_id:${gitlab.com:project_id}:*', c2).passed,
    ).toBe(true);
    expect(
      evaluateCondition('StringLike', 'gitlab.com:sub', 'project_id:${gitlab.com:namespace_id}:*', c2).passed,
    ).toBe(false);
    expect(
      evaluateCondition('StringLike', 'gitlab.com:sub', "project_id:${gitlab.com:namespace_id, '42'}:*", c2)
        .passed,
    ).toBe(true);
    // ${*} is a literal star even under StringLike.
    expect(evaluateCondition('StringLike', 'gitlab.com:sub', 'project_id:${*}', c2).passed).toBe(false);
    expect(
      evaluateCondition('StringLike', 'gitlab.com:sub', 'project_id:${*}', ctx('project_id:*')).passed,
    ).toBe(true);
  });
});

/*
 * AWS's documented examples.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html
 * "Deny a single policy condition value for a multivalued context key": a Deny with
 * ForAllValues:StringNotLike { aws:TagKeys: "key1*" }; the page's table gives match / no match per request.
 */
describe('AWS documented example: ForAllValues:StringNotLike on aws:TagKeys', () => {
  it.each([
    [['key1:legal'], false],
    [['key1:hr', 'key1:personnel'], false],
    [['key2:audit'], true],
    [null, true], // "No aws:TagKeys in the request context" → Match
  ] as const)('%j → match %s', (tags, expected) => {
    const context: RequestContext = tags ? { 'aws:TagKeys': [...tags] } : {};
    expect(evaluateCondition('ForAllValues:StringNotLike', 'aws:TagKeys', 'key1*', context).passed).toBe(
      expected,
    );
  });
});

/*
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
 * "If a single negated matching condition operator includes multiple values for a context key, those values
 * are evaluated using a logical NOR": StringNotEquals { aws:PrincipalTag/role: [audit, security] }.
 */
describe('AWS documented example: negated operator with several values is NOR', () => {
  it.each([
    ['audit', false],
    ['security', false],
    ['other', true],
    [null, true], // missing key under a negated operator → true (condition operators page, "Important")
  ] as const)('role=%s → %s', (role, expected) => {
    const context: RequestContext = role ? { 'aws:PrincipalTag/role': [role] } : {};
    expect(
      evaluateCondition('StringNotEquals', 'aws:PrincipalTag/role', ['audit', 'security'], context).passed,
    ).toBe(expected);
  });
});

/*
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
 * StringLikeIfExists { ec2:InstanceType: [t1.*, t2.*, m3.*] }: true when the key is missing, otherwise a normal check.
 */
describe('AWS documented example: StringLikeIfExists', () => {
  it.each([
    ['t2.micro', true],
    ['c5.large', false],
    [null, true],
  ] as const)('%s → %s', (type, expected) => {
    const context: RequestContext = type ? { 'ec2:InstanceType': [type] } : {};
    expect(
      evaluateCondition('StringLikeIfExists', 'ec2:InstanceType', ['t1.*', 't2.*', 'm3.*'], context).passed,
    ).toBe(expected);
  });
});

describe('evaluateTrustPolicy', () => {
  /*
   * GitLab's documented trust policy (docs.gitlab.com/ci/cloud_services/aws/):
   * StringEquals { "<host>:sub": "project_path:mygroup/myproject:ref_type:branch:ref:main" }.
   */
  const gitlabDocPolicy = doc(allow({ StringEquals: { 'gitlab.com:sub': MAIN } }));

  it('allows the matching token and names the decisive statement', () => {
    const r = evaluateTrustPolicy({ policy: gitlabDocPolicy, providerArn: PROVIDER, context: ctx(MAIN) });
    expect(r.decision).toBe('allowed');
    expect(r.assumable).toBe(true);
    expect(r.decisive).toEqual({ index: 0 });
    expect(r.statements[0]?.conditions[0]?.line).toBe(
      `\`gitlab.com:sub\` StringEquals \`${MAIN}\` = \`${MAIN}\``,
    );
  });

  it('explains a wrong branch with the expected and the actual value', () => {
    const r = evaluateTrustPolicy({ policy: gitlabDocPolicy, providerArn: PROVIDER, context: ctx(FEATURE) });
    expect(r.decision).toBe('denied-implicit');
    expect(r.assumable).toBe(false);
    expect(r.decisive).toBeUndefined();
    expect(r.closest).toEqual({ index: 0 });
    const line =
      '`gitlab.com:sub` StringEquals `project_path:grp/app:ref_type:branch:ref:main` ≠ `…:ref:feature-x`';
    expect(r.statements[0]?.conditions[0]?.line).toBe(line);
    expect(r.reasons).toContain(`  ${line}`);
  });

  it('ANDs keys and operators: one failing condition refuses', () => {
    const policy = doc(
      allow({
        StringEquals: { 'gitlab.com:sub': MAIN, 'gitlab.com:aud': 'https://gitlab.com' },
        StringLike: { 'gitlab.com:project_id': '4*' },
        Bool: { 'gitlab.com:ref_protected': 'true' },
      }),
    );
    const good = ctx(MAIN, { 'gitlab.com:project_id': '42', 'gitlab.com:ref_protected': 'true' });
    expect(evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: good }).decision).toBe('allowed');
    const unprotected = ctx(MAIN, { 'gitlab.com:project_id': '42', 'gitlab.com:ref_protected': 'false' });
    const r = evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: unprotected });
    expect(r.decision).toBe('denied-implicit');
    expect(r.statements[0]?.conditions.filter((c) => !c.passed).map((c) => c.key)).toEqual([
      'gitlab.com:ref_protected',
    ]);
  });

  it('a missing key changes the outcome: the same policy refuses on a self-managed provider', () => {
    // gitlab.com:project_id exists only for the provider https://gitlab.com.
    const policy = doc(allow({ StringEquals: { 'gitlab.com:sub': MAIN, 'gitlab.com:project_id': '42' } }));
    const onGitlabCom = ctx(MAIN, { 'gitlab.com:project_id': '42' });
    expect(evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: onGitlabCom }).decision).toBe(
      'allowed',
    );
    const r = evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: ctx(MAIN) });
    expect(r.decision).toBe('denied-implicit');
    expect(r.statements[0]?.conditions[1]?.outcome).toBe('missing-key');
  });

  it('ForAllValues on a missing key fails open (an Allow that lets anyone in)', () => {
    const policy = doc(allow({ 'ForAllValues:StringEquals': { 'gitlab.com:environment': 'production' } }));
    const r = evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: ctx(FEATURE) });
    expect(r.decision).toBe('allowed');
    // ForAnyValue on the same key does not.
    const any = doc(allow({ 'ForAnyValue:StringEquals': { 'gitlab.com:environment': 'production' } }));
    expect(evaluateTrustPolicy({ policy: any, providerArn: PROVIDER, context: ctx(FEATURE) }).decision).toBe(
      'denied-implicit',
    );
  });

  it('an explicit Deny overrides an Allow', () => {
    const policy = doc(allow({ StringLike: { 'gitlab.com:sub': 'project_path:grp/app:*' } }), {
      Sid: 'NoUnprotected',
      ...allow({ StringEquals: { 'gitlab.com:ref_protected': 'false' } }),
      Effect: 'Deny',
    });
    const r = evaluateTrustPolicy({
      policy,
      providerArn: PROVIDER,
      context: ctx(FEATURE, { 'gitlab.com:ref_protected': 'false' }),
    });
    expect(r.decision).toBe('denied-explicit');
    expect(r.decisive).toEqual({ index: 1, sid: 'NoUnprotected' });
    expect(r.reasons[0]).toMatch(/Explicitly denied by statement #1 \(Sid `NoUnprotected`\)/);
    // The same Deny does not apply to a protected ref.
    const ok = evaluateTrustPolicy({
      policy,
      providerArn: PROVIDER,
      context: ctx(FEATURE, { 'gitlab.com:ref_protected': 'true' }),
    });
    expect(ok.decision).toBe('allowed');
    expect(ok.decisive).toEqual({ index: 0 });
  });

  it('a Deny with a negated operator applies when its key is missing', () => {
    const policy = doc(allow({ StringLike: { 'gitlab.com:sub': 'project_path:grp/*' } }), {
      ...allow({ StringNotEquals: { 'gitlab.com:pipeline_source': 'push' } }),
      Effect: 'Deny',
    });
    // Key missing → StringNotEquals true → Deny applies.
    expect(evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: ctx(MAIN) }).decision).toBe(
      'denied-explicit',
    );
    const push = ctx(MAIN, { 'gitlab.com:pipeline_source': 'push' });
    expect(evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: push }).decision).toBe('allowed');
  });

  it('evaluates multiple statements: any Allow suffices', () => {
    const policy = doc(
      { Sid: 'Main', ...allow({ StringEquals: { 'gitlab.com:sub': MAIN } }) },
      {
        Sid: 'Tags',
        ...allow({ StringLike: { 'gitlab.com:sub': 'project_path:grp/app:ref_type:tag:ref:v*' } }),
      },
    );
    const r = evaluateTrustPolicy({
      policy,
      providerArn: PROVIDER,
      context: ctx('project_path:grp/app:ref_type:tag:ref:v1.2.0'),
    });
    expect(r.decision).toBe('allowed');
    expect(r.decisive).toEqual({ index: 1, sid: 'Tags' });
    expect(r.statements[0]?.applies).toBe(false);
  });

  it('a single Statement object (not an array) works', () => {
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: allow({ StringEquals: { 'gitlab.com:sub': MAIN } }),
    };
    expect(evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: ctx(MAIN) }).decision).toBe(
      'allowed',
    );
  });

  it('refuses when the principal is another provider and says so', () => {
    const policy = doc(
      allow(
        { StringEquals: { 'gitlab.com:sub': MAIN } },
        { Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/gitlab.example.com' } },
      ),
    );
    const r = evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: ctx(MAIN) });
    expect(r.decision).toBe('denied-implicit');
    expect(r.statements[0]?.principalMatched).toBe(false);
    expect(r.reasons.join('\n')).toMatch(/is not the token's provider/);
  });

  it('Principal "*" matches any provider', () => {
    const policy = doc(allow({ StringEquals: { 'gitlab.com:sub': MAIN } }, { Principal: '*' }));
    expect(evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: ctx(MAIN) }).decision).toBe(
      'allowed',
    );
  });

  it.each([
    [{ Action: 'sts:*' }, true],
    [{ Action: ['sts:AssumeRole', 'sts:AssumeRoleWith*'] }, true],
    [{ Action: 'STS:assumerolewithwebidentity' }, true], // action names are case-insensitive
    [{ Action: '*' }, true],
    [{ Action: 'sts:AssumeRole' }, false],
    [{ Action: 'sts:AssumeRoleWithSAML' }, false],
    [{ Action: undefined, NotAction: 'sts:AssumeRole' }, true],
    [{ Action: undefined, NotAction: 'sts:AssumeRoleWith*' }, false],
  ] as const)('action %j → %s', (extra, expected) => {
    const s = allow({ StringEquals: { 'gitlab.com:sub': MAIN } }, extra as Partial<PolicyStatement>);
    if (extra.Action === undefined) delete s.Action;
    const r = evaluateTrustPolicy({ policy: doc(s), providerArn: PROVIDER, context: ctx(MAIN) });
    expect(r.statements[0]?.actionMatched).toBe(expected);
  });

  it('the provider client-ID check refuses an audience the provider does not list, even when the policy allows', () => {
    const r = evaluateTrustPolicy({
      policy: gitlabDocPolicy,
      providerArn: PROVIDER,
      clientIds: ['sts.amazonaws.com'],
      context: ctx(MAIN),
    });
    expect(r.decision).toBe('allowed');
    expect(r.assumable).toBe(false);
    expect(r.audience).toMatchObject({ checked: true, passed: false, audiences: ['https://gitlab.com'] });
    expect(r.reasons[0]).toMatch(
      /not among the provider's client IDs \[`sts.amazonaws.com`\].*Incorrect token audience/,
    );
    const ok = evaluateTrustPolicy({
      policy: gitlabDocPolicy,
      providerArn: PROVIDER,
      clientIds: ['sts.amazonaws.com', 'https://gitlab.com'],
      context: ctx(MAIN),
    });
    expect(ok.assumable).toBe(true);
  });

  it('condition keys for another host never match (Datadog/GitLab sample mixing gitlab.example.com and gitlab.com)', () => {
    const policy = doc(allow({ StringEquals: { 'gitlab.example.com:sub': MAIN } }));
    const r = evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: ctx(MAIN) });
    expect(r.decision).toBe('denied-implicit');
    expect(r.statements[0]?.conditions[0]?.outcome).toBe('missing-key');
    expect(r.statements[0]?.conditions[0]?.line).toMatch(/not in the request/);
    // …and with IfExists the same typo fails open.
    const open = doc(allow({ StringEqualsIfExists: { 'gitlab.example.com:sub': MAIN } }));
    expect(evaluateTrustPolicy({ policy: open, providerArn: PROVIDER, context: ctx(FEATURE) }).decision).toBe(
      'allowed',
    );
  });

  it('no Allow statement at all is an implicit deny', () => {
    const policy = doc({
      ...allow(undefined),
      Effect: 'Deny',
      Condition: { StringEquals: { 'gitlab.com:sub': 'x' } },
    });
    const r = evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: ctx(MAIN) });
    expect(r.decision).toBe('denied-implicit');
    expect(r.reasons[0]).toMatch(/no Allow statement/);
  });

  it('ignores policy variables in Version 2008-10-17 documents', () => {
    const c = ctx('project_id:42:ref_type:branch:ref:main', { 'gitlab.com:project_id': '42' });
    const s = allow({ StringLike: { 'gitlab.com:sub': 'project_id:${gitlab.com:project_id}:*' } });
    expect(evaluateTrustPolicy({ policy: doc(s), providerArn: PROVIDER, context: c }).decision).toBe(
      'allowed',
    );
    const old: PolicyDocument = { Version: '2008-10-17', Statement: [s] };
    expect(evaluateTrustPolicy({ policy: old, providerArn: PROVIDER, context: c }).decision).toBe(
      'denied-implicit',
    );
  });

  // reference_policies_variables.html: without a Version element, "variables like ${aws:username}
  // are treated as literal strings" (the default Version is 2008-10-17).
  it('ignores policy variables in documents without Version', () => {
    const c = ctx('project_path:evil/app:ref_type:branch:ref:main');
    const s = allow({ StringEquals: { 'gitlab.com:sub': '${gitlab.com:sub}' } });
    expect(evaluateTrustPolicy({ policy: doc(s), providerArn: PROVIDER, context: c }).decision).toBe(
      'allowed',
    );
    const noVersion = { Statement: [s] } as unknown as PolicyDocument;
    expect(evaluateTrustPolicy({ policy: noVersion, providerArn: PROVIDER, context: c }).decision).toBe(
      'denied-implicit',
    );
  });
});

describe('abbreviateAgainst', () => {
  it.each([
    [FEATURE, MAIN, '…:ref:feature-x'],
    [
      'project_path:grp/other:ref_type:branch:ref:main',
      MAIN,
      'project_path:grp/other:ref_type:branch:ref:main',
    ],
    ['project_path:grp/app:ref_type:tag:ref:main', MAIN, '…:ref_type:tag:ref:main'],
    [MAIN, MAIN, MAIN],
    ['abc', 'abd', 'abc'],
  ])('%s vs %s → %s', (actual, expected, shown) => {
    expect(abbreviateAgainst(actual, expected)).toBe(shown);
  });
});

/*
 * Where IAM's documentation is silent, or IAM refuses the policy, the evaluator must never answer
 * "allowed": an Allow that rests on an undocumented reading does not apply, a Deny that rests on one
 * does (IAM would refuse), and the result says which reading the answer rests on (`caveats`).
 * A policy IAM refuses to store (MalformedPolicyDocument) is never reported allowed (`malformed`).
 */
describe('evaluateTrustPolicy: the fail-open edges', () => {
  const KELVIN = '\u212A'; // KELVIN SIGN: toLowerCase() folds it to ASCII `k`
  const protectedCtx = ctx(MAIN, { 'gitlab.com:project_id': '42', 'gitlab.com:ref_protected': 'true' });
  const mainAllow = allow({ StringEquals: { 'gitlab.com:sub': MAIN } });
  const evaluate = (...statements: PolicyStatement[]) =>
    evaluateTrustPolicy({ policy: doc(...statements), providerArn: PROVIDER, context: protectedCtx });

  // Allow statements whose only route to "allowed" is an undocumented reading: not allowed, and the caveat says why.
  it.each([
    // reference_policies_elements_principal.html documents only "*" and {"AWS": "*"} as wildcards.
    [
      'Principal {"Federated": "*"}',
      allow(undefined, { Principal: { Federated: '*' } }),
      'principal-wildcard',
    ],
    // reference_policies_elements_condition_operators.html (Null): the value is true or false.
    ['Null with "yes"', allow({ Null: { 'gitlab.com:sub': 'yes' } }), 'null-value'],
    // …(Numeric): an integer or a decimal value; "0x2a" is neither.
    ['NumericEquals "0x2a"', allow({ NumericEquals: { 'gitlab.com:project_id': '0x2a' } }), 'numeric-format'],
    [
      'NumericNotEquals "1e3"',
      allow({ NumericNotEquals: { 'gitlab.com:project_id': '1e3' } }),
      'numeric-format',
    ],
    // …(ARN): each of the six colon-delimited parts of an ARN is matched separately.
    [
      'ArnLike on a non-ARN value',
      allow({ ArnLike: { 'gitlab.com:sub': 'project_path:grp/*' } }),
      'arn-format',
    ],
    // reference_policies_variables.html: "separate the variable text and the default value with a comma and space (, )".
    [
      "a variable default without ', '",
      allow({
        StringEquals: {
          'gitlab.com:sub': "project_path:${gitlab.com:namespace_path,'grp/app'}:ref_type:branch:ref:main",
        },
      }),
      'variable-default',
    ],
    // StringEqualsIgnoreCase: IAM documents no Unicode case folding (KELVIN SIGN ≠ k).
    [
      'IgnoreCase folding a non-ASCII look-alike',
      allow({ StringEqualsIgnoreCase: { 'gitlab.com:sub': MAIN.replace('main', `main${KELVIN}`) } }),
      'ignore-case-non-ascii',
    ],
    ['Bool with "yes"', allow({ Bool: { 'gitlab.com:ref_protected': 'yes' } }), 'bool-value'],
  ] as const)('%s: not allowed, with a caveat', (_name, statement, code) => {
    const c = protectedCtx;
    const withKelvin = code === 'ignore-case-non-ascii' ? { ...c, 'gitlab.com:sub': [`${MAIN}k`] } : c;
    const yes = code === 'bool-value' ? { ...c, 'gitlab.com:ref_protected': ['yes'] } : withKelvin;
    const r = evaluateTrustPolicy({ policy: doc(statement), providerArn: PROVIDER, context: yes });
    expect(r.decision).not.toBe('allowed');
    expect(r.assumable).toBe(false);
    expect(r.caveats.map((x) => x.code)).toContain(code);
    expect(r.caveats.find((x) => x.code === code)).toMatchObject({ statement: 0 });
  });

  // The same readings in a Deny: IAM would refuse, so the Deny applies (never fail open through a Deny).
  it.each([
    [
      'Principal {"Federated": "*"}',
      { ...allow(undefined), Effect: 'Deny', Principal: { Federated: '*' } },
      'principal-wildcard',
    ],
    ['Null with "yes"', { ...allow({ Null: { 'gitlab.com:sub': 'yes' } }), Effect: 'Deny' }, 'null-value'],
    [
      'NumericEquals "0x2a"',
      { ...allow({ NumericEquals: { 'gitlab.com:project_id': '0x2a' } }), Effect: 'Deny' },
      'numeric-format',
    ],
    [
      'ArnNotLike on a non-ARN value',
      { ...allow({ ArnNotLike: { 'gitlab.com:sub': 'project_path:grp/*' } }), Effect: 'Deny' },
      'arn-format',
    ],
    [
      'StringNotEqualsIgnoreCase with a non-ASCII look-alike',
      {
        ...allow({
          StringNotEqualsIgnoreCase: { 'gitlab.com:sub': MAIN.replace('ref:main', `ref:${KELVIN}`) },
        }),
        Effect: 'Deny',
      },
      'ignore-case-non-ascii',
    ],
  ] as const)('a Deny resting on %s applies, with a caveat', (_name, deny, code) => {
    const c =
      code === 'ignore-case-non-ascii'
        ? { ...protectedCtx, 'gitlab.com:sub': [MAIN.replace('ref:main', 'ref:k')] }
        : protectedCtx;
    const allowAll = allow({ StringLike: { 'gitlab.com:sub': 'project_path:grp/app:*' } });
    const r = evaluateTrustPolicy({
      policy: doc(allowAll, deny as PolicyStatement),
      providerArn: PROVIDER,
      context: c,
    });
    expect(r.decision).toBe('denied-explicit');
    expect(r.decisive).toEqual({ index: 1 });
    expect(r.caveats.find((x) => x.code === code)).toMatchObject({ statement: 1 });
  });

  it('documented readings stay as they were, without caveats', () => {
    for (const s of [
      allow({ Null: { 'gitlab.com:pipeline_source': 'true' } }),
      allow({ NumericEquals: { 'gitlab.com:project_id': '42' } }),
      allow({ NumericLessThan: { 'gitlab.com:project_id': '42.5' } }),
      allow({ StringEqualsIgnoreCase: { 'gitlab.com:sub': MAIN.toUpperCase() } }),
      allow({ StringLike: { 'gitlab.com:sub': "project_path:${gitlab.com:namespace_path, 'grp'}/app:*" } }),
      allow(undefined, { Principal: '*' }),
      allow(undefined, { Principal: { AWS: '*' } }),
    ]) {
      const r = evaluate(s);
      expect(r.decision, JSON.stringify(s)).toBe('allowed');
      expect(r.caveats, JSON.stringify(s)).toEqual([]);
    }
    // ArnLike on real ARNs matches part by part: `*` does not run across a colon.
    const arn = { 'aws:PrincipalArn': ['arn:aws:iam::123456789012:role/CI'] };
    expect(evaluateCondition('ArnLike', 'aws:PrincipalArn', 'arn:aws:iam::*:role/*', arn)).toMatchObject({
      passed: true,
      outcome: 'compared',
    });
    expect(evaluateCondition('ArnLike', 'aws:PrincipalArn', 'arn:aws:*:role/CI', arn)).toMatchObject({
      passed: false,
      outcome: 'undocumented',
    });
    expect(evaluateCondition('ArnLike', 'aws:PrincipalArn', 'arn:aws:iam::123456789012:*', arn).passed).toBe(
      true,
    );
  });

  it('a caveat is reported only when the answer rests on it', () => {
    // The statement fails on its sub anyway: the hex project_id does not decide anything.
    const r = evaluateTrustPolicy({
      policy: doc(
        allow({
          StringEquals: { 'gitlab.com:sub': 'x' },
          NumericEquals: { 'gitlab.com:project_id': '0x2a' },
        }),
      ),
      providerArn: PROVIDER,
      context: protectedCtx,
    });
    expect(r.decision).toBe('denied-implicit');
    expect(r.caveats).toEqual([]);
  });

  // reference_policies_elements_effect.html: "The Effect value is case sensitive"; the grammar
  // (reference_policies_grammar.html) lists every condition operator: IAM refuses anything else.
  it.each([
    ['Effect "deny" (lower case)', [mainAllow, { ...mainAllow, Effect: 'deny' }], /Effect/],
    ['Effect "allow" (lower case)', [{ ...mainAllow, Effect: 'allow' }], /Effect/],
    [
      'a Deny with "stringnotequals"',
      [mainAllow, { ...allow({ stringnotequals: { 'gitlab.com:sub': MAIN } } as never), Effect: 'Deny' }],
      /stringnotequals/,
    ],
    [
      'an Allow with "StringEquals " (trailing space)',
      [allow({ 'StringEquals ': { 'gitlab.com:sub': MAIN } } as never)],
      /StringEquals /,
    ],
    ['Version "2012-10-18"', [mainAllow], /Version/],
    ['a Resource element', [{ ...mainAllow, Resource: '*' }], /Resource/],
    ['no Action', [{ ...mainAllow, Action: undefined }], /Action/],
    [
      'Principal and NotPrincipal together',
      [{ ...mainAllow, NotPrincipal: { AWS: 'arn:aws:iam::1:root' } }],
      /NotPrincipal/,
    ],
  ] as const)('%s: IAM refuses the policy, never "allowed"', (name, statements, what) => {
    const policy = doc(...(statements as unknown as PolicyStatement[]));
    if (name.startsWith('Version')) (policy as { Version: string }).Version = '2012-10-18';
    const r = evaluateTrustPolicy({ policy, providerArn: PROVIDER, context: ctx(MAIN) });
    expect(r.decision).toBe('malformed');
    expect(r.assumable).toBe(false);
    expect(r.decisive).toBeUndefined();
    expect(r.malformed.map((m) => m.message).join('\n')).toMatch(what);
    expect(r.reasons[0]).toMatch(/MalformedPolicyDocument/);
  });

  it('a provider IAM does not have: never "allowed by statement #0" next to "provider not found"', () => {
    const r = evaluateTrustPolicy({
      policy: doc(mainAllow),
      providerArn: PROVIDER,
      providerFound: false,
      context: ctx(MAIN),
    });
    expect(r.assumable).toBe(false);
    expect(r.reasons[0]).toMatch(/no OIDC provider .*gitlab\.com/i);
    expect(r.reasons.join('\n')).not.toMatch(/^Allowed by/m);
  });

  it('assumptions made by the caller are reported with the evaluator’s own caveats', () => {
    const r = evaluateTrustPolicy({
      policy: doc(mainAllow),
      providerArn: PROVIDER,
      context: ctx(MAIN),
      assumptions: [{ code: 'issuer-assumed', message: 'no iss: assumed gitlab.com' }],
    });
    expect(r.decision).toBe('allowed');
    expect(r.caveats).toEqual([{ code: 'issuer-assumed', message: 'no iss: assumed gitlab.com' }]);
  });
});

describe('evaluateCondition: undocumented comparisons are neither true nor false', () => {
  const c: RequestContext = {
    'aws:CurrentTime': ['2026-12-01T00:00:00Z'],
    'gitlab.com:sub': [MAIN],
  };
  it.each([
    // reference_policies_elements_condition_operators.html (Date): W3C ISO 8601 or epoch seconds only.
    ['DateLessThan', 'aws:CurrentTime', 'Dec 2 2026', 'date-format'],
    // reference_policies_variables.html: an unresolved variable "might cause the entire statement to be
    // invalid"; under a negated operator it used to make the condition true (fail open).
    ['StringNotEquals', 'gitlab.com:sub', '${gitlab.com:nope}', 'variable-unresolved'],
    ['IpAddress', 'gitlab.com:sub', '10.0.0.0/8', 'operator-not-modelled'],
  ] as const)('%s %s %j: not matching in an Allow, matching in a Deny (%s)', (op, key, value, code) => {
    const inAllow = evaluateCondition(op, key, value, c);
    expect(inAllow.passed).toBe(false);
    expect(inAllow.caveat?.code).toBe(code);
    const inDeny = evaluateCondition(op, key, value, c, { indeterminate: 'match' });
    expect(inDeny.passed).toBe(true);
    expect(inDeny.line).toMatch(/treated as matching: IAM would refuse/);
  });

  it('documented dates still compare', () => {
    expect(evaluateCondition('DateLessThan', 'aws:CurrentTime', '2026-12-02', c)).toMatchObject({
      passed: true,
      outcome: 'compared',
    });
    expect(evaluateCondition('DateGreaterThan', 'aws:CurrentTime', '1700000000', c).passed).toBe(true);
  });
});
