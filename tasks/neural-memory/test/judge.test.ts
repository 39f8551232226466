// The judge path end to end: the task's real grader (check.py in the real sandbox), the real SDK, and a local
// server speaking the Messages API in place of the judge model.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAnthropicClient } from '../../../src/agents/client.js';
import type { JudgeCheckReport } from '../../../src/runs/judge-agreement.js';
import { main } from '../../../src/cli/main.js';
import { JudgeError, JudgeLog, type JudgeAccess } from '../../../src/grading/judge.js';
import { RUBRIC_VERDICT_TOOL } from '../../../src/grading/rubric-judge.js';
import type { Grade, GradeContext } from '../../../src/grading/types.js';
import { gradingHarness, skipUnlessRunnable, type GradingHarness } from '../../../test/support/grading.js';
import {
  errorReply,
  startMessagesServer,
  textReply,
  toolUseReply,
  type Handler,
  type MessagesServer,
  type RequestBody,
} from '../../../test/support/messages-server.js';
import { CRITERIA, DISAGREEMENT_CHECK, renderedPrompt, rubric, VARIANT_PROMPTS } from '../grader.js';

const here = import.meta.dirname;
const taskDir = path.dirname(here);
const read = (p: string) => fs.readFile(path.join(taskDir, p), 'utf8');

const RUNTIME = ['runs', 'logits_shape', 'causal', 'memory_used', 'memory_state_per_token', 'memory_recurrent', 'memory_gradients'];
const AST = CRITERIA.map((c) => c.ast);
const JUDGE_CHECKS = [...CRITERIA.map((c) => `judge:${c.judge}`), 'judge:verdict'];

/** A record_verdict input: every criterion met (1 point) except those given. */
function verdict(points: Record<string, number> = {}, summary = 'graded') {
  const criteria: Record<string, { justification: string; points: number }> = {};
  for (const c of rubric.criteria) criteria[c.id] = { justification: `about ${c.id}`, points: points[c.id] ?? c.points };
  return { criteria, summary };
}
const reply = (input: unknown) => toolUseReply(RUBRIC_VERDICT_TOOL, input, { usage: { input_tokens: 3000, output_tokens: 400 } });
const userText = (body: RequestBody): string => body.messages[0].content[0].text;
const byName = (g: Grade, name: string) => g.checks.find((c) => c.name === name);
const failing = (g: Grade) => g.checks.filter((c) => c.passed === false).map((c) => c.name);
const show = (g: Grade) => JSON.stringify(g.checks, null, 1);

let server: MessagesServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function withJudge(handler: Handler): Promise<{ judge: JudgeAccess; log: JudgeLog }> {
  server = await startMessagesServer(handler);
  const client = createAnthropicClient({ apiKey: 'test', baseURL: server.url, maxAttempts: 1, maxCallMs: 30_000 });
  const log = new JudgeLog();
  return { judge: { client, model: 'claude-sonnet-4-6', spec: 'anthropic:claude-sonnet-4-6', thinkingBudget: null, sink: log }, log };
}

