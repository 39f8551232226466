import { z } from 'zod';

/** The research topics the corpus covers; samples of the research tasks are named after them. */
export const TOPICS = ['memory', 'rl', 'robotics'] as const;
export const TopicSchema = z.enum(TOPICS);
export type Topic = z.infer<typeof TopicSchema>;

/** New-style arXiv id (since 2007): YYMM.NNNN or YYMM.NNNNN, optional version. */
const NEW_ID = /^(\d{2})(\d{2})\.(\d{4,5})(v\d+)?$/;
/** Old-style arXiv id (before 2007): archive[.subject]/YYMMNNN, optional version. */
const OLD_ID = /^([a-z-]+(?:\.[A-Z]{2})?)\/(\d{7})(v\d+)?$/;

/** New-style ids anywhere in text ("2501.00663", "arXiv:2501.00663v2", inside an abs/pdf URL). */
const NEW_ID_IN_TEXT = /(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])/g;
/** Old-style ids only count with an arXiv marker before them: "cs/0501001" alone is too ambiguous. */
const OLD_ID_IN_TEXT = /(?:arxiv:\s*|arxiv\.org\/(?:abs|pdf)\/)([a-z-]+(?:\.[A-Z]{2})?\/\d{7})/gi;

/**
 * Canonical form of an arXiv id (no version, no prefix), or null when `raw` is not one.
 * Accepts "2501.00663", "2501.00663v2", "arXiv:2501.00663", "https://arxiv.org/abs/2501.00663v1", "cs/0501001".
 */
export function normalizeArxivId(raw: string): string | null {
  let s = raw.trim();
  s = s.replace(/^https?:\/\/(?:www\.|export\.)?arxiv\.org\/(?:abs|pdf)\//i, '').replace(/\.pdf$/i, '');
  s = s.replace(/^arxiv:\s*/i, '');
  const m = NEW_ID.exec(s);
  if (m) {
    const month = Number(m[2]);
    if (month < 1 || month > 12) return null;
    // Five-digit numbers began in 2015 (1501.00001); four digits before that.
    const year = Number(m[1]);
    if (m[3]!.length === 5 && year < 15) return null;
    if (m[3]!.length === 4 && year >= 15) return null;
    return `${m[1]}${m[2]}.${m[3]}`;
  }
  const o = OLD_ID.exec(s);
  if (o) return `${o[1]}/${o[2]}`;
  return null;
}

/** Every distinct arXiv id cited in a text, canonical, in order of first appearance. */
export function arxivIdsIn(text: string): string[] {
  const seen = new Set<string>();
  const found: Array<[number, string]> = [];
  for (const m of text.matchAll(NEW_ID_IN_TEXT)) found.push([m.index, m[1]!]);
  for (const m of text.matchAll(OLD_ID_IN_TEXT)) found.push([m.index, m[1]!]);
  found.sort((a, b) => a[0] - b[0]);
  for (const [, raw] of found) {
    // A malformed id (month 13, wrong digit count) is still an arXiv-style citation: kept raw so a grader can flag it.
    seen.add(normalizeArxivId(raw) ?? raw);
  }
  return [...seen];
}

/** One paper of the offline corpus. Every field is checked by tests; text fields are our own words. */
export const CorpusPaperSchema = z.object({
  arxivId: z.string().refine((s) => normalizeArxivId(s) === s, 'write a canonical arXiv id without version, e.g. "2501.00663"'),
  title: z.string().min(3),
  /** Leading authors as listed on the paper; `moreAuthors` when the list is cut short ("et al."). */
  authors: z.array(z.string().min(2)).min(1),
  moreAuthors: z.boolean().default(false),
  year: z.int().min(1990).max(2100),
  venue: z.string().optional(),
  topic: TopicSchema,
  /** Which of the topic's approaches (TopicInfo.approaches[].id) the paper belongs to. */
  approach: z.string().min(1),
  /** Proper names reviews use for the paper ("Transformer-XL", "RT-2"); matched as whole words, case-sensitive, so no generic phrases. */
  aliases: z.array(z.string().min(2)).default([]),
  /** Widely treated as a foundational work of its line. */
  seminal: z.boolean().default(false),
  /** One sentence. */
  tldr: z.string().min(20),
  /** What the paper does, a few sentences. */
  summary: z.string().min(50),
  /** The problem and the prior work the paper positions itself against. */
  introduction: z.string().min(50),
  /** Results the paper itself reports; every number here is one the paper states. */
  results: z.array(z.string().min(10)).min(1),
  /** Corpus papers this one builds on directly (curated, not its full reference list). */
  buildsOn: z.array(z.string()).default([]),
});
export type CorpusPaperInput = z.input<typeof CorpusPaperSchema>;
export type CorpusPaper = z.output<typeof CorpusPaperSchema>;

const ApproachSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  name: z.string().min(3),
  /** Lower-case phrases whose presence in a review shows the approach is discussed (a deterministic coverage proxy). */
  keywords: z.array(z.string().min(2)).min(1),
});

export const TopicInfoSchema = z.object({
  id: TopicSchema,
  title: z.string().min(3),
  /** The scope a review of this topic must cover. */
  approaches: z.array(ApproachSchema).min(3),
  /** Open problems, in our own words, for the idea-proposal literature digest. */
  openProblems: z.array(z.string().min(20)).min(2),
});
export type TopicInfo = z.infer<typeof TopicInfoSchema>;

/** A paper as any source (corpus, Semantic Scholar, arXiv) describes it; what the tools format for the model. */
export interface PaperRecord {
  /** Canonical arXiv id when known. */
  arxivId: string | null;
  /** Semantic Scholar paperId (40 hex) when known. */
  s2Id: string | null;
  title: string;
  authors: string[];
  moreAuthors?: boolean;
  year: number | null;
  venue?: string | null;
  abstract: string | null;
  tldr: string | null;
  citationCount?: number | null;
  source: 'corpus' | 'semantic-scholar' | 'arxiv';
}

/** The id a paper is cited by in tool output: arXiv id when it has one, else "S2:<paperId>". */
export function citeId(p: Pick<PaperRecord, 'arxivId' | 's2Id'>): string {
  return p.arxivId ?? (p.s2Id ? `S2:${p.s2Id}` : 'unknown');
}
