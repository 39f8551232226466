/**
 * Kernel-enforced limits for one sandboxed command, where the host lets this harness make cgroups:
 * - pids: RLIMIT_NPROC does not bind a root harness, so a pids cap is what stops a fork bomb there;
 * - memory: `memory.max` (v2) / `memory.limit_in_bytes` (v1) with swap at 0 counts anonymous, memfd,
 *   tmpfs and /dev/shm pages alike, which no RSS or PSS figure sees;
 * - cpu accounting: the CPU time of the whole tree, reaped or not (wait4's rusage counts only reaped
 *   children, so an orphaned grandchild would hide its work from it).
 * Each controller is found independently (cgroup v2, else the v1 hierarchy that has it); what was found is
 * reported as the sandbox's enforcement, and the watchdog covers what is missing.
 */
import fs from 'node:fs';
import path from 'node:path';

export type CgroupVersion = 'v1' | 'v2';

export interface CgroupBase {
  /** Directory under which per-command cgroups are made. */
  dir: string;
  version: CgroupVersion;
}

export interface CgroupSupport {
  pids: CgroupBase | null;
  memory: (CgroupBase & { swapLimited: boolean }) | null;
  cpu: CgroupBase | null;
}

/** The file that proves a controller is usable in a fresh child of a base, per version. */
const PROBE_FILE: Record<keyof CgroupSupport, Record<CgroupVersion, string>> = {
  pids: { v1: 'pids.max', v2: 'pids.max' },
  memory: { v1: 'memory.limit_in_bytes', v2: 'memory.max' },
  cpu: { v1: 'cpuacct.usage', v2: 'cpu.stat' },
};
/** The v1 hierarchy (mount option) that carries each controller. */
const V1_CONTROLLER: Record<keyof CgroupSupport, string> = { pids: 'pids', memory: 'memory', cpu: 'cpuacct' };

interface Candidate {
  dir: string;
  version: CgroupVersion;
  /** v1 controllers of this hierarchy. */
  controllers: string[];
}

/** Our own cgroup in every mounted hierarchy, v2 first. */
function candidates(): Candidate[] {
  let cgroups: string[];
  let mounts: string[];
  try {
    cgroups = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n');
    mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  } catch {
    return [];
  }
  const out: Candidate[] = [];
  for (const m of mounts) {
    // id parent maj:min root mountpoint options [optional...] - fstype source superoptions
    const [pre, post] = m.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    const [fstype, , superOpts = ''] = post.split(' ');
    const root = f[3] ?? '/';
    const mnt = (f[4] ?? '').replace(/\\040/g, ' ');
    let rel: string | undefined;
    let controllers: string[] = [];
    let version: CgroupVersion;
    if (fstype === 'cgroup2') {
      version = 'v2';
      rel = cgroups.map((l) => /^0::(.*)$/.exec(l)).find((x) => x)?.[1];
    } else if (fstype === 'cgroup') {
      version = 'v1';
      controllers = superOpts.split(',');
      rel = cgroups
        .map((l) => /^\d+:([^:]*):(.*)$/.exec(l))
        .find((x) => x?.[1]?.split(',').some((c) => controllers.includes(c)))?.[2];
    } else {
      continue;
    }
    if (rel === undefined) continue;
    if (root !== '/' && rel.startsWith(root)) rel = rel.slice(root.length);
    out.push({ dir: path.join(mnt, rel), version, controllers });
  }
  return out.sort((a, b) => (a.version === b.version ? 0 : a.version === 'v2' ? -1 : 1));
}

/** True when a child made under `dir` carries `file` (the controller is enabled there). */
function probe(dir: string, file: string): boolean {
  const p = path.join(dir, `envbench-probe-${process.pid}`);
  try {
    fs.mkdirSync(p);
  } catch {
    return false;
  }
  const ok = fs.existsSync(path.join(p, file)) && fs.existsSync(path.join(p, 'cgroup.procs'));
  try {
    fs.rmdirSync(p);
  } catch {
    // left behind empty; removed as stale next time
  }
  return ok;
}

/** Looks once per process; `enabled: false` turns every controller off (the watchdog then does it all). */
export function detectCgroups(enabled: { pids?: boolean; memory?: boolean; cpu?: boolean } = {}): CgroupSupport {
  const all = candidates();
  const pick = (kind: keyof CgroupSupport): CgroupBase | null => {
    if (enabled[kind] === false) return null;
    for (const c of all) {
      if (c.version === 'v1' && !c.controllers.includes(V1_CONTROLLER[kind])) continue;
      if (probe(c.dir, PROBE_FILE[kind][c.version])) {
        removeStaleCgroups(c.dir);
        return { dir: c.dir, version: c.version };
      }
    }
    return null;
  };
  const memory = pick('memory');
  return {
    pids: pick('pids'),
    memory: memory ? { ...memory, swapLimited: swapCanBeLimited(memory) } : null,
    cpu: pick('cpu'),
  };
}

