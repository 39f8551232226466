import { z } from 'zod';
import { LimitsSchema, type Limits } from '../agents/limits.js';
import { RequirementsSchema, type Requirements } from '../python/requirements-schema.js';
import type { ToolDef } from '../agents/tool.js';
import type { Grade, GradeContext, Grader } from '../grading/types.js';

const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'use lowercase letters, digits and dashes (e.g. "paged-attention")');
const markdownFile = z
  .string()
  .regex(/^[\w.-]+\.md$/, 'name a markdown file beside task.ts, e.g. "prompt.md"');


const SampleSchema = z.object({
  id: slug,
  /** Values substituted for {{name}} in the prompt and handed to the grader. */
  inputs: z.record(z.string(), z.unknown()).default({}),
});

const VariantSchema = z.object({
  id: slug,
  description: z.string().min(1),
  /** Prompt file replacing the task's user prompt for this variant. */
  prompt: markdownFile.optional(),
  limits: LimitsSchema.partial().optional(),
  default: z.boolean().optional(),
});


/**
 * Checks of the grader that run only where the environment allows (CUDA, a newer torch): elsewhere the grader
 * records them with passed null. A trial graded without them has a partial grading profile, which the reports
 * and the gate never pool with full ones. `decisive`: without these checks a pass means something else, so a
 * model trial is `skipped` where they cannot run unless the run asks for partial grading (run --partial-grading).
 */
const EnvironmentChecksSchema = z.object({
  /** Check names as the grader reports them. */
  checks: z.array(z.string().min(1)).min(1, 'name at least one check'),
  needs: z
    .object({
      cuda: z.boolean().default(false),
      minTorch: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'write a version such as "2.0"').optional(),
    })
    .refine((n) => n.cuda || n.minTorch !== undefined, { message: 'say what the checks need: cuda: true and/or minTorch' }),
  decisive: z.boolean().default(false),
});
export type EnvironmentChecks = z.infer<typeof EnvironmentChecksSchema>;

const fn = <T>(what: string) =>
  z.custom<T>((v) => typeof v === 'function', { message: `must be a function (${what})` });

const CalibrationSchema = z
  .object({
    /** The model the band was measured with, e.g. "anthropic:claude-3-5-sonnet". */
    model: z.string().min(1),
    low: z.number().min(0).max(1),
    high: z.number().min(0).max(1),
    source: z.string().min(1),
  })
  .refine((c) => c.low <= c.high, { message: 'low must not exceed high', path: ['low'] });

const toolSchema = z.custom<ToolDef>(
  (v) =>
    typeof v === 'object' && v !== null &&
    typeof (v as ToolDef).name === 'string' &&
    /^[a-zA-Z0-9_-]{1,64}$/.test((v as ToolDef).name) &&
    typeof (v as ToolDef).run === 'function' &&
    (v as ToolDef).input instanceof z.ZodType,
  { message: 'each tool must come from defineTool({ name, description, input: <zod schema>, run })' },
);

/** A labelled example submission for `judge-check`: what the task's grader should conclude about it. */
const JudgeExampleSchema = z.object({
  /** A file inside the task folder, e.g. "test/judge-examples/strong.md". */
  file: z.string().regex(/^(?!\/)(?!.*\.\.)[\w./-]+$/, 'use a relative path inside the task folder'),
  /** pass/fail are scored against the judge; borderline is reported but not scored. */
  label: z.enum(['pass', 'fail', 'borderline']),
  /** The sample it answers (default: the task's first sample). */
  sample: slug.optional(),
  /** Why it has this label (shown in the judge-check table). */
  note: z.string().optional(),
});
export type JudgeExample = z.infer<typeof JudgeExampleSchema>;

/** Turns an example file's text into a submission; default: the file holds the submission as JSON. */
export type JudgeExampleSubmission = (text: string, ctx: { taskDir: string; sampleId: string; inputs: Record<string, unknown>; file: string }) =>
  unknown | Promise<unknown>;

/** A submission is produced by the oracle and nop agents without a model; may read files from the task folder. */
export type SubmissionFactory = (ctx: { taskDir: string; sampleId: string; variantId: string; inputs: Record<string, unknown> }) =>
  unknown | Promise<unknown>;

