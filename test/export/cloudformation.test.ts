// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub and IAM policy variables
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SpecDatabase } from '@aws-cdk/service-spec-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePolicyDocument } from '../../src/aws/iam-call.js';
import { buildDesiredState, type DesiredStateInput } from '../../src/core/desired-state.js';
import { parseIssuerUrl, providerArnFor } from '../../src/core/issuer.js';
import { buildTrustPolicy } from '../../src/core/trust-policy.js';
import type { DesiredState } from '../../src/core/types.js';
import {
  CFN_IDS,
  GITLAB_COM_PLACEHOLDER_THUMBPRINT,
  renderCloudFormation,
} from '../../src/export/cloudformation.js';
import { parseCloudFormation } from '../../src/export/cloudformation-yaml.js';
import type { ExportContext } from '../../src/export/types.js';
import { resolveTemplate } from '../helpers/cfn-resolve.js';
import { loadSpec, validateTemplate } from '../helpers/cfn-schema.js';
import { usageError } from '../helpers/usage-error.js';

const EXPORT_ACCOUNT = '111122223333';
const THUMBPRINT = '0123456789abcdef0123456789abcdef01234567';
const POLICY_DOC = {
  Version: '2012-10-17' as const,
  Statement: [
    { Effect: 'Allow' as const, Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/${aws:username}/*' },
  ],
};

/** One export scenario: `init`'s inputs (minus identity) and what the account already has. */
interface Scenario {
  name: string;
  input: Omit<DesiredStateInput, 'identity'>;
  partition?: string;
  providerExists?: boolean;
}

const gitlabCom = parseIssuerUrl('https://gitlab.com');
const selfManaged = parseIssuerUrl('https://gitlab.example.com/gitlab');

const SCENARIOS: Scenario[] = [
  {
    name: 'gitlab.com with a tool policy',
    input: {
      issuer: gitlabCom,
      audience: 'https://gitlab.com',
      projectPath: 'grp/app',
      projectId: '4242',
      namespaceId: '17',
      protectedOnly: true,
      refs: [{ type: 'branch', pattern: 'main' }],
      roleName: 'gitlab-grp-app',
      policy: { name: 'gitlab-grp-app-deploy', document: POLICY_DOC },
      tags: { team: 'yes', env: 'on' },
    },
  },
  {
    name: 'gitlab.com without a tool policy, provider already there',
    input: {
      issuer: gitlabCom,
      audience: 'sts.amazonaws.com',
      projectPath: 'grp/sub/app',
      refs: [
        { type: 'branch', pattern: 'main' },
        { type: 'tag', pattern: 'v*' },
      ],
      roleName: 'gitlab-app-readonly',
      managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    },
    providerExists: true,
  },
  {
    name: 'self-managed with thumbprints, a boundary and a path',
    input: {
      issuer: selfManaged,
      audience: 'https://gitlab.example.com/gitlab',
      projectPath: 'platform/infra',
      refs: [{ type: 'branch', pattern: 'release/*' }],
      roleName: 'infra-deployer',
      rolePath: '/gitlab/',
      maxSessionDuration: 7200,
      thumbprints: [THUMBPRINT],
      permissionsBoundaryArn: `arn:aws:iam::${EXPORT_ACCOUNT}:policy/ci-boundary`,
      managedPolicyArns: [
        `arn:aws:iam::${EXPORT_ACCOUNT}:policy/shared-deploy`,
        'arn:aws:iam::999988887777:policy/cross-account',
      ],
      policy: { name: 'infra-deployer-extra', path: '/gitlab/', document: POLICY_DOC },
    },
  },
  {
    name: 'self-managed in aws-cn with a boundary, provider already there',
    partition: 'aws-cn',
    input: {
      issuer: selfManaged,
      audience: 'sts.amazonaws.com',
      projectPath: 'platform/infra',
      refs: [{ type: 'tag', pattern: 'v1.0.0' }],
      roleName: 'infra-cn',
      thumbprints: [THUMBPRINT],
      permissionsBoundaryArn: `arn:aws-cn:iam::${EXPORT_ACCOUNT}:policy/ci-boundary`,
    },
    providerExists: true,
  },
];

/**
 * What `init` would apply in `account`: the same inputs, with the export account's own ARNs (boundary,
 * customer policies) naming `account` instead, which is what a StackSet deployment of the template means.
 */
function desiredFor(scenario: Scenario, account: string): DesiredState {
  const partition = scenario.partition ?? 'aws';
  const input = JSON.parse(
    JSON.stringify(scenario.input).replaceAll(`::${EXPORT_ACCOUNT}:`, `::${account}:`),
  );
  return buildDesiredState({ ...input, identity: { account, partition } }).desired;
}

function contextFor(scenario: Scenario): ExportContext {
  const desired = desiredFor(scenario, EXPORT_ACCOUNT);
  return {
    identity: { account: EXPORT_ACCOUNT, partition: scenario.partition ?? 'aws' },
    project: scenario.input.projectPath,
    existing: {
      providerArn: scenario.providerExists ? desired.provider.arn : undefined,
      attachedPolicyArns: [],
    },
    toolVersion: '0.1.0-test',
  };
}

function exportTemplate(scenario: Scenario): { text: string; template: Record<string, unknown> } {
  const files = renderCloudFormation(desiredFor(scenario, EXPORT_ACCOUNT), contextFor(scenario));
  expect(files).toHaveLength(1);
  const text = files[0]!.content;
  return { text, template: parseCloudFormation(text) };
}

/** The template as CloudFormation would deploy it in `account`, with the physical ARNs IAM gives. */
function deployIn(scenario: Scenario, account: string, createProvider?: 'true' | 'false') {
  const { template } = exportTemplate(scenario);
  const desired = desiredFor(scenario, account);
  return {
    desired,
    resolved: resolveTemplate(template, {
      account,
      partition: scenario.partition ?? 'aws',
      ...(createProvider ? { parameters: { [CFN_IDS.createProviderParameter]: createProvider } } : {}),
      resourceArns: {
        [CFN_IDS.provider]: desired.provider.arn,
        [CFN_IDS.role]: desired.role.arn,
        ...(desired.policy ? { [CFN_IDS.policy]: desired.policy.arn } : {}),
      },
    }),
  };
}

let spec: SpecDatabase;
beforeAll(async () => {
  spec = await loadSpec();
}, 30_000);

describe.each(SCENARIOS)('CloudFormation export: $name', (scenario) => {
  it('is a valid template for the AWS resource schemas', () => {
    const { template } = exportTemplate(scenario);
    expect(validateTemplate(spec, template)).toEqual([]);
    const resources = template.Resources as Record<string, { Type: string }>;
    expect(Object.values(resources).map((r) => r.Type)).toEqual([
      'AWS::IAM::OIDCProvider',
      ...(scenario.input.policy ? ['AWS::IAM::ManagedPolicy'] : []),
      'AWS::IAM::Role',
    ]);
  });

  it.each([
    ['the export account, CreateProvider default', EXPORT_ACCOUNT, undefined],
    ['another StackSet account that creates the provider', '444455556666', 'true'],
    ['another StackSet account that has the provider', '777788889999', 'false'],
  ] as const)(
    'the trust policy resolves byte for byte to the one init writes: %s',
    (_label, account, create) => {
      const { resolved } = deployIn(scenario, account, create);
      const issuer = scenario.input.issuer;
      const providerArn = providerArnFor(scenario.partition ?? 'aws', account, issuer);
      const expected = buildTrustPolicy({ ...scenario.input, providerArn }).policy;
      expect(expected).toEqual(deployIn(scenario, account, create).desired.role.trustPolicy);
      const role = resolved.resources[CFN_IDS.role]!;
      expect(role.Properties.AssumeRolePolicyDocument).toEqual(expected);
      expect(encodePolicyDocument(role.Properties.AssumeRolePolicyDocument as never)).toBe(
        encodePolicyDocument(expected),
      );
      expect(resolved.outputs.ProviderArn).toBe(providerArn);
    },
  );

  it('resolves every other role and provider property to what init applies', () => {
    const account = '444455556666';
    const { desired, resolved } = deployIn(scenario, account, 'true');
    const role = resolved.resources[CFN_IDS.role]!.Properties;
    expect(role.RoleName).toBe(desired.role.name);
    expect(role.Path).toBe(desired.role.path);
    expect(role.Description).toBe(desired.role.description);
    expect(role.MaxSessionDuration).toBe(desired.role.maxSessionDuration);
    expect(role.PermissionsBoundary).toBe(desired.role.permissionsBoundaryArn);
    expect(role.ManagedPolicyArns ?? []).toEqual(desired.role.managedPolicyArns);
    expect(role.Tags).toEqual(Object.entries(desired.role.tags).map(([Key, Value]) => ({ Key, Value })));

    const provider = resolved.resources[CFN_IDS.provider]!.Properties;
    expect(provider.Url).toBe(desired.provider.url);
    expect(provider.ClientIdList).toEqual(desired.provider.clientIds);
    expect(provider.ThumbprintList).toEqual(
      desired.provider.thumbprints.length
        ? desired.provider.thumbprints
        : [GITLAB_COM_PLACEHOLDER_THUMBPRINT],
    );
    expect(provider.Tags).toEqual(
      Object.entries(desired.provider.tags).map(([Key, Value]) => ({ Key, Value })),
    );

    if (desired.policy) {
      const policy = resolved.resources[CFN_IDS.policy]!.Properties;
      expect(policy).toEqual({
        ManagedPolicyName: desired.policy.name,
        Path: desired.policy.path,
        PolicyDocument: desired.policy.document,
      });
      expect(resolved.outputs.PolicyArn).toBe(desired.policy.arn);
    } else expect(resolved.resources[CFN_IDS.policy]).toBeUndefined();
    expect(resolved.outputs.RoleArn).toBe(desired.role.arn);
  });

  it('CreateProvider defaults to false exactly when the account has the provider, and false creates none', () => {
    const { template } = exportTemplate(scenario);
    const parameter = (template.Parameters as Record<string, { Default: string }>)[
      CFN_IDS.createProviderParameter
    ];
    expect(parameter?.Default).toBe(scenario.providerExists ? 'false' : 'true');
    const { resolved } = deployIn(scenario, EXPORT_ACCOUNT, 'false');
    expect(resolved.resources[CFN_IDS.provider]).toBeUndefined();
    expect(Object.keys(resolved.resources)).toContain(CFN_IDS.role);
  });
});

describe('CloudFormation export details', () => {
  const base = SCENARIOS[0]!;

  it('writes account and partition as pseudo parameters, so the text names no account of its own', () => {
    for (const scenario of SCENARIOS) {
      const body = exportTemplate(scenario).text.replace(/^#.*\n/gm, '');
      expect(body).not.toContain(EXPORT_ACCOUNT);
      expect(body).toContain('${AWS::AccountId}');
      expect(body).not.toMatch(/\*\w+|&\w+/); // no YAML aliases or anchors
    }
    // ARNs of other accounts stay as they are.
    expect(exportTemplate(SCENARIOS[2]!).text).toContain(
      '${AWS::Partition}:iam::999988887777:policy/cross-account',
    );
  });

  it('quotes YAML 1.1 booleans and dates, so CloudFormation reads the same strings back', () => {
    const { text, template } = exportTemplate(base);
    expect(text).toContain('Version: "2012-10-17"');
    const role = (template.Resources as Record<string, { Properties: { Tags: unknown[] } }>)[CFN_IDS.role]!;
    expect(role.Properties.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'team', Value: 'yes' },
        { Key: 'env', Value: 'on' },
      ]),
    );
    const statement = (
      role.Properties as unknown as {
        AssumeRolePolicyDocument: {
          Statement: Array<{ Condition: Record<string, Record<string, unknown>> }>;
        };
      }
    ).AssumeRolePolicyDocument.Statement[0]!;
    expect(statement.Condition.StringEquals!['gitlab.com:ref_protected']).toBe('true');
    expect(statement.Condition.StringEquals!['gitlab.com:project_id']).toBe('4242');
  });

  it('keeps policy variables in plain strings literal, and escapes them in an ARN written with !Sub', () => {
    const { template } = exportTemplate(base);
    const resources = template.Resources as Record<string, { Properties: Record<string, unknown> }>;
    expect(resources[CFN_IDS.policy]!.Properties.PolicyDocument).toEqual(POLICY_DOC);

    // IAM paths may contain "${": inside Fn::Sub that would name a variable, so it is written "${!".
    const odd = `arn:aws:iam::${EXPORT_ACCOUNT}:policy/odd\${x}/p`;
    const scenario: Scenario = { ...base, input: { ...base.input, managedPolicyArns: [odd] } };
    const { text } = exportTemplate(scenario);
    expect(text).toContain('policy/odd${!x}/p');
    const { desired, resolved } = deployIn(scenario, '444455556666', 'true');
    expect(resolved.resources[CFN_IDS.role]!.Properties.ManagedPolicyArns).toEqual(
      desired.role.managedPolicyArns,
    );
    expect(desired.role.managedPolicyArns[0]).toBe('arn:aws:iam::444455556666:policy/odd${x}/p');
  });

  it('always writes ThumbprintList: the placeholder for gitlab.com, the thumbprints otherwise', () => {
    const { template } = exportTemplate(base);
    const provider = (template.Resources as Record<string, { Properties: Record<string, unknown> }>)[
      CFN_IDS.provider
    ]!;
    expect(provider.Properties.ThumbprintList).toEqual([GITLAB_COM_PLACEHOLDER_THUMBPRINT]);
    expect(GITLAB_COM_PLACEHOLDER_THUMBPRINT).toMatch(/^[0-9a-f]{40}$/);
  });

  it('refuses a self-managed provider without thumbprints (CloudFormation needs ThumbprintList), naming --thumbprint', () => {
    const scenario: Scenario = { ...SCENARIOS[2]!, input: { ...SCENARIOS[2]!.input, thumbprints: [] } };
    const error = usageError(() =>
      renderCloudFormation(desiredFor(scenario, EXPORT_ACCOUNT), contextFor(scenario)),
    );
    expect(error.issues[0]?.field).toBe('--thumbprint');
    expect(error.message).toContain('https://gitlab.example.com/gitlab');
  });

  it('retains the shared provider when a stack is deleted or the provider replaced', () => {
    const { template } = exportTemplate(base);
    const provider = (template.Resources as Record<string, Record<string, unknown>>)[CFN_IDS.provider]!;
    expect(provider).toMatchObject({
      Condition: CFN_IDS.createProviderCondition,
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('the header names the tool version, the project and why CreateProvider has its default', () => {
    const { text } = exportTemplate(SCENARIOS[1]!);
    expect(text.split('\n')[0]).toBe(
      '# Generated by gitlab-aws-oidc 0.1.0-test for grp/sub/app (role gitlab-app-readonly).',
    );
    expect(text).toContain(
      `# CreateProvider defaults to false: arn:aws:iam::${EXPORT_ACCOUNT}:oidc-provider/gitlab.com exists`,
    );
  });

  it('the schema check is not vacuous: it reports unknown, missing and mistyped properties', () => {
    const { template } = exportTemplate(base);
    const resources = template.Resources as Record<string, { Properties: Record<string, unknown> }>;
    resources[CFN_IDS.provider]!.Properties.Thumbprints = ['x'];
    resources[CFN_IDS.role]!.Properties.MaxSessionDuration = '3600';
    delete resources[CFN_IDS.role]!.Properties.AssumeRolePolicyDocument;
    resources[CFN_IDS.policy]!.Properties.Tags = [{ Key: 'a', Value: 'b' }];
    (template.Outputs as Record<string, { Value: unknown }>).RoleArn!.Value = {
      'Fn::GetAtt': [CFN_IDS.role, 'Nope'],
    };
    const errors = validateTemplate(spec, template);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Thumbprints is not a property'),
        expect.stringContaining('MaxSessionDuration: expected an integer'),
        expect.stringContaining('required property AssumeRolePolicyDocument is missing'),
        expect.stringContaining(`${CFN_IDS.policy}.Properties: Tags is not a property`),
        expect.stringContaining('has no attribute Nope'),
      ]),
    );
  });
});

// ---------- cfn-lint, where it is installed ----------

function cfnLintVersion(): string | undefined {
  try {
    return execFileSync('cfn-lint', ['--version'], { stdio: 'pipe', encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

const CFN_LINT = cfnLintVersion();
if (!CFN_LINT) {
  console.warn(
    'cloudformation.test.ts: cfn-lint is not on PATH; the cfn-lint check is skipped (pip install cfn-lint to run it).',
  );
}

describe('cfn-lint', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cfn-export-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!CFN_LINT)(
    'passes every exported template (gitlab.com, self-managed with thumbprints, with/without policy, boundary, CreateProvider false)',
    async () => {
      const files = SCENARIOS.map((scenario, i) => {
        const file = path.join(dir, `${i}-${scenario.input.roleName}.yaml`);
        writeFileSync(file, exportTemplate(scenario).text);
        return file;
      });
      // One run for all templates: cfn-lint takes seconds to start. Exit 0 only when nothing is reported.
      const result = await new Promise<{ code: number; output: string }>((resolve) => {
        execFile('cfn-lint', ['--', ...files], { encoding: 'utf8' }, (error, stdout, stderr) => {
          resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
        });
      });
      expect(result.output).toBe('');
      expect(result.code).toBe(0);
    },
    60_000,
  );
});
