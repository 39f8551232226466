/** How a run hands its judge (or the reason there is none) to each grading, and the run's judge log (FILE.judge.jsonl). */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type CallPolicy, type MessagesClient } from '../agents/client.js';
import { costUsd } from '../agents/prices.js';
import type { TrialJudge } from '../grading/judge-usage.js';
import { type GradeContext } from '../grading/types.js';
import { JudgeLog } from '../grading/judge.js';
import { NO_JUDGE_REASON } from '../grading/rubric-judge.js';
import type { JudgeAccess, JudgeTranscriptEntry } from '../grading/judge-access.js';

/** How a run provides a judge to its gradings. */
export type JudgeSetup =
  | {
      kind: 'model';
      client: MessagesClient;
      model: string;
      spec: string;
      thinkingBudget: number | null;
      callPolicy?: CallPolicy;
      /** The run's judge transcript (JSONL, lines tagged with the trial key); see judgeTranscriptPath. */
      transcriptFile?: string;
    }
  | { kind: 'off'; reason: string };

/** The run's judge transcript beside its record: FILE.json -> FILE.judge.jsonl. */
export function judgeTranscriptPath(out: string): string {
  return `${out.replace(/\.json$/, '')}.judge.jsonl`;
}

/** One grading's judge: the context fields to hand the grader, and the log to record afterwards. */
export interface JudgeSession {
  ctx: Pick<GradeContext, 'judge' | 'judgeUnavailable'>;
  log: JudgeLog | null;
  /**
   * When the judge was called: appends its transcript to the run's judge log (lines tagged with `trial`)
   * and returns what the trial records (usage, cost, log path relative to recordDir). Undefined otherwise.
   */
  save(trial: string, recordDir: string): Promise<TrialJudge | undefined>;
}

// Appends to one file are chained, so two trials' batches never interleave.
const appendChains = new Map<string, Promise<void>>();
function appendSerialized(file: string, text: string): Promise<void> {
  const next = (appendChains.get(file) ?? Promise.resolve())
    .catch(() => {})
    .then(async () => {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.appendFile(file, text, 'utf8');
    });
  appendChains.set(file, next);
  void next.finally(() => {
    if (appendChains.get(file) === next) appendChains.delete(file);
  }).catch(() => {});
  return next;
}

export function openJudgeSession(setup: JudgeSetup | undefined): JudgeSession {
  if (!setup || setup.kind === 'off') {
    return { ctx: { judgeUnavailable: setup?.reason ?? NO_JUDGE_REASON }, log: null, save: async () => undefined };
  }
  const log = new JudgeLog();
  const access: JudgeAccess = {
    client: setup.client,
    model: setup.model,
    spec: setup.spec,
    thinkingBudget: setup.thinkingBudget,
    ...(setup.callPolicy ? { callPolicy: setup.callPolicy } : {}),
    sink: log,
  };
  return {
    ctx: { judge: access },
    log,
    async save(trial, recordDir) {
      if (log.requests === 0) return undefined;
      let transcript: string | null = null;
      if (setup.transcriptFile) {
        // One id per grading: a trial graded again after an interrupted attempt is told apart on reading.
        const grading = randomBytes(4).toString('hex');
        const text = log.entries.map((e) => JSON.stringify({ trial, grading, ...e })).join('\n') + '\n';
        try {
          await appendSerialized(setup.transcriptFile, text);
          transcript = path.relative(recordDir, setup.transcriptFile);
        } catch {
          transcript = null; // a lost judge transcript does not change the grade
        }
      }
      return { model: setup.spec, requests: log.requests, usage: log.usage, costUsd: costUsd(setup.model, log.usage), transcript };
    },
  };
}

/** The judge transcript of one trial from a run's judge log: its last grading's entries, in order. */
export async function readJudgeTranscript(file: string, trial: string): Promise<JudgeTranscriptEntry[]> {
  const byGrading = new Map<string, JudgeTranscriptEntry[]>();
  let last: string | null = null;
  for (const line of (await fs.readFile(file, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    let parsed: { trial?: unknown; grading?: unknown } & JudgeTranscriptEntry;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue; // a torn last line of a killed run
    }
    if (parsed.trial !== trial) continue;
    const { trial: _t, grading, ...entry } = parsed;
    const g = String(grading);
    if (!byGrading.has(g)) byGrading.set(g, []);
    byGrading.get(g)!.push(entry as JudgeTranscriptEntry);
    last = g;
  }
  return last === null ? [] : byGrading.get(last)!;
}
