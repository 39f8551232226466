import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { readRunRecord } from '../src/runs/journal.js';

const examples = path.resolve(import.meta.dirname, '..', 'examples', 'tasks');

/** `bench validate` over examples/tasks, as a user who copied one would run it over tasks/. */
async function validate(out: string) {
  const lines: string[] = [];
  const saved = process.env.ENVBENCH_TASKS_DIR;
  process.env.ENVBENCH_TASKS_DIR = examples;
  try {
    const code = await main(['validate', '--out', out], { out: (s) => lines.push(s), err: (s) => lines.push(s) }, {
      ...process.env,
      ENVBENCH_PYTHON: process.env.ENVBENCH_PYTHON ?? '/usr/bin/python3',
    });
    return { code, text: lines.join('\n') };
  } finally {
    if (saved === undefined) delete process.env.ENVBENCH_TASKS_DIR;
    else process.env.ENVBENCH_TASKS_DIR = saved;
  }
}

describe('the copyable example tasks', () => {
  it('validate passes both: each reference passes and each no-op fails, in the real sandbox', async () => {
    const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-examples-')), 'v.json');
    const r = await validate(out);
    expect(r.text).toMatch(/validate ok: 2 task/);
    expect(r.code).toBe(0);
    const rec = await readRunRecord(out);
    const got = rec.trials.map((t) => `${t.task}:${t.sample}:${t.model}:${t.status}`).sort();
    expect(got).toEqual([
      'hello-python:default:nop:failed',
      'hello-python:default:oracle:passed',
      'hello-world:apple:nop:failed',
      'hello-world:apple:oracle:passed',
      'hello-world:pear:nop:failed',
      'hello-world:pear:oracle:passed',
    ]);
  }, 300_000);
});
