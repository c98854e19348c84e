// Fleet benchmark: runFleet (init for N projects) against the loopback IAM/STS with the CLI's own clients
// (aws/factory.ts: adaptive retry, 6 attempts, timeouts), fresh onboarding then a re-run, and a bare SDK
// script making the same calls (same actions and counts: checked and printed), with the same client
// settings and the same concurrency. Prints wall time, phase times, IAM calls by action, planning reads
// (IAM reads before the first change, STS left out), peak heap; not a timed test.
// The TypeScript sources are bundled with esbuild first (as scripts/build.mjs does); the loopback
// server runs in this process, so both measurements share its cost.
// Usage: npm run bench:fleet [-- --sizes 10,100,1000 --concurrency 8]
//
// Measured 2026-12-01 14:05 UTC (shared 2-core machine, load average 11-15, so +-50% between runs;
// concurrency 8; server in-process):
//   N      fresh     bare   ratio   re-run  bare re-run  mutating/proj  planning reads  heap fresh/re-run
//   10     1,404 ms   606 ms 2.32x    297 ms    223 ms    2.100 (21)     5 / 5           +8 / +6 MB
//   100    5,615 ms 2,825 ms 1.99x    806 ms    570 ms    2.010 (201)    5 / 5           +22 / +16 MB
//   1,000 21,326 ms 11,566 ms 1.84x 2,299 ms  1,208 ms    2.001 (2,001)  5 / 5           +76 / +20 MB
// Fresh: CreateRole + AttachRolePolicy per project, one CreateOpenIDConnectProvider; re-run: 0 mutating.
// Planning reads: ListOpenIDConnectProviders, ListRoles and GetAccountAuthorizationDetails (pages of
// 1,000), GetPolicy once for the managed policy, GetAccountSummary (fresh) or GetOpenIDConnectProvider
// (re-run): constant up to 1,000 roles, then +2 per 1,000. Phases at N=1,000 (fresh): planning 4.7 s,
// re-planning against the new provider 0.7 s, applying 15.7 s. Profile (--cpu-prof, N=300): the apply
// phase is wait-bound (applyPlan's own CPU ~1 ms per project); planning is CPU-bound at ~4 ms per
// project, half of it the trust-policy lint and expect-deny probes (init/run.ts checkSetupTrust).
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
