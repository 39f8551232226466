import { describe, expect, it } from 'vitest';
import type { TrialResult } from '../../src/runs/record.js';
import { makeTrial } from '../support/records.js';
import { alphaSpent, calibrateLevels, compareRuns, decideCell, DEFAULT_GATE_CONFIG, exactFalseAlarmRate, lookLevels, pooled, renderComparisonMarkdown, resolveGateConfig } from '../../src/reports/compare/index.js';
import { fisherExact, normalCdf, normalQuantile, stratifiedExact, studentTCdf, studentTQuantile, type Stratum } from '../../src/stats/exact.js';
import { stratifiedDifference } from '../../src/stats/intervals.js';

let clock = Date.parse('2025-01-01T00:00:00Z');
function trial(over: Partial<TrialResult> & { status: TrialResult['status'] }): TrialResult {
  clock += 1000;
  return makeTrial({
    sample: 's1',
    model: 'm',
    usage: { inputTokens: 1, outputTokens: 1, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
    costUsd: null,
    turns: 1,
    finishedAt: new Date(clock).toISOString(),
    ...over,
  });
}
/** `passes` passed then `fails` failed trials of one cell, over samples s0..s4, epochs counting up. */
function trials(passes: number, fails: number, over: Partial<TrialResult> = {}): TrialResult[] {
  const statuses = [...Array<'passed'>(passes).fill('passed'), ...Array<'failed'>(fails).fill('failed')];
  return statuses.map((status, i) => trial({ status, sample: `s${i % 5}`, epoch: Math.floor(i / 5), ...over }));
}
const fixed = resolveGateConfig({ mode: 'fixed' });
const seq = resolveGateConfig();
const counts = pooled;
/** One cell among `m` compared ones, the run complete unless `final` is false. */
const ctx = (m = 1, final = true, candidateAvailable?: number) => ({ comparedCells: m, final, ...(candidateAvailable !== undefined && { candidateAvailable }) });

describe('Fisher exact test', () => {
  it('tea tasting 3,1 / 1,3', () => {
    // margins 4,4 / 4,4; P(X=x) = C(4,x) C(4,4-x) / C(8,4): x=0..4 -> 1, 16, 36, 16, 1 over 70
    // two-sided: all tables no likelier than 16/70 -> (1+16+16+1)/70 = 34/70 = 0.4857
    // greater: P(X>=3) = 17/70 = 0.2429; less: P(X<=3) = 69/70
    const f = fisherExact(3, 1, 1, 3);
    expect(f.twoSided).toBeCloseTo(34 / 70, 12);
    expect(f.twoSided).toBeCloseTo(0.4857, 4);
    expect(f.greater).toBeCloseTo(17 / 70, 12);
    expect(f.less).toBeCloseTo(69 / 70, 12);
  });
  it('the dieting example 1,9 / 11,3', () => {
    // C(24,12) = 2704156; P(X=1) = C(10,1) C(14,11) = 10*364 = 3640; P(X=0) = C(14,12) = 91
    // less = (3640 + 91) / 2704156 = 0.0013797; two-sided 0.002759 (as R's fisher.test)
    const f = fisherExact(1, 9, 11, 3);
    expect(f.less).toBeCloseTo(3731 / 2704156, 12);
    expect(f.twoSided).toBeCloseTo(0.002759, 6);
  });
  it('a fully separated table 0,5 / 5,0', () => {
    // only table as extreme: 1 / C(10,5) = 1/252; two-sided doubles it
    const f = fisherExact(0, 5, 5, 0);
    expect(f.less).toBeCloseTo(1 / 252, 12);
    expect(f.twoSided).toBeCloseTo(2 / 252, 12);
    expect(f.greater).toBeCloseTo(1, 12);
  });
  it('stays exact in log space for large tables', () => {
    const f = fisherExact(300, 700, 400, 600);
    expect(f.less).toBeGreaterThan(0);
    expect(f.less).toBeLessThan(1e-5);
    expect(f.less + f.greater).toBeGreaterThan(1); // the observed table is in both tails
  });
});

describe('normal distribution and alpha spending', () => {
  it('normalCdf and normalQuantile', () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 14);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980316301, 15);
    expect(normalCdf(-5) / 2.866515718791939e-7).toBeCloseTo(1, 10);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 10);
    expect(normalQuantile(0.9)).toBeCloseTo(1.2815515655446004, 10);
  });
  it('look levels follow the spending functions and sum to alpha', () => {
    // Pocock type, looks 10/20/40: A(t) = 0.05 ln(1 + (e-1) t): A(0.25) = 0.05 ln(1.429570) = 0.05 * 0.357374 = 0.017869
    const p = lookLevels({ alpha: 0.05, looks: [10, 20, 40], spending: 'pocock' });
    expect(p[0]).toBeCloseTo(0.05 * Math.log(1 + (Math.E - 1) * 0.25), 12);
    expect(p[0]).toBeCloseTo(0.017869, 6);
    // O'Brien-Fleming type: A(t) = 2 - 2 Phi(1.959964 / sqrt(t)); A(0.5) = 2 - 2 Phi(2.771808) = 0.005575
    const o = lookLevels({ alpha: 0.05, looks: [20, 40], spending: 'obrien-fleming' });
    expect(o[0]).toBeCloseTo(0.005575, 6);
    expect(o[0]! + o[1]!).toBeCloseTo(0.05, 15);
    expect(lookLevels(DEFAULT_GATE_CONFIG).reduce((a, b) => a + b, 0)).toBeCloseTo(0.05, 15);
    expect(alphaSpent('pocock', 0.05, 1)).toBeCloseTo(0.05, 15);
  });
});


