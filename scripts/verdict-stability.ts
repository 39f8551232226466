/**
 * Verdict stability: how often a task's grader gives the verdict an expert gives, grading after grading.
 *
 *   npx tsx scripts/verdict-stability.ts --task <id> [--task <id> ...] [--k 20] [--concurrency 2] [--only <substring> ...] [--json <file>] [--list]
 *
 * For each task it grades the reference (task.ts `reference`, per sample, and per variant where the variant's
 * reference differs), every valid alternative (test/valid_submissions/**, expected to pass) and every cheat or wrong
 * answer (test/submissions/**, expected to fail), K times each, through the real grading entry point
 * (gradeSubmission) in the real sandbox (src/grading/local.ts, the setup the tests use). Graders draw fresh secret
 * data for every grading, so K gradings are K independent draws.
 *
 * Which sample and variant a file is graded as: a file directly in the folder is graded as the task's first sample
 * and default variant; each folder between is the id of a sample or of a variant
 * (test/submissions/fusion/x.py is graded as sample "fusion"). test/verdict-stability.json in the task folder
 * overrides this per file ({"files": {"submissions/x.py": {"variant": "numpy"}}}) and may exclude a file, with the
 * reason ({"exclude": {"submissions/y.py": "needs CUDA"}}). README.md files are not submissions.
 *
 * Printed per submission: the expected verdict, passes/K, flips (gradings whose verdict differs from the expected
 * one), the checks whose outcome was not the same in every grading, and the mean seconds per grading; per task, the
 * rate of expected verdicts with its Wilson 95% interval and whether the target is met: the reference and every
 * valid alternative pass at least 99% of gradings, every cheat fails at least 99%. A grading that ends in an
 * infrastructure error is counted as an error, never as a flip, and leaves the task's target unshown.
 *
 * --json FILE is rewritten after each submission finishes (`partial: true`, finished submissions only), so a
 * run stopped part-way keeps what it measured; the final report has `partial: false`.
 *
 * --list prints what would be graded (label, sample, variant, expected verdict) and grades nothing.
 *
 * Exit status: 0 every target met; 1 a target missed or not shown (errors, a task that cannot run here); 2 bad
 * arguments.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownTable } from 'markdown-table';
import pLimit from 'p-limit';
import { z } from 'zod';
import { positiveInt, UsageError } from '../src/cli/args.js';
import { isGradingError } from '../src/grading/grade.js';
import { localGrader, type LocalGrader } from '../src/grading/local.js';
import type { Grade } from '../src/grading/types.js';
import { wilson } from '../src/stats/intervals.js';
import { loadTask, REPO_ROOT, TASKS_DIR, type LoadedTask } from '../src/tasks/load.js';
import { formatIssues } from '../src/zod-issues.js';

/** The target: the expected verdict in at least this share of gradings. */
export const TARGET = 0.99;
export const DEFAULT_K = 20;
export const OVERRIDE_FILE = 'test/verdict-stability.json';
const EXAMPLES_DIR = path.join(REPO_ROOT, 'examples', 'tasks');

// ---------------------------------------------------------------------------------------------- arguments

const taskList = z
  .array(z.string(), { error: 'required: the task(s) to grade, e.g. --task paged-attention (repeat it, or comma-separate)' })
  .transform((xs) => xs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.string()).min(1, 'give at least one task id'));

export const StabilityArgsSchema = z.object({
  task: taskList,
  k: positiveInt('--k').max(1000, '--k must be at most 1000').default(DEFAULT_K),
  concurrency: positiveInt('--concurrency').max(64, '--concurrency must be at most 64').default(2),
  /** Grade only the submissions whose label contains one of these (repeat --only, or comma-separate). */
  only: z.array(z.string())
    .transform((xs) => xs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string()).min(1, '--only needs a substring of a submission label, e.g. valid_submissions'))
    .optional(),
  /** Also write the full report as JSON to this file. */
  json: z.string().min(1, '--json needs a file name').optional(),
  /** Print what would be graded (label, sample, variant, expected verdict) and grade nothing. */
  list: z.boolean().default(false),
  help: z.boolean().default(false),
});
export type StabilityArgs = z.infer<typeof StabilityArgsSchema>;

