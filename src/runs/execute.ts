import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import pLimit from 'p-limit';
import type { Sandbox } from '../sandbox/types.js';
import type { PythonEnv } from '../python/env.js';
import { checkRequirements, type RequirementCheck } from '../python/requirements.js';
import type { CallPolicy, MessagesClient } from '../agents/client.js';
import { REPO_ROOT } from '../config.js';
import { Journal, journalPath, readJournal, writeRunRecord } from './journal.js';
import { RUN_RECORD_SCHEMA_VERSION, type RunRecord, type TrialResult, trialKey } from './record.js';
import { runTrial, type TrialSpec } from './trial.js';
import { specKey } from './plan.js';
import { trialSpendUsd } from './progress.js';
import type { JudgeSetup } from './judge-session.js';
import { TranscriptLog } from '../agents/transcript.js';
import { runGit } from '../git.js';

/** The run's transcript log beside its record: FILE.json -> FILE.transcripts.jsonl. */
export function transcriptLogPath(out: string): string {
  return `${out.replace(/\.json$/, '')}.transcripts.jsonl`;
}

let harnessInfoOnce: Promise<RunRecord['harness']> | null = null;

/**
 * The harness's version and git commit. Read once per process: the code that runs is the code loaded at
 * start, even if the checkout moves later, and spawning git for every run cost tens of ms per run.
 */
function harnessInfo(): Promise<RunRecord['harness']> {
  harnessInfoOnce ??= (async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    let gitSha: string | null = null;
    try {
      gitSha = (await runGit(REPO_ROOT, ['rev-parse', 'HEAD'])).trim() || null;
    } catch {
      gitSha = null;
    }
    return { version: pkg.version, gitSha };
  })();
  return harnessInfoOnce;
}

/** The harness version as each trial records it: "<package version>+<first 12 hex of the commit>". */
function harnessLabel(h: RunRecord['harness']): string {
  return `${h.version}+${h.gitSha ? h.gitSha.slice(0, 12) : 'unknown'}`;
}

export function newRunId(now = new Date()): string {
  // Time-ordered and unique across machines: two writers never pick the same id.
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
}

export interface ExecuteOptions {
  trials: TrialSpec[];
  plan: RunRecord['plan'];
  /** The run record to write; its journal sits beside it. */
  out: string;
  /** Continue the run journaled beside `out`, skipping trials already finished. */
  resume?: boolean;
  concurrency: number;
  /** The run's id (default: a new one); callers that name files after it pass it, so names and contents agree. */
  runId?: string;
  sandbox: Sandbox;
  python: PythonEnv;
  /** For anthropic agents. */
  client?: MessagesClient;
  /** For openai agents. */
  openaiClient?: MessagesClient;
  callPolicy?: CallPolicy;
  /** The LLM judge for judge-graded tasks, or why there is none (src/grading/judge.ts). */
  judge?: JudgeSetup;
  keepWorkspaces?: boolean;
  /** Stop starting trials once the run's known spend (agent and judge, resumed trials included) reaches this. */
  maxCostUsd?: number;
  /** Bound on grading one submission (default GRADING_TIME_LIMIT_MS, src/grading/grade.ts). */
  gradingTimeLimitMs?: number;
  signal?: AbortSignal;
  /** Before any trial starts, with the trials a resumed run carries over (empty for a new run). */
  onStart?: (carried: TrialResult[]) => void;
  onTrialStart?: (t: TrialSpec) => void;
  onTrialEnd?: (r: TrialResult, done: number, total: number) => void;
  onWarning?: (msg: string) => void;
}

export interface ExecuteResult {
  record: RunRecord;
  /** Trials run now (excludes those carried over by resume). */
  ran: number;
  aborted: boolean;
  /** Set when the spending cap kept trials from starting. */
  costCapReached?: RunRecord['costCapReached'];
}

