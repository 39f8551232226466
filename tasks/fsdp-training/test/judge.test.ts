// The fsdp-training grader with its second grader, the seed's 10-point rubric judged by a model: the rubric's single
// source (rubric.ts -> rubric.md), the judge examples, the verdict rule on fabricated grades, and the whole grader
// (check.py in the sandbox + the judge through the real SDK against the local Messages server).
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnthropicClient } from '../../../src/agents/client.js';
import { JudgeError, JudgeLog, type JudgeAccess } from '../../../src/grading/judge.js';
import { RUBRIC_VERDICT_TOOL, type RubricJudgement } from '../../../src/grading/rubric-judge.js';
import { GraderInfraError, type Check, type Grade, type GradeContext } from '../../../src/grading/types.js';
import { usesGpu } from '../../../src/python/requirements.js';
import type { JudgeExampleSubmission } from '../../../src/tasks/define.js';
import { gradingHarness, skipUnlessRunnable, type GradingHarness } from '../../../test/support/grading.js';
import { startMessagesServer, toolUseReply, type Handler, type MessagesServer } from '../../../test/support/messages-server.js';
import { combineGrades, CRITERION_CHECKS, DISAGREEMENT_CHECK, judgeTaskPrompt, RUNTIME_CHECKS, STATIC_CHECKS } from '../grader.js';
import { rubric, rubricMarkdown } from '../rubric.js';

const taskDir = path.resolve(import.meta.dirname, '..');
const read = (p: string) => fs.readFile(path.join(taskDir, p), 'utf8');
const byName = (g: Grade) => new Map(g.checks.map((c) => [c.name, c]));
const failing = (g: Grade) => g.checks.filter((c) => c.passed === false).map((c) => c.name);
const IDS = rubric.criteria.map((c) => c.id);
const FULL: Record<string, number> = Object.fromEntries(rubric.criteria.map((c) => [c.id, c.points]));

/** A verdict: full points except where `minus` says otherwise. */
function verdict(minus: Record<string, number> = {}, only?: string[]) {
  const ids = only ?? IDS;
  return {
    criteria: Object.fromEntries(ids.map((id) => [id, { justification: `scripted reason for ${id}`, points: minus[id] ?? FULL[id]! }])),
    summary: 'scripted verdict',
  };
}
const total = (minus: Record<string, number>) => IDS.reduce((s, id) => s + (minus[id] ?? FULL[id]!), 0);

// 9/10: the reference loses the overall point. 6/10 for single_miss_global_rank.py: the global-rank GPU
// (check.py agrees), and a half of wrapping and of checkpointing plus the optimizer (check.py passes those).
const NINE = { 'overall-correctness': 0 };
const SIX = { 'distributed-init': 0, 'fsdp-wrapping': 1, checkpointing: 1, 'optimizer-after-fsdp': 0 };
const EIGHT_FOOLED = { 'fsdp-wrapping': 1, 'data-distribution': 1 };

describe('fsdp-training rubric (rubric.ts is the source, rubric.md its copy)', () => {
  it("holds the seed's seven criteria, 10 points, pass at 8", () => {
    expect(rubric.criteria.map((c) => [c.title, c.points])).toEqual([
      ['Distributed initialization', 1], ['FSDP wrapping', 2], ['Data distribution', 2], ['Checkpoint handling', 2],
      ['Cleanup', 1], ['Optimizer after FSDP', 1], ['Overall correctness', 1],
    ]);
    expect(total({})).toBe(10);
    expect(rubric.passRule).toEqual({ kind: 'threshold', minPoints: 8 });
    // The seed's reported failure modes are spelled out for the judge.
    const all = JSON.stringify(rubric);
    for (const s of ['LOCAL_RANK', 'dist.get_rank()', 'nonwrapped_numel', 'offload_to_cpu=True, rank0_only=True', 'ModuleList']) expect(all).toContain(s);
  });

  it('rubric.md is exactly what rubric.ts renders (regenerate with `npx tsx tasks/fsdp-training/rubric.ts`)', async () => {
    expect(await read('rubric.md')).toBe(rubricMarkdown());
  });

  it('maps every criterion to real check.py checks for the disagreement report', () => {
    expect(Object.keys(CRITERION_CHECKS).sort()).toEqual([...IDS].sort());
    const known = new Set<string>([...STATIC_CHECKS, ...RUNTIME_CHECKS]);
    for (const names of Object.values(CRITERION_CHECKS)) for (const n of names) expect(known.has(n), n).toBe(true);
    // Each of the 11 static checks belongs to some criterion.
    expect(new Set(Object.values(CRITERION_CHECKS).flat())).toEqual(new Set([...STATIC_CHECKS, 'torchrun_completes', 'checkpoint_full_state_dict']));
  });

  it('shows the judge the assignment with the single-GPU original inlined', async () => {
    const p = await judgeTaskPrompt(taskDir);
    expect(p).not.toContain('{{');
    expect(p).toContain(await read('starter.py'));
    expect(p).toContain('lambda_auto_wrap_policy');
  });
});

