/**
 * "Should be refused" checks: claim sets for jobs that must NOT get the role (another branch, another
 * project, a look-alike group, a tag when only branches are allowed, …), each evaluated against the
 * trust policy. Pure (no I/O, no SDK): `init` runs it on the policy it is about to write, `verify
 * --expect-deny` on the live one.
 */
import {
  buildClaims,
  buildRequestContext,
  type ClaimSet,
  issuerFromUrl,
  type SubComponent,
} from '../core/claims.js';
import { type Evaluation, evaluateTrustPolicy, matchesLike } from '../core/evaluate.js';
import type { Issuer, PolicyDocument, RefRule, RefType } from '../core/types.js';

export interface ExpectDenyInput {
  /** The GitLab instance (issuer URL or Issuer). Its hostPath names the condition keys. */
  issuer: Issuer | string;
  providerArn: string;
  /** The provider's client IDs, when known. */
  clientIds?: string[] | undefined;
  /** The audience the project's jobs send (probes keep it, so only project/ref vary). Default: first client ID, else the issuer URL. */
  audience?: string | undefined;
  /** The project the role is for: `grp/sub/app`. */
  projectPath: string;
  /** The refs that are meant to get the role. */
  refs: RefRule[];
  projectId?: string | undefined;
  namespaceId?: string | undefined;
  /** The project's sub components (default GitLab's). */
  subComponents?: readonly SubComponent[] | undefined;
  /** The policy is meant to pin gitlab.com:project_id (init's, with --project-id): also probe a reused path. */
  projectIdPinned?: boolean | undefined;
  /** The policy is meant to require protected refs (gitlab.com `ref_protected`): also probe an unprotected ref. */
  protectedOnly?: boolean | undefined;
}

export type ProbeId =
  | 'other-branch'
  | 'tag-not-allowed'
  | 'branch-named-like-tag'
  | 'other-project'
  | 'look-alike-group'
  | 'project-name-prefix'
  | 'nested-subgroup'
  | 'parent-group-sibling'
  | 'path-reuse'
  | 'unprotected-ref'
  | 'custom';

export interface ExpectDenyProbe {
  id: ProbeId;
  label: string;
  claims: ClaimSet;
}

export interface ExpectDenyCheck extends ExpectDenyProbe {
  evaluation: Evaluation;
  /**
   * True when the probe would get the role, or when its refusal rests on a case IAM does not document
   * (`unproven`): either way an expectation failure.
   */
  allowed: boolean;
  /** Refused only because the evaluator reads an undocumented case as "not matching" (see evaluation.caveats). */
  unproven: boolean;
}

const q = (s: string) => `\`${s}\``;

function refAllowed(refs: RefRule[], type: RefType, name: string): boolean {
  return refs.some((r) => r.type === type && matchesLike(r.pattern, name));
}

/** A concrete ref name that an allowed rule matches: `release/*` → `release/x`. */
function concrete(pattern: string): string {
  return pattern.replace(/\*/g, 'x').replace(/\?/g, 'x');
}

function bump(id: string | undefined, by: number): string | undefined {
  return id === undefined ? undefined : String(BigInt(id) + BigInt(by));
}