const USAGE = 'usage: npx tsx scripts/verdict-stability.ts --task <id> [--task <id> ...] [--k 20] [--concurrency 2] [--only <substring> ...] [--json <file>] [--list]';

export function parseStabilityArgs(argv: string[]): StabilityArgs {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        task: { type: 'string', multiple: true },
        k: { type: 'string' },
        concurrency: { type: 'string' },
        only: { type: 'string', multiple: true },
        json: { type: 'string' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    }).values as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`verdict-stability: ${(e as Error).message}`);
  }
  if (values.help) return { task: [], k: DEFAULT_K, concurrency: 2, list: false, help: true };
  const r = StabilityArgsSchema.safeParse(values);
  if (!r.success) {
    throw new UsageError(`verdict-stability: bad arguments:\n${r.error.issues.map((i) => `  --${i.path.map(String).join('.')}: ${i.message}`).join('\n')}`);
  }
  return r.data;
}

const matchesOnly = (args: StabilityArgs, label: string) => !args.only || args.only.some((o) => label.includes(o));

/** A task id: a folder of tasks/ (ENVBENCH_TASKS_DIR), else of examples/tasks/. */
export function resolveTaskDir(id: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new UsageError(`--task: "${id}" is not a task id (lower-case letters, digits and "-")`);
  const roots = [env.ENVBENCH_TASKS_DIR ?? TASKS_DIR, EXAMPLES_DIR];
  for (const root of roots) if (existsSync(path.join(root, id, 'task.ts'))) return path.join(root, id);
  throw new UsageError(`--task: no task "${id}" in ${roots.map((r) => path.relative(process.cwd(), r) || r).join(' or ')}`);
}

// ---------------------------------------------------------------------------------------------- what is graded

export type Expected = 'pass' | 'fail';

export interface Target {
  /** "reference", or the file's path under test/ ("valid_submissions/x.py"). */
  label: string;
  kind: 'reference' | 'valid' | 'cheat';
  expected: Expected;
  sampleId: string;
  variantId: string;
  submission: unknown;
}

const OverrideSchema = z
  .object({
    $comment: z.string().optional(),
    /** Per file (path under test/): the sample and variant it is graded as. */
    files: z.record(z.string(), z.object({ sample: z.string().min(1).optional(), variant: z.string().min(1).optional() }).strict()).default({}),
    /** Files that are not graded, each with the reason. */
    exclude: z.record(z.string(), z.string().min(1, 'say why the file is excluded')).default({}),
  })
  .strict();
type Override = z.infer<typeof OverrideSchema>;

/** A broken submission file or override: the task's definition is wrong, not the command line. */
export class StabilitySetupError extends Error {
  override name = 'StabilitySetupError';
}

async function readOverride(task: LoadedTask): Promise<Override> {
  const file = path.join(task.dir, OVERRIDE_FILE);
  if (!existsSync(file)) return { files: {}, exclude: {} };
  const where = path.relative(process.cwd(), file) || file;
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new StabilitySetupError(`${where}: not valid JSON: ${(e as Error).message}`);
  }
  const r = OverrideSchema.safeParse(raw);
  if (!r.success) throw new StabilitySetupError(`${where}:\n${formatIssues(r.error)}`);
  const ids = (xs: readonly { id: string }[]) => xs.map((x) => x.id);
  for (const [f, o] of Object.entries(r.data.files)) {
    if (!existsSync(path.join(task.dir, 'test', f))) throw new StabilitySetupError(`${where}: files: "${f}" does not exist under test/`);
    if (o.sample && !ids(task.def.samples).includes(o.sample)) throw new StabilitySetupError(`${where}: files."${f}".sample: no sample "${o.sample}" (have: ${ids(task.def.samples).join(', ')})`);
    if (o.variant && !ids(task.def.variants).includes(o.variant)) throw new StabilitySetupError(`${where}: files."${f}".variant: no variant "${o.variant}" (have: ${ids(task.def.variants).join(', ')})`);
  }
  for (const f of Object.keys(r.data.exclude)) {
    if (!existsSync(path.join(task.dir, 'test', f))) throw new StabilitySetupError(`${where}: exclude: "${f}" does not exist under test/`);
  }
  return r.data;
}

async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === '__pycache__') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile() && e.name.toLowerCase() !== 'readme.md') out.push(p);
  }
  return out.sort();
}

