/**
 * GitLab's own JSON schema for `.gitlab-ci.yml` (draft-07), kept outside the repository in
 * `<repo>/../shared/gitlab-ci-schema/ci.json` (override with GITLAB_CI_SCHEMA). When it is absent the
 * schema tests are skipped, loudly: use `describe.skipIf(!schemaAvailable)` and call `warnIfSchemaMissing()`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

export const schemaPath =
  process.env.GITLAB_CI_SCHEMA ??
  fileURLToPath(new URL('../../../shared/gitlab-ci-schema/ci.json', import.meta.url));

export const schemaAvailable = existsSync(schemaPath);

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
  // strict: false — the schema uses keywords ajv does not know (markdownDescription, deprecated).
  // The schema uses the formats uri, uri-reference, date-time and regex. Rather than add ajv-formats,
  // register lenient checks: `pattern` constraints next to them still apply.
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    formats: {
      uri: (s: string) => URL.canParse(s),
      'uri-reference': true,
      'date-time': (s: string) => !Number.isNaN(Date.parse(s)),
      regex: (s: string) => isRegex(s),
    },
  });
  compiled = ajv.compile(schema);
  return compiled;
}

function isRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** Validates a parsed pipeline; returns one line per error (empty = valid). */
export function validateCi(obj: unknown): string[] {
  const validate = validator();
  if (validate(obj)) return [];
  return (validate.errors ?? []).map(formatError);
}

function formatError(e: ErrorObject): string {
  return `${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`;
}

/** Prints why schema tests are skipped; call at module level in each test file that uses the schema. */
export function warnIfSchemaMissing(): void {
  if (!schemaAvailable) {
    console.warn(
      `[ci-schema] GitLab CI schema not found at ${schemaPath}: schema validation tests are SKIPPED. ` +
        'Provide it there or set GITLAB_CI_SCHEMA to its path.',
    );
  }
}
