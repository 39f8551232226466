import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'tasks/*/test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Sandboxed Python runs are CPU-heavy; the CI machine has 2 cores.
    maxWorkers: 2,
    // In CI, also write vitest's own counts to a file for .ci/run's closing line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-report.json' }]] : ['default'],
  },
});
