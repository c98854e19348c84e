/** One rule for "is this the tool's policy for this project on this instance" (status, destroy, init's plan). */
import { describe, expect, it } from 'vitest';
import { isToolPolicyFor, sameGitlabUrl, sameInstance } from '../../src/core/tool-resources.js';

const MANAGED = { 'managed-by': 'gitlab-aws-oidc' };
const role = {
  ...MANAGED,
  'gitlab-aws-oidc:project': 'acme/web',
  'gitlab-aws-oidc:gitlab-url': 'https://gitlab.com',
};

describe('isToolPolicyFor', () => {
  it.each([
    ['tagged for the same project and instance', { ...role }, {}, true],
    [
      'project in another case (GitLab paths are case-insensitive)',
      { ...role, 'gitlab-aws-oidc:project': 'Acme/Web' },
      {},
      true,
    ],
    [
      'instance written another way',
      { ...role, 'gitlab-aws-oidc:gitlab-url': 'HTTPS://GitLab.com/' },
      {},
      true,
    ],
    [
      'no instance tag (made before the tag existed)',
      { ...MANAGED, 'gitlab-aws-oidc:project': 'acme/web' },
      {},
      true,
    ],
    ['another project', { ...role, 'gitlab-aws-oidc:project': 'acme/web-2' }, {}, false],
    ['another instance', { ...role, 'gitlab-aws-oidc:gitlab-url': 'https://gitlab.example.com' }, {}, false],
    ['not tagged by the tool', { 'gitlab-aws-oidc:project': 'acme/web' }, {}, false],
    ['no project tag', { ...MANAGED }, {}, false],
    ['no project tag, allowed (destroy)', { ...MANAGED }, { untaggedProject: true }, true],
  ])('%s', (_name, tags, options, expected) => {
    expect(isToolPolicyFor(tags, role, options)).toBe(expected);
  });
});

describe('GitLab URLs', () => {
  it('compare scheme, case and trailing slash aside; an untagged side is the same instance', () => {
    expect(sameGitlabUrl('https://GitLab.example.com/gitlab/', 'gitlab.example.com/gitlab')).toBe(true);
    expect(sameGitlabUrl(undefined, 'gitlab.com')).toBe(false);
    expect(sameInstance(undefined, 'https://gitlab.com')).toBe(true);
    expect(sameInstance('https://gitlab.com', 'https://gitlab.example.com')).toBe(false);
  });
});
