/**
 * Narrow ports over IAM and STS. Only types here: no SDK import, so core and commands can
 * depend on them without loading the AWS SDK. The implementation lives in `aws/factory.ts`
 * (the single place that imports @aws-sdk/*), built once per run.
 *
 * Every method maps to exactly one or a few IAM/STS API actions; `REQUIRED_PERMISSIONS`
 * in `aws/permissions.ts` lists them for the README and is checked against this port in tests.
 */
import type {
  Identity,
  ManagedPolicyState,
  OidcProviderState,
  PlanStep,
  PolicyDocument,
  PolicyVersionInfo,
  RoleState,
  Tags,
} from '../core/types.js';
import type { Timeouts } from '../io/timeouts.js';

/** What CreateRole takes: exactly the plan's createRole step (apply passes the step on without its kind). */
export type CreateRoleInput = Omit<Extract<PlanStep, { kind: 'createRole' }>, 'kind'>;

export interface StsPort {
  /** sts:GetCallerIdentity. Throws CredentialsError when no credentials are available. */
  getCallerIdentity(): Promise<Identity>;
  /** sts:AssumeRoleWithWebIdentity (unsigned call). Never logs the token or the credentials. */
  assumeRoleWithWebIdentity(input: {
    roleArn: string;
    token: string;
    sessionName: string;
    durationSeconds?: number;
  }): Promise<AssumedRole>;
  /**
   * sts:GetAccessKeyInfo: the account an access key ID belongs to (any key, of any account; the key is
   * not used, only named). The key ID is never put in an error message.
   */
  getAccessKeyInfo(accessKeyId: string): Promise<{ account: string }>;
}

export interface AssumedRole {
  assumedRoleArn: string;
  expiration: Date;
  /** Kept opaque: only used to call GetCallerIdentity as the assumed role. Never printed. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

export interface RoleSummary {
  name: string;
  path: string;
  arn: string;
  trustPolicy: PolicyDocument;
  maxSessionDuration: number;
  /** ListRoles carries it (the bulk read does not). */
  description?: string | undefined;
}

/** A role as iam:GetAccountAuthorizationDetails returns it (no MaxSessionDuration or Description there). */
export interface RoleDetail {
  name: string;
  path: string;
  arn: string;
  trustPolicy: PolicyDocument;
  permissionsBoundaryArn?: string | undefined;
  tags: Tags;
  attachedPolicyArns: string[];
  /** Names of the role's inline policies. */
  inlinePolicyNames: string[];
  /** The EC2 instance profiles the role is in (IAM refuses DeleteRole while any exist). */
  instanceProfiles: InstanceProfileRef[];
  /** RoleLastUsed; absent when IAM has no record (not used in its tracking period). */
  lastUsed?: { date?: Date | undefined; region?: string | undefined } | undefined;
  createDate?: Date | undefined;
}

/** A customer managed policy as iam:GetAccountAuthorizationDetails returns it (tags are not included there). */
export interface LocalPolicyDetail {
  arn: string;
  name: string;
  path: string;
  defaultVersionId: string;
  /** The default version's document, decoded. */
  document: PolicyDocument;
  versions: PolicyVersionInfo[];
  attachmentCount: number;
}

/** The account read in bulk: roles and customer managed policies, all pages. */
export interface AccountAuthorizationDetails {
  roles: RoleDetail[];
  policies: LocalPolicyDetail[];
}

/** An inline policy of a user or group, decoded. */
export interface InlinePolicyDetail {
  name: string;
  document: PolicyDocument;
}

/** An IAM user as iam:GetAccountAuthorizationDetails returns it (Filter User). */
export interface UserDetail {
  name: string;
  path: string;
  arn: string;
  inlinePolicies: InlinePolicyDetail[];
  /** Names of the groups the user is in. */
  groupNames: string[];
  attachedPolicyArns: string[];
  permissionsBoundaryArn?: string | undefined;
}

/** An IAM group as iam:GetAccountAuthorizationDetails returns it (Filter Group). */
export interface GroupDetail {
  name: string;
  path: string;
  arn: string;
  inlinePolicies: InlinePolicyDetail[];
  attachedPolicyArns: string[];
}

/** Users, groups and customer managed policies, all pages (what `migrate --apply` carries over). */
export interface UserAuthorizationDetails {
  users: UserDetail[];
  groups: GroupDetail[];
  policies: LocalPolicyDetail[];
}

