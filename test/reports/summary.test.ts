import { expect, it } from 'vitest';
import { summaryTable } from '../../src/reports/summary.js';
import type { TrialResult } from '../../src/runs/record.js';

const mk = (task: string, status: TrialResult['status'], epoch: number, costUsd: number | null): TrialResult => ({
  task, variant: 'v', sample: `s${epoch % 3}`, model: 'm', epoch, status, score: 0, checks: [], limit: null,
  usage: { inputTokens: 1, outputTokens: 2, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
  costUsd, durationMs: 0, error: null, transcript: null, turns: 0, finishedAt: '2026-11-21T00:00:00.000Z',
});

it('the end-of-run table counts each status and gives the Wilson interval over graded trials only', () => {
  const statuses = ['passed', 'failed', 'error', 'skipped', 'passed', 'passed', 'failed'] as const;
  const table = summaryTable([
    ...statuses.map((s, i) => mk('a', s, i, i % 2 ? 0.0123 : null)),
    mk('c', 'skipped', 0, null),
    mk('c', 'error', 1, 0.1),
  ]);
  // a: 3 passed of 5 graded (the error and the skip are left out): Wilson 95% [0.231, 0.882]; cost 3 x 0.0123,
  // and 4 trials that used tokens at an unknown price: said, never added as $0.
  expect(table).toMatch(/\| a +\| v +\| m +\| 3 +\| 2 +\| 1 +\| 1 +\| 60% \[23%, 88%\] +\| \$0\.0369 \+ unknown \(4 trial\(s\)\) \|/);
  // c: nothing graded, so no rate; the error's cost still counts; the skip never called a model, so it costs nothing.
  expect(table).toMatch(/\| c +\| v +\| m +\| 0 +\| 0 +\| 1 +\| 1 +\| n\/a +\| \$0\.1000 +\|/);
});
