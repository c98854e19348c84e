/**
 * What a tool-managed role trusts, and whether it drifted from what `init` would write. Pure.
 *
 * Drift is judged against the role's own declared intent: the project in its tag, and the refs,
 * audience, project ID and protection its trust policy names. The trust policy `init` would build
 * from those (H1's `buildTrustPolicy`) must equal the current one (`policiesEqual`); anything else
 * (an extra statement, another operator, a hand-added condition, a second project) is drift.
 */
import { issuerFromProviderUrl } from '../core/issuer.js';
import { lintTrustPolicy } from '../core/lint.js';
import { parseSub } from '../core/lint-rules/subject.js';
import { pendingAttachment, readRoleRecord } from '../core/ownership.js';
import { policiesEqual, policyDiff } from '../core/policy-json.js';
import { parseSubject } from '../core/subject.js';
import { buildTrustPolicy } from '../core/trust-policy.js';
import {
  GITLAB_URL_TAG,
  type ManagedPolicyState,
  type OidcProviderState,
  type PolicyDocument,
  PROJECT_TAG,
  type RefRule,
  type RoleState,
  type TrustInput,
} from '../core/types.js';
import { CliError } from '../errors.js';

export interface TrustedSubject {
  /** `grp/app`, or `project 42` when the sub is project_id-first; `*`-patterns as written. */
  project: string;
  /** `branch`, `tag`, or `any` when ref_type is not pinned. */
  refType: 'branch' | 'tag' | 'any';
  /** The ref or ref pattern; `*` for any. */
  ref: string;
}

export interface TrustSummary {
  providerArns: string[];
  subjects: TrustedSubject[];
  audiences: string[];
  projectIds: string[];
  /** gitlab.com:ref_protected = "true" is required. */
  protectedOnly: boolean;
}

export interface DriftItem {
  what:
    | 'trust-policy'
    | 'project'
    | 'provider'
    | 'audience'
    | 'policy'
    | 'tags'
    | 'max-session-duration'
    | 'boundary'
    | 'attachment'
    | 'description'
    | 'policy-document';
  message: string;
  /** A line diff (`- ` current, `+ ` what init wrote or would write) for trust-policy drift. */
  diff?: string[] | undefined;
  /** Value lines under the message (one per attachment: `+ arn  attached outside the tool`). */
  details?: string[] | undefined;
  /** `policy`: the ARN of the policy the item is about. */
  policyArn?: string | undefined;
}

/**
 * The structural drift items (`detectDrift`) the record (status/record) does not already say: a tool
 * policy gone from the role is said once, as a missing attachment; a trust edit once, with its diff.
 */
export function notSaidByRecord(
  structural: DriftItem[],
  said: { missingPolicyArns: ReadonlySet<string>; trustWritten: boolean },
): DriftItem[] {
  return structural.filter(
    (d) =>
      !(d.what === 'policy' && d.policyArn !== undefined && said.missingPolicyArns.has(d.policyArn)) &&
      !(d.what === 'trust-policy' && d.diff && said.trustWritten),
  );
}

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function statements(doc: PolicyDocument) {
  return asList(doc?.Statement).filter((s) => s && typeof s === 'object' && s.Effect === 'Allow');
}

function conditionValues(doc: PolicyDocument, claim: string): { operator: string; value: string }[] {
  const out: { operator: string; value: string }[] = [];
  for (const st of statements(doc)) {
    for (const [operator, keys] of Object.entries(st.Condition ?? {})) {
      if (!keys || typeof keys !== 'object') continue;
      for (const [k, v] of Object.entries(keys)) {
        if (k.toLowerCase().endsWith(`:${claim}`))
          for (const x of asList(v)) out.push({ operator, value: String(x) });
      }
    }
  }
  return out;
}

