import { markdownTable } from 'markdown-table';
import { z } from 'zod';
import type { TrialResult } from '../runs/record.js';
import { cellId, groupCells, wilson, Z95, type Interval } from './stats.js';

/*
 * Comparing a baseline and a candidate, cell by cell (task, variant, model).
 *
 * Fixed mode: one analysis of everything there is. p is the one-sided exact p-value that the candidate
 * is worse (exact McNemar on discordant pairs when the trials pair by sample and epoch, else Fisher's
 * exact test); 'regression' when p < alpha and the observed drop is at least minEffect; 'improvement'
 * symmetrically; 'no-change' when the 95% interval of the difference excludes a drop of minEffect;
 * otherwise 'undecided'.
 *
 * Sequential mode: the group-sequential design of the CI gate, documented at `SEQUENTIAL DESIGN` below.
 */

// ---------------------------------------------------------------------------------------------------
// Exact tests

const lnFactTable: number[] = [0];
/** ln(n!), by a cumulative table of logs (exact to ~1e-13 relative for the sizes seen here). */
function lnFact(n: number): number {
  for (let m = lnFactTable.length; m <= n; m++) lnFactTable.push(lnFactTable[m - 1]! + Math.log(m));
  return lnFactTable[n]!;
}
const lnChoose = (n: number, k: number) => lnFact(n) - lnFact(k) - lnFact(n - k);

