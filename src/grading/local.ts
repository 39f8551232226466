/**
 * Grading a task's submissions on this machine, outside a run: the real grader through the one grading entry
 * point (gradeSubmission), in the real sandbox, with the Python the task needs, as a trial grades. The tests'
 * grading harness (test/support/grading.ts) and scripts/verdict-stability.ts both build on this one setup.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findPython } from '../python/discover.js';
import { checkRequirements, usesGpu } from '../python/requirements.js';
import type { PythonEnv } from '../python/env.js';
import { createSandbox } from '../sandbox/index.js';
import type { Sandbox } from '../sandbox/types.js';
import type { Requirements } from '../python/requirements-schema.js';
import { gradeSubmission, isGradingError, type GradableTask } from './grade.js';
import { GraderInfraError, type Grade, type GradeContext } from './types.js';

export interface LocalGradeOptions {
  /** Default: the task's default variant. */
  variantId?: string;
  /** Default: the task's first sample. */
  sampleId?: string;
  /** Default 10 minutes. */
  timeLimitMs?: number;
  signal?: AbortSignal;
  judge?: Pick<GradeContext, 'judge' | 'judgeUnavailable'>;
}

/** What of a loaded task local grading needs (a LoadedTask has it; grading does not depend on src/tasks). */
export interface LocallyGradableTask extends GradableTask {
  def: GradableTask['def'] & { requirements: Requirements; submission: { parse(x: unknown): unknown } };
  defaultVariant: { id: string };
}

export interface LocalGrader<T extends LocallyGradableTask = LocallyGradableTask> {
  task: T;
  python: PythonEnv;
  sandbox: Sandbox;
  /** Whether GPU device nodes are bound for this task's gradings. */
  gpu: boolean;
  /** Why the task cannot run here (a missing module, torch too old, no CUDA where required), or null. */
  unmet: string | null;
  /**
   * One grading of `submission` (validated against the task's schema first; a schema error throws). What went
   * wrong with grading itself comes back as { error }, never as a failed grade.
   */
  gradeOrError(submission: unknown, o?: LocalGradeOptions): Promise<Grade | { error: string }>;
  /** As gradeOrError, but an infrastructure error throws a GraderInfraError. */
  grade(submission: unknown, o?: LocalGradeOptions): Promise<Grade>;
}

export const LOCAL_GRADING_TIME_LIMIT_MS = 600_000;

export async function localGrader<T extends LocallyGradableTask>(task: T, o: { env?: NodeJS.ProcessEnv } = {}): Promise<LocalGrader<T>> {
  const python = await findPython({ modules: task.def.requirements.pythonModules, ...(o.env ? { env: o.env } : {}) });
  const req = checkRequirements(task.def.requirements, python);
  const sandbox = await createSandbox({ extraReadOnlyPaths: python.prefixes });
  const gpu = usesGpu(task.def.requirements, python);
  const gradeOrError = async (submission: unknown, g: LocalGradeOptions = {}): Promise<Grade | { error: string }> => {
    const parsed = task.def.submission.parse(submission);
    // Made on first use, in the system's temporary folder; removed whatever happens.
    let made: Promise<string> | null = null;
    try {
      return await gradeSubmission(task, {
        sampleId: g.sampleId ?? task.def.samples[0]!.id,
        variantId: g.variantId ?? task.defaultVariant.id,
        submission: parsed,
        sandbox,
        python,
        gpu,
        workDir: () => (made ??= fs.mkdtemp(path.join(os.tmpdir(), `envbench-grade-${task.def.id}-`))),
        timeLimitMs: g.timeLimitMs ?? LOCAL_GRADING_TIME_LIMIT_MS,
        ...(g.signal ? { signal: g.signal } : {}),
        ...(g.judge ? { judge: g.judge } : {}),
      });
    } finally {
      const dir = made ? await (made as Promise<string>).catch(() => null) : null;
      if (dir) await fs.rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  };
  return {
    task,
    python,
    sandbox,
    gpu,
    unmet: req.ok ? null : `${req.reason} (${req.hint})`,
    gradeOrError,
    async grade(submission, g) {
      const r = await gradeOrError(submission, g);
      if (isGradingError(r)) throw new GraderInfraError(r.error);
      return r;
    },
  };
}
