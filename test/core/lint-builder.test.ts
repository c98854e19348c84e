/**
 * Contract between the trust-policy builder (what init writes) and the linter (what init refuses):
 * every policy the builder produces for valid input must be free of critical and functional findings,
 * and the findings it does get must match what the input asked for.
 */
import { describe, expect, it } from 'vitest';
import { parseIssuerUrl } from '../../src/core/issuer.js';
import { lintTrustPolicy, type RuleId } from '../../src/core/lint.js';
import { buildTrustPolicy } from '../../src/core/trust-policy.js';
import type { RefRule, TrustInput } from '../../src/core/types.js';

const input = (over: Partial<TrustInput> & { url?: string }): TrustInput => {
  const issuer = parseIssuerUrl(over.url ?? 'https://gitlab.com');
  return {
    providerArn: `arn:aws:iam::123456789012:oidc-provider/${issuer.hostPath}`,
    issuer,
    audience: issuer.url,
    projectPath: 'acme/platform/web',
    refs: [{ type: 'branch', pattern: 'main' }],
    ...over,
  };
};
const branch = (pattern: string): RefRule => ({ type: 'branch', pattern });
const tag = (pattern: string): RefRule => ({ type: 'tag', pattern });

describe('buildTrustPolicy → lintTrustPolicy', () => {
  it.each<[string, Partial<TrustInput> & { url?: string }, RuleId[]]>([
    ['gitlab.com, id and protection pinned', { projectId: '42', protectedOnly: true }, []],
    ['gitlab.com, path only', {}, ['GAO011', 'GAO012']],
    ['gitlab.com, tags v* protected', { refs: [tag('v*')], projectId: '42', protectedOnly: true }, []],
    ['gitlab.com, tags v* unprotected', { refs: [tag('v*')], projectId: '42' }, ['GAO010']],
    [
      'gitlab.com, literal + pattern',
      { refs: [branch('main'), branch('release/*')], projectId: '42', protectedOnly: true },
      [],
    ],
    [
      'gitlab.com, any ref (consented)',
      { refs: [branch('*')], allowAnyRef: true, projectId: '42', protectedOnly: true },
      ['GAO009'],
    ],
    ['self-managed', { url: 'https://gitlab.example.com' }, []],
    // --sub-claim project-id: the project is pinned by ID in sub (no GAO011 "path only").
    [
      'gitlab.com, project_id sub, protected',
      { projectId: '42', subClaim: 'project_id', protectedOnly: true },
      [],
    ],
    ['gitlab.com, project_id sub, unprotected', { projectId: '42', subClaim: 'project_id' }, ['GAO012']],
    [
      'self-managed, project_id sub',
      { url: 'https://gitlab.example.com', projectId: '42', subClaim: 'project_id' },
      [],
    ],
    [
      'self-managed, project_id sub, release/*',
      {
        url: 'https://gitlab.example.com',
        projectId: '42',
        subClaim: 'project_id',
        refs: [branch('release/*')],
      },
      ['GAO010'],
    ],
    ['self-managed under a path', { url: 'https://example.com/gitlab' }, []],
    [
      'self-managed release/*',
      { url: 'https://gitlab.example.com', refs: [branch('release/*')] },
      ['GAO010'],
    ],
  ])('%s', (_name, over, expected) => {
    const { policy } = buildTrustPolicy(input(over));
    const issuer = parseIssuerUrl(over.url ?? 'https://gitlab.com');
    const findings = lintTrustPolicy(policy, {
      providers: [
        {
          arn: `arn:aws:iam::123456789012:oidc-provider/${issuer.hostPath}`,
          url: issuer.url,
          clientIds: [issuer.url],
        },
      ],
      isWriteRole: true,
    });
    expect(findings.map((f) => f.ruleId).sort()).toEqual(expected);
    expect(findings.filter((f) => f.severity === 'critical' || f.severity === 'functional')).toEqual([]);
  });
});
