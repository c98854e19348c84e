// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables (${key}) are literal policy text here.
import { describe, expect, it } from 'vitest';
import { buildClaims, type ClaimSet } from '../../src/core/claims.js';
import { splitOidcKey } from '../../src/core/gitlab-claims.js';
import { describeIssuerMismatch, detectTraps, type TrapCode } from '../../src/core/traps.js';
import type { PolicyDocument, PolicyStatement } from '../../src/core/types.js';
import {
  allowWebIdentity,
  GITLAB_COM_PROVIDER as GITLAB_COM,
  MAIN_SUB as MAIN,
  policyDoc,
} from './fixtures.js';

const SELF = 'arn:aws:iam::123456789012:oidc-provider/git.example.com';

function policy(
  condition: PolicyStatement['Condition'],
  principal = GITLAB_COM,
  effect: 'Allow' | 'Deny' = 'Allow',
): PolicyDocument {
  return policyDoc(allowWebIdentity(condition, { Effect: effect, Principal: { Federated: principal } }));
}

const gitlabCom = { arn: GITLAB_COM, hostPath: 'gitlab.com', clientIds: ['https://gitlab.com'] };
const selfManaged = { arn: SELF, hostPath: 'git.example.com', clientIds: ['https://git.example.com'] };

function claims(extra: Partial<ClaimSet> = {}): ClaimSet {
  return {
    ...buildClaims({
      issuer: 'https://gitlab.com',
      projectPath: 'grp/app',
      branch: 'main',
      audience: 'https://gitlab.com',
    }),
    ...extra,
  } as ClaimSet;
}

const codes = (traps: { code: TrapCode }[]) => traps.map((t) => t.code);

