import { markdownTable } from 'markdown-table';
import type { TrialResult } from '../runs/record.js';
import { cellStats, groupCells } from './stats.js';

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

/**
 * The end-of-run table: per task, variant and model, the counts of each status and the pass rate
 * over graded trials (errors and skips are shown, never counted as failures), with its 95% Wilson interval.
 */
export function summaryTable(trials: TrialResult[]): string {
  const rows = groupCells(trials).map((cell) => {
    const s = cellStats(cell.trials);
    const cost = cell.trials.reduce((a, t) => a + (t.costUsd ?? 0), 0);
    return [
      cell.task,
      cell.variant,
      cell.model,
      String(s.passes),
      String(s.failures),
      String(s.errors),
      String(s.skips),
      s.passRate === null ? 'n/a' : `${pct(s.passRate)} [${pct(s.wilsonCi.low)}, ${pct(s.wilsonCi.high)}]`,
      `$${cost.toFixed(4)}`,
    ];
  });
  return markdownTable([['task', 'variant', 'model', 'passed', 'failed', 'error', 'skipped', 'pass rate [95% CI]', 'cost'], ...rows]);
}
