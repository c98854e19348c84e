// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform interpolations and IAM policy variables are literal text here
/**
 * The Terraform renderer, pure: every file parsed back with @cdktf/hcl2json, the resources and their
 * arguments checked, and the trust policy decoded and compared with buildTrustPolicy byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { encodePolicyDocument } from '../../src/aws/iam-call.js';
import { parseIssuerUrl, providerArnFor } from '../../src/core/issuer.js';
import { buildDesiredState, type DesiredStateInput } from '../../src/core/plan.js';
import { buildTrustPolicy } from '../../src/core/trust-policy.js';
import type { DesiredState } from '../../src/core/types.js';
import { hclString } from '../../src/export/hcl.js';
import { EXPORT_MARKER } from '../../src/export/marker.js';
import { policyTagsAsInitWrites, renderTerraform, roleTagsAsInitWrites } from '../../src/export/terraform.js';
import type { ExistingResources, ExportContext } from '../../src/export/types.js';
import { type Hcl, literal, parseFiles, parseHcl, resource } from './hcl-parse.js';

const ACCOUNT = '210987654321';
const gitlabCom = parseIssuerUrl('https://gitlab.com');

function input(overrides: Partial<DesiredStateInput> = {}): DesiredStateInput {
  return {
    identity: { account: ACCOUNT, partition: 'aws' },
    issuer: gitlabCom,
    audience: 'https://gitlab.com',
    projectPath: 'acme/web',
    refs: [
      { type: 'branch', pattern: 'main' },
      { type: 'tag', pattern: 'v*' },
    ],
    projectId: '4242',
    protectedOnly: true,
    roleName: 'gitlab-acme-web',
    managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    policy: {
      name: 'gitlab-acme-web',
      document: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::site/${aws:username}/*' },
        ],
      },
    },
    tags: { team: 'web+core@acme' },
    ...overrides,
  };
}

function contextFor(
  existing: Partial<ExistingResources> = {},
  more: Partial<ExportContext> = {},
): ExportContext {
  return {
    identity: { account: ACCOUNT, partition: 'aws' },
    project: 'acme/web',
    existing: { attachedPolicyArns: [], ...existing },
    toolVersion: '9.9.9',
    ...more,
  };
}

async function exportOf(desired: DesiredState, context = contextFor()) {
  const files = renderTerraform(desired, context);
  return { files, hcl: await parseFiles(files) };
}

describe('renderTerraform', () => {
  it('writes versions.tf, main.tf, imports.tf and outputs.tf, each starting with the export marker and parsing as HCL', async () => {
    const { desired } = buildDesiredState(input());
    const { files, hcl } = await exportOf(desired);
    expect(files.map((f) => f.path)).toEqual(['versions.tf', 'main.tf', 'imports.tf', 'outputs.tf']);
    for (const f of files) {
      expect(f.content.startsWith(EXPORT_MARKER)).toBe(true);
      expect(f.content.endsWith('\n')).toBe(true);
    }
    const tf = (hcl['versions.tf'] as Hcl).terraform[0];
    expect(tf.required_version).toBe('>= 1.5.0');
    expect(tf.required_providers[0].aws).toEqual({ source: 'hashicorp/aws', version: '>= 5.81.0' });
    const outputs = (hcl['outputs.tf'] as Hcl).output;
    expect(outputs.role_arn[0].value).toBe('${aws_iam_role.gitlab_ci.arn}');
    expect(outputs.oidc_provider_arn[0].value).toBe('${aws_iam_openid_connect_provider.gitlab.arn}');
    expect(outputs.policy_arn[0].value).toBe('${aws_iam_policy.gitlab_ci.arn}');
  });

  it('round trip: the assume_role_policy decodes to buildTrustPolicy, deep-equal and byte-equal to what init sends', async () => {
    for (const overrides of [
      {},
      { refs: [{ type: 'branch' as const, pattern: 'release/*' }], protectedOnly: true },
      {
        issuer: parseIssuerUrl('https://gitlab.example.com/gitlab'),
        audience: 'sts.amazonaws.com',
        projectId: undefined,
        protectedOnly: false,
      },
    ]) {
      const i = input(overrides);
      const { desired } = buildDesiredState(i);
      const { hcl } = await exportOf(desired);
      const role = resource(hcl['main.tf'] as Hcl, 'aws_iam_role', 'gitlab_ci');
      const text = literal(role.assume_role_policy);
      const expected = buildTrustPolicy({
        ...i,
        providerArn: providerArnFor('aws', ACCOUNT, i.issuer),
      }).policy;
      expect(JSON.parse(text)).toEqual(expected);
      // init sends encodePolicyDocument(trustPolicy) to CreateRole / UpdateAssumeRolePolicy.
      expect(text).toBe(encodePolicyDocument(desired.role.trustPolicy));
      expect(text).toBe(JSON.stringify(expected));
    }
  });

  it('the role: name, path, description, session, boundary and the tags init writes (ownership record included)', async () => {
    const boundary = `arn:aws:iam::${ACCOUNT}:policy/boundary`;
    const { desired } = buildDesiredState(
      input({ permissionsBoundaryArn: boundary, maxSessionDuration: 7200, rolePath: '/ci/' }),
    );
    const { hcl } = await exportOf(desired);
    const role = resource(hcl['main.tf'] as Hcl, 'aws_iam_role', 'gitlab_ci');
    expect(role.name).toBe('gitlab-acme-web');
    expect(role.path).toBe('/ci/');
    expect(role.description).toBe(desired.role.description);
    expect(role.max_session_duration).toBe(7200);
    expect(role.permissions_boundary).toBe(boundary);
    expect(role.tags).toEqual(roleTagsAsInitWrites(desired));
    expect(role.tags.team).toBe('web+core@acme');
    expect(role.tags['gitlab-aws-oidc:trust']).toMatch(/^[\w-]{22}$/);
    expect(role.depends_on).toEqual(['${aws_iam_openid_connect_provider.gitlab}']);
    const [guard] = role.lifecycle[0].precondition;
    expect(guard.condition).toBe(
      `\${data.aws_caller_identity.current.account_id == "${ACCOUNT}" && data.aws_partition.current.partition == "aws"}`,
    );
    expect((hcl['main.tf'] as Hcl).data.aws_caller_identity.current).toBeDefined();
  });

  it('no boundary argument when there is none; the default session is 3600', async () => {
    const { desired } = buildDesiredState(input());
    const role = resource((await exportOf(desired)).hcl['main.tf'] as Hcl, 'aws_iam_role', 'gitlab_ci');
    expect(role).not.toHaveProperty('permissions_boundary');
    expect(role.max_session_duration).toBe(3600);
  });

  it('the tool policy: the document byte for byte (${…} kept literal), its path and tags; attachments reference it', async () => {
    const { desired } = buildDesiredState(input());
    const main = (await exportOf(desired)).hcl['main.tf'] as Hcl;
    const policy = resource(main, 'aws_iam_policy', 'gitlab_ci');
    const policyText = literal(policy.policy);
    expect(policyText).toBe(encodePolicyDocument(desired.policy!.document));
    expect(policyText).toContain('${aws:username}');
    expect(policy.name).toBe('gitlab-acme-web');
    expect(policy.path).toBe(desired.policy!.path);
    expect(policy.tags).toEqual(policyTagsAsInitWrites(desired.policy!));
    expect(resource(main, 'aws_iam_role_policy_attachment', 'gitlab_ci')).toEqual({
      role: '${aws_iam_role.gitlab_ci.name}',
      policy_arn: '${aws_iam_policy.gitlab_ci.arn}',
    });
    expect(resource(main, 'aws_iam_role_policy_attachment', 'readonlyaccess')).toEqual({
      role: '${aws_iam_role.gitlab_ci.name}',
      policy_arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
    });
  });

  it('gitlab.com: a provider without thumbprint_list, with client_id_list = the audience', async () => {
    const { desired } = buildDesiredState(input());
    const main = (await exportOf(desired)).hcl['main.tf'] as Hcl;
    const provider = resource(main, 'aws_iam_openid_connect_provider', 'gitlab');
    expect(provider.url).toBe('https://gitlab.com');
    expect(provider.client_id_list).toEqual(['https://gitlab.com']);
    expect(provider).not.toHaveProperty('thumbprint_list');
    expect(provider.tags).toEqual(desired.provider.tags);
  });

  it('self-managed with thumbprints: thumbprint_list is written', async () => {
    const thumb = 'a'.repeat(40);
    const { desired } = buildDesiredState(
      input({
        issuer: parseIssuerUrl('https://gitlab.example.com'),
        audience: 'https://gitlab.example.com',
        projectId: undefined,
        protectedOnly: false,
        thumbprints: [thumb],
      }),
    );
    const provider = resource(
      (await exportOf(desired)).hcl['main.tf'] as Hcl,
      'aws_iam_openid_connect_provider',
      'gitlab',
    );
    expect(provider.thumbprint_list).toEqual([thumb]);
  });

  it('nothing exists: imports.tf holds no import block', async () => {
    const { desired } = buildDesiredState(input());
    const { hcl } = await exportOf(desired);
    expect(hcl['imports.tf']).not.toHaveProperty('import');
  });

  it('what exists gets import blocks: role by name, policy by ARN, attachments as role/arn; an existing provider is a data source', async () => {
    const { desired } = buildDesiredState(input());
    const existing: ExistingResources = {
      providerArn: desired.provider.arn,
      provider: {
        arn: desired.provider.arn,
        url: 'gitlab.com',
        clientIds: ['https://gitlab.com'],
        thumbprints: [],
        tags: {},
      },
      roleName: 'gitlab-acme-web',
      policyArn: desired.policy!.arn,
      attachedPolicyArns: [desired.policy!.arn, 'arn:aws:iam::aws:policy/AdministratorAccess'],
    };
    const { hcl } = await exportOf(desired, contextFor(existing));
    expect((hcl['imports.tf'] as Hcl).import).toEqual([
      { to: '${aws_iam_policy.gitlab_ci}', id: desired.policy!.arn },
      { to: '${aws_iam_role.gitlab_ci}', id: 'gitlab-acme-web' },
      { to: '${aws_iam_role_policy_attachment.gitlab_ci}', id: `gitlab-acme-web/${desired.policy!.arn}` },
    ]);
    const main = hcl['main.tf'] as Hcl;
    expect(main.resource).not.toHaveProperty('aws_iam_openid_connect_provider');
    expect(main.data.aws_iam_openid_connect_provider.gitlab[0]).toEqual({ url: 'https://gitlab.com' });
    const role = resource(main, 'aws_iam_role', 'gitlab_ci');
    expect(role).not.toHaveProperty('depends_on');
    const audience = role.lifecycle[0].precondition[1];
    expect(audience.condition).toBe(
      '${contains(data.aws_iam_openid_connect_provider.gitlab.client_id_list, "https://gitlab.com")}',
    );
    expect((hcl['outputs.tf'] as Hcl).output.oidc_provider_arn[0].value).toBe(
      '${data.aws_iam_openid_connect_provider.gitlab.arn}',
    );
  });

  it('manageExistingProvider: the provider is imported by ARN, keeping the client IDs and thumbprints it has', async () => {
    const { desired } = buildDesiredState(input());
    const thumb = 'b'.repeat(40);
    const existing: ExistingResources = {
      providerArn: desired.provider.arn,
      provider: {
        arn: desired.provider.arn,
        url: 'gitlab.com',
        clientIds: ['sts.amazonaws.com'],
        thumbprints: [thumb],
        tags: { owner: 'platform' },
      },
      attachedPolicyArns: [],
    };
    const { hcl } = await exportOf(desired, contextFor(existing, { manageExistingProvider: true }));
    expect((hcl['imports.tf'] as Hcl).import).toEqual([
      { to: '${aws_iam_openid_connect_provider.gitlab}', id: desired.provider.arn },
    ]);
    const provider = resource(hcl['main.tf'] as Hcl, 'aws_iam_openid_connect_provider', 'gitlab');
    expect(provider.client_id_list).toEqual(['sts.amazonaws.com', 'https://gitlab.com']);
    expect(provider.thumbprint_list).toEqual([thumb]);
    expect(provider.tags).toEqual({ owner: 'platform' });
  });

  it('attachment names stay unique and valid identifiers', async () => {
    const { desired } = buildDesiredState(
      input({
        policy: undefined,
        managedPolicyArns: [
          'arn:aws:iam::aws:policy/ReadOnlyAccess',
          `arn:aws:iam::${ACCOUNT}:policy/team/ReadOnlyAccess`,
          `arn:aws:iam::${ACCOUNT}:policy/1-deploy`,
        ],
      }),
    );
    const main = (await exportOf(desired)).hcl['main.tf'] as Hcl;
    // hcl2json sorts block names.
    expect(Object.keys(main.resource.aws_iam_role_policy_attachment).sort()).toEqual([
      '_1_deploy',
      'readonlyaccess',
      'readonlyaccess_2',
    ]);
    expect(resource(main, 'aws_iam_role_policy_attachment', 'readonlyaccess_2').policy_arn).toBe(
      `arn:aws:iam::${ACCOUNT}:policy/team/ReadOnlyAccess`,
    );
    expect(main.resource).not.toHaveProperty('aws_iam_policy');
    expect(
      (await parseFiles(renderTerraform(desired, contextFor())))['outputs.tf']?.output,
    ).not.toHaveProperty('policy_arn');
  });
});

describe('hclString', () => {
  it('is read back by an HCL parser as exactly the original text', async () => {
    const samples = [
      'plain',
      'q"uo\\te',
      '${var.x} and %{ if }',
      'tab\tnew\nline\r',
      'é ü 日本',
      '\u0001',
      '$$ %%',
    ];
    for (const text of samples) {
      const parsed = await parseHcl('t.tf', `x = ${hclString(text)}\n`);
      expect(literal(parsed.x)).toBe(text);
    }
  });
});
