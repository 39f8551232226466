import { parseArgs } from 'node:util';
import { z } from 'zod';
import { formatIssues } from '../zod-issues.js';
import { DEFAULT_CONCURRENCY } from '../config.js';
import { ShardSchema } from '../runs/shard.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.string()).min(1, 'give at least one name, comma-separated'));
export const positiveInt = (name: string) =>
  z.coerce.number({ error: `${name} must be a number` }).int(`${name} must be a whole number`).positive(`${name} must be at least 1`);

/** A run id names files (the store's FILE is RUNID.json): letters, digits, ".", "_" and "-" only. */
const RunIdSchema = z.string().regex(/^[\w][\w.-]*$/, 'a run id uses letters, digits, ".", "_" and "-" only');

export const RunArgsSchema = z
  .object({
    tasks: list.optional(),
    models: list.optional(),
    variants: list.optional(),
    /** Default 1; with --resume, a larger N extends the plan to N epochs (the PR gate's next look). */
    epochs: positiveInt('--epochs').optional(),
    concurrency: positiveInt('--concurrency').max(256, '--concurrency must be at most 256').default(DEFAULT_CONCURRENCY),
    out: z.string().min(1).optional(),
    resume: z.string().min(1).optional(),
    'unsafe-no-sandbox': z.boolean().default(false),
    'keep-workspaces': z.boolean().default(false),
    /** Grade model trials even where checks their task declares decisive cannot run (a partial grading profile). */
    'partial-grading': z.boolean().default(false),
    /** Judge model spec for judge-graded tasks, or "none"; default config.ts DEFAULT_JUDGE_MODEL when the run has model agents. */
    judge: z.string().min(1).optional(),
    /** Run only part i of n of the plan (1-based), for spreading one plan over machines. */
    shard: ShardSchema.optional(),
    /** The run id recorded (default: a new one); the default --out is named after it. */
    'run-id': RunIdSchema.optional(),
    /** Stop starting trials once the run's known spend (agents and judge) reaches this; trials in flight finish. */
    'max-cost-usd': z.coerce.number({ error: '--max-cost-usd must be a number of dollars, e.g. 5 or 0.5' }).positive('--max-cost-usd must be above 0').optional(),
  })
  .superRefine((a, ctx) => {
    if (a.resume && (a.tasks || a.models || a.variants || a.out || a.judge || a.shard || a['partial-grading'] || a['run-id'])) {
      ctx.addIssue({ code: 'custom', path: ['resume'], message: '--resume FILE takes the plan from FILE\'s journal; do not also pass --tasks/--models/--variants/--out/--judge/--shard/--partial-grading/--run-id (only --epochs, to extend it, and --max-cost-usd)' });
    }
    if (!a.resume && !a.models) ctx.addIssue({ code: 'custom', path: ['models'], message: 'required, e.g. --models oracle,nop,anthropic:claude-haiku-4-5' });
  });
export type RunArgs = z.infer<typeof RunArgsSchema>;

export const ValidateArgsSchema = z.object({
  tasks: list.optional(),
  out: z.string().min(1).optional(),
  concurrency: positiveInt('--concurrency').default(2),
  'unsafe-no-sandbox': z.boolean().default(false),
});

export const CompareArgsSchema = z.object({
  baseline: z.string({ error: 'required: a run record file or a results folder' }).min(1),
  candidate: z.string({ error: 'required: a run record file or a results folder' }).min(1),
  format: z.enum(['markdown', 'json'], { error: 'use markdown or json' }).default('markdown'),
  alpha: z.coerce.number().gt(0).lt(1).optional(),
  'min-effect': z.coerce.number().gt(0).lt(1).optional(),
  mode: z.enum(['fixed', 'sequential'], { error: 'use fixed or sequential' }).optional(),
});

export const JudgeCheckArgsSchema = z.object({
  tasks: list.optional(),
  judge: z.string().min(1).optional(),
  /** Judge runs per example. */
  k: positiveInt('--k').max(100, '--k must be at most 100').default(3),
  /** Exit 1 when a task's agreement with the labels is below this. */
  'min-agreement': z.coerce.number({ error: '--min-agreement must be a number' }).min(0).max(1, '--min-agreement is a fraction between 0 and 1').default(0.8),
  concurrency: positiveInt('--concurrency').max(64, '--concurrency must be at most 64').default(4),
  json: z.boolean().default(false),
  'unsafe-no-sandbox': z.boolean().default(false),
});
export type JudgeCheckArgs = z.infer<typeof JudgeCheckArgsSchema>;

export const ListArgsSchema = z.object({ json: z.boolean().default(false) });

export const ReportArgsSchema = z.object({
  /** The results store to read; default ENVBENCH_RESULTS_DIR, else results/runs. */
  results: z.string().min(1).optional(),
  readme: z.string().min(1).default('README.md'),
  /** Where the SVG charts go; default the folder `charts` beside the results store (results/charts). */
  charts: z.string().min(1).optional(),
  check: z.boolean().default(false),
});

const OPTIONS = {
  tasks: { type: 'string' },
  models: { type: 'string' },
  variants: { type: 'string' },
  epochs: { type: 'string' },
  concurrency: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'string' },
  'partial-grading': { type: 'boolean' },
  json: { type: 'boolean' },
  baseline: { type: 'string' },
  candidate: { type: 'string' },
  format: { type: 'string' },
  alpha: { type: 'string' },
  'min-effect': { type: 'string' },
  mode: { type: 'string' },
  results: { type: 'string' },
  readme: { type: 'string' },
  charts: { type: 'string' },
  check: { type: 'boolean' },
  'unsafe-no-sandbox': { type: 'boolean' },
  'keep-workspaces': { type: 'boolean' },
  judge: { type: 'string' },
  shard: { type: 'string' },
  'run-id': { type: 'string' },
  'max-cost-usd': { type: 'string' },
  k: { type: 'string' },
  'min-agreement': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses argv for one command: unknown flags and bad values become UsageErrors naming the flag and the fix. */
export function parseCommandArgs<S extends z.ZodType>(command: string, argv: string[], schema: S): z.infer<S> {
  let values: Record<string, unknown>;
  try {
    const parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
    values = parsed.values as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}`);
  }
  if (schema instanceof z.ZodObject || schema instanceof z.ZodPipe) {
    // Flags that exist for some command but not this one are errors too.
    const shape = schema instanceof z.ZodObject ? schema.shape : (schema.in as z.ZodObject).shape;
    const extra = Object.keys(values).filter((k) => !(k in shape) && k !== 'help');
    if (extra.length) throw new UsageError(`${command}: option(s) not accepted here: ${extra.map((k) => `--${k}`).join(', ')}`);
  }
  const r = schema.safeParse(values);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `  --${i.path.map(String).join('.')}: ${i.message}`).join('\n');
    throw new UsageError(`${command}: bad arguments:\n${msg}`);
  }
  return r.data;
}
export { formatIssues };
