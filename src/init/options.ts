/**
 * The contract of `init`: the fully resolved options, as a zod schema. Raw flags and prompt answers are
 * turned into this shape by `resolve.ts`; `runInit` accepts only what passes it. Every refinement
 * names the flag, so a bad run prints one line per invalid field before any AWS call or file write.
 */
import * as z from 'zod';
import { parseIssuerUrl } from '../core/issuer.js';
import {
  DEFAULT_ROLE_PATH,
  validateBoundaryArn,
  validateIamPath,
  validateManagedPolicyArn,
  validatePolicyName,
  validateRoleName,
  validateTags,
} from '../core/naming.js';
import type { RolePack } from '../core/packing.js';
import { buildRefRules, validateRefName } from '../core/refs.js';
import { MAX_TRUST_POLICY_QUOTA, TRUST_POLICY_QUOTA } from '../core/trust-policy.js';
import type { PolicyDocument } from '../core/types.js';
import {
  gitlabApiUrlField,
  gitlabTokenEnvField,
  gitlabUrlField,
  projectPathField,
} from '../options/fields.js';
import { refineWith } from '../options/zod-issues.js';
import { validateVerifyImage, validateVerifyPackage } from '../render/verify-job.js';

const refRule = z.object({
  type: z.enum(['branch', 'tag']),
  pattern: z.string(),
});

const REGION = /^[a-z]{2,}(?:-[a-z]+)+-\d{1,2}$/;
const ACCOUNT = /^\d{12}$/;
const NUMERIC_ID = /^[1-9]\d{0,19}$/;

