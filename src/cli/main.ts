import path from 'node:path';
import { markdownTable } from 'markdown-table';
import { loadTasks, TaskDefinitionError, TASKS_DIR, type LoadedTask } from '../tasks/load.js';
import { findPython, PythonUnavailableError } from '../python/discover.js';
import { checkRequirements } from '../python/requirements.js';
import { environmentGaps } from '../tasks/grading-profile.js';
import { createSandbox } from '../sandbox/index.js';
import { SandboxUnavailableError } from '../sandbox/types.js';
import { isModelAgent, parseAgentSpec } from '../agents/model-spec.js';
import { createClients, missingCredentials, type Provider } from '../agents/providers.js';
import { planTrials, PlanError } from '../runs/plan.js';
import { shardTrials } from '../runs/shard.js';
import { executeRun, newRunId } from '../runs/execute.js';
import { journalPath, readJournal, readRunRecord, JournalError } from '../runs/journal.js';
import type { RunRecord, TrialResult } from '../runs/record.js';
import { summaryTable } from '../reports/summary.js';
import { addRunToStore, loadResults } from '../runs/store.js';
import { compareRuns, renderComparisonMarkdown } from '../reports/compare/index.js';
import { stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createProgressReporter, type ProgressReporter } from './progress.js';
import { ReadmeMarkerError } from '../reports/readme.js';
import { regenerateReport, ReadmeMissingError, type RegenerateResult } from '../reports/regenerate.js';
import { DEFAULT_EPOCHS, DEFAULT_JUDGE_MODEL, DEFAULT_MODELS, RESULTS_RUNS_DIR, SCRATCH_RUNS_DIR } from '../config.js';
import { chooseJudge, judgeSetupFor, planJudge, type JudgeChoice } from './judge-choice.js';
import { judgeCheckCommand } from './judge-check.js';
import { judgeSummaryLines } from '../reports/summary.js';
import { judgeTranscriptPath } from '../runs/judge-session.js';
import { viewCommand } from './view.js';
import { CompareArgsSchema, ListArgsSchema, parseCommandArgs, ReportArgsSchema, RunArgsSchema, UsageError, ValidateArgsSchema } from './args.js';

/**
 * Exit codes: 0 the run completed, 1 some trial ended in `error` (or validate failed, or compare found a regression,
 * or `report --check` found the README or a chart stale), 2 bad arguments or definitions.
 */
export const EXIT = { ok: 0, trialErrors: 1, stale: 1, usage: 2, interrupted: 130 } as const;

