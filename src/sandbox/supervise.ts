/**
 * Supervises one sandboxed command: starts it (inside its cgroups, with the descriptors bwrap binds),
 * watches the tree every tick for the process, memory and disk limits, kills the whole tree at any
 * limit, and resolves only once every process of it is gone.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { CappedOutput } from './limits.js';
import type { CommandCgroups } from './cgroups.js';
import { CGROUP_JOIN_FAILED, launchWrap } from './launch.js';
import { diskUsage, MAX_DISK_CHECK_GAP_MS, MAX_DISK_ENTRIES } from './disk.js';
import { ProcTable, readProc, shmemBytes, signalIfSame, treeMemoryBytes, watch, type ProcEntry, type Root } from './proc-table.js';
import type { KillReason, SandboxExecOptions, SandboxExecResult, SandboxLimits } from './types.js';

const MIB = 1024 * 1024;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Launch {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /**
   * Unsafe mode: the command gets its own session and process group, and the tree is found by ancestry
   * and session. Under bwrap the pid namespace holds the tree instead.
   */
  ownSession: boolean;
  /** Harness processes in the tree that are not the command's (bwrap and bwrap's pid-1 reaper). */
  overhead: number;
  /** The cgroups the command enters before exec (see cgroups.ts), or null where the host has none. */
  cgroups: CommandCgroups | null;
  /** Host paths opened and passed as fds 3, 4, ... (bwrap's --bind-fd and --seccomp). */
  fdPaths: string[];
  /** Host folders the command can write (workspace, /tmp): their total is held to limits.diskMb. */
  writableDirs: string[];
  /** bash for the launch wrapper (see launch.ts); null only in unsafe mode on a host without it. */
  bash: string | null;
  /** Count memfd and /dev/shm pages in the watchdog's memory figure (no memory cgroup does it). */
  countShmem: boolean;
}

/** How long to wait for a killed tree to disappear before giving up (a process stuck in D state). */
const REAP_TIMEOUT_MS = 15_000;

