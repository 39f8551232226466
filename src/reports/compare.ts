import { markdownTable } from 'markdown-table';
import type { TrialResult } from '../runs/record.js';
import { cellId, groupCells, type Interval } from './stats.js';
import { normalQuantile, stratifiedExact, Z95, type Stratum } from './exact.js';
import { calibrateLevels, cellAlpha, lookLevels, resolveGateConfig, type GateConfig } from './gate-design.js';

export { fisherExact, normalCdf, normalQuantile, stratifiedExact, studentTQuantile, type Stratum } from './exact.js';
export { alphaSpent, calibrateLevels, cellAlpha, DEFAULT_GATE_CONFIG, GateConfigSchema, lookLevels, resolveGateConfig, type GateConfig } from './gate-design.js';

/*
 * Comparing a baseline and a candidate, cell by cell (task, variant, model), with the design documented in
 * src/reports/gate-design.ts: the exact stratified test within samples, the comparison's alpha split over its
 * cells, calibrated sequential looks, its own bound for improvements, a non-binding no-change bound, and
 * 'inconclusive' (never "no regression") for a cell that could not be decided.
 *
 * Fixed mode (compare --mode fixed): one analysis of all graded trials at the cell's alpha.
 */

// ---------------------------------------------------------------------------------------------------
// The difference of pass rates, stratified

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

function intervalAt(e: DifferenceEstimate, z: number): Interval {
  return { low: Math.max(-1, e.centre - z * e.se), high: Math.min(1, e.centre + z * e.se) };
}

// ---------------------------------------------------------------------------------------------------
// Decisions on counts

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

const pts = (x: number) => `${(x * 100).toFixed(0)} points`;
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
  const p = (x: number) => (x < 0.001 ? x.toExponential(1) : x.toFixed(3));
  const lv = (x: number) => (x < 0.001 ? x.toExponential(1) : x.toFixed(4));
  switch (v) {
    case 'regression':
      return `p=${p(e.pWorse)} < ${lv(level.regression)} and drop ${pts(-e.delta)} >= ${pts(minEffect)}`;
    case 'improvement':
      return `p(better)=${p(e.pBetter)} < ${lv(level.improvement)} and gain ${pts(e.delta)} >= ${pts(minEffect)}`;
    case 'no-change':
      return `${boundName} ${(e.noChangeBound * 100).toFixed(1)} points excludes a drop of ${pts(minEffect)}`;
    default:
      return `p=${p(e.pWorse)} (level ${lv(level.regression)}); ${boundName} ${(e.noChangeBound * 100).toFixed(1)} points does not exclude a drop of ${pts(minEffect)}`;
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
  /** Why this cell makes the check fail although it is no regression: its candidate could not be judged at all. */
  failure: string | null;
}

export interface ComparisonResult {
  config: GateConfig;
  /** Cells compared (both sides present): the alpha is split over them. */
  comparedCells: number;
  /** Each cell's share of alpha. */
  cellAlpha: number;
  cells: CellComparison[];
  hasRegression: boolean;
  /** The check's outcome: fails on a regression, on a candidate that could not be judged, and on nothing to compare. */
  passed: boolean;
  /** Why it failed (empty when it passed). */
  failures: string[];
  counts: Record<CellComparison['verdict'], number>;
}

export interface CompareOptions {
  /** The candidate is complete (default true): undecided cells are 'inconclusive'. The PR job's interim looks pass false. */
  final?: boolean;
}

/** The baseline's cells, grouped once per baseline array: the sequential job compares against the same one at every look. */
const grouped = new WeakMap<readonly TrialResult[], Map<string, ReturnType<typeof groupCells>[number]>>();
function groupedOnce(trials: TrialResult[]): Map<string, ReturnType<typeof groupCells>[number]> {
  let g = grouped.get(trials);
  if (!g) grouped.set(trials, (g = new Map(groupCells(trials).map((c) => [cellId(c), c]))));
  return g;
}

function side(ts: TrialResult[]): SideSummary {
  const passes = ts.filter((t) => t.status === 'passed').length;
  const graded = passes + ts.filter((t) => t.status === 'failed').length;
  return { trials: ts.length, graded, passes, errors: ts.filter((t) => t.status === 'error').length, skips: ts.filter((t) => t.status === 'skipped').length, passRate: graded ? passes / graded : null };
}

const isGraded = (t: TrialResult) => t.status === 'passed' || t.status === 'failed';

