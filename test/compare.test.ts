import { describe, expect, it } from 'vitest';
import type { TrialResult } from '../src/runs/record.js';
import { makeTrial } from './support/records.js';
import {
  alphaSpent,
  compareRuns,
  decideCell,
  DEFAULT_GATE_CONFIG,
  fisherExact,
  lookLevels,
  mcnemarExact,
  newcombeInterval,
  normalCdf,
  normalQuantile,
  renderComparisonMarkdown,
  resolveGateConfig,
  type CellCounts,
} from '../src/reports/compare.js';
import { simulateGate, simulateNaive } from '../scripts/simulate-gate.js';

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
const counts = (kB: number, nB: number, kC: number, nC: number): CellCounts => ({
  baselinePasses: kB,
  baselineGraded: nB,
  candidatePasses: kC,
  candidateGraded: nC,
});

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

describe('exact McNemar (sign test on discordant pairs)', () => {
  it('6 baseline-only vs 1 candidate-only pairs', () => {
    // X ~ Bin(7, 1/2): P(X >= 6) = (C(7,6) + C(7,7)) / 2^7 = 8/128 = 0.0625
    const m = mcnemarExact(6, 1);
    expect(m.worse).toBeCloseTo(8 / 128, 12);
    expect(m.better).toBeCloseTo(127 / 128, 12); // P(X >= 1) = 1 - 1/128
    expect(m.twoSided).toBeCloseTo(16 / 128, 12);
  });
  it('5 vs 0, and no discordant pairs', () => {
    expect(mcnemarExact(5, 0).worse).toBeCloseTo(1 / 32, 12); // (1/2)^5
    expect(mcnemarExact(0, 0)).toEqual({ worse: 1, better: 1, twoSided: 1 });
  });
});

