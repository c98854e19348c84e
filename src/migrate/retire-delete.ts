/**
 * `migrate --retire --delete-keys`: which keys an earlier --retire deactivated may now be deleted.
 * Pure. The record is the tag --retire put on the key's IAM user before deactivating it
 * (retire-plan.ts DEACTIVATED_TAG_PREFIX + the last 8 characters of the key ID = the date); keys
 * are not taggable, users are. A key is deleted only when:
 * - it is still Inactive (a key someone re-activated is theirs again),
 * - no CI/CD variable this run read still names it (--retire deletes those first),
 * - IAM records no use of it after the deactivation date (an Inactive key cannot be used; a later
 *   use means it was re-activated in between),
 * - exactly one key of the user ends with the recorded characters.
 * Steps: delete the key, then remove the record (a re-run after the first finds the record of a key
 * that is gone and only removes it). The account's other keys are never looked at: no record, no
 * deletion.
 */
import { maskAccessKeyId } from '../core/access-keys.js';
import { DEACTIVATED_TAG_PREFIX } from './retire-plan.js';

export interface DeleteCandidateKey {
  accessKeyId: string;
  status: 'Active' | 'Inactive';
  /** undefined: never used; `unknown`: the read failed. */
  lastUsed?: Date | 'unknown' | undefined;
}

export interface TaggedUser {
  userName: string;
  tags: Record<string, string>;
  keys: DeleteCandidateKey[];
}

export type DeleteKeyStep =
  | { kind: 'deleteKey'; userName: string; accessKeyId: string }
  | { kind: 'untagUser'; userName: string; tagKey: string };

export interface DeleteKeyDecision {
  /** Masked key ID, or the record's tag when the key is gone. */
  masked: string;
  userName: string;
  deactivatedAt?: string | undefined;
  delete: boolean;
  reasons: string[];
  steps: DeleteKeyStep[];
}

const day = (d: Date) => d.toISOString().slice(0, 10);

export function planDeleteKeys(
  users: readonly TaggedUser[],
  /** Full IDs of the keys CI/CD variables of this run still name. */
  namedInGitlab: ReadonlySet<string>,
): DeleteKeyDecision[] {
  const out: DeleteKeyDecision[] = [];
  for (const user of users) {
    for (const [tagKey, value] of Object.entries(user.tags)) {
      if (!tagKey.startsWith(DEACTIVATED_TAG_PREFIX)) continue;
      const suffix = tagKey.slice(DEACTIVATED_TAG_PREFIX.length);
      const matches = user.keys.filter((k) => suffix.length > 0 && k.accessKeyId.endsWith(suffix));
      const base = { userName: user.userName, deactivatedAt: value };
      const keep = (masked: string, reason: string): DeleteKeyDecision => ({
        ...base,
        masked,
        delete: false,
        reasons: [reason],
        steps: [],
      });
      if (matches.length === 0) {
        out.push({
          ...base,
          masked: `key …${suffix.slice(-4)}`,
          delete: true,
          reasons: ['already deleted: only the record is left'],
          steps: [{ kind: 'untagUser', userName: user.userName, tagKey }],
        });
        continue;
      }
      if (matches.length > 1) {
        out.push(
          keep(
            `key …${suffix.slice(-4)}`,
            `${matches.length} keys of the user end with the recorded characters`,
          ),
        );
        continue;
      }
      const key = matches[0] as DeleteCandidateKey;
      const masked = maskAccessKeyId(key.accessKeyId);
      const at = new Date(value);
      if (Number.isNaN(at.getTime())) {
        out.push(keep(masked, `the record's date "${value}" is not a date`));
      } else if (key.status !== 'Inactive') {
        out.push(
          keep(masked, `active again since it was deactivated on ${day(at)}: someone re-activated it`),
        );
      } else if (namedInGitlab.has(key.accessKeyId)) {
        out.push(keep(masked, 'CI/CD variables still name it: --retire deletes them first'));
      } else if (key.lastUsed === 'unknown') {
        out.push(keep(masked, 'its last use could not be read (iam:GetAccessKeyLastUsed)'));
      } else if (key.lastUsed && key.lastUsed > at) {
        out.push(
          keep(
            masked,
            `used on ${day(key.lastUsed)}, after it was deactivated on ${day(at)}: it was re-activated in between`,
          ),
        );
      } else {
        out.push({
          ...base,
          masked,
          delete: true,
          reasons: [],
          steps: [
            { kind: 'deleteKey', userName: user.userName, accessKeyId: key.accessKeyId },
            { kind: 'untagUser', userName: user.userName, tagKey },
          ],
        });
      }
    }
  }
  return out;
}
