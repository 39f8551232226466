import { promises as fs } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradedSet, gradingHarness, skipUnlessRunnable, type GradingHarness } from '../../../test/support/grading.js';
import { staticChecks, type StaticVerdict } from '../../../test/support/static-checks.js';
import { failingChecks } from '../../../src/grading/expectations.js';
import type { Grade } from '../../../src/grading/types.js';

const here = import.meta.dirname;
const taskDir = path.dirname(here);
const read = (p: string) => fs.readFile(path.join(here, p), 'utf8');

const CRITERIA = ['neural_memory_class', 'surprise_gate', 'learnable_decay', 'outer_product', 'recurrent_update', 'gated_fusion'];
const RUNTIME = ['runs', 'logits_shape', 'causal', 'memory_used', 'memory_state_per_token', 'memory_recurrent', 'memory_gradients'];

// Each wrong or cheating submission and the checks that must catch it (every one listed must fail).
const CHEATS: Record<string, string[]> = {
  'memory_unused.py': ['memory_used'],
  'constant_decay.py': ['learnable_decay'],
  'additive_fusion.py': ['gated_fusion'],
  'concat_fusion.py': ['gated_fusion'],
  'generic_gate.py': ['surprise_gate'],
  'static_memory.py': ['recurrent_update', 'memory_recurrent'],
  'keywords_in_comments.py': ['surprise_gate', 'gated_fusion'],
  'changes_signature.py': ['runs', 'logits_shape'],
  'returns_tuple.py': ['runs', 'logits_shape'],
  'no_grad_memory.py': ['memory_gradients'],
  'detached_memory_output.py': ['memory_gradients'],
  'kv_cache_memory.py': ['outer_product', 'memory_state_per_token', 'memory_recurrent'],
  'leaks_future.py': ['causal', 'memory_recurrent'],
  'escapes_sandbox.py': ['sandbox_safe'],
  'prints_fake_verdict.py': ['sandbox_safe'],
  'monkeypatch_torch.py': ['sandbox_safe', 'memory_gradients'],
  // Issue 12: the exit hook never runs (the child is SIGKILLed once its results are in the pipe), so the
  // leak it tried to hide is still seen; the oversized version string is cut, never fatal.
  'exit_hook_rewrites_outputs.py': ['sandbox_safe', 'causal', 'memory_recurrent'],
  'oversized_status.py': ['sandbox_safe'],
  // Issue 14: scans. The analysis follows associative-scan helpers, so these must fail for what they get wrong.
  'scan_result_discarded.py': ['recurrent_update', 'memory_recurrent'],
  'scan_reversed_leaks_future.py': ['recurrent_update', 'causal', 'memory_recurrent'],
  'scan_helper_unused.py': ['recurrent_update', 'memory_recurrent'],
  'scan_constant_decay.py': ['learnable_decay'],
};
// The wrong submissions that are otherwise right must fail *only* there: the other criteria still pass.
const ONLY: Record<string, string[]> = {
  'constant_decay.py': ['learnable_decay'],
  'additive_fusion.py': ['gated_fusion'],
  'generic_gate.py': ['surprise_gate'],
  'escapes_sandbox.py': ['sandbox_safe'],
  'oversized_status.py': ['sandbox_safe'],
  'scan_constant_decay.py': ['learnable_decay'],
};
// Correct solutions written differently from the reference: the grader must not over-fit to it.
const VALID = [
  'novelty_bmm_forget_gate.py',
  'autograd_surprise.py',
  // Issue 14: the paper's parallel form through an associative-scan helper, a Titans-port-style chunked scan,
  // and a plain tutorial-style loop.
  'assoc_scan_log_space.py',
  'chunked_titans_port.py',
  'tutorial_token_loop.py',
];
const JUDGE = ['pass.py', 'fail.py', 'borderline.py'];

// Graded through the sandbox in `npm test` (test/support/grading.ts): every attack on the sandbox or the protocol,
// one cheat per runtime check, one cheat a static check catches (through the whole grading), and the two
// alternatives the runtime probes once failed. Every other file goes through check.py's static analysis in one
// process (below); `npm run test:graders` grades all of them, the judge examples too, through the sandbox.
const QUICK_CHEATS = ['escapes_sandbox.py', 'prints_fake_verdict.py', 'monkeypatch_torch.py', 'exit_hook_rewrites_outputs.py',
  'oversized_status.py', 'memory_unused.py', 'changes_signature.py', 'no_grad_memory.py', 'kv_cache_memory.py', 'leaks_future.py',
  'scan_result_discarded.py', 'scan_constant_decay.py'];
