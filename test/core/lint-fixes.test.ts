/**
 * Every fix the linter suggests must pass the linter: apply each finding's `suggestion` to the policy
 * it came from (placeholders filled with real-shaped values), lint again, and the finding is gone
 * without a functional or stronger finding about the new value.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type Finding,
  lintTrustPolicy,
  type RuleId,
  severityAtLeast,
  type TrustLintContext,
} from '../../src/core/lint.js';
import type { PolicyDocument } from '../../src/core/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const corpus = join(here, '..', 'fixtures', 'trust-policies');
const files = ['good', 'bad'].flatMap((d) => readdirSync(join(corpus, d)).map((f) => `${d}/${f}`));
const load = (file: string) => JSON.parse(readFileSync(join(corpus, file), 'utf8')) as PolicyDocument;

/** Extra contexts some fixtures need to show their findings. */
const CTX: Record<string, TrustLintContext> = {
  'bad/aud-not-client-id.json': {
    providers: [
      {
        arn: 'arn:aws:iam::123456789012:oidc-provider/gitlab.example.com',
        url: 'https://gitlab.example.com',
        clientIds: ['sts.amazonaws.com'],
      },
    ],
  },
};

const PLACEHOLDERS: Record<string, string> = {
  '<group>/<project>': 'acme/web',
  '<group>': 'acme',
  '<project>': 'web',
  '<project-id>': '4242',
  '<branch>': 'main',
  '<tag>': 'v1.0.0',
  '<owner>/<repo>': 'octo-org/octo-repo',
  '<owner>': 'octo-org',
  '<repo>': 'octo-repo',
  '<environment>': 'production',
};

function fill(value: string): string {
  let out = value;
  for (const [k, v] of Object.entries(PLACEHOLDERS)) out = out.split(k).join(v);
  expect(out, `unknown placeholder in ${value}`).not.toMatch(/<[^>]*>/);
  return out;
}

type Block = Record<string, Record<string, unknown>>;

function apply(doc: PolicyDocument, f: Finding): { doc: PolicyDocument; value: string } {
  const copy = structuredClone(doc) as { Statement: unknown };
  const statements = (Array.isArray(copy.Statement) ? copy.Statement : [copy.Statement]) as {
    Condition?: Block;
  }[];
  const st = statements[f.statementIndex ?? 0] as { Condition?: Block };
  const s = f.suggestion as NonNullable<Finding['suggestion']>;
  const value = fill(s.value);
  st.Condition ??= {};
  const condition = st.Condition;
  if (s.replaces !== undefined) {
    const op = f.operator as string;
    const block = condition[op] as Record<string, unknown>;
    const key = f.conditionKey as string;
    const kept = ([] as unknown[]).concat(block[key]).filter((v) => String(v) !== s.replaces);
    if (kept.length > 0) block[key] = kept;
    else delete block[key];
    if (Object.keys(block).length === 0) delete condition[op];
    condition[s.operator] ??= {};
    const target = condition[s.operator] as Record<string, unknown>;
    const existing = target[s.conditionKey];
    target[s.conditionKey] = existing === undefined ? value : ([] as unknown[]).concat(existing, value);
  } else {
    condition[s.operator] ??= {};
    (condition[s.operator] as Record<string, unknown>)[s.conditionKey] = value;
  }
  return { doc: copy as PolicyDocument, value };
}

/** GitHub sub shapes beyond the fixture files, linted the same way. */
const GH = 'token.actions.githubusercontent.com';
const githubDoc = (operator: string, sub: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${GH}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { [operator]: { [`${GH}:sub`]: sub } },
    },
  ],
});
const INLINE: Record<string, PolicyDocument> = Object.fromEntries(
  (
    [
      ['StringLike', '*'],
      ['StringLike', 'repo:*'],
      ['StringLike', 'repo:octo-org*'],
      ['StringLike', 'repo:octo-org@123/*:ref:refs/heads/main'],
      ['StringEquals', 'repository_owner:octo-org'],
      ['StringEquals', 'job_workflow_ref:octo-org/automation/.github/workflows/deploy.yml@refs/heads/main'],
      ['StringEquals', 'repo:octo-org/octo-repo:pull_request'],
      ['StringEquals', 'repo:octo-org/octo-repo'],
      ['StringLike', 'repo:octo-org/octo-repo:environment:*'],
      ['StringLike', 'repo:octo-org/octo-repo:environment:prod-*'],
      ['StringLike', 'repo:octo-org/octo-repo:ref:refs/heads/*'],
      ['StringEquals', 'repo:octo-org/octo-repo:refs/heads/main'],
      ['StringEquals', 'repo:octo-repo:ref:refs/heads/main'],
    ] as const
  ).map(([op, sub]) => [`inline ${op} ${sub}`, githubDoc(op, sub)]),
);
const docOf = (name: string) => INLINE[name] ?? load(name);

const cases = [...files, ...Object.keys(INLINE)].flatMap((file) =>
  lintTrustPolicy(docOf(file), CTX[file])
    .filter((f) => f.suggestion !== undefined)
    .map((f) => [`${file} ${f.ruleId} ${f.value ?? f.suggestion?.conditionKey}`, file, f] as const),
);

describe('suggested fixes pass the linter', () => {
  it.each(cases)('%s', (_name, file, f) => {
    const s = f.suggestion as NonNullable<Finding['suggestion']>;
    expect(f.fix, 'the fix text shows the suggested value').toContain(s.value);
    const { doc, value } = apply(docOf(file), f);
    const after = lintTrustPolicy(doc, CTX[file]);
    const again = after.filter(
      (x) =>
        x.ruleId === f.ruleId &&
        x.statementIndex === f.statementIndex &&
        (s.replaces === undefined || x.value === value),
    );
    expect(again, `${f.ruleId} still reported after its own fix`).toEqual([]);
    const broken = after.filter(
      (x) =>
        x.statementIndex === f.statementIndex &&
        severityAtLeast(x.severity, 'functional') &&
        (x.value === value || (s.replaces === undefined && x.conditionKey === s.conditionKey)),
    );
    expect(broken, 'the fix itself is rejected').toEqual([]);
  });

  it('covers the rules whose fix is one condition value', () => {
    const expected: RuleId[] = [
      'GAO002',
      'GAO003',
      'GAO004',
      'GAO007',
      'GAO008',
      'GAO009',
      'GAO010',
      'GAO011',
      'GAO012',
      'GAO014',
      'GAO015',
      'GAO016',
      'GAO017',
      'GAO018',
      'GAO019',
      'GAO021',
      'GAO025',
      'GAO027',
    ];
    const seen = new Set(cases.map(([, , f]) => f.ruleId));
    expect(expected.filter((id) => !seen.has(id))).toEqual([]);
  });
});
