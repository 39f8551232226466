"""The shared check library every task's check.py builds on (issue 12).

A task's check.py supplies only its task logic as a `Task`: prepare (inputs + private expected data), run
(what to call in the submission, executed in an untrusted child) and compare (the verdict's checks). This
library owns everything else, once:

  phases     check.py prepare --out DIR
             check.py run-submission --submission FILE --inputs DIR --out FILE [--device D] [--timeout S]
             check.py compare --private DIR --outputs FILE --submission FILE --verdict FILE [--device D]
             check.py SUBMISSION.py [--device D] [--timeout S] [--verbose]      (standalone: all three)
  exit codes EXIT_OK 0 (phase done / standalone passed), EXIT_FAILED 1 (standalone failed),
             EXIT_CHECKER 2 (the checker itself broke), EXIT_IMPORT 3 (run-submission: import failed)
  verdict    {"passed", "score", "checks": [{"name", "passed": true|false|null, "detail"}]}, written by the
             trusted compare phase to the --verdict FILE; never read from a stdout the submission shares
  strings    bounded(): every detail that can carry submission-controlled text is escaped and truncated,
             and write_verdict() bounds every check again, so no output can grow the verdict past its cap
  rules      static_offences(): ONE allowlist rule set (which imports, builtins and dynamic features a
             submission may use), per-task options through Rules(...), the shared default in DEFAULT_RULES
  runner     run_isolated(): the submission runs in a forked child; its results leave only through a pipe
             the trusted parent reads and closes as soon as the work returns; then the child's whole tree
             is SIGKILLed (no exit handlers run) and reaped (the parent is a child subreaper, so orphans
             come back to it); files the submission wrote are snapshotted by the parent at that moment.

The run phase's parent shares its sandbox with the submission, so nothing it reports can turn a failure
into an `error`: the harness treats any abnormal end of that phase as the submission's failure. Only a
broken prepare or compare (trusted code, own sandboxes) is a grading error.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

EXIT_OK, EXIT_FAILED, EXIT_CHECKER, EXIT_IMPORT = 0, 1, 2, 3

DETAIL_MAX = 2000      # one check's detail, in characters
CHECKS_MAX = 200       # checks in one verdict
NAME_MAX = 80
STATUS_KEY = "__status__"   # the child's JSON status inside the outputs file
RUNNER_KEY = "__runner__"   # the trusted parent's record of the run inside the outputs file
FILE_PREFIX = "__file__"    # snapshotted files inside the outputs file


class CheckerError(Exception):
    """A failure of the checker itself (bad arguments, unreadable trusted files): exit EXIT_CHECKER."""


# ---------------------------------------------------------------------------------------------------
# bounded strings and the verdict
# ---------------------------------------------------------------------------------------------------

def bounded(value: Any, limit: int = 300) -> str:
    """`value` as text fit for a detail: control characters escaped (newlines kept), at most `limit` chars."""
    s = value if isinstance(value, str) else str(value)
    if len(s) > 4 * limit + 64:  # never escape megabytes just to cut them
        s = s[:2 * limit] + s[-2 * limit:]
    out = "".join(c if (c.isprintable() or c == "\n") else c.encode("unicode_escape").decode("ascii") for c in s)
    if len(out) > limit:
        keep = max(limit - 24, 8)
        out = out[:keep] + f"... [{len(out) - keep} chars cut]"
    return out


def last_line(text: Any, limit: int = 300) -> str:
    lines = [ln for ln in str(text or "").strip().splitlines() if ln.strip()]
    return bounded(lines[-1] if lines else "?", limit)


def check(name: str, passed: bool | None, detail: Any) -> dict:
    """One check. passed None = skipped, with the reason in detail."""
    return {"name": bounded(name, NAME_MAX), "passed": None if passed is None else bool(passed),
            "detail": bounded(detail, DETAIL_MAX)}


def verdict_of(checks: list, required: tuple | list = (), optional: tuple | list = ()) -> dict:
    """Passed when no check failed (an `optional` one may: it only counts in the score), at least one
    passed, and every `required` name passed (not skipped)."""
    checks = [check(c["name"], c["passed"], c["detail"]) for c in checks][:CHECKS_MAX]
    graded = [c for c in checks if c["passed"] is not None]
    gating = [c for c in graded if c["name"] not in optional]
    ok_names = {c["name"] for c in checks if c["passed"] is True}
    passed = bool(gating) and all(c["passed"] for c in gating) and set(required) <= ok_names
    score = 1.0 if passed else (sum(1 for c in graded if c["passed"]) / len(graded) if graded else 0.0)
    return {"passed": passed, "score": round(float(score), 6), "checks": checks}


def write_verdict(path: str, verdict: dict) -> None:
    """The verdict file the harness reads. Every check is bounded again here, whatever the task built."""
    checks = [check(c["name"], c["passed"], c["detail"]) for c in verdict["checks"]][:CHECKS_MAX]
    v = {"passed": bool(verdict["passed"]), "score": min(max(float(verdict["score"]), 0.0), 1.0), "checks": checks}
    data = json.dumps(v, separators=(",", ":"), allow_nan=False)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(data)
    os.replace(tmp, path)


def emit(obj: dict) -> None:
    """A one-line JSON summary on stdout, for people; the harness never decides from it."""
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------------------
# the one static rule set (allowlist)
# ---------------------------------------------------------------------------------------------------

# Builtins a submission may name. Everything else (open, exec, eval, compile, __import__, getattr with a
# computed name, globals, vars, setattr, input, breakpoint, memoryview...) is outside the list.
SAFE_BUILTINS = frozenset({
    "abs", "all", "any", "bool", "callable", "dict", "divmod", "enumerate", "float", "frozenset", "getattr",
    "hasattr", "hash", "id", "int", "isinstance", "issubclass", "iter", "len", "list", "max", "min", "next",
    "object", "pow", "print", "property", "range", "repr", "reversed", "round", "set", "slice", "sorted",
    "staticmethod", "classmethod", "str", "sum", "super", "tuple", "type", "zip", "bytes", "complex", "format",
    "chr", "ord", "map", "filter", "True", "False", "None", "NotImplemented", "Ellipsis",
    "Exception", "ValueError", "TypeError", "RuntimeError", "KeyError", "IndexError", "AssertionError",
    "NotImplementedError", "AttributeError", "ZeroDivisionError", "StopIteration", "ArithmeticError",
    "LookupError", "OverflowError", "ImportError", "Warning", "UserWarning", "DeprecationWarning",
})
# Submodules (and their children) of the allowed roots that a submission may reach. A dotted path that
# reaches any other module (torch.sys, torch.os, numpy.ctypeslib, torch.utils.cpp_extension...) is an offence.
SAFE_MODULE_TREES = {
    "torch": ("torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils", "torch.nn.parameter",
              "torch.nn.modules", "torch.linalg", "torch.fft", "torch.special", "torch.autograd", "torch.optim",
              "torch.cuda", "torch.cuda.amp", "torch.cuda.memory", "torch.amp", "torch.autograd.graph", "torch.backends", "torch.backends.cuda",
              "torch.backends.cudnn", "torch.backends.mps", "torch.distributions", "torch.random", "torch.func",
              "torch.utils", "torch.utils.data", "torch.utils.checkpoint", "torch.testing", "torch.types",
              "torch.functional", "torch.nn.attention", "torch.cpu", "torch.mps"),
    "numpy": ("numpy", "numpy.linalg", "numpy.random", "numpy.fft", "numpy.typing"),
    "collections": ("collections", "collections.abc"),
}
DEFAULT_MODULES = frozenset({
    "torch", "numpy", "math", "cmath", "typing", "typing_extensions", "dataclasses", "functools", "itertools",
    "operator", "collections", "numbers", "enum", "abc", "copy", "random", "time", "warnings", "contextlib",
    "__future__", "einops",
})
SAFE_DUNDER_ATTRS = frozenset({"__init__", "__name__", "__doc__", "__class__"})
SAFE_DUNDER_NAMES = frozenset({"__name__", "__file__", "__doc__"})
SAFE_DUNDER_METHODS = frozenset({"__init__", "__repr__", "__str__", "__len__", "__iter__", "__getitem__", "__contains__",
                                 "__post_init__", "__call__", "__enter__", "__exit__", "__setstate__", "__getstate__"})
# Module-level callables that only take a function and run it over data: loops in disguise.
FUNCTIONAL_ITERATION = frozenset({"map", "filter", "reduce", "vectorize", "frompyfunc", "apply_along_axis",
                                  "apply_over_axes", "apply_", "map_", "map2_", "starmap", "accumulate", "vmap"})
# Attributes that read or write files, processes or the interpreter although reached through an allowed module.
IO_ATTRS = frozenset({
    "save", "load", "load_inline", "from_file", "fromfile", "tofile", "memmap", "savez", "savez_compressed",
    "savetxt", "loadtxt", "genfromtxt", "fromregex", "open_memmap", "DataSource", "dump", "dumps",
    "export_chrome_trace", "get_type_hints", "ForwardRef", "attrgetter", "methodcaller", "f_globals", "f_locals",
    "f_back", "f_builtins", "f_code", "tb_frame", "tb_next", "gi_frame", "gi_code", "cr_frame", "ag_frame",
    "co_code", "collect_env", "rundocs", "import_module",
})


@dataclass(frozen=True)
class Rules:
    """Per-task options over the shared default. Start from DEFAULT_RULES and replace() what differs."""
    modules: frozenset = DEFAULT_MODULES
    builtins: frozenset = SAFE_BUILTINS
    loops: bool = True                # False: no for/while/comprehensions/recursion/functional iteration
    classes_may_subclass_tensor: bool = False
    custom_autograd: bool = False
    monkeypatch: bool = False         # assignments into imported modules or classes
    settable: tuple = ()              # dotted prefixes a submission may assign under (e.g. "torch.backends")
    forbidden_attrs: frozenset = frozenset()  # attributes of allowed modules this task's measurement forbids


DEFAULT_RULES = Rules()


def _module_allowed(name: str, rules: Rules) -> str | None:
    parts = name.split(".")
    if parts[0] not in rules.modules:
        return f"import of `{name}` (allowed: {', '.join(sorted(rules.modules - {'__future__'}))})"
    if any(p.startswith("_") for p in parts[1:]):
        return f"import of private module `{name}`"
    tree = SAFE_MODULE_TREES.get(parts[0])
    if tree is not None and len(parts) > 1 and name not in tree:
        return f"import of `{name}` (not among the allowed parts of {parts[0]})"
    return None


def _resolve(root_module: str, attrs: list[str]):
    """Walks `root.a.b...` on the real module (imported here, in the trusted compare phase). Returns the
    first module reached that is outside the allowed trees, or None. Unknown names resolve to nothing."""
    try:
        import importlib
        obj = importlib.import_module(root_module)
    except Exception:
        return None
    import importlib.util
    import types
    path = root_module
    tree = SAFE_MODULE_TREES.get(root_module.split(".")[0])
    for a in attrs:
        try:
            obj = getattr(obj, a)
        except Exception:
            # not loaded yet, so not an attribute: a submodule the file could still import by this path
            real = getattr(obj, "__name__", None) if isinstance(obj, types.ModuleType) else None
            try:
                spec = importlib.util.find_spec(f"{real}.{a}") if real and not a.startswith("_") else None
            except Exception:
                spec = None
            if spec is not None and (tree is None or f"{real}.{a}" not in tree):
                return f"`{path}.{a}` is the module `{real}.{a}`"
            return None
        path += "." + a
        if isinstance(obj, types.ModuleType):
            real = getattr(obj, "__name__", "?")
            if tree is None or real not in tree:
                return f"`{path}` is the module `{real}`"
        else:
            return None
    return None


def static_offences(tree: ast.AST, rules: Rules = DEFAULT_RULES) -> list[str]:
    """Every use of something outside the allowlist, as 'line N: what'. The submission is parsed, never run."""
    tree = without_main_block(tree)
    found: list[tuple[int, str]] = []

    def bad(node, what):
        found.append((getattr(node, "lineno", 0), what))

    module_alias: dict[str, str] = {}   # local name -> module path (import x.y as z, from x import submodule)
    imported: set[str] = set()          # every name bound by an import
    # names the module defines itself (def, class, parameters) shadow a builtin; a plain assignment does not
    # count (`exec = exec` would otherwise exempt itself)
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                why = _module_allowed(a.name, rules)
                if why:
                    bad(node, why)
                local = a.asname or a.name.split(".")[0]
                module_alias[local] = a.name if a.asname else a.name.split(".")[0]
                imported.add(local)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                bad(node, "relative import")
                continue
            mod = node.module or ""
            why = _module_allowed(mod, rules)
            if why:
                bad(node, why)
            for a in node.names:
                local = a.asname or a.name
                imported.add(local)
                if a.name == "*":
                    bad(node, f"`from {mod} import *`")
                elif a.name.startswith("_") or a.name in IO_ATTRS or \
                        (not rules.loops and a.name in FUNCTIONAL_ITERATION):
                    bad(node, f"import of `{mod}.{a.name}`")
                else:
                    sub = f"{mod}.{a.name}"
                    tree_ok = SAFE_MODULE_TREES.get(mod.split(".")[0])
                    if tree_ok and sub in tree_ok:
                        module_alias[local] = sub
                    else:
                        why = _resolve(mod, [a.name])
                        if why:
                            bad(node, f"import of {why}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)

    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node

    def dotted(node):
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        return (node.id, list(reversed(parts))) if isinstance(node, ast.Name) else (None, [])

    # `m = torch` or `G = torch.nn.functional` makes m / G an alias: patching through it is monkeypatching,
    # and an alias of a module is looked through like the module itself.
    aliasing = set()
    grew = True
    while grew:
        grew = False
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and isinstance(node.value, (ast.Name, ast.Attribute)):
                root, attrs = dotted(node.value)
                t = node.targets[0].id
                if root in imported:
                    aliasing.add(id(node.value))
                    if t not in imported:
                        imported.add(t)
                        grew = True
                    if root in module_alias and t not in module_alias:
                        base = module_alias[root]
                        cand = ".".join([base] + attrs)
                        tree_ok = SAFE_MODULE_TREES.get(base.split(".")[0], ())
                        if not attrs or cand in tree_ok:
                            module_alias[t] = cand
                            grew = True

    def root_name(node):
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            node = node.func if isinstance(node, ast.Call) else node.value
        return node.id if isinstance(node, ast.Name) else None

    def check_target(t, node):
        for sub in ast.walk(t):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)) and \
                    sub.id.startswith("__") and sub.id.endswith("__"):
                bad(node, f"assignment to `{sub.id}`")
        if isinstance(t, (ast.Attribute, ast.Subscript)):
            root, attrs = dotted(t.value if isinstance(t, ast.Attribute) else t)
            full = ".".join([module_alias.get(root, root or "")] + attrs)
            if any(full == p or full.startswith(p + ".") for p in rules.settable):
                return
            if not rules.monkeypatch and root_name(t) in imported:
                bad(node, f"assignment into imported module or class `{root_name(t)}` (monkeypatching)")
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                check_target(e, node)
        elif isinstance(t, ast.Starred):
            check_target(t.value, node)

    loop_kinds = {ast.For: "for loop", ast.AsyncFor: "async for loop", ast.While: "while loop",
                  ast.ListComp: "list comprehension", ast.SetComp: "set comprehension",
                  ast.DictComp: "dict comprehension", ast.GeneratorExp: "generator expression"}
    for node in ast.walk(tree):
        if not rules.loops:
            for k, label in loop_kinds.items():
                if isinstance(node, k):
                    bad(node, label)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            n = node.id
            if n.startswith("__") and n.endswith("__"):
                if n not in SAFE_DUNDER_NAMES:
                    bad(node, f"use of `{n}`")
            elif n in rules.forbidden_attrs and n in imported:
                bad(node, f"use of `{n}` (forbidden by this task: it would fake the measurement)")
            elif n not in bound and n not in imported and n in _ALL_BUILTINS and n not in rules.builtins:
                bad(node, f"use of the builtin `{n}` (not in the allowed set)")
            elif not rules.loops and n in FUNCTIONAL_ITERATION and n not in bound:
                bad(node, f"use of `{n}` (functional iteration)")
            if n in module_alias and id(node) not in aliasing:
                par = parents.get(id(node))
                first_arg_of_getattr = isinstance(par, ast.Call) and isinstance(par.func, ast.Name) and \
                    par.func.id in ("getattr", "hasattr") and par.args and par.args[0] is node
                if not (isinstance(par, ast.Attribute) and par.value is node) and not first_arg_of_getattr:
                    bad(node, f"module `{n}` used as a value (use modules only through attribute access)")
        elif isinstance(node, ast.Attribute):
            a = node.attr
            if a.startswith("__") and a.endswith("__"):
                if a not in SAFE_DUNDER_ATTRS:
                    bad(node, f"dunder attribute `.{a}`")
            elif a in IO_ATTRS or a.startswith("register_module_"):
                bad(node, f"attribute `.{a}` (file, process or interpreter access)")
            elif a in rules.forbidden_attrs:
                bad(node, f"attribute `.{a}` (forbidden by this task: it would fake the measurement)")
            elif not rules.loops and a in FUNCTIONAL_ITERATION:
                bad(node, f"use of `.{a}` (functional iteration)")
            elif a.startswith("_") and root_name(node) in imported:
                bad(node, f"private attribute `.{a}` of an imported name")
            if not isinstance(parents.get(id(node)), ast.Attribute):
                chain, cur = [], node
                while isinstance(cur, ast.Attribute):
                    chain.append(cur.attr)
                    cur = cur.value
                if isinstance(cur, ast.Name) and cur.id in module_alias:
                    why = _resolve(module_alias[cur.id], list(reversed(chain)))
                    if why:
                        bad(node, f"reaches a module outside the allowlist: {why}")
        elif isinstance(node, ast.Subscript):
            # a computed key into a namespace (builtins, globals, a module's __dict__) is a dynamic lookup
            base = node.value
            if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id in ("vars", "globals", "locals", "dir"):
                bad(node, f"lookup into `{base.func.id}()`")
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in ("getattr", "hasattr") and f.id not in bound:
                name = node.args[1] if len(node.args) >= 2 else None
                if not (isinstance(name, ast.Constant) and isinstance(name.value, str)) or \
                        name.value.startswith("_") or name.value in IO_ATTRS or \
                        (name.value in _ALL_BUILTINS and name.value not in rules.builtins) or \
                        name.value in rules.forbidden_attrs or \
                        (not rules.loops and name.value in FUNCTIONAL_ITERATION):
                    bad(node, f"{f.id} with a computed, private or denied attribute name")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for t in targets:
                check_target(t, node)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
            ts = [node.target] if isinstance(node, (ast.For, ast.AsyncFor)) else \
                [i.optional_vars for i in node.items if i.optional_vars is not None]
            for t in ts:
                check_target(t, node)
        elif isinstance(node, ast.ClassDef):
            for b in node.bases:
                last = b.attr if isinstance(b, ast.Attribute) else b.id if isinstance(b, ast.Name) else None
                if last == "Tensor" and not rules.classes_may_subclass_tensor:
                    bad(node, f"class `{node.name}` subclasses torch.Tensor")
                if last == "Function" and not rules.custom_autograd:
                    bad(node, f"class `{node.name}` is a custom autograd Function")
            if node.keywords:
                bad(node, f"class `{node.name}` has a metaclass or class keywords")
            for st in node.body:
                if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)) and st.name.startswith("__") \
                        and st.name.endswith("__") and st.name not in SAFE_DUNDER_METHODS:
                    bad(st, f"class `{node.name}` defines `{st.name}`")
    if not rules.loops:
        found.extend(_recursion(tree))
    return [f"line {ln}: {what}" for ln, what in sorted(set(found))]


import builtins as _builtins_module  # noqa: E402  (the trusted side's view of what the names are)
_ALL_BUILTINS = frozenset(dir(_builtins_module)) | {"__builtins__"}


def _is_main_guard(node) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    t = node.test
    if len(t.ops) != 1 or not isinstance(t.ops[0], ast.Eq) or len(t.comparators) != 1:
        return False
    pair = [t.left, t.comparators[0]]
    return sum(isinstance(p, ast.Name) and p.id == "__name__" for p in pair) == 1 and \
        sum(isinstance(p, ast.Constant) and p.value == "__main__" for p in pair) == 1


def without_main_block(tree):
    """The module without its top-level `if __name__ == "__main__":` bodies: the submission is imported
    under another name, so they never run."""
    import copy
    tree = copy.deepcopy(tree)
    body = []
    for st in getattr(tree, "body", []):
        body.extend(st.orelse) if _is_main_guard(st) else body.append(st)
    tree.body = body
    return tree


def _recursion(tree) -> list:
    """Functions (def or name = lambda) that reach themselves through calls by name."""
    bodies: dict[str, list] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bodies.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    bodies.setdefault(t.id, []).append(node.value)
    calls = {}
    for name, nodes in bodies.items():
        callees = set()
        for fn in nodes:
            for sub in ast.walk(fn):
                if isinstance(sub, ast.Call):
                    f = sub.func
                    if isinstance(f, ast.Name) and f.id in bodies:
                        callees.add(f.id)
                    elif isinstance(f, ast.Attribute) and f.attr in bodies and \
                            isinstance(f.value, ast.Name) and f.value.id in ("self", "cls"):
                        callees.add(f.attr)
        calls[name] = callees
    out = []
    for start in calls:
        stack, seen = [(start, [start])], set()
        while stack:
            cur, path = stack.pop()
            for nxt in calls.get(cur, ()):
                if nxt == start:
                    out.append((bodies[start][0].lineno, "recursion: " + " -> ".join(path + [start])))
                    stack = []
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    return out


def parse_source(source: bytes | None):
    """(tree, None) or (None, why)."""
    if source is None:
        return None, "submission file unreadable"
    try:
        return ast.parse(source), None
    except Exception as e:  # noqa: BLE001  (SyntaxError, ValueError, RecursionError...)
        return None, f"cannot parse submission: {type(e).__name__}: {bounded(e, 300)}"


def rules_check(name: str, tree, rules: Rules = DEFAULT_RULES, ok_detail: str = "uses only allowed imports, builtins and features") -> dict:
    if tree is None:
        return check(name, False, "submission source could not be parsed")
    offences = static_offences(tree, rules)
    if offences:
        shown = "; ".join(offences[:15]) + (f"; ... (+{len(offences) - 15} more)" if len(offences) > 15 else "")
        return check(name, False, shown)
    return check(name, True, ok_detail)


# ---------------------------------------------------------------------------------------------------
# the runner: submission code in a child whose results leave only through a pipe
# ---------------------------------------------------------------------------------------------------

PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36


def _prctl(option: int, value: int) -> bool:
    try:
        import ctypes
        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except Exception:  # noqa: BLE001
        return False


def _proc_children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(name))
    return kids


def descendants(pid: int) -> list[int]:
    kids, out, todo = _proc_children(), [], [pid]
    while todo:
        for k in kids.get(todo.pop(), ()):
            out.append(k)
            todo.append(k)
    return out


def kill_tree(rounds: int = 2000) -> bool:
    """SIGKILLs and reaps every descendant of this process (a subreaper, so orphans are ours) until none is
    left. True when the tree is gone."""
    me = os.getpid()
    for i in range(rounds):
        pids = descendants(me)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                break
        if not pids:
            return True
        if i > 20:
            time.sleep(0.001)
    return not descendants(me)


def _send(fd: int, payload: bytes) -> None:
    data = struct.pack("<Q", len(payload)) + payload
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_frame(fd: int, max_bytes: int, deadline: float | None, child: int):
    """One length-prefixed frame, or (None, why). Stops at EOF, the deadline, or an oversized frame."""
    buf = bytearray()
    need = 8
    length = None
    while True:
        timeout = None if deadline is None else max(deadline - time.monotonic(), 0)
        if timeout is not None and timeout == 0:
            return None, "timeout"
        r, _, _ = select.select([fd], [], [], timeout if timeout is not None else 1.0)
        if not r:
            if deadline is not None and time.monotonic() >= deadline:
                return None, "timeout"
            continue
        chunk = os.read(fd, min(1 << 20, need - len(buf)))
        if not chunk:
            return None, "eof"
        buf += chunk
        if len(buf) < need:
            continue
        if length is None:
            length = struct.unpack("<Q", bytes(buf[:8]))[0]
            if length > max_bytes:
                return None, f"results of {length} bytes exceed the {max_bytes}-byte bound"
            need = 8 + length
            if len(buf) >= need:
                return bytes(buf[8:need]), None
            continue
        return bytes(buf[8:need]), None


@dataclass
class Isolated:
    """What the trusted parent saw of one isolated call."""
    payload: bytes | None
    ended: str            # "returned", "exited", "timeout", "oversized"
    detail: str
    wall_s: float         # fork -> results received (or the end)
    tree_cpu_s: float     # CPU of every process of the child's tree, reaped by this process
    tree_killed: bool
    files: dict = field(default_factory=dict)


def _child_exit_status(pid: int, wait_s: float = 1.0) -> str:
    """How the child ended, after its pipe closed (it may take a moment to become a zombie)."""
    end = time.monotonic() + wait_s
    while True:
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return "exited"
        if got:
            return f"exit code {os.waitstatus_to_exitcode(status)}"
        if time.monotonic() > end:
            return "its pipe closed while it kept running"
        time.sleep(0.01)


def run_isolated(work: Callable[[], bytes], *, timeout: float | None = None, max_bytes: int = 256 << 20,
                 snapshot: tuple = (), snapshot_dir: str = ".", max_file_bytes: int = 64 << 20,
                 child_setup: Callable[[], None] | None = None,
                 after_fork: Callable[[], None] | None = None) -> Isolated:
    """Forks; the child runs `work()` (hostile from the first line of submission code) and sends the bytes
    it returns through a pipe. The parent reads exactly one frame, closes the pipe, SIGKILLs and reaps the
    whole tree (no exit handler, no orphan survives), then snapshots `snapshot` files from `snapshot_dir`.
    Nothing the tree does after its results arrived reaches the parent."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_DUMPABLE, 0)  # the child cannot open /proc/<parent>/fd or mem
    sys.stdout.flush()
    sys.stderr.flush()
    before = os.times()
    rfd, wfd = os.pipe()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # ---- the child: never returns
        exit_now = os._exit
        try:
            os.close(rfd)
            _prctl(PR_SET_DUMPABLE, 1)
            os.dup2(2, 1)  # the submission's prints go to stderr
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
            for name in os.listdir("/proc/self/fd"):
                fd = int(name)
                if fd > 2 and fd != wfd:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            if child_setup:
                child_setup()
            payload = work()
            _send(wfd, payload)
        except BaseException:  # noqa: BLE001
            try:
                sys.stderr.write(traceback.format_exc()[-4000:])
                sys.stderr.flush()
            except BaseException:  # noqa: BLE001
                pass
            exit_now(70)
        # The results are sent: wait to be killed; no interpreter teardown, no atexit.
        while True:
            time.sleep(3600)
    os.close(wfd)
    if after_fork:  # the parent's side only: what the child must never hold (a nonce on stdin, say)
        after_fork()
    deadline = None if timeout is None else time.monotonic() + timeout
    payload, why = _read_frame(rfd, max_bytes, deadline, pid)
    wall = time.perf_counter() - t0
    os.close(rfd)
    status = _child_exit_status(pid) if payload is None else "returned"
    gone = kill_tree()
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    files = {}
    for name in snapshot:
        data = read_plain_file(os.path.join(snapshot_dir, name), max_file_bytes)
        if data is not None:
            files[name] = data
    if payload is not None:
        return Isolated(payload, "returned", "the work returned its results", wall, cpu, gone, files)
    if why == "timeout":
        return Isolated(None, "timeout", f"no results within {timeout:g} s", wall, cpu, gone, files)
    if why == "eof":
        return Isolated(None, "exited", f"the submission's process ended before returning results ({status})", wall, cpu, gone, files)
    return Isolated(None, "oversized", why or "?", wall, cpu, gone, files)