export const initOptionsSchema = z
  .object({
    cwd: z.string(),
    /**
     * The top of the git work tree `cwd` is in (undefined outside one): the default pipeline file lives
     * there, and a --ci-file must resolve inside it (else inside `cwd`).
     */
    repoRoot: z.string().optional(),
    gitlabUrl: gitlabUrlField(),
    /** `--gitlab-token-env NAME`: the variable holding the GitLab API token (the name only, never the token). */
    gitlabTokenEnv: gitlabTokenEnvField().optional(),
    /** `--gitlab-api-url`: the GitLab API base when it is not the GitLab URL. */
    gitlabApiUrl: gitlabApiUrlField().optional(),
    project: projectPathField(),
    projectId: z.string().regex(NUMERIC_ID, 'must be a numeric project ID, e.g. 4242').optional(),
    namespaceId: z.string().regex(NUMERIC_ID, 'must be a numeric namespace ID, e.g. 1234').optional(),
    refs: z
      .array(refRule)
      .min(1, 'at least one --branch or --tag is required')
      .superRefine((refs, ctx) => {
        for (const r of refs) refineWith((v: string) => validateRefName(v, `--${r.type}`))(r.pattern, ctx);
      }),
    audience: z
      .string()
      .min(1, 'must not be empty')
      .max(255, 'must be at most 255 characters (IAM client ID limit)')
      .refine((v) => !/[*?\s]/.test(v), 'must not contain *, ? or spaces')
      // IAM fills `${…}` from the request: `${gitlab.com:aud}` would equal every token's aud.
      .refine((v) => !v.includes('${'), 'must not contain "${", which IAM reads as a policy variable'),
    allowAnyRef: z.boolean(),
    protectedOnly: z.boolean(),
    /**
     * Neither --protected-only nor --no-protected-only was given (nor kept from the role): on gitlab.com
     * the run pins ref_protected when GitLab says every allowed ref is protected.
     */
    autoProtectedOnly: z.boolean().default(false),
    /** --protect-refs: create the missing protection rules in GitLab (Maintainer). */
    protectRefs: z.boolean().default(false),
    /** What the GitLab lookup found (undefined offline, without a GitLab port, or when it could not see the project). */
    gitlabProject: z
      .object({
        id: z.number().int().positive(),
        namespaceId: z.number().int().positive(),
        path: z.string(),
        defaultBranch: z.string().optional(),
        movedFrom: z.string().optional(),
        visibility: z.enum(['private', 'internal', 'public']),
        webUrl: z.string(),
        /** `ci_id_token_sub_claim_components` (17.10+), as GitLab returned it. */
        subClaimComponents: z.array(z.string()).optional(),
      })
      .optional(),
    managedPolicies: z.array(
      z
        .string()
        .superRefine(refineWith((v: string) => validateManagedPolicyArn(v, undefined, '--managed-policy'))),
    ),
    policyFile: z.string().min(1).optional(),
    template: z.string().min(1).optional(),
    templateParams: z.record(z.string(), z.string()),
    /** The tool-managed policy's current document, kept by a re-run given no --policy-file/--template. */
    keptPolicyDocument: z
      .custom<PolicyDocument>((v) => typeof v === 'object' && v !== null && !Array.isArray(v))
      .optional(),
    /**
     * The tool-managed policy's document given in memory, with what the plan calls it (`migrate --apply`:
     * the IAM user's inline and group policies, copied). No flag sets it.
     */
    policyDocument: z
      .object({
        document: z.custom<PolicyDocument>((v) => typeof v === 'object' && v !== null && !Array.isArray(v)),
        label: z.string().min(1),
      })
      .optional(),
    /**
     * `migrate --apply`: the static key this role replaces. While it is a CI/CD variable it wins over the
     * YAML and the SDKs use it before the web identity token, so the hidden job unsets it (and the merge
     * request says so). `variables`: the keys and where each is set (`project`, `group acme`). No flag sets it.
     */
    replacesStaticKey: z
      .object({
        userName: z.string().min(1),
        variables: z.array(z.object({ key: z.string(), where: z.string() })),
      })
      .optional(),
    roleName: z.string().superRefine(refineWith((v: string) => validateRoleName(v))),
    /**
     * `role: per-group` (a config file): the role is shared with the other projects of the group, packed
     * by the fleet (fleet/packs.ts); `roleName` is then the packed roles' base (`<base>-<n>`).
     */
    perGroup: z.boolean().default(false),
    /** The packed role the fleet gave this member (its trust holds every project of `members`). */
    pack: z.custom<RolePack>((v) => typeof v === 'object' && v !== null && !Array.isArray(v)).optional(),
    rolePath: z
      .string()
      .default(DEFAULT_ROLE_PATH)
      .superRefine(refineWith((v: string) => validateIamPath(v))),
    policyName: z.string().superRefine(refineWith((v: string) => validatePolicyName(v))),
    permissionsBoundary: z
      .string()
      .superRefine(refineWith((v: string) => validateBoundaryArn(v)))
      .optional(),
    maxSessionDuration: z
      .number({ error: 'must be a whole number of seconds' })
      .int('must be a whole number of seconds')
      .min(3600, 'must be at least 3600 seconds (1 hour)')
      .max(43200, 'must be at most 43200 seconds (12 hours)'),
    /** The role trust policy length quota (IAM's default 2,048, raisable in Service Quotas up to 8,192). */
    trustPolicyMax: z
      .number({ error: 'must be a whole number of characters' })
      .int('must be a whole number of characters')
      .min(TRUST_POLICY_QUOTA, `must be at least ${TRUST_POLICY_QUOTA} (IAM's default quota)`)
      .max(MAX_TRUST_POLICY_QUOTA, `must be at most ${MAX_TRUST_POLICY_QUOTA} (the most IAM allows)`),
    awsTags: z
      .record(z.string(), z.string())
      .superRefine(refineWith((v: Record<string, string>) => validateTags(v, '--aws-tag'))),
    region: z.string().regex(REGION, 'must be an AWS region such as us-east-1 or eu-west-3'),
    /** `--region` was given: otherwise a re-run keeps the region of the tool's CI/CD variable (--ci-variables). */
    regionGiven: z.boolean().default(false),
    profile: z.string().min(1).optional(),
    thumbprints: z
      .array(z.string().regex(/^[0-9a-fA-F]{40}$/, 'must be 40 hex characters (a SHA-1)'))
      .max(5, 'IAM accepts at most 5 thumbprints'),
    /** Absolute path of the pipeline file, or undefined with --no-ci-file. */
    ciFile: z.string().optional(),
    verifyJob: z.boolean(),
    /** What the verify job runs: an image with gitlab-aws-oidc on its PATH, pinned by digest. */
    verifyImage: z
      .string()
      .superRefine(refineWith((v: string) => validateVerifyImage(v)))
      .optional(),
    /** …or an npm package at an exact version, installed by name when the job runs (needs consent). */
    verifyPackage: z
      .string()
      .superRefine(refineWith((v: string) => validateVerifyPackage(v)))
      .optional(),
    /** Consent to a verify job that runs something not pinned by content (an image tag, an npm name). */
    allowUnpinnedVerify: z.boolean().default(false),
    /** `--ci-variables`: the role ARN and region as project CI/CD variables the hidden job reads. */
    ciVariables: z.boolean().default(false),
    /**
     * `--merge-request`: the pipeline change is committed to a branch and proposed as a merge request;
     * no local file is read or written. `ciRepoPath` is then the file's path in the repository.
     */
    mergeRequest: z.boolean().default(false),
    ciRepoPath: z.string().optional(),
    force: z.boolean(),
    adoptExisting: z.boolean(),
    // Consents (see core/types.ts `Consent`): taken from the flags as given.
    overwriteDrift: z.boolean().default(false),
    allowWidening: z.boolean().default(false),
    detachUnowned: z.boolean().default(false),
    /**
     * The `sub` form the trust policy is written for, and the project's ci_id_token_sub_claim_components
     * set to match (`--sub-claim`; a re-run keeps the current form).
     */
    subClaim: z.enum(['project_path', 'project_id']).default('project_path'),
    /** `--sub-claim` was given: the consent to change the project's sub claim components (`change-sub-claim`). */
    subClaimGiven: z.boolean().default(false),
    /** `--role-path` was given (not the default): an existing role at another path is then refused. */
    rolePathGiven: z.boolean().default(false),
    yes: z.boolean(),
    dryRun: z.boolean(),
    offline: z.boolean(),
    json: z.boolean(),
    accountId: z.string().regex(ACCOUNT, 'must be a 12-digit AWS account ID').optional(),
    partition: z.enum(['aws', 'aws-cn', 'aws-us-gov']).optional(),
  })
  .superRefine((o, ctx) => {
    const byType = (type: string) => o.refs.filter((r) => r.type === type).map((r) => r.pattern);
    refineWith(() =>
      buildRefRules({ branches: byType('branch'), tags: byType('tag'), allowAnyRef: o.allowAnyRef }),
    )(undefined, ctx);
    const sources = [o.policyFile, o.template, o.policyDocument].filter(Boolean).length;
    if (sources > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['policyFile'],
        message: 'give either --policy-file or --template, not both',
      });
    }
    if (Object.keys(o.templateParams).length && !o.template) {
      ctx.addIssue({ code: 'custom', path: ['templateParams'], message: 'only goes with --template' });
    }
    if (o.offline && !o.dryRun) {
      ctx.addIssue({
        code: 'custom',
        path: ['offline'],
        message: 'only goes with --dry-run (an offline run cannot change AWS)',
      });
    }
    if (o.accountId && !o.offline) {
      ctx.addIssue({
        code: 'custom',
        path: ['accountId'],
        message: 'only goes with --offline (otherwise the account comes from STS)',
      });
    }
    if (o.partition && !o.offline) {
      ctx.addIssue({
        code: 'custom',
        path: ['partition'],
        message: 'only goes with --offline (otherwise the partition comes from STS)',
      });
    }
    // STS sets the gitlab.com:* keys only for the provider https://gitlab.com; elsewhere these flags
    // would be dropped and the role would trust more than asked (unprotected refs, a re-registered path).
    let gitlabCom = true;
    try {
      gitlabCom = parseIssuerUrl(o.gitlabUrl).isGitlabCom;
    } catch {
      // --gitlab-url is reported by its own refinement.
    }
    const gitlabComOnly = [
      ['protectedOnly', o.protectedOnly, 'protect the refs in GitLab (Settings > Repository) instead'],
      [
        'projectId',
        o.projectId !== undefined && o.subClaim !== 'project_id',
        'the role is bound by the project path in sub; --sub-claim project-id names the project by ID in sub instead',
      ],
      ['namespaceId', o.namespaceId !== undefined, 'the role is bound by the project path in sub'],
    ] as const;
    for (const [key, given, instead] of gitlabComOnly) {
      if (!gitlabCom && given) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `only works on https://gitlab.com: STS checks only sub and aud for ${o.gitlabUrl}, so it cannot be enforced; ${instead}`,
        });
      }
    }
    if (o.protectRefs && o.offline) {
      ctx.addIssue({
        code: 'custom',
        path: ['protectRefs'],
        message: 'needs GitLab (drop --offline): the protection rules are read and created through its API',
      });
    }
    if (o.verifyJob && o.ciFile === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['verifyJob'],
        message: 'needs a pipeline file (drop --no-ci-file)',
      });
    }
    if (o.subClaim === 'project_id' && o.projectId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['projectId'],
        message:
          'is needed with --sub-claim project-id (the trust names project_id:<id>); pass --project-id, or a GitLab token to look the project up',
      });
    }
    refineVerifySource(o, ctx);
    refineGitlabDelivery(o, ctx);
  });

