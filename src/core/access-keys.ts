/**
 * AWS access key IDs as they appear in CI/CD variables: recognising them, and masking them for
 * output. Pure. A full key ID is never printed by the tool: only `AKIA…WXYZ`.
 */

/** `AKIA` (long-lived, an IAM user's) or `ASIA` (temporary, STS) + 16 base32 characters. */
export const ACCESS_KEY_ID_RE = /^(AKIA|ASIA)[A-Z2-7]{16}$/;
const ACCESS_KEY_ID_IN_TEXT = /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Z0-9])/g;

/** The variable keys the AWS SDKs and CLI read credentials from. */
export const CREDENTIAL_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;
export type CredentialKey = (typeof CREDENTIAL_KEYS)[number];

export function isAccessKeyId(value: string): boolean {
  return ACCESS_KEY_ID_RE.test(value);
}

/** Every access key ID in a value (a bare ID, or one inside a credentials file), once each, in order. */
export function findAccessKeyIds(value: string): string[] {
  return [...new Set(value.match(ACCESS_KEY_ID_IN_TEXT) ?? [])];
}

/** `AKIAIOSFODNN7EXAMPLE` → `AKIA…MPLE`: the kind and the last four, as the AWS console shows keys. */
export function maskAccessKeyId(id: string): string {
  return `${id.slice(0, 4)}…${id.slice(-4)}`;
}

/** Long-lived (an IAM user's key) or temporary (STS session credentials, which expire). */
export function accessKeyKind(id: string): 'long-lived' | 'temporary' {
  return id.startsWith('ASIA') ? 'temporary' : 'long-lived';
}

/** Replaces every access key ID in `text` by its masked form (for messages that may echo one). */
export function maskAccessKeyIdsIn(text: string): string {
  return text.replace(ACCESS_KEY_ID_IN_TEXT, (id) => maskAccessKeyId(id));
}
