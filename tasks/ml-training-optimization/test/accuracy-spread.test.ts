import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * test/accuracy_spread.py, the calibration behind the README's accuracy error rates, from saved deltas
 * (--load: no training, so it runs in a second): the exactly-as-good row is symmetrized, a shift moves it, and the
 * rule's pass rate reacts as the rule says. The numbers themselves are the README's, from the full run.
 */
const run = promisify(execFile);
const python = process.env.ENVBENCH_PYTHON ?? '/usr/bin/python3';
const script = path.join(import.meta.dirname, 'accuracy_spread.py');

describe('accuracy_spread.py --load', () => {
  let dir: string;
  let out = '';
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-spread-'));
    // A same-seed spread that is off centre (mean -0.004), a module far above the line, one 3 points below.
    const same = Array.from({ length: 40 }, (_, i) => ((i % 9) - 4) * 0.003 - 0.004);
    const file = path.join(dir, 'deltas.json');
    await fs.writeFile(file, JSON.stringify({
      variant: 'pytorch', seeds: 40, first_seed: 1,
      deltas: { 'baseline, another training seed': same, 'good.py': same.map((d) => d + 0.03), 'under.py': same.map((d) => d - 0.03) },
    }));
    const r = await run(python, [script, '--load', file, '--gradings', '20000', '--what-if-sets', '8,16', '--shift=-0.03'], { timeout: 120_000 });
    out = r.stdout;
  }, 150_000);
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  const row = (name: string) => {
    const line = out.split('\n').find((l) => l.startsWith(name));
    if (!line) throw new Error(`no row ${name} in:\n${out}`);
    return line.slice(40).trim().split(/\s+/).map(Number);
  };

  it('symmetrizes the exactly-as-good row about 0 and names what it read', () => {
    expect(out).toMatch(/pytorch: 40 data seeds \(from --first-seed 1\); 'baseline, another training seed' symmetrized/);
    const [mean, median] = row('baseline, another training seed');
    // Printed to 4 places; -0.0000 and +0.0000 are both 0 here.
    expect(Math.abs(mean!)).toBe(0);
    expect(Math.abs(median!)).toBe(0);
  });

  it('passes the module above the line, fails the one below, and the shifted row like the module it models', () => {
    expect(row('good.py')[4]).toBe(1);
    expect(row('under.py')[4]).toBeLessThan(0.01);
    expect(row('exactly as good, shifted -0.0300')[4]).toBeLessThan(0.01);
    expect(row('baseline, another training seed')[4]).toBeGreaterThan(0.9);
  });

  it('prints the what-if table for each number of data sets asked', () => {
    expect(out).toMatch(/8x0\.007 +16x0\.007/);
  });
});
