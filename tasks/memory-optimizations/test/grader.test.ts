import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import pLimit from 'p-limit';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradedSet, gradingHarness, skipUnlessRunnable, type GradingHarness } from '../../../test/support/grading.js';
import { staticChecks, type StaticVerdict } from '../../../test/support/static-checks.js';
import { failingChecks } from '../../../src/grading/expectations.js';
import type { Grade } from '../../../src/grading/types.js';

const here = import.meta.dirname;
const read = (p: string) => fs.readFile(path.join(here, p), 'utf8');

// Each wrong or cheating submission and the check that must catch it (a regex over failing check names).
// With a list, every one of them must fail (the runtime defence and the static rule each stop it alone).
const CHEATS: Record<string, RegExp | RegExp[]> = {
  'comments_only.py': /^required_(mixed_precision|gradient_checkpointing|sdpa)$/,
  'unused_imports.py': /^required_(mixed_precision|gradient_checkpointing|sdpa)$/,
  'architecture_changed.py': /^architecture_unchanged$/,
  'wrong_autocast_api.py': /^torch_api_arguments$/,
  'unguarded_pin_memory.py': /^runs$/,
  'gated_techniques.py': /^techniques_exercised$/,
  'trains_a_copy.py': /^weights_updated$/,
  'resets_peak_stats.py': /^no_measurement_tampering$/,
  'patches_torch.py': /^no_measurement_tampering$/,
  'one_extra_technique.py': /^optional_count$/,
  'prints_fake_verdict.py': /^(runs|runs_cleanly|output_file)$/,
  // Issue 12: the exit hook that forges the wrapper's counters never runs; the oversized version is cut.
  'exit_hook_forges_counters.py': [/^techniques_exercised$/, /^no_measurement_tampering$/],
  'oversized_status.py': /^no_measurement_tampering$/,
  // Issue 14: techniques in code that never runs (the shared constant folding, envbench_check/constants.py).
  'constant_false_flags.py': /^optional_count$/,
  'false_and_guard.py': /^optional_count$/,
  'flag_rebound_false.py': /^optional_count$/,
  'uncalled_technique_helpers.py': /^optional_count$/,
  'technique_after_return.py': /^optional_count$/,
  'uncalled_methods.py': /^optional_count$/,
  // Issue 14: the Trainer shape of hf_trainer_flags.py with a step after every micro-batch: following backward
  // into training_step must not make that accumulation.
  'split_accumulation_steps_every_call.py': /^optional_count$/,
};
// Issue 14: cheats that pass every other check; only the pruning of dead code fails them.
const DEAD_CODE_CHEATS = ['constant_false_flags.py', 'false_and_guard.py', 'flag_rebound_false.py', 'uncalled_technique_helpers.py',
  'technique_after_return.py', 'uncalled_methods.py'];
const ALL_VALID = ['aliases_and_compile.py', 'pytorch_amp_recipe.py', 'nanogpt_style.py', 'hf_trainer_flags.py'];
// Graded through the sandbox in `npm test` (test/support/grading.ts): every attack on the sandbox, the wrapper or
// the protocol, each cheat a runtime check catches, and one cheat per static check that reaches the verdict
// through the sandboxed grading. Every other file goes through the static analysis below (one process, no
// sandbox); `npm run test:graders` grades all of them through the sandbox.
const QUICK_CHEATS = ['architecture_changed.py', 'unguarded_pin_memory.py', 'gated_techniques.py', 'trains_a_copy.py',
  'prints_fake_verdict.py', 'exit_hook_forges_counters.py', 'oversized_status.py', 'patches_torch.py', 'constant_false_flags.py'];
const QUICK_VALID = ['pytorch_amp_recipe.py', 'nanogpt_style.py'];
const GRADED_CHEATS = gradedSet(CHEATS, QUICK_CHEATS);
const VALID = Object.keys(gradedSet(Object.fromEntries(ALL_VALID.map((f) => [f, f])), QUICK_VALID));
// What techniques.static_checks reports (a test below holds this to the real list).
const STATIC_CHECK_NAMES = ['interface', 'required_mixed_precision', 'required_gradient_checkpointing', 'required_sdpa',
  'optional_gradient_accumulation', 'optional_memory_efficient_optimizer', 'optional_memory_management',
  'optional_cpu_offload_or_pinned_memory', 'optional_torch_compile', 'optional_inplace_operations', 'optional_count',
  'torch_api_arguments', 'no_measurement_tampering'];
