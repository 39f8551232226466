// The research tools offline: answers from the corpus and the cache, clear tool results (never crashes) when
// something needs the network, bounded output.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolContext, ToolDef, ToolResult } from '../../src/agents/tool.js';
import {
  corpus,
  literatureTools,
  paperTools,
  ResearchLibrary,
  researchConfigFromEnv,
  MAX_LITERATURE_CHARS,
  MAX_TOOL_CHARS,
} from '../../src/research/index.js';
import { bound } from '../../src/research/tools.js';

let cacheDir: string;
let lib: ResearchLibrary;
let tools: Map<string, ToolDef>;

beforeAll(async () => {
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-research-tools-'));
  // Offline, with base URLs nobody listens on: any network attempt would fail loudly, not silently.
  lib = new ResearchLibrary({ ...researchConfigFromEnv({}), cacheDir, allowNetwork: false, s2BaseUrl: 'http://127.0.0.1:9/graph/v1', arxivBaseUrl: 'http://127.0.0.1:9/api' });
  tools = new Map([...paperTools(() => lib), ...literatureTools(() => lib)].map((t) => [t.name, t]));
});
afterAll(() => fs.rm(cacheDir, { recursive: true, force: true }));

const ctx = { signal: AbortSignal.timeout(30_000) } as ToolContext;
async function call(name: string, input: unknown): Promise<ToolResult> {
  const tool = tools.get(name)!;
  const parsed = tool.input.safeParse(input);
  if (!parsed.success) throw new Error(`invalid input for ${name}: ${parsed.error.message}`);
  return tool.run(parsed.data, ctx);
}

describe('paper tools, offline', () => {
  it('web_search answers from the corpus and says online search is unavailable', async () => {
    const r = await call('web_search', { query: 'retrieval augmented generation' });
    expect(r.isError).toBeFalsy();
    expect(r.content).toMatch(/^Offline corpus \(\d+\):\n\[2005\.11401\] Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks \(2020\) — Patrick Lewis/);
    expect(r.content).toContain('Online search is unavailable in this run (network access is off');
  });

  it('web_search with no match says what the corpus covers', async () => {
    const r = await call('web_search', { query: 'protein folding crystallography' });
    expect(r.isError).toBeFalsy();
    expect(r.content).toContain('No papers found for "protein folding crystallography"');
    expect(r.content).toContain('Long-term memory for large language models');
  });

  it('get_paper_with_tldr accepts any arXiv spelling and returns details, TLDR and summary', async () => {
    const r = await call('get_paper_with_tldr', { paper_id: 'https://arxiv.org/abs/2501.00663v1' });
    expect(r.isError).toBeFalsy();
    expect(r.content).toContain('[2501.00663] Titans: Learning to Memorize at Test Time');
    expect(r.content).toContain('Authors: Ali Behrouz, Peilin Zhong, Vahab Mirrokni');
    expect(r.content).toMatch(/TLDR: A neural long-term memory module/);
    expect(r.content).toContain('Area: Long-term memory for large language models — Specialised memory architectures');
  });

  it('get_paper_introduction and get_paper_results give the positioning and the reported numbers', async () => {
    const intro = await call('get_paper_introduction', { paper_id: '2404.07143' });
    expect(intro.content).toContain('Introduction (summary): The KV cache of a Transformer grows linearly');
    expect(intro.content).toContain('Builds directly on (offline corpus):\n- [1901.02860] Transformer-XL');
    const res = await call('get_paper_results', { paper_id: '2404.07143' });
    expect(res.content).toContain('Reported results:\n- Outperforms baselines on long-context language modelling while using a 114x smaller memory.');
  });

  it('get_paper_references offline lists the curated corpus links, and says it is not the full list', async () => {
    const r = await call('get_paper_references', { paper_id: '2212.06817', limit: 10 });
    expect(r.isError).toBeFalsy();
    // RT-1 builds on nothing in the corpus, but RT-2, Open X-Embodiment... build on it.
    expect(r.content).toContain('[2307.15818] RT-2');
    expect(r.content).toContain('The full reference list is not available offline');
  });

  it('a paper outside the corpus and cache is a clear tool error offline, not a crash', async () => {
    const r = await call('get_paper_with_tldr', { paper_id: '2307.03172' });
    expect(r.isError).toBe(true);
    expect(r.content).toContain('Paper 2307.03172 is not in the offline corpus or the cache, and network access is off in this run');
    const refs = await call('get_paper_references', { paper_id: '2307.03172' });
    expect(refs.isError).toBe(true);
    expect(refs.content).toContain('not available offline');
  });

  it('a malformed id is explained', async () => {
    const r = await call('get_paper_results', { paper_id: 'the Titans paper' });
    expect(r.isError).toBe(true);
    expect(r.content).toContain('"the Titans paper" is not a paper id. Use an arXiv id such as 1901.02860');
  });

  it('a paper seen by an earlier trial is served from the shared cache index', async () => {
    await lib.cache.rememberPapers([
      { arxivId: '2307.03172', s2Id: null, title: 'Lost in the Middle: How Language Models Use Long Contexts', authors: ['Nelson F. Liu'], year: 2023, abstract: 'Models use long contexts unevenly.', tldr: null, source: 'arxiv' },
    ]);
    const r = await call('get_paper_with_tldr', { paper_id: 'arXiv:2307.03172' });
    expect(r.isError).toBeFalsy();
    expect(r.content).toContain('[2307.03172] Lost in the Middle');
    expect(r.content).toContain('TLDR: (no TLDR available for this paper)');
    expect(await lib.idStatus('2307.03172')).toBe('cache');
    expect(await lib.idStatus('2307.99999')).toBe('unverified');
    expect(await lib.idStatus('1901.02860')).toBe('corpus');
    expect(await lib.idStatus('2513.00001')).toBe('malformed');
  });

  it('rejects bad tool input through the zod schema', () => {
    expect(tools.get('web_search')!.input.safeParse({ query: 'x' }).success).toBe(false);
    expect(tools.get('web_search')!.input.safeParse({ query: 'memory', limit: 99 }).success).toBe(false);
    expect(tools.get('get_literature')!.input.safeParse({ topic: 'vision' }).success).toBe(false);
  });
});

describe('literature tools and output bounds', () => {
  it('get_all_literature lists every corpus paper with its id, results and open problems, within the bound', async () => {
    const r = await call('get_all_literature', {});
    expect(r.content.length).toBeLessThanOrEqual(MAX_LITERATURE_CHARS);
    expect(r.content).not.toContain('output cut');
    for (const p of corpus().papers) expect(r.content).toContain(`[${p.arxivId}] ${p.title}`);
    expect(r.content).toContain('## Open problems');
  });

  it('get_literature returns one topic only', async () => {
    const r = await call('get_literature', { topic: 'rl' });
    expect(r.content).toMatch(/^# Reinforcement learning and alignment \(topic "rl"\)/);
    expect(r.content).toContain('[2305.18290]');
    expect(r.content).not.toContain('[2212.06817]');
  });

  it('paper tool output stays within its bound, and bound() says when it cut', async () => {
    const r = await call('web_search', { query: 'transformer memory learning robot policy reinforcement', limit: 15 });
    expect(r.content.length).toBeLessThanOrEqual(MAX_TOOL_CHARS);
    const long = Array.from({ length: 2000 }, (_, i) => `line ${i} of a long answer`).join('\n');
    const cut = bound(long, 1000);
    expect(cut.length).toBeLessThanOrEqual(1000 + 120);
    expect(cut).toMatch(/\[\.\.\. output cut at 1000 characters; ask for less/);
    expect(bound('short', 1000)).toBe('short');
  });
});