/** Exact binomial coefficient as a BigInt: an enumeration independent of the log-space code under test. */
function choose(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 0; i < k; i++) r = (r * BigInt(n - i)) / BigInt(i + 1);
  return r;
}

describe('exact stratified test', () => {
  it('two strata by hand: 0/2 vs 2/2 and 1/1 vs 0/1', () => {
    // Stratum 1: N=4, m=2 passes, nC=2: P(x) = C(2,x) C(2,2-x) / C(4,2) = 1/6, 4/6, 1/6.
    // Stratum 2: N=2, m=1, nC=1: P(x) = 1/2, 1/2. T = x1 + x2, observed 0 + 1 = 1.
    // P(T=0) = 1/12, P(T=1) = 1/12 + 4/12 = 5/12, P(T=2) = 5/12, P(T=3) = 1/12.
    const strata: Stratum[] = [
      { candidatePasses: 0, candidateGraded: 2, baselinePasses: 2, baselineGraded: 2 },
      { candidatePasses: 1, candidateGraded: 1, baselinePasses: 0, baselineGraded: 1 },
    ];
    const r = stratifiedExact(strata);
    expect(r.worse).toBeCloseTo(6 / 12, 14);
    expect(r.better).toBeCloseTo(11 / 12, 14);
    expect(r.informative).toBe(2);
    // A stratum with trials on one side only carries nothing: same p-values.
    expect(stratifiedExact([...strata, { candidatePasses: 0, candidateGraded: 0, baselinePasses: 5, baselineGraded: 10 }])).toEqual(r);
  });

  it('one stratum is Fisher\'s exact test', () => {
    const r = stratifiedExact([{ candidatePasses: 1, candidateGraded: 10, baselinePasses: 11, baselineGraded: 14 }]);
    expect(r.worse).toBeCloseTo(3731 / 2704156, 12); // the dieting example above
  });

  it('agrees with a brute-force enumeration in exact integer arithmetic (three strata)', () => {
    const strata: Stratum[] = [
      { candidatePasses: 1, candidateGraded: 6, baselinePasses: 5, baselineGraded: 8 },
      { candidatePasses: 3, candidateGraded: 4, baselinePasses: 2, baselineGraded: 7 },
      { candidatePasses: 0, candidateGraded: 5, baselinePasses: 3, baselineGraded: 5 },
    ];
    // Every combination of (x1, x2, x3), weighted by the product of hypergeometric numerators over their denominators.
    const den = strata.reduce((a, s) => a * choose(s.candidateGraded + s.baselineGraded, s.candidatePasses + s.baselinePasses), 1n);
    const t = strata.reduce((a, s) => a + s.candidatePasses, 0);
    let lower = 0n;
    let upper = 0n;
    const walk = (i: number, sum: number, w: bigint) => {
      if (i === strata.length) {
        if (sum <= t) lower += w;
        if (sum >= t) upper += w;
        return;
      }
      const s = strata[i]!;
      const m = s.candidatePasses + s.baselinePasses;
      for (let x = 0; x <= Math.min(m, s.candidateGraded); x++) walk(i + 1, sum + x, w * choose(s.candidateGraded, x) * choose(s.baselineGraded, m - x));
    };
    walk(0, 0, 1n);
    const r = stratifiedExact(strata);
    expect(r.worse).toBeCloseTo(Number(lower) / Number(den), 13);
    expect(r.better).toBeCloseTo(Number(upper) / Number(den), 13);
  });
});

