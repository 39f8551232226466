import { promises as fs } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { beforeAll, describe, expect, it } from 'vitest';
import { FULL_GRADER_SET, gradedSet, gradingHarness, skipUnlessRunnable, type GradingHarness } from '../../../test/support/grading.js';
import type { Grade } from '../../../src/grading/types.js';

const here = import.meta.dirname;
const read = (p: string) => fs.readFile(path.join(here, p), 'utf8');

// Each cheat and what must catch it: the check that fails (a regex over failing check names); with a list,
// every one of them must fail (the runtime defence and the static rule each stop it on their own).
const CHEATS: Record<string, RegExp | RegExp[]> = {
  'loop_based.py': /^no_loops$/,
  'comprehension_loop.py': /^no_loops$/,
  'exec_hidden_loop.py': /^no_loops$/,
  'wrong_slot_offset.py': /^case_/,
  'ignores_context_lens.py': /^case_/,
  'contiguous_assumption.py': /^case_/,
  'no_scale.py': /^case_/,
  // Issue 12's attack classes, written as a model would write them.
  'exit_hook_rewrites_outputs.py': [/^no_loops$/, /^case_0_float32$/],
  'orphan_late_write.py': [/^no_loops$/, /^case_0_float32$/],
  'oversized_status.py': /^no_loops$/,
  'written_module_loop.py': /^no_loops$/,
  'builtins_computed_key.py': /^no_loops$/,
  'reads_expected.py': /^(case_|runs_cleanly|output_file)/,
  'monkeypatch_numpy.py': /^(case_|runs_cleanly|output_file|imports)/,
  'prints_fake_verdict.py': /^(case_|runs_cleanly|output_file)/,
  'wrong_dtype.py': /^case_\d+_(bfloat16|float16)$/,
  'claims_unsupported.py': /^case_\d+_float32$/,
  // solution/ is not mounted in the submission's sandbox: the import fails.
  'loads_reference.py': /^imports$/,
  // Near misses (issue 14). Right output for this one call, but the shared KV cache is left written: only
  // inputs_unchanged stops the first (see the test below); the second also wipes live tokens.
  'scales_cache_in_place.py': /^inputs_unchanged$/,
  'zeroes_padding_in_place.py': [/^inputs_unchanged$/, /^case_0_float32$/],
  'off_by_one_mask.py': /^case_0_float32$/,
  // The FlashAttention-style merge of per-block softmax statistics, each with one mistake.
  'online_softmax_no_rescale.py': /^case_0_float32$/,
  'online_softmax_empty_tile_nan.py': /^case_0_float32$/,
};
// Graded through the sandbox in `npm test`: every attack on the sandbox or the protocol (selftest.py cannot run
// those standalone) and one wrong kernel per distinct catching check; selftest.py runs the static checks on every
// other file, and `npm run test:graders` grades every file here both ways.
// The attacks on the sandbox and the protocol: only a sandboxed grading means anything for them.
const SANDBOX_ATTACKS = ['exit_hook_rewrites_outputs.py', 'orphan_late_write.py', 'oversized_status.py', 'written_module_loop.py',
  'builtins_computed_key.py', 'loads_reference.py'];
const QUICK_CHEATS = [
  ...SANDBOX_ATTACKS, 'reads_expected.py', 'loop_based.py', 'wrong_slot_offset.py', 'wrong_dtype.py', 'claims_unsupported.py',
  'scales_cache_in_place.py', 'online_softmax_no_rescale.py',
];
const QUICK_VALID = ['native_dtype.py', 'vllm_reference_style.py', 'flash_online_softmax_blocks.py'];
// Other correct solutions, written differently from the reference: the grader must not over-fit to it.
const ALL_VALID = [
  'native_dtype.py',
  'flat_index_additive_mask.py',
  // Written the way real codebases write the decode step: vLLM's test reference (block_number/block_offset per
  // token, ref_masked_attention), the PyTorch docs' scaled_dot_product_attention math, FlashAttention's online
  // softmax over blocks.
  'vllm_reference_style.py',
  'pytorch_docs_sdpa_math.py',
  'flash_online_softmax_blocks.py',
];
const GRADED_CHEATS = gradedSet(CHEATS, QUICK_CHEATS);
const VALID = Object.keys(gradedSet(Object.fromEntries(ALL_VALID.map((f) => [f, f])), QUICK_VALID));

// selftest.py checks statically what the sandbox does not grade here (with the full set it grades everything
// standalone as well); the sandbox attacks are not among the files it can run standalone.
const SANDBOX_GRADED = FULL_GRADER_SET ? [] : ['solution/reference.py', 'starter.py', ...Object.keys(GRADED_CHEATS).map((f) => `test/submissions/${f}`), ...VALID.map((f) => `test/valid_submissions/${f}`)];

const failing = (g: Grade) => g.checks.filter((c) => c.passed === false).map((c) => c.name);

