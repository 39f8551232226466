"""Runs the shared constant folding (envbench_check.constants) over the cases check-constants.test.ts sends on
stdin and prints, per case, what it decided. Input: [{"id", "source", "main_runs", "roots"}]. Output (one JSON
line): {id: {"tests": [[line, source, truth]], "live_calls": [...], "dead_calls": [...], "dead_functions": [...],
"constants": {...}, "error": str|null}}. A call is named by its function's source text; tests and calls in
source order."""

import ast
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "src", "grading", "python"))

from envbench_check.constants import ModuleConstants, dead_functions, reachable_units  # noqa: E402
from envbench_check.rules import static_offences  # noqa: E402


def exercise(tree, roots=()):
    """Every public entry point on one tree; raises only if the library does."""
    c = ModuleConstants(tree, main_runs=False)
    live = c.iter_live()
    for n in live[:2000]:
        if isinstance(n, ast.Call) and len(live) < 20000:
            c.is_live(n)
        if isinstance(n, (ast.If, ast.While, ast.IfExp)):
            c.truth(n.test)
            c.value(n.test)
    reachable_units(tree, c, roots)
    dead_functions(tree, c, roots)
    return len(live)


def corpus(dirs):
    """Every .py file under dirs: the library must never raise on real code."""
    import glob
    n, failures = 0, []
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(d, "**", "*.py"), recursive=True))[:300]:
            try:
                with open(path, "rb") as f:
                    tree = ast.parse(f.read())
            except Exception:  # noqa: BLE001  (not parseable here: not the library's concern)
                continue
            n += 1
            try:
                exercise(tree, ("main", "train", "build_model"))
            except Exception as e:  # noqa: BLE001
                failures.append(f"{path}: {type(e).__name__}: {e}")
    return {"files": n, "failures": failures[:20], "error": None}


def describe(case):
    if "odd" in case:
        return {"live": exercise(build(case["odd"])), "error": None}
    if "corpus" in case:
        return corpus(case["corpus"])
    tree = ast.parse(case["source"])
    if case.get("offences"):
        return {"offences": static_offences(tree), "error": None}
    c = ModuleConstants(tree, main_runs=case.get("main_runs", True))
    roots = tuple(case.get("roots", ()))
    live = c.iter_live()
    live_ids = {id(n) for n in live}
    calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    reach_ids = {id(n) for u in reachable_units(tree, c, roots) for n in c.iter_live(u)}
    tests = sorted((n for n in ast.walk(tree) if isinstance(n, (ast.If, ast.While, ast.IfExp))),
                   key=lambda n: (n.lineno, n.col_offset))
    out = {
        "tests": [[n.lineno, ast.unparse(n.test), c.truth(n.test)] for n in tests],
        "live_calls": [ast.unparse(n.func) for n in calls if id(n) in live_ids],
        "dead_calls": [ast.unparse(n.func) for n in calls if id(n) not in live_ids],
        # calls in code that can run AND is reached (module code, roots, what they name)
        "reached_calls": [ast.unparse(n.func) for n in calls if id(n) in reach_ids],
        "is_live_agrees": all(c.is_live(n) == (id(n) in live_ids) for n in calls),
        "dead_functions": dead_functions(tree, c, roots),
        "constants": {k: repr(v) for k, v in c.constant_names().items()},
    }
    return out


def build(kind):
    """Hand-built odd trees (never produced by ast.parse)."""
    if kind == "if_without_test":
        t = ast.Module(body=[ast.If(test=None, body=[ast.Expr(ast.Call(ast.Name("f", ast.Load()), [], []))], orelse=[])],
                       type_ignores=[])
    elif kind == "name_without_ctx":
        t = ast.Module(body=[ast.Assign(targets=[ast.Name("X")], value=ast.Constant(False)),
                             ast.If(test=ast.Name("X"), body=[ast.Expr(ast.Call(ast.Name("f"), [], []))], orelse=[])],
                       type_ignores=[])
    elif kind == "body_not_a_list":
        t = ast.Module(body=None, type_ignores=[])
    else:
        raise ValueError(kind)
    ast.fix_missing_locations(t)
    return t


def main():
    cases = json.load(sys.stdin)
    res = {}
    for case in cases:
        try:
            res[case["id"]] = describe(case)
            res[case["id"]]["error"] = None
        except Exception as e:  # noqa: BLE001
            res[case["id"]] = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
