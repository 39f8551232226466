/**
 * The two sandboxes — bubblewrap, and the explicitly unsafe host mode — and createSandbox, which looks at
 * the host once, decides what enforces each limit there, and proves the sandbox starts. Model-written code
 * is hostile: it gets no network, no host environment, a read-only system, one writable workspace and a
 * private /tmp, a seccomp deny-list, never host uid 0, and its whole process tree dies at a limit.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommandCgroups, detectCgroups, type CgroupSupport } from './cgroups.js';
import { ensureReachable, handOver, sandboxIdentity, setprivWrap, type SandboxIdentity } from './identity.js';
import {
  FORBIDDEN_EXTRA_PATHS, baseSandboxEnv, detectHostLayout, isExecutable, mergeEnv, niceWrap, planBwrap, prlimitWrap,
  taskLimitFor, type HostLayout,
} from './layout.js';
import { resolveLimits } from './limits.js';
import { pageSize } from './proc-table.js';
import { buildSeccompFilter, seccompArch } from './seccomp.js';
import { runSupervised, type Launch } from './supervise.js';
import {
  SandboxUnavailableError,
  type ExtraBind,
  type Sandbox,
  type SandboxEnforcement,
  type SandboxExecOptions,
  type SandboxExecResult,
  type SandboxMode,
} from './types.js';

export {
  ETC_ALLOWLIST, GPU_READ_ONLY_PATHS, SANDBOX_NICE, SANDBOX_PATH, SANDBOX_TMP, SANDBOX_WORKSPACE, baseSandboxEnv,
  buildBwrapArgv, detectHostLayout, planBwrap, prlimitWrap, taskLimitFor, type BwrapArgvInput, type BwrapPlan, type HostLayout,
} from './layout.js';

const MIB = 1024 * 1024;

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

/** What every command of one sandbox shares: found once, when the sandbox is made. */
interface HostSetup {
  layout: HostLayout;
  extraReadOnlyPaths: readonly string[];
  cgroups: CgroupSupport;
  /** The uid a root harness drops to; null for a harness that is not root. */
  identity: SandboxIdentity | null;
  seccompFile: string | null;
}

function cgroupKind(base: { version: 'v1' | 'v2' } | null): 'cgroup-v1' | 'cgroup-v2' | null {
  return base ? (`cgroup-${base.version}` as const) : null;
}

function enforcementOf(h: HostSetup, mode: SandboxMode): SandboxEnforcement {
  const harnessUid = process.geteuid?.() ?? -1;
  return {
    uid: h.identity?.uid ?? harnessUid,
    uidSource: h.identity ? 'sandbox-uid' : 'harness',
    memory: cgroupKind(h.cgroups.memory) ?? 'watchdog',
    // RLIMIT_NPROC binds only a non-root uid, and only in bwrap's user namespace is it the sandbox's own count.
    pids: cgroupKind(h.cgroups.pids) ?? (mode === 'bwrap' && (h.identity || harnessUid !== 0) ? 'rlimit' : 'watchdog'),
    cpuTime: cgroupKind(h.cgroups.cpu) ?? 'none',
    disk: 'watchdog',
    seccomp: mode === 'bwrap' && h.seccompFile !== null,
  };
}

/** The command's cgroups, or null where the host gives none. */
function commandCgroups(h: HostSetup, maxTasks: number, memoryMb: number): CommandCgroups | null {
  const c = h.cgroups;
  if (!c.pids && !c.memory && !c.cpu) return null;
  return CommandCgroups.create(c, { maxTasks, memoryBytes: memoryMb * MIB });
}

class BwrapSandbox implements Sandbox {
  readonly mode: SandboxMode = 'bwrap';
  readonly extraReadOnlyPaths: readonly string[];
  readonly enforcement: SandboxEnforcement;
  constructor(
    readonly bwrapPath: string,
    private readonly host: HostSetup,
  ) {
    this.extraReadOnlyPaths = host.extraReadOnlyPaths;
    this.enforcement = enforcementOf(host, this.mode);
  }

  async exec(opts: SandboxExecOptions): Promise<SandboxExecResult> {
    if (opts.argv.length === 0) throw new Error('sandbox exec: empty argv');
    const limits = resolveLimits(opts.limits);
    const workspace = await requireDir(opts.workspace, 'workspace');
    const binds = validateBinds(opts.binds);
    const env = mergeEnv(baseSandboxEnv(), opts.env);
    const taskLimit = taskLimitFor(limits.maxProcs, os.availableParallelism());
    const { layout, identity } = this.host;
    return withTmpDir(opts.tmpDir, (tmpDir) => {
      // The writable folders belong to the sandbox uid; what the harness wrote there since is handed over.
      if (identity) {
        const harnessTmp = fs.realpathSync(os.tmpdir());
        for (const d of [workspace, tmpDir]) {
          ensureReachable(d, identity, harnessTmp);
          handOver(d, identity);
        }
        for (const b of binds) ensureReachable(b.src, identity, harnessTmp);
      }
      const plan = planBwrap({
        layout, workspace, tmpDir, argv: opts.argv, extraReadOnlyPaths: this.extraReadOnlyPaths,
        binds, gpu: opts.gpu, env, limits, taskLimit, seccompFile: this.host.seccompFile,
      });
      let inner = [this.bwrapPath, ...plan.args];
      if (identity) inner = setprivWrap(layout.setpriv!, identity, inner);
      const argv = niceWrap(layout.nice, inner);
      // bwrap itself needs nothing from the harness's environment either.
      const launch: Launch = {
        command: argv[0]!, args: argv.slice(1), cwd: '/', env, ownSession: false, overhead: 2,
        cgroups: commandCgroups(this.host, taskLimit + 8, limits.memoryMb),
        fdPaths: plan.fdPaths, writableDirs: [workspace, tmpDir], bash: layout.bash, countShmem: !this.host.cgroups.memory,
      };
      return runSupervised(launch, opts, limits);
    });
  }
}