def read_plain_file(path: str, max_bytes: int) -> bytes | None:
    """A regular file's bytes (never through a link, never a FIFO), or None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        import stat as st
        s = os.fstat(fd)
        if not st.S_ISREG(s.st_mode) or s.st_size > max_bytes:
            return None
        chunks, total = [], 0
        while total <= max_bytes:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            chunks.append(b)
            total += len(b)
        return b"".join(chunks) if total <= max_bytes else None
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------------
# outputs: what the run phase hands to compare
# ---------------------------------------------------------------------------------------------------

def pack(status: dict, arrays: dict) -> bytes:
    """The child's results: a JSON status and numeric arrays, as npz bytes (no pickle)."""
    import numpy as np
    buf = io.BytesIO()
    np.savez(buf, **{STATUS_KEY: np.array(json.dumps(status, default=str))}, **arrays)
    return buf.getvalue()


@dataclass
class Outputs:
    """The run phase's results as compare sees them. `ok` False: the work never returned its results."""
    ok: bool
    status: dict
    arrays: dict
    runner: dict
    files: dict
    error: str | None

    @property
    def import_error(self) -> str | None:
        e = self.status.get("import_error")
        return str(e) if e else None


def load_outputs(path: str) -> Outputs:
    """Never raises: anything wrong with the file is the submission's failure."""
    import numpy as np
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        runner = json.loads(str(arrays.pop(RUNNER_KEY)))
    except Exception as e:  # noqa: BLE001
        return Outputs(False, {}, {}, {}, {}, f"outputs file missing or malformed ({type(e).__name__}: {bounded(e, 200)})")
    files = {k[len(FILE_PREFIX):]: arrays.pop(k).tobytes() for k in list(arrays) if k.startswith(FILE_PREFIX)}
    try:
        status = json.loads(str(arrays.pop(STATUS_KEY))) if STATUS_KEY in arrays else {}
        if not isinstance(status, dict):
            raise ValueError("status is not an object")
    except Exception as e:  # noqa: BLE001
        return Outputs(False, {}, {}, runner, files, f"the submission's status is malformed ({bounded(e, 200)})")
    if runner.get("ended") != "returned":
        return Outputs(False, status, arrays, runner, files, str(runner.get("detail", "no results")))
    return Outputs(True, status, arrays, runner, files, None)


