// The deterministic grading of every step (no judge): references pass, starters (the nop) fail, cheats fail on the
// check meant to catch them, and correct solutions written differently from the references pass.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Grade } from '../../../src/grading/types.js';
import { failingChecks } from '../../../src/grading/expectations.js';
import { STEP_IDS, type StepId } from '../grader.js';
import { FULL_GRADER_SET } from '../../../test/support/grading.js';
import { staticChecks, type StaticVerdict } from '../../../test/support/static-checks.js';
import { readTaskFile, skipUnlessRunnable, stepHarness, taskDir, type StepHarness } from './harness.js';

/** Per step: each wrong submission and the check(s) that must fail for it (a regex over failing check names). */
const CHEATS: Record<StepId, Record<string, RegExp>> = {
  'memory-structure': {
    'kv_cache.py': /^fixed_size_state$/,
    'keywords_in_comments.py': /^(outer_product_write|recall)$/,
    'ignores_query.py': /^recall$/,
    'slot_memory.py': /^outer_product_write$/,
  },
  surprise: {
    'generic_gate.py': /^surprise_uses_memory$/,
    'constant_surprise.py': /^surprise_tracks_error$/,
    'keywords_in_comments.py': /^surprise_uses_memory$/,
    'ungated_write.py': /^write_gated_by_surprise$/,
    'unbounded_surprise.py': /^surprise_range$/,
  },
  'update-decay': {
    'float_decay.py': /^decay_learnable$/,
    'keywords_in_comments.py': /^decay_learnable$/,
    'raw_parameter_decay.py': /^decay_bounded$/,
    'decays_new_content.py': /^old_content_decays$/,
  },
  fusion: {
    'residual_gate.py': /^(convex_blend|complementary)$/,
    'concat_linear.py': /^convex_blend$/,
    'fixed_average.py': /^gate_learned$/,
    'ignores_memory.py': /^gate_mixes$/,
    'patches_torch.py': /^sandbox_safe$/,
  },
  full: {
    'leaks_future.py': /^causal$/,
    // Issue 12: the exit hook that would hide the leak never runs (the child is SIGKILLed at its return).
    'exit_hook_rewrites_outputs.py': /^causal$/,
    'memory_unused.py': /^memory_matters$/,
    'no_grad_memory.py': /^memory_trains$/,
    // Issue 14: a scan run over each chunk reversed in time reads the future.
    'scan_reversed_leaks_future.py': /^causal$/,
    // ... and one computed and never read: the replayed memory carries nothing from token to token.
    'scan_result_discarded.py': /^memory_recurrent$/,
  },
};
/** Correct solutions that differ from the references (conventions, shapes, formulas): the checks must not over-fit. */
const VALID: Record<StepId, string[]> = {
  'memory-structure': ['transposed_normalized.py'],
  surprise: ['delta_rule_norm_gate.py'],
  'update-decay': ['data_dependent_forget.py', 'per_row_retention.py'],
  fusion: ['lerp_token_gate.py'],
  // Issue 14: a chunked recursive-doubling scan, and a plain tutorial-style token loop.
  full: ['multihead_delta_memory.py', 'doubling_scan_memory.py', 'tutorial_token_loop.py'],
};
/**
 * Graded through the sandbox in `npm test` (test/support/grading.ts): every reference and starter, the attacks on
 * the sandbox and the protocol, one cheat per catching check, and the valid alternatives the issue-14 analysis
 * needed. The rest (the same catching checks again, and the other alternatives) go through the static checks
 * only here, and through the sandbox with `npm run test:graders`.
 */
