import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RunRecordSchema, type RunRecord } from './record.js';
import { formatIssues } from '../zod-issues.js';

/**
 * The committed results store: one compact JSON file per run under results/runs/, named by its run id
 * (start time + random hex, so two writers never collide), written once and never rewritten. Loading
 * validates every file; a bad file is reported by name and field and the others still load.
 */
const RESULTS_RUNS = path.join('results', 'runs');

export interface StoreProblem {
  file: string;
  message: string;
}

export interface LoadedResults {
  records: { file: string; record: RunRecord }[];
  problems: StoreProblem[];
}

export class ResultsStoreError extends Error {
  override name = 'ResultsStoreError';
}

/** Adds a finished run to the store. Refuses to overwrite: a run record, once committed, is history. */
export async function addRunToStore(record: RunRecord, dir = RESULTS_RUNS): Promise<string> {
  const parsed = RunRecordSchema.safeParse(record);
  if (!parsed.success) throw new ResultsStoreError(`run ${record.runId}: not a valid run record:\n${formatIssues(parsed.error)}`);
  if (parsed.data.finishedAt === null) {
    throw new ResultsStoreError(`run ${record.runId}: unfinished (finishedAt is null); finish it with --resume before storing it`);
  }
  if (!/^[\w.-]+$/.test(record.runId)) throw new ResultsStoreError(`run id "${record.runId}" cannot be a file name`);
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${record.runId}.json`);
  try {
    // Compact: results are committed, and diffs of one line per run are what reviewers expect.
    await fs.writeFile(file, JSON.stringify(parsed.data) + '\n', { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ResultsStoreError(`${file} already exists; run records are never rewritten`);
    throw e;
  }
  return file;
}

/**
 * Loads every run record in the store. Nothing valid is lost because another file is bad.
 * `storeNames` (default true): the store's rule that each file is named RUNID.json; a plain folder of
 * records (`compare --baseline some/folder`) is read with it off, any *.json name accepted.
 */
export async function loadResults(dir = RESULTS_RUNS, opts: { storeNames?: boolean } = {}): Promise<LoadedResults> {
  const storeNames = opts.storeNames ?? true;
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [] };
    throw e;
  }
  const out: LoadedResults = { records: [], problems: [] };
  const seen = new Map<string, string>();
  for (const name of names) {
    const file = path.join(dir, name);
    let json: unknown;
    try {
      json = JSON.parse(await fs.readFile(file, 'utf8'));
    } catch (e) {
      out.problems.push({ file, message: `not valid JSON: ${(e as Error).message}` });
      continue;
    }
    const r = RunRecordSchema.safeParse(json);
    if (!r.success) {
      out.problems.push({ file, message: `invalid run record:\n${formatIssues(r.error)}` });
      continue;
    }
    if (storeNames && `${r.data.runId}.json` !== name) {
      out.problems.push({ file, message: `runId: "${r.data.runId}" does not match the file name; rename the file to ${r.data.runId}.json` });
      continue;
    }
    const dup = seen.get(r.data.runId);
    if (dup) {
      out.problems.push({ file, message: `runId: "${r.data.runId}" is also in ${dup}` });
      continue;
    }
    seen.set(r.data.runId, file);
    out.records.push({ file, record: r.data });
  }
  return out;
}

export interface ResultsIndexEntry {
  runId: string;
  file: string;
  startedAt: string;
  finishedAt: string | null;
  gitSha: string | null;
  models: string[];
  tasks: string[];
  trials: number;
  statuses: Record<'passed' | 'failed' | 'error' | 'skipped', number>;
  costUsd: number;
}

/** The index over all runs: derived from the records each time, never kept by hand. Newest first. */
export function buildIndex(loaded: LoadedResults, relativeTo = '.'): ResultsIndexEntry[] {
  return loaded.records
    .map(({ file, record }) => {
      const statuses = { passed: 0, failed: 0, error: 0, skipped: 0 };
      for (const t of record.trials) statuses[t.status]++;
      return {
        runId: record.runId,
        file: path.relative(relativeTo, file),
        startedAt: record.startedAt,
        finishedAt: record.finishedAt,
        gitSha: record.harness.gitSha,
        models: [...new Set(record.trials.map((t) => t.model))].sort(),
        tasks: [...new Set(record.trials.map((t) => t.task))].sort(),
        trials: record.trials.length,
        statuses,
        costUsd: Number(record.trials.reduce((a, t) => a + (t.costUsd ?? 0), 0).toFixed(6)),
      };
    })
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId));
}
