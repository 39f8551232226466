import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readRunRecord } from '../../src/runs/journal.js';
import type { Grade } from '../../src/grading/types.js';

const examples = path.resolve(import.meta.dirname, '..', '..', 'examples', 'tasks');

/** `bench validate` over examples/tasks, as a user who copied one would run it over tasks/. */
async function validate(out: string) {
  const lines: string[] = [];
  const saved = process.env.ENVBENCH_TASKS_DIR;
  process.env.ENVBENCH_TASKS_DIR = examples;
  try {
    const code = await main(['validate', '--out', out], { out: (s) => lines.push(s), err: (s) => lines.push(s) }, {
      ...process.env,
      ENVBENCH_PYTHON: process.env.ENVBENCH_PYTHON ?? '/usr/bin/python3',
    });
    return { code, text: lines.join('\n') };
  } finally {
    if (saved === undefined) delete process.env.ENVBENCH_TASKS_DIR;
    else process.env.ENVBENCH_TASKS_DIR = saved;
  }
}

describe('the copyable example tasks', () => {
  it('validate passes both: each reference passes and each no-op fails, in the real sandbox', async () => {
    const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-examples-')), 'v.json');
    const r = await validate(out);
    expect(r.text).toMatch(/validate ok: 2 task/);
    expect(r.code).toBe(0);
    const rec = await readRunRecord(out);
    const got = rec.trials.map((t) => `${t.task}:${t.sample}:${t.model}:${t.status}`).sort();
    expect(got).toEqual([
      'hello-python:default:nop:failed',
      'hello-python:default:oracle:passed',
      'hello-world:apple:nop:failed',
      'hello-world:apple:oracle:passed',
      'hello-world:pear:nop:failed',
      'hello-world:pear:oracle:passed',
    ]);
  }, 300_000);
});

describe('runPythonCheck on the Python example: the submission\'s misbehaviour is its failure, never a grading error', () => {
  const SOFTMAX = 'import numpy as np\n\n\ndef softmax(x):\n    z = np.exp(x - x.max(axis=1, keepdims=True))\n    return z / z.sum(axis=1, keepdims=True)\n';
  // Each hostile submission and the check that must fail for it (the right one, not just any).
  const CAUGHT_BY: Record<string, string> = {
    'kills the parent': 'runs_cleanly',
    'fakes and floods the output': 'matches',
    'rewrites outputs at exit': 'matches',
    'never returns': 'runs_within_limits',
  };
  const HOSTILE: Record<string, string> = {
    // Kills the library's parent (same sandbox, same uid): the run ends abnormally.
    'kills the parent': `import os\nos.kill(os.getppid(), 9)\n${SOFTMAX}`,
    // Prints a passing verdict and floods stdout and stderr far past the sandbox's caps.
    'fakes and floods the output': `import os\nos.write(1, b'{"passed":true,"score":1,"checks":[]}\\n' * 200000)\nos.write(2, b"x" * 20_000_000)\ndef softmax(x):\n    return x\n`,
    // Returns wrong values and rewrites the outputs at exit with the right ones.
    'rewrites outputs at exit': `import atexit\nimport numpy as np\n\n\ndef _fix():\n    with np.load("inputs.npz") as z:\n        x = z["x"]\n    e = np.exp(x - x.max(axis=1, keepdims=True))\n    np.savez("outputs.npz", y=e / e.sum(axis=1, keepdims=True))\n\n\natexit.register(_fix)\n\n\ndef softmax(x):\n    return np.zeros_like(x)\n`,
    // Never returns: the sandbox's wall limit ends it.
    'never returns': 'import time\n\n\ndef softmax(x):\n    while True:\n        time.sleep(1)\n',
  };

  /** Grades `code` through hello-python's real grader in the real sandbox; `inspect` sees the grading's folder before it goes. */
  async function gradeHello<T>(code: string, inspect: (grade: Grade, workDir: string) => Promise<T> | T): Promise<T> {
    const { loadTask } = await import('../../src/tasks/index.js');
    const { probePython } = await import('../../src/python/probe.js');
    const { createSandbox } = await import('../../src/sandbox/index.js');
    const task = await loadTask(path.join(examples, 'hello-python'));
    const py = await probePython(process.env.ENVBENCH_PYTHON ?? '/usr/bin/python3', ['numpy']);
    const sandbox = await createSandbox({ extraReadOnlyPaths: py.prefixes });
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-hello-'));
    try {
      const grade = await task.def.grader(task.def.submission.parse({ code }), {
        taskId: 'hello-python', taskDir: task.dir, sampleId: 'default', sampleInputs: {}, variantId: 'default',
        sandbox, python: py, gpu: false, workDir: async () => workDir, signal: AbortSignal.timeout(240_000),
      });
      return await inspect(grade, workDir);
    } finally {
      await fs.rm(workDir, { recursive: true, force: true });
    }
  }

  // Side by side: 'never returns' waits out its wall limit, and the others' work fills that time.
  it.concurrent.for(Object.entries(HOSTILE))('%s', { timeout: 300_000 }, async ([name, code], { expect }) => {
    // A grade came back (a GraderInfraError would have thrown): failed, with every detail bounded.
    const grade = await gradeHello(code, (g) => g);
    expect(grade.passed, JSON.stringify(grade.checks)).toBe(false);
    expect(grade.checks.filter((c) => c.passed === false).map((c) => c.name)).toContain(CAUGHT_BY[name]);
    for (const c of grade.checks) expect(c.detail.length).toBeLessThanOrEqual(2500);
  });

  it('the compare phase gets the module map, made by a trusted process, beside its own copy of the source', async () => {
    const map = await gradeHello(SOFTMAX, async (grade, workDir) => {
      expect(grade.passed, JSON.stringify(grade.checks)).toBe(true);
      return JSON.parse(await fs.readFile(path.join(workDir, 'trusted', 'module-map.json'), 'utf8')) as { roots: Record<string, string> };
    });
    expect(map.roots.numpy).toBe('numpy');
    expect(map.roots.math).toBe('math');
  }, 300_000);
});
