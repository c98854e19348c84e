/**
 * Whose are the access keys found in GitLab? Every user's keys are read once per run (iam:ListUsers,
 * then iam:ListAccessKeys per user, bounded concurrency), not per key; each key of a user gets
 * iam:GetAccessKeyLastUsed; a key no user here holds gets sts:GetAccessKeyInfo, which names its
 * account. Nothing is changed. A read that fails is listed under `incomplete` and the run goes on.
 */

import type { AccessKeyMetadata, AwsPorts } from '../aws/ports.js';
import { maskAccessKeyIdsIn } from '../core/access-keys.js';
import { mapWithConcurrency } from '../core/concurrency.js';
import { AbortError, CliError } from '../errors.js';
import type { KeyOwner, ReportedKey } from './report.js';

export interface KeyResolution {
  owner: KeyOwner;
  lastUsed?: ReportedKey['lastUsed'];
}

/** A failure's message with any key ID in it masked. */
export function describeFailure(error: unknown): string {
  const message = error instanceof CliError || error instanceof Error ? error.message : String(error);
  return maskAccessKeyIdsIn(message);
}

function rethrowAbort(error: unknown): void {
  if (error instanceof AbortError) throw error;
}

/** Every access key of the account's users, as one run read them (`complete`: every user's list was read). */
export interface KeyInventory {
  keys: Map<string, AccessKeyMetadata & { userArn: string }>;
  /** Every user's name (with or without keys). */
  users: string[];
  complete: boolean;
}

export async function resolveKeys(
  keyIds: readonly string[],
  aws: AwsPorts,
  account: string,
  options: {
    concurrency: number;
    progress: (message: string) => void;
    /** Read the users' keys even when GitLab names none, and keep them here (--delete-keys). */
    inventory?: KeyInventory | undefined;
  },
  incomplete: { resource: string; error: string }[],
): Promise<Map<string, KeyResolution>> {
  const out = new Map<string, KeyResolution>();
  if (keyIds.length === 0 && !options.inventory) return out;
  const { iam, sts } = aws;

  options.progress('Reading IAM users and their access keys…');
  const owned = options.inventory?.keys ?? new Map<string, AccessKeyMetadata & { userArn: string }>();
  let usersRead = true;
  try {
    const users = await iam.listUsers();
    options.inventory?.users.push(...users.map((u) => u.name));
    await mapWithConcurrency(users, options.concurrency, async (user) => {
      try {
        for (const key of await iam.listAccessKeys(user.name)) {
          owned.set(key.accessKeyId, { ...key, userArn: user.arn });
        }
      } catch (error) {
        rethrowAbort(error);
        usersRead = false;
        incomplete.push({ resource: `access keys of IAM user ${user.name}`, error: describeFailure(error) });
      }
    });
  } catch (error) {
    rethrowAbort(error);
    usersRead = false;
    incomplete.push({ resource: 'IAM users (iam:ListUsers)', error: describeFailure(error) });
  }
  if (options.inventory) options.inventory.complete = usersRead;

  await mapWithConcurrency(keyIds, options.concurrency, async (id) => {
    const mine = owned.get(id);
    if (mine) {
      const owner: KeyOwner = {
        kind: 'user',
        userName: mine.userName,
        userArn: mine.userArn,
        status: mine.status,
        ...(mine.createDate ? { createDate: mine.createDate.toISOString() } : {}),
      };
      try {
        const used = await iam.getAccessKeyLastUsed(id);
        out.set(id, {
          owner,
          lastUsed: {
            ...(used?.date ? { date: used.date.toISOString() } : {}),
            ...(used?.service && used.service !== 'N/A' ? { service: used.service } : {}),
            ...(used?.region && used.region !== 'N/A' ? { region: used.region } : {}),
          },
        });
      } catch (error) {
        rethrowAbort(error);
        out.set(id, { owner });
        incomplete.push({ resource: `last use of a key of ${mine.userName}`, error: describeFailure(error) });
      }
      return;
    }
    try {
      const info = await sts.getAccessKeyInfo(id);
      if (info.account !== account) {
        out.set(id, { owner: { kind: 'other-account', account: info.account } });
      } else if (usersRead) {
        out.set(id, { owner: { kind: 'not-found', account } });
      } else {
        out.set(id, {
          owner: { kind: 'unknown', reason: `a key of this account; its user could not be read` },
        });
      }
    } catch (error) {
      rethrowAbort(error);
      out.set(id, { owner: { kind: 'unknown', reason: describeFailure(error) } });
    }
  });
  return out;
}
