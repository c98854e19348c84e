/**
 * Permission (identity) policies the user brings: shape validation with field-level errors, the
 * managed-policy size quota, and warnings about broad grants on a CI role.
 */
import * as z from 'zod';
import { type FieldIssue, UsageError } from '../errors.js';
import { matchesStringLike } from './iam-conditions.js';
import { policySize } from './policy-json.js';
import type { PolicyDocument, PolicyStatement } from './types.js';

/** IAM default quota for a customer managed policy (characters, whitespace excluded). */
export const MANAGED_POLICY_QUOTA = 6144;

/** Error for a schema: "is required" when the element is missing, else `message`. */
const requiredOr = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : message;
const nonEmpty = z.string().min(1, 'must not be empty');
const stringOrList = z.union([nonEmpty, z.array(nonEmpty).min(1, 'must not be empty')]);
const action = z
  .string()
  .regex(/^(\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+)$/, 'must be "service:Action" (wildcards allowed) or "*"');
const actionList = z.union([action, z.array(action).min(1, 'must not be empty')]);
const scalar = z.union([z.string(), z.boolean(), z.number()]);

const statementSchema = z
  .strictObject({
    Sid: z
      .string()
      .regex(/^[A-Za-z0-9]*$/, 'may only contain letters and digits')
      .optional(),
    Effect: z.enum(['Allow', 'Deny'], { error: requiredOr('must be "Allow" or "Deny"') }),
    Principal: z.unknown().optional(),
    NotPrincipal: z.unknown().optional(),
    Action: actionList.optional(),
    NotAction: actionList.optional(),
    Resource: stringOrList.optional(),
    NotResource: stringOrList.optional(),
    Condition: z.record(z.string(), z.record(z.string(), z.union([scalar, z.array(scalar)]))).optional(),
  })
  .superRefine(
    (st, ctx) => {
      for (const key of ['Principal', 'NotPrincipal'] as const) {
        if (st[key] !== undefined) {
          const message = 'is not allowed in a permission policy (it belongs in a trust policy)';
          ctx.addIssue({ code: 'custom', path: [key], message });
        }
      }
      const pairs = [
        ['Action', 'NotAction'],
        ['Resource', 'NotResource'],
      ] as const;
      for (const [a, b] of pairs) {
        if (st[a] === undefined && st[b] === undefined) {
          ctx.addIssue({ code: 'custom', path: [a], message: `${a} or ${b} is required` });
        }
        if (st[a] !== undefined && st[b] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [b], message: `use ${a} or ${b}, not both` });
        }
      }
    },
    // Run even when other elements are invalid, so every problem is reported at once.
    { when: (payload) => payload.value !== null && typeof payload.value === 'object' },
  );

const documentSchema = z.strictObject({
  Version: z.enum(['2012-10-17', '2008-10-17'], { error: requiredOr('must be "2012-10-17"') }),
  Id: z.string().optional(),
  Statement: z.preprocess(
    (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? [v] : v),
    z.array(statementSchema).min(1, 'must hold at least one statement'),
  ),
});

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, p) => (typeof p === 'number' ? `${out}[${p}]` : out ? `${out}.${String(p)}` : String(p)),
    '',
  );
}

/**
 * Validates a permission policy (already parsed from JSON). Throws one UsageError with an issue per
 * problem, each naming `<field> <path>` (`--policy-file Statement[1].Effect`); then checks the size quota.
 */
export function validatePermissionPolicy(
  doc: unknown,
  field = '--policy-file',
  quota = MANAGED_POLICY_QUOTA,
): PolicyDocument {
  const result = documentSchema.safeParse(doc, {
    error: (issue) => (issue.input === undefined ? 'is required' : undefined),
  });
  if (!result.success) {
    const issues: FieldIssue[] = result.error.issues.map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const path = formatPath(issue.path);
      return {
        field: path ? `${field} ${path}` : field,
        message: keys.length ? `unknown element(s) ${keys.join(', ')}` : issue.message,
      };
    });
    throw new UsageError(
      `Invalid permission policy in ${field} (${issues.length} problem${issues.length === 1 ? '' : 's'}).`,
      issues,
    );
  }
  const policy = result.data as PolicyDocument;
  const size = policySize(policy);
  if (size > quota) {
    throw UsageError.field(
      field,
      `the policy is ${size} characters (whitespace excluded), ${size - quota} over the ${quota}-character quota`,
      'Split it into several policies (attach the rest with --managed-policy) or tighten it.',
    );
  }
  return policy;
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];
const grants = (actions: string[], target: string) =>
  actions.some((a) => matchesStringLike(a.toLowerCase(), target.toLowerCase()));

/** IAM actions that let a principal raise its own permissions. */
const ESCALATION_ACTIONS = [
  'iam:AttachRolePolicy',
  'iam:PutRolePolicy',
  'iam:CreatePolicyVersion',
  'iam:UpdateAssumeRolePolicy',
  'iam:CreateAccessKey',
  'iam:AttachUserPolicy',
];
const ADMIN_MANAGED =
  /^arn:[a-z0-9-]+:iam::aws:policy\/(?:.*\/)?(AdministratorAccess|IAMFullAccess|PowerUserAccess)$/;

function warnStatement(st: PolicyStatement, label: string): string[] {
  const out: string[] = [];
  const actions = list(st.Action);
  const onAll = list(st.Resource).includes('*') || st.NotResource !== undefined;
  const where = onAll ? ' on every resource' : '';
  if (st.NotAction !== undefined)
    out.push(`${label} uses NotAction with Allow: it allows every other action${where}.`);
  if (actions.some((a) => a === '*' || a === '*:*')) {
    out.push(`${label} allows every action ("*")${where}: admin-level access for a CI role.`);
    return out;
  }
  for (const a of actions) {
    const service = /^([a-z0-9-]+):\*+$/i.exec(a)?.[1]?.toLowerCase();
    if (service === 'iam')
      out.push(`${label} allows iam:* : full control of IAM lets the role escalate to admin.`);
    else if (service && onAll)
      out.push(`${label} allows ${a} on every resource; scope Resource to what the job needs.`);
  }
  const iamWildcard = actions.some((a) => /^iam:\*+$/i.test(a));
  if (!iamWildcard && ESCALATION_ACTIONS.some((t) => grants(actions, t))) {
    out.push(`${label} allows IAM policy or credential changes (privilege escalation).`);
  }
  if (grants(actions, 'iam:PassRole') && onAll) out.push(`${label} allows iam:PassRole on every role.`);
  if (grants(actions, 'sts:AssumeRole') && onAll) out.push(`${label} allows sts:AssumeRole on every role.`);
  return out;
}

/** Warnings about broad grants: `*`, service-wide wildcards on `*`, IAM escalation, admin managed policies. */
export function findBroadPermissions(
  doc: PolicyDocument | undefined,
  managedPolicyArns: readonly string[] = [],
): string[] {
  const warnings: string[] = [];
  const statements = doc ? (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) : [];
  statements.forEach((st, i) => {
    if (st.Effect === 'Allow') warnings.push(...warnStatement(st, `Statement[${i}]`));
  });
  for (const arn of managedPolicyArns) {
    const name = ADMIN_MANAGED.exec(arn)?.[1];
    if (name) warnings.push(`Managed policy ${name} gives the CI role admin-level access (${arn}).`);
  }
  return warnings;
}
