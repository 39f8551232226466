// Grades submissions of one step through the task's real grader and the real sandbox, as a trial would.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTask, TASKS_DIR, type LoadedTask } from '../../../src/tasks/index.js';
import { findPython } from '../../../src/python/discover.js';
import { checkRequirements } from '../../../src/python/requirements.js';
import { createSandbox } from '../../../src/sandbox/index.js';
import type { Sandbox } from '../../../src/sandbox/types.js';
import type { PythonEnv } from '../../../src/python/env.js';
import type { Grade, GradeContext } from '../../../src/grading/types.js';

export const TASK_ID = 'neural-memory-progressive';
export const taskDir = path.join(TASKS_DIR, TASK_ID);
export const readTaskFile = (p: string) => fs.readFile(path.join(taskDir, p), 'utf8');

export interface StepHarness {
  task: LoadedTask;
  python: PythonEnv;
  sandbox: Sandbox;
  /** Why the task cannot run here, or null. */
  unmet: string | null;
  /** Grades `code` as the answer to `step`; `extra` adds context fields (a judge). */
  grade(code: string, step: string, extra?: Partial<GradeContext>, variantId?: string): Promise<Grade>;
}

export async function stepHarness(): Promise<StepHarness> {
  const task = await loadTask(taskDir);
  const python = await findPython({ modules: task.def.requirements.pythonModules });
  const req = checkRequirements(task.def.requirements, python);
  const sandbox = await createSandbox({ extraReadOnlyPaths: python.prefixes });
  return {
    task,
    python,
    sandbox,
    unmet: req.ok ? null : `${req.reason} (${req.hint})`,
    async grade(code, step, extra = {}, variantId = task.defaultVariant.id) {
      const sample = task.def.samples.find((s) => s.id === step);
      if (!sample) throw new Error(`no sample ${step}`);
      const workDir = await fs.mkdtemp(path.join(os.tmpdir(), `envbench-grade-${TASK_ID}-`));
      try {
        return await task.def.grader(task.def.submission.parse({ code }), {
          taskId: TASK_ID,
          taskDir: task.dir,
          sampleId: step,
          sampleInputs: sample.inputs,
          variantId,
          sandbox,
          python,
          gpu: false,
          workDir: async () => workDir,
          signal: AbortSignal.timeout(300_000),
          judgeUnavailable: 'tests run the deterministic checks without a model',
          ...extra,
        });
      } finally {
        await fs.rm(workDir, { recursive: true, force: true });
      }
    },
  };
}

/** In CI a task that cannot run is a failure, never a silent skip. */
export function skipUnlessRunnable(h: StepHarness, skip: (reason: string) => void): void {
  if (!h.unmet) return;
  if (process.env.CI) throw new Error(`CI: task ${TASK_ID} cannot run here: ${h.unmet}`);
  skip(h.unmet);
}
