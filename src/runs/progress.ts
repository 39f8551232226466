import type { TrialResult } from './record.js';

/** What a trial cost: the agent and the judge; unknown prices count 0 here and are counted apart by the tally. */
export function trialSpendUsd(t: Pick<TrialResult, 'costUsd' | 'judge'>): number {
  return (t.costUsd ?? 0) + (t.judge?.costUsd ?? 0);
}

/** Whether a trial used a model whose price is unknown (its spend is not in the sum). */
function hasUnknownPrice(t: Pick<TrialResult, 'costUsd' | 'judge' | 'turns'>): boolean {
  return (t.costUsd === null) || (t.judge !== undefined && t.judge.costUsd === null);
}

/** A run's running tally: counts per status, spend, and timing for an ETA from the trials run in this process. */
export class ProgressTally {
  done = 0;
  passed = 0;
  failed = 0;
  error = 0;
  skipped = 0;
  spentUsd = 0;
  unpriced = 0;
  /** Trials finished in this process (not carried over by --resume): the ETA's basis. */
  private ranNow = 0;

  constructor(
    readonly total: number,
    readonly startedAt: number,
    carried: TrialResult[] = [],
  ) {
    for (const t of carried) this.count(t);
  }

  add(t: TrialResult): void {
    this.count(t);
    this.ranNow++;
  }

  private count(t: TrialResult): void {
    this.done++;
    this[t.status]++;
    this.spentUsd += trialSpendUsd(t);
    if (hasUnknownPrice(t)) this.unpriced++;
  }

  /** Remaining time at the pace so far (trials end out of order under concurrency, so this is the mean rate); null before the first. */
  etaMs(now: number): number | null {
    if (this.ranNow === 0) return null;
    return ((now - this.startedAt) / this.ranNow) * (this.total - this.done);
  }
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** One line: done/total, the status counts, elapsed, ETA, spend (unknown prices said, never $0). */
export function formatTally(t: ProgressTally, now: number): string {
  const eta = t.etaMs(now);
  const counts = `${t.passed} passed, ${t.failed} failed, ${t.error} error` + (t.skipped ? `, ${t.skipped} skipped` : '');
  const spend = `$${t.spentUsd.toFixed(4)} spent` + (t.unpriced ? ` (+${t.unpriced} trial(s) at unknown price)` : '');
  return `[${t.done}/${t.total}] ${counts} · ${formatDuration(now - t.startedAt)} elapsed · ETA ${eta === null ? '?' : formatDuration(eta)} · ${spend}`;
}
