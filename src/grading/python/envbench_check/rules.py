"""The one static rule set (an allowlist): which imports, builtins and dynamic features a submission may use.
Per-task options go through Rules(...); the shared default is DEFAULT_RULES. The submission is parsed, never run."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass

from .constants import UNKNOWN, ModuleConstants
from .verdict import bounded, check

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


# The module map (module_map() below), when the harness handed one to this trusted process: it lets _resolve
# answer without importing torch here (about 1.7 s per compare phase). None: every walk imports for real.
_MODULE_MAP: dict | None = None
_UNKNOWN = object()


def module_map(roots=DEFAULT_MODULES) -> dict:
    """What _resolve needs to know about the allowed modules, computed once by a trusted process that imports
    `roots` (as a compare phase's _resolve would) and every module of their allowed trees (a submission may name
    any of them, and the walk then imports it): for each of those, the real module it is; for each of those and each module of an allowed tree reachable from
    them, its module-valued attributes (with the real name of each) and the submodules `find_spec` finds that
    are not attributes yet. A module that computes attributes (`__getattr__`, a ModuleType subclass) or whose
    path is not plain folders is marked `opaque`: a walk that needs an answer from it imports for real, as does
    a walk from a root the map does not hold."""
    import importlib
    import importlib.machinery
    import importlib.util
    import os
    import types
    in_trees = {n for tree in SAFE_MODULE_TREES.values() for n in tree}
    suffixes = sorted(importlib.machinery.all_suffixes(), key=len, reverse=True)
    out: dict = {"roots": {}, "absent": [], "modules": {}}
    todo = []
    for r in sorted(set(roots)):
        try:
            m = importlib.import_module(r)
        except Exception:  # noqa: BLE001  (a root that cannot be imported resolves to nothing, as in _resolve)
            out["absent"].append(r)
            continue
        out["roots"][r] = m.__name__
        todo.append(m)
    tops = {r.split(".")[0] for r in out["roots"]}
    for n in sorted(in_trees):
        if n.split(".")[0] not in tops:
            continue
        # A submission may import any module of an allowed tree by name (`from torch.utils.checkpoint import
        # checkpoint`), and a compare phase's walk imports it then: the map holds each one, imported.
        try:
            importlib.import_module(n)
        except Exception:  # noqa: BLE001  (one this torch lacks: the walk finds nothing there either)
            out["absent"].append(n)
            continue
        if isinstance(sys.modules.get(n), types.ModuleType):
            out["roots"][n] = sys.modules[n].__name__
            todo.append(sys.modules[n])
    while todo:
        m = todo.pop()
        name = m.__name__
        if name in out["modules"]:
            continue
        d = vars(m)
        paths = list(getattr(m, "__path__", None) or [])
        opaque = type(m) is not types.ModuleType or "__getattr__" in d or not all(os.path.isdir(p) for p in paths)
        attrs = {}
        for a, v in list(d.items()):
            if isinstance(v, types.ModuleType):
                real = getattr(v, "__name__", "?")
                attrs[a] = real if isinstance(real, str) else "?"
                if attrs[a] in in_trees:
                    todo.append(v)
        subs = set()
        for p in paths:
            try:
                entries = os.listdir(p)
            except OSError:
                opaque = True
                continue
            for f in entries:
                n = next((f[: -len(x)] for x in suffixes if f.endswith(x)), f)
                if n.isidentifier() and not n.startswith("_") and n not in d:
                    try:
                        if importlib.util.find_spec(f"{name}.{n}") is not None:
                            subs.add(n)
                    except Exception:  # noqa: BLE001
                        pass
        out["modules"][name] = {"attrs": attrs, "subs": sorted(subs), "opaque": opaque}
    return out


def use_module_map(m: dict | None) -> None:
    """Hands this process a module map (from module_map(), computed by a trusted process); None drops it."""
    global _MODULE_MAP
    _MODULE_MAP = m


def _resolve_by_map(m: dict, root_module: str, attrs: list[str]):
    """_resolve's answer from the map, or _UNKNOWN where the map cannot give it exactly."""
    if root_module in m["absent"]:
        return None
    cur = m["roots"].get(root_module)
    if cur is None:
        return _UNKNOWN
    path = root_module
    tree = SAFE_MODULE_TREES.get(root_module.split(".")[0])
    for a in attrs:
        e = m["modules"].get(cur)
        if e is None:
            return _UNKNOWN
        if a in e["attrs"]:
            real = e["attrs"][a]
            path += "." + a
            if tree is None or real not in tree:
                return f"`{path}` is the module `{real}`"
            cur = real
            continue
        if e["opaque"]:
            return _UNKNOWN
        if a in e["subs"]:
            return f"`{path}.{a}` is the module `{cur}.{a}`" if tree is None or f"{cur}.{a}" not in tree else None
        return None  # not a module: a function, a class, a constant, or nothing at all
    return None


def _resolve(root_module: str, attrs: list[str]):
    """Walks `root.a.b...` on the real module (imported here, in the trusted compare phase). Returns the
    first module reached that is outside the allowed trees, or None. Unknown names resolve to nothing."""
    if _MODULE_MAP is not None:
        try:
            r = _resolve_by_map(_MODULE_MAP, root_module, attrs)
        except Exception:  # noqa: BLE001  (a malformed map: walk for real)
            r = _UNKNOWN
        if r is not _UNKNOWN:
            return r
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
    # A builtin's name the module binds to a constant (nanoGPT's `compile = True` config global) is that
    # constant where the constant folding knows the value at the read; anywhere else it may be the builtin.
    consts = ModuleConstants(tree)

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
                    elif mod.split(".")[0] in rules.modules:  # never import a module the rules do not allow
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
            elif n not in bound and n not in imported and n in _ALL_BUILTINS and n not in rules.builtins \
                    and consts.value(node) is UNKNOWN:
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
                if isinstance(cur, ast.Name) and cur.id in module_alias and \
                        module_alias[cur.id].split(".")[0] in rules.modules:
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
