import { describe, expect, it } from 'vitest';
import { parseIssuerUrl, providerArnFor } from '../../src/core/issuer.js';
import {
  defaultPackRoleBase,
  type PackInput,
  type PackProject,
  packProjectKey,
  packProjects,
  packRoleName,
} from '../../src/core/packing.js';
import { buildTrustPolicy, trustPolicySize } from '../../src/core/trust-policy.js';
import type { PolicyStatement } from '../../src/core/types.js';
import { UsageError } from '../../src/errors.js';
import { assertPackedRolesSafe, checkPackedRoles } from '../../src/verify/pack-safety.js';

const gitlabCom = parseIssuerUrl('https://gitlab.com');
const selfManaged = parseIssuerUrl('https://git.example.com');

function base(over: Partial<PackInput> = {}): PackInput {
  const issuer = over.issuer ?? selfManaged;
  return {
    issuer,
    providerArn: providerArnFor('aws', '123456789012', issuer),
    audience: issuer.url,
    roleNameBase: 'gitlab-acme',
    projects: [],
    ...over,
  };
}

/** `acme/p<id>` with ID `id`, branch main. */
function proj(id: number, over: Partial<PackProject> = {}): PackProject {
  return {
    projectPath: `acme/p${String(id).padStart(3, '0')}`,
    projectId: String(id),
    refs: [{ type: 'branch', pattern: 'main' }],
    ...over,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const subsOf = (statement: PolicyStatement) =>
  Object.values(statement.Condition ?? {}).flatMap((block) =>
    Object.entries(block)
      .filter(([k]) => k.endsWith(':sub'))
      .flatMap(([, v]) => (Array.isArray(v) ? v : [v])),
  );
const statementOf = (doc: { Statement: PolicyStatement | PolicyStatement[] }) =>
  (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement])[0]!;

/** Size of all `projects` in one role, measured by packing under the largest quota. */
function sizeTogether(projects: PackProject[], over: Partial<PackInput> = {}): number {
  const result = packProjects(base({ ...over, projects, trustPolicyMax: 8192 }));
  expect(result.roles).toHaveLength(1);
  return result.roles[0]!.size;
}

describe('packProjects: layout', () => {
  it('a single project gets exactly the policy buildTrustPolicy writes for it', () => {
    for (const [issuer, p] of [
      [selfManaged, proj(7)],
      [gitlabCom, proj(7, { namespaceId: '9', protectedOnly: true })],
      [
        gitlabCom,
        proj(7, {
          refs: [
            { type: 'branch', pattern: 'main' },
            { type: 'tag', pattern: 'v*' },
          ],
        }),
      ],
    ] as const) {
      const input = base({ issuer, projects: [p] });
      const alone = buildTrustPolicy({ ...input, ...p }).policy;
      const packed = packProjects(input).roles[0]!;
      expect(packed.trustPolicy).toEqual(alone);
      expect(packed.size).toBe(trustPolicySize(alone));
      expect(packed.roleName).toBe('gitlab-acme-1');
    }
  });

  it('ORs subjects and project IDs in one statement; all under StringLike once one ref is a pattern', () => {
    const result = packProjects(
      base({
        issuer: gitlabCom,
        projects: [proj(2), proj(1, { refs: [{ type: 'tag', pattern: 'v*' }] })],
      }),
    );
    expect(result.roles).toHaveLength(1);
    const cond = statementOf(result.roles[0]!.trustPolicy).Condition!;
    expect(cond.StringEquals).toEqual({
      'gitlab.com:aud': 'https://gitlab.com',
      'gitlab.com:project_id': ['1', '2'],
    });
    expect(cond.StringLike).toEqual({
      'gitlab.com:sub': [
        'project_path:acme/p001:ref_type:tag:ref:v*',
        'project_path:acme/p002:ref_type:branch:ref:main',
      ],
    });
    expect(result.assignment).toEqual({ '1': 'gitlab-acme-1', '2': 'gitlab-acme-1' });
  });

  it('never packs a project pinned by ID with one that is not, nor protected-only with unprotected', () => {
    const result = packProjects(
      base({
        issuer: gitlabCom,
        projects: [
          proj(1),
          proj(2, { projectId: undefined }),
          proj(3, { protectedOnly: true }),
          proj(4),
          proj(5, { protectedOnly: true }),
        ],
      }),
    );
    expect(result.roles.map((r) => [r.roleName, r.projects])).toEqual([
      ['gitlab-acme-1', ['1', '4']],
      ['gitlab-acme-2', ['3', '5']],
      ['gitlab-acme-3', ['acme/p002']],
    ]);
    expect(result.warnings.some((w) => w.includes('project path only') && w.endsWith('(acme/p002)'))).toBe(
      true,
    );
  });

  it('refuses what buildTrustPolicy refuses, and a project listed twice', () => {
    expect(() =>
      packProjects(base({ projects: [proj(1, { refs: [{ type: 'branch', pattern: '*' }] })] })),
    ).toThrow(/matches every branch/);
    expect(() => packProjects(base({ projects: [proj(1), proj(1)] }))).toThrow(/listed twice/);
    expect(() => packProjects(base({ projects: [proj(1), proj(2, { projectPath: 'acme/p001' })] }))).toThrow(
      /project acme\/p001: listed twice/,
    );
    expect(() => packProjects(base({ projects: [proj(1)], trustPolicyMax: 1000 }))).toThrow(
      /--trust-policy-max/,
    );
    expect(() => packProjects(base({ projects: [proj(1)], roleNameBase: 'x'.repeat(63) }))).toThrow(
      /1-64 characters/,
    );
  });
});

describe('packProjects: the size boundary', () => {
  // 30 projects of ~75 characters each: a little over 2,048 together.
  const projects = range(1, 30).map((id) =>
    proj(id, { projectPath: `acme/team/service-${String(id).padStart(4, '0')}` }),
  );
  const together = sizeTogether(projects);

  it('exactly at the quota: one role', () => {
    expect(together).toBeGreaterThan(2048);
    const result = packProjects(base({ projects, trustPolicyMax: together }));
    expect(result.roles).toHaveLength(1);
    expect(result.roles[0]!.size).toBe(together);
  });

  it('one character over: the last project goes to a second role, nothing dropped', () => {
    const result = packProjects(base({ projects, trustPolicyMax: together - 1 }));
    expect(result.roles.map((r) => r.projects)).toEqual([range(1, 29).map(String), ['30']]);
    for (const role of result.roles) expect(role.size).toBeLessThanOrEqual(together - 1);
    const subs = result.roles.flatMap((r) => subsOf(statementOf(r.trustPolicy)));
    expect(subs).toHaveLength(30);
    expect(new Set(subs).size).toBe(30);
  });

  it('under the default quota: every role fits, every subject kept once, roles numbered in order', () => {
    const many = range(1, 100).map((id) => proj(id, { projectPath: `acme/team/service-${id}` }));
    const result = packProjects(base({ projects: many }));
    expect(result.roles.length).toBeGreaterThan(3);
    expect(result.roles.map((r) => r.roleName)).toEqual(result.roles.map((_, i) => `gitlab-acme-${i + 1}`));
    for (const role of result.roles) expect(role.size).toBeLessThanOrEqual(2048);
    const subs = result.roles.flatMap((r) => subsOf(statementOf(r.trustPolicy)));
    expect(subs.sort()).toEqual(
      many.map((p) => `project_path:${p.projectPath}:ref_type:branch:ref:main`).sort(),
    );
    // First-fit: no role but the last could have taken the next project.
    expect(Object.keys(result.assignment)).toHaveLength(100);
  });

  it('a project alone too big: a usage error naming it and the sizes, others named too', () => {
    const refs = range(1, 40).map((i) => ({
      type: 'branch' as const,
      pattern: `release/very-long-branch-name-${i}`,
    }));
    const big = proj(5, { refs });
    const alone = trustPolicySize(buildTrustPolicy({ ...base(), ...big }).policy);
    let error: unknown;
    try {
      packProjects(base({ projects: [proj(1), big, proj(9, { projectPath: 'acme/other', refs })] }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    const usage = error as UsageError;
    expect(usage.message).toContain(
      `acme/p005 (ID 5): ${alone.toLocaleString('en-US')} characters alone, ${(alone - 2048).toLocaleString('en-US')} over`,
    );
    expect(usage.message).toContain('acme/other (ID 9)');
    expect(usage.issues.map((i) => i.field)).toEqual(['project acme/p005', 'project acme/other']);
    expect(usage.hint).toMatch(/--trust-policy-max/);
    // Raised quota: it fits.
    expect(packProjects(base({ projects: [big], trustPolicyMax: alone })).roles).toHaveLength(1);
  });
});

describe('packProjects: stability', () => {
  const projects = range(10, 69).map((id) => proj(id, { projectPath: `acme/team/service-${id}` }));
  const first = packProjects(base({ projects }));
  const previous = first.roles.map((r) => ({ roleName: r.roleName, projects: r.projects }));

  it('a new project (higher ID) moves nobody, with or without the previous assignment', () => {
    const added = [...projects, proj(70, { projectPath: 'acme/new' })];
    for (const prev of [undefined, previous]) {
      const next = packProjects(base({ projects: added, previous: prev }));
      for (const [key, role] of Object.entries(first.assignment)) expect(next.assignment[key]).toBe(role);
      expect(next.moves).toEqual([]);
    }
  });

  it('with the previous assignment, a project with a low ID joins without reshuffling the others', () => {
    const added = [proj(1, { projectPath: 'acme/zero-moved-in-from-elsewhere' }), ...projects];
    const without = packProjects(base({ projects: added }));
    const moved = Object.entries(first.assignment).filter(([k, r]) => without.assignment[k] !== r);
    expect(moved.length).toBeGreaterThan(0); // why the previous assignment is needed
    const withPrev = packProjects(base({ projects: added, previous }));
    for (const [key, role] of Object.entries(first.assignment)) expect(withPrev.assignment[key]).toBe(role);
    expect(withPrev.assignment['1']).toBeDefined();
  });

  it('input order does not matter', () => {
    const shuffled = [...projects].reverse();
    expect(packProjects(base({ projects: shuffled })).assignment).toEqual(first.assignment);
  });

  it('a project that outgrows its role moves, reported; removed projects and emptied roles are reported', () => {
    const grown = projects.map((p) =>
      p.projectId === '12'
        ? {
            ...p,
            refs: range(1, 8).map((i) => ({ type: 'branch' as const, pattern: `feature-branch-${i}` })),
          }
        : p,
    );
    const lastRole = first.roles.at(-1)!;
    const kept = grown.filter((p) => !lastRole.projects.includes(packProjectKey(p)));
    const next = packProjects(base({ projects: kept, previous }));
    expect(next.moves).toEqual([
      { project: '12', from: 'gitlab-acme-1', to: next.assignment['12'], reason: 'no longer fits' },
    ]);
    expect(next.removed).toEqual(lastRole.projects);
    // The emptied last role is reused for the mover before any new role is made.
    expect(next.assignment['12']).toBe(lastRole.roleName);
    expect(next.emptied).toEqual([]);
    const gone = packProjects(base({ projects: kept.filter((p) => p.projectId !== '12'), previous }));
    expect(gone.emptied).toEqual([lastRole.roleName]);
    for (const [key, role] of Object.entries(gone.assignment)) expect(first.assignment[key]).toBe(role);
  });

  it('default role base: from the group path, always leaving room for -<n>', () => {
    expect(defaultPackRoleBase('acme/platform')).toBe('gitlab-acme-platform');
    const long = `acme/${'very-long-subgroup-name/'.repeat(4)}x`;
    const base = defaultPackRoleBase(long);
    expect(base.length).toBeLessThanOrEqual(59);
    expect(base).toMatch(/^gitlab-acme-very-long-subgroup-name-.*-[0-9a-f]{8}$/);
    expect(defaultPackRoleBase(`${long}y`)).not.toBe(base);
    expect(packRoleName(base, 9999).length).toBeLessThanOrEqual(64);
  });

  it('a member whose conditions changed leaves its role; the others stay, even when it sorts first', () => {
    const gc = { issuer: gitlabCom };
    const three = [proj(1), proj(2), proj(3)];
    const prev = packProjects(base({ ...gc, projects: three })).roles.map((r) => ({
      roleName: r.roleName,
      projects: r.projects,
    }));
    expect(prev).toEqual([{ roleName: 'gitlab-acme-1', projects: ['1', '2', '3'] }]);
    const next = packProjects(
      base({ ...gc, projects: [proj(1, { protectedOnly: true }), proj(2), proj(3)], previous: prev }),
    );
    expect(next.assignment).toEqual({ '1': 'gitlab-acme-2', '2': 'gitlab-acme-1', '3': 'gitlab-acme-1' });
    expect(next.moves).toEqual([
      { project: '1', from: 'gitlab-acme-1', to: 'gitlab-acme-2', reason: 'conditions changed' },
    ]);
  });

  it('a project recorded by path before its ID was known keeps its role', () => {
    const next = packProjects(
      base({
        projects: [proj(1), proj(2)],
        previous: [
          { roleName: 'gitlab-acme-1', projects: ['1'] },
          { roleName: 'gitlab-acme-2', projects: ['acme/p002'] },
        ],
      }),
    );
    expect(next.assignment).toEqual({ '1': 'gitlab-acme-1', '2': 'gitlab-acme-2' });
    expect(next.removed).toEqual([]);
  });

  it('new roles take the next unused number after the previous ones', () => {
    const next = packProjects(
      base({ projects: [proj(1)], previous: [{ roleName: 'gitlab-acme-7', projects: ['99'] }] }),
    );
    expect(next.roles.map((r) => r.roleName)).toEqual(['gitlab-acme-7']);
    expect(packRoleName('gitlab-acme', 3)).toBe('gitlab-acme-3');
  });
});

describe('pack safety (init self-check on packed roles)', () => {
  it('every packed role passes lint and expect-deny for every member; other roles’ projects are refused', () => {
    for (const issuer of [selfManaged, gitlabCom]) {
      const projects = [
        ...range(1, 40).map((id) =>
          proj(id, { projectPath: `acme/sub${id % 3}/app-${id}`, namespaceId: String(100 + (id % 3)) }),
        ),
        proj(41, { projectPath: 'acme/app', refs: [{ type: 'tag', pattern: 'v*' }] }),
        proj(42, { projectPath: 'acme/app-evil' }),
      ];
      const input = base({ issuer, projects });
      const result = packProjects(input);
      expect(result.roles.length).toBeGreaterThan(1);
      const reports = checkPackedRoles(input, result.roles);
      for (const r of reports)
        expect(r).toEqual({ roleName: r.roleName, critical: [], leaks: [], dropped: [], foreign: [] });
      expect(() => assertPackedRolesSafe(input, result.roles)).not.toThrow();
    }
  });

  it('catches a role that drops a subject or lets another role’s project in', () => {
    const input = base({
      projects: range(1, 40).map((id) => proj(id, { projectPath: `acme/team/service-${id}` })),
    });
    const roles = packProjects(input).roles;
    const [a, b] = roles;
    // Swap a subject between the two roles' policies: a's member is now refused, b's member let into a.
    const subA = statementOf(a!.trustPolicy).Condition!.StringEquals!['git.example.com:sub'] as string[];
    const subB = statementOf(b!.trustPolicy).Condition!.StringEquals!['git.example.com:sub'] as string[];
    const tampered = structuredClone(roles);
    (statementOf(tampered[0]!.trustPolicy).Condition!.StringEquals!['git.example.com:sub'] as string[])[0] =
      subB[0]!;
    const report = checkPackedRoles(input, tampered)[0]!;
    expect(report.dropped).toEqual([`${a!.members[0]!.projectPath} branch main`]);
    expect(report.foreign).toEqual([b!.members[0]!.projectPath]);
    expect(subA[0]).not.toBe(subB[0]);
    expect(() => assertPackedRolesSafe(input, tampered)).toThrow(/not exactly their projects/);
  });

  it('a probe that is another member is a leak unless that member is meant to run that job', () => {
    const input = base({
      projects: [
        proj(1, { projectPath: 'acme/app' }),
        proj(2, { projectPath: 'acme/app-evil', refs: [{ type: 'branch', pattern: 'release' }] }),
      ],
    });
    const roles = structuredClone(packProjects(input).roles);
    expect(checkPackedRoles(input, roles)[0]!.leaks).toEqual([]);
    // acme/app-evil's main branch is not one of its refs: a role letting it in leaks.
    const cond = statementOf(roles[0]!.trustPolicy).Condition!.StringEquals!;
    cond['git.example.com:sub'] = [
      ...(cond['git.example.com:sub'] as string[]),
      'project_path:acme/app-evil:ref_type:branch:ref:main',
    ];
    const leaks = checkPackedRoles(input, roles)[0]!.leaks;
    expect(leaks.map((l) => [l.project, l.check.id])).toEqual([['acme/app', 'project-name-prefix']]);
  });

  it('catches a leak to a look-alike project', () => {
    const input = base({ projects: [proj(1, { projectPath: 'acme/app' })] });
    const roles = structuredClone(packProjects(input).roles);
    statementOf(roles[0]!.trustPolicy).Condition = {
      StringEquals: { 'git.example.com:aud': selfManaged.url },
      StringLike: { 'git.example.com:sub': 'project_path:acme/app*:ref_type:branch:ref:main' },
    };
    const report = checkPackedRoles(input, roles)[0]!;
    expect(report.leaks.map((l) => l.check.id)).toContain('project-name-prefix');
  });
});
