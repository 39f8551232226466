/**
 * Runs commands inside a bubblewrap sandbox (or, only when asked, directly on the host) under the limits
 * of SandboxLimits. Model-written code is hostile: it gets no network, no host environment, a read-only
 * system, one writable workspace and a private /tmp, and its whole process tree dies at a limit.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CappedOutput, resolveLimits } from './limits.js';
import {
  SandboxUnavailableError,
  type ExtraBind,
  type KillReason,
  type Sandbox,
  type SandboxExecOptions,
  type SandboxExecResult,
  type SandboxLimits,
  type SandboxMode,
} from './types.js';

/** Where the workspace and the private tmp dir appear inside the sandbox. */
export const SANDBOX_WORKSPACE = '/workspace';
export const SANDBOX_TMP = '/tmp';

/**
 * /etc entries the interpreter and its libraries need (the dynamic loader's cache and config, Debian's
 * alternatives symlinks for libblas/liblapack, time zone, user and host lookups, Python's own config,
 * matplotlib's rc, public CA certificates). Never all of /etc: it holds secrets (ssh keys, shadow,
 * pip/npm/git credentials, ssl/private).
 */
export const ETC_ALLOWLIST: readonly string[] = [
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'alternatives',
  'localtime',
  'timezone',
  'passwd',
  'group',
  'nsswitch.conf',
  'hosts',
  'host.conf',
  'gai.conf',
  'protocols',
  'services',
  'mime.types',
  'os-release',
  'debian_version',
  'lsb-release',
  'fonts',
  'matplotlibrc',
  'ssl/certs',
  'ssl/openssl.cnf',
  // plus every /etc/python3* entry, found at detection time
];

/** Top-level directories that merged-/usr systems make symlinks into /usr. */
const ROOT_DIRS = ['/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32'];

/** Read-only paths the NVIDIA user-space stack reads, bound only for GPU tasks (after --proc). */
export const GPU_READ_ONLY_PATHS: readonly string[] = [
  '/sys',
  '/proc/driver/nvidia',
  '/usr/local/nvidia',
  '/etc/OpenCL',
  '/usr/share/nvidia',
];

/** Host paths that may never be bound whole through extraReadOnlyPaths. */
const FORBIDDEN_EXTRA_PATHS = new Set([
  '/', '/etc', '/root', '/home', '/proc', '/sys', '/dev', '/run', '/var', '/tmp', '/boot', '/mnt', '/media', '/srv',
  SANDBOX_WORKSPACE,
]);

export const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';

/** The whole environment a sandboxed command sees, before opts.env. Nothing comes from the parent. */
export function baseSandboxEnv(home = SANDBOX_TMP): Record<string, string> {
  return {
    PATH: SANDBOX_PATH,
    HOME: home,
    TMPDIR: home,
    USER: 'sandbox',
    LANG: 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    MPLBACKEND: 'Agg',
  };
}

