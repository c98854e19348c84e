/**
 * Domain types shared by core (pure), aws (ports) and the commands.
 * No I/O and no SDK imports here.
 */

export type Tags = Record<string, string>;

// ---------- IAM policy documents ----------

export type ConditionValue = string | boolean | number | Array<string | boolean | number>;
/** `{ "StringEquals": { "gitlab.com:aud": "https://gitlab.com" } }` */
export type ConditionBlock = Record<string, Record<string, ConditionValue>>;

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, string | string[]>;
  NotPrincipal?: Record<string, string | string[]>;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: '2012-10-17' | '2008-10-17';
  Id?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

// ---------- GitLab side ----------

export type RefType = 'branch' | 'tag';

/**
 * Which identifier the trust policy's `sub` starts with, matching the project's
 * `ci_id_token_sub_claim_components`: GitLab's default `project_path` (`project_path:g/p:ref_type:…`),
 * or `project_id` (`project_id:42:ref_type:…`, set by `init --sub-claim project-id`), which a new
 * project that takes over a freed path cannot match.
 */
export type SubClaimForm = 'project_path' | 'project_id';

/** One allowed ref: a literal name (`main`) or a pattern with `*`/`?` (`release/*`). */
export interface RefRule {
  type: RefType;
  pattern: string;
}

/** The GitLab instance, as IAM sees it. */
export interface Issuer {
  /** Normalised issuer URL: https, no trailing slash, may have a path. `https://gitlab.example.com/gitlab` */
  url: string;
  /** The IAM provider "host" = URL without scheme: `gitlab.example.com/gitlab`. Condition keys are `<hostPath>:sub`. */
  hostPath: string;
  /** True only for exactly `https://gitlab.com` (STS then evaluates the extra gitlab.com:* keys). */
  isGitlabCom: boolean;
}

/** What the trust policy is built from. */
export interface TrustInput {
  providerArn: string;
  issuer: Issuer;
  /** `aud` the job's id_token carries; must be one of the provider's client IDs. */
  audience: string;
  /** `group/subgroup/project`, literal (no wildcards). */
  projectPath: string;
  refs: RefRule[];
  /** gitlab.com numeric IDs (strings), pinned with `gitlab.com:project_id` / `namespace_id` when known. */
  projectId?: string | undefined;
  namespaceId?: string | undefined;
  /** On gitlab.com: add `gitlab.com:ref_protected = "true"`. */
  protectedOnly?: boolean | undefined;
  /** Explicit consent to `*` refs (any branch/tag of the project). */
  allowAnyRef?: boolean | undefined;
  /** The `sub` form (default `project_path`); `project_id` needs `projectId`. */
  subClaim?: SubClaimForm | undefined;
}

// ---------- AWS state ----------

export interface Identity {
  account: string;
  /** `aws`, `aws-cn`, `aws-us-gov`, … taken from the caller ARN. */
  partition: string;
  arn: string;
  userId: string;
}

export interface OidcProviderState {
  arn: string;
  /** As IAM returns it: without scheme, e.g. `gitlab.com` or `gitlab.example.com/gitlab`. */
  url: string;
  clientIds: string[];
  thumbprints: string[];
  tags: Tags;
}

export interface RoleState {
  name: string;
  path: string;
  arn: string;
  trustPolicy: PolicyDocument;
  maxSessionDuration: number;
  permissionsBoundaryArn?: string | undefined;
  description?: string | undefined;
  tags: Tags;
  attachedPolicyArns: string[];
}

export interface PolicyVersionInfo {
  versionId: string;
  isDefault: boolean;
  createDate?: Date | undefined;
}

export interface ManagedPolicyState {
  arn: string;
  name: string;
  path: string;
  defaultVersionId: string;
  /** The default version's document, decoded. */
  document: PolicyDocument;
  versions: PolicyVersionInfo[];
  tags: Tags;
  /** GetPolicy's AttachmentCount (roles, users and groups), when read. */
  attachmentCount?: number | undefined;
}

/** What exists today, as read from IAM (undefined = absent). */
export interface CurrentState {
  provider?: OidcProviderState | undefined;
  role?: RoleState | undefined;
  /** The tool-managed permission policy (only when the user asked for one). */
  policy?: ManagedPolicyState | undefined;
  /**
   * Customer managed policies this run does not want: those attached to the role (read so the plan can
   * tell the tool's own policy of an earlier run, detached and deleted, from one attached by hand, kept),
   * and the tool's policy by this run's policy name when the run wants none (an interrupted run may
   * have detached it without deleting it).
   */
  unwantedPolicies?: ManagedPolicyState[] | undefined;
  /** Other roles whose trust policy names the provider; read only when a thumbprint change is planned. */
  providerUsedBy?: string[] | undefined;
}

/** What `init` wants to exist. */
export interface DesiredState {
  provider: {
    url: string; // issuer URL with https://
    arn: string;
    clientIds: string[];
    /** Empty when AWS validates the certificate itself (gitlab.com and public CAs). */
    thumbprints: string[];
    tags: Tags;
  };
  role: {
    name: string;
    path: string;
    arn: string;
    description: string;
    trustPolicy: PolicyDocument;
    maxSessionDuration: number;
    permissionsBoundaryArn?: string | undefined;
    tags: Tags;
    /** Every managed policy ARN the role should have attached, the tool's own policy included. */
    managedPolicyArns: string[];
  };
  /** The tool-managed customer policy, when permissions come from a file or a template. */
  policy?:
    | {
        name: string;
        path: string;
        arn: string;
        document: PolicyDocument;
        tags: Tags;
      }
    | undefined;
}

// ---------- Plan ----------

