import { markdownTable } from 'markdown-table';
import { addUsage, ZERO_USAGE, type Usage } from '../agents/prices.js';
import type { TrialResult } from '../runs/record.js';
import { pct } from '../format.js';
import { cellStats, groupCells } from './cells.js';


/**
 * The end-of-run table: per task, variant and model, the counts of each status and the pass rate
 * over graded trials (errors and skips are shown, never counted as failures), with its 95% Wilson interval.
 */
export function summaryTable(trials: TrialResult[]): string {
  const rows = groupCells(trials).map((cell) => {
    const s = cellStats(cell.trials);
    const cost = costCell(cell.trials.map(knownCost));
    return [
      cell.task,
      cell.variant,
      cell.model,
      String(s.passes),
      String(s.failures),
      String(s.errors),
      String(s.skips),
      s.passRate === null ? 'n/a' : `${pct(s.passRate)} [${pct(s.wilsonCi.low)}, ${pct(s.wilsonCi.high)}]`,
      cost,
    ];
  });
  return markdownTable([['task', 'variant', 'model', 'passed', 'failed', 'error', 'skipped', 'pass rate [95% CI]', 'cost'], ...rows]);
}

/** A trial's cost, where a trial that never called a model (skipped, no tokens) cost nothing whatever its price. */
function knownCost(t: TrialResult): number | null {
  const u = t.usage;
  if (t.status === 'skipped' || u.inputTokens + u.outputTokens + u.cacheReadInputTokens + u.cacheCreationInputTokens === 0) return t.costUsd ?? 0;
  return t.costUsd;
}

/**
 * A sum of costs as shown: "$x" when every price is known, "unknown" when none is, "$x + unknown (n)" when some
 * are not. A model missing from the price table never reads as $0.0000.
 */
export function costCell(costs: Array<number | null>): string {
  const known = costs.filter((c): c is number => c !== null);
  const unknown = costs.length - known.length;
  if (costs.length && !known.length) return 'unknown';
  const sum = `$${known.reduce((a, c) => a + c, 0).toFixed(4)}`;
  return unknown ? `${sum} + unknown (${unknown} trial(s))` : sum;
}

/** End-of-run lines on the judge's spending (apart from the agents'); none when no judge was called. */
export function judgeSummaryLines(trials: TrialResult[]): string[] {
  const byModel = new Map<string, { trials: number; requests: number; usage: Usage; cost: number | null }>();
  for (const t of trials) {
    if (!t.judge) continue;
    const m = byModel.get(t.judge.model) ?? { trials: 0, requests: 0, usage: { ...ZERO_USAGE }, cost: 0 };
    m.trials++;
    m.requests += t.judge.requests;
    m.usage = addUsage(m.usage, t.judge.usage);
    m.cost = m.cost === null || t.judge.costUsd === null ? null : m.cost + t.judge.costUsd;
    byModel.set(t.judge.model, m);
  }
  return [...byModel].map(
    ([model, m]) =>
      `judge ${model}: ${m.trials} trial(s) graded, ${m.requests} request(s), ${m.usage.inputTokens} input / ${m.usage.outputTokens} output tokens, ` +
      (m.cost === null ? 'cost unknown (model not in the price table)' : `$${m.cost.toFixed(4)}`) +
      ' (not included in the agents\' cost)',
  );
}

