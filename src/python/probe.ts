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

const cache = new Map<string, Promise<PythonEnv>>();

/**
 * What the interpreter `command` is and has. Cached per (command, modules); a failed probe is not cached.
 * `modules` are imported on the host to report their versions.
 */
export function probePython(command: string = process.env.ENVBENCH_PYTHON ?? 'python3', modules: string[] = []): Promise<PythonEnv> {
  const mods = [...new Set(modules)].sort();
  const key = `${command}\0${mods.join(',')}`;
  let p = cache.get(key);
  if (!p) {
    p = runProbe(command, mods);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

function runProbe(command: string, modules: string[]): Promise<PythonEnv> {
  return new Promise((resolve, reject) => {
    // cwd '/': `python -c` puts the cwd first on sys.path, and a stray torch/ folder there would shadow the real one.
    execFile(
      command,
      ['-c', PROBE, JSON.stringify(modules)],
      { cwd: '/', timeout: 60_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
      (error, stdout, stderr) => {
        const fail = (why: string) =>
          reject(
            new Error(
              `Cannot use the Python interpreter "${command}" (${why}). ` +
                'Set ENVBENCH_PYTHON to a working python3 (e.g. ENVBENCH_PYTHON=/usr/bin/python3).' +
                (stderr.trim() ? `\n${stderr.trim().split('\n').slice(-10).join('\n')}` : ''),
            ),
          );
        if (error) {
          const e = error as NodeJS.ErrnoException & { killed?: boolean };
          if (e.code === 'ENOENT') return fail('not found');
          if (e.killed) return fail('the probe timed out after 60 s');
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
        resolve({ command, ...parsed, prefixes: outermost(parsed.prefixes) });
      },
    );
  });
}
