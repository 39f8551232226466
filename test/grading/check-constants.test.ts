import { execFile } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The shared constant folding of the check library (src/grading/python/envbench_check/constants.py): which
 * branches can never run, which functions only dead code calls. The cases are sent to a Python driver
 * (check-constants/driver.py) in one process; each `it` asserts what it decided for one case.
 */
const root = path.resolve(import.meta.dirname, '..', '..');
const python = process.env.ENVBENCH_PYTHON ?? '/usr/bin/python3';
const driver = path.join(import.meta.dirname, 'check-constants', 'driver.py');

interface Decided {
  error: string | null;
  tests: [number, string, boolean | null][];
  live_calls: string[];
  dead_calls: string[];
  reached_calls: string[];
  is_live_agrees: boolean;
  dead_functions: string[];
  constants: Record<string, string>;
  files?: number;
  failures?: string[];
  live?: number;
  offences?: string[];
}
type Case = { id: string; source?: string; offences?: boolean; main_runs?: boolean; roots?: string[]; odd?: string; corpus?: string[] };

const dedent = (s: string) => {
  const lines = s.replace(/^\n/, '').split('\n');
  const pad = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(pad)).join('\n');
};

const CASES: Case[] = [
  { id: 'literals', source: `
    if False:
        lit_false()
    if 0:
        lit_zero()
    if "":
        lit_empty()
    if 1:
        lit_one()
    else:
        lit_one_else()
    while False:
        while_false()
    else:
        while_false_else()
    while True:
        while_true()
        break
    else:
        while_true_else()
    if None is None:
        none_is_none()
    ` },
  { id: 'module_flag_false', source: `
    import torch
    use_compile = False
    def train(model):
        if use_compile:
            model = torch.compile(model)
        return model
    ` },
  { id: 'module_flag_true', source: `
    import torch
    USE_SDPA = True
    GRAD_CKPT: bool = True
    def attend(q, k, v):
        if USE_SDPA:
            return F.scaled_dot_product_attention(q, k, v)
        else:
            return manual_attention(q, k, v)
    def forward(x):
        if not GRAD_CKPT:
            return plain(x)
        return checkpoint(block, x)
    ` },
  { id: 'boolean_logic', source: `
    DEBUG = False
    ON = True
    def f(x, y):
        if DEBUG and x:
            debug_and_x()
        if x and DEBUG:
            x_and_debug()
        if x or ON:
            x_or_on()
        if not DEBUG:
            not_debug()
        if DEBUG or not ON:
            debug_or_not_on()
        if x and y:
            x_and_y()
        z = DEBUG and short_and()
        w = ON or short_or()
        v = probe() and DEBUG
    ` },
  { id: 'comparisons', source: `
    DTYPE = "bfloat16"
    ACCUM = 4
    NOTHING = None
    MODES = ("bf16", "fp32")
    def f():
        if DTYPE == "float16":
            fp16_path()
        if DTYPE in ("bfloat16", "float32"):
            bf16_path()
        if ACCUM > 1:
            accumulate()
        if ACCUM * 2 >= 16:
            big_accum()
        if NOTHING is None:
            nothing_is_none()
        if "fp32" not in MODES:
            no_fp32()
        if 0 < ACCUM <= 4:
            chained()
    ` },
  { id: 'conditional_expressions', source: `
    ON = True
    DTYPE = "bf16" if ON else "fp16"
    a = on_true() if False else on_false()
    b = picked() if ON else not_picked()
    c = unknown_test() if probe() else other_side()
    ` },
  { id: 'rebound_straight_line', source: `
    import torch
    FLAG = True
    if FLAG:
        at_import_while_true()
    CONFIG = dict(device="cuda" if torch.cuda.is_available() else "cpu")
    class Net(torch.nn.Module):
        scale = float(2)
        def forward(self, x):
            return x
    FLAG = False
    if FLAG:
        at_import_after_false()
    def train():
        if FLAG:
            in_function()
    ` },
  { id: 'rebound_with_code_between', source: `
    FLAG = True
    def setup():
        if FLAG:
            maybe_at_import()
    setup()
    FLAG = False
    def train():
        if FLAG:
            maybe()
    ` },
  { id: 'not_constant_bindings', source: `
    import os, argparse
    IN_FN = False
    IN_BRANCH = False
    IN_LOOP = False
    IMPORTED = False
    DELETED = False
    WALRUS = False
    FROM_ENV = os.environ.get("USE") == "1"
    FROM_ARGS = argparse.ArgumentParser().parse_args().compile
    FROM_CALL = bool(0)
    def set_it():
        global IN_FN
        IN_FN = True
    if probe():
        IN_BRANCH = True
    for IN_LOOP in (True,):
        pass
    from flags import IMPORTED
    del DELETED
    if (WALRUS := probe()):
        pass
    def train():
        if IN_FN: in_fn()
        if IN_BRANCH: in_branch()
        if IN_LOOP: in_loop()
        if IMPORTED: imported()
        if DELETED: deleted()
        if WALRUS: walrus()
        if FROM_ENV: from_env()
        if FROM_ARGS: from_args()
        if FROM_CALL: from_call()
    ` },
  { id: 'shadowing', source: `
    FLAG = False
    def param(FLAG):
        if FLAG:
            by_param()
    def local():
        FLAG = True
        if FLAG:
            by_local()
    def comp(xs):
        return [hit() for FLAG in xs if FLAG]
    def module_read():
        if FLAG:
            by_module()
    class C:
        FLAG = True
        if FLAG:
            class_body()
    ` },
  { id: 'main_guard_kept', source: `
    if __name__ == "__main__":
        main_block()
    ` },
  { id: 'main_guard_dropped', main_runs: false, source: `
    USE = False
    if __name__ == "__main__":
        USE = True
        main_block()
    def train():
        if USE:
            only_if_main_ran()
    ` },
  { id: 'after_leaving_a_block', source: `
    ON = True
    def a():
        return 1
        after_return()
    def b():
        raise ValueError("x")
        after_raise()
    def c(x):
        if x:
            return 1
        after_if_return()
    def d(x):
        if x:
            return 1
        else:
            raise ValueError()
        after_both_leave()
    def e():
        if ON:
            return 1
        after_constant_true_return()
    def f(xs):
        for x in xs:
            continue
            after_continue()
        after_loop()
    def g():
        try:
            return 1
            after_try_return()
        except Exception:
            in_handler()
        after_try()
    ` },
  { id: 'dead_functions', roots: ['train'], source: `
    USE_COMPILE = False
    def compile_model(m):
        return helper_of_dead(m)
    def helper_of_dead(m):
        return torch_compile(m)
    def used(m):
        return m
    def never_named():
        pass
    class DeadModel:
        pass
    class LiveModel:
        def forward(self):
            inside_live_class()
    def train(model):
        if USE_COMPILE:
            model = compile_model(model)
        LiveModel()
        return used(model)
    ` },
  { id: 'methods_by_name', roots: ['train'], source: `
    class Model:
        def __init__(self):
            self.apply(self._init_weights)
        def forward(self, x):
            return framework_calls_forward()
        def _init_weights(self, m):
            init_named_as_attribute()
        def by_string(self):
            named_by_getattr_string()
        @property
        def size(self):
            return property_read()
        def never_named(self):
            dead_method()
    def train():
        m = Model()
        getattr(m, "by_string")()
        return m.size
    ` },
  { id: 'class_level_branches', roots: ['build'], source: `
    USE_SDPA = True
    class Attn:
        if USE_SDPA:
            def forward(self, q, k, v):
                return sdpa(q, k, v)
        else:
            def forward(self, q, k, v):
                return manual(q, k, v)
    def build():
        return Attn()
    ` },
  { id: 'builtin_names', source: `
    compile = True
    def train(m):
        if compile:
            compiled()
    ` },
  { id: 'builtin_name_after_code', source: `
    def setup():
        pass
    setup()
    compile = False
    def train(m):
        if compile:
            may_see_the_builtin()
    ` },
  { id: 'bounded_values', source: `
    HUGE_POW = 2 ** 10 ** 9
    HUGE_STR = "a" * 10 ** 9
    HUGE_FMT = "%*d" % (10 ** 9, 1)
    HUGE_SHIFT = 1 << 10 ** 9
    DIV0 = 1 / 0
    MIXED = "a" < 1
    def f():
        if HUGE_POW: p()
        if HUGE_STR: s()
        if HUGE_FMT: fm()
        if HUGE_SHIFT: sh()
        if DIV0: d()
        if MIXED: m()
    ` },
  { id: 'deep_expressions', source: `X = False\nif ${'not '.repeat(150)}X:\n    deep_not()\nif ${Array(3000).fill('X').join(' or ')}:\n    long_or()\n` },
  // The shared rule set (rules.py) asks the folding whether a builtin's name is the builtin at a read.
  { id: 'rules_nanogpt_compile_flag', offences: true, source: `
    compile = True
    def train(model):
        if compile:
            return model
    ` },
  { id: 'rules_builtin_before_binding', offences: true, source: `
    code = compile("1", "f", "eval")
    compile = True
    ` },
  { id: 'rules_rebound_to_builtin', offences: true, source: `
    exec = exec
    def train():
        exec("1")
    ` },
  { id: 'rules_global_rebinding', offences: true, source: `
    compile = True
    def g():
        global compile
        compile = False
    def train():
        compile("1", "f", "eval")
    ` },
  { id: 'odd_if_without_test', odd: 'if_without_test' },
  { id: 'odd_name_without_ctx', odd: 'name_without_ctx' },
  { id: 'odd_body_not_a_list', odd: 'body_not_a_list' },
  { id: 'corpus', corpus: [path.join(root, 'src'), path.join(root, 'tasks'), path.join(root, 'test'), path.join(root, 'examples'), '/usr/lib/python3.11/json', '/usr/lib/python3.11/asyncio', '/usr/lib/python3.11/email', '/usr/lib/python3.11/importlib'] },
];