describe('detectTraps', () => {
  it('finds nothing wrong in a correct setup', () => {
    const traps = detectTraps({
      policy: policy({ StringEquals: { 'gitlab.com:sub': MAIN, 'gitlab.com:aud': 'https://gitlab.com' } }),
      provider: gitlabCom,
      claims: claims({ exp: 2_000_000_000 }),
      now: new Date('2030-01-01T00:00:00Z'),
    });
    expect(traps).toEqual([]);
  });

  it('`*` or `?` under StringEquals', () => {
    const traps = detectTraps({
      policy: policy({ StringEquals: { 'gitlab.com:sub': 'project_path:grp/*:ref_type:branch:ref:main' } }),
      provider: gitlabCom,
    });
    expect(codes(traps)).toEqual(['wildcard-under-string-equals']);
    expect(traps[0]?.message).toMatch(/literal characters/);
    expect(traps[0]?.hint).toMatch(/StringLike/);
    expect(
      codes(
        detectTraps({
          policy: policy({ StringEquals: { 'gitlab.com:sub': 'project_path:grp/ap?:x' } }),
          provider: gitlabCom,
        }),
      ),
    ).toContain('wildcard-under-string-equals');
    // Not under StringLike, and not for the ${*} escape.
    expect(
      detectTraps({
        policy: policy({ StringLike: { 'gitlab.com:sub': 'project_path:grp/*' } }),
        provider: gitlabCom,
      }),
    ).toEqual([]);
    expect(
      detectTraps({ policy: policy({ StringEquals: { 'gitlab.com:sub': 'a${*}' } }), provider: gitlabCom }),
    ).toEqual([]);
  });

  it('ref_type:mr', () => {
    const traps = detectTraps({
      policy: policy({ StringLike: { 'gitlab.com:sub': 'project_path:grp/app:ref_type:mr:ref:*' } }),
      provider: gitlabCom,
    });
    expect(codes(traps)).toEqual(['ref-type-mr']);
  });

  it('condition keys for another host: never match, or fail open with IfExists', () => {
    const closed = detectTraps({
      policy: policy({ StringEquals: { 'gitlab.example.com:sub': MAIN } }),
      provider: gitlabCom,
    });
    expect(codes(closed)).toEqual(['foreign-host-key']);
    expect(closed[0]?.message).toMatch(/never matches/);
    const open = detectTraps({
      policy: policy({ StringEqualsIfExists: { 'gitlab.example.com:sub': MAIN } }),
      provider: gitlabCom,
    });
    expect(open[0]?.message).toMatch(/fails open/);
    // A trailing slash in the key is another host path.
    expect(
      codes(
        detectTraps({ policy: policy({ StringEquals: { 'gitlab.com/:sub': MAIN } }), provider: gitlabCom }),
      ),
    ).toEqual(['foreign-host-key']);
  });

  // Whether a key-for-another-host condition "fails open" is what IAM does with a missing key
  // (iam-conditions.ts): ForAnyValue is false even when negated; Null "true" holds.
  it.each([
    ['StringEquals', MAIN, /never matches/],
    ['StringNotEquals', MAIN, /fails open/],
    ['StringEqualsIfExists', MAIN, /fails open/],
    ['ForAllValues:StringEquals', MAIN, /fails open/],
    ['ForAnyValue:StringNotEquals', MAIN, /never matches/],
    ['Null', 'true', /fails open/],
    ['Null', 'false', /never matches/],
  ])('a key for another host under %s %j: %s', (operator, value, message) => {
    const traps = detectTraps({
      policy: policy({ [operator]: { 'gitlab.example.com:sub': value } }),
      provider: gitlabCom,
    });
    expect(codes(traps)).toEqual(['foreign-host-key']);
    expect(traps[0]?.message).toMatch(message);
  });

  it('gitlab.com:* keys on a self-managed provider, and keys STS never sets', () => {
    const traps = detectTraps({
      policy: policy({ StringEquals: { 'git.example.com:sub': MAIN, 'gitlab.com:project_id': '42' } }, SELF),
      provider: selfManaged,
    });
    expect(codes(traps)).toEqual(['foreign-host-key']);
    const notProvided = detectTraps({
      policy: policy(
        { StringEquals: { 'git.example.com:sub': MAIN, 'git.example.com:project_id': '42' } },
        SELF,
      ),
      provider: selfManaged,
    });
    expect(codes(notProvided)).toEqual(['key-not-provided']);
    expect(notProvided[0]?.message).toMatch(/only `:sub` and `:aud`/);
    // On gitlab.com the extra keys are fine, other claims are not.
    expect(
      detectTraps({
        policy: policy({ StringEquals: { 'gitlab.com:project_id': '42' } }),
        provider: gitlabCom,
      }),
    ).toEqual([]);
    expect(
      codes(
        detectTraps({
          policy: policy({ StringEquals: { 'gitlab.com:environment': 'prod' } }),
          provider: gitlabCom,
        }),
      ),
    ).toEqual(['key-not-provided']);
  });

  it('the token audience is missing from the provider, and the policy requires an audience the provider lacks', () => {
    const traps = detectTraps({
      policy: policy({ StringEquals: { 'gitlab.com:sub': MAIN, 'gitlab.com:aud': 'sts.amazonaws.com' } }),
      provider: gitlabCom,
      claims: claims({ aud: 'sts.amazonaws.com' }),
    });
    expect(codes(traps)).toEqual(['audience-not-in-provider', 'policy-audience-not-in-provider']);
    expect(traps[0]?.message).toMatch(/Incorrect token audience/);
  });

  it.each([
    ['StringEquals', 'sts.amazonaws.com', true],
    ['StringEquals', 'HTTPS://GITLAB.COM', true], // StringEquals is case-sensitive
    ['StringEqualsIgnoreCase', 'HTTPS://GITLAB.COM', false],
    ['StringLike', 'https://gitlab.*', false],
    ['StringLike', 'sts.*', true], // a pattern that matches no client ID
    ['StringNotEquals', 'sts.amazonaws.com', false], // negated: not a requirement
    ['Null', 'false', false], // presence check, not an audience
  ])('policy aud under %s %j → policy-audience-not-in-provider: %s', (operator, aud, trapped) => {
    const traps = detectTraps({
      policy: policy({ StringEquals: { 'gitlab.com:sub': MAIN }, [operator]: { 'gitlab.com:aud': aud } }),
      provider: gitlabCom,
    });
    expect(codes(traps).includes('policy-audience-not-in-provider')).toBe(trapped);
  });

  it('a sub built for project_path when the token uses project_id, and vice versa', () => {
    const idToken = claims({ sub: 'project_id:42:ref_type:branch:ref:main' });
    const t1 = detectTraps({
      policy: policy({ StringEquals: { 'gitlab.com:sub': MAIN } }),
      provider: gitlabCom,
      claims: idToken,
    });
    expect(codes(t1)).toEqual(['sub-format-mismatch']);
    expect(t1[0]?.message).toMatch(/`project_path:…`.*`project_id:`/);
    const t2 = detectTraps({
      policy: policy({ StringEquals: { 'gitlab.com:sub': 'project_id:42:ref_type:branch:ref:main' } }),
      provider: gitlabCom,
      claims: claims(),
    });
    expect(codes(t2)).toEqual(['sub-format-mismatch']);
    // A policy that accepts both formats is fine.
    const both = policy({
      StringEquals: { 'gitlab.com:sub': [MAIN, 'project_id:42:ref_type:branch:ref:main'] },
    });
    expect(detectTraps({ policy: both, provider: gitlabCom, claims: idToken })).toEqual([]);
  });

  it('an expired token, beyond and within the 5-minute skew STS allows', () => {
    const exp = 1_800_000_000;
    const at = (s: number) => new Date((exp + s) * 1000);
    expect(codes(detectTraps({ claims: claims({ exp }), now: at(301) }))).toEqual(['token-expired']);
    expect(codes(detectTraps({ claims: claims({ exp }), now: at(10) }))).toEqual([
      'token-expired-within-skew',
    ]);
    expect(detectTraps({ claims: claims({ exp }), now: at(-10) })).toEqual([]);
    expect(codes(detectTraps({ claims: claims({ nbf: exp }), now: at(-3600) }))).toEqual([
      'token-not-yet-valid',
    ]);
  });

  it('issuer / provider URL mismatch', () => {
    const run = (iss: string, hostPath: string) =>
      detectTraps({ claims: claims({ iss }), provider: { hostPath } }).map((t) => t.message);
    expect(run('https://gitlab.com', 'gitlab.com')).toEqual([]);
    expect(run('https://gitlab.com/', 'gitlab.com')[0]).toMatch(/ends with a slash/);
    expect(run('http://gitlab.com', 'gitlab.com')[0]).toMatch(/http:\/\//);
    expect(run('https://gitlab.com', 'gitlab.com/')[0]).toMatch(/provider URL .* ends with a slash/);
    expect(run('https://GitLab.com', 'gitlab.com')[0]).toMatch(/letter case/);
    expect(run('https://git.other.com', 'gitlab.com')[0]).toMatch(/is not the provider/);
    // Only http(s) is stripped before comparing: another scheme is not a letter-case difference.
    expect(run('ftp://gitlab.com', 'gitlab.com')[0]).toMatch(/is not the provider .*`ftp:\/\/gitlab.com`/);
  });

  it('a principal for another provider', () => {
    const traps = detectTraps({
      policy: policy({ StringEquals: { 'gitlab.com:sub': MAIN } }, SELF),
      provider: gitlabCom,
    });
    expect(codes(traps)).toEqual(['principal-other-provider']);
  });
});

describe('helpers', () => {
  it('splitOidcKey tells OIDC keys from service keys', () => {
    expect(splitOidcKey('git.example.com/gitlab:sub')).toEqual({
      host: 'git.example.com/gitlab',
      claim: 'sub',
    });
    expect(splitOidcKey('aws:SourceIp')).toBeUndefined();
    expect(splitOidcKey('sts:RoleSessionName')).toBeUndefined();
  });

  it('never throws on malformed documents', () => {
    const odd = [
      { Version: '2012-10-17' },
      { Version: '2012-10-17', Statement: null },
      { Version: '2012-10-17', Statement: [null, 3, 'x', { Effect: 'Allow', Condition: 'nope' }] },
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Condition: { StringEquals: null } }] },
    ] as unknown as PolicyDocument[];
    for (const d of odd) {
      expect(() => detectTraps({ policy: d, provider: gitlabCom, claims: claims() })).not.toThrow();
    }
  });

  it('describeIssuerMismatch returns nothing when they agree', () => {
    expect(
      describeIssuerMismatch('https://git.example.com/gitlab', 'git.example.com/gitlab'),
    ).toBeUndefined();
  });
});
