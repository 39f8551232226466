#!/usr/bin/env python3
"""Self-test for check.py: AST rules on small snippets, then the standalone grader on
the reference, the starter, valid alternatives and every wrong/cheating submission.

    /usr/bin/python3 tasks/paged-attention/test/selftest.py [--quick | --static] [--skip REL ...]
    /usr/bin/python3 tasks/paged-attention/test/selftest.py --list

--quick skips the standalone runs (AST tests only). --skip REL (repeatable; REL as in SUBMISSIONS, e.g.
test/submissions/loop_based.py) leaves one submission out of the standalone runs: the vitest suite grades those
through the sandbox and the rest here, so each file is graded once. --list prints the files it can run
standalone (the sandbox attacks are not among them), one per line. --static checks the files only with the
static checks (defines_function, no_loops), in this process: a file expected to fail one of them must fail it,
and no other static check may fail (what a file gets wrong at run time is then left to the full run; `npm test`
uses it, `npm run test:graders` runs everything). Exit code 0 when all is as expected.
"""
import ast
import importlib.util
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TASK = os.path.dirname(HERE)
CHECK = os.path.join(TASK, "check.py")

spec = importlib.util.spec_from_file_location("paged_check", CHECK)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)

# (snippet, should the no_loops check pass?)
AST_CASES = [
    ("import torch\nx = torch.einsum('ij,jk->ik', a, b)\n", True),
    ("import functools\np = functools.partial(f, 1)\n", True),
    ("import re\nr = re.compile('x')\n", False),  # not an allowed module
    ("import torch\nh = torch.sys\n", False),
    ("import torch\ntorch.os.system('x')\n", False),
    ("import torch\ni = torch.inspect.stack()\n", False),
    ("import numpy as np\nc = np.ctypeslib\n", False),
    ("open('gen.py', 'w').write('for i in range(3): pass')\nimport gen\n", False),
    ("import torch\nb = torch.__builtins__['ex' + 'ec']\n", False),
    ("b = vars(__builtins__)['ex' + 'ec']\n", False),
    ("import torch\nf = getattr(torch, 'ex' + 'ec')\n", False),
    ("exec = exec\nexec('x = 1')\n", False),
    ("y = torch.compile(f)\n", True),
    ("for i in range(3):\n    pass\n", False),
    ("while x:\n    x -= 1\n", False),
    ("async def f():\n    async for i in g():\n        pass\n", False),
    ("y = [i for i in range(3)]\n", False),
    ("y = {i for i in range(3)}\n", False),
    ("y = {i: i for i in range(3)}\n", False),
    ("y = sum(i for i in range(3))\n", False),
    ("def f(n):\n    return f(n - 1) if n else 0\n", False),
    ("def a(n):\n    return b(n)\ndef b(n):\n    return a(n - 1) if n else 0\n", False),
    ("g = lambda n: g(n - 1) if n else 0\n", False),
    ("exec('x = 1')\n", False),
    ("e = exec\ne('x = 1')\n", False),
    ("f = getattr(__builtins__, 'ev' + 'al')\n", False),
    ("import builtins\n", False),
    ("f = getattr(obj, 'exec')\n", False),
    ("eval('1')\n", False),
    ("c = compile('1', 'x', 'eval')\n", False),
    ("m = __import__('os')\n", False),
    ("import importlib\nm = importlib.import_module('os')\n", False),
    ("import itertools\n", False),
    ("from itertools import product\n", False),
    ("from functools import reduce\n", False),
    ("import functools as ft\ny = ft.reduce(f, xs)\n", False),
    ("y = list(map(f, xs))\n", False),
    ("y = list(filter(f, xs))\n", False),
    ("import numpy as np\ny = np.vectorize(f)(x)\n", False),
    ("t.apply_(f)\n", False),
]

DEF_CASES = [
    ("def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):\n    pass\n", True),
    ("def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale, eps=0.0):\n    pass\n", True),
    ("def paged_attention_decode(q, k, v, bt, cl, scale):\n    pass\n", False),
    ("def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens):\n    pass\n", False),
    ("class A:\n    def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):\n        pass\n", False),
    ("paged_attention_decode = lambda *a: None\n", False),
]