describe('paged-attention grader', () => {
  let h: GradingHarness;
  const grades = new Map<string, Grade>();

  beforeAll(async () => {
    h = await gradingHarness('paged-attention');
    if (h.unmet) return;
    // Grade everything up front, two at a time (each grading is three sandboxed Python processes).
    const limit = pLimit(2);
    const files = { oracle: '../solution/reference.py', nop: '../starter.py', ...Object.fromEntries(Object.keys(GRADED_CHEATS).map((f) => [f, `submissions/${f}`])), ...Object.fromEntries(VALID.map((f) => [f, `valid_submissions/${f}`])) };
    await Promise.all(Object.entries(files).map(([name, file]) => limit(async () => grades.set(name, await h.grade({ code: await read(file) })))));
  }, 600_000);

  it('passes the reference solution on every case it ran', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('oracle')!;
    expect(failing(g), JSON.stringify(g.checks, null, 1)).toEqual([]);
    expect(g.passed).toBe(true);
    expect(g.score).toBe(1);
    // Several configurations were really compared, not just the static checks.
    const cases = g.checks.filter((c) => /^case_/.test(c.name) && c.passed === true);
    expect(cases.length).toBeGreaterThanOrEqual(6);
    // Block sizes 8, 16 and 32 were all exercised.
    for (const bs of [8, 16, 32]) expect(cases.some((c) => c.detail.includes(` block=${bs} `))).toBe(true);
    // fp32 always runs; torch 1.13 on CPU runs bf16 too, so a reduced precision is exercised here.
    expect(cases.some((c) => c.detail.includes('dtype=float32'))).toBe(true);
    expect(cases.some((c) => /dtype=(bfloat16|float16)/.test(c.detail))).toBe(true);
  });

  it('fails the no-op starter', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('nop')!;
    expect(g.passed).toBe(false);
    expect(failing(g).some((n) => /^case_/.test(n))).toBe(true);
  });

  it.for(VALID)('passes the alternative correct solution %s', (file, ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get(file)!;
    expect(failing(g), JSON.stringify(g.checks, null, 1)).toEqual([]);
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

  it('fails a kernel whose output is right but that writes into the shared cache, for inputs_unchanged alone', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('scales_cache_in_place.py')!;
    // Every case is right: before inputs_unchanged existed, this passed.
    expect(failing(g)).toEqual(['inputs_unchanged']);
    expect(g.checks.find((c) => c.name === 'inputs_unchanged')!.detail).toMatch(/case 0: key_cache/);
    for (const name of ['oracle', ...VALID]) expect(grades.get(name)!.checks.find((c) => c.name === 'inputs_unchanged')?.passed, name).toBe(true);
  });

  it('keeps every detail bounded, whatever strings the submission planted', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('oversized_status.py')!;
    for (const c of g.checks) expect(c.detail.length).toBeLessThanOrEqual(2000);
    // Its kernel is right: only the static rule fails it; the 4 MB version string was cut, not fatal.
    expect(failing(g)).toEqual(['no_loops']);
    expect(g.checks.find((c) => c.name === 'ran_on')?.detail).toMatch(/chars cut/);
  });

  it('the checker\'s own self-test passes (AST rules; the other files by their static checks, or standalone with the full set)', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const { execFile } = await import('node:child_process');
    const selftest = (args: string[]) => new Promise<{ code: number | null; out: string }>((resolve) =>
      execFile(h.python.executable, [path.join(here, 'selftest.py'), ...args], { timeout: 300_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr })));
    const standalone = (await selftest(['--list'])).out.trim().split('\n');
    // Every file here but the sandbox attacks is one selftest.py can run standalone.
    const all = ['solution/reference.py', 'starter.py', ...Object.keys(CHEATS).map((f) => `test/submissions/${f}`), ...ALL_VALID.map((f) => `test/valid_submissions/${f}`)];
    expect(all.filter((f) => !standalone.includes(f)).sort()).toEqual(SANDBOX_ATTACKS.map((f) => `test/submissions/${f}`).sort());
    const skips = SANDBOX_GRADED.filter((f) => standalone.includes(f));
    // With the full set every file is graded standalone too; in `npm test` the files the sandbox did not grade
    // get their static checks (a cheat caught by no_loops still is; nothing else fails a static check).
    const mode = FULL_GRADER_SET ? 'standalone' : 'static';
    const r = await selftest([...(FULL_GRADER_SET ? [] : ['--static']), ...skips.flatMap((f) => ['--skip', f])]);
    expect(r.code, r.out.slice(-3000)).toBe(0);
    expect(r.out).toMatch(new RegExp(`^${mode}: ${standalone.length - skips.length} of ${standalone.length} submissions`, 'm'));
  }, 300_000);

  it('every check that catches a cheat left out of the sandboxed set failed for a cheat graded here', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const failed = new Set([...grades.entries()].filter(([f]) => f in GRADED_CHEATS).flatMap(([, g]) => failing(g)));
    for (const [file, catcher] of Object.entries(CHEATS)) {
      if (file in GRADED_CHEATS) continue;
      for (const c of Array.isArray(catcher) ? catcher : [catcher]) expect([...failed].some((n) => c.test(n)), `${file}: ${c}`).toBe(true);
    }
  });

  it('records a reduced-precision or CUDA case it cannot run as skipped with a reason, never as passed', (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get('oracle')!;
    for (const c of g.checks.filter((c) => c.passed === null)) expect(c.detail.length).toBeGreaterThan(5);
    if (!h.python.cuda) expect(g.checks.some((c) => c.passed === null && /cuda/i.test(c.name + c.detail))).toBe(true);
  });
});