# ---------------------------------------------------------------------------------------------------
# the task and the phases
# ---------------------------------------------------------------------------------------------------

@dataclass
class Task:
    """A task's logic; the library supplies the protocol around it.

    prepare(out_dir, device)          trusted: write the public files and the private expected data
    run(module, inputs_dir, device)   UNTRUSTED child: call the submission; return (status dict, arrays dict)
    compare(ctx)                      trusted: list of checks (ctx: CompareContext)
    child_setup(inputs_dir, device)   in the child, before the submission is imported (measuring wrappers)
    """
    name: str
    public_files: tuple
    prepare: Callable[[str, str], None]
    run: Callable[[Any, str, str], tuple]
    compare: Callable[["CompareContext"], list]
    required: tuple = ()
    optional: tuple = ()   # checks that only count in the score, never fail the verdict alone
    snapshot: tuple = ()   # files the submission writes that compare may read, snapshotted at return
    max_output_mb: int = 256
    child_setup: Callable[[str, str], None] | None = None
    prepare_params: tuple = ()   # extra `--NAME VALUE` options of prepare and standalone, passed to prepare
    import_submission: bool = True   # False: a script task; run() gets the submission's path, not a module


@dataclass
class CompareContext:
    private_dir: str
    outputs: Outputs
    source: bytes | None
    tree: Any
    parse_error: str | None
    device: str