/** The submission a file holds: the task's judgeExamples.toSubmission, else JSON for .json, else the text as the schema's one string field. */
async function submissionOf(task: LoadedTask, rel: string, text: string, sampleId: string): Promise<unknown> {
  const sample = task.def.samples.find((s) => s.id === sampleId)!;
  const toSubmission = task.def.judgeExamples?.toSubmission;
  let raw: unknown;
  if (toSubmission) raw = await toSubmission(text, { taskDir: task.dir, sampleId, inputs: sample.inputs, file: rel });
  else if (rel.endsWith('.json')) {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new StabilitySetupError(`${task.def.id}: test/${rel}: not valid JSON: ${(e as Error).message}`);
    }
  } else {
    const schema = task.def.submission;
    const fields = schema instanceof z.ZodObject ? Object.entries(schema.shape as Record<string, z.ZodType>) : [];
    if (fields.length !== 1 || !(fields[0]![1] instanceof z.ZodString)) {
      throw new StabilitySetupError(`${task.def.id}: test/${rel}: cannot tell how a file becomes a submission (the schema is not one string field); give task.ts judgeExamples.toSubmission, or hold the submission as JSON`);
    }
    raw = { [fields[0]![0]]: text };
  }
  const r = task.def.submission.safeParse(raw);
  if (!r.success) throw new StabilitySetupError(`${task.def.id}: test/${rel}: does not match the task's submission schema:\n${formatIssues(r.error)}`);
  return r.data;
}

/** Everything to grade for one task, and the files left out with the reason. */
export async function discoverTargets(task: LoadedTask): Promise<{ targets: Target[]; excluded: Array<{ label: string; reason: string }> }> {
  const override = await readOverride(task);
  const targets: Target[] = [];
  const defaultVariant = task.defaultVariant.id;
  const multiSample = task.def.samples.length > 1;

  // The reference, per sample; another variant's only where its reference differs from the default variant's.
  for (const s of task.def.samples) {
    const of = async (variantId: string) => task.def.submission.parse(await task.def.reference({ taskDir: task.dir, sampleId: s.id, variantId, inputs: s.inputs }));
    const base = await of(defaultVariant);
    const seen = [JSON.stringify(base)];
    const push = (variantId: string, submission: unknown, showVariant: boolean) =>
      targets.push({
        label: ['reference', multiSample ? s.id : null, showVariant ? variantId : null].filter(Boolean).join(':'),
        kind: 'reference', expected: 'pass', sampleId: s.id, variantId, submission,
      });
    const others: Array<[string, unknown]> = [];
    for (const v of task.def.variants) {
      if (v.id === defaultVariant) continue;
      const sub = await of(v.id);
      const key = JSON.stringify(sub);
      if (!seen.includes(key)) {
        seen.push(key);
        others.push([v.id, sub]);
      }
    }
    push(defaultVariant, base, others.length > 0);
    for (const [v, sub] of others) push(v, sub, true);
  }

  const excluded: Array<{ label: string; reason: string }> = [];
  const sampleIds = task.def.samples.map((s) => s.id);
  const variantIds = task.def.variants.map((v) => v.id);
  for (const [folder, kind, expected] of [['valid_submissions', 'valid', 'pass'], ['submissions', 'cheat', 'fail']] as const) {
    for (const file of await listFiles(path.join(task.dir, 'test', folder))) {
      const rel = path.relative(path.join(task.dir, 'test'), file).split(path.sep).join('/');
      if (override.exclude[rel]) {
        excluded.push({ label: rel, reason: override.exclude[rel]! });
        continue;
      }
      let sampleId: string | undefined;
      let variantId: string | undefined;
      for (const seg of rel.split('/').slice(1, -1)) {
        if (sampleIds.includes(seg) && !sampleId) sampleId = seg;
        else if (variantIds.includes(seg) && !variantId) variantId = seg;
        else if (!override.files[rel]) {
          throw new StabilitySetupError(`${task.def.id}: test/${rel}: folder "${seg}" names no sample (${sampleIds.join(', ')}) or variant (${variantIds.join(', ')}) not already given; rename it or map the file in ${OVERRIDE_FILE}`);
        }
      }
      const o = override.files[rel];
      sampleId = o?.sample ?? sampleId ?? sampleIds[0]!;
      variantId = o?.variant ?? variantId ?? defaultVariant;
      const submission = await submissionOf(task, rel, await fs.readFile(file, 'utf8'), sampleId);
      targets.push({ label: rel, kind, expected, sampleId, variantId, submission });
    }
  }
  return { targets, excluded };
}

