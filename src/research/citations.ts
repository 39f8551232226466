import { corpus, escapeRegExp } from './corpus/index.js';
import type { ResearchLibrary, IdStatus } from './library.js';
import { arxivIdsIn, type CorpusPaper, type Topic } from './types.js';

/**
 * Deterministic citation analysis shared by the research graders: which corpus papers a text cites, and
 * whether every arXiv id it names is real. Nothing here trusts the text; it only matches against the
 * corpus and the cache.
 */

export type CitedBy = 'id' | 'title' | 'alias' | 'author-year';

export interface CorpusCitation {
  paper: CorpusPaper;
  by: CitedBy;
}

function normalizeTitle(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

/** The first author's surname for author-year matching, or null for collective authors ("Gemini Team, Google"). */
function firstSurname(p: CorpusPaper): string | null {
  const first = p.authors[0]!;
  if (/team|collaboration|^openai$/i.test(first)) return null;
  const parts = first.split(/\s+/);
  return parts[parts.length - 1]!;
}

const matchers = new Map<string, Array<(text: string, norm: string) => CitedBy | null>>();

function matchersFor(p: CorpusPaper): Array<(text: string, norm: string) => CitedBy | null> {
  let m = matchers.get(p.arxivId);
  if (m) return m;
  const title = normalizeTitle(p.title);
  // A short title ("World Models") is also a generic phrase: it counts only through its case-sensitive alias.
  const titleUsable = title.split(' ').length >= 4;
  // Titles before a colon ("RT-1: Robotics Transformer...") are names too; long enough ones count.
  const shortTitle = p.title.includes(':') ? normalizeTitle(p.title.split(':')[0]!) : null;
  const aliasRes = p.aliases.map((a) => new RegExp(`(?<![\\w-])${escapeRegExp(a)}s?(?![\\w-])`));
  const surname = firstSurname(p);
  // "Surname et al. (2019)", "Surname and Other, 2019": the year within a short span on the same line.
  const authorYear = surname ? new RegExp(`(?<![\\w-])${escapeRegExp(surname)}(?![\\w-])[^\\n]{0,40}?\\b${p.year}\\b`) : null;
  m = [
    (_t, norm) => ((titleUsable && norm.includes(` ${title} `)) || (shortTitle && shortTitle.length >= 12 && norm.includes(` ${shortTitle} `)) ? 'title' : null),
    (t) => (aliasRes.some((re) => re.test(t)) ? 'alias' : null),
    (t) => (authorYear?.test(t) ? 'author-year' : null),
  ];
  matchers.set(p.arxivId, m);
  return m;
}

/** Corpus papers the text cites, by arXiv id, full title, a proper-name alias, or "Surname ... year". */
export function citedCorpusPapers(text: string, topic?: Topic): CorpusCitation[] {
  const ids = new Set(arxivIdsIn(text));
  const norm = ` ${normalizeTitle(text)} `;
  const out: CorpusCitation[] = [];
  for (const p of corpus().papers) {
    if (topic && p.topic !== topic) continue;
    if (ids.has(p.arxivId)) {
      out.push({ paper: p, by: 'id' });
      continue;
    }
    for (const match of matchersFor(p)) {
      const by = match(text, norm);
      if (by) {
        out.push({ paper: p, by });
        break;
      }
    }
  }
  return out;
}

export interface IdAudit {
  /** Every arXiv-style id in the text with its status. */
  ids: Array<{ id: string; status: IdStatus }>;
  /** Ids that are not confirmed real: missing, malformed, or unverifiable here. */
  bad: Array<{ id: string; status: IdStatus }>;
}

/** Checks every arXiv-style id in `text` against the corpus, the cache, and (when allowed) arXiv. */
export async function auditArxivIds(text: string, lib: ResearchLibrary, signal?: AbortSignal): Promise<IdAudit> {
  const found = arxivIdsIn(text);
  const statuses = await lib.idStatuses(found, signal);
  const ids: IdAudit['ids'] = found.map((id) => ({ id, status: statuses.get(id)! }));
  return { ids, bad: ids.filter((x) => x.status === 'missing' || x.status === 'malformed' || x.status === 'unverified') };
}

/** A one-line description of an audit's failures, for a check's detail. */
export function describeBadIds(bad: IdAudit['bad']): string {
  const why: Record<IdStatus, string> = {
    missing: 'does not exist on arXiv',
    malformed: 'is not a valid arXiv id',
    unverified: 'is in neither the corpus nor the cache (and could not be checked online)',
    corpus: '',
    cache: '',
    verified: '',
  };
  return bad.map((b) => `${b.id} ${why[b.status]}`).join('; ');
}

/**
 * Phrases that address the grader rather than the reader ("ignore the rubric", "award full marks"). A
 * review or proposal has no reason to contain them; their presence is an attempt to game an LLM judge.
 */
const GRADER_ADDRESS = [
  /\bignore\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier|preceding)?\s*(?:instructions?|rubric|criteria|grading)/i,
  /\b(?:award|give|assign|grant)\s+(?:this|me|it|us|the)(?:\s+(?:submission|review|proposal|answer|ideas?))?\s+(?:a\s+)?(?:full|maximum|max|perfect|top|all(?:\s+the)?)\s+(?:marks|points|scores?|credit)/i,
  /\b(?:award|give|assign|grant)\s+(?:full|maximum|max|perfect|top)\s+(?:marks|points|scores?|credit)\s+(?:to|for)\s+(?:this|every|each|all|the\s+(?:submission|review|proposal|answer|ideas?))/i,
  /\b(?:dear|note\s+to\s+(?:the)?)\s*(?:grader|judge|evaluator|reviewer\s+model)\b/i,
  /\bas\s+(?:the|an?)\s+(?:grader|judge|evaluator)\s*,?\s*you\s+(?:must|should|will)\b/i,
  /\b(?:score|rate|grade)\s+(?:this|it)\s+(?:as\s+)?(?:10\/10|10 out of 10|exceptional|a perfect)/i,
  /\bsystem\s+(?:prompt|override|instruction)\s*:/i,
];

/** Lines of `text` that address the grader, trimmed; empty when none. */
export function graderAddressing(text: string): string[] {
  const hits: string[] = [];
  for (const line of text.split('\n')) {
    if (GRADER_ADDRESS.some((re) => re.test(line))) hits.push(line.trim().slice(0, 160));
  }
  return hits;
}