const HELP = `envbench — run LLM agents on AI-research-engineering tasks

  npm run bench                       the main job: the configured models if ANTHROPIC_API_KEY is set, else validate
  npm run bench -- list [--json]      tasks, variants, samples, and whether each can run here
  npm run bench -- run --models oracle,nop,anthropic:claude-haiku-4-5 [--tasks a,b] [--variants v1,v2|all]
                       [--epochs N] [--concurrency K] [--shard i/n] [--out FILE] [--run-id ID] [--max-cost-usd X]
                       [--keep-workspaces] [--unsafe-no-sandbox]
                       [--partial-grading]  grade model trials even where their task's decisive checks (CUDA) cannot run
                       progress: one live line on a terminal, a line per trial plus a periodic tally in logs;
                       --max-cost-usd X: no trial starts once the known spend (agents and judge) reaches X
  npm run bench -- run --resume FILE [--epochs N] [--max-cost-usd X]  finish a killed (or capped) run without repeating
                       finished trials; N extends its plan to N epochs
  npm run bench -- validate [--tasks a,b]   oracle must pass and nop must fail on every task
  npm run bench -- compare --baseline A --candidate B [--format markdown|json] [--alpha 0.05] [--min-effect 0.15] [--mode sequential|fixed]
                       A and B: a run record or a results folder; exit 1 on a significant regression, or when the candidate has nothing graded
  npm run bench -- report [--results DIR] [--readme FILE] [--charts DIR] [--check]
                       regenerate the README's sections between <!-- envbench:NAME:start/end --> markers and the
                       SVG charts from the results store (default results/runs; charts default to DIR/../charts);
                       --check writes nothing and exits 1 when the README or a chart is stale
  npm run bench -- judge-check [--tasks a,b] [--judge SPEC] [--k 3] [--min-agreement 0.8] [--json]
                       grade each judge-graded task's labelled examples K times with the judge; report agreement with
                       the labels and self-consistency; exit 1 below --min-agreement (needs ANTHROPIC_API_KEY)
  npm run bench -- view FILE.json [--out FILE.html]
                       one self-contained HTML report of a run (default FILE.html): a filterable table of trials and each
                       trial's transcript, checks and judge; no server or network needed to open it
  run --judge SPEC|none   the LLM judge of judge-graded tasks (default ${DEFAULT_JUDGE_MODEL} when the run has model agents;
                       ENVBENCH_JUDGE for the main job); oracle/nop-only runs have none unless given

Environment: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, OPENAI_API_KEY, OPENAI_BASE_URL, ENVBENCH_PYTHON (default: the first of python3 on PATH, /usr/bin/python3, /usr/local/bin/python3 with the tasks' modules), ENVBENCH_MODELS, ENVBENCH_JUDGE,
ENVBENCH_RESULTS_DIR (default results/runs), ENVBENCH_SCRATCH_DIR (default .runs).
Agent specs: oracle | nop | anthropic:<model-id>[+thinking=<budget>] | openai:<model-id> (any Chat Completions server)`;

/** `tty`: raw writes to a terminal, when stderr is one (progress is then one live line). */
type Io = { out: (s: string) => void; err: (s: string) => void; tty?: (s: string) => void };
const defaultIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  ...(process.stderr.isTTY ? { tty: (s: string) => void process.stderr.write(s) } : {}),
};

export async function main(argv: string[], io: Io = defaultIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // `CMD --help` prints the usage and does nothing else: no API key, interpreter or task is needed for it.
    if (command !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
      io.out(HELP);
      return EXIT.ok;
    }
    switch (command) {
      case undefined:
        return await mainJob(io, env);
      case 'list':
        return await listCommand(rest, io, env);
      case 'run':
        return await runCommand(rest, io, env);
      case 'validate':
        return await validateCommand(rest, io, env);
      case 'compare':
        return await compareCommand(rest, io);
      case 'report':
        return await reportCommand(rest, io, env);
      case 'judge-check':
        return await judgeCheckCommand(rest, io, env);
      case 'view':
        io.out(`report: ${await viewCommand(rest)}`);
        return EXIT.ok;
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return EXIT.ok;
      default:
        throw new UsageError(`unknown command "${command}". Commands: list, run, validate, compare, report, judge-check, view (see --help)`);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof TaskDefinitionError || e instanceof PlanError || e instanceof JournalError || e instanceof SandboxUnavailableError || e instanceof PythonUnavailableError) {
      io.err(`error: ${e.message}`);
      if (e instanceof UsageError) io.err('run `npm run bench -- --help` for usage');
      return EXIT.usage;
    }
    throw e;
  }
}

async function mainJob(io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  if (!env.ANTHROPIC_API_KEY) {
    io.err('ANTHROPIC_API_KEY is not set: running `validate` (oracle and nop on every task) instead of the model evaluation.');
    return validateCommand([], io, env);
  }
  const models = (env.ENVBENCH_MODELS ?? DEFAULT_MODELS.join(',')).trim();
  // The run (journal, transcripts) lives in the scratch folder; the finished record goes to the store.
  // One id for the scratch file, the record inside it and the stored file (RUNID.json).
  const runId = newRunId();
  const out = path.join(env.ENVBENCH_SCRATCH_DIR || SCRATCH_RUNS_DIR, `${runId}.json`);
  io.err(`running the configured models (${models}), ${DEFAULT_EPOCHS} epochs, into ${out}`);
  const judge = env.ENVBENCH_JUDGE?.trim() ? ['--judge', env.ENVBENCH_JUDGE.trim()] : [];
  const code = await runCommand(['--models', models, '--epochs', String(DEFAULT_EPOCHS), '--run-id', runId, '--out', out, ...judge], io, env);
  if (code === EXIT.ok || code === EXIT.trialErrors) {
    const stored = await addRunToStore(await readRunRecord(out), env.ENVBENCH_RESULTS_DIR || RESULTS_RUNS_DIR);
    io.err(`stored ${stored}${code === EXIT.trialErrors ? ' (some trials ended in error; they are kept apart from failures)' : ''}`);
  } else if (code === EXIT.interrupted) {
    io.err(`not stored: the run is unfinished; finish it with \`npm run bench -- run --resume ${out}\``);
  }
  return code;
}

