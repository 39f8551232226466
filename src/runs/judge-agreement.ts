import { costUsd, type Usage } from '../agents/prices.js';
import { criterionPoints, JUDGE_CHECK_PREFIX, VERDICT_CHECK } from '../grading/rubric-judge.js';
import type { JudgeExample } from '../tasks/define.js';

/*
 * How well a judge agrees with labelled examples and with itself, from its gradings: per example the majority
 * and each criterion's modal share; per task the agreement over pass/fail labels (borderline ones are not
 * scored) and its cost.
 */

/** One grading of one example: the judge's decision and each criterion's outcome, or why it failed. */
export type RunOutcome =
  | { ok: true; passed: boolean; criteria: Map<string, string>; usage: Usage }
  | { ok: false; error: string; usage: Usage };

export interface ExampleReport {
  task: string;
  file: string;
  label: JudgeExample['label'];
  note: string | null;
  runs: number;
  errors: number;
  passVotes: number;
  /** 'pass', 'fail', or 'split' (a tie). null when every run failed. */
  majority: 'pass' | 'fail' | 'split' | null;
  /** Runs whose decision equals the label, over runs that finished; null for borderline labels. */
  agreement: number | null;
  /** Fraction of finished runs agreeing with the majority decision. */
  selfConsistency: number | null;
  /** Per criterion: fraction of finished runs giving the modal outcome (points). */
  criteria: Record<string, number>;
  firstError: string | null;
}

export interface TaskReport {
  task: string;
  /** Over pass/fail-labelled examples' finished runs. */
  agreement: number | null;
  agreeRuns: number;
  scoredRuns: number;
  /** Examples whose majority decision equals the label, over pass/fail-labelled examples. */
  majorityAgreement: number | null;
  selfConsistency: number | null;
  /** Mean per-criterion consistency, and each criterion's over all examples. */
  criterionConsistency: number | null;
  criteria: Record<string, number>;
  errors: number;
  usage: Usage;
  costUsd: number | null;
  ok: boolean;
}

export interface JudgeCheckReport {
  judge: string;
  k: number;
  minAgreement: number;
  examples: ExampleReport[];
  tasks: TaskReport[];
  skipped: Array<{ task: string; reason: string }>;
  ok: boolean;
}

export const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Count of the most common value over its list length (1 when all agree). */
function modalShare(values: string[]): number {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return Math.max(...counts.values()) / values.length;
}

export function summarizeExample(task: string, ex: JudgeExample, outcomes: RunOutcome[]): ExampleReport {
  const done = outcomes.filter((o): o is Extract<RunOutcome, { ok: true }> => o.ok);
  const passVotes = done.filter((o) => o.passed).length;
  const failVotes = done.length - passVotes;
  const majority = done.length === 0 ? null : passVotes > failVotes ? 'pass' : failVotes > passVotes ? 'fail' : 'split';
  const names = [...new Set(done.flatMap((o) => [...o.criteria.keys()]))];
  const criteria: Record<string, number> = {};
  for (const n of names) criteria[n] = modalShare(done.map((o) => o.criteria.get(n) ?? 'missing'));
  const firstError = outcomes.find((o): o is Extract<RunOutcome, { ok: false }> => !o.ok)?.error ?? null;
  return {
    task,
    file: ex.file,
    label: ex.label,
    note: ex.note ?? null,
    runs: outcomes.length,
    errors: outcomes.length - done.length,
    passVotes,
    majority,
    agreement: ex.label === 'borderline' || !done.length ? null : done.filter((o) => o.passed === (ex.label === 'pass')).length / done.length,
    selfConsistency: done.length ? Math.max(passVotes, failVotes) / done.length : null,
    criteria,
    firstError,
  };
}

export function summarizeTask(task: string, examples: ExampleReport[], usage: Usage, judgeModel: string, minAgreement: number): TaskReport {
  const scored = examples.filter((e) => e.label !== 'borderline');
  let agreeRuns = 0;
  let scoredRuns = 0;
  for (const e of scored) {
    const done = e.runs - e.errors;
    scoredRuns += done;
    agreeRuns += e.label === 'pass' ? e.passVotes : done - e.passVotes;
  }
  const withMajority = scored.filter((e) => e.majority !== null);
  const names = [...new Set(examples.flatMap((e) => Object.keys(e.criteria)))];
  const criteria: Record<string, number> = {};
  for (const n of names) criteria[n] = mean(examples.filter((e) => n in e.criteria).map((e) => e.criteria[n]!))!;
  const agreement = scoredRuns ? agreeRuns / scoredRuns : null;
  const errors = examples.reduce((a, e) => a + e.errors, 0);
  return {
    task,
    agreement,
    agreeRuns,
    scoredRuns,
    majorityAgreement: withMajority.length ? withMajority.filter((e) => e.majority === e.label).length / withMajority.length : null,
    selfConsistency: mean(examples.filter((e) => e.selfConsistency !== null).map((e) => e.selfConsistency!)),
    criterionConsistency: mean(Object.values(criteria)),
    criteria,
    errors,
    usage,
    costUsd: costUsd(judgeModel, usage),
    ok: errors === 0 && agreement !== null && agreement >= minAgreement,
  };
}

/** The judge's decision on one grading: the `judge:verdict` check when there is exactly one, else the grade. */
export function outcomeOf(grade: { passed: boolean; checks: Array<{ name: string; passed: boolean | null; detail: string }> }, usage: Usage): RunOutcome {
  const judged = grade.checks.filter((c) => c.name.startsWith(JUDGE_CHECK_PREFIX));
  if (!judged.length || judged.every((c) => c.passed === null)) {
    return { ok: false, error: 'the grader returned no judge checks that ran (does it call judgeWithRubric with ctx?)', usage };
  }
  const verdicts = judged.filter((c) => c.name === VERDICT_CHECK);
  const passed = verdicts.length === 1 ? verdicts[0]!.passed === true : grade.passed;
  const criteria = new Map<string, string>();
  for (const c of judged) {
    if (c.name === VERDICT_CHECK) continue;
    const p = criterionPoints(c.detail);
    criteria.set(c.name.slice(JUDGE_CHECK_PREFIX.length), p ? String(p.points) : String(c.passed));
  }
  return { ok: true, passed, criteria, usage };
}


