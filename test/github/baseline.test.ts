import { describe, expect, it } from 'vitest';
import { selectBaseline } from '../../src/github/baseline.js';
import { judgePullRequest } from '../../src/github/pr-gate.js';
import { renderBaseline } from '../../src/github/pr-report.js';
import type { RunRecord, TrialResult } from '../../src/runs/record.js';
import { makeRunRecord, makeTrial } from '../support/records.js';

const V1 = '1'.repeat(64);
const V2 = '2'.repeat(64); // the base branch's current version of t/v
const versions = new Map([['t', new Map([['v', V2]])]]);
const full = { profile: 'full' as const, ran: ['c'], skipped: [] };
const partial = { profile: 'partial' as const, ran: [], skipped: [{ check: 'gpu', why: 'no CUDA here' }] };

function run(runId: string, day: string, n: number, over: Partial<TrialResult> & { hash?: string | null; grading?: typeof full | typeof partial } = {}): RunRecord {
  const { hash = V2, grading = full, ...rest } = over;
  return makeRunRecord(
    runId,
    Array.from({ length: n }, (_, epoch) =>
      makeTrial({ model: 'm', epoch, status: epoch % 2 ? 'failed' : 'passed', finishedAt: `${day}T0${epoch % 10}:00:00.000Z`, ...(hash !== null && { provenance: { taskHash: hash, harness: 'h', servedModel: null, grading } }), ...rest }),
    ),
    { startedAt: `${day}T00:00:00.000Z`, schemaVersion: hash === null ? 1 : 2 },
  );
}

describe('the baseline rule', () => {
  // A store as history leaves it: versions, profiles and dates mixed.
  const store = [
    run('r-old-current', '2026-11-01', 8), // current version, oldest
    run('r-v1-newest', '2026-11-30', 20, { hash: V1 }), // newest, but an older task version
    run('r-mid-current', '2026-11-10', 8),
    run('r-cpu', '2026-11-20', 6, { grading: partial }), // current version graded without its CUDA checks
    run('r-schema1', '2026-11-25', 5, { hash: null }), // a record from before versions
    run('r-new-current', '2026-11-15', 8, { status: 'error' }), // current version, but errors: not graded
    run('r-other-model', '2026-11-28', 8, { model: 'other' }),
  ];

  it('takes the newest graded trials of the current version with the full profile, up to the size, and counts what it left out', () => {
    const b = selectBaseline(store, [{ task: 't', variant: 'v', model: 'm' }], versions, 12);
    // Eligible: 8 (11-10) + 8 (11-01) = 16; the newest 12: all of 11-10 and the 4 newest of 11-01.
    expect(b.trials).toHaveLength(12);
    expect(b.runs).toEqual([
      { runId: 'r-mid-current', startedAt: '2026-11-10T00:00:00.000Z', trials: 8 },
      { runId: 'r-old-current', startedAt: '2026-11-01T00:00:00.000Z', trials: 4 },
    ]);
    const oldest = b.trials.filter((t) => t.finishedAt.startsWith('2026-11-01')).map((t) => t.epoch).sort();
    expect(oldest).toEqual([4, 5, 6, 7]); // the newest by finishedAt (hour = epoch)
    expect(b.cells[0]).toMatchObject({ used: 12, eligible: 16, taskHash: V2, excluded: { olderVersion: 20, partialProfile: 6, unversioned: 5 }, oldest: '2026-11-01T04:00:00.000Z', newest: '2026-11-10T07:00:00.000Z' });
    expect(b.trials.every((t) => t.model === 'm' && t.provenance?.taskHash === V2)).toBe(true);
  });

  it('the comment names the runs and dates it used', () => {
    const b = selectBaseline(store, [{ task: 't', variant: 'v', model: 'm' }], versions, 12);
    const md = renderBaseline(b, 'origin/main');
    expect(md).toContain('the newest 12 graded trials on `origin/main` of the task\'s current version there');
    expect(md).toContain('12 trial(s) from 2 run(s): `r-mid-current` (2026-11-10, 8), `r-old-current` (2026-11-01, 4).');
    expect(md).toMatch(/\| t\/v\/m +\| 222222222222 +\| 12 of 16 +\| 2026-11-01 – 2026-11-10 +\| r-mid-current \(8\), r-old-current \(4\) +\| 20 older version, 6 partial profile, 5 unversioned +\|/);
  });

  it('a task absent from the base branch has no baseline; the gate compares nothing for it', () => {
    const b = selectBaseline(store, [{ task: 'new', variant: 'v', model: 'm' }], versions, 12);
    expect(b.cells[0]).toMatchObject({ taskHash: null, used: 0 });
    const g = judgePullRequest({ candidate: [makeTrial({ task: 'new', model: 'm' })], baseRecords: store, baseVersions: versions });
    expect(g.comparison.cells[0]!.verdict).toBe('candidate-only');
  });

  it('the gate never compares a partially graded candidate trial with a fully graded baseline', () => {
    const cand = Array.from({ length: 10 }, (_, epoch) => makeTrial({ model: 'm', epoch, status: 'failed', provenance: { taskHash: V2, harness: 'h', servedModel: null, grading: partial } }));
    const g = judgePullRequest({ candidate: cand, baseRecords: store, baseVersions: versions });
    expect(g.partialCandidateTrials).toBe(10);
    expect(g.comparison.passed).toBe(false); // nothing comparable: cannot judge, never "no regression"
  });
});