describe('stratified difference (Mantel–Haenszel estimate, Agresti–Caffo interval)', () => {
  it('one stratum: 2/10 vs 20/50 by hand', () => {
    // Adjusted: (2+1)/12 = 0.25, (20+1)/52 = 0.403846; centre -0.153846;
    // SE = sqrt(0.25*0.75/12 + 0.403846*0.596154/52) = 0.142320; 95%: -0.153846 ± 1.959964*0.142320 = [-0.43279, 0.12510]
    const e = stratifiedDifference([{ candidatePasses: 2, candidateGraded: 10, baselinePasses: 20, baselineGraded: 50 }])!;
    expect(e.delta).toBeCloseTo(-0.2, 14);
    expect(e.centre).toBeCloseTo(-0.15384615384615385, 14);
    expect(e.se).toBeCloseTo(0.14231968604503778, 12);
    const d = decideCell(counts(20, 50, 2, 10), fixed, ctx());
    expect(d.deltaCi!.low).toBeCloseTo(-0.4327876127854756, 12);
    expect(d.deltaCi!.high).toBeCloseTo(0.1250953050931679, 12);
  });
  it('never zero width, even when both sides pass every time', () => {
    const d = decideCell(counts(30, 30, 10, 10), fixed, ctx());
    expect(d.deltaCi!.high - d.deltaCi!.low).toBeGreaterThan(0.1);
  });
});

describe("Student's t quantile", () => {
  it('matches the closed forms for 1 and 2 degrees of freedom', () => {
    // df 1 (Cauchy): t = tan(pi (p - 1/2)); df 2: t = (2p - 1) / sqrt(2 p (1 - p)).
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(Math.tan(0.475 * Math.PI), 10);
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706204736174696, 9);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.302652729749464, 11);
    expect(studentTQuantile(0.9, 2)).toBeCloseTo(0.8 / Math.sqrt(2 * 0.9 * 0.1), 11);
    // the CDF against the closed forms
    for (const t of [-3, -0.5, 0, 0.7, 4]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 13);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(t * t + 2)), 13);
    }
    // many degrees of freedom: the normal quantile
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959963984540054, 5);
    expect(studentTQuantile(0.025, 3)).toBeCloseTo(-studentTQuantile(0.975, 3), 14);
  });
});

