import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradingHarness, skipUnlessRunnable, type GradingHarness } from '../../../test/support/grading.js';
import type { Grade } from '../../../src/grading/types.js';

const here = import.meta.dirname;
const read = (p: string) => fs.readFile(path.join(here, p), 'utf8');

type Variant = 'pytorch' | 'numpy' | 'complex';
const VARIANTS: Variant[] = ['pytorch', 'numpy', 'complex'];
const TIMING = ['speedup', 'cpu_speedup'];

/**
 * Every submission graded, with its variant and what must happen: `pass`, or the checks that may fail
 * (`may`, at least one of which must; nothing outside it may fail).
 */
interface Case {
  file: string;
  variant: Variant;
  expect: 'pass' | { may: string[] };
}
const CASES: Record<string, Case> = {
  ...Object.fromEntries(VARIANTS.map((v) => [`oracle:${v}`, { file: `../solution/train_${v}.py`, variant: v, expect: 'pass' }])),
  // The baseline itself: correct, deterministic, and about 1x.
  ...Object.fromEntries(VARIANTS.map((v) => [`nop:${v}`, { file: `../baselines/train_${v}.py`, variant: v, expect: { may: TIMING } }])),
  'valid:pytorch_dataloader.py': { file: 'valid_submissions/pytorch_dataloader.py', variant: 'pytorch', expect: 'pass' },
  'valid:numpy_broadcast_cdist.py': { file: 'valid_submissions/numpy_broadcast_cdist.py', variant: 'numpy', expect: 'pass' },
  'valid:complex_same_schedule.py': { file: 'valid_submissions/complex_same_schedule.py', variant: 'complex', expect: 'pass' },
  'hardcoded_predictions.py': { file: 'submissions/hardcoded_predictions.py', variant: 'pytorch', expect: { may: ['accuracy'] } },
  'caches_predictions.py': { file: 'submissions/caches_predictions.py', variant: 'pytorch', expect: { may: TIMING } },
  'reads_labels.py': { file: 'submissions/reads_labels.py', variant: 'pytorch', expect: { may: ['accuracy'] } },
  'constant_predictions.py': { file: 'submissions/constant_predictions.py', variant: 'pytorch', expect: { may: ['accuracy'] } },
  'drops_function.py': { file: 'submissions/drops_function.py', variant: 'pytorch', expect: { may: ['required_names'] } },
  'nondeterministic.py': { file: 'submissions/nondeterministic.py', variant: 'pytorch', expect: { may: ['deterministic'] } },
  'monkeypatches_time.py': { file: 'submissions/monkeypatches_time.py', variant: 'pytorch', expect: { may: TIMING } },
  'prints_fake_verdict.py': { file: 'submissions/prints_fake_verdict.py', variant: 'pytorch', expect: { may: TIMING } },
  'reduced_data.py': { file: 'submissions/reduced_data.py', variant: 'pytorch', expect: { may: ['accuracy'] } },
  'unoptimized_copy.py': { file: 'submissions/unoptimized_copy.py', variant: 'pytorch', expect: { may: TIMING } },
  'kills_timer.py': { file: 'submissions/kills_timer.py', variant: 'pytorch', expect: { may: ['candidate_runs'] } },
  // Issue 12: the unchanged baseline, its work done by an orphan after the report, the timer stopped, the
  // predictions overwritten late; and the baseline stopping the timer while it trains.
  'orphan_finishes_after_report.py': { file: 'submissions/orphan_finishes_after_report.py', variant: 'pytorch', expect: { may: ['accuracy'] } },
  'stops_timer.py': { file: 'submissions/stops_timer.py', variant: 'pytorch', expect: { may: TIMING } },
  // Seed 003: fixing only the O(n^2) normalization gave 1.7-1.8x, short of the 2x target.
  'complex_normalization_only.py': { file: 'submissions/complex_normalization_only.py', variant: 'complex', expect: { may: TIMING } },
};

const failing = (g: Grade) => g.checks.filter((c) => c.passed === false).map((c) => c.name);
const detail = (g: Grade, name: string) => g.checks.find((c) => c.name === name)?.detail ?? '';
/** The measured speedup, as the check's detail states it ("6.55x wall time ...", "at most 1.12x CPU time ..."). */
const measured = (g: Grade, name: string) => Number(/(\d+(?:\.\d+)?)x/.exec(detail(g, name))?.[1] ?? NaN);

