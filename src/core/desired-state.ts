/**
 * What `init` wants to exist, built from validated inputs: the trust policy (secure by construction),
 * names and ARNs, and the tool's tags on everything it creates. Re-exported by plan.ts.
 */
import { UsageError } from '../errors.js';
import { providerArnFor } from './issuer.js';
import {
  DEFAULT_POLICY_PATH,
  DEFAULT_ROLE_PATH,
  MAX_TAGS,
  MIN_SESSION_DURATION,
  policyArnFor,
  roleArnFor,
  validateBoundaryArn,
  validateIamPath,
  validateManagedPolicyArn,
  validateMaxSessionDuration,
  validatePolicyName,
  validateRoleName,
  validateTags,
} from './naming.js';
import { RECORD_TAG_KEYS, RECORD_TAGS } from './ownership.js';
import { findBroadPermissions, validatePermissionPolicy } from './permission-policy.js';
import {
  assertTrustPolicyFits,
  buildTrustPolicy,
  TRUST_POLICY_QUOTA,
  type TrustPolicyResult,
} from './trust-policy.js';
import {
  type DesiredState,
  GITLAB_URL_TAG,
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  PACK_TAG,
  type PolicyDocument,
  PROJECT_TAG,
  type Tags,
  type TrustInput,
} from './types.js';

/** The trust policy's input (its provider ARN comes from `identity` and `issuer`) and the rest of the setup. */
export interface DesiredStateInput extends Omit<TrustInput, 'providerArn'> {
  identity: { account: string; partition: string };
  roleName: string;
  rolePath?: string | undefined;
  description?: string | undefined;
  maxSessionDuration?: number | undefined;
  permissionsBoundaryArn?: string | undefined;
  managedPolicyArns?: readonly string[] | undefined;
  /** The tool-managed permission policy (from --policy-file or a template). */
  policy?: { name: string; path?: string | undefined; document: PolicyDocument } | undefined;
  /** User tags (`--aws-tag`), added to the tool's own. */
  tags?: Tags | undefined;
  /** Given (`--thumbprint`) or computed; empty when AWS validates the certificate itself. */
  thumbprints?: readonly string[] | undefined;
  /** Role trust policy length quota, when raised in Service Quotas (default 2,048). */
  trustPolicyQuota?: number | undefined;
  /**
   * A role packed with several projects (`role: per-group`): its trust (core/packing `buildPackTrust`)
   * instead of the project's own, and the group tag instead of the project tag.
   */
  packed?: { trust: TrustPolicyResult; group: string } | undefined;
}

export interface DesiredStateResult {
  desired: DesiredState;
  warnings: string[];
  /** Explicitly accepted broadening (e.g. --allow-any-ref); shown in red. */
  broadening: string[];
}

const RESERVED_TAGS = [MANAGED_BY_TAG, PROJECT_TAG, GITLAB_URL_TAG, PACK_TAG];
const TOOL_TAG_PREFIX = 'gitlab-aws-oidc:';
const MAX_MANAGED_POLICIES = 20;

function checkThumbprints(thumbprints: readonly string[]): string[] {
  const list = [...new Set(thumbprints.map((t) => t.replace(/:/g, '').toLowerCase()))];
  if (list.length > 5) throw UsageError.field('--thumbprint', `${list.length} given; IAM allows at most 5`);
  const bad = list.find((t) => !/^[0-9a-f]{40}$/.test(t));
  if (bad !== undefined)
    throw UsageError.field('--thumbprint', `"${bad}" is not 40 hex characters (a SHA-1 fingerprint)`);
  return list;
}

function checkDescription(text: string): string {
  if (text.length > 1000 || !/^[\t\n\r\u0020-\u007e\u00a1-\u00ff]*$/.test(text)) {
    throw UsageError.field('role description', 'must be at most 1,000 printable Latin-1 characters');
  }
  return text;
}

/** Keys under the tool's prefix: the ownership record, the destroy journal, and any added later. */
const isReservedTag = (key: string) => RESERVED_TAGS.includes(key) || key.startsWith(TOOL_TAG_PREFIX);
/** The most tags the tool puts on one resource (the role: its own tags plus the ownership record). */
// A role has the project tag or the group tag (PACK_TAG), never both.
const TOOL_TAG_COUNT =
  RESERVED_TAGS.length - 1 + RECORD_TAG_KEYS.filter((key) => key !== RECORD_TAGS.document).length;

