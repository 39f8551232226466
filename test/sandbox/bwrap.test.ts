/**
 * The sandbox against real bubblewrap and a real Python: no mocks, because what matters is what the
 * kernel lets hostile code do. Without bwrap these tests fail in CI (CI=1) and are skipped elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CappedOutput,
  SandboxUnavailableError,
  buildBwrapArgv,
  createSandbox,
  findPidsCgroupBase,
  resolveLimits,
  type HostLayout,
  type Sandbox,
} from '../../src/sandbox/index.js';
import { probePython } from '../../src/python/probe.js';
import { readFileTool, runPythonTool, writeFileTool } from '../../src/agents/tools/index.js';
import type { ToolContext } from '../../src/agents/tool.js';

const PYTHON = process.env.ENVBENCH_PYTHON ?? '/usr/bin/python3';
const SECRET = 'sk-test-secret';
// Set before any sandbox starts: if anything of the parent's environment leaked, this would show. Put back
// after the file: the worker process runs other test files next.
const savedEnv = { ANTHROPIC_API_KEY: process.env.ANTHROPIC_API_KEY, GITHUB_TOKEN: process.env.GITHUB_TOKEN };
process.env.ANTHROPIC_API_KEY = SECRET;
process.env.GITHUB_TOKEN = 'ghp-test-secret';
afterAll(() => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

const py = await probePython(PYTHON, ['torch', 'numpy']);

let sandbox: Sandbox | null = null;
let unavailable: string | null = null;
try {
  sandbox = await createSandbox({ extraReadOnlyPaths: py.prefixes });
} catch (e) {
  if (!(e instanceof SandboxUnavailableError)) throw e;
  unavailable = e.message;
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'envbench-sandbox-test-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
let workspace = '';
let tmpDir = '';
beforeEach(() => {
  workspace = fs.mkdtempSync(path.join(scratch, 'ws-'));
  tmpDir = fs.mkdtempSync(path.join(scratch, 'tmp-'));
});

const marker = () => `envbench-mark-${randomUUID().slice(0, 8)}`;

/** Host processes whose command line contains `m`, found by scanning the host's /proc. */
function hostProcessesWith(m: string): string[] {
  const found: string[] = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${n}/cmdline`, 'latin1').replace(/\0/g, ' ');
      if (cmd.includes(m)) found.push(`${n}: ${cmd}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

const sha = (p: string) => createHash('sha256').update(fs.readFileSync(p)).digest('hex');

// ------------------------------------------------------------------------------------------------
// Pure parts: always run.
// ------------------------------------------------------------------------------------------------

describe('bwrap argv builder (pure)', () => {
  const layout: HostLayout = {
    rootDirs: [{ path: '/bin', symlinkTo: 'usr/bin' }, { path: '/lib', symlinkTo: 'usr/lib' }, { path: '/sbin' }],
    etcEntries: ['/etc/ld.so.cache', '/etc/alternatives', '/etc/passwd'],
    nvidiaDevices: ['/dev/nvidia-caps', '/dev/nvidia-uvm', '/dev/nvidia0', '/dev/nvidiactl'],
    prlimit: '/usr/bin/prlimit',
    nice: '/usr/bin/nice',
    setpriv: null,
    bash: '/bin/bash',
  };
  const base = {
    layout,
    workspace: '/host/ws',
    tmpDir: '/host/tmp',
    argv: ['python3', '-c', 'print(1)'],
    env: { PATH: '/usr/bin', HOME: '/tmp' },
    limits: resolveLimits({ memoryMb: 512, fileSizeMb: 8 }),
  };
  /** Index of the option `opt` followed by `args`, or -1. */
  const at = (a: string[], ...seq: string[]) => a.findIndex((_, i) => seq.every((s, j) => a[i + j] === s));

  it('isolates everything and binds only the system, the /etc allowlist, the workspace and /tmp', () => {
    const a = buildBwrapArgv({
      ...base, extraReadOnlyPaths: ['/opt/py', '/usr/lib/python3'], binds: [{ src: '/host/data', dest: '/data' }], taskLimit: 1024,
    });
    for (const f of ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--clearenv']) expect(a).toContain(f);
    expect(at(a, '--cap-drop', 'ALL')).toBeGreaterThanOrEqual(0);
    expect(at(a, '--ro-bind', '/usr', '/usr')).toBeGreaterThanOrEqual(0);
    expect(at(a, '--symlink', 'usr/bin', '/bin')).toBeGreaterThanOrEqual(0);
    expect(at(a, '--ro-bind-try', '/sbin', '/sbin')).toBeGreaterThanOrEqual(0); // not a symlink on this "host"
    expect(at(a, '--ro-bind-try', '/etc/passwd', '/etc/passwd')).toBeGreaterThanOrEqual(0);
    expect(at(a, '--bind', '/host/ws', '/workspace')).toBeGreaterThanOrEqual(0);
    expect(at(a, '--bind', '/host/tmp', '/tmp')).toBeGreaterThanOrEqual(0);
    expect(at(a, '--ro-bind', '/opt/py', '/opt/py')).toBeGreaterThanOrEqual(0);
    expect(at(a, '--ro-bind', '/host/data', '/data')).toBeGreaterThanOrEqual(0);
    expect(at(a, '--chdir', '/workspace')).toBeGreaterThanOrEqual(0);
    // Never the whole of /etc or of /, never a writable system path.
    expect(at(a, '--ro-bind', '/etc', '/etc')).toBe(-1);
    expect(at(a, '--bind', '/', '/')).toBe(-1);
    const writable = a.flatMap((x, i) => (x === '--bind' ? [a[i + 2]] : []));
    expect(writable.sort()).toEqual(['/tmp', '/workspace']);
    // The root is made read-only after every mount point exists; the env is cleared before it is set.
    expect(at(a, '--remount-ro', '/')).toBeGreaterThan(at(a, '--ro-bind', '/host/data', '/data'));
    expect(a.indexOf('--clearenv')).toBeLessThan(a.indexOf('--setenv'));
    expect(a.slice(a.indexOf('--') + 1)).toEqual([
      '/usr/bin/prlimit', `--as=${512 * 1024 * 1024}`, `--fsize=${8 * 1024 * 1024}`, '--core=0', '--nproc=1024', '--',
      'python3', '-c', 'print(1)',
    ]);
  });

  it('binds no GPU paths without gpu', () => {
    const a = buildBwrapArgv(base);
    expect(a.some((x) => x.startsWith('/dev/nvidia') || x === '/sys' || x.startsWith('/proc/driver'))).toBe(false);
  });

  it('binds each NVIDIA node, /sys and the driver paths with gpu, and drops RLIMIT_AS (CUDA needs the address space)', () => {
    const a = buildBwrapArgv({ ...base, gpu: true });
    for (const d of layout.nvidiaDevices) expect(at(a, '--dev-bind-try', d, d)).toBeGreaterThan(a.indexOf('--dev'));
    expect(at(a, '--ro-bind-try', '/sys', '/sys')).toBeGreaterThanOrEqual(0);
    // /proc/driver/nvidia must come after the fresh /proc or the new procfs would hide it.
    expect(at(a, '--ro-bind-try', '/proc/driver/nvidia', '/proc/driver/nvidia')).toBeGreaterThan(a.indexOf('--proc'));
    const cmd = a.slice(a.indexOf('--') + 1);
    expect(cmd.some((x) => x.startsWith('--as='))).toBe(false);
    expect(cmd).toContain(`--fsize=${8 * 1024 * 1024}`);
  });
});

describe('CappedOutput', () => {
  it('keeps short output whole and the head and tail of long output', () => {
    const small = new CappedOutput(10);
    small.push(Buffer.from('hello'));
    expect([small.text(), small.truncated]).toEqual(['hello', false]);
    const big = new CappedOutput(10);
    big.push(Buffer.from('HEAD-'));
    for (let i = 0; i < 1000; i++) big.push(Buffer.from('xxxxxxxxxx'));
    big.push(Buffer.from('-TAIL'));
    expect(big.truncated).toBe(true);
    expect(big.text()).toBe('HEAD-\n[... 10000 bytes cut ...]\n-TAIL');
  });
});

describe('createSandbox failure', () => {
  it('says how to install bubblewrap and mentions --unsafe-no-sandbox', async () => {
    const err = await createSandbox({ bwrapPath: '/nonexistent/bwrap' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxUnavailableError);
    expect((err as Error).message).toContain('apt-get install bubblewrap');
    expect((err as Error).message).toContain('user namespaces');
    expect((err as Error).message).toContain('--unsafe-no-sandbox');
  });

  it('refuses to expose / or /etc as an extra read-only path', async () => {
    await expect(createSandbox({ extraReadOnlyPaths: ['/'] })).rejects.toThrow(/refusing/);
    await expect(createSandbox({ extraReadOnlyPaths: ['/etc'] })).rejects.toThrow(/refusing/);
  });
});

describe('probePython', () => {
  it('reports the real interpreter and its modules', () => {
    expect(path.isAbsolute(py.executable)).toBe(true);
    expect(py.version).toMatch(/^3\.\d+/);
    expect(py.modules).toHaveProperty('numpy');
    expect(py.prefixes.every((p) => !p.startsWith('/usr/') && p !== '/usr')).toBe(true);
  });

  it('names the command and ENVBENCH_PYTHON when the interpreter cannot run', async () => {
    await expect(probePython('/nonexistent/python3', [])).rejects.toThrow(/\/nonexistent\/python3.*ENVBENCH_PYTHON/s);
  });
});

describe('unsafe mode (no isolation) still clears the environment and applies the limits', () => {
  it('runs in the workspace with the minimal environment', async () => {
    const sb = await createSandbox({ unsafeNoSandbox: true });
    expect(sb.mode).toBe('unsafe-none');
    const r = await sb.exec({ argv: ['sh', '-c', 'pwd; env'], workspace, tmpDir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(fs.realpathSync(workspace));
    expect(r.stdout).toContain('USER=sandbox');
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).not.toContain('ANTHROPIC_API_KEY');
    expect(r.stdout).not.toContain('GITHUB_TOKEN');
  });

  it('kills the whole tree at the time limit, a setsid grandchild included', async () => {
    const sb = await createSandbox({ unsafeNoSandbox: true });
    const m = marker();
    const r = await sb.exec({
      argv: ['sh', '-c', `setsid sh -c 'while :; do sleep 1; done' ${m} & sh -c 'while :; do sleep 1; done' ${m} & while :; do :; done`],
      workspace,
      limits: { wallSec: 1 },
    });
    expect(r.killedBy).toBe('time');
    expect(hostProcessesWith(m)).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------
// Real bwrap.
// ------------------------------------------------------------------------------------------------

if (unavailable && process.env.CI) {
  describe('bwrap sandbox', () => {
    it('needs bubblewrap in CI', () => {
      throw new Error(`bwrap is not usable on this CI machine:\n${unavailable}`);
    });
  });
}

describe.skipIf(unavailable !== null)(`bwrap sandbox${unavailable ? ` (skipped: ${unavailable.split('\n')[0]})` : ''}`, () => {
  const sb = () => sandbox!;

  it('shows the command only the minimal environment; no secret in any environ or cmdline, fresh /proc', async () => {
    // The secret is assembled at run time so it never appears in a command line itself.
    const code = `
import glob, json, os
s = ("sk-test" + "-secret").encode()
files = glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline")
hits = []
for f in files:
    try:
        if s in open(f, "rb").read(): hits.append(f)
    except OSError:
        pass
print(json.dumps({
    "env": dict(os.environ),
    "self": open("/proc/self/environ", "rb").read().decode(),
    "one": os.listdir("/proc/1"),
    "pids": len(glob.glob("/proc/[0-9]*")),
    "files": len(files), "hits": hits, "cwd": os.getcwd(),
}))`;
    const r = await sb().exec({ argv: [py.executable, '-c', code], workspace, env: { EXTRA: 'yes' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stdout).not.toContain('ghp-test-secret');
    const o = JSON.parse(r.stdout) as { env: Record<string, string>; self: string; one: string[]; pids: number; files: number; hits: string[]; cwd: string };
    const allowed = ['PATH', 'HOME', 'TMPDIR', 'USER', 'LANG', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED', 'MPLBACKEND', 'EXTRA', 'PWD', 'LC_CTYPE'];
    expect(Object.keys(o.env).filter((k) => !allowed.includes(k))).toEqual([]);
    expect(o.env).toMatchObject({ PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', USER: 'sandbox', LANG: 'C.UTF-8', EXTRA: 'yes' });
    expect(o.self).not.toContain('ANTHROPIC');
    expect(o.files).toBeGreaterThan(0); // the scan really looked at something
    expect(o.hits).toEqual([]);
    // A fresh procfs of its own pid namespace: only a handful of processes exist, and pid 1 (bwrap's
    // reaper, outside the seccomp filter) is hidden behind an empty read-only folder.
    expect(o.one).toEqual([]);
    expect(o.pids).toBeLessThan(6);
    expect(o.cwd).toBe('/workspace');
  });

  it('passes stdin', async () => {
    const r = await sb().exec({ argv: ['cat'], workspace, stdin: 'hello sandbox' });
    expect(r.stdout).toBe('hello sandbox');
  });

  it('has no network: host loopback, DNS and external addresses all fail', async () => {
    let hits = 0;
    const server = http.createServer((_, res) => {
      hits++;
      res.end('reachable');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const code = `
import json, socket
def attempt(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close()
        return "connected"
    except Exception as e:
        return type(e).__name__
r = {"loopback": attempt("127.0.0.1", ${port}), "external": attempt("1.1.1.1", 80)}
try:
    socket.getaddrinfo("example.com", 80)
    r["dns"] = "resolved"
except Exception as e:
    r["dns"] = type(e).__name__
r["ifaces"] = [n for _, n in socket.if_nameindex()]
print(json.dumps(r))`;
    try {
      const r = await sb().exec({ argv: [py.executable, '-c', code], workspace });
      expect(r.exitCode, r.stderr).toBe(0);
      const o = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(o.loopback).not.toBe('connected');
      expect(o.external).not.toBe('connected');
      expect(o.dns).not.toBe('resolved');
      expect(o.ifaces).toEqual(['lo']); // the namespace's own loopback, nothing else
      expect(hits).toBe(0);
      // Control: the same probe unsandboxed does reach the server, so the check above can fail.
      const unsafe = await createSandbox({ unsafeNoSandbox: true });
      const c = await unsafe.exec({ argv: [py.executable, '-c', code], workspace });
      expect((JSON.parse(c.stdout) as Record<string, unknown>).loopback).toBe('connected');
    } finally {
      server.close();
    }
  });

  it('cannot write outside /workspace and /tmp; /tmp is private; host files stay unchanged', async () => {
    const outside = fs.mkdtempSync(path.join(scratch, 'outside-'));
    fs.writeFileSync(path.join(outside, 'keep.txt'), 'original');
    const hostOnly = path.join(os.tmpdir(), `${marker()}.txt`);
    fs.writeFileSync(hostOnly, 'host');
    const passwdBefore = sha('/etc/passwd');
    const targets = [
      '/usr/envbench-x', '/usr/bin/envbench-x', '/etc/envbench-x', '/etc/passwd', '/envbench-x', '/home/envbench-x',
      '/bin/envbench-x', '/dev/envbench-x', '/proc/envbench-x', `${outside}/keep.txt`, `${outside}/new.txt`,
      '/data/keep.txt', '/data/new.txt',
    ];
    const script = [
      `for p in ${targets.map((t) => `'${t}'`).join(' ')}; do`,
      '  if (echo pwned > "$p") 2>/dev/null; then echo "WROTE $p"; else echo "DENIED $p"; fi',
      'done',
      'echo ok > /workspace/w.txt && echo WS_OK',
      'echo ok > /tmp/t.txt && echo TMP_OK',
      `test -e '${hostOnly}' && echo HOST_TMP_VISIBLE || echo HOST_TMP_HIDDEN`,
    ].join('\n');
    try {
      const r = await sb().exec({
        argv: ['sh', '-c', script],
        workspace,
        tmpDir,
        binds: [{ src: outside, dest: '/data' }], // read-only bind: visible, not writable
      });
      expect(r.stdout).not.toContain('WROTE');
      expect(r.stdout.match(/DENIED/g)).toHaveLength(targets.length);
      expect(r.stdout).toContain('WS_OK');
      expect(r.stdout).toContain('TMP_OK');
      expect(r.stdout).toContain('HOST_TMP_HIDDEN');
      expect(fs.readFileSync(path.join(workspace, 'w.txt'), 'utf8')).toBe('ok\n');
      expect(fs.readFileSync(path.join(tmpDir, 't.txt'), 'utf8')).toBe('ok\n');
      expect(fs.readFileSync(path.join(outside, 'keep.txt'), 'utf8')).toBe('original');
      expect(fs.readdirSync(outside)).toEqual(['keep.txt']);
      expect(sha('/etc/passwd')).toBe(passwdBefore);
    } finally {
      fs.rmSync(hostOnly, { force: true });
    }
  });

  it('stops a Python fork bomb at the process limit, and nothing of it survives', async () => {
    const m = marker();
    const code = `# ${m}\nimport os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass`;
    // Judged by what killed it: the process limit, long before a wall limit a loaded machine cannot reach.
    const r = await sb().exec({ argv: [py.executable, '-c', code], workspace, limits: { maxProcs: 32, wallSec: 120 } });
    expect(r.killedBy).toBe('procs');
    expect(hostProcessesWith(m)).toEqual([]);
  });

  it('stops a fork bomb with the watchdog alone (no pids cgroup: a root harness in a container without one)', async () => {
    // RLIMIT_NPROC is ignored for root, so on this path only the watchdog's procs limit (and its
    // fork-atomic process-group kill) stands between the bomb and the host's pid table.
    const bare = await createSandbox({ extraReadOnlyPaths: py.prefixes, pidsCgroup: false });
    const m = marker();
    const code = `# ${m}\nimport os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass`;
    // The test's own fuse, outside the code under test: this worker process (and so the bomb) goes into a
    // pids cgroup capped at 2,000 tasks for the test. On a machine loaded by the rest of the suite, a starved
    // watchdog once let a bomb fill the host's pid table; the fuse bounds that, while the assertions below
    // still require the watchdog to be what killed it.
    const base = findPidsCgroupBase();
    const fuse = base && path.join(base, `envbench-testfuse-${process.pid}`);
    if (fuse) {
      fs.mkdirSync(fuse, { recursive: true });
      fs.writeFileSync(path.join(fuse, 'pids.max'), '2000');
      fs.writeFileSync(path.join(fuse, 'cgroup.procs'), String(process.pid));
    } else if (process.env.CI) {
      throw new Error('no pids cgroup for the test fuse: refusing to run an unfenced fork bomb in CI');
    }
    let r: Awaited<ReturnType<typeof bare.exec>>;
    try {
      r = await bare.exec({ argv: [py.executable, '-c', code], workspace, limits: { maxProcs: 32, wallSec: 120 } });
    } finally {
      if (fuse && base) {
        fs.writeFileSync(path.join(base, 'cgroup.procs'), String(process.pid));
        for (let i = 0; i < 50 && fs.existsSync(fuse); i++) {
          try {
            fs.rmdirSync(fuse);
          } catch {
            await new Promise((res) => setTimeout(res, 100));
          }
        }
      }
    }
    expect(r.killedBy).toBe('procs');
    expect(hostProcessesWith(m)).toEqual([]);
  });

  it('stops a bash fork bomb too', async () => {
    const m = marker();
    // `sleep` keeps the first shell (and so the namespace) alive while the bomb grows.
    const r = await sb().exec({ argv: ['bash', '-c', `: ${m}; :(){ :|:& };:; sleep 300`], workspace, limits: { maxProcs: 32, wallSec: 120 } });
    expect(r.killedBy).toBe('procs');
    expect(hostProcessesWith(m)).toEqual([]);
  });

  it('kills an infinite loop at wallSec, with its setsid and nohup grandchildren', async () => {
    const m = marker();
    const script = [
      `setsid sh -c 'touch /workspace/gc1; while :; do sleep 1; done' ${m} &`,
      `nohup sh -c 'touch /workspace/gc2; while :; do :; done' ${m} >/dev/null 2>&1 &`,
      // Spin only once both grandchildren exist, so a loaded machine that starts them late still tests them.
      'while [ ! -e /workspace/gc1 ] || [ ! -e /workspace/gc2 ]; do sleep 0.05; done',
      'while :; do :; done',
    ].join('\n');
    const r = await sb().exec({ argv: ['sh', '-c', script], workspace, limits: { wallSec: 3 } });
    expect(r.killedBy).toBe('time');
    expect(r.durationMs).toBeGreaterThanOrEqual(3000);
    // The grandchildren did start...
    expect(fs.existsSync(path.join(workspace, 'gc1'))).toBe(true);
    expect(fs.existsSync(path.join(workspace, 'gc2'))).toBe(true);
    // ...and are gone by the time exec resolved.
    expect(hostProcessesWith(m)).toEqual([]);
  });

  it('kills background jobs when the command exits normally', async () => {
    const m = marker();
    const r = await sb().exec({ argv: ['sh', '-c', `setsid sh -c 'sleep 60' ${m} & echo started`], workspace });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('started\n');
    expect(hostProcessesWith(m)).toEqual([]);
  });

  it('kills on abort', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await sb().exec({ argv: ['sleep', '600'], workspace, signal: ac.signal, limits: { wallSec: 900 } });
    expect(r.killedBy).toBe('abort');
    expect(r.durationMs).toBeLessThan(300_000); // far from the sleep's end and the wall limit
  });

  it('memory: a small allocation works, a big one fails (RLIMIT_AS)', async () => {
    const small = await sb().exec({ argv: [py.executable, '-c', 'b = b"x" * (20 << 20); print(len(b))'], workspace, limits: { memoryMb: 200 } });
    expect(small.exitCode, small.stderr).toBe(0);
    const big = await sb().exec({ argv: [py.executable, '-c', 'b = b"x" * (600 << 20); print(len(b))'], workspace, limits: { memoryMb: 200 } });
    expect(big.killedBy === 'memory' || big.exitCode !== 0).toBe(true);
    expect(big.stdout).not.toContain(String(600 << 20));
  });

  it('memory: the watchdog kills a tree whose processes together exceed the limit (no RLIMIT_AS, as with gpu)', async () => {
    // Four forked children of ~100 MiB each: every process is under 200 MiB, the tree is not.
    const code = `
import os, time
for _ in range(4):
    if os.fork() == 0:
        b = os.urandom(100 << 20)
        time.sleep(30)
        os._exit(0)
time.sleep(30)`;
    // The watchdog is the fallback where no memory cgroup can be made; this sandbox uses none.
    const watchdogOnly = await createSandbox({ extraReadOnlyPaths: py.prefixes, memoryCgroup: false });
    expect(watchdogOnly.enforcement.memory).toBe('watchdog');
    const r = await watchdogOnly.exec({ argv: [py.executable, '-c', code], workspace, gpu: true, limits: { memoryMb: 200, wallSec: 120 } });
    expect(r.killedBy).toBe('memory');
    expect(r.peakMemoryMb).toBeGreaterThan(200);
  });

  it('caps output: keeps head and tail, marks the cut, never buffers it all', async () => {
    const code = 'import sys\nsys.stdout.write("HEAD" + "x" * (1 << 20) + "TAIL")';
    const r = await sb().exec({ argv: [py.executable, '-c', code], workspace, limits: { outputBytes: 4096 } });
    expect(r.exitCode).toBe(0);
    expect(r.stdoutTruncated).toBe(true);
    expect(r.stdout.length).toBeLessThan(4096 + 64);
    expect(r.stdout.startsWith('HEAD')).toBe(true);
    expect(r.stdout.endsWith('TAIL')).toBe(true);
    expect(r.stdout).toMatch(/\[\.\.\. \d+ bytes cut \.\.\.\]/);
    // `yes` writes gigabytes a second; memory stays bounded and the time limit still ends it.
    const y = await sb().exec({ argv: ['yes'], workspace, limits: { outputBytes: 1000, wallSec: 5 } });
    expect(y.killedBy).toBe('time');
    expect(y.stdoutTruncated).toBe(true);
    expect(y.stdout.length).toBeLessThan(1100);
  });

  it.skipIf(!py.torch)('imports and runs torch inside the sandbox', async () => {
    const code = 'import torch, numpy\nx = torch.randn(64, 64)\nprint(torch.__version__, bool((x @ x.T).trace() > 0))';
    const r = await sb().exec({ argv: [py.executable, '-c', code], workspace, limits: { wallSec: 60 } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${py.torch} True`);
  });

  describe('standard tools', () => {
    const ctx = (limits: ToolContext['limits'] = { wallSec: 30 }): ToolContext => ({
      workspace, tmpDir, sandbox: sb(), python: py, gpu: false, limits, signal: new AbortController().signal,
    });

    it('run_python round trip: imports workspace modules, writes files, reports errors', async () => {
      expect((await writeFileTool.run({ path: 'helper.py', content: 'def f():\n    return 41 + 1\n' }, ctx())).isError).toBeFalsy();
      const ok = await runPythonTool.run({ code: 'import helper\nopen("out.txt", "w").write("done")\nprint("answer", helper.f())' }, ctx());
      expect(ok.isError).toBe(false);
      expect(ok.content).toContain('exit code: 0');
      expect(ok.content).toContain('answer 42');
      expect(fs.readFileSync(path.join(workspace, 'out.txt'), 'utf8')).toBe('done');
      expect(fs.readdirSync(path.join(workspace, '.envbench'))).toEqual([]); // its script is cleaned up
      const bad = await runPythonTool.run({ code: 'raise ValueError("boom")' }, ctx());
      expect(bad.isError).toBe(true);
      expect(bad.content).toContain('exit code: 1');
      expect(bad.content).toContain('ValueError: boom');
      const slow = await runPythonTool.run({ code: 'while True: pass' }, ctx({ wallSec: 1 }));
      expect(slow.isError).toBe(true);
      expect(slow.content).toContain('killed: exceeded the time limit of 1 s');
    });

    it('run_python never writes through a planted .envbench symlink', async () => {
      const outside = fs.mkdtempSync(path.join(scratch, 'outside-'));
      fs.symlinkSync(outside, path.join(workspace, '.envbench'));
      const r = await runPythonTool.run({ code: 'print("ok")' }, ctx());
      expect(r.content).toContain('ok');
      expect(fs.readdirSync(outside)).toEqual([]);
    });

    it('read_file / write_file stay inside the workspace', async () => {
      const w = await writeFileTool.run({ path: 'a/b.txt', content: 'hi' }, ctx());
      expect(w.isError).toBeFalsy();
      expect((await readFileTool.run({ path: 'a/b.txt' }, ctx())).content).toBe('hi');
      expect((await readFileTool.run({ path: '/workspace/a/b.txt' }, ctx())).content).toBe('hi');

      const passwd = sha('/etc/passwd');
      fs.symlinkSync('/etc', path.join(workspace, 'etclink'));
      fs.symlinkSync('/etc/passwd', path.join(workspace, 'pw'));
      fs.symlinkSync('../..', path.join(workspace, 'up'));
      const rejected = [
        await readFileTool.run({ path: '../x' }, ctx()),
        await writeFileTool.run({ path: '../x', content: 'x' }, ctx()),
        await readFileTool.run({ path: 'a/../../x' }, ctx()),
        await readFileTool.run({ path: '/etc/passwd' }, ctx()),
        await writeFileTool.run({ path: '/etc/envbench-x', content: 'x' }, ctx()),
        await readFileTool.run({ path: 'etclink/passwd' }, ctx()),
        await writeFileTool.run({ path: 'etclink/envbench-x', content: 'x' }, ctx()),
        await writeFileTool.run({ path: 'etclink/sub/envbench-x', content: 'x' }, ctx()),
        await readFileTool.run({ path: 'pw' }, ctx()),
        await writeFileTool.run({ path: 'pw', content: 'x' }, ctx()),
        await writeFileTool.run({ path: 'up/envbench-x', content: 'x' }, ctx()),
      ];
      for (const r of rejected) expect(r.isError, r.content).toBe(true);
      expect(rejected.map((r) => r.content).join('\n')).not.toContain('root:');
      expect(fs.existsSync('/etc/envbench-x')).toBe(false);
      expect(fs.existsSync('/etc/sub')).toBe(false);
      expect(sha('/etc/passwd')).toBe(passwd);
    });

    it('read_file does not hang on a FIFO planted in the workspace', async () => {
      execFileSync('mkfifo', [path.join(workspace, 'fifo')]);
      const r = await readFileTool.run({ path: 'fifo' }, ctx());
      expect(r.isError).toBe(true);
    });
  });
});
