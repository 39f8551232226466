/**
 * Simulation benchmark of the CI gate (src/reports/compare.ts, DEFAULT_GATE_CONFIG), beside two naive rules.
 *
 *   npx tsx scripts/simulate-gate.ts [--prs 10000] [--seed 1] [--baseline 50]
 *
 * Each simulated PR draws a fresh baseline of `baselineTrials` trials at the baseline's true pass rate and
 * then candidate batches at the candidate's true rate, asking the gate's own decision function
 * (decideCell) at each look until it decides or reaches the last look. "alarm" is the share of PRs the
 * gate calls a regression: the false-alarm rate when nothing changed, the power when the rate dropped.
 * The naive rules see 10 trials per side: "drop >= 20 points" and Fisher's exact one-sided at 0.05.
 * A seeded PRNG (mulberry32) makes every number reproducible.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownTable } from 'markdown-table';
import { decideCell, fisherExact, lookLevels, resolveGateConfig, type GateConfig, type Verdict } from '../src/reports/compare.js';

/** mulberry32: a small, fast 32-bit PRNG; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function binomial(rng: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (rng() < p) k++;
  return k;
}

export interface GateSimulation {
  prs: number;
  /** Share of PRs called a regression. */
  alarmRate: number;
  /** Mean graded candidate trials used before the gate stopped. */
  meanCandidateTrials: number;
  verdicts: Record<Verdict, number>;
}

/** Simulates `prs` PRs through the sequential gate. */
export function simulateGate(opts: { baselineRate: number; candidateRate: number; prs: number; seed: number; config?: GateConfig }): GateSimulation {
  const config = opts.config ?? resolveGateConfig();
  if (config.mode !== 'sequential') throw new Error('simulateGate: the gate is sequential');
  const rng = mulberry32(opts.seed);
  const nB = config.baselineTrials;
  const verdicts: Record<Verdict, number> = { regression: 0, improvement: 0, 'no-change': 0, undecided: 0 };
  let used = 0;
  for (let pr = 0; pr < opts.prs; pr++) {
    const kB = binomial(rng, nB, opts.baselineRate);
    let kC = 0;
    let nC = 0;
    let verdict: Verdict = 'undecided';
    for (const look of config.looks) {
      kC += binomial(rng, look - nC, opts.candidateRate);
      nC = look;
      verdict = decideCell({ baselinePasses: kB, baselineGraded: nB, candidatePasses: kC, candidateGraded: nC }, config).verdict;
      if (verdict !== 'undecided') break;
    }
    verdicts[verdict]++;
    used += nC;
  }
  return { prs: opts.prs, alarmRate: verdicts.regression / opts.prs, meanCandidateTrials: used / opts.prs, verdicts };
}

/** The naive rules with n trials per side: alarm rates of "drop >= 20 points" and of one-sided Fisher at 0.05. */
export function simulateNaive(opts: { baselineRate: number; candidateRate: number; prs: number; seed: number; n?: number }): { drop20: number; fisher05: number } {
  const n = opts.n ?? 10;
  const rng = mulberry32(opts.seed);
  let drop20 = 0;
  let fisher05 = 0;
  for (let pr = 0; pr < opts.prs; pr++) {
    const kB = binomial(rng, n, opts.baselineRate);
    const kC = binomial(rng, n, opts.candidateRate);
    if ((kB - kC) / n >= 0.2 - 1e-12) drop20++;
    if (fisherExact(kC, n - kC, kB, n - kB).less < 0.05) fisher05++;
  }
  return { drop20: drop20 / opts.prs, fisher05: fisher05 / opts.prs };
}

export const SCENARIOS = [
  { name: 'unchanged at 10%', baselineRate: 0.1, candidateRate: 0.1, target: 'alarm <= 5%' },
  { name: 'unchanged at 40%', baselineRate: 0.4, candidateRate: 0.4, target: 'alarm <= 5%' },
  { name: 'unchanged at 70%', baselineRate: 0.7, candidateRate: 0.7, target: 'alarm <= 5%' },
  { name: 'drop 40% -> 10%', baselineRate: 0.4, candidateRate: 0.1, target: 'alarm >= 80%' },
  { name: 'drop 40% -> 25% (= minEffect)', baselineRate: 0.4, candidateRate: 0.25, target: '(info)' },
  { name: 'drop 70% -> 40%', baselineRate: 0.7, candidateRate: 0.4, target: '(info)' },
  { name: 'gain 40% -> 70%', baselineRate: 0.4, candidateRate: 0.7, target: '(info)' },
] as const;

function main(): void {
  const { values } = parseArgs({
    options: { prs: { type: 'string', default: '10000' }, seed: { type: 'string', default: '1' }, baseline: { type: 'string' } },
  });
  const prs = Number(values.prs);
  const seed = Number(values.seed);
  // --baseline: the same gate against another baseline size (power depends on it; the error bound does not).
  const config = resolveGateConfig(values.baseline ? { baselineTrials: Number(values.baseline) } : {});
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const levels = lookLevels(config).map((l) => (l < 0.001 ? l.toExponential(1) : l.toFixed(4))).join(', ');
  console.log(
    `Gate (DEFAULT_GATE_CONFIG${values.baseline ? ', --baseline' : ''}): ${config.baselineTrials} baseline trials; candidate looks at ${config.looks.join('/')} graded trials; ` +
      `${config.spending} spending of one-sided alpha ${config.alpha} (look levels ${levels}); regression needs a drop >= ${config.minEffect * 100} points; ` +
      `no-change once the one-sided ${(1 - config.futility) * 100}% bound excludes that drop.`,
  );
  console.log(`Naive rules: 10 trials per side. ${prs} simulated PRs per row, seed ${seed}.\n`);
  const rows: string[][] = [];
  const t0 = performance.now();
  SCENARIOS.forEach((s, i) => {
    const g = simulateGate({ ...s, prs, seed: seed * 1000 + i, config });
    const nv = simulateNaive({ ...s, prs, seed: seed * 1000 + 500 + i });
    rows.push([
      s.name,
      s.target,
      pct(g.alarmRate),
      g.meanCandidateTrials.toFixed(1),
      `${pct(g.verdicts['no-change'] / prs)} / ${pct(g.verdicts.undecided / prs)}`,
      pct(nv.drop20),
      pct(nv.fisher05),
    ]);
  });
  console.log(
    markdownTable([
      ['scenario', 'target', 'gate: alarm', 'gate: mean cand. trials', 'gate: no-change / undecided at end', 'naive drop >= 20 pts: alarm', 'naive Fisher 0.05: alarm'],
      ...rows,
    ]),
  );
  console.log(`\n"alarm" = called a regression: false alarms when unchanged, power when the rate dropped. ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
