import { describe, expect, it } from 'vitest';
import { runSequentialEval, type CellStore, type EvalCell } from '../../src/github/sequential-eval.js';
import { compareRuns } from '../../src/reports/compare/index.js';
import type { TrialResult } from '../../src/runs/record.js';
import { makeTrial } from '../support/records.js';

const cell = (model: string): EvalCell => ({ task: 't', variant: 'v', model, samples: 2 });
const baseline = ['good', 'broken', 'flat'].flatMap((model) =>
  Array.from({ length: 100 }, (_, i) => makeTrial({ model, sample: i % 2 ? 'b' : 'a', epoch: i >> 1, status: i % 2 ? 'passed' : 'failed' })),
);

/** An in-memory stand-in for the cells' journals, and a runner that appends trials as `run --resume --epochs N` would. */
function harness(outcome: (model: string, epoch: number, sample: string) => TrialResult['status'], preset: Record<string, { epochs: number; trials: TrialResult[] }> = {}) {
  const mem = new Map(Object.entries(preset));
  const store: CellStore = { read: async (r) => mem.get(r) ?? null, exists: (r) => mem.has(r) };
  const calls: { model: string; epochs: number; resume: boolean }[] = [];
  const runCell = async (c: EvalCell, epochs: number, record: string, resume: boolean) => {
    calls.push({ model: c.model, epochs, resume });
    const e = mem.get(record) ?? { epochs: 0, trials: [] };
    const have = new Set(e.trials.map((t) => `${t.sample}/${t.epoch}`));
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (const sample of ['a', 'b']) {
        if (!have.has(`${sample}/${epoch}`)) e.trials.push(makeTrial({ model: c.model, sample, epoch, status: outcome(c.model, epoch, sample), error: null }));
      }
    }
    mem.set(record, { epochs, trials: e.trials });
    return 0;
  };
  return { store, runCell, calls, mem };
}

const judge = (candidate: TrialResult[], final: boolean) => compareRuns(baseline, candidate, {}, { final });

describe('runSequentialEval: the PR job\'s look loop', () => {
  it('runs each cell to its looks, stops it once decided, and never past its cap', async () => {
    // The baseline fails sample a and passes sample b. good: the same; broken: never passes; flat: b half the time.
    const h = harness((model, epoch, sample) => (model === 'broken' ? 'failed' : sample === 'a' ? 'failed' : model === 'flat' && epoch % 2 ? 'failed' : 'passed'));
    const r = await runSequentialEval({ cells: [cell('good'), cell('broken'), cell('flat')], dir: '/x', judge, runCell: h.runCell, store: h.store });
    const trials = Object.fromEntries(r.progress.map((p) => [p.cell.model, p.trials]));
    // broken: 0/5 on sample b against 50/50 there (p = 1/C(55,5) = 2.9e-7) is not below the first look's level
    // (O'Brien-Fleming, alpha 0.05/3), 0/10 against 50/50 at the second (p = 1/C(60,10) = 1.3e-12) is.
    expect(trials.broken).toBe(20);
    // good: the same pattern as the baseline: no change at the first look.
    expect(trials.good).toBe(10);
    expect(r.progress.find((p) => p.cell.model === 'good')!.verdict).toBe('no-change');
    expect(r.progress.find((p) => p.cell.model === 'broken')!.verdict).toBe('regression');
    for (const p of r.progress) expect(p.trials).toBeLessThanOrEqual(60);
    // First batch of every cell: 5 epochs = 10 trials = the first look; later batches only for undecided cells.
    expect(h.calls.filter((c) => c.epochs === 5).map((c) => c.model).sort()).toEqual(['broken', 'flat', 'good']);
    expect(h.calls.filter((c) => c.model === 'broken').map((c) => c.epochs)).toEqual([5, 10]);
  });

  it('finishes a cancelled batch first (resume), repeating no trial', async () => {
    // A previous attempt planned 5 epochs and journaled 3 trials before it was cancelled.
    const partial = [0, 1].flatMap((epoch) => ['a', 'b'].map((sample) => makeTrial({ model: 'broken', sample, epoch, status: 'failed' }))).slice(0, 3);
    const h = harness(() => 'failed', { '/x/cells/t__v__broken.json': { epochs: 5, trials: partial } });
    const r = await runSequentialEval({ cells: [cell('broken')], dir: '/x', judge, runCell: h.runCell, store: h.store });
    expect(h.calls[0]).toEqual({ model: 'broken', epochs: 5, resume: true });
    expect(r.trials).toHaveLength(10);
    expect(new Set(r.trials.map((t) => `${t.sample}/${t.epoch}`)).size).toBe(10);
  });

  it('stops a cell whose whole batch ended without a grade, instead of paying for more of the same', async () => {
    const h = harness(() => 'error');
    const r = await runSequentialEval({ cells: [cell('good')], dir: '/x', judge, runCell: h.runCell, store: h.store });
    expect(h.calls).toHaveLength(1);
    expect(r.progress[0]!.state).toBe('capped');
    expect(judge(r.trials, true).passed).toBe(false);
  });

  it('stops the loop on an exit code that ends the job', async () => {
    const h = harness(() => 'failed');
    const r = await runSequentialEval({ cells: [cell('good')], dir: '/x', judge, runCell: async (...a) => (await h.runCell(...a), 130), store: h.store, stopOn: (c) => c === 130 });
    expect(r.stoppedBy).toBe(130);
    expect(h.calls).toHaveLength(1);
  });
});