/** iam:GetAccountSummary: usage and quotas of the account (IAM's SummaryMap). */
export interface AccountSummary {
  roles: number;
  rolesQuota: number;
  policies: number;
  policiesQuota: number;
  attachedPoliciesPerRoleQuota: number;
  versionsPerPolicyQuota: number;
  /** Identity providers (SAML and OIDC) in the account. */
  providers: number;
  /** Every entry IAM returned, by its own name. */
  summaryMap: Record<string, number>;
}

/** An EC2 instance profile a role is in. */
export interface InstanceProfileRef {
  name: string;
  path: string;
  arn: string;
}

/** An IAM user (iam:ListUsers). */
export interface IamUserSummary {
  name: string;
  path: string;
  arn: string;
  userId: string;
  createDate?: Date | undefined;
}

/** An access key of a user (iam:ListAccessKeys); never the secret. */
export interface AccessKeyMetadata {
  accessKeyId: string;
  userName: string;
  status: 'Active' | 'Inactive';
  createDate?: Date | undefined;
}

/** iam:GetAccessKeyLastUsed: `date` is absent when IAM has no record of use (never used, or before 2015-04-22). */
export interface AccessKeyLastUsed {
  userName?: string | undefined;
  date?: Date | undefined;
  /** `N/A` when never used, as IAM says it. */
  service?: string | undefined;
  region?: string | undefined;
}

export interface IamPort {
  // OIDC providers
  /** iam:ListOpenIDConnectProviders → ARNs. */
  listOidcProviderArns(): Promise<string[]>;
  /** iam:GetOpenIDConnectProvider; undefined when NoSuchEntity. */
  getOidcProvider(arn: string): Promise<OidcProviderState | undefined>;
  /** iam:CreateOpenIDConnectProvider → ARN. */
  createOidcProvider(input: {
    url: string;
    clientIds: string[];
    thumbprints: string[];
    tags: Tags;
  }): Promise<string>;
  /** iam:AddClientIDToOpenIDConnectProvider (idempotent). */
  addOidcClientId(arn: string, clientId: string): Promise<void>;
  /** iam:UpdateOpenIDConnectProviderThumbprint (replaces the whole list). */
  updateOidcThumbprints(arn: string, thumbprints: string[]): Promise<void>;
  /** iam:TagOpenIDConnectProvider. */
  tagOidcProvider(arn: string, tags: Tags): Promise<void>;
  /** iam:DeleteOpenIDConnectProvider; NoSuchEntity counts as done. */
  deleteOidcProvider(arn: string): Promise<void>;

  // Roles
  /** iam:GetRole (which carries the tags) + iam:ListAttachedRolePolicies, concurrently; undefined when NoSuchEntity. */
  getRole(name: string): Promise<RoleState | undefined>;
  /** iam:ListRoles, all pages. */
  listRoles(pathPrefix?: string): Promise<RoleSummary[]>;

  // The account in bulk
  /**
   * iam:GetAccountAuthorizationDetails with Filter Role and LocalManagedPolicy, all pages (Marker/IsTruncated):
   * every role with its trust policy, attachments, tags, boundary and last use; every customer managed
   * policy with its versions. One call per page instead of a GetRole per role.
   */
  getAccountAuthorizationDetails(): Promise<AccountAuthorizationDetails>;
  /** iam:GetAccountSummary: entity counts and quotas (roles per account, policies per role, …). */
  getAccountSummary(): Promise<AccountSummary>;
  /** iam:CreateRole → ARN. */
  createRole(input: CreateRoleInput): Promise<string>;
  /** iam:UpdateAssumeRolePolicy. */
  updateTrustPolicy(roleName: string, trustPolicy: PolicyDocument): Promise<void>;
  /** iam:UpdateRole. */
  updateRole(roleName: string, input: { maxSessionDuration?: number; description?: string }): Promise<void>;
  /** iam:PutRolePermissionsBoundary. */
  putPermissionsBoundary(roleName: string, boundaryArn: string): Promise<void>;
  /** iam:DeleteRolePermissionsBoundary. */
  deletePermissionsBoundary(roleName: string): Promise<void>;
  /** iam:AttachRolePolicy. */
  attachRolePolicy(roleName: string, policyArn: string): Promise<void>;
  /** iam:DetachRolePolicy; NoSuchEntity counts as done. */
  detachRolePolicy(roleName: string, policyArn: string): Promise<void>;
  /** iam:TagRole. */
  tagRole(roleName: string, tags: Tags): Promise<void>;
  /** iam:UntagRole. */
  untagRole(roleName: string, tagKeys: string[]): Promise<void>;
  /** iam:ListRolePolicies (inline policy names), for destroy. */
  listInlineRolePolicies(roleName: string): Promise<string[]>;
  /** iam:DeleteRole; NoSuchEntity counts as done. */
  deleteRole(roleName: string): Promise<void>;
  /** iam:ListInstanceProfilesForRole, all pages; [] when the role is gone. IAM refuses DeleteRole while any exist. */
  listInstanceProfilesForRole(roleName: string): Promise<InstanceProfileRef[]>;
  /** iam:RemoveRoleFromInstanceProfile (the profile itself stays); NoSuchEntity counts as done. */
  removeRoleFromInstanceProfile(profileName: string, roleName: string): Promise<void>;

