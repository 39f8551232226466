// The Semantic Scholar and arXiv clients, the shared cache and the tools with network access, against a local
// HTTP server that speaks those APIs' real formats (S2 Graph JSON, arXiv Atom XML). fetch itself is not mocked.
import { promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ToolContext } from '../../src/agents/tool.js';
import {
  cacheKey,
  canonicalUrl,
  HttpClient,
  HttpError,
  NetworkDisabledError,
  paperTools,
  parseArxivFeed,
  parseRetryAfter,
  ResearchCache,
  ResearchLibrary,
  researchConfigFromEnv,
  type HttpPolicy,
  type ResearchConfig,
} from '../../src/research/index.js';

// ---------------------------------------------------------------- a local S2 + arXiv server

const S2_ID = '0123456789abcdef0123456789abcdef01234567';
/** A paper outside the corpus, in S2's field names. Values are test fixtures. */
const S2_PAPER = {
  paperId: S2_ID,
  externalIds: { ArXiv: '2307.03172', DBLP: 'journals/corr/abs-2307-03172', CorpusId: 259360665 },
  title: 'Lost in the Middle: How Language Models Use Long Contexts',
  abstract: 'A test abstract. Accuracy drops by 20% when the answer sits mid-context. Models read the start and end best.',
  year: 2023,
  venue: 'Transactions of the Association for Computational Linguistics',
  citationCount: 42,
  authors: [
    { authorId: '1', name: 'Nelson F. Liu' },
    { authorId: '2', name: 'Kevin Lin' },
  ],
  tldr: { model: 'tldr@v2.0.0', text: 'Language models use information at the edges of long inputs better than in the middle.' },
};
const S2_REF = { paperId: 'fedcba9876543210fedcba9876543210fedcba98', externalIds: { ArXiv: '1901.02860' }, title: 'Transformer-XL: Attentive Language Models Beyond a Fixed-Length Context', year: 2019, authors: [{ authorId: '3', name: 'Zihang Dai' }] };

function atomEntry(id: string, title: string, summary: string, authors: string[], published: string): string {
  return `  <entry>
    <id>http://arxiv.org/abs/${id}v2</id>
    <updated>2023-11-20T18:55:14Z</updated>
    <published>${published}</published>
    <title>${title}</title>
    <summary>  ${summary}
</summary>
${authors.map((a) => `    <author>\n      <name>${a}</name>\n    </author>`).join('\n')}
    <arxiv:journal_ref xmlns:arxiv="http://arxiv.org/schemas/atom">TACL 2024</arxiv:journal_ref>
    <link href="http://arxiv.org/abs/${id}v2" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/${id}v2" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
  </entry>`;
}
function atomFeed(entries: string[], total = entries.length): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?id_list%3D&amp;start%3D0" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: search_query=&amp;id_list=&amp;start=0&amp;max_results=10</title>
  <id>http://arxiv.org/api/test</id>
  <updated>2024-01-01T00:00:00-05:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">${total}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
