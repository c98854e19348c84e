import { describe, expect, it } from 'vitest';
import {
  buildClaims,
  buildRequestContext,
  buildSubject,
  completeClaims,
  parseClaimsFlag,
  parseSubject,
  summarizeClaims,
} from '../../src/core/claims.js';
import { issuerFromUrl } from '../../src/core/issuer.js';
import { UsageError } from '../../src/errors.js';
import { usageError } from '../helpers/usage-error.js';

describe('buildSubject / parseSubject', () => {
  it("builds GitLab's default sub", () => {
    expect(buildSubject({ project_path: 'grp/sub/app', ref_type: 'branch', ref: 'main' })).toBe(
      'project_path:grp/sub/app:ref_type:branch:ref:main',
    );
  });

  it('builds a customised, project_id-first sub (GitLab 17.10+)', () => {
    expect(
      buildSubject({ project_id: '42', project_path: 'grp/app', ref_type: 'branch', ref: 'main' }, [
        'project_id',
        'ref_type',
        'ref',
      ]),
    ).toBe('project_id:42:ref_type:branch:ref:main');
  });

  it('refuses a sub whose first component is not project_path/project_id, or a missing component', () => {
    expect(() => buildSubject({ ref: 'main' }, ['ref'])).toThrow(UsageError);
    expect(usageError(() => buildSubject({ project_path: 'g/p', ref_type: 'branch' })).issues[0]?.field).toBe(
      'ref',
    );
  });

  it('parses subs back into components', () => {
    expect(parseSubject('project_path:grp/app:ref_type:tag:ref:v1.0')).toEqual({
      format: 'project_path',
      components: { project_path: 'grp/app', ref_type: 'tag', ref: 'v1.0' },
      order: ['project_path', 'ref_type', 'ref'],
    });
    expect(parseSubject('project_id:42:ref_type:branch:ref:main').format).toBe('project_id');
    expect(parseSubject('repo:octo/app:ref:refs/heads/main').format).toBe('unknown');
    expect(parseSubject('project_path:grp/app:ref_type').format).toBe('unknown');
  });
});

describe('buildClaims', () => {
  it('builds the claims GitLab would issue for a branch job on gitlab.com', () => {
    const claims = buildClaims({
      issuer: 'https://gitlab.com',
      projectPath: 'grp/sub/app',
      branch: 'main',
      audience: 'https://gitlab.com',
      projectId: '42',
      namespaceId: '7',
      refProtected: true,
    });
    expect(claims).toEqual({
      iss: 'https://gitlab.com',
      aud: 'https://gitlab.com',
      sub: 'project_path:grp/sub/app:ref_type:branch:ref:main',
      project_path: 'grp/sub/app',
      namespace_path: 'grp/sub',
      ref: 'main',
      ref_type: 'branch',
      ref_path: 'refs/heads/main',
      project_id: '42',
      namespace_id: '7',
      ref_protected: 'true',
    });
  });

  it('builds a tag job with a project_id-first sub', () => {
    const claims = buildClaims({
      issuer: issuerFromUrl('https://git.example.com'),
      projectPath: 'grp/app',
      tag: 'v1.2.3',
      audience: ['sts.amazonaws.com', 'other'],
      projectId: '42',
      subComponents: ['project_id', 'ref_type', 'ref'],
    });
    expect(claims.sub).toBe('project_id:42:ref_type:tag:ref:v1.2.3');
    expect(claims.ref_path).toBe('refs/tags/v1.2.3');
    expect(claims.aud).toEqual(['sts.amazonaws.com', 'other']);
  });

  it('needs exactly one of branch and tag', () => {
    const base = { issuer: 'https://gitlab.com', projectPath: 'g/p', audience: 'a' };
    expect(usageError(() => buildClaims(base)).issues[0]?.field).toBe('--branch/--tag');
    expect(() => buildClaims({ ...base, branch: 'main', tag: 'v1' })).toThrow(UsageError);
  });
});