async function listCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const args = parseCommandArgs('list', argv, ListArgsSchema);
  const tasks = await loadTasks();
  const python = await probePythonFor(tasks, env);
  const rows = tasks.map((t) => {
    const req = checkRequirements(t.def.requirements, python);
    const gaps = environmentGaps(t.def.environmentChecks, python);
    const decisive = gaps.some((g) => g.decisive);
    return {
      id: t.def.id,
      title: t.def.title,
      variants: t.variants.map((v) => (v.isDefault ? `${v.id}*` : v.id)),
      samples: t.def.samples.map((s) => s.id),
      runnable: req.ok,
      reason: req.ok ? null : `${req.reason}; ${req.hint}`,
      /** Checks that cannot run here: trials get a partial grading profile (model trials are skipped when these decide the task). */
      skippedChecks: gaps.map((g) => ({ check: g.check, why: g.why, decisive: g.decisive })),
      modelTrials: !req.ok ? 'skipped' : decisive ? 'skipped unless --partial-grading' : gaps.length ? 'partial grading profile' : 'full grading profile',
    };
  });
  if (args.json) {
    io.out(JSON.stringify({ python: { command: python.command, executable: python.executable, source: python.source, version: python.version, torch: python.torch, cuda: python.cuda }, tasks: rows }, null, 2));
    return EXIT.ok;
  }
  io.out(markdownTable([
    ['task', 'title', 'variants (* default)', 'samples', 'runs here', 'checks skipped here'],
    ...rows.map((r) => [
      r.id,
      r.title,
      r.variants.join(', '),
      r.samples.join(', '),
      !r.runnable ? `no: ${r.reason}` : r.skippedChecks.length ? `partly: model trials ${r.modelTrials}` : 'yes',
      r.skippedChecks.length ? r.skippedChecks.map((g) => `${g.check}${g.decisive ? ' (decisive)' : ''}: ${g.why}`).join('; ') : 'none',
    ]),
  ]));
  io.out(`\npython (${PYTHON_SOURCE[python.source]}): ${python.command} -> ${python.executable} (Python ${python.version}, torch ${python.torch ?? 'missing'}, cuda ${python.cuda ? python.gpu : 'no'})`);
  return EXIT.ok;
}

const PYTHON_SOURCE: Record<string, string> = {
  ENVBENCH_PYTHON: 'from ENVBENCH_PYTHON',
  PATH: 'python3 on PATH',
  system: "found: python3 on PATH lacks the tasks' modules",
  given: 'given',
};

/** The interpreter for these tasks: ENVBENCH_PYTHON, else the first candidate that has their modules. */
function probePythonFor(tasks: LoadedTask[], env: NodeJS.ProcessEnv) {
  return findPython({ modules: tasks.flatMap((t) => t.def.requirements.pythonModules), env });
}