let got: Record<string, Decided> = {};

beforeAll(async () => {
  const input = JSON.stringify(CASES.map((c) => ({ ...c, source: c.source === undefined ? undefined : dedent(c.source) })));
  const out = await new Promise<string>((resolve, reject) => {
    const p = execFile(python, [driver], { timeout: 300_000, maxBuffer: 64 * 1024 * 1024 }, (e, stdout, stderr) =>
      e ? reject(new Error(`${e.message}\n${stderr.slice(-3000)}`)) : resolve(stdout));
    p.stdin!.end(input);
  });
  got = JSON.parse(out.trim().split('\n').pop()!) as Record<string, Decided>;
}, 300_000);

const of = (id: string): Decided => {
  const d = got[id];
  if (!d) throw new Error(`the driver returned nothing for ${id}`);
  expect(d.error, id).toBeNull();
  return d;
};
const live = (id: string) => of(id).live_calls;
const dead = (id: string) => of(id).dead_calls;

describe('constant conditions: what is decided', () => {
  it('literal conditions: if False / if 0 / if "" / while False are dead; the else of if 1 and of while True too', () => {
    expect(dead('literals')).toEqual(['lit_false', 'lit_zero', 'lit_empty', 'lit_one_else', 'while_false', 'while_true_else']);
    expect(live('literals')).toEqual(['lit_one', 'while_false_else', 'while_true', 'none_is_none']);
  });

  it('a module flag bound once to False hides its branch (use_compile = False; if use_compile: torch.compile)', () => {
    expect(dead('module_flag_false')).toEqual(['torch.compile']);
    expect(of('module_flag_false').constants).toEqual({ use_compile: 'False' });
  });

  it('a module flag bound once to True keeps its branch live and prunes its else (also annotated, also under not)', () => {
    expect(live('module_flag_true')).toEqual(['F.scaled_dot_product_attention', 'checkpoint']);
    expect(dead('module_flag_true')).toEqual(['manual_attention', 'plain']);
  });

  it('not / and / or, with short-circuit: DEBUG and x is False, x and DEBUG falsy, x or ON truthy', () => {
    const t = Object.fromEntries(of('boolean_logic').tests.map(([, src, v]) => [src, v]));
    expect(t).toEqual({ 'DEBUG and x': false, 'x and DEBUG': false, 'x or ON': true, 'not DEBUG': true, 'DEBUG or not ON': false, 'x and y': null });
    expect(dead('boolean_logic')).toEqual(['debug_and_x', 'x_and_debug', 'debug_or_not_on', 'short_and', 'short_or']);
    // x in `x and DEBUG` still runs; `probe() and DEBUG` evaluates probe()
    expect(live('boolean_logic')).toEqual(['x_or_on', 'not_debug', 'x_and_y', 'probe']);
  });

  it('comparisons and arithmetic of constants, membership in tuples, is None, chained comparisons', () => {
    expect(dead('comparisons')).toEqual(['fp16_path', 'big_accum', 'no_fp32']);
    expect(live('comparisons')).toEqual(['bf16_path', 'accumulate', 'nothing_is_none', 'chained']);
  });

  it('conditional expressions: only the chosen side runs; a constant can be built from one', () => {
    expect(dead('conditional_expressions')).toEqual(['on_true', 'not_picked']);
    expect(live('conditional_expressions')).toEqual(['on_false', 'picked', 'unknown_test', 'probe', 'other_side']);
    expect(of('conditional_expressions').constants).toMatchObject({ ON: 'True', DTYPE: "'bf16'" });
  });

  it('__main__ is live by default; with main_runs=False its body is dead and binds nothing', () => {
    expect(live('main_guard_kept')).toEqual(['main_block']);
    expect(of('main_guard_kept').tests[0]?.[2]).toBeNull();
    expect(dead('main_guard_dropped')).toEqual(['main_block', 'only_if_main_ran']);
  });
});