describe('look levels use the slack, exactly', () => {
  it('the exact false-alarm rate equals a brute-force enumeration of a small design', () => {
    const d = { looks: [3, 6], levels: [0.05, 0.1], minEffect: 0, baselineGraded: 6 };
    const p = 0.35;
    // Independent enumeration: every baseline count and every (first batch, second batch) of candidate passes.
    const pmf = (n: number, k: number) => Number(choose(n, k)) * p ** k * (1 - p) ** (n - k);
    let rate = 0;
    for (let kB = 0; kB <= 6; kB++) {
      for (let a = 0; a <= 3; a++) {
        for (let b = 0; b <= 3; b++) {
          const first = fisherExact(a, 3 - a, kB, 6 - kB).less < 0.05 && kB / 6 - a / 3 >= -1e-12;
          const second = fisherExact(a + b, 6 - a - b, kB, 6 - kB).less < 0.1 && kB / 6 - (a + b) / 6 >= -1e-12;
          if (first || second) rate += pmf(6, kB) * pmf(3, a) * pmf(3, b);
        }
      }
    }
    expect(exactFalseAlarmRate(d, p)).toBeCloseTo(rate, 14);
  });

  it('the calibrated default design stays at or below its alpha at every pass rate, and spends most of it', () => {
    const alpha = 0.05 / 20;
    const nominal = lookLevels({ alpha, looks: DEFAULT_GATE_CONFIG.looks, spending: 'obrien-fleming' });
    const c = calibrateLevels(DEFAULT_GATE_CONFIG.looks, nominal, 0.15, 100, alpha);
    expect(c.factor).toBeGreaterThan(1);
    expect(c.worstRate).toBeLessThanOrEqual(alpha);
    expect(c.worstRate).toBeGreaterThan(0.9 * alpha);
    const design = { looks: DEFAULT_GATE_CONFIG.looks, levels: c.levels, minEffect: 0.15, baselineGraded: 100 };
    for (let p = 0.05; p < 1; p += 0.05) expect(exactFalseAlarmRate(design, p)).toBeLessThanOrEqual(alpha * (1 + 1e-9));
    // The uncalibrated (union-bound) design wastes most of it.
    expect(exactFalseAlarmRate({ ...design, levels: nominal }, c.worstAt)).toBeLessThan(0.7 * alpha);
  }, 60_000);
});

describe('verdicts (fixed mode)', () => {
  it('a clear regression, and the same counts split over 20 cells need a smaller p', () => {
    const d = decideCell(counts(20, 30, 2, 30), fixed, ctx());
    expect(d.verdict).toBe('regression');
    expect(d.delta).toBeCloseTo(2 / 30 - 20 / 30, 12);
    expect(d.level.regression).toBe(0.05);
    // 1/10 vs 20/50: drop 30 points, Fisher p = 0.0675: not below 0.05 on its own
    expect(decideCell(counts(20, 50, 1, 10), fixed, ctx()).verdict).toBe('inconclusive');
    // 3/30 vs 20/50: p ~ 0.0038: a regression alone, not at 0.05/20 = 0.0025 with 20 cells
    const alone = decideCell(counts(20, 50, 3, 30), fixed, ctx(1));
    const among20 = decideCell(counts(20, 50, 3, 30), fixed, ctx(20));
    expect(alone.verdict).toBe('regression');
    expect(among20.level.regression).toBeCloseTo(0.0025, 15);
    expect(among20.pWorse!).toBeGreaterThan(0.0025);
    expect(among20.verdict).toBe('inconclusive');
  });
  it('no-change once the 95% interval excludes a drop of 15 points; improvement', () => {
    expect(decideCell(counts(60, 100, 62, 100), fixed, ctx()).verdict).toBe('no-change');
    expect(decideCell(counts(2, 30, 20, 30), fixed, ctx()).verdict).toBe('improvement');
  });
  it('inconclusive, with the trials a decision needs at the current rate', () => {
    const d = decideCell(counts(20, 50, 4, 10), fixed, ctx());
    expect(d.verdict).toBe('inconclusive');
    const m = d.moreTrials!;
    const at = (extra: number) => decideCell(counts(20, 50, Math.round(0.4 * (10 + extra)), 10 + extra), fixed, ctx()).verdict;
    expect(at(m)).not.toBe('inconclusive');
    expect(at(m - 1)).toBe('inconclusive');
  });
});

