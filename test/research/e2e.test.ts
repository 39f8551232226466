// The research tasks end to end through the CLI: a scripted "model" behind the local Messages server calls the
// research tools (offline corpus), submits, and is graded by the deterministic checks and the judge (the same
// local server answering the judge's requests).
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readRunRecord } from '../../src/runs/journal.js';
import { RUBRIC_VERDICT_TOOL } from '../../src/grading/rubric-judge.js';
import { IDEA_VERDICT_TOOL } from '../../tasks/idea-proposal/grader.js';
import { startMessagesServer, toolUseReply, type Handler, type MessagesServer, type RequestBody } from '../support/messages-server.js';

const root = path.resolve(import.meta.dirname, '..', '..');
let server: MessagesServer | undefined;
let tmp: string;
const saved = { ...process.env };

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-research-e2e-'));
  // The tools read the research configuration from the process environment: a private cache, offline.
  process.env.ENVBENCH_RESEARCH_CACHE_DIR = path.join(tmp, 'cache');
  delete process.env.ENVBENCH_RESEARCH_NETWORK;
});
afterAll(async () => {
  process.env = saved;
  await fs.rm(tmp, { recursive: true, force: true });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function run(task: string, handler: Handler) {
  server = await startMessagesServer(handler);
  const out = path.join(tmp, `${task}.json`);
  const err: string[] = [];
  const code = await main(
    ['run', '--tasks', task, '--models', 'anthropic:claude-haiku-4-5', '--judge', 'anthropic:claude-sonnet-4-6', '--out', out],
    { out: () => {}, err: (s) => err.push(s) },
    { ...process.env, ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: server.url },
  );
  return { code, record: await readRunRecord(out), stderr: err.join('\n') };
}

const toolNames = (body: RequestBody) => ((body.tools ?? []) as Array<{ name: string }>).map((t) => t.name);
const toolResults = (body: { messages: any[] }) => {
  const last = body.messages.at(-1);
  return Array.isArray(last.content) ? last.content.filter((b: { type: string }) => b.type === 'tool_result') : [];
};

describe('literature-review end to end', () => {
  it('a model that searches, reads results and submits a good review passes every sample, judged', async () => {
    const seen: string[] = [];
    const { code, record, stderr } = await run('literature-review', async (body) => {
      if (toolNames(body).includes(RUBRIC_VERDICT_TOOL)) {
        return toolUseReply(RUBRIC_VERDICT_TOOL, {
          criteria: {
            coverage: { justification: 'all five approaches with numbers', points: 5 },
            'seminal-works': { justification: 'seminal papers with results', points: 3 },
            synthesis: { justification: 'explicit comparison', points: 1 },
          },
          summary: 'strong',
        });
      }
      const prompt: string = body.messages[0].content[0]?.text ?? body.messages[0].content;
      const topic = prompt.includes('long-term memory') ? 'memory' : prompt.includes('reinforcement learning') ? 'rl' : 'robotics';
      const results = toolResults(body);
      if (body.messages.length === 1) return toolUseReply('web_search', { query: topic === 'rl' ? 'preference optimization' : topic === 'memory' ? 'segment recurrence memory' : 'vision-language-action' });
      seen.push(JSON.stringify(results[0]?.content));
      if (body.messages.length === 3) return toolUseReply('get_paper_results', { paper_id: topic === 'rl' ? '2305.18290' : topic === 'memory' ? '1901.02860' : '2307.15818' });
      return toolUseReply('submit_answer', { review: await fs.readFile(path.join(root, 'tasks/literature-review/reference', `${topic}.md`), 'utf8') });
    });
    expect(code, stderr).toBe(0);
    expect(record.trials.map((t) => [t.sample, t.status]).sort()).toEqual([['memory', 'passed'], ['rl', 'passed'], ['robotics', 'passed']]);
    for (const t of record.trials) {
      expect(t.checks.find((c) => c.name === 'judge:verdict')).toMatchObject({ passed: true });
      expect(t.score).toBeCloseTo(0.9);
    }
    // The tools answered from the offline corpus.
    expect(seen.some((s) => s.includes('[1901.02860] Transformer-XL'))).toBe(true);
    expect(seen.some((s) => s.includes('Reported results'))).toBe(true);
  });
});

describe('idea-proposal end to end', () => {
  it('a model that reads the literature and submits grounded ideas is judged with extended thinking', async () => {
    const ideas = JSON.parse(await fs.readFile(path.join(root, 'tasks/idea-proposal/solution/ideas.json'), 'utf8'));
    const judgeBodies: any[] = [];
    const { code, record, stderr } = await run('idea-proposal', (body) => {
      if (toolNames(body).includes(IDEA_VERDICT_TOOL)) {
        judgeBodies.push(body);
        const n = (body.messages[0].content[0].text.match(/^### Idea \d+:/gm) ?? []).length;
        const dim = (score: number) => ({ reasoning: 'r', score });
        return toolUseReply(
          IDEA_VERDICT_TOOL,
          { ideas: Array.from({ length: n }, (_, k) => ({ index: k + 1, title: 't', businessViability: dim(7), potentialUpside: dim(7), likelihoodOfSuccess: dim(7), novelty: dim(6) })), summary: 'fundable' },
          { thinking: 'weighing the ideas' },
        );
      }
      const prompt: string = body.messages[0].content[0]?.text ?? body.messages[0].content;
      const focus = prompt.includes('topic "memory"') ? 'memory' : prompt.includes('topic "rl"') ? 'rl' : prompt.includes('topic "robotics"') && !prompt.includes('three areas') ? 'robotics' : 'all';
      if (body.messages.length === 1) return toolUseReply(focus === 'all' ? 'get_all_literature' : 'get_literature', focus === 'all' ? {} : { topic: focus });
      return toolUseReply('submit_answer', { ideas: ideas[focus] });
    });
    expect(code, stderr).toBe(0);
    expect(record.trials.map((t) => [t.sample, t.status]).sort()).toEqual([['all', 'passed'], ['memory', 'passed'], ['rl', 'passed'], ['robotics', 'passed']]);
    for (const t of record.trials) expect(t.checks.find((c) => c.name === 'judge:verdict')!.detail).toMatch(/^GOOD \(6\.85\/10;/);
    expect(judgeBodies).toHaveLength(4);
    for (const b of judgeBodies) expect(b.thinking).toEqual({ type: 'enabled', budget_tokens: 10_000 });
  });
});

describe('judge-check over the research tasks\' labelled examples', () => {
  it('grades every example of both tasks through their graders, with a scripted judge that follows the labels', async () => {
    // A stand-in judge: it fails the two "fail" examples (recognised by their text) and passes the rest.
    server = await startMessagesServer((body) => {
      const text = JSON.stringify(body.messages[0].content);
      if (toolNames(body).includes(RUBRIC_VERDICT_TOOL)) {
        const weak = text.includes('These are the most important papers') || text.includes('bright future');
        const p = weak ? [1, 0, 0] : [5, 3, 1];
        return toolUseReply(RUBRIC_VERDICT_TOOL, {
          criteria: { coverage: { justification: 'j', points: p[0] }, 'seminal-works': { justification: 'j', points: p[1] }, synthesis: { justification: 'j', points: p[2] } },
          summary: 's',
        });
      }
      const n = (text.match(/### Idea \d+:/g) ?? []).length;
      const s = text.includes('Titans-RT') ? 3 : 7;
      const dim = (score: number) => ({ reasoning: 'r', score });
      return toolUseReply(IDEA_VERDICT_TOOL, { ideas: Array.from({ length: n }, (_, k) => ({ index: k + 1, title: 't', businessViability: dim(s), potentialUpside: dim(s), likelihoodOfSuccess: dim(s), novelty: dim(s) })), summary: 's' }, { thinking: 'hm' });
    });
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(
      ['judge-check', '--tasks', 'literature-review,idea-proposal', '--k', '1', '--judge', 'anthropic:claude-sonnet-4-6', '--json'],
      { out: (s) => out.push(s), err: (s) => err.push(s) },
      { ...process.env, ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: server.url },
    );
    expect(code, err.join('\n')).toBe(0);
    const report = JSON.parse(out.join(''));
    const byTask = Object.fromEntries(report.tasks.map((t: { task: string }) => [t.task, t]));
    for (const id of ['literature-review', 'idea-proposal']) expect(byTask[id], JSON.stringify(report)).toMatchObject({ agreement: 1, errors: 0, ok: true });
    expect(report.examples.map((e: { file: string }) => e.file).sort()).toEqual([
      'judge-examples/borderline-memory.json', 'judge-examples/borderline-rl.md', 'judge-examples/fail-academic.json', 'judge-examples/fail-paper-list.md',
      'judge-examples/fail-vague-robotics.md', 'judge-examples/pass-all.json', 'judge-examples/pass-memory.md',
    ]);
  });
});
