import type { CacheEntry, CacheRequest, ResearchCache } from './cache.js';
import { HttpClient, HttpError, type HttpResponse } from './http.js';

/** Raised when a request is not in the cache and this run may not use the network. */
export class NetworkDisabledError extends Error {
  override name = 'NetworkDisabledError';
  constructor(readonly api: string) {
    super(`${api} is not reachable in this run: network access is off (set ENVBENCH_RESEARCH_NETWORK=1 to allow it), and the request is not in the cache`);
  }
}

/** A response from the cache or the network; `fromCache` says which. */
export interface Fetched extends HttpResponse {
  fromCache: boolean;
}

/**
 * Cache first, then the network if allowed. Successful answers and definite "not found" answers (404)
 * are cached; rate limits, server errors and other statuses are not, so a later run tries again.
 */
export class CachedFetcher {
  /** Identical requests in flight in this process share one network call. */
  private inFlight = new Map<string, Promise<Fetched>>();

  constructor(
    readonly api: string,
    private readonly http: HttpClient,
    private readonly cache: ResearchCache,
    private readonly allowNetwork: boolean,
  ) {}

  async get(url: string, signal?: AbortSignal): Promise<Fetched> {
    const req: CacheRequest = { api: this.api, url };
    const hit: CacheEntry | null = await this.cache.get(req);
    if (hit) return { status: hit.status, contentType: hit.contentType, body: hit.body, fromCache: true };
    if (!this.allowNetwork) throw new NetworkDisabledError(this.api);
    const key = `${this.api} ${url}`;
    let p = this.inFlight.get(key);
    if (!p) {
      p = (async () => {
        const res = await this.http.get(url, { signal });
        if (res.status === 200 || res.status === 404) await this.cache.put(req, res);
        return { ...res, fromCache: false };
      })().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }
}

/** A one-line, model-facing description of why a lookup failed. */
export function describeFetchError(e: unknown): string {
  if (e instanceof NetworkDisabledError) return e.message;
  if (e instanceof HttpError) {
    if (e.kind === 'rate-limited') return `${e.message}; try again later, or work from the offline corpus`;
    return e.message;
  }
  return (e as Error)?.message ?? String(e);
}