const QUICK_CHEATS = new Set([
  'memory-structure/kv_cache.py', 'memory-structure/ignores_query.py', 'memory-structure/slot_memory.py',
  'surprise/generic_gate.py', 'surprise/constant_surprise.py', 'surprise/ungated_write.py', 'surprise/unbounded_surprise.py',
  'update-decay/float_decay.py', 'update-decay/raw_parameter_decay.py', 'update-decay/decays_new_content.py',
  'fusion/residual_gate.py', 'fusion/fixed_average.py', 'fusion/ignores_memory.py', 'fusion/patches_torch.py',
  'full/exit_hook_rewrites_outputs.py', 'full/memory_unused.py', 'full/no_grad_memory.py', 'full/scan_result_discarded.py',
]);
const QUICK_VALID = new Set(['full/doubling_scan_memory.py']);
const graded = (set: Set<string>, step: string, file: string) => FULL_GRADER_SET || set.has(`${step}/${file}`);
/** What stops each step's starter. */
const NOP_CAUGHT_BY: Record<StepId, RegExp> = {
  'memory-structure': /^runs$/,
  surprise: /^runs$/,
  'update-decay': /^(old_content_decays|decay_learnable)$/,
  fusion: /^runs$/,
  full: /^(interface|memory_module)$/,
};

const cheats = STEP_IDS.flatMap((step) => Object.entries(CHEATS[step]).map(([file, re]) => [step, file, re] as const));
const valid = STEP_IDS.flatMap((step) => VALID[step].map((file) => [step, file] as const));

type Verdict = { passed: boolean; checks: Array<{ name: string; passed: boolean | null; detail: string }> };

