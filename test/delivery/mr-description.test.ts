import { describe, expect, it } from 'vitest';
import {
  inlineCode,
  type MergeRequestDescriptionInput,
  mergeRequestTitle,
  renderDescriptionFromTemplate,
  renderMergeRequestDescription,
} from '../../src/delivery/mr-description.js';
import { CliError } from '../../src/errors.js';
import { jobNamesFor } from '../../src/render/ci-file.js';

const input: MergeRequestDescriptionInput = {
  toolVersion: '1.2.3',
  project: 'grp/app',
  issuer: 'https://gitlab.com',
  audience: 'https://gitlab.com',
  roleArn: 'arn:aws:iam::123456789012:role/gitlab-oidc/app-ci',
  providerArn: 'arn:aws:iam::123456789012:oidc-provider/gitlab.com',
  refs: [
    { type: 'branch', pattern: 'main' },
    { type: 'tag', pattern: 'v*' },
  ],
  pins: { projectId: '4242', namespaceId: '77', refProtected: true },
  permissions: {
    policyArn: 'arn:aws:iam::123456789012:policy/gitlab-oidc/app-ci',
    source: 'template s3-deploy',
    managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
  },
  ciPath: '.gitlab-ci.yml',
  jobs: jobNamesFor(),
  verifyCommand:
    "gitlab-aws-oidc verify --role-arn arn:aws:iam::123456789012:role/gitlab-oidc/app-ci --project grp/app --branch 'main'",
};

describe('merge request title and description', () => {
  it('migrate --apply: says which variables hold the key, that the hidden job unsets them, and that --retire retires it', () => {
    const text = renderMergeRequestDescription({
      ...input,
      command: 'gitlab-aws-oidc migrate --apply --merge-request',
      replacesStaticKey: {
        userName: 'deploy-bot',
        variables: [
          { key: 'AWS_ACCESS_KEY_ID', where: 'project variable' },
          { key: 'AWS_SECRET_ACCESS_KEY', where: 'group grp variable' },
        ],
      },
    });
    expect(text).toContain('opened by `gitlab-aws-oidc migrate --apply --merge-request` (1.2.3)');
    expect(text).toContain('### Replacing the static AWS key');
    expect(text).toContain('access key of IAM user `deploy-bot`');
    expect(text).toContain(
      '- `AWS_ACCESS_KEY_ID` (project variable)\n- `AWS_SECRET_ACCESS_KEY` (group grp variable)',
    );
    expect(text).toContain(
      '`.aws-oidc` first runs `unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN`',
    );
    expect(text).toContain(
      '`gitlab-aws-oidc migrate --retire` deletes the variables and deactivates the key',
    );
    const plain = renderMergeRequestDescription(input);
    expect(plain).toContain('opened by `gitlab-aws-oidc init --merge-request`');
    expect(plain).not.toContain('static AWS key');
  });

  it('explains the role, the trust (refs, pins), the permissions and how to verify', () => {
    const text = renderMergeRequestDescription(input);
    expect(text).toContain('- Role: `arn:aws:iam::123456789012:role/gitlab-oidc/app-ci`');
    expect(text).toContain('its audience (`aud`) is `https://gitlab.com`');
    expect(text).toContain('  - branch `main`\n  - tag `v*` (pattern)');
    expect(text).toContain(
      '  - `project_id` = `4242`\n  - `namespace_id` = `77`\n  - `ref_protected` = `true`',
    );
    expect(text).toContain(
      '- `arn:aws:iam::123456789012:policy/gitlab-oidc/app-ci` (from template s3-deploy), managed by gitlab-aws-oidc',
    );
    expect(text).toContain('- `arn:aws:iam::aws:policy/ReadOnlyAccess`');
    expect(text).toContain('From a laptop, without GitLab: `gitlab-aws-oidc verify --role-arn');
    expect(text).toContain('`aws-oidc-check`, which runs `aws sts get-caller-identity`');
    expect(text).not.toMatch(/\{\{|\}\}/);
    expect(text).not.toContain('CI/CD variables (Settings');
  });

  it('is the same text for the same input (a re-run does not update the MR)', () => {
    expect(renderMergeRequestDescription(input)).toBe(renderMergeRequestDescription({ ...input }));
    expect(mergeRequestTitle(input.roleArn, input.project)).toBe(
      "Assume AWS role app-ci from grp/app's CI/CD jobs (OIDC)",
    );
  });

  it('without pins or permissions, with --ci-variables and a verify job', () => {
    const text = renderMergeRequestDescription({
      ...input,
      pins: { refProtected: false },
      permissions: { managedPolicyArns: [] },
      verifyRuns: 'image registry.example.com/gao@sha256:ab',
      variables: {
        roleArn: 'AWS_OIDC_ROLE_ARN',
        region: 'AWS_OIDC_REGION',
        protection: 'protected: every allowed ref (branch main) is protected',
      },
    });
    expect(text).not.toContain('pinned by gitlab.com');
    expect(text).toContain('- none attached yet');
    expect(text).toContain(
      "The job `aws-oidc-verify` runs, with the role's credentials: image registry.example.com/gao@sha256:ab.",
    );
    expect(text).toContain('`AWS_OIDC_ROLE_ARN` and `AWS_OIDC_REGION`, protected: every allowed ref');
  });

  it('code spans survive backticks; a multi-line value or an unknown placeholder is refused', () => {
    expect(inlineCode('a`b')).toBe('``a`b``');
    expect(inlineCode('`x')).toBe('`` `x ``');
    expect(() => renderDescriptionFromTemplate('{{PROJECT}}', { ...input, project: 'a\nb' })).toThrow(
      CliError,
    );
    expect(() => renderDescriptionFromTemplate('{{NOPE}}', input)).toThrow(/Unknown template placeholder/);
  });
});