describe('verdicts (sequential mode, the default gate)', () => {
  it('a clear regression at look 2 (20 trials)', () => {
    const d = decideCell(counts(80, 100, 2, 20), seq, ctx(1, false));
    expect(d.verdict).toBe('regression');
    expect(d.look).toMatchObject({ index: 2, of: 5, size: 20 });
    expect(d.pWorse!).toBeLessThan(d.level.regression);
  });
  it('improvement is reachable at the first look, before a no-change stop', () => {
    // 10/10 against 0/100: gain 100 points, p(better) = 1/C(110,10) is far below Pocock's first level
    const d = decideCell(counts(0, 100, 10, 10), seq, ctx(20, false));
    expect(d.verdict).toBe('improvement');
  });
  it('no-change at the first look when the one-sided 90% bound excludes a 15-point drop', () => {
    const d = decideCell(counts(40, 100, 8, 10), seq, ctx(1, false));
    expect(d.verdict).toBe('no-change');
    expect(d.noChangeBound!).toBeGreaterThan(-0.15);
  });
  it('undecided while looks remain; inconclusive when the run is over or at the last look', () => {
    const mid = decideCell(counts(40, 100, 2, 10), seq, ctx(1, false, 13));
    expect(mid.verdict).toBe('undecided');
    expect(mid.moreTrials).toBe(7); // 13 there, the next look at 20
    const over = decideCell(counts(40, 100, 2, 10), seq, ctx(1, true, 13));
    expect(over.verdict).toBe('inconclusive');
    expect(over.reason).toMatch(/the run ended before the next look \(7 more graded trials\)/);
    const last = decideCell(counts(40, 100, 14, 50), seq, ctx(1, false));
    expect(last.verdict).toBe('inconclusive');
    expect(last.reason).toMatch(/trial cap reached/);
  });
  it('too few graded candidate trials is inconclusive, never no-change', () => {
    const d = decideCell(counts(40, 100, 3, 3), seq, ctx());
    expect(d.verdict).toBe('inconclusive');
    expect(d.reason).toMatch(/3 graded candidate trials, first look at 10: too few to judge; 7 more graded trials needed/);
    expect(decideCell(counts(40, 100, 3, 3), seq, ctx(1, false)).verdict).toBe('undecided');
  });
  it('refuses counts that are not at a look', () => {
    expect(() => decideCell(counts(20, 50, 3, 13), seq, ctx())).toThrow(/must be those of a look/);
  });
});

