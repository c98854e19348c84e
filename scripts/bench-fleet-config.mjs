// Fleet config benchmark: loading and validating a config for N projects (every member through init's
// own option parsing), against an in-memory GitLab listing. Not a timed test; figures go in notes.
// Usage: npm run build && node scripts/bench-fleet-config.mjs [-- --sizes 10,100,1000]
//
// Measured 2026-12-01 (shared 2-core machine, load average ~8; `npm run bench:fleet-config`): a group
// of N projects (2% archived, 5% excluded), one exact entry per tenth project, one glob entry:
//   N=10: 48 ms, N=100: 53 ms, N=1,000: 342-441 ms (930 members, each through init's option parsing),
//   heap 16-41 MB. At load average ~13 the same 1,000 took 1.1-2.1 s. Time grows linearly with N.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSelection } from '../dist/index.js';

const sizesFlag = process.argv.indexOf('--sizes');
const sizes = sizesFlag > 0 ? process.argv[sizesFlag + 1].split(',').map(Number) : [10, 100, 1000];
const dir = mkdtempSync(join(tmpdir(), 'gao-fleet-bench-'));

const project = (i) => ({
  id: 1000 + i,
  pathWithNamespace: `acme/team-${i % 20}/app-${i}`,
  namespace: { id: 10 + (i % 20), fullPath: `acme/team-${i % 20}`, kind: 'group' },
  defaultBranch: 'main',
  visibility: 'private',
  archived: i % 50 === 0,
  webUrl: `https://gitlab.com/acme/team-${i % 20}/app-${i}`,
});

function configFor(n) {
  const lines = [
    'version: 1',
    'group: acme',
    'exclude: ["acme/team-19/**"]',
    'defaults:',
    '  refs: { branches: [main] }',
    '  roleName: gitlab-{group}-{project}',
    '  permissions: { template: read-only }',
    '  tags: { team: platform }',
    'projects:',
    '  - match: "acme/team-1*/**"',
    '    refs: { branches: [main, "release/*"] }',
  ];
  // One exact entry per tenth project, as a large hand-kept file would have.
  for (let i = 0; i < n; i += 10) {
    lines.push(`  - path: acme/team-${i % 20}/app-${i}`, '    tags: { owner: "team-' + (i % 20) + '" }');
  }
  return `${lines.join('\n')}\n`;
}

console.log('projects  members  skipped  wall ms  heap MB (used after)');
for (const n of sizes) {
  const file = join(dir, `fleet-${n}.yml`);
  writeFileSync(file, configFor(n));
  const projects = Array.from({ length: n }, (_, i) => project(i));
  globalThis.gc?.();
  const start = process.hrtime.bigint();
  const r = await resolveSelection(
    { kind: 'config', file, include: [], exclude: [] },
    { yes: true },
    { cwd: dir, env: {}, gitlab: () => ({ listGroupProjects: async () => projects }) },
  );
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const heap = process.memoryUsage().heapUsed / 2 ** 20;
  console.log(
    `${String(n).padStart(8)}  ${String(r.members.length).padStart(7)}  ${String(r.skipped.length).padStart(7)}  ${ms.toFixed(0).padStart(7)}  ${heap.toFixed(1).padStart(7)}`,
  );
}
rmSync(dir, { recursive: true, force: true });
