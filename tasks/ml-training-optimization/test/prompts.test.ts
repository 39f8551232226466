import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The numbers the agent is told are the numbers check.py grades with: each variant's prompt states its margin and
 * tolerance, and the shared rules state the number of data sets and how many are trimmed at each end.
 */
const run = promisify(execFile);
const python = process.env.ENVBENCH_PYTHON ?? '/usr/bin/python3';
const taskDir = path.dirname(import.meta.dirname);

interface Rules { sets: number; variants: Record<string, { margin: number; tolerance: number }> }

describe('ml-training-optimization prompts state the rules check.py applies', () => {
  let rules: Rules;
  beforeAll(async () => {
    const code = 'import json, sys; sys.path.insert(0, sys.argv[1]); import check; ' +
      'print(json.dumps({"sets": check.DATA_SETS, "variants": check.VARIANTS}))';
    rules = JSON.parse((await run(python, ['-c', code, taskDir], { timeout: 60_000 })).stdout) as Rules;
  }, 90_000);

  it.for(['pytorch', 'numpy', 'complex'])('prompt-%s.md states its margin and tolerance', async (variant) => {
    const text = await fs.readFile(path.join(taskDir, `prompt-${variant}.md`), 'utf8');
    const v = rules.variants[variant]!;
    expect(text).toContain(`for this task is ${v.margin}, and the tolerance (mean) is ${v.tolerance}.`);
  });

  it('prompt-rules.md states the number of data sets and the quarter trimmed at each end', async () => {
    const text = (await fs.readFile(path.join(taskDir, 'prompt-rules.md'), 'utf8')).replace(/\s+/g, ' ');
    const n = rules.sets;
    expect(text).toContain(`Generates ${n} fresh data sets`);
    expect(text).toContain(`for each of the ${n} data sets in turn`);
    expect(text).toContain(`Sort these ${n} differences and leave out the ${n / 4} lowest and the ${n / 4} highest: the mean of the middle ${n / 2}`);
    expect(text).toContain(`the mean of all ${n} no more`);
  });
});
