import { z } from 'zod';
import type { Sandbox } from '../sandbox/types.js';
import type { PythonEnv } from '../python/env.js';
import type { JudgeAccess } from './judge-access.js';

/** One graded fact about a submission. passed is null when the check was not run (skipped), with the reason in detail. */
export const CheckSchema = z.object({
  name: z.string().min(1),
  passed: z.boolean().nullable(),
  detail: z.string(),
});
export type Check = z.infer<typeof CheckSchema>;

export interface Grade {
  passed: boolean;
  /** 0..1 */
  score: number;
  checks: Check[];
}

export interface GradeContext {
  taskId: string;
  taskDir: string;
  sampleId: string;
  sampleInputs: Record<string, unknown>;
  variantId: string;
  sandbox: Sandbox;
  python: PythonEnv;
  /** Whether GPU device nodes are bound for grading runs of this task. */
  gpu: boolean;
  /**
   * Creates (on first call) and returns a fresh host folder for this grading, never seen by the agent;
   * removed afterwards. On demand, so a grader that needs no disk costs no file-system calls.
   */
  workDir(): Promise<string>;
  signal: AbortSignal;
  /** An LLM judge for this grading (src/grading/judge.ts); absent without model access. */
  judge?: JudgeAccess;
  /** Why `judge` is absent (e.g. "validate runs oracle and nop without a model"); judge checks record it. */
  judgeUnavailable?: string;
}

export type Grader<Sub = unknown> = (submission: Sub, ctx: GradeContext) => Promise<Grade>;

/**
 * Thrown by a grader when grading itself could not be done (the checker crashed, the sandbox failed).
 * The trial is recorded as `error`, never as a model failure.
 */
export class GraderInfraError extends Error {
  override name = 'GraderInfraError';
}
