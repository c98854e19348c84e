// Fleet + GitLab benchmark: `init --group acme --merge-request` for N projects through the fleet
// command, in-process, against the loopback IAM/STS (real SDK clients) and the loopback fake GitLab
// (the real GitLab client over TLS): fresh onboarding, then a re-run that must make no GitLab write
// and no mutating IAM call. Prints wall time, GitLab calls by endpoint (reads / writes), IAM calls by
// action and peak heap; not a timed test. Both servers run in this process, so they share its cost.
// The TypeScript sources are bundled with esbuild first (as scripts/build.mjs does).
// Usage: npm run bench:fleet-gitlab [-- --sizes 10,100,1000 --concurrency 8]
//
// Measured 2026-12-01 (shared 2-core machine, load average 9-17: wall time is mostly waiting for a core,
// CPU time is the steadier figure; concurrency 8; both servers in this process):
//   N      fresh wall / CPU      re-run wall / CPU    GitLab reads (fresh / re-run)   writes   IAM mutating
//   10       5,739 /  1,898 ms    3,572 /    903 ms     41 /    51                    20 / 0    31 / 0
//   100     38,491 /  6,424 ms   27,777 /  4,733 ms    401 /   501                   200 / 0   301 / 0
//   1,000  295,241 / 44,047 ms   60,919 / 23,365 ms  4,010 / 5,010                 2,000 / 0 3,001 / 0
// Per project: 4 GitLab reads fresh (protected branches, the file, the setup branch, its open MRs), 5 on
// a re-run (the file on the setup branch too), 2 writes (commit, MR), 0 GET /projects/:id (the group
// listing, 1 call per 100 projects, gives each project). Heap peak +22 / +42 / +199 MB fresh (the fake
// GitLab's own state included), max RSS 363 MB at 1,000.
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
mkdirSync(join(root, 'dist'), { recursive: true });
const dir = mkdtempSync(join(root, 'dist', '.bench-fleet-gitlab-'));
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

try {
  const outfile = join(dir, 'bench-fleet-gitlab.mjs');
  await build({
    entryPoints: [join(root, 'scripts/bench-fleet-gitlab-entry.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'error',
    absWorkingDir: root,
  });
  const { benchFleetGitlab } = await import(pathToFileURL(outfile).href);
  const list = (calls) =>
    Object.entries(calls)
      .map(([a, n]) => `${a} ${n}`)
      .join(', ');
  console.log(`node ${process.version}, concurrency ${concurrency}`);
  let failed = false;
  for (const n of sizes) {
    const { fresh, rerun } = await benchFleetGitlab(n, concurrency);
    console.log(`\nN=${n}`);
    for (const [label, f] of [
      ['fresh ', fresh],
      ['re-run', rerun],
    ]) {
      console.log(
        `  ${label}: ${f.wallMs.toFixed(0)} ms wall, ${f.cpuMs.toFixed(0)} ms CPU; GitLab ${f.gitlabReads} reads (${(f.gitlabReads / n).toFixed(2)}/project) + ${f.gitlabWrites} writes; IAM ${f.iamMutating} mutating; heap +${f.heapPeakMb.toFixed(1)} MB peak`,
      );
      console.log(`    ${f.summary}`);
      console.log(`    GitLab: ${list(f.gitlab)}`);
      console.log(`    IAM:    ${list(f.iam)}`);
    }
    if (!fresh.exitOk || !rerun.exitOk || rerun.gitlabWrites !== 0 || rerun.iamMutating !== 0) {
      failed = true;
      console.log('  FAILED: the fresh run did not finish, or the re-run changed something');
    }
  }
  const usage = process.resourceUsage();
  console.log(`\nprocess max RSS ${(usage.maxRSS / 1024).toFixed(0)} MB (servers and client in one process)`);
  if (failed) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