describe('constant names: the binding rule', () => {
  it('FLAG = True then FLAG = False (top level; between them only library calls and classes): module code sees each value in order, functions the last', () => {
    expect(live('rebound_straight_line')).toEqual(['at_import_while_true', 'dict', 'torch.cuda.is_available', 'float']);
    expect(dead('rebound_straight_line')).toEqual(['at_import_after_false', 'in_function']);
  });

  it('after a statement that could run the module\'s own code (a call of its function), the name is not constant in functions', () => {
    expect(live('rebound_with_code_between')).toEqual(['maybe_at_import', 'setup', 'maybe']);
    expect(of('rebound_with_code_between').constants).toEqual({});
  });

  it('rebound anywhere else (global in a function, a branch, a loop, an import, del, walrus) or non-constant: not constant', () => {
    const d = of('not_constant_bindings');
    expect(d.constants).toEqual({});
    for (const fn of ['in_fn', 'in_branch', 'in_loop', 'imported', 'deleted', 'walrus', 'from_env', 'from_args', 'from_call']) {
      expect(d.live_calls, fn).toContain(fn);
    }
    expect(d.tests.filter(([, src]) => src !== 'probe()' && !src.includes(':=')).every(([, , v]) => v === null)).toBe(true);
  });

  it('a parameter, local or comprehension variable of the same name shadows the module constant', () => {
    expect(live('shadowing')).toEqual(['by_param', 'by_local', 'hit', 'class_body']);
    expect(dead('shadowing')).toEqual(['by_module']);
  });

  it('a builtin name bound at the top (nanoGPT: compile = True) is a constant; after code that could run first, it is not', () => {
    expect(live('builtin_names')).toEqual(['compiled']);
    expect(of('builtin_names').constants).toEqual({ compile: 'True' });
    expect(live('builtin_name_after_code')).toEqual(['setup', 'may_see_the_builtin']);
  });
});

