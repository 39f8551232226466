import { randomBytes } from 'node:crypto';
import { constants as fsc, promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CheckSchema, type Grade, type GradeContext, GraderInfraError, LIBRARY_DIR, readPlainFile, LIBRARY_MOUNT, runInterleaved, type SandboxExecResult, type SandboxLimits, type TimedRun } from '../../src/task-api.js';

/**
 * The grader of ml-training-optimization; the rules themselves (checks, speedup, tolerances) live in
 * check.py, so the standalone `check.py SUBMISSION.py` and this grader give the same verdicts.
 *
 *   prepare (trusted sandbox)  -> train.npz + test_inputs.npz (public), labels.npz (private), the AST check;
 *                                 each holds check.py's DATA_SETS data sets, every one with its own secret seeds
 *   runs (one sandbox each)    -> candidate and baseline, interleaved (the candidate first: check.py's
 *                                 RUN_ORDER), 3 rounds (up to 7 while check.py's two
 *                                 clocks disagree about the 2x line), each in a fresh folder. The candidate
 *                                 does every data set in every run, the baseline only in its first (check.py's
 *                                 baseline_sets; its later runs' times are scaled to all of them). In
 *                                 each, check.py's timer runs the module once per data set, each time in the
 *                                 shared library's isolated child: it takes the predictions from its pipe,
 *                                 kills and reaps its whole tree at that moment, and reports the wall and CPU
 *                                 time summed over the data sets on stdout, tagged with a nonce given on
 *                                 stdin; the harness also times the whole exec from outside
 *                                 and takes the sandbox's cgroup CPU figure where it has one (treeCpuSeconds).
 *                                 Only predictions.npz (written by the timer after the kills) and the module's
 *                                 output tail come back, as size-capped regular files
 *   compare (trusted sandbox)  -> verdict.json, from runs.json (written here) and the copied predictions
 * compare runs after every round; grading stops at a failed check (more runs cannot undo it) or once every
 * check has a result, and at once after a failed candidate run (a first one that fails costs no baseline run).
 */

export const VARIANT_IDS = ['pytorch', 'numpy', 'complex'] as const;
export type VariantId = (typeof VARIANT_IDS)[number];
/** check.py decides how many rounds a grading takes (3, up to 7 when its two clocks disagree); this only caps a runaway. */
const MAX_ROUNDS_GUARD = 10;
/** check.py's RUN_ORDER: round 1 runs the candidate first, round 2 the baseline first, and so on. */
const RUN_ORDER = ['candidate', 'baseline'] as const;
type Role = (typeof RUN_ORDER)[number];

const CHECK_IN = '/opt/envbench-check/check.py';
const LIMITS: Record<'prepare' | 'compare' | Role, Partial<SandboxLimits>> = {
  prepare: { wallSec: 120 },
  compare: { wallSec: 120 },
  // The baseline takes 16-50 s of CPU over its 16 data sets (check.py DATA_SETS) in round 1; generous so a loaded machine
  // does not turn into a grading error.
  baseline: { wallSec: 600, memoryMb: 4096 },
  // Idle, a candidate at the 2x line takes 8-25 s over its 16 data sets; this leaves it 12x for a loaded machine (a
  // module slower than that has failed anyway).
  candidate: { wallSec: 300, memoryMb: 4096 },
};
/** check.py caps each data set's predictions at 1 MiB; one such share per data set prepare reports, and one for the zip's own headers. */
const PREDICTION_BYTES_PER_SET = 1024 * 1024;
const MAX_OUTPUT_TAIL = 4000;

const PrepareSchema = z.object({ ok: z.literal(true), n_train: z.int(), n_test: z.int(), data_sets: z.int().min(1).max(64), static: CheckSchema });
const VerdictSchema = z.object({ passed: z.boolean(), score: z.number().min(0).max(1), checks: z.array(CheckSchema) });
/** The timer's report (check.py run_module), the last line of its stdout. */
const ReportSchema = z.object({
  nonce: z.string(),
  child_exit: z.int(),
  child_wall_s: z.number().finite().nonnegative(),
  /** CPU of every process of the module's tree, each reaped by the timer (its subreaper). */
  child_cpu_s: z.number().finite().nonnegative(),
  /** The timer's own CPU (imports, data loading, the pipe): subtracted from the cgroup's figure. */
  timer_cpu_s: z.number().finite().nonnegative(),
  /** How many data sets the run did (all, or for the baseline after round 1 the few check.py's baseline_sets names). */
  data_sets: z.int().nonnegative(),
});
const VERDICT_FILE = 'verdict.json';

