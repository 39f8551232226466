import { markdownTable } from 'markdown-table';
import { createClients, missingCredentials } from '../agents/providers.js';
import { DEFAULT_JUDGE_MODEL } from '../config.js';
import { pct } from '../format.js';
import { findPython } from '../python/discover.js';
import { checkRequirements } from '../python/requirements.js';
import { mean, type JudgeCheckReport } from '../runs/judge-agreement.js';
import { checkJudge, JudgeExampleError } from '../runs/judge-check.js';
import { createSandbox } from '../sandbox/index.js';
import { loadTasks, type LoadedTask } from '../tasks/load.js';
import { JudgeCheckArgsSchema, parseCommandArgs, UsageError } from './args.js';
import { judgeSetupFor, parseJudgeSpec } from './judge-choice.js';

/** `bench judge-check`: measures a judge on each task's labelled example submissions (src/runs/judge-check.ts). */

type Io = { out: (s: string) => void; err: (s: string) => void };

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
  const sandbox = await createSandbox({ unsafeNoSandbox: args['unsafe-no-sandbox'], extraReadOnlyPaths: python.prefixes });
  const setup = judgeSetupFor(judge, createClients([judge.provider], env));
  if (setup.kind !== 'model') throw new Error('judge-check: a model judge was chosen but none was set up');
  let report: JudgeCheckReport;
  try {
    report = await checkJudge({
      tasks: runnable, judge: setup, python, sandbox, k: args.k, concurrency: args.concurrency, minAgreement: args['min-agreement'],
      skipped, log: io.err,
    });
  } catch (e) {
    if (e instanceof JudgeExampleError) throw new UsageError(e.message);
    throw e;
  }

  if (args.json) io.out(JSON.stringify(report, null, 2));
  else io.out(renderJudgeCheck(report));
  for (const s of skipped) io.err(`skipped ${s.task}: ${s.reason}`);
  for (const e of report.examples.filter((x) => x.firstError)) io.err(`error on ${e.task}/${e.file} (${e.errors}/${e.runs} runs): ${e.firstError}`);
  for (const t of report.tasks.filter((x) => !x.ok)) {
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
