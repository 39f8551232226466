import { describe, expect, it } from 'vitest';
import type { TrialResult } from '../../src/runs/record.js';
import { makeTrial, STATUS_OF } from '../support/records.js';
import { cellStats, groupCells } from '../../src/reports/cells.js';
import { studentTQuantile } from '../../src/stats/exact.js';
import { clusteredSe, wilson } from '../../src/stats/intervals.js';
import { passAtK, passHatK } from '../../src/stats/pass-at-k.js';

let clock = Date.parse('2025-01-01T00:00:00Z');
function trial(over: Partial<TrialResult> & { status: TrialResult['status'] }): TrialResult {
  clock += 1000;
  return makeTrial({
    sample: 's1',
    model: 'm',
    usage: { inputTokens: 100, outputTokens: 10, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
    costUsd: 0.01,
    turns: 1,
    finishedAt: new Date(clock).toISOString(),
    ...over,
  });
}
/** Trials of one sample from a string of outcomes: P passed, F failed, E error, S skipped. */
const outcomes = (sample: string, s: string, over: Partial<TrialResult> = {}) =>
  [...s].map((ch, epoch) =>
    trial({ sample, epoch, status: STATUS_OF[ch as 'P'], ...over }),
  );

describe('wilson', () => {
  it('4/10 -> [0.1682, 0.6873]', () => {
    // p = 0.4, z^2 = 3.8415, denom = 1 + 3.8415/10 = 1.38415
    // center = (0.4 + 3.8415/20) / 1.38415 = 0.59207 / 1.38415 = 0.42775
    // half = 1.96 * sqrt(0.4*0.6/10 + 3.8415/400) / 1.38415 = 1.96 * sqrt(0.0336037) / 1.38415 = 0.25958
    const ci = wilson(4, 10);
    expect(ci.low).toBeCloseTo(0.1682, 4);
    expect(ci.high).toBeCloseTo(0.6873, 4);
  });
  it('0/10 -> [0, 0.2775]; no trials -> [0, 1]', () => {
    // p = 0: center = half = (3.8415/20) / 1.38415 = 0.13876, so [0, 0.27753]
    expect(wilson(0, 10).low).toBe(0);
    expect(wilson(0, 10).high).toBeCloseTo(0.27753, 5);
    expect(wilson(0, 0)).toEqual({ low: 0, high: 1 });
  });
});

describe('pass@k and pass^k', () => {
  it('match the binomial formulas on small n', () => {
    // n=5, c=2, k=2: pass@2 = 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7; pass^2 = C(2,2)/C(5,2) = 1/10
    expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 12);
    expect(passHatK(5, 2, 2)).toBeCloseTo(0.1, 12);
    // k = 1 is the pass rate: 2/5
    expect(passAtK(5, 2, 1)).toBeCloseTo(0.4, 12);
    expect(passHatK(5, 2, 1)).toBeCloseTo(0.4, 12);
    // n=5, c=3, k=2: pass^2 = C(3,2)/C(5,2) = 3/10; pass@2 = 1 - C(2,2)/C(5,2) = 0.9
    expect(passHatK(5, 3, 2)).toBeCloseTo(0.3, 12);
    expect(passAtK(5, 3, 2)).toBeCloseTo(0.9, 12);
    // n - c < k: every draw of k contains a pass
    expect(passAtK(5, 4, 2)).toBe(1);
    expect(passAtK(5, 0, 3)).toBe(0);
    expect(passHatK(5, 1, 2)).toBe(0);
    expect(passHatK(5, 5, 5)).toBe(1);
  });
  it('are stable for large n (no factorials)', () => {
    // 1 - C(197,100)/C(200,100) = 1 - (100*99*98)/(200*199*198) = 1 - 970200/7880400
    expect(passAtK(200, 3, 100)).toBeCloseTo(1 - 970200 / 7880400, 12);
    // C(500,2)/C(1000,2) = 500*499/(1000*999) = 249500/999000
    expect(passHatK(1000, 500, 2)).toBeCloseTo(249500 / 999000, 12);
    expect(Number.isFinite(passAtK(5000, 2500, 1000))).toBe(true);
  });
  it('reject k > n and bad counts with clear errors', () => {
    expect(() => passAtK(3, 1, 5)).toThrow(/k \(5\) cannot exceed n \(3 trials\)/);
    expect(() => passHatK(3, 1, 5)).toThrow(/cannot exceed n/);
    expect(() => passAtK(3, 4, 1)).toThrow(/c \(4 passes\) cannot exceed n/);
    expect(() => passAtK(3, 1, 0)).toThrow(/k must be at least 1/);
    expect(() => passAtK(3, 1.5, 1)).toThrow(/non-negative integer/);
  });
});

