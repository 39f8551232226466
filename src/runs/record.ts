import { z } from 'zod';
import { CheckSchema } from '../grading/types.js';
import { TrialJudgeSchema, type TrialJudge } from '../grading/judge-usage.js';
import { SandboxEnforcementSchema } from '../sandbox/enforcement.js';
import { ShardInfoSchema } from './shard.js';
import { UsageSchema, ZERO_USAGE, type Usage } from '../agents/prices.js';
import { GradingProfileSchema } from '../tasks/grading-profile.js';

/**
 * Bump when the shape changes; loaders refuse versions they do not know. 2: every trial has `provenance`
 * (version 1 records, from before, still load; their trials count as of an unknown task version).
 */
export const RUN_RECORD_SCHEMA_VERSION = 2;
const KNOWN_SCHEMA_VERSIONS = [1, 2] as const;

const TrialStatusSchema = z.enum(['passed', 'failed', 'error', 'skipped']);
export type TrialStatus = z.infer<typeof TrialStatusSchema>;

/** Which limit ended a trial: the model's turns, output tokens or time, or the workspace's disk bound. */
const LimitKindSchema = z.enum(['turns', 'tokens', 'time', 'disk']);
export type LimitKind = z.infer<typeof LimitKindSchema>;

export { UsageSchema, ZERO_USAGE, TrialJudgeSchema, type Usage, type TrialJudge };


/** What produced a trial: the task version, the harness, the model snapshot as served, the checks that ran. */
const TrialProvenanceSchema = z.object({
  /** Content hash of the task's variant (src/tasks/version.ts). */
  taskHash: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest (src/tasks/version.ts)'),
  /** package version + git commit of the harness, e.g. "0.1.0+3f2a9c1d0e4b". */
  harness: z.string().min(1),
  /** The model id the API reported in its last answer (a dated snapshot); null for oracle/nop or when no call was answered. */
  servedModel: z.string().nullable(),
  /** null for a trial that was never graded (skipped, error before grading). */
  grading: GradingProfileSchema.nullable(),
});
export type TrialProvenance = z.infer<typeof TrialProvenanceSchema>;

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
  /** Required from schema version 2; absent in version 1 records. */
  provenance: TrialProvenanceSchema.optional(),
});
export type TrialResult = z.infer<typeof TrialResultSchema>;

const SandboxInfoSchema = z.object({
  mode: z.enum(['bwrap', 'unsafe-none']),
  /** True when the run was made with --unsafe-no-sandbox: model-written code ran on the host. */
  unsafe: z.boolean(),
  /** What enforced the sandbox's limits on this host (records made before it was kept lack it). */
  enforcement: SandboxEnforcementSchema.optional(),
});

const EnvironmentSchema = z.object({
  node: z.string(),
  platform: z.string(),
  python: z.string().nullable(),
  torch: z.string().nullable(),
  gpu: z.string().nullable(),
});

/** A run record without the check that ties trials to the schema version (the journal's header uses it). */
export const RunRecordObjectSchema = z.object({
  schemaVersion: z.union(KNOWN_SCHEMA_VERSIONS.map((v) => z.literal(v)), { error: `unknown schema version; this harness reads ${KNOWN_SCHEMA_VERSIONS.join(' and ')}` }),
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
    /** run --partial-grading: model trials are graded even where their task's decisive checks cannot run. */
    partialGrading: z.boolean().optional(),
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

export const RunRecordSchema = RunRecordObjectSchema.superRefine((r, ctx) => {
  if (r.schemaVersion < 2) return;
  r.trials.forEach((t, i) => {
    if (!t.provenance) ctx.addIssue({ code: 'custom', path: ['trials', i, 'provenance'], message: `required in schema version ${r.schemaVersion} (task hash, harness, served model, grading profile)` });
  });
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** Stable identity of a trial within a run, used by resume to skip finished ones. */
export function trialKey(t: Pick<TrialResult, 'task' | 'variant' | 'sample' | 'model' | 'epoch'>): string {
  return `${t.task}/${t.variant}/${t.sample}/${t.model}/${t.epoch}`;
}