/** check.py's static checks for the fusion step on each source text, in one process (trusted parsing only, nothing runs them). */
async function staticVerdicts(python: string, sources: string[]): Promise<Verdict[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nmp-static-'));
  try {
    const files = await Promise.all(sources.map(async (source, i) => {
      const file = path.join(dir, `submission${i}.py`);
      await fs.writeFile(file, source);
      return file;
    }));
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(taskDir)})`,
      'import check',
      'print(json.dumps([{"passed": None, "checks": check.static_checks(open(f, "rb").read(), "fusion")} for f in sys.argv[1:]]))',
    ].join('\n');
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(python, ['-c', script, ...files], { timeout: 120_000 }, (err, out) => (err ? reject(err) : resolve(out))),
    );
    return JSON.parse(stdout.trim().split('\n').pop()!) as Verdict[];
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

type Graded = Pick<Grade, 'passed' | 'score' | 'checks'>;

const failing = failingChecks;
const show = (g: Graded) => JSON.stringify(g.checks, null, 1);

describe('neural-memory-progressive: deterministic grading', () => {
  let h: StepHarness;
  const grades = new Map<string, Graded>();
  let statics = new Map<string, StaticVerdict>();
  const key = (step: string, what: string) => `${step}/${what}`;

  beforeAll(async () => {
    h = await stepHarness();
    if (h.unmet) return;
    const jobs: Array<[string, string, string]> = [];
    for (const step of STEP_IDS) {
      jobs.push([step, 'reference', `solution/${step}.py`], [step, 'nop', `steps/${step}/starter.py`]);
      for (const f of Object.keys(CHEATS[step])) if (graded(QUICK_CHEATS, step, f)) jobs.push([step, f, `test/submissions/${step}/${f}`]);
      for (const f of VALID[step]) if (graded(QUICK_VALID, step, f)) jobs.push([step, f, `test/valid_submissions/${step}/${f}`]);
    }
    // Every one through the sandbox, as a trial grades it: with the compare phase reading the module map (no
    // torch import there), that is cheaper than check.py standalone (4.6 s against 2.7 s for one cheat, idle).
    // Two at a time on the 2-core CI machine.
    const limit = pLimit(2);
    await Promise.all(jobs.map(([step, what, file]) => limit(async () => grades.set(key(step, what), await h.grade(await readTaskFile(file), step)))));
    const rest = [
      ...cheats.filter(([step, f]) => !graded(QUICK_CHEATS, step, f)).map(([step, f]) => [step, `test/submissions/${step}/${f}`] as const),
      ...valid.filter(([step, f]) => !graded(QUICK_VALID, step, f)).map(([step, f]) => [step, `test/valid_submissions/${step}/${f}`] as const),
    ];
    statics = await staticChecks(h.python.executable, taskDir, 'check.static_checks(src, extra)',
      Object.fromEntries(rest.map(([step, file]) => [file, { file, extra: step }])));
  }, 600_000);

  it.for(STEP_IDS)('passes the reference for %s on every deterministic check; the judge checks are recorded as not run', (step, ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get(key(step, 'reference'))!;
    expect(failing(g), show(g)).toEqual([]);
    expect(g.passed).toBe(true);
    expect(g.score).toBe(1);
    // The runtime probes really ran: every one of them passed, not just the static checks.
    expect(g.checks.find((c) => c.name === 'runs')).toMatchObject({ passed: true });
    expect(g.checks.filter((c) => c.passed === true).length).toBeGreaterThanOrEqual(7);
    const judge = g.checks.filter((c) => c.name.startsWith('judge:'));
    expect(judge.map((c) => c.name)).toContain('judge:verdict');
    expect(judge.every((c) => c.passed === null && /^not run: tests run the deterministic checks/.test(c.detail))).toBe(true);
  });

  it.for(STEP_IDS)('fails the starter (the nop) for %s', (step, ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get(key(step, 'nop'))!;
    expect(g.passed, show(g)).toBe(false);
    expect(failing(g).some((n) => NOP_CAUGHT_BY[step].test(n)), `failing: ${failing(g).join(', ')}`).toBe(true);
  });

  it.for(cheats.filter(([step, file]) => graded(QUICK_CHEATS, step, file)))('%s: fails %s, caught by %s', ([step, file, catcher], ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get(key(step, file))!;
    expect(g.passed, show(g)).toBe(false);
    expect(failing(g).some((n) => catcher.test(n)), `failing checks: ${failing(g).join(', ')}`).toBe(true);
  });

  it.for(valid.filter(([step, file]) => graded(QUICK_VALID, step, file)))('%s: passes the alternative correct solution %s', ([step, file], ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = grades.get(key(step, file))!;
    expect(failing(g), show(g)).toEqual([]);
    expect(g.passed).toBe(true);
  });

  it('every check that catches a cheat left to `npm run test:graders` catches a cheat graded here', () => {
    // The catchers are `^name$` or `^(a|b)$`: a cheat left out is covered when a graded cheat names one of its checks.
    const names = (re: RegExp) => re.source.replace(/^\^\(?|\)?\$$/g, '').split('|');
    const caught = new Set(cheats.filter(([step, file]) => graded(QUICK_CHEATS, step, file)).flatMap(([, , re]) => names(re)));
    for (const [step, file, re] of cheats) expect(names(re).some((n) => caught.has(n)), `${step}/${file}: ${re}`).toBe(true);
  });

  // The files not graded through the sandbox here still parse, obey the sandbox rules and keep the step's
  // interface (check.py's static checks): what they get wrong is for the runtime probes, in the full set.
  it.for(cheats.filter(([step, file]) => !graded(QUICK_CHEATS, step, file)).map(([step, file]) => `test/submissions/${step}/${file}`)
    .concat(valid.filter(([step, file]) => !graded(QUICK_VALID, step, file)).map(([step, file]) => `test/valid_submissions/${step}/${file}`)))(
    'static checks: %s parses, is sandbox-safe and keeps the interface', (file, ctx) => {
      skipUnlessRunnable(h, (r) => ctx.skip(r));
      const v = statics.get(file)!;
      expect(v.checks.map((c) => c.name)).toEqual(['parses', 'sandbox_safe', 'interface']);
      expect(failing(v), JSON.stringify(v.checks, null, 1)).toEqual([]);
    });

  it('a submission for the wrong step fails that step\'s interface check', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const g = await h.grade(await readTaskFile('solution/fusion.py'), 'surprise');
    expect(g.passed).toBe(false);
    expect(g.checks.find((c) => c.name === 'interface')).toMatchObject({ passed: false, detail: expect.stringMatching(/no top-level class `NeuralMemory`/) });
  });

  // The static rules, on small files (trusted parsing only: `check.py static` never runs them).
  const HEADER = 'import torch\nimport torch.nn as nn\n\n\nclass MemoryAttentionFusion(nn.Module):\n    def forward(self, a, m):\n        return a\n';
  const STATIC: Array<[string, string, { sandbox_safe: boolean; interface?: boolean }]> = [
    ['plain model code', 'import torch.nn.functional as F\nx = F.relu', { sandbox_safe: true, interface: true }],
    ['import os', 'import os', { sandbox_safe: false }],
    ['torch.sys (a module reached as an attribute)', 'm = torch.sys.modules', { sandbox_safe: false }],
    ['a computed getattr', 'name = "sig" + "moid"\nf = getattr(torch, name)', { sandbox_safe: false }],
    ['dunder attributes', 'b = torch.Tensor.__mro__', { sandbox_safe: false }],
    ['monkeypatching torch', 'torch.sigmoid = lambda x: x * 0 + 0.5', { sandbox_safe: false }],
    ['a custom autograd Function', 'class Fake(torch.autograd.Function):\n    pass', { sandbox_safe: false }],
    ['open()', 'f = open("/etc/passwd")', { sandbox_safe: false }],
    ['code under the __main__ guard (never runs on import)', 'if __name__ == "__main__":\n    import os\n    os.system("true")', { sandbox_safe: true }],
  ];
  // Every static-rule source below in one Python process (each would pay for its own torch import).
  const IN_DOC = '"""class MemoryAttentionFusion(nn.Module): def forward(...)"""\nimport torch\n';
  const IN_MAIN = `if __name__ == "__main__":\n${HEADER.replace(/^/gm, '    ')}\n`;
  let verdicts: Promise<Map<string, Verdict>> | null = null;
  const staticVerdict = async (source: string): Promise<Verdict> => {
    const sources = [...STATIC.map(([, body]) => `${HEADER}\n${body}\n`), IN_DOC, IN_MAIN];
    verdicts ??= staticVerdicts(h.python.executable, sources).then((vs) => new Map(vs.map((v, i) => [sources[i]!, v])));
    return (await verdicts).get(source)!;
  };
  it.for(STATIC)('static rules: %s', async ([, body, want], ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const verdict = await staticVerdict(`${HEADER}\n${body}\n`);
    const get = (n: string) => verdict.checks.find((c) => c.name === n)?.passed;
    expect(get('parses')).toBe(true);
    expect(get('sandbox_safe'), JSON.stringify(verdict.checks)).toBe(want.sandbox_safe);
    if (want.interface !== undefined) expect(get('interface')).toBe(want.interface);
  });

  it('static rules: a class that exists only in a docstring or under `if __name__ == "__main__":` is not defined', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    for (const v of [await staticVerdict(IN_DOC), await staticVerdict(IN_MAIN)]) {
      expect(v.checks.find((c) => c.name === 'interface')).toMatchObject({ passed: false, detail: 'no top-level class `MemoryAttentionFusion`' });
    }
  });

  it('check.py runs standalone and prints a JSON verdict (reference passes, a cheat fails)', async (ctx) => {
    skipUnlessRunnable(h, (r) => ctx.skip(r));
    const run = (file: string, step: string) =>
      new Promise<{ code: number; verdict: { passed: boolean; checks: Array<{ name: string; passed: boolean | null }> } }>((resolve, reject) =>
        execFile(h.python.executable, ['check.py', file, '--step', step], { cwd: taskDir, timeout: 120_000 }, (err, stdout) => {
          const last = stdout.trim().split('\n').pop() ?? '';
          try {
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, verdict: JSON.parse(last) });
          } catch (e) {
            reject(new Error(`no JSON verdict from check.py (${(e as Error).message}): ${stdout.slice(-500)}`));
          }
        }),
      );
    const [ok, bad] = await Promise.all([run('solution/update-decay.py', 'update-decay'), run('test/submissions/update-decay/float_decay.py', 'update-decay')]);
    expect(ok.code).toBe(0);
    expect(ok.verdict.passed).toBe(true);
    expect(bad.code).toBe(1);
    expect(bad.verdict.passed).toBe(false);
    expect(bad.verdict.checks.find((c) => c.name === 'decay_learnable')?.passed).toBe(false);
  }, 180_000);
});
