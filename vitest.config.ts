import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'tasks/*/test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The CI machine has 2 cores, but the suite mostly waits (sandbox start-up, time limits that must expire,
    // local servers): a full run used 8 CPU-minutes in 13 wall-minutes at 2 workers, 31% of the two cores.
    // Four files at a time keep the cores busy; no test depends on having a core to itself.
    maxWorkers: 4,
    // In CI, also write vitest's own counts to a file for .ci/run's closing line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-report.json' }]] : ['default'],
  },
});
