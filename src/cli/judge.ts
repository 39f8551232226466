/**
 * The judge on the command line: which judge a run gets (`--judge`), and `judge-check`, which measures a
 * judge on each task's labelled example submissions (agreement with the labels, self-consistency).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { markdownTable } from 'markdown-table';
import pLimit from 'p-limit';
export { judgeSummaryLines } from '../reports/summary.js';
import { createClients, missingCredentials, type ModelClients, type Provider } from '../agents/providers.js';
import { isModelAgent, parseAgentSpec } from '../agents/model-spec.js';
import { addUsage, costUsd, ZERO_USAGE, type Usage } from '../agents/prices.js';
import { DEFAULT_JUDGE_MODEL } from '../config.js';
import { pct } from '../format.js';
import { criterionPoints, JUDGE_CHECK_PREFIX, VERDICT_CHECK } from '../grading/rubric-judge.js';
import { openJudgeSession, type JudgeSetup } from '../runs/judge-session.js';
import { findPython } from '../python/discover.js';
import { checkRequirements, usesGpu } from '../python/requirements.js';
import { gradeSubmission, isGradingError } from '../grading/grade.js';
import { createSandbox } from '../sandbox/index.js';
import type { JudgeExample } from '../tasks/define.js';
import { loadTasks, type LoadedTask } from '../tasks/load.js';
import { JudgeCheckArgsSchema, parseCommandArgs, UsageError } from './args.js';

// ---------------------------------------------------------------- the judge of a run

/** A run's judge before a client exists: a parsed spec, or the reason there is none. */
export type JudgeChoice = { kind: 'model'; provider: Provider; spec: string; model: string; thinkingBudget: number | null } | { kind: 'off'; reason: string };

