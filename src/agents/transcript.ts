import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One line of a trial transcript. `ts` (ISO time) is added by the writer. */
export type TranscriptEvent =
  | {
      type: 'meta';
      model: string;
      thinkingBudget: number | null;
      system: string;
      prompt: string;
      tools: Array<{ name: string; description: string; input_schema: unknown }>;
      limits: unknown;
      maxTokensPerCall: number;
      callPolicy: unknown;
    }
  | {
      type: 'request';
      turn: number;
      max_tokens: number;
      thinking: unknown;
      messageCount: number;
      outputTokensUsed: number;
    }
  | {
      type: 'assistant';
      turn: number;
      id: string;
      stop_reason: string | null;
      content: unknown;
      usage: unknown;
      durationMs: number;
    }
  | {
      type: 'tool_result';
      turn: number;
      tool_use_id: string;
      name: string;
      is_error: boolean;
      content: string;
      durationMs: number;
    }
  | { type: 'user'; turn: number; text: string }
  | { type: 'api_error'; turn: number; error: string }
  | {
      type: 'end';
      outcome: unknown;
      usage: unknown;
      turns: number;
      durationMs: number;
      costUsd: number | null;
    };

/** What the loop writes to; TranscriptWriter (JSONL on disk) and MemoryTranscript implement it. */
export interface TranscriptSink {
  /** Queues one event; never throws (a failed write is kept in `failure`). */
  write(event: TranscriptEvent): void;
  /** Resolves once every queued event is on disk. */
  flush(): Promise<void>;
  /** The first write error, if any; the trial runner decides what a lost transcript means. */
  readonly failure: Error | null;
}

/** Appends one JSON line per event to `path` (parent folders are created). */
export class TranscriptWriter implements TranscriptSink {
  // Writes are chained so lines land in order even though appendFile is async.
  private chain: Promise<void>;
  private _failure: Error | null = null;

  constructor(readonly path: string) {
    this.chain = mkdir(dirname(path), { recursive: true }).then(
      () => undefined,
      (e: unknown) => this.fail(e),
    );
  }

  get failure(): Error | null {
    return this._failure;
  }

  write(event: TranscriptEvent): void {
    const line = JSON.stringify({ ts: new Date().toISOString(), ...event }) + '\n';
    this.chain = this.chain.then(() =>
      this._failure ? undefined : appendFile(this.path, line, 'utf8').catch((e: unknown) => this.fail(e)),
    );
  }

  flush(): Promise<void> {
    return this.chain;
  }

  private fail(e: unknown): void {
    this._failure ??= e instanceof Error ? e : new Error(String(e));
  }
}

/** Keeps events in memory (tests, dry runs). */
export class MemoryTranscript implements TranscriptSink {
  readonly events: Array<TranscriptEvent & { ts: string }> = [];
  readonly failure = null;
  write(event: TranscriptEvent): void {
    this.events.push({ ts: new Date().toISOString(), ...event });
  }
  async flush(): Promise<void> {}
}
