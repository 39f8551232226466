/**
 * One bound for work that must not outlive its time: a signal that aborts after `ms` or when `parent`
 * (the run's signal) does, and says which. A plain cleared timer rather than AbortSignal.timeout, which
 * keeps a timer alive for the whole bound. Used by the agent loop (the trial's time limit), the judge (each
 * call's bound), grading and the oracle's and nop's submissions.
 */
export interface Deadline {
  signal: AbortSignal;
  /** True once the bound itself fired (not the parent). */
  timedOut(): boolean;
  /** Clears the timer and the parent listener. */
  dispose(): void;
}

export function deadline(ms: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`time limit of ${ms} ms exceeded`));
  }, Math.min(ms, 2 ** 31 - 1));
  const onParentAbort = () => controller.abort(parent!.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

/** A bound as people read it: "15 minutes", "2 s", "300 ms". */
export function formatLimit(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minutes`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Settles like `p`, or rejects as soon as `signal` aborts. */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