function mergeEnv(base: Record<string, string>, extra: Record<string, string> | undefined): Record<string, string> {
  const env = { ...base };
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid environment variable name for the sandbox: ${JSON.stringify(k)}`);
    if (v.includes('\0')) throw new Error(`environment variable ${k} contains a NUL byte`);
    env[k] = v;
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// Host layout and the bwrap argv (pure, unit-tested)
// ---------------------------------------------------------------------------------------------

export interface HostLayout {
  /** /bin, /lib...: `symlinkTo` is the link's target when the host has merged /usr, else the dir is bound. */
  rootDirs: { path: string; symlinkTo?: string }[];
  /** Existing host /etc paths from the allowlist. */
  etcEntries: string[];
  /** Existing /dev/nvidia* nodes (and the nvidia-caps dir). */
  nvidiaDevices: string[];
  /** prlimit(1) path, valid both on the host and inside the sandbox (it lives under /usr); null if missing. */
  prlimit: string | null;
  /** nice(1) path on the host; null if missing. */
  nice: string | null;
}

/** Looks at the host once; the argv builder itself stays pure. */
export function detectHostLayout(): HostLayout {
  const rootDirs: HostLayout['rootDirs'] = [];
  for (const p of ROOT_DIRS) {
    try {
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink()) rootDirs.push({ path: p, symlinkTo: fs.readlinkSync(p) });
      else if (st.isDirectory()) rootDirs.push({ path: p });
    } catch {
      // absent on this host (e.g. /lib32)
    }
  }
  let etcNames: string[] = [...ETC_ALLOWLIST];
  try {
    etcNames = etcNames.concat(fs.readdirSync('/etc').filter((n) => /^python3/.test(n)).sort());
  } catch {
    // no /etc?
  }
  const etcEntries = etcNames.map((n) => `/etc/${n}`).filter((p) => fs.existsSync(p));
  let nvidiaDevices: string[] = [];
  try {
    nvidiaDevices = fs
      .readdirSync('/dev')
      .filter((n) => n.startsWith('nvidia'))
      .sort()
      .map((n) => `/dev/${n}`);
  } catch {
    // no /dev listing
  }
  const prlimit = ['/usr/bin/prlimit', '/usr/sbin/prlimit'].find((p) => isExecutable(p)) ?? null;
  const nice = ['/usr/bin/nice', '/bin/nice'].find((p) => isExecutable(p)) ?? null;
  return { rootDirs, etcEntries, nvidiaDevices, prlimit, nice };
}

export interface BwrapArgvInput {
  layout: HostLayout;
  /** Host paths. */
  workspace: string;
  tmpDir: string;
  /** The command to run, argv[0] resolved with the sandbox PATH. */
  argv: string[];
  extraReadOnlyPaths?: readonly string[];
  binds?: readonly ExtraBind[];
  gpu?: boolean;
  /** The full environment of the command (see baseSandboxEnv). */
  env: Record<string, string>;
  limits: SandboxLimits;
  /** RLIMIT_NPROC for the sandbox's user namespace (see prlimitWrap). */
  taskLimit?: number;
}

const MIB = 1024 * 1024;

/**
 * Wraps the command in prlimit so the kernel enforces what the watchdog can only poll for: RLIMIT_AS
 * (address space, so a big allocation fails at once with MemoryError) — except with a GPU, where the CUDA
 * driver reserves huge virtual ranges and RLIMIT_AS would break it —, RLIMIT_FSIZE, and no core dumps.
 * `taskLimit` sets RLIMIT_NPROC, a kernel fuse against fork bombs: inside bwrap's user namespace it counts
 * only the sandbox's tasks (threads included, hence well above maxProcs). The kernel ignores it for a
 * harness running as root (kuid 0 is exempt); there a pids cgroup (findPidsCgroupBase) takes its place
 * where the host allows one, and otherwise the watchdog alone stops a fork bomb.
 */
export function prlimitWrap(prlimit: string | null, argv: string[], limits: SandboxLimits, gpu: boolean, taskLimit?: number): string[] {
  if (!prlimit) return argv;
  const flags = [`--fsize=${Math.floor(limits.fileSizeMb * MIB)}`, '--core=0'];
  if (!gpu) flags.unshift(`--as=${Math.floor(limits.memoryMb * MIB)}`);
  if (taskLimit !== undefined) flags.push(`--nproc=${Math.floor(taskLimit)}`);
  return [prlimit, ...flags, '--', ...argv];
}

/** RLIMIT_NPROC fuse for a sandbox allowed `maxProcs` processes: room for every core's worth of threads. */
export function taskLimitFor(maxProcs: number, cpus: number): number {
  return Math.max(4 * maxProcs, maxProcs + 32 * cpus);
}

/**
 * Sandboxed commands run at nice 10, so under a CPU flood (a fork bomb's hundreds of runnable tasks)
 * the harness, and its watchdog, still get the CPU they need to notice and kill it. Relative priorities
 * between trials are unchanged.
 */
export const SANDBOX_NICE = 10;
function niceWrap(nice: string | null, argv: string[]): string[] {
  return nice ? [nice, '-n', String(SANDBOX_NICE), ...argv] : argv;
}

/** The arguments after `bwrap`. Pure: everything about the host comes in through `layout`. */
export function buildBwrapArgv(input: BwrapArgvInput): string[] {
  const { layout, limits } = input;
  const gpu = input.gpu ?? false;
  const a: string[] = [
    // Every namespace, network included: not even the host's loopback is reachable. A user namespace
    // with all capabilities dropped (bwrap keeps them when started by root) and no nested namespaces.
    '--unshare-all', '--unshare-user', '--disable-userns', '--cap-drop', 'ALL',
    // The sandbox dies with the harness; a new session blocks TIOCSTI tricks on a controlling tty.
    '--die-with-parent', '--new-session', '--hostname', 'sandbox',
    '--ro-bind', '/usr', '/usr',
  ];
  for (const d of layout.rootDirs) {
    if (d.symlinkTo !== undefined) a.push('--symlink', d.symlinkTo, d.path);
    else a.push('--ro-bind-try', d.path, d.path);
  }
  for (const p of layout.etcEntries) a.push('--ro-bind-try', p, p);
  a.push('--symlink', '../proc/self/mounts', '/etc/mtab');
  // A fresh procfs of the new pid namespace: /proc/*/environ shows sandbox processes only.
  a.push('--proc', '/proc', '--dev', '/dev');
  if (gpu) {
    for (const d of layout.nvidiaDevices) a.push('--dev-bind-try', d, d);
    for (const p of GPU_READ_ONLY_PATHS) a.push('--ro-bind-try', p, p);
  }
  // POSIX semaphores and torch's shared tensors need /dev/shm; tmpfs pages are not in any process's RSS,
  // so cap its size. The rest of /dev is made read-only.
  a.push('--size', String(Math.floor(limits.memoryMb * MIB)), '--tmpfs', '/dev/shm', '--remount-ro', '/dev');
  a.push('--bind', input.workspace, SANDBOX_WORKSPACE, '--bind', input.tmpDir, SANDBOX_TMP);
  // After /tmp, so a prefix that lives under /tmp is not hidden by it.
  for (const p of input.extraReadOnlyPaths ?? []) {
    if (p === '/usr' || p.startsWith('/usr/')) continue; // already there
    a.push('--ro-bind', p, p);
  }
  for (const b of input.binds ?? []) a.push(b.rw ? '--bind' : '--ro-bind', b.src, b.dest);
  // The root is a tmpfs bwrap made for mount points; nothing else may be written there.
  a.push('--remount-ro', '/');
  a.push('--chdir', SANDBOX_WORKSPACE, '--clearenv');
  for (const [k, v] of Object.entries(input.env)) a.push('--setenv', k, v);
  a.push('--', ...prlimitWrap(layout.prlimit, input.argv, limits, gpu, input.taskLimit));
  return a;
}

// ---------------------------------------------------------------------------------------------
// Host /proc scanning: the watchdog and the tree killer
// ---------------------------------------------------------------------------------------------

interface ProcEntry {
  pid: number;
  ppid: number;
  session: number;
  state: string;
  /** Start time in clock ticks since boot: tells a live process from a later one with a reused pid. */
  start: number;
  rssPages: number;
}

function parseStat(pid: number, text: string): ProcEntry | null {
  // comm is in parentheses and may itself hold spaces and ')'.
  const r = text.lastIndexOf(')');
  if (r < 0) return null;
  const f = text.slice(r + 2).split(' ');
  if (f.length < 22) return null;
  return { pid, state: f[0]!, ppid: Number(f[1]), session: Number(f[3]), start: Number(f[19]), rssPages: Number(f[21]) };
}

function readProc(pid: number): ProcEntry | null {
  try {
    return parseStat(pid, fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return null;
  }
}

interface Root {
  pid: number;
  start: number;
}

class ProcTable {
  readonly byPid = new Map<number, ProcEntry>();
  private children: Map<number, number[]> | null = null;

  static scan(): ProcTable {
    const t = new ProcTable();
    let names: string[] = [];
    try {
      names = fs.readdirSync('/proc');
    } catch {
      return t;
    }
    for (const n of names) {
      const c = n.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      const e = readProc(Number(n));
      if (e) t.byPid.set(e.pid, e);
    }
    return t;
  }

  private childIndex(): Map<number, number[]> {
    if (this.children) return this.children;
    const m = new Map<number, number[]>();
    for (const e of this.byPid.values()) {
      const l = m.get(e.ppid);
      if (l) l.push(e.pid);
      else m.set(e.ppid, [e.pid]);
    }
    return (this.children = m);
  }

  /** The live roots (same start time) and all their descendants, plus members of `session` (id = its leader's pid). */
  tree(roots: Iterable<Root>, session?: Root): ProcEntry[] {
    const queue: number[] = [];
    for (const r of roots) if (this.byPid.get(r.pid)?.start === r.start) queue.push(r.pid);
    if (session) {
      // The session id is the leader's pid; once that pid belongs to someone else the id means nothing.
      const leader = this.byPid.get(session.pid);
      if (!leader || leader.start === session.start) {
        for (const e of this.byPid.values()) if (e.session === session.pid && e.start >= session.start) queue.push(e.pid);
      }
    }
    // Breadth-first, roots in the order given: the caller relies on bwrap and its pid 1 coming first.
    const kids = this.childIndex();
    const seen = new Set<number>();
    const out: ProcEntry[] = [];
    for (let i = 0; i < queue.length; i++) {
      const p = queue[i]!;
      if (seen.has(p)) continue;
      seen.add(p);
      const e = this.byPid.get(p);
      if (!e) continue;
      out.push(e);
      for (const c of kids.get(p) ?? []) if (!seen.has(c)) queue.push(c);
    }
    return out;
  }
}

/** One /proc scan per tick serves every running command, however many run at once. */
const WATCH_INTERVAL_MS = 100;
const watchers = new Set<(t: ProcTable) => void>();
let ticker: NodeJS.Timeout | null = null;

function watch(fn: (t: ProcTable) => void): () => void {
  watchers.add(fn);
  if (!ticker) {
    ticker = setInterval(() => {
      const t = ProcTable.scan();
      for (const w of [...watchers]) {
        try {
          w(t);
        } catch {
          // one command's watcher must not stop the others'
        }
      }
    }, WATCH_INTERVAL_MS);
  }
  return () => {
    watchers.delete(fn);
    if (watchers.size === 0 && ticker) {
      clearInterval(ticker);
      ticker = null;
    }
  };
}

let pageSizeCache: number | null = null;
function pageSize(): number {
  if (pageSizeCache === null) {
    try {
      pageSizeCache = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8', timeout: 5000 }).trim()) || 4096;
    } catch {
      pageSizeCache = 4096;
    }
  }
  return pageSizeCache;
}

/** Proportional set size: shared pages (libraries, fork's copy-on-write) counted once across the tree. */
function pssBytes(e: ProcEntry): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${e.pid}/smaps_rollup`, 'latin1'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // gone, or a kernel without smaps_rollup
  }
  return e.rssPages * pageSize();
}

