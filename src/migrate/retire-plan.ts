/**
 * `migrate --retire` planning: which keys may be retired, and the steps to do it. Pure.
 *
 * NOT WIRED TO THE CLI YET: this is the decision and the step order; reading the inputs (the find
 * scan, the tool's roles) and applying the steps (with plan, confirmation, --yes/--dry-run) are the
 * next step.
 *
 * A key is retired only when the switch is proven for every project whose jobs get it: the role
 * the tool made for the project (tagged gitlab-aws-oidc:project) has been used (RoleLastUsed) after
 * it was created, and the key shows no use since then: its last use is older than every such role's
 * last use (the pipelines moved to the role after the key was last used; a key used while the merge
 * request was open still qualifies once its roles are used). A key of another account,
 * one no user here holds, or one whose owner could not be read is never touched. The report says why.
 *
 * Step order, so that a run stopped part-way is finished by a re-run (which finds the key again by
 * the variable that still names it): record on the user that the tool retired the key (a tag: what
 * --delete-keys later trusts), deactivate the key (never delete it here), delete the secret
 * variables, and the key ID variable last.
 */
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
  /** Projects whose jobs get the key. */
  projects: string[];
  /** The variables naming the key (ID variables), anywhere. */
  idVariables: RetireVariable[];
  /** Secret variables next to an ID variable (same project or group, same environment scope). */
  secretVariables: RetireVariable[];
}

export interface ToolRole {
  name: string;
  project: string;
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
  steps: RetireStep[];
}

/** The tag on the IAM user that records a key the tool deactivated: value = the ISO date. */
export const RETIRED_TAG_PREFIX = 'gitlab-aws-oidc:retired:';

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
    /** The earliest last use among the projects' roles. */
    let lastSwitch: Date | undefined;
    for (const project of key.projects) {
      const role = roles.find((r) => r.project === project);
      if (!role) {
        reasons.push(`${project} has no role made by gitlab-aws-oidc (run init for it first)`);
        continue;
      }
      if (!role.lastUsed || role.lastUsed <= role.createDate) {
        reasons.push(
          `role ${role.name} of ${project} has not been used since it was created (${day(role.createDate)})`,
        );
        continue;
      }
      if (!lastSwitch || role.lastUsed < lastSwitch) lastSwitch = role.lastUsed;
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
          tagKey: `${RETIRED_TAG_PREFIX}${key.accessKeyId}`,
          tagValue: context.now.toISOString(),
        },
        { kind: 'deactivateKey', userName: key.owner.userName, accessKeyId: key.accessKeyId },
      );
    }
    const covered = (v: RetireVariable) =>
      v.source === 'project' || context.coveredGroups.some((g) => v.path === g || v.path.startsWith(`${g}/`));
    const remove = (list: readonly RetireVariable[]) => {
      for (const v of list) {
        if (covered(v)) steps.push({ kind: 'deleteVariable', variable: v });
        else if (!reasons.some((r) => r.includes(`group ${v.path} `)))
          reasons.push(
            `variables of group ${v.path} kept: this run did not read every project of it (use --group ${v.path})`,
          );
      }
    };
    remove(key.secretVariables);
    remove(key.idVariables);
    return { masked: key.masked, retire: true, reasons, steps };
  });
}

function keep(key: RetireKeyInput, reasons: string[]): RetireDecision {
  return { masked: key.masked, retire: false, reasons, steps: [] };
}
