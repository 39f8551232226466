import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const run = (args: string[]) =>
  new Promise<{ code: number; out: string; err: string }>((resolve) =>
    execFile(process.execPath, ['--import', 'tsx', 'scripts/bench-supervision.ts', ...args], { cwd: ROOT, timeout: 240_000 }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
    ),
  );

// The figures themselves (and the comparison with the commit before the fixes) are in the README; this
// checks, at the smallest sizes, that the script measures all three and prints each as a number.
describe('bench-supervision', () => {
  it('prints the supervision CPU, the scan ratio and the start time, each a measured number', async () => {
    const r = await run(['--runs', '1', '--sleep', '0.5', '--rounds', '2', '--starts', '1']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    const cpu = /^supervising a sandboxed 0\.5 s sleep: harness CPU (\d+) ms per second of the command \(median of 1; /.exec(lines[0]!);
    expect(cpu, lines[0]).not.toBeNull();
    // The command ran and the harness spent something on it, but nowhere near a core for a sleep.
    expect(Number(cpu![1])).toBeLessThan(1000);
    const scan = /^one \/proc scan: ([\d.]+) ms of CPU; readFileSync takes ([\d.]+)x that \(median of 2 rounds' ratios/.exec(lines[1]!);
    expect(scan, lines[1]).not.toBeNull();
    expect(Number(scan![1])).toBeGreaterThan(0);
    expect(Number(scan![2])).toBeGreaterThan(0);
    expect(lines[2]).toMatch(/^a CLI start \(importing src\/cli\/main\.ts under tsx\): \d+ ms wall; importing only what it now loads on first use \(vega, vega-lite, openai\): \d+ ms \(medians of 1; \d+ cores\)$/);
  }, 240_000);

  it('refuses a bad argument with exit 2 and the flag named', async () => {
    const r = await run(['--runs', 'many']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^bench-supervision: --runs: .*\nusage: /);
  }, 60_000);
});
