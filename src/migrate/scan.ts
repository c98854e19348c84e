/**
 * The read both `migrate` (find) and `migrate --retire` start from: the selected projects, the AWS
 * credential variables each sees (its own and every ancestor group's, each group read once per run),
 * and whose keys they are. GitLab: a list the token may not read (403: group variables need the Owner
 * role, project variables Maintainer) is reported as not readable, never fatal. AWS: see
 * resolve-keys.ts. Nothing is changed. Full key IDs stay inside the migrate module.
 */
import type { AwsPorts } from '../aws/ports.js';
import { mapWithConcurrency } from '../core/concurrency.js';
import type { Identity } from '../core/types.js';
import { GitlabApiError } from '../gitlab/api/errors.js';
import type { CiVariable, GitlabPort, GitlabProject } from '../gitlab/api/ports.js';
import type { MigrateFindOptions } from './options.js';
import type { MigrateFindReport, Unreadable } from './report.js';
import { type KeyInventory, type KeyResolution, resolveKeys } from './resolve-keys.js';
import { ancestorGroups, selectProjects } from './select.js';
import { type FoundVariable, findCredentialVariables, type VariableLevel } from './variables.js';

export interface MigrateDeps {
  /** The clock the retire readiness is judged at (tests). */
  now?: (() => Date) | undefined;
  gitlab: () => Promise<GitlabPort>;
  /** Undefined with --no-aws: keys are not resolved. */
  aws?: (() => Promise<AwsPorts>) | undefined;
  progress?: ((message: string) => void) | undefined;
  /** Where a --config file is found, and its environment (default: the process's). */
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

export interface ScannedProject {
  project: GitlabProject;
  variables: FoundVariable[];
  unreadable: Unreadable[];
}

export interface MigrateScan {
  gitlab: GitlabPort;
  aws?: AwsPorts | undefined;
  identity?: Identity | undefined;
  found: ScannedProject[];
  skipped: MigrateFindReport['skipped'];
  /** Full key ID → run-local reference (`k1`, …), in order of first appearance. */
  refOf: Map<string, string>;
  resolved: Map<string, KeyResolution>;
  incomplete: MigrateFindReport['incomplete'];
}

const NEEDS = {
  project: 'needs the Maintainer role on the project',
  group: 'needs the Owner role on the group',
};

/** Reads a variable list; a 403 is "not readable with this token", anything else fails the run. */
async function readVariables(
  source: 'project' | 'group',
  path: string,
  read: () => Promise<CiVariable[]>,
): Promise<{ variables?: CiVariable[]; unreadable?: Unreadable }> {
  try {
    return { variables: await read() };
  } catch (error) {
    if (error instanceof GitlabApiError && error.status === 403) {
      return { unreadable: { source, path, reason: `not readable with this token (${NEEDS[source]})` } };
    }
    throw error;
  }
}

export async function scanMigrate(
  options: MigrateFindOptions,
  deps: MigrateDeps,
  inventory?: KeyInventory,
): Promise<MigrateScan> {
  const progress = deps.progress ?? (() => {});
  const gitlab = await deps.gitlab();
  // The selection first, as every fleet command: a bad config file is exit 2 before any AWS call.
  progress('Selecting projects…');
  const { projects, skipped } = await selectProjects(gitlab, options.selection, {
    cwd: deps.cwd ?? process.cwd(),
    env: deps.env ?? process.env,
    gitlabUrl: options.gitlabUrl,
  });
  // Then fail fast on missing AWS credentials, before reading every project's variables.
  const aws = deps.aws ? await deps.aws() : undefined;
  const identity = aws ? await aws.sts.getCallerIdentity() : undefined;

  const groupReads = new Map<string, ReturnType<typeof readVariables>>();
  const groupVariables = (path: string) => {
    let read = groupReads.get(path);
    if (!read) {
      read = readVariables('group', path, () => gitlab.listGroupVariables(path));
      groupReads.set(path, read);
    }
    return read;
  };

  progress(`Reading CI/CD variables of ${projects.length} project${projects.length === 1 ? '' : 's'}…`);
  const found = await mapWithConcurrency(projects, options.concurrency, async (project: GitlabProject) => {
    const own = await readVariables('project', project.pathWithNamespace, () =>
      gitlab.listProjectVariables(project.id),
    );
    const levels: VariableLevel[] = [
      { source: 'project', path: project.pathWithNamespace, variables: own.variables },
    ];
    const unreadable: Unreadable[] = own.unreadable ? [own.unreadable] : [];
    if (project.namespace.kind === 'group') {
      for (const path of ancestorGroups(project.namespace.fullPath)) {
        const group = await groupVariables(path);
        levels.push({ source: 'group', path, variables: group.variables });
        if (group.unreadable) unreadable.push(group.unreadable);
      }
    }
    return { project, variables: findCredentialVariables(levels), unreadable };
  });

  // Run-local references, in order of first appearance (projects sorted by path).
  const refOf = new Map<string, string>();
  for (const { variables } of found) {
    for (const v of variables)
      for (const id of v.keyIds) if (!refOf.has(id)) refOf.set(id, `k${refOf.size + 1}`);
  }

  const incomplete: MigrateFindReport['incomplete'] = [];
  const keyIds = [...refOf.keys()];
  const resolved =
    aws && identity
      ? await resolveKeys(
          keyIds,
          aws,
          identity.account,
          { concurrency: options.concurrency, progress, inventory },
          incomplete,
        )
      : new Map<string, KeyResolution>();
  return { gitlab, aws, identity, found, skipped, refOf, resolved, incomplete };
}

/** The groups whose every project this selection reads (a --group without --include/--exclude). */
export function wholeGroups(options: MigrateFindOptions): string[] {
  const s = options.selection;
  return s.kind === 'group' && s.include.length === 0 && s.exclude.length === 0 ? [s.group] : [];
}
