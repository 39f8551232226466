"""Drives envbench_check.flow for test/grading/check-flow.test.ts: reads a JSON list of cases on stdin
({source, query, call, kw}), prints one JSON list of results. A case that raises reports the exception,
so a crash is a failed expectation, never a lost run."""
import ast
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "src", "grading", "python"))
from envbench_check.flow import Flow  # noqa: E402

LOOPS = (ast.For, ast.AsyncFor, ast.While)


def text(v) -> str:
    try:
        return ast.unparse(v.node)
    except Exception:  # noqa: BLE001
        return type(v.node).__name__


def the_call(tree, name):
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            try:
                if ast.unparse(n.func) == name:
                    return n
            except Exception:  # noqa: BLE001
                pass
    raise LookupError(f"no call of {name}")


def run(case):
    tree = ast.parse(case["source"])
    flow = Flow(tree, max_depth=case.get("max_depth", 6))
    q = case["query"]
    if q == "keyword":
        return sorted({text(v) for v in flow.keyword(the_call(tree, case["call"]), case["kw"])})
    if q == "every_keyword":  # [sorted values of kw for each call named `call`, in order] + [exhausted]
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == case["call"]]
        calls.sort(key=lambda n: (n.lineno, n.col_offset))
        return [sorted({text(v) for v in flow.keyword(c, case["kw"])}) for c in calls] + [flow.exhausted]
    if q == "values":
        call = the_call(tree, case["call"])
        arg = next(k.value for k in call.keywords if k.arg == case["kw"]) if case.get("kw") else call.args[0]
        return [text(v) for v in flow.values(arg)]
    if q == "partial":
        call = the_call(tree, case["call"])
        out = []
        for v in flow.keyword(call, case["kw"]):
            p = flow.partial(v)
            out.append(None if p is None else [flow.qualname(p.func.node) or text(p.func),
                                               {k: text(x) for k, x in sorted(p.keywords.items())}])
        return out
    if q == "lambda_fn":
        call = the_call(tree, case["call"])
        out = []
        for v in flow.keyword(call, case["kw"]):
            p = flow.partial(v)
            fn = flow.function(p.keywords["lambda_fn"]) if p and "lambda_fn" in p.keywords else None
            out.append(getattr(fn, "name", "<lambda>") if fn is not None else None)
        return out
    if q == "loop_calls":  # [call text, derives from the loop's variables] for calls named kw a loop reaches
        out = []
        for loop in [n for n in ast.walk(tree) if isinstance(n, LOOPS)]:
            names = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)} if not isinstance(loop, ast.While) else \
                {n.id for s in ast.walk(loop) if isinstance(s, ast.AugAssign) for n in ast.walk(s.target) if isinstance(n, ast.Name)}
            scope = flow.scope_of(loop)
            for c in flow.calls_from(loop):
                if isinstance(c.node.func, ast.Attribute) and c.node.func.attr == case["kw"]:
                    out.append([text(c), any(flow.derives_from(type(c)(a, c.scope, c.env, c.node, c.via), names, scope)
                                             for a in c.node.args)])
        return out
    if q == "budget":  # every loop's reached calls, then whether the analysis ran out of steps
        n = sum(1 for loop in ast.walk(tree) if isinstance(loop, LOOPS) for _ in flow.calls_from(loop))
        return [flow.exhausted, n > 0]
    if q == "returns":
        fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == case["call"])
        vals, falls = flow.returns(fn)
        return [[ast.unparse(v) for v in vals], falls]
    raise ValueError(q)


results = []
for case in json.load(sys.stdin):
    try:
        results.append({"ok": run(case)})
    except RecursionError as e:
        results.append({"error": f"RecursionError: {e}"})
    except Exception as e:  # noqa: BLE001
        results.append({"error": f"{type(e).__name__}: {e}"})
print(json.dumps(results))
