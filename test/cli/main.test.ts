import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, validationProblems } from '../../src/cli/main.js';
import { readJournal, readRunRecord } from '../../src/runs/journal.js';
import { trialKey } from '../../src/runs/record.js';
import { makeTrial } from '../support/records.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const fixtureTasks = path.join(import.meta.dirname, '..', 'fixtures', 'tasks');

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, processEnv: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.env.ENVBENCH_TASKS_DIR;
  process.env.ENVBENCH_TASKS_DIR = processEnv.ENVBENCH_TASKS_DIR ?? fixtureTasks;
  try {
    const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }, { ...process.env, ...env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    if (saved === undefined) delete process.env.ENVBENCH_TASKS_DIR;
    else process.env.ENVBENCH_TASKS_DIR = saved;
  }
}

describe('CLI arguments', () => {
  it.each([
    [['run', '--models', 'oracle', '--epochs', 'three'], /--epochs: .*number/],
    [['run', '--models', 'oracle', '--epochs', '0'], /--epochs: --epochs must be at least 1/],
    [['run', '--epochs', '2'], /--models: required, e\.g\. --models oracle,nop/],
    [['run', '--models', 'oracle', '--bogus'], /Unknown option '--bogus'/],
    [['run', '--models', 'gpt:4'], /gpt:4/],
    [['run', '--models', 'oracle', '--tasks', 'nope'], /unknown task\(s\): nope\. Available: echo/],
    [['run', '--models', 'oracle', '--variants', 'loud'], /--variants: unknown variant\(s\) loud\. Known for these tasks: default, terse/],
    [['run', '--resume', 'x.json', '--models', 'oracle'], /--resume FILE takes the plan/],
    [['list', '--models', 'oracle'], /option\(s\) not accepted here: --models/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('%j exits 2 with a readable message', async (argv, pattern) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(pattern);
  });

  it('refuses an anthropic model without an API key, naming the variable', async () => {
    const r = await cli(['run', '--models', 'anthropic:claude-haiku-4-5'], { ANTHROPIC_API_KEY: '' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ANTHROPIC_API_KEY is not set/);
  });
});

describe('list and the main job', () => {
  it('list shows tasks, variants (default starred), samples and whether each can run', async () => {
    const r = await cli(['list']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\| echo +\| Echo a word +\| default\*, terse +\| apple, pear +\| yes +\|/);
    const j = await cli(['list', '--json']);
    expect(JSON.parse(j.out).tasks[0]).toMatchObject({ id: 'echo', variants: ['default*', 'terse'], runnable: true });
  });

  it('list says why a task cannot run here and how to fix it', async () => {
    const r = await cli(['list', '--json'], {}, { ENVBENCH_PYTHON: '/usr/bin/python3', ENVBENCH_TASKS_DIR: path.join(import.meta.dirname, '..', 'fixtures', 'needs-tasks') });
    const [task] = JSON.parse(r.out).tasks;
    expect(task.runnable).toBe(false);
    expect(task.reason).toMatch(/python modules missing .*: envbench_no_such_module.*pip install envbench_no_such_module/);
  });

  it('list names the checks that will be skipped here, and says model trials of a task they decide are skipped', async () => {
    const r = await cli(['list', '--json'], {}, { ENVBENCH_PYTHON: '/usr/bin/python3', ENVBENCH_TASKS_DIR: path.join(import.meta.dirname, '..', '..', 'tasks') });
    const j = JSON.parse(r.out) as { python: { cuda: boolean }; tasks: { id: string; skippedChecks: { check: string; why: string; decisive: boolean }[]; modelTrials: string }[] };
    const mem = j.tasks.find((t) => t.id === 'memory-optimizations')!;
    if (j.python.cuda) {
      expect(mem.skippedChecks).toEqual([]);
      return;
    }
    expect(mem.skippedChecks.map((c) => c.check)).toEqual(['peak_memory_reduction', 'weights_on_device', 'loss_matches_baseline']);
    expect(mem.skippedChecks.every((c) => c.decisive && c.why === 'no CUDA here')).toBe(true);
    expect(mem.modelTrials).toBe('skipped unless --partial-grading');
    const table = await cli(['list'], {}, { ENVBENCH_PYTHON: '/usr/bin/python3', ENVBENCH_TASKS_DIR: path.join(import.meta.dirname, '..', '..', 'tasks') });
    expect(table.out).toMatch(/\| memory-optimizations .*\| partly: model trials skipped unless --partial-grading \| peak_memory_reduction \(decisive\): no CUDA here;/);
  }, 120_000);

  it('with no arguments and no API key, runs validate and says so', async () => {
    const r = await cli([], { ANTHROPIC_API_KEY: '' });
    expect(r.err).toMatch(/ANTHROPIC_API_KEY is not set: running `validate`/);
    expect(r.err).toMatch(/validate ok/);
    expect(r.code).toBe(0);
  });
});

describe('the main job with an API key', () => {
  it('runs the configured models against ANTHROPIC_BASE_URL and adds the finished record to the store', async () => {
    const { startMessagesServer, toolUseReply } = await import('../support/messages-server.js');
    const server = await startMessagesServer((body) => {
      const word = /the word (\w+)/.exec(JSON.stringify(body.messages[0]))![1];
      return toolUseReply('submit_answer', { answer: word }, { usage: { input_tokens: 100, output_tokens: 10 } });
    });
    try {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-main-'));
      const results = path.join(dir, 'results');
      const r = await cli([], {
        ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: server.url, ENVBENCH_MODELS: 'anthropic:claude-haiku-4-5',
        ENVBENCH_RESULTS_DIR: results, ENVBENCH_SCRATCH_DIR: path.join(dir, 'scratch'),
      });
      expect(r.err).toMatch(/running the configured models \(anthropic:claude-haiku-4-5\), 5 epochs/);
      expect(r.code).toBe(0);
      const [stored] = await fs.readdir(results);
      const rec = await readRunRecord(path.join(results, stored!));
      expect(rec.trials).toHaveLength(10);
      expect(rec.trials.every((t) => t.status === 'passed' && t.costUsd! > 0)).toBe(true);
      expect(r.err).toContain(`stored ${path.join(results, stored!)}`);
    } finally {
      await server.close();
    }
  });
});

describe('a transcript log that cannot be written', () => {
  it('warns once, records the trials with no transcript, and does not turn them into errors', async () => {
    const { startMessagesServer, toolUseReply } = await import('../support/messages-server.js');
    const server = await startMessagesServer((body) => {
      const word = /the word (\w+)/.exec(JSON.stringify(body.messages[0]))![1];
      return toolUseReply('submit_answer', { answer: word }, { usage: { input_tokens: 100, output_tokens: 10 } });
    });
    try {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-tlost-'));
      const out = path.join(dir, 'r.json');
      await fs.mkdir(path.join(dir, 'r.transcripts.jsonl')); // a directory where the log should go: every write fails
      const r = await cli(['run', '--tasks', 'echo', '--models', 'anthropic:claude-haiku-4-5', '--epochs', '2', '--out', out], {
        ANTHROPIC_API_KEY: 'sk-test',
        ANTHROPIC_BASE_URL: server.url,
      });
      expect(r.code, r.err).toBe(0);
      expect(r.err.match(/transcripts could not be written/g)).toHaveLength(1);
      const rec = await readRunRecord(out);
      expect(rec.trials).toHaveLength(4);
      expect(rec.trials.every((t) => t.status === 'passed' && t.transcript === null)).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('validate and run', () => {
  it('validate passes on a task whose oracle passes and nop fails', async () => {
    const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-cli-')), 'v.json');
    const r = await cli(['validate', '--out', out]);
    expect(r.err).toMatch(/validate ok: 1 task/);
    expect(r.code).toBe(0);
    const rec = await readRunRecord(out);
    expect(rec.trials.map((t) => `${t.sample}:${t.model}:${t.status}`).sort()).toEqual(['apple:nop:failed', 'apple:oracle:passed', 'pear:nop:failed', 'pear:oracle:passed']);
    expect(rec.sandbox).toMatchObject({ mode: 'bwrap', unsafe: false });
    // The record says what enforced the limits here; CI's root harness drops to the sandbox uid.
    expect(rec.sandbox.enforcement).toMatchObject({ disk: 'watchdog', seccomp: true });
    if (process.geteuid?.() === 0) expect(rec.sandbox.enforcement).toMatchObject({ uid: 65534, uidSource: 'sandbox-uid' });
  });

  it('--unsafe-no-sandbox runs and is written into the run record', async () => {
    const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-cli-')), 'u.json');
    const r = await cli(['run', '--models', 'oracle', '--out', out, '--unsafe-no-sandbox']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/WARNING: --unsafe-no-sandbox/);
    const sandbox = (await readRunRecord(out)).sandbox;
    expect(sandbox).toMatchObject({ mode: 'unsafe-none', unsafe: true });
    expect(sandbox.enforcement).toMatchObject({ uidSource: 'harness', seccomp: false });
  });

  it('a task whose requirements are missing is skipped with the reason, never run or passed', async () => {
    const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-cli-')), 's.json');
    const r = await cli(['run', '--models', 'oracle', '--out', out], {}, { ENVBENCH_TASKS_DIR: path.join(import.meta.dirname, '..', 'fixtures', 'needs-tasks') });
    expect(r.code).toBe(0);
    const [t] = (await readRunRecord(out)).trials;
    expect(t).toMatchObject({ status: 'skipped', score: 0 });
    expect(t!.error).toMatch(/envbench_no_such_module.*Install: /);
    // validate treats a skip as a problem, not a pass.
    const v = await cli(['validate'], {}, { ENVBENCH_TASKS_DIR: path.join(import.meta.dirname, '..', 'fixtures', 'needs-tasks') });
    expect(v.code).toBe(1);
    expect(v.err).toMatch(/validate FAILED[\s\S]*oracle skipped/);
  });

  it('validationProblems flags a passing nop, a failing oracle, skips and errors', () => {
    const t = (model: string, status: 'passed' | 'failed' | 'error' | 'skipped') =>
      makeTrial({ task: 'x', model, status, score: 0, durationMs: 0, error: status === 'skipped' ? 'torch missing' : null, finishedAt: new Date().toISOString() });
    expect(validationProblems([t('oracle', 'passed'), t('nop', 'failed')])).toEqual([]);
    expect(validationProblems([t('nop', 'passed')])[0]).toMatch(/nop passed/);
    expect(validationProblems([t('oracle', 'failed')])[0]).toMatch(/oracle failed/);
    expect(validationProblems([t('oracle', 'skipped')])[0]).toMatch(/skipped: torch missing/);
    expect(validationProblems([t('oracle', 'error')])[0]).toMatch(/error/);
  });

  it('--resume finishes a killed run without repeating finished trials', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-resume-'));
    const out = path.join(dir, 'run.json');
    const journal = path.join(dir, 'run.journal.jsonl'); // beside run.transcripts.jsonl, not run.json.journal.jsonl
    const env = { ...process.env, ENVBENCH_TASKS_DIR: fixtureTasks, ECHO_GRADER_DELAY_MS: '300' };
    const args = ['scripts/bench.ts', 'run', '--models', 'oracle,nop', '--epochs', '3', '--concurrency', '1', '--out', out];
    const child = spawn(path.join(root, 'node_modules/.bin/tsx'), args, { cwd: root, env, stdio: 'ignore' });
    // Kill hard once a few trials are journaled: no chance to clean up.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const lines = existsSync(journal) ? (await fs.readFile(journal, 'utf8')).split('\n').filter(Boolean).length : 0;
      if (lines >= 4) break;
      if (Date.now() > deadline) throw new Error('the run never journaled 3 trials');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(out)).toBe(false);
    const before = await readJournal(journal);
    expect(before.trials.length).toBeGreaterThanOrEqual(3);
    expect(before.trials.length).toBeLessThan(12);

    const resumed = spawn(path.join(root, 'node_modules/.bin/tsx'), ['scripts/bench.ts', 'run', '--resume', out], { cwd: root, env, stdio: 'ignore' });
    const code = await new Promise<number | null>((r) => resumed.once('exit', r));
    expect(code).toBe(0);
    const rec = await readRunRecord(out);
    const keys = rec.trials.map(trialKey);
    expect(keys).toHaveLength(12);
    expect(new Set(keys).size).toBe(12);
    // Trials finished before the kill are carried over untouched, not re-run.
    for (const t of before.trials) {
      expect(rec.trials.find((x) => trialKey(x) === trialKey(t))!.finishedAt).toBe(t.finishedAt);
    }
    expect(rec.runId).toBe(before.header.runId);
    expect(rec.finishedAt).not.toBeNull();
  });
});
