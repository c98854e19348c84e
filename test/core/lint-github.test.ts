/**
 * GitHub Actions trust (issuer token.actions.githubusercontent.com) judged with GitHub's own sub
 * grammar: `repo:<owner>/<repo>:ref:refs/heads/<branch>` | `:ref:refs/tags/<tag>` |
 * `:environment:<name>` | `:pull_request`, the immutable `repo:<owner>@<id>/<repo>@<id>:…`, and
 * customised subs (`include_claim_keys`: repo, context, job_workflow_ref, repository_owner, …).
 */
import { describe, expect, it } from 'vitest';
import {
  hasFindingsAtLeast,
  lintTrustPolicy,
  type RuleId,
  type Severity,
  type TrustLintContext,
} from '../../src/core/lint.js';
import type { PolicyDocument } from '../../src/core/types.js';

const HOST = 'token.actions.githubusercontent.com';
const GH = `arn:aws:iam::123456789012:oidc-provider/${HOST}`;
const AUD = { [`${HOST}:aud`]: 'sts.amazonaws.com' };

function policy(operator: string, sub: string | string[], host = HOST): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${host}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition:
          operator === 'StringEquals'
            ? { StringEquals: { [`${host}:aud`]: 'sts.amazonaws.com', [`${host}:sub`]: sub } }
            : {
                StringEquals: { [`${host}:aud`]: 'sts.amazonaws.com' },
                [operator]: { [`${host}:sub`]: sub },
              },
      },
    ],
  };
}

const rules = (doc: PolicyDocument, ctx?: TrustLintContext) =>
  lintTrustPolicy(doc, ctx)
    .map((f) => `${f.ruleId}:${f.severity}`)
    .sort();

