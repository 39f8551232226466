import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addRunToStore, buildIndex, loadResults, ResultsStoreError } from '../../src/runs/store.js';
import type { RunRecord, TrialResult } from '../../src/runs/record.js';
import { makeRunRecord, makeTrial } from '../support/records.js';

const trial = (over: Partial<TrialResult> = {}): TrialResult =>
  makeTrial({
    task: 'paged-attention', variant: 'budget-2900', sample: 'default', model: 'anthropic:claude-haiku-4-5',
    checks: [{ name: 'c', passed: true, detail: 'ok' }],
    usage: { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
    costUsd: 0.25, durationMs: 5, transcript: 'x.transcripts.jsonl', turns: 1, ...over,
  });
const record = (runId: string, trials: TrialResult[], startedAt = '2026-11-21T00:00:00.000Z'): RunRecord =>
  makeRunRecord(runId, trials, { startedAt, harness: { version: '0.1.0', gitSha: 'abc' } });
const tmp = () => fs.mkdtemp(path.join(os.tmpdir(), 'envbench-store-'));

describe('results store', () => {
  it('stores a run compactly under its run id and refuses to rewrite it', async () => {
    const dir = await tmp();
    const file = await addRunToStore(record('20261121T000000Z-aaaa0001', [trial()]), dir);
    expect(path.basename(file)).toBe('20261121T000000Z-aaaa0001.json');
    const text = await fs.readFile(file, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(1);
    await expect(addRunToStore(record('20261121T000000Z-aaaa0001', [trial({ status: 'failed', score: 0 })]), dir)).rejects.toThrow(/already exists; run records are never rewritten/);
    expect(await fs.readFile(file, 'utf8')).toBe(text);
  });

  it('refuses an unfinished run', async () => {
    await expect(addRunToStore({ ...record('r1', []), finishedAt: null }, await tmp())).rejects.toThrow(ResultsStoreError);
  });

  it('names each bad file and its field, and still loads the good ones', async () => {
    const dir = await tmp();
    await addRunToStore(record('20261121T000000Z-good0001', [trial(), trial({ epoch: 1, status: 'error', error: 'api', score: 0 })]), dir);
    await addRunToStore(record('20261122T000000Z-good0002', [trial({ model: 'oracle', costUsd: null })], '2026-11-22T00:00:00.000Z'), dir);
    await fs.writeFile(path.join(dir, 'broken.json'), '{"schemaVersion": 1,');
    const bad = record('20261121T000000Z-bad00001', [{ ...trial(), status: 'won' as never, usage: { inputTokens: -1 } as never }]);
    await fs.writeFile(path.join(dir, '20261121T000000Z-bad00001.json'), JSON.stringify(bad));
    await fs.writeFile(path.join(dir, 'renamed.json'), JSON.stringify(record('20261123T000000Z-elsewhere', [])));
    const loaded = await loadResults(dir);
    expect(loaded.records.map((r) => r.record.runId)).toEqual(['20261121T000000Z-good0001', '20261122T000000Z-good0002']);
    const byFile = Object.fromEntries(loaded.problems.map((p) => [path.basename(p.file), p.message]));
    expect(byFile['broken.json']).toMatch(/not valid JSON/);
    expect(byFile['20261121T000000Z-bad00001.json']).toMatch(/trials\.0\.status/);
    expect(byFile['20261121T000000Z-bad00001.json']).toMatch(/trials\.0\.usage\.inputTokens/);
    expect(byFile['renamed.json']).toMatch(/does not match the file name; rename the file to 20261123T000000Z-elsewhere\.json/);
  });

  it('derives the index from the records, newest first', async () => {
    const dir = await tmp();
    await addRunToStore(record('20261121T000000Z-good0001', [trial(), trial({ epoch: 1, status: 'error', error: 'api', score: 0, costUsd: 0.5 })]), dir);
    await addRunToStore(record('20261122T000000Z-good0002', [trial({ model: 'oracle', costUsd: null })], '2026-11-22T00:00:00.000Z'), dir);
    const index = buildIndex(await loadResults(dir), dir);
    expect(index.map((e) => e.runId)).toEqual(['20261122T000000Z-good0002', '20261121T000000Z-good0001']);
    expect(index[1]).toMatchObject({ trials: 2, statuses: { passed: 1, failed: 0, error: 1, skipped: 0 }, costUsd: 0.75, models: ['anthropic:claude-haiku-4-5'], file: '20261121T000000Z-good0001.json' });
  });

  it('an empty or missing store loads as empty', async () => {
    expect(await loadResults(path.join(await tmp(), 'nope'))).toEqual({ records: [], problems: [] });
  });
});
