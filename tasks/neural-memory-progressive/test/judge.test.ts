// The judge path end to end: the task's real grader, the real sandbox, the real SDK, and a local server speaking the
// Messages API in place of the judge model.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAnthropicClient } from '../../../src/agents/client.js';
import type { JudgeCheckReport } from '../../../src/runs/judge-agreement.js';
import { main } from '../../../src/cli/main.js';
import { JudgeLog, type JudgeAccess } from '../../../src/grading/judge.js';
import { RUBRIC_VERDICT_TOOL } from '../../../src/grading/rubric-judge.js';
import type { Grade } from '../../../src/grading/types.js';
import { startMessagesServer, textReply, toolUseReply, type Handler, type MessagesServer, type RequestBody } from '../../../test/support/messages-server.js';
import { RUBRICS, type StepId } from '../grader.js';
import { readTaskFile, skipUnlessRunnable, stepHarness, TASK_ID, type StepHarness } from './harness.js';

/** A record_verdict input for `step`: full points on every criterion except those given. */
function verdict(step: StepId, points: Record<string, number> = {}, summary = 'graded') {
  const criteria: Record<string, { justification: string; points: number }> = {};
  for (const c of RUBRICS[step].criteria) criteria[c.id] = { justification: `about ${c.id}`, points: points[c.id] ?? c.points };
  return { criteria, summary };
}
const reply = (input: unknown) => toolUseReply(RUBRIC_VERDICT_TOOL, input, { usage: { input_tokens: 2000, output_tokens: 300 } });
const criteriaOf = (body: RequestBody): string[] => body.tools[0].input_schema.properties.criteria.required;
const userText = (body: RequestBody): string => body.messages[0].content[0].text;
const nonJudge = (g: Grade) => g.checks.filter((c) => !c.name.startsWith('judge:'));
const show = (g: Grade) => JSON.stringify(g.checks, null, 1);

let server: MessagesServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function withJudge(handler: Handler): Promise<{ judge: JudgeAccess; log: JudgeLog }> {
  server = await startMessagesServer(handler);
  const client = createAnthropicClient({ apiKey: 'test', baseURL: server.url, maxAttempts: 2, maxCallMs: 30_000 });
  const log = new JudgeLog();
  return { judge: { client, model: 'claude-sonnet-4-6', spec: 'anthropic:claude-sonnet-4-6', thinkingBudget: null, sink: log }, log };
}

