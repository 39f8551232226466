/*
 * Exact tests and the distributions the gate needs: Fisher's exact test, the exact stratified test (conditional
 * on every stratum's margins: the exact form of the Cochran–Mantel–Haenszel test), the normal and Student t
 * quantiles (intervals are in intervals.ts). Everything in log space or by exact sums; no normal approximation of a
 * p-value. Trials of two runs are not paired (an epoch shares nothing across runs): there is no McNemar test.
 */

/** z for a two-sided 95% interval: the 0.975 quantile of the standard normal. */
export const Z95 = 1.959963984540054;

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
// The exact stratified test

/** One stratum (a sample of the task): the candidate's and the baseline's graded trials and passes on it. */
export interface Stratum {
  candidatePasses: number;
  candidateGraded: number;
  baselinePasses: number;
  baselineGraded: number;
}

export interface StratifiedResult {
  /** P(T <= t): one-sided p that the candidate is worse, T the candidate's passes summed over strata. */
  worse: number;
  /** P(T >= t): one-sided p that the candidate is better. */
  better: number;
  /** Strata with graded trials on both sides: the only ones that carry information. */
  informative: number;
}

/**
 * The exact stratified test of "same pass rate within each stratum" (each stratum may have its own rate).
 * Given each stratum's margins, the candidate's passes in it are hypergeometric, independently across strata,
 * so T = sum of the candidate's passes has the convolution of those distributions; p-values are its tails at
 * the observed T (the exact conditional test whose large-sample form is Cochran–Mantel–Haenszel). A stratum
 * with no graded trial on one side has a degenerate distribution and adds nothing, so a sample whose candidate
 * trials all errored is compared on nothing rather than on the baseline's other samples. With one informative
 * stratum this is Fisher's exact test.
 */
export function stratifiedExact(strata: readonly Stratum[]): StratifiedResult {
  for (const s of strata) {
    for (const [name, v] of Object.entries(s)) checkCount('stratifiedExact', name, v);
    if (s.candidatePasses > s.candidateGraded || s.baselinePasses > s.baselineGraded) throw new RangeError('stratifiedExact: passes cannot exceed graded trials');
  }
  const used = strata.filter((s) => s.candidateGraded > 0 && s.baselineGraded > 0);
  if (used.length === 0) return { worse: 1, better: 1, informative: 0 };
  if (used.length === 1) {
    const s = used[0]!;
    const f = fisherExact(s.candidatePasses, s.candidateGraded - s.candidatePasses, s.baselinePasses, s.baselineGraded - s.baselinePasses);
    return { worse: f.less, better: f.greater, informative: 1 };
  }
  // pmf of T over [offset, offset + dist.length - 1]
  let dist = [1];
  let offset = 0;
  let observed = 0;
  for (const s of used) {
    const m = s.candidatePasses + s.baselinePasses;
    const lo = Math.max(0, m - s.baselineGraded);
    const hi = Math.min(s.candidateGraded, m);
    const lnDen = lnChoose(s.candidateGraded + s.baselineGraded, m);
    const pmf: number[] = [];
    for (let x = lo; x <= hi; x++) pmf.push(Math.exp(lnChoose(s.candidateGraded, x) + lnChoose(s.baselineGraded, m - x) - lnDen));
    const next = new Array<number>(dist.length + pmf.length - 1).fill(0);
    for (let i = 0; i < dist.length; i++) for (let j = 0; j < pmf.length; j++) next[i + j]! += dist[i]! * pmf[j]!;
    dist = next;
    offset += lo;
    observed += s.candidatePasses;
  }
  const at = observed - offset;
  let worse = 0;
  let better = 0;
  for (let i = 0; i <= at; i++) worse += dist[i]!;
  for (let i = at; i < dist.length; i++) better += dist[i]!;
  const clamp = (p: number) => Math.min(1, Math.max(0, p));
  return { worse: clamp(worse), better: clamp(better), informative: used.length };
}

// ---------------------------------------------------------------------------------------------------
// Student's t (for intervals from few clusters)

/** ln Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms; about 1e-15 relative). */
function lnGamma(x: number): number {
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let a = g[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += g[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularized incomplete beta function I_x(a, b), by its continued fraction (modified Lentz). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(a * Math.log(x) + b * Math.log1p(-x) - (lnGamma(a) + lnGamma(b) - lnGamma(a + b))) / a;
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let f = d;
  for (let m = 1; m <= 500; m++) {
    for (const num of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      f *= c * d;
    }
    if (Math.abs(c * d - 1) < 1e-16) break;
  }
  return front * f;
}

/** Student's t CDF with df degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Student's t quantile: the t with studentTCdf(t, df) = p, by bisection to full double precision. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be positive, got ${df}`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
