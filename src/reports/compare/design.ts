import { z } from 'zod';
import { fisherExact, normalCdf, normalQuantile } from '../../stats/exact.js';

/*
 * THE GATE'S DESIGN (DEFAULT_GATE_CONFIG is the one the PR workflow runs).
 *
 * PR-level error control. A PR fails when any cell (task, variant, model) is called a regression, so the
 * PR's false-alarm rate is P(some unchanged cell is called a regression). The PR's one-sided alpha is split
 * evenly over its m compared cells (Bonferroni): each cell's design runs at alpha/m, and by the union bound the
 * PR's false-alarm rate is at most m * alpha/m = alpha whatever the cells' correlation, the looks at which each
 * stops, or how many trials each needed. Holm's step-down would only recycle a rejected cell's alpha to the
 * others, which can add a second regression to a PR that already fails, never change whether it fails; for a
 * pass/fail gate it buys nothing and costs the simplicity of a fixed per-cell level that the sequential runs and
 * the simulation share. m is the number of cells compared (both sides present), known before any trial runs.
 *
 * Per cell: a group-sequential design. The candidate is looked at after n_1 < ... < n_K graded trials
 * (`looks`); look j analyses exactly the first n_j graded candidate trials in plan order (epoch, then sample;
 * never finish time, which could depend on the outcome) against the cell's baseline. The test is the exact
 * stratified test (src/stats/exact.ts), stratified by sample: trials are compared within samples only.
 *
 * Regression boundary: look j rejects when p_worse < c * a_j and the observed drop is at least minEffect,
 * where a_j = A(t_j) - A(t_{j-1}) is alpha/m spent by the spending function A (O'Brien–Fleming-type by default:
 * early looks need overwhelming evidence) and c >= 1 uses the slack the union bound over looks leaves. c is
 * computed exactly: for a cell with one sample and the cell's actual baseline size nB, the probability of ever
 * rejecting when nothing changed is a finite sum over the baseline's passes and the candidate's passes at each
 * look (a dynamic program over looks, futility stops ignored, which can only add alarms). c is the largest
 * value whose worst case over the common pass rate p (a 0.01 grid refined to 0.001 around its maximum) stays
 * at or below alpha/m. Cells with several samples keep c = 1: the union bound over looks holds for them
 * exactly, since each look's stratified p-value is valid.
 *
 * Improvement: the mirror-image boundary with its own alpha (improvementAlpha / m) and its own spending
 * (Pocock by default, so a clear gain is called at the first looks), checked before the no-change bound.
 *
 * No-change (futility, non-binding): at any look, 'no-change' when the one-sided (1 - futility) lower bound of
 * candidate - baseline (stratified Agresti–Caffo, src/stats/intervals.ts) is above -minEffect. Being
 * non-binding, it does not enter the false-alarm bound.
 *
 * At the last look, or when the run is over (final), a cell that crossed no boundary is 'inconclusive', with
 * the trials it would need: never "no regression". The PR job (src/github/sequential-eval.ts) runs each cell's
 * batches until it is decided or reaches its look or trial cap (maxTrialsPerCell, errors included).
 */

const Spending = z.enum(['pocock', 'obrien-fleming']);

export const GateConfigSchema = z
  .object({
    /** One-sided false-alarm rate of a whole comparison (a PR), over all its cells and looks. */
    alpha: z.number().gt(0).lt(1),
    /** One-sided rate of false "improvement" calls over the comparison; its own bound. */
    improvementAlpha: z.number().gt(0).lt(1),
    /** Smallest drop (or gain) of the pass rate that counts, as a fraction: 0.15 = 15 points. */
    minEffect: z.number().min(0).lt(1),
    mode: z.enum(['fixed', 'sequential']),
    /** Sequential: cumulative graded candidate trials at each look, strictly increasing (batch sizes are the steps). */
    looks: z.array(z.int().positive()).min(1),
    /** Sequential: how a cell's alpha is spread over the looks. */
    spending: Spending,
    /** Sequential: how a cell's improvement alpha is spread over the looks. */
    improvementSpending: Spending,
    /** Sequential: one-sided level of the no-change (futility) bound. */
    futility: z.number().gt(0).lt(0.5),
    /** Use the exact calibration of the regression levels (c above) for single-sample cells. */
    calibrate: z.boolean(),
    /** The baseline rule's size: at most this many newest graded baseline trials per cell (src/github/baseline.ts). */
    baselineTrials: z.int().positive(),
    /** The PR job's cap on candidate trials run per cell, errors and skips included. */
    maxTrialsPerCell: z.int().positive(),
  })
  .refine((c) => c.looks.every((n, i) => i === 0 || n > c.looks[i - 1]!), { message: 'looks must be strictly increasing', path: ['looks'] })
  .refine((c) => c.maxTrialsPerCell >= c.looks[c.looks.length - 1]!, { message: 'must be at least the last look', path: ['maxTrialsPerCell'] });
