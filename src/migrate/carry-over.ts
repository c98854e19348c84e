/**
 * `migrate --apply` permission carry-over, as a pure function: an IAM user's effective permissions →
 * the permission inputs of the role that replaces its key (init's --managed-policy, the tool-managed
 * policy's document, --permissions-boundary), and per source what the role gets.
 *
 * - Managed policies attached to the user or to its groups: attached to the role as they are (a group's
 *   managed policies are attachments too: copying an AWS managed policy would freeze a version AWS keeps
 *   up to date, and a customer one would fork it).
 * - Inline policies of the user and of its groups: their statements copied into the one tool-managed
 *   policy (Sids made unique and traceable: `UserInlineName0`, `GroupAdminsName1`).
 * - The user's permissions boundary: kept as the role's.
 * - What cannot be carried over is listed with why, never dropped silently: a statement that names the
 *   user (`${aws:username}`/`aws:username`, which a role session does not have, or the user's own ARN:
 *   the role would keep power over the user being retired), a statement letting the role pass itself
 *   (iam:PassRole on the role's own ARN: a service could then run with the role outside GitLab), managed
 *   policies past the role's attachment quota, and statements that no longer fit IAM's managed-policy
 *   size (6,144 characters): the statements are kept in order while they fit.
 */
import { matchesStringLike } from '../core/iam-conditions.js';
import { MANAGED_POLICY_QUOTA } from '../core/permission-policy.js';
import { policySize } from '../core/policy-json.js';
import type { PolicyDocument, PolicyStatement } from '../core/types.js';

export interface NamedPolicy {
  name: string;
  document: PolicyDocument;
}

export interface UserPermissions {
  userName: string;
  /** The user's ARN: a statement on it acts on the user itself. */
  userArn?: string | undefined;
  attachedPolicyArns: string[];
  inlinePolicies: NamedPolicy[];
  groups: { name: string; attachedPolicyArns: string[]; inlinePolicies: NamedPolicy[] }[];
  permissionsBoundaryArn?: string | undefined;
  /** Default documents of the customer managed policies (to say which statements name the user). */
  managedPolicyDocuments?: ReadonlyMap<string, PolicyDocument> | undefined;
}

export type CarryOutcome = 'attached' | 'copied' | 'partly-copied' | 'boundary' | 'not-carried';

/** One source of the user's permissions, and what the role gets of it. */
export interface CarriedSource {
  /** `user deploy-bot`, `group admins`. */
  holder: string;
  kind: 'managed' | 'inline' | 'boundary';
  /** The ARN (managed, boundary) or the inline policy's name. */
  policy: string;
  outcome: CarryOutcome;
}

/** Something left behind: where (`user u inline policy self, Statement[0]`) and why. */
export interface NotCarried {
  source: string;
  reason: string;
}

export interface RolePermissionInputs {
  managedPolicyArns: string[];
  /** The tool-managed policy; undefined when no inline statement is copied. */
  policyDocument?: PolicyDocument | undefined;
  permissionsBoundaryArn?: string | undefined;
  /** Every source of the user's permissions, in order: what the plan shows side by side. */
  sources: CarriedSource[];
  notCarriedOver: NotCarried[];
}

export interface CarryOverOptions {
  /** Managed policies a role may have attached (IAM's default 10; the account's AttachedPoliciesPerRoleQuota). */
  attachedPoliciesQuota?: number | undefined;
  /** The role's ARN: a statement passing it (iam:PassRole) is not carried over. */
  roleArn?: string | undefined;
}

/** IAM's default quota of managed policies per role. */
export const DEFAULT_ATTACHED_POLICIES_QUOTA = 10;
/** IAM's managed policy size limit (characters, whitespace excluded). */
export const MANAGED_POLICY_CHARS = MANAGED_POLICY_QUOTA;

const statementsOf = (d: PolicyDocument): PolicyStatement[] =>
  Array.isArray(d.Statement) ? d.Statement : [d.Statement];

const sidPart = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');
const listOf = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/** Why a statement cannot move to the role, or undefined when it can. */
function refusal(statement: PolicyStatement, user: UserPermissions, roleArn?: string): string | undefined {
  if (/\$\{aws:username\}|aws:username/i.test(JSON.stringify(statement))) {
    return 'uses aws:username, which a role session does not have';
  }
  const resources = [...listOf(statement.Resource), ...listOf(statement.NotResource)];
  if (user.userArn && resources.some((r) => r === user.userArn)) {
    return `acts on IAM user ${user.userName} itself: the role would keep power over the user being retired`;
  }
  if (roleArn && statement.Effect === 'Allow') {
    const passes = listOf(statement.Action).some(
      (a) => a !== '*' && a.toLowerCase() !== 'iam:*' && matchesStringLike(a, 'iam:PassRole', true),
    );
    const named = listOf(statement.Resource).some((r) => r !== '*' && matchesStringLike(r, roleArn));
    if (passes && named) {
      return 'lets the role pass itself (iam:PassRole on its own ARN): a service could then use it outside GitLab';
    }
  }
  return undefined;
}

