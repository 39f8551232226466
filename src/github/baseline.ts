import { spawn } from 'node:child_process';
import { GitCommandError, runGit } from '../git.js';
import { RunRecordSchema, formatIssues, type RunRecord, type TrialResult } from '../runs/record.js';
import { cellId } from '../reports/stats.js';
import { GitError } from './affected.js';

export interface RecordsAtRef {
  records: RunRecord[];
  problems: { file: string; message: string }[];
}

/**
 * The run records committed under `dir` at a git ref (the PR's base branch), read straight from git objects,
 * so nothing in the PR's own checkout (which the PR could have edited) is taken as the baseline.
 */
export async function loadRecordsAtRef(repoDir: string, ref: string, dir = 'results/runs'): Promise<RecordsAtRef> {
  let listing: string;
  try {
    listing = await runGit(repoDir, ['ls-tree', '-z', '--name-only', `${ref}`, '--', `${dir}/`]);
  } catch (e) {
    const msg = e instanceof GitCommandError ? e.detail : (e as Error).message;
    throw new GitError(`cannot read ${dir} at ${ref}: ${msg}. Fetch the base branch first (actions/checkout with fetch-depth: 0).`);
  }
  const files = listing.split('\0').filter((f) => f.endsWith('.json')).sort();
  if (!files.length) return { records: [], problems: [] };
  const blobs = await catFileBatch(repoDir, files.map((f) => `${ref}:${f}`));
  const out: RecordsAtRef = { records: [], problems: [] };
  files.forEach((file, i) => {
    let json: unknown;
    try {
      json = JSON.parse(blobs[i]!);
    } catch (e) {
      out.problems.push({ file, message: `not JSON: ${(e as Error).message}` });
      return;
    }
    const r = RunRecordSchema.safeParse(json);
    if (r.success) out.records.push(r.data);
    else out.problems.push({ file, message: formatIssues(r.error) });
  });
  return out;
}

/** One `git cat-file --batch` process for all files instead of one `git show` each. */
function catFileBatch(cwd: string, objects: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = spawn('git', ['cat-file', '--batch'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => chunks.push(c));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new GitError(`git cat-file failed: ${stderr.trim()}`));
      const buf = Buffer.concat(chunks);
      const texts: string[] = [];
      let pos = 0;
      for (const obj of objects) {
        const nl = buf.indexOf(0x0a, pos);
        const header = buf.subarray(pos, nl).toString();
        const m = /^[0-9a-f]+ blob (\d+)$/.exec(header);
        if (!m) return reject(new GitError(`git cat-file: unexpected reply for ${obj}: ${header}`));
        const size = Number(m[1]);
        texts.push(buf.subarray(nl + 1, nl + 1 + size).toString('utf8'));
        pos = nl + 1 + size + 1;
      }
      resolve(texts);
    });
    p.stdin.end(objects.join('\n') + '\n');
  });
}

/** The baseline trials for a candidate run: the same tasks, variants and models, nothing else. */
export function baselineFor(candidate: readonly TrialResult[], baseline: readonly TrialResult[]): TrialResult[] {
  const cells = new Set(candidate.map(cellId));
  return baseline.filter((t) => cells.has(cellId(t)));
}
