import { CliError } from '../errors.js';
import { type AuditReport, auditDocument } from './report.js';

/**
 * The `--fail-on` threshold was met (or the audit could not read everything while a threshold was
 * set). Exit 1. Carries the report so a `--json` failure still prints the whole audit (the audit document with `ok: false` and `error`).
 */
export class AuditFailedError extends CliError {
  readonly report: AuditReport;

  constructor(report: AuditReport, message: string) {
    super('AUDIT_FAILED', message, {
      hint: report.failOn
        ? `Each finding lists its fix. The gate is --fail-on ${report.failOn}; findings below it are reported but do not fail the run.`
        : undefined,
    });
    this.report = report;
  }

  override resultDocument(): Record<string, unknown> {
    return auditDocument(this.report);
  }
}
