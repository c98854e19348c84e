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
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const phases = (f) => f.phases.map(([l, ms]) => `${l} ${ms.toFixed(0)} ms`).join(', ');
  console.log(`node ${process.version}, concurrency ${concurrency}`);
  const rows = [];
  for (const n of sizes) {
    const { fresh, rerun, bare, bareRerun } = await benchFleet(n, concurrency);
    const ratio = fresh.wallMs / bare.wallMs;
    rows.push({ n, fresh, rerun, bare, bareRerun, ratio });
    console.log(`\nN=${n}`);
    console.log(
      `  fleet, fresh:  ${fresh.wallMs.toFixed(0)} ms, ${fresh.mutating} mutating (${(fresh.mutating / n).toFixed(2)}/project), planning reads ${fresh.planningReads}, heap +${fresh.heapPeakMb.toFixed(1)} MB peak`,
    );
    console.log(`    ${fmtCalls(fresh.calls)}`);
    console.log(`    phases: ${phases(fresh)}`);
    console.log(
      `  fleet, re-run: ${rerun.wallMs.toFixed(0)} ms, ${rerun.mutating} mutating, planning reads ${rerun.planningReads}, heap +${rerun.heapPeakMb.toFixed(1)} MB peak`,
    );
    console.log(`    ${fmtCalls(rerun.calls)}`);
    console.log(
      `  bare SDK:      ${bare.wallMs.toFixed(0)} ms (fleet/bare ${ratio.toFixed(2)}x, aim <= 1.3x); same calls as the fleet: ${same(bare.calls, fresh.calls) ? 'yes' : 'NO'}`,
    );
    if (!same(bare.calls, fresh.calls)) console.log(`    ${fmtCalls(bare.calls)}`);
    console.log(
      `  bare re-run:   ${bareRerun.wallMs.toFixed(0)} ms (fleet/bare ${(rerun.wallMs / bareRerun.wallMs).toFixed(2)}x); same calls: ${same(bareRerun.calls, rerun.calls) ? 'yes' : 'NO'}`,
    );
    if (!same(bareRerun.calls, rerun.calls)) console.log(`    ${fmtCalls(bareRerun.calls)}`);
  }
  console.log(
    '\n  N      fresh      bare  ratio  re-run  bare re-run  mutating/proj  planning reads (fresh/re-run)  heap fresh/re-run',
  );
  for (const r of rows)
    console.log(
      `  ${String(r.n).padEnd(5)} ${r.fresh.wallMs.toFixed(0).padStart(6)} ms ${r.bare.wallMs.toFixed(0).padStart(6)} ms ${r.ratio.toFixed(2)}x ${r.rerun.wallMs.toFixed(0).padStart(5)} ms ${r.bareRerun.wallMs.toFixed(0).padStart(7)} ms  ${(r.fresh.mutating / r.n).toFixed(3).padStart(8)}      ${String(r.fresh.planningReads).padStart(5)} / ${String(r.rerun.planningReads).padEnd(5)} (budget ${1 + r.n / 100})     +${r.fresh.heapPeakMb.toFixed(0)} / +${r.rerun.heapPeakMb.toFixed(0)} MB`,
    );
  const usage = process.resourceUsage();
  console.log(`\nprocess max RSS ${(usage.maxRSS / 1024).toFixed(0)} MB (server and client in one process)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
