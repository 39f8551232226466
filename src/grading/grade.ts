/**
 * The one way a submission is graded: trials, `judge-check` and the tests all come through here. It
 * builds the grader's context, bounds the grading by its deadline (raced, so a grader that ignores its
 * signal still cannot hang the run) and maps what went wrong to an infrastructure error, never to a
 * failed submission.
 */
import { deadline, formatLimit, raceAbort } from '../deadline.js';
import type { PythonEnv } from '../python/env.js';
import type { Sandbox } from '../sandbox/types.js';
import { GraderInfraError, type Grade, type GradeContext, type Grader } from './types.js';

/** Grading gets its own bound, apart from the agent's time limit: a hung grader is an infrastructure error. */
export const GRADING_TIME_LIMIT_MS = 15 * 60 * 1000;

/** What of a task grading needs (a LoadedTask has it). */
export interface GradableTask {
  dir: string;
  def: { id: string; samples: readonly { id: string; inputs: Record<string, unknown> }[]; grader: Grader };
}

export interface GradeRequest {
  sampleId: string;
  variantId: string;
  /** Already validated against the task's submission schema. */
  submission: unknown;
  sandbox: Sandbox;
  python: PythonEnv;
  gpu: boolean;
  /** The grader's scratch folder, made on first use. */
  workDir: () => Promise<string>;
  /** The run's signal: aborting it ends the grading as interrupted. */
  signal?: AbortSignal;
  /** Default GRADING_TIME_LIMIT_MS. */
  timeLimitMs?: number;
  judge?: Pick<GradeContext, 'judge' | 'judgeUnavailable'>;
}

export async function gradeSubmission(task: GradableTask, r: GradeRequest): Promise<Grade | { error: string }> {
  const sample = task.def.samples.find((s) => s.id === r.sampleId);
  if (!sample) return { error: `grader: task ${task.def.id} has no sample ${JSON.stringify(r.sampleId)}` };
  const limitMs = r.timeLimitMs ?? GRADING_TIME_LIMIT_MS;
  const due = deadline(limitMs, r.signal);
  try {
    // Promise.resolve: a grader written without async still works.
    const pending = Promise.resolve(task.def.grader(r.submission, {
      taskId: task.def.id,
      taskDir: task.dir,
      sampleId: r.sampleId,
      sampleInputs: sample.inputs,
      variantId: r.variantId,
      sandbox: r.sandbox,
      python: r.python,
      gpu: r.gpu,
      workDir: r.workDir,
      signal: due.signal,
      ...r.judge,
    }));
    pending.catch(() => {}); // it may settle after we stopped waiting for it
    return await raceAbort(pending, due.signal);
  } catch (e) {
    if (due.timedOut()) return { error: `grader: exceeded its time limit of ${formatLimit(limitMs)}` };
    if (r.signal?.aborted) return { error: 'grading aborted: the run was interrupted' };
    if (e instanceof GraderInfraError) return { error: `grader: ${e.message}` };
    return { error: `grader crashed: ${(e as Error).stack ?? String(e)}` };
  } finally {
    due.dispose();
  }
}

export function isGradingError(g: Grade | { error: string }): g is { error: string } {
  return 'error' in g;
}
