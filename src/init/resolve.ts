/**
 * Raw flags → validated InitOptions, in one order per field:
 * flag → the existing role's current value → detected (git, env) → `--yes`/non-interactive default →
 * prompt (only with a terminal; its default is the current value) → usage error.
 * Flags the user gave are validated first, so a typo fails before any question is asked or AWS is read;
 * each wizard answer is validated where it is asked, with the schema's own rules.
 */
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import type { ExistingRole } from '../aws/read-state.js';
import type { RawInitFlags } from '../commands/init.js';
import { findProjectInIssuerUrl, parseIssuerUrl } from '../core/issuer.js';
import {
  DEFAULT_ROLE_PATH,
  defaultPolicyName,
  defaultRoleName,
  MIN_SESSION_DURATION,
  parseKeyValueArgs,
  parseTagArgs,
} from '../core/naming.js';
import { notMadeByTool } from '../core/ownership.js';
import { findPolicyTemplate, POLICY_TEMPLATES } from '../core/policy-templates.js';
import { validateProjectPath } from '../core/refs.js';
import { describeRefs, readRoleIntent } from '../core/role-intent.js';
import { subClaimFormOf } from '../core/subject.js';
import { TRUST_POLICY_QUOTA } from '../core/trust-policy.js';
import type { RefRule, RefType, SubClaimForm } from '../core/types.js';
import { UsageError } from '../errors.js';
import type { GitlabPort, GitlabProject } from '../gitlab/api/ports.js';
import type { GitContext } from '../gitlab/remote.js';
import { parseOptions } from '../options/zod-issues.js';
import type { Prompter } from '../prompts/prompter.js';
import { HIDDEN_JOB_NAME } from '../render/ci-file.js';
import { ciYamlToJs } from '../render/ci-yaml.js';
import { answerCheck, checkGivenFields, checkRefList, splitList, throwingCheck } from './field-checks.js';
import { checkPathReuse, type GitlabProjectFacts, lookupGitlabProject } from './gitlab-project.js';
import { INIT_FLAG_ALIASES, type InitOptions, initOptionsSchema } from './options.js';
import { loadPermissionSource } from './permissions.js';
import { preflightPipeline } from './pipeline.js';
import { resolvePermissions, toolManagedPolicy } from './resolve-permissions.js';
import { OFFLINE_ACCOUNT, requireYesOrDryRun } from './run.js';

export const GITLAB_COM = 'https://gitlab.com';
export const STS_AUDIENCE = 'sts.amazonaws.com';
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_CI_FILE = '.gitlab-ci.yml';

export interface ResolveContext {
  cwd: string;
  /** The top of the git work tree `cwd` is in, if any: where the default `.gitlab-ci.yml` is. */
  repoRoot?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** A terminal is attached and neither CI, --json nor --yes is set. */
  interactive: boolean;
  git: GitContext;
  /** Only called when interactive. */
  prompter: () => Promise<Prompter>;
  /** Called with notes about defaults taken (stderr). */
  note?: (message: string) => void;
  /**
   * Reads the role this run converges, as it is now (`aws/read-state.ts` `readExistingRole`); never
   * called with --offline. Without it nothing is read and every default is the tool's own.
   */
  readExisting?: (target: { roleName: string; policyName: string }) => Promise<ExistingRole | undefined>;
  /**
   * The GitLab API of the instance (lazily built; undefined when it cannot be used, e.g. no token where
   * one is needed); never called with --offline. Without it nothing is looked up.
   */
  gitlab?: ((gitlabUrl: string) => Promise<GitlabPort | undefined>) | undefined;
  /**
   * The project as the fleet's group listing returned it (same entity as GET /projects/:id): the
   * lookup's checks run on it, with no per-project GET. Used for the instance it was listed on only.
   */
  gitlabListed?: { gitlabUrl: string; project: GitlabProject } | undefined;
}

const listOf = (refs: readonly RefRule[], type: RefType) =>
  refs
    .filter((r) => r.type === type)
    .map((r) => r.pattern)
    .join(', ');

const refRules = (branches: readonly string[] = [], tags: readonly string[] = []): RefRule[] => [
  ...branches.map((pattern) => ({ type: 'branch' as const, pattern })),
  ...tags.map((pattern) => ({ type: 'tag' as const, pattern })),
];

function tryIssuerUrl(url: string): string | undefined {
  try {
    return parseIssuerUrl(url).url;
  } catch {
    return undefined;
  }
}

