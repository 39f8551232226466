/** The LLM judge's own account of a trial's grading, as the run record embeds it. */
import { z } from 'zod';
import { UsageSchema } from '../agents/prices.js';

/** What the LLM judge cost during a trial's grading, kept apart from the agent's usage and cost. */
export const TrialJudgeSchema = z.object({
  /** The judge spec, e.g. "anthropic:claude-sonnet-4-5". */
  model: z.string().min(1),
  /** API requests made (retries of malformed verdicts included). */
  requests: z.int().nonnegative(),
  usage: UsageSchema,
  /** null when the judge model is not in the price table. */
  costUsd: z.number().nonnegative().nullable(),
  /** Path of the judge's JSONL transcript, relative to the run record's directory. */
  transcript: z.string().nullable(),
});
export type TrialJudge = z.infer<typeof TrialJudgeSchema>;
