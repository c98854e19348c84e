/**
 * What an existing role grants today, in `init`'s own terms (refs, audience, pins, permissions, role
 * settings): the values a re-run keeps for every flag it is not given, so that running `init` again
 * with the same (or fewer) flags changes nothing. Pure.
 *
 * Only what can be read back exactly is returned. The refs come back only when every positive `sub`
 * value of the trust policy is a default-format subject (`parseSubject`) of the given project under
 * StringEquals/StringLike; otherwise `refs` is undefined and the caller falls back to its usual
 * sources (a flag, the default branch, a question), never to a guess presented as the current state.
 */
import { splitOidcKey } from './gitlab-claims.js';
import { conditionValues, parseConditionOperator } from './iam-conditions.js';
import { trustStatements } from './lint.js';
import { parseSubject } from './subject.js';
import { GITLAB_URL_TAG, type RefRule, type RoleState, type SubClaimForm } from './types.js';

export interface RoleIntent {
  /** The refs the trust policy names for the project; undefined when they cannot be read back exactly. */
  refs?: RefRule[] | undefined;
  /** The one `aud` the trust policy pins (StringEquals), if exactly one. */
  audience?: string | undefined;
  /**
   * gitlab.com:project_id / namespace_id pinned with StringEquals, if exactly one value each; for a
   * project_id-first `sub`, the project ID it names.
   */
  projectId?: string | undefined;
  /** The form of the `sub` values the refs were read from (`project_id` after `--sub-claim project-id`). */
  subClaim?: SubClaimForm | undefined;
  namespaceId?: string | undefined;
  /** gitlab.com:ref_protected = "true" is required. */
  protectedOnly: boolean;
  /** Managed policies attached today, the tool-managed permission policy left out. */
  managedPolicyArns: string[];
  /** The tool-managed permission policy, when it is attached. */
  toolPolicyAttached: boolean;
  permissionsBoundaryArn?: string | undefined;
  maxSessionDuration: number;
  rolePath: string;
  /** The GitLab instance the role is tagged for (`gitlab-aws-oidc:gitlab-url`). */
  gitlabUrl?: string | undefined;
}

/** Values of an OIDC claim pinned positively (`StringEquals`/`StringLike`, no set operator, no IfExists). */
function positiveValues(role: RoleState, claim: string): { operator: string; values: string[] }[] {
  const out: { operator: string; values: string[] }[] = [];
  for (const st of trustStatements(role.trustPolicy)) {
    if (st?.Effect !== 'Allow') continue;
    for (const [rawOperator, block] of Object.entries(st.Condition ?? {})) {
      if (!block || typeof block !== 'object') continue;
      const op = parseConditionOperator(rawOperator);
      for (const [key, value] of Object.entries(block)) {
        if (splitOidcKey(key)?.claim.toLowerCase() !== claim) continue;
        out.push({
          operator:
            op.known && !op.negated && !op.ifExists && op.set === undefined
              ? op.base
              : `other:${rawOperator}`,
          values: conditionValues(value),
        });
      }
    }
  }
  return out;
}

/** The single value a claim is pinned to with StringEquals, or undefined (absent, several, other operators). */
function singleEquals(role: RoleState, claim: string): string | undefined {
  const found = positiveValues(role, claim);
  const values = [...new Set(found.flatMap((f) => f.values))];
  if (found.some((f) => f.operator !== 'StringEquals') || values.length !== 1) return undefined;
  return values[0];
}

interface SubRead {
  refs: RefRule[];
  form: SubClaimForm;
  /** The project ID a project_id-first `sub` names. */
  projectId?: string | undefined;
}

/**
 * The refs every positive `sub` value names for the project, all in one form: `project_path:<projectPath>:…`
 * or `project_id:<one id>:…` (the role is tagged for the path; the ID is the one its sub names).
 */
function readRefs(role: RoleState, projectPath: string): SubRead | undefined {
  const found = positiveValues(role, 'sub');
  if (found.length === 0) return undefined;
  const refs: RefRule[] = [];
  let form: SubClaimForm | undefined;
  let projectId: string | undefined;
  for (const { operator, values } of found) {
    if (operator !== 'StringEquals' && operator !== 'StringLike') return undefined;
    for (const value of values) {
      const subject = parseSubject(value);
      if (!subject) return undefined;
      const valueForm: SubClaimForm = subject.projectId !== undefined ? 'project_id' : 'project_path';
      if (form !== undefined && form !== valueForm) return undefined;
      form = valueForm;
      if (subject.projectId !== undefined) {
        if (!/^[1-9]\d*$/.test(subject.projectId)) return undefined;
        if (projectId !== undefined && projectId !== subject.projectId) return undefined;
        projectId = subject.projectId;
      } else if (subject.projectPath?.toLowerCase() !== projectPath.toLowerCase()) {
        return undefined;
      }
      // Under StringEquals a `*` is a literal character, which init would write under StringLike.
      if (operator === 'StringEquals' && /[*?]/.test(subject.ref)) return undefined;
      if (!refs.some((r) => r.type === subject.refType && r.pattern === subject.ref)) {
        refs.push({ type: subject.refType, pattern: subject.ref });
      }
    }
  }
  if (form === undefined) return undefined;
  // init lists branches first, then tags.
  return {
    refs: [...refs.filter((r) => r.type === 'branch'), ...refs.filter((r) => r.type === 'tag')],
    form,
    projectId,
  };
}

/**
 * Reads a role's current settings back into init's inputs. `toolPolicyArn` is the ARN of the
 * tool-managed permission policy this run would use (it is kept apart from the other attachments).
 */
export function readRoleIntent(
  role: RoleState,
  { projectPath, toolPolicyArn }: { projectPath: string; toolPolicyArn?: string | undefined },
): RoleIntent {
  const protectedValues = positiveValues(role, 'ref_protected');
  const sub = readRefs(role, projectPath);
  const pinnedId = singleEquals(role, 'project_id');
  // A project_id sub and a gitlab.com:project_id pin that disagree: neither is read back as the ID.
  const projectId =
    sub?.form === 'project_id'
      ? pinnedId === undefined || pinnedId === sub.projectId
        ? sub.projectId
        : undefined
      : pinnedId;
  return {
    refs: sub?.refs,
    subClaim: sub?.form,
    audience: singleEquals(role, 'aud'),
    projectId,
    namespaceId: singleEquals(role, 'namespace_id'),
    protectedOnly: protectedValues.some((p) => p.operator === 'StringEquals' && p.values.includes('true')),
    managedPolicyArns: role.attachedPolicyArns.filter((arn) => arn !== toolPolicyArn),
    toolPolicyAttached: toolPolicyArn !== undefined && role.attachedPolicyArns.includes(toolPolicyArn),
    permissionsBoundaryArn: role.permissionsBoundaryArn,
    maxSessionDuration: role.maxSessionDuration,
    rolePath: role.path,
    gitlabUrl: role.tags[GITLAB_URL_TAG],
  };
}

/** `branch main, branch release/*, tag v*` → `main, release/*, tag v*` for notes. */
export function describeRefs(refs: readonly RefRule[]): string {
  return refs.map((r) => (r.type === 'branch' ? r.pattern : `tag ${r.pattern}`)).join(', ');
}