export function runSupervised(launch: Launch, opts: SandboxExecOptions, limits: SandboxLimits): Promise<SandboxExecResult> {
  const started = Date.now();
  const memLimit = limits.memoryMb * MIB;
  const emptyResult = (killedBy: KillReason): SandboxExecResult => ({
    exitCode: null, signalName: null, stdout: '', stderr: '', stdoutTruncated: false, stderrTruncated: false,
    killedBy, durationMs: 0, peakMemoryMb: 0, cpuMs: null,
  });
  if (opts.signal?.aborted) return Promise.resolve(emptyResult('abort'));

  return new Promise<SandboxExecResult>((resolve, reject) => {
    // The join failure's marker carries a nonce the command cannot see (the wrapper runs outside the
    // sandbox), so sandboxed code cannot print it to pass its own failure off as the harness's.
    const joinMarker = `${CGROUP_JOIN_FAILED} [${randomBytes(8).toString('hex')}]`;
    const argv = launchWrap(
      { bash: launch.bash, procsFiles: launch.cgroups?.procsFiles() ?? [], keepFds: launch.fdPaths.length, marker: joinMarker },
      [launch.command, ...launch.args],
    );
    // Opened here, closed as soon as the child has them: bwrap mounts each and closes its copy before the
    // command starts, so no descriptor of a host folder reaches sandboxed code.
    const passed: number[] = [];
    try {
      for (const p of launch.fdPaths) passed.push(fs.openSync(p, 'r'));
    } catch (e) {
      for (const fd of passed) fs.closeSync(fd);
      void launch.cgroups?.remove();
      reject(new Error(`could not open ${launch.fdPaths[passed.length]} for the sandbox: ${(e as Error).message}`));
      return;
    }
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        cwd: launch.cwd,
        env: launch.env,
        stdio: [opts.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe', ...passed],
        detached: launch.ownSession,
      });
    } finally {
      for (const fd of passed) fs.closeSync(fd);
    }
    const out = new CappedOutput(limits.outputBytes);
    const err = new CappedOutput(limits.outputBytes);
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    if (opts.stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => {}); // the command may exit without reading
      child.stdin.end(opts.stdin);
    }
    let closed = false;
    const closedP = new Promise<void>((r) => child.once('close', () => ((closed = true), r())));

    let spawnFailed = false;
    child.on('error', (e) => {
      if (child.pid === undefined) {
        spawnFailed = true;
        void launch.cgroups?.remove();
        reject(new Error(`could not start ${launch.command}: ${e.message}`));
      }
    });
    if (child.pid === undefined) return; // 'error' follows

    const pid = child.pid;
    const rootStart = readProc(pid)?.start ?? -1;
    const root: Root = { pid, start: rootStart };
    const session: Root | undefined = launch.ownSession ? { pid, start: rootStart } : undefined;
    /** Every process seen in the tree and still alive: found again after the root is gone. */
    const tracked = new Map<number, number>();
    let killedBy: KillReason = null;
    let peakBytes = 0;
    let exited = false;
    /**
     * Under bwrap, bwrap's pid-1 reaper: --new-session made it the leader of a new session and process
     * group, which the command and everything it forks belong to unless they call setsid/setpgid.
     */
    let groupLeader: Root | null = null;

    /** The command's processes now: by ancestry from the root and from those seen before, by session
     * (unsafe mode) and by cgroup membership (where there is one: it holds even processes that escaped both). */
    const liveTree = (t: ProcTable): ProcEntry[] => {
      const roots: Root[] = exited ? [] : [root];
      for (const [p, s] of tracked) roots.push({ pid: p, start: s });
      for (const p of launch.cgroups?.pids() ?? []) {
        const e = t.byPid.get(p);
        if (e) roots.push({ pid: p, start: e.start });
      }
      return t.tree(roots, session);
    };

    /**
     * Under bwrap: SIGKILL to bwrap and to the namespace's pid 1 makes the kernel kill the whole pid
     * namespace and refuse any further fork in it, so nothing can fork its way out. This must happen
     * before any /proc scan: under a fork bomb every syscall of the harness is slow (hundreds of runnable
     * tasks share the CPUs) and each millisecond lets the bomb double. The processes seen at the last tick
     * are killed too (cheap, no scan), so they die the moment they are scheduled instead of forking again.
     */
    const killBwrap = () => {
      // A process-group kill is atomic against fork: the kernel marks every member at once, and a member
      // with SIGKILL pending can no longer fork, even before it is scheduled to die. (The leader alive with
      // the same start time means its pid, and so the group id, is still the one we saw.)
      if (groupLeader && readProc(groupLeader.pid)?.start === groupLeader.start) {
        try {
          process.kill(-groupLeader.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      child.kill('SIGKILL');
      for (const [p, s] of tracked) signalIfSame(p, s, 'SIGKILL'); // bwrap's pid 1 comes first (tree order)
    };

    /**
     * Unsafe mode has no namespace to tear down. The process group is stopped in one (fork-atomic) call,
     * then the tree, by ancestry and session, is stopped until a rescan finds no newcomer, then all of it
     * is killed. A process that left both the session and the tree before the last tick can escape.
     */
    const killUnsafe = () => {
      if (!exited) {
        try {
          process.kill(-pid, 'SIGSTOP'); // the pid (and so the group id) is ours until Node reaps it
        } catch {
          // gone
        }
      }
      const stopped = new Map<number, number>();
      let tree = liveTree(ProcTable.scan());
      for (let round = 0; round < 20; round++) {
        const fresh = tree.filter((e) => !stopped.has(e.pid));
        if (fresh.length === 0) break;
        for (const e of fresh) {
          stopped.set(e.pid, e.start);
          signalIfSame(e.pid, e.start, 'SIGSTOP');
        }
        tree = liveTree(ProcTable.scan());
      }
      if (!exited) {
        child.kill('SIGKILL');
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      for (const [p, s] of stopped) {
        tracked.set(p, s);
        signalIfSame(p, s, 'SIGKILL');
      }
    };

    const kill = (reason: Exclude<KillReason, null>) => {
      if (killedBy !== null || exited) return;
      killedBy = reason;
      if (launch.ownSession) killUnsafe();
      else killBwrap();
    };

    const observe = (t: ProcTable) => {
      if (exited) return;
      const tree = liveTree(t);
      const alive = new Map<number, number>();
      for (const e of tree) alive.set(e.pid, e.start);
      tracked.clear();
      for (const [p, s] of alive) tracked.set(p, s);
      if (!launch.ownSession && !groupLeader) {
        const nsInit = tree.find((e) => e.ppid === pid);
        if (nsInit) groupLeader = { pid: nsInit.pid, start: nsInit.start };
      }
      if (killedBy !== null) return;
      const procs = tree.length - launch.overhead;
      const shmem = launch.countShmem ? shmemBytes(tree, groupLeader?.pid ?? null) : 0;
      const bytes = treeMemoryBytes(tree, memLimit, shmem);
      peakBytes = Math.max(peakBytes, bytes);
      if (procs > limits.maxProcs) kill('procs');
      else if (bytes > memLimit || (launch.cgroups?.oomKills() ?? 0) > 0) kill('memory');
      else if (Date.now() >= nextDiskCheck && overDisk()) kill('disk');
    };

    // The disk walk costs time in proportion to what the folders hold, so it runs at most every tick and
    // backs off to 20 times its own duration, up to MAX_DISK_CHECK_GAP_MS: a folder of 100,000 files does not
    // stall the harness, and a command making files as fast as it can is still walked every second or so.
    const diskLimit = limits.diskMb * MIB;
    let nextDiskCheck = 0;
    const overDisk = (): boolean => {
      if (launch.writableDirs.length === 0) return false;
      const t0 = Date.now();
      const u = diskUsage(launch.writableDirs, MAX_DISK_ENTRIES);
      nextDiskCheck = Date.now() + Math.min(MAX_DISK_CHECK_GAP_MS, 20 * (Date.now() - t0));
      return u.truncated || u.bytes > diskLimit;
    };

    const unwatch = watch(observe);
    observe(ProcTable.scan());
    const timer = setTimeout(() => kill('time'), limits.wallSec * 1000);
    const onAbort = () => kill('abort');
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.once('exit', (code, sig) => {
      exited = true;
      unwatch();
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      void (async () => {
        // Whatever outlived the command (background jobs in unsafe mode; under bwrap the namespace's
        // teardown) is killed, and the promise waits until it is really gone.
        const deadline = Date.now() + REAP_TIMEOUT_MS;
        let left: ProcEntry[] = [];
        for (let delay = 10; ; delay = Math.min(2 * delay, 200)) {
          const t = ProcTable.scan();
          left = liveTree(t).filter((e) => e.state !== 'Z' && e.state !== 'X');
          tracked.clear();
          for (const e of left) tracked.set(e.pid, e.start);
          if (left.length === 0 || Date.now() > deadline) break;
          for (const e of left) signalIfSame(e.pid, e.start, 'SIGKILL');
          await sleep(delay);
        }
        // The kernel's OOM killer may have acted between two ticks (or killed only one process, on v1).
        if (killedBy === null && (launch.cgroups?.oomKills() ?? 0) > 0) killedBy = 'memory';
        // A command that filled the disk and exited before the next tick still hit the limit.
        if (killedBy === null && overDisk()) killedBy = 'disk';
        const cpuMs = launch.cgroups?.cpuMs() ?? null;
        await launch.cgroups?.remove();
        // With the tree gone the pipes close at once; an escaped holder (unsafe mode only) is not waited for.
        if (!closed) await Promise.race([closedP, sleep(left.length ? 0 : 2000)]);
        if (!closed) {
          child.stdout?.destroy();
          child.stderr?.destroy();
        }
        let stderr = err.text();
        if (left.length) {
          stderr += `\n[envbench: ${left.length} process(es) of this command were still alive ${REAP_TIMEOUT_MS / 1000} s after SIGKILL: ${left.map((e) => e.pid).join(' ')}]\n`;
        }
        if (spawnFailed) return;
        if (code === 125 && stderr.includes(joinMarker)) {
          reject(new Error(`the sandbox could not put the command in its cgroups: ${stderr.trim().slice(-300)}`));
          return;
        }
        // bwrap reports a command that died of signal N as exit 128+N; unsafe mode says the same, so that
        // results read alike in both modes. A signal name is left only for the harness's own kill.
        let exitCode = code;
        let signalName = sig;
        if (launch.ownSession && sig && killedBy === null) {
          exitCode = 128 + (os.constants.signals[sig] ?? 0);
          signalName = null;
        }
        resolve({
          exitCode,
          signalName,
          stdout: out.text(),
          stderr,
          stdoutTruncated: out.truncated,
          stderrTruncated: err.truncated,
          killedBy,
          durationMs: Date.now() - started,
          peakMemoryMb: Math.round((peakBytes / MIB) * 10) / 10,
          cpuMs: cpuMs === null ? null : Math.round(cpuMs * 10) / 10,
        });
      })().catch(reject);
    });
  });
}

