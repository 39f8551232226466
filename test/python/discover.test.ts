import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPython, PythonUnavailableError } from '../../src/python/discover.js';
import { probeBoundMs, probePython } from '../../src/python/probe.js';
import { checkRequirements } from '../../src/python/requirements.js';
import { main } from '../../src/cli/main.js';
import type { PythonEnv } from '../../src/python/env.js';

const SYSTEM = '/usr/bin/python3';

/** A PATH whose python3 is a real Python without site-packages: no torch, numpy or sklearn (a pyenv shim, a bare venv). */
async function pathWithBarePython(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-bare-python-'));
  await fs.writeFile(path.join(dir, 'python3'), `#!/bin/sh\nexec ${SYSTEM} -S "$@"\n`, { mode: 0o755 });
  return `${dir}:/usr/bin:/bin`;
}

async function cli(argv: string[], env: NodeJS.ProcessEnv, tasksDir = path.resolve(import.meta.dirname, '..', '..', 'tasks')) {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.env.ENVBENCH_TASKS_DIR;
  process.env.ENVBENCH_TASKS_DIR = tasksDir;
  try {
    const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }, { ...process.env, ...env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    if (saved === undefined) delete process.env.ENVBENCH_TASKS_DIR;
    else process.env.ENVBENCH_TASKS_DIR = saved;
  }
}

describe('finding the interpreter', () => {
  it('skips a python3 on PATH that lacks the modules and takes the system interpreter that has them', async () => {
    const PATH = await pathWithBarePython();
    const py = await findPython({ modules: ['torch', 'numpy'], env: { PATH }, systemPythons: [SYSTEM] });
    expect(py.command).toBe(SYSTEM);
    expect(py.source).toBe('system');
    expect(py.modules.torch).not.toBeNull();
  });

  it('keeps python3 on PATH when it has the modules', async () => {
    const py = await findPython({ modules: ['json'], env: { PATH: '/usr/bin:/bin' }, systemPythons: ['/nonexistent/python3'] });
    expect(py.command).toBe('/usr/bin/python3');
    expect(py.source).toBe('PATH');
  });

  it('with no interpreter that has them, returns the first that runs, so the skip says what is missing', async () => {
    const PATH = await pathWithBarePython();
    const py = await findPython({ modules: ['envbench_no_such_module'], env: { PATH }, systemPythons: [SYSTEM] });
    expect(py.source).toBe('PATH');
    const req = checkRequirements({ pythonModules: ['envbench_no_such_module'], cuda: 'none' }, py);
    expect(req.ok).toBe(false);
  });

  it('never replaces a bad ENVBENCH_PYTHON: it is an error naming the variable', async () => {
    const e = await findPython({ modules: [], env: { ENVBENCH_PYTHON: '/nonexistent/python3', PATH: '/usr/bin' } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PythonUnavailableError);
    expect((e as Error).message).toMatch(/ENVBENCH_PYTHON=\/nonexistent\/python3.*not found/);
  });

  it('says what it tried when nothing runs', async () => {
    const e = await findPython({ modules: [], env: { PATH: '' }, systemPythons: ['/nonexistent/python3'] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PythonUnavailableError);
    expect((e as Error).message).toMatch(/python3: not on PATH; \/nonexistent\/python3: not found/);
  });

  it('a file that is not an interpreter is named as such', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-not-python-'));
    const fake = path.join(dir, 'python3');
    await fs.writeFile(fake, '#!/bin/sh\necho hello\n', { mode: 0o755 });
    await expect(findPython({ modules: [], env: { ENVBENCH_PYTHON: fake } })).rejects.toThrow(/did not print the probe result/);
  });
});

describe('the probe', () => {
  it('is bounded by what it imports: torch and each module add to the base', () => {
    expect(probeBoundMs(['numpy', 'sklearn'])).toBeGreaterThan(probeBoundMs([]));
    expect(probeBoundMs([])).toBeGreaterThanOrEqual(60_000); // torch is always imported for the CUDA check
    expect(probeBoundMs(['torch'])).toBe(probeBoundMs([]));
  });

  it('is cached per interpreter: a subset of the modules reuses the probe, a new module probes the union', async () => {
    const a = probePython(SYSTEM, ['numpy', 'json']);
    expect(probePython(SYSTEM, ['json'])).toBe(a);
    const b = probePython(SYSTEM, ['csv']);
    expect(b).not.toBe(a);
    const env = await b;
    expect(Object.keys(env.modules)).toEqual(expect.arrayContaining(['csv', 'json', 'numpy']));
    expect(probePython(SYSTEM, ['numpy'])).toBe(b);
  });
});

describe('the CLI', () => {
  it('list finds the interpreter with the tasks\' modules when python3 on PATH lacks them, and says which', async () => {
    const PATH = await pathWithBarePython();
    const r = await cli(['list', '--json'], { ENVBENCH_PYTHON: '', PATH });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.python).toMatchObject({ command: SYSTEM, source: 'system' });
    for (const t of j.tasks) expect(t.reason ?? '').not.toMatch(/python modules missing/);
    const table = await cli(['list'], { ENVBENCH_PYTHON: '', PATH });
    expect(table.out).toMatch(/python \(found: python3 on PATH lacks the tasks' modules\): \/usr\/bin\/python3/);
  });

  it.each([['list'], ['validate'], ['run', '--models', 'oracle']])('%s with a bad ENVBENCH_PYTHON exits 2 with one clear message, no stack trace', async (...argv) => {
    const r = await cli(argv, { ENVBENCH_PYTHON: '/nonexistent/python3' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/error: ENVBENCH_PYTHON=\/nonexistent\/python3: Cannot use the Python interpreter/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('the install hint names the pip package, scikit-learn, not the import name', () => {
    const py: PythonEnv = { command: 'x', source: 'given', executable: 'x', version: '3', prefixes: [], modules: { sklearn: null }, torch: null, cuda: false, gpu: null };
    const r = checkRequirements({ pythonModules: ['sklearn'], cuda: 'none' }, py);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.hint).toMatch(/pip install scikit-learn/);
      expect(r.hint).toMatch(/python3-sklearn/);
    }
  });
});
