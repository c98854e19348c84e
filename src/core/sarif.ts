/**
 * Findings → SARIF 2.1.0, for GitHub code scanning and other SARIF viewers. Pure.
 *
 * - One run; `tool.driver.rules` lists every rule (id, name, shortDescription, fullDescription,
 *   help, defaultConfiguration.level, properties.tags and, for security rules, `security-severity`,
 *   which GitHub maps to critical ≥ 9.0, high 7.0–8.9, medium 4.0–6.9, low < 4.0).
 * - Results: level error (critical, high, functional), warning (medium), note (low).
 * - Locations: a physical location (file URI + line/column of the offending statement, condition
 *   or value) when the finding comes from a policy file, else a logical location naming the role or
 *   provider by ARN (kind `resource`).
 */

import { type Finding, RULE_IDS, RULES, type RuleId, type Severity } from './lint.js';
import {
  findJsonPosition,
  indexJsonPositions,
  type JsonPath,
  type JsonPosition,
} from './lint-rules/json-locate.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const SARIF_VERSION = '2.1.0';

type Level = 'error' | 'warning' | 'note';

export interface SarifMessage {
  text: string;
  markdown?: string;
}

export interface SarifRule {
  id: string;
  name: string;
  shortDescription: SarifMessage;
  fullDescription: SarifMessage;
  help: SarifMessage;
  helpUri?: string;
  defaultConfiguration: { level: Level };
  properties: {
    tags: string[];
    precision: 'high';
    'security-severity'?: string;
    'problem.severity'?: string;
  };
}

export interface SarifLocation {
  physicalLocation?: {
    artifactLocation: { uri: string };
    region?: { startLine: number; startColumn?: number };
  };
  logicalLocations?: { name: string; fullyQualifiedName: string; kind: string }[];
}

export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: Level;
  message: SarifMessage;
  locations: SarifLocation[];
  partialFingerprints: Record<string, string>;
  properties: Record<string, unknown>;
}

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: {
    tool: {
      driver: {
        name: string;
        version: string;
        semanticVersion: string;
        informationUri?: string;
        rules: SarifRule[];
      };
    };
    results: SarifResult[];
    columnKind?: 'utf16CodeUnits';
  }[];
}

export interface SarifArtifact {
  /** As it should appear in the report: relative to the repository root when possible, `/` separators. */
  uri: string;
  /** The file's text, to compute line numbers. */
  text?: string | undefined;
}

export interface SarifOptions {
  toolName?: string | undefined;
  toolVersion: string;
  informationUri?: string | undefined;
  /**
   * Policy files the findings came from. A finding whose `target` is `{ kind: 'file', id: uri }` is
   * located in that file; with a single artifact, findings without a target are located in it too.
   */
  artifacts?: SarifArtifact[] | undefined;
}

const LEVEL: Record<Severity, Level> = {
  critical: 'error',
  high: 'error',
  functional: 'error',
  medium: 'warning',
  low: 'note',
};
const SECURITY_SEVERITY: Record<Exclude<Severity, 'functional'>, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
};

export function sarifLevel(severity: Severity): Level {
  return LEVEL[severity];
}

function ruleDescriptor(id: RuleId): SarifRule {
  const r = RULES[id];
  const tags = r.severity === 'functional' ? ['correctness', 'iam'] : ['security', 'iam'];
  if (r.scope === 'trust-policy') tags.push('trust-policy', 'oidc');
  else tags.push(r.scope);
  if (r.issuer) tags.push(r.issuer);
  return {
    id: r.id,
    name: r.name
      .split('-')
      .map((w) => (w[0] ?? '').toUpperCase() + w.slice(1))
      .join(''),
    shortDescription: { text: r.title },
    fullDescription: { text: r.description },
    help: { text: `${r.description}\n\nFix: ${r.help}`, markdown: `${r.description}\n\n**Fix:** ${r.help}` },
    defaultConfiguration: { level: LEVEL[r.severity] },
    properties: {
      tags,
      precision: 'high',
      ...(r.severity === 'functional'
        ? { 'problem.severity': 'error' }
        : { 'security-severity': SECURITY_SEVERITY[r.severity] }),
    },
  };
}

