import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseFleetConfig } from '../../src/config/load.js';
import { CONFIG_SCHEMA_ID, renderFleetConfigJsonSchema } from '../../src/config/schema.js';

const committed = readFileSync(new URL('../../schemas/gitlab-aws-oidc.schema.json', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  files: string[];
  scripts: Record<string, string>;
};

/** The README's example config: the yaml block that starts with the yaml-language-server line. */
function readmeExample(): string {
  const match = /```yaml\n(# yaml-language-server: \$schema=[^\n]+\n[\s\S]*?)```/.exec(readme);
  if (!match?.[1]) throw new Error('README has no fleet config example');
  return match[1];
}

const validator = () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  return ajv.compile(JSON.parse(committed) as object);
};

describe('schemas/gitlab-aws-oidc.schema.json', () => {
  it('is the JSON Schema generated from the zod schema (run `npm run schema` after changing it)', () => {
    expect(committed).toBe(renderFleetConfigJsonSchema());
    expect(JSON.parse(committed)).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: CONFIG_SCHEMA_ID,
      additionalProperties: false,
    });
  });

  it('ships in the package, and the README points editors at it', () => {
    expect(pkg.files).toContain('schemas');
    expect(pkg.scripts.schema).toMatch(/scripts\/schema\.mjs/);
    expect(readmeExample().split('\n')[0]).toBe(`# yaml-language-server: $schema=${CONFIG_SCHEMA_ID}`);
  });

  it('accepts the README example, as the loader does', () => {
    const text = readmeExample();
    const validate = validator();
    expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
    const loaded = parseFleetConfig(text, {
      path: '/x/gitlab-aws-oidc.yml',
      shownPath: 'gitlab-aws-oidc.yml',
    });
    expect(loaded.config.projects).toHaveLength(3);
  });

  it('refuses what the loader refuses by shape: an unknown key, a bad enum, a wrong type', () => {
    const validate = validator();
    for (const bad of [
      { version: 1, group: 'a', groops: 1 },
      { version: 1, group: 'a', defaults: { delivery: 'email' } },
      { version: 1, group: 'a', defaults: { refs: { branches: 'main' } } },
      { version: 2, group: 'a' },
      { version: 1, projects: [{ path: 'a/b', colour: 'red' }] },
    ]) {
      expect(validate(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