// ---------------------------------------------------------------- the verdict rule, on fabricated grades

function detGrade(opts: { ast: number; runtime?: Array<boolean | null>; extra?: Check[] }): Grade {
  const checks: Check[] = STATIC_CHECKS.map((n, i) => ({ name: n, passed: i < opts.ast, detail: '' }));
  checks.push({ name: 'static_score', passed: opts.ast >= 9, detail: `${opts.ast} of 11 static checks passed; 9 needed` });
  const rt = opts.runtime ?? [null, null, null];
  RUNTIME_CHECKS.forEach((n, i) => checks.push({ name: n, passed: rt[i]!, detail: rt[i] === null ? 'skipped: no CUDA' : '' }));
  checks.push(...(opts.extra ?? []));
  const passed = opts.ast >= 9 && rt.every((r) => r !== false) && !(opts.extra ?? []).some((c) => c.passed === false);
  const graded = checks.filter((c) => c.passed !== null && c.name !== 'static_score');
  return { passed, score: passed ? 1 : graded.filter((c) => c.passed).length / graded.length, checks };
}

function judgement(minus: Record<string, number> | null): RubricJudgement {
  if (minus === null) {
    const detail = 'not run: oracle and nop run without a model';
    return { judged: false, passed: null, score: null, checks: [...IDS.map((id) => ({ name: `judge:${id}`, passed: null, detail })), { name: 'judge:verdict', passed: null, detail }] };
  }
  const v = verdict(minus);
  const t = total(minus);
  return {
    judged: true,
    passed: t >= 8,
    score: t / 10,
    verdict: v,
    checks: [...IDS.map((id) => ({ name: `judge:${id}`, passed: v.criteria[id]!.points === FULL[id], detail: `${v.criteria[id]!.points}/${FULL[id]} points: x` })), { name: 'judge:verdict', passed: t >= 8, detail: `${t}/10 points` }],
  };
}

