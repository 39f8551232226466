import path from 'node:path';
import { loadTask, TASKS_DIR, type LoadedTask } from '../../src/tasks/index.js';
import type { Sandbox } from '../../src/sandbox/types.js';
import type { PythonEnv } from '../../src/python/env.js';
import type { Grade } from '../../src/grading/types.js';
import { localGrader } from '../../src/grading/local.js';

export interface GradingHarness {
  task: LoadedTask;
  python: PythonEnv;
  sandbox: Sandbox;
  /** Why the task cannot run here, or null. */
  unmet: string | null;
  grade(submission: unknown, variantId?: string): Promise<Grade>;
}

/**
 * Grades submissions of a real task through its real grader, in the real sandbox, as a trial would (the setup is
 * src/grading/local.ts, which scripts/verdict-stability.ts uses too). Tests call requireRunnable() first: a missing
 * requirement fails in CI and skips elsewhere. An infrastructure error throws, and so fails the test.
 */
export async function gradingHarness(taskId: string): Promise<GradingHarness> {
  const g = await localGrader(await loadTask(path.join(TASKS_DIR, taskId)));
  return {
    task: g.task,
    python: g.python,
    sandbox: g.sandbox,
    unmet: g.unmet,
    grade: (submission, variantId = g.task.defaultVariant.id) => g.grade(submission, { variantId }),
  };
}

/** In CI a task that cannot run is a failure, never a silent skip. */
export function skipUnlessRunnable(h: GradingHarness, skip: (reason: string) => void): void {
  if (!h.unmet) return;
  if (process.env.CI) throw new Error(`CI: task ${h.task.def.id} cannot run here: ${h.unmet}`);
  skip(h.unmet);
}

/**
 * `npm test` grades a representative set of each slow task's submissions through the sandbox (one per distinct
 * catching check); ENVBENCH_FULL_GRADER_TESTS=1 (`npm run test:graders`) grades every one. The files left out
 * are still checked in `npm test`, standalone (a task's selftest.py) or by the static checks
 * (test/support/static-checks.ts).
 */
export const FULL_GRADER_SET = process.env.ENVBENCH_FULL_GRADER_TESTS === '1';

/** The entries of `all` that the suite grades: every one with FULL_GRADER_SET, else those named in `quick`. */
export function gradedSet<T>(all: Record<string, T>, quick: readonly string[]): Record<string, T> {
  for (const q of quick) if (!(q in all)) throw new Error(`gradedSet: "${q}" is in the quick set but not in the list`);
  return FULL_GRADER_SET ? all : Object.fromEntries(Object.entries(all).filter(([k]) => quick.includes(k)));
}
