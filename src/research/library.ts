import path from 'node:path';
import { REPO_ROOT } from '../config.js';
import { z } from 'zod';
import { ResearchCache } from './cache.js';
import { CachedFetcher, NetworkDisabledError, describeFetchError } from './fetcher.js';
import { DEFAULT_HTTP_POLICY, HttpClient, type HttpPolicy } from './http.js';
import { SemanticScholarClient } from './semantic-scholar.js';
import { ArxivClient } from './arxiv.js';
import { corpus, corpusPaper, searchCorpus } from './corpus/index.js';
import { normalizeArxivId, type CorpusPaper, type PaperRecord, type Topic } from './types.js';


const DEFAULT_S2_BASE_URL = 'https://api.semanticscholar.org/graph/v1';
const DEFAULT_ARXIV_BASE_URL = 'https://export.arxiv.org/api';
export const DEFAULT_CACHE_DIR = path.join(REPO_ROOT, '.cache', 'research');

export interface ResearchConfig {
  /** Root of the shared response cache. */
  cacheDir: string;
  /** Whether cache misses may go to the network. Off by default: runs are offline and reproducible. */
  allowNetwork: boolean;
  s2BaseUrl: string;
  arxivBaseUrl: string;
  /** Optional Semantic Scholar API key (x-api-key header), for higher rate limits. Never cached or logged. */
  s2ApiKey?: string;
  s2Http: HttpPolicy;
  /** arXiv asks clients to leave about 3 s between requests. */
  arxivHttp: HttpPolicy;
}

const truthy = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['', '0', '1', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(v), 'use 1/0, true/false, yes/no or on/off')
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const EnvSchema = z.object({
  ENVBENCH_RESEARCH_CACHE_DIR: z.string().min(1).optional(),
  ENVBENCH_RESEARCH_NETWORK: truthy.optional(),
  ENVBENCH_S2_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  ENVBENCH_ARXIV_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  SEMANTIC_SCHOLAR_API_KEY: z.string().min(1).optional(),
});

/**
 * The research configuration from the environment:
 *   ENVBENCH_RESEARCH_CACHE_DIR  cache root (default <repo>/.cache/research)
 *   ENVBENCH_RESEARCH_NETWORK    1 to let cache misses reach the APIs (default off: corpus and cache only)
 *   ENVBENCH_S2_BASE_URL, ENVBENCH_ARXIV_BASE_URL   API base URLs (tests point them at a local server)
 *   SEMANTIC_SCHOLAR_API_KEY     optional S2 key
 */
