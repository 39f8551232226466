import { existsSync } from 'node:fs';
import path from 'node:path';
import { resolveGateConfig, type ComparisonResult, type GateConfig } from '../reports/compare/index.js';
import { journalPath, readJournal } from '../runs/journal.js';
import { RUN_RECORD_SCHEMA_VERSION, type RunRecord, type TrialResult } from '../runs/record.js';
import { newRunId } from '../runs/execute.js';

/*
 * The sequential PR job: the candidate runs in batches at the gate's looks, and each cell (task, variant,
 * model) stops as soon as the gate decides it, or at its trial cap. One run record per cell, under
 * `<dir>/cells/`, extended look by look with `run --resume FILE --epochs N`: a cancelled job that is started
 * again (its folder restored) carries on from the trials its journals hold, repeating none.
 *
 * At each look the gate is asked with final = false (judge below is the very function pr-report calls):
 * 'undecided' cells get the epochs that bring them to their next look (one trial per sample per epoch; when
 * errors leave a look short, the next round adds more), others stop. A cell never runs more than
 * maxTrialsPerCell trials, errors included.
 */

export interface EvalCell {
  task: string;
  variant: string;
  model: string;
  /** Samples of the task: trials per epoch. */
  samples: number;
}

export interface CellProgress {
  cell: EvalCell;
  record: string;
  epochs: number;
  trials: number;
  /** capped: at its trial cap, or stopped because nothing it ran could be graded (the report says why). */
  state: 'decided' | 'undecided' | 'capped';
  verdict: string | null;
  /** Internal: the unfinished batch was rerun once already (a trial that never journals cannot loop forever). */
  retried?: boolean;
}

export interface SequentialEvalOptions {
  cells: readonly EvalCell[];
  /** Folder of the per-cell records (kept between attempts to resume). */
  dir: string;
  gate?: Partial<GateConfig>;
  /** The PR gate on the candidate trials so far (judgePullRequest bound to the base branch's records). */
  judge: (candidate: TrialResult[], final: boolean) => ComparisonResult;
  /** Runs one cell to `epochs` epochs into `record` (resuming it when its journal exists); returns the CLI's exit code. */
  runCell: (cell: EvalCell, epochs: number, record: string, resume: boolean) => Promise<number>;
  /** Where the cells' trials are read from; default their journals (scripts/simulate-gate.ts keeps them in memory). */
  store?: CellStore;
  /** Exit codes that end the job (bad arguments, an interrupt). */
  stopOn?: (code: number) => boolean;
  log?: (line: string) => void;
}

export interface SequentialEvalResult {
  trials: TrialResult[];
  progress: CellProgress[];
  looks: number;
  /** The last exit code that stopped the loop early, if any. */
  stoppedBy: number | null;
}

/** A cell's record file name: readable and unique (NUL-free components joined by a separator no id contains). */
function cellRecordPath(dir: string, c: Pick<EvalCell, 'task' | 'variant' | 'model'>): string {
  const safe = (s: string) => s.replace(/[^\w.-]+/g, '_');
  return path.join(dir, 'cells', `${safe(c.task)}__${safe(c.variant)}__${safe(c.model)}.json`);
}

/** A cell's record as the loop sees it: the epochs its plan has and the trials finished so far. */
export interface CellStore {
  read(record: string): Promise<{ epochs: number; trials: TrialResult[] } | null>;
  exists(record: string): boolean;
}

/** The cells' journals on disk (what `run` writes as each trial ends). */
const journalStore: CellStore = {
  async read(record) {
    if (!existsSync(journalPath(record))) return null;
    const j = await readJournal(journalPath(record));
    return { epochs: j.header.plan.epochs, trials: j.trials };
  },
  exists: (record) => existsSync(journalPath(record)),
};

const cellKey = (c: Pick<EvalCell, 'task' | 'variant' | 'model'>) => `${c.task}/${c.variant}/${c.model}`;

