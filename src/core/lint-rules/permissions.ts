/**
 * Permission policies attached to a CI role: admin-level access and broad wildcards. Pure.
 */
import { matchesStringLike } from '../iam-conditions.js';
import type { PolicyDocument, PolicyStatement } from '../types.js';
import type { RuleId, Severity } from './rules.js';

/** A permission policy to check: its ARN (managed) or name (inline/file), and its document when known. */
export interface PermissionSource {
  arn?: string | undefined;
  name?: string | undefined;
  document?: PolicyDocument | undefined;
}

export interface PermissionIssue {
  ruleId: RuleId;
  severity: Severity;
  /** ARN or name of the policy. */
  policy: string;
  statementIndex?: number | undefined;
  sid?: string | undefined;
  action?: string | undefined;
  resource?: string | undefined;
  why: string;
  fix: string;
}

export function statementsOf(doc: PolicyDocument | undefined): PolicyStatement[] {
  if (!doc || typeof doc !== 'object') return [];
  const s = (doc as { Statement?: unknown }).Statement;
  if (Array.isArray(s)) return s.filter((x): x is PolicyStatement => !!x && typeof x === 'object');
  return s && typeof s === 'object' ? [s as PolicyStatement] : [];
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

const ADMIN_MANAGED = /:iam::aws:policy\/(AdministratorAccess|PowerUserAccess)$/;
const IAM_FULL_MANAGED = /:iam::aws:policy\/IAMFullAccess$/;
const READ_ONLY_MANAGED = /:iam::aws:policy\/(ReadOnlyAccess|ViewOnlyAccess|SecurityAudit|.*ReadOnly.*)$/;

/** IAM actions that let a principal grant itself (or another principal) more. */
const IAM_ESCALATION_ACTIONS = [
  'iam:AttachRolePolicy',
  'iam:PutRolePolicy',
  'iam:CreatePolicyVersion',
  'iam:SetDefaultPolicyVersion',
  'iam:UpdateAssumeRolePolicy',
  'iam:AttachUserPolicy',
  'iam:PutUserPolicy',
  'iam:CreateAccessKey',
  'iam:CreateLoginProfile',
  'iam:UpdateLoginProfile',
  'iam:AddUserToGroup',
  'iam:AttachGroupPolicy',
  'iam:PutGroupPolicy',
  'iam:CreateRole',
  'iam:PassRole',
];

const READ_PREFIXES = [
  'get',
  'list',
  'describe',
  'batchget',
  'head',
  'view',
  'lookup',
  'search',
  'query',
  'scan',
  'select',
];

function label(source: PermissionSource): string {
  return source.arn ?? source.name ?? 'permission policy';
}

const anyResource = (resources: string[]) => resources.length === 0 || resources.some((r) => r === '*');

/** Checks each policy for admin-level access, IAM escalation, assume-any-role and service-wide wildcards. */
export function lintPermissionSources(
  sources: PermissionSource[],
  attachedArns: string[] = [],
): PermissionIssue[] {
  const issues: PermissionIssue[] = [];
  const seenArns = new Set<string>();
  const byArn = (arn: string) => {
    if (seenArns.has(arn)) return;
    seenArns.add(arn);
    if (ADMIN_MANAGED.test(arn)) {
      const power = arn.endsWith('PowerUserAccess');
      issues.push({
        ruleId: 'GAO030',
        severity: 'high',
        policy: arn,
        why: power
          ? `${arn} allows every action of every service except IAM and Organizations account management to any job that assumes the role.`
          : `${arn} allows every action on every resource to any job that assumes the role, including rewriting this trust.`,
        fix: `Detach it (aws iam detach-role-policy --policy-arn ${arn}) and attach a policy scoped to what the pipeline deploys.`,
      });
    } else if (IAM_FULL_MANAGED.test(arn)) {
      issues.push({
        ruleId: 'GAO031',
        severity: 'high',
        policy: arn,
        action: 'iam:*',
        why: `${arn} grants iam:*: a job can attach AdministratorAccess to itself.`,
        fix: `Detach it (aws iam detach-role-policy --policy-arn ${arn}).`,
      });
    }
  };
  for (const arn of attachedArns) byArn(arn);
  for (const source of sources) {
    if (source.arn) byArn(source.arn);
    if (source.arn && (ADMIN_MANAGED.test(source.arn) || IAM_FULL_MANAGED.test(source.arn))) continue;
    const policy = label(source);
    statementsOf(source.document).forEach((st, statementIndex) => {
      if (st.Effect !== 'Allow') return;
      const loc = { policy, statementIndex, sid: st.Sid };
      const resources = list(st.Resource);
      const conditioned =
        st.Condition && Object.keys(st.Condition).length > 0
          ? ' (conditions narrow it, but not by action)'
          : '';
      if (st.NotAction !== undefined && anyResource(resources) && st.NotResource === undefined) {
        issues.push({
          ...loc,
          ruleId: 'GAO030',
          severity: 'high',
          action: `NotAction ${list(st.NotAction).join(', ')}`,
          resource: '*',
          why: `Statement ${statementIndex} allows every action except ${list(st.NotAction).join(', ')} on every resource${conditioned}.`,
          fix: 'Replace NotAction with an explicit Action list of what the pipeline needs.',
        });
        return;
      }
      const actions = list(st.Action).map((a) => a.trim());
      const lower = actions.map((a) => a.toLowerCase());
      if (lower.some((a) => a === '*' || a === '*:*')) {
        issues.push({
          ...loc,
          ruleId: 'GAO030',
          severity: 'high',
          action: '*',
          resource: resources.join(', ') || '*',
          why: `Statement ${statementIndex} allows every action${anyResource(resources) ? ' on every resource' : ` on ${resources.join(', ')}`}${conditioned}.`,
          fix: 'List the actions the pipeline needs instead of "*".',
        });
        return;
      }
      const iamAll = actions.filter((a) => /^iam:\*+$/i.test(a));
      const escalations = IAM_ESCALATION_ACTIONS.filter((e) =>
        lower.some((a) => matchesStringLike(a, e.toLowerCase())),
      );
      if (iamAll.length > 0) {
        issues.push({
          ...loc,
          ruleId: 'GAO031',
          severity: 'high',
          action: iamAll[0],
          resource: resources.join(', ') || '*',
          why: `Statement ${statementIndex} allows iam:*: a job can grant itself any permission${conditioned}.`,
          fix: 'Remove iam:*; if the pipeline manages IAM, list the actions and scope Resource to a path, with a permissions boundary.',
        });
      } else if (escalations.length > 0 && anyResource(resources)) {
        issues.push({
          ...loc,
          ruleId: 'GAO031',
          severity: 'high',
          action: escalations.join(', '),
          resource: '*',
          why: `Statement ${statementIndex} allows ${escalations.join(', ')} on every resource: a job can give itself (or a role it passes) more permissions.`,
          fix: 'Scope Resource to the specific roles/policies the pipeline manages, or remove these actions.',
        });
      }
      const assume = lower.some((a) => matchesStringLike(a, 'sts:assumerole'));
      if (assume && anyResource(resources)) {
        issues.push({
          ...loc,
          ruleId: 'GAO032',
          severity: 'high',
          action: actions.find((a) => matchesStringLike(a.toLowerCase(), 'sts:assumerole')),
          resource: '*',
          why: `Statement ${statementIndex} allows sts:AssumeRole on every role: the pipeline can chain into any role that trusts this account.`,
          fix: 'Set Resource to the ARNs of the roles it must assume.',
        });
      }
      if (anyResource(resources)) {
        for (const a of actions) {
          const m = /^([a-z0-9-]+):\*$/i.exec(a);
          if (!m) continue;
          const service = (m[1] ?? '').toLowerCase();
          if (service === 'iam' || service === 'sts') continue;
          issues.push({
            ...loc,
            ruleId: 'GAO033',
            severity: 'medium',
            action: a,
            resource: '*',
            why: `Statement ${statementIndex} allows ${a} on every resource: every ${service} action on everything of that service in the account.`,
            fix: `List the ${service} actions needed and scope Resource to the specific ARNs.`,
          });
        }
      }
    });
  }
  return issues;
}

/**
 * Whether the permissions can change anything. `unknown` when no document could be read;
 * callers treat unknown like write (the safe assumption).
 */
export function classifyAccess(
  sources: PermissionSource[],
  attachedArns: string[] = [],
): 'write' | 'read-only' | 'unknown' {
  const arns = [...attachedArns, ...sources.map((s) => s.arn).filter((a): a is string => !!a)];
  let sawReadOnly = false;
  let sawUnknown = false;
  for (const arn of new Set(arns)) {
    if (ADMIN_MANAGED.test(arn) || IAM_FULL_MANAGED.test(arn)) return 'write';
    if (READ_ONLY_MANAGED.test(arn)) sawReadOnly = true;
    else if (!sources.some((s) => s.arn === arn && s.document)) sawUnknown = true;
  }
  for (const s of sources) {
    // AWS's read-only managed policies list exotic read actions; their name is the better signal.
    if (!s.document || (s.arn && READ_ONLY_MANAGED.test(s.arn))) continue;
    for (const st of statementsOf(s.document)) {
      if (st.Effect !== 'Allow') continue;
      if (st.NotAction !== undefined) return 'write';
      for (const a of list(st.Action)) {
        const action = (a.split(':')[1] ?? a).toLowerCase();
        if (action === '*' || !READ_PREFIXES.some((p) => action.startsWith(p))) return 'write';
      }
      sawReadOnly = true;
    }
  }
  if (sawUnknown) return 'unknown';
  return sawReadOnly ? 'read-only' : 'unknown';
}
