/**
 * What the harness itself costs around sandboxed work (not a test: timings on shared machines are noisy, so
 * this prints figures measured in one run, and ratios measured side by side):
 *  1. the harness's own CPU while it supervises a sandboxed command that only sleeps (the watchdog's /proc
 *     scans every 100 ms, the launch and the reaping), per second of the command;
 *  2. one /proc scan as the watchdog reads it (src/sandbox/proc-table.ts, one shared buffer) against the same
 *     scan through readFileSync, in alternating rounds: the median of the rounds' ratios;
 *  3. the start of a CLI or action process: importing src/cli/main.ts under tsx, and for comparison the
 *     modules it now loads only on first use (vega, vega-lite, the openai SDK).
 *
 *   npx tsx scripts/bench-supervision.ts [--runs 5] [--sleep 2] [--rounds 20] [--starts 3]
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ProcTable } from '../src/sandbox/proc-table.js';
import { createSandbox } from '../src/sandbox/index.js';
import { findPython } from '../src/python/discover.js';
import { median } from '../src/grading/timing.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const Args = z.object({
  runs: z.coerce.number().int().min(1).max(100).default(5),
  sleep: z.coerce.number().min(0.5).max(60).default(2),
  rounds: z.coerce.number().int().min(2).max(1000).default(20),
  starts: z.coerce.number().int().min(1).max(20).default(3),
});

function usage(message: string): never {
  process.stderr.write(`bench-supervision: ${message}\nusage: npx tsx scripts/bench-supervision.ts [--runs 5] [--sleep 2] [--rounds 20] [--starts 3]\n`);
  process.exit(2);
}

let args: z.infer<typeof Args>;
try {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, sleep: { type: 'string' }, rounds: { type: 'string' }, starts: { type: 'string' } } });
  const parsed = Args.safeParse(values);
  if (!parsed.success) usage(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  args = parsed.data;
} catch (e) {
  usage((e as Error).message);
}

const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

// 1. Supervising a sandboxed sleep.
const python = await findPython({ modules: [] });
const sandbox = await createSandbox({ extraReadOnlyPaths: python.prefixes });
const perSecond: number[] = [];
for (let i = 0; i < args.runs; i++) {
  const ws = fs.mkdtempSync(path.join('/var/tmp', 'envbench-bench-ws-'));
  fs.chmodSync(ws, 0o755);
  try {
    const c0 = process.cpuUsage();
    const r = await sandbox.exec({
      argv: [python.executable, '-c', `import time; time.sleep(${args.sleep})`],
      workspace: ws,
      signal: AbortSignal.timeout(60_000 + args.sleep * 1000),
    });
    const used = cpuMs(process.cpuUsage(c0));
    if (r.exitCode !== 0) throw new Error(`the sandboxed sleep ended with exit ${r.exitCode} ${r.killedBy ?? ''}: ${r.stderr.slice(-500)}`);
    perSecond.push(used / (r.durationMs / 1000));
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
}
const procs = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
console.log(`supervising a sandboxed ${args.sleep} s sleep: harness CPU ${median(perSecond).toFixed(0)} ms per second of the command ` +
  `(median of ${args.runs}; range ${Math.min(...perSecond).toFixed(0)}-${Math.max(...perSecond).toFixed(0)}), ${procs} processes on the host`);

// 2. One /proc scan: the watchdog's reader against readFileSync, alternating.
function scanReadFileSync(): number {
  let n = 0;
  for (const name of fs.readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/stat`, 'latin1').length) n++;
    } catch {
      // gone
    }
  }
  return n;
}
const timeScans = (f: () => unknown, n: number) => {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  return cpuMs(process.cpuUsage(c0)) / n;
};
timeScans(() => ProcTable.scan(), 20);
timeScans(scanReadFileSync, 20);
const ratios: number[] = [];
const ours: number[] = [];
for (let r = 0; r < args.rounds; r++) {
  const a = timeScans(() => ProcTable.scan(), 20);
  const b = timeScans(scanReadFileSync, 20);
  ours.push(a);
  ratios.push(b / a);
}
const sortedRatios = [...ratios].sort((x, y) => x - y);
console.log(`one /proc scan: ${median(ours).toFixed(2)} ms of CPU; readFileSync takes ${median(ratios).toFixed(2)}x that ` +
  `(median of ${args.rounds} rounds' ratios, middle half ${sortedRatios[Math.floor(args.rounds / 4)]!.toFixed(2)}-` +
  `${sortedRatios[Math.floor((3 * args.rounds) / 4)]!.toFixed(2)})`);

// 3. A CLI or action start.
const startMs = (code: string) =>
  new Promise<number>((resolve, reject) => {
    const t = Date.now();
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, timeout: 120_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`${code}: ${stderr.slice(-500)}`)) : resolve(Date.now() - t),
    );
  });
const cli: number[] = [];
const lazy: number[] = [];
await startMs(`await import('./src/cli/main.ts')`);
for (let i = 0; i < args.starts; i++) {
  cli.push(await startMs(`await import('./src/cli/main.ts')`));
  lazy.push(await startMs(`await Promise.all([import('vega'), import('vega-lite'), import('openai')])`));
}
console.log(`a CLI start (importing src/cli/main.ts under tsx): ${median(cli).toFixed(0)} ms wall; importing only what it now loads ` +
  `on first use (vega, vega-lite, openai): ${median(lazy).toFixed(0)} ms (medians of ${args.starts}; ${os.cpus().length} cores)`);
