import { describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/core/types.js';
import { projectsTrustedBy } from '../../src/fleet/trust-match.js';

const trust = (operator: string, sub: string | string[]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/gitlab.com' },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { [operator]: { 'gitlab.com:sub': sub } },
    },
  ],
});
const projects = [
  { project: 'acme/api', projectId: 1 },
  { project: 'acme/web', projectId: 2 },
  { project: 'acme/tools/cli', projectId: 3 },
  { project: 'other/x', projectId: 4 },
];
const names = (r: { project: string }[]) => r.map((p) => p.project);

describe('projectsTrustedBy', () => {
  const table: [string, Parameters<typeof projectsTrustedBy>[0], string[]][] = [
    [
      'a literal sub',
      { trustPolicy: trust('StringEquals', 'project_path:acme/api:ref_type:branch:ref:main') },
      ['acme/api'],
    ],
    [
      'a group wildcard spans subgroups, as StringLike * does',
      { trustPolicy: trust('StringLike', 'project_path:acme/*') },
      ['acme/api', 'acme/web', 'acme/tools/cli'],
    ],
    [
      '? is one character',
      { trustPolicy: trust('StringLike', 'project_path:acme/?eb:ref_type:branch:ref:main') },
      ['acme/web'],
    ],
    ['any project', { trustPolicy: trust('StringLike', 'project_path:*') }, names(projects)],
    [
      'project_id',
      { trustPolicy: trust('StringEquals', 'project_id:3:ref_type:branch:ref:main') },
      ['acme/tools/cli'],
    ],
    [
      'a negative operator admits nothing',
      { trustPolicy: trust('StringNotLike', 'project_path:acme/*') },
      [],
    ],
    [
      'the project tag, case-insensitively',
      { trustPolicy: trust('StringEquals', 'x'), tags: { 'gitlab-aws-oidc:project': 'ACME/Web' } },
      ['acme/web'],
    ],
  ];
  for (const [name, role, expected] of table) {
    it(name, () => expect(names(projectsTrustedBy(role, projects))).toEqual(expected));
  }

  it('a role tagged for another GitLab instance trusts none of this one', () => {
    const role = {
      trustPolicy: trust('StringEquals', 'project_path:acme/api:ref_type:branch:ref:main'),
      tags: {
        'gitlab-aws-oidc:project': 'acme/api',
        'gitlab-aws-oidc:gitlab-url': 'https://gitlab.example.com',
      },
    };
    expect(projectsTrustedBy(role, projects, 'https://gitlab.com')).toEqual([]);
    expect(names(projectsTrustedBy(role, projects, 'https://gitlab.example.com/'))).toEqual(['acme/api']);
  });
});
