/**
 * Which AWS credential variables a project sees, and which of them reach its jobs. Pure.
 *
 * A job gets a project's variables and those of every ancestor group; for one key, a project variable
 * wins over a group's, a subgroup's over its parent's (GitLab's precedence), whatever their environment
 * scopes. So a variable is shadowed when a level above it in precedence defines the same key for all
 * environments (`*`) or for the same environment scope. Scopes with other patterns are reported as in
 * effect: which one a job gets depends on its environment.
 */
import {
  CREDENTIAL_KEYS,
  type CredentialKey,
  findAccessKeyIds,
  maskAccessKeyId,
} from '../core/access-keys.js';
import type { CiVariable } from '../gitlab/api/ports.js';

/** One place variables come from, in precedence order: the project first, then its nearest group up. */
export interface VariableLevel {
  source: 'project' | 'group';
  /** The project's or group's full path. */
  path: string;
  /** Undefined when the token cannot read them (reported, not fatal). */
  variables: CiVariable[] | undefined;
}

export type CredentialKind = 'access-key-id' | 'secret-access-key' | 'session-token' | 'holds-key-id';

/** A credential variable as found; `keyIds` are full IDs and never leave the migrate module. */
export interface FoundVariable {
  key: string;
  kind: CredentialKind;
  source: 'project' | 'group';
  path: string;
  environmentScope: string;
  protected: boolean;
  masked: boolean;
  hidden: boolean;
  variableType: 'env_var' | 'file';
  /**
   * `key-id`: holds one or more access key IDs; `secret`: a secret (never read further); `hidden`: the
   * value cannot be read; `not-a-key-id`: an AWS_ACCESS_KEY_ID whose value is no key ID (a reference
   * such as `$OTHER`, or a placeholder).
   */
  value: 'key-id' | 'secret' | 'hidden' | 'not-a-key-id';
  keyIds: string[];
  inEffect: boolean;
  /** `project variable`, `group acme variable` — what shadows it. */
  shadowedBy?: string | undefined;
}

const SECRET_KEYS = new Set<string>(['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']);

function kindOf(key: string): CredentialKind | undefined {
  if (!(CREDENTIAL_KEYS as readonly string[]).includes(key)) return undefined;
  const k = key as CredentialKey;
  return k === 'AWS_ACCESS_KEY_ID'
    ? 'access-key-id'
    : k === 'AWS_SECRET_ACCESS_KEY'
      ? 'secret-access-key'
      : 'session-token';
}

/** The credential variables of one variable, or undefined when it is none. */
function classify(variable: CiVariable): Pick<FoundVariable, 'kind' | 'value' | 'keyIds'> | undefined {
  const named = kindOf(variable.key);
  if (variable.hidden || variable.value === undefined) {
    return named ? { kind: named, value: 'hidden', keyIds: [] } : undefined;
  }
  // A secret's value is never scanned or echoed in any form.
  if (SECRET_KEYS.has(variable.key)) return { kind: named as CredentialKind, value: 'secret', keyIds: [] };
  const keyIds = findAccessKeyIds(variable.value);
  if (named) return { kind: named, value: keyIds.length ? 'key-id' : 'not-a-key-id', keyIds };
  return keyIds.length ? { kind: 'holds-key-id', value: 'key-id', keyIds } : undefined;
}

function describeLevel(level: VariableLevel): string {
  return level.source === 'project' ? 'project variable' : `group ${level.path} variable`;
}

/** Every credential variable the levels hold, each marked in effect or shadowed (and by what). */
export function findCredentialVariables(levels: readonly VariableLevel[]): FoundVariable[] {
  const found: FoundVariable[] = [];
  levels.forEach((level, index) => {
    for (const variable of level.variables ?? []) {
      const c = classify(variable);
      if (!c) continue;
      const shadow = levels
        .slice(0, index)
        .find((above) =>
          (above.variables ?? []).some(
            (v) =>
              v.key === variable.key &&
              (v.environmentScope === '*' || v.environmentScope === variable.environmentScope),
          ),
        );
      found.push({
        key: variable.key,
        ...c,
        source: level.source,
        path: level.path,
        environmentScope: variable.environmentScope,
        protected: variable.protected,
        masked: variable.masked,
        hidden: variable.hidden,
        variableType: variable.variableType,
        inEffect: shadow === undefined,
        ...(shadow ? { shadowedBy: describeLevel(shadow) } : {}),
      });
    }
  });
  return found;
}

/** Masked key IDs of a variable, for output. */
export function maskedKeyIds(variable: Pick<FoundVariable, 'keyIds'>): string[] {
  return variable.keyIds.map(maskAccessKeyId);
}
