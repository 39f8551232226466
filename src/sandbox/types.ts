/** What a sandboxed command may use, and what it returns. The one place these shapes live. */

export interface SandboxLimits {
  /** Wall-clock seconds before the whole process tree is killed. */
  wallSec: number;
  /**
   * Memory of the whole process tree, in MiB: the watchdog's limit on the tree's PSS, and (without gpu)
   * also each process's address-space limit (RLIMIT_AS), so torch alone needs about 1 GiB of it.
   */
  memoryMb: number;
  /**
   * Most processes (not threads) alive at once in the tree, counted by the watchdog; a fork bomb hits this.
   * A kernel cap on tasks (threads included) backs it where the host allows: see taskLimitFor in bwrap.ts.
   */
  maxProcs: number;
  /** Bytes kept of each of stdout and stderr; the middle of longer output is cut out. */
  outputBytes: number;
  /** Largest single file the command may write, in MiB. */
  fileSizeMb: number;
  /**
   * What the workspace and /tmp may hold together on disk, in MiB (allocated blocks; and at most
   * MAX_DISK_ENTRIES entries). The watchdog checks while the command runs and when it ends.
   */
  diskMb: number;
}

export interface ExtraBind {
  /** Host path. */
  src: string;
  /** Path inside the sandbox. */
  dest: string;
  /** Writable when true; read-only otherwise. */
  rw?: boolean;
}

export interface SandboxExecOptions {
  /** argv; argv[0] is resolved inside the sandbox. */
  argv: string[];
  /** Host directory mounted read-write at /workspace; the working directory. */
  workspace: string;
  /** Host directory mounted at /tmp (private per trial); created if missing. Defaults to a fresh temp dir removed afterwards. */
  tmpDir?: string;
  binds?: ExtraBind[];
  /** Bind NVIDIA device nodes (only for tasks whose requirements use CUDA). */
  gpu?: boolean;
  /** Added to the minimal environment (PATH, HOME, LANG...). Never pass secrets here. */
  env?: Record<string, string>;
  limits?: Partial<SandboxLimits>;
  /** Data written to the command's stdin, then closed. */
  stdin?: string;
  /** Aborting kills the process tree and resolves with killedBy 'abort'. */
  signal?: AbortSignal;
}

export type KillReason = 'time' | 'memory' | 'procs' | 'disk' | 'abort' | null;

export interface SandboxExecResult {
  /** The command's exit status; a command that died of signal N inside the sandbox reads 128+N (bwrap's convention). */
  exitCode: number | null;
  /** Name of the signal that ended the process when the harness killed it (then exitCode is null). */
  signalName: string | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** Why the harness killed the tree, or null when it ended on its own. */
  killedBy: KillReason;
  durationMs: number;
  /**
   * Peak memory of the tree seen by the watchdog (polled every 100 ms), MiB: the sum of RSS, or of PSS
   * (shared pages counted once) when the RSS sum passes the limit. Short spikes between polls are missed.
   */
  peakMemoryMb: number;
  /**
   * CPU time of every process the command's tree ever had, reaped or not, from the cgroup's accounting
   * (ms); null where the host gives this harness no cpu accounting cgroup.
   */
  cpuMs: number | null;
}

export type { SandboxEnforcement } from './enforcement.js';
import type { SandboxEnforcement } from './enforcement.js';

export type SandboxMode = 'bwrap' | 'unsafe-none';

export interface Sandbox {
  readonly mode: SandboxMode;
  /** Host paths bound read-only so the interpreter and its libraries work (e.g. a pyenv prefix). */
  readonly extraReadOnlyPaths: readonly string[];
  readonly enforcement: SandboxEnforcement;
  exec(opts: SandboxExecOptions): Promise<SandboxExecResult>;
}

export class SandboxUnavailableError extends Error {
  override name = 'SandboxUnavailableError';
}
