/**
 * A small stateful in-memory IAM with real semantics and error codes, driven by `fake-aws.ts`.
 * Handlers take the SDK command input and return the SDK output shape (documents URL-encoded).
 */
import { findMalformations } from '../../src/core/policy-grammar.js';
import type { PolicyDocument, Tags } from '../../src/core/types.js';
import { fail } from './fake-aws-errors.js';

export interface FakeProvider {
  arn: string;
  /** Without scheme, as IAM returns it. */
  url: string;
  clientIds: string[];
  thumbprints: string[];
  tags: Tags;
  createDate: Date;
  /** Value of the call counter when it was created (for propagation delay). */
  createdAtCall: number;
}

export interface FakeRole {
  name: string;
  path: string;
  arn: string;
  roleId: string;
  /** Exactly as sent (JSON text). */
  trustPolicy: string;
  maxSessionDuration: number;
  description?: string | undefined;
  permissionsBoundaryArn?: string | undefined;
  tags: Tags;
  attachedPolicyArns: string[];
  inlinePolicies: Record<string, string>;
  createDate: Date;
  /** RoleLastUsed (GetRole, GetAccountAuthorizationDetails); none when never used. */
  lastUsed?: { date: Date; region: string } | undefined;
}

export interface FakePolicyVersion {
  versionId: string;
  document: string;
  isDefault: boolean;
  createDate: Date;
}

export interface FakePolicy {
  arn: string;
  name: string;
  path: string;
  policyId: string;
  versions: FakePolicyVersion[];
  nextVersion: number;
  tags: Tags;
  createDate: Date;
}

export interface FakeInstanceProfile {
  name: string;
  path: string;
  arn: string;
  /** Names of the roles in it (IAM allows one). */
  roles: string[];
}

export interface FakeAccessKey {
  accessKeyId: string;
  /** Kept so tests can assert it is never printed; IAM never returns it after creation. */
  secretAccessKey: string;
  status: 'Active' | 'Inactive';
  createDate: Date;
  /** GetAccessKeyLastUsed; none when never used. */
  lastUsed?: { date: Date; service: string; region: string } | undefined;
}

export interface FakeUser {
  name: string;
  path: string;
  arn: string;
  userId: string;
  createDate: Date;
  tags: Tags;
  accessKeys: FakeAccessKey[];
  /** Names of the groups the user is in. */
  groups: string[];
  attachedPolicyArns: string[];
  /** Inline policies: name → JSON text. */
  inlinePolicies: Record<string, string>;
  permissionsBoundaryArn?: string | undefined;
}

export interface FakeGroup {
  name: string;
  path: string;
  arn: string;
  groupId: string;
  createDate: Date;
  attachedPolicyArns: string[];
  inlinePolicies: Record<string, string>;
}

export interface FakeIamState {
  providers: Map<string, FakeProvider>;
  /** Keyed by lower-cased name, like roles. */
  users: Map<string, FakeUser>;
  /** Keyed by lower-cased name. */
  groups: Map<string, FakeGroup>;
  /** Keyed by lower-cased name: IAM role names are case-insensitive. */
  roles: Map<string, FakeRole>;
  policies: Map<string, FakePolicy>;
  /** Keyed by lower-cased name, like roles. */
  instanceProfiles: Map<string, FakeInstanceProfile>;
}

export interface FakeIamConfig {
  account: string;
  partition: string;
  pageSize: number;
  propagationDelayCalls: number;
  /** Current value of the call counter. */
  callCount: () => number;
}

type Input = Record<string, unknown> & {
  Marker?: string;
  MaxItems?: number;
};
type TagList = { Key: string; Value: string }[];
export type IamHandler = (input: Input) => Record<string, unknown>;

const QUOTAS = {
  roles: 1000,
  policies: 1500,
  clientIds: 100,
  thumbprints: 5,
  tags: 50,
  providers: 100,
  managedPoliciesPerRole: 10,
  policyVersions: 5,
  trustPolicyChars: 2048,
  policyChars: 6144,
};

export function createFakeIamState(): FakeIamState {
  return {
    providers: new Map(),
    users: new Map(),
    groups: new Map(),
    roles: new Map(),
    policies: new Map(),
    instanceProfiles: new Map(),
  };
}

