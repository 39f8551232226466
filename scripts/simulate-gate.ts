/**
 * Simulation benchmark of the PR gate AS DEPLOYED: the sequential PR job's loop (runSequentialEval,
 * src/github/sequential-eval.ts) with the workflow's defaults (DEFAULT_GATE_CONFIG), judged at every look by
 * the very function pr-report calls (judgePullRequest: the baseline rule, then compareRuns), on trial records.
 *
 *   npx tsx scripts/simulate-gate.ts [--prs 10000] [--seed 1] [--cells 20]
 *
 * Each simulated PR has `cells` cells (task x default variant x one model). The base branch holds, per cell,
 * baselineTrials graded trials of the task's current version drawn at the cell's true rate, plus an older
 * version's run at another rate that the baseline rule must ignore. The candidate's trials are drawn as the loop
 * asks for them (one per sample per epoch). Per scenario it prints the share of PRs that fail on a regression
 * (false alarms when nothing changed; for the drop scenario also the power: the changed cell called a regression),
 * and the candidate trials used per PR and per cell (mean, 95th percentile). A seeded PRNG (mulberry32) makes
 * every number reproducible.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownTable } from 'markdown-table';
import { calibrateLevels, cellAlpha, lookLevels, resolveGateConfig, type GateConfig } from '../src/reports/compare/index.js';
import { exactFalseAlarmRate } from '../src/reports/compare/design.js';
import { judgePullRequest } from '../src/github/pr-gate.js';
import { runSequentialEval, type CellStore, type EvalCell } from '../src/github/sequential-eval.js';
import type { RunRecord, TrialResult } from '../src/runs/record.js';

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

const MODEL = 'anthropic:simulated';
const hashOf = (task: string, version: number) => (version.toString(16) + task.replace(/\D/g, '')).padStart(64, '0');
const FULL = { profile: 'full' as const, ran: ['check'], skipped: [] };

/** One cell of a simulated PR: per sample, the baseline's and the candidate's true pass rates, and whether the candidate's trials of that sample all error. */
export interface SimCell {
  samples: { baseline: number; candidate: number; candidateErrors?: boolean }[];
}

// Trials are never modified once made, so their nested parts are shared (millions of trials are made).
const USAGE = Object.freeze({ inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 });
const NO_CHECKS: TrialResult['checks'] = [];
const provenances = new Map<string, NonNullable<TrialResult['provenance']>>();
const SAMPLES = ['s0', 's1', 's2', 's3'];

function trial(task: string, sample: number, epoch: number, status: TrialResult['status'], version: number, finishedAt: string): TrialResult {
  const pk = `${task}:${version}`;
  let provenance = provenances.get(pk);
  if (!provenance) provenances.set(pk, (provenance = { taskHash: hashOf(task, version), harness: 'sim', servedModel: 'simulated-20260101', grading: FULL }));
  return {
    task, variant: 'default', sample: SAMPLES[sample] ?? `s${sample}`, model: MODEL, epoch, status,
    score: status === 'passed' ? 1 : 0, checks: NO_CHECKS, limit: null, usage: USAGE,
    costUsd: 0, durationMs: 1, error: status === 'error' ? 'API 529 overloaded' : null, transcript: null, turns: 1,
    finishedAt, provenance,
  };
}

// Trials of one run share a finish time; the baseline rule breaks ties by run id and epoch.
const BASE_DAY = '2026-11-20T01:00:00.000Z';
const OLDER_VERSION_DAY = '2026-11-21T01:00:00.000Z';
const CANDIDATE_DAY = '2026-11-25T01:00:00.000Z';
const taskName = (i: number) => `t${String(i).padStart(2, '0')}`;

