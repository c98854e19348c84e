/**
 * The audit result: what was looked at, every finding, and whether the `--fail-on` gate passed.
 */
import { countBySeverity, type Finding, hasFindingsAtLeast, type Severity } from '../core/lint.js';
import type { SarifArtifact } from '../core/sarif.js';
import type { FleetTargets } from '../fleet/command-selection.js';
import type { GitlabRefCheck } from './gitlab-refs.js';

/** With --group/--config: per selected project, the roles that trust it and their findings. */
export interface AuditSelection {
  kind: FleetTargets['kind'];
  /** The group or the config file, as given. */
  source: string;
  gitlabUrl?: string | undefined;
  projects: { project: string; roles: string[]; findings: number; counts: Record<Severity, number> }[];
  /** Selected projects no audited role trusts. */
  untrusted: string[];
  /** Projects of the group left out (archived, excluded, not included), and why. */
  skipped: FleetTargets['skipped'];
}

export interface AuditedProvider {
  arn: string;
  /** As IAM returns it: no scheme (`gitlab.com`, `gitlab.example.com/gitlab`). */
  url: string;
  clientIds: string[];
  /** A GitLab instance (tagged by the tool, named gitlab…, or trusted with GitLab-shaped sub values). */
  gitlab: boolean;
  /** Created by gitlab-aws-oidc (managed-by tag). */
  managedByTool: boolean;
  /** Names of the audited roles that federate to it. */
  trustedBy: string[];
}

export interface AuditedRole {
  name: string;
  arn: string;
  /** Federated OIDC provider ARNs the trust policy names. */
  providers: string[];
  maxSessionDuration: number;
  attachedPolicyArns: string[];
  /** What the role can do, as far as its readable policies tell. */
  access: 'write' | 'read-only' | 'unknown';
  managedByTool: boolean;
  findings: number;
}

export interface AuditReport {
  /** False when the `--fail-on` gate failed, or a threshold was set and something could not be read. */
  ok: boolean;
  scope: 'account' | 'role' | 'file' | 'selection';
  /** With --group/--config. */
  selection?: AuditSelection | undefined;
  account?: string | undefined;
  partition?: string | undefined;
  /** The linted file, in `--policy-file` mode. */
  file?: string | undefined;
  failOn?: Severity | undefined;
  providers: AuditedProvider[];
  roles: AuditedRole[];
  /** Strongest first. */
  findings: Finding[];
  counts: Record<Severity, number>;
  /** Resources that could not be read (the audit went on without them). */
  incomplete: { resource: string; error: string }[];
  /** The protection findings (GAO010, GAO012) checked against GitLab, or why they were not. */
  gitlab?: GitlabRefCheck | undefined;
  /** For SARIF line numbers; not part of the JSON document. */
  artifacts?: SarifArtifact[] | undefined;
}

export function finishReport(report: Omit<AuditReport, 'ok' | 'counts'>): AuditReport {
  const counts = countBySeverity(report.findings);
  const gateFailed =
    report.failOn !== undefined &&
    (hasFindingsAtLeast(report.findings, report.failOn) || report.incomplete.length > 0);
  return { ...report, ok: !gateFailed, counts };
}

/**
 * The `--json` document. On success (exit 0) printed as is; when the gate fails (exit 1) the same
 * document is printed with `ok: false` and an `error`:
 *   { ok: true, command: 'audit', exitCode: 0, scope, account, providers, roles, findings, counts, incomplete }
 *   { ok: false, command: 'audit', exitCode: 1, scope, …, error: { code: 'AUDIT_FAILED', message, hint } }
 */
export function auditDocument(report: AuditReport): Record<string, unknown> {
  const { ok, artifacts: _artifacts, ...rest } = report;
  return { ok, command: 'audit', exitCode: ok ? 0 : 1, ...rest };
}

/** One line saying why the gate failed, or undefined when it passed. */
export function gateFailure(report: AuditReport): string | undefined {
  if (report.ok || !report.failOn) return undefined;
  const over = report.findings.filter((f) => hasFindingsAtLeast([f], report.failOn as Severity)).length;
  if (over > 0)
    return `${over} finding${over === 1 ? '' : 's'} at or above ${report.failOn} (--fail-on ${report.failOn}).`;
  return `The audit is incomplete (${report.incomplete.length} resource${report.incomplete.length === 1 ? '' : 's'} could not be read), so --fail-on ${report.failOn} cannot pass.`;
}