export function carryOverPermissions(
  user: UserPermissions,
  options: CarryOverOptions = {},
): RolePermissionInputs {
  const notCarriedOver: NotCarried[] = [];
  const sources: CarriedSource[] = [];
  const self = `user ${user.userName}`;

  // Inline statements, in order, each checked; then kept while the document fits.
  const candidates: { statement: PolicyStatement; where: string; sourceIndex: number }[] = [];
  const copy = (holder: string, sidOrigin: string, policy: NamedPolicy) => {
    const sourceIndex = sources.push({ holder, kind: 'inline', policy: policy.name, outcome: 'copied' }) - 1;
    statementsOf(policy.document).forEach((statement, index) => {
      const where = `${holder} inline policy ${policy.name}, Statement[${index}]`;
      const why = refusal(statement, user, options.roleArn);
      if (why) {
        notCarriedOver.push({ source: where, reason: why });
        return;
      }
      candidates.push({
        statement: { ...statement, Sid: `${sidOrigin}${sidPart(policy.name)}${index}` },
        where,
        sourceIndex,
      });
    });
  };
  for (const policy of user.inlinePolicies) copy(self, 'UserInline', policy);
  for (const group of user.groups) {
    for (const policy of group.inlinePolicies)
      copy(`group ${group.name}`, `Group${sidPart(group.name)}`, policy);
  }
  const copied: typeof candidates = [];
  for (const candidate of candidates) {
    const next = { Version: '2012-10-17', Statement: [...copied, candidate].map((c) => c.statement) };
    if (policySize(next) <= MANAGED_POLICY_CHARS) {
      copied.push(candidate);
      continue;
    }
    notCarriedOver.push({
      source: candidate.where,
      reason: `does not fit: the copied statements would pass IAM's ${MANAGED_POLICY_CHARS} characters for one managed policy (attach it as a managed policy of its own)`,
    });
  }
  // What each inline policy became: copied whole, in part, or not at all.
  sources.forEach((source, index) => {
    if (source.kind !== 'inline') return;
    const total = candidates.filter((c) => c.sourceIndex === index).length;
    const kept = copied.filter((c) => c.sourceIndex === index).length;
    const refused = notCarriedOver.some((n) =>
      n.source.startsWith(`${source.holder} inline policy ${source.policy},`),
    );
    source.outcome = kept === 0 ? 'not-carried' : kept < total || refused ? 'partly-copied' : 'copied';
  });

  // Managed policies: the user's, then each group's, deduplicated, while the quota lasts.
  const quota = (options.attachedPoliciesQuota ?? DEFAULT_ATTACHED_POLICIES_QUOTA) - (copied.length ? 1 : 0);
  const managedPolicyArns: string[] = [];
  const attach = (holder: string, arn: string) => {
    if (managedPolicyArns.includes(arn)) {
      sources.push({ holder, kind: 'managed', policy: arn, outcome: 'attached' });
      return;
    }
    if (managedPolicyArns.length >= quota) {
      sources.push({ holder, kind: 'managed', policy: arn, outcome: 'not-carried' });
      notCarriedOver.push({
        source: `${holder} managed policy ${arn}`,
        reason: `over the role's quota of ${Math.max(0, quota)} attached policies${copied.length ? ' (besides the tool-managed one)' : ''}: raise AttachedPoliciesPerRoleQuota in Service Quotas, or merge policies`,
      });
      return;
    }
    managedPolicyArns.push(arn);
    sources.push({ holder, kind: 'managed', policy: arn, outcome: 'attached' });
    statementsOf(user.managedPolicyDocuments?.get(arn) ?? { Version: '2012-10-17', Statement: [] }).forEach(
      (statement, index) => {
        const why = refusal(statement, user, options.roleArn);
        if (why) {
          notCarriedOver.push({
            source: `managed policy ${arn}, Statement[${index}]`,
            reason: `${why} (attached as it is: that statement gives the role nothing the user had)`,
          });
        }
      },
    );
  };
  for (const arn of user.attachedPolicyArns) attach(self, arn);
  for (const group of user.groups)
    for (const arn of group.attachedPolicyArns) attach(`group ${group.name}`, arn);

  if (user.permissionsBoundaryArn) {
    sources.push({
      holder: self,
      kind: 'boundary',
      policy: user.permissionsBoundaryArn,
      outcome: 'boundary',
    });
  }
  const policyDocument: PolicyDocument | undefined = copied.length
    ? { Version: '2012-10-17', Statement: copied.map((c) => c.statement) }
    : undefined;
  return {
    managedPolicyArns,
    ...(policyDocument ? { policyDocument } : {}),
    ...(user.permissionsBoundaryArn ? { permissionsBoundaryArn: user.permissionsBoundaryArn } : {}),
    sources,
    notCarriedOver,
  };
}
