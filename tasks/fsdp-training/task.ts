import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineTask } from '../../src/tasks/index.js';
import { runPythonCheck, type PythonCheckSpec } from '../../src/grading/python-check.js';

/**
 * 11 AST checks (pass at 9, the seed's rule); with CUDA and torch >= 2 also a world-size-1 torchrun run in the
 * submission's sandbox, whose checkpoint compare loads itself (torch.load weights_only). See check.py and README.md.
 * rubric.md holds the seed's 10-point rubric for the LLM judge, which this grader does not call.
 */
const CHECK: PythonCheckSpec = {
  script: 'check.py',
  submissionFile: 'submission.py',
  publicFiles: ['inputs.npz'],
  outputFile: 'outputs.npz',
  args: {
    prepare: ['prepare', '--out', '/workspace'],
    run: ['run-submission', '--submission', '/workspace/submission.py', '--inputs', '/workspace/inputs.npz', '--out', '/workspace/outputs.npz'],
    compare: ['compare', '--expected', '/workspace/expected.npz', '--outputs', '/workspace/outputs.npz', '--submission', '/workspace/submission.py'],
  },
  limits: {
    prepare: { wallSec: 180 },
    // torchrun and one worker, each with torch and CUDA loaded; the run itself is capped at 300 s by check.py.
    run: { wallSec: 420, memoryMb: 16_384 },
    compare: { wallSec: 180 },
  },
  // The checkpoint travels as raw bytes: about 30 MB of float32 weights.
  maxOutputMb: 96,
};

const source = (file: string) => ({ taskDir }: { taskDir: string }) =>
  readFile(path.join(taskDir, file), 'utf8').then((code) => ({ code }));

export default defineTask({
  id: 'fsdp-training',
  title: 'Convert single-GPU training to FSDP',
  description:
    'Convert a single-GPU transformer training script to PyTorch FSDP: NCCL, a custom lambda_auto_wrap_policy ' +
    '(TransformerBlock or > 1M parameters), DistributedSampler with set_epoch, rank-0 full-state-dict checkpointing, ' +
    'cleanup. Graded by 11 AST checks (9 to pass) and, with a GPU, a torchrun run whose checkpoint is verified.',
  prompt: { user: 'prompt.md' },
  samples: [{ id: 'default', inputs: {} }],
  variants: [{ id: 'default', description: "the seed's requirements: five numbered items and the custom wrap rule", default: true }],
  // As in the seed: no tools but submit_answer.
  tools: [],
  submission: z.object({
    code: z.string().min(1).max(200_000).describe('The complete Python source of the converted FSDP training script'),
  }),
  limits: { maxTurns: 4, outputTokenBudget: 16_000, timeLimitSec: 600 },
  requirements: { pythonModules: ['torch', 'numpy'], minTorch: '1.13', cuda: 'optional' },
  grader: (submission, ctx) => runPythonCheck(CHECK, (submission as { code: string }).code, ctx),
  reference: source('solution/reference.py'),
  noop: source('starter.py'),
  calibration: {
    model: 'anthropic:claude-haiku-4-5',
    // Seed 001: 1/3 under the LLM judge (Wilson 95%: 6%-79%); seed 000: Haiku "consistently" correct under the
    // regex checks at 9/11. This grader is the static rule plus a GPU run, so the band spans both.
    low: 0.06,
    high: 1,
    source: 'seed 001: 1/3 passed under the 10-point judge rubric; seed 000: Haiku 100% under 11 regex checks (pass at 9)',
  },
});