async function runCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const args = parseCommandArgs('run', argv, RunArgsSchema);
  let plan: RunRecord['plan'];
  let out: string;
  let runId: string | undefined;
  if (args.resume) {
    const header = (await readJournal(journalPath(args.resume))).header;
    if (args.epochs !== undefined && args.epochs < header.plan.epochs) {
      throw new UsageError(`--epochs ${args.epochs}: the run already plans ${header.plan.epochs} epochs; --resume can extend a plan, never shrink it`);
    }
    plan = { ...header.plan, epochs: Math.max(args.epochs ?? 0, header.plan.epochs) };
    out = args.resume;
    if (header.sandbox.unsafe !== args['unsafe-no-sandbox']) {
      throw new UsageError(`--resume: the run was started ${header.sandbox.unsafe ? 'with' : 'without'} --unsafe-no-sandbox; resume it the same way`);
    }
  } else {
    plan = {
      tasks: args.tasks ?? [],
      models: args.models!,
      variants: args.variants ?? null,
      epochs: args.epochs ?? 1,
      ...(args.shard && { shard: args.shard }),
      ...(args['partial-grading'] && { partialGrading: true }),
      ...(args['max-cost-usd'] !== undefined && { maxCostUsd: args['max-cost-usd'] }),
    };
    runId = args['run-id'] ?? newRunId();
    // The default file is named by the run id, so the name and the record's runId agree.
    out = args.out ?? path.join(SCRATCH_RUNS_DIR, `${runId}.json`);
  }
  const agents = plan.models.map((name) => {
    try {
      return { name, spec: parseAgentSpec(name) };
    } catch (e) {
      throw new UsageError(`--models: ${(e as Error).message}`);
    }
  });
  const tasks = await loadTasks(plan.tasks.length ? plan.tasks : undefined);
  if (!args.resume) plan.tasks = tasks.map((t) => t.def.id);
  const planned = planTrials(tasks, agents, plan.variants, plan.epochs);
  const trials = plan.shard ? shardTrials(planned, plan.shard) : planned;
  const providers = [...new Set(agents.flatMap((a) => (isModelAgent(a.spec) ? [a.spec.kind] : [])))];
  for (const p of providers) {
    const missing = missingCredentials(p, env);
    if (missing) throw new UsageError(`--models names an ${p}:… agent but ${missing}`);
  }
  const needsModel = providers.length > 0;
  // The judge of judge-graded tasks: --judge, else the resumed plan's, else the default (src/cli/judge.ts).
  const judge = chooseJudge(args.resume ? plan.judge : args.judge, needsModel, env);
  if (!args.resume) plan.judge = planJudge(judge);
  return execute({ trials, plan, out, runId, maxCostUsd: args['max-cost-usd'], resume: Boolean(args.resume), concurrency: args.concurrency, unsafe: args['unsafe-no-sandbox'], keep: args['keep-workspaces'], tasks, providers, env, judge }, io);
}

