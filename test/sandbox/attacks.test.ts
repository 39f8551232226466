/**
 * Attacks on the sandbox, written as a hostile model would write them, against real bubblewrap, real
 * cgroups and a real kernel. CI runs as root, so the case that matters most — a root harness — is the one
 * tested there: sandboxed code must never be host uid 0.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SANDBOX_ID, DENIED_SYSCALLS, SandboxUnavailableError, buildSeccompFilter, createSandbox, sandboxIdentity, type Sandbox,
} from '../../src/sandbox/index.js';
import { probePython } from '../../src/python/probe.js';
import { runPythonTool } from '../../src/agents/tools/index.js';
import type { ToolContext } from '../../src/agents/tool.js';
import { createAnthropicClient } from '../../src/agents/client.js';
import { runAgentLoop } from '../../src/agents/loop.js';
import { MemoryTranscript } from '../../src/agents/transcript.js';
import { startMessagesServer, toolUseReply } from '../support/messages-server.js';
import { z } from 'zod';

const PYTHON = process.env.ENVBENCH_PYTHON ?? '/usr/bin/python3';
const py = await probePython(PYTHON, ['numpy']);
const isRoot = process.geteuid?.() === 0;

let sandbox: Sandbox | null = null;
try {
  sandbox = await createSandbox({ extraReadOnlyPaths: py.prefixes });
} catch (e) {
  if (!(e instanceof SandboxUnavailableError)) throw e;
  if (process.env.CI) throw e;
}
const sb = () => sandbox!;

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'envbench-attack-test-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
let workspace = '';
beforeEach(() => {
  workspace = fs.mkdtempSync(path.join(scratch, 'ws-'));
});

const run = (code: string, limits: Record<string, number> = {}, s: Sandbox = sb()) =>
  s.exec({ argv: [py.executable, '-c', code], workspace, limits: { wallSec: 60, ...limits } });

const usedBytes = (dir: string): number => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);

describe.skipIf(!sandbox)('no path to host root', () => {
  it('runs as the unprivileged sandbox uid when the harness is root, and what it writes belongs to that uid', async () => {
    const r = await sb().exec({ argv: ['sh', '-c', 'id -u; id -g; touch made-inside; mkdir d; echo x > d/f'], workspace });
    expect(r.exitCode, r.stderr).toBe(0);
    const [uid, gid] = r.stdout.trim().split('\n').map(Number);
    if (isRoot) {
      expect(sb().enforcement).toMatchObject({ uid: DEFAULT_SANDBOX_ID, uidSource: 'sandbox-uid' });
      expect(uid).toBe(DEFAULT_SANDBOX_ID);
      expect(gid).toBe(DEFAULT_SANDBOX_ID);
    } else {
      expect(uid).toBe(process.geteuid!());
    }
    expect(uid).not.toBe(0);
    for (const f of ['made-inside', 'd', 'd/f']) expect(fs.statSync(path.join(workspace, f)).uid).toBe(sb().enforcement.uid);
  });

  it('hands files the harness wrote to the sandbox uid, so the model can edit its starter files', async () => {
    fs.writeFileSync(path.join(workspace, 'starter.py'), 'x = 1\n');
    fs.mkdirSync(path.join(workspace, 'pkg'));
    fs.writeFileSync(path.join(workspace, 'pkg', 'mod.py'), 'y = 2\n');
    const r = await sb().exec({ argv: ['sh', '-c', 'echo "x = 2" > starter.py && echo "y = 3" > pkg/mod.py && cat starter.py pkg/mod.py'], workspace });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('x = 2\ny = 3\n');
  });

  it('never gives the sandbox a host file through a hard link or a symlink it planted for the hand-over', async () => {
    // The model plants a symlink to a root-owned host file; handing the workspace over must not chown the target.
    const victim = path.join(scratch, `victim-${randomUUID().slice(0, 8)}`);
    fs.writeFileSync(victim, 'host secret\n', { mode: 0o600 });
    const r = await sb().exec({ argv: ['sh', '-c', `ln -s ${victim} link; ln ${victim} hard 2>&1; echo done`], workspace });
    expect(r.stdout).toContain('done');
    await sb().exec({ argv: ['true'], workspace }); // a second command: the hand-over walks the planted link
    expect(fs.statSync(victim).uid).toBe(process.geteuid!());
    expect(fs.statSync(victim).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(path.join(workspace, 'hard'))).toBe(false); // link(2) across mounts fails
  });

  it('cannot write any sysctl: every file under /proc/sys, and /proc/sysrq-trigger, refuses to open for writing', async () => {
    const code = `
import os, json
ok, total, opened = 0, 0, []
for root, dirs, files in os.walk('/proc/sys'):
    for f in files:
        p = os.path.join(root, f)
        total += 1
        try:
            fd = os.open(p, os.O_WRONLY)   # opening writes nothing; a success is the hole
            os.close(fd)
            opened.append(p)
        except OSError:
            ok += 1
for p in ['/proc/sysrq-trigger']:
    try:
        os.close(os.open(p, os.O_WRONLY)); opened.append(p)
    except OSError:
        pass
print(json.dumps({"total": total, "refused": ok, "opened": opened}))`;
    const r = await run(code);
    expect(r.exitCode, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { total: number; refused: number; opened: string[] };
    expect(o.total).toBeGreaterThan(100); // it really walked the sysctl tree
    expect(o.opened).toEqual([]);
    expect(o.refused).toBe(o.total);
  });

  it('a core dump runs nothing on the host: core_pattern cannot be pointed at the workspace, and a crash leaves the host as it was', async () => {
    const before = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const marker = path.join(os.tmpdir(), `envbench-pwned-${randomUUID().slice(0, 8)}`);
    const code = `
import ctypes, os, resource, stat
open('/workspace/evil.sh', 'w').write('#!/bin/sh\\ntouch ${marker}\\n')
os.chmod('/workspace/evil.sh', 0o755)
try:
    open('/proc/sys/kernel/core_pattern', 'w').write('|/workspace/evil.sh')
    print('WROTE core_pattern')
except OSError as e:
    print('refused', e.errno)
try:
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
except (ValueError, OSError):
    pass
ctypes.string_at(0)  # SIGSEGV`;
    const r = await run(code);
    expect(r.stdout).not.toContain('WROTE');
    expect(r.stdout).toContain('refused');
    expect(r.exitCode).toBe(128 + 11);
    await new Promise((res) => setTimeout(res, 500)); // a core helper would run asynchronously
    expect(fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(before);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('a setuid binary left in the workspace gives nothing: owned by the sandbox uid, and suid is ignored inside', async () => {
    const r = await sb().exec({
      argv: ['sh', '-c', 'cp /bin/sh ./rootsh && chmod 4755 ./rootsh && ./rootsh -p -c "id -u"'],
      workspace,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBe(sb().enforcement.uid);
    const st = fs.statSync(path.join(workspace, 'rootsh'));
    // If the host ever ran it, it would be the sandbox uid, never root.
    expect(st.uid).toBe(sb().enforcement.uid);
    expect(st.uid).not.toBe(0);
  });

  it('ptrace, process_vm_readv and pidfd_getfd of pid 1 (or of a sibling) all fail, and /proc/1 shows nothing', async () => {
    const code = `
import ctypes, json, os, signal, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out = {}
def sc(*a):
    r = libc.syscall(*[ctypes.c_long(x) for x in a])
    return r, ctypes.get_errno()
PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206
out['ptrace_pid1'] = sc(101, PTRACE_ATTACH, 1, 0, 0)
child = os.fork()
if child == 0:
    time.sleep(30); os._exit(0)
out['ptrace_sibling'] = sc(101, PTRACE_SEIZE, child, 0, 0)
buf = ctypes.create_string_buffer(64)
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
local = iovec(ctypes.cast(buf, ctypes.c_void_p), 64); remote = iovec(0x400000, 64)
out['process_vm_readv'] = sc(310, 1, ctypes.addressof(local), 1, ctypes.addressof(remote), 1, 0)
pidfd, e = sc(434, 1, 0)           # pidfd_open is allowed ...
out['pidfd_open'] = (pidfd, e)
out['pidfd_getfd'] = sc(438, pidfd if pidfd >= 0 else 0, 1, 0)  # ... taking its descriptors is not
out['proc1'] = os.listdir('/proc/1')
try:
    os.kill(1, signal.SIGSTOP)     # pid 1 of a namespace ignores signals from inside
    out['sigstop'] = 'sent'
except OSError as ex:
    out['sigstop'] = ex.errno
os.kill(child, signal.SIGKILL)
print(json.dumps(out))`;
    if (os.arch() !== 'x64') return; // syscall numbers above are x86_64's
    const t0 = Date.now();
    const r = await run(code, { wallSec: 120 });
    expect(r.exitCode, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as Record<string, [number, number] | string[] | string | number>;
    const EPERM = 1;
    for (const k of ['ptrace_pid1', 'ptrace_sibling', 'process_vm_readv', 'pidfd_getfd']) expect(o[k], k).toEqual([-1, EPERM]);
    expect(o.proc1).toEqual([]);
    // Whatever the SIGSTOP did, the sandbox ended when its command did, long before its 120 s wall limit.
    expect(r.killedBy).toBeNull();
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it('the seccomp filter denies the whole list with EPERM (each call made as a model would, through libc syscall())', async () => {
    if (os.arch() !== 'x64') return;
    const nrs = Object.fromEntries(Object.entries(DENIED_SYSCALLS).map(([k, v]) => [k, v.x64]));
    const code = `
import ctypes, json
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
res = {}
for name, nr in ${JSON.stringify(nrs)}.items():
    r = libc.syscall(ctypes.c_long(nr), ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0))
    res[name] = [r, ctypes.get_errno()]
# The x32 ABI numbers calls differently; it must not be a way around the list.
r = libc.syscall(ctypes.c_long(0x40000000 | 101), 0, 0, 0, 0)
res['x32_ptrace'] = [r, ctypes.get_errno()]
print(json.dumps(res))`;
    const r = await run(code);
    expect(r.exitCode, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as Record<string, [number, number]>;
    for (const name of [...Object.keys(nrs), 'x32_ptrace']) expect(o[name], name).toEqual([-1, 1]);
    expect(sb().enforcement.seccomp).toBe(true);
  });

  it('no descriptor the harness inherited reaches sandboxed code', async () => {
    // A child harness started with fd 77 left open (as a CI runner or a terminal might leave one).
    const script = path.join(scratch, 'fds.mts');
    fs.writeFileSync(script, `
import { createSandbox } from ${JSON.stringify(path.resolve('src/sandbox/index.ts'))};
const s = await createSandbox({});
const r = await s.exec({ argv: ['sh', '-c', 'ls /proc/self/fd; readlink /proc/self/fd/77 || echo no-77'], workspace: ${JSON.stringify(workspace)} });
process.stdout.write(JSON.stringify(r));
`);
    const tsx = path.resolve('node_modules/.bin/tsx');
    const p = spawnSync('bash', ['-c', `exec 77</etc/hostname; "${tsx}" "${script}"`], { encoding: 'utf8', timeout: 120_000 });
    expect(p.status, p.stderr).toBe(0);
    const r = JSON.parse(p.stdout) as { stdout: string };
    const fds = r.stdout.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    // ls's own directory descriptor is the only one above stderr.
    expect(fds.filter((f) => f > 3)).toEqual([]);
    expect(r.stdout).toContain('no-77');
  });
});

describe.skipIf(!sandbox)('failures stay the command\'s', () => {
  it('printing the launcher\'s failure text and exiting 125 is an ordinary exit, never a harness error', async () => {
    const r = await sb().exec({ argv: ['sh', '-c', 'echo "envbench: could not join the command cgroup [0123456789abcdef]: x" >&2; exit 125'], workspace });
    expect(r.exitCode).toBe(125);
    expect(r.killedBy).toBeNull();
  });

  it.skipIf(!isRoot)('a bound folder the sandbox uid cannot reach is an error naming the folder, not a silent root fallback', async () => {
    const locked = fs.mkdtempSync('/var/tmp/envbench-locked-'); // not under the harness's temp dir: never opened up
    try {
      fs.mkdirSync(path.join(locked, 'task'));
      await expect(sb().exec({ argv: ['true'], workspace, binds: [{ src: path.join(locked, 'task'), dest: '/opt/task' }] })).rejects.toThrow(
        new RegExp(`uid 65534, which cannot reach .*: ${locked} \\(mode 700`),
      );
    } finally {
      fs.rmSync(locked, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!sandbox)('memory that counts everything', () => {
  it('says which enforcement is in force', () => {
    expect(['cgroup-v1', 'cgroup-v2', 'watchdog']).toContain(sb().enforcement.memory);
    if (process.env.CI && isRoot) expect(sb().enforcement.memory).not.toBe('watchdog'); // CI's root harness has a memory cgroup
  });

  const memfd = `
import os
fd = os.memfd_create('hoard')
chunk = b'x' * (16 << 20)
for i in range(64):          # 1 GiB, never mapped: no RSS, no PSS
    os.write(fd, chunk)
print('HELD 1GiB')`;
  const devShm = `
import os
held = []
with open('/dev/shm/hoard', 'wb') as f:
    try:
        for i in range(64):
            f.write(b'x' * (16 << 20)); f.flush()
    except OSError:
        pass
held.append(b'y' * (120 << 20))   # shared memory at its cap, plus ordinary memory on top
print('HELD shm')`;

  it('a memfd past the limit kills the tree, and the tool says it was memory', async () => {
    const r = await run(memfd, { memoryMb: 256 });
    expect(r.killedBy).toBe('memory');
    expect(r.stdout).not.toContain('HELD');
    const tmpDir = fs.mkdtempSync(path.join(scratch, 'tmp-'));
    const ctx: ToolContext = {
      workspace, tmpDir, sandbox: sb(), python: py, gpu: false, limits: { memoryMb: 256, wallSec: 60 }, signal: new AbortController().signal,
    };
    const t = await runPythonTool.run({ code: memfd }, ctx);
    expect(t.content).toContain('killed: exceeded the memory limit of 256 MiB');
  });

  it('/dev/shm filled to its cap plus ordinary memory kills the tree at the limit', async () => {
    const r = await run(devShm, { memoryMb: 256 });
    expect(r.killedBy).toBe('memory');
    expect(r.stdout).not.toContain('HELD');
  });

  it('without a memory cgroup the watchdog counts memfd and /dev/shm pages too', async () => {
    const watchdog = await createSandbox({ extraReadOnlyPaths: py.prefixes, memoryCgroup: false });
    expect(watchdog.enforcement.memory).toBe('watchdog');
    const slow = memfd.replace("print('HELD 1GiB')", "import time\ntime.sleep(20)\nprint('HELD 1GiB')");
    const r = await run(slow, { memoryMb: 256 }, watchdog);
    expect(r.killedBy).toBe('memory');
    expect(r.stdout).not.toContain('HELD');
    const shm = devShm.replace("print('HELD shm')", "import time\ntime.sleep(20)\nprint('HELD shm')");
    const r2 = await run(shm, { memoryMb: 256 }, watchdog);
    expect(r2.killedBy).toBe('memory');
  });

  it('ordinary work under the limit is untouched by the cgroup (numpy, files read, a child process)', async () => {
    const r = await run('import numpy, subprocess\na = numpy.ones((1000, 1000))\nprint(float(a.sum()), subprocess.run(["true"]).returncode)', { memoryMb: 512 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.killedBy).toBeNull();
    expect(r.stdout.trim()).toBe('1000000.0 0');
  });
});

describe.skipIf(!sandbox)('disk', () => {
  it('filling the workspace past its bound kills the command at the limit, and the host disk keeps what it had', async () => {
    const code = `
import os
chunk = os.urandom(4 << 20)
for i in range(512):          # tries to write 2 GiB in 4 MiB files
    with open(f'/workspace/fill{i}', 'wb') as f:
        f.write(chunk)
print('WROTE ALL')`;
    const r = await run(code, { diskMb: 64 });
    expect(r.killedBy).toBe('disk');
    expect(r.stdout).not.toContain('WROTE ALL');
    // The watchdog polls, so it overshoots by what is written between two checks; far below the 2 GiB tried.
    expect(usedBytes(workspace)).toBeLessThan(1024 * 1024 * 1024);
  });

  it('what /tmp holds counts too, and a command that fills the disk and exits before a check still hits the limit', async () => {
    const tmpDir = fs.mkdtempSync(path.join(scratch, 'tmp-'));
    const r = await sb().exec({
      argv: ['sh', '-c', 'head -c 40000000 /dev/zero > /tmp/a; head -c 40000000 /dev/zero > /workspace/b'],
      workspace, tmpDir, limits: { diskMb: 64 },
    });
    expect(r.killedBy).toBe('disk');
  });

  it('a million empty files hit the entry bound however little space they take, and soon after the bound', async () => {
    const code = `
import os
os.makedirs('/workspace/many', exist_ok=True)
for i in range(1_000_000):
    open(f'/workspace/many/{i}', 'w').close()
    if i % 25_000 == 0:
        print('made', i, flush=True)
print('MADE ALL')`;
    const r = await run(code, { wallSec: 120 });
    expect(r.killedBy).toBe('disk');
    expect(r.stdout).not.toContain('MADE ALL');
    // The watchdog walks at least every MAX_DISK_CHECK_GAP_MS (1 s): the command overshoots the 100,000 entries
    // by what it makes in about a second plus one walk, not by the rest of the million (a 20x back-off under
    // load once let all of them through). Generous for a loaded machine, and far below the million.
    const made = Math.max(...[...r.stdout.matchAll(/^made (\d+)$/gm)].map((m) => Number(m[1])));
    expect(made).toBeGreaterThanOrEqual(75_000);
    expect(made).toBeLessThanOrEqual(400_000);
  });

  it('four processes making files at once are stopped near the entry bound too, not after the gap times four', async () => {
    const code = `
import os
for w in range(4):
    if os.fork() == 0:
        os.makedirs(f'/workspace/w{w}', exist_ok=True)
        for i in range(1_000_000):
            open(f'/workspace/w{w}/{i}', 'w').close()
            if i % 10_000 == 0:
                print('made', w, i, flush=True)
        os._exit(0)
for _ in range(4):
    os.wait()
print('MADE ALL')`;
    const r = await run(code, { wallSec: 120 });
    expect(r.killedBy).toBe('disk');
    expect(r.stdout).not.toContain('MADE ALL');
    // Each writer's last report, summed: the tree as a whole overshoots by about a second's work of all four.
    const last = new Map<string, number>();
    for (const m of r.stdout.matchAll(/^made (\d) (\d+)$/gm)) last.set(m[1]!, Math.max(last.get(m[1]!) ?? 0, Number(m[2])));
    const made = [...last.values()].reduce((a, b) => a + b, 0);
    expect(made).toBeGreaterThanOrEqual(60_000);
    expect(made).toBeLessThanOrEqual(400_000);
  });

  it('a run_python call that hits the bound ends the whole trial as a disk limit', async () => {
    const tmpDir = fs.mkdtempSync(path.join(scratch, 'tmp-'));
    const ctx: ToolContext = {
      workspace, tmpDir, sandbox: sb(), python: py, gpu: false, limits: { diskMb: 32, wallSec: 60 }, signal: new AbortController().signal,
    };
    const t = await runPythonTool.run({ code: "open('/workspace/big', 'wb').write(b'x' * (64 << 20))" }, ctx);
    expect(t.endsTrial).toEqual({ limit: 'disk', detail: 'killed: the workspace and /tmp exceeded their disk limit of 32 MiB' });
  });
});

describe.skipIf(!sandbox)('a disk limit ends the trial as the model\'s failure', () => {
  it('a model whose code fills the workspace ends with limit "disk" after that one call, through the real loop and SDK', async () => {
    const server = await startMessagesServer((_b, i) =>
      i === 0
        ? toolUseReply('run_python', { code: "import os\nfor i in range(100):\n    open(f'/workspace/f{i}', 'wb').write(os.urandom(4 << 20))" })
        : toolUseReply('submit_answer', { answer: 1 }),
    );
    try {
      const tmpDir = fs.mkdtempSync(path.join(scratch, 'tmp-'));
      const outcome = await runAgentLoop({
        client: createAnthropicClient({ apiKey: 'test-key', baseURL: server.url, maxAttempts: 1, maxCallMs: 20_000 }),
        model: 'claude-haiku-4-5', thinkingBudget: null, system: 's', prompt: 'p',
        tools: [runPythonTool], submission: z.object({ answer: z.number() }),
        limits: { maxTurns: 5, outputTokenBudget: 100_000, timeLimitSec: 120 },
        toolContext: { workspace, tmpDir, sandbox: sb(), python: py, gpu: false, limits: { diskMb: 32, wallSec: 60 } },
        transcript: new MemoryTranscript(),
      });
      expect(outcome).toMatchObject({ kind: 'limit', limit: 'disk' });
      expect(server.requests).toHaveLength(1); // the submission that would have followed never happened
    } finally {
      await server.close();
    }
  });
});

describe('the sandbox uid setting', () => {
  it('defaults to 65534 for a root harness and is not used by an unprivileged one', () => {
    expect(sandboxIdentity({}, 0)).toEqual({ uid: 65534, gid: 65534 });
    expect(sandboxIdentity({ ENVBENCH_SANDBOX_UID: '4242' }, 0)).toEqual({ uid: 4242, gid: 4242 });
    expect(sandboxIdentity({ ENVBENCH_SANDBOX_UID: '4242', ENVBENCH_SANDBOX_GID: '77' }, 0)).toEqual({ uid: 4242, gid: 77 });
    expect(sandboxIdentity({ ENVBENCH_SANDBOX_UID: '4242' }, 1000)).toBeNull();
  });

  it('refuses uid 0 and nonsense by name', () => {
    expect(() => sandboxIdentity({ ENVBENCH_SANDBOX_UID: '0' }, 0)).toThrow(/ENVBENCH_SANDBOX_UID="0": must not be 0/);
    expect(() => sandboxIdentity({ ENVBENCH_SANDBOX_UID: 'nobody' }, 0)).toThrow(/ENVBENCH_SANDBOX_UID="nobody"/);
    expect(() => sandboxIdentity({ ENVBENCH_SANDBOX_GID: '-1' }, 0)).toThrow(/ENVBENCH_SANDBOX_GID/);
  });

  it.skipIf(!sandbox || !isRoot)('runs sandboxed code as the uid it names', async () => {
    const s = await createSandbox({ env: { ENVBENCH_SANDBOX_UID: '4242' } });
    const r = await s.exec({ argv: ['id', '-u'], workspace });
    expect(r.stdout.trim()).toBe('4242');
    expect(s.enforcement.uid).toBe(4242);
  });
});

describe('the seccomp filter program', () => {
  it('matches the kernel headers and libseccomp on every number it denies', () => {
    const header = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
    if (fs.existsSync(header)) {
      const text = fs.readFileSync(header, 'utf8');
      for (const [name, n] of Object.entries(DENIED_SYSCALLS)) {
        const m = new RegExp(`#define __NR_${name} (\\d+)`).exec(text);
        expect(m?.[1], name).toBe(String(n.x64));
      }
    }
    // libseccomp's tables cover both architectures (python3-seccomp; installed by .ci/run).
    const probe = spawnSync('/usr/bin/python3', ['-c', `
import json, seccomp
names = ${JSON.stringify(Object.keys(DENIED_SYSCALLS))}
print(json.dumps({n: [seccomp.resolve_syscall(seccomp.Arch.X86_64, n), seccomp.resolve_syscall(seccomp.Arch.AARCH64, n)] for n in names}))`], { encoding: 'utf8' });
    if (probe.status !== 0) {
      if (process.env.CI) throw new Error(`python3-seccomp is needed in CI to check the syscall table: ${probe.stderr}`);
      return;
    }
    const lib = JSON.parse(probe.stdout) as Record<string, [number, number]>;
    for (const [name, n] of Object.entries(DENIED_SYSCALLS)) expect(lib[name], name).toEqual([n.x64, n.arm64]);
  });

  it('checks the architecture first and ends in allow, then deny', () => {
    const f = buildSeccompFilter('x64');
    expect(f.length % 8).toBe(0);
    const insn = (i: number) => ({ code: f.readUInt16LE(i * 8), jt: f[i * 8 + 2], jf: f[i * 8 + 3], k: f.readUInt32LE(i * 8 + 4) });
    expect(insn(0)).toEqual({ code: 0x20, jt: 0, jf: 0, k: 4 });
    expect(insn(1).k).toBe(0xc000003e);
    const n = f.length / 8;
    expect(insn(n - 2)).toMatchObject({ code: 0x06, k: 0x7fff0000 });
    expect(insn(n - 1)).toMatchObject({ code: 0x06, k: 0x00050001 });
    // Every conditional jump lands exactly on the deny.
    for (let i = 4; i < n - 2; i++) expect(i + 1 + insn(i).jt!, `insn ${i}`).toBe(n - 1);
  });
});
