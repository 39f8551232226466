import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { readPlainFile } from '../files.js';
import { CheckSchema, GraderInfraError, type Check, type Grade, type GradeContext } from './types.js';
import type { SandboxExecResult, SandboxLimits } from '../sandbox/types.js';
import { moduleMapFor } from './module-map.js';

/**
 * A task's check.py, built on the shared check library (src/grading/python/envbench_check.py), run in
 * three separate sandboxes so the submission never sees the secret seed or the expected outputs, nor
 * touches the process that decides the verdict:
 *   1. prepare (trusted):            check.py prepare --out /workspace
 *   2. run the submission (hostile): check.py run-submission ...   the library's trusted parent forks the
 *                                    submission, takes its results from a pipe, kills its whole tree, then
 *                                    writes the outputs file
 *   3. compare (trusted):            check.py compare ... --verdict /workspace/verdict.json
 * The verdict is read from the file the compare phase wrote, never from a stdout tail, so nothing the
 * submission prints can turn its failure into a grading error. The library is bound read-only at
 * LIBRARY_MOUNT in every phase and put on PYTHONPATH.
 */
export interface PythonCheckSpec {
  /** check.py, relative to the task folder. */
  script: string;
  /** Files made by prepare that the submission run may read (copied next to it). Everything else stays private. */
  publicFiles: string[];
  /** Extra arguments per phase (for example a variant), after the library's own. */
  extraArgs?: { prepare?: string[]; run?: string[]; compare?: string[] };
  limits?: { prepare?: Partial<SandboxLimits>; run?: Partial<SandboxLimits>; compare?: Partial<SandboxLimits> };
  /** Largest outputs file accepted from the submission run. */
  maxOutputMb?: number;
  /**
   * Files of the task folder, besides the script, that the submission run may see (public ones only, such
   * as the starter). The run gets a copy of just these: the rest of the folder (solution/, tests, judge
   * examples) stays out of its reach, so a submission cannot load the reference solution and pass with it.
   */
  runFiles?: string[];
}

/** The names the library's protocol fixes (envbench_check.py main). */
const SUBMISSION_FILE = 'submission.py';
const MODULE_MAP_FILE = 'module-map.json';
const OUTPUTS_FILE = 'outputs.npz';
export const VERDICT_FILE = 'verdict.json';
const VERDICT_MAX_BYTES = 1024 * 1024;

const VerdictSchema = z.object({ passed: z.boolean(), score: z.number().min(0).max(1), checks: z.array(CheckSchema) });

const CHECK_MOUNT = '/opt/envbench-check';
/** Where the shared library is bound in every phase (read-only), and put on PYTHONPATH. */
export const LIBRARY_MOUNT = '/opt/envbench-lib';
/** The shared check library's folder on the host. */
export const LIBRARY_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python');

function describeRun(r: SandboxExecResult): string {
  const why = r.killedBy ? `killed (${r.killedBy} limit)` : r.signalName ? `signal ${r.signalName}` : `exit ${r.exitCode}`;
  const err = r.stderr.trim().split('\n').slice(-15).join('\n');
  return `${why}${err ? `\n${err}` : ''}`;
}

