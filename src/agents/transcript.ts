import { createHash } from 'node:crypto';
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

type ToolSchemas = Array<{ name: string; description: string; input_schema: unknown }>;

/** One line of a trial transcript. `ts` (ISO time) is added by the writer. */
export type TranscriptEvent =
  | {
      type: 'meta';
      model: string;
      thinkingBudget: number | null;
      system: string;
      prompt: string;
      tools: ToolSchemas;
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

/** What the loop writes to: a trial's sink of the run's TranscriptLog (JSONL on disk), or MemoryTranscript. */
export interface TranscriptSink {
  /** Queues one event; never throws (a failed write is kept in `failure`). */
  write(event: TranscriptEvent): void;
  /** Resolves once every queued event is on disk. */
  flush(): Promise<void>;
  /** The first write error, if any; the trial runner decides what a lost transcript means. */
  readonly failure: Error | null;
}

let lastMs = -1;
let lastIso = '';
/** The current time as ISO text; events in the same millisecond (many, in a busy run) share one string. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/**
 * One JSONL transcript for a whole run: every line carries `trial`, the trial's key, and all trials share
 * one open file and one buffered write. Opening, writing and closing a file per trial cost more than
 * half of the harness's own CPU time per trial in a profile (scripts/bench-harness.ts); this costs one
 * open per run. Lines of concurrent trials interleave; read one trial's with readTrialTranscript().
 *
 * A task's tool schemas are the same in every trial, so they are written once per run, as a
 * `{"type":"def","ref":HASH,"value":[...]}` line, and each trial's `meta` line names them by `toolsRef`;
 * readTrialTranscript puts them back. The ref is a content hash, so a resumed run appending to the same
 * file reuses it consistently.
 */
export class TranscriptLog {
  static readonly FLUSH_INTERVAL_MS = 1000;
  private handle: Promise<FileHandle> | null = null;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private _failure: Error | null = null;
  /** Tool lists already written, by identity (the agent loop reuses one array per task). */
  private refs = new WeakMap<object, string>();

  constructor(readonly path: string) {}

  get failure(): Error | null {
    return this._failure;
  }

  /** The sink one trial writes to; `trial` tags its lines. */
  sink(trial: string): TranscriptSink {
    const log = this;
    // Each line is built as text: the trial tag and timestamp, then the event's own JSON without its '{'.
    const head = `{"trial":${JSON.stringify(trial)},"ts":"`;
    return {
      write(event) {
        let body: string;
        if (event.type === 'meta') {
          const { tools, ...rest } = event;
          body = JSON.stringify({ ...rest, toolsRef: log.refOf(tools) });
        } else {
          body = JSON.stringify(event);
        }
        log.push(`${head}${isoNow()}",${body.slice(1)}\n`);
      },
      flush: () => this.flush(),
      get failure() {
        return log._failure;
      },
    };
  }

  private refOf(tools: ToolSchemas): string {
    let ref = this.refs.get(tools);
    if (!ref) {
      const json = JSON.stringify(tools);
      ref = createHash('sha256').update(json).digest('hex').slice(0, 16);
      this.refs.set(tools, ref);
      this.push(`{"type":"def","ref":"${ref}","value":${json}}\n`);
    }
    return ref;
  }

  private push(line: string): void {
    this.pending.push(line);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, TranscriptLog.FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Resolves once every line queued so far is written (one write for all trials' pending lines). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.chain = this.chain.then(() => this.drain());
    return this.chain;
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    const h = this.handle;
    this.handle = null;
    if (h) await (await h.catch(() => null))?.close().catch(() => {});
  }

  private async drain(): Promise<void> {
    if (!this.pending.length || this._failure) return;
    const text = this.pending.join('');
    this.pending = [];
    try {
      this.handle ??= mkdir(dirname(this.path), { recursive: true }).then(() => open(this.path, 'a'));
      await (await this.handle).write(text);
    } catch (e) {
      this._failure ??= e instanceof Error ? e : new Error(String(e));
    }
  }
}

/** The lines of one trial's last attempt in a run's transcript log, in order, without the `trial` tag. */
export async function readTrialTranscript(file: string, trial: string): Promise<Array<TranscriptEvent & { ts: string }>> {
  return (await readRunTranscripts(file, (t) => t === trial)).get(trial) ?? [];
}

/** Every trial's last attempt in a run's transcript log (or those `want` selects), by trial key: one read of the file. */
export async function readRunTranscripts(file: string, want: (trial: string) => boolean = () => true): Promise<Map<string, Array<TranscriptEvent & { ts: string }>>> {
  const byTrial = new Map<string, Array<TranscriptEvent & { ts: string }>>();
  const defs = new Map<string, ToolSchemas>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    let parsed: { trial?: unknown; ref?: string; value?: ToolSchemas; toolsRef?: string } & TranscriptEvent & { ts: string };
    try {
      parsed = JSON.parse(line);
    } catch {
      continue; // a torn last line of a killed run
    }
    if ((parsed.type as string) === 'def' && typeof parsed.ref === 'string') {
      defs.set(parsed.ref, parsed.value ?? []);
      continue;
    }
    if (typeof parsed.trial !== 'string' || !want(parsed.trial)) continue;
    const trial = parsed.trial;
    const { trial: _t, ...event } = parsed;
    let out = byTrial.get(trial);
    if (!out) byTrial.set(trial, (out = []));
    // A trial cut short by an interrupt runs again on --resume: keep only its last attempt, which starts at 'meta'.
    if (event.type === 'meta') {
      out.length = 0;
      const { toolsRef, ...rest } = event;
      if (toolsRef !== undefined) {
        const tools = defs.get(toolsRef);
        if (!tools) throw new Error(`${file}: the meta line of trial ${trial} names tool schemas ${toolsRef}, but no def line before it has them`);
        out.push({ ...rest, tools } as TranscriptEvent & { ts: string });
        continue;
      }
    }
    out.push(event as TranscriptEvent & { ts: string });
  }
  return byTrial;
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
