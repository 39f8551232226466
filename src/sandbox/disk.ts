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

/** Walks without following links; a file with several names in the folders is counted once. */
export function diskUsage(dirs: readonly string[], maxEntries: number): DiskUsage {
  const seen = new Set<string>();
  const u: DiskUsage = { bytes: 0, entries: 0, truncated: false };
  const stack = [...dirs];
  while (stack.length) {
    const dir = stack.pop()!;
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue; // removed meanwhile, or not a directory
    }
    for (const d of names) {
      if (++u.entries > maxEntries) {
        u.truncated = true;
        return u;
      }
      const p = path.join(dir, d.name);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        continue;
      }
      if (st.nlink > 1 && !st.isDirectory()) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      u.bytes += st.blocks * 512;
      if (st.isDirectory()) stack.push(p);
    }
  }
  return u;
}

/** Most entries the workspace and /tmp may hold together, whatever their size. */
export const MAX_DISK_ENTRIES = 100_000;