/**
 * The CPU seconds a run's module used: the timer's sum over the reaped tree, or, where the sandbox has
 * cgroup accounting for the whole exec, that figure less the timer's own share, whichever is larger (both
 * are lower bounds of the truth; a process that escaped the timer's reaping still shows in the cgroup).
 */
export function treeCpuSeconds(report: { child_cpu_s: number; timer_cpu_s: number }, cpuMs: number | null): number {
  if (cpuMs === null) return report.child_cpu_s;
  return Math.max(report.child_cpu_s, cpuMs / 1000 - report.timer_cpu_s);
}

/** One run as compare reads it from runs.json (see check.py compare and timing_checks). */
interface RunRecord {
  role: Role;
  round: number;
  /** The harness's own clock around the exec. */
  outer_s: number;
  /** From the timer's report; null when there was no valid report. */
  exit: number | null;
  child_wall_s: number | null;
  child_cpu_s: number | null;
  data_sets: number | null;
  killed: string | null;
  output_tail: string;
  predictions: string | null;
}

function describe(r: SandboxExecResult): string {
  const why = r.killedBy ? `killed (${r.killedBy} limit)` : r.signalName ? `signal ${r.signalName}` : `exit ${r.exitCode}`;
  return `${why}\n${r.stderr.trim().split('\n').slice(-15).join('\n')}`;
}

function lastJsonLine(r: SandboxExecResult, what: string): unknown {
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new GraderInfraError(`check.py ${what} printed no JSON (${describe(r)}); last line: ${last.slice(0, 300)}`);
  }
}

/** The last `max` bytes of a plain file the run left (its output may be huge), or '' (never through a link). */
async function readTail(file: string, max: number): Promise<string> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch {
    return '';
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return '';
    const len = Math.min(st.size, max);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, st.size - len);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