const catchersOf = (c: RegExp | RegExp[]) => (Array.isArray(c) ? c : [c]);
const isStatic = (c: RegExp) => STATIC_CHECK_NAMES.some((n) => c.test(n));
const STATIC_CHEATS = Object.entries(CHEATS).filter(([f, c]) => !(f in GRADED_CHEATS) && catchersOf(c).some(isStatic));
const RUNTIME_ONLY = Object.entries(CHEATS).filter(([f, c]) => !(f in GRADED_CHEATS) && !catchersOf(c).some(isStatic));
const STATIC_VALID = ALL_VALID.filter((f) => !VALID.includes(f));
const CUDA_CHECKS = ['peak_memory_reduction', 'weights_on_device', 'loss_matches_baseline'];
const TECHNIQUE_CHECKS = /^(required|optional)_(?!count$)/;

const failing = failingChecks;
// Checks that decide the verdict: every one except the individual optional techniques (optional_count decides those).
const gatingFailures = (g: Pick<Grade, 'checks'>) => failing(g).filter((n) => !/^optional_(?!count$)/.test(n));

/** A dead-code cheat, graded or only analysed: only optional_count decides against it, the hidden technique is not counted. */
function expectOnlyDeadCodeFails(g: Pick<Grade, 'checks'>): void {
  expect(gatingFailures(g), JSON.stringify(g.checks, null, 1)).toEqual(['optional_count']);
  const by = new Map(g.checks.map((c) => [c.name, c]));
  expect(by.get('optional_torch_compile')?.passed).toBe(false);
  expect(by.get('optional_memory_management')?.passed).toBe(true); // the one real extra technique
  expect(by.get('optional_count')?.detail).toMatch(/^1 of 6/);
}

