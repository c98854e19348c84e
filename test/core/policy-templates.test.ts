import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findBroadPermissions } from '../../src/core/permission-policy.js';
import {
  checkBucketName,
  checkEcrRepositoryName,
  listTemplateParams,
  POLICY_TEMPLATES,
  renderPolicyTemplate,
} from '../../src/core/policy-templates.js';
import type { PolicyStatement } from '../../src/core/types.js';
import { CliError } from '../../src/errors.js';
import { templatePath } from '../../src/io/package-root.js';
import { usageError } from '../helpers/usage-error.js';

const read = (name: string) => readFileSync(templatePath('policies', `${name}.json`), 'utf8');
const context = { partition: 'aws', account: '123456789012', region: 'eu-west-1' };
const statements = (doc: { Statement: PolicyStatement | PolicyStatement[] }) =>
  Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];

describe('template files', () => {
  it('POLICY_TEMPLATES lists exactly the files in templates/policies', () => {
    const files = readdirSync(templatePath('policies'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort();
    expect(POLICY_TEMPLATES.map((t) => t.name).sort()).toEqual(files);
  });

  it.each(POLICY_TEMPLATES.map((t) => [t.name, t] as const))(
    '%s declares exactly the placeholders it uses',
    (name, info) => {
      const text = read(name);
      expect(() => JSON.parse(text)).not.toThrow();
      expect(listTemplateParams(text).sort()).toEqual(info.params.map((p) => p.name).sort());
      expect(info.description.length).toBeGreaterThan(10);
      expect(info.description).not.toMatch(/\n/);
    },
  );
});

describe('listTemplateParams', () => {
  it('finds plain-identifier placeholders, not IAM policy variables', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: template placeholders under test
    const text = '"arn:${partition}:s3:::${bucket}/${aws:username}/${bucket}/${*}"';
    expect(listTemplateParams(text)).toEqual(['partition', 'bucket']);
  });
});

describe('renderPolicyTemplate', () => {
  it('s3-deploy scopes to one bucket', () => {
    const doc = renderPolicyTemplate('s3-deploy', read('s3-deploy'), { bucket: 'my-site.example' }, context);
    expect(statements(doc).map((s) => s.Resource)).toEqual([
      'arn:aws:s3:::my-site.example',
      'arn:aws:s3:::my-site.example/*',
    ]);
    expect(findBroadPermissions(doc)).toEqual([]);
    expect(JSON.stringify(doc)).not.toContain('${');
  });

  it('ecr-push scopes to one repository; GetAuthorizationToken on * is the only wildcard', () => {
    const doc = renderPolicyTemplate(
      'ecr-push',
      read('ecr-push'),
      { repository: 'team/app' },
      { ...context, partition: 'aws-cn' },
    );
    const [login, push] = statements(doc);
    expect(login).toMatchObject({ Action: 'ecr:GetAuthorizationToken', Resource: '*' });
    expect(push!.Resource).toBe('arn:aws-cn:ecr:eu-west-1:123456789012:repository/team/app');
    expect(push!.Action).toContain('ecr:PutImage');
    expect(findBroadPermissions(doc)).toEqual([]);
  });

  it('user params override context', () => {
    const doc = renderPolicyTemplate(
      'ecr-push',
      read('ecr-push'),
      { repository: 'app', region: 'us-east-2', account: '210987654321' },
      context,
    );
    expect(statements(doc)[1]!.Resource).toBe('arn:aws:ecr:us-east-2:210987654321:repository/app');
  });

  it('terraform-state with key prefix and lock table', () => {
    const doc = renderPolicyTemplate(
      'terraform-state',
      read('terraform-state'),
      { bucket: 'tf-state', keyPrefix: 'envs/prod/', lockTable: 'tf-locks' },
      context,
    );
    expect(statements(doc).map((s) => s.Resource)).toEqual([
      'arn:aws:s3:::tf-state',
      'arn:aws:s3:::tf-state/envs/prod/*',
      'arn:aws:dynamodb:eu-west-1:123456789012:table/tf-locks',
    ]);
  });

  it('terraform-state without lock table leaves the DynamoDB statement out and needs no region', () => {
    const doc = renderPolicyTemplate(
      'terraform-state',
      read('terraform-state'),
      { bucket: 'tf-state' },
      { partition: 'aws' },
    );
    expect(statements(doc).map((s) => s.Resource)).toEqual([
      'arn:aws:s3:::tf-state',
      'arn:aws:s3:::tf-state/*',
    ]);
  });

  it('terraform-state with a lock table but no region asks for it', () => {
    const error = usageError(() =>
      renderPolicyTemplate(
        'terraform-state',
        read('terraform-state'),
        { bucket: 'tf-state', lockTable: 'locks' },
        { partition: 'aws' },
      ),
    );
    expect(error.message).toMatch(/needs region, account/);
    expect(error.hint).toBe('Pass --template-param region=<region> --template-param account=<account>.');
  });

  it('read-only has no params and reads no data', () => {
    const doc = renderPolicyTemplate('read-only', read('read-only'), {}, context);
    const actions = statements(doc).flatMap((s) => [s.Action ?? []].flat());
    expect(actions).toContain('ec2:Describe*');
    expect(
      actions.filter((a) => /^(s3:GetObject|secretsmanager:|ssm:GetParameter|kms:Decrypt)/.test(a)),
    ).toEqual([]);
    expect(findBroadPermissions(doc)).toEqual([]);
  });

  it.each([
    ['s3-deploy', {}, /needs bucket/],
    [
      's3-deploy',
      { bucket: 'b-1', color: 'red' },
      /unknown parameter "color" for template s3-deploy \(accepted: partition, bucket\)/,
    ],
    ['read-only', { bucket: 'x' }, /accepted: none/],
    ['s3-deploy', { bucket: 'Bad_Bucket' }, /bucket="Bad_Bucket" may only hold/],
    ['s3-deploy', { bucket: 'my"bucket' }, /may only hold/],
    ['ecr-push', { repository: 'App' }, /repository="App" must be lower-case/],
    ['ecr-push', { repository: 'app', region: 'mars' }, /region="mars"/],
    ['ecr-push', { repository: 'app', account: '12' }, /12-digit/],
    ['terraform-state', { bucket: 'tfs', keyPrefix: 'env/*' }, /keyPrefix="env\/\*"/],
    ['terraform-state', { bucket: 'tfs', keyPrefix: '/abs/' }, /keyPrefix/],
  ])('%s %j → %s', (name, params, message) => {
    const error = usageError(() => renderPolicyTemplate(name, read(name), params, context));
    expect(error.issues[0]?.field).toBe('--template-param');
    expect(error.message).toMatch(message);
  });

  it('missing context params are reported like user params', () => {
    const error = usageError(() => renderPolicyTemplate('ecr-push', read('ecr-push'), { repository: 'app' }));
    expect(error.message).toMatch(/needs partition, region, account/);
  });

  it('refuses an unknown template and a template using undeclared params', () => {
    expect(usageError(() => renderPolicyTemplate('nope', '{}', {})).issues[0]?.field).toBe('--template');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: template placeholder under test
    expect(() => renderPolicyTemplate('read-only', '{"x":"${oops}"}', {})).toThrow(CliError);
  });
});

describe('name checks', () => {
  it.each([
    ['abc', undefined],
    ['my.bucket-1', undefined],
    ['ab', /3-63/],
    ['a'.repeat(64), /3-63/],
    ['Upper', /may only hold/],
    ['-start', /may only hold/],
    ['end-', /may only hold/],
    ['a..b', /\.\./],
    ['192.168.1.1', /IP address/],
    ['xn--abc', /reserves/],
    ['sthree-x', /reserves/],
    ['thing-s3alias', /reserves/],
    ['thing--ol-s3', /reserves/],
  ])('bucket %s', (name, problem) => {
    const result = checkBucketName(name);
    if (problem) expect(result).toMatch(problem);
    else expect(result).toBeUndefined();
  });

  it.each([
    ['app', true],
    ['team/app', true],
    ['a.b_c-d/e', true],
    ['a', false],
    ['App', false],
    ['team//app', false],
    ['-app', false],
    ['app-', false],
    ['app/', false],
  ])('ecr repository %s → %s', (name, valid) => {
    expect(checkEcrRepositoryName(name) === undefined).toBe(valid);
  });
});