export type ResourceKind = 'oidc-provider' | 'role' | 'policy';
export type PlanAction = 'create' | 'update' | 'no-op' | 'delete';

/**
 * The explicit consent a change needs before a non-interactive run may make it (an interactive run asks,
 * in red). `overwrite-drift`: the field was changed outside the tool since its last run.
 * `allow-widening`: the change widens access (a dropped trust condition, a new principal or audience, a
 * boundary removed, a policy attached to an existing role, a thumbprint change on a shared provider).
 * `detach-unowned`: it removes something the tool did not create (a detach, a boundary, a deletion).
 * `change-sub-claim`: it changes the project's `ci_id_token_sub_claim_components`, so the `sub` of
 * every ID token of the project (roles trusting the old form stop matching); given by `--sub-claim`.
 */
export type Consent = 'overwrite-drift' | 'allow-widening' | 'detach-unowned' | 'change-sub-claim';

/** The flag that gives each consent. */
export const CONSENT_FLAGS: Record<Consent, string> = {
  'overwrite-drift': '--overwrite-drift',
  'allow-widening': '--allow-widening',
  'detach-unowned': '--detach-unowned',
  'change-sub-claim': '--sub-claim',
};

export interface FieldChange {
  field: string;
  from?: unknown;
  to?: unknown;
  /** The change widens who or what can assume the role: shown in red, needs an explicit flag. */
  broadening?: boolean;
  /** The current value was changed outside the tool since it last wrote it (current ≠ last written). */
  drift?: boolean;
  /** The consents this change needs (see `Consent`); shown in red with their flags. */
  needs?: Consent[] | undefined;
}

/** One change that needs consent, for the plan's red section and the refusal message. */
export interface ConsentItem {
  consent: Consent;
  /** Resource id (role name, policy name, provider URL). */
  resource: string;
  field: string;
  /** Human line with values: `trust policy: drops the condition gitlab.com:ref_protected = "true"`. */
  message: string;
  /** The flag as it must be given, when it takes a value (`--sub-claim project-id`); else CONSENT_FLAGS. */
  flag?: string | undefined;
}

export interface ResourcePlan {
  kind: ResourceKind;
  /** Human id: provider URL, role name, policy name. */
  id: string;
  arn: string;
  action: PlanAction;
  changes: FieldChange[];
  /** What the plan deliberately leaves as it is, with why (`kept: policy X, attached outside the tool`). */
  notes?: string[] | undefined;
  /** Provider only: the other roles in the account whose trust policy names this provider. */
  usedBy?: string[] | undefined;
}

/** One mutating IAM call. Apply runs them in dependency order, independent ones concurrently. */
export type PlanStep =
  | { kind: 'createProvider'; url: string; clientIds: string[]; thumbprints: string[]; tags: Tags }
  | { kind: 'addClientId'; providerArn: string; clientId: string }
  | { kind: 'updateThumbprints'; providerArn: string; thumbprints: string[] }
  | { kind: 'tagProvider'; providerArn: string; tags: Tags }
  | { kind: 'createPolicy'; name: string; path: string; document: PolicyDocument; tags: Tags }
  | {
      kind: 'createPolicyVersion';
      policyArn: string;
      document: PolicyDocument;
      /** Oldest non-default version to delete first when the policy already has 5. */
      pruneVersionId?: string | undefined;
    }
  | {
      kind: 'createRole';
      name: string;
      path: string;
      description: string;
      trustPolicy: PolicyDocument;
      maxSessionDuration: number;
      permissionsBoundaryArn?: string | undefined;
      tags: Tags;
    }
  | { kind: 'updateTrustPolicy'; roleName: string; trustPolicy: PolicyDocument }
  | { kind: 'updateRole'; roleName: string; maxSessionDuration: number; description: string }
  | { kind: 'putPermissionsBoundary'; roleName: string; boundaryArn: string }
  | { kind: 'deletePermissionsBoundary'; roleName: string }
  | { kind: 'attachPolicy'; roleName: string; policyArn: string }
  | { kind: 'detachPolicy'; roleName: string; policyArn: string }
  | { kind: 'tagRole'; roleName: string; tags: Tags }
  | { kind: 'tagPolicy'; policyArn: string; tags: Tags }
  | { kind: 'deletePolicyVersion'; policyArn: string; versionId: string }
  | { kind: 'deletePolicy'; policyArn: string }
  | { kind: 'untagRole'; roleName: string; tagKeys: string[] };

export interface Plan {
  resources: ResourcePlan[];
  steps: PlanStep[];
  trustPolicy: { before?: PolicyDocument | undefined; after: PolicyDocument };
  /** Human lines describing anything that broadens trust (red in the plan). */
  broadening: string[];
  /** Every change that needs an explicit consent (drift overwrite, widening, removing what the tool did not create). */
  consents: ConsentItem[];
  warnings: string[];
  hasChanges: boolean;
}

// ---------- Tags the tool puts on everything it creates ----------

export const MANAGED_BY_TAG = 'managed-by';
export const MANAGED_BY_VALUE = 'gitlab-aws-oidc';
export const PROJECT_TAG = 'gitlab-aws-oidc:project';
export const GITLAB_URL_TAG = 'gitlab-aws-oidc:gitlab-url';
/**
 * A role packed with several projects (`role: per-group`) carries this tag instead of the project tag:
 * its value is the group the role serves (the projects it trusts are its trust policy's `sub` values).
 */
export const PACK_TAG = 'gitlab-aws-oidc:per-group';

/** Created (and so owned) by this tool: the only resources it changes or deletes without an explicit flag. */
export function isToolManaged(tags: Tags): boolean {
  return tags[MANAGED_BY_TAG] === MANAGED_BY_VALUE;
}