export async function gradeTrainingOptimization(code: string, ctx: GradeContext): Promise<Grade> {
  const variant = ctx.variantId as VariantId;
  if (!VARIANT_IDS.includes(variant)) throw new GraderInfraError(`unknown variant "${ctx.variantId}" (have: ${VARIANT_IDS.join(', ')})`);
  const checkHost = path.join(ctx.taskDir, 'check.py');
  const baselineSource = await fs.readFile(path.join(ctx.taskDir, 'baselines', `train_${variant}.py`), 'utf8');
  const workDir = await ctx.workDir();
  const trusted = path.join(workDir, 'trusted');
  await fs.mkdir(trusted, { recursive: true });
  // The harness's own copy of the source: the AST check reads it, never the file a run could rewrite.
  await fs.writeFile(path.join(trusted, 'submission.py'), code);

  // Under bwrap only check.py itself is mounted (not the task folder with its solutions); paths are
  // relative to the workspace so the same argv also works in --unsafe-no-sandbox mode.
  const bwrap = ctx.sandbox.mode === 'bwrap';
  const checkPath = bwrap ? CHECK_IN : checkHost;
  const exec = (workspace: string, args: string[], limits: Partial<SandboxLimits>, extra: { stdin?: string } = {}) =>
    ctx.sandbox.exec({
      argv: [ctx.python.executable, checkPath, ...args],
      workspace,
      // The shared check library beside check.py, read-only, on PYTHONPATH.
      binds: bwrap ? [{ src: checkHost, dest: CHECK_IN }, { src: LIBRARY_DIR, dest: LIBRARY_MOUNT }] : [],
      env: bwrap ? { PYTHONPATH: LIBRARY_MOUNT } : undefined,
      gpu: false,
      stdin: extra.stdin,
      limits,
      signal: ctx.signal,
    });

  const prep = await exec(trusted, ['prepare', '--variant', variant, '--out', '.', '--submission', 'submission.py'], LIMITS.prepare);
  if (prep.exitCode !== 0) throw new GraderInfraError(`check.py prepare failed: ${describe(prep)}`);
  const prepared = PrepareSchema.safeParse(lastJsonLine(prep, 'prepare'));
  if (!prepared.success) throw new GraderInfraError(`check.py prepare: unexpected output: ${prepared.error.message}`);
  const maxPredictionBytes = (prepared.data.data_sets + 1) * PREDICTION_BYTES_PER_SET;

  const records: RunRecord[] = [];
  // The latest verdict (held in an object: it is set inside callbacks).
  const latest: { verdict: z.infer<typeof VerdictSchema> | null } = { verdict: null };
  const judge = async () => {
    await fs.writeFile(path.join(trusted, 'runs.json'), JSON.stringify({ runs: records }));
    await fs.rm(path.join(trusted, VERDICT_FILE), { force: true });
    const cmp = await exec(trusted, ['compare', '--variant', variant, '--dir', '.', '--submission', 'submission.py', '--verdict', VERDICT_FILE], LIMITS.compare);
    if (cmp.killedBy === 'abort') throw new GraderInfraError('grading was aborted');
    // The verdict comes from the file the trusted compare wrote, never from a stdout tail.
    const raw = cmp.exitCode === 0 ? await readPlainFile(path.join(trusted, VERDICT_FILE), 1024 * 1024) : null;
    let doc: unknown = null;
    try {
      doc = raw ? JSON.parse(raw.toString('utf8')) : null;
    } catch {
      // reported below
    }
    const parsed = VerdictSchema.safeParse(doc);
    if (!parsed.success) throw new GraderInfraError(`check.py compare wrote no valid ${VERDICT_FILE} (${describe(cmp)})`);
    latest.verdict = parsed.data;
    return parsed.data;
  };

  if (!prepared.data.static.passed) {
    // Nothing to time: the entry points the runs call are missing.
    const v = await judge();
    return { passed: v.passed, score: v.score, checks: v.checks };
  }

  interface Prepared {
    dir: string;
    nonce: string;
  }
  await runInterleaved<Role, Prepared>({
    roles: RUN_ORDER,
    rounds: MAX_ROUNDS_GUARD,
    signal: ctx.signal,
    async setup(role, round) {
      // A fresh folder per run: nothing a run writes (a cache, say) is there for the next one.
      const dir = path.join(workDir, `run-${role}-${round}`);
      await fs.mkdir(dir);
      for (const f of ['train.npz', 'test_inputs.npz']) await fs.copyFile(path.join(trusted, f), path.join(dir, f));
      await fs.writeFile(path.join(dir, 'submission.py'), role === 'baseline' ? baselineSource : code);
      return { dir, nonce: randomBytes(16).toString('hex') };
    },
    exec({ dir, nonce }, role, round) {
      // check.py's timer sets one thread per numeric library itself (THREAD_ENV there). The baseline's run
      // names its round: check.py decides which data sets that run does (all in round 1, a few after).
      const args = ['run', '--variant', variant, '--module', 'submission.py', '--data', '.', '--out', '.'];
      if (role === 'baseline') args.push('--baseline-round', String(round));
      return exec(dir, args, LIMITS[role], { stdin: `${nonce}\n` });
    },
    async afterRun(run: TimedRun<Role, Prepared>) {
      const { result: r, role, round } = run;
      const { dir, nonce } = run.prepared;
      if (r.killedBy === 'abort') throw new GraderInfraError('grading was aborted');
      const rec: RunRecord = {
        role, round, outer_s: run.wallSec, exit: null, child_wall_s: null, child_cpu_s: null, data_sets: null, killed: r.killedBy,
        output_tail: '', predictions: null,
      };
      // Only a report that carries this run's nonce counts: the module never had the nonce.
      let report: unknown = null;
      try {
        report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
      } catch {
        // no report
      }
      const parsed = r.exitCode === 0 ? ReportSchema.safeParse(report) : null;
      if (parsed?.success && parsed.data.nonce === nonce) {
        rec.exit = parsed.data.child_exit;
        rec.child_wall_s = parsed.data.child_wall_s;
        rec.child_cpu_s = treeCpuSeconds(parsed.data, (r as { cpuMs?: number | null }).cpuMs ?? null);
        rec.data_sets = parsed.data.data_sets;
      }
      rec.output_tail = (await readTail(path.join(dir, 'module_output.txt'), MAX_OUTPUT_TAIL)) + r.stderr.slice(-1000);
      const preds = rec.exit === 0 ? await readPlainFile(path.join(dir, 'predictions.npz'), maxPredictionBytes) : null;
      if (preds) {
        rec.predictions = `pred_${role}_${round}.npz`;
        await fs.writeFile(path.join(trusted, rec.predictions), preds, { flag: 'wx' });
      }
      if (role === 'baseline' && (rec.exit !== 0 || !preds)) {
        throw new GraderInfraError(`the baseline run failed (round ${round + 1}): ${describe(r)}\n${rec.output_tail.slice(-1500)}`);
      }
      records.push(rec);
      // The run folders hold copies of the data and whatever the module left; they are not needed again.
      await fs.rm(dir, { recursive: true, force: true });
      // A failed candidate run decides the grading (candidate_runs): judged now, and no further run is made.
      if (role !== 'candidate' || rec.predictions !== null) return undefined;
      await judge();
      return 'stop';
    },
    async afterRound() {
      // Done when a check failed (more runs cannot undo it) or every check has a result (check.py decided()).
      const v = await judge();
      return v.checks.some((c) => c.passed === false) || v.checks.every((c) => c.passed !== null) ? 'stop' : 'continue';
    },
  });

  const v = latest.verdict ?? (await judge());
  return { passed: v.passed, score: v.score, checks: v.checks };
}