describe('fsdp-training verdict rule (combineGrades)', () => {
  const disagreement = (g: Grade) => byName(g).get(DISAGREEMENT_CHECK)!;

  it('without a judge, check.py decides exactly as before and the comparison says why it was not made', () => {
    for (const det of [detGrade({ ast: 11 }), detGrade({ ast: 8 }), detGrade({ ast: 11, runtime: [false, false, null] })]) {
      const g = combineGrades(det, judgement(null));
      expect(g.passed).toBe(det.passed);
      expect(g.score).toBe(det.score);
      expect(disagreement(g)).toMatchObject({ passed: null, detail: expect.stringMatching(/^not compared: the judge did not run \(oracle and nop run without a model\)/) });
    }
  });

  it('with a judge, a pass needs the AST rule and the judge', () => {
    expect(combineGrades(detGrade({ ast: 11 }), judgement(NINE)).passed).toBe(true);
    expect(combineGrades(detGrade({ ast: 9 }), judgement(EIGHT_FOOLED)).passed).toBe(true);
    expect(combineGrades(detGrade({ ast: 11 }), judgement(SIX)).passed).toBe(false);
    expect(combineGrades(detGrade({ ast: 8 }), judgement({})).passed).toBe(false);
    expect(combineGrades(detGrade({ ast: 11 }), judgement(NINE)).score).toBeCloseTo((1 + 0.9) / 2);
  });

  it('a GPU runtime check that ran and failed fails the trial whatever the judge says; skipped ones do not', () => {
    expect(combineGrades(detGrade({ ast: 11, runtime: [true, false, true] }), judgement({})).passed).toBe(false);
    expect(combineGrades(detGrade({ ast: 11, runtime: [true, true, true] }), judgement({})).passed).toBe(true);
    expect(combineGrades(detGrade({ ast: 11, runtime: [null, null, null] }), judgement({})).passed).toBe(true);
    // A killed or crashed submission run (a check runPythonCheck adds) fails it too.
    expect(combineGrades(detGrade({ ast: 11, extra: [{ name: 'runs_cleanly', passed: false, detail: 'exit 1' }] }), judgement({})).passed).toBe(false);
  });

  it('reports disagreement both ways, per criterion, as passed: false (for a person to read), never deciding the verdict', () => {
    const astOnly = disagreement(combineGrades(detGrade({ ast: 11 }), judgement(SIX)));
    expect(astOnly.passed).toBe(false);
    expect(astOnly.detail).toMatch(/^DISAGREE: the AST rule passes \(11 of 11\) but the judge fails \(6\/10\); the trial fails on the judge/);
    expect(astOnly.detail).toContain('- optimizer-after-fsdp: judge 0/1; check.py passes optimizer_after_fsdp');

    const judgeOnly = disagreement(combineGrades(detGrade({ ast: 8 }), judgement({})));
    expect(judgeOnly.passed).toBe(false);
    expect(judgeOnly.detail).toMatch(/^DISAGREE: the judge passes \(10\/10\) but the AST rule fails \(8 of 11\); the trial fails on the AST rule/);
    // static checks 9-11 fail in detGrade({ ast: 8 }): full_state_dict_config, rank0_state_dict_save, destroy_process_group.
    expect(judgeOnly.detail).toContain('- checkpointing: judge 2/2; check.py fails full_state_dict_config, rank0_state_dict_save');
    expect(judgeOnly.detail).toContain('- cleanup: judge 1/1; check.py fails destroy_process_group');

    const agree = disagreement(combineGrades(detGrade({ ast: 11 }), judgement({})));
    expect(agree).toMatchObject({ passed: true, detail: expect.stringMatching(/^agree: the AST rule passes \(11 of 11\) and the judge passes \(10\/10\)/) });
    expect(agree.detail).toContain('no criterion differs');
    // Without a GPU run, overall-correctness has no check.py counterpart and is never listed.
    expect(disagreement(combineGrades(detGrade({ ast: 11 }), judgement(NINE))).detail).not.toContain('overall-correctness');
    expect(disagreement(combineGrades(detGrade({ ast: 11, runtime: [true, true, true] }), judgement(NINE))).detail)
      .toContain('- overall-correctness: judge 0/1; check.py passes torchrun_completes, checkpoint_full_state_dict');
  });
});

// ---------------------------------------------------------------- the whole grader, through the sandbox and the SDK

interface Case {
  file: string;
  /** Replies of the scripted judge by call index; null: no judge. */
  judge: Handler | null;
  maxVerdictAttempts?: number;
}
const reply = (v: unknown) => toolUseReply(RUBRIC_VERDICT_TOOL, v, { usage: { input_tokens: 6000, output_tokens: 400 } });
const CASES: Record<string, Case> = {
  'reference judged 9/10': { file: 'solution/reference.py', judge: () => reply(verdict(NINE)) },
  'single miss judged 6/10': { file: 'test/valid_submissions/single_miss_global_rank.py', judge: () => reply(verdict(SIX)) },
  'naive judged 8/10': { file: 'judge-examples/fail-naive.py', judge: () => reply(verdict(EIGHT_FOOLED)) },
  // First reply leaves out a criterion and gives 3 of 2 points: answered with the problem, then a valid 10/10.
  'malformed then valid': {
    file: 'judge-examples/pass-clean.py',
    judge: (_b, i) => reply(i === 0 ? verdict({ 'fsdp-wrapping': 3 }, IDS.filter((id) => id !== 'cleanup')) : verdict()),
  },
  'malformed every time': { file: 'judge-examples/pass-clean.py', judge: () => reply({ criteria: {}, summary: '' }), maxVerdictAttempts: 2 },
  'subtle without judge': { file: 'judge-examples/fail-subtle.py', judge: null },
  'borderline without judge': { file: 'judge-examples/borderline-counting.py', judge: null },
};