/**
 * --unsafe-no-sandbox: no isolation at all, only the cleared environment, the cwd and the limits. It runs
 * as the harness's own uid (the run record says which); it is for machines where bwrap cannot run.
 */
class UnsafeSandbox implements Sandbox {
  readonly mode: SandboxMode = 'unsafe-none';
  readonly extraReadOnlyPaths: readonly string[];
  readonly enforcement: SandboxEnforcement;
  constructor(private readonly host: HostSetup) {
    this.extraReadOnlyPaths = host.extraReadOnlyPaths;
    this.enforcement = enforcementOf(host, this.mode);
  }

  async exec(opts: SandboxExecOptions): Promise<SandboxExecResult> {
    if (opts.argv.length === 0) throw new Error('sandbox exec: empty argv');
    const limits = resolveLimits(opts.limits);
    const workspace = await requireDir(opts.workspace, 'workspace');
    return withTmpDir(opts.tmpDir, (tmpDir) => {
      const env = mergeEnv(baseSandboxEnv(tmpDir), opts.env);
      // No RLIMIT_NPROC here: outside a user namespace it would count every process of this host user.
      const argv = niceWrap(this.host.layout.nice, prlimitWrap(this.host.layout.prlimit, opts.argv, limits, opts.gpu ?? false));
      const launch: Launch = {
        command: argv[0]!, args: argv.slice(1), cwd: workspace, env, ownSession: true, overhead: 0,
        cgroups: commandCgroups(this.host, taskLimitFor(limits.maxProcs, os.availableParallelism()), limits.memoryMb),
        fdPaths: [], writableDirs: [workspace, tmpDir], bash: this.host.layout.bash, countShmem: !this.host.cgroups.memory,
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
  /** Cap each command's tasks with a pids cgroup where the host allows it (default true). */
  pidsCgroup?: boolean;
  /** Enforce memory with a memory cgroup where the host allows it (default true; false leaves it to the watchdog). */
  memoryCgroup?: boolean;
  /** Load the seccomp deny-list (default true; false only for tests that show what it stops). */
  seccomp?: boolean;
  /** Environment read for ENVBENCH_SANDBOX_UID/GID (default process.env). */
  env?: NodeJS.ProcessEnv;
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

/** The filter file, written once per process and content-addressed (bwrap reads it through a descriptor). */
let seccompFileCache: string | null = null;
function seccompFile(): string | null {
  const arch = seccompArch();
  if (!arch) return null;
  if (seccompFileCache && fs.existsSync(seccompFileCache)) return seccompFileCache;
  const blob = buildSeccompFilter(arch);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envbench-seccomp-'));
  const file = path.join(dir, `${createHash('sha256').update(blob).digest('hex').slice(0, 16)}.bpf`);
  fs.writeFileSync(file, blob, { mode: 0o600 });
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return (seccompFileCache = file);
}

/** Makes the sandbox and proves it works by running `true` under exactly the flags every command gets. */
export async function createSandbox(opts: CreateSandboxOptions = {}): Promise<Sandbox> {
  const extraReadOnlyPaths = validateExtraPaths(opts.extraReadOnlyPaths ?? []);
  const layout = detectHostLayout();
  pageSize();
  const cgroups = detectCgroups({ pids: opts.pidsCgroup !== false, memory: opts.memoryCgroup !== false, cpu: true });
  let identity: SandboxIdentity | null;
  try {
    identity = sandboxIdentity(opts.env ?? process.env);
  } catch (e) {
    throw new SandboxUnavailableError((e as Error).message);
  }
  if (opts.unsafeNoSandbox) return new UnsafeSandbox({ layout, extraReadOnlyPaths, cgroups, identity: null, seccompFile: null });

  const bwrapPath = opts.bwrapPath ?? findOnPath('bwrap') ?? '/usr/bin/bwrap';
  if (!isExecutable(bwrapPath)) throw unavailable(`${bwrapPath} was not found or is not executable.`);
  if (!layout.bash) {
    throw unavailable('bash was not found: the sandbox launcher needs it to close descriptors the harness inherited before sandboxed code starts.');
  }
  if (identity && !layout.setpriv) {
    throw new SandboxUnavailableError(
      'the harness runs as root, and sandboxed code must never be host uid 0, but setpriv(1) was not found to drop to ' +
        `uid ${identity.uid}. Install util-linux (it ships setpriv), or run the harness as an unprivileged user.`,
    );
  }
  if (identity) {
    for (const p of extraReadOnlyPaths) {
      try {
        ensureReachable(p, identity, fs.realpathSync(os.tmpdir()));
      } catch (e) {
        throw new SandboxUnavailableError((e as Error).message);
      }
    }
  }
  const sandbox = new BwrapSandbox(bwrapPath, {
    layout, extraReadOnlyPaths, cgroups, identity, seccompFile: opts.seccomp === false ? null : seccompFile(),
  });
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
    const as = identity ? ` as uid ${identity.uid} (the harness is root; ENVBENCH_SANDBOX_UID picks another)` : '';
    throw unavailable(`a trial run of \`${bwrapPath} ... true\`${as} failed (${why}): ${r.stderr.trim() || '(no output)'}`);
  }
  return sandbox;
}

/** Where this harness may make pids cgroups, or null (kept for callers that need a cgroup of their own). */
export function findPidsCgroupBase(): string | null {
  return detectCgroups({ memory: false, cpu: false }).pids?.dir ?? null;
}

