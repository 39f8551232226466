import { execFile } from 'node:child_process';
import { z } from 'zod';
import type { PythonEnv } from './env.js';

/**
 * Runs on the host with the configured interpreter (trusted: no model code is involved). Prints one
 * sentinel-prefixed JSON line, so whatever a module prints while importing cannot confuse the parser.
 */
const PROBE = String.raw`
import json, os, sys, site, importlib
mods = json.loads(sys.argv[1])
out = {}
# In a venv the interpreter must be started through the venv's own path (a symlink) or it would not find
# pyvenv.cfg and would lose the venv's packages; elsewhere resolve symlinks and shims to the real binary.
in_venv = sys.prefix != sys.base_prefix
out["executable"] = sys.executable if in_venv else os.path.realpath(sys.executable)
out["version"] = sys.version.split()[0]
cands = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
try:
    cands += list(site.getsitepackages())
except Exception:
    pass
try:
    cands.append(site.getusersitepackages())
except Exception:
    pass
prefixes = []
for c in cands:
    if not c or not os.path.isdir(c):
        continue
    for p in (os.path.abspath(c), os.path.realpath(c)):
        if p == "/usr" or p.startswith("/usr/") or p in prefixes:
            continue
        prefixes.append(p)
out["prefixes"] = prefixes
res = {}
for m in mods:
    try:
        mod = importlib.import_module(m)
        res[m] = str(getattr(mod, "__version__", ""))
    except BaseException:
        res[m] = None
out["modules"] = res
out["torch"] = None
out["cuda"] = False
out["gpu"] = None
try:
    import torch
    out["torch"] = str(torch.__version__)
    out["cuda"] = bool(torch.cuda.is_available())
    if out["cuda"]:
        out["gpu"] = torch.cuda.get_device_name(0)
except BaseException:
    pass
sys.stdout.write("\nENVBENCH_PROBE " + json.dumps(out) + "\n")
`;

const SENTINEL = 'ENVBENCH_PROBE ';

const ProbeSchema = z.object({
  executable: z.string().min(1),
  version: z.string(),
  prefixes: z.array(z.string()),
  modules: z.record(z.string(), z.string().nullable()),
  torch: z.string().nullable(),
  cuda: z.boolean(),
  gpu: z.string().nullable(),
});

/** Drops prefixes inside another one: binding the outer directory already exposes them. */
function outermost(paths: string[]): string[] {
  return paths.filter((p) => !paths.some((q) => q !== p && (p + '/').startsWith(q.endsWith('/') ? q : q + '/')));
}

/** The probe could not use `command`; `why` is the short reason (not found, timed out, ...). */
export class PythonProbeError extends Error {
  override name = 'PythonProbeError';
  constructor(
    readonly command: string,
    readonly why: string,
    detail: string,
  ) {
    super(`Cannot use the Python interpreter "${command}" (${why}). Set ENVBENCH_PYTHON to a working python3 (e.g. ENVBENCH_PYTHON=/usr/bin/python3).${detail}`);
  }
}

/** Importing torch on a loaded machine takes tens of seconds; most other modules a few. */
const IMPORT_BOUND_MS: Record<string, number> = { torch: 90_000 };
const DEFAULT_IMPORT_BOUND_MS = 20_000;
const BASE_BOUND_MS = 20_000;

/** The probe's time bound: a base plus each module it imports (torch always, for the CUDA check). */
export function probeBoundMs(modules: string[]): number {
  const all = new Set([...modules, 'torch']);
  return [...all].reduce((ms, m) => ms + (IMPORT_BOUND_MS[m] ?? DEFAULT_IMPORT_BOUND_MS), BASE_BOUND_MS);
}

/** Per interpreter, for the process (one run): the modules probed so far and the probe's result. */
const cache = new Map<string, { modules: Set<string>; result: Promise<PythonEnv> }>();

/**
 * What the interpreter `command` is and has. Cached per interpreter: a later call asking for modules not yet
 * probed probes the union once more; a failed probe is not cached. `modules` are imported on the host to
 * report their versions.
 */
export function probePython(command: string, modules: string[] = []): Promise<PythonEnv> {
  const hit = cache.get(command);
  if (hit && modules.every((m) => hit.modules.has(m))) return hit.result;
  const mods = [...new Set([...(hit?.modules ?? []), ...modules])].sort();
  const entry = { modules: new Set(mods), result: runProbe(command, mods) };
  cache.set(command, entry);
  entry.result.catch(() => {
    if (cache.get(command) === entry) cache.delete(command);
  });
  return entry.result;
}

function runProbe(command: string, modules: string[]): Promise<PythonEnv> {
  const bound = probeBoundMs(modules);
  return new Promise((resolve, reject) => {
    // cwd '/': `python -c` puts the cwd first on sys.path, and a stray torch/ folder there would shadow the real one.
    execFile(
      command,
      ['-c', PROBE, JSON.stringify(modules)],
      { cwd: '/', timeout: bound, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
      (error, stdout, stderr) => {
        const fail = (why: string) =>
          reject(new PythonProbeError(command, why, stderr.trim() ? `\n${stderr.trim().split('\n').slice(-10).join('\n')}` : ''));
        if (error) {
          const e = error as NodeJS.ErrnoException & { killed?: boolean };
          if (e.code === 'ENOENT') return fail('not found');
          if (e.code === 'EACCES') return fail('not executable');
          if (e.killed) return fail(`the probe timed out after ${Math.round(bound / 1000)} s importing ${['torch', ...modules.filter((m) => m !== 'torch')].join(', ')}`);
          return fail(e.message.split('\n')[0] ?? 'it failed');
        }
        const line = stdout.split('\n').find((l) => l.startsWith(SENTINEL));
        if (!line) return fail('it did not print the probe result; is it Python 3?');
        let parsed: z.infer<typeof ProbeSchema>;
        try {
          parsed = ProbeSchema.parse(JSON.parse(line.slice(SENTINEL.length)));
        } catch (e) {
          return fail(`unreadable probe result: ${(e as Error).message}`);
        }
        resolve({ command, source: 'given', ...parsed, prefixes: outermost(parsed.prefixes) });
      },
    );
  });
}
