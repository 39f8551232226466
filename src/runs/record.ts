import { z } from 'zod';
import { CheckSchema } from '../grading/types.js';
import { ShardInfoSchema } from './shard.js';
import { UsageSchema, ZERO_USAGE, type Usage } from '../agents/prices.js';

/** Bump when the shape changes; loaders refuse versions they do not know. */
export const RUN_RECORD_SCHEMA_VERSION = 1;

export const TrialStatusSchema = z.enum(['passed', 'failed', 'error', 'skipped']);
export type TrialStatus = z.infer<typeof TrialStatusSchema>;

export const LimitKindSchema = z.enum(['turns', 'tokens', 'time']);

export { UsageSchema, ZERO_USAGE, type Usage };

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

export const TrialResultSchema = z.object({
  task: z.string().min(1),
  variant: z.string().min(1),
  sample: z.string().min(1),
  /** The agent spec, e.g. "oracle" or "anthropic:claude-haiku-4-5". */
  model: z.string().min(1),
  epoch: z.int().nonnegative(),
  status: TrialStatusSchema,
  score: z.number().min(0).max(1),
  checks: z.array(CheckSchema),
  limit: LimitKindSchema.nullable(),
  usage: UsageSchema,
  /** null when the model is not in the price table. */
  costUsd: z.number().nonnegative().nullable(),
  durationMs: z.number().nonnegative(),
  /** Cause of an `error`, or the reason for a `skipped`; null otherwise. */
  error: z.string().nullable(),
  /** Path of the JSONL transcript, relative to the run record's directory; null when none was written. */
  transcript: z.string().nullable(),
  /** Model calls made. */
  turns: z.int().nonnegative().default(0),
  finishedAt: z.iso.datetime(),
  /** Present when an LLM judge was called while grading (records written before judges lack it). */
  judge: TrialJudgeSchema.optional(),
});
export type TrialResult = z.infer<typeof TrialResultSchema>;

export const SandboxInfoSchema = z.object({
  mode: z.enum(['bwrap', 'unsafe-none']),
  /** True when the run was made with --unsafe-no-sandbox: model-written code ran on the host. */
  unsafe: z.boolean(),
});

export const EnvironmentSchema = z.object({
  node: z.string(),
  platform: z.string(),
  python: z.string().nullable(),
  torch: z.string().nullable(),
  gpu: z.string().nullable(),
});

export const RunRecordSchema = z.object({
  schemaVersion: z.literal(RUN_RECORD_SCHEMA_VERSION),
  runId: z.string().min(1),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
  harness: z.object({ version: z.string(), gitSha: z.string().nullable() }),
  environment: EnvironmentSchema,
  sandbox: SandboxInfoSchema,
  /** What was asked for, so a resumed run repeats the same plan. */
  plan: z.object({
    tasks: z.array(z.string()),
    models: z.array(z.string()),
    variants: z.array(z.string()).nullable(),
    epochs: z.int().positive(),
    /** The judge spec for judge-graded tasks, or null for none; absent in records made before judges. */
    judge: z.string().nullable().optional(),
    /** Set when this record is one shard of a plan split over machines (run --shard i/n). */
    shard: ShardInfoSchema.optional(),
    /** The spending cap (run --max-cost-usd): no trial starts once the run's known spend reaches it. */
    maxCostUsd: z.number().positive().optional(),
  }),
  /** Set when the spending cap stopped the run before every planned trial started; --resume runs the rest. */
  costCapReached: z
    .object({ maxCostUsd: z.number().positive(), spentUsd: z.number().nonnegative(), trialsNotStarted: z.int().positive() })
    .optional(),
  /** The shard records this record was merged from (publish-results), by run id. */
  mergedFrom: z.array(z.string()).optional(),
  trials: z.array(TrialResultSchema),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** Stable identity of a trial within a run, used by resume to skip finished ones. */
export function trialKey(t: Pick<TrialResult, 'task' | 'variant' | 'sample' | 'model' | 'epoch'>): string {
  return `${t.task}/${t.variant}/${t.sample}/${t.model}/${t.epoch}`;
}

/** Formats zod issues as "field.path: message" lines. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `  - ${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('\n');
}
