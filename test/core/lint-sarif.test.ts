import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { type Finding, lintTrustPolicy, RULE_IDS } from '../../src/core/lint.js';
import { indexJsonPositions } from '../../src/core/lint-rules/json-locate.js';
import { findingsToSarif } from '../../src/core/sarif.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (f: string) => readFileSync(join(here, '..', 'fixtures', 'trust-policies', f), 'utf8');

/**
 * The subset of the OASIS SARIF 2.1.0 schema (Schemata/sarif-schema-2.1.0.json) for the objects we
 * emit, with the same property names, required members, enums and additionalProperties: false, so a
 * misspelt or invented property fails here.
 */
const bag = { type: 'object' };
const message = {
  type: 'object',
  additionalProperties: false,
  properties: {
    text: { type: 'string' },
    markdown: { type: 'string' },
    id: { type: 'string' },
    arguments: { type: 'array' },
    properties: bag,
  },
  anyOf: [{ required: ['text'] }, { required: ['id'] }],
};
const mfms = {
  type: 'object',
  additionalProperties: false,
  properties: { text: { type: 'string' }, markdown: { type: 'string' }, properties: bag },
  required: ['text'],
};
const level = { enum: ['none', 'note', 'warning', 'error'] };
const region = {
  type: 'object',
  additionalProperties: false,
  properties: {
    startLine: { type: 'integer', minimum: 1 },
    startColumn: { type: 'integer', minimum: 1 },
    endLine: { type: 'integer', minimum: 1 },
    endColumn: { type: 'integer', minimum: 1 },
    properties: bag,
  },
  anyOf: [{ required: ['startLine'] }],
};
const sarifSubset = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'runs'],
  properties: {
    $schema: { type: 'string' },
    version: { enum: ['2.1.0'] },
    runs: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['tool'],
        properties: {
          columnKind: { enum: ['utf16CodeUnits', 'unicodeCodePoints'] },
          tool: {
            type: 'object',
            additionalProperties: false,
            required: ['driver'],
            properties: {
              driver: {
                type: 'object',
                additionalProperties: false,
                required: ['name'],
                properties: {
                  name: { type: 'string' },
                  version: { type: 'string' },
                  semanticVersion: { type: 'string' },
                  informationUri: { type: 'string' },
                  rules: {
                    type: 'array',
                    items: {
                      type: 'object',
                      additionalProperties: false,
                      required: ['id'],
                      properties: {
                        id: { type: 'string' },
                        name: { type: 'string' },
                        shortDescription: mfms,
                        fullDescription: mfms,
                        help: mfms,
                        helpUri: { type: 'string' },
                        defaultConfiguration: {
                          type: 'object',
                          additionalProperties: false,
                          properties: {
                            enabled: { type: 'boolean' },
                            level,
                            rank: { type: 'number' },
                            properties: bag,
                          },
                        },
                        properties: bag,
                      },
                    },
                  },
                },
              },
            },
          },
          results: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['message'],
              properties: {
                ruleId: { type: 'string' },
                ruleIndex: { type: 'integer', minimum: -1 },
                level,
                message,
                partialFingerprints: { type: 'object', additionalProperties: { type: 'string' } },
                properties: bag,
                locations: {
                  type: 'array',
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    properties: {
                      physicalLocation: {
                        type: 'object',
                        additionalProperties: false,
                        properties: {
                          artifactLocation: {
                            type: 'object',
                            additionalProperties: false,
                            properties: {
                              uri: { type: 'string' },
                              uriBaseId: { type: 'string' },
                              properties: bag,
                            },
                          },
                          region,
                        },
                        anyOf: [{ required: ['artifactLocation'] }],
                      },
                      logicalLocations: {
                        type: 'array',
                        items: {
                          type: 'object',
                          additionalProperties: false,
                          properties: {
                            name: { type: 'string' },
                            fullyQualifiedName: { type: 'string' },
                            decoratedName: { type: 'string' },
                            kind: { type: 'string' },
                            index: { type: 'integer' },
                            parentIndex: { type: 'integer' },
                            properties: bag,
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

const validate = new Ajv({ allErrors: true, strict: false }).compile(sarifSubset);

describe('findingsToSarif', () => {
  it('locates findings of a policy file at the offending value, with rule metadata', () => {
    const text = fixture('bad/multiple-statements-one-weak.json');
    const findings = lintTrustPolicy(JSON.parse(text)).map(
      (f): Finding => ({ ...f, target: { kind: 'file', id: 'iam/trust.json' } }),
    );
    const log = findingsToSarif(findings, {
      toolVersion: '0.1.0',
      artifacts: [{ uri: 'iam/trust.json', text }],
    });
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    const run = log.runs[0]!;
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(RULE_IDS);
    const gao003 = run.results.find((r) => r.ruleId === 'GAO003')!;
    expect(gao003.level).toBe('error');
    expect(run.tool.driver.rules[gao003.ruleIndex]?.id).toBe('GAO003');
    // The value `project_path:*` sits on this line of the fixture:
    const line = text.split('\n').findIndex((l) => l.includes('"project_path:*"')) + 1;
    expect(gao003.locations[0]?.physicalLocation).toEqual({
      artifactLocation: { uri: 'iam/trust.json' },
      region: { startLine: line, startColumn: expect.any(Number) },
    });
    expect(gao003.message.text).toContain('Statement[1] (Legacy)');
    expect(gao003.message.text).toContain('Fix:');
  });

  it.each([
    ['bad/malformed-resource.json', 'GAO043', '"Resource"', undefined],
    ['bad/malformed-effect-case.json', 'GAO043', '"Effect": "allow"', undefined],
    // At the key under the unknown operator, as before.
    ['bad/malformed-deny-operator-case.json', 'GAO029', '"stringnotequals"', undefined, 1],
    ['bad/malformed-resource.json', 'GAO043', '"Version"', '2012-10-18'],
  ])(
    '%s: %s (IAM refuses the policy) is a high error located at %s',
    (file, ruleId, needle, version, below = 0) => {
      let text = fixture(file);
      if (version) text = text.replace('"2012-10-17"', `"${version}"`);
      const findings = lintTrustPolicy(JSON.parse(text)).map(
        (f): Finding => ({ ...f, target: { kind: 'file', id: 'iam/trust.json' } }),
      );
      const log = findingsToSarif(findings, {
        toolVersion: '0.1.0',
        artifacts: [{ uri: 'iam/trust.json', text }],
      });
      expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
      const run = log.runs[0]!;
      const result = run.results.find((r) => r.ruleId === ruleId && r.message.text.includes(version ?? ''))!;
      expect(result.level).toBe('error');
      expect(result.properties['security-severity']).toBe('8.0');
      expect(result.message.text).toContain('IAM refuses this policy (MalformedPolicyDocument)');
      const line = text.split('\n').findIndex((l) => l.includes(needle)) + 1 + below;
      expect(result.locations[0]?.physicalLocation?.region?.startLine).toBe(line);
      const rule = run.tool.driver.rules.find((r) => r.id === ruleId)!;
      expect(rule.properties.tags).toContain('security');
      expect(rule.defaultConfiguration.level).toBe('error');
    },
  );

  it('maps severities to levels and security-severity, functional as correctness', () => {
    const mk = (ruleId: Finding['ruleId'], severity: Finding['severity']): Finding => ({
      ruleId,
      severity,
      title: '',
      why: 'w',
      fix: 'f',
    });
    const log = findingsToSarif(
      [
        mk('GAO003', 'critical'),
        mk('GAO008', 'high'),
        mk('GAO020', 'functional'),
        mk('GAO011', 'medium'),
        mk('GAO014', 'low'),
      ],
      { toolVersion: '1.2.3' },
    );
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    const results = log.runs[0]!.results;
    expect(results.map((r) => r.level)).toEqual(['error', 'error', 'error', 'warning', 'note']);
    expect(results.map((r) => r.properties['security-severity'])).toEqual([
      '9.5',
      '8.0',
      undefined,
      '5.5',
      '3.0',
    ]);
    const rules = log.runs[0]!.tool.driver.rules;
    const functional = rules.find((r) => r.id === 'GAO020')!;
    expect(functional.properties.tags).toContain('correctness');
    expect(functional.properties['security-severity']).toBeUndefined();
    expect(rules.find((r) => r.id === 'GAO001')!.properties['security-severity']).toBe('9.5');
  });

  it('describes the GitHub Actions rules (GAO016–GAO019) with their severity and an issuer tag', () => {
    const rules = findingsToSarif([], { toolVersion: '1.0.0' }).runs[0]!.tool.driver.rules;
    const github = rules.filter((r) => r.properties.tags.includes('github-actions'));
    expect(github.map((r) => [r.id, r.name, r.properties['security-severity']])).toEqual([
      ['GAO016', 'GithubOwnerWildcard', '9.5'],
      ['GAO017', 'GithubOwnerWide', '8.0'],
      ['GAO018', 'GithubAnyRef', '8.0'],
      ['GAO019', 'GithubRefPattern', '5.5'],
    ]);
    for (const r of github) expect(r.help.text).toMatch(/repo:<owner>\/<repo>|Pin/);
  });

  it('carries the structured suggestion of a finding in its properties', () => {
    const f: Finding = {
      ruleId: 'GAO011',
      severity: 'low',
      title: 'x',
      statementIndex: 0,
      why: 'why',
      fix: 'Add "gitlab.com:project_id": "<project-id>".',
      suggestion: { operator: 'StringEquals', conditionKey: 'gitlab.com:project_id', value: '<project-id>' },
    };
    const result = findingsToSarif([f], { toolVersion: '1.0.0' }).runs[0]!.results[0]!;
    expect(result.properties.suggestion).toEqual(f.suggestion);
  });

  it('uses a logical location (role ARN) for findings from the account', () => {
    const f: Finding = {
      ruleId: 'GAO002',
      severity: 'critical',
      title: 't',
      statementIndex: 0,
      why: 'w',
      fix: 'f',
      target: { kind: 'role', id: 'deploy', arn: 'arn:aws:iam::123456789012:role/deploy' },
    };
    const log = findingsToSarif([f], { toolVersion: '0.1.0' });
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    expect(log.runs[0]!.results[0]!.locations).toEqual([
      {
        logicalLocations: [
          { name: 'deploy', fullyQualifiedName: 'arn:aws:iam::123456789012:role/deploy', kind: 'resource' },
        ],
      },
    ]);
    expect(log.runs[0]!.results[0]!.message.text).toMatch(/^role deploy, Statement\[0\]: w Fix: f$/);
  });

  it('gives stable fingerprints that differ per finding', () => {
    const findings = lintTrustPolicy(JSON.parse(fixture('bad/list-one-weak-value.json')));
    const a = findingsToSarif(findings, { toolVersion: '0.1.0' });
    const b = findingsToSarif(findings, { toolVersion: '0.2.0' });
    const prints = a.runs[0]!.results.map((r) => r.partialFingerprints['gitlabAwsOidc/v1']);
    expect(prints).toEqual(b.runs[0]!.results.map((r) => r.partialFingerprints['gitlabAwsOidc/v1']));
    expect(new Set(prints).size).toBe(prints.length);
  });

  it('locates single-object Statement documents and statement-level findings', () => {
    const text = `{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Principal": "*",
    "Action": "sts:AssumeRoleWithWebIdentity"
  }
}`;
    const log = findingsToSarif(lintTrustPolicy(JSON.parse(text)), {
      toolVersion: '0.1.0',
      artifacts: [{ uri: 'p.json', text }],
    });
    expect(log.runs[0]!.results[0]!.locations[0]!.physicalLocation?.region).toEqual({
      startLine: 5,
      startColumn: 5,
    });
  });
});

describe('indexJsonPositions', () => {
  it('records key and element positions and scalar values', () => {
    const idx = indexJsonPositions('{\n  "a": [1, "x"],\n  "b": {"c": true}\n}');
    expect(idx).toEqual([
      { path: ['a'], line: 2, column: 3 },
      { path: ['a', 0], line: 2, column: 9, value: 1 },
      { path: ['a', 1], line: 2, column: 12, value: 'x' },
      { path: ['b'], line: 3, column: 3 },
      { path: ['b', 'c'], line: 3, column: 9, value: true },
    ]);
  });

  it('keeps what it found on invalid JSON instead of throwing', () => {
    expect(indexJsonPositions('{"a": 1, "b": ')).toEqual([
      { path: ['a'], line: 1, column: 2, value: 1 },
      { path: ['b'], line: 1, column: 10 },
    ]);
  });
});
