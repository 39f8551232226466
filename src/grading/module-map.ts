import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { readPlainFile } from '../files.js';
import type { GradeContext } from './types.js';

/**
 * The check library's module map (envbench_check.rules.module_map): which attributes of the allowed modules
 * are modules, and which submodules exist. The compare phase's static rules need that to tell `torch.nn` from
 * `torch.sys`; without a map each compare phase imports torch to find out (about 1.7 s on an idle 2-core
 * machine, twice that loaded). The map is computed once per interpreter and set of task modules, by a trusted
 * process in the sandbox (no submission code runs there), and written into each compare phase's trusted folder,
 * which no submission process can reach. A missing or malformed map only costs time: the library walks for real
 * wherever the map is missing, malformed or cannot answer exactly.
 */
const MapSchema = z.object({
  roots: z.record(z.string(), z.string()),
  absent: z.array(z.string()),
  modules: z.record(z.string(), z.object({ attrs: z.record(z.string(), z.string()), subs: z.array(z.string()), opaque: z.boolean() })),
});

/** The standard-library roots always; a third-party root (torch, numpy...) only when the task's Python has it. */
const SCRIPT = [
  'import json, sys',
  'import envbench_check as ec',
  'given = set(sys.argv[2:])',
  'roots = [r for r in ec.DEFAULT_MODULES if r in sys.stdlib_module_names or r in given]',
  "open(sys.argv[1], 'w').write(json.dumps(ec.module_map(roots)))",
].join('\n');

const MAP_FILE = 'module-map.json';
/** The compare phase's own bound on the file (envbench_check.protocol.MODULE_MAP_MAX_BYTES). */
const MAP_MAX_BYTES = 4 << 20;

const made = new Map<string, Promise<string | null>>();

/**
 * The map as JSON text, or null when it could not be made (the compare phase then walks for real). `library`
 * is bound read-only, as in every phase; the map is made once per interpreter and module set per process.
 */
export function moduleMapFor(ctx: GradeContext, library: { src: string; dest: string }): Promise<string | null> {
  const modules = Object.entries(ctx.python.modules).filter(([, v]) => v !== null).map(([k]) => k).sort();
  const key = JSON.stringify([ctx.python.executable, modules, ctx.gpu]);
  let p = made.get(key);
  if (!p) {
    p = build(ctx, library, modules);
    made.set(key, p);
    // An aborted grading tries again next time; a map that cannot be made is not retried per grading.
    void p.then((m) => {
      if (m === null && ctx.signal?.aborted) made.delete(key);
    });
  }
  return p;
}

async function build(ctx: GradeContext, library: { src: string; dest: string }, modules: string[]): Promise<string | null> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-module-map-'));
  try {
    const r = await ctx.sandbox.exec({
      argv: [ctx.python.executable, '-c', SCRIPT, `/workspace/${MAP_FILE}`, ...modules],
      workspace: dir,
      binds: [library],
      env: { PYTHONPATH: library.dest },
      gpu: ctx.gpu,
      limits: { wallSec: 180 },
      signal: ctx.signal,
    });
    if (r.exitCode !== 0 || r.killedBy) return null;
    // A file, not stdout: the sandbox keeps only the first 16 KiB of a stream, and a map with torch is larger.
    const text = await readPlainFile(path.join(dir, MAP_FILE), MAP_MAX_BYTES);
    if (text === null) return null;
    const parsed = MapSchema.safeParse(JSON.parse(text.toString('utf8')));
    return parsed.success ? JSON.stringify(parsed.data) : null;
  } catch {
    return null;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
