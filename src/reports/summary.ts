import { markdownTable } from 'markdown-table';
import type { TrialResult } from '../runs/record.js';
import { wilson } from './stats.js';

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

/**
 * The end-of-run table: per task, variant and model, the counts of each status and the pass rate
 * over graded trials (errors and skips are shown, never counted as failures), with its 95% Wilson interval.
 */
export function summaryTable(trials: TrialResult[]): string {
  const groups = new Map<string, TrialResult[]>();
  for (const t of trials) {
    const k = `${t.task}\u0000${t.variant}\u0000${t.model}`;
    groups.set(k, [...(groups.get(k) ?? []), t]);
  }
  const rows = [...groups.entries()].map(([k, ts]) => {
    const [task, variant, model] = k.split('\u0000') as [string, string, string];
    const count = (s: TrialResult['status']) => ts.filter((t) => t.status === s).length;
    const passed = count('passed');
    const graded = passed + count('failed');
    const ci = wilson(passed, graded);
    const cost = ts.reduce((a, t) => a + (t.costUsd ?? 0), 0);
    return [
      task,
      variant,
      model,
      String(passed),
      String(count('failed')),
      String(count('error')),
      String(count('skipped')),
      graded ? `${pct(passed / graded)} [${pct(ci.low)}, ${pct(ci.high)}]` : 'n/a',
      `$${cost.toFixed(4)}`,
    ];
  });
  return markdownTable([['task', 'variant', 'model', 'passed', 'failed', 'error', 'skipped', 'pass rate [95% CI]', 'cost'], ...rows]);
}
