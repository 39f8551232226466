import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { arxivIdsIn, auditArxivIds, type Check, citedCorpusPapers, corpus, defaultLibrary, defineRubric, describeBadIds, type Grade, type GradeContext, graderAddressing, GraderInfraError, judgeWithRubric, type ResearchLibrary, type Topic, TopicSchema } from '../../src/task-api.js';

/**
 * Grading of a literature review: deterministic checks that need no model (they decide the verdict for
 * validate, oracle and nop), plus the seed's 10-point rubric judged by an LLM when a judge is available.
 */

/** The seed's rubric: coverage 5, seminal works 3, synthesis 2; pass at 7 of 10. */
export const rubric = defineRubric({
  id: 'literature-review',
  title: 'A literature review of one research area, with specific papers and quantitative results',
  criteria: [
    {
      id: 'coverage',
      title: 'Coverage of all major approaches, each with specific papers and quantitative results',
      points: 5,
      pass:
        'Every major line of work in the assignment\'s scope is covered, and each is illustrated with specific, named papers and at least one quantitative result (a benchmark number, a ratio, a success rate) that those papers report.',
      fail: 'Several major approaches are missing, or approaches are described in generalities ("retrieval helps") without papers or numbers.',
    },
    {
      id: 'seminal-works',
      title: 'Seminal works cited with their results',
      points: 3,
      pass: 'The foundational papers of the area (those the reference review treats as seminal) are cited, and their key results are stated correctly.',
      fail: 'Most seminal works are missing, cited without any result, or their results are misstated.',
    },
    {
      id: 'synthesis',
      title: 'Quality of synthesis',
      points: 2,
      pass: 'Compares approaches explicitly (trade-offs, when each works, how they combine), identifies trends and open problems, and goes beyond paper-by-paper summary.',
      fail: 'A list of paper summaries with no comparison, no trade-offs and no trends.',
    },
  ],
  passRule: { kind: 'threshold', minPoints: 7 },
  instructions: [
    'Coverage partial credit: about one point per major approach of the scope that is covered with at least one specific paper and one reported number.',
    'A number that contradicts the reference review or what the cited paper reports earns no credit and counts against the criterion it appears in. Do not reward numbers you cannot tie to a cited paper.',
    'Length is not quality: do not reward padding or repetition.',
  ].join('\n'),
});

/** Thresholds of the deterministic checks (the reference reviews pass them with margin; see README). */
export const LIMITS = {
  minWords: 600,
  maxWords: 15_000,
  /** Distinct papers cited that are known to exist (corpus, or seen in an API response). */
  minCited: 8,
  /** Of which from this topic's corpus. */
  minTopicCited: 5,
  /** Sentences stating a quantitative result. */
  minQuantitative: 6,
  /** Words of running prose (not headings, lists or tables): a bare paper list has none. */
  minProseWords: 250,
  /** Approaches of the topic that may go uncovered. */
  maxUncovered: 1,
} as const;

export function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

/** Words in running prose: lines that are not headings, list items, table rows or code. */
export function proseWords(text: string): number {
  let inFence = false;
  let n = 0;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t.startsWith('```')) {
      inFence = !inFence;
      continue;
    }
    if (inFence || t === '' || /^(#|[-*+]\s|\d+[.)]\s|\||>)/.test(t)) continue;
    n += wordCount(t);
  }
  return n;
}

const QUANT = [
  /\d(?:[\d,]*\d)?(?:\.\d+)?\+?\s?(?:%|×|x\b|-fold\b|\s?times\b|[kKMB]\b)/,
  /\d(?:[\d,]*\d)?(?:\.\d+)?\+?\s?(?:[\w-]+\s)?(?:tokens?|bpc|ppl|points?|percentage points|cm|mm|parameters|episodes|trajectories|demonstrations|tasks|games|robots|trials|minutes|hours|GPUs?)\b/i,
  /\b(?:bpc|perplexity|ppl|accuracy|success(?: rate)?|final return|F1|BLEU|exact match|win rate)\b[^.\n]{0,30}?\d/i,
];

