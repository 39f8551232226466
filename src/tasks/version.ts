import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runGit } from '../git.js';
import { REPO_ROOT } from '../config.js';
import type { LoadedTask } from './load.js';

/*
 * A task's version: one content hash per (task, variant), over every file that decides what the agent sees and
 * how it is graded: the task folder (task.ts with its variants and limits, prompt files, starter files, grader,
 * check files, the reference and no-op solutions, the data files they load) and the shared check library that
 * every check.py imports, plus the variant id. Left out: the task's README.md and its test/ folder, which
 * neither an agent nor a grader reads. Harness code outside the library is named by the harness version
 * (TrialProvenance.harness), not here.
 *
 * Each file enters as (path, git blob id), so the same hash is computed from a checkout (trials) and from git
 * objects at a ref (the base branch's current version, for the baseline rule) without reading any blob.
 */

/** The shared check library, relative to the repository root; hashed into every task's version. */
const SHARED_CHECK_LIBRARY = 'src/grading/python';

/** Whether a file of the task folder (path relative to it, '/'-separated) is part of the task's version. */
function isVersionedTaskFile(rel: string): boolean {
  if (rel === 'README.md' || rel.startsWith('test/')) return false;
  return !rel.split('/').includes('__pycache__') && !rel.endsWith('.pyc');
}

function isVersionedLibraryFile(rel: string): boolean {
  return !rel.split('/').includes('__pycache__') && !rel.endsWith('.pyc') && !rel.split('/').includes('test');
}

/** git's blob id of some content: sha1("blob <size>\0" + content). */
export function gitBlobId(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export interface VersionedFile {
  /** 'task/<path in the task folder>' or 'lib/<path in the shared library>'. */
  path: string;
  blob: string;
}

/** The version hash of one variant from its files: sha256 over the sorted (path, blob) lines and the variant id. */
export function combineTaskHash(files: readonly VersionedFile[], variantId: string): string {
  const h = createHash('sha256');
  h.update(`envbench-task-version 1\nvariant ${variantId}\n`);
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) h.update(`${f.path}\0${f.blob}\n`);
  return h.digest('hex');
}

async function walk(root: string, keep: (rel: string) => boolean, prefix: string): Promise<VersionedFile[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  const out: VersionedFile[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const abs = path.join(e.parentPath, e.name);
    const rel = path.relative(root, abs).split(path.sep).join('/');
    if (!keep(rel)) continue;
    out.push({ path: `${prefix}/${rel}`, blob: gitBlobId(await fs.readFile(abs)) });
  }
  return out;
}

const cache = new WeakMap<LoadedTask, Promise<VersionedFile[]>>();

/** The files of a loaded task's version (read once per loaded task). */
function taskFiles(task: LoadedTask, repoRoot: string): Promise<VersionedFile[]> {
  let p = cache.get(task);
  if (!p) {
    p = Promise.all([walk(task.dir, isVersionedTaskFile, 'task'), walk(path.join(repoRoot, SHARED_CHECK_LIBRARY), isVersionedLibraryFile, 'lib')]).then(([a, b]) => [...a, ...b]);
    cache.set(task, p);
  }
  return p;
}

/** The version hash of a task's variant as it is on disk now. */
export async function taskVersion(task: LoadedTask, variantId: string, repoRoot = REPO_ROOT): Promise<string> {
  return combineTaskHash(await taskFiles(task, repoRoot), variantId);
}

/** Every variant's version hash of each task: task id -> variant id -> hash. */
export async function taskVersions(tasks: readonly LoadedTask[], repoRoot = REPO_ROOT): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  for (const t of tasks) {
    const m = new Map<string, string>();
    for (const v of t.variants) m.set(v.id, await taskVersion(t, v.id, repoRoot));
    out.set(t.def.id, m);
  }
  return out;
}

/**
 * The version hashes of (task, variant) pairs at a git ref, from the tree alone: tasks/<id>/ and the shared
 * library as committed there. A task absent at the ref has no version there (the map lacks it).
 */
export async function taskVersionsAtRef(
  repoDir: string,
  ref: string,
  cells: readonly { task: string; variant: string }[],
  tasksPath = 'tasks',
): Promise<Map<string, Map<string, string>>> {
  const ls = async (dir: string): Promise<{ rel: string; blob: string }[]> => {
    const text = await runGit(repoDir, ['ls-tree', '-r', '-z', '--full-tree', ref, '--', `${dir}/`]);
    return text
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const m = /^\d+ blob ([0-9a-f]+)\t(.*)$/s.exec(line);
        return m ? { rel: m[2]!.slice(dir.length + 1), blob: m[1]! } : null;
      })
      .filter((x): x is { rel: string; blob: string } => x !== null);
  };
  const lib = (await ls(SHARED_CHECK_LIBRARY)).filter((f) => isVersionedLibraryFile(f.rel)).map((f) => ({ path: `lib/${f.rel}`, blob: f.blob }));
  const out = new Map<string, Map<string, string>>();
  for (const task of [...new Set(cells.map((c) => c.task))]) {
    const files = (await ls(`${tasksPath}/${task}`)).filter((f) => isVersionedTaskFile(f.rel)).map((f) => ({ path: `task/${f.rel}`, blob: f.blob }));
    if (!files.some((f) => f.path === 'task/task.ts')) continue;
    const m = new Map<string, string>();
    for (const c of cells.filter((x) => x.task === task)) m.set(c.variant, combineTaskHash([...files, ...lib], c.variant));
    out.set(task, m);
  }
  return out;
}