export function summarizeTrust(doc: PolicyDocument): TrustSummary {
  const providerArns = new Set<string>();
  for (const st of statements(doc)) {
    if (!st.Principal || st.Principal === '*') continue;
    for (const f of asList(st.Principal.Federated)) if (f.includes(':oidc-provider/')) providerArns.add(f);
  }
  const subjects: TrustedSubject[] = [];
  for (const { operator, value } of conditionValues(doc, 'sub')) {
    if (/Not/.test(operator)) continue;
    const parsed = parseSub(value, /Like/.test(operator));
    const get = (k: string) => parsed.components.find((c) => c.key === k)?.value;
    const project = parsed.headWildcard
      ? '*'
      : get('project_path') !== undefined
        ? (get('project_path') as string)
        : get('project_id') !== undefined
          ? `project ${get('project_id')}`
          : value;
    const refTypeRaw = get('ref_type');
    const refType = refTypeRaw === 'branch' || refTypeRaw === 'tag' ? refTypeRaw : 'any';
    const ref = get('ref') ?? '*';
    subjects.push({ project, refType, ref });
  }
  return {
    providerArns: [...providerArns],
    subjects,
    audiences: [...new Set(conditionValues(doc, 'aud').map((a) => a.value))],
    projectIds: [...new Set(conditionValues(doc, 'project_id').map((a) => a.value))],
    protectedOnly: conditionValues(doc, 'ref_protected').some(
      (v) => v.value === 'true' && v.operator === 'StringEquals',
    ),
  };
}

function describeProject(project: string): string {
  if (project === '*') return 'any project';
  if (/^[^*?]+\/\*$/.test(project)) return `every project under ${project.slice(0, -2)}`;
  if (/[*?]/.test(project)) return `every project matching ${project}`;
  return project;
}

function describeRef(s: TrustedSubject): string {
  if (s.ref === '*') return s.refType === 'any' ? 'any branch or tag' : `any ${s.refType}`;
  return `${s.refType === 'any' ? 'branch or tag' : s.refType} ${s.ref}`;
}

/**
 * What one `sub` admits, in words. The role's own project (`roleProject`) is implied for a literal ref
 * (`branch main`) and named for any ref (`any branch or tag of grp/app`); a wildcard project says how far
 * it reaches (`project_path:acme/*` is every project under acme, on any ref).
 */
export function describeSubject(s: TrustedSubject, roleProject?: string | undefined): string {
  const ref = describeRef(s);
  if (/[*?]/.test(s.project)) {
    const projects = describeProject(s.project);
    return s.ref === '*' && s.refType === 'any' ? `${projects} (${ref})` : `${ref} of ${projects}`;
  }
  const own = roleProject !== undefined && s.project.toLowerCase() === roleProject.toLowerCase();
  if (own && s.ref !== '*') return ref;
  return `${ref} of ${s.project}`;
}

/** The `- `/`+ ` lines of a policy diff, without context. */
export function changedLines(before: PolicyDocument, after: PolicyDocument): string[] {
  return policyDiff(before, after).filter((l) => !l.startsWith('  '));
}

/**
 * The inputs `init` would take to write a trust policy with the role's declared project and the refs,
 * audience and pins its current trust policy names; undefined when the trust policy is not in that form.
 */
export function trustInputsOf(
  role: RoleState,
  provider: OidcProviderState,
  project: string,
): TrustInput | undefined {
  const parsed = conditionValues(role.trustPolicy, 'sub').map((v) => parseSubject(v.value));
  const audiences = [...new Set(conditionValues(role.trustPolicy, 'aud').map((a) => a.value))];
  const projectIds = [...new Set(conditionValues(role.trustPolicy, 'project_id').map((a) => a.value))];
  if (parsed.length === 0 || parsed.some((p) => p === undefined)) return undefined;
  // One form (init writes every sub value the same way); a project_id sub names one project ID.
  const byId = parsed.some((p) => p?.projectId !== undefined);
  const subIds = [...new Set(parsed.map((p) => p?.projectId))];
  if (byId && (subIds.length !== 1 || subIds[0] === undefined)) return undefined;
  if (byId && projectIds.some((id) => id !== subIds[0])) return undefined;
  if (audiences.length !== 1 || projectIds.length > 1) return undefined;
  return {
    providerArn: provider.arn,
    issuer: issuerFromProviderUrl(provider.url),
    audience: audiences[0] as string,
    projectPath: project,
    refs: parsed.map((p): RefRule => ({ type: p?.refType ?? 'branch', pattern: p?.ref ?? '' })),
    projectId: byId ? subIds[0] : projectIds[0],
    namespaceId: conditionValues(role.trustPolicy, 'namespace_id')[0]?.value,
    protectedOnly: summarizeTrust(role.trustPolicy).protectedOnly,
    allowAnyRef: true,
    ...(byId ? { subClaim: 'project_id' as const } : {}),
  };
}

