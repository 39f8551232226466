import { z } from 'zod';
import { defineTool, type ToolDef, type ToolResult } from '../agents/tool.js';
import { corpus } from './corpus/index.js';
import { defaultLibrary, type ResearchLibrary } from './library.js';
import { TOPICS, TopicSchema, citeId, type CorpusPaper, type PaperRecord, type Topic } from './types.js';

/** Most characters a paper tool returns; the model sees a note when output is cut. */
export const MAX_TOOL_CHARS = 12_000;
/** The literature tools return whole digests; still bounded. */
export const MAX_LITERATURE_CHARS = 40_000;

export function bound(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf('\n', max - 80);
  return `${text.slice(0, cut > max / 2 ? cut : max - 80)}\n[... output cut at ${max} characters; ask for less (a narrower query or a smaller limit) to see the rest ...]`;
}

function authorLine(authors: string[], more?: boolean): string {
  if (authors.length === 0) return 'unknown authors';
  const shown = authors.slice(0, 4).join(', ');
  return authors.length > 4 || more ? `${shown} et al.` : shown;
}

function oneLine(s: string | null | undefined, max = 400): string {
  const t = (s ?? '').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function briefRecord(r: PaperRecord): string {
  const head = `[${citeId(r)}] ${r.title} (${r.year ?? 'n.d.'}) — ${authorLine(r.authors, r.moreAuthors)}`;
  const extra = r.citationCount != null ? ` — cited by ${r.citationCount}` : '';
  const gist = r.tldr ?? r.abstract;
  return `${head}${extra}${gist ? `\n    ${oneLine(gist, 300)}` : ''}`;
}

function briefCorpus(p: CorpusPaper): string {
  return `[${p.arxivId}] ${p.title} (${p.year}) — ${authorLine(p.authors, p.moreAuthors)}\n    ${p.tldr}`;
}

const ok = (content: string, max = MAX_TOOL_CHARS): ToolResult => ({ content: bound(content, max) });
const fail = (content: string): ToolResult => ({ content: bound(content, MAX_TOOL_CHARS), isError: true });
const withNotes = (notes: string[]) => (notes.length ? `\n\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}` : '');

const PaperIdInput = z.object({
  paper_id: z
    .string()
    .min(4)
    .max(200)
    .describe('An arXiv id as shown in search results, e.g. "1901.02860" (also "arXiv:1901.02860v3" or an arxiv.org URL), or a 40-character Semantic Scholar paperId prefixed "S2:".'),
});

export type LibrarySource = () => ResearchLibrary;

/** The literature-review tools, reading through `lib` (by default the library configured by the environment). */
export function paperTools(lib: LibrarySource = defaultLibrary): ToolDef[] {
  const webSearch = defineTool({
    name: 'web_search',
    description:
      'Search for research papers (the offline corpus first, then Semantic Scholar or arXiv when network access is on). Returns ids, titles, years, authors and a one-line summary. Use the ids with the get_paper_* tools.',
    input: z.object({
      query: z.string().min(2).max(300).describe('Keywords, e.g. "retrieval augmented generation" or "sim-to-real domain randomization".'),
      limit: z.int().min(1).max(15).default(8).describe('Most results to return (default 8).'),
    }),
    async run({ query, limit }, ctx) {
      const r = await lib().search(query, limit, ctx.signal);
      if (r.corpus.length === 0 && r.online.length === 0) {
        const topics = TOPICS.map((t) => corpus().topics[t].title).join('; ');
        return ok(`No papers found for "${query}". The offline corpus covers: ${topics}. Try other keywords.${withNotes(r.notes)}`);
      }
      const parts: string[] = [];
      if (r.corpus.length) parts.push(`Offline corpus (${r.corpus.length}):\n${r.corpus.map(briefCorpus).join('\n')}`);
      if (r.online.length) parts.push(`Online results (${r.online.length}):\n${r.online.map(briefRecord).join('\n')}`);
      return ok(parts.join('\n\n') + withNotes(r.notes));
    },
  });

  const getPaperWithTldr = defineTool({
    name: 'get_paper_with_tldr',
    description: 'Details of one paper: title, authors, year, venue, a one-sentence TLDR and its abstract or summary.',
    input: PaperIdInput,
    async run({ paper_id }, ctx) {
      const r = await lib().paper(paper_id, ctx.signal);
      if (!r.ok) return fail(r.reason + withNotes(r.notes));
      const { record: p, corpus: cp } = r.value;
      const lines = [
        `[${citeId(p)}] ${p.title}`,
        `Authors: ${authorLine(p.authors, p.moreAuthors)}`,
        `Year: ${p.year ?? 'unknown'}${p.venue ? `   Venue: ${p.venue}` : ''}`,
        `TLDR: ${p.tldr ?? '(no TLDR available for this paper)'}`,
        `${cp ? 'Summary' : 'Abstract'}: ${p.abstract ?? '(no abstract available)'}`,
      ];
      if (cp) lines.push(`Area: ${corpus().topics[cp.topic].title} — ${corpus().topics[cp.topic].approaches.find((a) => a.id === cp.approach)?.name}`);
      return ok(lines.join('\n') + withNotes(r.notes));
    },
  });

  const getPaperIntroduction = defineTool({
    name: 'get_paper_introduction',
    description: "The paper's introduction in brief: the problem it addresses and the prior work it positions itself against (the authors' own view of the literature).",
    input: PaperIdInput,
    async run({ paper_id }, ctx) {
      const r = await lib().paper(paper_id, ctx.signal);
      if (!r.ok) return fail(r.reason + withNotes(r.notes));
      const { record: p, corpus: cp } = r.value;
      if (cp) {
        const builds = cp.buildsOn.map((d) => corpus().byId.get(d)!).map((d) => `[${d.arxivId}] ${d.title}`);
        return ok(
          `[${p.arxivId}] ${p.title}\n\nIntroduction (summary): ${cp.introduction}\n\nWhat the paper does: ${cp.summary}` +
            (builds.length ? `\n\nBuilds directly on (offline corpus):\n${builds.map((b) => `- ${b}`).join('\n')}` : ''),
        );
      }
      return ok(
        `[${citeId(p)}] ${p.title}\n\nThe introduction text is not available for papers outside the offline corpus; here is the abstract instead.\n\nAbstract: ${p.abstract ?? '(no abstract available)'}` +
          withNotes(r.notes),
      );
    },
  });

  const getPaperResults = defineTool({
    name: 'get_paper_results',
    description: 'The main quantitative results the paper reports (benchmarks, numbers, comparisons).',
    input: PaperIdInput,
    async run({ paper_id }, ctx) {
      const r = await lib().paper(paper_id, ctx.signal);
      if (!r.ok) return fail(r.reason + withNotes(r.notes));
      const { record: p, corpus: cp } = r.value;
      if (cp) return ok(`[${p.arxivId}] ${p.title}\n\nReported results:\n${cp.results.map((x) => `- ${x}`).join('\n')}`);
      // Outside the corpus only the abstract is available: show its sentences that state numbers.
      const sentences = (p.abstract ?? '').split(/(?<=[.!?])\s+/).filter((s) => /\d/.test(s));
      return ok(
        `[${citeId(p)}] ${p.title}\n\nThe results section is not available for papers outside the offline corpus. ` +
          (sentences.length
            ? `Sentences of the abstract that report numbers:\n${sentences.map((s) => `- ${s.trim()}`).join('\n')}`
            : 'The abstract states no numeric results.') +
          withNotes(r.notes),
      );
    },
  });

  const getPaperReferences = defineTool({
    name: 'get_paper_references',
    description: 'Papers cited by the given paper (its reference list from Semantic Scholar when reachable; offline, the corpus papers it builds on).',
    input: PaperIdInput.extend({ limit: z.int().min(1).max(50).default(20).describe('Most references to return (default 20).') }),
    async run({ paper_id, limit }, ctx) {
      const r = await lib().references(paper_id, limit, ctx.signal);
      if (!r.ok) return fail(r.reason + withNotes(r.notes));
      const { papers, curated } = r.value;
      if (papers.length === 0) return ok(`No references to show for ${paper_id}.${withNotes(r.notes)}`);
      return ok(`${curated ? 'Related corpus papers' : 'References'} of ${paper_id} (${papers.length}):\n${papers.map(briefRecord).join('\n')}${withNotes(r.notes)}`);
    },
  });

  return [webSearch, getPaperWithTldr, getPaperIntroduction, getPaperResults, getPaperReferences];
}

/** The literature digest of one topic: its scope, every corpus paper with id, results, and open problems. */
export function literatureDigest(topic: Topic): string {
  const info = corpus().topics[topic];
  const lines = [`# ${info.title} (topic "${topic}")`, ''];
  for (const a of info.approaches) {
    const papers = corpus().byTopic(topic).filter((p) => p.approach === a.id);
    if (papers.length === 0) continue;
    lines.push(`## ${a.name}`, '');
    for (const p of papers) {
      lines.push(`- [${p.arxivId}] ${p.title} (${p.year}), ${authorLine(p.authors, p.moreAuthors)}. ${p.tldr}`);
      for (const res of p.results) lines.push(`  - ${res}`);
    }
    lines.push('');
  }
  lines.push('## Open problems', '', ...info.openProblems.map((o) => `- ${o}`), '');
  return lines.join('\n');
}

/** The idea-proposal tools: the literature digests, plus web_search. */
export function literatureTools(lib: LibrarySource = defaultLibrary): ToolDef[] {
  const getAll = defineTool({
    name: 'get_all_literature',
    description: `Read the literature reviews of all topics (${TOPICS.join(', ')}): every paper with its id (cite these ids as grounding), key results, and open problems.`,
    input: z.object({}),
    async run() {
      return ok(TOPICS.map(literatureDigest).join('\n'), MAX_LITERATURE_CHARS);
    },
  });
  const getOne = defineTool({
    name: 'get_literature',
    description: 'Read the literature review of one topic: every paper with its id (cite these ids as grounding), key results, and open problems.',
    input: z.object({ topic: TopicSchema.describe(`One of: ${TOPICS.join(', ')}.`) }),
    async run({ topic }) {
      return ok(literatureDigest(topic), MAX_LITERATURE_CHARS);
    },
  });
  const webSearch = paperTools(lib)[0]!;
  return [getAll, getOne, webSearch];
}