export function researchConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ResearchConfig {
  const picked = Object.fromEntries(Object.keys(EnvSchema.shape).filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
  const parsed = EnvSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(picked[String(i.path[0])])}: ${i.message}`);
    throw new Error(`research configuration (environment): ${lines.join('; ')}`);
  }
  const e = parsed.data;
  return {
    cacheDir: path.resolve(e.ENVBENCH_RESEARCH_CACHE_DIR ?? DEFAULT_CACHE_DIR),
    allowNetwork: e.ENVBENCH_RESEARCH_NETWORK ?? false,
    s2BaseUrl: e.ENVBENCH_S2_BASE_URL ?? DEFAULT_S2_BASE_URL,
    arxivBaseUrl: e.ENVBENCH_ARXIV_BASE_URL ?? DEFAULT_ARXIV_BASE_URL,
    s2ApiKey: e.SEMANTIC_SCHOLAR_API_KEY,
    s2Http: DEFAULT_HTTP_POLICY,
    arxivHttp: { ...DEFAULT_HTTP_POLICY, minIntervalMs: 3_000 },
  };
}

/** A paper found by a lookup: its record, and the corpus entry when it is a corpus paper. */
export interface FoundPaper {
  record: PaperRecord;
  corpus?: CorpusPaper;
  /** Where the record came from: the offline corpus, the cache index, or an API answer (itself possibly cached). */
  via: 'corpus' | 'cache' | 'api';
}

export type Lookup<T> = { ok: true; value: T; notes: string[] } | { ok: false; reason: string; notes: string[] };

function corpusRecord(p: CorpusPaper): PaperRecord {
  return {
    arxivId: p.arxivId,
    s2Id: null,
    title: p.title,
    authors: p.authors,
    moreAuthors: p.moreAuthors,
    year: p.year,
    venue: p.venue ?? null,
    abstract: p.summary,
    tldr: p.tldr,
    source: 'corpus',
  };
}

/** How an arXiv id cited by a submission was confirmed, or why it was not. */
export type IdStatus = 'corpus' | 'cache' | 'verified' | 'missing' | 'unverified' | 'malformed';

/**
 * Offline-first access to the literature: the corpus, then the cache, then (only when allowed) the
 * Semantic Scholar and arXiv APIs. Failures come back as reasons written for the model, never as throws.
 */
export class ResearchLibrary {
  readonly cache: ResearchCache;
  readonly s2: SemanticScholarClient;
  readonly arxiv: ArxivClient;

  constructor(readonly config: ResearchConfig) {
    this.cache = new ResearchCache(config.cacheDir);
    const s2Headers: Record<string, string> = config.s2ApiKey ? { 'x-api-key': config.s2ApiKey } : {};
    this.s2 = new SemanticScholarClient(new CachedFetcher('semantic-scholar', new HttpClient(config.s2Http, s2Headers), this.cache, config.allowNetwork), config.s2BaseUrl);
    this.arxiv = new ArxivClient(new CachedFetcher('arxiv', new HttpClient(config.arxivHttp), this.cache, config.allowNetwork), config.arxivBaseUrl);
  }

  private async remember(records: PaperRecord[]): Promise<void> {
    const withIds = records.filter((r): r is PaperRecord & { arxivId: string } => r.arxivId !== null && r.source !== 'corpus');
    await this.cache
      .rememberPapers(
        withIds.map((r) => ({
          arxivId: r.arxivId,
          s2Id: r.s2Id,
          title: r.title,
          authors: r.authors,
          year: r.year,
          abstract: r.abstract,
          tldr: r.tldr,
          source: r.source === 'arxiv' ? ('arxiv' as const) : ('semantic-scholar' as const),
        })),
      )
      .catch(() => {}); // the index is an optimisation; a failed write must not fail the lookup
  }

  /** Corpus hits first, then Semantic Scholar (or arXiv if S2 fails), deduplicated by arXiv id. */
  async search(query: string, limit: number, signal?: AbortSignal): Promise<{ corpus: CorpusPaper[]; online: PaperRecord[]; notes: string[] }> {
    const local = searchCorpus(query, { limit });
    const notes: string[] = [];
    let online: PaperRecord[] = [];
    try {
      online = await this.s2.search(query, limit, signal);
    } catch (e) {
      if (e instanceof NetworkDisabledError) {
        notes.push('Online search is unavailable in this run (network access is off and this query is not cached); results come from the offline corpus only.');
      } else {
        notes.push(`Semantic Scholar search failed: ${describeFetchError(e)}.`);
        try {
          online = await this.arxiv.search(query, limit, signal);
          notes.push('Showing arXiv search results instead.');
        } catch (e2) {
          notes.push(`arXiv search failed too: ${describeFetchError(e2)}.`);
        }
      }
    }
    await this.remember(online);
    const localIds = new Set(local.map((p) => p.arxivId));
    online = online.filter((r) => !(r.arxivId && localIds.has(r.arxivId)));
    return { corpus: local, online: online.slice(0, Math.max(0, limit - local.length) || 3), notes };
  }

  /** One paper by arXiv id or S2 id: corpus, then cache index, then S2 details, then arXiv. */
  async paper(id: string, signal?: AbortSignal): Promise<Lookup<FoundPaper>> {
    const notes: string[] = [];
    const cp = corpusPaper(id);
    const arxivId = normalizeArxivId(id);
    const s2Like = /^(S2:)?[0-9a-f]{40}$/i.test(id.trim()) || /^(CorpusId|DOI):/i.test(id.trim());
    if (!arxivId && !s2Like) {
      return { ok: false, reason: `"${id}" is not a paper id. Use an arXiv id such as 1901.02860 (as shown by web_search), or a 40-character Semantic Scholar paperId.`, notes };
    }
    // Corpus papers are answered offline, without any API call, so they are fast and reproducible.
    if (cp) return { ok: true, value: { record: corpusRecord(cp), corpus: cp, via: 'corpus' }, notes };
    try {
      const s2 = await this.s2.paper(id, signal);
      if (s2) {
        await this.remember([s2]);
        return { ok: true, value: { record: s2, via: 'api' }, notes };
      }
      notes.push('Semantic Scholar does not know this id.');
    } catch (e) {
      if (!(e instanceof NetworkDisabledError)) notes.push(`Semantic Scholar lookup failed: ${describeFetchError(e)}.`);
    }
    if (arxivId) {
      const cached = await this.cache.paper(arxivId);
      if (cached) {
        return { ok: true, value: { record: { ...cached, source: cached.source, venue: null }, via: 'cache' }, notes };
      }
      try {
        const [hit] = await this.arxiv.byIds([arxivId], signal);
        if (hit) {
          await this.remember([hit]);
          return { ok: true, value: { record: hit, via: 'api' }, notes };
        }
        return { ok: false, reason: `No paper with arXiv id ${arxivId} exists on arXiv.`, notes };
      } catch (e) {
        if (e instanceof NetworkDisabledError) {
          return {
            ok: false,
            reason: `Paper ${arxivId} is not in the offline corpus or the cache, and network access is off in this run, so it cannot be looked up. Use web_search to find papers available offline.`,
            notes,
          };
        }
        return { ok: false, reason: `Could not look up ${arxivId}: ${describeFetchError(e)}`, notes };
      }
    }
    return { ok: false, reason: `Paper ${id} could not be found${this.config.allowNetwork ? '' : ' (network access is off in this run; only the offline corpus and cache are available)'}.`, notes };
  }

  /** Papers the given paper cites: the S2 reference list when reachable, else the corpus's curated links. */
  async references(id: string, limit: number, signal?: AbortSignal): Promise<Lookup<{ papers: PaperRecord[]; curated: boolean }>> {
    const notes: string[] = [];
    const cp = corpusPaper(id);
    try {
      const refs = await this.s2.references(cp?.arxivId ?? id, limit, signal);
      if (refs && refs.length > 0) {
        await this.remember(refs);
        return { ok: true, value: { papers: refs.slice(0, limit), curated: false }, notes };
      }
      if (refs === null && !cp) return { ok: false, reason: `Semantic Scholar does not know the paper ${id}.`, notes };
    } catch (e) {
      if (!(e instanceof NetworkDisabledError)) notes.push(`Semantic Scholar references lookup failed: ${describeFetchError(e)}.`);
      else if (!cp) {
        return { ok: false, reason: `References of ${id} are not available offline (it is not a corpus paper, it is not cached, and network access is off).`, notes };
      }
    }
    if (!cp) return { ok: false, reason: `No references found for ${id}.`, notes };
    const linked = cp.buildsOn.map((d) => corpus().byId.get(d)!).map(corpusRecord);
    const citedBy = corpus().papers.filter((p) => p.buildsOn.includes(cp.arxivId)).map(corpusRecord);
    notes.push(
      'The full reference list is not available offline; these are the offline-corpus papers this paper builds on' +
        (citedBy.length ? `, followed by corpus papers that build on it (${citedBy.map((p) => p.arxivId).join(', ')})` : '') +
        '.',
    );
    return { ok: true, value: { papers: [...linked, ...citedBy].slice(0, limit), curated: true }, notes };
  }

  /**
   * Whether an arXiv id cited by a submission is real: in the corpus, seen in a cached API response, or
   * (when the network is allowed) confirmed by arXiv now. Without network an unknown id is "unverified".
   */
  async idStatus(raw: string, signal?: AbortSignal): Promise<IdStatus> {
    const id = normalizeArxivId(raw);
    if (!id) return 'malformed';
    if (corpus().byId.has(id)) return 'corpus';
    if (await this.cache.paper(id)) return 'cache';
    try {
      const found = await this.arxiv.byIds([id], signal);
      if (found.length) {
        await this.remember(found);
        return 'verified';
      }
      return 'missing';
    } catch {
      // Offline, rate limited or down: the id can be neither confirmed nor refuted.
      return 'unverified';
    }
  }

  /** idStatus for many ids with at most one arXiv request (arXiv asks for 3 s between requests). */
  async idStatuses(raws: string[], signal?: AbortSignal): Promise<Map<string, IdStatus>> {
    const out = new Map<string, IdStatus>();
    const ask: string[] = [];
    for (const raw of new Set(raws)) {
      const id = normalizeArxivId(raw);
      if (!id) out.set(raw, 'malformed');
      else if (corpus().byId.has(id)) out.set(raw, 'corpus');
      else if (await this.cache.paper(id)) out.set(raw, 'cache');
      else ask.push(raw);
    }
    if (ask.length) {
      try {
        const found = await this.arxiv.byIds(ask, signal);
        await this.remember(found);
        const ids = new Set(found.map((f) => f.arxivId));
        for (const raw of ask) out.set(raw, ids.has(normalizeArxivId(raw)!) ? 'verified' : 'missing');
      } catch {
        for (const raw of ask) out.set(raw, 'unverified');
      }
    }
    return out;
  }

  /** Corpus papers of one topic (or all), for the literature tools. */
  topicPapers(topic?: Topic): CorpusPaper[] {
    return topic ? corpus().byTopic(topic) : corpus().papers;
  }
}

const libraries = new Map<string, ResearchLibrary>();

/** One library per distinct configuration, so all tools and graders of a process share clients and rate gates. */
export function libraryFor(config: ResearchConfig): ResearchLibrary {
  const key = JSON.stringify({ ...config, s2ApiKey: config.s2ApiKey ? 'set' : '' });
  let lib = libraries.get(key);
  if (!lib) {
    lib = new ResearchLibrary(config);
    libraries.set(key, lib);
  }
  return lib;
}

/** The library for the current environment (read on every call, so tests can point it elsewhere). */
export function defaultLibrary(): ResearchLibrary {
  return libraryFor(researchConfigFromEnv());
}