describe('code after leaving a block, and dead functions', () => {
  it('statements after an unconditional return / raise / continue, or an if whose sides all leave, are dead', () => {
    expect(dead('after_leaving_a_block')).toEqual(['after_return', 'after_raise', 'after_both_leave', 'after_constant_true_return', 'after_continue', 'after_try_return']);
    expect(live('after_leaving_a_block')).toEqual(expect.arrayContaining(['after_if_return', 'after_loop', 'in_handler', 'after_try', 'ValueError']));
  });

  it('a function (and what only it calls) named only from dead code is dead; an unnamed class too', () => {
    const d = of('dead_functions');
    expect(d.dead_functions).toEqual(['compile_model', 'helper_of_dead', 'never_named', 'DeadModel']);
    expect(d.reached_calls).toEqual(['inside_live_class', 'LiveModel', 'used']);
  });

  it('a reached class brings the methods reached code names (attribute, getattr string), dunders and forward; a method nobody names is dead', () => {
    const d = of('methods_by_name');
    expect(d.dead_functions).toEqual(['Model.never_named']);
    expect(d.reached_calls).toEqual(expect.arrayContaining(['framework_calls_forward', 'init_named_as_attribute', 'named_by_getattr_string', 'property_read']));
    expect(d.reached_calls).not.toContain('dead_method');
  });

  it('class-level branches on a constant: only the chosen method is reached', () => {
    const d = of('class_level_branches');
    expect(d.reached_calls).toEqual(['sdpa', 'Attn']);
    expect(d.dead_calls).toEqual(['manual']);
  });

  it('is_live(node) agrees with iter_live for every call of every case', () => {
    for (const c of CASES.filter((x) => x.source && !x.offences)) expect(of(c.id).is_live_agrees, c.id).toBe(true);
  });
});