/**
 * runInit's offline file checks, run before the existing role is read: the pipeline file (with stand-in
 * refs and ARN: only its location, encoding, YAML and job-name conflicts matter here) and the permission
 * source given by flag.
 */
async function preflightFiles(
  flags: RawInitFlags,
  ctx: ResolveContext,
  ciFile: string | undefined,
  templateParams: Record<string, string>,
  gitlabUrl: string,
): Promise<void> {
  if (flags.policyFile !== undefined || flags.template !== undefined) {
    await loadPermissionSource({
      cwd: ctx.cwd,
      policyFile: flags.policyFile,
      template: flags.template,
      templateParams,
      region: flags.region ?? DEFAULT_REGION,
    });
  }
  if (ciFile === undefined) return;
  const provisional = {
    cwd: ctx.cwd,
    repoRoot: ctx.repoRoot,
    ciFile,
    force: Boolean(flags.force),
    verifyJob: Boolean(flags.verifyJob),
    region: flags.region ?? DEFAULT_REGION,
    audience: gitlabUrl,
    refs: [{ type: 'branch' as const, pattern: 'main' }],
  } satisfies Partial<InitOptions>;
  await preflightPipeline(
    provisional as InitOptions & { ciFile: string },
    `arn:aws:iam::${OFFLINE_ACCOUNT}:role${DEFAULT_ROLE_PATH}${defaultRoleName('grp/app')}`,
  );
}

/**
 * The region the pipeline file's `.aws-oidc` job sets today for this role, so a re-run keeps it;
 * undefined when there is no such file or job (or it cannot be read: planning reports that itself).
 */
async function readPipelineRegion(ciFile: string, roleName: string): Promise<string | undefined> {
  try {
    const js = ciYamlToJs(await readFile(ciFile, 'utf8')) as Record<string, unknown> | null;
    const job = js?.[HIDDEN_JOB_NAME] as { variables?: Record<string, unknown> } | undefined;
    const arn = job?.variables?.AWS_ROLE_ARN;
    const region = job?.variables?.AWS_REGION;
    if (typeof arn !== 'string' || !arn.endsWith(`/${roleName}`) || typeof region !== 'string')
      return undefined;
    return region;
  } catch {
    return undefined;
  }
}

/**
 * The project's real default branch, when something authoritative names it: origin/HEAD of a clone of
 * this very project, or GitLab's CI_DEFAULT_BRANCH in a job of this project. Never init.defaultBranch
 * or the checked-out branch: those say nothing about the project.
 */
export function defaultBranchOf(
  project: string,
  gitlabUrl: string,
  git: GitContext,
  env: NodeJS.ProcessEnv,
): { branch: string; source: string } | undefined {
  const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();
  const gitIsProject =
    same(git.projectPath, project) &&
    (git.gitlabUrl === undefined || same(tryIssuerUrl(git.gitlabUrl), gitlabUrl));
  if (git.defaultBranch && gitIsProject) return { branch: git.defaultBranch, source: 'origin/HEAD' };
  const ciBranch = env.CI_DEFAULT_BRANCH?.trim();
  const ciProject = env.CI_PROJECT_PATH?.trim();
  if (ciBranch && (ciProject === undefined || ciProject === '' || same(ciProject, project))) {
    return { branch: ciBranch, source: 'CI_DEFAULT_BRANCH' };
  }
  return undefined;
}

/**
 * `--merge-request`: --ci-file names the file in the repository (default `.gitlab-ci.yml`), as GitLab's
 * API takes it: relative, `/`-separated, inside the repository.
 */
export function repositoryPath(raw: string | undefined): string {
  if (raw === undefined) return DEFAULT_CI_FILE;
  const parts = raw
    .trim()
    .split('/')
    .filter((p) => p !== '' && p !== '.');
  const bad =
    raw.trim().startsWith('/') ||
    raw.includes('\\') ||
    parts.length === 0 ||
    parts.some((p) => p === '..') ||
    /[\u0000-\u001f\u007f]/.test(raw);
  if (bad) {
    throw UsageError.field(
      '--ci-file',
      `"${raw}" is not a path inside the repository; with --merge-request it names the file in the repository, like .gitlab-ci.yml or ci/pipeline.yml`,
    );
  }
  return parts.join('/');
}