def load_submission(path: str):
    import importlib.util
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location("submission", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = mod
    spec.loader.exec_module(mod)
    return mod


def _run_phase(task: Task, submission: str, inputs: str, out: str, device: str, timeout: float | None) -> int:
    def work() -> bytes:
        if not task.import_submission:
            status, arrays = task.run(os.path.abspath(submission), inputs, device)
            return pack(status, arrays)
        try:
            module = load_submission(submission)
        except BaseException:  # noqa: BLE001  (SystemExit too)
            return pack({"import_error": traceback.format_exc()[-4000:]}, {})
        status, arrays = task.run(module, inputs, device)
        return pack(status, arrays)

    res = run_isolated(work, timeout=timeout, max_bytes=task.max_output_mb << 20, snapshot=task.snapshot,
                       snapshot_dir=os.path.dirname(os.path.abspath(submission)),
                       child_setup=(lambda: task.child_setup(inputs, device)) if task.child_setup else None)
    import numpy as np
    runner = {"ended": res.ended, "detail": res.detail, "wall_s": res.wall_s, "tree_cpu_s": res.tree_cpu_s,
              "tree_killed": res.tree_killed}
    arrays: dict = {}
    import_failed = False
    if res.payload is not None:
        try:
            with np.load(io.BytesIO(res.payload), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files if not k.startswith("__") or k == STATUS_KEY}
            status = json.loads(str(arrays.get(STATUS_KEY, np.array("{}"))))
            import_failed = isinstance(status, dict) and bool(status.get("import_error"))
        except Exception as e:  # noqa: BLE001
            arrays = {}
            runner.update(ended="malformed", detail=f"the submission's results are malformed ({type(e).__name__})")
    for name, data in res.files.items():
        arrays[FILE_PREFIX + name] = np.frombuffer(data, dtype=np.uint8)
    arrays[RUNNER_KEY] = np.array(json.dumps(runner))
    tmp = out + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, out)
    emit({"ended": runner["ended"], "wall_s": round(res.wall_s, 4)})
    return EXIT_IMPORT if import_failed else EXIT_OK


