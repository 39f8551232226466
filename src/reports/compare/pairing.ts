import type { TrialResult } from '../../runs/record.js';
import type { Stratum } from '../../stats/exact.js';
import { cellId, groupCells } from '../cells.js';

/*
 * Which trials of a baseline and a candidate are compared with which: cells grouped once, graded trials in plan
 * order (a look's first n_j never depends on outcomes), counts stratified by sample.
 */

export interface SideSummary {
  trials: number;
  graded: number;
  passes: number;
  errors: number;
  skips: number;
  passRate: number | null;
}

/** The baseline's cells, grouped once per baseline array: the sequential job compares against the same one at every look. */
const grouped = new WeakMap<readonly TrialResult[], Map<string, ReturnType<typeof groupCells>[number]>>();
export function groupedOnce(trials: TrialResult[]): Map<string, ReturnType<typeof groupCells>[number]> {
  let g = grouped.get(trials);
  if (!g) grouped.set(trials, (g = new Map(groupCells(trials).map((c) => [cellId(c), c]))));
  return g;
}

export function side(ts: TrialResult[]): SideSummary {
  const passes = ts.filter((t) => t.status === 'passed').length;
  const graded = passes + ts.filter((t) => t.status === 'failed').length;
  return { trials: ts.length, graded, passes, errors: ts.filter((t) => t.status === 'error').length, skips: ts.filter((t) => t.status === 'skipped').length, passRate: graded ? passes / graded : null };
}

export const isGraded = (t: TrialResult) => t.status === 'passed' || t.status === 'failed';

/** Plan order: epoch, then sample, then finish time; it does not depend on outcomes. */
export function planOrder(a: TrialResult, b: TrialResult): number {
  return a.epoch - b.epoch || (a.sample < b.sample ? -1 : a.sample > b.sample ? 1 : 0) || Date.parse(a.finishedAt) - Date.parse(b.finishedAt);
}

export function strataOf(baseline: TrialResult[], candidate: TrialResult[]): Stratum[] {
  const by = new Map<string, Stratum>();
  const get = (s: string) => {
    let x = by.get(s);
    if (!x) by.set(s, (x = { candidatePasses: 0, candidateGraded: 0, baselinePasses: 0, baselineGraded: 0 }));
    return x;
  };
  for (const t of baseline) {
    const s = get(t.sample);
    s.baselineGraded++;
    if (t.status === 'passed') s.baselinePasses++;
  }
  for (const t of candidate) {
    const s = get(t.sample);
    s.candidateGraded++;
    if (t.status === 'passed') s.candidatePasses++;
  }
  return [...by.keys()].sort().map((k) => by.get(k)!);
}

/** Why a candidate with no graded trial could not be judged: its errors' or skips' first cause. */
export function unjudgeable(trials: TrialResult[]): string {
  const errors = trials.filter((t) => t.status === 'error');
  const skips = trials.filter((t) => t.status === 'skipped');
  const first = (ts: TrialResult[]) => (ts[0]?.error ?? 'no cause recorded').split('\n')[0]!.slice(0, 300);
  if (errors.length) return `all ${trials.length} candidate trial(s) ended without a grade (${errors.length} error${skips.length ? `, ${skips.length} skipped` : ''}); first error: ${first(errors)}`;
  if (skips.length) return `all ${skips.length} candidate trial(s) were skipped: ${first(skips)}`;
  return 'no candidate trials';
}