/** A whole-number flag; the range itself is checked by the schema, which names the flag too. */
function parseWholeNumber(raw: string | undefined, flag: string, form: string): number | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed)) throw UsageError.field(flag, `"${raw}" is not a whole number of ${form}`);
  return Number(trimmed);
}

/** `--sub-claim project-id|project-path` → the sub form; undefined when not given. */
export function parseSubClaimFlag(raw: string | undefined): SubClaimForm | undefined {
  if (raw === undefined) return undefined;
  const form = raw.trim().toLowerCase();
  if (form === 'project-id') return 'project_id';
  if (form === 'project-path') return 'project_path';
  throw UsageError.field(
    '--sub-claim',
    `"${raw}" is not a sub form`,
    'Use --sub-claim project-id or --sub-claim project-path.',
  );
}

/** Refuses a project (or group) page's address given as the GitLab URL: its keys would never match a token. */
function checkInstanceUrl(url: string, projects: readonly (string | undefined)[]): void {
  const found = findProjectInIssuerUrl(parseIssuerUrl(url), projects);
  if (!found) return;
  const project = found.project.includes('/') ? found.project : `${found.project}/<project>`;
  const instead = `--gitlab-url ${found.instanceUrl} --project ${project}`;
  throw UsageError.field(
    '--gitlab-url',
    `"${url.trim()}" is the address of a project, not of the GitLab instance; use ${instead}`,
    `The GitLab URL is the instance (its OIDC issuer), e.g. ${found.instanceUrl}; the project goes in --project.`,
  );
}

/**
 * init's options for a run nobody answers prompts for (a fleet member, a migrated project): every value
 * comes from the flags, the environment and the lookups; no git context of the working folder. `who`
 * names the caller in the error a prompt would raise (a bug: unattended options never prompt).
 */
export function resolveUnattendedInitOptions(
  flags: RawInitFlags,
  ctx: Omit<ResolveContext, 'interactive' | 'git' | 'prompter'>,
  who: string,
): Promise<InitOptions> {
  return resolveInitOptions(flags, {
    ...ctx,
    interactive: false,
    git: {},
    prompter: async () => {
      throw new Error(`${who} is never prompted for`);
    },
  });
}

