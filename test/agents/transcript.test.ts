import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TranscriptLog, readTrialTranscript } from '../../src/agents/transcript.js';

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
    // The first line is the (shared, empty) tool list's def, then the trials' lines.
    expect(lines.map((l) => l.trial ?? l.type)).toEqual(['def', 't/a/s/m/0', 't/b/s/m/0', 't/a/s/m/0', 't/b/s/m/0', 't/a/s/m/0']);
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

  it('writes each task\'s tool schemas once per run and puts them back into every trial\'s meta', async () => {
    const file = path.join(dir, 'run.transcripts.jsonl');
    const toolsA = [{ name: 'run_python', description: 'runs code', input_schema: { type: 'object', properties: { code: { type: 'string' } } } }];
    const toolsB = [{ name: 'submit_answer', description: 'submits', input_schema: { type: 'object' } }];
    const first = new TranscriptLog(file);
    for (const k of ['a/0', 'a/1', 'a/2']) first.sink(k).write({ ...meta, tools: toolsA, prompt: k });
    first.sink('b/0').write({ ...meta, tools: toolsB });
    await first.close();
    // A resumed run appends with a new log: the same schemas get the same ref (a content hash).
    const second = new TranscriptLog(file);
    second.sink('a/3').write({ ...meta, tools: toolsA });
    await second.close();
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const defs = lines.filter((l) => l.type === 'def');
    expect(defs.map((d) => d.value)).toEqual([toolsA, toolsB, toolsA]);
    expect(defs[0].ref).toBe(defs[2].ref);
    expect(defs[0].ref).not.toBe(defs[1].ref);
    for (const l of lines.filter((x) => x.type === 'meta')) expect(l).not.toHaveProperty('tools');
    for (const k of ['a/0', 'a/2', 'a/3']) expect((await readTrialTranscript(file, k))[0]).toMatchObject({ type: 'meta', tools: toolsA });
    expect((await readTrialTranscript(file, 'b/0'))[0]).toMatchObject({ type: 'meta', tools: toolsB });
  });

  it('refuses a meta line whose tool schemas are not in the file', async () => {
    const file = path.join(dir, 'run.transcripts.jsonl');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, JSON.stringify({ trial: 'k', ts: 'x', type: 'meta', toolsRef: 'deadbeef' }) + '\n');
    await expect(readTrialTranscript(file, 'k')).rejects.toThrow(/names tool schemas deadbeef, but no def line/);
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
