/**
 * The task API is typed by each task's submission schema: graders get the parsed submission, so no task
 * or example casts it (typecheck.test.ts proves the types; this proves nobody routes around them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTask } from '../../src/tasks/define.js';

const taskFiles = ['tasks', 'examples/tasks'].flatMap((root) =>
  fs.readdirSync(root).map((d) => path.join(root, d, 'task.ts')).filter((f) => fs.existsSync(f)),
);

describe('the typed task API', () => {
  it('no task.ts casts its submission', () => {
    expect(taskFiles.length).toBeGreaterThanOrEqual(10);
    const casts = taskFiles.filter((f) => /\b(submission|sub)\s+as\b|\(\s*(submission|sub)\s+as\s/.test(fs.readFileSync(f, 'utf8')));
    expect(casts).toEqual([]);
  });

  it('the grader receives the parsed submission type, and the reference must produce valid input', () => {
    const def = defineTask({
      id: 'typed', title: 't', description: 'd', prompt: { user: 'prompt.md' }, samples: [{ id: 's' }],
      variants: [{ id: 'v', description: 'v', default: true }],
      submission: z.object({ n: z.coerce.number() }),
      limits: { maxTurns: 1, outputTokenBudget: 10, timeLimitSec: 1 },
      // n is a number here (z.output), though the reference may hand in a string (z.input of z.coerce).
      grader: async (s) => ({ passed: s.n.toFixed(0) === '3', score: 1, checks: [] }),
      reference: () => ({ n: '3' as unknown }),
      noop: () => ({ n: 0 }),
    });
    // @ts-expect-error a grader that reads a field the schema does not have does not compile
    defineTask({ ...def, grader: async (s) => ({ passed: s.missing === 1, score: 0, checks: [] }) });
    expect(def.submission.parse(def.noop({ taskDir: '', sampleId: 's', variantId: 'v', inputs: {} }))).toEqual({ n: 0 });
  });
});