describe('clustered standard error', () => {
  it('two samples', () => {
    // A = [1,1,1,0], B = [1,0,0,0]: N = 8, p = 4/8 = 0.5
    // residual sums: A 3 - 4*0.5 = 1, B 1 - 2 = -1; sum of squares 2; G/(G-1) = 2
    // SE = sqrt(2 * 2) / 8 = 2/8 = 0.25
    expect(clusteredSe([[1, 1, 1, 0], [1, 0, 0, 0]])).toBeCloseTo(0.25, 12);
  });
  it('three samples', () => {
    // A = [1,1,0,1], B = [0,0,1,0], C = [1,1,1,1]: N = 12, p = 8/12 = 2/3
    // residual sums: A 3 - 8/3 = 1/3, B 1 - 8/3 = -5/3, C 4 - 8/3 = 4/3; squares 1/9 + 25/9 + 16/9 = 42/9
    // SE = sqrt(3/2 * 42/9) / 12 = sqrt(7) / 12 = 0.220479
    expect(clusteredSe([[1, 1, 0, 1], [0, 0, 1, 0], [1, 1, 1, 1]])).toBeCloseTo(Math.sqrt(7) / 12, 12);
  });
  it('is null with one sample', () => {
    expect(clusteredSe([[1, 0, 1]])).toBeNull();
  });
});