describe('GitHub sub grammar', () => {
  it.each<[string, string, string | string[], string[]]>([
    // Allow-lists GitHub documents: nothing to report.
    ['branch', 'StringEquals', 'repo:octo-org/octo-repo:ref:refs/heads/main', []],
    ['tag', 'StringEquals', 'repo:octo-org/octo-repo:ref:refs/tags/v1.2.0', []],
    ['environment', 'StringEquals', 'repo:octo-org/octo-repo:environment:Production', []],
    ['escaped colon', 'StringEquals', 'repo:octo-org/octo-repo:environment:Production%3AV1', []],
    ['immutable ids', 'StringEquals', 'repo:octo-org@123456/octo-repo@456789:ref:refs/heads/main', []],
    [
      'reusable workflow in a custom sub',
      'StringEquals',
      'repo:octo-org/octo-repo:environment:prod:job_workflow_ref:octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main',
      [],
    ],
    ['repository_id custom sub with context', 'StringEquals', 'repository_id:456789:ref:refs/heads/main', []],
    [
      'two repositories',
      'StringEquals',
      ['repo:a/x:ref:refs/heads/main', 'repo:a/y:ref:refs/heads/main'],
      [],
    ],
    // Any repository on GitHub.
    ['bare *', 'StringLike', '*', ['GAO003:critical']],
    ['repo:*', 'StringLike', 'repo:*', ['GAO003:critical', 'GAO018:high']],
    ['repo:*/x', 'StringLike', 'repo:*/octo-repo:ref:refs/heads/main', ['GAO003:critical']],
    ['no repository or owner', 'StringEquals', 'repository_visibility:private', ['GAO003:critical']],
    [
      'only a reusable workflow',
      'StringEquals',
      'job_workflow_ref:octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main',
      ['GAO003:high'],
    ],
    // Owner wildcards.
    ['owner prefix', 'StringLike', 'repo:octo*/octo-repo:ref:refs/heads/main', ['GAO016:critical']],
    ['owner without /', 'StringLike', 'repo:octo-org*', ['GAO016:critical', 'GAO018:high']],
    ['owner ?', 'StringLike', 'repo:octo-or?/octo-repo:ref:refs/heads/main', ['GAO016:critical']],
    // Owner-wide.
    ['org/*', 'StringLike', 'repo:octo-org/*', ['GAO017:high', 'GAO018:high']],
    ['org/*:*', 'StringLike', 'repo:octo-org/*:*', ['GAO017:high', 'GAO018:high']],
    ['org/* on main', 'StringLike', 'repo:octo-org/*:ref:refs/heads/main', ['GAO017:high']],
    ['repo name prefix', 'StringLike', 'repo:octo-org/app-*:ref:refs/heads/main', ['GAO017:high']],
    [
      'immutable, any repo of the owner',
      'StringLike',
      'repo:octo-org@123/*:ref:refs/heads/main',
      ['GAO017:high'],
    ],
    ['immutable, any id', 'StringLike', 'repo:octo-org@*/*:ref:refs/heads/main', ['GAO017:high']],
    ['immutable, names with any id', 'StringLike', 'repo:octo-org@*/octo-repo@*:ref:refs/heads/main', []],
    ['repository_owner only', 'StringEquals', 'repository_owner:octo-org', ['GAO017:high']],
    ['repository_owner_id only', 'StringEquals', 'repository_owner_id:123456', ['GAO017:high']],
    // Any ref / environment / pull request.
    ['repo:o/r:*', 'StringLike', 'repo:octo-org/octo-repo:*', ['GAO018:high']],
    ['any ref', 'StringLike', 'repo:octo-org/octo-repo:ref:*', ['GAO018:high']],
    ['any branch', 'StringLike', 'repo:octo-org/octo-repo:ref:refs/heads/*', ['GAO018:high']],
    ['any tag', 'StringLike', 'repo:octo-org/octo-repo:ref:refs/tags/*', ['GAO018:high']],
    ['any environment', 'StringLike', 'repo:octo-org/octo-repo:environment:*', ['GAO018:high']],
    ['pull requests', 'StringEquals', 'repo:octo-org/octo-repo:pull_request', ['GAO018:high']],
    ['repo without context', 'StringEquals', 'repo:octo-org/octo-repo', ['GAO018:medium']],
    // Patterns that need rulesets or protection rules.
    ['release branches', 'StringLike', 'repo:octo-org/octo-repo:ref:refs/heads/release/*', ['GAO019:medium']],
    ['version tags', 'StringLike', 'repo:octo-org/octo-repo:ref:refs/tags/v*', ['GAO019:medium']],
    ['environment prefix', 'StringLike', 'repo:octo-org/octo-repo:environment:prod-*', ['GAO019:medium']],
    [
      'custom sub with a pull-request ref',
      'StringEquals',
      'repo:octo-org/octo-repo:ref:refs/pull/7/merge',
      [],
    ],
    // Never matches a GitHub token.
    ['short ref', 'StringEquals', 'repo:octo-org/octo-repo:ref:main', ['GAO027:functional']],
    ['ref without ref:', 'StringEquals', 'repo:octo-org/octo-repo:refs/heads/main', ['GAO027:functional']],
    ['repo without owner', 'StringEquals', 'repo:octo-repo:ref:refs/heads/main', ['GAO027:functional']],
    [
      'GitLab sub on GitHub',
      'StringEquals',
      'project_path:a/b:ref_type:branch:ref:main',
      ['GAO027:functional'],
    ],
    // A list is as weak as its weakest value.
    [
      'list with one owner-wide value',
      'StringLike',
      ['repo:octo-org/octo-repo:ref:refs/heads/main', 'repo:octo-org/*'],
      ['GAO017:high', 'GAO018:high'],
    ],
  ])('%s: %s %j → %j', (_name, operator, sub, expected) => {
    expect(rules(policy(operator, sub))).toEqual([...expected].sort());
  });

  it.each<[string, string, RuleId, Severity]>([
    ['any ref', 'repo:octo-org/octo-repo:*', 'GAO018', 'medium'],
    ['pull requests', 'repo:octo-org/octo-repo:pull_request', 'GAO018', 'medium'],
    ['version tags', 'repo:octo-org/octo-repo:ref:refs/tags/v*', 'GAO019', 'low'],
  ])('a read-only role lowers %s', (_name, sub, rule, severity) => {
    const operator = sub.includes('*') ? 'StringLike' : 'StringEquals';
    const f = lintTrustPolicy(policy(operator, sub), { isWriteRole: false }).find((x) => x.ruleId === rule);
    expect(f?.severity).toBe(severity);
  });

  it.each([
    'token.actions.githubusercontent.com/octocat-inc',
    'token.actions.octocorp.ghe.com',
    'github.example.com/_services/token',
  ])('recognises the GitHub issuer %s', (host) => {
    expect(rules(policy('StringLike', 'repo:octo-org/*', host))).toEqual(['GAO017:high', 'GAO018:high']);
    const open = policy('StringLike', 'repo:octo-org/*', host);
    delete (open.Statement as { Condition?: unknown }[])[0]!.Condition;
    expect(rules(open)).toEqual(['GAO002:critical', 'GAO015:low']);
  });

  it('ANDed conditions: a literal repository in another condition bounds an owner-wide pattern', () => {
    const doc = policy('StringLike', 'repo:octo-org/*:ref:refs/heads/main');
    const cond = (doc.Statement as { Condition: Record<string, Record<string, unknown>> }[])[0]!.Condition;
    cond.StringEquals![`${HOST}:sub`] = 'repo:octo-org/octo-repo:ref:refs/heads/main';
    expect(rules(doc)).toEqual([]);
  });

  it('names the look-alike owner and suggests a literal sub', () => {
    const f = lintTrustPolicy(policy('StringLike', 'repo:octo*/octo-repo:ref:refs/heads/main')).find(
      (x) => x.ruleId === 'GAO016',
    );
    expect(f?.why).toContain('octo-evil');
    expect(f?.suggestion).toMatchObject({
      operator: 'StringEquals',
      conditionKey: `${HOST}:sub`,
      value: 'repo:<owner>/<repo>:ref:refs/heads/main',
      replaces: 'repo:octo*/octo-repo:ref:refs/heads/main',
    });
  });

  it.each([
    ['repo:octo-org/octo-repo:ref:refs/tags/v*', 'GAO019', 'repo:octo-org/octo-repo:ref:refs/tags/<tag>'],
    [
      'repo:octo-org/octo-repo:environment:prod-*',
      'GAO019',
      'repo:octo-org/octo-repo:environment:<environment>',
    ],
    ['repo:octo-org/*:*', 'GAO018', 'repo:octo-org/<repo>:ref:refs/heads/main'],
    ['repo:octo-org/*', 'GAO017', 'repo:octo-org/<repo>:ref:refs/heads/<branch>'],
  ])('%s: %s suggests %s (same kind of ref, same owner)', (sub, rule, value) => {
    const f = lintTrustPolicy(policy('StringLike', sub)).find((x) => x.ruleId === rule);
    expect(f?.suggestion?.value).toBe(value);
  });

  it('GAO027 on a repo without owner keeps the name as the repository', () => {
    const f = lintTrustPolicy(policy('StringEquals', 'repo:octo-repo:ref:refs/heads/main'))[0];
    expect(f?.suggestion?.value).toBe('repo:<owner>/octo-repo:ref:refs/heads/main');
  });

  it('GAO027 on a short ref suggests the full ref', () => {
    const f = lintTrustPolicy(policy('StringEquals', 'repo:octo-org/octo-repo:ref:main'))[0];
    expect(f?.fix).toBe('Write it as "repo:octo-org/octo-repo:ref:refs/heads/main".');
  });

  describe('aud', () => {
    const noAud = (): PolicyDocument => {
      const doc = policy('StringEquals', 'repo:octo-org/octo-repo:ref:refs/heads/main');
      const cond = (doc.Statement as { Condition: Record<string, Record<string, unknown>> }[])[0]!.Condition;
      delete cond.StringEquals![`${HOST}:aud`];
      cond.StringEquals![`${HOST}:sub`] = 'repo:octo-org/octo-repo:ref:refs/heads/main';
      return doc;
    };
    it('a missing aud is GAO015 with sts.amazonaws.com as the fix', () => {
      const f = lintTrustPolicy(noAud()).find((x) => x.ruleId === 'GAO015');
      expect(f).toMatchObject({
        severity: 'low',
        suggestion: { conditionKey: `${HOST}:aud`, value: 'sts.amazonaws.com' },
      });
    });
    it('not when the provider accepts a single client ID (STS enforces it)', () => {
      const ctx = { providers: [{ arn: GH, url: `https://${HOST}`, clientIds: ['sts.amazonaws.com'] }] };
      expect(rules(noAud(), ctx)).toEqual([]);
    });
    it('a provider with several client IDs: GAO015 names sts.amazonaws.com when registered', () => {
      const ctx = {
        providers: [
          {
            arn: GH,
            url: `https://${HOST}`,
            clientIds: ['https://github.com/octo-org', 'sts.amazonaws.com'],
          },
        ],
      };
      expect(lintTrustPolicy(noAud(), ctx).find((x) => x.ruleId === 'GAO015')?.suggestion?.value).toBe(
        'sts.amazonaws.com',
      );
    });
    it('an aud that is not a client ID never matches (GAO022) and is not also open to anyone', () => {
      const doc = policy('StringEquals', 'repo:octo-org/octo-repo:ref:refs/heads/main');
      const ctx = {
        providers: [{ arn: GH, url: `https://${HOST}`, clientIds: ['https://github.com/octo-org'] }],
      };
      expect(rules(doc, ctx)).toEqual(['GAO022:functional']);
    });
  });

  it('negative-only: GAO007 says every other workflow on GitHub, and suggests an allow-list', () => {
    const f = lintTrustPolicy(policy('StringNotLike', 'repo:evil-org/*')).find((x) => x.ruleId === 'GAO007');
    expect(f?.severity).toBe('high');
    expect(f?.why).toMatch(/every other workflow of every repository on GitHub/);
    expect(f?.suggestion?.value).toBe('repo:<owner>/<repo>:ref:refs/heads/<branch>');
  });

  it('no sub at all: GAO002 critical, worded for GitHub', () => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: GH },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: AUD },
        },
      ],
    };
    const f = lintTrustPolicy(doc).find((x) => x.ruleId === 'GAO002');
    expect(f?.severity).toBe('critical');
    expect(f?.why).toMatch(/every repository on GitHub/);
    expect(hasFindingsAtLeast(lintTrustPolicy(doc), 'critical')).toBe(true);
  });

  it('counts repositories for GAO013', () => {
    const subs = ['a', 'b', 'c', 'd'].map((r) => `repo:octo-org/${r}:ref:refs/heads/main`);
    expect(rules(policy('StringEquals', subs))).toEqual(['GAO013:medium']);
  });
});
