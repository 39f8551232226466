import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CheckSchema, GraderInfraError, type Check, type Grade, type GradeContext } from './types.js';
import type { SandboxExecResult, SandboxLimits } from '../sandbox/types.js';

/**
 * LEGACY (issue 12, migration pending): the per-task protocol that check.py files not yet on the shared
 * check library still speak; new and migrated tasks use runPythonCheck (python-check.ts). Removed once
 * every task has moved.
 *
 * A task's check.py, run in three separate sandboxes so the submission can never see the secret seed
 * or the expected outputs, nor touch the process that decides the verdict:
 *   1. prepare (trusted):          check.py prepare --out /workspace          -> inputs + private expected data
 *   2. run the submission (hostile): check.py run-submission ...             -> outputs file, only inputs visible
 *   3. compare (trusted):          check.py compare ...                        -> JSON verdict on the last stdout line
 * The compare phase parses the submission's source (AST) but never imports it.
 */
export interface LegacyPythonCheckSpec {
  /** check.py, relative to the task folder. */
  script: string;
  /** File name the submission is written to. */
  submissionFile: string;
  /** Files made by prepare that the submission run may read (copied next to it). Everything else stays private. */
  publicFiles: string[];
  /** File the submission run must write; copied into the trusted folder for compare. */
  outputFile: string;
  /** Argument lists for each phase; paths are relative to /workspace of that phase. */
  args: {
    prepare: string[];
    run: string[];
    compare: string[];
  };
  limits?: { prepare?: Partial<SandboxLimits>; run?: Partial<SandboxLimits>; compare?: Partial<SandboxLimits> };
  /** Largest output file accepted from the submission run. */
  maxOutputMb?: number;
  /**
   * Files of the task folder, besides the script, that the submission run may see (public ones only, such
   * as the starter). The run gets a copy of just these: the rest of the folder (solution/, tests, judge
   * examples) stays out of its reach, so a submission cannot load the reference solution and pass with it.
   */
  runFiles?: string[];
}

const VerdictSchema = z.object({ passed: z.boolean(), score: z.number().min(0).max(1), checks: z.array(CheckSchema) });

const CHECK_MOUNT = '/opt/envbench-check';

function describeRun(r: SandboxExecResult): string {
  const why = r.killedBy ? `killed (${r.killedBy} limit)` : r.signalName ? `signal ${r.signalName}` : `exit ${r.exitCode}`;
  const err = r.stderr.trim().split('\n').slice(-15).join('\n');
  return `${why}${err ? `\n${err}` : ''}`;
}

export async function runLegacyPythonCheck(spec: LegacyPythonCheckSpec, code: string, ctx: GradeContext): Promise<Grade> {
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
      binds: [{ src: mount, dest: CHECK_MOUNT }],
      gpu: ctx.gpu,
      limits,
      signal: ctx.signal,
    });

  // 1. prepare: trusted, in its own sandbox and folder.
  const prep = await exec(trusted, spec.args.prepare, spec.limits?.prepare);
  if (prep.exitCode !== 0) throw new GraderInfraError(`${spec.script} prepare failed: ${describeRun(prep)}`);

  // 2. the submission, with only the public files beside it, and only the script (plus runFiles) of the task folder.
  const runCheckDir = path.join(workDir, 'check-public');
  await fs.mkdir(runCheckDir);
  for (const f of [path.basename(scriptHost), ...(spec.runFiles ?? [])]) {
    await fs.copyFile(path.join(checkDir, f), path.join(runCheckDir, f)).catch((e: Error) => {
      throw new GraderInfraError(`${spec.script}: cannot copy ${f} for the submission run: ${e.message}`);
    });
  }
  await fs.writeFile(path.join(hostile, spec.submissionFile), code);
  for (const f of spec.publicFiles) {
    try {
      await fs.copyFile(path.join(trusted, f), path.join(hostile, f));
    } catch (e) {
      throw new GraderInfraError(`${spec.script} prepare did not write ${f}: ${(e as Error).message}`);
    }
  }
  const run = await exec(hostile, spec.args.run, spec.limits?.run, runCheckDir);
  const checks: Check[] = [];
  if (run.killedBy === 'abort') throw new GraderInfraError('grading was aborted');
  if (run.killedBy) {
    checks.push({ name: 'runs_within_limits', passed: false, detail: `the submission run was killed at the ${run.killedBy} limit` });
  } else if (run.exitCode === 3) {
    checks.push({ name: 'imports', passed: false, detail: `the submission could not be imported:\n${run.stderr.trim().split('\n').slice(-8).join('\n')}` });
  } else if (run.exitCode !== 0) {
    // The runner catches the submission's own exceptions, so any other exit is the submission
    // killing its host process (os._exit, sys.exit at import, a segfault): a failure of the submission.
    checks.push({ name: 'runs_cleanly', passed: false, detail: `the submission run ended abnormally: ${describeRun(run)}` });
  }

  // Copy the output into the trusted folder only if it is a plain file of sane size: the submission
  // controls that folder and could plant a symlink to a host file.
  const outSrc = path.join(hostile, spec.outputFile);
  let haveOutput = false;
  try {
    const st = await fs.lstat(outSrc);
    const maxBytes = (spec.maxOutputMb ?? 256) * 1024 * 1024;
    if (st.isFile() && st.size <= maxBytes) {
      await fs.copyFile(outSrc, path.join(trusted, spec.outputFile), fsc.COPYFILE_EXCL);
      haveOutput = true;
    } else {
      checks.push({ name: 'output_file', passed: false, detail: `${spec.outputFile} is not a regular file under ${spec.maxOutputMb ?? 256} MiB` });
    }
  } catch {
    if (checks.length === 0) checks.push({ name: 'output_file', passed: false, detail: `the submission run wrote no ${spec.outputFile}` });
  }
  // The source for the static checks comes from the harness's copy: the submission may have rewritten its own file.
  await fs.writeFile(path.join(trusted, spec.submissionFile), code);

  // 3. compare: trusted. It runs even without output, so the static checks still report.
  const cmp = await exec(trusted, spec.args.compare, spec.limits?.compare);
  const last = cmp.stdout.trim().split('\n').pop() ?? '';
  let verdict: z.infer<typeof VerdictSchema>;
  try {
    verdict = VerdictSchema.parse(JSON.parse(last));
  } catch (e) {
    throw new GraderInfraError(`${spec.script} compare did not print a verdict (${describeRun(cmp)}); last line: ${last.slice(0, 300)}`);
  }
  const all = [...checks, ...verdict.checks];
  const passed = verdict.passed && checks.length === 0 && haveOutput;
  const graded = all.filter((c) => c.passed !== null);
  const score = passed ? 1 : graded.length ? graded.filter((c) => c.passed).length / graded.length : 0;
  return { passed, score, checks: all };
}
