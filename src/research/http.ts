/**
 * A small GET client for the public research APIs: per-attempt timeout, bounded retries on 429 and
 * 5xx that honour Retry-After (seconds or an HTTP date) up to a cap, a politeness interval between
 * requests, and a bound on the response size. It uses the platform fetch; tests point it at a local
 * HTTP server instead of mocking fetch.
 */
import { abortableSleep, parseRetryAfter } from '../agents/rate-gate.js';

export { parseRetryAfter };

export interface HttpPolicy {
  /** Per attempt, including reading the body. */
  timeoutMs: number;
  /** Attempts in all (the first one included). */
  maxAttempts: number;
  /** A Retry-After longer than this is not waited for: the request fails at once with a rate-limit error. */
  maxRetryWaitMs: number;
  /** Backoff when the server gives no Retry-After: base * 2^(attempt-1), plus up to 25% jitter. */
  baseBackoffMs: number;
  /** Responses larger than this are cut off with an error. */
  maxBodyBytes: number;
  /** Least time between the starts of two requests of one client (APIs ask for about 1 request/s). */
  minIntervalMs: number;
}

export const DEFAULT_HTTP_POLICY: HttpPolicy = {
  timeoutMs: 20_000,
  maxAttempts: 4,
  maxRetryWaitMs: 30_000,
  baseBackoffMs: 1_000,
  maxBodyBytes: 5 * 1024 * 1024,
  minIntervalMs: 1_000,
};

export type HttpErrorKind = 'rate-limited' | 'server' | 'network' | 'timeout' | 'too-large' | 'aborted';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly kind: HttpErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface HttpResponse {
  status: number;
  contentType: string;
  body: string;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** The rate gate's sleep; a cancelled wait is this client's 'aborted' error. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return abortableSleep(ms, signal).catch(() => {
    throw new HttpError('aborted', 'the request was cancelled');
  });
}

async function readBounded(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new HttpError('too-large', `the response is ${declared} bytes, over the ${maxBytes}-byte limit`, res.status);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new HttpError('too-large', `the response exceeded the ${maxBytes}-byte limit`, res.status);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class HttpClient {
  private nextStart = 0;
  private gate: Promise<void> = Promise.resolve();

  constructor(
    readonly policy: HttpPolicy = DEFAULT_HTTP_POLICY,
    private readonly headers: Record<string, string> = {},
  ) {}

  /** Waits for this client's turn, keeping minIntervalMs between request starts. */
  private turn(signal?: AbortSignal): Promise<void> {
    const mine = this.gate.then(async () => {
      const wait = this.nextStart - Date.now();
      if (wait > 0) await sleep(wait, signal);
      this.nextStart = Date.now() + this.policy.minIntervalMs;
    });
    this.gate = mine.catch(() => {});
    return mine;
  }

  /**
   * GET `url`. Resolves with any final status that is not retryable (2xx, 404, 400...); the caller
   * interprets it. Throws HttpError after the retries for 429/5xx are spent, or on a network failure,
   * timeout, oversized body or cancellation.
   */
  async get(url: string, opts: { signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<HttpResponse> {
    const p = this.policy;
    let last: HttpError | null = null;
    for (let attempt = 1; attempt <= p.maxAttempts; attempt++) {
      await this.turn(opts.signal);
      const timeout = AbortSignal.timeout(p.timeoutMs);
      const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
      let res: Response;
      let body: string;
      try {
        res = await fetch(url, { headers: { accept: '*/*', ...this.headers, ...opts.headers }, signal, redirect: 'follow' });
        body = RETRYABLE.has(res.status) ? await res.text().catch(() => '') : await readBounded(res, p.maxBodyBytes);
      } catch (e) {
        if (e instanceof HttpError) throw e;
        if (opts.signal?.aborted) throw new HttpError('aborted', 'the request was cancelled');
        if (timeout.aborted) last = new HttpError('timeout', `no complete response within ${p.timeoutMs} ms`);
        else last = new HttpError('network', `network error: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
        if (attempt < p.maxAttempts) await sleep(this.backoff(attempt), opts.signal);
        continue;
      }
      if (!RETRYABLE.has(res.status)) {
        return { status: res.status, contentType: res.headers.get('content-type') ?? '', body };
      }
      const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
      const kind: HttpErrorKind = res.status === 429 ? 'rate-limited' : 'server';
      const what = res.status === 429 ? 'rate limited (HTTP 429)' : `server error (HTTP ${res.status})`;
      if (retryAfter !== null && retryAfter > p.maxRetryWaitMs) {
        throw new HttpError(kind, `${what}; the server asks to wait ${Math.ceil(retryAfter / 1000)} s, longer than the ${Math.ceil(p.maxRetryWaitMs / 1000)} s this client waits`, res.status);
      }
      last = new HttpError(kind, `${what} after ${attempt} attempt${attempt === 1 ? '' : 's'}`, res.status);
      if (attempt < p.maxAttempts) await sleep(retryAfter ?? this.backoff(attempt), opts.signal);
    }
    throw last ?? new HttpError('network', 'no attempt was made');
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.policy.maxRetryWaitMs, this.policy.baseBackoffMs * 2 ** (attempt - 1));
    return Math.round(base * (1 + Math.random() * 0.25));
  }
}