export const TaskDefinitionSchema = z
  .object({
    id: slug,
    title: z.string().min(1),
    description: z.string().min(1),
    prompt: z.object({ system: markdownFile.optional(), user: markdownFile }),
    samples: z.array(SampleSchema).min(1, 'a task needs at least one sample'),
    variants: z.array(VariantSchema).min(1, 'a task needs at least one variant (mark one default: true)'),
    tools: z.array(toolSchema).default([]),
    /** Files copied into the trial's workspace before the agent starts: workspace path -> path in the task folder. */
    starterFiles: z
      .record(z.string().regex(/^(?!\/)(?!.*\.\.)[\w./-]+$/, 'use a relative path inside the workspace'), z.string().min(1))
      .default({}),
    submission: z.custom<z.ZodType>((v) => v instanceof z.ZodType, {
      message: 'must be a zod schema, e.g. z.object({ code: z.string() })',
    }),
    limits: LimitsSchema,
    requirements: RequirementsSchema.default({ pythonModules: [], cuda: 'none' }),
    /** Checks that run only in some environments (see EnvironmentChecksSchema); they define the grading profile. */
    environmentChecks: z.array(EnvironmentChecksSchema).default([]),
    grader: fn<Grader>('the grader: (submission, ctx) => Promise<Grade>'),
    reference: fn<SubmissionFactory>('returns the reference submission used by the oracle agent'),
    noop: fn<SubmissionFactory>('returns the no-op submission used by the nop agent'),
    calibration: CalibrationSchema.optional(),
    /** For judge-graded tasks: labelled submissions that `judge-check` grades to measure the judge. */
    judgeExamples: z
      .object({
        examples: z.array(JudgeExampleSchema).min(1, 'list at least one example, or leave judgeExamples out'),
        toSubmission: fn<JudgeExampleSubmission>('(text, ctx) => submission, e.g. (text) => ({ review: text })').optional(),
      })
      .optional(),
  })
  .superRefine((t, ctx) => {
    const defaults = t.variants.filter((v) => v.default);
    if (defaults.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['variants'], message: `exactly one variant must have default: true (found ${defaults.length})` });
    }
    for (const [key, list] of [['variants', t.variants], ['samples', t.samples]] as const) {
      const seen = new Set<string>();
      list.forEach((item, i) => {
        if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate id "${item.id}"` });
        seen.add(item.id);
      });
    }
    t.judgeExamples?.examples.forEach((e, i) => {
      if (e.sample && !t.samples.some((s) => s.id === e.sample)) {
        ctx.addIssue({ code: 'custom', path: ['judgeExamples', 'examples', i, 'sample'], message: `no sample "${e.sample}" (have: ${t.samples.map((s) => s.id).join(', ')})` });
      }
    });
    const names = new Set<string>();
    t.tools.forEach((tool, i) => {
      if (tool.name === 'submit_answer') ctx.addIssue({ code: 'custom', path: ['tools', i], message: 'submit_answer is added by the harness; do not declare it' });
      if (names.has(tool.name)) ctx.addIssue({ code: 'custom', path: ['tools', i], message: `duplicate tool "${tool.name}"` });
      names.add(tool.name);
    });
  });

export { LimitsSchema, RequirementsSchema, type Limits, type Requirements };

export type TaskDefinitionInput = z.input<typeof TaskDefinitionSchema>;
export type TaskDefinition = z.output<typeof TaskDefinitionSchema>;

/** Context of the oracle's and nop's submission factories. */
export type SubmissionContext = Parameters<SubmissionFactory>[0];
/** Context of a judge example's conversion to a submission. */
export type JudgeExampleContext = Parameters<JudgeExampleSubmission>[1];

/**
 * A task as its author writes it, typed by its submission schema S: the grader receives the parsed
 * submission (z.output<S>), and the reference, the no-op and judge examples must produce valid input for
 * it (z.input<S>), so no task casts its submission.
 */
export type TaskDefinitionFor<S extends z.ZodType> = Omit<TaskDefinitionInput, 'submission' | 'grader' | 'reference' | 'noop' | 'judgeExamples'> & {
  submission: S;
  grader: (submission: z.output<S>, ctx: GradeContext) => Promise<Grade>;
  reference: (ctx: SubmissionContext) => z.input<S> | Promise<z.input<S>>;
  noop: (ctx: SubmissionContext) => z.input<S> | Promise<z.input<S>>;
  judgeExamples?: {
    examples: JudgeExample[];
    toSubmission?: (text: string, ctx: JudgeExampleContext) => z.input<S> | Promise<z.input<S>>;
  };
};

/** The default export of tasks/<id>/task.ts. Validation happens when the task is loaded, so errors can name the file. */
export function defineTask<S extends z.ZodType>(def: TaskDefinitionFor<S>): TaskDefinitionFor<S> {
  return def;
}
