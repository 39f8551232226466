/**
 * What a command's writable folders (the workspace and /tmp) hold on the host's disk: allocated blocks,
 * so a sparse file counts what it really takes, and entries, so a million empty files count too. The
 * watchdog checks it while the command runs and once more when it ends; RLIMIT_FSIZE bounds each file.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface DiskUsage {
  bytes: number;
  entries: number;
  /** The walk stopped at `maxEntries`: the folders hold at least this much. */
  truncated: boolean;
}

/**
 * Visits every entry below `dirs` without following links (lstat), depth first; `visit` returning false
 * stops the walk. Entries removed meanwhile are skipped. Shared by the disk count and the hand-over.
 */
export function walkTree(dirs: readonly string[], visit: (p: string, st: fs.Stats) => boolean | void): void {
  const stack = [...dirs];
  while (stack.length) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue; // removed meanwhile, or not a directory
    }
    for (const name of names) {
      const p = path.join(dir, name);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        continue;
      }
      if (visit(p, st) === false) return;
      if (st.isDirectory()) stack.push(p);
    }
  }
}

/** Allocated bytes and entries; a file with several names in the folders is counted once. */
export function diskUsage(dirs: readonly string[], maxEntries: number): DiskUsage {
  const seen = new Set<string>();
  const u: DiskUsage = { bytes: 0, entries: 0, truncated: false };
  walkTree(dirs, (_p, st) => {
    if (++u.entries > maxEntries) {
      u.truncated = true;
      return false;
    }
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    u.bytes += st.blocks * 512;
  });
  return u;
}

/** Most entries the workspace and /tmp may hold together, whatever their size. */
export const MAX_DISK_ENTRIES = 100_000;

/**
 * The longest the watchdog waits between two disk walks. It backs off in proportion to a walk's cost so that a
 * big folder does not stall the harness, but never longer than this: on a loaded machine one walk of 100,000
 * entries took about a second, a 20x back-off let a submission make a million files before the next walk, and
 * what a command can overshoot the bound by is what it writes in this gap plus one walk.
 */
export const MAX_DISK_CHECK_GAP_MS = 1_000;