export async function executeRun(o: ExecuteOptions): Promise<ExecuteResult> {
  const jfile = journalPath(o.out);
  const recordDir = path.dirname(path.resolve(o.out));
  let header: Omit<RunRecord, 'trials'>;
  let previous: TrialResult[] = [];
  let journal: Journal;
  if (o.resume) {
    const j = await readJournal(jfile);
    j.warnings.forEach((w) => o.onWarning?.(w));
    // The plan may have grown (run --resume --epochs N, the PR gate's next look); the record states the final one.
    header = { ...j.header, plan: o.plan, finishedAt: null };
    // A cap given on resume replaces the one the run started with (e.g. raised to finish it).
    if (o.maxCostUsd !== undefined) header = { ...header, plan: { ...header.plan, maxCostUsd: o.maxCostUsd } };
    delete header.costCapReached;
    previous = j.trials;
    journal = Journal.open(jfile);
  } else {
    if (existsSync(jfile) || existsSync(o.out)) {
      throw new Error(`${o.out}: a run record or journal already exists there. Use --resume to finish it, or choose another --out.`);
    }
    header = {
      schemaVersion: RUN_RECORD_SCHEMA_VERSION,
      runId: o.runId ?? newRunId(),
      startedAt: new Date().toISOString(),
      finishedAt: null,
      harness: await harnessInfo(),
      environment: {
        node: process.version,
        platform: `${os.platform()}-${os.arch()}`,
        python: o.python.version,
        torch: o.python.torch,
        gpu: o.python.gpu,
      },
      sandbox: { mode: o.sandbox.mode, unsafe: o.sandbox.mode !== 'bwrap', enforcement: o.sandbox.enforcement },
      plan: o.plan,
    };
    journal = await Journal.create(jfile, header);
  }

  const done = new Set(previous.map(trialKey));
  const todo = o.trials.filter((t) => !done.has(specKey(t)));
  const requirements = new Map<string, RequirementCheck>();
  for (const t of todo) {
    if (!requirements.has(t.task.def.id)) requirements.set(t.task.def.id, checkRequirements(t.task.def.requirements, o.python));
  }

  o.onStart?.(previous);
  const workRoot = await fs.mkdtemp(path.join(os.tmpdir(), `envbench-${header.runId}-`));
  // Opened on the first line written: a run of oracle and nop makes no transcript file.
  const transcripts = new TranscriptLog(transcriptLogPath(o.out));
  const limit = pLimit(Math.max(1, o.concurrency));
  const results: TrialResult[] = [];
  let finished = 0;
  let transcriptLost = false;
  const cap = o.maxCostUsd ?? header.plan.maxCostUsd;
  let spent = previous.reduce((s, t) => s + trialSpendUsd(t), 0);
  let notStarted = 0;
  try {
    await Promise.all(
      todo.map(async (spec) => {
        const deferred: Promise<void>[] = [];
        let result = await limit(async () => {
          if (o.signal?.aborted) return null;
          // Checked as each trial would start: trials already running finish, so the spend can pass the cap by those.
          if (cap !== undefined && spent >= cap) {
            notStarted++;
            return null;
          }
          o.onTrialStart?.(spec);
          const r = await runTrial(spec, {
            sandbox: o.sandbox,
            python: o.python,
            requirements: requirements.get(spec.task.def.id)!,
            client: o.client,
            openaiClient: o.openaiClient,
            callPolicy: o.callPolicy,
            judge: o.judge,
            workRoot,
            transcripts,
            recordDir,
            keepWorkspaces: o.keepWorkspaces,
            gradingTimeLimitMs: o.gradingTimeLimitMs,
            harness: harnessLabel(header.harness),
            allowPartialGrading: o.plan.partialGrading === true,
            signal: o.signal,
            defer: (work) => deferred.push(work),
          });
          // Counted before the slot is released, so the next trial's cap check sees it.
          spent += trialSpendUsd(r);
          return r;
        });
        await Promise.all(deferred);
        // A trial cut short by an interrupt is not journaled, so --resume runs it again.
        if (!result || o.signal?.aborted) return;
        // The log stops at its first write error: say so once, and record no transcript for the trials it lost.
        if (transcripts.failure && result.transcript !== null) {
          if (!transcriptLost) {
            transcriptLost = true;
            o.onWarning?.(`${transcripts.path}: transcripts could not be written (${transcripts.failure.message}); trials finishing from now on record no transcript`);
          }
          result = { ...result, transcript: null };
        }
        // Journaled after the slot is released: the next trial starts while this line is flushed.
        await journal.append(result);
        results.push(result);
        finished++;
        o.onTrialEnd?.(result, finished + previous.length, o.trials.length);
      }),
    );
  } finally {
    await transcripts.close();
    await journal.close();
    await fs.rm(workRoot, { recursive: true, force: true }).catch(() => {});
  }

  const order = new Map(o.trials.map((t, i) => [specKey(t), i]));
  const all = [...previous, ...results].sort((a, b) => (order.get(trialKey(a)) ?? 1e9) - (order.get(trialKey(b)) ?? 1e9));
  const aborted = o.signal?.aborted ?? false;
  const costCapReached = cap !== undefined && notStarted > 0 && !aborted ? { maxCostUsd: cap, spentUsd: spent, trialsNotStarted: notStarted } : undefined;
  const record: RunRecord = { ...header, finishedAt: aborted ? null : new Date().toISOString(), ...(costCapReached ? { costCapReached } : {}), trials: all };
  await writeRunRecord(o.out, record);
  return { record, ran: results.length, aborted, ...(costCapReached ? { costCapReached } : {}) };
}