/** Parses a judge spec; throws UsageError naming the flag. */
function parseJudgeSpec(raw: string, flag = '--judge'): Extract<JudgeChoice, { kind: 'model' }> {
  let a;
  try {
    a = parseAgentSpec(raw);
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
  if (!isModelAgent(a)) throw new UsageError(`${flag}: the judge must be a model (anthropic:<model-id>[+thinking=N] or openai:<model-id>), not "${raw}"`);
  return { kind: 'model', provider: a.kind, spec: a.spec, model: a.model, thinkingBudget: a.thinkingBudget };
}

/**
 * The judge of a run. `requested`: the --judge flag (undefined: not given), or for a resumed run the
 * plan's judge (null: the run was started without one). Without a flag, runs with model agents get
 * DEFAULT_JUDGE_MODEL and runs of oracle/nop only get none, so validate never needs an API key.
 */
export function chooseJudge(requested: string | null | undefined, hasModelAgents: boolean, env: NodeJS.ProcessEnv): JudgeChoice {
  if (requested === null) return { kind: 'off', reason: 'the run was started without a judge' };
  if (requested === 'none') return { kind: 'off', reason: 'the judge is turned off (--judge none)' };
  if (requested === undefined && !hasModelAgents) {
    return { kind: 'off', reason: 'oracle and nop run without a model; pass --judge <spec> to judge them' };
  }
  const choice = parseJudgeSpec(requested ?? DEFAULT_JUDGE_MODEL);
  const missing = missingCredentials(choice.provider, env);
  if (missing) throw new UsageError(`--judge ${choice.spec} calls a model but ${missing} (or pass --judge none)`);
  return choice;
}

/** What the plan records: the judge spec, or null. */
export function planJudge(choice: JudgeChoice): string | null {
  return choice.kind === 'model' ? choice.spec : null;
}

/** The setup handed to every trial; the client is the run's for the judge's provider (one rate gate for agent and judge). */
export function judgeSetupFor(choice: JudgeChoice, clients: ModelClients, transcriptFile?: string): JudgeSetup {
  if (choice.kind === 'off') return choice;
  const client = clients[choice.provider];
  if (!client) throw new Error(`judgeSetupFor: a ${choice.provider} judge needs a ${choice.provider} client`);
  return { kind: 'model', client, model: choice.model, spec: choice.spec, thinkingBudget: choice.thinkingBudget, ...(transcriptFile ? { transcriptFile } : {}) };
}

// ---------------------------------------------------------------- judge-check

type Io = { out: (s: string) => void; err: (s: string) => void };

/** One grading of one example: the judge's decision and each criterion's outcome, or why it failed. */
type RunOutcome =
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

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Count of the most common value over its list length (1 when all agree). */
function modalShare(values: string[]): number {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return Math.max(...counts.values()) / values.length;
}

function summarizeExample(task: string, ex: JudgeExample, outcomes: RunOutcome[]): ExampleReport {
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

function summarizeTask(task: string, examples: ExampleReport[], usage: Usage, judgeModel: string, minAgreement: number): TaskReport {
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

interface PreparedExample {
  task: LoadedTask;
  example: JudgeExample;
  sampleId: string;
  submission: unknown;
}

/** Reads and validates every example before any model call: a broken example is a definition error. */
async function prepareExamples(task: LoadedTask): Promise<PreparedExample[]> {
  const je = task.def.judgeExamples!;
  const where = path.relative(process.cwd(), task.file) || task.file;
  const out: PreparedExample[] = [];
  for (const [i, ex] of je.examples.entries()) {
    const field = `${where}: judgeExamples.examples.${i}.file`;
    const file = path.join(task.dir, ex.file);
    const text = await fs.readFile(file, 'utf8').catch(() => {
      throw new UsageError(`${field}: "${ex.file}" not found in the task folder`);
    });
    const sample = ex.sample ? task.def.samples.find((s) => s.id === ex.sample)! : task.def.samples[0]!;
    let raw: unknown;
    try {
      raw = je.toSubmission
        ? await je.toSubmission(text, { taskDir: task.dir, sampleId: sample.id, inputs: sample.inputs, file: ex.file })
        : JSON.parse(text);
    } catch (e) {
      const hint = je.toSubmission ? '' : ' (without judgeExamples.toSubmission the file must hold the submission as JSON)';
      throw new UsageError(`${field}: cannot make a submission of "${ex.file}": ${(e as Error).message}${hint}`);
    }
    const parsed = task.def.submission.safeParse(raw);
    if (!parsed.success) throw new UsageError(`${field}: "${ex.file}" does not match the task's submission schema: ${parsed.error.message}`);
    out.push({ task, example: ex, sampleId: sample.id, submission: parsed.data });
  }
  return out;
}

/** The judge's decision on one grading: the `judge:verdict` check when there is exactly one, else the grade. */
function outcomeOf(grade: { passed: boolean; checks: Array<{ name: string; passed: boolean | null; detail: string }> }, usage: Usage): RunOutcome {
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


export async function judgeCheckCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const args = parseCommandArgs('judge-check', argv, JudgeCheckArgsSchema);
  const judge = parseJudgeSpec(args.judge ?? DEFAULT_JUDGE_MODEL);
  const missing = missingCredentials(judge.provider, env);
  if (missing) throw new UsageError(`judge-check calls the judge model ${judge.spec}: ${missing}`);
  const loaded = await loadTasks(args.tasks);
  if (args.tasks) {
    const without = loaded.filter((t) => !t.def.judgeExamples);
    if (without.length) throw new UsageError(`--tasks: ${without.map((t) => t.def.id).join(', ')} declare(s) no judgeExamples in task.ts`);
  }
  const tasks = loaded.filter((t) => t.def.judgeExamples);
  if (!tasks.length) throw new UsageError('no task declares judgeExamples (labelled submissions in task.ts); nothing to check');

  const python = await findPython({ modules: tasks.flatMap((t) => t.def.requirements.pythonModules), env });
  const skipped: JudgeCheckReport['skipped'] = [];
  const runnable: LoadedTask[] = [];
  for (const t of tasks) {
    const req = checkRequirements(t.def.requirements, python);
    if (req.ok) runnable.push(t);
    else skipped.push({ task: t.def.id, reason: `${req.reason}. Install: ${req.hint}` });
  }
  const prepared = (await Promise.all(runnable.map(prepareExamples))).flat();
  const sandbox = await createSandbox({ unsafeNoSandbox: args['unsafe-no-sandbox'], extraReadOnlyPaths: python.prefixes });
  const setup = judgeSetupFor(judge, createClients([judge.provider], env));
  const limit = pLimit(args.concurrency);
  const workRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-judge-check-'));
  io.err(`judge-check: ${prepared.length} example(s) x ${args.k} run(s) with ${judge.spec}`);

  let counter = 0;
  const gradeOnce = async (p: PreparedExample): Promise<RunOutcome> => {
    const session = openJudgeSession(setup);
    const dir = path.join(workRoot, String(counter++));
    let made: Promise<string> | null = null;
    try {
      const grade = await gradeSubmission(p.task, {
        sampleId: p.sampleId, variantId: p.task.defaultVariant.id, submission: p.submission, sandbox, python,
        gpu: usesGpu(p.task.def.requirements, python),
        workDir: () => (made ??= fs.mkdir(dir, { recursive: true }).then(() => dir)),
        judge: session.ctx,
      });
      if (isGradingError(grade)) return { ok: false, error: grade.error, usage: session.log!.usage };
      return outcomeOf(grade, session.log!.usage);
    } finally {
      if (made) await fs.rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  };

  let results: RunOutcome[][];
  try {
    results = await Promise.all(prepared.map((p) => Promise.all(Array.from({ length: args.k }, () => limit(() => gradeOnce(p))))));
  } finally {
    await fs.rm(workRoot, { recursive: true, force: true }).catch(() => {});
  }

  const examples = prepared.map((p, i) => summarizeExample(p.task.def.id, p.example, results[i]!));
  const taskReports = runnable.map((t) => {
    const idx = prepared.flatMap((p, i) => (p.task === t ? [i] : []));
    const usage = idx.flatMap((i) => results[i]!.map((r) => r.usage)).reduce(addUsage, { ...ZERO_USAGE });
    return summarizeTask(t.def.id, idx.map((i) => examples[i]!), usage, judge.model, args['min-agreement']);
  });
  const report: JudgeCheckReport = {
    judge: judge.spec,
    k: args.k,
    minAgreement: args['min-agreement'],
    examples,
    tasks: taskReports,
    skipped,
    ok: taskReports.every((t) => t.ok),
  };

  if (args.json) io.out(JSON.stringify(report, null, 2));
  else io.out(renderJudgeCheck(report));
  for (const s of skipped) io.err(`skipped ${s.task}: ${s.reason}`);
  for (const e of examples.filter((x) => x.firstError)) io.err(`error on ${e.task}/${e.file} (${e.errors}/${e.runs} runs): ${e.firstError}`);
  for (const t of taskReports.filter((x) => !x.ok)) {
    io.err(
      t.errors
        ? `judge-check FAILED for ${t.task}: ${t.errors} run(s) ended in error`
        : `judge-check FAILED for ${t.task}: agreement ${pct(t.agreement)} is below --min-agreement ${pct(args['min-agreement'])}`,
    );
  }
  return report.ok ? 0 : 1;
}

function renderJudgeCheck(r: JudgeCheckReport): string {
  const exampleRows = r.examples.map((e) => [
    e.task,
    e.file,
    e.label,
    `${e.passVotes}/${e.runs - e.errors} pass${e.errors ? ` (${e.errors} error)` : ''}`,
    e.majority ?? '—',
    e.label === 'borderline' ? 'not scored' : pct(e.agreement),
    pct(e.selfConsistency),
    pct(mean(Object.values(e.criteria))),
  ]);
  const taskRows = r.tasks.map((t) => [
    t.task,
    `${pct(t.agreement)} (${t.agreeRuns}/${t.scoredRuns})`,
    pct(t.majorityAgreement),
    pct(t.selfConsistency),
    pct(t.criterionConsistency),
    String(t.errors),
    t.costUsd === null ? '—' : `$${t.costUsd.toFixed(4)}`,
    t.ok ? 'ok' : 'FAIL',
  ]);
  const criterionRows = r.tasks.flatMap((t) => Object.entries(t.criteria).map(([c, v]) => [t.task, c, pct(v)]));
  return [
    `judge ${r.judge}, ${r.k} run(s) per example; agreement must be at least ${pct(r.minAgreement)}`,
    '',
    markdownTable([['task', 'example', 'label', 'judge votes', 'majority', 'agreement', 'self-consistency', 'criterion consistency'], ...exampleRows]),
    '',
    markdownTable([['task', 'agreement (runs)', 'majority agreement', 'self-consistency', 'criterion consistency', 'errors', 'judge cost', 'status'], ...taskRows]),
    ...(criterionRows.length ? ['', markdownTable([['task', 'criterion', 'consistency'], ...criterionRows])] : []),
  ].join('\n');
}
