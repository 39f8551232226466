/** What a grading gets to call the LLM judge through (ctx.judge), and where the judge's record goes. */
import type { CallPolicy, MessagesClient } from '../agents/client.js';
import type { Usage } from '../agents/prices.js';

/** A judge transcript line: one per request, response, malformed verdict, API error or accepted verdict. */
export type JudgeTranscriptEntry = {
  ts: string;
  /** Index of the runJudge call within the grading (a grader may judge several times). */
  call: number;
  label?: string;
  type: 'request' | 'response' | 'malformed' | 'api_error' | 'verdict';
  attempt?: number;
} & Record<string, unknown>;

/** Where a judge's usage and transcript go; runTrial records them apart from the agent's. */
export interface JudgeSink {
  /** A new runJudge call starts; returns its index. */
  startCall(): number;
  /** Usage of one API response. */
  addUsage(usage: Usage): void;
  write(entry: Omit<JudgeTranscriptEntry, 'ts'>): void;
}

/** The judge a grading may use: ctx.judge. */
export interface JudgeAccess {
  client: MessagesClient;
  /** Model id as sent to the API, e.g. "claude-sonnet-4-5". */
  model: string;
  /** The spec as written, e.g. "anthropic:claude-sonnet-4-5+thinking=4000"; recorded with the trial. */
  spec: string;
  /** Extended-thinking budget in tokens, or null. */
  thinkingBudget: number | null;
  /** Defaults to the client's policy, else DEFAULT_CALL_POLICY. */
  callPolicy?: CallPolicy;
  sink: JudgeSink;
  /** Verdict attempts per runJudge call, first included (default MAX_VERDICT_ATTEMPTS). */
  maxVerdictAttempts?: number;
}
