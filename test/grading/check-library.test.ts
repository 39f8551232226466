import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The shared check library (src/grading/python/envbench_check.py), attacked as a submission would. */
const root = path.resolve(import.meta.dirname, '..', '..');
const python = process.env.ENVBENCH_PYTHON ?? '/usr/bin/python3';
const lib = path.join(root, 'src', 'grading', 'python');

function py(args: string[], timeoutMs = 90_000): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) =>
    execFile(python, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err })),
  );
}

interface Seen {
  ended: string;
  payload: string;
  snapshot: string;
  after: string | null;
  tree_killed: boolean;
  descendants: number;
  wall_s: number;
  tree_cpu_s: number;
}
async function attack(name: string): Promise<Seen> {
  const r = await py([path.join(import.meta.dirname, 'check-library', 'runner_attacks.py'), name]);
  expect(r.code, r.err.slice(-2000)).toBe(0);
  return JSON.parse(r.out.trim().split('\n').pop()!) as Seen;
}

describe('the isolated runner: results leave only through the pipe, and nothing outlives the return', () => {
  it('when the kill cannot take the whole tree, the run phase writes no outputs and exits 4 (the submission\'s failure)', async () => {
    // A survivor could rewrite whatever the parent writes next; the phase must not write it at all.
    const r = await py([path.join(import.meta.dirname, 'check-library', 'tree_survives.py')]);
    expect(r.code, r.err.slice(-2000)).toBe(0);
    expect(JSON.parse(r.out.trim().split('\n').pop()!)).toEqual({ code: 4, outputs_written: false });
    expect(r.err).toContain("outlived its results");
  });

  it('an exit hook never runs: the snapshot and the file afterwards hold what the work returned', async () => {
    const s = await attack('exit_hook');
    expect(s).toMatchObject({ ended: 'returned', payload: 'honest', snapshot: 'honest', after: 'honest', tree_killed: true, descendants: 0 });
  });

  it('a double-forked, setsid\'d orphan is killed and reaped before it can write late', async () => {
    const s = await attack('orphan_late_write');
    expect(s).toMatchObject({ ended: 'returned', snapshot: 'honest', after: 'honest', tree_killed: true, descendants: 0 });
  });

  it('stopping the parent (SIGSTOP) only lengthens the measured window', async () => {
    const s = await attack('stops_parent');
    expect(s.ended).toBe('returned');
    expect(s.wall_s).toBeGreaterThan(0.9);
  });

  it('an orphan\'s CPU time counts in the tree\'s (it is reaped by the parent, a subreaper)', async () => {
    const s = await attack('burns_cpu_in_orphan');
    expect(s.ended).toBe('returned');
    expect(s.tree_cpu_s).toBeGreaterThan(0.4);
    expect(s.descendants).toBe(0);
  });

  it('oversized results, an early death and a second frame written later are a failure, never a hang or a forgery', async () => {
    expect((await attack('oversized')).ended).toBe('oversized');
    expect((await attack('dies_early')).ended).toBe('exited');
    expect(await attack('late_frame_thread')).toMatchObject({ ended: 'returned', payload: 'first' });
  });
});

describe('verdicts and details', () => {
  it('every detail is escaped and bounded, and the verdict file stays small whatever the checks carry', async () => {
    const script = [
      'import json, os, sys, tempfile',
      `sys.path.insert(0, ${JSON.stringify(lib)})`,
      'import envbench_check as ec',
      // One 5 MB detail shared by all 500 checks: the same bound on each, without allocating 2.5 GB to show it.
      'big = "\\x1b[31m" + "y" * 5_000_000',
      'checks = [ec.check("c%d" % i, False, big) for i in range(500)]',
      'p = os.path.join(tempfile.mkdtemp(), "verdict.json")',
      'ec.write_verdict(p, ec.verdict_of(checks))',
      'v = json.load(open(p))',
      'print(json.dumps({"bytes": os.path.getsize(p), "n": len(v["checks"]), "longest": max(len(c["detail"]) for c in v["checks"]), "esc": "\\x1b" in open(p).read()}))',
    ].join('\n');
    const r = await py(['-c', script]);
    expect(r.code, r.err).toBe(0);
    const v = JSON.parse(r.out.trim()) as { bytes: number; n: number; longest: number; esc: boolean };
    expect(v.bytes).toBeLessThan(1024 * 1024);
    expect(v.n).toBeLessThanOrEqual(200);
    expect(v.longest).toBeLessThanOrEqual(2000);
    expect(v.esc).toBe(false);
  });
});

