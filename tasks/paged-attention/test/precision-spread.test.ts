import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * test/precision_spread.py, the measurement behind the README's reduced-precision figures, on a few draws: it
 * names what it ran, prints one row per file with the base and deployed ratios, the float32-accumulating
 * reference is far inside both, and the deployed tolerance never fails a native-dtype solution where the base
 * one may. The full run's numbers are the README's.
 */
const run = promisify(execFile);
const python = process.env.ENVBENCH_PYTHON ?? '/usr/bin/python3';
const here = import.meta.dirname;
const script = path.join(here, 'precision_spread.py');

describe('precision_spread.py', () => {
  it('prints a row per file; the deployed tolerance passes the native-dtype solution on every draw', async () => {
    const files = [path.join(here, '..', 'solution', 'reference.py'), path.join(here, 'valid_submissions', 'native_dtype.py')];
    const { stdout } = await run(python, [script, '--draws', '4', '--first-seed', '7', ...files], { timeout: 120_000 });
    expect(stdout).toMatch(/^4 draws x 3 bfloat16 cases on .+; tolerance scale: median [\d.]+, max [\d.]+, >1 in \d+% of cases$/m);
    const row = (name: string) => {
      const line = stdout.split('\n').find((l) => l.startsWith(name));
      if (!line) throw new Error(`no row ${name} in:\n${stdout}`);
      return line.slice(36).replaceAll('/', ' ').replaceAll('%', '').trim().split(/\s+/).map(Number);
    };
    const [refMedian, refWorst, refFails, , refDeployedWorst, refDeployedFails] = row('reference.py');
    expect(refWorst).toBeLessThan(0.5);
    expect(refMedian).toBeLessThanOrEqual(refWorst!);
    expect([refFails, refDeployedFails]).toEqual([0, 0]);
    expect(refDeployedWorst).toBeLessThanOrEqual(refWorst!);
    const [, , , , nativeDeployedWorst, nativeDeployedFails] = row('native_dtype.py');
    expect(nativeDeployedWorst).toBeLessThanOrEqual(1);
    expect(nativeDeployedFails).toBe(0);
  }, 150_000);

  it('refuses a draw count under 1 with exit 2 and a message', async () => {
    const err = await run(python, [script, '--draws', '0', path.join(here, 'valid_submissions', 'native_dtype.py')]).then(
      () => null, (e: { code?: number; stderr?: string }) => e);
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(/--draws must be at least 1/);
  });
});