# file -> (expected verdict, check names that must fail (subset), check names that must pass)
CORRECT = "case_*"
SUBMISSIONS = {
    "solution/reference.py": (True, [], ["defines_function", "no_loops", CORRECT]),
    "test/valid_submissions/native_dtype.py": (True, [], [CORRECT]),
    "test/valid_submissions/flat_index_additive_mask.py": (True, [], [CORRECT]),
    "test/valid_submissions/vllm_reference_style.py": (True, [], [CORRECT, "inputs_unchanged"]),
    "test/valid_submissions/pytorch_docs_sdpa_math.py": (True, [], [CORRECT, "inputs_unchanged"]),
    "test/valid_submissions/flash_online_softmax_blocks.py": (True, [], [CORRECT, "inputs_unchanged"]),
    "starter.py": (False, ["case_0_float32"], ["defines_function", "no_loops"]),
    "test/submissions/loop_based.py": (False, ["no_loops"], [CORRECT]),
    "test/submissions/comprehension_loop.py": (False, ["no_loops"], [CORRECT]),
    "test/submissions/exec_hidden_loop.py": (False, ["no_loops"], [CORRECT]),
    "test/submissions/wrong_slot_offset.py": (False, ["case_0_float32"], ["no_loops"]),
    "test/submissions/ignores_context_lens.py": (False, ["case_0_float32"], ["no_loops"]),
    "test/submissions/contiguous_assumption.py": (False, ["case_0_float32"], ["no_loops"]),
    "test/submissions/no_scale.py": (False, ["case_1_float32"], ["no_loops"]),
    "test/submissions/wrong_dtype.py": (False, ["case_6_bfloat16"], ["case_0_float32"]),
    "test/submissions/reads_expected.py": (False, ["case_0_float32", "no_loops"], []),
    "test/submissions/monkeypatch_numpy.py": (False, ["case_0_float32", "no_loops"], []),
    "test/submissions/prints_fake_verdict.py": (False, ["case_0_float32", "no_loops"], []),
    "test/submissions/claims_unsupported.py": (False, ["case_0_float32", "no_loops"], []),
    # Near misses (issue 14): right for this one call, but the shared cache is written; off by one; the
    # FlashAttention-style merge without its rescaling, or without a guard for blocks past the end.
    "test/submissions/scales_cache_in_place.py": (False, ["inputs_unchanged"], [CORRECT, "no_loops"]),
    "test/submissions/zeroes_padding_in_place.py": (False, ["inputs_unchanged", "case_0_float32"], ["no_loops"]),
    "test/submissions/off_by_one_mask.py": (False, ["case_0_float32"], ["no_loops", "inputs_unchanged"]),
    "test/submissions/online_softmax_no_rescale.py": (False, ["case_0_float32"], ["no_loops", "inputs_unchanged"]),
    "test/submissions/online_softmax_empty_tile_nan.py": (False, ["case_0_float32"], ["no_loops", "inputs_unchanged"]),
}


# check_inputs_unchanged on fabricated run records: (records, expected passed)
INPUTS_CASES = [
    ([{"id": 0, "status": "ok", "modified_inputs": []}], True),
    ([{"id": 0, "status": "ok", "modified_inputs": []}, {"id": 1, "status": "ok", "modified_inputs": ["key_cache"]}], False),
    ([{"id": 0, "status": "ok"}], False),  # not recorded: never a pass
    ([{"id": 0, "status": "ok", "modified_inputs": "none"}], False),
    ([{"id": 0, "status": "error", "modified_inputs": ["query"]}], None),  # no case ran
    ([], None),
]


def tolerance_scale_tests():
    """The reduced-precision tolerance scale (check.native_scales, applied in compare): at least 1, only for
    reduced cases, honoured by _check_case, and never wider than asked for when the stored value is odd."""
    bad = []
    inputs, expected = check.prepare_data()
    scales = check.native_scales(inputs, expected, "cpu")
    meta = json.loads(str(inputs["meta"]))
    reduced = {str(c["id"]) for c in meta["cases"] if c["reduced"]}
    if not set(scales) <= reduced or any(not (v >= 1.0) for v in scales.values()):
        bad.append(f"native_scales gave {scales}: expected scales >= 1 for reduced cases {sorted(reduced)} only")
    exp = np.full((1, 1, 4), 0.5)
    out = exp + 1.5 * (0.03 + 0.03 * 0.5)  # 1.5x the base bfloat16 tolerance everywhere
    case, cm = dict(id=0, config=0, dtype="bfloat16"), meta["configs"][0]
    rec = [dict(id=0, status="ok", out_dtype="bfloat16")]
    for scale, want in ((1.0, False), (2.0, True), (1.4, False)):
        got = check._check_case(case, cm, exp, {}, rec, {"out0": out.astype(np.float32)}, None, scale)["passed"]
        if got != want:
            bad.append(f"_check_case at 1.5x the base tolerance with scale {scale}: passed={got}, expected {want}")
    for stored, want in (({"0": 3.0}, 3.0), ({"0": 0.2}, 1.0), ({"0": float("nan")}, 1.0), ({"0": "9"}, 1.0),
                         ({"0": True}, 1.0), ([], 1.0), ({}, 1.0), ({"0": float("inf")}, 1.0)):
        if check.tolerance_scale(stored, 0) != want:
            bad.append(f"tolerance_scale({stored!r}, 0) = {check.tolerance_scale(stored, 0)}, expected {want}")
    return bad


TOLERANCE_UNITS = 12  # the checks tolerance_scale_tests makes


