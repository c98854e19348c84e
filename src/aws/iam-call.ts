/**
 * Small helpers shared by the IAM port modules: error mapping around one SDK call,
 * NoSuchEntity handling, Marker pagination, tags and URL-encoded policy documents.
 */
import type { PolicyDocument, Tags } from '../core/types.js';
import { CliError } from '../errors.js';
import { hasAwsErrorCode, mapAwsError } from './map-error.js';

/** Runs one SDK call and maps its failure to a typed error. */
export async function callAws<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw mapAwsError(operation, error);
  }
}

/** Runs `read`; a `NoSuchEntity` failure resolves to undefined (the thing is missing, or went away mid-read). */
export async function unlessMissing<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isNoSuchEntity(error)) return undefined;
    throw error;
  }
}

/** Like `callAws`, but `NoSuchEntity` resolves to undefined (reads of things that may not exist). */
export function callOrUndefined<T>(operation: string, run: () => Promise<T>): Promise<T | undefined> {
  return unlessMissing(() => callAws(operation, run));
}

/** Like `callAws`, but `NoSuchEntity` counts as done (deletes and detaches). */
export async function callIgnoringMissing(operation: string, run: () => Promise<unknown>): Promise<void> {
  await callOrUndefined(operation, run);
}

/** The ARN a create call answered with; a create that answers none is a broken service or emulator. */
export function requireArn(operation: string, arn: string | undefined): string {
  if (!arn) throw new Error(`${operation} returned no ARN`);
  return arn;
}

export function isNoSuchEntity(error: unknown): boolean {
  return hasAwsErrorCode(error, 'NoSuchEntity');
}

export interface Page<T> {
  items: T[] | undefined;
  isTruncated?: boolean | undefined;
  marker?: string | undefined;
}

/** Hard stop against a service (or emulator) that keeps answering IsTruncated. */
const MAX_PAGES = 1000;

/**
 * MaxItems for the bulk reads (ListRoles, GetAccountAuthorizationDetails): IAM's most per page (its
 * default is 100; it may still return fewer), so planning N projects takes N/1,000 pages, not N/100.
 */
export const MAX_PAGE = 1000;

/** Follows IAM's Marker/IsTruncated pagination to the end. */
export async function collectPages<T>(
  fetchPage: (marker: string | undefined) => Promise<Page<T>>,
): Promise<T[]> {
  const all: T[] = [];
  let marker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await fetchPage(marker);
    all.push(...(result.items ?? []));
    if (!result.isTruncated || !result.marker) return all;
    marker = result.marker;
  }
  return all;
}

export function toTagList(tags: Tags): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function fromTagList(
  list: { Key?: string | undefined; Value?: string | undefined }[] | undefined,
): Tags {
  const tags: Tags = {};
  for (const tag of list ?? []) {
    if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
  }
  return tags;
}

/**
 * IAM returns trust policies and policy version documents URL-encoded (RFC 3986).
 * Emulators sometimes return plain JSON, so a document that already looks like JSON is parsed as is.
 */
export function decodePolicyDocument(raw: string | undefined, what: string): PolicyDocument {
  if (raw === undefined || raw === '') {
    throw new CliError('AWS_EMPTY_DOCUMENT', `IAM returned no policy document for ${what}.`);
  }
  try {
    const text = raw.trimStart().startsWith('{') ? raw : decodeURIComponent(raw);
    return JSON.parse(text) as PolicyDocument;
  } catch (error) {
    throw new CliError(
      'AWS_UNREADABLE_DOCUMENT',
      `IAM returned a policy document for ${what} that is not JSON.`,
      {
        cause: error,
      },
    );
  }
}

/** Policy documents are sent as compact JSON. */
export function encodePolicyDocument(document: PolicyDocument): string {
  return JSON.stringify(document);
}
