// Fleet + GitLab benchmark: `init --group acme --merge-request` for N projects through the fleet
// command, in-process, against the loopback IAM/STS (real SDK clients) and the loopback fake GitLab
// (the real GitLab client over TLS): fresh onboarding, then a re-run that must make no GitLab write
// and no mutating IAM call. Prints wall time, GitLab calls by endpoint (reads / writes), IAM calls by
// action and peak heap; not a timed test. Both servers run in this process, so they share its cost.
// The TypeScript sources are bundled with esbuild first (as scripts/build.mjs does).
// Usage: npm run bench:fleet-gitlab [-- --sizes 10,100,1000 --concurrency 8]
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
