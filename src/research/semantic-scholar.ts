import { z } from 'zod';
import type { CachedFetcher } from './fetcher.js';
import { normalizeArxivId, type PaperRecord } from './types.js';

/**
 * Client for the Semantic Scholar Academic Graph API (https://api.semanticscholar.org/graph/v1):
 * paper search, paper details (with the TLDR), and a paper's references. Responses are parsed leniently
 * (S2 omits or nulls fields freely) and turned into PaperRecords.
 */

const AuthorSchema = z.object({ authorId: z.string().nullish(), name: z.string().nullish() });
const S2PaperSchema = z.object({
  paperId: z.string().nullish(),
  externalIds: z.record(z.string(), z.union([z.string(), z.number()]).nullish()).nullish(),
  title: z.string().nullish(),
  abstract: z.string().nullish(),
  year: z.number().nullish(),
  venue: z.string().nullish(),
  authors: z.array(AuthorSchema).nullish(),
  citationCount: z.number().nullish(),
  tldr: z.object({ model: z.string().nullish(), text: z.string().nullish() }).nullish(),
});
export type S2Paper = z.infer<typeof S2PaperSchema>;

const S2SearchSchema = z.object({
  total: z.number().nullish(),
  offset: z.number().nullish(),
  next: z.number().nullish(),
  data: z.array(S2PaperSchema).nullish(),
});

const S2ReferencesSchema = z.object({
  offset: z.number().nullish(),
  next: z.number().nullish(),
  data: z.array(z.object({ citedPaper: S2PaperSchema.nullish() })).nullish(),
});

const SEARCH_FIELDS = 'paperId,externalIds,title,year,authors,venue,abstract,citationCount';
const DETAIL_FIELDS = `${SEARCH_FIELDS},tldr`;
const REFERENCE_FIELDS = 'paperId,externalIds,title,year,authors';

export class SemanticScholarError extends Error {
  override name = 'SemanticScholarError';
}

/** The S2 path form of a paper id: "ARXIV:<id>" for arXiv ids, the 40-hex paperId, or an S2-prefixed id as given. */
export function s2PaperRef(id: string): string | null {
  const s = id.trim();
  const arxiv = normalizeArxivId(s);
  if (arxiv) return `ARXIV:${arxiv}`;
  const bare = s.replace(/^S2:/i, '');
  if (bare.split('/').includes('..')) return null; // an id is never a path
  if (/^[0-9a-f]{40}$/i.test(bare)) return bare.toLowerCase();
  if (/^(CorpusId|DOI|ACL|PMID|PMCID|MAG|URL):\S+$/i.test(bare)) return bare;
  return null;
}

/** The id as a URL path segment; S2 expects the prefix colon and DOI slashes unescaped. */
function pathRef(ref: string): string {
  return ref.split('/').map((part) => encodeURIComponent(part).replace(/%3A/gi, ':')).join('/');
}

function s2ToRecord(p: S2Paper): PaperRecord {
  const ext = p.externalIds ?? {};
  const arxivRaw = ext.ArXiv ?? ext.arXiv ?? ext.ARXIV;
  return {
    arxivId: arxivRaw !== undefined && arxivRaw !== null ? normalizeArxivId(String(arxivRaw)) : null,
    s2Id: p.paperId ?? null,
    title: (p.title ?? '(untitled)').trim(),
    authors: (p.authors ?? []).map((a) => a.name ?? '').filter(Boolean),
    year: p.year ?? null,
    venue: p.venue || null,
    abstract: p.abstract ?? null,
    tldr: p.tldr?.text ?? null,
    citationCount: p.citationCount ?? null,
    source: 'semantic-scholar',
  };
}

function parseJson<T>(schema: z.ZodType<T>, body: string, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new SemanticScholarError(`Semantic Scholar returned a response that is not JSON for ${what}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new SemanticScholarError(`Semantic Scholar returned an unexpected shape for ${what}: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

function errorMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown; message?: unknown };
    return String(j.error ?? j.message ?? body).slice(0, 300);
  } catch {
    return body.slice(0, 300);
  }
}

export class SemanticScholarClient {
  constructor(
    private readonly fetcher: CachedFetcher,
    readonly baseUrl: string,
  ) {}

  private url(pathname: string, params: Record<string, string | number>): string {
    const u = new URL(this.baseUrl.replace(/\/+$/, '') + pathname);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
    return u.toString();
  }

  async search(query: string, limit: number, signal?: AbortSignal): Promise<PaperRecord[]> {
    const res = await this.fetcher.get(this.url('/paper/search', { query, limit, fields: SEARCH_FIELDS }), signal);
    if (res.status !== 200) throw new SemanticScholarError(`Semantic Scholar search failed (HTTP ${res.status}): ${errorMessage(res.body)}`);
    return (parseJson(S2SearchSchema, res.body, 'a search').data ?? []).map(s2ToRecord);
  }

  /** The paper, or null when S2 does not know the id (HTTP 404). */
  async paper(id: string, signal?: AbortSignal): Promise<PaperRecord | null> {
    const ref = s2PaperRef(id);
    if (!ref) throw new SemanticScholarError(`"${id}" is not a paper id Semantic Scholar accepts (use an arXiv id such as 1901.02860, or a 40-character S2 paperId)`);
    const res = await this.fetcher.get(this.url(`/paper/${pathRef(ref)}`, { fields: DETAIL_FIELDS }), signal);
    if (res.status === 404) return null;
    if (res.status !== 200) throw new SemanticScholarError(`Semantic Scholar paper lookup failed (HTTP ${res.status}): ${errorMessage(res.body)}`);
    return s2ToRecord(parseJson(S2PaperSchema, res.body, `paper ${id}`));
  }

  /** Papers cited by the paper, or null when S2 does not know it. */
  async references(id: string, limit: number, signal?: AbortSignal): Promise<PaperRecord[] | null> {
    const ref = s2PaperRef(id);
    if (!ref) throw new SemanticScholarError(`"${id}" is not a paper id Semantic Scholar accepts`);
    const res = await this.fetcher.get(this.url(`/paper/${pathRef(ref)}/references`, { fields: REFERENCE_FIELDS, limit }), signal);
    if (res.status === 404) return null;
    if (res.status !== 200) throw new SemanticScholarError(`Semantic Scholar references lookup failed (HTTP ${res.status}): ${errorMessage(res.body)}`);
    return (parseJson(S2ReferencesSchema, res.body, `references of ${id}`).data ?? [])
      .map((r) => r.citedPaper)
      .filter((p): p is S2Paper => Boolean(p && (p.title || p.paperId)))
      .map(s2ToRecord);
  }
}