describe('the shared rule set uses it for builtin names', () => {
  it('nanoGPT\'s `compile = True` config global read in a function is the constant, not the builtin', () => {
    expect(of('rules_nanogpt_compile_flag').offences).toEqual([]);
  });

  it('the builtin read before the binding, `exec = exec`, or a name some function rebinds (global) stays an offence', () => {
    expect(of('rules_builtin_before_binding').offences).toEqual(['line 1: use of the builtin `compile` (not in the allowed set)']);
    expect(of('rules_rebound_to_builtin').offences!.length).toBe(2);
    expect(of('rules_global_rebinding').offences).toEqual(['line 6: use of the builtin `compile` (not in the allowed set)']);
  });
});

describe('bounded, never crashes', () => {
  it('huge powers, repetitions, %-formats and shifts, 1/0 and mixed comparisons are not constants (and do not hang)', () => {
    const d = of('bounded_values');
    expect(d.constants).toEqual({});
    expect(d.dead_calls).toEqual([]);
  });

  it('150 nested nots and a 3000-operand or: decided or not, without an error', () => {
    const d = of('deep_expressions');
    expect(d.dead_calls).toEqual(['long_or']);
    expect(d.live_calls.length + d.dead_calls.length).toBe(2);
  });

  it('hand-built trees ast.parse never makes (no test, no ctx, no body list) do not raise', () => {
    for (const id of ['odd_if_without_test', 'odd_name_without_ctx', 'odd_body_not_a_list']) expect(of(id).error, id).toBeNull();
  });

  it('every Python file of this repository and a slice of the standard library goes through every entry point', () => {
    const d = of('corpus');
    expect(d.failures).toEqual([]);
    expect(d.files!).toBeGreaterThan(100);
  });
});