/** --merge-request and --ci-variables change GitLab: they need its API and (for the MR) a pipeline file. */
function refineGitlabDelivery(
  o: { mergeRequest: boolean; ciVariables: boolean; offline: boolean; ciFile?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  const issue = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message });
  if (o.mergeRequest && o.ciFile === undefined) {
    issue('mergeRequest', 'delivers the pipeline file as a merge request: drop --no-ci-file');
  }
  for (const [key, given] of [
    ['mergeRequest', o.mergeRequest],
    ['ciVariables', o.ciVariables],
  ] as const) {
    if (given && o.offline) {
      issue(
        key,
        'reads GitLab through its API, which --offline never calls: drop --offline (--dry-run alone changes nothing)',
      );
    }
  }
}

/**
 * The verify job runs with the role's credentials: what it runs is named by the user (never defaulted),
 * and anything not pinned by content needs --allow-unpinned-verify.
 */
function refineVerifySource(
  o: {
    verifyJob: boolean;
    verifyImage?: string | undefined;
    verifyPackage?: string | undefined;
    allowUnpinnedVerify: boolean;
  },
  ctx: z.RefinementCtx,
): void {
  const issue = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message });
  const given = (['verifyImage', 'verifyPackage'] as const).filter((k) => o[k] !== undefined);
  if (!o.verifyJob) {
    for (const key of given) issue(key, 'only goes with --verify-job');
    if (o.allowUnpinnedVerify) issue('allowUnpinnedVerify', 'only goes with --verify-job');
    return;
  }
  if (given.length === 0) {
    issue(
      'verifyJob',
      'needs what the job runs with the role: --verify-image <image>@sha256:<digest> (an image with gitlab-aws-oidc on its PATH), or --verify-package gitlab-aws-oidc@<x.y.z> --allow-unpinned-verify',
    );
    return;
  }
  if (given.length > 1) {
    issue('verifyPackage', 'give either --verify-image or --verify-package, not both');
    return;
  }
  if (o.allowUnpinnedVerify) return;
  if (o.verifyPackage !== undefined) {
    issue(
      'verifyPackage',
      `installs "${o.verifyPackage}" from the npm registry by name when the job runs, with the role's credentials: whoever owns the name (anyone, until it is published) decides what runs; pass --allow-unpinned-verify to accept that, or use --verify-image <image>@sha256:<digest>`,
    );
    return;
  }
  let pinned = true;
  try {
    pinned = validateVerifyImage(o.verifyImage as string).pinned;
  } catch {
    // Reported by the field's own refinement.
  }
  if (!pinned) {
    issue(
      'verifyImage',
      `"${o.verifyImage}" is pinned by tag only, which whoever can push to that repository can move; pin a digest (${o.verifyImage}@sha256:<64 hex>) or pass --allow-unpinned-verify`,
    );
  }
}

export type InitOptions = z.output<typeof initOptionsSchema>;

/** Keys whose flag is not the kebab-case key. */
export const INIT_FLAG_ALIASES = {
  refs: '--branch',
  managedPolicies: '--managed-policy',
  templateParams: '--template-param',
  awsTags: '--aws-tag',
  thumbprints: '--thumbprint',
  subClaimGiven: '--sub-claim',
  ciRepoPath: '--ci-file',
} as const;
