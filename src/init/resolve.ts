/**
 * Raw flags → validated InitOptions, in one order per field:
 * flag → detected (git, env) → `--yes`/non-interactive default → prompt (only with a terminal) → usage error.
 * Flags the user gave are validated first, so a typo fails before any question is asked.
 */
import { resolve as resolvePath } from 'node:path';
import type { RawInitFlags } from '../commands/init.js';
import { parseIssuerUrl } from '../core/issuer.js';
import {
  DEFAULT_ROLE_PATH,
  defaultPolicyName,
  defaultRoleName,
  parseKeyValueArgs,
  parseTagArgs,
} from '../core/naming.js';
import { findPolicyTemplate, POLICY_TEMPLATES } from '../core/policy-templates.js';
import { validateProjectPath, validateRefName } from '../core/refs.js';
import type { RefRule } from '../core/types.js';
import { UsageError } from '../errors.js';
import type { GitContext } from '../gitlab/remote.js';
import { parseOptions } from '../options/zod-issues.js';
import type { Prompter } from '../prompts/prompter.js';
import { INIT_FLAG_ALIASES, type InitOptions, initOptionsSchema } from './options.js';

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
}

function parseDuration(raw: string | undefined): number {
  if (raw === undefined) return 3600;
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed)) {
    throw UsageError.field(
      '--max-session-duration',
      `"${raw}" is not a whole number of seconds (3600-43200)`,
    );
  }
  return Number(trimmed);
}

const splitList = (text: string) =>
  text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** Turns a prompt validator into inquirer's `true | message` form. */
function check(fn: (v: string) => unknown) {
  return (value: string): true | string => {
    try {
      fn(value);
      return true;
    } catch (error) {
      return error instanceof Error ? error.message.replace(/^Invalid [^:]+: /, '') : String(error);
    }
  };
}

