// The smallest Python-graded task: copy this folder to tasks/<your-id>/ and edit it (README "Adding a task").
// check.py holds only the task's logic; the shared check library (src/grading/python/envbench_check.py) runs
// the phases in three sandboxes, the submission in an isolated child, and writes the verdict file.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineTask } from '../../../src/tasks/index.js';
import { runPythonCheck, type PythonCheckSpec } from '../../../src/grading/python-check.js';

const CHECK: PythonCheckSpec = {
  script: 'check.py',
  publicFiles: ['inputs.npz'],
  limits: { prepare: { wallSec: 60 }, run: { wallSec: 10, memoryMb: 1024 }, compare: { wallSec: 60 } },
  maxOutputMb: 8,
};

const source = (file: string) => ({ taskDir }: { taskDir: string }) =>
  readFile(path.join(taskDir, file), 'utf8').then((code) => ({ code }));

export default defineTask({
  id: 'hello-python',
  title: 'A numerically stable softmax',
  description: 'Example task: write softmax(x) in numpy, stable for large inputs.',
  prompt: { user: 'prompt.md' },
  samples: [{ id: 'default', inputs: {} }],
  variants: [{ id: 'default', description: 'as written', default: true }],
  submission: z.object({ code: z.string().min(1).max(50_000).describe('The Python source defining softmax(x)') }),
  limits: { maxTurns: 5, outputTokenBudget: 4000, timeLimitSec: 300 },
  requirements: { pythonModules: ['numpy'] },
  grader: (submission, ctx) => runPythonCheck(CHECK, submission.code, ctx),
  reference: source('solution/reference.py'),
  noop: source('starter.py'),
});