describe('neural-memory: the judge path', () => {
  let h: GradingHarness;
  beforeAll(async () => {
    h = await gradingHarness('neural-memory');
  });

  /** h.grade with the judge fields of the context (the shared harness grades without a judge). */
  async function grade(code: string, extra: Partial<GradeContext>, variantId = h.task.defaultVariant.id): Promise<Grade> {
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-grade-neural-memory-judge-'));
    try {
      const sample = h.task.def.samples[0]!;
      return await h.task.def.grader(h.task.def.submission.parse({ code }), {
        taskId: 'neural-memory',
        taskDir: h.task.dir,
        sampleId: sample.id,
        sampleInputs: sample.inputs,
        variantId,
        sandbox: h.sandbox,
        python: h.python,
        gpu: false,
        workDir: async () => workDir,
        signal: AbortSignal.timeout(300_000),
        ...extra,
      });
    } finally {
      await fs.rm(workDir, { recursive: true, force: true });
    }
  }

  it('the rubric is the seed\'s six criteria, one point each, pass at 6/6, one per AST check; the judge sees each variant\'s prompt', async () => {
    expect(rubric.criteria.map((c) => [c.id, c.points])).toEqual(CRITERIA.map((c) => [c.judge, 1]));
    expect(rubric.passRule).toEqual({ kind: 'all' });
    for (const c of rubric.criteria) {
      expect(c.pass.length, c.id).toBeGreaterThan(80);
      expect(c.fail.length, c.id).toBeGreaterThan(80);
    }
    // The prompt the judge gets is exactly the one the agent saw, for every variant.
    const t = h.task;
    expect(Object.keys(VARIANT_PROMPTS).sort()).toEqual(t.variants.map((v) => v.id).sort());
    for (const v of t.variants) expect(await renderedPrompt(t.dir, v.id), v.id).toBe(t.renderPrompt(v.id, 'default').user);
    await expect(renderedPrompt(t.dir, 'no-such-variant')).rejects.toThrow(/no prompt for variant "no-such-variant"/);
    // The labelled examples come from labels.json, `why` as the note.
    const labels = JSON.parse(await read('judge-examples/labels.json')) as Array<{ file: string; label: string; why: string }>;
    expect(t.def.judgeExamples!.examples).toEqual(labels.map((l) => ({ file: `judge-examples/${l.file}`, label: l.label, note: l.why })));
    expect(await t.def.judgeExamples!.toSubmission!('x = 1\n', { taskDir: t.dir, sampleId: 'default', inputs: {}, file: 'judge-examples/pass.py' })).toEqual({ code: 'x = 1\n' });
  });

  it('a judge giving 6/6 passes the reference: both agree, and the judge got the rubric, the assignment and the fenced code', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const code = await read('solution/reference.py');
    const { judge, log } = await withJudge(() => reply(verdict()));
    const g = await grade(code, { judge });
    expect(g.passed, show(g)).toBe(true);
    expect(g.score).toBe(1);
    expect(failing(g)).toEqual([]);
    expect(g.checks.filter((c) => c.name.startsWith('judge:')).map((c) => [c.name, c.passed])).toEqual(JUDGE_CHECKS.map((n) => [n, true]));
    expect(byName(g, 'judge:verdict')!.detail).toMatch(/^6\/6 points \(needs full points on every criterion; judge anthropic:claude-sonnet-4-6\): graded/);
    expect(byName(g, DISAGREEMENT_CHECK)).toEqual({ name: DISAGREEMENT_CHECK, passed: true, detail: expect.stringMatching(/^judge and AST agree on all 6 criteria \(6 met by both\)/) });
    // The AST checks still ran beside the judge.
    for (const n of ['sandbox_safe', ...AST, ...RUNTIME]) expect(byName(g, n)?.passed, n).toBe(true);

    expect(server!.requests).toHaveLength(1);
    const body = server!.requests[0]!.body;
    expect(body.tool_choice).toEqual({ type: 'tool', name: RUBRIC_VERDICT_TOOL });
    expect(body.tools[0].input_schema.properties.criteria.required).toEqual(CRITERIA.map((c) => c.judge));
    const system: string = body.system[0].text;
    expect(system).toContain('A Titans-style neural long-term memory added to a small Transformer language model');
    expect(system).toContain('A sigmoid surprise gate computed from the prediction error');
    expect(system).toContain('A submission passes only with full points on every criterion.');
    expect(system).toContain('Only executed code counts.');
    const user = userText(body);
    expect(user).toContain(`<assignment>\n${h.task.renderPrompt(h.task.defaultVariant.id, 'default').user}\n</assignment>`);
    const tag = /<(submission-[0-9a-f]{12})>/.exec(user)![1];
    expect(user).toContain(`<${tag}>\n${code}\n</${tag}>`);
    expect(log.requests).toBe(1);
    expect(log.usage).toMatchObject({ inputTokens: 3000, outputTokens: 400 });
  });

  it('a judge failing a criterion the AST passes decides: the grade fails and the disagreement is reported', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const { judge } = await withJudge(() => reply(verdict({ 'gated-fusion': 0 }, 'the blend is not complementary')));
    const g = await grade(await read('solution/reference.py'), { judge });
    expect(g.passed, show(g)).toBe(false);
    // Every check.py check passed; only the judge said no.
    for (const n of ['sandbox_safe', ...AST, ...RUNTIME]) expect(byName(g, n)?.passed, n).toBe(true);
    expect(byName(g, 'judge:gated-fusion')).toMatchObject({ passed: false, detail: '0/1 points: about gated-fusion' });
    expect(byName(g, 'judge:verdict')).toMatchObject({ passed: false, detail: expect.stringMatching(/^5\/6 points .*the blend is not complementary/) });
    const d = byName(g, DISAGREEMENT_CHECK)!;
    expect(d.passed).toBe(false);
    expect(d.detail).toMatch(/^judge and AST disagree on 1 of 6 criteria \(the judge decides; a disagreement is reported, it does not fail the trial\):\n/);
    expect(d.detail).toContain('gated_fusion: judge not met (0/1 points: about gated-fusion); AST met (line ');
    expect(d.detail.split('\n')).toHaveLength(2);
    // Score: the gates (sandbox_safe and the runtime checks) plus the judge's six criteria, 5 of them met.
    const gates = g.checks.filter((c) => !AST.includes(c.name) && !c.name.startsWith('judge') && c.passed !== null).length;
    expect(gates).toBe(8);
    expect(g.score).toBeCloseTo((gates + 5) / (gates + 6), 12);
    expect(failing(g).sort()).toEqual(['judge:gated-fusion', 'judge:verdict', DISAGREEMENT_CHECK].sort());
  });

  it('a judge passing a criterion the AST fails decides too: the borderline example passes at 6/6, disagreement reported', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const { judge } = await withJudge(() => reply(verdict({}, 'the learned gate over value and recall counts as surprise')));
    const g = await grade(await read('judge-examples/borderline.py'), { judge });
    expect(byName(g, 'surprise_gate')?.passed).toBe(false);
    expect(g.passed, show(g)).toBe(true);
    expect(g.score).toBe(1);
    const d = byName(g, DISAGREEMENT_CHECK)!;
    expect(d.passed).toBe(false);
    expect(d.detail).toMatch(/^judge and AST disagree on 1 of 6 criteria/);
    expect(d.detail).toMatch(/\nsurprise_gate: judge met \(1\/1 points: about surprise-gate\); AST not met \(.+\)$/);
  });

  it('a judge giving 6/6 cannot rescue a submission that fails a runtime check', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const { judge } = await withJudge(() => reply(verdict()));
    const g = await grade(await read('test/submissions/detached_memory_output.py'), { judge });
    expect(byName(g, 'judge:verdict')?.passed).toBe(true);
    expect(byName(g, DISAGREEMENT_CHECK)?.passed).toBe(true); // the AST passes all six too
    expect(g.passed, show(g)).toBe(false);
    expect(failing(g)).toEqual(['memory_gradients']);
    expect(g.score).toBeLessThan(1);
  });

  it('without judge access the judge checks are not run and the deterministic verdict stands', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const why = 'validate runs oracle and nop without a model';
    const [ref, border] = await Promise.all([
      grade(await read('solution/reference.py'), { judgeUnavailable: why }),
      grade(await read('judge-examples/borderline.py'), { judgeUnavailable: why }),
    ]);
    for (const g of [ref, border]) {
      for (const n of JUDGE_CHECKS) expect(byName(g, n), n).toEqual({ name: n, passed: null, detail: `not run: ${why}` });
      expect(byName(g, DISAGREEMENT_CHECK)).toEqual({ name: DISAGREEMENT_CHECK, passed: null, detail: `not run: ${why}; the AST checks decide the six criteria` });
    }
    expect(ref.passed, show(ref)).toBe(true);
    expect(ref.score).toBe(1);
    // The AST's six decide: the borderline example fails on the surprise gate alone.
    expect(border.passed).toBe(false);
    expect(failing(border)).toEqual(['surprise_gate']);
  });

  it('a malformed verdict is answered and retried; the judge sees the variant the agent saw', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const { judge, log } = await withJudge((_b, i) => (i === 0 ? reply(verdict({ 'outer-product': 2 })) : reply(verdict())));
    const g = await grade(await read('solution/reference.py'), { judge }, 'explicit-criteria');
    expect(g.passed, show(g)).toBe(true);
    expect(server!.requests).toHaveLength(2);
    expect(log.entries.filter((e) => e.type === 'malformed')).toHaveLength(1);
    // The second request answers the bad tool call with the problem.
    const retry = server!.requests[1]!.body.messages;
    expect(retry).toHaveLength(3);
    expect(retry[2].content[0]).toMatchObject({ type: 'tool_result', is_error: true, content: expect.stringContaining('outer-product') });
    expect(userText(server!.requests[0]!.body)).toContain(`<assignment>\n${h.task.renderPrompt('explicit-criteria', 'default').user}\n</assignment>`);
  });

  it('a judge that never gives a valid verdict is an infrastructure error, not a failed submission', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const { judge } = await withJudge(() => errorReply(400, { message: 'bad request' }));
    await expect(grade(await read('solution/reference.py'), { judge })).rejects.toBeInstanceOf(JudgeError);
  });

  it('judge-check grades the three labelled examples through this grader', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const examples = h.task.def.judgeExamples!.examples;
    const texts = await Promise.all(examples.map((e) => read(e.file)));
    // A judge that agrees with each label: fail misses the surprise gate and the fusion, borderline the surprise gate.
    const handler: Handler = (body) => {
      if (body.tools?.[0]?.name !== RUBRIC_VERDICT_TOOL) return textReply('not a judge request');
      const i = texts.findIndex((t) => userText(body).includes(`>\n${t}\n</submission-`));
      if (i < 0) return textReply('unknown submission');
      const label = examples[i]!.label;
      return reply(verdict(label === 'fail' ? { 'surprise-gate': 0, 'gated-fusion': 0 } : label === 'borderline' ? { 'surprise-gate': 0 } : {}));
    };
    server = await startMessagesServer(handler);
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(
      ['judge-check', '--tasks', 'neural-memory', '--k', '1', '--concurrency', '2', '--json', '--judge', 'anthropic:claude-sonnet-4-6'],
      { out: (s) => out.push(s), err: (s) => err.push(s) },
      { ...process.env, ANTHROPIC_API_KEY: 'test', ANTHROPIC_BASE_URL: server.url, ENVBENCH_PYTHON: h.python.executable },
    );
    expect(code, err.join('\n')).toBe(0);
    expect(server.requests).toHaveLength(3);
    const rep = JSON.parse(out.join('\n')) as JudgeCheckReport;
    expect(rep.examples.map((e) => [e.file, e.label, e.errors, e.majority])).toEqual([
      ['judge-examples/pass.py', 'pass', 0, 'pass'],
      ['judge-examples/fail.py', 'fail', 0, 'fail'],
      ['judge-examples/borderline.py', 'borderline', 0, 'fail'],
    ]);
    // The notes are labels.json's reasons.
    const labels = JSON.parse(await read('judge-examples/labels.json')) as Array<{ file: string; why: string }>;
    expect(rep.examples.map((e) => e.note)).toEqual(labels.map((l) => l.why));
    expect(rep.tasks[0]).toMatchObject({ task: 'neural-memory', errors: 0, agreement: 1, ok: true });
  }, 300_000);
});
