import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineTask, type PythonCheckSpec, runPythonCheck, runPythonTool } from '../../src/task-api.js';

/** The submission runs apart from the secret seed and the expected outputs; see check.py and README.md. */
const CHECK: PythonCheckSpec = {
  script: 'check.py',
  publicFiles: ['inputs.npz'],
  limits: {
    prepare: { wallSec: 180 },
    run: { wallSec: 300, memoryMb: 4096 },
    compare: { wallSec: 180 },
  },
  maxOutputMb: 64,
};

const source = (file: string) => ({ taskDir }: { taskDir: string }) =>
  readFile(path.join(taskDir, file), 'utf8').then((code) => ({ code }));

export default defineTask({
  id: 'paged-attention',
  title: 'PagedAttention decode, vectorized, under a token budget',
  description:
    'Implement single-query attention over a block-table (paged) KV cache as in vLLM, fully vectorized in PyTorch, ' +
    'within a 2,900-output-token budget for the whole attempt.',
  prompt: { user: 'prompt.md' },
  samples: [{ id: 'default', inputs: {} }],
  variants: [
    { id: 'budget-2900', description: "the seed's setting: 2,900 output tokens for the whole trial", default: true },
    { id: 'no-budget', description: 'ablation: the same prompt with a 32,000-token budget', limits: { outputTokenBudget: 32_000 } },
  ],
  tools: [runPythonTool],
  starterFiles: { 'paged_attention.py': 'starter.py' },
  submission: z.object({
    code: z.string().min(1).max(200_000).describe('The complete Python source of the module defining paged_attention_decode'),
  }),
  limits: { maxTurns: 20, outputTokenBudget: 2900, timeLimitSec: 900 },
  requirements: { pythonModules: ['torch', 'numpy'], minTorch: '1.13', cuda: 'optional' },
  grader: (submission, ctx) => runPythonCheck(CHECK, submission.code, ctx),
  reference: source('solution/reference.py'),
  noop: source('starter.py'),
  calibration: {
    model: 'anthropic:claude-3-5-sonnet',
    // 4/10 passed in the seed; the band is that result's 95% Wilson interval.
    low: 0.17,
    high: 0.69,
    source: 'seed 004: 10 sequential trials, 4 passed, failures mostly hit the 2,900-token limit',
  },
});