/** log(sum(exp(xs))) without overflow or underflow. */
function logSumExp(xs: number[]): number {
  if (xs.length === 0) return -Infinity;
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

function checkCount(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${fn}: ${name} must be a non-negative integer, got ${v}`);
}

export interface FisherResult {
  /** P(X <= a): one-sided p-value that the top-left cell is small (row 1 has the lower rate). */
  less: number;
  /** P(X >= a): one-sided p-value that the top-left cell is large (row 1 has the higher rate). */
  greater: number;
  /** Sum of the probabilities of all tables no more likely than the observed one (as R's fisher.test). */
  twoSided: number;
}

/**
 * Fisher's exact test of the 2x2 table [[a, b], [c, d]] (rows: groups, columns: pass/fail). X, the
 * top-left cell, is hypergeometric given the margins; probabilities are computed in log space and summed
 * exactly (no normal approximation).
 */
export function fisherExact(a: number, b: number, c: number, d: number): FisherResult {
  for (const [name, v] of [['a', a], ['b', b], ['c', c], ['d', d]] as const) checkCount('fisherExact', name, v);
  const r1 = a + b;
  const r2 = c + d;
  const c1 = a + c;
  const n = r1 + r2;
  const lo = Math.max(0, c1 - r2);
  const hi = Math.min(r1, c1);
  const lnDen = lnChoose(n, c1);
  const logP: number[] = [];
  for (let x = lo; x <= hi; x++) logP.push(lnChoose(r1, x) + lnChoose(r2, c1 - x) - lnDen);
  const at = logP[a - lo]!;
  const clamp = (p: number) => Math.min(1, Math.max(0, p));
  const less = clamp(Math.exp(logSumExp(logP.slice(0, a - lo + 1))));
  const greater = clamp(Math.exp(logSumExp(logP.slice(a - lo))));
  // Relative tolerance for ties in floating point, as R uses (1 + 1e-7).
  const twoSided = clamp(Math.exp(logSumExp(logP.filter((l) => l <= at + Math.log1p(1e-7)))));
  return { less, greater, twoSided };
}

export interface McNemarResult {
  /** P(X >= baselineOnly), X ~ Binomial(discordant, 1/2): one-sided p that the candidate is worse. */
  worse: number;
  /** P(X >= candidateOnly): one-sided p that the candidate is better. */
  better: number;
  twoSided: number;
}

/**
 * Exact McNemar test (a sign test on discordant pairs). baselineOnly: pairs where the baseline trial
 * passed and the candidate's failed; candidateOnly: the reverse. Under no change each discordant pair
 * is equally likely to go either way, so baselineOnly ~ Binomial(baselineOnly + candidateOnly, 1/2).
 */
export function mcnemarExact(baselineOnly: number, candidateOnly: number): McNemarResult {
  checkCount('mcnemarExact', 'baselineOnly', baselineOnly);
  checkCount('mcnemarExact', 'candidateOnly', candidateOnly);
  const m = baselineOnly + candidateOnly;
  const upper = (k: number) => {
    const terms: number[] = [];
    for (let x = k; x <= m; x++) terms.push(lnChoose(m, x) - m * Math.LN2);
    return Math.min(1, Math.exp(logSumExp(terms)));
  };
  const worse = upper(baselineOnly);
  const better = upper(candidateOnly);
  return { worse, better, twoSided: Math.min(1, 2 * Math.min(worse, better)) };
}

/**
 * Newcombe's hybrid score interval (Newcombe 1998, method 10) for p1 - p2 from the two Wilson intervals:
 * [d - sqrt((p1-l1)^2 + (u2-p2)^2), d + sqrt((u1-p1)^2 + (p2-l2)^2)].
 */
export function newcombeInterval(k1: number, n1: number, k2: number, n2: number, z = Z95): { delta: number; low: number; high: number } {
  if (n1 === 0 || n2 === 0) throw new RangeError('newcombeInterval: both groups need at least one trial');
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const w1 = wilson(k1, n1, z);
  const w2 = wilson(k2, n2, z);
  const delta = p1 - p2;
  return {
    delta,
    low: Math.max(-1, delta - Math.hypot(p1 - w1.low, w2.high - p2)),
    high: Math.min(1, delta + Math.hypot(w1.high - p1, p2 - w2.low)),
  };
}

// ---------------------------------------------------------------------------------------------------
// The normal distribution (for spending functions and one-sided bounds)

/** Standard normal CDF, accurate to ~1e-15 absolute (Marsaglia's series; continued fraction in the tails). */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < -8) return tailCf(-x);
  if (x > 8) return 1 - tailCf(x);
  if (Math.abs(x) > 3) return x > 0 ? 1 - tailCf(x) : tailCf(-x);
  // Phi(x) = 1/2 + phi(x) * (x + x^3/3 + x^5/(3*5) + ...), all terms of one sign.
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let i = 3; Math.abs(term) > 1e-17 * Math.abs(sum); i += 2) {
    term *= x2 / i;
    sum += term;
  }
  return 0.5 + sum * Math.exp(-x2 / 2 - 0.5 * Math.log(2 * Math.PI));
}

/** Upper tail 1 - Phi(x) for x > 3 by the continued fraction phi(x) / (x + 1/(x + 2/(x + 3/(x + ...)))). */
function tailCf(x: number): number {
  let f = x;
  for (let k = 80; k >= 1; k--) f = x + k / f;
  return Math.exp(-x * x / 2 - 0.5 * Math.log(2 * Math.PI)) / f;
}

/** Inverse standard normal CDF (Acklam's rational approximation, then two Newton steps on normalCdf). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  let x: number;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - pl) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  for (let i = 0; i < 2; i++) {
    const density = Math.exp(-x * x / 2 - 0.5 * Math.log(2 * Math.PI));
    x -= (normalCdf(x) - p) / density;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------------
// Configuration

/*
 * SEQUENTIAL DESIGN (mode 'sequential'; DEFAULT_GATE_CONFIG is this design).
 *
 * Candidate trials arrive in batches. The test looks at fixed, pre-declared candidate sizes
 * n_1 < n_2 < ... < n_K (`looks`, counted in graded trials: errors and skips do not count). At look j it
 * analyses exactly the first n_j graded candidate trials in plan order (epoch, then sample; never by finish
 * time, which could depend on the outcome), against all graded baseline trials. Between two looks the extra
 * trials are set aside, so asking again before the next look repeats the same analysis.
 *
 * Regression boundary (alpha spending with a union bound). Look j gets the nominal level
 *   a_j = A(t_j) - A(t_{j-1}),  t_j = n_j / n_K,  A(0) = 0,  A(1) = alpha,
 * where A is the spending function: 'pocock' A(t) = alpha * ln(1 + (e - 1) t) (Lan & DeMets 1983), or
 * 'obrien-fleming' A(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t)). The cell is a regression at look j when the
 * exact one-sided p-value p_j (Fisher's exact test, or exact McNemar when the analysed trials pair by sample
 * and epoch) is below a_j AND the observed drop is at least minEffect.
 *
 * Why this controls the false-alarm rate: when the candidate is unchanged (both sides pass with the same
 * probability, whatever it is), each p_j is a valid p-value, P(p_j < a) <= a: Fisher's test is exact given
 * the margins, hence also unconditionally; the sign test is exact given the number of discordant pairs. So
 *   P(regression at any look) <= sum_j P(p_j < a_j) <= sum_j a_j = A(1) = alpha
 * (Bonferroni over the looks). This needs no assumption about how the looks are correlated, about the
 * unknown pass rate, or about the number of baseline trials; requiring a drop of minEffect, and stopping
 * early for no-change or for any other reason, can only remove alarms. The price is conservatism: the
 * looks share data, so the true rate is below alpha (simulate-gate.ts measures it), and the discrete exact
 * tests are conservative again. 'improvement' uses the mirror-image boundary with its own alpha.
 *
 * No-change boundary (futility, non-binding). At any look, 'no-change' when the one-sided (1 - futility)
 * Newcombe lower confidence bound of candidate - baseline is above -minEffect: a drop as large as minEffect
 * is implausible at that level. Being non-binding, it does not enter the false-alarm bound above; it trades
 * a little power (a real drop stopped as 'no-change' by bad luck) for far fewer trials on unchanged PRs.
 * Power and the mean number of trials depend on the true rates and the baseline size, so they are measured by
 * simulation (scripts/simulate-gate.ts) for `baselineTrials` baseline trials.
 *
 * At the last look a cell that crossed neither boundary stays 'undecided' with no more trials planned
 * (`exhausted`); the gate lets it pass: no regression was found with the power of the design. Before the
 * last look, an undecided cell reports the trials still needed for its next look.
 */

export const GateConfigSchema = z
  .object({
    /** One-sided false-alarm rate per cell (over all looks in sequential mode). */
    alpha: z.number().gt(0).lt(1),
    /** Smallest drop (or gain) of the pass rate that counts, as a fraction: 0.15 = 15 points. */
    minEffect: z.number().min(0).lt(1),
    mode: z.enum(['fixed', 'sequential']),
    /** Sequential: cumulative graded candidate trials at each look, strictly increasing (batch sizes are the steps). */
    looks: z.array(z.int().positive()).min(1),
    /** Sequential: how alpha is spread over the looks. */
    spending: z.enum(['pocock', 'obrien-fleming']),
    /** Sequential: one-sided level of the no-change (futility) bound. */
    futility: z.number().gt(0).lt(0.5),
    /**
     * Baseline trials per cell the defaults were tuned for (scripts/simulate-gate.ts). The error-rate
     * guarantee holds for any baseline size; power needs about this many. Not read by the test itself:
     * the CLI should compare against the newest `baselineTrials` graded trials of the history.
     */
    baselineTrials: z.int().positive(),
  })
  .refine((c) => c.looks.every((n, i) => i === 0 || n > c.looks[i - 1]!), { message: 'looks must be strictly increasing', path: ['looks'] });
export type GateConfig = z.infer<typeof GateConfigSchema>;

/**
 * The CI gate, chosen with scripts/simulate-gate.ts. Candidate looks after 5, 10, 20, 30 and 40 graded trials
 * (batches of 5, 5, 10, 10, 10), against a baseline of 50 graded trials; O'Brien-Fleming-type spending of a
 * one-sided 5% over the looks (nominal levels about 3e-8, 0.0001, 0.0055, 0.018 and 0.026: a regression
 * is called early only when it is overwhelming, and the last looks keep most of the alpha, which is where
 * a 30-point drop is found); no change once the one-sided 90% lower bound of the difference is above -15
 * points. Simulated with 10,000 PRs a row: false alarms 0.6% to 2.1% at true rates of 10%, 40% and 70% (the
 * union bound guarantees at most 5%), power about 89% for a drop from 40% to 10%; on average 11 to 22
 * candidate trials when nothing changed, 28 for that drop. With only 30 baseline trials the power for that
 * drop falls below 80%; with 100 it is about 96%.
 */
export const DEFAULT_GATE_CONFIG: Readonly<GateConfig> = Object.freeze({
  alpha: 0.05,
  minEffect: 0.15,
  mode: 'sequential',
  looks: [5, 10, 20, 30, 40],
  spending: 'obrien-fleming',
  futility: 0.1,
  baselineTrials: 50,
});

/** Fills the defaults and validates; throws with the offending field. */
export function resolveGateConfig(config: Partial<GateConfig> = {}): GateConfig {
  // A field given as undefined (an unset CLI option, say) keeps its default.
  const given = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
  const merged = { ...DEFAULT_GATE_CONFIG, looks: [...DEFAULT_GATE_CONFIG.looks], ...given };
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

// ---------------------------------------------------------------------------------------------------
// Decisions on counts

export type Verdict = 'regression' | 'improvement' | 'no-change' | 'undecided';

/** Counts of one cell. `pairs` only when the analysed trials pair one-to-one by (sample, epoch). */
export interface CellCounts {
  baselinePasses: number;
  baselineGraded: number;
  candidatePasses: number;
  candidateGraded: number;
  pairs?: { baselineOnly: number; candidateOnly: number; bothPassed: number; neitherPassed: number } | null;
}

export interface LookInfo {
  /** 1-based index of the look analysed; 0 before the first look. */
  index: number;
  of: number;
  /** Candidate graded trials the look analyses (n_j); the next look's size when index is 0. */
  size: number;
  /** Nominal one-sided level of this look (0 before the first look: no decision yet). */
  level: number;
}

export interface Decision {
  verdict: Verdict;
  test: 'fisher' | 'mcnemar' | null;
  /** One-sided exact p-value that the candidate is worse; null when a side has no graded trials. */
  pWorse: number | null;
  /** One-sided exact p-value that the candidate is better. */
  pBetter: number | null;
  /** The level p is compared to: alpha (fixed) or the look's nominal level (sequential). */
  level: number;
  /** Candidate minus baseline pass rate, on the analysed trials. */
  delta: number | null;
  /** 95% Newcombe hybrid score interval of delta. */
  deltaCi: Interval | null;
  /** The lower bound used for 'no-change': the 95% interval's (fixed) or the one-sided (1 - futility) bound (sequential). */
  noChangeBound: number | null;
  /** Sequential mode only. */
  look: LookInfo | null;
  /**
   * Undecided cells: more graded candidate trials that would settle it. Sequential: to reach the next look.
   * Fixed: a projection, the fewest extra trials at the current candidate rate for a decided verdict
   * (null when none up to 4096 would do, e.g. when the baseline itself is too uncertain).
   */
  moreTrials: number | null;
  /** Sequential: undecided at the last look; the design plans no more trials. */
  exhausted: boolean;
  reason: string;
}

const pts = (x: number) => `${(x * 100).toFixed(0)} points`;

interface Evaluation {
  test: 'fisher' | 'mcnemar';
  pWorse: number;
  pBetter: number;
  delta: number;
  deltaCi: Interval;
  noChangeBound: number;
}

function evaluate(c: CellCounts, noChangeZ: number): Evaluation {
  const { baselinePasses: kB, baselineGraded: nB, candidatePasses: kC, candidateGraded: nC } = c;
  let test: Evaluation['test'];
  let pWorse: number;
  let pBetter: number;
  if (c.pairs) {
    const m = mcnemarExact(c.pairs.baselineOnly, c.pairs.candidateOnly);
    test = 'mcnemar';
    pWorse = m.worse;
    pBetter = m.better;
  } else {
    // Rows: candidate, baseline; columns: passed, failed. A small top-left cell = candidate worse.
    const f = fisherExact(kC, nC - kC, kB, nB - kB);
    test = 'fisher';
    pWorse = f.less;
    pBetter = f.greater;
  }
  const ci = newcombeInterval(kC, nC, kB, nB);
  const bound = noChangeZ === Z95 ? ci.low : newcombeInterval(kC, nC, kB, nB, noChangeZ).low;
  return { test, pWorse, pBetter, delta: ci.delta, deltaCi: { low: ci.low, high: ci.high }, noChangeBound: bound };
}

function classify(e: Evaluation, level: number, minEffect: number): Verdict {
  const eps = 1e-12; // so that a drop of exactly minEffect (e.g. 0.4 - 0.25) counts despite rounding
  if (e.pWorse < level && e.delta <= -minEffect + eps) return 'regression';
  if (e.pBetter < level && e.delta >= minEffect - eps) return 'improvement';
  if (e.noChangeBound > -minEffect) return 'no-change';
  return 'undecided';
}

function checkCounts(c: CellCounts): void {
  for (const k of ['baselinePasses', 'baselineGraded', 'candidatePasses', 'candidateGraded'] as const) checkCount('decideCell', k, c[k]);
  if (c.baselinePasses > c.baselineGraded || c.candidatePasses > c.candidateGraded) throw new RangeError('decideCell: passes cannot exceed graded trials');
}

/**
 * The verdict for one cell's counts. In sequential mode the counts must be those of the analysed trials:
 * `candidateGraded` a look size (or fewer than the first look), and `candidateAvailable` the graded
 * candidate trials there are (for `moreTrials`). compareRuns does this; the simulation calls it directly.
 */
export function decideCell(c: CellCounts, config: GateConfig, candidateAvailable = c.candidateGraded): Decision {
  checkCounts(c);
  const base = { test: null, pWorse: null, pBetter: null, delta: null, deltaCi: null, noChangeBound: null, exhausted: false } as const;
  if (config.mode === 'fixed') {
    if (c.baselineGraded === 0 || c.candidateGraded === 0) {
      const side = c.baselineGraded === 0 ? 'baseline' : 'candidate';
      return { ...base, verdict: 'undecided', level: config.alpha, look: null, moreTrials: null, reason: `no graded ${side} trials` };
    }
    const e = evaluate(c, Z95);
    const verdict = classify(e, config.alpha, config.minEffect);
    const moreTrials = verdict === 'undecided' ? projectMoreTrials(c, config) : null;
    return { ...e, verdict, level: config.alpha, look: null, moreTrials, exhausted: false, reason: reasonFor(verdict, e, config.alpha, config.minEffect, '95% interval') };
  }

  const levels = lookLevels(config);
  const K = config.looks.length;
  let j = -1;
  for (let i = 0; i < K; i++) if (config.looks[i]! <= c.candidateGraded) j = i;
  if (j >= 0 && c.candidateGraded !== config.looks[j]) {
    throw new RangeError(`decideCell: sequential counts must be those of a look (${config.looks.join(', ')}), got ${c.candidateGraded} candidate trials`);
  }
  const firstLook = config.looks[0]!;
  if (c.baselineGraded === 0) {
    return { ...base, verdict: 'undecided', level: 0, look: null, moreTrials: null, reason: 'no graded baseline trials' };
  }
  if (j < 0) {
    const e = c.candidateGraded > 0 ? evaluate(c, normalQuantile(1 - config.futility)) : null;
    return {
      ...base,
      ...(e ?? {}),
      verdict: 'undecided',
      level: 0,
      look: { index: 0, of: K, size: firstLook, level: 0 },
      moreTrials: firstLook - candidateAvailable,
      reason: `first look at ${firstLook} candidate trials`,
    };
  }
  const level = levels[j]!;
  const e = evaluate(c, normalQuantile(1 - config.futility));
  const verdict = classify(e, level, config.minEffect);
  const look: LookInfo = { index: j + 1, of: K, size: config.looks[j]!, level };
  const last = j === K - 1;
  const moreTrials = verdict === 'undecided' && !last ? config.looks[j + 1]! - candidateAvailable : null;
  const boundName = `one-sided ${((1 - config.futility) * 100).toFixed(0)}% bound`;
  let reason = `look ${j + 1}/${K}: ${reasonFor(verdict, e, level, config.minEffect, boundName)}`;
  if (verdict === 'undecided') reason += last ? '; last look: no regression found, no more trials planned' : `; next look at ${config.looks[j + 1]}`;
  return { ...e, verdict, level, look, moreTrials, exhausted: verdict === 'undecided' && last, reason };
}

function reasonFor(v: Verdict, e: Evaluation, level: number, minEffect: number, boundName: string): string {
  const p = (x: number) => (x < 0.001 ? '<0.001' : x.toFixed(3));
  const lv = (x: number) => (x < 0.001 ? x.toExponential(0) : x.toFixed(3));
  switch (v) {
    case 'regression':
      return `p=${p(e.pWorse)} < ${lv(level)} and drop ${pts(-e.delta)} >= ${pts(minEffect)}`;
    case 'improvement':
      return `p=${p(e.pBetter)} < ${lv(level)} and gain ${pts(e.delta)} >= ${pts(minEffect)}`;
    case 'no-change':
      return `${boundName} ${(e.noChangeBound * 100).toFixed(1)} points excludes a drop of ${pts(minEffect)}`;
    case 'undecided':
      return `p=${p(e.pWorse)} (level ${lv(level)}); ${boundName} ${(e.noChangeBound * 100).toFixed(1)} points does not exclude a drop of ${pts(minEffect)}`;
  }
}

/** Fixed mode: the fewest extra candidate trials, at the current candidate rate, that give a decided verdict. */
function projectMoreTrials(c: CellCounts, config: GateConfig): number | null {
  const rate = c.candidatePasses / c.candidateGraded;
  const decidedWith = (m: number) => {
    const n = c.candidateGraded + m;
    const counts: CellCounts = { ...c, candidateGraded: n, candidatePasses: Math.round(rate * n), pairs: null };
    return classify(evaluate(counts, Z95), config.alpha, config.minEffect) !== 'undecided';
  };
  const cap = 4096;
  let hi = 1;
  while (hi <= cap && !decidedWith(hi)) hi *= 2;
  if (hi > cap) return null;
  let lo = Math.floor(hi / 2); // undecided at lo (or lo = 0)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (decidedWith(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

// ---------------------------------------------------------------------------------------------------
// Comparing runs

export interface SideSummary {
  trials: number;
  graded: number;
  passes: number;
  errors: number;
  skips: number;
  passRate: number | null;
}

export interface CellComparison {
  key: string;
  task: string;
  variant: string;
  model: string;
  /** 'baseline-only' / 'candidate-only': the cell is on one side only and was not compared. */
  presence: 'both' | 'baseline-only' | 'candidate-only';
  verdict: Verdict | 'baseline-only' | 'candidate-only';
  baseline: SideSummary | null;
  candidate: SideSummary | null;
  /** Graded candidate trials the test used (sequential: the look's first n_j); the others were set aside. */
  analyzed: { candidatePasses: number; candidateGraded: number; setAside: number } | null;
  decision: Decision | null;
}

export interface ComparisonResult {
  config: GateConfig;
  cells: CellComparison[];
  hasRegression: boolean;
  counts: Record<CellComparison['verdict'], number>;
}

function side(ts: TrialResult[]): SideSummary {
  const passes = ts.filter((t) => t.status === 'passed').length;
  const graded = passes + ts.filter((t) => t.status === 'failed').length;
  return {
    trials: ts.length,
    graded,
    passes,
    errors: ts.filter((t) => t.status === 'error').length,
    skips: ts.filter((t) => t.status === 'skipped').length,
    passRate: graded ? passes / graded : null,
  };
}

const isGraded = (t: TrialResult) => t.status === 'passed' || t.status === 'failed';
const pairKey = (t: TrialResult) => `${t.sample}\u0000${t.epoch}`;

/** Plan order: epoch, then sample, then finish time; it does not depend on outcomes. */
function planOrder(a: TrialResult, b: TrialResult): number {
  return a.epoch - b.epoch || (a.sample < b.sample ? -1 : a.sample > b.sample ? 1 : 0) || Date.parse(a.finishedAt) - Date.parse(b.finishedAt);
}

/** Discordant and concordant pair counts when both sides pair one-to-one by (sample, epoch); else null. */
function pairUp(baseline: TrialResult[], candidate: TrialResult[]): CellCounts['pairs'] {
  if (baseline.length === 0 || baseline.length !== candidate.length) return null;
  const b = new Map<string, TrialResult>();
  for (const t of baseline) {
    if (b.has(pairKey(t))) return null;
    b.set(pairKey(t), t);
  }
  const seen = new Set<string>();
  const pairs = { baselineOnly: 0, candidateOnly: 0, bothPassed: 0, neitherPassed: 0 };
  for (const t of candidate) {
    const k = pairKey(t);
    const mate = b.get(k);
    if (!mate || seen.has(k)) return null;
    seen.add(k);
    const bp = mate.status === 'passed';
    const cp = t.status === 'passed';
    if (bp && cp) pairs.bothPassed++;
    else if (bp) pairs.baselineOnly++;
    else if (cp) pairs.candidateOnly++;
    else pairs.neitherPassed++;
  }
  return pairs;
}

/**
 * Compares baseline and candidate trials per cell (task, variant, model). Cells on one side only are
 * reported as such. Errors and skips are excluded from every rate and test, and shown.
 */
export function compareRuns(baseline: TrialResult[], candidate: TrialResult[], config: Partial<GateConfig> = {}): ComparisonResult {
  const cfg = resolveGateConfig(config);
  const bCells = new Map(groupCells(baseline).map((c) => [cellId(c), c]));
  const cCells = new Map(groupCells(candidate).map((c) => [cellId(c), c]));
  const ids = [...new Set([...bCells.keys(), ...cCells.keys()])];
  const cells: CellComparison[] = ids.map((id) => {
    const b = bCells.get(id);
    const c = cCells.get(id);
    const any = (b ?? c)!;
    const head = { key: any.key, task: any.task, variant: any.variant, model: any.model };
    if (!b || !c) {
      const presence = b ? 'baseline-only' : 'candidate-only';
      return { ...head, presence, verdict: presence, baseline: b ? side(b.trials) : null, candidate: c ? side(c.trials) : null, analyzed: null, decision: null };
    }
    const bGraded = b.trials.filter(isGraded);
    const cGraded = c.trials.filter(isGraded).sort(planOrder);
    let analyzedC = cGraded;
    if (cfg.mode === 'sequential') {
      const reached = cfg.looks.filter((n) => n <= cGraded.length);
      const size = reached.length ? reached[reached.length - 1]! : cGraded.length;
      analyzedC = cGraded.slice(0, size);
    }
    const counts: CellCounts = {
      baselinePasses: bGraded.filter((t) => t.status === 'passed').length,
      baselineGraded: bGraded.length,
      candidatePasses: analyzedC.filter((t) => t.status === 'passed').length,
      candidateGraded: analyzedC.length,
      pairs: pairUp(bGraded, analyzedC),
    };
    const decision = decideCell(counts, cfg, cGraded.length);
    return {
      ...head,
      presence: 'both',
      verdict: decision.verdict,
      baseline: side(b.trials),
      candidate: side(c.trials),
      analyzed: { candidatePasses: counts.candidatePasses, candidateGraded: counts.candidateGraded, setAside: cGraded.length - analyzedC.length },
      decision,
    };
  });
  const counts: ComparisonResult['counts'] = { regression: 0, improvement: 0, 'no-change': 0, undecided: 0, 'baseline-only': 0, 'candidate-only': 0 };
  for (const c of cells) counts[c.verdict]++;
  return { config: cfg, cells, hasRegression: counts.regression > 0, counts };
}

// ---------------------------------------------------------------------------------------------------
// Markdown

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(0)}%`);
const signedPts = (x: number) => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x * 100).toFixed(0)}`;
const fmtP = (x: number | null) => (x === null ? '—' : x < 0.001 ? '<0.001' : x.toFixed(3));
/** A look's level: small ones (O'Brien-Fleming's early looks) in exponent form rather than "<0.001". */
const fmtLevel = (x: number) => (x < 0.001 ? x.toExponential(0) : x.toFixed(3));

function sideCell(s: SideSummary | null, passes?: number, graded?: number): string {
  if (!s) return '—';
  const k = passes ?? s.passes;
  const n = graded ?? s.graded;
  let out = `${k}/${n} (${pct(n ? k / n : null)})`;
  const extra = [s.errors ? `${s.errors} error${s.errors > 1 ? 's' : ''}` : '', s.skips ? `${s.skips} skipped` : ''].filter(Boolean);
  if (extra.length) out += ` +${extra.join(', ')}`;
  return out;
}

function verdictCell(c: CellComparison): string {
  const d = c.decision;
  switch (c.verdict) {
    case 'baseline-only':
      return 'baseline only (not compared)';
    case 'candidate-only':
      return 'candidate only (not compared)';
    case 'regression':
      return '**REGRESSION**';
    case 'improvement':
      return 'improvement';
    case 'no-change':
      return 'no change';
    case 'undecided':
      if (d?.exhausted) return 'undecided (max trials; no regression found)';
      return d?.moreTrials ? `undecided: run ${d.moreTrials} more` : `undecided${d?.reason ? ` (${d.reason})` : ''}`;
  }
}

/** A headline and one table row per cell. */
export function renderComparisonMarkdown(result: ComparisonResult): string {
  const { cells, counts, config } = result;
  const compared = cells.filter((c) => c.presence === 'both').length;
  const lines: string[] = [];
  if (result.hasRegression) {
    const names = cells.filter((c) => c.verdict === 'regression').map((c) => `\`${c.key}\` (${signedPts(c.decision!.delta!)} points)`);
    lines.push(`## ❌ Regression in ${counts.regression} of ${compared} compared cell${compared === 1 ? '' : 's'}: ${names.join(', ')}`);
  } else if (counts.undecided > 0 && cells.some((c) => c.verdict === 'undecided' && !c.decision?.exhausted && c.decision?.moreTrials)) {
    lines.push(`## ⏳ No regression so far; ${counts.undecided} of ${compared} compared cells need more candidate trials`);
  } else {
    lines.push(`## ✅ No regression in ${compared} compared cell${compared === 1 ? '' : 's'}`);
  }
  const tally = (['regression', 'improvement', 'no-change', 'undecided', 'baseline-only', 'candidate-only'] as const)
    .filter((v) => counts[v] > 0)
    .map((v) => `${counts[v]} ${v}`)
    .join(', ');
  lines.push('', tally || 'no cells');
  const looks = config.looks.join('/');
  // The method is long and the same on every PR: collapsed, so the verdict and the table lead the comment.
  lines.push(
    '',
    '<details><summary>How the gate decides</summary>',
    '',
    config.mode === 'sequential'
      ? `Sequential gate: looks at ${looks} graded candidate trials, ${config.spending} alpha spending of a one-sided ${config.alpha} over all looks (p is compared to the look's level), no change once the one-sided ${((1 - config.futility) * 100).toFixed(0)}% bound excludes a drop of ${pts(config.minEffect)}. Regression needs p below the level and a drop of at least ${pts(config.minEffect)}.`
      : `Fixed comparison: one-sided exact test (McNemar when trials pair by sample and epoch, else Fisher) at alpha ${config.alpha}; regression needs a drop of at least ${pts(config.minEffect)}; no change once the 95% interval excludes such a drop.`,
    '',
    '</details>',
    '',
  );
  const rows = cells.map((c) => {
    const d = c.decision;
    const ci = d?.deltaCi;
    const delta = d?.delta != null && ci ? `${signedPts(d.delta)} [${signedPts(ci.low)}, ${signedPts(ci.high)}]` : '—';
    const p = d?.pWorse != null ? `${fmtP(d.pWorse)}${config.mode === 'sequential' && d.look?.index ? ` (level ${fmtLevel(d.level)})` : ''}${d.test === 'mcnemar' ? ' paired' : ''}` : '—';
    const cand = c.analyzed && c.candidate ? sideCell(c.candidate, c.analyzed.candidatePasses, c.analyzed.candidateGraded) + (c.analyzed.setAside ? ` (+${c.analyzed.setAside} set aside)` : '') : sideCell(c.candidate);
    return [c.task, c.variant, c.model, sideCell(c.baseline), cand, delta, p, verdictCell(c)];
  });
  lines.push(markdownTable([['task', 'variant', 'model', 'baseline', 'candidate', 'delta, points [95% CI]', 'p (worse)', 'verdict'], ...rows]));
  return lines.join('\n') + '\n';
}
