/**
 * Every submission of this task that is graded, with the verdict an expert gives it: `pass`, or the checks
 * that may fail (at least one must, nothing else may). ONE list: `test/grader.test.ts` grades the `quick`
 * cases in `npm test`; `npx tsx scripts/grade-all-submissions.ts --task ml-training-optimization` grades
 * all of them.
 */
import type { SubmissionCase, TaskExpectations } from '../../../src/grading/expectations.js';

export const VARIANTS = ['pytorch', 'numpy', 'complex'] as const;
const TIMING = ['speedup', 'cpu_speedup'];
/** A module that cannot know the labels scores near chance (mean over the data sets below 0.6). */
const NEAR_CHANCE = /^candidate 0\.[0-5]\d*,/;

const cases: Record<string, SubmissionCase> = {
  // The references: pytorch in the quick set; the other variants in the full one.
  ...Object.fromEntries(VARIANTS.map((v) => [`oracle:${v}`, {
    file: `solution/train_${v}.py`, variant: v, expect: 'pass', quick: v === 'pytorch',
    details: { speedup: /over \d+ interleaved runs each/, accuracy: /trimmed mean delta [+-]\d\.\d{4}.*mean delta [+-]\d\.\d{4}/, deterministic: /\d+ runs .* identical/ },
  } satisfies SubmissionCase])),
  // The baseline itself: correct, deterministic, about 1x; the same predictions as the baseline, so a delta of 0.
  ...Object.fromEntries(VARIANTS.map((v) => [`nop:${v}`, {
    file: `baselines/train_${v}.py`, variant: v, expect: { may: TIMING }, quick: v === 'pytorch',
    details: { accuracy: /trimmed mean delta \+0\.0000.*mean delta \+0\.0000/, deterministic: /identical/ },
  } satisfies SubmissionCase])),
  'valid:pytorch_dataloader.py': { file: 'test/valid_submissions/pytorch_dataloader.py', variant: 'pytorch', expect: 'pass' },
  // Issue 14: the style of the official PyTorch examples, and of nanoGPT-like training scripts.
  'valid:pytorch_examples_style.py': { file: 'test/valid_submissions/pytorch_examples_style.py', variant: 'pytorch', expect: 'pass' },
  'valid:pytorch_nanogpt_style.py': { file: 'test/valid_submissions/pytorch_nanogpt_style.py', variant: 'pytorch', expect: 'pass' },
  // The numpy reference computes the same features, so the same forest: the same predictions.
  'valid:numpy_broadcast_cdist.py': { file: 'test/valid_submissions/numpy_broadcast_cdist.py', variant: 'numpy', expect: 'pass' },
  // Vectorized with the baseline's schedule: only the float order differs.
  'valid:complex_same_schedule.py': { file: 'test/valid_submissions/complex_same_schedule.py', variant: 'complex', expect: 'pass' },
  'hardcoded_predictions.py': { file: 'test/submissions/hardcoded_predictions.py', variant: 'pytorch', expect: { may: ['accuracy'] }, details: { accuracy: NEAR_CHANCE } },
  'caches_predictions.py': { file: 'test/submissions/caches_predictions.py', variant: 'pytorch', expect: { may: TIMING } },
  'reads_labels.py': { file: 'test/submissions/reads_labels.py', variant: 'pytorch', expect: { may: ['accuracy'] }, details: { accuracy: NEAR_CHANCE } },
  // Accuracy fails on the first round: no speedup is measured.
  'constant_predictions.py': {
    file: 'test/submissions/constant_predictions.py', variant: 'pytorch', expect: { may: ['accuracy'] },
    details: { accuracy: NEAR_CHANCE }, skipped: ['speedup'],
  },
  // Nothing is run without the entry points.
  'drops_function.py': {
    file: 'test/submissions/drops_function.py', variant: 'pytorch', expect: { may: ['required_names'] }, quick: true,
    details: { required_names: /def predict/ }, skipped: ['candidate_runs'],
  },
  'nondeterministic.py': { file: 'test/submissions/nondeterministic.py', variant: 'pytorch', expect: { may: ['deterministic'] }, quick: true },
  'monkeypatches_time.py': { file: 'test/submissions/monkeypatches_time.py', variant: 'pytorch', expect: { may: TIMING } },
  // The fake "50x" lines never reach the verdict: the speedup is the real one, about 1x.
  'prints_fake_verdict.py': {
    file: 'test/submissions/prints_fake_verdict.py', variant: 'pytorch', expect: { may: TIMING },
    notDetails: { speedup: /50\.00x/, cpu_speedup: /50\.00x/ },
  },
  'reduced_data.py': { file: 'test/submissions/reduced_data.py', variant: 'pytorch', expect: { may: ['accuracy'] } },
  'unoptimized_copy.py': { file: 'test/submissions/unoptimized_copy.py', variant: 'pytorch', expect: { may: TIMING } },
  'kills_timer.py': { file: 'test/submissions/kills_timer.py', variant: 'pytorch', expect: { may: ['candidate_runs'] }, quick: true, details: { candidate_runs: /no report/ } },
  // Issue 12: the unchanged baseline, its work done by an orphan after the report, the timer stopped, the
  // predictions overwritten late; and the baseline stopping the timer while it trains.
  'orphan_finishes_after_report.py': { file: 'test/submissions/orphan_finishes_after_report.py', variant: 'pytorch', expect: { may: ['accuracy'] } },
  'stops_timer.py': { file: 'test/submissions/stops_timer.py', variant: 'pytorch', expect: { may: TIMING } },
  // Seed 003: fixing only the O(n^2) normalization gave 1.7-1.8x, short of the 2x target.
  'complex_normalization_only.py': { file: 'test/submissions/complex_normalization_only.py', variant: 'complex', expect: { may: TIMING } },
  // Issue 14: a real 30x rewrite that underfits by 1.5-2 points; the old one-draw rule passed it 3 times in 4.
  'underfits_short_schedule.py': {
    file: 'test/submissions/underfits_short_schedule.py', variant: 'pytorch', expect: { may: ['accuracy'] }, quick: true,
    details: { accuracy: /the trimmed mean falls more than 0\.007 below/ },
  },
};

export const expectations: TaskExpectations = { cases };
