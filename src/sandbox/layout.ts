/**
 * What the sandbox looks like from inside: the host layout it is built from, its environment, and the
 * bwrap argv (pure: everything about the host comes in through HostLayout, so it is unit-tested).
 */
import fs from 'node:fs';
import type { ExtraBind, SandboxLimits } from './types.js';

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
export const FORBIDDEN_EXTRA_PATHS = new Set([
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

export function mergeEnv(base: Record<string, string>, extra: Record<string, string> | undefined): Record<string, string> {
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
  /** setpriv(1) (util-linux), which a root harness drops to the sandbox uid with; null if missing. */
  setpriv: string | null;
  /** bash, for the launch wrapper that closes inherited descriptors (see launch.ts); null if missing. */
  bash: string | null;
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
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv'].find((p) => isExecutable(p)) ?? null;
  const bash = ['/bin/bash', '/usr/bin/bash'].find((p) => isExecutable(p)) ?? null;
  return { rootDirs, etcEntries, nvidiaDevices, prlimit, nice, setpriv, bash };
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
  /** The seccomp filter (see seccomp.ts) as a host file; none when null or absent. */
  seccompFile?: string | null;
}

const MIB = 1024 * 1024;

/**
 * Wraps the command in prlimit so the kernel enforces what the watchdog can only poll for: RLIMIT_AS
 * (address space, so a big allocation fails at once with MemoryError) — except with a GPU, where the CUDA
 * driver reserves huge virtual ranges and RLIMIT_AS would break it —, RLIMIT_FSIZE, and no core dumps.
 * `taskLimit` sets RLIMIT_NPROC, a kernel fuse against fork bombs: inside bwrap's user namespace it counts
 * only the sandbox's tasks (threads included, hence well above maxProcs). The kernel ignores it for a
 * harness running as root (kuid 0 is exempt), which is one reason a root harness drops to the sandbox
 * uid (identity.ts); a pids cgroup (cgroups.ts) caps the tree as well where the host allows one.
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
export function niceWrap(nice: string | null, argv: string[]): string[] {
  return nice ? [nice, '-n', String(SANDBOX_NICE), ...argv] : argv;
}

export function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The arguments after `bwrap`, and the host files the caller must open, in order, as fds 3, 4, ... */
export interface BwrapPlan {
  args: string[];
  /** Files bwrap reads through a descriptor (the seccomp filter). */
  fdPaths: string[];
}

/** First descriptor passed to bwrap beyond stdin, stdout and stderr. */
const FIRST_PASSED_FD = 3;

/** Pure: everything about the host comes in through `layout`. */
export function planBwrap(input: BwrapArgvInput): BwrapPlan {
  const { layout, limits } = input;
  const gpu = input.gpu ?? false;
  const fdPaths: string[] = [];
  const fd = (hostPath: string): string => String(FIRST_PASSED_FD + fdPaths.push(hostPath) - 1);
  const a: string[] = [
    // Every namespace, network included: not even the host's loopback is reachable. A user namespace
    // with all capabilities dropped (bwrap keeps them when started by root) and no nested namespaces.
    '--unshare-all', '--unshare-user', '--disable-userns', '--cap-drop', 'ALL',
    // The sandbox dies with the harness; a new session blocks TIOCSTI tricks on a controlling tty.
    '--die-with-parent', '--new-session', '--hostname', 'sandbox',
    '--ro-bind', '/usr', '/usr',
  ];
  if (input.seccompFile) a.push('--seccomp', fd(input.seccompFile));
  for (const d of layout.rootDirs) {
    if (d.symlinkTo !== undefined) a.push('--symlink', d.symlinkTo, d.path);
    else a.push('--ro-bind-try', d.path, d.path);
  }
  for (const p of layout.etcEntries) a.push('--ro-bind-try', p, p);
  a.push('--symlink', '../proc/self/mounts', '/etc/mtab');
  // A fresh procfs of the new pid namespace: /proc/*/environ shows sandbox processes only.
  a.push('--proc', '/proc');
  // Sysctls read-only (bwrap leaves /proc/sys writable to a sandbox whose uid 0 is host root), and
  // /proc/1 hidden: pid 1 is bwrap's reaper, outside the seccomp filter; through /proc/1/mem or
  // /proc/1/fd the command could write its memory or take its descriptors.
  a.push('--ro-bind', '/proc/sys', '/proc/sys', '--ro-bind-try', '/proc/sysrq-trigger', '/proc/sysrq-trigger');
  a.push('--size', '4096', '--tmpfs', '/proc/1', '--remount-ro', '/proc/1');
  a.push('--dev', '/dev');
  if (gpu) {
    for (const d of layout.nvidiaDevices) a.push('--dev-bind-try', d, d);
    for (const p of GPU_READ_ONLY_PATHS) a.push('--ro-bind-try', p, p);
  }
  // POSIX semaphores and torch's shared tensors need /dev/shm; its pages count as the tree's memory
  // (cgroup, or the watchdog's shared-memory count), and its size is capped as well.
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
  return { args: a, fdPaths };
}

/** The arguments after `bwrap` alone (see planBwrap). */
export function buildBwrapArgv(input: BwrapArgvInput): string[] {
  return planBwrap(input).args;
}
