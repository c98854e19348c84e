/**
 * `migrate --retire` planning: which keys may be retired, and the steps to do it. Pure. Read by
 * retire-run.ts (the inputs come from scan.ts and the account's roles), and by the find report.
 *
 * A key is retired only when the switch is proven for every project whose jobs get it: the role
 * the tool made for the project (tagged gitlab-aws-oidc:project, or untagged with the default name)
 * has been used (RoleLastUsed) after it was created, and the key shows no use since the switch.
 *
 * "The switch", per project, is the role's last recorded use: IAM keeps no first-use date, GitLab's
 * merge time of the pipeline change is not something this tool can tie to a role, and a `verify`
 * job in the pipeline leaves no trace but that same RoleLastUsed (it assumes the role). So the rule
 * is: the key's last use is older than the earliest of its projects' role last uses (after the key
 * was last used, every project's pipeline ran with its role; a key used while the merge request was
 * open still qualifies once the roles are used). Both dates are IAM's, which records them with a
 * delay of up to a few hours: a key is only deactivated (reversible, UpdateAccessKey), and deleted
 * only by a later --delete-keys run that checks the key stayed unused.
 *
 * Never touched, with the reason: a key of another account, one no user here holds or whose owner
 * could not be read, a key some project gets whose switch is not proven, and a key named by a
 * variable of a group this run did not read whole (other projects of the group get it too).
 *
 * Step order, so that a run stopped part-way is finished by a re-run (which finds the key again by
 * the variable that still names it): record on the user that the tool deactivated the key (a tag:
 * what --delete-keys later trusts), deactivate the key (never delete it here), delete the secret
 * variables, and the key ID variable last.
 */
import { defaultRoleName } from '../core/naming.js';
import { sameProject } from '../core/tool-resources.js';

export interface RetireVariable {
  key: string;
  source: 'project' | 'group';
  path: string;
  environmentScope: string;
}

export interface RetireKeyInput {
  /** Full key ID: used in steps only, never in a message. */
  accessKeyId: string;
  /** Masked, for messages. */
  masked: string;
  owner:
    | { kind: 'user'; userName: string; status: 'Active' | 'Inactive' }
    | { kind: 'other-account'; account: string }
    | { kind: 'not-found' | 'unknown' };
  /** iam:GetAccessKeyLastUsed; undefined: never used. */
  lastUsed?: Date | undefined;
  /** GetAccessKeyLastUsed failed: whether it is still used cannot be told. */
  lastUsedUnknown?: boolean | undefined;
  /** Projects whose jobs get the key. */
  projects: string[];
  /** The variables naming the key (ID variables), anywhere. */
  idVariables: RetireVariable[];
  /** Secret variables next to an ID variable (same project or group, same environment scope). */
  secretVariables: RetireVariable[];
}

export interface ToolRole {
  name: string;
  /** The project tag; undefined: a tool role without one (matched by its default name). */
  project: string | undefined;
  createDate: Date;
  lastUsed?: Date | undefined;
}

export type RetireStep =
  | { kind: 'tagUser'; userName: string; tagKey: string; tagValue: string }
  | { kind: 'deactivateKey'; userName: string; accessKeyId: string }
  | { kind: 'deleteVariable'; variable: RetireVariable };

export interface RetireDecision {
  masked: string;
  retire: boolean;
  /** Why it is kept, or what is left in place. */
  reasons: string[];
  /** Why the switch counts as proven (retire only). */
  proof?: string | undefined;
  steps: RetireStep[];
}

/**
 * The tag on the IAM user that records a key the tool deactivated: the key is named by the last 8
 * characters of its ID (a user holds at most 2 keys; the full ID is kept out of tags and output),
 * the value is when (ISO 8601).
 */
export const DEACTIVATED_TAG_PREFIX = 'gitlab-aws-oidc:deactivated:';
export const KEY_SUFFIX_LENGTH = 8;

export const deactivatedTagKey = (accessKeyId: string) =>
  `${DEACTIVATED_TAG_PREFIX}${accessKeyId.slice(-KEY_SUFFIX_LENGTH)}`;

