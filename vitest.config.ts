import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Test files that replace a module with `vi.mock`/`vi.doMock`: they need a fresh module graph
 * (`isolate: true`), since a module that an earlier file already imported would keep the real one.
 * Found by reading the files, so a new mocking test is isolated without editing this list.
 */
const mocking = readdirSync('test', { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.ts'))
  .map((file) => `test/${file.replaceAll('\\', '/')}`)
  .filter((file) => /\bvi\.(do)?[mM]ock\(/.test(readFileSync(file, 'utf8')));

export default defineConfig({
  test: {
    // The e2e files spawn the built binary against loopback servers; on a loaded 2-core machine one
    // file's tests took up to 35 s (timeouts.test.ts), so 20 s limits failed by load alone.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the CPUs: a single worker on a 2-core CI machine,
    // where the e2e files mostly wait on the binaries they spawn. Two workers there: 72.8-82.5 s →
    // 62.6-64.2 s for the suite (shared 2-core machine, load ~5). More CPUs keep the default.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    restoreMocks: true,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      // Every other file shares its worker's module cache (`isolate: false`): the AWS SDK, zod and
      // the fakes are imported once per worker instead of once per file, which halves the suite's
      // CPU time. Tests keep their state local (temp dirs, ephemeral ports, `vi.unstubAllEnvs`,
      // `fake.restore()`), so the order of files does not matter.
      {
        extends: true,
        test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: mocking, isolate: false },
      },
      ...(mocking.length
        ? [{ extends: true as const, test: { name: 'isolated', include: mocking, isolate: true } }]
        : []),
    ],
  },
});