describe('cellStats', () => {
  it('counts every status, excludes errors and skips from the rate, clusters by sample', () => {
    const trials = [
      ...outcomes('A', 'PPPF'),
      ...outcomes('B', 'PFFF'),
      trial({ sample: 'A', epoch: 9, status: 'error', costUsd: 0.05, usage: { inputTokens: 1, outputTokens: 99999, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 } }),
      trial({ sample: 'B', epoch: 9, status: 'skipped', costUsd: 0 }),
    ];
    const s = cellStats(trials);
    expect(s).toMatchObject({ task: 't', variant: 'v', model: 'm', trials: 10, passes: 4, failures: 4, errors: 1, skips: 1, graded: 8, samples: 2 });
    expect(s.passRate).toBe(0.5); // 4 / 8: the error and the skip are not failures
    // clustered: SE = 0.25 (see above); two samples: t with 1 degree of freedom, 12.706 * 0.25 = 3.18 -> [0, 1]
    // (the normal quantile's 0.5 +- 0.49 would claim 95% from two clusters; it covers far less)
    expect(s.interval).toBe('clustered');
    expect(s.clusteredSe).toBeCloseTo(0.25, 12);
    expect(s.ci).toEqual({ low: 0, high: 1 });
    expect(s.wilsonCi).toEqual(wilson(4, 8));
    // default k = [1, 5], but each sample has 4 graded trials, so only k = 1: mean of A 3/4 and B 1/4 = 0.5
    expect(s.passAtK).toEqual([{ k: 1, passAtK: 0.5, passHatK: 0.5 }]);
    // cost: over trials that ran, with a cost: 8 * 0.01 + 0.05 (the error) = 0.13 / 9; the skip is left out
    expect(s.meanCostUsd).toBeCloseTo(0.13 / 9, 12);
    // tokens over graded trials only (the error's 99999 output tokens are not in the median)
    expect(s.medianOutputTokens).toBe(10);
    expect(s.medianTotalTokens).toBe(110);
    expect(s.meanScore).toBe(0.5);
    expect(s.latestFinishedAt).toBe(trials[trials.length - 1]!.finishedAt);
  });

  it('computes pass@k and pass^k per sample, then averages over samples', () => {
    const s = cellStats([...outcomes('A', 'PPPF'), ...outcomes('B', 'PFFF')], { k: [1, 2, 5] });
    // k=2: A (n=4, c=3): pass@2 = 1 (n-c = 1 < 2); B (n=4, c=1): 1 - C(3,2)/C(4,2) = 1 - 3/6 = 0.5 -> mean 0.75
    //      pass^2: A C(3,2)/C(4,2) = 3/6 = 0.5; B 0 -> mean 0.25
    // k=5: more than the 4 trials per sample -> null
    expect(s.passAtK).toEqual([
      { k: 1, passAtK: 0.5, passHatK: 0.5 },
      { k: 2, passAtK: 0.75, passHatK: 0.25 },
      { k: 5, passAtK: null, passHatK: null },
    ]);
  });

  it('includes k = 5 by default when every sample has 5 graded trials', () => {
    const s = cellStats(outcomes('A', 'PPFFFF'));
    // n=6, c=2, k=5: pass@5 = 1 - C(4,5)/C(6,5) = 1 - 0 = 1; pass^5 = C(2,5)/C(6,5) = 0
    expect(s.passAtK.map((r) => r.k)).toEqual([1, 5]);
    expect(s.passAtK[1]).toEqual({ k: 5, passAtK: 1, passHatK: 0 });
  });

  it('uses Wilson with one sample, and when every graded trial passed or failed', () => {
    const one = cellStats(outcomes('A', 'PPFFFFFFFF'));
    expect(one.interval).toBe('wilson');
    expect(one.clusteredSe).toBeNull();
    // 2/10: Wilson [0.0567, 0.5098]
    expect(one.ci.low).toBeCloseTo(0.0567, 4);
    expect(one.ci.high).toBeCloseTo(0.5098, 4);
    const allPass = cellStats([...outcomes('A', 'PP'), ...outcomes('B', 'PP')]);
    expect(allPass.clusteredSe).toBe(0); // the clustered interval would be the point [1, 1]
    expect(allPass.interval).toBe('wilson');
    expect(allPass.ci).toEqual(wilson(4, 4));
  });

  it('clustered intervals use t with G - 1 degrees of freedom and are never narrower than Wilson (no zero width)', () => {
    // Five samples A..E with 3, 1, 2, 4, 2 passes of 4: p = 12/20 = 0.6; residual sums 0.6, -1.4, -0.4, 1.6, -0.4
    // sum of squares 0.36 + 1.96 + 0.16 + 2.56 + 0.16 = 5.2; SE = sqrt(5/4 * 5.2) / 20 = sqrt(6.5) / 20 = 0.127475
    const five = cellStats([...outcomes('A', 'PPPF'), ...outcomes('B', 'PFFF'), ...outcomes('C', 'PPFF'), ...outcomes('D', 'PPPP'), ...outcomes('E', 'PPFF')]);
    expect(five.clusteredSe).toBeCloseTo(Math.sqrt(6.5) / 20, 12);
    const t4 = studentTQuantile(0.975, 4); // 2.776445
    expect(t4).toBeCloseTo(2.776445, 5);
    expect(five.interval).toBe('clustered');
    expect(five.ci.low).toBeCloseTo(0.6 - t4 * Math.sqrt(6.5) / 20, 12);
    expect(five.ci.high).toBeCloseTo(0.6 + t4 * Math.sqrt(6.5) / 20, 12);
    // Two samples at 1/2 each: the clustered SE is 0 (the old "50% [50–50]"); Wilson's 2/4 is used instead.
    const even = cellStats([...outcomes('A', 'PF'), ...outcomes('B', 'PF')]);
    expect(even.clusteredSe).toBe(0);
    expect(even.interval).toBe('wilson');
    expect(even.ci.low).toBeCloseTo(0.15003898915214947, 12);
    expect(even.ci.high).toBeCloseTo(0.8499610108478506, 12);
  });

  it('handles a cell with nothing graded', () => {
    const s = cellStats([trial({ status: 'error' }), trial({ status: 'skipped', costUsd: null })]);
    expect(s).toMatchObject({ graded: 0, passRate: null, meanScore: null, medianOutputTokens: null, errors: 1, skips: 1, passAtK: [] });
    expect(s.ci).toEqual({ low: 0, high: 1 });
  });

  it('medians of an even count average the middle two; refuses trials of several cells', () => {
    const ts = [10, 40, 20, 30].map((o, i) =>
      trial({ epoch: i, status: 'failed', usage: { inputTokens: 5, outputTokens: o, cacheReadInputTokens: 1, cacheCreationInputTokens: 2 } }),
    );
    expect(cellStats(ts).medianOutputTokens).toBe(25); // (20 + 30) / 2
    expect(cellStats(ts).medianTotalTokens).toBe(33); // 25 + 5 + 1 + 2
    expect(() => cellStats([...ts, trial({ status: 'passed', model: 'other' })])).toThrow(/different cells/);
    expect(() => cellStats([])).toThrow(/at least one trial/);
  });
});

describe('groupCells', () => {
  it('groups by task, variant and model in order of first appearance', () => {
    const ts = [
      trial({ status: 'passed', model: 'b' }),
      trial({ status: 'passed', model: 'a' }),
      trial({ status: 'failed', model: 'b', sample: 's2' }),
      trial({ status: 'failed', variant: 'w', model: 'b' }),
    ];
    const cells = groupCells(ts);
    expect(cells.map((c) => [c.key, c.trials.length])).toEqual([
      ['t/v/b', 2],
      ['t/v/a', 1],
      ['t/w/b', 1],
    ]);
  });
});