function swapCanBeLimited(base: CgroupBase): boolean {
  const probeDir = path.join(base.dir, `envbench-probe-${process.pid}`);
  try {
    fs.mkdirSync(probeDir);
  } catch {
    return false;
  }
  try {
    return fs.existsSync(path.join(probeDir, base.version === 'v2' ? 'memory.swap.max' : 'memory.memsw.limit_in_bytes'));
  } finally {
    try {
      fs.rmdirSync(probeDir);
    } catch {
      // harmless
    }
  }
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

let seq = 0;

export interface CommandCgroupLimits {
  maxTasks: number;
  memoryBytes: number;
}

/** The cgroups one command runs in: at most one directory per hierarchy (v2 shares one for all). */
export class CommandCgroups {
  private constructor(
    readonly support: CgroupSupport,
    /** controller -> its cgroup dir for this command */
    private readonly dirs: Partial<Record<keyof CgroupSupport, string>>,
  ) {}

  /**
   * Makes the cgroups and writes the limits. A controller whose cgroup cannot be made or limited makes
   * this throw: the sandbox reported it as enforced, so running without it would be a silent downgrade.
   */
  static create(support: CgroupSupport, limits: CommandCgroupLimits): CommandCgroups {
    const name = `envbench-${process.pid}-${++seq}`;
    const dirs: Partial<Record<keyof CgroupSupport, string>> = {};
    const made: string[] = [];
    const dirFor = (base: CgroupBase): string => {
      const d = path.join(base.dir, name);
      if (!made.includes(d)) {
        fs.mkdirSync(d);
        made.push(d);
      }
      return d;
    };
    try {
      if (support.pids) {
        dirs.pids = dirFor(support.pids);
        fs.writeFileSync(path.join(dirs.pids, 'pids.max'), String(Math.floor(limits.maxTasks)));
      }
      if (support.memory) {
        const d = (dirs.memory = dirFor(support.memory));
        const bytes = String(Math.floor(limits.memoryBytes));
        if (support.memory.version === 'v2') {
          fs.writeFileSync(path.join(d, 'memory.max'), bytes);
          if (support.memory.swapLimited) fs.writeFileSync(path.join(d, 'memory.swap.max'), '0');
          // At the limit the kernel kills the whole group, not just its largest process.
          writeIfExists(path.join(d, 'memory.oom.group'), '1');
        } else {
          fs.writeFileSync(path.join(d, 'memory.limit_in_bytes'), bytes);
          // memsw = memory + swap; equal to the limit means no swap at all.
          if (support.memory.swapLimited) fs.writeFileSync(path.join(d, 'memory.memsw.limit_in_bytes'), bytes);
        }
      }
      if (support.cpu) dirs.cpu = dirFor(support.cpu);
    } catch (e) {
      for (const d of made.reverse()) {
        try {
          fs.rmdirSync(d);
        } catch {
          // never populated
        }
      }
      throw new Error(`could not set up the command's cgroups under ${made[0] ?? name}: ${(e as Error).message}`);
    }
    return new CommandCgroups(support, dirs);
  }

  /** Every cgroup.procs the command must join (one per distinct directory). */
  procsFiles(): string[] {
    return [...new Set(Object.values(this.dirs))].map((d) => path.join(d, 'cgroup.procs'));
  }

  /** Pids in any of the command's cgroups: holds processes that escaped both ancestry and session. */
  pids(): number[] {
    const out = new Set<number>();
    for (const f of this.procsFiles()) {
      try {
        for (const l of fs.readFileSync(f, 'utf8').split('\n')) if (l) out.add(Number(l));
      } catch {
        // removed
      }
    }
    return [...out];
  }

  /** Times the kernel's OOM killer acted in the memory cgroup (0 without one). */
  oomKills(): number {
    const d = this.dirs.memory;
    if (!d || !this.support.memory) return 0;
    const file = this.support.memory.version === 'v2' ? 'memory.events' : 'memory.oom_control';
    try {
      const m = /^oom_kill (\d+)$/m.exec(fs.readFileSync(path.join(d, file), 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  }

  /** CPU time of every process that ever ran in the command's cgroup, in ms; null without cpu accounting. */
  cpuMs(): number | null {
    const d = this.dirs.cpu;
    if (!d || !this.support.cpu) return null;
    try {
      if (this.support.cpu.version === 'v2') {
        const m = /^usage_usec (\d+)$/m.exec(fs.readFileSync(path.join(d, 'cpu.stat'), 'utf8'));
        return m ? Number(m[1]) / 1000 : null;
      }
      return Number(fs.readFileSync(path.join(d, 'cpuacct.usage'), 'utf8').trim()) / 1e6;
    } catch {
      return null;
    }
  }

  /** Removes the cgroups, waiting out EBUSY while the last exits are accounted. */
  async remove(): Promise<void> {
    for (const d of new Set(Object.values(this.dirs))) {
      for (let i = 0; i < 40; i++) {
        try {
          fs.rmdirSync(d);
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  }
}

function writeIfExists(file: string, value: string): void {
  if (fs.existsSync(file)) fs.writeFileSync(file, value);
}