/** The standard claim sets that must be refused for this project. */
export function buildExpectDenyProbes(input: ExpectDenyInput): ExpectDenyProbe[] {
  const issuer = typeof input.issuer === 'string' ? issuerFromUrl(input.issuer) : input.issuer;
  const audience = input.audience ?? input.clientIds?.[0] ?? issuer.url;
  const probes: ExpectDenyProbe[] = [];
  const firstRef: { type: RefType; name: string } = input.refs[0]
    ? { type: input.refs[0].type, name: concrete(input.refs[0].pattern) }
    : { type: 'branch', name: 'main' };

  const job = (over: {
    projectPath?: string;
    projectId?: string | undefined;
    namespaceId?: string | undefined;
    type?: RefType;
    ref?: string;
    refProtected?: boolean;
  }): ClaimSet => {
    const type = over.type ?? firstRef.type;
    const ref = over.ref ?? firstRef.name;
    return buildClaims({
      issuer,
      projectPath: over.projectPath ?? input.projectPath,
      ...(type === 'branch' ? { branch: ref } : { tag: ref }),
      audience,
      projectId: 'projectId' in over ? over.projectId : input.projectId,
      namespaceId: 'namespaceId' in over ? over.namespaceId : input.namespaceId,
      refProtected: over.refProtected ?? (input.protectedOnly ? true : undefined),
      // Other projects keep the sub format; their project_id differs when one is pinned.
      subComponents: input.subComponents,
    });
  };

  // Same project, a branch no rule allows.
  const otherBranch = ['expect-deny/other-branch', 'zz-expect-deny', 'x'].find(
    (b) => !refAllowed(input.refs, 'branch', b),
  );
  if (otherBranch) {
    probes.push({
      id: 'other-branch',
      label: `another branch ${q(otherBranch)}`,
      claims: job({ type: 'branch', ref: otherBranch }),
    });
  }

  // Same project, a tag no rule allows: a tag named like an allowed branch when only branches are allowed.
  const hasTagRules = input.refs.some((r) => r.type === 'tag');
  const branchLiteral = input.refs.find((r) => r.type === 'branch' && !/[*?]/.test(r.pattern))?.pattern;
  const tagCandidates = hasTagRules ? ['expect-deny-tag', 'x'] : [branchLiteral ?? 'main', 'expect-deny-tag'];
  const tag = tagCandidates.find((t) => !refAllowed(input.refs, 'tag', t));
  if (tag) {
    probes.push({
      id: 'tag-not-allowed',
      label: hasTagRules ? `a tag ${q(tag)} no rule allows` : `a tag ${q(tag)} (only branches are allowed)`,
      claims: job({ type: 'tag', ref: tag }),
    });
  }

  // A branch named like an allowed tag (`v1.0.0` when tags `v*` are allowed).
  const tagRule = input.refs.find((r) => r.type === 'tag');
  if (tagRule) {
    const name = concrete(tagRule.pattern);
    if (!refAllowed(input.refs, 'branch', name)) {
      probes.push({
        id: 'branch-named-like-tag',
        label: `a branch ${q(name)} named like an allowed tag`,
        claims: job({ type: 'branch', ref: name }),
      });
    }
  }

  const segments = input.projectPath.split('/');
  const name = segments[segments.length - 1] ?? input.projectPath;
  const namespace = segments.slice(0, -1);
  const top = segments[0] ?? input.projectPath;
  const otherId = bump(input.projectId, 1);
  const otherNs = bump(input.namespaceId, 1);

  if (namespace.length > 0) {
    const path = [...namespace, 'expect-deny-other-project'].join('/');
    probes.push({
      id: 'other-project',
      label: `another project ${q(path)} in the same group`,
      claims: job({ projectPath: path, projectId: otherId }),
    });
    const evil = [`${top}-evil`, ...segments.slice(1)].join('/');
    probes.push({
      id: 'look-alike-group',
      label: `a look-alike group ${q(evil)}`,
      claims: job({ projectPath: evil, projectId: otherId, namespaceId: otherNs }),
    });
  }

  probes.push({
    id: 'project-name-prefix',
    label: `a project whose path starts with this one: ${q(`${input.projectPath}-evil`)}`,
    claims: job({ projectPath: `${input.projectPath}-evil`, projectId: otherId }),
  });

  const nested = [...namespace, 'expect-deny-subgroup', name].join('/');
  probes.push({
    id: 'nested-subgroup',
    label: `a project ${q(nested)} in a subgroup of the same group`,
    claims: job({ projectPath: nested, projectId: otherId, namespaceId: otherNs }),
  });

  if (namespace.length >= 2) {
    const sibling = [...namespace.slice(0, -1), `${namespace[namespace.length - 1]}-sibling`, name].join('/');
    probes.push({
      id: 'parent-group-sibling',
      label: `a project ${q(sibling)} in a sibling subgroup of the parent group`,
      claims: job({ projectPath: sibling, projectId: otherId, namespaceId: otherNs }),
    });
  }

  // The project deleted (or moved) and its path registered again: same path, another project ID. Only
  // a trust that names the ID refuses it (a project_id-first sub, or gitlab.com:project_id).
  const byId = input.subComponents?.[0] === 'project_id' || (issuer.isGitlabCom && input.projectIdPinned);
  if (byId && otherId !== undefined) {
    probes.push({
      id: 'path-reuse',
      label: `a new project that took over the path ${q(input.projectPath)} (project_id ${otherId})`,
      claims: job({ projectId: otherId }),
    });
  }

  if (input.protectedOnly) {
    probes.push({
      id: 'unprotected-ref',
      label: `the allowed ref ${q(firstRef.name)} when it is not protected`,
      claims: job({ refProtected: false }),
    });
  }
  return probes;
}

/** Evaluates probes (standard or custom) against a trust policy. */
export function evaluateProbes(
  policy: PolicyDocument,
  probes: ExpectDenyProbe[],
  input: Pick<ExpectDenyInput, 'issuer' | 'providerArn' | 'clientIds'>,
): ExpectDenyCheck[] {
  const issuer = typeof input.issuer === 'string' ? issuerFromUrl(input.issuer) : input.issuer;
  return probes.map((p) => {
    const evaluation = evaluateTrustPolicy({
      policy,
      providerArn: input.providerArn,
      clientIds: input.clientIds,
      context: buildRequestContext(p.claims, issuer),
    });
    // A refusal that rests on an undocumented reading proves nothing: IAM might read it the other way.
    const unproven = !evaluation.assumable && evaluation.caveats.length > 0;
    return { ...p, evaluation, allowed: evaluation.assumable || unproven, unproven };
  });
}

/**
 * Runs the standard "should be refused" checks for a project against a trust policy. Any result with
 * `allowed: true` means the policy trusts a job it should not.
 */
export function runExpectDenyChecks(policy: PolicyDocument, input: ExpectDenyInput): ExpectDenyCheck[] {
  return evaluateProbes(policy, buildExpectDenyProbes(input), input);
}

/** One line per check: `✓ refused: another branch …` / `✗ ALLOWED: a look-alike group …`. */
export function describeExpectDeny(checks: ExpectDenyCheck[]): string[] {
  return checks.map((c) => {
    if (!c.allowed) return `✓ refused: ${c.label}`;
    if (c.unproven) {
      const why = c.evaluation.caveats.map((x) => x.message).join('; ');
      return `✗ NOT PROVEN REFUSED: ${c.label}: the refusal rests on a case IAM does not document (${why}): sub ${q(c.claims.sub)}`;
    }
    const by = c.evaluation.decisive ? ` (allowed by statement #${c.evaluation.decisive.index})` : '';
    return `✗ ALLOWED: ${c.label}${by}: sub ${q(c.claims.sub)}`;
  });
}
