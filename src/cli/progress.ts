import type { TrialResult } from '../runs/record.js';
import { formatTally, ProgressTally } from '../runs/progress.js';

export interface ProgressOptions {
  total: number;
  /** Trials carried over by --resume: counted in the tally, not in the ETA. */
  carried?: TrialResult[];
  /** A line sink (stderr in the CLI): CI logs get one line per trial and a periodic tally. */
  line: (s: string) => void;
  /** Raw terminal writes: when given, progress is one live line redrawn in place instead. */
  tty?: (s: string) => void;
  /** How often CI logs get a tally line (default 60 s) and a terminal's line is redrawn (1 s). */
  tallyEveryMs?: number;
  now?: () => number;
}

export interface ProgressReporter {
  trialEnded(r: TrialResult): void;
  /** A message that must not be overdrawn by the live line. */
  message(s: string): void;
  /** Clears the live line and prints the final tally. */
  finish(): void;
}

const CLEAR = '\r\x1b[2K';

function trialLine(r: TrialResult, done: number, total: number): string {
  const extra = r.status === 'error' || r.status === 'skipped' ? `: ${(r.error ?? '').split('\n')[0]}` : r.limit ? ` (limit: ${r.limit})` : '';
  return `[${done}/${total}] ${r.task}/${r.variant}/${r.sample} ${r.model} #${r.epoch} ${r.status}${extra} (${(r.durationMs / 1000).toFixed(1)}s)`;
}

/** Progress a person reads: on a terminal one live line; in logs a line per trial plus a tally now and then. */
export function createProgressReporter(o: ProgressOptions): ProgressReporter {
  const now = o.now ?? Date.now;
  const tally = new ProgressTally(o.total, now(), o.carried);
  const tty = o.tty;
  const draw = () => tty?.(CLEAR + formatTally(tally, now()));
  const timer = setInterval(tty ? draw : () => o.line(`progress ${formatTally(tally, now())}`), tty ? Math.min(o.tallyEveryMs ?? 1000, 1000) : (o.tallyEveryMs ?? 60_000));
  timer.unref();
  if (tty) draw();
  return {
    trialEnded(r) {
      tally.add(r);
      if (tty) {
        // Errors stay on screen above the live line; passes and fails are only counted.
        if (r.status === 'error') {
          tty(CLEAR);
          o.line(trialLine(r, tally.done, tally.total));
        }
        draw();
      } else {
        o.line(trialLine(r, tally.done, tally.total));
      }
    },
    message(s) {
      if (tty) tty(CLEAR);
      o.line(s);
      if (tty) draw();
    },
    finish() {
      clearInterval(timer);
      if (tty) tty(CLEAR);
      o.line(`done ${formatTally(tally, now())}`);
    },
  };
}