export async function resolveInitOptions(flags: RawInitFlags, ctx: ResolveContext): Promise<InitOptions> {
  const interactive = ctx.interactive && !flags.yes && !flags.json;
  // Notes about defaults are shown once the options are valid, not above a usage error.
  const notes: string[] = [];
  const note = (message: string) => notes.push(message);
  // Fail fast on what was given, before detecting or asking anything.
  const awsTags = parseTagArgs(flags.awsTag ?? [], '--aws-tag');
  const templateParams = parseKeyValueArgs(flags.templateParam ?? [], '--template-param', 'bucket=my-site');
  const maxSessionDuration = parseDuration(flags.maxSessionDuration);
  if (flags.gitlabUrl !== undefined) parseIssuerUrl(flags.gitlabUrl);
  if (flags.project !== undefined) validateProjectPath(flags.project);
  if (flags.template !== undefined && !findPolicyTemplate(flags.template)) {
    throw UsageError.field(
      '--template',
      `unknown template "${flags.template}"`,
      `Choose one of: ${POLICY_TEMPLATES.map((t) => t.name).join(', ')}.`,
    );
  }

  const ask = interactive ? await ctx.prompter() : undefined;
  const git = ctx.git;

  // GitLab instance and project
  let gitlabUrl = flags.gitlabUrl ?? git.gitlabUrl;
  if (ask && flags.gitlabUrl === undefined) {
    gitlabUrl = await ask.input('--gitlab-url', {
      message: 'GitLab URL',
      default: gitlabUrl ?? GITLAB_COM,
      validate: check(parseIssuerUrl),
    });
  }
  gitlabUrl ??= GITLAB_COM;
  gitlabUrl = parseIssuerUrl(gitlabUrl).url;

  let project = flags.project ?? git.projectPath;
  if (ask && flags.project === undefined) {
    project = await ask.input('--project', {
      message: 'Project path (group/subgroup/project)',
      ...(project ? { default: project } : {}),
      validate: check((v) => validateProjectPath(v)),
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

  // gitlab.com evaluates gitlab.com:project_id: pinning it survives a renamed or re-registered path.
  let projectId = flags.projectId;
  if (ask && projectId === undefined && gitlabUrl === GITLAB_COM) {
    const answer = await ask.input('--project-id', {
      message:
        'Numeric project ID, to pin gitlab.com:project_id (on the project overview page; empty to skip)',
      default: '',
      validate: (v) =>
        v.trim() === '' || /^[1-9]\d{0,19}$/.test(v.trim()) || 'a number such as 4242, or empty',
    });
    projectId = answer.trim() || undefined;
  }

  // Refs
  const defaultBranch = git.defaultBranch ?? 'main';
  let branches = flags.branch;
  let tags = flags.tag;
  if (!branches?.length && !tags?.length) {
    if (ask) {
      const b = await ask.input('--branch', {
        message: 'Branches allowed to assume the role (comma-separated; patterns like release/* allowed)',
        default: defaultBranch,
        validate: check((v) => {
          for (const x of splitList(v)) validateRefName(x, '--branch');
        }),
      });
      const t = await ask.input('--tag', {
        message: 'Tags allowed to assume the role (comma-separated, empty for none)',
        default: '',
        validate: check((v) => {
          for (const x of splitList(v)) validateRefName(x, '--tag');
        }),
      });
      branches = splitList(b);
      tags = splitList(t);
    } else {
      branches = [defaultBranch];
      note(
        `Only branch "${defaultBranch}" may assume the role (the default branch; use --branch/--tag to change).`,
      );
    }
  }
  const refs: RefRule[] = [
    ...(branches ?? []).map((pattern) => ({ type: 'branch' as const, pattern: pattern.trim() })),
    ...(tags ?? []).map((pattern) => ({ type: 'tag' as const, pattern: pattern.trim() })),
  ];

  // Audience
  let audience = flags.audience;
  if (ask && audience === undefined) {
    audience = await ask.select('--audience', {
      message: 'Audience (aud) of the job token',
      choices: [
        { value: gitlabUrl, name: `${gitlabUrl} (recommended: what GitLab's AWS guide uses)` },
        { value: STS_AUDIENCE, name: `${STS_AUDIENCE} (AWS's convention)` },
      ],
      default: gitlabUrl,
    });
  }
  audience ??= gitlabUrl;

  // Permissions
  const managedPolicies = [...(flags.managedPolicy ?? [])];
  let policyFile = flags.policyFile;
  let template = flags.template;
  if (ask && !managedPolicies.length && !policyFile && !template) {
    const kind = await ask.select('--template', {
      message: 'What may the pipeline do in AWS?',
      choices: [
        ...POLICY_TEMPLATES.map((t) => ({
          value: `template:${t.name}`,
          name: `${t.name}: ${t.description}`,
        })),
        { value: 'managed', name: 'Attach an existing managed policy (ARN)' },
        { value: 'file', name: 'Use a policy JSON file' },
        { value: 'none', name: 'Nothing yet (attach permissions later)' },
      ],
    });
    if (kind.startsWith('template:')) template = kind.slice('template:'.length);
    else if (kind === 'managed') {
      const arn = await ask.input('--managed-policy', {
        message: 'Managed policy ARN',
        default: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      });
      managedPolicies.push(arn.trim());
    } else if (kind === 'file') {
      policyFile = (await ask.input('--policy-file', { message: 'Policy JSON file' })).trim();
    }
  }
  if (template && ask) {
    const info = findPolicyTemplate(template);
    for (const param of info?.params ?? []) {
      if (param.context || param.name in templateParams) continue;
      const value = await ask.input('--template-param', {
        message: `${template}: ${param.description}${param.required ? '' : ' (optional)'}`,
        ...(param.default !== undefined ? { default: param.default } : {}),
      });
      if (value.trim() !== '') templateParams[param.name] = value.trim();
    }
  }
  if (!managedPolicies.length && !policyFile && !template) {
    note(
      'The role gets no permissions yet: attach some later with --managed-policy, --policy-file or --template.',
    );
  }

  // Region
  let region = flags.region ?? ctx.env.AWS_REGION ?? ctx.env.AWS_DEFAULT_REGION;
  if (ask && flags.region === undefined) {
    region = await ask.input('--region', {
      message: 'AWS region for the pipeline',
      default: region ?? DEFAULT_REGION,
    });
  }
  region ??= DEFAULT_REGION;

  const roleName = flags.roleName ?? defaultRoleName(project);
  // GitLab reads the pipeline file at the top of the repository; a --ci-file is relative to the folder it was typed in.
  const ciFile =
    flags.ciFile === false
      ? undefined
      : flags.ciFile !== undefined
        ? resolvePath(ctx.cwd, flags.ciFile)
        : resolvePath(ctx.repoRoot ?? ctx.cwd, DEFAULT_CI_FILE);

  const options = parseOptions(
    initOptionsSchema,
    {
      cwd: ctx.cwd,
      repoRoot: ctx.repoRoot,
      gitlabUrl,
      project,
      projectId,
      namespaceId: flags.namespaceId,
      refs,
      audience: audience.trim(),
      allowAnyRef: Boolean(flags.allowAnyRef),
      protectedOnly: Boolean(flags.protectedOnly),
      managedPolicies,
      policyFile,
      template,
      templateParams,
      roleName,
      rolePath: flags.rolePath ?? DEFAULT_ROLE_PATH,
      policyName: flags.policyName ?? defaultPolicyName(project),
      permissionsBoundary: flags.permissionsBoundary,
      maxSessionDuration,
      awsTags,
      region,
      profile: flags.profile ?? ctx.env.AWS_PROFILE,
      thumbprints: flags.thumbprint ?? [],
      ciFile,
      verifyJob: Boolean(flags.verifyJob),
      verifyImage: flags.verifyImage,
      verifyPackage: flags.verifyPackage,
      allowUnpinnedVerify: Boolean(flags.allowUnpinnedVerify),
      force: Boolean(flags.force),
      adoptExisting: Boolean(flags.adoptExisting),
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
  for (const message of notes) ctx.note?.(message);
  return options;
}