const MAX_REF_SUBSETS = 6;

/**
 * The trust policy gitlab-aws-oidc last wrote, when it can be rebuilt: of the policies `init` would write
 * with fewer of the current refs or pins (hand-added ones dropped) or with `ref_protected` toggled (a pin
 * removed by hand), the one whose digest is the recorded one (`isWritten`). Undefined when none is: the
 * record holds a digest, not the document.
 */
export function recoverWrittenTrust(
  inputs: TrustInput,
  isWritten: (doc: PolicyDocument) => boolean,
): PolicyDocument | undefined {
  const refSets: RefRule[][] = [];
  const n = inputs.refs.length;
  if (n > MAX_REF_SUBSETS) refSets.push(inputs.refs);
  else
    for (let mask = (1 << n) - 1; mask > 0; mask--)
      refSets.push(inputs.refs.filter((_, i) => (mask & (1 << i)) !== 0));
  const options = <T>(value: T, absent: T) => (value === absent ? [value] : [value, absent]);
  // A project_id sub always names its ID: only the path form can have been written without one.
  for (const refs of refSets)
    for (const protectedOnly of [Boolean(inputs.protectedOnly), !inputs.protectedOnly])
      for (const projectId of inputs.subClaim === 'project_id'
        ? [inputs.projectId]
        : options(inputs.projectId, undefined))
        for (const namespaceId of options(inputs.namespaceId, undefined)) {
          try {
            const doc = buildTrustPolicy({ ...inputs, refs, protectedOnly, projectId, namespaceId }).policy;
            if (isWritten(doc)) return doc;
          } catch {
            // Not a policy init writes (for example a ref set it refuses): not the one it wrote.
          }
        }
  return undefined;
}

export interface DriftInput {
  role: RoleState;
  /** The account's providers (a federated one missing here no longer exists). */
  providers: OidcProviderState[];
  /** The tool's default policy for the role's project, when it exists (to spot a detached one). */
  detachedToolPolicies?: ManagedPolicyState[] | undefined;
}

