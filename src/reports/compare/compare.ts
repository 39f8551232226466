import type { TrialResult } from '../../runs/record.js';
import { cellId, groupCells } from '../cells.js';
import { cellAlpha, resolveGateConfig, type GateConfig } from './design.js';
import { decideCell, type Decision, type Verdict } from './decide.js';
import { groupedOnce, isGraded, planOrder, side, strataOf, unjudgeable, type SideSummary } from './pairing.js';

/*
 * Comparing a baseline and a candidate, cell by cell (task, variant, model), with the design documented in
 * src/reports/compare/design.ts: the exact stratified test within samples, the comparison's alpha split over its
 * cells, calibrated sequential looks, its own bound for improvements, a non-binding no-change bound, and
 * 'inconclusive' (never "no regression") for a cell that could not be decided.
 *
 * Fixed mode (compare --mode fixed): one analysis of all graded trials at the cell's alpha.
 */

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