def read_source(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def runner_checks(outputs: Outputs) -> list:
    """The checks every Python grader reports about the run itself."""
    if outputs.ok:
        if outputs.import_error:
            return [check("imports", False, f"the submission could not be imported: {last_line(outputs.import_error)}")]
        return []
    return [check("runs_cleanly", False, f"no results from the submission: {bounded(outputs.error, 500)}")]


def _compare_phase(task: Task, private_dir: str, outputs_path: str, submission: str, device: str) -> dict:
    source = read_source(submission)
    tree, parse_error = parse_source(source)
    outputs = load_outputs(outputs_path)
    ctx = CompareContext(private_dir, outputs, source, tree, parse_error, device)
    checks = runner_checks(outputs) + list(task.compare(ctx))
    return verdict_of(checks, task.required, task.optional)


def _standalone(task: Task, script: str, submission: str, device: str, timeout: float, verbose: bool,
                params: dict | None = None) -> int:
    source = read_source(submission)
    if source is None:
        raise CheckerError(f"cannot read submission {submission}")
    private = tempfile.mkdtemp(prefix=f"{task.name}-private-")
    work = tempfile.mkdtemp(prefix=f"{task.name}-run-")
    try:
        task.prepare(private, device, **(params or {}))
        for f in task.public_files:
            shutil.copyfile(os.path.join(private, f), os.path.join(work, f))
        # No sandbox here: the private files stay in this process's memory while the submission runs, and
        # go back on disk only after its whole tree is gone.
        held = {}
        for root, _, files in os.walk(private):
            for f in files:
                full = os.path.join(root, f)
                with open(full, "rb") as fh:
                    held[os.path.relpath(full, private)] = fh.read()
        shutil.rmtree(private)
        os.mkdir(private, 0o700)
        sub = os.path.join(work, "submission.py")
        with open(sub, "wb") as f:
            f.write(source)
        out = os.path.join(work, "outputs.npz")
        cmd = [sys.executable, script, "run-submission", "--submission", sub, "--inputs", work, "--out", out,
               "--device", device, "--timeout", str(timeout)]
        err_path = os.path.join(work, ".run.stderr")
        with open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=True)
            try:
                proc.wait(timeout=timeout + 60)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
        if verbose:
            with open(err_path, "rb") as f:
                sys.stderr.write(f.read()[-3000:].decode(errors="replace"))
        for rel, data in held.items():
            os.makedirs(os.path.dirname(os.path.join(private, rel)), exist_ok=True)
            with open(os.path.join(private, rel), "wb") as fh:
                fh.write(data)
        trusted_out = os.path.join(private, "outputs.npz")
        data = read_plain_file(out, task.max_output_mb << 20)
        if data is not None:
            with open(trusted_out, "wb") as f:
                f.write(data)
        with open(os.path.join(private, "submission.py"), "wb") as f:
            f.write(source)
        verdict = _compare_phase(task, private, trusted_out, os.path.join(private, "submission.py"), device)
        emit(verdict)
        return EXIT_OK if verdict["passed"] else EXIT_FAILED
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # bad arguments are a checker failure
        self.print_usage(sys.stderr)
        raise CheckerError(f"bad arguments: {message}")