/** Runs the look loop to the end: every cell decided or capped. */
export async function runSequentialEval(o: SequentialEvalOptions): Promise<SequentialEvalResult> {
  const gate = resolveGateConfig(o.gate);
  const log = o.log ?? (() => {});
  const store = o.store ?? journalStore;
  const progress: CellProgress[] = [];
  for (const cell of o.cells) {
    const record = cellRecordPath(o.dir, cell);
    const j = await store.read(record);
    progress.push({ cell, record, epochs: j?.epochs ?? 0, trials: j?.trials.length ?? 0, state: 'undecided', verdict: null });
    if (j) log(`resuming ${cellKey(cell)}: ${j.trials.length} trial(s) journaled, ${j.epochs} epoch(s) planned`);
  }
  const trialsOf = async () => (await Promise.all(progress.map(async (p) => (await store.read(p.record))?.trials ?? []))).flat();
  let looks = 0;
  let stoppedBy: number | null = null;
  for (;;) {
    const trials = await trialsOf();
    const byCell = new Map<string, TrialResult[]>();
    for (const t of trials) {
      const k = cellKey(t);
      const list = byCell.get(k);
      if (list) list.push(t);
      else byCell.set(k, [t]);
    }
    const result = o.judge(trials, false);
    const verdicts = new Map(result.cells.map((c) => [c.key, c]));
    const batch: { p: CellProgress; epochs: number }[] = [];
    for (const p of progress) {
      const mine = byCell.get(cellKey(p.cell)) ?? [];
      p.trials = mine.length;
      const c = verdicts.get(cellKey(p.cell));
      p.verdict = c?.verdict ?? null;
      // Every cell gets a first batch; after it, only undecided ones go on (a cell without a baseline has nothing to decide).
      const open = mine.length === 0 || c?.verdict === 'undecided';
      const planned = p.epochs * p.cell.samples;
      if (mine.length < planned && !p.retried) {
        // A batch that did not finish (the job was cancelled): finish it before deciding anything else.
        p.retried = true;
        batch.push({ p, epochs: p.epochs });
        continue;
      }
      p.retried = false;
      if (mine.length > 0 && !mine.some((t) => t.status === 'passed' || t.status === 'failed')) {
        // Nothing graded in a whole batch (an API key, a broken task): more of the same would only cost.
        p.state = 'capped';
        continue;
      }
      if (!open) {
        p.state = 'decided';
        continue;
      }
      const maxEpochs = Math.floor(gate.maxTrialsPerCell / p.cell.samples);
      const need = c?.decision?.moreTrials ?? gate.looks[0]!;
      const epochs = Math.min(maxEpochs, p.epochs + Math.max(1, Math.ceil(need / p.cell.samples)));
      if (epochs <= p.epochs) {
        p.state = 'capped';
        continue;
      }
      batch.push({ p, epochs });
    }
    if (!batch.length) break;
    looks++;
    log(`look ${looks}: running ${batch.map((b) => `${cellKey(b.p.cell)} to ${b.epochs} epoch(s)`).join(', ')}`);
    const codes = await Promise.all(
      batch.map(async (b) => {
        const code = await o.runCell(b.p.cell, b.epochs, b.p.record, store.exists(b.p.record));
        b.p.epochs = b.epochs;
        return code;
      }),
    );
    const stop = codes.find((c) => o.stopOn?.(c));
    if (stop !== undefined) {
      stoppedBy = stop;
      break;
    }
  }
  const trials = await trialsOf();
  for (const p of progress) p.trials = trials.filter((t) => cellKey(t) === cellKey(p.cell)).length;
  return { trials, progress, looks, stoppedBy };
}

/** The cells' records as one run record for the report (the first cell's header; the plan covers every cell). */
export async function combineCellRecords(progress: readonly CellProgress[], trials: TrialResult[]): Promise<RunRecord> {
  const first = progress.find((p) => existsSync(journalPath(p.record)));
  if (!first) throw new Error('combineCellRecords: no cell has run');
  const header = (await readJournal(journalPath(first.record))).header;
  return {
    ...header,
    schemaVersion: RUN_RECORD_SCHEMA_VERSION,
    runId: newRunId(),
    finishedAt: new Date().toISOString(),
    plan: {
      ...header.plan,
      tasks: [...new Set(progress.map((p) => p.cell.task))],
      models: [...new Set(progress.map((p) => p.cell.model))],
      variants: [...new Set(progress.map((p) => p.cell.variant))],
      epochs: Math.max(1, ...progress.map((p) => p.epochs)),
    },
    trials,
  };
}
