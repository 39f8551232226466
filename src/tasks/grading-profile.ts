import { z } from 'zod';
import { versionAtLeast } from '../python/requirements.js';
import type { PythonEnv } from '../python/env.js';
import type { Check } from '../grading/types.js';
import type { EnvironmentChecks } from './define.js';

/**
 * A trial's grading profile: which of its task's environment-dependent checks (TaskDefinition.environmentChecks)
 * ran and which were skipped for the environment. 'full' when none was skipped. A pass graded without the
 * CUDA checks is a different measurement from one graded with them, so reports and the gate never pool them.
 */
export const GradingProfileSchema = z.object({
  profile: z.enum(['full', 'partial']),
  /** Checks that produced a verdict (passed true or false). */
  ran: z.array(z.string()),
  /** Environment-dependent checks that did not run, and why. */
  skipped: z.array(z.object({ check: z.string(), why: z.string() })),
});
export type GradingProfile = z.infer<typeof GradingProfileSchema>;

export interface EnvironmentGap {
  check: string;
  why: string;
  decisive: boolean;
}

/** The environment checks that cannot run with this interpreter, and why. Empty: the full profile is possible here. */
export function environmentGaps(declared: readonly EnvironmentChecks[], python: Pick<PythonEnv, 'cuda' | 'torch'>): EnvironmentGap[] {
  const gaps: EnvironmentGap[] = [];
  for (const group of declared) {
    const why: string[] = [];
    if (group.needs.cuda && !python.cuda) why.push('no CUDA here');
    if (group.needs.minTorch && !(python.torch && versionAtLeast(python.torch, group.needs.minTorch))) {
      why.push(`needs torch >= ${group.needs.minTorch} (here ${python.torch ?? 'none'})`);
    }
    if (why.length) for (const check of group.checks) gaps.push({ check, why: why.join('; '), decisive: group.decisive });
  }
  return gaps;
}

/**
 * The profile of a graded trial: the gaps known before grading, plus any declared environment check the grader
 * itself reported as not run (passed null), which covers a check.py that detects the environment on its own.
 */
export function gradingProfileOf(declared: readonly EnvironmentChecks[], python: Pick<PythonEnv, 'cuda' | 'torch'>, checks: readonly Check[]): GradingProfile {
  const skipped = new Map(environmentGaps(declared, python).map((g) => [g.check, g.why]));
  const envChecks = new Set(declared.flatMap((g) => g.checks));
  for (const c of checks) if (c.passed === null && envChecks.has(c.name) && !skipped.has(c.name)) skipped.set(c.name, c.detail || 'not run');
  const ran = checks.filter((c) => c.passed !== null).map((c) => c.name);
  return { profile: skipped.size ? 'partial' : 'full', ran, skipped: [...skipped].map(([check, why]) => ({ check, why })) };
}
