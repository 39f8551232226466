import { Z95, type Stratum } from './exact.js';

/*
 * Intervals and standard errors for pass rates: Wilson for one rate, stratified Agresti–Caffo for a difference
 * of rates, and the cluster-robust standard error of a mean clustered by sample.
 */

export interface Interval {
  low: number;
  high: number;
}

/** 95% Wilson score interval for k successes in n trials; [0, 1] when n is 0. */
export function wilson(k: number, n: number, z = Z95): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = k / n;
  const denom = 1 + (z * z) / n;
  const center = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

export interface DifferenceEstimate {
  /** Mantel–Haenszel weighted difference candidate - baseline over informative strata (weights nC nB / (nC + nB)). */
  delta: number;
  /** Standard error of the Agresti–Caffo adjusted difference with the same weights (never 0). */
  se: number;
  /** The adjusted centre the interval is built around. */
  centre: number;
}

/**
 * The stratified difference of pass rates. Point estimate: the Mantel–Haenszel risk difference. Interval:
 * per stratum Agresti–Caffo (one pass and one failure added to each side, which keeps the variance positive so
 * no interval has zero width), combined with the same weights. With one stratum it is the Agresti–Caffo
 * interval, whose coverage is close to nominal even for ten trials a side.
 */
export function stratifiedDifference(strata: readonly Stratum[]): DifferenceEstimate | null {
  const used = strata.filter((s) => s.candidateGraded > 0 && s.baselineGraded > 0);
  if (!used.length) return null;
  let W = 0;
  let d = 0;
  let c = 0;
  let v = 0;
  for (const s of used) {
    const w = (s.candidateGraded * s.baselineGraded) / (s.candidateGraded + s.baselineGraded);
    const pc = (s.candidatePasses + 1) / (s.candidateGraded + 2);
    const pb = (s.baselinePasses + 1) / (s.baselineGraded + 2);
    W += w;
    d += w * (s.candidatePasses / s.candidateGraded - s.baselinePasses / s.baselineGraded);
    c += w * (pc - pb);
    v += w * w * ((pc * (1 - pc)) / (s.candidateGraded + 2) + (pb * (1 - pb)) / (s.baselineGraded + 2));
  }
  return { delta: d / W, centre: c / W, se: Math.sqrt(v) / W };
}

export function intervalAt(e: DifferenceEstimate, z: number): Interval {
  return { low: Math.max(-1, e.centre - z * e.se), high: Math.min(1, e.centre + z * e.se) };
}

/**
 * Cluster-robust standard error of a mean of 0/1 outcomes, clustered by group:
 * sqrt( G/(G-1) * sum_g (sum_i (y_gi - p))^2 ) / N, with G groups, N outcomes and p their mean.
 * null with fewer than two groups (the small-sample factor G/(G-1) is undefined).
 */
export function clusteredSe(groups: number[][]): number | null {
  const nonEmpty = groups.filter((g) => g.length > 0);
  const G = nonEmpty.length;
  const N = nonEmpty.reduce((a, g) => a + g.length, 0);
  if (G < 2) return null;
  const p = nonEmpty.reduce((a, g) => a + g.reduce((x, y) => x + y, 0), 0) / N;
  let ss = 0;
  for (const g of nonEmpty) {
    const r = g.reduce((a, y) => a + (y - p), 0);
    ss += r * r;
  }
  return Math.sqrt((G / (G - 1)) * ss) / N;
}

