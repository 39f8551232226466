import type { RunRecord, TrialResult } from '../../src/runs/record.js';

/** Outcome letters used by table-driven tests: P passed, F failed, E error, S skipped. */
export const STATUS_OF = { P: 'passed', F: 'failed', E: 'error', S: 'skipped' } as const;
export type StatusLetter = keyof typeof STATUS_OF;

/**
 * A valid trial result with neutral values; tests override what they assert on.
 * score follows the status (1 when passed, else 0) unless given.
 */
export function makeTrial(over: Partial<TrialResult> = {}): TrialResult {
  const status = over.status ?? 'passed';
  return {
    task: 't',
    variant: 'v',
    sample: 's',
    model: 'oracle',
    epoch: 0,
    status,
    score: status === 'passed' ? 1 : 0,
    checks: [],
    limit: null,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
    costUsd: 0,
    durationMs: 1,
    error: null,
    transcript: null,
    turns: 0,
    finishedAt: '2026-11-21T00:00:00.000Z',
    ...over,
  };
}

/** A valid, finished run record around `trials`; its plan names the trials' tasks and models. */
export function makeRunRecord(runId: string, trials: TrialResult[], over: Partial<RunRecord> = {}): RunRecord {
  return {
    schemaVersion: 1,
    runId,
    startedAt: '2026-11-21T00:00:00.000Z',
    finishedAt: '2026-11-21T01:00:00.000Z',
    harness: { version: '0.1.0', gitSha: null },
    environment: { node: 'v20', platform: 'linux-x64', python: null, torch: null, gpu: null },
    sandbox: { mode: 'bwrap', unsafe: false },
    plan: { tasks: [...new Set(trials.map((t) => t.task))], models: [...new Set(trials.map((t) => t.model))], variants: null, epochs: 1 },
    trials,
    ...over,
  };
}