/** Sends `sig` only if `pid` is still the process we saw (same start time), and never to the harness or init. */
function signalIfSame(pid: number, start: number, sig: NodeJS.Signals): void {
  if (pid <= 1 || pid === process.pid || pid === process.ppid) return;
  if (readProc(pid)?.start !== start) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Optional kernel fuse: a pids cgroup per command
// ---------------------------------------------------------------------------------------------

/**
 * Where this harness may create pids cgroups (cgroup v1 `pids` hierarchy, or a v2 cgroup whose children
 * get the pids controller), or null. Needed because RLIMIT_NPROC does nothing for a harness running as
 * root, and without a kernel cap a fork bomb on a small machine can fill the host's pid table faster
 * than any watchdog polls. Opportunistic: most non-root hosts return null and rely on RLIMIT_NPROC.
 */
export function findPidsCgroupBase(): string | null {
  let cgroups: string[];
  let mounts: string[];
  try {
    cgroups = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n');
    mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  } catch {
    return null;
  }
  const candidates: string[] = [];
  for (const m of mounts) {
    // id parent maj:min root mountpoint options [optional...] - fstype source superoptions
    const [pre, post] = m.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    const [fstype, , superOpts = ''] = post.split(' ');
    const root = f[3] ?? '/';
    const mnt = f[4] ?? '';
    let rel: string | undefined;
    if (fstype === 'cgroup' && superOpts.split(',').includes('pids')) {
      rel = cgroups.map((l) => /^\d+:([^:]*):(.*)$/.exec(l)).find((x) => x?.[1]?.split(',').includes('pids'))?.[2];
    } else if (fstype === 'cgroup2') {
      rel = cgroups.map((l) => /^0::(.*)$/.exec(l)).find((x) => x)?.[1];
    }
    if (rel === undefined) continue;
    if (root !== '/' && rel.startsWith(root)) rel = rel.slice(root.length);
    candidates.push(path.join(mnt.replace(/\\040/g, ' '), rel));
  }
  for (const base of candidates) {
    const probe = path.join(base, `envbench-probe-${process.pid}`);
    try {
      fs.mkdirSync(probe);
    } catch {
      continue;
    }
    const ok = fs.existsSync(path.join(probe, 'pids.max')) && fs.existsSync(path.join(probe, 'cgroup.procs'));
    try {
      fs.rmdirSync(probe);
    } catch {
      // left behind empty; harmless
    }
    if (ok) {
      removeStaleCgroups(base);
      return base;
    }
  }
  return null;
}

/** Removes the empty cgroups of harness processes that died before cleaning up (rmdir fails on a busy one). */
function removeStaleCgroups(base: string): void {
  let names: string[] = [];
  try {
    names = fs.readdirSync(base);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^envbench-(?:probe-)?(\d+)(?:-\d+)?$/.exec(n);
    if (!m || Number(m[1]) === process.pid || fs.existsSync(`/proc/${m[1]}`)) continue;
    try {
      fs.rmdirSync(path.join(base, n));
    } catch {
      // still has processes, or not ours to remove
    }
  }
}

let cgroupSeq = 0;

/** A fresh pids cgroup capped at `maxTasks`, or null if it cannot be made. */
function makePidsCgroup(base: string | null, maxTasks: number): string | null {
  if (!base) return null;
  const dir = path.join(base, `envbench-${process.pid}-${++cgroupSeq}`);
  try {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'pids.max'), String(Math.floor(maxTasks)));
    return dir;
  } catch {
    try {
      fs.rmdirSync(dir);
    } catch {
      // never made
    }
    return null;
  }
}