describe('Newcombe hybrid score interval', () => {
  it('Newcombe (1998) example: 56/70 - 48/80', () => {
    // p1 = 0.8, p2 = 0.6, difference 0.2000. Wilson 56/70 = [0.69183, 0.87695], 48/80 = [0.49045, 0.70038]
    // low  = 0.2 - sqrt((0.8 - 0.69183)^2 + (0.70038 - 0.6)^2) = 0.2 - sqrt(0.011700 + 0.010076) = 0.0524
    // high = 0.2 + sqrt((0.87695 - 0.8)^2 + (0.6 - 0.49045)^2) = 0.2 + sqrt(0.005922 + 0.012000) = 0.3339
    const d = newcombeInterval(56, 70, 48, 80);
    expect(d.delta).toBeCloseTo(0.2, 12);
    expect(d.low).toBeCloseTo(0.0524, 4);
    expect(d.high).toBeCloseTo(0.3339, 4);
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

describe('verdicts (fixed mode)', () => {
  it('a clear regression', () => {
    const d = decideCell(counts(20, 30, 2, 30), fixed);
    expect(d.verdict).toBe('regression');
    expect(d.test).toBe('fisher');
    expect(d.delta).toBeCloseTo(2 / 30 - 20 / 30, 12); // -0.6
    expect(d.pWorse).toBeLessThan(1e-5);
  });
  it('a clear no-change: the 95% interval excludes a drop of 15 points', () => {
    // 62/100 vs 60/100: delta +0.02, Newcombe 95% [-0.1134, 0.1524]; -0.1134 > -0.15
    const d = decideCell(counts(60, 100, 62, 100), fixed);
    expect(d.verdict).toBe('no-change');
    expect(d.deltaCi!.low).toBeCloseTo(-0.1134, 4);
  });
  it('undecided, with the trials a decision needs at the current rate', () => {
    const d = decideCell(counts(20, 50, 4, 10), fixed);
    expect(d.verdict).toBe('undecided');
    const m = d.moreTrials!;
    expect(m).toBeGreaterThan(0);
    // the defining property of the projection: m more trials at 40% decide it, m - 1 do not
    const at = (extra: number) => decideCell(counts(20, 50, Math.round(0.4 * (10 + extra)), 10 + extra), fixed).verdict;
    expect(at(m)).not.toBe('undecided');
    expect(at(m - 1)).toBe('undecided');
  });
  it('a large drop that is not significant is undecided, not a regression', () => {
    // 1/10 vs 20/50: drop 30 points, but Fisher one-sided p = 0.067 >= 0.05
    const d = decideCell(counts(20, 50, 1, 10), fixed);
    expect(d.pWorse).toBeCloseTo(0.0675, 4);
    expect(d.verdict).toBe('undecided');
  });
  it('an improvement', () => {
    expect(decideCell(counts(2, 30, 20, 30), fixed).verdict).toBe('improvement');
  });
});

describe('verdicts (sequential mode, the default gate)', () => {
  it('a clear regression at look 3 (20 trials)', () => {
    const d = decideCell(counts(40, 50, 2, 20), seq);
    expect(d.verdict).toBe('regression');
    expect(d.look).toMatchObject({ index: 3, of: 5, size: 20 });
    expect(d.pWorse!).toBeLessThan(d.level);
  });
  it('no-change at the first look when the one-sided 90% bound excludes a 15-point drop', () => {
    const d = decideCell(counts(20, 50, 4, 5), seq);
    expect(d.verdict).toBe('no-change');
    expect(d.noChangeBound!).toBeGreaterThan(-0.15);
  });
  it('undecided: the trials to the next look', () => {
    const d = decideCell(counts(20, 50, 1, 5), seq);
    expect(d.verdict).toBe('undecided');
    expect(d.moreTrials).toBe(5); // next look at 10
    // 13 available, analysed at look 2 (10): 7 more reach look 3 at 20
    expect(decideCell(counts(20, 50, 3, 10), seq, 13).moreTrials).toBe(7);
    // before the first look
    expect(decideCell(counts(20, 50, 1, 3), seq).moreTrials).toBe(2);
  });
  it('exhausted at the last look', () => {
    const d = decideCell(counts(20, 50, 10, 40), seq);
    expect(d.verdict).toBe('undecided');
    expect(d.exhausted).toBe(true);
    expect(d.moreTrials).toBeNull();
  });
  it('refuses counts that are not at a look', () => {
    expect(() => decideCell(counts(20, 50, 3, 13), seq)).toThrow(/must be those of a look/);
  });
});

describe('compareRuns', () => {
  it('finds a regression, excludes errors and skips, and reports one-sided cells', () => {
    const baseline = [
      ...trials(40, 10),
      trial({ status: 'error' }),
      ...trials(3, 3, { task: 'gone' }),
    ];
    const candidate = [...trials(2, 18), trial({ status: 'skipped' }), trial({ status: 'error' }), ...trials(1, 1, { task: 'new' })];
    const r = compareRuns(baseline, candidate);
    const cell = r.cells.find((c) => c.key === 't/v/m')!;
    expect(cell.baseline).toMatchObject({ trials: 51, graded: 50, passes: 40, errors: 1 });
    expect(cell.candidate).toMatchObject({ trials: 22, graded: 20, passes: 2, errors: 1, skips: 1 });
    expect(cell.verdict).toBe('regression');
    expect(r.cells.find((c) => c.task === 'gone')!.verdict).toBe('baseline-only');
    expect(r.cells.find((c) => c.task === 'new')!.verdict).toBe('candidate-only');
    expect(r.hasRegression).toBe(true);
    expect(r.counts).toMatchObject({ regression: 1, 'baseline-only': 1, 'candidate-only': 1 });
    // JSON-serializable: survives a round trip unchanged (no undefined, NaN or Infinity)
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    const md = renderComparisonMarkdown(r);
    expect(md).toMatch(/Regression in 1 of 1 compared cell/);
    expect(md).toContain('| task');
    expect(md).toContain('40/50 (80%) +1 error');
    expect(md).toContain('baseline only');
  });

  it('analyses the first look in plan order and sets the rest aside', () => {
    // 13 graded candidate trials: look 2 analyses the first 10 by (epoch, sample)
    const candidate = trials(5, 8);
    const r = compareRuns(trials(25, 25), candidate);
    const cell = r.cells[0]!;
    expect(cell.analyzed).toEqual({ candidatePasses: 5, candidateGraded: 10, setAside: 3 });
    expect(cell.decision!.look).toMatchObject({ index: 2, size: 10 });
  });

  it('pairs trials by (sample, epoch) and uses the exact McNemar test', () => {
    // 10 pairs: baseline passes all but one; candidate passes 3 of the baseline's passes and the other one
    const keys = Array.from({ length: 10 }, (_, i) => ({ sample: `s${i % 5}`, epoch: Math.floor(i / 5) }));
    const baseline = keys.map((k, i) => trial({ ...k, status: i < 9 ? 'passed' : 'failed' }));
    const candidate = keys.map((k, i) => trial({ ...k, status: i < 3 || i === 9 ? 'passed' : 'failed' }));
    const r = compareRuns(baseline, candidate, { mode: 'fixed' });
    const d = r.cells[0]!.decision!;
    expect(d.test).toBe('mcnemar');
    // discordant: 6 baseline-only, 1 candidate-only -> p = 8/128 = 0.0625 >= 0.05
    expect(d.pWorse).toBeCloseTo(0.0625, 12);
    expect(d.verdict).toBe('undecided');
    // without the one candidate-only pair: 6 vs 0 -> p = 1/64 < 0.05, drop 60 points -> regression
    candidate[9] = { ...candidate[9]!, status: 'failed' };
    const r2 = compareRuns(baseline, candidate, { mode: 'fixed' });
    expect(r2.cells[0]!.decision!.pWorse).toBeCloseTo(1 / 64, 12);
    expect(r2.cells[0]!.verdict).toBe('regression');
  });

  it('no regression: a readable headline', () => {
    const r = compareRuns(trials(30, 20), trials(9, 1));
    expect(r.hasRegression).toBe(false);
    const md = renderComparisonMarkdown(r);
    expect(md).toMatch(/No regression/);
  });

  it('rejects a bad config', () => {
    expect(() => compareRuns([], [], { looks: [10, 5] })).toThrow(/strictly increasing/);
    expect(() => compareRuns([], [], { alpha: 2 })).toThrow(/alpha/);
    expect(compareRuns([], [], { alpha: undefined }).config.alpha).toBe(0.05);
  });
});

describe('the gate in simulation (fixed seed)', () => {
  it('keeps false alarms at or below 5% and finds a 40% -> 10% drop', () => {
    const prs = 3000;
    for (const [i, rate] of [0.1, 0.4, 0.7].entries()) {
      const sim = simulateGate({ baselineRate: rate, candidateRate: rate, prs, seed: 42 + i });
      // guarantee: <= 5%; Monte Carlo sd at 5% with 3000 PRs is 0.4 points, so 1 point of margin
      expect(sim.alarmRate).toBeLessThanOrEqual(0.06);
    }
    const drop = simulateGate({ baselineRate: 0.4, candidateRate: 0.1, prs: 2000, seed: 7 });
    expect(drop.alarmRate).toBeGreaterThanOrEqual(0.8);
    // the naive "drop >= 20 points" rule with 10 trials a side: about a quarter false alarms at 40%
    expect(simulateNaive({ baselineRate: 0.4, candidateRate: 0.4, prs, seed: 3 }).drop20).toBeGreaterThan(0.18);
  });
});