// ---------------------------------------------------------------------------------------------- the measurement

type Outcome = 'pass' | 'fail' | 'skipped' | 'absent';
interface Run {
  seconds: number;
  result: { passed: boolean; checks: Map<string, Outcome> } | { error: string };
}

export interface SubmissionReport {
  label: string;
  kind: Target['kind'];
  sample: string;
  variant: string;
  expected: Expected;
  k: number;
  /** Gradings that passed, and that failed (errors are neither). */
  passes: number;
  fails: number;
  /** Gradings whose verdict differs from the expected one. */
  flips: number;
  errors: number;
  firstError: string | null;
  /** Expected verdicts over gradings that finished; null when none did. */
  rate: number | null;
  wilson95: { low: number; high: number } | null;
  /** Checks whose outcome was not the same in every finished grading: name -> outcome -> count. */
  flippedChecks: Record<string, Partial<Record<Outcome, number>>>;
  meanSeconds: number;
  /** 'met': no errors and rate >= TARGET; 'missed': rate below TARGET; 'incomplete': errors, and no miss among the rest. */
  status: 'met' | 'missed' | 'incomplete';
}

export interface TaskStabilityReport {
  task: string;
  /** Why the task could not be graded here (a missing module, no CUDA where required), or null. */
  skipped: string | null;
  excluded: Array<{ label: string; reason: string }>;
  submissions: SubmissionReport[];
  /** Pooled over the reference and valid alternatives (expected pass), and over the cheats (expected fail). */
  expectedPass: { expected: number; finished: number; wilson95: { low: number; high: number } | null };
  expectedFail: { expected: number; finished: number; wilson95: { low: number; high: number } | null };
  meanSeconds: number | null;
  status: 'met' | 'missed' | 'incomplete' | 'skipped';
}

export interface StabilityReport {
  k: number;
  concurrency: number;
  target: number;
  python: { executable: string; torch: string | null; cuda: boolean } | null;
  /** True in the file written while the run goes on (finished submissions only); false in the final report. */
  partial: boolean;
  tasks: TaskStabilityReport[];
  ok: boolean;
}

const OUTCOME = (p: boolean | null): Outcome => (p === true ? 'pass' : p === false ? 'fail' : 'skipped');

function summarize(t: Target, k: number, runs: Run[]): SubmissionReport {
  const done = runs.flatMap((r) => ('error' in r.result ? [] : [r.result]));
  const errs = runs.flatMap((r) => ('error' in r.result ? [r.result.error] : []));
  const passes = done.filter((d) => d.passed).length;
  const expectedCount = t.expected === 'pass' ? passes : done.length - passes;
  const names = [...new Set(done.flatMap((d) => [...d.checks.keys()]))];
  const flippedChecks: SubmissionReport['flippedChecks'] = {};
  for (const n of names) {
    const counts: Partial<Record<Outcome, number>> = {};
    for (const d of done) {
      const o = d.checks.get(n) ?? 'absent';
      counts[o] = (counts[o] ?? 0) + 1;
    }
    if (Object.keys(counts).length > 1) flippedChecks[n] = counts;
  }
  const rate = done.length ? expectedCount / done.length : null;
  return {
    label: t.label, kind: t.kind, sample: t.sampleId, variant: t.variantId, expected: t.expected, k,
    passes, fails: done.length - passes, flips: done.length - expectedCount,
    errors: errs.length, firstError: errs[0] ?? null,
    rate, wilson95: done.length ? wilson(expectedCount, done.length) : null,
    flippedChecks,
    meanSeconds: runs.reduce((a, r) => a + r.seconds, 0) / Math.max(1, runs.length),
    status: rate !== null && rate < TARGET ? 'missed' : errs.length ? 'incomplete' : 'met',
  };
}

function pool(subs: SubmissionReport[]): TaskStabilityReport['expectedPass'] {
  const finished = subs.reduce((a, s) => a + s.passes + s.fails, 0);
  const expected = subs.reduce((a, s) => a + s.passes + s.fails - s.flips, 0);
  return { expected, finished, wilson95: finished ? wilson(expected, finished) : null };
}