def ast_tests():
    bad = tolerance_scale_tests()
    for recs, want in INPUTS_CASES:
        got = check.check_inputs_unchanged(recs)["passed"]
        if got != want:
            bad.append(f"inputs_unchanged({recs!r}) = {got}, expected {want}")
    for src, ok in AST_CASES:
        got = check.ec.rules_check("no_loops", ast.parse(src), check.RULES)["passed"]
        if got != ok:
            bad.append(f"no_loops({src!r}) = {got}, expected {ok}")
    for src, ok in DEF_CASES:
        got = check.check_defines_function(ast.parse(src))["passed"]
        if got != ok:
            bad.append(f"defines_function({src!r}) = {got}, expected {ok}")
    return bad


def run_one(rel):
    proc = subprocess.run([sys.executable, CHECK, os.path.join(TASK, rel)], capture_output=True, timeout=600)
    lines = proc.stdout.decode(errors="replace").strip().splitlines()
    try:
        return proc.returncode, json.loads(lines[-1])
    except Exception:  # noqa: BLE001
        return proc.returncode, {"unparsable": lines[-1:] if lines else []}


def judge(rel, rc, verdict):
    want, must_fail, must_pass = SUBMISSIONS[rel]
    if "checks" not in verdict:
        return f"{rel}: no verdict (rc={rc}): {verdict}"
    by = {c["name"]: c["passed"] for c in verdict["checks"]}
    problems = []
    if verdict["passed"] != want or rc != (0 if want else 1):
        problems.append(f"verdict {verdict['passed']} rc={rc}, expected {want}")
    for n in must_fail:
        if by.get(n) is not False:
            problems.append(f"{n} should fail (got {by.get(n)})")
    for n in must_pass:
        names = [k for k in by if k.startswith("case_")] if n == CORRECT else [n]
        for k in names:
            if by.get(k) is False:
                problems.append(f"{k} should not fail")
    return f"{rel}: " + "; ".join(problems) if problems else None


STATIC = ("defines_function", "no_loops")


def static_judge(rel):
    """The static checks of one file against SUBMISSIONS: the expected static failures, and no other."""
    _, must_fail, _ = SUBMISSIONS[rel]
    with open(os.path.join(TASK, rel), "rb") as f:
        tree = ast.parse(f.read())
    by = {"defines_function": check.check_defines_function(tree)["passed"],
          "no_loops": check.ec.rules_check("no_loops", tree, check.RULES)["passed"]}
    problems = [f"{n} should fail (got {by[n]})" for n in STATIC if n in must_fail and by[n] is not False]
    problems += [f"{n} should not fail" for n in STATIC if n not in must_fail and by[n] is False]
    return by, (f"{rel}: " + "; ".join(problems) if problems else None)


def skipped_args(argv):
    """The files named by --skip; exits 2 on an unknown option or a name SUBMISSIONS does not hold."""
    skip, i = set(), 0
    while i < len(argv):
        if argv[i] in ("--quick", "--static"):
            i += 1
        elif argv[i] == "--skip" and i + 1 < len(argv):
            if argv[i + 1] not in SUBMISSIONS:
                print(f"selftest: --skip {argv[i + 1]}: not in SUBMISSIONS (use the path from the task folder)", file=sys.stderr)
                sys.exit(2)
            skip.add(argv[i + 1])
            i += 2
        else:
            print(f"selftest: unknown argument {argv[i]!r}; usage: selftest.py [--quick | --static] [--skip REL ...] | --list", file=sys.stderr)
            sys.exit(2)
    return skip


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(SUBMISSIONS))
        return 0
    skip = skipped_args(sys.argv[1:])
    failures = ast_tests()
    n_unit = len(AST_CASES) + len(DEF_CASES) + len(INPUTS_CASES) + TOLERANCE_UNITS
    print(f"AST rule and check unit tests: {n_unit - len(failures)}/{n_unit} ok")
    if "--static" in sys.argv:
        rels = [r for r in SUBMISSIONS if r not in skip]
        print(f"static: {len(rels)} of {len(SUBMISSIONS)} submissions ({len(skip)} left to the caller)")
        for rel in rels:
            by, problem = static_judge(rel)
            print(f"{rel:52} " + " ".join(f"{n}={by[n]}" for n in STATIC))
            if problem:
                failures.append(problem)
    elif "--quick" not in sys.argv:
        rels = [r for r in SUBMISSIONS if r not in skip]
        with ThreadPoolExecutor(max_workers=2) as ex:
            results = list(ex.map(run_one, rels))
        print(f"standalone: {len(rels)} of {len(SUBMISSIONS)} submissions ({len(skip)} left to the caller)")
        print(f"{'submission':52} {'passed':7} {'score':6} failed checks")
        for rel, (rc, v) in zip(rels, results):
            failed = [c["name"] for c in v.get("checks", []) if c["passed"] is False]
            print(f"{rel:52} {str(v.get('passed')):7} {v.get('score', 0):<6.3f} {', '.join(failed) or '-'}")
            problem = judge(rel, rc, v)
            if problem:
                failures.append(problem)
    for f in failures:
        print("FAIL:", f)
    print("selftest:", "OK" if not failures else f"{len(failures)} problem(s)")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
