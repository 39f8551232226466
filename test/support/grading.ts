import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTask, TASKS_DIR, type LoadedTask } from '../../src/tasks/index.js';
import { findPython } from '../../src/python/discover.js';
import { checkRequirements, usesGpu } from '../../src/python/requirements.js';
import { createSandbox } from '../../src/sandbox/index.js';
import type { Sandbox } from '../../src/sandbox/types.js';
import type { PythonEnv } from '../../src/python/env.js';
import { GraderInfraError, type Grade } from '../../src/grading/types.js';
import { gradeSubmission, isGradingError } from '../../src/grading/grade.js';

export interface GradingHarness {
  task: LoadedTask;
  python: PythonEnv;
  sandbox: Sandbox;
  /** Why the task cannot run here, or null. */
  unmet: string | null;
  grade(submission: unknown, variantId?: string): Promise<Grade>;
}

/**
 * Grades submissions of a real task through its real grader, in the real sandbox, as a trial would.
 * Tests call requireRunnable() first: a missing requirement fails in CI and skips elsewhere.
 */
export async function gradingHarness(taskId: string): Promise<GradingHarness> {
  const task = await loadTask(path.join(TASKS_DIR, taskId));
  const python = await findPython({ modules: task.def.requirements.pythonModules });
  const req = checkRequirements(task.def.requirements, python);
  const sandbox = await createSandbox({ extraReadOnlyPaths: python.prefixes });
  const gpu = usesGpu(task.def.requirements, python);
  return {
    task,
    python,
    sandbox,
    unmet: req.ok ? null : `${req.reason} (${req.hint})`,
    async grade(submission, variantId = task.defaultVariant.id) {
      const workDir = await fs.mkdtemp(path.join(os.tmpdir(), `envbench-grade-${taskId}-`));
      try {
        // Through the one grading entry point, as a trial grades; an infrastructure error fails the test.
        const g = await gradeSubmission(task, {
          sampleId: task.def.samples[0]!.id, variantId, submission: task.def.submission.parse(submission), sandbox, python, gpu,
          workDir: async () => workDir, timeLimitMs: 600_000,
        });
        if (isGradingError(g)) throw new GraderInfraError(g.error);
        return g;
      } finally {
        await fs.rm(workDir, { recursive: true, force: true });
      }
    },
  };
}

/** In CI a task that cannot run is a failure, never a silent skip. */
export function skipUnlessRunnable(h: GradingHarness, skip: (reason: string) => void): void {
  if (!h.unmet) return;
  if (process.env.CI) throw new Error(`CI: task ${h.task.def.id} cannot run here: ${h.unmet}`);
  skip(h.unmet);
}
