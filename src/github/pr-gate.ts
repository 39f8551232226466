import { compareRuns, resolveGateConfig, type ComparisonResult, type GateConfig } from '../reports/compare/index.js';
import type { RunRecord, TrialResult } from '../runs/record.js';
import { selectBaseline, type BaselineSelection } from './baseline.js';

export interface PrGateInput {
  /** The PR's trials so far. */
  candidate: readonly TrialResult[];
  /** The run records committed on the base branch. */
  baseRecords: readonly RunRecord[];
  /** The base branch's current version of each task's variants (src/tasks/version.ts taskVersionsAtRef). */
  baseVersions: ReadonlyMap<string, ReadonlyMap<string, string>>;
  gate?: Partial<GateConfig>;
  /** The candidate is complete (the report); false at the PR job's interim looks. */
  final?: boolean;
}

export interface PrGate {
  comparison: ComparisonResult;
  baseline: BaselineSelection;
  /** Candidate trials graded with a partial profile: never compared with fully graded baselines. */
  partialCandidateTrials: number;
}

/**
 * The PR gate: the baseline rule (src/github/baseline.ts) then the comparison (src/reports/compare/). The
 * sequential PR job calls it at every look and pr-report calls it on the final record, so both apply the very
 * same decision; scripts/simulate-gate.ts drives it too.
 */
export function judgePullRequest(i: PrGateInput): PrGate {
  const config = resolveGateConfig(i.gate);
  const partial = (t: TrialResult) => t.provenance?.grading?.profile === 'partial';
  const candidate = i.candidate.filter((t) => !partial(t));
  const cells = [...new Map(i.candidate.map((t) => [`${t.task}\0${t.variant}\0${t.model}`, t])).values()];
  const baseline = selectBaselineOnce(i.baseRecords, cells, i.baseVersions, config.baselineTrials);
  const comparison = compareRuns(baseline.trials, candidate, config, { final: i.final ?? true });
  return { comparison, baseline, partialCandidateTrials: i.candidate.length - candidate.length };
}

/*
 * The sequential job asks at every look with the same base records: the selection is made once per set of
 * records, versions, cells and size (records are never modified once loaded).
 */
const selections = new WeakMap<readonly RunRecord[], WeakMap<PrGateInput['baseVersions'], Map<string, BaselineSelection>>>();

function selectBaselineOnce(records: readonly RunRecord[], cells: readonly TrialResult[], versions: PrGateInput['baseVersions'], size: number): BaselineSelection {
  let byVersions = selections.get(records);
  if (!byVersions) selections.set(records, (byVersions = new WeakMap()));
  let byKey = byVersions.get(versions);
  if (!byKey) byVersions.set(versions, (byKey = new Map()));
  const key = `${size}\n${cells.map((c) => `${c.task}\0${c.variant}\0${c.model}`).sort().join('\n')}`;
  let hit = byKey.get(key);
  if (!hit) byKey.set(key, (hit = selectBaseline(records, cells, versions, size)));
  return hit;
}
