import { existsSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../files.js';
import { RunRecordObjectSchema, RunRecordSchema, TrialResultSchema, trialKey, type RunRecord, type TrialResult } from './record.js';
import { formatIssues } from '../zod-issues.js';

/**
 * The journal is the run's crash-safe log: a header line, then one line per finished trial,
 * each written as the trial ends (and fdatasynced periodically), so a killed run loses no finished trial.
 * The run record (the JSON file) is written from it at the end, atomically.
 */
const HeaderLine = z.object({ type: z.literal('header'), run: RunRecordObjectSchema.omit({ trials: true }) });
const TrialLine = z.object({ type: z.literal('trial'), trial: TrialResultSchema });

/**
 * The journal beside its record, named like the run's other files: FILE.json -> FILE.journal.jsonl (beside
 * FILE.transcripts.jsonl). A run journaled before that naming (FILE.json.journal.jsonl) is still found, so it resumes.
 */
export function journalPath(recordPath: string): string {
  const current = `${recordPath.replace(/\.json$/, '')}.journal.jsonl`;
  const legacy = `${recordPath}.journal.jsonl`;
  return !existsSync(current) && existsSync(legacy) ? legacy : current;
}

export class Journal {
  private handle: Promise<fs.FileHandle> | null = null;
  /** Lines waiting for the next flush, each with the promise to settle once it is on disk. */
  private pending: { line: string; done: () => void; fail: (e: unknown) => void }[] = [];
  /** The flush in progress, if any; close() waits for it. */
  private flushing: Promise<void> | null = null;

  private constructor(readonly file: string) {}

  static async create(file: string, header: Omit<RunRecord, 'trials'>): Promise<Journal> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify({ type: 'header', run: header }) + '\n', { flag: 'wx' });
    return new Journal(file);
  }

  static open(file: string): Journal {
    return new Journal(file);
  }

  /** Resolves once the trial's line is written: from then on a killed process cannot lose it. */
  append(trial: TrialResult): Promise<void> {
    const line = JSON.stringify({ type: 'trial', trial }) + '\n';
    return new Promise((done, fail) => {
      this.pending.push({ line, done, fail });
      this.flushing ??= this.flush();
    });
  }

  /**
   * Group commit: every line that arrived while the previous write was in flight goes out in one write.
   * A line is in the kernel once write() returns, so a killed run (SIGKILL, OOM, Ctrl-C) loses nothing;
   * fdatasync, which only matters if the machine itself goes down, runs at most every SYNC_INTERVAL_MS
   * and at close, so concurrent trials do not pay a disk flush each.
   */
  private async flush(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0);
        try {
          this.handle ??= fs.open(this.file, 'a');
          const fh = await this.handle;
          await fh.write(batch.map((b) => b.line).join(''));
          batch.forEach((b) => b.done());
          this.scheduleSync();
        } catch (e) {
          batch.forEach((b) => b.fail(e));
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private syncTimer: NodeJS.Timeout | null = null;
  static readonly SYNC_INTERVAL_MS = 200;

  private scheduleSync(): void {
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      void this.handle?.then((fh) => fh.datasync()).catch(() => {});
    }, Journal.SYNC_INTERVAL_MS);
    this.syncTimer.unref();
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = null;
    if (this.handle) {
      const fh = await this.handle;
      await fh.datasync();
      await fh.close();
    }
    this.handle = null;
  }
}

export class JournalError extends Error {
  override name = 'JournalError';
}

/**
 * Reads a journal back. A torn last line (the process died mid-write) is dropped with a warning;
 * a bad line anywhere else is an error naming the file, the line and the field.
 */
export async function readJournal(file: string): Promise<{ header: Omit<RunRecord, 'trials'>; trials: TrialResult[]; warnings: string[] }> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new JournalError(`${file}: cannot read the journal (${(e as Error).message}). Pass the --out file of the run you want to resume; its journal is ${path.basename(file)}.`);
  }
  const lines = text.split('\n');
  const warnings: string[] = [];
  let header: Omit<RunRecord, 'trials'> | undefined;
  const trials = new Map<string, TrialResult>();
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      if (isLast) {
        warnings.push(`${file}:${i + 1}: dropped a torn last line (the run was killed while writing it)`);
        continue;
      }
      throw new JournalError(`${file}:${i + 1}: not valid JSON; the journal is corrupt before its last line`);
    }
    if (i === 0 || header === undefined) {
      const h = HeaderLine.safeParse(json);
      if (!h.success) throw new JournalError(`${file}:${i + 1}: the first line must be the run header:\n${formatIssues(h.error)}`);
      header = h.data.run;
      continue;
    }
    const t = TrialLine.safeParse(json);
    if (!t.success) throw new JournalError(`${file}:${i + 1}: not a valid trial line:\n${formatIssues(t.error)}`);
    const tr = t.data.trial;
    trials.set(trialKey(tr), tr);
  }
  if (!header) throw new JournalError(`${file}: empty journal (no header line)`);
  return { header, trials: [...trials.values()], warnings };
}

/** Writes the run record atomically (temp file + rename), so a reader never sees half a record. */
export async function writeRunRecord(file: string, record: RunRecord): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(RunRecordSchema.parse(record), null, 2) + '\n');
}

export class RunRecordError extends Error {
  override name = 'RunRecordError';
}

/** Loads and validates a run record; errors name the file and each wrong field. */
export async function readRunRecord(file: string): Promise<RunRecord> {
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new RunRecordError(`${file}: cannot read run record: ${(e as Error).message}`);
  }
  const r = RunRecordSchema.safeParse(json);
  if (!r.success) throw new RunRecordError(`${file}: invalid run record:\n${formatIssues(r.error)}`);
  return r.data;
}
