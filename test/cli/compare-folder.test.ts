import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { writeRunRecord } from '../../src/runs/journal.js';
import { loadResults } from '../../src/runs/store.js';
import { makeRunRecord, makeTrial } from '../support/records.js';

const rec = (runId: string, n: number, passes: number) =>
  makeRunRecord(runId, Array.from({ length: n }, (_, epoch) => makeTrial({ task: 'echo', model: 'anthropic:claude-haiku-4-5', epoch, status: epoch < passes ? 'passed' : 'failed' })));

describe('compare --baseline <plain folder of records>', () => {
  it('accepts any file names (they need be run ids only in the results store)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-plain-'));
    const base = path.join(dir, 'baseline');
    await writeRunRecord(path.join(base, 'monday.json'), rec('20261121T000000Z-aaaa0001', 30, 12));
    await writeRunRecord(path.join(base, 'tuesday-run.json'), rec('20261122T000000Z-aaaa0002', 30, 12));
    await writeRunRecord(path.join(dir, 'pr.json'), rec('cand', 40, 16));
    const err: string[] = [];
    const out: string[] = [];
    const code = await main(['compare', '--baseline', base, '--candidate', path.join(dir, 'pr.json'), '--format', 'json'], { out: (s) => out.push(s), err: (s) => err.push(s) });
    expect(code, err.join('\n')).toBe(0);
    expect(err.join('\n')).not.toMatch(/does not match the file name/);
    // Both records of the folder are the baseline: 60 trials, 24 passes.
    expect(JSON.parse(out.join('\n')).cells[0]).toMatchObject({ presence: 'both', baseline: { trials: 60, passes: 24 }, candidate: { trials: 40, passes: 16 } });
    // The store itself keeps its naming rule.
    const strict = await loadResults(base);
    expect(strict.records).toHaveLength(0);
    expect(strict.problems[0]!.message).toMatch(/does not match the file name/);
    expect((await loadResults(base, { storeNames: false })).records).toHaveLength(2);
  });
});
