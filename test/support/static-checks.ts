import { execFile } from 'node:child_process';
import path from 'node:path';
import { z } from 'zod';
import { CheckSchema, type Check } from '../../src/grading/types.js';

/** One file to analyse: its path under the task folder, and an optional string the call sees as `extra` (a step id). */
export interface StaticFile {
  file: string;
  extra?: string;
}

const OutputSchema = z.record(z.string(), z.array(CheckSchema));

/** The static checks of one file, in a grade's shape (src/grading/expectations.ts's failingChecks reads it). */
export interface StaticVerdict {
  checks: Check[];
}

/**
 * A task's static checks over many files in ONE trusted Python process: `import check` from the task folder,
 * then `call` (a Python expression over `src`, the file's bytes, and `extra`) per file. Parsing only: nothing
 * here imports or runs a submission, so it costs a fraction of a sandboxed grading. The suite uses it for the
 * submissions it does not grade through the sandbox (test/support/grading.ts, gradedSet): a cheat a static
 * check catches is still caught by that check in `npm test`, and a valid alternative still passes every static
 * check; `npm run test:graders` grades them all for real.
 */
export async function staticChecks(python: string, taskDir: string, call: string, files: Record<string, StaticFile>): Promise<Map<string, StaticVerdict>> {
  const script = [
    'import json, os, sys',
    'task_dir = sys.argv[1]',
    'sys.path.insert(0, task_dir)',
    'import check',
    'files = json.loads(sys.stdin.read())',
    'out = {}',
    'for label, f in files.items():',
    '    with open(os.path.join(task_dir, f["file"]), "rb") as fh:',
    '        src = fh.read()',
    '    extra = f.get("extra")',
    `    out[label] = ${call}`,
    'print(json.dumps(out))',
  ].join('\n');
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(python, ['-c', script, taskDir], { timeout: 300_000, maxBuffer: 64 << 20, cwd: taskDir }, (err, out, errOut) =>
      err ? reject(new Error(`static checks in ${path.basename(taskDir)} failed: ${err.message}\n${errOut.slice(-2000)}`)) : resolve(out));
    child.stdin!.end(JSON.stringify(files));
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  return new Map(Object.entries(OutputSchema.parse(JSON.parse(last))).map(([label, checks]) => [label, { checks }]));
}
