/**
 * What `--help` and `init --dry-run --offline` load, read from the built bundle's static import graph
 * (dist/cli.js, and the init command's chunk it imports dynamically): never timing. esbuild marks each
 * bundled module with a `// <path>` comment line, which is what is looked for. Each forbidden module is
 * first shown to be in dist/ at all, so a check cannot pass because the marker changed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = join(root, 'dist');

/** Files reached from `file` through static imports (`import … from "./x.js"`, `import "./x.js"`). */
function staticClosure(file: string): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/^(?:import\s[^;]*?from\s*|import\s*)"(\.\.?\/[^"]+)";?$/gms)) {
      visit(join(f, '..', m[1] as string));
    }
  };
  visit(file);
  return seen;
}

/** The bundled modules (esbuild's `// path` lines) of these files. */
function modulesIn(files: Iterable<string>): string[] {
  const out: string[] = [];
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/^\/\/ (\S+\.(?:[cm]?js|ts))$/gm))
      out.push(m[1] as string);
  }
  return out;
}

/** The chunk `cli.js` imports dynamically for a command (`const { runInitCommand } = await import("…")`). */
function commandChunk(exportName: string): string {
  const cli = readFileSync(join(dist, 'cli.js'), 'utf8');
  const m = new RegExp(`\\{ ${exportName} \\} = await import\\("(\\./[^"]+)"\\)`).exec(cli);
  if (!m) throw new Error(`dist/cli.js does not import ${exportName} dynamically`);
  return join(dist, m[1] as string);
}

const ALL = () => [
  join(dist, 'cli.js'),
  ...readdirSync(join(dist, 'chunks'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(dist, 'chunks', f)),
];

beforeAll(() => {
  if (!existsSync(join(dist, 'cli.js'))) throw new Error('run `npm run build` before the e2e tests');
});

/** Asserts `forbidden` (substrings of module paths) are bundled somewhere, but not in `files`. */
function expectNotLoaded(files: Set<string>, forbidden: string[]) {
  const everywhere = modulesIn(ALL());
  const reached = modulesIn(files);
  for (const f of forbidden) {
    expect(
      everywhere.some((m) => m.includes(f)),
      `${f} is not in dist/ at all: the check would be vacuous`,
    ).toBe(true);
    expect(
      reached.filter((m) => m.includes(f)),
      `${f} is in the start-up path`,
    ).toEqual([]);
  }
}

describe('start-up import graph (dist/)', () => {
  it('--help: no zod, yaml, picomatch, proxy agent, nor the lint rule table', () => {
    const help = staticClosure(join(dist, 'cli.js'));
    expectNotLoaded(help, [
      'node_modules/zod/',
      'node_modules/yaml/',
      'node_modules/picomatch/',
      'node_modules/https-proxy-agent/',
      'src/core/lint-rules/rules.ts',
    ]);
  });

  it('init (a single project, --offline): no selection/config schemas, no proxy or TLS probe, zod tree-shaken', () => {
    const init = staticClosure(commandChunk('runInitCommand'));
    expect(modulesIn(init)).toContain('src/init/resolve.ts');
    expectNotLoaded(init, [
      // --group/--config only: the selection and config-file schemas (and picomatch).
      'src/fleet/selection-options.ts',
      'src/config/schema.ts',
      'node_modules/picomatch/',
      // Network only: the thumbprint TLS probe and the proxy agents.
      'src/gitlab/thumbprint.ts',
      'src/io/proxy.ts',
      'node_modules/https-proxy-agent/',
    ]);
    // zod is there (the options are parsed with it), imported as a namespace (`import * as z`) so that
    // esbuild tree-shakes it: `import { z }` bundled every locale and the JSON Schema importer (755 KB).
    const zod = modulesIn(init).filter((m) => m.includes('node_modules/zod/'));
    expect(zod.some((m) => m.endsWith('zod/v4/classic/schemas.js'))).toBe(true);
    expect(zod.filter((m) => m.includes('/locales/') && !m.endsWith('/locales/en.js'))).toEqual([]);
    expect(zod.filter((m) => m.includes('from-json-schema'))).toEqual([]);
    // No chunk of the path imports the TLS or network modules.
    const networking = [...init].filter((f) =>
      /^import \w+ from "node:(?:tls|net|https)";$/m.test(readFileSync(f, 'utf8')),
    );
    expect(networking).toEqual([]);
  });
});