  // Users and their access keys (migrate)
  /** iam:ListUsers, all pages. */
  listUsers(): Promise<IamUserSummary[]>;
  /** iam:ListAccessKeys for one user, all pages (at most 2 keys per user). */
  listAccessKeys(userName: string): Promise<AccessKeyMetadata[]>;
  /** iam:GetAccessKeyLastUsed; undefined when the key does not exist (deleted). */
  getAccessKeyLastUsed(accessKeyId: string): Promise<AccessKeyLastUsed | undefined>;
  /** iam:UpdateAccessKey (`Active`/`Inactive`); NoSuchEntity (key or user gone) is thrown. */
  updateAccessKey(userName: string, accessKeyId: string, status: 'Active' | 'Inactive'): Promise<void>;
  /** iam:DeleteAccessKey; NoSuchEntity counts as done (already deleted). */
  deleteAccessKey(userName: string, accessKeyId: string): Promise<void>;
  /** iam:ListUserTags, all pages. */
  listUserTags(userName: string): Promise<Tags>;
  /** iam:TagUser (adds or overwrites; 50 tags per user: LimitExceeded beyond). */
  tagUser(userName: string, tags: Tags): Promise<void>;
  /** iam:UntagUser; a key that is not there, or the user gone, counts as done. */
  untagUser(userName: string, tagKeys: string[]): Promise<void>;

  /**
   * iam:GetAccountAuthorizationDetails with Filter User, Group and LocalManagedPolicy, all pages: every
   * user's inline policies, groups, attachments and boundary; every group's; every customer managed
   * policy's default document. One call per page instead of five reads per user and three per group.
   */
  getUserAuthorizationDetails(): Promise<UserAuthorizationDetails>;

  // Customer managed policies
  /** iam:GetPolicy + iam:GetPolicyVersion (default) + iam:ListPolicyVersions; undefined when NoSuchEntity. */
  getPolicy(arn: string): Promise<ManagedPolicyState | undefined>;
  /**
   * iam:GetPolicy alone, for any policy (AWS managed too): does it exist, and its tags (which the bulk
   * read does not carry)? undefined when NoSuchEntity.
   */
  getPolicySummary(arn: string): Promise<{ arn: string; name: string; path: string; tags: Tags } | undefined>;
  /** iam:GetPolicy + iam:GetPolicyVersion for any policy (AWS managed too), e.g. to audit attached permissions. */
  getPolicyDocument(arn: string): Promise<PolicyDocument | undefined>;
  /** iam:CreatePolicy → ARN. */
  createPolicy(input: { name: string; path: string; document: PolicyDocument; tags: Tags }): Promise<string>;
  /** iam:CreatePolicyVersion (set as default). */
  createPolicyVersion(arn: string, document: PolicyDocument): Promise<void>;
  /** iam:TagPolicy. */
  tagPolicy(arn: string, tags: Tags): Promise<void>;
  /** iam:ListPolicyVersions. */
  listPolicyVersions(arn: string): Promise<PolicyVersionInfo[]>;
  /** iam:DeletePolicyVersion. */
  deletePolicyVersion(arn: string, versionId: string): Promise<void>;
  /** iam:DeletePolicy; NoSuchEntity counts as done. */
  deletePolicy(arn: string): Promise<void>;
}

export interface AwsPorts {
  iam: IamPort;
  sts: StsPort;
}

export interface AwsClientOptions {
  /** Region for STS and for the SDK's config; IAM is global (signed in the partition's home region). */
  region?: string | undefined;
  profile?: string | undefined;
  /** Tool version, appended to the SDK user agent. */
  userAgent?: string | undefined;
  /** Cancels every call in flight (SIGINT/SIGTERM). */
  signal?: AbortSignal | undefined;
  /** Connection and request timeouts; default from GITLAB_AWS_OIDC_TIMEOUT_MS or the built-in defaults. */
  timeouts?: Timeouts | undefined;
  /** Where HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read (src/io/proxy.ts). Default process.env. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Debug output: one line per failed attempt of the SDK's own retry (throttling), and per recovery. */
  debug?: ((message: string) => void) | undefined;
}
