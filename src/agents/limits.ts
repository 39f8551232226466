import { z } from 'zod';

/** A trial's limits, as the agent loop enforces them. */
export const LimitsSchema = z.object({
  /** Model calls per trial. */
  maxTurns: z.int().positive(),
  /** Output tokens for the whole trial, thinking included. */
  outputTokenBudget: z.int().positive(),
  /** Wall-clock seconds for the whole trial, grading excluded. */
  timeLimitSec: z.number().positive(),
});
export type Limits = z.infer<typeof LimitsSchema>;
