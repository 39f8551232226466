import { z } from 'zod';
import { CorpusPaperSchema, TopicInfoSchema, normalizeArxivId, type CorpusPaper, type Topic, type TopicInfo } from '../types.js';
import { MEMORY_PAPERS, MEMORY_TOPIC } from './memory.js';
import { RL_PAPERS, RL_TOPIC } from './rl.js';
import { ROBOTICS_PAPERS, ROBOTICS_TOPIC } from './robotics.js';

/** The offline corpus: a few real papers per topic, so the research tasks run without network. */
export interface Corpus {
  topics: Record<Topic, TopicInfo>;
  papers: CorpusPaper[];
  byId: Map<string, CorpusPaper>;
  byTopic(topic: Topic): CorpusPaper[];
}

function build(): Corpus {
  const topics = {} as Record<Topic, TopicInfo>;
  for (const t of [MEMORY_TOPIC, RL_TOPIC, ROBOTICS_TOPIC]) topics[t.id] = TopicInfoSchema.parse(t);
  const parsed = z.array(CorpusPaperSchema).safeParse([...MEMORY_PAPERS, ...RL_PAPERS, ...ROBOTICS_PAPERS]);
  if (!parsed.success) throw new Error(`src/research/corpus: invalid paper entry:\n${z.prettifyError(parsed.error)}`);
  const papers = parsed.data;
  const byId = new Map<string, CorpusPaper>();
  for (const p of papers) {
    if (byId.has(p.arxivId)) throw new Error(`src/research/corpus: duplicate arXiv id ${p.arxivId}`);
    if (!topics[p.topic].approaches.some((a) => a.id === p.approach)) {
      throw new Error(`src/research/corpus: ${p.arxivId}: approach "${p.approach}" is not one of topic ${p.topic}'s approaches`);
    }
    byId.set(p.arxivId, p);
  }
  for (const p of papers) {
    for (const dep of p.buildsOn) {
      if (!byId.has(dep)) throw new Error(`src/research/corpus: ${p.arxivId}: buildsOn "${dep}" is not in the corpus`);
    }
  }
  return { topics, papers, byId, byTopic: (topic) => papers.filter((p) => p.topic === topic) };
}

let cached: Corpus | null = null;
/** The validated corpus (built once). */
export function corpus(): Corpus {
  return (cached ??= build());
}

/** The corpus paper for an id in any accepted spelling ("arXiv:1901.02860v3", an abs URL...), or undefined. */
export function corpusPaper(id: string): CorpusPaper | undefined {
  const norm = normalizeArxivId(id);
  return norm ? corpus().byId.get(norm) : undefined;
}

const STOP = new Set(['a', 'an', 'and', 'the', 'of', 'for', 'in', 'on', 'to', 'with', 'by', 'via', 'from', 'is', 'are', 'at', 'as', 'or', 'how', 'what', 'paper', 'papers']);

/** Lower-case word tokens, stop words dropped. */
export function tokens(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+(?:-[a-z0-9]+)*/g) ?? []).filter((t) => !STOP.has(t) && t.length > 1);
}

/**
 * Ranks corpus papers for a free-text query: a small BM25-like score over title and aliases (weighted up),
 * tldr and summary. Deterministic, so tool output and tests are stable.
 */
export function searchCorpus(query: string, opts: { topic?: Topic; limit?: number } = {}): CorpusPaper[] {
  const { papers } = corpus();
  const pool = opts.topic ? papers.filter((p) => p.topic === opts.topic) : papers;
  const q = [...new Set(tokens(query))];
  if (q.length === 0) return [];
  const docs = pool.map((p) => ({
    p,
    strong: tokens(`${p.title} ${p.aliases.join(' ')}`),
    weak: tokens(`${p.tldr} ${p.summary} ${p.approach.replace(/-/g, ' ')}`),
  }));
  const df = new Map<string, number>();
  for (const d of docs) for (const t of new Set([...d.strong, ...d.weak])) df.set(t, (df.get(t) ?? 0) + 1);
  const n = docs.length;
  const scored = docs.map((d) => {
    let score = 0;
    for (const t of q) {
      const idf = Math.log(1 + (n + 1) / ((df.get(t) ?? 0) + 0.5));
      const tfStrong = d.strong.filter((x) => x === t).length;
      const tfWeak = d.weak.filter((x) => x === t).length;
      const tf = 3 * tfStrong + tfWeak;
      score += idf * (tf / (tf + 1.2));
    }
    // An exact alias or id mention ("RT-2", "2501.00663") is the strongest signal.
    const lowered = query.toLowerCase();
    if (d.p.aliases.some((a) => new RegExp(`(^|[^a-z0-9])${escapeRegExp(a.toLowerCase())}([^a-z0-9]|$)`).test(lowered))) score += 10;
    if (lowered.includes(d.p.arxivId)) score += 20;
    return { p: d.p, score };
  });
  return scored
    .filter((s) => s.score > 0.5)
    .sort((a, b) => b.score - a.score || a.p.arxivId.localeCompare(b.p.arxivId))
    .slice(0, opts.limit ?? 8)
    .map((s) => s.p);
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
