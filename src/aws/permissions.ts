/**
 * The IAM/STS actions each port method calls, and from them the permissions each command needs.
 * The README's required-permissions list is REQUIRED_PERMISSIONS; tests keep it in step with the
 * ports and with what `readCurrentState`/`applyPlan` really call.
 */
import type { PlanStep } from '../core/types.js';
import type { IamPort, StsPort } from './ports.js';

/** Creating with tags also needs the Tag* action (AWS authorises the tags separately). */
export const IAM_PORT_ACTIONS = {
  listOidcProviderArns: ['iam:ListOpenIDConnectProviders'],
  getOidcProvider: ['iam:GetOpenIDConnectProvider'],
  createOidcProvider: ['iam:CreateOpenIDConnectProvider', 'iam:TagOpenIDConnectProvider'],
  addOidcClientId: ['iam:AddClientIDToOpenIDConnectProvider'],
  updateOidcThumbprints: ['iam:UpdateOpenIDConnectProviderThumbprint'],
  tagOidcProvider: ['iam:TagOpenIDConnectProvider'],
  deleteOidcProvider: ['iam:DeleteOpenIDConnectProvider'],
  getRole: ['iam:GetRole', 'iam:ListAttachedRolePolicies'],
  listRoles: ['iam:ListRoles'],
  getAccountAuthorizationDetails: ['iam:GetAccountAuthorizationDetails'],
  getAccountSummary: ['iam:GetAccountSummary'],
  createRole: ['iam:CreateRole', 'iam:TagRole'],
  updateTrustPolicy: ['iam:UpdateAssumeRolePolicy'],
  updateRole: ['iam:UpdateRole'],
  putPermissionsBoundary: ['iam:PutRolePermissionsBoundary'],
  deletePermissionsBoundary: ['iam:DeleteRolePermissionsBoundary'],
  attachRolePolicy: ['iam:AttachRolePolicy'],
  detachRolePolicy: ['iam:DetachRolePolicy'],
  tagRole: ['iam:TagRole'],
  untagRole: ['iam:UntagRole'],
  listInlineRolePolicies: ['iam:ListRolePolicies'],
  deleteRole: ['iam:DeleteRole'],
  listInstanceProfilesForRole: ['iam:ListInstanceProfilesForRole'],
  removeRoleFromInstanceProfile: ['iam:RemoveRoleFromInstanceProfile'],
  listUsers: ['iam:ListUsers'],
  listAccessKeys: ['iam:ListAccessKeys'],
  getAccessKeyLastUsed: ['iam:GetAccessKeyLastUsed'],
  getUserAuthorizationDetails: ['iam:GetAccountAuthorizationDetails'],
  updateAccessKey: ['iam:UpdateAccessKey'],
  deleteAccessKey: ['iam:DeleteAccessKey'],
  listUserTags: ['iam:ListUserTags'],
  tagUser: ['iam:TagUser'],
  untagUser: ['iam:UntagUser'],
  getPolicy: ['iam:GetPolicy', 'iam:GetPolicyVersion', 'iam:ListPolicyVersions'],
  getPolicySummary: ['iam:GetPolicy'],
  getPolicyDocument: ['iam:GetPolicy', 'iam:GetPolicyVersion'],
  createPolicy: ['iam:CreatePolicy', 'iam:TagPolicy'],
  createPolicyVersion: ['iam:CreatePolicyVersion'],
  tagPolicy: ['iam:TagPolicy'],
  listPolicyVersions: ['iam:ListPolicyVersions'],
  deletePolicyVersion: ['iam:DeletePolicyVersion'],
  deletePolicy: ['iam:DeletePolicy'],
} as const satisfies Record<keyof IamPort, readonly string[]>;

/** AssumeRoleWithWebIdentity is unsigned: the role's trust policy, not the caller, authorises it. */
export const STS_PORT_ACTIONS = {
  getCallerIdentity: ['sts:GetCallerIdentity'],
  assumeRoleWithWebIdentity: [],
  getAccessKeyInfo: ['sts:GetAccessKeyInfo'],
} as const satisfies Record<keyof StsPort, readonly string[]>;