export async function resolveInitOptions(flags: RawInitFlags, ctx: ResolveContext): Promise<InitOptions> {
  const interactive = ctx.interactive && !flags.yes && !flags.json;
  const git = ctx.git;
  // Notes about defaults are shown once the options are valid, not above a usage error.
  const notes: string[] = [];
  const note = (message: string) => notes.push(message);
  // Warnings about the GitLab project (moved, not visible): shown with the notes, prefixed as warnings.
  const warnings: string[] = [];
  // Fail fast on what was given, before detecting, reading or asking anything.
  const awsTags = parseTagArgs(flags.awsTag ?? [], '--aws-tag');
  const templateParams = parseKeyValueArgs(flags.templateParam ?? [], '--template-param', 'bucket=my-site');
  const givenSession = parseWholeNumber(
    flags.maxSessionDuration,
    '--max-session-duration',
    'seconds (3600-43200)',
  );
  const trustPolicyMax =
    parseWholeNumber(flags.trustPolicyMax, '--trust-policy-max', 'characters (2048-8192)') ??
    TRUST_POLICY_QUOTA;
  if (flags.gitlabUrl !== undefined) checkInstanceUrl(flags.gitlabUrl, [flags.project, git.projectPath]);
  if (flags.project !== undefined) validateProjectPath(flags.project);
  const givenSubClaim = parseSubClaimFlag(flags.subClaim);
  if (flags.template !== undefined && !findPolicyTemplate(flags.template)) {
    throw UsageError.field(
      '--template',
      `unknown template "${flags.template}"`,
      `Choose one of: ${POLICY_TEMPLATES.map((t) => t.name).join(', ')}.`,
    );
  }
  checkGivenFields({
    projectId: flags.projectId,
    namespaceId: flags.namespaceId,
    refs: flags.branch || flags.tag ? refRules(flags.branch, flags.tag) : undefined,
    audience: flags.audience?.trim(),
    managedPolicies: flags.managedPolicy,
    roleName: flags.roleName,
    rolePath: flags.rolePath,
    policyName: flags.policyName,
    permissionsBoundary: flags.permissionsBoundary,
    maxSessionDuration: givenSession,
    trustPolicyMax,
    awsTags,
    region: flags.region,
    thumbprints: flags.thumbprint,
    accountId: flags.accountId,
  });

  // Before the existing role is read: with AWS in reach, the account and partition come from STS.
  for (const [flag, given] of [
    ['--account-id', flags.accountId],
    ['--partition', flags.partition],
  ] as const) {
    if (given !== undefined && !flags.offline)
      throw UsageError.field(flag, 'only goes with --offline (otherwise the account comes from STS)');
  }

  const ask = interactive ? await ctx.prompter() : undefined;

  // GitLab instance and project
  let gitlabUrl = flags.gitlabUrl ?? git.gitlabUrl;
  if (ask && flags.gitlabUrl === undefined) {
    gitlabUrl = await ask.input('--gitlab-url', {
      message: 'GitLab URL',
      default: gitlabUrl ?? GITLAB_COM,
      validate: throwingCheck((v) => checkInstanceUrl(v, [flags.project, git.projectPath])),
    });
  }
  const gitlabUrlGuessed = gitlabUrl === undefined;
  gitlabUrl ??= GITLAB_COM;
  gitlabUrl = parseIssuerUrl(gitlabUrl).url;
  const instanceUrl = gitlabUrl;

  let project = flags.project ?? git.projectPath;
  if (ask && flags.project === undefined) {
    project = await ask.input('--project', {
      message: 'Project path (group/subgroup/project)',
      ...(project ? { default: project } : {}),
      validate: throwingCheck((v) => {
        validateProjectPath(v);
        checkInstanceUrl(instanceUrl, [v]);
      }),
    });
  }
  if (project === undefined) {
    throw UsageError.field(
      '--project',
      'is required: no terminal to ask and no GitLab remote found in this directory',
      'Pass --project group/app (or run inside a clone whose origin is the GitLab project).',
    );
  }
  project = project.trim();
  checkInstanceUrl(gitlabUrl, [project]);
  let roleName = flags.roleName ?? defaultRoleName(project);
  let policyName = flags.policyName ?? defaultPolicyName(project);

  // The role as it is now: every value not given below keeps it, so a re-run changes nothing.
  // Refused before AWS is read (runInit says the same, later, to callers that read nothing).
  if (ctx.readExisting && !flags.offline) requireYesOrDryRun(flags, ask !== undefined);
  // GitLab reads the pipeline file at the top of the repository; a --ci-file is relative to the folder it was typed in.
  const ciFile =
    flags.ciFile === false
      ? undefined
      : flags.ciFile !== undefined
        ? resolvePath(ctx.cwd, flags.ciFile)
        : resolvePath(ctx.repoRoot ?? ctx.cwd, DEFAULT_CI_FILE);
  const willRead = !flags.offline && ctx.readExisting !== undefined;
  // --merge-request: the file is the repository's (read from GitLab), never the local one.
  const ciRepoPath = flags.mergeRequest && flags.ciFile !== false ? repositoryPath(flags.ciFile) : undefined;
  const localCiFile = flags.mergeRequest ? undefined : ciFile;
  // Bad input found in files (pipeline location, conflicts, YAML; the policy file; template parameters)
  // still fails before any AWS call, as runInit would have it without this read.
  if (willRead) await preflightFiles(flags, ctx, localCiFile, templateParams, gitlabUrl);
  // GitLab: the project's IDs, default branch and state, from its API (one read; none offline).
  // Before the role is read: an archived project or a wrong --project-id fails before any AWS call.
  const lookUp = async (url: string): Promise<GitlabProjectFacts | undefined> => {
    const port = !flags.offline && ctx.gitlab ? await ctx.gitlab(url) : undefined;
    if (!port) return undefined;
    const listed = ctx.gitlabListed;
    const lookup = await lookupGitlabProject(port, {
      project: project as string,
      listed:
        listed &&
        listed.gitlabUrl === url &&
        listed.project.pathWithNamespace.toLowerCase() === (project as string).toLowerCase()
          ? listed.project
          : undefined,
      gitlabUrl: url,
      gitlabCom: url === GITLAB_COM,
      projectIdFlag: flags.projectId,
      namespaceIdFlag: flags.namespaceId,
    });
    warnings.push(...lookup.warnings);
    const facts = lookup.facts;
    if (facts?.movedFrom !== undefined && facts.path !== project) {
      // The trust must name the path GitLab puts in sub now; the names derived from the path follow it.
      project = facts.path;
      if (flags.roleName === undefined) roleName = defaultRoleName(project);
      if (flags.policyName === undefined) policyName = defaultPolicyName(project);
    }
    return facts;
  };
  let gitlabProject = await lookUp(gitlabUrl);
  const readRole = async () => {
    const found = willRead && ctx.readExisting ? await ctx.readExisting({ roleName, policyName }) : undefined;
    // A policy at the tool's ARN that the tool did not create is an ordinary attachment: kept as such.
    const intent = found
      ? readRoleIntent(found.role, {
          projectPath: project as string,
          toolPolicyArn: toolManagedPolicy(found) ? found.toolPolicyArn : undefined,
        })
      : undefined;
    return { existing: found, current: intent };
  };
  let { existing, current } = await readRole();
  const kept: string[] = [];
  if (current?.gitlabUrl && gitlabUrlGuessed && !ask) {
    const tagged = tryIssuerUrl(current.gitlabUrl);
    if (tagged && tagged !== gitlabUrl) {
      gitlabUrl = tagged;
      kept.push(`GitLab ${tagged}`);
      // The role is for another instance than the guess: the project is looked up there.
      const before = roleName;
      gitlabProject = await lookUp(gitlabUrl);
      if (roleName !== before) ({ existing, current } = await readRole());
    }
  }
  const gitlabCom = gitlabUrl === GITLAB_COM;
  // A project_id sub names the project by ID on any instance: a path now held by another ID is reuse there too.
  if (
    gitlabProject &&
    (gitlabCom || current?.subClaim === 'project_id') &&
    current &&
    flags.projectId === undefined
  ) {
    checkPathReuse(gitlabProject, { roleName, projectId: current.projectId });
  }

  // The sub form: --sub-claim, else the role's current trust (a re-run keeps it; a project changed back
  // by hand is planned back, with consent), else the project's setting in GitLab, else GitLab's default.
  const subClaim =
    givenSubClaim ?? current?.subClaim ?? subClaimFormOf(gitlabProject?.subClaimComponents) ?? 'project_path';
  if (givenSubClaim === undefined && subClaim === 'project_id') kept.push('sub claim project_id');
  // gitlab.com evaluates gitlab.com:project_id: pinning it survives a renamed or re-registered path.
  // A project_id sub names the ID on any instance.
  const lookedUp = gitlabCom && gitlabProject !== undefined;
  let projectId =
    flags.projectId ??
    (gitlabCom
      ? lookedUp
        ? String(gitlabProject?.id)
        : current?.projectId
      : subClaim === 'project_id'
        ? gitlabProject
          ? String(gitlabProject.id)
          : current?.projectId
        : undefined);
  if (ask && flags.projectId === undefined && gitlabCom && !lookedUp) {
    const answer = await ask.input('--project-id', {
      message: `Numeric project ID, to pin gitlab.com:project_id (on the project overview page; empty to skip)${current?.projectId ? ' [current]' : ''}`,
      default: current?.projectId ?? '',
      validate: (v) => v.trim() === '' || answerCheck('projectId', (a) => a.trim())(v),
    });
    projectId = answer.trim() || undefined;
  } else if (flags.projectId === undefined && projectId !== undefined && !lookedUp) {
    // Off gitlab.com a project_id sub takes the ID from the lookup, not from the role.
    if (gitlabProject === undefined) kept.push(`project ID ${projectId}`);
    else note(`The trust names project ID ${projectId} of ${project} in sub, from GitLab.`);
  }
  const namespaceId =
    flags.namespaceId ??
    (gitlabCom ? (lookedUp ? String(gitlabProject?.namespaceId) : current?.namespaceId) : undefined);
  if (flags.namespaceId === undefined && namespaceId !== undefined && !lookedUp)
    kept.push(`namespace ID ${namespaceId}`);
  if (lookedUp && (flags.projectId === undefined || flags.namespaceId === undefined)) {
    note(
      `Pinned project ID ${projectId} and namespace ID ${namespaceId} of ${project}, from GitLab (gitlab.com:project_id, gitlab.com:namespace_id).`,
    );
  }
  let protectedOnly = flags.protectedOnly;
  if (protectedOnly === undefined && gitlabCom && current?.protectedOnly) {
    protectedOnly = true;
    kept.push('protected refs only');
  }

  // Refs
  const allowAnyRef = Boolean(flags.allowAnyRef);
  let branches = flags.branch;
  let tags = flags.tag;
  if (!branches?.length && !tags?.length) {
    const currentRefs = current?.refs;
    const known = currentRefs
      ? undefined
      : (defaultBranchOf(project, gitlabUrl, git, ctx.env) ??
        (gitlabProject?.defaultBranch
          ? { branch: gitlabProject.defaultBranch, source: 'GitLab' }
          : undefined));
    if (ask) {
      const suggestion = currentRefs
        ? { value: listOf(currentRefs, 'branch'), label: 'what the role trusts now' }
        : known
          ? { value: known.branch, label: `the default branch, from ${known.source}` }
          : git.currentBranch
            ? {
                value: git.currentBranch,
                label: 'the current git branch: a suggestion, not the default branch',
              }
            : undefined;
      const b = await ask.input('--branch', {
        message: `Branches allowed to assume the role (comma-separated; patterns like release/* allowed)${suggestion ? ` [${suggestion.label}]` : ''}`,
        ...(suggestion ? { default: suggestion.value } : {}),
        validate: checkRefList('branch', allowAnyRef),
      });
      branches = splitList(b);
      const t = await ask.input('--tag', {
        message: 'Tags allowed to assume the role (comma-separated, empty for none)',
        default: currentRefs ? listOf(currentRefs, 'tag') : '',
        validate: async (v) =>
          branches?.length || splitList(v).length
            ? checkRefList('tag', allowAnyRef)(v)
            : 'give at least one branch (above) or tag, or the role cannot be assumed',
      });
      tags = splitList(t);
    } else if (currentRefs) {
      branches = currentRefs.filter((r) => r.type === 'branch').map((r) => r.pattern);
      tags = currentRefs.filter((r) => r.type === 'tag').map((r) => r.pattern);
      kept.unshift(`refs ${describeRefs(currentRefs)}`);
    } else if (known) {
      branches = [known.branch];
      note(
        `Only branch "${known.branch}" may assume the role (the default branch of ${project}, from ${known.source}; use --branch/--tag to change).`,
      );
    } else {
      // CI_DEFAULT_BRANCH may be set but name another project's default branch (CI_PROJECT_PATH differs).
      const ciBranch = ctx.env.CI_DEFAULT_BRANCH?.trim();
      const ciProject = ctx.env.CI_PROJECT_PATH?.trim();
      const ci =
        ciBranch && ciProject
          ? `CI_DEFAULT_BRANCH ${JSON.stringify(ciBranch)} is that of ${ciProject}, from CI_PROJECT_PATH`
          : 'no CI_DEFAULT_BRANCH';
      throw UsageError.field(
        '--branch',
        `is required: the default branch of ${project} is unknown here (no origin/HEAD for that project; ${ci}) and there is no terminal to ask`,
        'Pass --branch <name> (e.g. --branch main) or --tag <name>; in a clone, `git remote set-head origin --auto` records the default branch as origin/HEAD.',
      );
    }
  }
  const refs: RefRule[] = [
    ...(branches ?? []).map((pattern) => ({ type: 'branch' as const, pattern: pattern.trim() })),
    ...(tags ?? []).map((pattern) => ({ type: 'tag' as const, pattern: pattern.trim() })),
  ];

  // Audience
  let audience = flags.audience ?? current?.audience;
  if (ask && flags.audience === undefined) {
    const choices = [
      { value: gitlabUrl, name: `${gitlabUrl} (recommended: what GitLab's AWS guide uses)` },
      { value: STS_AUDIENCE, name: `${STS_AUDIENCE} (AWS's convention)` },
    ];
    if (current?.audience && !choices.some((c) => c.value === current.audience)) {
      choices.unshift({ value: current.audience, name: `${current.audience} (what the role requires now)` });
    }
    audience = await ask.select('--audience', {
      message: 'Audience (aud) of the job token',
      choices,
      default: current?.audience ?? gitlabUrl,
    });
  } else if (flags.audience === undefined && audience !== undefined) {
    kept.push(`audience ${audience}`);
  }
  audience ??= gitlabUrl;

  // Permissions: what the role has attached now is kept unless a permission flag (or answer) says otherwise.
  const unowned = existing ? notMadeByTool(existing.role) : undefined;
  const { managedPolicies, policyFile, template, keptPolicyDocument } = await resolvePermissions({
    flags,
    ask,
    cwd: ctx.cwd,
    existing,
    current,
    unownedPolicyArns: unowned?.policyArns,
    policyName,
    templateParams,
    kept,
    note,
  });

  // Role settings
  // A boundary the tool did not set is left to the plan, which keeps it (and records none set by the tool).
  const permissionsBoundary =
    flags.permissionsBoundary ?? (unowned?.boundary ? undefined : current?.permissionsBoundaryArn);
  if (flags.permissionsBoundary === undefined && current?.permissionsBoundaryArn !== undefined) {
    kept.push(`permissions boundary ${current.permissionsBoundaryArn}`);
  }
  const maxSessionDuration = givenSession ?? current?.maxSessionDuration ?? MIN_SESSION_DURATION;
  if (givenSession === undefined && current && maxSessionDuration !== MIN_SESSION_DURATION) {
    kept.push(`max session ${maxSessionDuration} s`);
  }
  const rolePath = flags.rolePath ?? current?.rolePath ?? DEFAULT_ROLE_PATH;
  if (flags.rolePath === undefined && current && rolePath !== DEFAULT_ROLE_PATH)
    kept.push(`path ${rolePath}`);
  if (kept.length) note(`Kept from the existing role ${roleName}: ${kept.join('; ')}.`);

  // Region: the pipeline's current one (for this role), then the environment's.
  const pipelineRegion =
    flags.region === undefined && localCiFile ? await readPipelineRegion(localCiFile, roleName) : undefined;
  if (pipelineRegion && !ask) notes.push(`Kept the region of the pipeline file: ${pipelineRegion}.`);
  let region = flags.region ?? pipelineRegion ?? ctx.env.AWS_REGION ?? ctx.env.AWS_DEFAULT_REGION;
  if (ask && flags.region === undefined) {
    region = await ask.input('--region', {
      message: 'AWS region for the pipeline',
      default: region ?? DEFAULT_REGION,
      validate: answerCheck('region', (a) => a.trim()),
    });
    region = region.trim();
  }
  region ??= DEFAULT_REGION;

  const options = parseOptions(
    initOptionsSchema,
    {
      cwd: ctx.cwd,
      repoRoot: ctx.repoRoot,
      gitlabUrl,
      gitlabTokenEnv: flags.gitlabTokenEnv,
      gitlabApiUrl: flags.gitlabApiUrl,
      project,
      projectId,
      namespaceId,
      refs,
      audience: audience.trim(),
      allowAnyRef,
      protectedOnly: Boolean(protectedOnly),
      // Nothing said either way: on gitlab.com, runInit pins ref_protected when GitLab says every ref is protected.
      autoProtectedOnly: protectedOnly === undefined && gitlabCom && gitlabProject !== undefined,
      protectRefs: Boolean(flags.protectRefs),
      gitlabProject,
      managedPolicies,
      policyFile,
      template,
      templateParams,
      keptPolicyDocument,
      roleName,
      rolePath,
      policyName,
      permissionsBoundary,
      maxSessionDuration,
      trustPolicyMax,
      awsTags,
      region,
      regionGiven: flags.region !== undefined,
      profile: flags.profile ?? ctx.env.AWS_PROFILE,
      thumbprints: flags.thumbprint ?? [],
      ciFile,
      ciVariables: Boolean(flags.ciVariables),
      mergeRequest: Boolean(flags.mergeRequest),
      ciRepoPath,
      verifyJob: Boolean(flags.verifyJob),
      verifyImage: flags.verifyImage,
      verifyPackage: flags.verifyPackage,
      allowUnpinnedVerify: Boolean(flags.allowUnpinnedVerify),
      force: Boolean(flags.force),
      adoptExisting: Boolean(flags.adoptExisting),
      overwriteDrift: Boolean(flags.overwriteDrift),
      allowWidening: Boolean(flags.allowWidening),
      detachUnowned: Boolean(flags.detachUnowned),
      subClaim,
      subClaimGiven: givenSubClaim !== undefined,
      rolePathGiven: flags.rolePath !== undefined,
      yes: Boolean(flags.yes),
      dryRun: Boolean(flags.dryRun),
      offline: Boolean(flags.offline),
      json: Boolean(flags.json),
      accountId: flags.accountId,
      partition: flags.partition,
    },
    'init options',
    INIT_FLAG_ALIASES,
  );
  for (const message of warnings) ctx.note?.(`warning: ${message}`);
  for (const message of notes) ctx.note?.(message);
  return options;
}