const QUICK_VALID = ['assoc_scan_log_space.py', 'chunked_titans_port.py'];
const GRADED_CHEATS = gradedSet(CHEATS, QUICK_CHEATS);
const GRADED_VALID = Object.keys(gradedSet(Object.fromEntries(VALID.map((f) => [f, f])), QUICK_VALID));
const GRADED_JUDGE = Object.keys(gradedSet(Object.fromEntries(JUDGE.map((f) => [f, f])), []));
// What check.static_checks reports (a test below holds this to the real list).
const STATIC = ['sandbox_safe', ...CRITERIA];
const STATIC_CHEATS = Object.entries(CHEATS).filter(([f, c]) => !(f in GRADED_CHEATS) && c.some((n) => STATIC.includes(n)));
const RUNTIME_ONLY = Object.entries(CHEATS).filter(([f, c]) => !(f in GRADED_CHEATS) && !c.some((n) => STATIC.includes(n)));
const STATIC_VALID = VALID.filter((f) => !GRADED_VALID.includes(f));

const failing = failingChecks;
const byName = (g: Grade, name: string) => g.checks.find((c) => c.name === name);

describe('neural-memory grader', () => {
  let h: GradingHarness;
  const grades = new Map<string, Grade>();
  let statics = new Map<string, StaticVerdict>();

  beforeAll(async () => {
    h = await gradingHarness('neural-memory');
    if (h.unmet) return;
    // Grade everything up front, two at a time (each grading is three sandboxed Python processes).
    const limit = pLimit(2);
    const files: Record<string, string> = {
      oracle: '../solution/reference.py',
      nop: '../starter.py',
      ...Object.fromEntries(Object.keys(GRADED_CHEATS).map((f) => [f, `submissions/${f}`])),
      ...Object.fromEntries(GRADED_VALID.map((f) => [f, `valid_submissions/${f}`])),
      ...Object.fromEntries(GRADED_JUDGE.map((f) => [`judge:${f}`, `../judge-examples/${f}`])),
    };
    await Promise.all(Object.entries(files).map(([name, file]) => limit(async () => grades.set(name, await h.grade({ code: await read(file) })))));
    statics = await staticChecks(h.python.executable, taskDir, 'check.static_checks(src)', {
      oracle: { file: 'solution/reference.py' },
      ...Object.fromEntries(STATIC_CHEATS.map(([f]) => [f, { file: `test/submissions/${f}` }])),
      ...Object.fromEntries(STATIC_VALID.map((f) => [f, { file: `test/valid_submissions/${f}` }])),
      ...Object.fromEntries(JUDGE.map((f) => [`judge:${f}`, { file: `judge-examples/${f}` }])),
    });
  }, 600_000);

  it('passes the reference solution: all six criteria and every runtime check', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('oracle')!;
    expect(failing(g), JSON.stringify(g.checks, null, 1)).toEqual([]);
    expect(g.passed).toBe(true);
    expect(g.score).toBe(1);
    for (const name of ['sandbox_safe', ...CRITERIA, ...RUNTIME]) expect(byName(g, name)?.passed, name).toBe(true);
    // The state check really saw a per-token d x d matrix, and the gradient check really saw parameters.
    expect(byName(g, 'memory_state_per_token')!.detail).toMatch(/\[2, 32, 32\] took 1[34] distinct values over 13 tokens/);
    expect(byName(g, 'memory_gradients')!.detail).toMatch(/all \d+ memory parameters/);
  });

  it('fails the no-op starter (no memory at all), while its plain Transformer still runs', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('nop')!;
    expect(g.passed).toBe(false);
    expect(failing(g)).toEqual(expect.arrayContaining(['neural_memory_class', 'memory_used', 'memory_gradients']));
    for (const name of ['runs', 'logits_shape', 'causal']) expect(byName(g, name)?.passed, name).toBe(true);
  });

  it.for(GRADED_VALID)('passes the alternative correct solution %s', (file, ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get(file)!;
    expect(failing(g), JSON.stringify(g.checks, null, 1)).toEqual([]);
    expect(g.passed).toBe(true);
  });

  it.for(Object.entries(GRADED_CHEATS))('fails %s, caught by the right checks', ([file, catchers], ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get(file)!;
    expect(g.passed, JSON.stringify(g.checks, null, 1)).toBe(false);
    expect(failing(g), `failing checks: ${failing(g).join(', ')}`).toEqual(expect.arrayContaining(catchers));
    const only = ONLY[file];
    if (only) expect(failing(g).filter((n) => n !== 'runs_cleanly' && n !== 'output_file').sort()).toEqual([...only].sort());
  });

  it('the static check names used to sort the cheats are those check.py\'s static analysis reports', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    expect(statics.get('oracle')!.checks.map((c) => c.name)).toEqual(STATIC);
    expect(failing(statics.get('oracle')!)).toEqual([]);
  });

  it('every catching check of a cheat left to `npm run test:graders` is exercised by a cheat graded here', () => {
    const graded = new Set(Object.values(GRADED_CHEATS).flat());
    for (const [file, catchers] of [...RUNTIME_ONLY, ...STATIC_CHEATS]) {
      for (const c of catchers.filter((n) => !STATIC.includes(n))) expect(graded.has(c), `${file}: ${c}`).toBe(true);
    }
  });

  it.for(STATIC_CHEATS)('static analysis: %s fails the static checks that catch it', ([file, catchers], ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const failed = failing(statics.get(file)!);
    expect(failed, JSON.stringify(statics.get(file)!.checks, null, 1)).toEqual(expect.arrayContaining(catchers.filter((n) => STATIC.includes(n))));
    const only = ONLY[file];
    if (only) expect(failed.sort()).toEqual([...only].sort());
  });

  it.for(STATIC_VALID)('static analysis: the alternative correct solution %s passes every static check', (file, ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const v = statics.get(file)!;
    expect(v.checks.map((c) => c.name)).toEqual(STATIC);
    expect(failing(v), JSON.stringify(v.checks, null, 1)).toEqual([]);
  });

  it('keeps every detail bounded, whatever strings the submission planted', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('oversized_status.py')!;
    for (const c of g.checks) expect(c.detail.length).toBeLessThanOrEqual(2000);
    expect(g.checks.find((c) => c.name === 'ran_on')?.detail).toMatch(/chars cut/);
  });

  it('never lets a submission print or fake its own verdict', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('prints_fake_verdict.py')!;
    // It exits before writing outputs: the harness notices, and every runtime check fails from compare.
    expect(failing(g).some((n) => ['runs_cleanly', 'output_file', 'runs'].includes(n))).toBe(true);
    expect(g.checks.some((c) => c.passed === true && c.name === 'gated_fusion' && c.detail === 'ok')).toBe(false);
  });

  it('grades the judge examples as labelled (borderline fails only the surprise gate here)', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const labels = z
      .array(z.object({ file: z.string().regex(/\.py$/), label: z.enum(['pass', 'fail', 'borderline']), why: z.string().min(40) }))
      .parse(JSON.parse(await fs.readFile(path.join(taskDir, 'judge-examples/labels.json'), 'utf8')));
    expect(labels.map((l) => l.file).sort()).toEqual([...JUDGE].sort());
    for (const l of labels) {
      // Through the sandbox with `npm run test:graders` (the judge tests grade all three that way too); the
      // static analysis alone here.
      const g = grades.get(`judge:${l.file}`);
      const failed = failing(g ?? statics.get(`judge:${l.file}`)!);
      if (l.label === 'pass') expect(failed, l.file).toEqual([]);
      if (l.label === 'fail') expect(failed).toEqual(expect.arrayContaining(['surprise_gate', 'gated_fusion']));
      if (l.label === 'borderline') expect(failed).toEqual(['surprise_gate']);
      if (g && l.label !== 'pass') for (const name of RUNTIME) expect(byName(g, name)?.passed, `${l.file} ${name}`).toBe(true);
    }
  });

  it('renders one prompt per variant, each with the hints of its seed ablation row', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const t = h.task;
    expect(t.variants.map((v) => v.id).sort()).toEqual(
      ['biology-only', 'biology-outer-product', 'biology-outer-product-learnable', 'explicit-criteria', 'paper'].sort());
    expect(t.defaultVariant.id).toBe('biology-outer-product-learnable');
    const user = (v: string) => t.renderPrompt(v, 'default').user;
    const outer = /V ⊗ K/;
    const learnable = /learnable parameter \(`nn\.Parameter`\)/;
    expect(user('biology-outer-product-learnable')).toMatch(outer);
    expect(user('biology-outer-product-learnable')).toMatch(learnable);
    expect(user('biology-outer-product')).toMatch(outer);
    expect(user('biology-outer-product')).not.toMatch(learnable);
    expect(user('biology-only')).not.toMatch(outer);
    expect(user('biology-only')).not.toMatch(learnable);
    expect(user('explicit-criteria')).toMatch(/g \* attn \+ \(1 - g\) \* mem/);
    expect(user('paper')).toMatch(/2501\.00663/);
    for (const v of t.variants.map((x) => x.id)) {
      // Every variant states the interface the grader relies on and shows the starter.
      expect(user(v)).toMatch(/class NeuralMemory\(nn\.Module\)/);
      expect(user(v)).toMatch(/class SimpleTransformer\(nn\.Module\)/);
      expect(user(v)).not.toMatch(/\{\{/);
      // The fusion and surprise formulas are given away only by the explicit variant.
      if (v !== 'explicit-criteria') expect(user(v)).not.toMatch(/1 - g|prediction error/);
    }
  });

  it("the checker's own static self-test passes (honest variations, traps, sandbox rules)", async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const { execFile } = await import('node:child_process');
    const r = await new Promise<{ code: number | null; out: string }>((resolve) =>
      execFile(h.python.executable, [path.join(here, 'selftest.py'), '--quick'], { timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr })));
    expect(r.code, r.out.slice(-3000)).toBe(0);
    expect(r.out).toMatch(/static: \d+ programs, 0 failures/);
  }, 120_000);

  it('records how it ran as information, never as a pass', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('oracle')!;
    const ranOn = byName(g, 'ran_on')!;
    expect(ranOn.passed).toBeNull();
    expect(ranOn.detail).toMatch(h.python.cuda ? /cuda|cpu/ : /ran on cpu .*cuda: not available/);
  });
});
