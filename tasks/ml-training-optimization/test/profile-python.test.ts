import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../../src/sandbox/index.js';
import { findPython } from '../../../src/python/discover.js';
import { profilePythonTool } from '../../../src/agents/tools/index.js';
import type { ToolContext } from '../../../src/agents/tool.js';
import type { PythonEnv } from '../../../src/python/env.js';

/** The profile_python tool, through the real sandbox: what it returns, and what it refuses. */

const SLOW = `import time

def busy():
    return sum(i * i for i in range(400_000))

def idle():
    return 1

if __name__ == "__main__":
    busy()
    idle()
    print("program says hello")
`;

describe('profile_python tool', () => {
  let sandbox: Sandbox;
  let python: PythonEnv;
  let root: string;
  let workspace: string;
  let outside: string;

  beforeAll(async () => {
    python = await findPython({ modules: [] });
    sandbox = await createSandbox({ extraReadOnlyPaths: python.prefixes });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'envbench-profile-'));
    workspace = path.join(root, 'ws');
    fs.mkdirSync(workspace);
    fs.mkdirSync(path.join(root, 'tmp'));
    fs.writeFileSync(path.join(workspace, 'slow.py'), SLOW);
    outside = path.join(root, 'secret.py');
    fs.writeFileSync(outside, 'print("outside the workspace")\n');
  }, 60_000);

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const ctx = (): ToolContext => ({
    workspace, tmpDir: path.join(root, 'tmp'), sandbox, python, gpu: false, limits: { wallSec: 60 }, signal: new AbortController().signal,
  });
  const call = (input: Record<string, unknown>) => profilePythonTool.run(profilePythonTool.input.parse(input), ctx());
  /** The stdout part of run_python's result text (the profile table). */
  const stdoutOf = (content: string) => content.split('--- stdout')[1]!.split('--- stderr')[0]!;

  it('profiles a workspace file run as __main__: the table on stdout, ranked, the program output on stderr', async () => {
    const r = await call({ path: 'slow.py' });
    expect(r.isError, r.content).toBe(false);
    expect(r.content).toContain('exit code: 0');
    const table = stdoutOf(r.content);
    expect(table).toContain('cProfile of slow.py');
    expect(table).toMatch(/ncalls\s+tottime\s+percall\s+cumtime/);
    expect(table).toContain('Ordered by: cumulative time');
    // busy() costs far more than idle(), so it is listed first of the two.
    const busy = table.indexOf('slow.py:3(busy)');
    const idle = table.indexOf('slow.py:6(idle)');
    expect(busy).toBeGreaterThan(0);
    expect(idle === -1 || busy < idle).toBe(true);
    expect(table).not.toContain('program says hello');
    expect(r.content.split('--- stderr')[1]).toContain('program says hello');
    // Its script is cleaned up, as run_python's are.
    expect(fs.readdirSync(path.join(workspace, '.envbench'))).toEqual([]);
  }, 60_000);

  it('profiles a code string that imports workspace modules; sort and top are honoured', async () => {
    const r = await call({ code: 'import slow\nslow.busy()\nslow.idle()\n', sort: 'tottime', top: 3 });
    expect(r.isError, r.content).toBe(false);
    const table = stdoutOf(r.content);
    expect(table).toContain('Ordered by: internal time');
    expect(table).toMatch(/List reduced from \d+ to 3 due to restriction <3>/);
    expect(table).toContain('cProfile of the given code');
  }, 60_000);

  it('still prints the profile when the program fails, with its exit status and traceback', async () => {
    const boom = await call({ code: 'import slow\nslow.busy()\nraise ValueError("boom")\n' });
    expect(boom.isError).toBe(true);
    expect(boom.content).toContain('exit code: 1');
    expect(boom.content).toContain('ValueError: boom');
    expect(stdoutOf(boom.content)).toContain('(busy)');
    const exit3 = await call({ code: 'import sys\nsys.exit(3)\n' });
    expect(exit3.content).toContain('exit code: 3');
  }, 60_000);

  it('refuses paths outside the workspace, links leading out, missing files, and ambiguous input', async () => {
    const up = await call({ path: '../secret.py' });
    expect(up.isError).toBe(true);
    expect(up.content).toMatch(/outside the workspace/);
    const abs = await call({ path: outside });
    expect(abs.isError).toBe(true);
    fs.symlinkSync(outside, path.join(workspace, 'link.py'));
    const link = await call({ path: 'link.py' });
    expect(link.isError).toBe(true);
    expect(link.content).toMatch(/symlink|outside/);
    expect(link.content).not.toContain('outside the workspace")');
    const missing = await call({ path: 'nope.py' });
    expect(missing.isError).toBe(true);
    expect(missing.content).toMatch(/no such file/);
    expect(profilePythonTool.input.safeParse({ path: 'slow.py', code: 'pass' }).success).toBe(false);
    expect(profilePythonTool.input.safeParse({}).success).toBe(false);
    expect(profilePythonTool.input.safeParse({ path: 'slow.py', top: 1000 }).success).toBe(false);
  }, 60_000);

  it('passes the path and code to Python as data, never as code', async () => {
    // A file name that would break out of a Python string literal if it were spliced into the driver.
    const tricky = 'x"); print("INJECTED"); ("y.py';
    fs.writeFileSync(path.join(workspace, tricky), 'print("tricky file ran")\n');
    const r = await call({ path: tricky });
    expect(r.isError, r.content).toBe(false);
    expect(r.content).toContain('tricky file ran');
    expect(r.content).not.toMatch(/^INJECTED$/m);
  }, 60_000);
});
