import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineTask } from '../../src/task-api.js';
import { gradeFsdp } from './grader.js';

/**
 * Graded by grader.ts: check.py's 11 AST checks (pass at 9) and GPU run, plus the seed's 10-point rubric (rubric.ts,
 * pass at 8) when a judge is available. A pass needs every grader that ran.
 */
const source = (file: string) => ({ taskDir }: { taskDir: string }) =>
  readFile(path.join(taskDir, file), 'utf8').then((code) => ({ code }));

export default defineTask({
  id: 'fsdp-training',
  title: 'Convert single-GPU training to FSDP',
  description:
    'Convert a single-GPU transformer training script to PyTorch FSDP: NCCL, a custom lambda_auto_wrap_policy ' +
    '(TransformerBlock or > 1M parameters), DistributedSampler with set_epoch, rank-0 full-state-dict checkpointing, ' +
    'cleanup. Graded by 11 AST checks (9 to pass), with a GPU a torchrun run whose checkpoint is verified, and with a ' +
    "judge the seed's 10-point rubric (8 to pass); a pass needs every grader that ran.",
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
  // Decisive: the torchrun run (CUDA, NCCL, torch >= 2.0) is the only check that the script works under FSDP; a CPU pass is a different measurement (skipped unless run --partial-grading).
  environmentChecks: [{ checks: ['torchrun_completes', 'checkpoint_full_state_dict', 'fsdp_at_runtime'], needs: { cuda: true, minTorch: '2.0' }, decisive: true }],
  grader: (submission, ctx) => gradeFsdp(submission.code, ctx),
  reference: source('solution/reference.py'),
  noop: source('starter.py'),
  calibration: {
    model: 'anthropic:claude-haiku-4-5',
    // Seed 001: 1/3 under the LLM judge (Wilson 95%: 6%-79%); seed 000: Haiku "consistently" correct under the
    // regex checks at 9/11. This grader applies both rules when a judge runs (and the GPU run), so the band spans both.
    low: 0.06,
    high: 1,
    source: 'seed 001: 1/3 passed under the 10-point judge rubric; seed 000: Haiku 100% under 11 regex checks (pass at 9)',
  },
  // For `judge-check`: what the judge should conclude on each (its judge:verdict), whatever check.py says.
  judgeExamples: {
    toSubmission: (text) => ({ code: text }),
    examples: [
      { file: 'judge-examples/pass-clean.py', label: 'pass', note: 'a correct conversion written unlike the reference (10/10); check.py passes it too' },
      {
        file: 'judge-examples/fail-subtle.py',
        label: 'fail',
        note: 'GPU from the global rank, optimizer before wrapping, naive parameter count, state_dict() on rank 0 only (a deadlock on more than one GPU): about 5/10, yet check.py passes it 9 of 11',
      },
      { file: 'judge-examples/fail-naive.py', label: 'fail', note: 'no wrap policy, optimizer before wrapping, every rank saves model.state_dict() without state_dict_type, no set_epoch, no cleanup: about 2/10; check.py fails it too (4 of 11)' },
      {
        file: 'judge-examples/borderline-counting.py',
        label: 'borderline',
        note: "naive parameter count (the ModuleList becomes a unit) and set_epoch(epoch + 1) after the epoch's batches: 8/10 or 7/10 depending on the reading",
      },
    ],
  },
});
