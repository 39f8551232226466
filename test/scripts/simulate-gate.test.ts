import { describe, expect, it } from 'vitest';
import { scenarios, simulateScenario } from '../../scripts/simulate-gate.js';

// The benchmark's own figures (10,000 PRs a row) are in the README; this checks, on a few PRs, that it drives the
// deployed loop end to end and that its scenarios mean what they say.
describe('simulate-gate drives the deployed PR flow', () => {
  const rows = scenarios(20);
  it('finds the 40% -> 10% cell among 19 unchanged ones, with at most the cap of trials per cell', async () => {
    const r = await simulateScenario(rows[2]!.cells, { prs: 20, seed: 11 });
    expect(r.firstCellRate).toBeGreaterThanOrEqual(0.6);
    expect(r.p95TrialsPerCell).toBeLessThanOrEqual(60);
    expect(r.meanTrialsPerCell).toBeGreaterThanOrEqual(10); // every cell runs at least its first look
  }, 120_000);

  it('an erroring sample neither fakes regressions nor fails the check (the other sample is graded)', async () => {
    const r = await simulateScenario(rows[3]!.cells, { prs: 10, seed: 12 });
    expect(r.alarmRate).toBeLessThanOrEqual(0.2);
    expect(r.failedCheckRate).toBe(r.alarmRate);
  }, 120_000);
});
