import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import pLimit from 'p-limit';
import { beforeAll, describe, expect, it } from 'vitest';
import { gradingHarness, skipUnlessRunnable, type GradingHarness } from '../../../test/support/grading.js';
import type { Grade } from '../../../src/grading/types.js';

const here = import.meta.dirname;
const read = (p: string) => fs.readFile(path.join(here, p), 'utf8');

const STATIC = ['nccl_init', 'local_rank_from_env', 'fsdp_lambda_auto_wrap', 'wrap_criteria', 'no_transformer_auto_wrap_policy',
  'distributed_sampler', 'set_epoch_in_loop', 'optimizer_after_fsdp', 'full_state_dict_config', 'rank0_state_dict_save',
  'destroy_process_group'];
const RUNTIME = ['torchrun_completes', 'checkpoint_full_state_dict', 'fsdp_at_runtime'];

// Each wrong or cheating submission and the checks that must fail for it (every one listed).
const CHEATS: Record<string, string[]> = {
  'transformer_policy.py': ['no_transformer_auto_wrap_policy', 'fsdp_lambda_auto_wrap', 'static_score'],
  'naive_conversion.py': ['optimizer_after_fsdp', 'local_rank_from_env', 'full_state_dict_config', 'static_score'],
  'keywords_in_comments.py': ['nccl_init', 'fsdp_lambda_auto_wrap', 'distributed_sampler', 'static_score'],
  'dead_code.py': ['nccl_init', 'fsdp_lambda_auto_wrap', 'optimizer_after_fsdp', 'static_score'],
  'fake_checkpoint.py': ['rank0_state_dict_save', 'optimizer_after_fsdp', 'static_score'],
  // The idioms the value flow follows (helpers, partials, kwargs dicts, loop-called helpers), used to hide misses.
  'helper_transformer_policy.py': ['no_transformer_auto_wrap_policy', 'fsdp_lambda_auto_wrap', 'wrap_criteria', 'static_score'],
  'idioms_hide_misses.py': ['fsdp_lambda_auto_wrap', 'wrap_criteria', 'distributed_sampler', 'set_epoch_in_loop', 'static_score'],
  'built_but_unused.py': ['fsdp_lambda_auto_wrap', 'wrap_criteria', 'distributed_sampler', 'set_epoch_in_loop', 'static_score'],
  // The Trainer-class idioms (methods through self, attributes) used to hide misses.
  'trainer_hides_misses.py': ['fsdp_lambda_auto_wrap', 'wrap_criteria', 'distributed_sampler', 'set_epoch_in_loop', 'static_score'],
  // Writes to the kwargs dicts where a flow reading only `kw[k] = v` and `kw.update()` statements does not look.
  'dict_writes_hide_misses.py': ['fsdp_lambda_auto_wrap', 'wrap_criteria', 'distributed_sampler', 'static_score'],
  // A main block behind a flag that is always False: the constant folding (envbench_check.constants) makes all of it dead.
  'main_never_runs.py': ['nccl_init', 'local_rank_from_env', 'fsdp_lambda_auto_wrap', 'distributed_sampler', 'set_epoch_in_loop', 'optimizer_after_fsdp', 'rank0_state_dict_save', 'destroy_process_group', 'static_score'],
};
// Correct conversions written the way real codebases write them; each must pass every static check.
const CORRECT = ['helper_functions.py', 'pytorch_examples_style.py', 'fsdp_tutorial_style.py', 'oss_recipes_style.py', 'ddp_tutorial_trainer_style.py', 'fsdp_kwargs_dict_style.py'];
const VALID = [...CORRECT, 'single_miss_global_rank.py'];

const byName = (g: Grade) => new Map(g.checks.map((c) => [c.name, c]));
const failing = (g: Grade) => g.checks.filter((c) => c.passed === false).map((c) => c.name);

