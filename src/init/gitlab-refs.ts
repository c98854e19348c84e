/**
 * `init`'s ref check: reads the project's protected branch and tag rules (once each, only for the ref
 * types the role trusts), decides which allowed refs are protected (core/protected-refs.ts), plans
 * `protectBranch`/`protectTag` steps for the rest under `--protect-refs`, and whether the trust pins
 * `gitlab.com:ref_protected` (by default on gitlab.com when every allowed ref is, or will be, protected).
 */
import {
  checkRefProtection,
  protectionRuleFor,
  type RefProtection,
  refLabel,
} from '../core/protected-refs.js';
import type { RefRule } from '../core/types.js';
import type { GitlabPort } from '../gitlab/api/ports.js';
import type { GitlabStep } from '../gitlab/api/steps.js';

export interface RefProtectionInput {
  projectId: number;
  projectPath: string;
  refs: readonly RefRule[];
  gitlabCom: boolean;
  /** --protect-refs: plan the missing protection rules. */
  protectRefs: boolean;
  /** --protected-only given, or kept from the role. */
  protectedOnly: boolean;
  /** Neither --protected-only nor --no-protected-only was given: pin when every ref is protected. */
  autoProtectedOnly: boolean;
}

export interface RefProtectionPlan {
  refs: (RefProtection & { willProtect?: string | undefined })[];
  steps: GitlabStep[];
  /** The effective --protected-only. */
  protectedOnly: boolean;
  /** True when this run turned ref_protected on by itself (every ref protected). */
  pinnedByDefault: boolean;
  warnings: string[];
  notes: string[];
}

export async function planRefProtection(
  port: GitlabPort,
  input: RefProtectionInput,
): Promise<RefProtectionPlan> {
  const wants = (type: RefRule['type']) => input.refs.some((r) => r.type === type);
  const [branches, tags] = await Promise.all([
    wants('branch') ? port.listProtectedBranches(input.projectId) : Promise.resolve([]),
    wants('tag') ? port.listProtectedTags(input.projectId) : Promise.resolve([]),
  ]);
  const verdicts = checkRefProtection(input.refs, {
    branches: branches.map((b) => b.name),
    tags: tags.map((t) => t.name),
  });
  const steps: GitlabStep[] = [];
  const warnings: string[] = [];
  const refs = verdicts.map((v): RefProtectionPlan['refs'][number] => {
    if (v.protectedBy || !input.protectRefs) return v;
    const rule = protectionRuleFor(v.ref);
    if (rule === undefined) return v;
    steps.push(
      v.ref.type === 'branch'
        ? { kind: 'protectBranch', project: input.projectId, name: rule }
        : { kind: 'protectTag', project: input.projectId, name: rule },
    );
    return { ...v, willProtect: rule };
  });
  const left = refs.filter((r) => !r.protectedBy && !r.willProtect);
  const allProtected = left.length === 0;
  const pinnedByDefault = input.gitlabCom && input.autoProtectedOnly && !input.protectedOnly && allProtected;
  const protectedOnly = input.protectedOnly || pinnedByDefault;

  for (const r of left) {
    const partly = r.partly.length ? ` (only ${r.partly.join(', ')} of what it matches)` : '';
    const consequence = protectedOnly
      ? `its jobs are refused by the trust policy (ref_protected)`
      : 'anyone allowed to push it can run a job that assumes the role';
    const fix =
      protectionRuleFor(r.ref) === undefined
        ? `GitLab's rules have no single-character wildcard, so protect what "${r.ref.pattern}" matches by hand (Settings > Repository)`
        : input.protectRefs
          ? ''
          : '--protect-refs protects it (needs the Maintainer role and a token with the api scope)';
    warnings.push(
      `${refLabel(r.ref)} is not protected in ${input.projectPath}${partly}: ${consequence}${fix ? `; ${fix}` : ''}.`,
    );
  }
  const notes: string[] = [];
  if (pinnedByDefault) {
    notes.push(
      `Every allowed ref is ${steps.length ? 'protected (after the protection rules above)' : 'protected'} in GitLab: the trust requires gitlab.com:ref_protected = "true" (--no-protected-only to not require it).`,
    );
  }
  return { refs, steps, protectedOnly, pinnedByDefault, warnings, notes };
}
