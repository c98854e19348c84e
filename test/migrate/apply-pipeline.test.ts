/**
 * The pipeline side of `migrate --apply`: the hidden job unsets the static key variables first (valid
 * GitLab CI), a later plain `init` of the same role keeps the line (the keys may still be variables),
 * and a role that never replaced a key does not get it.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InitOptions } from '../../src/init/options.js';
import { planPipeline, writePipeline } from '../../src/init/pipeline.js';
import { renderCiSnippet, UNSET_STATIC_KEYS } from '../../src/render/ci-file.js';
import { ciYamlToJs } from '../../src/render/ci-yaml.js';
import { schemaAvailable, validateCi, warnIfSchemaMissing } from '../helpers/ci-schema.js';
import { BASE_FLAGS, resolveFlags, tempDir } from '../init/helpers.js';

warnIfSchemaMissing();

const ARN = 'arn:aws:iam::111122223333:role/gitlab-oidc/gitlab-acme-platform-web';
const REPLACES = {
  userName: 'deploy-bot',
  variables: [{ key: 'AWS_ACCESS_KEY_ID', where: 'project variable' }],
};
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

type Hidden = { before_script: string[] };

async function options(extra: Partial<InitOptions> = {}): Promise<InitOptions & { ciFile: string }> {
  const o = await resolveFlags(BASE_FLAGS, tmp.dir);
  return { ...o, ciFile: o.ciFile as string, ...extra };
}

describe('migrate --apply: the pipeline stops the static key reaching the OIDC jobs', () => {
  it('renders the unset line first in the hidden job: valid GitLab CI, absent without it', () => {
    const input = {
      roleArn: ARN,
      region: 'eu-west-1',
      audience: 'https://gitlab.com',
      refs: [{ type: 'branch' as const, pattern: 'main' }],
      toolVersion: '1.0.0',
    };
    const js = ciYamlToJs(renderCiSnippet({ ...input, unsetStaticKeys: true })) as Record<string, Hidden>;
    expect(js['.aws-oidc']!.before_script[0]).toBe(UNSET_STATIC_KEYS);
    expect(js['.aws-oidc']!.before_script).toHaveLength(2);
    if (schemaAvailable) expect(validateCi(js)).toEqual([]);
    const plain = ciYamlToJs(renderCiSnippet(input)) as Record<string, Hidden>;
    expect(plain['.aws-oidc']!.before_script.join('\n')).not.toContain('unset');
  });

  it('a later init of the role keeps the line (no change); a role that replaced no key never gets it', async () => {
    const migrated = await planPipeline(await options({ replacesStaticKey: REPLACES }), ARN);
    await writePipeline(migrated, tmp.dir, []);
    const text = readFileSync(migrated.path, 'utf8');
    expect(text).toContain(`    - ${UNSET_STATIC_KEYS}\n`);
    expect(text).toContain('until `gitlab-aws-oidc migrate --retire`');

    const rerun = await planPipeline(await options(), ARN);
    expect(rerun.action).toBe('no-op');

    const other = await planPipeline(
      await options(),
      'arn:aws:iam::111122223333:role/gitlab-oidc/gitlab-acme-platform-web-dev',
    );
    const js = ciYamlToJs(other.text) as Record<string, Hidden>;
    const otherHidden = Object.keys(js).find((k) => k.startsWith('.aws-oidc-'));
    expect(otherHidden).toBeDefined();
    expect(js[otherHidden as string]!.before_script).not.toContain(UNSET_STATIC_KEYS);
    expect(js['.aws-oidc']!.before_script[0]).toBe(UNSET_STATIC_KEYS);
  });
});
