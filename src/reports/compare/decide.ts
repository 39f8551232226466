import type { Interval } from '../../stats/intervals.js';
import { intervalAt, stratifiedDifference } from '../../stats/intervals.js';
import { normalQuantile, stratifiedExact, Z95, type Stratum } from '../../stats/exact.js';
import { level as fmtLevel, points, pValue } from '../../format.js';
import { calibrateLevels, cellAlpha, lookLevels, type GateConfig } from './design.js';

/*
 * One cell's verdict from its counts, by the design in design.ts: the exact stratified test against the look's
 * level, the minimum effect, the improvement bound and the non-binding no-change bound.
 */

/** 'undecided': more looks are planned. 'inconclusive': none are, or the run is over, and no boundary was crossed. */
export type Verdict = 'regression' | 'improvement' | 'no-change' | 'undecided' | 'inconclusive';

/** The analysed trials of one cell, by sample. */
export interface CellCounts {
  strata: Stratum[];
}

/** One cell's counts from pooled totals: a single stratum. */
export function pooled(baselinePasses: number, baselineGraded: number, candidatePasses: number, candidateGraded: number): CellCounts {
  return { strata: [{ baselinePasses, baselineGraded, candidatePasses, candidateGraded }] };
}

export interface LookInfo {
  /** 1-based index of the look analysed; 0 before the first look. */
  index: number;
  of: number;
  /** Candidate graded trials the look analyses (n_j); the next look's size when index is 0. */
  size: number;
}

export interface Decision {
  verdict: Verdict;
  /** One-sided exact p-value that the candidate is worse (exact stratified test); null when nothing is comparable. */
  pWorse: number | null;
  pBetter: number | null;
  /** The levels p is compared to at this analysis. */
  level: { regression: number; improvement: number };
  /** Candidate minus baseline pass rate (Mantel–Haenszel over samples), on the analysed trials. */
  delta: number | null;
  /** 95% interval of delta (stratified Agresti–Caffo). */
  deltaCi: Interval | null;
  /** The lower bound used for 'no-change'. */
  noChangeBound: number | null;
  /** Samples with graded trials on both sides. */
  samples: number;
  look: LookInfo | null;
  /** Graded candidate trials still needed: to the next look, or (at the last) a projection at the current rates. */
  moreTrials: number | null;
  reason: string;
}

export interface DecideContext {
  /** Compared cells in the comparison: the cell's alpha is alpha / comparedCells. */
  comparedCells: number;
  /** Graded candidate trials there are (the analysed ones may be fewer: a look's first n_j). */
  candidateAvailable?: number;
  /** No more candidate trials will come: an undecided cell is 'inconclusive'. */
  final?: boolean;
}

const EPS = 1e-12; // so that a drop of exactly minEffect (e.g. 0.4 - 0.25) counts despite rounding

interface Levels {
  regression: number[];
  improvement: number[];
}

/** The regression and improvement levels of each look for a cell of the comparison. */
function cellLevels(config: GateConfig, comparedCells: number, strata: readonly Stratum[]): Levels {
  const used = strata.filter((s) => s.baselineGraded > 0);
  const single = used.length === 1 && strata.filter((s) => s.candidateGraded > 0).every((s) => s === used[0]);
  const nB = single ? used[0]!.baselineGraded : 0;
  // Keyed by the config's content: resolveGateConfig makes a new object per comparison, the levels stay the same.
  const configKey = configKeys.get(config) ?? JSON.stringify(config);
  configKeys.set(config, configKey);
  let byConfig = levelCache.get(configKey);
  if (!byConfig) levelCache.set(configKey, (byConfig = new Map()));
  const key = `${comparedCells}:${nB}`;
  let hit = byConfig.get(key);
  if (!hit) byConfig.set(key, (hit = computeLevels(config, comparedCells, nB)));
  return hit;
}

/** Levels depend only on the config, the number of cells and (single-sample cells) the baseline size: computed once each. */
const levelCache = new Map<string, Map<string, Levels>>();
const configKeys = new WeakMap<GateConfig, string>();

/** nB: the baseline size of a single-sample cell (calibrated), or 0 for several samples (union bound only). */
function computeLevels(config: GateConfig, comparedCells: number, nB: number): Levels {
  const a = cellAlpha(config.alpha, comparedCells);
  const ai = cellAlpha(config.improvementAlpha, comparedCells);
  if (config.mode === 'fixed') return { regression: [a], improvement: [ai] };
  const nominal = lookLevels({ alpha: a, looks: config.looks, spending: config.spending });
  const improvement = lookLevels({ alpha: ai, looks: config.looks, spending: config.improvementSpending });
  if (!config.calibrate || nB === 0) return { regression: nominal, improvement };
  return { regression: calibrateLevels(config.looks, nominal, config.minEffect, nB, a).levels, improvement };
}

function sum(strata: readonly Stratum[], k: keyof Stratum): number {
  return strata.reduce((x, s) => x + s[k], 0);
}

/**
 * The verdict for one cell's analysed counts. In sequential mode the candidate's counts must be those of a look
 * (or fewer than the first look); compareRuns picks them. The simulation goes through compareRuns as well.
 */
