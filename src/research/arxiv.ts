import type { CachedFetcher } from './fetcher.js';
import { normalizeArxivId, type PaperRecord } from './types.js';

/**
 * Client for the arXiv API (http://export.arxiv.org/api/query), which answers in Atom XML. The parser
 * reads only the elements arXiv's feed uses (entry, id, title, summary, published, author/name,
 * arxiv:journal_ref) and decodes XML entities; it needs no XML library.
 */

export class ArxivError extends Error {
  override name = 'ArxivError';
}

export interface ArxivEntry {
  arxivId: string;
  version: string | null;
  title: string;
  summary: string;
  authors: string[];
  published: string | null;
  journalRef: string | null;
  primaryCategory: string | null;
}

export interface ArxivFeed {
  totalResults: number | null;
  entries: ArxivEntry[];
  /** Error entries arXiv sends for a malformed query or id (its <summary> text). */
  errors: string[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXml(s: string): string {
  return s
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_m, c: string) => c)
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    });
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

function element(xml: string, name: string): string | null {
  const m = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? decodeXml(m[1]!) : null;
}

function attribute(xml: string, name: string, attr: string): string | null {
  const m = new RegExp(`<${name}\\s[^>]*\\b${attr}="([^"]*)"`).exec(xml);
  return m ? decodeXml(m[1]!) : null;
}

/** Parses an arXiv Atom feed. Throws ArxivError when the text is not a feed at all. */
export function parseArxivFeed(xml: string): ArxivFeed {
  if (!/<feed[\s>]/.test(xml)) throw new ArxivError('arXiv returned something that is not an Atom feed');
  const total = element(xml, 'opensearch:totalResults');
  const entries: ArxivEntry[] = [];
  const errors: string[] = [];
  for (const m of xml.matchAll(/<entry(?:\s[^>]*)?>([\s\S]*?)<\/entry>/g)) {
    const body = m[1]!;
    const idUrl = squash(element(body, 'id') ?? '');
    if (/\/api\/errors/.test(idUrl)) {
      errors.push(squash(element(body, 'summary') ?? 'unknown arXiv API error'));
      continue;
    }
    const idMatch = /arxiv\.org\/abs\/(.+?)(v\d+)?$/.exec(idUrl);
    const arxivId = idMatch ? normalizeArxivId(idMatch[1]!) : null;
    const title = squash(element(body, 'title') ?? '');
    // arXiv answers an id_list lookup of an unknown id with an entry that has no title.
    if (!arxivId || !title) continue;
    entries.push({
      arxivId,
      version: idMatch?.[2] ?? null,
      title,
      summary: squash(element(body, 'summary') ?? ''),
      authors: [...body.matchAll(/<author(?:\s[^>]*)?>([\s\S]*?)<\/author>/g)].map((a) => squash(element(a[1]!, 'name') ?? '')).filter(Boolean),
      published: element(body, 'published')?.trim() ?? null,
      journalRef: element(body, 'arxiv:journal_ref') ? squash(element(body, 'arxiv:journal_ref')!) : null,
      primaryCategory: attribute(body, 'arxiv:primary_category', 'term'),
    });
  }
  return { totalResults: total !== null && /^\d+$/.test(total.trim()) ? Number(total.trim()) : null, entries, errors };
}

function arxivToRecord(e: ArxivEntry): PaperRecord {
  const year = e.published && /^\d{4}/.test(e.published) ? Number(e.published.slice(0, 4)) : null;
  return {
    arxivId: e.arxivId,
    s2Id: null,
    title: e.title,
    authors: e.authors,
    year,
    venue: e.journalRef,
    abstract: e.summary || null,
    tldr: null,
    source: 'arxiv',
  };
}

export class ArxivClient {
  constructor(
    private readonly fetcher: CachedFetcher,
    readonly baseUrl: string,
  ) {}

  private async feed(params: Record<string, string | number>, signal?: AbortSignal): Promise<ArxivFeed> {
    const u = new URL(this.baseUrl.replace(/\/+$/, '') + '/query');
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
    const res = await this.fetcher.get(u.toString(), signal);
    if (res.status !== 200) throw new ArxivError(`arXiv API request failed (HTTP ${res.status})`);
    const feed = parseArxivFeed(res.body);
    if (feed.errors.length && feed.entries.length === 0) throw new ArxivError(`arXiv API error: ${feed.errors.join('; ')}`);
    return feed;
  }

  /** Free-text search over all fields. */
  async search(query: string, limit: number, signal?: AbortSignal): Promise<PaperRecord[]> {
    const terms = query.replace(/["()]/g, ' ').split(/\s+/).filter(Boolean).map((t) => `all:${t}`).join(' AND ');
    if (!terms) return [];
    const feed = await this.feed({ search_query: terms, start: 0, max_results: limit }, signal);
    return feed.entries.map(arxivToRecord);
  }

  /** The papers with these ids that exist (unknown ids are simply absent). */
  async byIds(ids: string[], signal?: AbortSignal): Promise<PaperRecord[]> {
    const norm = [...new Set(ids.map((i) => normalizeArxivId(i)).filter((i): i is string => i !== null))].sort();
    if (norm.length === 0) return [];
    const feed = await this.feed({ id_list: norm.join(','), max_results: norm.length }, signal);
    return feed.entries.filter((e) => norm.includes(e.arxivId)).map(arxivToRecord);
  }
}
