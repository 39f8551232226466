import type { TrialResult } from '../runs/record.js';
import { studentTQuantile, Z95 } from '../stats/exact.js';
import { clusteredSe, wilson, type Interval } from '../stats/intervals.js';
import { passAtK, passHatK } from '../stats/pass-at-k.js';

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function mean(xs: number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

const isGraded = (t: TrialResult) => t.status === 'passed' || t.status === 'failed';

export interface PassAtKRow {
  k: number;
  /** Mean over samples of the per-sample pass@k; null when some sample has fewer than k graded trials. */
  passAtK: number | null;
  /** Mean over samples of the per-sample pass^k; null when some sample has fewer than k graded trials. */
  passHatK: number | null;
}

/** Statistics of one cell: the trials of one task, variant and model. JSON-serializable. */
export interface CellStats {
  task: string;
  variant: string;
  model: string;
  /** All trials, whatever their status. */
  trials: number;
  passes: number;
  failures: number;
  /** Harness/grader/API errors: shown, never counted in the rate. */
  errors: number;
  /** Requirements not met here: shown, never counted in the rate. */
  skips: number;
  /** passes + failures: the denominator of the rate. */
  graded: number;
  /** Distinct samples with at least one graded trial. */
  samples: number;
  /** passes / graded; null when nothing was graded. */
  passRate: number | null;
  /** Which interval `ci` is: 'clustered' when the t interval clustered by sample is wider than Wilson's somewhere (then the hull of both). */
  interval: 'wilson' | 'clustered';
  /** The 95% interval of the pass rate that this cell reports (see `interval`). */
  ci: Interval;
  /** The 95% Wilson interval, always (it treats trials as independent). */
  wilsonCi: Interval;
  /** Standard error of passRate clustered by sample; null with fewer than two samples. */
  clusteredSe: number | null;
  /** pass@k and pass^k, computed per sample and averaged over samples (each sample weighs the same). */
  passAtK: PassAtKRow[];
  /** Mean grader score over graded trials. */
  meanScore: number | null;
  /** Median output tokens over graded trials. */
  medianOutputTokens: number | null;
  /** Median of input + output + cache-read + cache-creation tokens over graded trials. */
  medianTotalTokens: number | null;
  /** Mean cost per trial over trials that ran (not skipped) and have a cost (costUsd not null); errors count, they were paid for. */
  meanCostUsd: number | null;
  /** Newest finishedAt of any trial (ISO string). */
  latestFinishedAt: string | null;
}

export interface CellStatsOptions {
  /**
   * The k of pass@k and pass^k. Default [1, 5], keeping only the k that every sample has enough graded
   * trials for. A k given here is always reported; its values are null when some sample has fewer than k.
   */
  k?: number[];
}

/**
 * Statistics of ONE cell (same task, variant and model; throws otherwise). Errors and skips are counted
 * and shown but excluded from the rate, the intervals, pass@k and the means of score and tokens.
 *
 * The interval: with graded trials from one sample, the Wilson interval. With G >= 2 samples, trials of the
 * same sample are correlated (a hard sample fails every epoch), so the interval is p ± t·SE with the SE
 * clustered by sample and t the 0.975 quantile of Student's t with G - 1 degrees of freedom (a normal quantile
 * with 2 to 5 clusters covers only 64–88%), clipped to [0, 1] and never narrower than the Wilson interval:
 * the clustered SE is 0 when every sample has the same rate (p = 0 or 1, or 1/2 and 1/2), and an interval of
 * zero width claims a certainty the trials do not give. `interval` says which was used.
 */
export function cellStats(trials: TrialResult[], opts: CellStatsOptions = {}): CellStats {
  const first = trials[0];
  if (!first) throw new Error('cellStats: a cell needs at least one trial');
  for (const t of trials) {
    if (t.task !== first.task || t.variant !== first.variant || t.model !== first.model) {
      throw new Error(
        `cellStats: trials of different cells (${first.task}/${first.variant}/${first.model} and ${t.task}/${t.variant}/${t.model}); group them with groupCells first`,
      );
    }
  }
  const graded = trials.filter(isGraded);
  const passes = graded.filter((t) => t.status === 'passed').length;
  const n = graded.length;
  const bySample = new Map<string, number[]>();
  for (const t of graded) {
    const ys = bySample.get(t.sample) ?? [];
    ys.push(t.status === 'passed' ? 1 : 0);
    bySample.set(t.sample, ys);
  }
  const groups = [...bySample.values()];
  const passRate = n ? passes / n : null;
  const wilsonCi = wilson(passes, n);
  const se = clusteredSe(groups);
  let interval: CellStats['interval'] = 'wilson';
  let ci: Interval = wilsonCi;
  if (se !== null && passRate !== null) {
    const half = studentTQuantile(0.975, groups.length - 1) * se;
    if (passRate - half < wilsonCi.low || passRate + half > wilsonCi.high) {
      interval = 'clustered';
      ci = { low: Math.max(0, Math.min(wilsonCi.low, passRate - half)), high: Math.min(1, Math.max(wilsonCi.high, passRate + half)) };
    }
  }

  const minPerSample = groups.length ? Math.min(...groups.map((g) => g.length)) : 0;
  const ks = opts.k ?? [1, 5].filter((k) => k <= minPerSample);
  const passAtKRows: PassAtKRow[] = ks.map((k) => {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`cellStats: k must be a positive integer, got ${k}`);
    if (groups.length === 0 || k > minPerSample) return { k, passAtK: null, passHatK: null };
    const at = groups.map((g) => passAtK(g.length, g.reduce((a, y) => a + y, 0), k));
    const hat = groups.map((g) => passHatK(g.length, g.reduce((a, y) => a + y, 0), k));
    return { k, passAtK: mean(at), passHatK: mean(hat) };
  });

  const total = (t: TrialResult) =>
    t.usage.inputTokens + t.usage.outputTokens + t.usage.cacheReadInputTokens + t.usage.cacheCreationInputTokens;
  const costs = trials.filter((t) => t.status !== 'skipped' && t.costUsd !== null).map((t) => t.costUsd as number);
  let latest: string | null = null;
  for (const t of trials) if (latest === null || Date.parse(t.finishedAt) > Date.parse(latest)) latest = t.finishedAt;

  return {
    task: first.task,
    variant: first.variant,
    model: first.model,
    trials: trials.length,
    passes,
    failures: n - passes,
    errors: trials.filter((t) => t.status === 'error').length,
    skips: trials.filter((t) => t.status === 'skipped').length,
    graded: n,
    samples: groups.length,
    passRate,
    interval,
    ci,
    wilsonCi,
    clusteredSe: se,
    passAtK: passAtKRows,
    meanScore: mean(graded.map((t) => t.score)),
    medianOutputTokens: median(graded.map((t) => t.usage.outputTokens)),
    medianTotalTokens: median(graded.map(total)),
    meanCostUsd: mean(costs),
    latestFinishedAt: latest,
  };
}

export interface Cell {
  /** `task/variant/model`, for display; `task`, `variant` and `model` are the identity. */
  key: string;
  task: string;
  variant: string;
  model: string;
  trials: TrialResult[];
}

/** Identity of a cell; NUL-separated so no task, variant or model name can collide with another. */
export function cellId(t: Pick<TrialResult, 'task' | 'variant' | 'model'>): string {
  return `${t.task}\u0000${t.variant}\u0000${t.model}`;
}

/** Groups trials into cells keyed by task, variant and model, in order of first appearance. */
export function groupCells(trials: TrialResult[]): Cell[] {
  const cells = new Map<string, Cell>();
  for (const t of trials) {
    const id = cellId(t);
    let cell = cells.get(id);
    if (!cell) {
      cell = { key: `${t.task}/${t.variant}/${t.model}`, task: t.task, variant: t.variant, model: t.model, trials: [] };
      cells.set(id, cell);
    }
    cell.trials.push(t);
  }
  return [...cells.values()];
}