export async function runPythonCheck(spec: PythonCheckSpec, code: string, ctx: GradeContext): Promise<Grade> {
  // Started now, so the first grading of a process makes the map while prepare and the run go on; it never
  // rejects (no map only costs the compare phase its torch import).
  const mapMade = moduleMapFor(ctx, { src: LIBRARY_DIR, dest: LIBRARY_MOUNT }).catch(() => null);
  const workDir = await ctx.workDir();
  const trusted = path.join(workDir, 'trusted');
  const hostile = path.join(workDir, 'submission');
  await fs.mkdir(trusted, { recursive: true });
  await fs.mkdir(hostile, { recursive: true });
  const scriptHost = path.join(ctx.taskDir, spec.script);
  const checkDir = path.dirname(scriptHost);
  const scriptIn = path.posix.join(CHECK_MOUNT, path.basename(scriptHost));
  const exec = (workspace: string, args: string[], limits: Partial<SandboxLimits> | undefined, mount = checkDir) =>
    ctx.sandbox.exec({
      argv: [ctx.python.executable, scriptIn, ...args],
      workspace,
      binds: [
        { src: mount, dest: CHECK_MOUNT },
        { src: LIBRARY_DIR, dest: LIBRARY_MOUNT },
      ],
      env: { PYTHONPATH: LIBRARY_MOUNT },
      gpu: ctx.gpu,
      limits,
      signal: ctx.signal,
    });
  const ws = (f: string) => path.posix.join('/workspace', f);

  // 1. prepare: trusted, in its own sandbox and folder.
  const prep = await exec(trusted, ['prepare', '--out', '/workspace', ...(spec.extraArgs?.prepare ?? [])], spec.limits?.prepare);
  if (prep.exitCode !== 0) throw new GraderInfraError(`${spec.script} prepare failed: ${describeRun(prep)}`);

  // 2. the submission, with only the public files beside it, and only the script (plus runFiles) of the task folder.
  const runCheckDir = path.join(workDir, 'check-public');
  await fs.mkdir(runCheckDir);
  for (const f of [path.basename(scriptHost), ...(spec.runFiles ?? [])]) {
    await fs.copyFile(path.join(checkDir, f), path.join(runCheckDir, f)).catch((e: Error) => {
      throw new GraderInfraError(`${spec.script}: cannot copy ${f} for the submission run: ${e.message}`);
    });
  }
  await fs.writeFile(path.join(hostile, SUBMISSION_FILE), code);
  for (const f of spec.publicFiles) {
    try {
      await fs.copyFile(path.join(trusted, f), path.join(hostile, f));
    } catch (e) {
      throw new GraderInfraError(`${spec.script} prepare did not write ${f}: ${(e as Error).message}`);
    }
  }
  const runArgs = ['run-submission', '--submission', ws(SUBMISSION_FILE), '--inputs', '/workspace', '--out', ws(OUTPUTS_FILE)];
  const run = await exec(hostile, [...runArgs, ...(spec.extraArgs?.run ?? [])], spec.limits?.run, runCheckDir);
  const checks: Check[] = [];
  if (run.killedBy === 'abort') throw new GraderInfraError('grading was aborted');
  // The run phase shares its sandbox with the submission, so every abnormal end of it is the submission's
  // failure (it may have killed the library's parent), never a grading error.
  if (run.killedBy) {
    checks.push({ name: 'runs_within_limits', passed: false, detail: `the submission run was killed at the ${run.killedBy} limit` });
  } else if (run.exitCode !== 0 && run.exitCode !== 3) {
    checks.push({ name: 'runs_cleanly', passed: false, detail: `the submission run ended abnormally: ${describeRun(run).slice(0, 2000)}` });
  }

  // The outputs come into the trusted folder only as a plain file of sane size: the submission controls
  // its folder and could plant a symlink to a host file.
  const maxBytes = (spec.maxOutputMb ?? 256) * 1024 * 1024;
  const out = checks.length === 0 ? await readPlainFile(path.join(hostile, OUTPUTS_FILE), maxBytes) : null;
  if (out) await fs.writeFile(path.join(trusted, OUTPUTS_FILE), out, { flag: 'wx' });
  else if (checks.length === 0) checks.push({ name: 'output_file', passed: false, detail: `the submission run left no readable ${OUTPUTS_FILE} under ${spec.maxOutputMb ?? 256} MiB` });
  // The source for the static checks comes from the harness's copy: the submission may have rewritten its own file.
  await fs.writeFile(path.join(trusted, SUBMISSION_FILE), code);

  // 3. compare: trusted. It runs even without outputs, so the static checks still report. The module map
  // (made once, by a trusted process) spares it importing torch for the static rules.
  const cmpArgs = ['compare', '--private', '/workspace', '--outputs', ws(OUTPUTS_FILE), '--submission', ws(SUBMISSION_FILE), '--verdict', ws(VERDICT_FILE)];
  const map = await mapMade;
  if (map !== null) {
    await fs.writeFile(path.join(trusted, MODULE_MAP_FILE), map);
    cmpArgs.push('--module-map', ws(MODULE_MAP_FILE));
  }
  const cmp = await exec(trusted, [...cmpArgs, ...(spec.extraArgs?.compare ?? [])], spec.limits?.compare);
  if (cmp.killedBy === 'abort') throw new GraderInfraError('grading was aborted');
  const raw = cmp.exitCode === 0 ? await readPlainFile(path.join(trusted, VERDICT_FILE), VERDICT_MAX_BYTES) : null;
  if (!raw) throw new GraderInfraError(`${spec.script} compare wrote no verdict file (${describeRun(cmp)})`);
  let verdict: z.infer<typeof VerdictSchema>;
  try {
    verdict = VerdictSchema.parse(JSON.parse(raw.toString('utf8')));
  } catch (e) {
    throw new GraderInfraError(`${spec.script} compare wrote a malformed ${VERDICT_FILE}: ${(e as Error).message.slice(0, 500)}`);
  }
  return combine(checks, verdict);
}

/** The harness's own checks (limits, output file) and the verdict's: passed only when both agree. */
function combine(checks: Check[], verdict: z.infer<typeof VerdictSchema>): Grade {
  const all = [...checks, ...verdict.checks];
  const passed = verdict.passed && checks.length === 0;
  const graded = all.filter((c) => c.passed !== null);
  const score = passed ? 1 : graded.length ? graded.filter((c) => c.passed).length / graded.length : 0;
  return { passed, score, checks: all };
}
