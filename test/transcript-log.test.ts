import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TranscriptLog, readTrialTranscript } from '../src/agents/transcript.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'envbench-tlog-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const meta = { type: 'meta' as const, model: 'm', thinkingBudget: null, system: '', prompt: 'p', tools: [], limits: {}, maxTokensPerCall: 1, callPolicy: {} };

describe('TranscriptLog: one JSONL file per run, lines tagged by trial', () => {
  it('interleaves concurrent trials in one file and reads each back in order', async () => {
    const log = new TranscriptLog(path.join(dir, 'sub', 'run.transcripts.jsonl'));
    const a = log.sink('t/a/s/m/0');
    const b = log.sink('t/b/s/m/0');
    a.write(meta);
    b.write(meta);
    a.write({ type: 'user', turn: 1, text: 'a1' });
    b.write({ type: 'user', turn: 1, text: 'b1' });
    await a.flush(); // one flush writes every trial's pending lines
    a.write({ type: 'user', turn: 2, text: 'a2' });
    await log.close();
    const lines = (await readFile(log.path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.trial)).toEqual(['t/a/s/m/0', 't/b/s/m/0', 't/a/s/m/0', 't/b/s/m/0', 't/a/s/m/0']);
    const readA = await readTrialTranscript(log.path, 't/a/s/m/0');
    expect(readA.map((e) => (e.type === 'user' ? e.text : e.type))).toEqual(['meta', 'a1', 'a2']);
    expect(readA[0]).not.toHaveProperty('trial');
    expect(readA[0]!.ts).toMatch(/^\d{4}-/);
    expect((await readTrialTranscript(log.path, 't/b/s/m/0')).length).toBe(2);
    expect(a.failure).toBeNull();
  });

  it('keeps only the last attempt of a trial that was resumed, and skips a torn last line', async () => {
    const file = path.join(dir, 'run.transcripts.jsonl');
    const first = new TranscriptLog(file);
    first.sink('k').write(meta);
    first.sink('k').write({ type: 'user', turn: 1, text: 'interrupted attempt' });
    await first.close();
    const second = new TranscriptLog(file); // --resume appends to the same log
    second.sink('k').write(meta);
    second.sink('k').write({ type: 'user', turn: 1, text: 'final attempt' });
    await second.close();
    const { appendFile } = await import('node:fs/promises');
    await appendFile(file, '{"trial":"k","type":"us');
    const events = await readTrialTranscript(file, 'k');
    expect(events.map((e) => (e.type === 'user' ? e.text : e.type))).toEqual(['meta', 'final attempt']);
  });

  it('reports a write failure on every sink instead of throwing into the trial', async () => {
    // The log's path is a directory: opening it for append fails.
    const log = new TranscriptLog(dir);
    const s = log.sink('k');
    s.write(meta);
    await s.flush();
    expect(s.failure).toBeInstanceOf(Error);
    expect(log.sink('other').failure).toBe(s.failure);
  });

  it('makes no file when nothing is written (a run of oracle and nop)', async () => {
    const log = new TranscriptLog(path.join(dir, 'none.jsonl'));
    await log.close();
    await expect(readFile(log.path)).rejects.toThrow(/ENOENT/);
  });
});
