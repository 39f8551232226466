import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineTask, type PythonCheckSpec, runPythonCheck } from '../../src/task-api.js';

/**
 * prepare draws the data (and, with CUDA, trains and measures the baseline); the submission trains in its
 * own sandbox under the measuring wrapper; compare reads the source (AST) and the saved weights and
 * computes the held-out loss itself. See check.py and README.md.
 */
const CHECK: PythonCheckSpec = {
  script: 'check.py',
  // The baseline (public: the agent starts from it) is built beside the submission to compare against;
  // techniques.py is the static analysis check.py imports (public grader code, decides nothing there).
  runFiles: ['starter.py', 'techniques.py'],
  publicFiles: ['inputs.npz'],
  limits: {
    // With CUDA, prepare trains the baseline (120 steps of 32 x 512 tokens) and the run trains the submission,
    // torch.compile included; on CPU each phase takes seconds.
    prepare: { wallSec: 600, memoryMb: 8192 },
    run: { wallSec: 600, memoryMb: 8192 },
    compare: { wallSec: 300, memoryMb: 4096 },
  },
  // Initial and final weights in float32: about 28 MB with the CUDA configuration.
  maxOutputMb: 128,
};

const source = (file: string) => ({ taskDir }: { taskDir: string }) =>
  readFile(path.join(taskDir, file), 'utf8').then((code) => ({ code }));

export default defineTask({
  id: 'memory-optimizations',
  title: 'Cut the GPU memory of a transformer training script',
  description:
    'Rewrite a baseline training script so that peak GPU memory drops by at least 30% without changing the architecture or ' +
    'hurting the held-out loss: mixed precision, gradient checkpointing and fused attention are required, plus at least two ' +
    'more techniques, all found by AST analysis; the script must also run on CPU with torch 1.13.',
  prompt: { user: 'prompt.md' },
  samples: [{ id: 'default', inputs: {} }],
  variants: [
    {
      id: 'explicit',
      description: 'the grading rules spelled out: the three required techniques, two more, the interface, the 30% and loss targets',
      default: true,
    },
    {
      id: 'minimal-hints',
      description: "ablation: the seed's own wording (mixed precision, gradient checkpointing, etc.; five techniques; runnable), same grader",
      prompt: 'prompt-minimal.md',
    },
  ],
  // As in the seed: no tools but submit_answer, so the script cannot be tried before it is submitted.
  tools: [],
  submission: z.object({
    code: z.string().min(1).max(200_000).describe('The complete Python source of the optimized training script'),
  }),
  limits: { maxTurns: 4, outputTokenBudget: 24_000, timeLimitSec: 900 },
  requirements: { pythonModules: ['torch', 'numpy'], minTorch: '1.13', cuda: 'optional' },
  // Decisive: the task is about GPU memory: without CUDA its peak-memory, loss and device checks do not run; a CPU pass is a different measurement (skipped unless run --partial-grading).
  environmentChecks: [{ checks: ['peak_memory_reduction', 'weights_on_device', 'loss_matches_baseline'], needs: { cuda: true }, decisive: true }],
  grader: (submission, ctx) => runPythonCheck(CHECK, submission.code, ctx),
  reference: source('solution/reference.py'),
  noop: source('starter.py'),
  calibration: {
    // The seed does not name the agent model for this task; Claude Sonnet 4.5 is the model it names for its main result.
    model: 'anthropic:claude-sonnet-4-5',
    // 1/10 passed in the seed; the band is that result's 95% Wilson interval.
    low: 0.02,
    high: 0.4,
    source: 'seed 001: 1/10 passed (70% of attempts failed at runtime, mostly a wrong autocast API; 20% had too few techniques)',
  },
});
