/**
 * Every `--managed-policy` must exist before anything is changed: without this check a misspelt ARN
 * was found only by AttachRolePolicy, after the provider and role were created, and retried for two
 * minutes as if it were IAM propagation. One iam:GetPolicy per ARN, while planning (also for
 * --dry-run). A policy that does not exist is a usage error (exit 2) naming the flag and the ARN; a
 * GetPolicy the caller may not call (AccessDenied) is a warning, not a refusal.
 */
import { AwsError, type FieldIssue, UsageError } from '../errors.js';
import type { IamPort } from './ports.js';

const FLAG = '--managed-policy';

/** `arn:<partition>:iam::aws:policy/<path/>Name`: a policy AWS publishes (exists in every account). */
export function isAwsManagedPolicyArn(arn: string): boolean {
  return /^arn:[\w-]+:iam::aws:policy\//.test(arn);
}

function accountOf(arn: string): string | undefined {
  return /^arn:[\w-]+:iam::(\d{12}):policy\//.exec(arn)?.[1];
}

export interface ManagedPolicyCheck {
  /** Lines for the plan's warnings (policies that could not be checked). */
  warnings: string[];
}

/**
 * Checks that each ARN names an existing managed policy (concurrently). Throws UsageError listing
 * every missing one; other AWS failures propagate as they are.
 */
export async function checkManagedPolicies(
  iam: Pick<IamPort, 'getPolicySummary'>,
  arns: readonly string[],
  account: string,
): Promise<ManagedPolicyCheck> {
  const outcomes = await Promise.all(
    [...new Set(arns)].map(async (arn) => {
      try {
        return { arn, exists: (await iam.getPolicySummary(arn)) !== undefined };
      } catch (error) {
        if (error instanceof AwsError && error.awsCode === 'AccessDenied') return { arn, denied: error };
        throw error;
      }
    }),
  );
  const warnings = outcomes.flatMap((o) =>
    'denied' in o
      ? [
          `could not check that ${FLAG} ${o.arn} exists (iam:GetPolicy: AccessDenied); if it does not, attaching it fails after the role is created.`,
        ]
      : [],
  );
  const issues: FieldIssue[] = outcomes.flatMap((o) =>
    'exists' in o && !o.exists ? [{ field: FLAG, message: describeMissing(o.arn, account) }] : [],
  );
  if (issues.length === 0) return { warnings };
  const missing = issues.length === 1 ? 'does not exist' : 'do not exist';
  const names = outcomes.filter((o) => 'exists' in o && !o.exists).map((o) => o.arn);
  throw new UsageError(`${FLAG} ${names.join(', ')} ${missing}: nothing was changed.`, issues, {
    hint: hintFor(names),
  });
}

function describeMissing(arn: string, account: string): string {
  if (isAwsManagedPolicyArn(arn)) {
    return `AWS managed policy ${arn} does not exist (AWS managed policy names are case-sensitive, and some have a path such as service-role/)`;
  }
  const owner = accountOf(arn);
  const where = owner ?? account;
  const elsewhere = owner !== undefined && owner !== account ? ` (this run is in account ${account})` : '';
  return `customer managed policy ${arn} does not exist in account ${where}${elsewhere}`;
}

function hintFor(arns: string[]): string {
  const lines: string[] = [];
  if (arns.some(isAwsManagedPolicyArn)) {
    lines.push(
      'Find the exact name with: aws iam list-policies --scope AWS --query "Policies[?contains(PolicyName, \'ReadOnly\')].Arn"',
    );
  }
  if (arns.some((a) => !isAwsManagedPolicyArn(a))) {
    lines.push(
      'List your own policies with: aws iam list-policies --scope Local --query "Policies[].Arn"; create the policy first, or use --policy-file to have this tool create one.',
    );
  }
  return lines.join('\n');
}