async function validateCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const args = parseCommandArgs('validate', argv, ValidateArgsSchema);
  const tasks = await loadTasks(args.tasks);
  const agents = [
    { name: 'oracle', spec: parseAgentSpec('oracle') },
    { name: 'nop', spec: parseAgentSpec('nop') },
  ];
  const trials = planTrials(tasks, agents, null, 1);
  const plan = { tasks: tasks.map((t) => t.def.id), models: ['oracle', 'nop'], variants: null, epochs: 1 };
  const runId = `validate-${newRunId()}`;
  const out = args.out ?? path.join(SCRATCH_RUNS_DIR, `${runId}.json`);
  const code = await execute({ trials, plan, out, runId, resume: false, concurrency: args.concurrency, unsafe: args['unsafe-no-sandbox'], keep: false, tasks, providers: [], env, judge: { kind: 'off', reason: 'validate runs oracle and nop without a model' } }, io);
  if (code === EXIT.usage || code === EXIT.interrupted) return code;
  const record = await readRunRecord(out);
  const problems = validationProblems(record.trials);
  if (problems.length) {
    io.err(`validate FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    return EXIT.trialErrors;
  }
  io.err(`validate ok: ${tasks.length} task(s); every oracle passed and every nop failed`);
  return EXIT.ok;
}

async function compareCommand(argv: string[], io: Io): Promise<number> {
  const args = parseCommandArgs('compare', argv, CompareArgsSchema);
  const load = async (p: string, flag: string): Promise<TrialResult[]> => {
    const st = await stat(p).catch(() => null);
    if (!st) throw new UsageError(`--${flag}: ${p} does not exist`);
    if (st.isFile()) {
      try {
        return (await readRunRecord(p)).trials;
      } catch (e) {
        throw new UsageError(`--${flag}: ${(e as Error).message}`);
      }
    }
    // Any folder of run records: file names need not be run ids (they must be only in the results store).
    const loaded = await loadResults(p, { storeNames: false });
    for (const pr of loaded.problems) io.err(`warning: skipped ${pr.file}: ${pr.message}`);
    if (!loaded.records.length) throw new UsageError(`--${flag}: no valid run records in ${p}`);
    return loaded.records.flatMap((r) => r.record.trials);
  };
  const result = compareRuns(await load(args.baseline, 'baseline'), await load(args.candidate, 'candidate'), {
    ...(args.alpha !== undefined ? { alpha: args.alpha } : {}),
    ...(args['min-effect'] !== undefined ? { minEffect: args['min-effect'] } : {}),
    ...(args.mode ? { mode: args.mode } : {}),
  });
  io.out(args.format === 'json' ? JSON.stringify(result, null, 2) : renderComparisonMarkdown(result));
  // A regression, or a candidate that could not be judged (nothing graded), is exit 1: never a silent pass.
  for (const f of result.failures) io.err(`compare: ${f}`);
  return result.passed ? EXIT.ok : EXIT.trialErrors;
}

/**
 * `report`: the README sections and the charts from the results store. Bad files in the store are warnings;
 * the report is drawn from the rest. Writes only what changed, so a second run changes nothing.
 */
async function reportCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const args = parseCommandArgs('report', argv, ReportArgsSchema);
  const resultsDir = args.results ?? (env.ENVBENCH_RESULTS_DIR || RESULTS_RUNS_DIR);
  let r: RegenerateResult;
  try {
    r = await regenerateReport({
      resultsDir,
      readmePath: args.readme,
      chartsDir: args.charts ?? path.join(path.dirname(resultsDir), 'charts'),
      tasksDir: env.ENVBENCH_TASKS_DIR || TASKS_DIR,
      check: args.check,
      warn: (m) => io.err(`warning: ${m}`),
    });
  } catch (e) {
    if (e instanceof ReadmeMissingError) throw new UsageError(`--readme: ${e.message}`);
    if (e instanceof ReadmeMarkerError) throw new UsageError(`${args.readme}: ${e.message}`);
    throw e;
  }
  if (args.check) {
    if (r.stale.length) {
      const why = (f: string) => (f === args.readme && r.appended.length ? `${f} (no markers for: ${r.appended.join(', ')})` : f);
      io.err(`report is stale (${r.summary}); run \`npm run bench -- report\` to update:\n${r.stale.map((s) => `  - ${why(s)}`).join('\n')}`);
      return EXIT.stale;
    }
    io.err(`report is current (${r.summary})`);
    return EXIT.ok;
  }
  if (r.appended.length) {
    io.err(`${args.readme} had no markers for: ${r.appended.join(', ')}; appended those sections at the end with their markers. Move them where they belong; later reports update them in place.`);
  }
  io.err(`report: ${r.summary}`);
  io.out(r.written.length ? `updated: ${r.written.join(', ')}` : 'report is current: nothing to update');
  return EXIT.ok;
}

/** Every oracle must pass and every nop must fail; a skip or an error is a problem too, never a silent pass. */
export function validationProblems(trials: TrialResult[]): string[] {
  const problems: string[] = [];
  for (const t of trials) {
    const id = `${t.task}/${t.variant}/${t.sample}`;
    if (t.status === 'skipped') problems.push(`${id}: ${t.model} skipped: ${t.error}`);
    else if (t.status === 'error') problems.push(`${id}: ${t.model} error: ${t.error}`);
    else if (t.model === 'oracle' && t.status !== 'passed') problems.push(`${id}: oracle failed: ${failedChecks(t)}`);
    else if (t.model === 'nop' && t.status !== 'failed') problems.push(`${id}: nop passed — the grader accepts the starter code`);
  }
  return problems;
}