/** The base branch's records: per cell, `n` current-version trials (spread over the samples) and an older version's run at another rate. */
export function baseRecords(cells: readonly SimCell[], n: number, rng: () => number): RunRecord[] {
  const current: TrialResult[] = [];
  const older: TrialResult[] = [];
  cells.forEach((c, i) => {
    const S = c.samples.length;
    for (let k = 0; k < n; k++) {
      const s = k % S;
      current.push(trial(taskName(i), s, Math.floor(k / S), rng() < c.samples[s]!.baseline ? 'passed' : 'failed', 1, BASE_DAY));
      // The previous version passed 25 points more often: the rule must never mix it in (10 trials a cell).
      if (k < 10) older.push(trial(taskName(i), s, Math.floor(k / S), rng() < Math.min(1, c.samples[s]!.baseline + 0.25) ? 'passed' : 'failed', 0, OLDER_VERSION_DAY));
    }
  });
  const rec = (runId: string, trials: TrialResult[], day: number): RunRecord => ({
    schemaVersion: 2, runId, startedAt: new Date(Date.UTC(2026, 10, day)).toISOString(), finishedAt: new Date(Date.UTC(2026, 10, day, 1)).toISOString(),
    harness: { version: 'sim', gitSha: null }, environment: { node: 'v20', platform: 'sim', python: null, torch: null, gpu: null },
    sandbox: { mode: 'bwrap', unsafe: false }, plan: { tasks: [], models: [MODEL], variants: null, epochs: 1 }, trials,
  });
  // The older version's run is the NEWER record: newest-first alone would pick it.
  return [rec('base-current', current, 20), rec('base-older-version', older, 21)];
}

export interface PrOutcome {
  /** The PR failed on a regression (any cell). */
  alarm: boolean;
  /** Which cells were called a regression. */
  regressions: boolean[];
  /** Candidate trials run per cell (errors included). */
  trials: number[];
  failedCheck: boolean;
}

/** One PR through the deployed loop: runSequentialEval with an in-memory store, judged by judgePullRequest at every look. */
export async function simulatePr(cells: readonly SimCell[], base: RunRecord[], rng: () => number, gate: GateConfig): Promise<PrOutcome> {
  const baseVersions = new Map(cells.map((_, i) => [taskName(i), new Map([['default', hashOf(taskName(i), 1)]])]));
  const mem = new Map<string, { epochs: number; trials: TrialResult[] }>();
  const store: CellStore = { read: async (r) => mem.get(r) ?? null, exists: (r) => mem.has(r) };
  const evalCells: EvalCell[] = cells.map((c, i) => ({ task: taskName(i), variant: 'default', model: MODEL, samples: c.samples.length }));
  const byTask = new Map(cells.map((c, i) => [taskName(i), c]));
  const result = await runSequentialEval({
    cells: evalCells,
    dir: '/sim',
    gate,
    store,
    judge: (candidate, final) => judgePullRequest({ candidate, baseRecords: base, baseVersions, gate, final }).comparison,
    runCell: async (cell, epochs, record) => {
      const entry = mem.get(record) ?? { epochs: 0, trials: [] };
      const c = byTask.get(cell.task)!;
      for (let e = entry.epochs; e < epochs; e++) {
        c.samples.forEach((s, si) => {
          const status = s.candidateErrors ? 'error' : rng() < s.candidate ? 'passed' : 'failed';
          entry.trials.push(trial(cell.task, si, e, status, 2, CANDIDATE_DAY));
        });
      }
      entry.epochs = epochs;
      mem.set(record, entry);
      return 0;
    },
  });
  const final = judgePullRequest({ candidate: result.trials, baseRecords: base, baseVersions, gate, final: true }).comparison;
  const verdict = new Map(final.cells.map((c) => [c.task, c.verdict]));
  return {
    alarm: final.hasRegression,
    regressions: cells.map((_, i) => verdict.get(taskName(i)) === 'regression'),
    trials: result.progress.map((p) => p.trials),
    failedCheck: !final.passed,
  };
}

