import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { readRunTranscripts } from '../../agents/transcript.js';
import { readRunRecord } from '../../runs/journal.js';
import { trialKey, type RunRecord, type TrialResult } from '../../runs/record.js';

/** The longest text kept per string in the report: a tool that printed megabytes would make it unopenable. */
export const MAX_TEXT = 100_000;

export interface ViewerTrial extends TrialResult {
  key: string;
  /** The agent's transcript events (meta, request, assistant, tool_result, user, api_error, end), or null. */
  events: unknown[] | null;
  /** The judge's transcript entries of the trial's last grading, or null. */
  judgeEntries: unknown[] | null;
}

export interface ViewerData {
  run: Omit<RunRecord, 'trials'>;
  trials: ViewerTrial[];
  /** Files that could not be read; the report says so instead of failing. */
  warnings: string[];
}

/** Strings past MAX_TEXT are cut, saying how much was left out. */
export function bounded(value: unknown): unknown {
  if (typeof value === 'string') return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}\n… (${value.length - MAX_TEXT} more characters left out of the report)` : value;
  if (Array.isArray(value)) return value.map(bounded);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bounded(v)]));
  return value;
}

/** Judge lines are tagged {trial, grading}; a trial graded again after an interrupt keeps its last grading. */
async function readJudgeTranscripts(file: string): Promise<Map<string, unknown[]>> {
  const byTrial = new Map<string, { grading: unknown; entries: unknown[] }>();
  for (const line of (await fs.readFile(file, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    let e: { trial?: unknown; grading?: unknown } & Record<string, unknown>;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof e.trial !== 'string') continue;
    const { trial, grading, ...entry } = e;
    const cur = byTrial.get(trial);
    if (!cur || cur.grading !== grading) byTrial.set(trial, { grading, entries: [entry] });
    else cur.entries.push(entry);
  }
  return new Map([...byTrial].map(([k, v]) => [k, v.entries]));
}

/** A transcript file's contents, or null with a warning: a missing or broken log does not stop the report. */
async function readOrWarn(file: string, reader: (f: string) => Promise<Map<string, unknown[]>>, warnings: string[]): Promise<Map<string, unknown[]> | null> {
  if (!existsSync(file)) {
    warnings.push(`${file}: not found (its transcripts are not shown)`);
    return null;
  }
  try {
    return await reader(file);
  } catch (e) {
    warnings.push(`${file}: ${(e as Error).message}`);
    return null;
  }
}

/** A run record with every trial's transcript and judge transcript, as the viewer shows them. */
export async function loadViewerData(recordPath: string): Promise<ViewerData> {
  const record = await readRunRecord(recordPath);
  const dir = path.dirname(path.resolve(recordPath));
  const warnings: string[] = [];
  const cache = new Map<string, Promise<Map<string, unknown[]> | null>>();
  const load = (rel: string | null | undefined, reader: (f: string) => Promise<Map<string, unknown[]>>) => {
    if (!rel) return Promise.resolve(null);
    const file = path.resolve(dir, rel);
    let p = cache.get(file);
    if (!p) {
      p = readOrWarn(file, reader, warnings);
      cache.set(file, p);
    }
    return p;
  };
  const trials: ViewerTrial[] = [];
  for (const t of record.trials) {
    const key = trialKey(t);
    const agent = await load(t.transcript, (f) => readRunTranscripts(f) as Promise<Map<string, unknown[]>>);
    const judge = await load(t.judge?.transcript, readJudgeTranscripts);
    trials.push(bounded({ ...t, key, events: agent?.get(key) ?? null, judgeEntries: judge?.get(key) ?? null }) as ViewerTrial);
  }
  const { trials: _t, ...run } = record;
  return { run, trials, warnings };
}
