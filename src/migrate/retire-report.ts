/**
 * What `migrate --retire` reports: per key, retired or kept and why, the steps (described with key
 * IDs masked), the --delete-keys part, what was done. The --json document and the failure that
 * carries it.
 */
import { maskAccessKeyId } from '../core/access-keys.js';
import { PartialApplyError } from '../errors.js';
import type { DeleteKeyStep } from './retire-delete.js';
import type { RetireStep } from './retire-plan.js';

export interface RetireStepReport {
  kind: RetireStep['kind'] | DeleteKeyStep['kind'];
  /** Human, key IDs masked. */
  description: string;
}

export interface RetireKeyReport {
  ref: string;
  /** Masked. */
  keyId: string;
  userName?: string | undefined;
  /** Projects whose jobs get it. */
  projects: string[];
  retire: boolean;
  reasons: string[];
  /** Why the switch counts as proven (when retired). */
  proof?: string | undefined;
  steps: RetireStepReport[];
}

export interface DeleteKeyReport {
  keyId: string;
  userName: string;
  deactivatedAt?: string | undefined;
  delete: boolean;
  reasons: string[];
  steps: RetireStepReport[];
}

export interface RetireReport {
  gitlabUrl: string;
  account?: string | undefined;
  dryRun: boolean;
  /** Steps planned (all of them done unless dryRun). */
  changes: number;
  keys: RetireKeyReport[];
  /** With --delete-keys. */
  deleteKeys?: DeleteKeyReport[] | undefined;
  /** Steps done, in order (empty with --dry-run). */
  done: string[];
  projects: string[];
  /** What this run could not see, per project: hidden key ID variables, lists it may not read. */
  notSeen: string[];
  skipped: { path: string; reason: string }[];
  incomplete: { resource: string; error: string }[];
}

export type AnyStep = RetireStep | DeleteKeyStep;

export function describeRetireStep(step: AnyStep): string {
  switch (step.kind) {
    case 'tagUser':
      return `record on IAM user ${step.userName} that gitlab-aws-oidc deactivates its key …${step.tagKey.slice(-4)} (tag ${step.tagKey})`;
    case 'deactivateKey':
      return `deactivate access key ${maskAccessKeyId(step.accessKeyId)} of IAM user ${step.userName}`;
    case 'deleteVariable': {
      const v = step.variable;
      return `delete GitLab variable ${v.key} (scope ${v.environmentScope}) of ${v.source} ${v.path}`;
    }
    case 'deleteKey':
      return `delete access key ${maskAccessKeyId(step.accessKeyId)} of IAM user ${step.userName}`;
    case 'untagUser':
      return `remove the record ${step.tagKey} from IAM user ${step.userName}`;
  }
}

export const stepReport = (step: AnyStep): RetireStepReport => ({
  kind: step.kind,
  description: describeRetireStep(step),
});

/** A step failed or the run was interrupted: PARTIAL_APPLY, whose --json document is the report plus `error`. */
export class RetirePartialError extends PartialApplyError {
  readonly report: RetireReport;

  constructor(cause: unknown, report: RetireReport, notDone: string[]) {
    super(cause, [...report.done], notDone);
    this.report = { ...report, done: [...report.done] };
  }

  override resultDocument(): Record<string, unknown> {
    return { mode: 'retire', ...this.report };
  }
}

/** The --json document: `{ ok, command: 'migrate', mode: 'retire', exitCode, …report }`. */
export function migrateRetireDocument(report: RetireReport): Record<string, unknown> {
  return { ok: true, command: 'migrate', mode: 'retire', exitCode: 0, ...report };
}