/** The tool's roles for `project`: tagged for it, or untagged with its default name. */
export function rolesOfProject(roles: readonly ToolRole[], project: string): ToolRole[] {
  const tagged = roles.filter((r) => sameProject(r.project, project));
  if (tagged.length) return tagged;
  const name = defaultRoleName(project).toLowerCase();
  return roles.filter((r) => r.project === undefined && r.name.toLowerCase() === name);
}

const day = (d: Date) => d.toISOString().slice(0, 10);

export function planRetire(
  keys: readonly RetireKeyInput[],
  roles: readonly ToolRole[],
  context: { now: Date; coveredGroups: readonly string[] },
): RetireDecision[] {
  return keys.map((key) => {
    const reasons: string[] = [];
    if (key.owner.kind === 'other-account') {
      return keep(key, [`a key of account ${key.owner.account}: retire it there`]);
    }
    if (key.owner.kind !== 'user') {
      return keep(key, ['no IAM user of this account holds it (deleted, or not readable)']);
    }
    if (key.projects.length === 0) return keep(key, ['no selected project gets it']);
    if (key.lastUsedUnknown) return keep(key, ['its last use could not be read (iam:GetAccessKeyLastUsed)']);
    // A group variable reaches every project of the group: all of them must have been read.
    const covered = (v: RetireVariable) =>
      v.source === 'project' || context.coveredGroups.some((g) => v.path === g || v.path.startsWith(`${g}/`));
    for (const path of new Set(
      [...key.idVariables, ...key.secretVariables].filter((v) => !covered(v)).map((v) => v.path),
    )) {
      reasons.push(
        `a variable of group ${path} names it, and this run did not read every project of ${path}: other projects may get the key (select the whole group: --group ${path}, no --include/--exclude)`,
      );
    }
    /** The earliest last use among the projects' roles. */
    let lastSwitch: Date | undefined;
    for (const project of key.projects) {
      const own = rolesOfProject(roles, project);
      if (own.length === 0) {
        reasons.push(`${project} has no role made by gitlab-aws-oidc (run init for it first)`);
        continue;
      }
      // The project's latest used role (a project may have one per environment).
      const used = own
        .filter((r) => r.lastUsed && r.lastUsed > r.createDate)
        .sort((a, b) => (b.lastUsed as Date).getTime() - (a.lastUsed as Date).getTime())[0];
      if (!used?.lastUsed) {
        const role = own[0] as ToolRole;
        reasons.push(
          `role ${role.name} of ${project} has not been used since it was created (${day(role.createDate)}): the switch is not proven`,
        );
        continue;
      }
      if (!lastSwitch || used.lastUsed < lastSwitch) lastSwitch = used.lastUsed;
    }
    if (reasons.length) return keep(key, reasons);
    if (key.lastUsed && lastSwitch && key.lastUsed >= lastSwitch) {
      return keep(key, [
        `still used: last on ${day(key.lastUsed)}, not before the role's last use on ${day(lastSwitch)}`,
      ]);
    }
    const steps: RetireStep[] = [];
    if (key.owner.status === 'Active') {
      steps.push(
        {
          kind: 'tagUser',
          userName: key.owner.userName,
          tagKey: deactivatedTagKey(key.accessKeyId),
          tagValue: context.now.toISOString(),
        },
        { kind: 'deactivateKey', userName: key.owner.userName, accessKeyId: key.accessKeyId },
      );
    }
    for (const v of key.secretVariables) steps.push({ kind: 'deleteVariable', variable: v });
    for (const v of key.idVariables) steps.push({ kind: 'deleteVariable', variable: v });
    const proof = `${key.lastUsed ? `last used ${day(key.lastUsed)}` : 'never used'}, before the roles of ${key.projects.join(', ')} were used (earliest last use ${day(lastSwitch as Date)})`;
    return { masked: key.masked, retire: true, reasons, proof, steps };
  });
}

function keep(key: RetireKeyInput, reasons: string[]): RetireDecision {
  return { masked: key.masked, retire: false, reasons, steps: [] };
}
