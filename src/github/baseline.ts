import { spawn } from 'node:child_process';
import { GitCommandError, runGit } from '../git.js';
import { RunRecordSchema, type RunRecord, type TrialResult } from '../runs/record.js';
import { formatIssues } from '../zod-issues.js';
import { cellId } from '../reports/cells.js';
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

/*
 * THE BASELINE RULE (the one place it is applied; the README's gate section states it).
 *
 * For each cell (task, variant, model) of the candidate, the baseline is the newest graded trials committed on
 * the base branch whose task hash equals the base branch's current hash of that task and variant, graded with
 * the full grading profile, up to `size` trials (the gate's baselineTrials). Newest by the trial's finishedAt,
 * ties broken by run id and epoch, so the choice never depends on outcomes. Older task versions, partial grading
 * profiles and records without versions (schema 1) are never used; they are counted, so the report can say so.
 */

export interface BaselineRun {
  runId: string;
  startedAt: string;
  /** Trials of this run used as baseline (over all cells). */
  trials: number;
}

export interface BaselineCell {
  key: string;
  task: string;
  variant: string;
  model: string;
  /** The base branch's current version of the task's variant; null when the task does not exist there. */
  taskHash: string | null;
  used: number;
  /** Graded trials of the current version there were (used is at most `size` of them). */
  eligible: number;
  /** Graded trials left out, by why. */
  excluded: { olderVersion: number; partialProfile: number; unversioned: number };
  /** The runs the used trials come from, newest first, and the span of their trials' dates. */
  runs: BaselineRun[];
  oldest: string | null;
  newest: string | null;
}

export interface BaselineSelection {
  size: number;
  trials: TrialResult[];
  cells: BaselineCell[];
  /** Every run used, newest first. */
  runs: BaselineRun[];
}

const isGraded = (t: TrialResult) => t.status === 'passed' || t.status === 'failed';

/** Applies the baseline rule to the base branch's records for the candidate's cells. */
export function selectBaseline(
  records: readonly RunRecord[],
  candidateCells: readonly Pick<TrialResult, 'task' | 'variant' | 'model'>[],
  baseVersions: ReadonlyMap<string, ReadonlyMap<string, string>>,
  size: number,
): BaselineSelection {
  const wanted = new Map<string, Pick<TrialResult, 'task' | 'variant' | 'model'>>();
  for (const c of candidateCells) wanted.set(cellId(c), { task: c.task, variant: c.variant, model: c.model });
  const pool = new Map<string, { t: TrialResult; runId: string; startedAt: string; at: number }[]>();
  const excluded = new Map<string, BaselineCell['excluded']>();
  for (const r of records) {
    for (const t of r.trials) {
      const id = cellId(t);
      if (!wanted.has(id) || !isGraded(t)) continue;
      const ex = excluded.get(id) ?? { olderVersion: 0, partialProfile: 0, unversioned: 0 };
      excluded.set(id, ex);
      const current = baseVersions.get(t.task)?.get(t.variant);
      if (!t.provenance) ex.unversioned++;
      else if (t.provenance.taskHash !== current) ex.olderVersion++;
      else if (t.provenance.grading?.profile !== 'full') ex.partialProfile++;
      else {
        const list = pool.get(id);
        const entry = { t, runId: r.runId, startedAt: r.startedAt, at: Date.parse(t.finishedAt) };
        if (list) list.push(entry);
        else pool.set(id, [entry]);
      }
    }
  }
  const newestFirst = (a: { t: TrialResult; runId: string; at: number }, b: { t: TrialResult; runId: string; at: number }) =>
    b.at - a.at || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0) || b.t.epoch - a.t.epoch;
  const trials: TrialResult[] = [];
  const allRuns = new Map<string, BaselineRun>();
  const cells: BaselineCell[] = [...wanted].map(([id, c]) => {
    const eligible = (pool.get(id) ?? []).sort(newestFirst);
    const used = eligible.slice(0, size);
    const runs = new Map<string, BaselineRun>();
    for (const u of used) {
      trials.push(u.t);
      const run = runs.get(u.runId) ?? { runId: u.runId, startedAt: u.startedAt, trials: 0 };
      run.trials++;
      runs.set(u.runId, run);
      const all = allRuns.get(u.runId) ?? { runId: u.runId, startedAt: u.startedAt, trials: 0 };
      all.trials++;
      allRuns.set(u.runId, all);
    }
    return {
      key: `${c.task}/${c.variant}/${c.model}`,
      ...c,
      taskHash: baseVersions.get(c.task)?.get(c.variant) ?? null,
      used: used.length,
      eligible: eligible.length,
      excluded: excluded.get(id) ?? { olderVersion: 0, partialProfile: 0, unversioned: 0 },
      runs: [...runs.values()].sort(byStartDesc),
      oldest: used.length ? used[used.length - 1]!.t.finishedAt : null,
      newest: used.length ? used[0]!.t.finishedAt : null,
    };
  });
  return { size, trials, cells, runs: [...allRuns.values()].sort(byStartDesc) };
}

function byStartDesc(a: BaselineRun, b: BaselineRun): number {
  return b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId);
}