${entries.join('\n')}
</feed>
`;
}
const ARXIV_LOST = atomEntry('2307.03172', 'Lost in the Middle: How Language Models Use Long\n  Contexts', 'Where &amp; how models read long inputs: accuracy falls by 20% mid-context.', ['Nelson F. Liu', 'Kevin Lin', 'John Hewitt'], '2023-07-06T17:54:11Z');
const ARXIV_ERROR = `  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.5</id>
    <title>Error</title>
    <summary>incorrect id format for 1234.5</summary>
    <updated>2024-01-01T00:00:00-05:00</updated>
    <author><name>arXiv api core</name></author>
  </entry>`;

interface Override {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  hang?: boolean;
}
interface Seen {
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  at: number;
}

class FakeApis {
  server!: Server;
  url = '';
  requests: Seen[] = [];
  /** Responses to send instead of the normal answer, first in first out, per API ("s2" or "arxiv"). */
  overrides: Record<'s2' | 'arxiv', Override[]> = { s2: [], arxiv: [] };
  /** Every answer of this API gets this override (after the queue). */
  sticky: Partial<Record<'s2' | 'arxiv', Override>> = {};

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    return new Promise((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
  reset(): void {
    this.requests = [];
    this.overrides = { s2: [], arxiv: [] };
    this.sticky = {};
  }
  count(prefix: string): number {
    return this.requests.filter((r) => r.path.startsWith(prefix)).length;
  }

  private send(res: ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ path: u.pathname, query: u.searchParams, headers: req.headers, at: Date.now() });
    const api = u.pathname.startsWith('/graph/v1') ? 's2' : 'arxiv';
    const o = this.overrides[api].shift() ?? this.sticky[api];
    if (o) {
      if (o.hang) return; // never answer
      const body = o.body ?? (api === 's2' ? JSON.stringify({ message: 'Too Many Requests. Please wait and try again or apply for a key for higher rate limits.', code: String(o.status) }) : 'Rate exceeded.');
      return this.send(res, o.status, body, api === 's2' ? 'application/json' : 'text/plain', o.headers);
    }
    if (api === 's2') return this.s2(u, res);
    return this.arxiv(u, res);
  }

  private s2(u: URL, res: ServerResponse): void {
    const json = (status: number, body: unknown) => this.send(res, status, JSON.stringify(body), 'application/json');
    const m = /^\/graph\/v1\/paper\/(.+?)(\/references)?$/.exec(u.pathname);
    if (u.pathname === '/graph/v1/paper/search') {
      const q = (u.searchParams.get('query') ?? '').toLowerCase();
      const data = q.includes('middle') ? [S2_PAPER] : [];
      return json(200, { total: data.length, offset: 0, ...(data.length ? { next: data.length } : {}), data });
    }
    if (m) {
      const id = decodeURIComponent(m[1]!);
      const known = id === S2_ID || id.toUpperCase() === 'ARXIV:2307.03172';
      if (!known) return json(404, { error: `Paper with id ${id} not found` });
      if (m[2]) return json(200, { offset: 0, data: [{ citedPaper: S2_REF }, { citedPaper: { paperId: null, title: null } }] });
      return json(200, S2_PAPER);
    }
    return json(404, { error: 'Not found' });
  }

  private arxiv(u: URL, res: ServerResponse): void {
    const atom = (body: string) => this.send(res, 200, body, 'application/atom+xml; charset=utf-8');
    if (u.pathname !== '/api/query') return this.send(res, 404, 'not found', 'text/plain');
    const ids = u.searchParams.get('id_list');
    if (ids !== null) {
      if (ids.split(',').some((i) => !/^\d{4}\.\d{4,5}$/.test(i))) return atom(atomFeed([ARXIV_ERROR], 1));
      return atom(atomFeed(ids.split(',').includes('2307.03172') ? [ARXIV_LOST] : [], ids.includes('2307.03172') ? 1 : 0));
    }
    const q = u.searchParams.get('search_query') ?? '';
    return atom(atomFeed(/middle/i.test(q) ? [ARXIV_LOST] : []));
  }
}

// ---------------------------------------------------------------- setup

const apis = new FakeApis();
let root: string;
const FAST: HttpPolicy = { timeoutMs: 2_000, maxAttempts: 3, maxRetryWaitMs: 5_000, baseBackoffMs: 20, maxBodyBytes: 1_000_000, minIntervalMs: 0 };

function config(over: Partial<ResearchConfig> = {}): ResearchConfig {
  return {
    ...researchConfigFromEnv({}),
    cacheDir: path.join(root, 'cache'),
    allowNetwork: true,
    s2BaseUrl: `${apis.url}/graph/v1`,
    arxivBaseUrl: `${apis.url}/api`,
    s2Http: FAST,
    arxivHttp: FAST,
    ...over,
  };
}
const ctx = { signal: AbortSignal.timeout(30_000) } as ToolContext;

beforeAll(() => apis.start());
afterAll(() => apis.close());
beforeEach(async () => {
  apis.reset();
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-research-api-'));
});
afterEach(() => fs.rm(root, { recursive: true, force: true }));

// ---------------------------------------------------------------- tests

describe('configuration', () => {
  it('reads the cache dir, network flag and base URLs from the environment, and names a bad value', () => {
    const c = researchConfigFromEnv({ ENVBENCH_RESEARCH_CACHE_DIR: '/tmp/x', ENVBENCH_RESEARCH_NETWORK: 'yes', ENVBENCH_S2_BASE_URL: 'http://127.0.0.1:1/graph/v1' });
    expect(c).toMatchObject({ cacheDir: '/tmp/x', allowNetwork: true, s2BaseUrl: 'http://127.0.0.1:1/graph/v1', arxivBaseUrl: 'https://export.arxiv.org/api' });
    expect(researchConfigFromEnv({}).allowNetwork).toBe(false);
    expect(researchConfigFromEnv({}).cacheDir).toMatch(/\.cache\/research$/);
    expect(() => researchConfigFromEnv({ ENVBENCH_RESEARCH_NETWORK: 'maybe' })).toThrow(/ENVBENCH_RESEARCH_NETWORK[\s\S]*1\/0, true\/false/);
    expect(() => researchConfigFromEnv({ ENVBENCH_ARXIV_BASE_URL: 'ftp://x' })).toThrow(/ENVBENCH_ARXIV_BASE_URL/);
  });
});

describe('Semantic Scholar client', () => {
  it('searches, sends the fields and the API key, parses S2 JSON, and caches the answer', async () => {
    const lib = new ResearchLibrary(config({ s2ApiKey: 'k-123' }));
    const hits = await lib.s2.search('lost in the middle', 5);
    expect(hits).toEqual([
      expect.objectContaining({ arxivId: '2307.03172', s2Id: S2_ID, title: S2_PAPER.title, authors: ['Nelson F. Liu', 'Kevin Lin'], year: 2023, citationCount: 42, source: 'semantic-scholar' }),
    ]);
    const req = apis.requests[0]!;
    expect(req.path).toBe('/graph/v1/paper/search');
    expect(req.query.get('fields')).toBe('paperId,externalIds,title,year,authors,venue,abstract,citationCount');
    expect(req.query.get('limit')).toBe('5');
    expect(req.headers['x-api-key']).toBe('k-123');
    await lib.s2.search('lost in the middle', 5);
    expect(apis.requests).toHaveLength(1);
    // The key is not part of the cache entry.
    const files = await fs.readdir(path.join(root, 'cache', 'responses'), { recursive: true });
    const entry = await fs.readFile(path.join(root, 'cache', 'responses', files.find((f) => f.endsWith('.json'))!), 'utf8');
    expect(entry).not.toContain('k-123');
  });

  it('gets a paper with its TLDR by arXiv id, and its references; unknown ids are null (404)', async () => {
    const lib = new ResearchLibrary(config());
    expect(await lib.s2.paper('arXiv:2307.03172v2')).toMatchObject({ tldr: S2_PAPER.tldr.text, venue: S2_PAPER.venue });
    expect(apis.requests[0]!.path).toBe('/graph/v1/paper/ARXIV:2307.03172');
    expect(apis.requests[0]!.query.get('fields')).toContain('tldr');
    const refs = await lib.s2.references(S2_ID, 10);
    expect(refs!.map((r) => r.arxivId)).toEqual(['1901.02860']);
    expect(await lib.s2.paper('2401.00001')).toBeNull();
  });

  it('serves a second library on the same cache folder without any request (runs share the cache)', async () => {
    await new ResearchLibrary(config()).s2.paper('2307.03172');
    const before = apis.requests.length;
    const other = new ResearchLibrary(config());
    expect((await other.s2.paper('2307.03172'))!.title).toBe(S2_PAPER.title);
    expect(apis.requests.length).toBe(before);
    // Query parameter order does not change the key.
    expect(canonicalUrl('http://h/p?b=2&a=1')).toBe(canonicalUrl('http://h/p?a=1&b=2'));
    expect(cacheKey({ api: 'x', url: 'http://h/p?b=2&a=1' })).toBe(cacheKey({ api: 'x', url: 'http://h/p?a=1&b=2' }));
    expect(cacheKey({ api: 'x', url: 'http://h/p' })).not.toBe(cacheKey({ api: 'y', url: 'http://h/p' }));
  });
});

describe('rate limits and failures (bounded)', () => {
  it('waits out a 429 with Retry-After in seconds, then succeeds', async () => {
    apis.overrides.s2.push({ status: 429, headers: { 'retry-after': '1' } });
    const lib = new ResearchLibrary(config());
    const t0 = Date.now();
    expect((await lib.s2.paper('2307.03172'))!.title).toBe(S2_PAPER.title);
    expect(apis.requests).toHaveLength(2);
    expect(apis.requests[1]!.at - apis.requests[0]!.at).toBeGreaterThanOrEqual(950);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('gives up at once when Retry-After exceeds the cap, and the tool says so without crashing', async () => {
    apis.sticky.s2 = { status: 429, headers: { 'retry-after': '120' } };
    const lib = new ResearchLibrary(config());
    const err = await lib.s2.paper('2307.03172').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ kind: 'rate-limited', status: 429 });
    expect((err as Error).message).toContain('the server asks to wait 120 s, longer than the 5 s this client waits');
    expect(apis.count('/graph')).toBe(1);
    // Through the tool: S2 is rate limited, so the lookup falls back to arXiv and notes why.
    const tool = paperTools(() => lib).find((t) => t.name === 'get_paper_with_tldr')!;
    const r = await tool.run({ paper_id: '2307.03172' }, ctx);
    expect(r.isError).toBeFalsy();
    expect(r.content).toContain('[2307.03172] Lost in the Middle: How Language Models Use Long Contexts');
    expect(r.content).toContain('Semantic Scholar lookup failed: rate limited (HTTP 429)');
  });

  it('backs off without Retry-After, for a bounded number of attempts', async () => {
    apis.sticky.s2 = { status: 429 };
    const lib = new ResearchLibrary(config());
    await expect(lib.s2.search('lost in the middle', 3)).rejects.toMatchObject({ kind: 'rate-limited', message: 'rate limited (HTTP 429) after 3 attempts' });
    expect(apis.count('/graph')).toBe(3);
  });

  it('retries a 503 and succeeds; does not cache failures', async () => {
    apis.overrides.s2.push({ status: 503, body: '{"message":"Service Unavailable"}' });
    const lib = new ResearchLibrary(config());
    expect((await lib.s2.search('lost in the middle', 3))[0]!.arxivId).toBe('2307.03172');
    expect(apis.count('/graph')).toBe(2);
  });

  it('times out a hung server per attempt, and bounds the response size', async () => {
    apis.sticky.arxiv = { status: 200, hang: true };
    const http = new HttpClient({ ...FAST, timeoutMs: 200, maxAttempts: 2 });
    await expect(http.get(`${apis.url}/api/query?id_list=2307.03172`)).rejects.toMatchObject({ kind: 'timeout' });
    expect(apis.count('/api')).toBe(2);
    apis.reset();
    apis.sticky.arxiv = { status: 200, body: 'x'.repeat(5000) };
    const small = new HttpClient({ ...FAST, maxBodyBytes: 1000 });
    await expect(small.get(`${apis.url}/api/query?id_list=2307.03172`)).rejects.toMatchObject({ kind: 'too-large' });
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe('arXiv client', () => {
  it('parses Atom entries: id without version, squashed title, decoded entities, authors, year', async () => {
    const lib = new ResearchLibrary(config());
    const [p] = await lib.arxiv.search('lost middle', 5);
    expect(p).toMatchObject({
      arxivId: '2307.03172',
      title: 'Lost in the Middle: How Language Models Use Long Contexts',
      abstract: 'Where & how models read long inputs: accuracy falls by 20% mid-context.',
      authors: ['Nelson F. Liu', 'Kevin Lin', 'John Hewitt'],
      year: 2023,
      venue: 'TACL 2024',
      source: 'arxiv',
    });
    expect(apis.requests[0]!.query.get('search_query')).toBe('all:lost AND all:middle');
    const feed = parseArxivFeed(atomFeed([ARXIV_LOST]));
    expect(feed).toMatchObject({ totalResults: 1, errors: [], entries: [{ version: 'v2', primaryCategory: 'cs.CL' }] });
    expect(() => parseArxivFeed('<html>rate limited</html>')).toThrow(/not an Atom feed/);
    expect(parseArxivFeed(atomFeed([ARXIV_ERROR])).errors).toEqual(['incorrect id format for 1234.5']);
  });

  it('looks ids up: known ones come back, unknown ones are absent', async () => {
    const lib = new ResearchLibrary(config());
    expect((await lib.arxiv.byIds(['2307.03172', '2307.99999'])).map((p) => p.arxivId)).toEqual(['2307.03172']);
    expect(apis.requests[0]!.query.get('id_list')).toBe('2307.03172,2307.99999');
  });
});

describe('offline-first library and tools with network access', () => {
  it('with the network off, makes no request at all and says why', async () => {
    const lib = new ResearchLibrary(config({ allowNetwork: false }));
    await expect(lib.s2.paper('2307.03172')).rejects.toBeInstanceOf(NetworkDisabledError);
    expect(await lib.idStatus('2307.03172')).toBe('unverified');
    const search = paperTools(() => lib)[0]!;
    const r = await search.run({ query: 'lost in the middle long contexts', limit: 5 }, ctx);
    expect(r.content).toContain('Online search is unavailable in this run');
    expect(apis.requests).toHaveLength(0);
  });

  it('web_search merges corpus hits with S2 results, and a corpus lookup never touches the network', async () => {
    const lib = new ResearchLibrary(config());
    const [search, tldr] = paperTools(() => lib);
    const r = await search!.run({ query: 'lost in the middle transformer memory', limit: 6 }, ctx);
    expect(r.content).toMatch(/Offline corpus \(\d\):\n\[/);
    expect(r.content).toContain('Online results (1):\n[2307.03172] Lost in the Middle: How Language Models Use Long Contexts (2023) — Nelson F. Liu, Kevin Lin — cited by 42');
    const before = apis.requests.length;
    const t = await tldr!.run({ paper_id: '1901.02860' }, ctx);
    expect(t.content).toContain('[1901.02860] Transformer-XL');
    expect(apis.requests.length).toBe(before);
  });

  it('falls back to arXiv search when S2 keeps failing', async () => {
    apis.sticky.s2 = { status: 500, body: '{"message":"Internal Server Error"}' };
    const lib = new ResearchLibrary(config());
    const r = await paperTools(() => lib)[0]!.run({ query: 'lost in the middle', limit: 5 }, ctx);
    expect(r.content).toContain('Semantic Scholar search failed: server error (HTTP 500) after 3 attempts');
    expect(r.content).toContain('Showing arXiv search results instead.');
    expect(r.content).toContain('[2307.03172] Lost in the Middle');
  });

  it('a paper seen online is remembered: later, offline, its id counts as real and it can be read', async () => {
    const online = new ResearchLibrary(config());
    const tools = paperTools(() => online);
    const r = await tools[1]!.run({ paper_id: '2307.03172' }, ctx);
    expect(r.content).toContain(`TLDR: ${S2_PAPER.tldr.text}`);
    const results = await tools[3]!.run({ paper_id: '2307.03172' }, ctx);
    expect(results.content).toContain('The results section is not available for papers outside the offline corpus');
    expect(results.content).toContain('- Accuracy drops by 20% when the answer sits mid-context.');
    const refs = await tools[4]!.run({ paper_id: '2307.03172', limit: 5 }, ctx);
    expect(refs.content).toContain('References of 2307.03172 (1):\n[1901.02860] Transformer-XL');

    const offline = new ResearchLibrary(config({ allowNetwork: false }));
    expect(await offline.idStatus('2307.03172')).toBe('cache');
    const again = await paperTools(() => offline)[1]!.run({ paper_id: '2307.03172' }, ctx);
    expect(again.content).toContain(`TLDR: ${S2_PAPER.tldr.text}`); // the S2 answer itself is cached
  });

  it('an id that does not exist is reported as such (S2 404, then arXiv has no entry)', async () => {
    const lib = new ResearchLibrary(config());
    const r = await paperTools(() => lib)[1]!.run({ paper_id: '2401.00001' }, ctx);
    expect(r.isError).toBe(true);
    expect(r.content).toContain('No paper with arXiv id 2401.00001 exists on arXiv.');
    expect(await lib.idStatus('2401.00001')).toBe('missing');
    expect(await lib.idStatus('2307.03172')).toBe('verified');
  });
});

describe('checking many cited ids at once', () => {
  it('answers corpus and cached ids locally and asks arXiv once for the rest', async () => {
    const lib = new ResearchLibrary(config());
    const m = await lib.idStatuses(['2401.00001', '2307.03172', '1901.02860', '2513.00001', '2307.03172v2']);
    expect(Object.fromEntries(m)).toEqual({ '2401.00001': 'missing', '2307.03172': 'verified', '1901.02860': 'corpus', '2513.00001': 'malformed', '2307.03172v2': 'verified' });
    expect(apis.count('/api')).toBe(1);
    expect(apis.count('/graph')).toBe(0);
    // The verified paper is now in the shared index; offline it counts as seen.
    expect(Object.fromEntries(await new ResearchLibrary(config({ allowNetwork: false })).idStatuses(['2307.03172', '2401.00001']))).toEqual({ '2307.03172': 'cache', '2401.00001': 'unverified' });
  });
});

describe('the cache under concurrency', () => {
  it('concurrent identical lookups from two libraries share results; entries are whole; no temp files remain', async () => {
    const a = new ResearchLibrary(config());
    const b = new ResearchLibrary(config());
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).s2.paper('2307.03172')));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    // In-flight requests are shared within a library: at most one network call per library.
    expect(apis.count('/graph')).toBeLessThanOrEqual(2);
    const files = (await fs.readdir(path.join(root, 'cache'), { recursive: true })).map(String);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files).toContain('.gitignore');
    for (const f of files.filter((f) => f.endsWith('.json'))) JSON.parse(await fs.readFile(path.join(root, 'cache', f), 'utf8'));
  });

  it('readers never see a partial entry while writers race on one key', async () => {
    const cache = new ResearchCache(path.join(root, 'race'));
    const req = { api: 'semantic-scholar', url: 'http://x/graph/v1/paper/ARXIV:1?fields=title' };
    const bodies = Array.from({ length: 30 }, (_, i) => JSON.stringify({ n: i, pad: 'y'.repeat(20_000 + i) }));
    const seen: Array<string | null> = [];
    await Promise.all([
      ...bodies.map((body) => cache.put(req, { status: 200, contentType: 'application/json', body })),
      ...Array.from({ length: 60 }, async () => seen.push((await cache.get(req))?.body ?? null)),
    ]);
    for (const s of seen) if (s !== null) expect(bodies).toContain(s);
    expect(bodies).toContain((await cache.get(req))!.body);
  });

  it('a corrupt entry is a miss and is fetched again', async () => {
    const lib = new ResearchLibrary(config());
    await lib.s2.paper('2307.03172');
    const dir = path.join(root, 'cache', 'responses');
    for (const f of (await fs.readdir(dir, { recursive: true })).map(String).filter((f) => f.endsWith('.json'))) await fs.writeFile(path.join(dir, f), '{"key": truncated');
    const fresh = new ResearchLibrary(config());
    expect((await fresh.s2.paper('2307.03172'))!.title).toBe(S2_PAPER.title);
    expect(apis.count('/graph')).toBe(2);
  });
});