export function taskSummary(task: string, submissions: SubmissionReport[], excluded: TaskStabilityReport['excluded'], skipped: string | null = null): TaskStabilityReport {
  const runs = submissions.reduce((a, s) => a + s.k, 0);
  return {
    task, skipped, excluded, submissions,
    expectedPass: pool(submissions.filter((s) => s.expected === 'pass')),
    expectedFail: pool(submissions.filter((s) => s.expected === 'fail')),
    meanSeconds: runs ? submissions.reduce((a, s) => a + s.meanSeconds * s.k, 0) / runs : null,
    status: skipped ? 'skipped'
      : submissions.some((s) => s.status === 'missed') ? 'missed'
      : submissions.some((s) => s.status === 'incomplete') || submissions.length === 0 ? 'incomplete'
      : 'met',
  };
}

async function gradeOnce(g: LocalGrader, t: Target): Promise<Run> {
  const start = performance.now();
  let result: Run['result'];
  try {
    const r = await g.gradeOrError(t.submission, {
      sampleId: t.sampleId, variantId: t.variantId,
      judge: { judgeUnavailable: 'verdict-stability grades without a judge model' },
    });
    result = isGradingError(r) ? r : { passed: r.passed, checks: new Map((r as Grade).checks.map((c) => [c.name, OUTCOME(c.passed)])) };
  } catch (e) {
    result = { error: `harness: ${(e as Error).message}` };
  }
  return { seconds: (performance.now() - start) / 1000, result };
}

/**
 * Grades everything; `progress` gets the report so far (finished submissions only, `partial: true`) after each
 * submission, so a run stopped part-way still leaves what it measured.
 */
export async function measure(args: StabilityArgs, log: (s: string) => void = () => {}, progress?: (r: StabilityReport) => Promise<void>): Promise<StabilityReport> {
  const loaded = await Promise.all(args.task.map((id) => loadTask(resolveTaskDir(id))));
  const limit = pLimit(args.concurrency);
  const reports: TaskStabilityReport[] = [];
  let python: StabilityReport['python'] = null;
  const base = () => ({ k: args.k, concurrency: args.concurrency, target: TARGET, python });
  for (const task of loaded) {
    const { targets: all, excluded } = await discoverTargets(task);
    const targets = all.filter((t) => matchesOnly(args, t.label));
    const g = await localGrader(task);
    python ??= { executable: g.python.executable, torch: g.python.torch, cuda: g.python.cuda };
    if (g.unmet) {
      log(`${task.def.id}: cannot run here: ${g.unmet}`);
      reports.push(taskSummary(task.def.id, [], excluded, g.unmet));
      continue;
    }
    log(`${task.def.id}: ${targets.length} submission(s) x ${args.k} grading(s), ${args.concurrency} at a time`);
    let finished = 0;
    const total = targets.length * args.k;
    const done: SubmissionReport[] = [];
    const subs = await Promise.all(targets.map(async (t) => {
      const runs = await Promise.all(Array.from({ length: args.k }, () => limit(async () => {
        const r = await gradeOnce(g, t);
        finished++;
        if (finished % Math.max(1, Math.round(total / 20)) === 0 || finished === total) log(`${task.def.id}: ${finished}/${total} gradings`);
        return r;
      })));
      const s = summarize(t, args.k, runs);
      log(`${task.def.id}: ${t.label}: expected ${t.expected}, ${s.passes}/${args.k} passed, ${s.flips} flip(s), ${s.errors} error(s)`);
      done.push(s);
      await progress?.({ ...base(), partial: true, tasks: [...reports, taskSummary(task.def.id, [...done], excluded)], ok: false });
      return s;
    }));
    reports.push(taskSummary(task.def.id, subs, excluded));
  }
  return { ...base(), partial: false, tasks: reports, ok: reports.every((r) => r.status === 'met') };
}

// ---------------------------------------------------------------------------------------------- printing

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const interval = (w: { low: number; high: number } | null) => (w ? `${pct(w.low)}–${pct(w.high)}` : '—');
const checksText = (c: SubmissionReport['flippedChecks']) =>
  Object.entries(c).map(([n, counts]) => `${n} (${Object.entries(counts).map(([o, k]) => `${o} ${k}`).join(', ')})`).join('; ') || '—';