function buildTags(input: DesiredStateInput): { role: Tags; provider: Tags } {
  const user = validateTags({ ...(input.tags ?? {}) });
  const reserved = Object.keys(user).filter(isReservedTag);
  if (reserved.length)
    throw UsageError.field(
      '--aws-tag',
      `"${reserved.join('", "')}" is set by gitlab-aws-oidc itself (keys starting with ${TOOL_TAG_PREFIX} are reserved)`,
    );
  if (Object.keys(user).length + TOOL_TAG_COUNT > MAX_TAGS) {
    throw UsageError.field(
      '--aws-tag',
      `at most ${MAX_TAGS - TOOL_TAG_COUNT} tags (IAM allows ${MAX_TAGS}; the tool adds ${TOOL_TAG_COUNT}, its ownership record included)`,
    );
  }
  const base = { ...user, [MANAGED_BY_TAG]: MANAGED_BY_VALUE, [GITLAB_URL_TAG]: input.issuer.url };
  // The provider is shared by every project of the instance: no project tag on it.
  const owner: Tags = input.packed
    ? { [PACK_TAG]: input.packed.group }
    : { [PROJECT_TAG]: input.projectPath };
  return { provider: validateTags(base), role: validateTags({ ...base, ...owner }) };
}

/** Validates everything and returns the desired state plus warnings and accepted broadening. */
export function buildDesiredState(input: DesiredStateInput): DesiredStateResult {
  const { account, partition } = input.identity;
  const providerArn = providerArnFor(partition, account, input.issuer);
  const trust = input.packed?.trust ?? buildTrustPolicy({ ...input, providerArn });
  assertTrustPolicyFits(trust.policy, input.trustPolicyQuota ?? TRUST_POLICY_QUOTA);

  const roleName = validateRoleName(input.roleName);
  const rolePath = validateIamPath(input.rolePath ?? DEFAULT_ROLE_PATH);
  const tags = buildTags(input);
  const boundary =
    input.permissionsBoundaryArn === undefined
      ? undefined
      : validateBoundaryArn(input.permissionsBoundaryArn, partition);
  const managed = (input.managedPolicyArns ?? []).map((arn) => validateManagedPolicyArn(arn, partition));
  const warnings = [...trust.warnings];

  let policy: DesiredState['policy'];
  if (input.policy) {
    const name = validatePolicyName(input.policy.name);
    const path = validateIamPath(input.policy.path ?? DEFAULT_POLICY_PATH, '--policy-path');
    const document = validatePermissionPolicy(input.policy.document);
    policy = { name, path, arn: policyArnFor(partition, account, path, name), document, tags: tags.role };
    managed.push(policy.arn);
  }
  const managedPolicyArns = [...new Set(managed)];
  if (managedPolicyArns.length > MAX_MANAGED_POLICIES) {
    throw UsageError.field(
      '--managed-policy',
      `${managedPolicyArns.length} policies; IAM allows at most ${MAX_MANAGED_POLICIES}`,
    );
  }
  if (managedPolicyArns.length === 0) {
    warnings.push('The role has no permission policy: jobs can assume it but do nothing with it.');
  }
  warnings.push(...findBroadPermissions(policy?.document, managedPolicyArns));

  const desired: DesiredState = {
    provider: {
      url: input.issuer.url,
      arn: providerArn,
      clientIds: [input.audience],
      thumbprints: checkThumbprints(input.thumbprints ?? []),
      tags: tags.provider,
    },
    role: {
      name: roleName,
      path: rolePath,
      arn: roleArnFor(partition, account, rolePath, roleName),
      description: checkDescription(
        input.description ??
          (input.packed
            ? `GitLab CI/CD OIDC role shared by projects of ${input.packed.group} on ${input.issuer.url} (gitlab-aws-oidc, per-group)`
            : `GitLab CI/CD OIDC role for ${input.projectPath} on ${input.issuer.url} (gitlab-aws-oidc)`),
      ),
      trustPolicy: trust.policy,
      maxSessionDuration: validateMaxSessionDuration(input.maxSessionDuration ?? MIN_SESSION_DURATION),
      permissionsBoundaryArn: boundary,
      tags: tags.role,
      managedPolicyArns,
    },
    policy,
  };
  return { desired, warnings, broadening: trust.broadening };
}
