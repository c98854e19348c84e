/**
 * Fleet members → init's options: each member's raw flags through init's own resolver (never
 * prompted, `concurrency` at a time, with the GitLab lookup; from the group listing where it returned
 * the project), then the delivery check every member needs before any AWS call. Every problem is
 * reported at once, at the flag or config line that set it (one usage error, exit 2).
 */
import { settleWithConcurrency } from '../core/concurrency.js';
import { requireDeliveryApi } from '../delivery/plan.js';
import { type FieldIssue, UsageError } from '../errors.js';
import type { GitlabPort } from '../gitlab/api/ports.js';
import type { InitOptions } from '../init/options.js';
import { resolveUnattendedInitOptions } from '../init/resolve.js';
import { type FleetMember, locateIssue, throwMemberIssues } from './members.js';

/**
 * Every member's InitOptions (never prompted), `concurrency` at a time: init's resolver with the GitLab
 * lookup (from the listing where the group returned the project). Every member's problem is reported
 * at once, at the flag or config line that set it (exit 2, before any AWS call).
 */
export async function resolveMembers(
  selected: readonly FleetMember[],
  ctx: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    concurrency: number;
    gitlab: ((gitlabUrl: string) => Promise<GitlabPort | undefined>) | undefined;
    listedOn: string;
    what: string;
    /** The lookup's warnings (a project not visible, moved), per member; its notes are left out. */
    warn: (message: string) => void;
  },
): Promise<InitOptions[]> {
  const settled = await settleWithConcurrency(selected, { limit: ctx.concurrency }, (m) =>
    resolveUnattendedInitOptions(
      m.flags,
      {
        cwd: ctx.cwd,
        env: ctx.env,
        note: (message) => {
          if (message.startsWith('warning: ')) ctx.warn(`${m.project}: ${message}`);
        },
        gitlab: ctx.gitlab,
        gitlabListed: m.listed ? { gitlabUrl: ctx.listedOn, project: m.listed } : undefined,
      },
      'a fleet member',
    ),
  );
  const issues: FieldIssue[] = [];
  settled.failures.forEach(({ index, reason }) => {
    if (!(reason instanceof UsageError)) throw reason;
    const member = selected[index] as FleetMember;
    const found = reason.issues.length ? reason.issues : [{ field: 'options', message: reason.message }];
    for (const issue of found)
      issues.push(locateIssue(member, issue, found.length === 1 ? reason.hint : undefined));
  });
  throwMemberIssues(ctx.what, issues);
  return settled.results.map((r, i) => ({
    ...(r as { value: InitOptions }).value,
    // `role: per-group`: packed with the group's other projects by runFleet (fleet/packs.ts).
    perGroup: selected[i]?.role === 'per-group',
  }));
}

/**
 * Before any AWS call: a member delivered by merge request or CI/CD variables needs a token and its
 * looked-up project (what a single init's planInit refuses per run). One usage error for the fleet.
 */
export async function requireFleetDelivery(
  selected: readonly FleetMember[],
  members: readonly InitOptions[],
  gitlab: (gitlabUrl: string) => Promise<GitlabPort | undefined>,
  what: string,
): Promise<void> {
  const issues: FieldIssue[] = [];
  let hint: string | undefined;
  for (const [i, options] of members.entries()) {
    if (!options.mergeRequest && !options.ciVariables) continue;
    try {
      requireDeliveryApi(options, await gitlab(options.gitlabUrl), options.gitlabProject !== undefined);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      hint ??= error.hint?.replace(` on ${options.project}`, ' on each project');
      // Said once per flag or config line, not once per project (the first one is named).
      for (const issue of error.issues) {
        const message = issue.message.replaceAll(options.project, 'the project');
        issues.push(locateIssue(selected[i] as FleetMember, { ...issue, message }));
      }
    }
  }
  throwMemberIssues(`delivery for ${what}`, issues, hint);
}