/** Every way the role differs from what `init` would have written for the trust it declares. */
export function detectDrift(input: DriftInput): DriftItem[] {
  const { role } = input;
  const drift: DriftItem[] = [];
  const trust = summarizeTrust(role.trustPolicy);
  const project = role.tags[PROJECT_TAG];

  if (trust.providerArns.length !== 1) {
    drift.push({
      what: 'provider',
      message: `The trust policy federates to ${trust.providerArns.length} OIDC providers; init writes exactly one.`,
    });
  }
  const providerArn = trust.providerArns[0];
  const provider = input.providers.find((p) => p.arn === providerArn);
  if (providerArn && !provider) {
    drift.push({
      what: 'provider',
      message: `The OIDC provider ${providerArn} no longer exists: no job can assume the role.`,
    });
  }
  if (provider) {
    const tagUrl = role.tags[GITLAB_URL_TAG];
    if (
      tagUrl &&
      tagUrl
        .replace(/^https:\/\//, '')
        .replace(/\/$/, '')
        .toLowerCase() !== provider.url.toLowerCase()
    ) {
      drift.push({
        what: 'tags',
        message: `The role is tagged for ${tagUrl} but trusts the provider for ${provider.url}.`,
      });
    }
    for (const aud of trust.audiences) {
      if (!provider.clientIds.includes(aud)) {
        drift.push({
          what: 'audience',
          message: `The role requires aud "${aud}", which is not a client ID of the provider (${provider.clientIds.join(', ') || 'none'}): no job can assume it.`,
        });
      }
    }
  }

  const parsed = conditionValues(role.trustPolicy, 'sub').map((v) => ({
    ...v,
    subject: parseSubject(v.value),
  }));
  const foreign = parsed.filter((p) => !p.subject);
  if (foreign.length > 0) {
    drift.push({
      what: 'trust-policy',
      message: `sub value${foreign.length > 1 ? 's' : ''} ${foreign.map((f) => `"${f.value}"`).join(', ')} ${foreign.length > 1 ? 'are' : 'is'} not in the form init writes (project_path:<path>:ref_type:<branch|tag>:ref:<ref>, or project_id:<id>:… with --sub-claim project-id).`,
    });
  }
  const ids = [...new Set(parsed.flatMap((p) => (p.subject?.projectId ? [p.subject.projectId] : [])))];
  if (ids.length > 0 && (ids.length > 1 || parsed.some((p) => p.subject?.projectPath !== undefined))) {
    drift.push({
      what: 'project',
      message: `The trust policy names ${ids.length > 1 ? `several project IDs (${ids.join(', ')})` : `project ID ${ids[0]}`}${parsed.some((p) => p.subject?.projectPath !== undefined) ? ' next to project paths' : ''}; init writes one project, in one sub form.`,
    });
  }
  const projects = [
    ...new Set(parsed.flatMap((p) => (p.subject?.projectPath ? [p.subject.projectPath] : []))),
  ];
  if (project && projects.some((p) => p.toLowerCase() !== project.toLowerCase())) {
    drift.push({
      what: 'project',
      message: `The role is tagged for project ${project} but its trust policy names ${projects.join(', ')}.`,
    });
  }

  const inputs = provider && project ? trustInputsOf(role, provider, project) : undefined;
  if (inputs && foreign.length === 0 && trust.audiences.length === 1 && trust.projectIds.length <= 1) {
    try {
      const expected = buildTrustPolicy(inputs).policy;
      if (!policiesEqual(role.trustPolicy, expected)) {
        drift.push({
          what: 'trust-policy',
          message:
            'The trust policy differs from what init writes for the same project and refs (edited by hand or by another tool).',
          diff: changedLines(role.trustPolicy, expected),
        });
      }
    } catch (error) {
      drift.push({
        what: 'trust-policy',
        message: `init could not write this trust policy: ${error instanceof CliError || error instanceof Error ? error.message : String(error)}`,
      });
    }
  } else if (parsed.length === 0) {
    drift.push({
      what: 'trust-policy',
      message: 'The trust policy has no sub condition; init always pins the project.',
    });
  } else if (trust.audiences.length !== 1) {
    drift.push({
      what: 'audience',
      message: `The trust policy checks ${trust.audiences.length} audiences; init pins exactly one.`,
    });
  }

  const record = readRoleRecord(role.tags);
  for (const p of input.detachedToolPolicies ?? []) {
    if (!role.attachedPolicyArns.includes(p.arn)) {
      drift.push({
        what: 'policy',
        message: pendingAttachment(record, p.arn)
          ? `The tool-managed policy ${p.arn} is not attached yet: the init run that created the role stopped before attaching it (re-run it to finish).`
          : `The tool-managed policy ${p.arn} exists but is not attached to the role.`,
        policyArn: p.arn,
      });
    }
  }
  return drift;
}

/** Lint findings worth showing in status (high and critical; `audit` shows the rest). */
export function statusFindings(role: RoleState, providers: OidcProviderState[]) {
  return lintTrustPolicy(role.trustPolicy, {
    providers: providers.map((p) => ({ arn: p.arn, url: p.url, clientIds: p.clientIds })),
    roleName: role.name,
  }).filter((f) => f.severity === 'critical' || f.severity === 'high');
}