/** 32-bit FNV-1a as 8 hex digits: a stable, dependency-free fingerprint. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The most precise position of a finding in a policy file: value, then condition key, then statement. */
export function locateFinding(finding: Finding, index: JsonPosition[]): JsonPosition | undefined {
  if (finding.statementIndex === undefined)
    return finding.element ? findJsonPosition(index, [finding.element]) : undefined;
  const statementIsArray = index.some(
    (p) => p.path.length === 2 && p.path[0] === 'Statement' && typeof p.path[1] === 'number',
  );
  const base: JsonPath = statementIsArray ? ['Statement', finding.statementIndex] : ['Statement'];
  if (finding.conditionKey) {
    const under = (p: JsonPosition) =>
      p.path.length >= base.length + 3 &&
      base.every((x, k) => p.path[k] === x) &&
      p.path[base.length] === 'Condition' &&
      (finding.operator === undefined || p.path[base.length + 1] === finding.operator) &&
      typeof p.path[base.length + 2] === 'string' &&
      (p.path[base.length + 2] as string).toLowerCase() === (finding.conditionKey as string).toLowerCase();
    const keyPos = index.find((p) => under(p) && p.path.length === base.length + 3);
    if (finding.value !== undefined) {
      const valuePos = index.find(
        (p) => under(p) && p.path.length === base.length + 4 && String(p.value) === finding.value,
      );
      if (valuePos) return valuePos;
    }
    if (keyPos) return keyPos;
  }
  // GAO043 names the element IAM refuses (a condition operator, or the statement member).
  if (finding.element) {
    const p =
      (finding.operator ? findJsonPosition(index, [...base, 'Condition', finding.operator]) : undefined) ??
      findJsonPosition(index, [...base, finding.element]);
    if (p) return p;
  }
  const hint: Partial<Record<RuleId, string[]>> = {
    GAO001: ['Principal', 'NotPrincipal'],
    GAO026: ['Action'],
    GAO028: ['Principal'],
  };
  for (const member of hint[finding.ruleId] ?? []) {
    const p = findJsonPosition(index, [...base, member]);
    if (p) return p;
  }
  return findJsonPosition(index, base);
}

function describeWhere(f: Finding): string {
  const parts: string[] = [];
  if (f.target && f.target.kind !== 'file')
    parts.push(`${f.target.kind === 'oidc-provider' ? 'provider' : f.target.kind} ${f.target.id}`);
  if (f.statementIndex !== undefined)
    parts.push(`Statement[${f.statementIndex}]${f.sid ? ` (${f.sid})` : ''}`);
  if (f.conditionKey) parts.push(`${f.operator ?? 'Condition'} ${f.conditionKey}`);
  return parts.join(', ');
}

/** Builds the SARIF log. Findings keep their order; rules are listed in ID order. */
export function findingsToSarif(findings: readonly Finding[], options: SarifOptions): SarifLog {
  const rules = RULE_IDS.map(ruleDescriptor);
  const ruleIndex = new Map(RULE_IDS.map((id, i) => [id, i]));
  const artifacts = options.artifacts ?? [];
  const indexes = new Map<string, JsonPosition[]>();
  const indexFor = (a: SarifArtifact) => {
    let idx = indexes.get(a.uri);
    if (!idx) {
      idx = a.text ? indexJsonPositions(a.text) : [];
      indexes.set(a.uri, idx);
    }
    return idx;
  };
  let physical = false;
  const results = findings.map((f): SarifResult => {
    const artifact =
      f.target?.kind === 'file'
        ? (artifacts.find((a) => a.uri === f.target?.id) ?? { uri: f.target.id })
        : !f.target && artifacts.length === 1
          ? artifacts[0]
          : undefined;
    const location: SarifLocation = {};
    if (artifact) {
      physical = true;
      const pos = locateFinding(f, indexFor(artifact));
      location.physicalLocation = {
        artifactLocation: { uri: artifact.uri },
        region: pos ? { startLine: pos.line, startColumn: pos.column } : { startLine: 1 },
      };
    }
    if (f.target && f.target.kind !== 'file') {
      location.logicalLocations = [
        { name: f.target.id, fullyQualifiedName: f.target.arn ?? f.target.id, kind: 'resource' },
      ];
    }
    const where = describeWhere(f);
    const text = `${where ? `${where}: ` : ''}${f.why} Fix: ${f.fix}`;
    const identity = [
      f.ruleId,
      f.target?.arn ?? f.target?.id ?? '',
      f.statementIndex ?? '',
      f.conditionKey ?? '',
      f.value ?? '',
    ].join('|');
    return {
      ruleId: f.ruleId,
      ruleIndex: ruleIndex.get(f.ruleId) ?? -1,
      level: LEVEL[f.severity],
      message: { text },
      locations: [location],
      partialFingerprints: { 'gitlabAwsOidc/v1': fnv1a(identity) },
      properties: {
        severity: f.severity,
        ...(f.severity === 'functional' ? {} : { 'security-severity': SECURITY_SEVERITY[f.severity] }),
        ...(f.statementIndex !== undefined ? { statementIndex: f.statementIndex } : {}),
        ...(f.sid ? { sid: f.sid } : {}),
        ...(f.conditionKey ? { conditionKey: f.conditionKey } : {}),
        ...(f.operator ? { operator: f.operator } : {}),
        ...(f.value !== undefined ? { value: f.value } : {}),
        fix: f.fix,
        ...(f.suggestion ? { suggestion: f.suggestion } : {}),
      },
    };
  });
  return {
    $schema: SARIF_SCHEMA,
    version: SARIF_VERSION,
    runs: [
      {
        tool: {
          driver: {
            name: options.toolName ?? 'gitlab-aws-oidc',
            version: options.toolVersion,
            semanticVersion: options.toolVersion,
            ...(options.informationUri ? { informationUri: options.informationUri } : {}),
            rules,
          },
        },
        results,
        ...(physical ? { columnKind: 'utf16CodeUnits' as const } : {}),
      },
    ],
  };
}
