import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defineTask, runPythonTool } from '../../src/task-api.js';
import { gradeNeuralMemory, VARIANT_PROMPTS } from './grader.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** judge-examples/labels.json is the one list of labelled examples: `why` becomes judge-check's note. */
const LABELS = z
  .array(z.object({ file: z.string().regex(/^[\w.-]+\.py$/), label: z.enum(['pass', 'fail', 'borderline']), why: z.string().min(1) }))
  .parse(JSON.parse(readFileSync(path.join(here, 'judge-examples/labels.json'), 'utf8')));

const source = (file: string) => ({ taskDir }: { taskDir: string }) =>
  readFile(path.join(taskDir, file), 'utf8').then((code) => ({ code }));

export default defineTask({
  id: 'neural-memory',
  title: 'Titans-style neural long-term memory for a Transformer',
  description:
    'Extend a small Transformer LM with a NeuralMemory: a d_mem x d_mem matrix written token by token with a ' +
    'surprise-gated outer product, a learnable decay, and a complementary gate that blends it with attention. Graded by ' +
    "sandboxed runtime checks and, with a judge, the seed's six criteria (pass at 6/6; AST checks of the same criteria " +
    'decide without a judge and are reported beside it).',
  prompt: { user: 'prompt.md' },
  samples: [{ id: 'default', inputs: {} }],
  variants: [
    {
      id: 'biology-outer-product-learnable',
      description: "seed 002's calibrated prompt (ablation row 4): biological hints, the outer-product formula, 'make parameters learnable' and 'use sigmoid for gating'",
      prompt: VARIANT_PROMPTS['biology-outer-product-learnable'],
      default: true,
    },
    {
      id: 'explicit-criteria',
      description: 'ablation row 1: every one of the six criteria spelled out (seed: 60-100%)',
      prompt: VARIANT_PROMPTS['explicit-criteria'],
    },
    {
      id: 'biology-only',
      description: 'ablation row 2: biological hints only, no outer-product formula, no learnable/sigmoid advice (seed: 0%)',
      prompt: VARIANT_PROMPTS['biology-only'],
    },
    {
      id: 'biology-outer-product',
      description: 'ablation row 3: biological hints and the outer-product formula, no learnable/sigmoid advice (seed: 0%)',
      prompt: VARIANT_PROMPTS['biology-outer-product'],
    },
    {
      id: 'paper',
      description: "seed 000's vaguer prompt: implement the Titans architecture (arXiv 2501.00663) in the Transformer",
      prompt: VARIANT_PROMPTS.paper,
    },
  ],
  tools: [runPythonTool],
  starterFiles: { 'model.py': 'starter.py' },
  submission: z.object({
    code: z.string().min(1).max(200_000).describe('The complete Python source of the model file, SimpleTransformer and NeuralMemory included'),
  }),
  limits: { maxTurns: 20, outputTokenBudget: 24_000, timeLimitSec: 1200 },
  requirements: { pythonModules: ['torch', 'numpy'], minTorch: '1.13', cuda: 'optional' },
  grader: (submission, ctx) => gradeNeuralMemory(submission.code, ctx),
  reference: source('solution/reference.py'),
  noop: source('starter.py'),
  calibration: {
    model: 'anthropic:claude-sonnet-4-5',
    // 1/10 passed in the seed on the default prompt; the band is that result's 95% Wilson interval.
    low: 0.018,
    high: 0.404,
    source: 'seed 002 (and 001): Sonnet 4.5 passed 1/10 on the default prompt, 6/6 criteria required',
  },
  judgeExamples: {
    toSubmission: (text) => ({ code: text }),
    examples: LABELS.map((l) => ({ file: `judge-examples/${l.file}`, label: l.label, note: l.why })),
  },
});
