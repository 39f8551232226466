import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * On-disk cache of research API responses, shared by every trial and run on a machine.
 *
 * - Content-addressed: an entry's file name is the SHA-256 of its canonical request (API, method, URL with
 *   sorted query, body). Credentials are never part of the key or the entry.
 * - Atomic: entries are written to a unique temporary file in the same folder, then renamed over the
 *   target, so a concurrent reader sees either nothing or a complete entry. Two trials fetching the same
 *   request both write identical content; whichever rename lands last wins, harmlessly.
 * - Self-checking: an entry that does not parse, or whose stored key differs from its name, is a miss.
 *
 * Layout under the root: responses/<2 hex>/<64 hex>.json, plus papers/<arxiv id>.json, an index of every
 * paper seen in a response, so graders can ask "has this arXiv id been seen" without knowing the request.
 */
const CacheEntrySchema = z.object({
  key: z.string().regex(/^[0-9a-f]{64}$/),
  request: z.object({ api: z.string(), method: z.string(), url: z.string(), body: z.string().optional() }),
  status: z.int(),
  contentType: z.string(),
  body: z.string(),
  fetchedAt: z.string(),
});
export type CacheEntry = z.infer<typeof CacheEntrySchema>;

const CachedPaperSchema = z.object({
  arxivId: z.string(),
  s2Id: z.string().nullable(),
  title: z.string(),
  authors: z.array(z.string()),
  year: z.number().nullable(),
  abstract: z.string().nullable(),
  tldr: z.string().nullable(),
  source: z.enum(['semantic-scholar', 'arxiv']),
  seenAt: z.string(),
});
export type CachedPaper = z.infer<typeof CachedPaperSchema>;

export interface CacheRequest {
  /** Which API ("semantic-scholar", "arxiv"): two APIs never share a key. */
  api: string;
  method?: string;
  url: string;
  body?: string;
}

/** The URL with its query parameters sorted, so the same request always has the same key. */
export function canonicalUrl(url: string): string {
  const u = new URL(url);
  const params = [...u.searchParams.entries()].sort(([a, av], [b, bv]) => (a === b ? av.localeCompare(bv) : a.localeCompare(b)));
  u.search = '';
  for (const [k, v] of params) u.searchParams.append(k, v);
  u.hash = '';
  return u.toString();
}

export function cacheKey(req: CacheRequest): string {
  const canon = JSON.stringify([req.api, (req.method ?? 'GET').toUpperCase(), canonicalUrl(req.url), req.body ?? '']);
  return createHash('sha256').update(canon).digest('hex');
}

/** File-name-safe form of a canonical arXiv id ("cs/0501001" -> "cs_0501001"). */
function paperFile(arxivId: string): string {
  return arxivId.replace(/[^\w.-]/g, '_') + '.json';
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  // pid + random: concurrent writers in one process or many never share a temporary file.
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, text, { flag: 'wx' });
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
}

export class ResearchCache {
  constructor(readonly root: string) {}

  private responseFile(key: string): string {
    return path.join(this.root, 'responses', key.slice(0, 2), `${key}.json`);
  }

  /** The cached entry for a request, or null (missing, unreadable or corrupt). */
  async get(req: CacheRequest): Promise<CacheEntry | null> {
    const key = cacheKey(req);
    let text: string;
    try {
      text = await fs.readFile(this.responseFile(key), 'utf8');
    } catch {
      return null;
    }
    try {
      const entry = CacheEntrySchema.parse(JSON.parse(text));
      return entry.key === key ? entry : null;
    } catch {
      return null;
    }
  }

  async put(req: CacheRequest, res: { status: number; contentType: string; body: string }): Promise<CacheEntry> {
    const key = cacheKey(req);
    const entry: CacheEntry = {
      key,
      request: { api: req.api, method: (req.method ?? 'GET').toUpperCase(), url: canonicalUrl(req.url), ...(req.body !== undefined ? { body: req.body } : {}) },
      status: res.status,
      contentType: res.contentType,
      body: res.body,
      fetchedAt: new Date().toISOString(),
    };
    await this.ensureRoot();
    await writeAtomic(this.responseFile(key), JSON.stringify(entry));
    return entry;
  }

  /** Records papers seen in API responses (by arXiv id), for lookups and the graders' "does this id exist" check. */
  async rememberPapers(papers: Omit<CachedPaper, 'seenAt'>[]): Promise<void> {
    if (papers.length === 0) return;
    await this.ensureRoot();
    const seenAt = new Date().toISOString();
    await Promise.all(papers.map((p) => writeAtomic(path.join(this.root, 'papers', paperFile(p.arxivId)), JSON.stringify({ ...p, seenAt }))));
  }

  async paper(arxivId: string): Promise<CachedPaper | null> {
    try {
      const parsed = CachedPaperSchema.safeParse(JSON.parse(await fs.readFile(path.join(this.root, 'papers', paperFile(arxivId)), 'utf8')));
      return parsed.success && parsed.data.arxivId === arxivId ? parsed.data : null;
    } catch {
      return null;
    }
  }

  private rootReady: Promise<void> | null = null;
  /** Creates the root with a .gitignore of "*", so a cache under the repository is never committed. */
  private ensureRoot(): Promise<void> {
    this.rootReady ??= (async () => {
      await fs.mkdir(this.root, { recursive: true });
      const ignore = path.join(this.root, '.gitignore');
      await fs.writeFile(ignore, '*\n', { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
    })().catch((e) => {
      this.rootReady = null;
      throw e;
    });
    return this.rootReady;
  }
}
