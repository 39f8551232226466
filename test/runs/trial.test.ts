import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTask, type LoadedTask } from '../../src/tasks/index.js';
import { runTrial, type TrialEnv } from '../../src/runs/trial.js';
import { parseAgentSpec } from '../../src/agents/model-spec.js';
import { TranscriptLog } from '../../src/agents/transcript.js';
import { createSandbox } from '../../src/sandbox/index.js';
import { findPython } from '../../src/python/discover.js';

let dir: string;
let task: LoadedTask;
let env: TrialEnv;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'envbench-trial-'));
  task = await loadTask(path.join(import.meta.dirname, '..', 'fixtures', 'hang-tasks', 'hang-grader'));
  const python = await findPython({ modules: [] });
  env = {
    sandbox: await createSandbox({ extraReadOnlyPaths: python.prefixes }),
    python,
    requirements: { ok: true },
    workRoot: dir,
    transcripts: new TranscriptLog(path.join(dir, 't.jsonl')),
    recordDir: dir,
  };
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const spec = () => ({ task, variant: task.variants[0]!, sampleId: 'only', agent: parseAgentSpec('oracle'), agentName: 'oracle', epoch: 0 });

describe('runTrial: grading is bounded', () => {
  it('a grader that never settles and ignores its signal ends as error at the grading limit, not a hang', async () => {
    const t0 = performance.now();
    const r = await runTrial(spec(), { ...env, gradingTimeLimitMs: 300 });
    const ms = performance.now() - t0;
    expect(r.status).toBe('error');
    expect(r.error).toBe('grader: exceeded its time limit of 300 ms');
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(10_000);
  });

  it('a run aborted during grading ends the trial at once, as error, not failed', async () => {
    const run = new AbortController();
    setTimeout(() => run.abort(new Error('interrupted')), 100);
    const r = await runTrial(spec(), { ...env, signal: run.signal, gradingTimeLimitMs: 60_000 });
    expect(r.status).toBe('error');
    expect(r.error).toBe('grading aborted: the run was interrupted');
  });
});

describe('runTrial: the oracle is bounded too', () => {
  it('a reference that never comes ends the oracle trial as error at the task time limit, not a hang', async () => {
    const hung = await loadTask(path.join(import.meta.dirname, '..', 'fixtures', 'hang-tasks', 'hang-reference'));
    const t0 = performance.now();
    const r = await runTrial({ ...spec(), task: hung, variant: hung.variants[0]! }, env);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.status).toBe('error');
    expect(r.error).toBe("oracle: the task's reference submission was not made within the time limit of 1 s");
    // nop's submission comes at once and is graded as usual.
    const nop = await runTrial({ ...spec(), task: hung, variant: hung.variants[0]!, agent: parseAgentSpec('nop'), agentName: 'nop' }, env);
    expect(nop.status).toBe('failed');
  });
});