/** Enters the cgroup before exec, so the command's very first fork is already capped. */
function cgroupWrap(dir: string | null, argv: string[]): string[] {
  if (!dir) return argv;
  return ['/bin/sh', '-c', 'echo $$ > "$0" 2>/dev/null; exec "$@"', path.join(dir, 'cgroup.procs'), ...argv];
}

function cgroupPids(dir: string | null): number[] {
  if (!dir) return [];
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function removeCgroup(dir: string | null): Promise<void> {
  if (!dir) return;
  for (let i = 0; i < 20; i++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      await sleep(50); // EBUSY while the last exits are accounted
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Supervising one command
// ---------------------------------------------------------------------------------------------

interface Launch {
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
  /** A pids cgroup the command enters before exec (see findPidsCgroupBase), or null. */
  cgroup: string | null;
}

/** How long to wait for a killed tree to disappear before giving up (a process stuck in D state). */
const REAP_TIMEOUT_MS = 15_000;

function runSupervised(launch: Launch, opts: SandboxExecOptions, limits: SandboxLimits): Promise<SandboxExecResult> {
  const started = Date.now();
  const memLimit = limits.memoryMb * MIB;
  const emptyResult = (killedBy: KillReason): SandboxExecResult => ({
    exitCode: null, signalName: null, stdout: '', stderr: '', stdoutTruncated: false, stderrTruncated: false,
    killedBy, durationMs: 0, peakMemoryMb: 0,
  });
  if (opts.signal?.aborted) return Promise.resolve(emptyResult('abort'));

  return new Promise<SandboxExecResult>((resolve, reject) => {
    const argv = cgroupWrap(launch.cgroup, [launch.command, ...launch.args]);
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: launch.cwd,
      env: launch.env,
      stdio: [opts.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: launch.ownSession,
    });
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
        void removeCgroup(launch.cgroup);
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
      for (const p of cgroupPids(launch.cgroup)) {
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
      let bytes = 0;
      for (const e of tree) bytes += e.rssPages;
      bytes *= pageSize();
      // RSS double-counts pages shared after fork; confirm with PSS before killing.
      if (bytes > memLimit) bytes = tree.reduce((s, e) => s + pssBytes(e), 0);
      peakBytes = Math.max(peakBytes, bytes);
      if (procs > limits.maxProcs) kill('procs');
      else if (bytes > memLimit) kill('memory');
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
        await removeCgroup(launch.cgroup);
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
        });
      })().catch(reject);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The two sandboxes
// ---------------------------------------------------------------------------------------------

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (isExecutable(p)) return p;
  }
  return null;
}