/** Port methods `applyPlan` calls for each step kind. */
export const STEP_PORT_METHODS = {
  createProvider: ['createOidcProvider'],
  addClientId: ['addOidcClientId'],
  updateThumbprints: ['updateOidcThumbprints'],
  tagProvider: ['tagOidcProvider'],
  createPolicy: ['createPolicy'],
  createPolicyVersion: ['deletePolicyVersion', 'createPolicyVersion'],
  createRole: ['createRole'],
  updateTrustPolicy: ['updateTrustPolicy'],
  updateRole: ['updateRole'],
  putPermissionsBoundary: ['putPermissionsBoundary'],
  deletePermissionsBoundary: ['deletePermissionsBoundary'],
  attachPolicy: ['attachRolePolicy'],
  detachPolicy: ['detachRolePolicy'],
  tagRole: ['tagRole'],
  untagRole: ['untagRole'],
  tagPolicy: ['tagPolicy'],
  deletePolicyVersion: ['deletePolicyVersion'],
  deletePolicy: ['deletePolicy'],
} as const satisfies Record<PlanStep['kind'], readonly (keyof IamPort)[]>;

/**
 * Port methods `readCurrentState` calls. `getPolicy` also reads the customer policies attached to the
 * role that the run no longer wants (to tell the tool's own from others).
 */
export const READ_STATE_METHODS = [
  'getOidcProvider',
  'getRole',
  'getPolicy',
] as const satisfies readonly (keyof IamPort)[];

/** Port methods init's planning calls besides `readCurrentState`: every --managed-policy must exist. */
export const INIT_PLAN_METHODS = ['getPolicySummary'] as const satisfies readonly (keyof IamPort)[];

export type PermissionScope =
  | 'init'
  | 'initDryRun'
  | 'verify'
  | 'audit'
  | 'status'
  | 'destroy'
  | 'export'
  | 'migrate'
  | 'migrateApply'
  | 'migrateRetire';

interface ScopeMethods {
  iam: readonly (keyof IamPort)[];
  sts: readonly (keyof StsPort)[];
}

const APPLY_METHODS = [...new Set(Object.values(STEP_PORT_METHODS).flat())];

