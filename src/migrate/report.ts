/**
 * The `migrate` find report: per project, the AWS credential variables it sees and which reach its
 * jobs; per access key, whose it is and when it was last used. What a security review reads. No
 * secret and no full access key ID is ever in it: key IDs are masked (`AKIA…WXYZ`) and tied together
 * by run-local references (`k1`, `k2`, …).
 */
import type { FoundVariable } from './variables.js';

/** A FoundVariable as the report shows it: the same fields, its key IDs masked, tied to `keys`. */
export interface ReportedVariable extends FoundVariable {
  /** Masked (`AKIA…WXYZ`), never the full IDs FoundVariable carries inside the migrate module. */
  keyIds: string[];
  /** References into `keys`. */
  keys: string[];
}

export interface Unreadable {
  source: 'project' | 'group';
  path: string;
  /** `not readable with this token (needs the Owner role on the group)`. */
  reason: string;
}

export interface ReportedProject {
  path: string;
  id: number;
  webUrl: string;
  archived: boolean;
  variables: ReportedVariable[];
  /** Variable lists the token could not read (the project may see more than is reported). */
  unreadable: Unreadable[];
  /** Keys that reach the project's jobs (in-effect variables). */
  keys: string[];
  /** A hidden AWS credential variable reaches the jobs: its key cannot be resolved. */
  hiddenCredentials: boolean;
}

export type KeyOwner =
  | { kind: 'user'; userName: string; userArn: string; status: 'Active' | 'Inactive'; createDate?: string }
  | { kind: 'other-account'; account: string }
  /** Named this account, but no user holds it: deleted (the variable is stale). */
  | { kind: 'not-found'; account: string }
  | { kind: 'unknown'; reason: string };

export interface ReportedKey {
  ref: string;
  /** Masked: `AKIA…WXYZ`. */
  keyId: string;
  type: 'long-lived' | 'temporary';
  owner: KeyOwner;
  /** iam:GetAccessKeyLastUsed (keys of this account only); `date` absent when never used. */
  lastUsed?: { date?: string | undefined; service?: string | undefined; region?: string | undefined };
  /** Projects whose jobs get it. */
  projects: string[];
  /** Projects that define it in a variable that is shadowed (not in effect). */
  shadowedIn: string[];
  shared: boolean;
  /**
   * Could `--retire` retire it now: every project that gets it has a role made
   * by the tool, used since it was made, and the key has not been used since. `reasons`: why not, or
   * what would be left in place. Absent with --no-aws.
   */
  retire?: { ready: boolean; reasons: string[] } | undefined;
}

export interface MigrateFindReport {
  gitlabUrl: string;
  /** The AWS account of the credentials (absent with --no-aws). */
  account?: string | undefined;
  projects: ReportedProject[];
  keys: ReportedKey[];
  /** Projects of a --group left out (archived). */
  skipped: { path: string; reason: string }[];
  /** What could not be read; the report went on without it. */
  incomplete: { resource: string; error: string }[];
}

/** The --json document: `{ ok, command: 'migrate', mode: 'find', exitCode, …report }`. */
export function migrateFindDocument(report: MigrateFindReport): Record<string, unknown> {
  return { ok: true, command: 'migrate', mode: 'find', exitCode: 0, ...report };
}
