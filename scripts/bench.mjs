// Start-up benchmark: median wall time of the built binary for `--help` and for
// `init --dry-run --offline`, and proof that `--help` does not load the AWS SDK.
// Usage: npm run bench [-- --runs 21]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GITLAB_CLIENT_LOADED, SDK_LOADED, sdkProbeArgs } from './sdk-probe.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'gitlab-aws-oidc.js');
const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 21;
const cwd = mkdtempSync(join(tmpdir(), 'gao-bench-'));
const env = { ...process.env, CI: 'true', NO_COLOR: '1' };

function time(args, extraEnv = {}) {
  const samples = [];
  for (let i = 0; i < runs; i += 1) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [bin, ...args], {
      cwd,
      env: { ...env, ...extraEnv },
      encoding: 'utf8',
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  return {
    median: samples[Math.floor(samples.length / 2)],
    min: samples[0],
    max: samples[samples.length - 1],
  };
}

/** Runs the CLI under the SDK load probe, to prove --help skips the SDK. */
function sdkLoadedBy(args, marker = SDK_LOADED) {
  const r = spawnSync(process.execPath, [...sdkProbeArgs, bin, ...args], { cwd, env, encoding: 'utf8' });
  return r.stderr.includes(marker);
}

const offlineArgs = [
  'init',
  '--project',
  'grp/app',
  '--branch',
  'main',
  '--dry-run',
  '--offline',
  '--yes',
  '--no-ci-file',
  '--json',
];
try {
  const baseline = time(['--version']);
  const help = time(['--help']);
  const offline = time(offlineArgs);
  const fmt = (r) => `median ${r.median.toFixed(1)} ms (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)})`;
  console.log(`node ${process.version}, ${runs} runs each`);
  console.log(`--version                      ${fmt(baseline)}`);
  console.log(`--help                         ${fmt(help)}  [budget 150 ms]`);
  console.log(`init --dry-run --offline       ${fmt(offline)}  [budget 300 ms]`);
  console.log(`--help loads the AWS SDK:      ${sdkLoadedBy(['--help']) ? 'YES (bad)' : 'no'}`);
  console.log(`init --offline loads the SDK:  ${sdkLoadedBy(offlineArgs) ? 'yes' : 'no'}`);
  const gitlabBy = (args) => (sdkLoadedBy(args, GITLAB_CLIENT_LOADED) ? 'YES (bad)' : 'no');
  console.log(`--help loads the GitLab client: ${gitlabBy(['--help'])}`);
  console.log(`--offline loads GitLab client: ${gitlabBy(offlineArgs)}`);
  if (help.median > 150 || offline.median > 300) process.exitCode = 1;
} finally {
  rmSync(cwd, { recursive: true, force: true });
}