/** Which port methods each command uses. Keep in step with the commands. */
export const COMMAND_PORT_METHODS: Record<PermissionScope, ScopeMethods> = {
  // listRoles: only when a thumbprint change is planned, to name the other roles that use the provider.
  init: {
    sts: ['getCallerIdentity'],
    iam: [...READ_STATE_METHODS, ...INIT_PLAN_METHODS, 'listRoles', ...APPLY_METHODS],
  },
  initDryRun: { sts: ['getCallerIdentity'], iam: [...READ_STATE_METHODS, ...INIT_PLAN_METHODS, 'listRoles'] },
  // listOidcProviderArns: when a token's issuer has no provider, verify looks for a near miss
  // (trailing slash, case) to name it.
  verify: {
    sts: ['getCallerIdentity', 'assumeRoleWithWebIdentity'],
    iam: ['getOidcProvider', 'getRole', 'listOidcProviderArns'],
  },
  audit: {
    sts: ['getCallerIdentity'],
    // getRole: --role, and every role when the bulk read is refused.
    iam: [
      'listOidcProviderArns',
      'getOidcProvider',
      'listRoles',
      'getAccountAuthorizationDetails',
      'getRole',
      'getPolicyDocument',
    ],
  },
  // getAccountAuthorizationDetails + getPolicySummary (a policy's tags): the bulk read; getRole and
  // getPolicy: every candidate role and policy when the bulk read is refused.
  status: {
    sts: ['getCallerIdentity'],
    iam: [
      ...READ_STATE_METHODS,
      'listOidcProviderArns',
      'listRoles',
      'getAccountAuthorizationDetails',
      'getPolicySummary',
    ],
  },
  // getAccountAuthorizationDetails, listOidcProviderArns: --group/--config read the account once in bulk.
  destroy: {
    sts: ['getCallerIdentity'],
    iam: [
      ...READ_STATE_METHODS,
      'listRoles',
      'getAccountAuthorizationDetails',
      'listOidcProviderArns',
      'tagRole',
      'detachRolePolicy',
      'listInlineRolePolicies',
      'listInstanceProfilesForRole',
      'removeRoleFromInstanceProfile',
      'deleteRole',
      'listPolicyVersions',
      'deletePolicyVersion',
      'deletePolicy',
      'deleteOidcProvider',
    ],
  },
  // export reads what init's dry run reads, except the provider's other users (it plans no change).
  export: { sts: ['getCallerIdentity'], iam: [...READ_STATE_METHODS, ...INIT_PLAN_METHODS] },
  // migrate (find, read only): every user's keys once per run, the last use of each key found in
  // GitLab, the account of a key that is not this account's, and the roles in bulk (the tool's role
  // of each project and its last use: is the switch proven?).
  migrate: {
    sts: ['getCallerIdentity', 'getAccessKeyInfo'],
    iam: ['listUsers', 'listAccessKeys', 'getAccessKeyLastUsed', 'getAccountAuthorizationDetails'],
  },
  // migrate --apply: find, the users' permissions in bulk, then init per project through the fleet
  // (which reads the account in bulk and its quotas when there are several projects).
  migrateApply: {
    sts: ['getCallerIdentity', 'getAccessKeyInfo'],
    iam: [
      ...new Set([
        'listUsers',
        'listAccessKeys',
        'getAccessKeyLastUsed',
        'getAccountAuthorizationDetails',
        'getUserAuthorizationDetails',
        'listOidcProviderArns',
        'getAccountSummary',
        ...READ_STATE_METHODS,
        ...INIT_PLAN_METHODS,
        'listRoles',
        ...APPLY_METHODS,
      ] as const),
    ],
  },
  // migrate --retire (--delete-keys): the find read, then the record on the user (tag), the
  // deactivation; with --delete-keys every user's tags and the deletion of recorded keys.
  migrateRetire: {
    sts: ['getCallerIdentity', 'getAccessKeyInfo'],
    iam: [
      'listUsers',
      'listAccessKeys',
      'getAccessKeyLastUsed',
      'getAccountAuthorizationDetails',
      'tagUser',
      'updateAccessKey',
      'listUserTags',
      'deleteAccessKey',
      'untagUser',
    ],
  },
};

/** The exact actions a command needs, sorted: the union over the port methods it uses. */
export function listRequiredActions({ iam, sts }: ScopeMethods): string[] {
  const actions = [
    ...sts.flatMap((m) => STS_PORT_ACTIONS[m] as readonly string[]),
    ...iam.flatMap((m) => IAM_PORT_ACTIONS[m] as readonly string[]),
  ];
  return [...new Set(actions)].sort();
}

export const REQUIRED_PERMISSIONS: Record<PermissionScope, string[]> = {
  init: listRequiredActions(COMMAND_PORT_METHODS.init),
  initDryRun: listRequiredActions(COMMAND_PORT_METHODS.initDryRun),
  verify: listRequiredActions(COMMAND_PORT_METHODS.verify),
  audit: listRequiredActions(COMMAND_PORT_METHODS.audit),
  status: listRequiredActions(COMMAND_PORT_METHODS.status),
  destroy: listRequiredActions(COMMAND_PORT_METHODS.destroy),
  export: listRequiredActions(COMMAND_PORT_METHODS.export),
  migrate: listRequiredActions(COMMAND_PORT_METHODS.migrate),
  migrateApply: listRequiredActions(COMMAND_PORT_METHODS.migrateApply),
  migrateRetire: listRequiredActions(COMMAND_PORT_METHODS.migrateRetire),
};