/** Sentences (or list items) that state a quantitative result. */
export function quantitativeSentences(text: string): string[] {
  // Wrapped lines of one paragraph are joined first, so a sentence is counted once.
  const joined = text.replace(/\n(?![ \t]*(?:[-*+]\s|\d+[.)]\s|#|\||\n))/g, ' ');
  return joined
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s && QUANT.some((re) => re.test(s.replace(/\[?\d{4}\.\d{4,5}(v\d+)?\]?/g, ''))));
}

function keywordPresent(lower: string, kw: string): boolean {
  const k = kw.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // Short keywords ("rag", "vla") must be whole words; longer ones may be stems ("summariz").
  const re = kw.length <= 4 ? new RegExp(`(?<![a-z0-9])${k}(?![a-z0-9])`) : new RegExp(`(?<![a-z0-9])${k}`);
  return re.test(lower);
}

/** The deterministic checks of a review of `topic`. They never call a model. */
export async function reviewChecks(review: string, topic: Topic, lib: ResearchLibrary, signal?: AbortSignal): Promise<Check[]> {
  const checks: Check[] = [];
  const words = wordCount(review);
  checks.push({
    name: 'length',
    passed: words >= LIMITS.minWords && words <= LIMITS.maxWords,
    detail: `${words} words (needs ${LIMITS.minWords} to ${LIMITS.maxWords})`,
  });

  const audit = await auditArxivIds(review, lib, signal);
  checks.push({
    name: 'no_fabricated_ids',
    passed: audit.bad.length === 0,
    detail:
      audit.bad.length === 0
        ? `${audit.ids.length} arXiv id${audit.ids.length === 1 ? '' : 's'} cited, all found in the corpus or the cache`
        : `${audit.bad.length} of ${audit.ids.length} arXiv ids are not known papers: ${describeBadIds(audit.bad).slice(0, 600)}`,
  });

  const cited = citedCorpusPapers(review);
  const known = new Set(cited.map((c) => c.paper.arxivId));
  for (const x of audit.ids) if (x.status === 'cache' || x.status === 'verified') known.add(x.id);
  const onTopic = cited.filter((c) => c.paper.topic === topic);
  checks.push({
    name: 'cites_known_papers',
    passed: known.size >= LIMITS.minCited && onTopic.length >= LIMITS.minTopicCited,
    detail: `${known.size} distinct known papers cited (needs ${LIMITS.minCited}), ${onTopic.length} of them from the ${topic} corpus (needs ${LIMITS.minTopicCited})`,
  });

  const info = corpus().topics[topic];
  const lower = review.toLowerCase();
  const covered = info.approaches.map((a) => {
    const byPaper = onTopic.some((c) => c.paper.approach === a.id);
    const kws = a.keywords.filter((k) => keywordPresent(lower, k));
    return { a, ok: byPaper || kws.length >= 2 };
  });
  const missing = covered.filter((c) => !c.ok).map((c) => c.a.name);
  checks.push({
    name: 'approach_coverage',
    passed: missing.length <= LIMITS.maxUncovered,
    detail: `${covered.length - missing.length}/${covered.length} approaches covered (a cited corpus paper of the approach, or two of its key terms)${missing.length ? `; missing: ${missing.join('; ')}` : ''}`,
  });

  const quant = quantitativeSentences(review);
  checks.push({
    name: 'quantitative_results',
    passed: quant.length >= LIMITS.minQuantitative,
    detail: `${quant.length} sentences state a quantitative result (needs ${LIMITS.minQuantitative})`,
  });

  const prose = proseWords(review);
  checks.push({
    name: 'synthesis_prose',
    passed: prose >= LIMITS.minProseWords,
    detail: `${prose} words of running prose outside headings, lists and tables (needs ${LIMITS.minProseWords})`,
  });

  const addressing = graderAddressing(review);
  checks.push({
    name: 'no_grader_address',
    passed: addressing.length === 0,
    detail: addressing.length ? `the review addresses the grader: "${addressing[0]}"` : 'no text addressed to the grader',
  });
  return checks;
}

/** The user prompt as the agent saw it, for the judge. */
export async function renderedPrompt(taskDir: string, inputs: Record<string, unknown>): Promise<string> {
  const template = await readFile(path.join(taskDir, 'prompt.md'), 'utf8');
  return template.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (m, name: string) => (name in inputs ? String(inputs[name]) : m));
}

export function sampleTopic(inputs: Record<string, unknown>): Topic {
  const parsed = TopicSchema.safeParse(inputs.topic);
  if (!parsed.success) throw new GraderInfraError(`literature-review: sample input "topic" must be one of ${TopicSchema.options.join(', ')} (got ${JSON.stringify(inputs.topic)})`);
  return parsed.data;
}

export async function gradeReview(review: string, ctx: GradeContext, lib: ResearchLibrary = defaultLibrary()): Promise<Grade> {
  const topic = sampleTopic(ctx.sampleInputs);
  const det = await reviewChecks(review, topic, lib, ctx.signal);
  const detPassed = det.every((c) => c.passed !== false);
  const j = await judgeWithRubric(
    {
      rubric,
      taskDir: ctx.taskDir,
      submission: review,
      taskPrompt: await renderedPrompt(ctx.taskDir, ctx.sampleInputs),
      referenceFile: `reference/${topic}.md`,
    },
    ctx,
  );
  // The deterministic checks are gates (length, real ids, citations, numbers, prose); the judge decides quality.
  const passed = detPassed && (j.judged ? j.passed === true : true);
  const score = j.judged ? (j.score ?? 0) : det.filter((c) => c.passed === true).length / det.length;
  return { passed, score, checks: [...det, ...j.checks] };
}

/** arXiv ids in a review, exported for the standalone check. */
export { arxivIdsIn };