export type GateConfig = z.infer<typeof GateConfigSchema>;

/**
 * The PR workflow's gate, chosen with scripts/simulate-gate.ts (its figures are in the README's gate section):
 * looks after 10, 20, 30, 40 and 50 graded candidate trials, at most 60 trials run per cell (room for errors);
 * the newest 100 graded baseline trials of the current task version; O'Brien–Fleming-type spending of alpha/m,
 * calibrated; a no-change stop once the one-sided 90% lower bound of the difference is above -15 points.
 * With 60 baseline trials and looks up to 40 the power for 40% -> 10% among 20 cells was 75%, below the 80% target.
 */
export const DEFAULT_GATE_CONFIG: Readonly<GateConfig> = Object.freeze({
  alpha: 0.05,
  improvementAlpha: 0.05,
  minEffect: 0.15,
  mode: 'sequential',
  looks: [10, 20, 30, 40, 50],
  spending: 'obrien-fleming',
  improvementSpending: 'pocock',
  futility: 0.1,
  calibrate: true,
  baselineTrials: 100,
  maxTrialsPerCell: 60,
});

/** Fills the defaults and validates; throws with the offending field. */
export function resolveGateConfig(config: Partial<GateConfig> = {}): GateConfig {
  // A field given as undefined (an unset CLI option, say) keeps its default.
  const given = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
  const merged = { ...DEFAULT_GATE_CONFIG, looks: [...DEFAULT_GATE_CONFIG.looks], ...given };
  if (given.looks && !given.maxTrialsPerCell) merged.maxTrialsPerCell = Math.max(DEFAULT_GATE_CONFIG.maxTrialsPerCell, (given.looks as number[]).at(-1) ?? 0);
  const parsed = GateConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new RangeError(`invalid gate config: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Cumulative alpha spent by information fraction t in [0, 1]. */
export function alphaSpent(spending: GateConfig['spending'], alpha: number, t: number): number {
  if (t <= 0) return 0;
  const tt = Math.min(1, t);
  if (spending === 'pocock') return alpha * Math.log(1 + (Math.E - 1) * tt);
  return Math.min(alpha, 2 - 2 * normalCdf(normalQuantile(1 - alpha / 2) / Math.sqrt(tt)));
}

/** Nominal one-sided level of each look: the alpha spent between it and the previous look. They sum to alpha. */
export function lookLevels(config: Pick<GateConfig, 'alpha' | 'looks' | 'spending'>): number[] {
  const last = config.looks[config.looks.length - 1]!;
  let prev = 0;
  return config.looks.map((n, j) => {
    const spent = j === config.looks.length - 1 ? config.alpha : alphaSpent(config.spending, config.alpha, n / last);
    const level = spent - prev;
    prev = spent;
    return level;
  });
}

/** A cell's share of the comparison's alpha: alpha / m over m compared cells. */
export function cellAlpha(alpha: number, comparedCells: number): number {
  return alpha / Math.max(1, comparedCells);
}

// ---------------------------------------------------------------------------------------------------
// Exact false-alarm rate of one single-sample cell, and the calibration that uses the slack

export interface SequentialDesign {
  looks: readonly number[];
  /** Level of each look: reject when the exact one-sided p is below it (and the drop is at least minEffect). */
  levels: readonly number[];
  minEffect: number;
  baselineGraded: number;
}

const EPS = 1e-12;

/** pWorse of every (look, baseline passes, candidate passes): Fisher's exact test, one stratum. */
function pValueTable(looks: readonly number[], nB: number): Float64Array[][] {
  return looks.map((n) =>
    Array.from({ length: nB + 1 }, (_, kB) => {
      const row = new Float64Array(n + 1);
      for (let kC = 0; kC <= n; kC++) row[kC] = fisherExact(kC, n - kC, kB, nB - kB).less;
      return row;
    }),
  );
}

/** r[j][kB]: the largest candidate passes at look j that reject (the region is kC <= r, p and drop being monotone); -1 for none. */
function thresholds(d: SequentialDesign, pv: Float64Array[][]): Int32Array[] {
  const nB = d.baselineGraded;
  return d.looks.map((n, j) => {
    const r = new Int32Array(nB + 1).fill(-1);
    for (let kB = 0; kB <= nB; kB++) {
      for (let kC = n; kC >= 0; kC--) {
        if (pv[j]![kB]![kC]! < d.levels[j]! && kB / nB - kC / n >= d.minEffect - EPS) {
          r[kB] = kC;
          break;
        }
      }
    }
    return r;
  });
}

function binomialPmf(n: number, p: number): Float64Array {
  const out = new Float64Array(n + 1);
  const lq = Math.log1p(-p);
  const lp = Math.log(p);
  let lc = 0; // ln C(n, k)
  for (let k = 0; k <= n; k++) {
    if (k > 0) lc += Math.log(n - k + 1) - Math.log(k);
    out[k] = Math.exp(lc + k * lp + (n - k) * lq);
  }
  return out;
}

/** P(some look rejects) when both sides pass with probability p, the design's futility stops ignored. */
function alarmRate(d: SequentialDesign, r: Int32Array[], p: number): number {
  const nB = d.baselineGraded;
  const base = binomialPmf(nB, p);
  const batches = d.looks.map((n, j) => binomialPmf(n - (j ? d.looks[j - 1]! : 0), p));
  const last = d.looks[d.looks.length - 1]!;
  let total = 0;
  let dist = new Float64Array(last + 1);
  let next = new Float64Array(last + 1);
  for (let kB = 0; kB <= nB; kB++) {
    const w = base[kB]!;
    if (w < 1e-16) continue;
    dist.fill(0);
    dist[0] = 1;
    let width = 1; // dist is zero at and above `width`
    let rejected = 0;
    for (let j = 0; j < d.looks.length; j++) {
      const b = batches[j]!;
      next.fill(0, 0, width + b.length - 1);
      for (let i = 0; i < width; i++) {
        const m = dist[i]!;
        if (m === 0) continue;
        for (let x = 0; x < b.length; x++) next[i + x]! += m * b[x]!;
      }
      width += b.length - 1;
      [dist, next] = [next, dist];
      const rj = r[j]![kB]!;
      for (let k = 0; k <= rj && k < width; k++) {
        rejected += dist[k]!;
        dist[k] = 0;
      }
    }
    total += w * rejected;
  }
  return total;
}

/** The worst case over the common pass rate: a 0.01 grid, refined to 0.001 around its maximum. */
function worstAlarmRate(d: SequentialDesign, r: Int32Array[]): { rate: number; p: number } {
  let best = { rate: 0, p: 0.5 };
  for (let i = 1; i <= 99; i++) {
    const p = i / 100;
    const rate = alarmRate(d, r, p);
    if (rate > best.rate) best = { rate, p };
  }
  const centre = best.p;
  for (let i = -10; i <= 10; i++) {
    const p = centre + i / 1000;
    if (p <= 0 || p >= 1 || i === 0) continue;
    const rate = alarmRate(d, r, p);
    if (rate > best.rate) best = { rate, p };
  }
  return best;
}

/** The exact probability that a single-sample cell is ever called a regression when both sides pass with rate p. */
export function exactFalseAlarmRate(d: SequentialDesign, p: number): number {
  return alarmRate(d, thresholds(d, pValueTable(d.looks, d.baselineGraded)), p);
}

export interface Calibration {
  /** The factor c applied to every look's nominal level. */
  factor: number;
  levels: number[];
  /** The worst-case false-alarm rate of the calibrated design, and the pass rate where it is reached. */
  worstRate: number;
  worstAt: number;
}

const calibrations = new Map<string, Calibration>();

/**
 * Regression levels c * a_j for a single-sample cell with nB baseline trials, c the largest factor (to 1e-4
 * relative) whose exact worst-case false-alarm rate is at most the cell's alpha. Memoized: a PR's cells share it.
 */
export function calibrateLevels(looks: readonly number[], nominal: readonly number[], minEffect: number, nB: number, alpha: number): Calibration {
  const key = JSON.stringify([looks, nominal, minEffect, nB, alpha]);
  const hit = calibrations.get(key);
  if (hit) return hit;
  const pv = pValueTable(looks, nB);
  const at = (c: number) => {
    const d: SequentialDesign = { looks, levels: nominal.map((a) => a * c), minEffect, baselineGraded: nB };
    return { d, ...worstAlarmRate(d, thresholds(d, pv)) };
  };
  let lo = 1;
  let loRes = at(1);
  if (loRes.rate > alpha) {
    // Cannot happen (the union bound holds at c = 1); kept as a guard against a wrong table.
    throw new Error(`calibrateLevels: the nominal design already exceeds alpha (${loRes.rate} > ${alpha})`);
  }
  let hi = 2;
  while (at(hi).rate <= alpha && hi < 1e6) {
    lo = hi;
    hi *= 2;
  }
  loRes = at(lo);
  while ((hi - lo) / lo > 1e-4) {
    const mid = Math.sqrt(lo * hi);
    const res = at(mid);
    if (res.rate <= alpha) {
      lo = mid;
      loRes = res;
    } else hi = mid;
  }
  const out: Calibration = { factor: lo, levels: [...loRes.d.levels], worstRate: loRes.rate, worstAt: loRes.p };
  calibrations.set(key, out);
  return out;
}