async function requireDir(p: string, what: string): Promise<string> {
  if (!path.isAbsolute(p)) throw new Error(`${what} must be an absolute host path, got ${p}`);
  const st = await fsp.stat(p).catch(() => null);
  if (!st?.isDirectory()) throw new Error(`${what} ${p} is not an existing directory`);
  return p;
}

/** Runs `body` with the caller's tmpDir (created if missing) or a fresh one removed afterwards. */
async function withTmpDir<T>(tmpDir: string | undefined, body: (dir: string) => Promise<T>): Promise<T> {
  if (tmpDir !== undefined) {
    if (!path.isAbsolute(tmpDir)) throw new Error(`tmpDir must be an absolute host path, got ${tmpDir}`);
    await fsp.mkdir(tmpDir, { recursive: true });
    return body(tmpDir);
  }
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'envbench-tmp-'));
  try {
    return await body(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

function validateExtraPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of paths) {
    if (!path.isAbsolute(raw)) throw new Error(`extraReadOnlyPaths: ${raw} is not absolute`);
    const p = path.resolve(raw);
    let real: string;
    try {
      real = fs.realpathSync(p);
    } catch {
      throw new Error(`extraReadOnlyPaths: ${p} does not exist`);
    }
    for (const q of [p, real]) {
      if (FORBIDDEN_EXTRA_PATHS.has(q)) throw new Error(`extraReadOnlyPaths: refusing to expose ${q} to sandboxed code`);
    }
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

function validateBinds(binds: readonly ExtraBind[] | undefined): ExtraBind[] {
  return (binds ?? []).map((b) => {
    if (!path.isAbsolute(b.src) || !path.isAbsolute(b.dest)) throw new Error(`bind ${b.src} -> ${b.dest}: both paths must be absolute`);
    const dest = path.posix.normalize(b.dest);
    if (dest === '/' || /^\/(proc|dev|sys)(\/|$)/.test(dest)) throw new Error(`bind destination ${dest} is not allowed`);
    if (!fs.existsSync(b.src)) throw new Error(`bind source ${b.src} does not exist`);
    return { ...b, dest };
  });
}

class BwrapSandbox implements Sandbox {
  readonly mode: SandboxMode = 'bwrap';
  constructor(
    readonly bwrapPath: string,
    readonly layout: HostLayout,
    readonly extraReadOnlyPaths: readonly string[],
    readonly cgroupBase: string | null,
  ) {}

  async exec(opts: SandboxExecOptions): Promise<SandboxExecResult> {
    if (opts.argv.length === 0) throw new Error('sandbox exec: empty argv');
    const limits = resolveLimits(opts.limits);
    const workspace = await requireDir(opts.workspace, 'workspace');
    const binds = validateBinds(opts.binds);
    const env = mergeEnv(baseSandboxEnv(), opts.env);
    const taskLimit = taskLimitFor(limits.maxProcs, os.availableParallelism());
    return withTmpDir(opts.tmpDir, (tmpDir) => {
      const args = buildBwrapArgv({
        layout: this.layout, workspace, tmpDir, argv: opts.argv, extraReadOnlyPaths: this.extraReadOnlyPaths,
        binds, gpu: opts.gpu, env, limits, taskLimit,
      });
      const argv = niceWrap(this.layout.nice, [this.bwrapPath, ...args]);
      // bwrap itself needs nothing from the harness's environment either.
      const launch: Launch = {
        command: argv[0]!, args: argv.slice(1), cwd: '/', env, ownSession: false, overhead: 2,
        cgroup: makePidsCgroup(this.cgroupBase, taskLimit + 8),
      };
      return runSupervised(launch, opts, limits);
    });
  }
}

/** --unsafe-no-sandbox: no isolation at all, only the cleared environment, the cwd and the limits. */
class UnsafeSandbox implements Sandbox {
  readonly mode: SandboxMode = 'unsafe-none';
  constructor(
    readonly layout: HostLayout,
    readonly extraReadOnlyPaths: readonly string[],
    readonly cgroupBase: string | null,
  ) {}

  async exec(opts: SandboxExecOptions): Promise<SandboxExecResult> {
    if (opts.argv.length === 0) throw new Error('sandbox exec: empty argv');
    const limits = resolveLimits(opts.limits);
    const workspace = await requireDir(opts.workspace, 'workspace');
    return withTmpDir(opts.tmpDir, (tmpDir) => {
      const env = mergeEnv(baseSandboxEnv(tmpDir), opts.env);
      // No RLIMIT_NPROC here: outside a user namespace it would count every process of this host user.
      const argv = niceWrap(this.layout.nice, prlimitWrap(this.layout.prlimit, opts.argv, limits, opts.gpu ?? false));
      const launch: Launch = {
        command: argv[0]!, args: argv.slice(1), cwd: workspace, env, ownSession: true, overhead: 0,
        cgroup: makePidsCgroup(this.cgroupBase, taskLimitFor(limits.maxProcs, os.availableParallelism())),
      };
      return runSupervised(launch, opts, limits);
    });
  }
}

export interface CreateSandboxOptions {
  /** Run commands directly on the host (no isolation); for machines without user namespaces. */
  unsafeNoSandbox?: boolean;
  /** Host paths (e.g. the interpreter's prefix outside /usr) bound read-only at the same path. */
  extraReadOnlyPaths?: string[];
  /** bwrap binary; default: `bwrap` on PATH, else /usr/bin/bwrap. */
  bwrapPath?: string;
  /** Cap each command's tasks with a pids cgroup where the host allows it (default true; see findPidsCgroupBase). */
  pidsCgroup?: boolean;
}

function unavailable(why: string): SandboxUnavailableError {
  return new SandboxUnavailableError(
    `bubblewrap (bwrap) is needed to run model-written code in a sandbox, but ${why}\n` +
      'Install it with `apt-get install bubblewrap` (Debian/Ubuntu; `dnf install bubblewrap` on Fedora) and make sure ' +
      'user namespaces are enabled (sysctl user.max_user_namespaces > 0; kernel.unprivileged_userns_clone=1 on older Debian; ' +
      'kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu 24.04+; inside Docker, run with a seccomp profile that allows them).\n' +
      'On a machine where that is impossible, --unsafe-no-sandbox runs commands unsandboxed, directly on this host ' +
      '(only the environment is cleared and the limits apply); the run record says so.',
  );
}

/** Makes the sandbox and proves it works by running `true` under exactly the flags every command gets. */
export async function createSandbox(opts: CreateSandboxOptions = {}): Promise<Sandbox> {
  const extra = validateExtraPaths(opts.extraReadOnlyPaths ?? []);
  const layout = detectHostLayout();
  pageSize();
  const cgroupBase = opts.pidsCgroup === false ? null : findPidsCgroupBase();
  if (opts.unsafeNoSandbox) return new UnsafeSandbox(layout, extra, cgroupBase);

  const bwrapPath = opts.bwrapPath ?? findOnPath('bwrap') ?? '/usr/bin/bwrap';
  if (!isExecutable(bwrapPath)) throw unavailable(`${bwrapPath} was not found or is not executable.`);
  const sandbox = new BwrapSandbox(bwrapPath, layout, extra, cgroupBase);
  const ws = await fsp.mkdtemp(path.join(os.tmpdir(), 'envbench-probe-'));
  let r: SandboxExecResult;
  try {
    r = await sandbox.exec({ argv: ['true'], workspace: ws, limits: { wallSec: 30, memoryMb: 256 } });
  } catch (e) {
    throw unavailable(`${bwrapPath} could not be started: ${(e as Error).message}`);
  } finally {
    await fsp.rm(ws, { recursive: true, force: true }).catch(() => {});
  }
  if (r.exitCode !== 0) {
    const why = r.killedBy ? `killed (${r.killedBy})` : `exit ${r.exitCode ?? r.signalName}`;
    throw unavailable(`a trial run of \`${bwrapPath} ... true\` failed (${why}): ${r.stderr.trim() || '(no output)'}`);
  }
  return sandbox;
}
