/**
 * `migrate --apply` permission carry-over, as a pure function (NOT WIRED into init or the CLI yet):
 * an IAM user's effective permissions → the permission inputs of the role that replaces its key.
 *
 * - Managed policies attached to the user or to its groups: attached to the role as they are.
 * - Inline policies of the user and of its groups: their statements copied into one tool-managed
 *   policy document (Sids made unique and traceable: `UserInlineName0`, `GroupAdminsName1`).
 * - The user's permissions boundary: kept as the role's.
 * - What cannot be carried over is listed, not dropped silently: statements that name the user
 *   (`${aws:username}` or `aws:username`, which a role session does not have), managed policies past
 *   the role's attachment quota, and a copied document over IAM's managed policy size.
 */
import type { PolicyDocument, PolicyStatement } from '../core/types.js';

export interface NamedPolicy {
  name: string;
  document: PolicyDocument;
}

export interface UserPermissions {
  userName: string;
  attachedPolicyArns: string[];
  inlinePolicies: NamedPolicy[];
  groups: { name: string; attachedPolicyArns: string[]; inlinePolicies: NamedPolicy[] }[];
  permissionsBoundaryArn?: string | undefined;
}

export interface RolePermissionInputs {
  managedPolicyArns: string[];
  /** The tool-managed policy; undefined when there is no inline policy to copy. */
  policyDocument?: PolicyDocument | undefined;
  permissionsBoundaryArn?: string | undefined;
  /** One line per thing left behind, with why. */
  notCarriedOver: string[];
}

/** IAM's default quota of managed policies per role, minus the one the tool's own policy takes. */
export const DEFAULT_ATTACHABLE = 10;
/** IAM's managed policy size limit (characters, whitespace excluded). */
export const MANAGED_POLICY_CHARS = 6144;

const statements = (d: PolicyDocument): PolicyStatement[] =>
  Array.isArray(d.Statement) ? d.Statement : [d.Statement];

const sidPart = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');

/** A statement that depends on the caller being this IAM user. */
function namesTheUser(statement: PolicyStatement): boolean {
  return /\$\{aws:username\}|aws:username/i.test(JSON.stringify(statement));
}

export function carryOverPermissions(
  user: UserPermissions,
  options: { attachableQuota?: number } = {},
): RolePermissionInputs {
  const notCarriedOver: string[] = [];
  const copied: PolicyStatement[] = [];
  const copy = (origin: string, sidOrigin: string, policy: NamedPolicy) => {
    statements(policy.document).forEach((statement, index) => {
      if (namesTheUser(statement)) {
        notCarriedOver.push(
          `${origin} policy ${policy.name}, Statement[${index}]: uses aws:username, which a role session does not have`,
        );
        return;
      }
      copied.push({ ...statement, Sid: `${sidOrigin}${sidPart(policy.name)}${index}` });
    });
  };
  for (const policy of user.inlinePolicies) copy(`user ${user.userName} inline`, 'UserInline', policy);
  for (const group of user.groups) {
    for (const policy of group.inlinePolicies)
      copy(`group ${group.name} inline`, `Group${sidPart(group.name)}`, policy);
  }

  const quota = (options.attachableQuota ?? DEFAULT_ATTACHABLE) - (copied.length ? 1 : 0);
  const wanted = [
    ...new Set([...user.attachedPolicyArns, ...user.groups.flatMap((g) => g.attachedPolicyArns)]),
  ];
  const managedPolicyArns = wanted.slice(0, Math.max(0, quota));
  for (const arn of wanted.slice(managedPolicyArns.length)) {
    notCarriedOver.push(
      `managed policy ${arn}: over the role's quota of ${quota} attached policies (raise it in Service Quotas, or merge policies)`,
    );
  }

  const policyDocument: PolicyDocument | undefined = copied.length
    ? { Version: '2012-10-17', Statement: copied }
    : undefined;
  if (policyDocument) {
    const size = JSON.stringify(policyDocument).replace(/\s/g, '').length;
    if (size > MANAGED_POLICY_CHARS) {
      notCarriedOver.push(
        `the copied inline statements are ${size} characters, over IAM's ${MANAGED_POLICY_CHARS} for a managed policy: split them`,
      );
    }
  }
  return {
    managedPolicyArns,
    ...(policyDocument ? { policyDocument } : {}),
    ...(user.permissionsBoundaryArn ? { permissionsBoundaryArn: user.permissionsBoundaryArn } : {}),
    notCarriedOver,
  };
}
