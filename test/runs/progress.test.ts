import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProgressReporter } from '../../src/cli/progress.js';
import { formatTally, ProgressTally } from '../../src/runs/progress.js';
import { costCell, summaryTable } from '../../src/reports/summary.js';
import { main } from '../../src/cli/main.js';
import { readRunRecord } from '../../src/runs/journal.js';
import { makeTrial } from '../support/records.js';
import { startMessagesServer, toolUseReply } from '../support/messages-server.js';

const fixtureTasks = path.join(import.meta.dirname, '..', 'fixtures', 'tasks');

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, tty?: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.env.ENVBENCH_TASKS_DIR;
  process.env.ENVBENCH_TASKS_DIR = fixtureTasks;
  try {
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), ...(tty ? { tty: (s: string) => void tty.push(s) } : {}) };
    const code = await main(argv, io, { ...process.env, ...env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    if (saved === undefined) delete process.env.ENVBENCH_TASKS_DIR;
    else process.env.ENVBENCH_TASKS_DIR = saved;
  }
}

describe('the tally', () => {
  it('counts statuses and spend (agent and judge), says unknown prices apart, and estimates the rest from the pace', () => {
    const t = new ProgressTally(10, 0);
    t.add(makeTrial({ status: 'passed', costUsd: 0.5, judge: { model: 'j', requests: 1, usage: makeTrial().usage, costUsd: 0.25, transcript: null } }));
    t.add(makeTrial({ status: 'failed', costUsd: null }));
    t.add(makeTrial({ status: 'error', costUsd: 0.25 }));
    // 3 trials in 60 s: 7 left take 140 s.
    expect(formatTally(t, 60_000)).toBe('[3/10] 1 passed, 1 failed, 1 error · 1m00s elapsed · ETA 2m20s · $1.0000 spent (+1 trial(s) at unknown price)');
  });

  it('resumed trials count in the totals but not in the pace', () => {
    const t = new ProgressTally(4, 0, [makeTrial(), makeTrial()]);
    expect(t.etaMs(1000)).toBeNull();
    t.add(makeTrial());
    expect(t.etaMs(10_000)).toBe(10_000);
  });
});