describe('memory-optimizations grader', () => {
  let h: GradingHarness;
  const grades = new Map<string, Grade>();
  let statics = new Map<string, StaticVerdict>();

  beforeAll(async () => {
    h = await gradingHarness('memory-optimizations');
    if (h.unmet) return;
    // Three sandboxed Python processes per grading; two gradings at a time.
    const limit = pLimit(2);
    const files = {
      oracle: '../solution/reference.py',
      nop: '../starter.py',
      ...Object.fromEntries(Object.keys(GRADED_CHEATS).map((f) => [f, `submissions/${f}`])),
      ...Object.fromEntries(VALID.map((f) => [f, `valid_submissions/${f}`])),
    };
    await Promise.all(Object.entries(files).map(([name, file]) => limit(async () => grades.set(name, await h.grade({ code: await read(file) })))));
    const rest = {
      ...Object.fromEntries(STATIC_CHEATS.map(([f]) => [f, { file: `test/submissions/${f}` }])),
      ...Object.fromEntries(STATIC_VALID.map((f) => [f, { file: `test/valid_submissions/${f}` }])),
      oracle: { file: 'solution/reference.py' },
    };
    statics = await staticChecks(h.python.executable, path.dirname(here), 'check.techniques.static_checks(src)', rest);
  }, 600_000);

  it('passes the reference solution', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('oracle')!;
    expect(gatingFailures(g), JSON.stringify(g.checks, null, 1)).toEqual([]);
    expect(g.passed).toBe(true);
    const by = new Map(g.checks.map((c) => [c.name, c]));
    // Every required technique was found, and the script really ran and trained here.
    for (const n of ['required_mixed_precision', 'required_gradient_checkpointing', 'required_sdpa', 'optional_count',
      'runs', 'architecture_unchanged', 'weights_updated', 'techniques_exercised', 'torch_api_arguments', 'no_measurement_tampering']) {
      expect(by.get(n)?.passed, n).toBe(true);
    }
    // Each technique is its own check.
    expect(g.checks.filter((c) => TECHNIQUE_CHECKS.test(c.name)).length).toBe(9);
  });

  it('without CUDA records the memory and loss checks as skipped with the reason, never as passed', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('oracle')!;
    for (const name of CUDA_CHECKS) {
      const c = g.checks.find((x) => x.name === name);
      expect(c, name).toBeDefined();
      if (h.python.cuda) expect(c!.passed, name).not.toBeNull();
      else {
        expect(c!.passed, name).toBeNull();
        expect(c!.detail).toMatch(/CUDA|torch/);
      }
    }
  });

  it('fails the no-op starter (the baseline itself)', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('nop')!;
    expect(g.passed).toBe(false);
    expect(failing(g)).toEqual(expect.arrayContaining(['required_mixed_precision', 'required_gradient_checkpointing', 'required_sdpa']));
    // It does run: the baseline is a valid script, it just optimizes nothing.
    expect(g.checks.find((c) => c.name === 'runs')?.passed).toBe(true);
  });

  it.for(VALID)('passes the alternative correct solution %s', (file, ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get(file)!;
    expect(gatingFailures(g), JSON.stringify(g.checks, null, 1)).toEqual([]);
    expect(g.passed).toBe(true);
  });

  it.for(Object.entries(GRADED_CHEATS))('fails %s, caught by the right check', ([file, catcher], ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get(file)!;
    expect(g.passed, JSON.stringify(g.checks, null, 1)).toBe(false);
    for (const c of Array.isArray(catcher) ? catcher : [catcher]) {
      expect(failing(g).some((n) => c.test(n)), `${c} among failing checks: ${failing(g).join(', ')}`).toBe(true);
    }
  });

  it.for(DEAD_CODE_CHEATS.filter((f) => f in GRADED_CHEATS))('%s fails only optional_count: the techniques it hides in code that never runs do not count', (file, ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    expectOnlyDeadCodeFails(grades.get(file)!);
  });

  it('techniques under a module flag bound to True count (nanoGPT: compile = True; a flag rebound False -> True; the AMP recipe\'s use_amp)', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const nano = new Map(grades.get('nanogpt_style.py')!.checks.map((c) => [c.name, c]));
    expect(nano.get('optional_torch_compile')?.passed).toBe(true);
    expect(nano.get('required_gradient_checkpointing')?.passed).toBe(true);
    // `compile` is the config global there, not the builtin
    expect(nano.get('no_measurement_tampering')?.passed).toBe(true);
    const recipe = new Map(grades.get('pytorch_amp_recipe.py')!.checks.map((c) => [c.name, c]));
    for (const n of ['required_gradient_checkpointing', 'required_mixed_precision', 'optional_gradient_accumulation']) {
      expect(recipe.get(n)?.passed, n).toBe(true);
    }
  });

  // The files not graded through the sandbox here: each cheat whose catching check is static fails it in the
  // static analysis alone (a cheat only a runtime check catches is graded by `npm run test:graders`).
  it('the static check names used to sort the cheats are those the static analysis reports', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    expect(statics.get('oracle')!.checks.map((c) => c.name)).toEqual(STATIC_CHECK_NAMES);
  });

  it('every catching check of a cheat left to `npm run test:graders` is exercised by a cheat graded here', () => {
    const graded = Object.values(GRADED_CHEATS).flatMap(catchersOf).map((c) => c.source);
    for (const [file, c] of RUNTIME_ONLY) for (const r of catchersOf(c)) expect(graded, `${file}: ${r}`).toContain(r.source);
  });

  it.for(STATIC_CHEATS)('static analysis: %s fails the static check that catches it', ([file, catcher], ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const catchers = catchersOf(catcher).filter(isStatic);
    const failed = failing(statics.get(file)!);
    for (const c of catchers) expect(failed.some((n) => c.test(n)), `${c} among failing static checks: ${failed.join(', ')}`).toBe(true);
    if (DEAD_CODE_CHEATS.includes(file)) expectOnlyDeadCodeFails(statics.get(file)!);
  });

  it.for(STATIC_VALID)('static analysis: the alternative correct solution %s passes every static check that decides', (file, ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const v = statics.get(file)!;
    expect(v.checks.map((c) => c.name)).toEqual(STATIC_CHECK_NAMES);
    expect(gatingFailures(v), JSON.stringify(v.checks, null, 1)).toEqual([]);
  });

  it('keeps every detail bounded, whatever strings the submission planted', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('oversized_status.py')!;
    for (const c of g.checks) expect(c.detail.length).toBeLessThanOrEqual(2000);
    expect(gatingFailures(g)).toEqual(['no_measurement_tampering']);
    expect(g.checks.find((c) => c.name === 'runs')?.detail).toMatch(/chars cut/);
  });

  it("the checker's AST self-test passes (aliases, reachability, each technique's patterns)", async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const r = await new Promise<{ code: number | null; out: string }>((resolve) =>
      execFile(h.python.executable, [path.join(here, 'selftest.py'), '--quick'], { timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr })));
    expect(r.code, r.out.slice(-3000)).toBe(0);
    expect(r.out).toMatch(/AST cases: \d+ run, 0 wrong/);
  });
});