describe('ml-training-optimization grader', () => {
  let h: GradingHarness;
  const grades = new Map<string, Grade>();
  const seconds = new Map<string, number>();

  beforeAll(async () => {
    h = await gradingHarness('ml-training-optimization');
    if (h.unmet) return;
    // Two gradings at a time: the verdicts sit far from the 2x line (references 3.5-9x, cheats about 1x),
    // and CPU time, which each speedup also needs, hardly moves with the load.
    const limit = pLimit(2);
    await Promise.all(
      Object.entries(CASES).map(([name, c]) =>
        limit(async () => {
          const t = Date.now();
          grades.set(name, await h.grade({ code: await read(c.file) }, c.variant));
          seconds.set(name, (Date.now() - t) / 1000);
        }),
      ),
    );
  }, 1_200_000);

  it.for(Object.entries(CASES))('%s', ([name, c], ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get(name)!;
    const dump = `${name} (${seconds.get(name)} s): ${JSON.stringify(g.checks, null, 1)}`;
    if (c.expect === 'pass') {
      expect(failing(g), dump).toEqual([]);
      expect(g.passed, dump).toBe(true);
      expect(g.score).toBe(1);
      // The speedup and the accuracy delta are measured and recorded, not just asserted.
      expect(measured(g, 'speedup'), dump).toBeGreaterThanOrEqual(2);
      expect(measured(g, 'cpu_speedup'), dump).toBeGreaterThanOrEqual(2);
      expect(detail(g, 'speedup')).toMatch(/over \d+ interleaved runs each/);
      expect(detail(g, 'accuracy')).toMatch(/delta [+-]\d\.\d{4}/);
      expect(detail(g, 'deterministic')).toMatch(/\d+ runs .* identical/);
    } else {
      const allowed = c.expect.may;
      expect(g.passed, dump).toBe(false);
      expect(failing(g).some((n) => allowed.includes(n)), `failing: ${failing(g).join(', ')}\n${dump}`).toBe(true);
      expect(failing(g).filter((n) => !allowed.includes(n)), dump).toEqual([]);
    }
  });

  it('every variant grades its own baseline and solution: nop fails on speed alone, with accuracy unchanged', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    for (const v of VARIANTS) {
      const nop = grades.get(`nop:${v}`)!;
      expect(detail(nop, 'accuracy'), v).toMatch(/delta \+0\.0000/);
      expect(nop.checks.find((c) => c.name === 'deterministic')?.passed).toBe(true);
      // About 1x, far from the 2x line, when measured outright (an early decision states a looser bound).
      const cpu = detail(nop, 'cpu_speedup');
      expect(nop.checks.find((c) => c.name === 'cpu_speedup')?.passed, v).toBe(false);
      if (!cpu.startsWith('at most')) expect(measured(nop, 'cpu_speedup')).toBeLessThan(1.6);
      expect(grades.get(`oracle:${v}`)!.passed).toBe(true);
    }
    // The numpy reference computes the same features, so the same forest: the same predictions.
    expect(detail(grades.get('oracle:numpy')!, 'accuracy')).toMatch(/delta \+0\.0000/);
  });

  it('a module that cannot know the labels scores near chance', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    for (const name of ['reads_labels.py', 'hardcoded_predictions.py', 'constant_predictions.py']) {
      const acc = Number(/candidate (\d\.\d+)/.exec(detail(grades.get(name)!, 'accuracy'))?.[1]);
      expect(acc, name).toBeLessThan(0.6);
    }
  });

  it('stops early once a failure is certain, and skips the runs entirely without the entry points', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    // Accuracy fails on the first round: no speedup is measured.
    expect(grades.get('constant_predictions.py')!.checks.find((c) => c.name === 'speedup')?.passed).toBeNull();
    const dropped = grades.get('drops_function.py')!;
    expect(dropped.checks.filter((c) => c.passed === null).map((c) => c.name)).toContain('candidate_runs');
    expect(detail(dropped, 'required_names')).toMatch(/def predict/);
  });

  it('the forged report and the killed timer leave no trace in the verdict', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    // The fake "50x" lines never reach the verdict: the speedup is the real one, about 1x.
    const fake = grades.get('prints_fake_verdict.py')!;
    expect(detail(fake, 'speedup') + detail(fake, 'cpu_speedup')).not.toMatch(/50\.00x/);
    expect(detail(grades.get('kills_timer.py')!, 'candidate_runs')).toMatch(/no report/);
  });

  it('each oracle and nop comes from its variant\'s own file', async () => {
    const ctxFor = (variantId: string) => ({ taskDir: path.dirname(here), sampleId: 'default', variantId, inputs: {} });
    for (const [v, marker] of [['pytorch', 'class SimpleNN'], ['numpy', 'RandomForestClassifier'], ['complex', 'class ComplexNN']] as const) {
      const ref = (await h.task.def.reference(ctxFor(v))) as { code: string };
      const nop = (await h.task.def.noop(ctxFor(v))) as { code: string };
      expect(ref.code).toContain(marker);
      expect(nop.code).toContain(marker);
      expect(ref.code).not.toEqual(nop.code);
      expect(h.task.def.submission.safeParse(ref).success).toBe(true);
    }
  });

  it('check.py\'s own rule self-test passes', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const r = await new Promise<{ code: number | null; out: string }>((resolve) =>
      execFile(h.python.executable, [path.join(here, 'selftest.py')], { timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr })));
    expect(r.code, r.out.slice(-3000)).toBe(0);
  }, 120_000);
});