describe('neural-memory-progressive: the judge path', () => {
  let h: StepHarness;
  beforeAll(async () => {
    h = await stepHarness();
  });

  it('a valid verdict: the fusion reference passes; the judge got the fusion rubric, the assignment and the fenced code', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const code = await readTaskFile('solution/fusion.py');
    const { judge, log } = await withJudge(() => reply(verdict('fusion')));
    const g = await h.grade(code, 'fusion', { judge });
    expect(g.passed, show(g)).toBe(true);
    expect(g.score).toBe(1);
    expect(g.checks.filter((c) => c.name.startsWith('judge:')).map((c) => [c.name, c.passed])).toEqual([
      ['judge:complementary-blend', true],
      ['judge:sigmoid-gate', true],
      ['judge:learned-gate', true],
      ['judge:verdict', true],
    ]);
    expect(g.checks.find((c) => c.name === 'judge:verdict')!.detail).toMatch(/^5\/5 points \(needs full points on every criterion; judge anthropic:claude-sonnet-4-6\)/);
    expect(server!.requests).toHaveLength(1);
    const body = server!.requests[0]!.body;
    expect(body.tool_choice).toEqual({ type: 'tool', name: RUBRIC_VERDICT_TOOL });
    expect(criteriaOf(body)).toEqual(['complementary-blend', 'sigmoid-gate', 'learned-gate']);
    const system: string = body.system[0].text;
    expect(system).toContain('Step 4: attention and memory are blended by a learned complementary gate');
    expect(system).toContain('Comments, docstrings, pseudocode, names and claims count for nothing by themselves');
    const user = userText(body);
    expect(user).toContain('<assignment>\n# A long-term memory for Transformers, step 4 of 5: blending attention with memory');
    expect(user).not.toContain('{{'); // every placeholder was filled
    expect(user).not.toContain('## Pseudocode first'); // the default variant is plain
    const tag = /<(submission-[0-9a-f]{12})>/.exec(user)![1];
    expect(user).toContain(`<${tag}>\n${code}\n</${tag}>`);
    expect(log.requests).toBe(1);
    expect(log.usage).toMatchObject({ inputTokens: 2000, outputTokens: 300 });
  });

  it('a judge that fails a submission the deterministic checks pass decides: the grade is a fail', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const { judge } = await withJudge(() => reply(verdict('surprise', { 'prediction-error': 0 }, 'the score ignores what the memory predicts')));
    const g = await h.grade(await readTaskFile('solution/surprise.py'), 'surprise', { judge });
    expect(nonJudge(g).every((c) => c.passed === true), show(g)).toBe(true);
    expect(g.passed).toBe(false);
    expect(g.checks.find((c) => c.name === 'judge:prediction-error')).toMatchObject({ passed: false, detail: '0/2 points: about prediction-error' });
    expect(g.checks.find((c) => c.name === 'judge:verdict')).toMatchObject({ passed: false, detail: expect.stringMatching(/^3\/5 points .*the score ignores/) });
    expect(g.score).toBeCloseTo((1 + 3 / 5) / 2, 12);
  });

  it('a judge that passes a submission the deterministic checks fail cannot rescue it', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const { judge } = await withJudge(() => reply(verdict('fusion')));
    const g = await h.grade(await readTaskFile('test/submissions/fusion/residual_gate.py'), 'fusion', { judge });
    expect(g.checks.find((c) => c.name === 'judge:verdict')?.passed).toBe(true);
    expect(g.checks.find((c) => c.name === 'convex_blend')?.passed).toBe(false);
    expect(g.passed).toBe(false);
    expect(g.score).toBeLessThan(1);
  });

  it('the judge sees the variant the agent saw, and a malformed verdict is retried', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const { judge, log } = await withJudge((_b, i) =>
      i === 0 ? reply(verdict('update-decay', { 'bounded-decay': 7 })) : reply(verdict('update-decay')),
    );
    const g = await h.grade(await readTaskFile('solution/update-decay.py'), 'update-decay', { judge }, 'pseudocode');
    expect(g.passed, show(g)).toBe(true);
    expect(server!.requests).toHaveLength(2);
    expect(log.entries.filter((e) => e.type === 'malformed')).toHaveLength(1);
    const user = userText(server!.requests[0]!.body);
    expect(user).toContain('step 3 of 5: the update rule, with forgetting');
    expect(user).toContain('## Pseudocode first');
    expect(user).toContain('fraction of the old memory that is kept, between 0 and 1');
    expect(criteriaOf(server!.requests[0]!.body)).toEqual(['learnable-decay', 'bounded-decay', 'multiplicative-forgetting']);
  });

  it('judge-check grades every labelled example against its own step\'s rubric', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const examples = h.task.def.judgeExamples!.examples;
    const texts = await Promise.all(examples.map((e) => readTaskFile(e.file)));
    const wrongRubric: string[] = [];
    // A judge that agrees with every label (borderline: pass), and notes any request graded with another step's rubric.
    const handler: Handler = (body) => {
      if (body.tools?.[0]?.name !== RUBRIC_VERDICT_TOOL) return textReply('not a judge request');
      const user = userText(body);
      const i = texts.findIndex((t) => user.includes(`>\n${t}\n</submission-`));
      if (i < 0) return textReply('unknown submission');
      const ex = examples[i]!;
      const step = ex.sample as StepId;
      if (JSON.stringify(criteriaOf(body)) !== JSON.stringify(RUBRICS[step].criteria.map((c) => c.id))) wrongRubric.push(ex.file);
      const first = RUBRICS[step].criteria[0]!.id;
      return reply(verdict(step, ex.label === 'fail' ? { [first]: 0 } : {}));
    };
    server = await startMessagesServer(handler);
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(
      ['judge-check', '--tasks', TASK_ID, '--k', '1', '--concurrency', '2', '--json', '--judge', 'anthropic:claude-sonnet-4-6'],
      { out: (s) => out.push(s), err: (s) => err.push(s) },
      { ...process.env, ANTHROPIC_API_KEY: 'test', ANTHROPIC_BASE_URL: server.url, ENVBENCH_PYTHON: h.python.executable },
    );
    expect(code, err.join('\n')).toBe(0);
    expect(wrongRubric).toEqual([]);
    expect(server.requests).toHaveLength(examples.length);
    const rep = JSON.parse(out.join('\n')) as JudgeCheckReport;
    expect(rep.examples).toHaveLength(examples.length);
    for (const e of rep.examples) {
      expect(e, e.file).toMatchObject({ errors: 0, runs: 1, majority: e.label === 'fail' ? 'fail' : 'pass' });
    }
    expect(rep.tasks[0]).toMatchObject({ task: TASK_ID, errors: 0, agreement: 1, ok: true });
    // Every step has at least one labelled example.
    expect(new Set(examples.map((e) => e.sample))).toEqual(new Set(Object.keys(RUBRICS)));
  }, 300_000);
});