describe('fsdp-training grader with the judge (sandboxed check.py + local Messages server)', () => {
  let h: GradingHarness;
  const servers = new Map<string, MessagesServer>();
  const logs = new Map<string, JudgeLog>();
  const results = new Map<string, { grade?: Grade; error?: unknown }>();

  beforeAll(async () => {
    h = await gradingHarness('fsdp-training');
    if (h.unmet) return;
    const limit = pLimit(2);
    await Promise.all(
      Object.entries(CASES).map(([name, c]) =>
        limit(async () => {
          const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'envbench-fsdp-judge-'));
          const sample = h.task.def.samples[0]!;
          const ctx: GradeContext = {
            taskId: 'fsdp-training',
            taskDir: h.task.dir,
            sampleId: sample.id,
            sampleInputs: sample.inputs,
            variantId: h.task.defaultVariant.id,
            sandbox: h.sandbox,
            python: h.python,
            gpu: usesGpu(h.task.def.requirements, h.python),
            workDir: async () => workDir,
            signal: AbortSignal.timeout(600_000),
            judgeUnavailable: 'tests grade without a judge',
          };
          if (c.judge) {
            const server = await startMessagesServer(c.judge);
            servers.set(name, server);
            const log = new JudgeLog();
            logs.set(name, log);
            const client = createAnthropicClient({ apiKey: 'test', baseURL: server.url, maxAttempts: 2, maxCallMs: 30_000 });
            const judge: JudgeAccess = { client, model: 'claude-sonnet-4-6', spec: 'anthropic:claude-sonnet-4-6', thinkingBudget: null, sink: log, ...(c.maxVerdictAttempts ? { maxVerdictAttempts: c.maxVerdictAttempts } : {}) };
            ctx.judge = judge;
          }
          try {
            const code = await read(c.file);
            results.set(name, { grade: await h.task.def.grader(h.task.def.submission.parse({ code }), ctx) });
          } catch (error) {
            results.set(name, { error });
          } finally {
            await fs.rm(workDir, { recursive: true, force: true });
          }
        }),
      ),
    );
  }, 900_000);
  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => s.close()));
  });

  const grade = (name: string) => {
    const r = results.get(name)!;
    if (r.error) throw r.error;
    return r.grade!;
  };

  it('passes the reference when the judge gives 9/10, and sends it the rubric, the assignment with the original, and the script', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grade('reference judged 9/10');
    expect(failing(g), JSON.stringify(g.checks, null, 1)).toEqual(['judge:overall-correctness']);
    expect(g.passed).toBe(true);
    const by = byName(g);
    expect(by.get('static_score')?.passed).toBe(true);
    expect(by.get('judge:verdict')).toMatchObject({ passed: true, detail: expect.stringMatching(/^9\/10 points \(needs 8; judge anthropic:claude-sonnet-4-6\)/) });
    expect(by.get(DISAGREEMENT_CHECK)).toMatchObject({ passed: true, detail: expect.stringMatching(/^agree: the AST rule passes \(11 of 11\) and the judge passes \(9\/10\)/) });
    expect(g.score).toBeCloseTo((1 + 0.9) / 2);

    const server = servers.get('reference judged 9/10')!;
    expect(server.requests).toHaveLength(1);
    const body = server.requests[0]!.body;
    expect(body.tool_choice).toEqual({ type: 'tool', name: RUBRIC_VERDICT_TOOL });
    const system: string = body.system[0].text;
    for (const c of rubric.criteria) expect(system).toContain(`### ${c.id}: ${c.title}`);
    expect(system).toContain('A submission passes with at least 8 of 10 points.');
    const user: string = body.messages[0].content[0].text;
    expect(user).toContain('<assignment>');
    expect(user).toContain(await read('starter.py'));
    expect(user).toContain(await read('solution/reference.py'));
    expect(logs.get('reference judged 9/10')!.requests).toBe(1);
  });

  it('fails a submission check.py passes (10 of 11) when the judge gives 6/10, and reports the disagreement', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grade('single miss judged 6/10');
    const by = byName(g);
    expect(by.get('static_score')).toMatchObject({ passed: true, detail: expect.stringMatching(/^10 of 11/) });
    expect(by.get('judge:verdict')?.passed).toBe(false);
    expect(g.passed).toBe(false);
    const d = by.get(DISAGREEMENT_CHECK)!;
    expect(d.passed).toBe(false);
    expect(d.detail).toMatch(/^DISAGREE: the AST rule passes \(10 of 11\) but the judge fails \(6\/10\); the trial fails on the judge/);
    // Per criterion: the judge's wrapping, checkpoint and optimizer deductions are not seen by check.py; the
    // global-rank GPU is seen by both, so it is not listed.
    expect(d.detail).toContain('- fsdp-wrapping: judge 1/2; check.py passes fsdp_lambda_auto_wrap, wrap_criteria, no_transformer_auto_wrap_policy');
    expect(d.detail).toContain('- optimizer-after-fsdp: judge 0/1; check.py passes optimizer_after_fsdp');
    expect(d.detail).not.toContain('- distributed-init');
  });

  it('fails a submission the judge passes (8/10) when the AST rule fails, and reports the disagreement the other way', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grade('naive judged 8/10');
    const by = byName(g);
    expect(by.get('judge:verdict')?.passed).toBe(true);
    expect(by.get('static_score')).toMatchObject({ passed: false, detail: expect.stringMatching(/^4 of 11/) });
    expect(g.passed).toBe(false);
    expect(by.get(DISAGREEMENT_CHECK)!.detail).toMatch(/^DISAGREE: the judge passes \(8\/10\) but the AST rule fails \(4 of 11\); the trial fails on the AST rule/);
    expect(by.get(DISAGREEMENT_CHECK)!.detail).toContain('- cleanup: judge 1/1; check.py fails destroy_process_group');
  });

  it('retries a malformed verdict, telling the judge what was wrong, then grades with the valid one', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grade('malformed then valid');
    expect(g.passed).toBe(true);
    expect(byName(g).get('judge:verdict')?.detail).toMatch(/^10\/10 points/);
    const server = servers.get('malformed then valid')!;
    expect(server.requests).toHaveLength(2);
    const retry = server.requests[1]!.body.messages;
    expect(retry).toHaveLength(3);
    const result = retry[2].content[0];
    expect(result).toMatchObject({ type: 'tool_result', is_error: true });
    expect(String(result.content)).toContain('cleanup');
    expect(String(result.content)).toMatch(/fsdp-wrapping/);
    expect(logs.get('malformed then valid')!.entries.filter((e) => e.type === 'malformed')).toHaveLength(1);
  });

  it('a judge that never gives a valid verdict is an infrastructure error, never a failed submission', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const r = results.get('malformed every time')!;
    expect(r.grade).toBeUndefined();
    expect(r.error).toBeInstanceOf(JudgeError);
    expect(r.error).toBeInstanceOf(GraderInfraError);
    expect((r.error as Error).message).toMatch(/no valid verdict after 2 attempts \(fsdp-training\)/);
    expect(servers.get('malformed every time')!.requests).toHaveLength(2);
  });

  it('without a judge, check.py decides: the judge checks are not run, with the reason', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    for (const name of ['subtle without judge', 'borderline without judge']) {
      const g = grade(name);
      // Both pass the AST rule: fail-subtle at exactly 9 of 11, which is why the judge example labels it "fail".
      expect(g.passed, name).toBe(true);
      const judgeChecks = g.checks.filter((c) => c.name.startsWith('judge:'));
      expect(judgeChecks.map((c) => c.name)).toEqual([...IDS.map((id) => `judge:${id}`), 'judge:verdict']);
      for (const c of judgeChecks) expect(c).toMatchObject({ passed: null, detail: 'not run: tests grade without a judge' });
      expect(byName(g).get(DISAGREEMENT_CHECK)?.detail).toMatch(/^not compared: the judge did not run \(tests grade without a judge\)/);
    }
    expect(failing(grade('subtle without judge')).sort()).toEqual(['local_rank_from_env', 'optimizer_after_fsdp']);
    expect(byName(grade('subtle without judge')).get('static_score')?.detail).toMatch(/^9 of 11/);
    expect(failing(grade('borderline without judge'))).toEqual([]);
  });
});

describe('fsdp-training judge examples (for judge-check)', () => {
  it('declares a pass, two fails and a borderline, each turning into a valid submission', async () => {
    const { default: def } = await import('../task.js');
    const je = def.judgeExamples!;
    expect(je.examples.map((e) => [e.file, e.label])).toEqual([
      ['judge-examples/pass-clean.py', 'pass'],
      ['judge-examples/fail-subtle.py', 'fail'],
      ['judge-examples/fail-naive.py', 'fail'],
      ['judge-examples/borderline-counting.py', 'borderline'],
    ]);
    const starter = await read('starter.py');
    const classes = starter.slice(starter.indexOf('class TokenDataset'), starter.indexOf('def main'));
    for (const e of je.examples) {
      const text = await read(e.file);
      const sub = await (je.toSubmission as JudgeExampleSubmission)(text, { taskDir, sampleId: 'default', inputs: {}, file: e.file });
      expect(def.submission.parse(sub)).toEqual({ code: text });
      // Every example keeps the original model and dataset, so only the conversion is judged.
      expect(text, e.file).toContain(classes);
      // Nothing in an example tells the judge its label.
      expect(text.toLowerCase(), e.file).not.toMatch(/\b(label|borderline|judge|grader|rubric)\b/);
    }
  });
});