export interface ScenarioResult {
  prs: number;
  alarmRate: number;
  /** Share of PRs whose first cell (the changed one, where there is one) was called a regression. */
  firstCellRate: number;
  failedCheckRate: number;
  meanTrialsPerPr: number;
  p95TrialsPerPr: number;
  meanTrialsPerCell: number;
  p95TrialsPerCell: number;
  /** Reused baseline: the 95th percentile over baselines of each baseline's false-alarm rate. */
  p95AlarmOverBaselines?: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

/**
 * `prs` PRs of the given cells. A fresh baseline per PR, unless `baselines` is given: then that many baselines
 * are drawn and each is reused by prs / baselines PRs (every PR of a repository meets the same committed history).
 */
export async function simulateScenario(cells: readonly SimCell[], o: { prs: number; seed: number; gate?: GateConfig; baselines?: number }): Promise<ScenarioResult> {
  const gate = o.gate ?? resolveGateConfig();
  const rng = mulberry32(o.seed);
  const perPr: number[] = [];
  const perCell: number[] = [];
  let alarms = 0;
  let first = 0;
  let failed = 0;
  const groups = o.baselines ?? o.prs;
  const perGroup = Math.ceil(o.prs / groups);
  const groupRates: number[] = [];
  let done = 0;
  for (let g = 0; g < groups && done < o.prs; g++) {
    const base = baseRecords(cells, gate.baselineTrials, rng);
    let groupAlarms = 0;
    let groupPrs = 0;
    for (let k = 0; k < perGroup && done < o.prs; k++, done++) {
      const r = await simulatePr(cells, base, rng, gate);
      if (r.alarm) (alarms++, groupAlarms++);
      if (r.regressions[0]) first++;
      if (r.failedCheck) failed++;
      perPr.push(r.trials.reduce((a, b) => a + b, 0));
      perCell.push(...r.trials);
      groupPrs++;
    }
    groupRates.push(groupAlarms / groupPrs);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    prs: done,
    alarmRate: alarms / done,
    firstCellRate: first / done,
    failedCheckRate: failed / done,
    meanTrialsPerPr: mean(perPr),
    p95TrialsPerPr: quantile(perPr, 0.95),
    meanTrialsPerCell: mean(perCell),
    p95TrialsPerCell: quantile(perCell, 0.95),
    ...(o.baselines ? { p95AlarmOverBaselines: quantile(groupRates, 0.95) } : {}),
  };
}

/** m unchanged single-sample cells with true rates spread evenly over 10%..90%. */
export function unchangedCells(m: number): SimCell[] {
  return Array.from({ length: m }, (_, i) => {
    const p = m === 1 ? 0.4 : 0.1 + (0.8 * i) / (m - 1);
    return { samples: [{ baseline: p, candidate: p }] };
  });
}

export function scenarios(m: number) {
  const unchanged = unchangedCells(m);
  return [
    { name: `${m} unchanged cells (rates 10%..90%)`, target: 'PR false alarm <= 5%', cells: unchanged },
    { name: `${m} unchanged cells, all at 40%`, target: 'PR false alarm <= 5%', cells: unchangedCells(m).map(() => ({ samples: [{ baseline: 0.4, candidate: 0.4 }] })) },
    { name: `1 cell 40% -> 10% among ${m - 1} unchanged`, target: 'power >= 80%', cells: [{ samples: [{ baseline: 0.4, candidate: 0.1 }] }, ...unchangedCells(m - 1)] },
    {
      name: `${m} unchanged 2-sample cells (70% / 10%), the easy sample's candidate trials all error`,
      target: 'PR false alarm <= 5%',
      cells: unchanged.map(() => ({ samples: [{ baseline: 0.7, candidate: 0.7, candidateErrors: true }, { baseline: 0.1, candidate: 0.1 }] })),
    },
    { name: `${m} unchanged cells, one baseline reused by 100 PRs`, target: 'PR false alarm <= 5%', cells: unchanged, reuse: true },
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      prs: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '1' },
      cells: { type: 'string', default: '20' },
      'design-only': { type: 'boolean', default: false },
      /** Only these rows (1-based, comma-separated): to spread the rows over processes; each row's seed is fixed by its number. */
      rows: { type: 'string' },
    },
  });
  const prs = Number(values.prs);
  const seed = Number(values.seed);
  const m = Number(values.cells);
  const gate = resolveGateConfig();
  console.log(
    `PR gate as deployed (DEFAULT_GATE_CONFIG through runSequentialEval and judgePullRequest): alpha ${gate.alpha} per PR split over its cells; ` +
      `looks at ${gate.looks.join('/')} graded candidate trials, at most ${gate.maxTrialsPerCell} trials per cell; baseline rule: newest ${gate.baselineTrials} graded trials of the current task version; ` +
      `${gate.spending} spending${gate.calibrate ? ', calibrated' : ''}; improvement ${gate.improvementSpending} at ${gate.improvementAlpha}; no-change at the one-sided ${(1 - gate.futility) * 100}% bound; minEffect ${gate.minEffect * 100} points.`,
  );
  // The exact calibration of a single-sample cell (src/reports/compare/design.ts) for this many cells.
  const a = cellAlpha(gate.alpha, m);
  const nominal = lookLevels({ alpha: a, looks: gate.looks, spending: gate.spending });
  const cal = calibrateLevels(gate.looks, nominal, gate.minEffect, gate.baselineTrials, a);
  const unc = exactFalseAlarmRate({ looks: gate.looks, levels: nominal, minEffect: gate.minEffect, baselineGraded: gate.baselineTrials }, cal.worstAt);
  const e = (x: number) => x.toExponential(2);
  console.log(
    `Per cell (single sample, ${gate.baselineTrials} baseline trials, ${m} cells): alpha/m = ${e(a)}; nominal look levels ${nominal.map(e).join(', ')}; ` +
      `calibration factor ${cal.factor.toFixed(3)} -> levels ${cal.levels.map(e).join(', ')}; exact worst-case false-alarm rate ${e(cal.worstRate)} at p = ${cal.worstAt.toFixed(3)} ` +
      `(${((cal.worstRate / a) * 100).toFixed(1)}% of alpha/m; uncalibrated there: ${e(unc)}, ${((unc / a) * 100).toFixed(1)}%).`,
  );
  if (values['design-only']) return;
  console.log(`${prs} simulated PRs per row, ${m} cells each, seed ${seed}.\n`);
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const rows: string[][] = [];
  const t0 = performance.now();
  const only = values.rows ? new Set(values.rows.split(',').map(Number)) : null;
  for (const [i, s] of scenarios(m).entries()) {
    if (only && !only.has(i + 1)) continue;
    const r = await simulateScenario(s.cells, { prs, seed: seed * 1000 + i, gate, ...('reuse' in s && s.reuse ? { baselines: Math.max(1, Math.round(prs / 100)) } : {}) });
    console.error(`row ${i + 1} done (${((performance.now() - t0) / 1000).toFixed(0)} s): ${JSON.stringify(r)}`);
    rows.push([
      s.name,
      s.target,
      pct(r.alarmRate),
      s.name.includes('->') ? pct(r.firstCellRate) : '—',
      r.p95AlarmOverBaselines !== undefined ? pct(r.p95AlarmOverBaselines) : '—',
      `${r.meanTrialsPerPr.toFixed(0)} / ${r.p95TrialsPerPr}`,
      `${r.meanTrialsPerCell.toFixed(1)} / ${r.p95TrialsPerCell}`,
    ]);
  }
  console.log(
    markdownTable([
      ['scenario', 'target', 'PRs failing on a regression', 'power (the changed cell flagged)', 'p95 over reused baselines', 'candidate trials per PR (mean / p95)', 'per cell (mean / p95)'],
      ...rows,
    ]),
  );
  console.log(`\nRegression calls only (a candidate that cannot be judged fails the check too; none did here). ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