describe('parseClaimsFlag', () => {
  it('parses name=value pairs; values may hold `:`, `/` and `=`', () => {
    expect(
      parseClaimsFlag(
        'sub=project_path:grp/app:ref_type:branch:ref:main,aud=https://x.example/?a=b,project_id=42',
      ),
    ).toEqual({
      sub: 'project_path:grp/app:ref_type:branch:ref:main',
      aud: 'https://x.example/?a=b',
      project_id: '42',
    });
  });

  it('keeps a comma that is not followed by name= inside the value', () => {
    expect(parseClaimsFlag('ref=a,b,ref_type=branch,project_path=g/p')).toEqual({
      ref: 'a,b',
      ref_type: 'branch',
      project_path: 'g/p',
    });
  });

  it('turns repeated aud into a list and time claims into numbers', () => {
    expect(parseClaimsFlag('aud=a,aud=b,exp=1700000000')).toEqual({ aud: ['a', 'b'], exp: 1700000000 });
  });

  it.each([
    ['', '--claims'],
    ['nonsense', '--claims'],
    ['colour=blue', '--claims colour'],
    ['sub=', '--claims sub'],
    ['sub=repo:octo/app:ref:refs/heads/main', '--claims sub'],
    ['sub=project_path:g/p:ref_type:mr:ref:1', '--claims sub'],
    ['ref_type=mr', '--claims ref_type'],
    ['project_id=abc', '--claims project_id'],
    ['ref_protected=yes', '--claims ref_protected'],
    ['exp=tomorrow', '--claims exp'],
    ['ref=a,ref=b', '--claims ref'],
  ])('rejects %j naming %s', (raw, field) => {
    const e = usageError(() => parseClaimsFlag(raw));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/--claims/);
    if (e.issues.length) expect(e.issues[0]?.field).toBe(field);
  });

  it('explains that ref_type:mr does not exist', () => {
    expect(usageError(() => parseClaimsFlag('ref_type=mr')).message).toMatch(/never issues ref_type:mr/);
  });

  it('reports every bad pair at once', () => {
    expect(usageError(() => parseClaimsFlag('colour=blue,project_id=x')).issues).toHaveLength(2);
  });
});

describe('completeClaims', () => {
  it('builds sub from project_path, ref_type and ref; takes aud and iss from defaults', () => {
    const c = completeClaims(parseClaimsFlag('project_path=grp/app,ref_type=branch,ref=main'), {
      audience: 'https://gitlab.com',
      issuerUrl: 'https://gitlab.com/',
    });
    expect(c).toMatchObject({
      sub: 'project_path:grp/app:ref_type:branch:ref:main',
      aud: 'https://gitlab.com',
      iss: 'https://gitlab.com',
      namespace_path: 'grp',
    });
  });

  it('builds a project_id-first sub when only project_id is known', () => {
    const c = completeClaims(parseClaimsFlag('project_id=42,ref_type=tag,ref=v1,aud=x'));
    expect(c.sub).toBe('project_id:42:ref_type:tag:ref:v1');
  });

  it('derives ref, ref_type and project_path from sub', () => {
    const c = completeClaims(parseClaimsFlag('sub=project_path:grp/app:ref_type:tag:ref:v1,aud=x'));
    expect(c).toMatchObject({ project_path: 'grp/app', ref_type: 'tag', ref: 'v1' });
  });

  it('refuses claims that contradict sub, a missing sub and a missing aud', () => {
    expect(
      usageError(() =>
        completeClaims(parseClaimsFlag('sub=project_path:grp/app:ref_type:branch:ref:main,ref=dev,aud=x')),
      ).issues[0],
    ).toEqual({ field: '--claims ref', message: '"dev" contradicts sub, which says "main"' });
    expect(usageError(() => completeClaims(parseClaimsFlag('aud=x'))).issues[0]?.field).toBe('--claims sub');
    expect(
      usageError(() => completeClaims(parseClaimsFlag('sub=project_path:g/p:ref_type:branch:ref:main')))
        .issues[0]?.field,
    ).toBe('--claims aud');
  });
});

describe('buildRequestContext', () => {
  const claims = buildClaims({
    issuer: 'https://gitlab.com',
    projectPath: 'grp/app',
    branch: 'main',
    audience: 'https://gitlab.com',
    projectId: '42',
    namespaceId: '7',
    refProtected: false,
    pipelineSource: 'push',
  });

  it('on gitlab.com: sub, aud and the extra gitlab.com:* keys', () => {
    expect(buildRequestContext(claims, { hostPath: 'gitlab.com', isGitlabCom: true })).toEqual({
      'gitlab.com:sub': ['project_path:grp/app:ref_type:branch:ref:main'],
      'gitlab.com:aud': ['https://gitlab.com'],
      'gitlab.com:project_id': ['42'],
      'gitlab.com:namespace_id': ['7'],
      'gitlab.com:ref_protected': ['false'],
      'gitlab.com:pipeline_source': ['push'],
    });
  });

  it('on a self-managed instance: only sub and aud, under the provider host and path', () => {
    expect(buildRequestContext(claims, { hostPath: 'git.example.com/gitlab', isGitlabCom: false })).toEqual({
      'git.example.com/gitlab:sub': ['project_path:grp/app:ref_type:branch:ref:main'],
      'git.example.com/gitlab:aud': ['https://gitlab.com'],
    });
  });
});

describe('summarizeClaims', () => {
  it('shows the useful claims and the expiry, no e-mail', () => {
    const claims = {
      ...buildClaims({ issuer: 'https://gitlab.com', projectPath: 'g/p', branch: 'main', audience: 'a' }),
      exp: 1_700_000_000,
      user_email: 'someone@example.com',
    };
    const s = summarizeClaims(claims);
    expect(s).toMatchObject({ sub: 'project_path:g/p:ref_type:branch:ref:main', aud: ['a'], ref: 'main' });
    expect(s.expires).toBe('2023-11-14T22:13:20.000Z');
    expect(JSON.stringify(s)).not.toContain('someone@example.com');
  });
});
