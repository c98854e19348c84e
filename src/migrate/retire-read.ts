/**
 * The reads `migrate --retire` adds to the find scan: which groups this run read whole, the users'
 * --retire records (with --delete-keys), and the variables that also hold a kept key.
 */
import { mapWithConcurrency } from '../core/concurrency.js';
import { AbortError } from '../errors.js';
import type { MigrateFindOptions } from './options.js';
import { describeFailure, type KeyInventory } from './resolve-keys.js';
import type { TaggedUser } from './retire-delete.js';
import { DEACTIVATED_TAG_PREFIX, type RetireDecision } from './retire-plan.js';
import type { RetireReport } from './retire-report.js';
import { type MigrateScan, wholeGroups } from './scan.js';

/** The groups whose variables name an access key. */
export function keyGroups(found: MigrateScan['found']): string[] {
  return [
    ...new Set(
      found.flatMap((f) =>
        f.variables.filter((v) => v.source === 'group' && v.keyIds.length).map((v) => v.path),
      ),
    ),
  ];
}

/** The groups (holding a variable of a key) whose every unarchived project this run read. */
export async function coveredGroups(
  scan: MigrateScan,
  options: MigrateFindOptions,
  groups: readonly string[],
  incomplete: { resource: string; error: string }[],
): Promise<string[]> {
  const whole = wholeGroups(options);
  const read = new Set(scan.found.map((f) => f.project.id));
  const covered: string[] = [...whole];
  for (const group of groups) {
    if (whole.some((g) => group === g || group.startsWith(`${g}/`))) continue;
    try {
      const projects = await scan.gitlab.listGroupProjects(group, { includeSubgroups: true });
      if (projects.every((p) => p.archived || read.has(p.id))) covered.push(group);
    } catch (error) {
      if (error instanceof AbortError) throw error;
      incomplete.push({ resource: `projects of group ${group}`, error: describeFailure(error) });
    }
  }
  return covered;
}

/** The users with a --retire record, their keys and (for recorded keys) their last use. */
export async function readRecords(
  scan: MigrateScan,
  inventory: KeyInventory,
  concurrency: number,
  incomplete: RetireReport['incomplete'],
): Promise<TaggedUser[]> {
  const iam = scan.aws?.iam;
  if (!iam) return [];
  const tagged = await mapWithConcurrency(inventory.users, concurrency, async (userName) => {
    try {
      const tags = await iam.listUserTags(userName);
      return Object.keys(tags).some((k) => k.startsWith(DEACTIVATED_TAG_PREFIX))
        ? { userName, tags }
        : undefined;
    } catch (error) {
      if (error instanceof AbortError) throw error;
      incomplete.push({ resource: `tags of IAM user ${userName}`, error: describeFailure(error) });
      return undefined;
    }
  });
  const users: TaggedUser[] = [];
  for (const t of tagged) {
    if (!t) continue;
    const keys = [...inventory.keys.values()].filter((k) => k.userName === t.userName);
    const withUse = await mapWithConcurrency(keys, concurrency, async (k) => {
      if (k.status !== 'Inactive') return { accessKeyId: k.accessKeyId, status: k.status };
      try {
        const used = await iam.getAccessKeyLastUsed(k.accessKeyId);
        return { accessKeyId: k.accessKeyId, status: k.status, lastUsed: used?.date };
      } catch (error) {
        if (error instanceof AbortError) throw error;
        incomplete.push({ resource: `last use of a key of ${k.userName}`, error: describeFailure(error) });
        return { accessKeyId: k.accessKeyId, status: k.status, lastUsed: 'unknown' as const };
      }
    });
    users.push({ ...t, keys: withUse });
  }
  return users;
}

/**
 * A variable that names several keys (a credentials file) is deleted only when every key it names is
 * retired in this run: otherwise its step is dropped, with the reason.
 */
export function keepSharedVariables(
  decisions: RetireDecision[],
  keyIds: readonly string[],
  found: MigrateScan['found'],
  refOf: ReadonlyMap<string, string>,
): void {
  const retiring = new Set(keyIds.filter((_, i) => decisions[i]?.retire));
  decisions.forEach((d) => {
    d.steps = d.steps.filter((step) => {
      if (step.kind !== 'deleteVariable') return true;
      const v = step.variable;
      const others = new Set(
        found.flatMap((f) =>
          f.variables
            .filter(
              (x) =>
                x.key === v.key &&
                x.source === v.source &&
                x.path === v.path &&
                x.environmentScope === v.environmentScope,
            )
            .flatMap((x) => x.keyIds.filter((id) => !retiring.has(id))),
        ),
      );
      if (others.size === 0) return true;
      const refs = [...others].map((id) => refOf.get(id)).join(', ');
      d.reasons.push(
        `variable ${v.key} of ${v.source} ${v.path} also holds ${refs}, which is kept: the variable is not deleted`,
      );
      return false;
    });
  });
}
