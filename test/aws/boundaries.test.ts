/** Only the factory (and the port implementations it alone imports) load the AWS SDK at runtime. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');
const IMPLEMENTATIONS = [
  'aws/iam.ts',
  'aws/iam-providers.ts',
  'aws/iam-roles.ts',
  'aws/iam-policies.ts',
  'aws/iam-account.ts',
  'aws/iam-users.ts',
  'aws/sts.ts',
];
const SDK_MODULES = new Set(['aws/factory.ts', ...IMPLEMENTATIONS]);

function listSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listSources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Runtime (non-type) import specifiers, static and dynamic. */
function listRuntimeImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms))
    out.push(m[1] as string);
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) out.push(m[1] as string);
  return out;
}

const files = listSources(SRC).map((path) => {
  const rel = relative(SRC, path);
  const imports = listRuntimeImports(readFileSync(path, 'utf8'));
  // Relative specifiers resolved to src-relative .ts paths.
  const local = imports
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(SRC, join(dirname(path), s)).replace(/\.js$/, '.ts'));
  return { rel, imports, local };
});

describe('SDK boundary', () => {
  it('sees the imports it checks', () => {
    const factory = files.find((f) => f.rel === 'aws/factory.ts');
    expect(factory?.imports).toContain('@aws-sdk/client-iam');
    expect(factory?.local).toContain('aws/iam.ts');
  });

  it('loads @aws-sdk/* only in the factory and the port implementations', () => {
    const offenders = files.filter(
      (f) => !SDK_MODULES.has(f.rel) && f.imports.some((s) => s.startsWith('@aws-sdk/')),
    );
    expect(offenders.map((f) => f.rel)).toEqual([]);
  });

  it('reaches the port implementations only through the factory', () => {
    const offenders = files.filter(
      (f) => !SDK_MODULES.has(f.rel) && f.local.some((target) => IMPLEMENTATIONS.includes(target)),
    );
    expect(offenders.map((f) => f.rel)).toEqual([]);
  });
});