function failedChecks(t: TrialResult): string {
  return t.checks.filter((c) => c.passed === false).map((c) => `${c.name} (${c.detail.split('\n')[0]})`).join('; ') || 'no failing check recorded';
}

async function execute(
  o: { trials: ReturnType<typeof planTrials>; plan: RunRecord['plan']; out: string; resume: boolean; concurrency: number; unsafe: boolean; keep: boolean; tasks: LoadedTask[]; providers: Provider[]; runId?: string; maxCostUsd?: number; env: NodeJS.ProcessEnv; judge: JudgeChoice },
  io: Io,
): Promise<number> {
  if (!o.resume && (existsSync(o.out) || existsSync(journalPath(o.out)))) {
    throw new UsageError(`--out ${o.out}: a run record or journal already exists there; finish it with \`run --resume ${o.out}\`, or choose another --out`);
  }
  const python = await probePythonFor(o.tasks, o.env);
  const sandbox = await createSandbox({ unsafeNoSandbox: o.unsafe, extraReadOnlyPaths: python.prefixes });
  if (o.unsafe) io.err('WARNING: --unsafe-no-sandbox: model-written code runs on this machine without isolation; the run record says so.');
  // One client per provider, shared by the agents and the judge of that provider (one rate gate each).
  const clients = createClients([...o.providers, ...(o.judge.kind === 'model' ? [o.judge.provider] : [])], o.env);
  const controller = new AbortController();
  const onSignal = () => {
    io.err('\ninterrupted: stopping; finished trials are in the journal, resume with --resume ' + o.out);
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  let progress = null as ProgressReporter | null;
  try {
    io.err(`run: ${o.trials.length} trial(s) -> ${o.out}${o.resume ? ' (resuming)' : ''}${o.maxCostUsd !== undefined || o.plan.maxCostUsd !== undefined ? `, spending cap $${o.maxCostUsd ?? o.plan.maxCostUsd}` : ''}`);
    const result = await executeRun({
      trials: o.trials,
      plan: o.plan,
      out: o.out,
      ...(o.runId ? { runId: o.runId } : {}),
      ...(o.maxCostUsd !== undefined ? { maxCostUsd: o.maxCostUsd } : {}),
      resume: o.resume,
      concurrency: o.concurrency,
      sandbox,
      python,
      client: clients.anthropic,
      openaiClient: clients.openai,
      judge: judgeSetupFor(o.judge, clients, judgeTranscriptPath(o.out)),
      keepWorkspaces: o.keep,
      signal: controller.signal,
      onWarning: (w) => (progress ? progress.message(`warning: ${w}`) : io.err(`warning: ${w}`)),
      onStart: (carried) => {
        progress = createProgressReporter({ total: o.trials.length, carried, line: io.err, ...(io.tty ? { tty: io.tty } : {}) });
      },
      onTrialEnd: (r) => progress?.trialEnded(r),
    });
    progress?.finish();
    progress = null;
    if (result.costCapReached) {
      const c = result.costCapReached;
      io.err(`spending cap reached: $${c.spentUsd.toFixed(6)} spent of $${c.maxCostUsd}; ${c.trialsNotStarted} trial(s) not started (recorded as costCapReached). Run them with \`npm run bench -- run --resume ${o.out} --max-cost-usd <higher>\``);
    }
    io.out(summaryTable(result.record.trials));
    for (const line of judgeSummaryLines(result.record.trials)) io.err(line);
    io.err(`run record: ${o.out} (${result.ran} trial(s) run now, ${((Date.now() - started) / 1000).toFixed(1)}s)`);
    if (result.aborted) return EXIT.interrupted;
    return result.record.trials.some((t) => t.status === 'error') ? EXIT.trialErrors : EXIT.ok;
  } finally {
    progress?.finish();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
