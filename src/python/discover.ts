import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { probePython, PythonProbeError } from './probe.js';
import type { PythonEnv } from './env.js';

/** System interpreters tried after `python3` on PATH: where Debian/Ubuntu packages (python3-torch) install. */
const SYSTEM_PYTHONS: readonly string[] = ['/usr/bin/python3', '/usr/local/bin/python3'];

/** No usable interpreter: a setup problem the user fixes (exit 2), never a stack trace. */
export class PythonUnavailableError extends Error {
  override name = 'PythonUnavailableError';
}

export interface FindPythonOptions {
  /** Modules the tasks of this run import (their requirements); the chosen interpreter is the first that has all. */
  modules: string[];
  env?: NodeJS.ProcessEnv;
  /** Defaults to SYSTEM_PYTHONS; tests pass their own. */
  systemPythons?: readonly string[];
}

/**
 * The interpreter for this run, found rather than assumed: ENVBENCH_PYTHON when set (a bad one is an error,
 * never silently replaced); else the first of `python3` on PATH and the system interpreters that imports every
 * module the tasks need; else the first that runs at all, so `list` and `skipped` trials say what is missing.
 */
export async function findPython(o: FindPythonOptions): Promise<PythonEnv> {
  const env = o.env ?? process.env;
  const configured = env.ENVBENCH_PYTHON?.trim();
  if (configured) {
    try {
      return { ...(await probePython(configured, o.modules)), source: 'ENVBENCH_PYTHON' };
    } catch (e) {
      throw new PythonUnavailableError(`ENVBENCH_PYTHON=${configured}: ${(e as Error).message}`);
    }
  }
  const broken: string[] = [];
  // Resolved here against this env's PATH, so the probe (and its cache) is per interpreter, not per word.
  const onPath = whichSync('python3', env.PATH);
  if (!onPath) broken.push('python3: not on PATH');
  const candidates: Array<{ command: string; source: PythonEnv['source'] }> = [
    ...(onPath ? [{ command: onPath, source: 'PATH' as const }] : []),
    ...(o.systemPythons ?? SYSTEM_PYTHONS).filter((c) => c !== onPath).map((command) => ({ command, source: 'system' as const })),
  ];
  const working: PythonEnv[] = [];
  for (const c of candidates) {
    let py: PythonEnv;
    try {
      py = await probePython(c.command, o.modules);
    } catch (e) {
      if (!(e instanceof PythonProbeError)) throw e;
      broken.push(`${c.command}: ${e.why}`);
      continue;
    }
    const found = { ...py, source: c.source };
    if (o.modules.every((m) => py.modules[m] != null)) return found;
    working.push(found);
  }
  if (working[0]) return working[0];
  throw new PythonUnavailableError(
    `no working Python 3 interpreter found (tried ${broken.join('; ')}). Install python3, or set ENVBENCH_PYTHON to one (e.g. ENVBENCH_PYTHON=/usr/bin/python3).`,
  );
}

/** The first executable file named `name` in the PATH list, or null. */
function whichSync(name: string, pathList = ''): string | null {
  for (const dir of pathList.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      if (statSync(p).isFile()) {
        accessSync(p, constants.X_OK);
        return p;
      }
    } catch {
      // not here
    }
  }
  return null;
}
