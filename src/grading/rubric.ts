/** A judge rubric: criteria with points and pass/fail conditions, a pass rule, a reference (defineRubric validates it). */
import path from 'node:path';
import { z } from 'zod';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lowercase letters, digits and dashes (e.g. "coverage")');

const CriterionSchema = z.object({
  id: slug,
  title: z.string().min(1),
  points: z.int().positive(),
  /** What earns full points, concretely. */
  pass: z.string().min(1),
  /** What earns zero, concretely. */
  fail: z.string().min(1),
});
export type Criterion = z.infer<typeof CriterionSchema>;

const PassRuleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('threshold'), minPoints: z.int().positive() }),
  /** Every criterion at full points. */
  z.object({ kind: z.literal('all') }),
]);
export type PassRule = z.infer<typeof PassRuleSchema>;

/** A markdown file inside the task folder (subfolders allowed, no `..`). */
export const TaskMarkdownFileSchema = z
  .string()
  .regex(/^(?!\/)(?!.*\.\.)[\w./-]+\.md$/, 'name a markdown file inside the task folder, e.g. "reference.md" or "references/memory.md"');

const RubricSchema = z
  .object({
    id: slug,
    title: z.string().min(1),
    criteria: z.array(CriterionSchema).min(1, 'a rubric needs at least one criterion'),
    passRule: PassRuleSchema,
    /** Reference document the judge compares against (markdown, relative to the task folder). */
    reference: TaskMarkdownFileSchema.optional(),
    /** Extra guidance for the judge (how strict, what to ignore). */
    instructions: z.string().min(1).optional(),
  })
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
    r.criteria.forEach((c, i) => {
      if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: ['criteria', i, 'id'], message: `duplicate criterion id "${c.id}"` });
      seen.add(c.id);
    });
    const total = r.criteria.reduce((a, c) => a + c.points, 0);
    if (r.passRule.kind === 'threshold' && r.passRule.minPoints > total) {
      ctx.addIssue({
        code: 'custom',
        path: ['passRule', 'minPoints'],
        message: `minPoints ${r.passRule.minPoints} exceeds the rubric's total of ${total} points: no submission could pass`,
      });
    }
  });
export type Rubric = z.output<typeof RubricSchema>;

export class RubricError extends Error {
  override name = 'RubricError';
}

/** Validates a rubric where it is written (task.ts), so a mistake fails at load time with the field named. */
export function defineRubric(r: z.input<typeof RubricSchema>): Rubric {
  const parsed = RubricSchema.safeParse(r);
  if (!parsed.success) {
    const id = typeof (r as { id?: unknown })?.id === 'string' ? ` "${(r as { id: string }).id}"` : '';
    const lines = parsed.error.issues.map((i) => `  - ${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
    throw new RubricError(`invalid rubric${id}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export function rubricMaxPoints(rubric: Rubric): number {
  return rubric.criteria.reduce((a, c) => a + c.points, 0);
}

