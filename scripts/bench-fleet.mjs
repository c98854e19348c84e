// Fleet benchmark: runFleet (init for N projects) against the loopback IAM/STS (real SDK clients over
// real HTTP), fresh onboarding then a re-run, and a bare SDK script making the same minimal calls with
// the same concurrency. Prints wall time, IAM calls by action, peak heap; not a timed test.
// The TypeScript sources are bundled with esbuild first (as scripts/build.mjs does); the loopback
// server runs in this process, so both measurements share its cost.
// Usage: npm run bench:fleet [-- --sizes 10,100,1000 --concurrency 8]
//
// Measured 2026-12-01 (shared 2-core machine, load average 14-20; concurrency 8; server in-process):
//   N      fleet fresh   re-run    bare SDK   ratio   mutating         heap peak (fresh)
//   10       1,142 ms     411 ms     582 ms   1.96x   31 (3.1/proj)    +16 MB
//   100      9,201 ms   4,640 ms   3,483 ms   2.64x   301 (3.01/proj)  +27 MB
//   1,000   59,576 ms  53,157 ms  44,470 ms   1.34x   3,001 (3/proj)   +79 MB   (max RSS 186 MB)
// Re-run: 0 mutating calls at every N. Planning reads: 2 per project (GetRole + ListAttachedRolePolicies,
// the role port's pair) + 1 GetPolicy per project on a re-run (the detached tool-policy check), the
// provider, identity and managed policy once: not yet the bulk GetAccountAuthorizationDetails read.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const sizes = arg('--sizes', '10,100,1000').split(',').map(Number);
const concurrency = Number(arg('--concurrency', '8'));
// Inside the package (dist/ is build output), so the bundle's bare imports resolve to node_modules.
mkdirSync(join(root, 'dist'), { recursive: true });
const dir = mkdtempSync(join(root, 'dist', '.bench-fleet-'));
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

try {
  const outfile = join(dir, 'bench-fleet.mjs');
  await build({
    entryPoints: [join(root, 'scripts/bench-fleet-entry.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'error',
    absWorkingDir: root,
  });
  const { benchFleet } = await import(pathToFileURL(outfile).href);
  const fmtCalls = (calls) =>
    Object.entries(calls)
      .map(([a, n]) => `${a} ${n}`)
      .join(', ');
  console.log(`node ${process.version}, concurrency ${concurrency}`);
  for (const n of sizes) {
    const { fresh, rerun, bare } = await benchFleet(n, concurrency);
    const ratio = fresh.wallMs / bare.wallMs;
    console.log(`\nN=${n}`);
    console.log(
      `  fleet, fresh:  ${fresh.wallMs.toFixed(0)} ms, ${fresh.mutating} mutating (${(fresh.mutating / n).toFixed(2)}/project), heap +${fresh.heapPeakMb.toFixed(1)} MB peak`,
    );
    console.log(`    ${fmtCalls(fresh.calls)}`);
    console.log(
      `  fleet, re-run: ${rerun.wallMs.toFixed(0)} ms, ${rerun.mutating} mutating, heap +${rerun.heapPeakMb.toFixed(1)} MB peak`,
    );
    console.log(`    ${fmtCalls(rerun.calls)}`);
    console.log(
      `  bare SDK:      ${bare.wallMs.toFixed(0)} ms (fleet/bare ${ratio.toFixed(2)}x, aim <= 1.3x)`,
    );
    console.log(`    ${fmtCalls(bare.calls)}`);
  }
  const usage = process.resourceUsage();
  console.log(`\nprocess max RSS ${(usage.maxRSS / 1024).toFixed(0)} MB (server and client in one process)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
