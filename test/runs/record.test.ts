import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunRecordSchema, trialKey, type RunRecord, type TrialResult } from '../../src/runs/record.js';
import { makeRunRecord, makeTrial } from '../support/records.js';
import { Journal, readJournal, readRunRecord, writeRunRecord, RunRecordError, JournalError } from '../../src/runs/journal.js';

const trial = (over: Partial<TrialResult> = {}): TrialResult =>
  makeTrial({ checks: [{ name: 'c', passed: true, detail: 'ok' }], durationMs: 5, ...over });
const header = (): Omit<RunRecord, 'trials'> => {
  const { trials: _, ...h } = makeRunRecord('r1', [], {
    finishedAt: null,
    environment: { node: 'v20', platform: 'linux-x64', python: '3.11', torch: '1.13', gpu: null },
    plan: { tasks: ['t'], models: ['oracle'], variants: null, epochs: 2 },
  });
  return h;
};
const tmp = () => fs.mkdtemp(path.join(os.tmpdir(), 'envbench-rec-'));

describe('run record', () => {
  it('round-trips through the atomic writer and the validating reader', async () => {
    const dir = await tmp();
    const rec: RunRecord = { ...header(), trials: [trial(), trial({ epoch: 1, status: 'failed', score: 0.5, limit: 'tokens' })] };
    await writeRunRecord(path.join(dir, 'r.json'), rec);
    expect(await readRunRecord(path.join(dir, 'r.json'))).toEqual(rec);
  });

  it('names the file and each wrong field of a bad record', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'bad.json');
    const rec = { ...header(), trials: [{ ...trial(), status: 'won', score: 3 }] };
    await fs.writeFile(file, JSON.stringify(rec));
    const err = await readRunRecord(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunRecordError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/trials\.0\.status/);
    expect((err as Error).message).toMatch(/trials\.0\.score/);
  });

  it('refuses an unknown schema version', () => {
    expect(RunRecordSchema.safeParse({ ...header(), schemaVersion: 3, trials: [] }).success).toBe(false);
  });

  it('journal keeps every finished trial and drops only a torn last line', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'r.json.journal.jsonl');
    const j = await Journal.create(file, header());
    await Promise.all([j.append(trial()), j.append(trial({ epoch: 1 }))]);
    await fs.appendFile(file, '{"type":"trial","trial":{"task":"t"'); // killed mid-write
    const back = await readJournal(file);
    expect(back.trials.map(trialKey)).toEqual(['t/v/s/oracle/0', 't/v/s/oracle/1']);
    expect(back.warnings).toHaveLength(1);
  });

  it('journal corruption before the last line is an error naming the line', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'r.json.journal.jsonl');
    const j = await Journal.create(file, header());
    await fs.appendFile(file, 'garbage\n');
    await j.append(trial());
    await expect(readJournal(file)).rejects.toThrow(JournalError);
    await expect(readJournal(file)).rejects.toThrow(/:2: not valid JSON/);
  });
});