describe('the one static rule set', () => {
  const cases: Array<[string, string, boolean]> = [
    ['torch.sys', 'import torch\nm = torch.sys.modules', false],
    ['torch.os', 'import torch\ntorch.os.system("true")', false],
    ['torch.inspect', 'import torch\ns = torch.inspect.stack()', false],
    ['an unloaded submodule by path', 'import torch\nt = torch.utils.benchmark.Timer("x")', false],
    ['a computed key into builtins', 'import torch\nrun = torch.nn.functional.__builtins__["ex" + "ec"]', false],
    ['vars() of builtins', 'b = vars(__builtins__)["ex" + "ec"]', false],
    ['a module written and imported', 'open("helper.py", "w").write("x = 1")\nimport helper', false],
    ['aliasing a builtin', 'e = exec\ne("1")', false],
    ['getattr with a computed name', 'import torch\nf = getattr(torch, "sig" + "moid")', false],
    ['honest model code', 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nclass M(nn.Module):\n    def forward(self, x):\n        return F.relu(torch.matmul(x, x))', true],
    ['code under the __main__ guard', 'if __name__ == "__main__":\n    import os\n    os.system("true")', true],
  ];
  // All cases in one Python process (each would pay for its own torch import); each is still its own test.
  let offences: Promise<string[][]> | null = null;
  const offencesOf = () => (offences ??= (async () => {
    const script = [
      'import ast, json, sys',
      `sys.path.insert(0, ${JSON.stringify(lib)})`,
      'import envbench_check as ec',
      'print(json.dumps([ec.static_offences(ast.parse(src)) for src in json.loads(sys.argv[1])]))',
    ].join('\n');
    const r = await py(['-c', script, JSON.stringify(cases.map(([, src]) => src))]);
    expect(r.code, r.err).toBe(0);
    return JSON.parse(r.out.trim()) as string[][];
  })());
  it.for(cases.map((c, i) => [...c, i] as const))('%s', async ([, , ok, i]) => {
    const found = (await offencesOf())[i]!;
    expect(found.length === 0, found.join('; ')).toBe(ok);
  });

  it('is the only one: no task\'s Python defines a deny-list or a rule walker of its own, and every check.py uses the library', async () => {
    const dirs = [path.join(root, 'tasks'), path.join(root, 'examples', 'tasks')];
    const files: string[] = [];
    for (const d of dirs) {
      for (const task of await fs.readdir(d)) {
        const folder = path.join(d, task);
        if (!(await fs.stat(folder)).isDirectory()) continue;
        for (const f of await fs.readdir(folder)) if (f.endsWith('.py') && f !== 'starter.py') files.push(path.join(folder, f));
      }
    }
    expect(files.some((f) => f.endsWith(path.join('paged-attention', 'check.py')))).toBe(true);
    const RULE_NAMES = /^(?:[A-Z_]*(?:DENIED|DENY|BANNED|FORBIDDEN|BLOCKED|BLACKLIST|TAMPER|UNSAFE)[A-Z_]*|ALLOWED_(?:MODULES|NAMES|DUNDER\w*)|PROCESS_(?:MODULES|CALLS))\s*=/m;
    const RULE_FUNCS = /^def (?:_?sandbox_offences|_?module_denied|_?find_offences|find_tampering|check_sandbox_safe_rules)\(/m;
    const ESCAPES = /["'](?:__import__|__builtins__|os\.system|subprocess)["']/;
    for (const f of files) {
      const src = await fs.readFile(f, 'utf8');
      const rel = path.relative(root, f);
      expect(RULE_NAMES.exec(src)?.[0] ?? null, `${rel} defines its own rule list`).toBeNull();
      expect(RULE_FUNCS.exec(src)?.[0] ?? null, `${rel} defines its own rule walker`).toBeNull();
      expect(ESCAPES.exec(src)?.[0] ?? null, `${rel} lists escape primitives (a deny-list)`).toBeNull();
      if (path.basename(f) === 'check.py') expect(src, `${rel} does not use the shared library`).toMatch(/^import envbench_check as ec/m);
    }
  });
});

describe('the module map: the static rules without importing torch in the compare phase', () => {
  it('gives the same offences as importing for real, on every Python file of the tasks and on chains that reach out', async () => {
    const r = await py([path.join(import.meta.dirname, 'check-library', 'module_map_equivalence.py'), root], 300_000);
    expect(r.code, r.err.slice(-2000)).toBe(0);
    const v = JSON.parse(r.out.trim().split('\n').pop()!) as { files: number; differ: unknown[]; flagged: Record<string, string[]> };
    expect(v.files).toBeGreaterThan(150);
    expect(v.differ).toEqual([]);
    // The map itself catches each way out (not only the fallback): torch.sys, a namespace folder, an unloaded submodule.
    for (const k of ['torch.sys', 'torch.os', 'torch.inspect', 'unloaded submodule', 'namespace folder', 'through an alias', 'numpy.ctypeslib']) {
      expect(v.flagged[k], k).toHaveLength(1);
    }
    for (const k of ['honest', 'honest numpy', 'math']) expect(v.flagged[k], k).toEqual([]);
  }, 300_000);

  it('with a map, a compare phase never imports torch for honest code, and still catches torch.sys; a malformed map only costs the import', async () => {
    const script = [
      'import ast, json, os, subprocess, sys, tempfile',
      `sys.path.insert(0, ${JSON.stringify(lib)})`,
      // The map comes from another process, as the harness makes it.
      `made = subprocess.run([sys.executable, "-c", "import sys, json; sys.path.insert(0, ${JSON.stringify(lib).replace(/"/g, '\\"')}); import envbench_check as ec; print(json.dumps(ec.module_map()))"], capture_output=True, check=True)`,
      'd = tempfile.mkdtemp()',
      'good = os.path.join(d, "map.json"); open(good, "wb").write(made.stdout)',
      'bad = os.path.join(d, "bad.json"); open(bad, "w").write(json.dumps({"roots": {"torch": "torch"}, "absent": [], "modules": {"torch": {"attrs": []}}}))',
      'import envbench_check as ec',
      'from envbench_check import protocol',
      'honest = "import torch\\nimport torch.nn.functional as F\\ny = F.relu(torch.zeros(3))\\nm = torch.nn.Linear(2, 2)"',
      'ec.use_module_map(protocol._read_module_map(good))',
      'out = {"honest": ec.static_offences(ast.parse(honest)), "sys": ec.static_offences(ast.parse("import torch\\nx = torch.sys.modules")),',
      '       "torch_imported": "torch" in sys.modules, "bad_read": protocol._read_module_map(bad)}',
      'ec.use_module_map({"roots": {"torch": "torch"}, "absent": [], "modules": {"torch": {"attrs": 5}}})',
      'out["malformed"] = ec.static_offences(ast.parse("import torch\\nx = torch.sys.modules"))',
      'print(json.dumps(out))',
    ].join('\n');
    const r = await py(['-c', script], 300_000);
    expect(r.code, r.err.slice(-2000)).toBe(0);
    const v = JSON.parse(r.out.trim().split('\n').pop()!) as { honest: string[]; sys: string[]; torch_imported: boolean; bad_read: unknown; malformed: string[] };
    expect(v.honest).toEqual([]);
    expect(v.sys).toEqual([expect.stringMatching(/`torch\.sys` is the module `sys`/)]);
    expect(v.torch_imported).toBe(false);
    expect(v.bad_read).toBeNull();
    expect(v.malformed).toEqual([expect.stringMatching(/`torch\.sys` is the module `sys`/)]);
  }, 300_000);
});

describe('GPU visibility without a torch import', () => {
  it('no GPU device node means no CUDA, and torch is never imported to learn it; a node means torch is asked', async () => {
    const script = [
      'import json, os, sys, tempfile',
      `sys.path.insert(0, ${JSON.stringify(lib)})`,
      'import envbench_check as ec',
      'from envbench_check import devices',
      'd = tempfile.mkdtemp()',
      'empty = devices.gpu_nodes(d)',
      'open(os.path.join(d, "nvidiactl"), "w").close(); open(os.path.join(d, "nvidia0"), "w").close(); open(os.path.join(d, "null"), "w").close()',
      'found = devices.gpu_nodes(d)',
      // This machine's own /dev: the CI machines have no GPU, so the answer must come without torch.
      'here = devices.gpu_nodes()',
      'avail = ec.cuda_available()',
      'print(json.dumps({"empty": empty, "found": [os.path.basename(p) for p in found], "here": here, "avail": avail, "torch": "torch" in sys.modules}))',
    ].join('\n');
    const r = await py(['-c', script], 120_000);
    expect(r.code, r.err.slice(-2000)).toBe(0);
    const v = JSON.parse(r.out.trim().split('\n').pop()!) as { empty: string[]; found: string[]; here: string[]; avail: boolean; torch: boolean };
    expect(v.empty).toEqual([]);
    expect(v.found).toEqual(['nvidia0', 'nvidiactl']);
    if (v.here.length === 0) {
      expect(v.avail).toBe(false);
      expect(v.torch).toBe(false);
    } else {
      // A GPU machine: torch was asked (and imported) for the answer.
      expect(v.torch).toBe(true);
    }
  }, 120_000);
});