/** Plan order: epoch, then sample, then finish time; it does not depend on outcomes. */
function planOrder(a: TrialResult, b: TrialResult): number {
  return a.epoch - b.epoch || (a.sample < b.sample ? -1 : a.sample > b.sample ? 1 : 0) || Date.parse(a.finishedAt) - Date.parse(b.finishedAt);
}

function strataOf(baseline: TrialResult[], candidate: TrialResult[]): Stratum[] {
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
function unjudgeable(trials: TrialResult[]): string {
  const errors = trials.filter((t) => t.status === 'error');
  const skips = trials.filter((t) => t.status === 'skipped');
  const first = (ts: TrialResult[]) => (ts[0]?.error ?? 'no cause recorded').split('\n')[0]!.slice(0, 300);
  if (errors.length) return `all ${trials.length} candidate trial(s) ended without a grade (${errors.length} error${skips.length ? `, ${skips.length} skipped` : ''}); first error: ${first(errors)}`;
  if (skips.length) return `all ${skips.length} candidate trial(s) were skipped: ${first(skips)}`;
  return 'no candidate trials';
}

/**
 * Compares baseline and candidate trials per cell (task, variant, model). Cells on one side only are reported as
 * such and not compared. Errors and skips are excluded from every rate and test, and shown; a compared cell whose
 * candidate has no graded trial at all fails the check with its cause, as does a comparison with nothing in it.
 */
export function compareRuns(baseline: TrialResult[], candidate: TrialResult[], config: Partial<GateConfig> = {}, opts: CompareOptions = {}): ComparisonResult {
  const cfg = resolveGateConfig(config);
  const final = opts.final ?? true;
  const bCells = groupedOnce(baseline);
  const cCells = new Map(groupCells(candidate).map((c) => [cellId(c), c]));
  const ids = [...new Set([...bCells.keys(), ...cCells.keys()])];
  const compared = ids.filter((id) => bCells.has(id) && cCells.has(id)).length;
  const cells: CellComparison[] = ids.map((id) => {
    const b = bCells.get(id);
    const c = cCells.get(id);
    const any = (b ?? c)!;
    const head = { key: any.key, task: any.task, variant: any.variant, model: any.model };
    if (!b || !c) {
      const presence = b ? 'baseline-only' : 'candidate-only';
      const failure = c && final && !c.trials.some(isGraded) ? unjudgeable(c.trials) : null;
      return { ...head, presence, verdict: presence, baseline: b ? side(b.trials) : null, candidate: c ? side(c.trials) : null, analyzed: null, decision: null, failure };
    }
    const bGraded = b.trials.filter(isGraded);
    const cGraded = c.trials.filter(isGraded).sort(planOrder);
    let analyzedC = cGraded;
    if (cfg.mode === 'sequential') {
      const reached = cfg.looks.filter((n) => n <= cGraded.length);
      analyzedC = cGraded.slice(0, reached.length ? reached[reached.length - 1]! : cGraded.length);
    }
    const decision = decideCell({ strata: strataOf(bGraded, analyzedC) }, cfg, { comparedCells: compared, candidateAvailable: cGraded.length, final });
    const candidatePasses = analyzedC.filter((t) => t.status === 'passed').length;
    return {
      ...head,
      presence: 'both',
      verdict: decision.verdict,
      baseline: side(b.trials),
      candidate: side(c.trials),
      analyzed: { candidatePasses, candidateGraded: analyzedC.length, setAside: cGraded.length - analyzedC.length },
      decision,
      failure: cGraded.length === 0 && final ? unjudgeable(c.trials) : null,
    };
  });
  const counts: ComparisonResult['counts'] = { regression: 0, improvement: 0, 'no-change': 0, undecided: 0, inconclusive: 0, 'baseline-only': 0, 'candidate-only': 0 };
  for (const c of cells) counts[c.verdict]++;
  const failures: string[] = [];
  if (counts.regression) failures.push(`regression in ${cells.filter((c) => c.verdict === 'regression').map((c) => `\`${c.key}\``).join(', ')}`);
  for (const c of cells) if (c.failure) failures.push(`\`${c.key}\`: ${c.failure}`);
  if (final && candidate.length === 0) failures.push('the candidate has no trials: nothing was evaluated');
  return { config: cfg, comparedCells: compared, cellAlpha: cellAlpha(cfg.alpha, compared), cells, hasRegression: counts.regression > 0, passed: failures.length === 0, failures, counts };
}

