/**
 * Rate-limit awareness shared by every trial of a run: when the API answers 429 or 529 with a
 * retry-after, no request of this client goes out until that time has passed. The SDK's own retries
 * pace one call; the gate stops the other concurrent trials from hammering the API meanwhile.
 */
export class RateGate {
  private notBefore = 0;
  /** How many requests waited, and for how long in total (for the run summary and tests). */
  readonly stats = { paused: 0, waitedMs: 0 };

  constructor(
    /** A retry-after longer than this is capped: the per-call bound, not the gate, decides when to give up. */
    private readonly maxPauseMs = 60_000,
    private readonly inner: typeof fetch = globalThis.fetch,
  ) {}

  /** Epoch ms before which no request goes out (0 when no 429/529 has been seen). */
  get pausedUntil(): number {
    return this.notBefore;
  }

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const wait = this.notBefore - Date.now();
    if (wait > 0) {
      this.stats.paused++;
      this.stats.waitedMs += wait;
      await abortableSleep(wait, init?.signal ?? undefined);
    }
    const res = await this.inner(input, init);
    if (res.status === 429 || res.status === 529) {
      const ms = retryAfterMs(res.headers);
      if (ms !== null) this.notBefore = Math.max(this.notBefore, Date.now() + Math.min(ms, this.maxPauseMs));
    }
    return res;
  };
}

/** retry-after-ms, else retry-after (parseRetryAfter); null when absent or unreadable. */
export function retryAfterMs(h: Headers): number | null {
  const ms = Number(h.get('retry-after-ms'));
  if (h.has('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  return parseRetryAfter(h.get('retry-after'));
}

/** A Retry-After value as milliseconds, or null when absent or unreadable. Accepts delta-seconds and HTTP dates. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** Waits ms; rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