// ---------- access key IDs ----------

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of text) {
    const i = BASE32.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    value = ((value << 5) | i) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

let keyCounter = 0;

/**
 * An access key ID in the form AWS issues today: prefix + 16 base32 characters whose first 6 bytes
 * carry the account ID (bits 7..46), so sts:GetAccessKeyInfo can name the account from the ID alone.
 */
export function makeAccessKeyId(account: string, prefix: 'AKIA' | 'ASIA' = 'AKIA'): string {
  keyCounter++;
  const head = (BigInt(account) << 7n) | BigInt(keyCounter & 0x7f);
  const bytes = new Uint8Array(10);
  for (let i = 0; i < 6; i++) bytes[i] = Number((head >> BigInt(8 * (5 - i))) & 0xffn);
  // The rest differs from key to key (so masked IDs differ: the last 4 characters come from here).
  const tail = Math.imul(keyCounter, 2654435761) >>> 0;
  for (let i = 0; i < 4; i++) bytes[6 + i] = (tail >>> (8 * (3 - i))) & 0xff;
  return `${prefix}${base32(bytes)}`;
}

/** The account an access key ID names (what sts:GetAccessKeyInfo answers). */
export function accessKeyAccount(accessKeyId: string): string {
  if (!/^(AKIA|ASIA)[A-Z2-7]{16}$/.test(accessKeyId)) {
    fail(
      'ValidationError',
      "1 validation error detected: Value at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+",
    );
  }
  const bytes = unbase32(accessKeyId.slice(4));
  let head = 0n;
  for (let i = 0; i < 6; i++) head = (head << 8n) | BigInt(bytes[i] ?? 0);
  return String((head & 0x7fffffffff80n) >> 7n).padStart(12, '0');
}

let idCounter = 0;
function fakeId(prefix: string): string {
  idCounter++;
  return `${prefix}${String(idCounter).padStart(17, '0')}`;
}

// ---------- helpers ----------

function paginate<T>(
  items: T[],
  input: Input,
  pageSize: number,
): { page: T[]; IsTruncated: boolean; Marker?: string } {
  const start = input.Marker ? Number(Buffer.from(input.Marker, 'base64').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) fail('InvalidInput', 'Invalid Marker.');
  // IAM returns MaxItems (default 100, at most 1,000) per page, and may return fewer: `pageSize` caps it.
  const size = Math.min(input.MaxItems ?? 100, pageSize);
  const end = start + size;
  const IsTruncated = end < items.length;
  return {
    page: items.slice(start, end),
    IsTruncated,
    ...(IsTruncated ? { Marker: Buffer.from(String(end)).toString('base64') } : {}),
  };
}

export function toTagList(tags: Tags): TagList {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function fromTagList(list: unknown): Tags {
  return Object.fromEntries(((list as TagList | undefined) ?? []).map((t) => [t.Key, t.Value]));
}

function mergeTags(current: Tags, added: unknown): Tags {
  const merged = { ...current, ...fromTagList(added) };
  if (Object.keys(merged).length > QUOTAS.tags) {
    fail('LimitExceeded', `The number of tags has reached the maximum limit of ${QUOTAS.tags}.`);
  }
  return merged;
}

/** IAM returns documents URL-encoded (RFC 3986). */
export function encodeDocument(text: string): string {
  return encodeURIComponent(text);
}

function countNonWhitespace(text: string): number {
  return text.replace(/\s/g, '').length;
}

function parseDocument(text: unknown): PolicyDocument {
  if (typeof text !== 'string') fail('MalformedPolicyDocument', 'This policy contains invalid Json');
  try {
    const parsed = JSON.parse(text) as PolicyDocument;
    if (!parsed || typeof parsed !== 'object' || !parsed.Statement)
      fail('MalformedPolicyDocument', 'Syntax errors in policy.');
    return parsed;
  } catch (error) {
    if (error instanceof SyntaxError) fail('MalformedPolicyDocument', 'This policy contains invalid Json');
    throw error;
  }
}

function statementsOf(document: PolicyDocument) {
  return Array.isArray(document.Statement) ? document.Statement : [document.Statement];
}

function requireString(input: Input, key: string): string {
  const value = input[key];
  if (typeof value !== 'string' || value === '') {
    fail(
      'ValidationError',
      `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

// ---------- the fake ----------

export function createIamHandlers(state: FakeIamState, config: FakeIamConfig): Record<string, IamHandler> {
  const { account, partition, pageSize } = config;
  const providerArnFor = (hostPath: string) => `arn:${partition}:iam::${account}:oidc-provider/${hostPath}`;

  const getProvider = (arn: unknown): FakeProvider => {
    const provider = state.providers.get(String(arn));
    if (!provider) fail('NoSuchEntity', `OpenIDConnect provider not found for arn ${String(arn)}`);
    return provider;
  };
  const getInstanceProfile = (name: unknown): FakeInstanceProfile => {
    const profile = state.instanceProfiles.get(String(name).toLowerCase());
    if (!profile) fail('NoSuchEntity', `Instance Profile ${String(name)} cannot be found.`);
    return profile;
  };
  const profilesOf = (role: FakeRole) =>
    [...state.instanceProfiles.values()].filter((p) =>
      p.roles.some((r) => r.toLowerCase() === role.name.toLowerCase()),
    );
  const profileOutput = (p: FakeInstanceProfile) => ({
    InstanceProfileName: p.name,
    InstanceProfileId: `AIPA${p.name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`,
    Path: p.path,
    Arn: p.arn,
    CreateDate: new Date(0),
    Roles: p.roles.flatMap((r) => {
      const role = state.roles.get(r.toLowerCase());
      return role ? [roleOutput(role, false)] : [];
    }),
  });
  const getUser = (name: unknown): FakeUser => {
    const user = state.users.get(String(name).toLowerCase());
    if (!user) fail('NoSuchEntity', `The user with name ${String(name)} cannot be found.`);
    return user;
  };
  const getGroup = (name: unknown): FakeGroup => {
    const group = state.groups.get(String(name).toLowerCase());
    if (!group) fail('NoSuchEntity', `The group with name ${String(name)} cannot be found.`);
    return group;
  };
  /** The key and its user; IAM's message names the key ID (clients must not print it). */
  const findKey = (id: unknown): { user: FakeUser; key: FakeAccessKey } => {
    for (const user of state.users.values()) {
      const key = user.accessKeys.find((k) => k.accessKeyId === id);
      if (key) return { user, key };
    }
    fail('NoSuchEntity', `The Access Key with id ${String(id)} cannot be found.`);
  };
  const userOutput = (u: FakeUser) => ({
    Path: u.path,
    UserName: u.name,
    UserId: u.userId,
    Arn: u.arn,
    CreateDate: u.createDate,
    ...(u.permissionsBoundaryArn
      ? {
          PermissionsBoundary: {
            PermissionsBoundaryType: 'Policy',
            PermissionsBoundaryArn: u.permissionsBoundaryArn,
          },
        }
      : {}),
  });
  const groupOutput = (g: FakeGroup) => ({
    Path: g.path,
    GroupName: g.name,
    GroupId: g.groupId,
    Arn: g.arn,
    CreateDate: g.createDate,
  });
  const getRole = (name: unknown): FakeRole => {
    const role = state.roles.get(String(name).toLowerCase());
    if (!role) fail('NoSuchEntity', `The role with name ${String(name)} cannot be found.`);
    return role;
  };
  const getPolicy = (arn: unknown): FakePolicy => {
    const policy = state.policies.get(String(arn));
    if (!policy) fail('NoSuchEntity', `Policy ${String(arn)} does not exist or is not attachable.`);
    return policy;
  };
  const defaultVersion = (policy: FakePolicy) =>
    policy.versions.find((v) => v.isDefault) as FakePolicyVersion;
  const attachmentCount = (arn: string) =>
    [...state.roles.values(), ...state.users.values(), ...state.groups.values()].filter((r) =>
      r.attachedPolicyArns.includes(arn),
    ).length;

  const checkThumbprints = (list: unknown) => {
    const thumbprints = (list as string[] | undefined) ?? [];
    if (thumbprints.length > QUOTAS.thumbprints) {
      fail(
        'LimitExceeded',
        `Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: ${QUOTAS.thumbprints}`,
      );
    }
    for (const t of thumbprints) {
      if (!/^[0-9a-fA-F]{40}$/.test(t)) fail('InvalidInput', 'Thumbprint must be 40 hexadecimal characters.');
    }
    return [...thumbprints];
  };
  const checkMaxSession = (value: unknown) => {
    if (value === undefined) return;
    if (typeof value !== 'number' || value < 3600 || value > 43200) {
      fail(
        'ValidationError',
        `1 validation error detected: Value '${String(value)}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200`,
      );
    }
  };

  /** Trust policies: JSON, size quota, Federated principals that exist (and have propagated). */
  const checkTrustPolicy = (text: unknown) => {
    const document = parseDocument(text);
    // What IAM refuses in a trust policy (lower-case Effect, unknown operator, a Resource element, …).
    const malformed = findMalformations(document)[0];
    if (malformed) fail('MalformedPolicyDocument', malformed.message);
    if (countNonWhitespace(text as string) > QUOTAS.trustPolicyChars) {
      fail('LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${QUOTAS.trustPolicyChars}`);
    }
    for (const statement of statementsOf(document)) {
      const principal = statement.Principal;
      if (!principal || principal === '*') continue;
      const federated = principal.Federated;
      for (const arn of Array.isArray(federated) ? federated : federated ? [federated] : []) {
        if (!arn.startsWith(`arn:${partition}:iam::${account}:oidc-provider/`)) continue;
        const provider = state.providers.get(arn);
        const propagated =
          provider && config.callCount() - provider.createdAtCall >= config.propagationDelayCalls;
        if (!propagated) fail('MalformedPolicyDocument', `Invalid principal in policy: "Federated":"${arn}"`);
      }
    }
  };
  /** Permission policies: JSON, size quota, no principal. */
  const checkPermissionPolicy = (text: unknown) => {
    const document = parseDocument(text);
    if (countNonWhitespace(text as string) > QUOTAS.policyChars) {
      fail('LimitExceeded', `Cannot exceed quota for PolicySize: ${QUOTAS.policyChars}`);
    }
    if (statementsOf(document).some((s) => s.Principal || s.NotPrincipal)) {
      fail('MalformedPolicyDocument', 'Policy document should not specify a principal.');
    }
  };

  const roleOutput = (role: FakeRole, full: boolean) => ({
    Path: role.path,
    RoleName: role.name,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
    AssumeRolePolicyDocument: encodeDocument(role.trustPolicy),
    ...(role.description !== undefined ? { Description: role.description } : {}),
    MaxSessionDuration: role.maxSessionDuration,
    ...(full && role.permissionsBoundaryArn
      ? {
          PermissionsBoundary: {
            PermissionsBoundaryType: 'Policy',
            PermissionsBoundaryArn: role.permissionsBoundaryArn,
          },
        }
      : {}),
    ...(full && Object.keys(role.tags).length ? { Tags: toTagList(role.tags) } : {}),
    ...(full ? { RoleLastUsed: lastUsedOutput(role) } : {}),
  });
  const lastUsedOutput = (role: FakeRole) =>
    role.lastUsed ? { LastUsedDate: role.lastUsed.date, Region: role.lastUsed.region } : {};
  /** GetAccountAuthorizationDetails' RoleDetail: no MaxSessionDuration or Description, unlike GetRole. */
  const roleDetailOutput = (role: FakeRole) => ({
    Path: role.path,
    RoleName: role.name,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
    AssumeRolePolicyDocument: encodeDocument(role.trustPolicy),
    InstanceProfileList: profilesOf(role).map((p) => ({ ...profileOutput(p), Roles: [] })),
    RolePolicyList: Object.entries(role.inlinePolicies).map(([PolicyName, text]) => ({
      PolicyName,
      PolicyDocument: encodeDocument(text),
    })),
    AttachedManagedPolicies: role.attachedPolicyArns.map((PolicyArn) => ({
      PolicyArn,
      PolicyName: PolicyArn.split('/').pop(),
    })),
    ...(role.permissionsBoundaryArn
      ? {
          PermissionsBoundary: {
            PermissionsBoundaryType: 'Policy',
            PermissionsBoundaryArn: role.permissionsBoundaryArn,
          },
        }
      : {}),
    ...(Object.keys(role.tags).length ? { Tags: toTagList(role.tags) } : {}),
    RoleLastUsed: lastUsedOutput(role),
  });
  const inlineOutput = (policies: Record<string, string>) =>
    Object.entries(policies).map(([PolicyName, text]) => ({
      PolicyName,
      PolicyDocument: encodeDocument(text),
    }));
  const attachedOutput = (arns: string[]) =>
    arns.map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split('/').pop() }));
  /** GetAccountAuthorizationDetails' UserDetail: inline policies, group names, attachments, boundary, tags. */
  const userDetailOutput = (user: FakeUser) => ({
    Path: user.path,
    UserName: user.name,
    UserId: user.userId,
    Arn: user.arn,
    CreateDate: user.createDate,
    UserPolicyList: inlineOutput(user.inlinePolicies),
    GroupList: [...user.groups],
    AttachedManagedPolicies: attachedOutput(user.attachedPolicyArns),
    ...(user.permissionsBoundaryArn
      ? {
          PermissionsBoundary: {
            PermissionsBoundaryType: 'Policy',
            PermissionsBoundaryArn: user.permissionsBoundaryArn,
          },
        }
      : {}),
    ...(Object.keys(user.tags).length ? { Tags: toTagList(user.tags) } : {}),
  });
  /** GetAccountAuthorizationDetails' GroupDetail: inline policies and attachments (no members: UserDetail names them). */
  const groupDetailOutput = (group: FakeGroup) => ({
    Path: group.path,
    GroupName: group.name,
    GroupId: group.groupId,
    Arn: group.arn,
    CreateDate: group.createDate,
    GroupPolicyList: inlineOutput(group.inlinePolicies),
    AttachedManagedPolicies: attachedOutput(group.attachedPolicyArns),
  });
  const isLocalPolicy = (policy: FakePolicy) => !policy.arn.includes(':iam::aws:policy/');
  /** GetAccountAuthorizationDetails' ManagedPolicyDetail: every version with its document; no tags. */
  const policyDetailOutput = (policy: FakePolicy) => {
    const { Tags: _tags, ...summary } = policyOutput(policy);
    return {
      ...summary,
      PolicyVersionList: [...policy.versions].reverse().map((v) => ({
        Document: encodeDocument(v.document),
        VersionId: v.versionId,
        IsDefaultVersion: v.isDefault,
        CreateDate: v.createDate,
      })),
    };
  };
  const policyOutput = (policy: FakePolicy) => ({
    PolicyName: policy.name,
    PolicyId: policy.policyId,
    Arn: policy.arn,
    Path: policy.path,
    DefaultVersionId: defaultVersion(policy).versionId,
    AttachmentCount: attachmentCount(policy.arn),
    PermissionsBoundaryUsageCount: [...state.roles.values()].filter(
      (r) => r.permissionsBoundaryArn === policy.arn,
    ).length,
    IsAttachable: true,
    CreateDate: policy.createDate,
    UpdateDate: defaultVersion(policy).createDate,
    ...(Object.keys(policy.tags).length ? { Tags: toTagList(policy.tags) } : {}),
  });

  return {
    // ----- The account in bulk -----
    GetAccountAuthorizationDetails: (input) => {
      const filter = (input.Filter as string[] | undefined) ?? [];
      const types = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'];
      const bad = filter.find((f) => !types.includes(f));
      if (bad) {
        fail(
          'ValidationError',
          `1 validation error detected: Value '[${bad}]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${types.join(', ')}]]`,
        );
      }
      const want = (type: string) => filter.length === 0 || filter.includes(type);
      const policies = [...state.policies.values()];
      // One stream of entities, paginated together (MaxItems counts every kind), roles first.
      const items: (
        | { user: FakeUser }
        | { group: FakeGroup }
        | { role: FakeRole }
        | { policy: FakePolicy }
      )[] = [
        ...(want('User') ? [...state.users.values()].map((user) => ({ user })) : []),
        ...(want('Group') ? [...state.groups.values()].map((group) => ({ group })) : []),
        ...(want('Role') ? [...state.roles.values()].map((role) => ({ role })) : []),
        ...(want('LocalManagedPolicy') ? policies.filter(isLocalPolicy).map((policy) => ({ policy })) : []),
        // AWS managed policies appear only when attached to something, as in IAM.
        ...(want('AWSManagedPolicy')
          ? policies
              .filter((p) => !isLocalPolicy(p) && attachmentCount(p.arn) > 0)
              .map((policy) => ({ policy }))
          : []),
      ];
      const { page, ...rest } = paginate(items, input, pageSize);
      return {
        UserDetailList: page.flatMap((item) => ('user' in item ? [userDetailOutput(item.user)] : [])),
        GroupDetailList: page.flatMap((item) => ('group' in item ? [groupDetailOutput(item.group)] : [])),
        RoleDetailList: page.flatMap((item) => ('role' in item ? [roleDetailOutput(item.role)] : [])),
        Policies: page.flatMap((item) => ('policy' in item ? [policyDetailOutput(item.policy)] : [])),
        ...rest,
      };
    },
    GetAccountSummary: () => {
      const local = [...state.policies.values()].filter(isLocalPolicy);
      return {
        SummaryMap: {
          Roles: state.roles.size,
          RolesQuota: QUOTAS.roles,
          Policies: local.length,
          PoliciesQuota: QUOTAS.policies,
          AttachedPoliciesPerRoleQuota: QUOTAS.managedPoliciesPerRole,
          VersionsPerPolicyQuota: QUOTAS.policyVersions,
          PolicyVersionsInUse: local.reduce((n, p) => n + p.versions.length, 0),
          PolicySizeQuota: QUOTAS.policyChars,
          RolePolicySizeQuota: 10240,
          Providers: state.providers.size,
          InstanceProfiles: state.instanceProfiles.size,
          InstanceProfilesQuota: 1000,
          Users: state.users.size,
          UsersQuota: 5000,
          Groups: state.groups.size,
          GroupsQuota: 300,
        },
      };
    },

    // ----- Users, groups and access keys -----
    ListUsers: (input) => {
      const prefix = (input.PathPrefix as string | undefined) ?? '/';
      const users = [...state.users.values()].filter((u) => u.path.startsWith(prefix));
      const { page, ...rest } = paginate(users, input, pageSize);
      return { Users: page.map(userOutput), ...rest };
    },
    GetUser: (input) => ({
      User: { ...userOutput(getUser(input.UserName)), Tags: toTagList(getUser(input.UserName).tags) },
    }),
    ListAccessKeys: (input) => {
      const user = getUser(requireString(input, 'UserName'));
      const { page, ...rest } = paginate(user.accessKeys, input, pageSize);
      return {
        AccessKeyMetadata: page.map((k) => ({
          UserName: user.name,
          AccessKeyId: k.accessKeyId,
          Status: k.status,
          CreateDate: k.createDate,
        })),
        ...rest,
      };
    },
    GetAccessKeyLastUsed: (input) => {
      const { user, key } = findKey(input.AccessKeyId);
      return {
        UserName: user.name,
        AccessKeyLastUsed: key.lastUsed
          ? {
              LastUsedDate: key.lastUsed.date,
              ServiceName: key.lastUsed.service,
              Region: key.lastUsed.region,
            }
          : { ServiceName: 'N/A', Region: 'N/A' },
      };
    },
    UpdateAccessKey: (input) => {
      const { user, key } = findKey(input.AccessKeyId);
      if (input.UserName !== undefined && String(input.UserName).toLowerCase() !== user.name.toLowerCase())
        fail('NoSuchEntity', `The Access Key with id ${String(input.AccessKeyId)} cannot be found.`);
      const status = requireString(input, 'Status');
      if (status !== 'Active' && status !== 'Inactive')
        fail(
          'ValidationError',
          `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]`,
        );
      key.status = status;
      return {};
    },
    DeleteAccessKey: (input) => {
      const { user, key } = findKey(input.AccessKeyId);
      if (input.UserName !== undefined && String(input.UserName).toLowerCase() !== user.name.toLowerCase())
        fail('NoSuchEntity', `The Access Key with id ${String(input.AccessKeyId)} cannot be found.`);
      user.accessKeys = user.accessKeys.filter((k) => k !== key);
      return {};
    },
    ListUserTags: (input) => {
      const user = getUser(requireString(input, 'UserName'));
      const { page, ...rest } = paginate(toTagList(user.tags), input, pageSize);
      return { Tags: page, ...rest };
    },
    TagUser: (input) => {
      const user = getUser(requireString(input, 'UserName'));
      user.tags = mergeTags(user.tags, input.Tags);
      return {};
    },
    UntagUser: (input) => {
      const user = getUser(requireString(input, 'UserName'));
      for (const key of (input.TagKeys as string[] | undefined) ?? []) delete user.tags[key];
      return {};
    },
    ListGroupsForUser: (input) => {
      const user = getUser(input.UserName);
      const groups = user.groups.flatMap((g) => {
        const group = state.groups.get(g.toLowerCase());
        return group ? [group] : [];
      });
      const { page, ...rest } = paginate(groups, input, pageSize);
      return { Groups: page.map(groupOutput), ...rest };
    },
    ListAttachedUserPolicies: (input) => {
      const user = getUser(input.UserName);
      const { page, ...rest } = paginate(user.attachedPolicyArns, input, pageSize);
      return {
        AttachedPolicies: page.map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split('/').pop() })),
        ...rest,
      };
    },
    ListUserPolicies: (input) => {
      const user = getUser(input.UserName);
      const { page, ...rest } = paginate(Object.keys(user.inlinePolicies), input, pageSize);
      return { PolicyNames: page, ...rest };
    },
    GetUserPolicy: (input) => {
      const user = getUser(input.UserName);
      const name = String(input.PolicyName);
      const text = user.inlinePolicies[name];
      if (text === undefined) fail('NoSuchEntity', `The user policy with name ${name} cannot be found.`);
      return { UserName: user.name, PolicyName: name, PolicyDocument: encodeDocument(text) };
    },
    ListAttachedGroupPolicies: (input) => {
      const group = getGroup(input.GroupName);
      const { page, ...rest } = paginate(group.attachedPolicyArns, input, pageSize);
      return {
        AttachedPolicies: page.map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split('/').pop() })),
        ...rest,
      };
    },
    ListGroupPolicies: (input) => {
      const group = getGroup(input.GroupName);
      const { page, ...rest } = paginate(Object.keys(group.inlinePolicies), input, pageSize);
      return { PolicyNames: page, ...rest };
    },
    GetGroupPolicy: (input) => {
      const group = getGroup(input.GroupName);
      const name = String(input.PolicyName);
      const text = group.inlinePolicies[name];
      if (text === undefined) fail('NoSuchEntity', `The group policy with name ${name} cannot be found.`);
      return { GroupName: group.name, PolicyName: name, PolicyDocument: encodeDocument(text) };
    },

    // ----- OIDC providers -----
    ListOpenIDConnectProviders: () => ({
      OpenIDConnectProviderList: [...state.providers.keys()].map((Arn) => ({ Arn })),
    }),
    GetOpenIDConnectProvider: (input) => {
      const p = getProvider(input.OpenIDConnectProviderArn);
      return {
        Url: p.url,
        ClientIDList: [...p.clientIds],
        ThumbprintList: [...p.thumbprints],
        CreateDate: p.createDate,
        Tags: toTagList(p.tags),
      };
    },
    CreateOpenIDConnectProvider: (input) => {
      const url = requireString(input, 'Url');
      if (!url.startsWith('https://')) fail('InvalidInput', 'Url must begin with https://');
      const hostPath = url.slice('https://'.length).replace(/\/$/, '');
      const arn = providerArnFor(hostPath);
      if (state.providers.has(arn)) fail('EntityAlreadyExists', `Provider with url ${url} already exists.`);
      if (state.providers.size >= QUOTAS.providers) {
        fail('LimitExceeded', `Cannot exceed quota for OpenIdIdpsPerAccount: ${QUOTAS.providers}`);
      }
      const clientIds = [...new Set((input.ClientIDList as string[] | undefined) ?? [])];
      if (clientIds.length > QUOTAS.clientIds) {
        fail(
          'LimitExceeded',
          `Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: ${QUOTAS.clientIds}`,
        );
      }
      const thumbprints = checkThumbprints(input.ThumbprintList);
      const tags = mergeTags({}, input.Tags);
      state.providers.set(arn, {
        arn,
        url: hostPath,
        clientIds,
        thumbprints,
        tags,
        createDate: new Date(),
        createdAtCall: config.callCount(),
      });
      return { OpenIDConnectProviderArn: arn, Tags: toTagList(tags) };
    },
    AddClientIDToOpenIDConnectProvider: (input) => {
      const p = getProvider(input.OpenIDConnectProviderArn);
      const clientId = requireString(input, 'ClientID');
      if (clientId.length > 255)
        fail(
          'ValidationError',
          "1 validation error detected: Value at 'clientID' failed to satisfy constraint: Member must have length less than or equal to 255",
        );
      if (p.clientIds.includes(clientId)) return {};
      if (p.clientIds.length >= QUOTAS.clientIds) {
        fail(
          'LimitExceeded',
          `Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: ${QUOTAS.clientIds}`,
        );
      }
      p.clientIds.push(clientId);
      return {};
    },
    UpdateOpenIDConnectProviderThumbprint: (input) => {
      const p = getProvider(input.OpenIDConnectProviderArn);
      p.thumbprints = checkThumbprints(input.ThumbprintList);
      return {};
    },
    TagOpenIDConnectProvider: (input) => {
      const p = getProvider(input.OpenIDConnectProviderArn);
      p.tags = mergeTags(p.tags, input.Tags);
      return {};
    },
    DeleteOpenIDConnectProvider: (input) => {
      const p = getProvider(input.OpenIDConnectProviderArn);
      state.providers.delete(p.arn);
      return {};
    },

    // ----- Roles -----
    GetRole: (input) => ({ Role: roleOutput(getRole(input.RoleName), true) }),
    ListRoles: (input) => {
      const prefix = (input.PathPrefix as string | undefined) ?? '/';
      const roles = [...state.roles.values()].filter((r) => r.path.startsWith(prefix));
      const { page, ...rest } = paginate(roles, input, pageSize);
      return { Roles: page.map((r) => roleOutput(r, false)), ...rest };
    },
    CreateRole: (input) => {
      const name = requireString(input, 'RoleName');
      if (!/^[\w+=,.@-]{1,64}$/.test(name)) {
        fail(
          'ValidationError',
          `1 validation error detected: Value '${name}' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
        );
      }
      if (state.roles.has(name.toLowerCase()))
        fail('EntityAlreadyExists', `Role with name ${name} already exists.`);
      const path = (input.Path as string | undefined) ?? '/';
      checkTrustPolicy(input.AssumeRolePolicyDocument);
      checkMaxSession(input.MaxSessionDuration);
      const boundary = input.PermissionsBoundary as string | undefined;
      if (boundary) getPolicy(boundary);
      const role: FakeRole = {
        name,
        path,
        arn: `arn:${partition}:iam::${account}:role${path}${name}`,
        roleId: fakeId('AROA'),
        trustPolicy: input.AssumeRolePolicyDocument as string,
        maxSessionDuration: (input.MaxSessionDuration as number | undefined) ?? 3600,
        description: input.Description as string | undefined,
        permissionsBoundaryArn: boundary,
        tags: mergeTags({}, input.Tags),
        attachedPolicyArns: [],
        inlinePolicies: {},
        createDate: new Date(),
      };
      state.roles.set(name.toLowerCase(), role);
      return { Role: roleOutput(role, true) };
    },
    UpdateAssumeRolePolicy: (input) => {
      const role = getRole(input.RoleName);
      checkTrustPolicy(input.PolicyDocument);
      role.trustPolicy = input.PolicyDocument as string;
      return {};
    },
    UpdateRole: (input) => {
      const role = getRole(input.RoleName);
      checkMaxSession(input.MaxSessionDuration);
      if (input.MaxSessionDuration !== undefined)
        role.maxSessionDuration = input.MaxSessionDuration as number;
      if (input.Description !== undefined) role.description = input.Description as string;
      return {};
    },
    PutRolePermissionsBoundary: (input) => {
      const role = getRole(input.RoleName);
      role.permissionsBoundaryArn = getPolicy(input.PermissionsBoundary).arn;
      return {};
    },
    DeleteRolePermissionsBoundary: (input) => {
      getRole(input.RoleName).permissionsBoundaryArn = undefined;
      return {};
    },
    AttachRolePolicy: (input) => {
      const role = getRole(input.RoleName);
      const policy = getPolicy(input.PolicyArn);
      if (role.attachedPolicyArns.includes(policy.arn)) return {};
      if (role.attachedPolicyArns.length >= QUOTAS.managedPoliciesPerRole) {
        fail('LimitExceeded', `Cannot exceed quota for PoliciesPerRole: ${QUOTAS.managedPoliciesPerRole}`);
      }
      role.attachedPolicyArns.push(policy.arn);
      return {};
    },
    DetachRolePolicy: (input) => {
      const role = getRole(input.RoleName);
      const arn = String(input.PolicyArn);
      if (!role.attachedPolicyArns.includes(arn)) fail('NoSuchEntity', `Policy ${arn} was not found.`);
      role.attachedPolicyArns = role.attachedPolicyArns.filter((a) => a !== arn);
      return {};
    },
    ListAttachedRolePolicies: (input) => {
      const role = getRole(input.RoleName);
      const { page, ...rest } = paginate(role.attachedPolicyArns, input, pageSize);
      return {
        AttachedPolicies: page.map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split('/').pop() })),
        ...rest,
      };
    },
    ListRolePolicies: (input) => {
      const role = getRole(input.RoleName);
      const { page, ...rest } = paginate(Object.keys(role.inlinePolicies), input, pageSize);
      return { PolicyNames: page, ...rest };
    },
    TagRole: (input) => {
      const role = getRole(input.RoleName);
      role.tags = mergeTags(role.tags, input.Tags);
      return {};
    },
    UntagRole: (input) => {
      const role = getRole(input.RoleName);
      for (const key of (input.TagKeys as string[] | undefined) ?? []) delete role.tags[key];
      return {};
    },
    ListRoleTags: (input) => {
      const role = getRole(input.RoleName);
      const { page, ...rest } = paginate(toTagList(role.tags), input, pageSize);
      return { Tags: page, ...rest };
    },
    DeleteRole: (input) => {
      const role = getRole(input.RoleName);
      if (role.attachedPolicyArns.length)
        fail('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
      if (Object.keys(role.inlinePolicies).length)
        fail('DeleteConflict', 'Cannot delete entity, must delete policies first.');
      if (profilesOf(role).length)
        fail('DeleteConflict', 'Cannot delete entity, must remove roles from instance profile first.');
      state.roles.delete(role.name.toLowerCase());
      return {};
    },

    // ----- Instance profiles (only what destroy meets) -----
    CreateInstanceProfile: (input) => {
      const name = requireString(input, 'InstanceProfileName');
      const path = (input.Path as string | undefined) ?? '/';
      if (state.instanceProfiles.has(name.toLowerCase()))
        fail('EntityAlreadyExists', `Instance Profile ${name} already exists.`);
      const profile = {
        name,
        path,
        arn: `arn:${partition}:iam::${account}:instance-profile${path}${name}`,
        roles: [],
      };
      state.instanceProfiles.set(name.toLowerCase(), profile);
      return { InstanceProfile: profileOutput(profile) };
    },
    AddRoleToInstanceProfile: (input) => {
      const profile = getInstanceProfile(input.InstanceProfileName);
      const role = getRole(input.RoleName);
      if (profile.roles.length)
        fail('LimitExceeded', 'Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1');
      profile.roles.push(role.name);
      return {};
    },
    RemoveRoleFromInstanceProfile: (input) => {
      const profile = getInstanceProfile(input.InstanceProfileName);
      const role = getRole(input.RoleName);
      if (!profile.roles.some((r) => r.toLowerCase() === role.name.toLowerCase()))
        fail('NoSuchEntity', `Role ${role.name} is not in instance profile ${profile.name}.`);
      profile.roles = profile.roles.filter((r) => r.toLowerCase() !== role.name.toLowerCase());
      return {};
    },
    ListInstanceProfilesForRole: (input) => {
      const role = getRole(input.RoleName);
      const { page, ...rest } = paginate(profilesOf(role), input, pageSize);
      return { InstanceProfiles: page.map(profileOutput), ...rest };
    },

    // ----- Managed policies -----
    GetPolicy: (input) => ({ Policy: policyOutput(getPolicy(input.PolicyArn)) }),
    CreatePolicy: (input) => {
      const name = requireString(input, 'PolicyName');
      const path = (input.Path as string | undefined) ?? '/';
      const taken = [...state.policies.values()].some(
        (p) => p.name.toLowerCase() === name.toLowerCase() && p.arn.includes(`:${account}:`),
      );
      if (taken)
        fail(
          'EntityAlreadyExists',
          `A policy called ${name} already exists. Duplicate names are not allowed.`,
        );
      checkPermissionPolicy(input.PolicyDocument);
      const policy = insertPolicy(state, {
        arn: `arn:${partition}:iam::${account}:policy${path}${name}`,
        name,
        path,
        documents: [input.PolicyDocument as string],
        tags: mergeTags({}, input.Tags),
      });
      return { Policy: policyOutput(policy) };
    },
    TagPolicy: (input) => {
      const policy = getPolicy(input.PolicyArn);
      policy.tags = mergeTags(policy.tags, input.Tags);
      return {};
    },
    DeletePolicy: (input) => {
      const policy = getPolicy(input.PolicyArn);
      if (attachmentCount(policy.arn) > 0)
        fail('DeleteConflict', 'Cannot delete a policy attached to entities.');
      if (policy.versions.length > 1) {
        fail(
          'DeleteConflict',
          "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
        );
      }
      state.policies.delete(policy.arn);
      return {};
    },
    GetPolicyVersion: (input) => {
      const policy = getPolicy(input.PolicyArn);
      const version = policy.versions.find((v) => v.versionId === input.VersionId);
      if (!version)
        fail(
          'NoSuchEntity',
          `Policy ${policy.arn} version ${String(input.VersionId)} does not exist or is not attachable.`,
        );
      return {
        PolicyVersion: {
          Document: encodeDocument(version.document),
          VersionId: version.versionId,
          IsDefaultVersion: version.isDefault,
          CreateDate: version.createDate,
        },
      };
    },
    ListPolicyVersions: (input) => {
      const policy = getPolicy(input.PolicyArn);
      // Newest first, like IAM.
      const versions = [...policy.versions].reverse();
      const { page, ...rest } = paginate(versions, input, pageSize);
      return {
        Versions: page.map((v) => ({
          VersionId: v.versionId,
          IsDefaultVersion: v.isDefault,
          CreateDate: v.createDate,
        })),
        ...rest,
      };
    },
    CreatePolicyVersion: (input) => {
      const policy = getPolicy(input.PolicyArn);
      checkPermissionPolicy(input.PolicyDocument);
      if (policy.versions.length >= QUOTAS.policyVersions) {
        fail(
          'LimitExceeded',
          `A managed policy can have up to ${QUOTAS.policyVersions} versions. Before you create a new version, you must delete an existing version.`,
        );
      }
      const version: FakePolicyVersion = {
        versionId: `v${policy.nextVersion++}`,
        document: input.PolicyDocument as string,
        isDefault: false,
        createDate: new Date(),
      };
      policy.versions.push(version);
      if (input.SetAsDefault) for (const v of policy.versions) v.isDefault = v === version;
      return {
        PolicyVersion: {
          VersionId: version.versionId,
          IsDefaultVersion: version.isDefault,
          CreateDate: version.createDate,
        },
      };
    },
    DeletePolicyVersion: (input) => {
      const policy = getPolicy(input.PolicyArn);
      const version = policy.versions.find((v) => v.versionId === input.VersionId);
      if (!version)
        fail('NoSuchEntity', `Policy ${policy.arn} version ${String(input.VersionId)} does not exist.`);
      if (version.isDefault) fail('DeleteConflict', 'Cannot delete the default version of a policy.');
      policy.versions = policy.versions.filter((v) => v !== version);
      return {};
    },
  };
}

/** Adds a policy whose last document is the default version (v1…vN). */
export function insertPolicy(
  state: FakeIamState,
  input: { arn: string; name: string; path: string; documents: string[]; tags: Tags },
): FakePolicy {
  const createDate = new Date();
  const policy: FakePolicy = {
    arn: input.arn,
    name: input.name,
    path: input.path,
    policyId: fakeId('ANPA'),
    versions: input.documents.map((document, i) => ({
      versionId: `v${i + 1}`,
      document,
      isDefault: i === input.documents.length - 1,
      createDate,
    })),
    nextVersion: input.documents.length + 1,
    tags: { ...input.tags },
    createDate,
  };
  state.policies.set(policy.arn, policy);
  return policy;
}

/** Adds an IAM user (see fake-aws.ts `addUser`). */
export function insertUser(
  state: FakeIamState,
  scope: { account: string; partition: string },
  input: {
    name: string;
    path?: string;
    groups?: string[];
    attachedPolicyArns?: string[];
    inlinePolicies?: Record<string, PolicyDocument>;
    permissionsBoundaryArn?: string;
    tags?: Tags;
  },
): FakeUser {
  const path = input.path ?? '/';
  const user: FakeUser = {
    name: input.name,
    path,
    arn: `arn:${scope.partition}:iam::${scope.account}:user${path}${input.name}`,
    userId: fakeId('AIDA'),
    createDate: new Date('2020-01-01T00:00:00Z'),
    tags: { ...input.tags },
    accessKeys: [],
    groups: [...(input.groups ?? [])],
    attachedPolicyArns: [...(input.attachedPolicyArns ?? [])],
    inlinePolicies: Object.fromEntries(
      Object.entries(input.inlinePolicies ?? {}).map(([n, d]) => [n, JSON.stringify(d)]),
    ),
    permissionsBoundaryArn: input.permissionsBoundaryArn,
  };
  state.users.set(input.name.toLowerCase(), user);
  return user;
}

/** Adds an IAM group. */
export function insertGroup(
  state: FakeIamState,
  scope: { account: string; partition: string },
  input: {
    name: string;
    path?: string;
    attachedPolicyArns?: string[];
    inlinePolicies?: Record<string, PolicyDocument>;
  },
): FakeGroup {
  const path = input.path ?? '/';
  const group: FakeGroup = {
    name: input.name,
    path,
    arn: `arn:${scope.partition}:iam::${scope.account}:group${path}${input.name}`,
    groupId: fakeId('AGPA'),
    createDate: new Date('2020-01-01T00:00:00Z'),
    attachedPolicyArns: [...(input.attachedPolicyArns ?? [])],
    inlinePolicies: Object.fromEntries(
      Object.entries(input.inlinePolicies ?? {}).map(([n, d]) => [n, JSON.stringify(d)]),
    ),
  };
  state.groups.set(input.name.toLowerCase(), group);
  return group;
}

/** Adds an access key to a user; the ID names `account` (GetAccessKeyInfo). */
export function insertAccessKey(
  state: FakeIamState,
  account: string,
  userName: string,
  input: {
    status?: 'Active' | 'Inactive';
    createDate?: Date;
    lastUsed?: { date: Date; service: string; region: string };
  } = {},
): FakeAccessKey {
  const user = state.users.get(userName.toLowerCase());
  if (!user) throw new Error(`fake-aws: no user ${userName}`);
  const accessKeyId = makeAccessKeyId(account);
  const key: FakeAccessKey = {
    accessKeyId,
    secretAccessKey: `${accessKeyId.slice(4, 12).toLowerCase()}/Secret+${'x'.repeat(20)}${keyCounter}`,
    status: input.status ?? 'Active',
    createDate: input.createDate ?? new Date('2021-01-01T00:00:00Z'),
    lastUsed: input.lastUsed,
  };
  user.accessKeys.push(key);
  return key;
}