export function decideCell(c: CellCounts, config: GateConfig, ctx: DecideContext): Decision {
  const nC = sum(c.strata, 'candidateGraded');
  const nB = sum(c.strata, 'baselineGraded');
  const available = ctx.candidateAvailable ?? nC;
  const final = ctx.final ?? true;
  const levels = cellLevels(config, ctx.comparedCells, c.strata);
  const K = config.mode === 'fixed' ? 1 : config.looks.length;
  const none = { pWorse: null, pBetter: null, delta: null, deltaCi: null, noChangeBound: null, samples: 0 } as const;
  if (nB === 0) {
    return { ...none, verdict: 'inconclusive', level: { regression: 0, improvement: 0 }, look: null, moreTrials: null, reason: 'no graded baseline trials of the current task version' };
  }
  let j = config.mode === 'fixed' ? 0 : -1;
  if (config.mode === 'sequential') {
    for (let i = 0; i < K; i++) if (config.looks[i]! <= nC) j = i;
    if (j >= 0 && nC !== config.looks[j]) throw new RangeError(`decideCell: sequential counts must be those of a look (${config.looks.join(', ')}), got ${nC} candidate trials`);
  }
  const est = stratifiedDifference(c.strata);
  const test = stratifiedExact(c.strata);
  const firstLook = config.mode === 'sequential' ? config.looks[0]! : 1;
  if (j < 0 || !est) {
    const need = Math.max(1, firstLook - available);
    const why = nC === 0 ? 'no graded candidate trials' : !est ? 'no sample has graded trials on both sides' : `${nC} graded candidate trial${nC === 1 ? '' : 's'}, first look at ${firstLook}`;
    return {
      ...none,
      ...(est && { delta: est.delta, deltaCi: intervalAt(est, Z95), pWorse: test.worse, pBetter: test.better, samples: test.informative }),
      verdict: final ? 'inconclusive' : 'undecided',
      level: { regression: 0, improvement: 0 },
      look: config.mode === 'sequential' ? { index: 0, of: K, size: firstLook } : null,
      moreTrials: need,
      reason: `${why}: too few to judge; ${need} more graded trial${need === 1 ? '' : 's'} needed`,
    };
  }
  const level = { regression: levels.regression[j]!, improvement: levels.improvement[j]! };
  const zNoChange = config.mode === 'fixed' ? Z95 : normalQuantile(1 - config.futility);
  const bound = intervalAt(est, zNoChange).low;
  const e = { pWorse: test.worse, pBetter: test.better, delta: est.delta, deltaCi: intervalAt(est, Z95), noChangeBound: bound, samples: test.informative };
  let verdict: Verdict;
  if (e.pWorse < level.regression && e.delta <= -config.minEffect + EPS) verdict = 'regression';
  else if (e.pBetter < level.improvement && e.delta >= config.minEffect - EPS) verdict = 'improvement';
  else if (bound > -config.minEffect) verdict = 'no-change';
  else verdict = 'undecided';
  const last = j === K - 1;
  let moreTrials: number | null = null;
  if (verdict === 'undecided') {
    if (!last) moreTrials = config.looks[j + 1]! - available;
    else moreTrials = projectMoreTrials(c, config, levels.regression[j]!, zNoChange);
    if (last || final) verdict = 'inconclusive';
  }
  const look = config.mode === 'sequential' ? { index: j + 1, of: K, size: config.looks[j]! } : null;
  const boundName = `one-sided ${((1 - (config.mode === 'fixed' ? 0.025 : config.futility)) * 100).toFixed(1).replace(/\.0$/, '')}% bound`;
  let reason = `${look ? `look ${j + 1}/${K}: ` : ''}${reasonFor(verdict, e, level, config.minEffect, boundName)}`;
  if (verdict === 'undecided') reason += `; next look at ${config.looks[j + 1]}`;
  if (verdict === 'inconclusive') {
    reason += last
      ? `; trial cap reached${moreTrials ? `: about ${moreTrials} more graded trials at the current rates would decide it` : ''}`
      : `; the run ended before the next look (${moreTrials} more graded trials)`;
  }
  return { ...e, verdict, level, look, moreTrials, reason };
}

function reasonFor(v: Verdict, e: { pWorse: number; pBetter: number; delta: number; noChangeBound: number }, level: Decision['level'], minEffect: number, boundName: string): string {
  switch (v) {
    case 'regression':
      return `p=${pValue(e.pWorse)} < ${fmtLevel(level.regression)} and drop ${points(-e.delta)} >= ${points(minEffect)}`;
    case 'improvement':
      return `p(better)=${pValue(e.pBetter)} < ${fmtLevel(level.improvement)} and gain ${points(e.delta)} >= ${points(minEffect)}`;
    case 'no-change':
      return `${boundName} ${(e.noChangeBound * 100).toFixed(1)} points excludes a drop of ${points(minEffect)}`;
    default:
      return `p=${pValue(e.pWorse)} (level ${fmtLevel(level.regression)}); ${boundName} ${(e.noChangeBound * 100).toFixed(1)} points does not exclude a drop of ${points(minEffect)}`;
  }
}

/** At the last look: the fewest extra graded candidate trials, at the current rates, that would cross a boundary. */
function projectMoreTrials(c: CellCounts, config: GateConfig, level: number, z: number): number | null {
  const decidedWith = (m: number): boolean => {
    const strata = c.strata.map((s) => {
      if (s.candidateGraded === 0) return s;
      const share = s.candidateGraded / sum(c.strata, 'candidateGraded');
      const n = s.candidateGraded + Math.round(m * share);
      return { ...s, candidateGraded: n, candidatePasses: Math.round((s.candidatePasses / s.candidateGraded) * n) };
    });
    const est = stratifiedDifference(strata)!;
    const t = stratifiedExact(strata);
    return (t.worse < level && est.delta <= -config.minEffect + EPS) || intervalAt(est, z).low > -config.minEffect;
  };
  const cap = 4096;
  let hi = 1;
  while (hi <= cap && !decidedWith(hi)) hi *= 2;
  if (hi > cap) return null;
  let lo = Math.floor(hi / 2);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (decidedWith(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