def main(task: Task, script: str, argv: list | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    devices = ["auto", "cpu", "cuda"]
    try:
        if argv and argv[0] in ("prepare", "run-submission", "compare"):
            p = _Parser(prog="check.py")
            sub = p.add_subparsers(dest="cmd", required=True)
            sp = sub.add_parser("prepare")
            sp.add_argument("--out", required=True)
            sp.add_argument("--device", choices=devices, default="auto")
            for name in task.prepare_params:
                sp.add_argument(f"--{name}", required=True)
            sp = sub.add_parser("run-submission")
            sp.add_argument("--submission", required=True)
            sp.add_argument("--inputs", required=True)
            sp.add_argument("--out", required=True)
            sp.add_argument("--device", choices=devices, default="auto")
            sp.add_argument("--timeout", type=float, default=None)
            sp = sub.add_parser("compare")
            sp.add_argument("--private", required=True)
            sp.add_argument("--outputs", required=True)
            sp.add_argument("--submission", required=True)
            sp.add_argument("--verdict", required=True)
            sp.add_argument("--device", choices=devices, default="auto")
            a = p.parse_args(argv)
            if a.cmd == "prepare":
                os.makedirs(a.out, exist_ok=True)
                task.prepare(a.out, a.device, **{n: getattr(a, n) for n in task.prepare_params})
                emit({"ok": True})
                return EXIT_OK
            if a.cmd == "run-submission":
                return _run_phase(task, a.submission, a.inputs, a.out, a.device, a.timeout)
            v = _compare_phase(task, a.private, a.outputs, a.submission, a.device)
            write_verdict(a.verdict, v)
            emit({"passed": v["passed"], "score": v["score"]})
            return EXIT_OK
        p = _Parser(prog="check.py", description=f"{task.name}: prepare + run-submission + compare")
        p.add_argument("submission")
        p.add_argument("--device", choices=devices, default="auto")
        p.add_argument("--timeout", type=float, default=300.0)
        p.add_argument("--verbose", action="store_true")
        for name in task.prepare_params:
            p.add_argument(f"--{name}", required=True)
        a = p.parse_args(argv)
        return _standalone(task, os.path.abspath(script), a.submission, a.device, a.timeout, a.verbose,
                           {n: getattr(a, n) for n in task.prepare_params})
    except CheckerError as e:
        emit({"error": bounded(e, 4000)})
        return EXIT_CHECKER
    except Exception as e:  # noqa: BLE001
        sys.stderr.write(traceback.format_exc())
        emit({"error": f"checker failure: {type(e).__name__}: {bounded(e, 2000)}"})
        return EXIT_CHECKER