describe('compareRuns', () => {
  it('finds a regression, excludes errors and skips, and reports one-sided cells', () => {
    const baseline = [...trials(80, 20), trial({ status: 'error' }), ...trials(3, 3, { task: 'gone' })];
    const candidate = [...trials(2, 18), trial({ status: 'skipped' }), trial({ status: 'error' }), ...trials(1, 1, { task: 'new' })];
    const r = compareRuns(baseline, candidate);
    const cell = r.cells.find((c) => c.key === 't/v/m')!;
    expect(cell.baseline).toMatchObject({ trials: 101, graded: 100, passes: 80, errors: 1 });
    expect(cell.candidate).toMatchObject({ trials: 22, graded: 20, passes: 2, errors: 1, skips: 1 });
    expect(cell.verdict).toBe('regression');
    expect(r.cells.find((c) => c.task === 'gone')!.verdict).toBe('baseline-only');
    expect(r.cells.find((c) => c.task === 'new')!.verdict).toBe('candidate-only');
    expect(r.comparedCells).toBe(1);
    expect(r.passed).toBe(false);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    const md = renderComparisonMarkdown(r);
    expect(md).toMatch(/Regression in 1 of 1 compared cell/);
    expect(md).toContain('80/100 (80%) +1 error');
  });

  it('splits alpha over the compared cells', () => {
    const cells = ['a', 'b', 'c'].flatMap((task) => trials(50, 50, { task }));
    const r = compareRuns(cells, ['a', 'b', 'c'].flatMap((task) => trials(5, 5, { task })));
    expect(r.comparedCells).toBe(3);
    expect(r.cellAlpha).toBeCloseTo(0.05 / 3, 15);
    expect(renderComparisonMarkdown(r)).toContain('split over its 3 compared cells (0.0167 each)');
  });

  it('compares within samples: a sample whose candidate trials all error does not fake a regression', () => {
    // Baseline: easy sample 70/100 -> 35 of 50, hard sample 5 of 50. Candidate: the easy sample always errors, the hard one 3/30.
    const base = [
      ...Array.from({ length: 50 }, (_, i) => trial({ sample: 'easy', epoch: i, status: i < 35 ? 'passed' : 'failed' })),
      ...Array.from({ length: 50 }, (_, i) => trial({ sample: 'hard', epoch: i, status: i < 5 ? 'passed' : 'failed' })),
    ];
    const cand = [
      ...Array.from({ length: 30 }, (_, i) => trial({ sample: 'easy', epoch: i, status: 'error', error: 'API 529' })),
      ...Array.from({ length: 30 }, (_, i) => trial({ sample: 'hard', epoch: i, status: i < 3 ? 'passed' : 'failed' })),
    ];
    const r = compareRuns(base, cand, { mode: 'fixed' });
    const d = r.cells[0]!.decision!;
    expect(d.samples).toBe(1);
    expect(d.pWorse!).toBeGreaterThan(0.3); // 3/30 vs 5/50 on the hard sample alone
    expect(r.hasRegression).toBe(false);
    // Pooled, the same counts are a "significant" 30-point drop: what the stratified test prevents.
    expect(fisherExact(3, 27, 40, 60).less).toBeLessThan(0.002);
  });

  it('analyses the first look in plan order and sets the rest aside', () => {
    const r = compareRuns(trials(50, 50), trials(5, 8), {}, { final: false });
    expect(r.cells[0]!.analyzed).toEqual({ candidatePasses: 5, candidateGraded: 10, setAside: 3 });
    expect(r.cells[0]!.decision!.look).toMatchObject({ index: 1, size: 10 });
  });

  it('an all-error candidate fails the check with its cause; so do two empty records', () => {
    const errors = Array.from({ length: 10 }, (_, i) => trial({ status: 'error', epoch: i, error: 'API 401: invalid x-api-key\nstack' }));
    const r = compareRuns(trials(50, 50), errors);
    expect(r.hasRegression).toBe(false);
    expect(r.passed).toBe(false);
    expect(r.failures).toEqual(['`t/v/m`: all 10 candidate trial(s) ended without a grade (10 error); first error: API 401: invalid x-api-key']);
    const md = renderComparisonMarkdown(r);
    expect(md).toMatch(/^## ❌ Cannot judge: `t\/v\/m`: all 10 candidate trial/);
    expect(md).not.toMatch(/No regression/);
    // without a baseline too
    expect(compareRuns([], errors).passed).toBe(false);
    const empty = compareRuns([], []);
    expect(empty.passed).toBe(false);
    expect(empty.failures).toEqual(['the candidate has no trials: nothing was evaluated']);
  });

  it('a candidate with too few graded trials is inconclusive, and the headline says so', () => {
    const r = compareRuns(trials(50, 50), [...trials(1, 3), ...Array.from({ length: 6 }, () => trial({ status: 'error' }))]);
    expect(r.cells[0]!.verdict).toBe('inconclusive');
    expect(r.passed).toBe(true);
    expect(renderComparisonMarkdown(r)).toMatch(/## ⚠️ No regression found, but 1 of 1 compared cell is inconclusive/);
  });

  it('rejects a bad config', () => {
    expect(() => compareRuns([], [], { looks: [10, 5] })).toThrow(/strictly increasing/);
    expect(() => compareRuns([], [], { alpha: 2 })).toThrow(/alpha/);
    expect(() => compareRuns([], [], { looks: [10, 100] })).not.toThrow();
    expect(() => compareRuns([], [], { looks: [10, 100], maxTrialsPerCell: 50 })).toThrow(/maxTrialsPerCell/);
    expect(compareRuns([], [], { alpha: undefined }).config.alpha).toBe(0.05);
  });
});