export function taskLine(t: TaskStabilityReport, k: number): string {
  if (t.skipped) return `${t.task}: NOT MEASURED: ${t.skipped}`;
  const word = { met: 'target met', missed: 'target MISSED', incomplete: 'target NOT SHOWN (gradings ended in errors)', skipped: '' }[t.status];
  const p = t.expectedPass;
  const f = t.expectedFail;
  const rate = (x: TaskStabilityReport['expectedPass']) => (x.finished ? `${x.expected}/${x.finished} (Wilson 95% ${interval(x.wilson95)})` : 'none graded');
  return `${t.task}: ${word} (K=${k}): reference and valid pass ${rate(p)}; cheats fail ${rate(f)}` +
    `${t.meanSeconds === null ? '' : `; ${t.meanSeconds.toFixed(1)} s per grading`}`;
}

export function renderReport(r: StabilityReport): string {
  const out: string[] = [`Verdict stability: K=${r.k} gradings per submission, ${r.concurrency} at a time; target: expected verdict in >= ${pct(r.target)} of gradings` +
    (r.python ? `; python ${r.python.executable}, torch ${r.python.torch ?? 'none'}, ${r.python.cuda ? 'CUDA' : 'no CUDA'}` : ''), ''];
  for (const t of r.tasks) {
    out.push(`## ${t.task}`, '');
    if (t.submissions.length) {
      out.push(markdownTable([
        ['submission', 'sample/variant', 'expected', 'passes/K', 'flips', 'errors', 'expected-verdict rate (Wilson 95%)', 'checks that varied', 'mean s'],
        ...t.submissions.map((s) => [
          s.label, `${s.sample}/${s.variant}`, s.expected, `${s.passes}/${s.k}`, String(s.flips), String(s.errors),
          s.rate === null ? '—' : `${pct(s.rate)} (${interval(s.wilson95)})`, checksText(s.flippedChecks), s.meanSeconds.toFixed(1),
        ]),
      ]), '');
    }
    for (const e of t.excluded) out.push(`excluded ${e.label}: ${e.reason}`);
    for (const s of t.submissions.filter((x) => x.firstError)) out.push(`errors in ${s.label} (${s.errors}/${s.k}): ${s.firstError!.slice(0, 500)}`);
    out.push(taskLine(t, r.k), '');
  }
  return out.join('\n');
}

export async function main(argv: string[], io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => void process.stdout.write(s + '\n'), err: (s) => void process.stderr.write(s + '\n') }): Promise<number> {
  let args: StabilityArgs;
  try {
    args = parseStabilityArgs(argv);
    if (args.help) {
      io.out(USAGE);
      return 0;
    }
    for (const id of args.task) resolveTaskDir(id);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  let report: StabilityReport;
  try {
    if (args.list) {
      for (const id of args.task) {
        const task = await loadTask(resolveTaskDir(id));
        const { targets, excluded } = await discoverTargets(task);
        for (const t of targets.filter((x) => matchesOnly(args, x.label))) io.out(`${id}\t${t.label}\t${t.sampleId}\t${t.variantId}\texpected ${t.expected}`);
        for (const e of excluded) io.out(`${id}\t${e.label}\texcluded: ${e.reason}`);
      }
      return 0;
    }
    const json = args.json;
    // One write at a time: two submissions that finish together must not interleave their writes.
    let writes: Promise<void> = Promise.resolve();
    const write = (r: StabilityReport) => (writes = writes.then(() => fs.writeFile(json!, JSON.stringify(r, null, 2) + '\n')));
    report = await measure(args, io.err, json ? write : undefined);
    await writes;
  } catch (e) {
    // A broken submission file or override, a task that fails to load, a sandbox that cannot start: nothing was measured.
    io.err(`verdict-stability: ${e instanceof StabilitySetupError || (e as Error).name.endsWith('Error') ? (e as Error).message : String(e)}`);
    return 1;
  }
  io.out(renderReport(report));
  if (args.json) await fs.writeFile(args.json, JSON.stringify(report, null, 2) + '\n');
  return report.ok ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main(process.argv.slice(2));
