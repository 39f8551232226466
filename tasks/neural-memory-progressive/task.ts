import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defineTask, STANDARD_TOOLS } from '../../src/task-api.js';
import { gradeStep, STEP_IDS, type StepId } from './grader.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const TITLES: Record<StepId, string> = {
  'memory-structure': 'how the memory stores associations',
  surprise: 'what is worth remembering',
  'update-decay': 'the update rule, with forgetting',
  fusion: 'blending attention with memory',
  full: 'the complete model',
};

/**
 * One sample per step. Each step's texts live in steps/<id>/ and are handed to the prompt as sample inputs,
 * so every step's prompt shows only its own starter (a later step's starter holds an earlier step's answer).
 */
const samples = STEP_IDS.map((id, i) => {
  const text = (file: string) => readFileSync(path.join(here, 'steps', id, file), 'utf8');
  return {
    id,
    inputs: {
      step_number: String(i + 1),
      step_title: TITLES[id],
      step_brief: text('brief.md'),
      step_interface: text('interface.md'),
      step_pseudocode: text('pseudocode.md'),
      step_starter: text('starter.py'),
    },
  };
});

const code = (file: string) => readFile(path.join(here, file), 'utf8').then((c) => ({ code: c }));

export default defineTask({
  id: 'neural-memory-progressive',
  title: 'Titans-style neural memory, one concept per step (judge-graded)',
  description:
    'Five steps towards a Titans-style long-term memory for a Transformer, each a sample graded on its own: the associative ' +
    'matrix, the surprise signal, the update rule with learnable decay, the attention-memory fusion, the full model. ' +
    'Sandboxed behavioural checks plus a per-step LLM rubric.',
  prompt: { user: 'prompt.md' },
  samples,
  variants: [
    { id: 'plain', description: 'the concept and the interface, no pseudocode (seed: 0/20/10/90/70% over steps 1-5)', default: true },
    {
      id: 'pseudocode',
      description: 'the same, plus a pseudocode outline to fill in before coding (seed: 0/90/30/70/90% over steps 1-5)',
      prompt: 'prompt-pseudocode.md',
    },
  ],
  tools: STANDARD_TOOLS,
  submission: z.object({
    code: z.string().min(1).max(200_000).describe('The complete Python source of your file for this step'),
  }),
  limits: { maxTurns: 20, outputTokenBudget: 24_000, timeLimitSec: 1200 },
  requirements: { pythonModules: ['torch', 'numpy'], minTorch: '1.13', cuda: 'none' },
  grader: (submission, ctx) => gradeStep(submission.code, ctx),
  reference: ({ sampleId }) => code(`solution/${sampleId}.py`),
  noop: ({ sampleId }) => code(`steps/${sampleId}/starter.py`),
  calibration: {
    model: 'anthropic:claude-sonnet-4-5',
    // The seed's plain column averages 38% over the five steps; read as 10 trials per step (the rates are
    // multiples of 10%), that is 19/50, and the band is its 95% Wilson interval.
    low: 0.259,
    high: 0.518,
    source:
      'seed 001, progressive 5-step table, "without pseudocode": 0/20/10/90/70% (mean 38%); model and trial counts not stated, ' +
      'assumed Sonnet 4.5 (the seed\'s main model) and 10 trials per step',
  },
  judgeExamples: {
    toSubmission: (text) => ({ code: text }),
    examples: [
      { file: 'judge-examples/memory-kv-cache.py', label: 'fail', sample: 'memory-structure', note: 'a growing key/value cache read by softmax attention' },
      { file: 'solution/surprise.py', label: 'pass', sample: 'surprise', note: 'sigmoid of a learned affine map of the squared prediction error, scaling the write' },
      { file: 'judge-examples/surprise-importance-gate.py', label: 'fail', sample: 'surprise', note: 'sigmoid(Linear(value)): a generic importance gate' },
      { file: 'solution/update-decay.py', label: 'pass', sample: 'update-decay', note: 'sigmoid of a learnable logit multiplies the old memory' },
      { file: 'judge-examples/update-decay-constant.py', label: 'fail', sample: 'update-decay', note: 'retention hard-coded to 0.9' },
      { file: 'judge-examples/fusion-lerp.py', label: 'pass', sample: 'fusion', note: 'torch.lerp with a learned per-token sigmoid gate' },
      { file: 'judge-examples/fusion-residual.py', label: 'fail', sample: 'fusion', note: 'attn + g * mem: a residual, not a complementary blend' },
      { file: 'solution/full.py', label: 'pass', sample: 'full', note: 'all six criteria' },
      {
        file: 'judge-examples/full-fixed-surprise.py',
        label: 'borderline',
        sample: 'full',
        note: 'surprise from the prediction error, but with nothing learnable in it',
      },
    ],
  },
});