// ---------------------------------------------------------------------------------------------------
// Markdown

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(0)}%`);
const signedPts = (x: number) => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x * 100).toFixed(0)}`;
const fmtP = (x: number | null) => (x === null ? '—' : x < 0.001 ? x.toExponential(1) : x.toFixed(3));
const fmtLevel = (x: number) => (x < 0.001 ? x.toExponential(1) : x.toFixed(4));

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
      return `undecided: ${d?.moreTrials ?? '?'} more for the next look`;
    case 'inconclusive':
      return `${c.failure ? '**CANNOT JUDGE**' : 'inconclusive'}${d?.moreTrials ? `: needs ~${d.moreTrials} more graded trials` : ''}${d?.reason ? ` (${d.reason})` : ''}`;
  }
}

/** A headline and one table row per cell. */
export function renderComparisonMarkdown(result: ComparisonResult): string {
  const { cells, counts, config } = result;
  const compared = result.comparedCells;
  const s = compared === 1 ? '' : 's';
  const lines: string[] = [];
  if (result.hasRegression) {
    const names = cells.filter((c) => c.verdict === 'regression').map((c) => `\`${c.key}\` (${signedPts(c.decision!.delta!)} points)`);
    lines.push(`## ❌ Regression in ${counts.regression} of ${compared} compared cell${s}: ${names.join(', ')}`);
  } else if (!result.passed) {
    lines.push(`## ❌ Cannot judge: ${result.failures.join('; ')}`);
  } else if (counts.undecided > 0) {
    lines.push(`## ⏳ No regression so far; ${counts.undecided} of ${compared} compared cells need more candidate trials`);
  } else if (counts.inconclusive > 0) {
    lines.push(`## ⚠️ No regression found, but ${counts.inconclusive} of ${compared} compared cell${s} ${counts.inconclusive === 1 ? 'is' : 'are'} inconclusive (too few trials to rule one out)`);
  } else {
    lines.push(`## ✅ No regression in ${compared} compared cell${s}`);
  }
  if (!result.passed && result.hasRegression && result.failures.length > 1) lines.push('', `Also: ${result.failures.slice(1).join('; ')}`);
  const tally = (['regression', 'improvement', 'no-change', 'undecided', 'inconclusive', 'baseline-only', 'candidate-only'] as const)
    .filter((v) => counts[v] > 0)
    .map((v) => `${counts[v]} ${v}`)
    .join(', ');
  lines.push('', tally || 'no cells');
  const split = `one-sided alpha ${config.alpha} for the whole comparison, split over its ${compared} compared cell${s} (${fmtLevel(result.cellAlpha)} each)`;
  lines.push(
    '',
    '<details><summary>How the gate decides</summary>',
    '',
    config.mode === 'sequential'
      ? `Sequential gate: ${split}; looks at ${config.looks.join('/')} graded candidate trials with ${config.spending} spending${config.calibrate ? ' (calibrated exactly for single-sample cells)' : ''}; exact test stratified by sample; improvement has its own bound (alpha ${config.improvementAlpha}, ${config.improvementSpending}); no change once the one-sided ${((1 - config.futility) * 100).toFixed(0)}% bound excludes a drop of ${pts(config.minEffect)}. Regression needs p below the look's level and a drop of at least ${pts(config.minEffect)}.`
      : `Fixed comparison: ${split}; exact test stratified by sample; regression needs a drop of at least ${pts(config.minEffect)}; no change once the 95% interval excludes such a drop.`,
    '',
    '</details>',
    '',
  );
  const rows = cells.map((c) => {
    const d = c.decision;
    const ci = d?.deltaCi;
    const delta = d?.delta != null && ci ? `${signedPts(d.delta)} [${signedPts(ci.low)}, ${signedPts(ci.high)}]` : '—';
    const p = d?.pWorse != null ? `${fmtP(d.pWorse)}${d.level.regression ? ` (level ${fmtLevel(d.level.regression)})` : ''}` : '—';
    const cand = c.analyzed && c.candidate ? sideCell(c.candidate, c.analyzed.candidatePasses, c.analyzed.candidateGraded) + (c.analyzed.setAside ? ` (+${c.analyzed.setAside} set aside)` : '') : sideCell(c.candidate);
    return [c.task, c.variant, c.model, sideCell(c.baseline), cand, delta, p, verdictCell(c)].map((x) => x.replace(/\|/g, '\\|'));
  });
  lines.push(markdownTable([['task', 'variant', 'model', 'baseline', 'candidate', 'delta, points [95% CI]', 'p (worse)', 'verdict'], ...rows]));
  return lines.join('\n') + '\n';
}