describe('fsdp-training grader', () => {
  let h: GradingHarness;
  const grades = new Map<string, Grade>();

  beforeAll(async () => {
    h = await gradingHarness('fsdp-training');
    if (h.unmet) return;
    const limit = pLimit(2);
    const files = {
      oracle: '../solution/reference.py',
      nop: '../starter.py',
      ...Object.fromEntries(Object.keys(CHEATS).map((f) => [f, `submissions/${f}`])),
      ...Object.fromEntries(VALID.map((f) => [f, `valid_submissions/${f}`])),
    };
    await Promise.all(Object.entries(files).map(([name, file]) => limit(async () => grades.set(name, await h.grade({ code: await read(file) })))));
  }, 900_000);

  it('passes the reference solution on all 11 static checks', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('oracle')!;
    expect(failing(g), JSON.stringify(g.checks, null, 1)).toEqual([]);
    expect(g.passed).toBe(true);
    const by = byName(g);
    for (const n of STATIC) expect(by.get(n)?.passed, n).toBe(true);
    expect(by.get('static_score')?.detail).toMatch(/^11 of 11/);
  });

  it('without CUDA records the torchrun checks as skipped with the reason, never as passed', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const by = byName(grades.get('oracle')!);
    for (const n of RUNTIME) {
      const c = by.get(n);
      expect(c, n).toBeDefined();
      if (h.python.cuda && /^2\./.test(h.python.torch ?? '')) expect(c!.passed, n).toBe(true);
      else {
        expect(c!.passed, n).toBeNull();
        expect(c!.detail).toMatch(/skipped: .*(CUDA|torch)/);
      }
    }
  });

  it('fails the no-op (the single-GPU starter)', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('nop')!;
    expect(g.passed).toBe(false);
    expect(failing(g)).toEqual(expect.arrayContaining(['static_score', 'nccl_init', 'fsdp_lambda_auto_wrap']));
  });

  it.for(Object.entries(CHEATS))('fails %s, caught by the expected checks', ([file, catchers], ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get(file)!;
    expect(g.passed, JSON.stringify(g.checks, null, 1)).toBe(false);
    expect(failing(g), `failing checks: ${failing(g).join(', ')}`).toEqual(expect.arrayContaining(catchers));
  });

  it.for(CORRECT)('passes %s, a correct conversion written differently, on every static check', (file, ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get(file)!;
    expect(failing(g), JSON.stringify(g.checks, null, 1)).toEqual([]);
    expect(g.passed).toBe(true);
    expect(byName(g).get('static_score')?.detail).toMatch(/^11 of 11/);
  });

  it("applies the seed's 9-of-11 rule: a single miss still passes, and the miss is reported", (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('single_miss_global_rank.py')!;
    expect(failing(g)).toEqual(['local_rank_from_env']);
    expect(g.passed).toBe(true);
    expect(byName(g).get('static_score')?.detail).toMatch(/^10 of 11/);
  });

  it("the checker's self-test passes (AST rules, the checkpoint loader on fabricated runs, the worker's tracer)", async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const r = await new Promise<{ code: number | null; out: string }>((resolve) =>
      execFile(h.python.executable, [path.join(here, 'selftest.py')], { timeout: 180_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr })));
    expect(r.code, r.out.slice(-3000)).toBe(0);
    expect(r.out).toMatch(/AST cases: \d+ run, 0 wrong/);
    expect(r.out).toMatch(/fabricated runs: \d+ compared/);
    expect(r.out).toMatch(/tracer: ok/);
  }, 180_000);

  it('ships the seed rubric for the LLM judge: 10 points, explicit pass/fail conditions, pass at 8', async () => {
    const rubric = await fs.readFile(path.join(here, '..', 'rubric.md'), 'utf8');
    const rows = [...rubric.matchAll(/^\| (\d) \| ([^|]+) \| (\d) \|$/gm)];
    expect(rows.map((r) => r[2]!.trim())).toEqual(['Distributed initialization', 'FSDP wrapping', 'Data distribution',
      'Checkpoint handling', 'Cleanup', 'Optimizer after FSDP', 'Overall correctness']);
    expect(rows.reduce((s, r) => s + Number(r[3]), 0)).toBe(10);
    expect(rubric).toMatch(/\*\*Pass: 8 or more of 10 points\.\*\*/);
    // Every criterion states both what passes and what fails.
    for (const section of rubric.split(/^## \d\. /m).slice(1)) {
      expect(section).toMatch(/\*\*(Pass|1 point)/);
      expect(section).toMatch(/\*\*Fail/);
    }
  });
});