describe('the progress reporter', () => {
  it('on a terminal: one live line redrawn in place; errors stay above it; the end clears it', () => {
    const tty: string[] = [];
    const lines: string[] = [];
    let now = 0;
    const p = createProgressReporter({ total: 3, line: (s) => lines.push(s), tty: (s) => void tty.push(s), now: () => now });
    now = 1000;
    p.trialEnded(makeTrial({ status: 'passed' }));
    now = 2000;
    p.trialEnded(makeTrial({ status: 'error', error: 'API error 500' }));
    p.finish();
    expect(tty.every((s) => s.startsWith('\r\x1b[2K') && !s.includes('\n'))).toBe(true);
    expect(tty.at(-2)).toMatch(/^\r\x1b\[2K\[2\/3\] 1 passed, 0 failed, 1 error · 2s elapsed · ETA 1s · \$0\.0000 spent$/);
    // Only the error and the final tally are lines; a pass is just counted.
    expect(lines).toEqual([expect.stringMatching(/\[2\/3\] t\/v\/s oracle #0 error: API error 500/), expect.stringMatching(/^done \[2\/3\]/)]);
  });

  it('in a log: a line per trial, and a periodic tally', async () => {
    const lines: string[] = [];
    const p = createProgressReporter({ total: 2, line: (s) => lines.push(s), tallyEveryMs: 50 });
    p.trialEnded(makeTrial({ status: 'failed', limit: 'turns' }));
    await new Promise((r) => setTimeout(r, 400));
    p.finish();
    expect(lines[0]).toMatch(/^\[1\/2\] t\/v\/s oracle #0 failed \(limit: turns\)/);
    expect(lines.filter((l) => l.startsWith('progress [1/2] 0 passed, 1 failed, 0 error')).length).toBeGreaterThanOrEqual(1);
    expect(lines.at(-1)).toMatch(/^done \[1\/2\]/);
  });
});

describe('unknown prices in the summary', () => {
  it('are shown as unknown, never $0.0000', () => {
    expect(costCell([null, null])).toBe('unknown');
    expect(costCell([0.5, null])).toBe('$0.5000 + unknown (1 trial(s))');
    expect(costCell([0.5, 0.25])).toBe('$0.7500');
    const table = summaryTable([makeTrial({ model: 'openai:qwen2.5:7b', costUsd: null, usage: { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 } })]);
    expect(table).toContain('unknown');
    expect(table).not.toContain('$0.0000');
  });
});

describe('run options', () => {
  const serve = () =>
    startMessagesServer((body) => {
      const word = /the word (\w+)/.exec(JSON.stringify(body.messages[0]))![1];
      return toolUseReply('submit_answer', { answer: word }, { usage: { input_tokens: 100, output_tokens: 10 } });
    });

  it('--max-cost-usd stops starting trials once reached, records it, and --resume with a higher cap finishes the run', async () => {
    const server = await serve();
    try {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-cap-'));
      const out = path.join(dir, 'r.json');
      const env = { ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: server.url };
      // Each trial costs 100 x $1/M + 10 x $5/M = $0.00015: the cap is reached after the first.
      const r = await cli(['run', '--tasks', 'echo', '--variants', 'default', '--models', 'anthropic:claude-haiku-4-5', '--epochs', '2', '--concurrency', '1', '--max-cost-usd', '0.0001', '--out', out], env);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(/spending cap reached: \$0\.000150 spent of \$0\.0001; 3 trial\(s\) not started/);
      const rec = await readRunRecord(out);
      expect(rec.trials).toHaveLength(1);
      expect(rec.plan.maxCostUsd).toBe(0.0001);
      expect(rec.costCapReached).toEqual({ maxCostUsd: 0.0001, spentUsd: expect.closeTo(0.00015, 10), trialsNotStarted: 3 });
      const again = await cli(['run', '--resume', out, '--max-cost-usd', '1'], env);
      expect(again.code, again.err).toBe(0);
      const done = await readRunRecord(out);
      expect(done.trials).toHaveLength(4);
      expect(done.costCapReached).toBeUndefined();
      expect(done.plan.maxCostUsd).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('a terminal gets the live line during a real run', async () => {
    const tty: string[] = [];
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-tty-'));
    const r = await cli(['run', '--tasks', 'echo', '--models', 'oracle,nop', '--out', path.join(dir, 'r.json')], {}, tty);
    expect(r.code, r.err).toBe(0);
    expect(tty.some((s) => /\[4\/4\] 2 passed, 2 failed, 0 error · \d+s elapsed · ETA 0s · \$0\.0000 spent/.test(s))).toBe(true);
    expect(r.err).not.toMatch(/^\[1\/4\]/m); // no line per trial on a terminal
  });

  it('an --out that exists is a clear error (exit 2), and the record is untouched', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-exists-'));
    const out = path.join(dir, 'r.json');
    await fs.writeFile(out, 'precious');
    const r = await cli(['run', '--tasks', 'echo', '--models', 'oracle', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--out .*r\.json: a run record or journal already exists there; finish it with `run --resume/);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(await fs.readFile(out, 'utf8')).toBe('precious');
    const v = await cli(['validate', '--out', out]);
    expect(v.code).toBe(2);
  });

  it('--resume never takes a new plan or a new run id (only --epochs, which extends it, and --max-cost-usd)', async () => {
    for (const extra of [['--run-id', 'other'], ['--tasks', 'echo'], ['--judge', 'none']]) {
      const r = await cli(['run', '--resume', 'x.json', ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.err).toMatch(/--resume FILE takes the plan from FILE's journal; do not also pass .*--run-id \(only --epochs, to extend it, and --max-cost-usd\)/);
    }
  });

  it('files are named alike and the run id inside is the file\'s: r.json, r.journal.jsonl, r.transcripts.jsonl; --run-id names the default file', async () => {
    const server = await serve();
    try {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-names-'));
      const env = { ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: server.url, ENVBENCH_SCRATCH_DIR: dir };
      const out = path.join(dir, 'r.json');
      expect((await cli(['run', '--tasks', 'echo', '--variants', 'default', '--models', 'anthropic:claude-haiku-4-5', '--run-id', 'my-run.1', '--out', out], env)).code).toBe(0);
      expect((await fs.readdir(dir)).sort()).toEqual(['r.journal.jsonl', 'r.json', 'r.transcripts.jsonl']);
      expect((await readRunRecord(out)).runId).toBe('my-run.1');
      const bad = await cli(['run', '--models', 'oracle', '--run-id', '../x']);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/--run-id: a run id uses letters/);
    } finally {
      await server.close();
    }
  });

  it('a run journaled under the old name (FILE.json.journal.jsonl) still resumes', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-legacy-'));
    const out = path.join(dir, 'r.json');
    expect((await cli(['run', '--tasks', 'echo', '--models', 'oracle', '--out', out])).code).toBe(0);
    await fs.rename(path.join(dir, 'r.journal.jsonl'), path.join(dir, 'r.json.journal.jsonl'));
    await fs.rm(out);
    const r = await cli(['run', '--resume', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/\(0 trial\(s\) run now/);
    expect((await readRunRecord(out)).trials).toHaveLength(2);
  });

  it('the main job\'s scratch file, the record inside and the stored file share one run id', async () => {
    const server = await serve();
    try {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-mainid-'));
      const r = await cli([], {
        ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: server.url, ENVBENCH_MODELS: 'anthropic:claude-haiku-4-5',
        ENVBENCH_RESULTS_DIR: path.join(dir, 'results'), ENVBENCH_SCRATCH_DIR: path.join(dir, 'scratch'), ENVBENCH_JUDGE: 'none',
      });
      expect(r.code, r.err).toBe(0);
      const [scratch] = (await fs.readdir(path.join(dir, 'scratch'))).filter((f) => f.endsWith('.json'));
      const [stored] = await fs.readdir(path.join(dir, 'results'));
      expect(stored).toBe(scratch);
      expect(`${(await readRunRecord(path.join(dir, 'scratch', scratch!))).runId}.json`).toBe(scratch);
    } finally {
      await server.close();
    }
  }, 120_000);
});
