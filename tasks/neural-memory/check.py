#!/usr/bin/env python3
"""Grader for the neural-memory task (a Titans-style neural long-term memory added to a Transformer).

The grading is split into phases so that the submission never shares a process with the code that
decides the verdict:

  prepare         (trusted)   draw a random model configuration and token ids -> inputs.json (public)
                              and expected.json (the trusted copy compare reads)
  run-submission  (UNTRUSTED) import the submission, build the model, run the runtime probes (logits
                              shape, causality, memory use, per-token state, recurrence, gradients) and
                              save the raw tensors and observations to outputs.npz
  compare         (trusted)   stdlib + numpy only; never imports the submission. Reads its source with
                              `ast` for the static checks (sandbox hygiene and the six criteria), decides
                              every runtime check from the raw arrays itself, prints the verdict JSON

`check.py SUBMISSION.py` runs all three on one machine (the untrusted phase in a child process).
Every subcommand prints one compact JSON object as the last line of stdout.
Exit codes: prepare/compare 0 = ok, 2 = checker failure; run-submission 0 = ran, 3 = import failed,
2 = checker failure; standalone 0 = passed, 1 = failed, 2 = checker failure.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

FORMAT_VERSION = 1
MODEL_CLASS = "SimpleTransformer"
MEMORY_CLASS = "NeuralMemory"
CRITERIA = ("neural_memory_class", "surprise_gate", "learnable_decay", "outer_product",
            "recurrent_update", "gated_fusion")


class CheckerError(Exception):
    """A failure of the checker itself (bad arguments, unreadable trusted files)."""


def emit(obj) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n")
    sys.stdout.flush()


def _check(name, passed, detail) -> dict:
    return dict(name=name, passed=passed, detail=str(detail)[:700])


# ===========================================================================
# static checks (trusted; the submission is parsed, never run)
# ===========================================================================

# --- sandbox_safe: what a model file may touch ------------------------------------------------
# The runtime probes run in the submission's process, so the file must not be able to reach files,
# processes, the interpreter or torch's internals. Honest model code needs none of that.
ALLOWED_MODULES = {
    "torch", "numpy", "math", "cmath", "typing", "typing_extensions", "dataclasses", "functools",
    "itertools", "operator", "collections", "numbers", "enum", "abc", "copy", "random", "time",
    "warnings", "contextlib", "__future__", "einops",
}
DENIED_MODULES = (
    "torch.utils.cpp_extension", "torch.hub", "torch.multiprocessing", "torch.distributed",
    "torch.package", "torch.library", "torch.ops", "torch.classes", "torch.onnx",
    "torch.utils.tensorboard", "torch.utils.model_zoo", "torch.profiler", "torch.overrides",
    "torch.autograd.profiler", "numpy.ctypeslib", "numpy.f2py", "numpy.distutils", "numpy.lib.format",
)
DENIED_NAMES = {
    "open", "exec", "eval", "compile", "__import__", "globals", "locals", "vars", "setattr", "delattr",
    "breakpoint", "input", "exit", "quit", "help", "memoryview", "__builtins__", "__loader__", "__spec__",
}
DENIED_ATTRS = {
    "save", "load", "load_inline", "cpp_extension", "hub", "ops", "library", "classes", "package",
    "from_file", "fromfile", "tofile", "memmap", "savez", "savez_compressed", "savetxt", "loadtxt",
    "genfromtxt", "ctypeslib", "f2py", "distutils", "multiprocessing", "distributed", "onnx",
    "tensorboard", "model_zoo", "profiler", "overrides", "DataSource", "dump", "dumps",
    "export_chrome_trace", "system", "popen", "get_type_hints", "ForwardRef", "attrgetter",
    "methodcaller", "f_globals", "f_locals", "f_back", "f_builtins", "f_code", "tb_frame", "tb_next",
    "gi_frame", "gi_code", "cr_frame", "ag_frame", "co_code", "func_globals", "func_code",
    "fromregex", "open_memmap", "rundocs", "collect_env", "benchmark",
}
# Names that, imported with `from X import name`, are modules rather than classes or functions.
MODULE_NAMES = {"nn", "functional", "init", "autograd", "linalg", "fft", "special", "cuda", "backends", "utils",
                "optim", "jit", "distributions", "testing", "random", "lib", "fx", "parametrize"}
ALLOWED_DUNDER_ATTRS = {"__init__", "__name__", "__doc__", "__class__"}
ALLOWED_DUNDER_NAMES = {"__name__", "__file__", "__doc__"}
ALLOWED_DUNDER_METHODS = {"__init__", "__repr__", "__str__", "__len__", "__iter__", "__getitem__",
                          "__contains__", "__post_init__", "__call__", "__enter__", "__exit__"}


def _is_main_guard(node) -> bool:
    """`if __name__ == "__main__":` (either operand order)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    t = node.test
    if len(t.ops) != 1 or not isinstance(t.ops[0], ast.Eq) or len(t.comparators) != 1:
        return False
    pair = [t.left, t.comparators[0]]
    names = [p for p in pair if isinstance(p, ast.Name) and p.id == "__name__"]
    consts = [p for p in pair if isinstance(p, ast.Constant) and p.value == "__main__"]
    return len(names) == 1 and len(consts) == 1


def _without_main_block(tree):
    """A copy of the module whose top-level `if __name__ == "__main__":` bodies are dropped: they never
    run when the grader imports the file (it is loaded as `submission`), so they are exempt."""
    tree = copy.deepcopy(tree)
    body = []
    for st in tree.body:
        if _is_main_guard(st):
            body.extend(st.orelse)
        else:
            body.append(st)
    tree.body = body
    return tree


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _module_denied(mod: str) -> str | None:
    root = mod.split(".")[0]
    if root not in ALLOWED_MODULES:
        return f"import of `{mod}` (allowed: {', '.join(sorted(ALLOWED_MODULES - {'__future__'}))})"
    if any(p.startswith("_") for p in mod.split(".")[1:]):
        return f"import of private module `{mod}`"
    for d in DENIED_MODULES:
        if mod == d or mod.startswith(d + "."):
            return f"import of `{mod}`"
    return None


def _sandbox_offences(tree) -> list:
    tree = _without_main_block(tree)
    found = []
    imported = set()  # names bound by imports: patching anything under them is monkeypatching
    modules = set()   # the ones that are modules: usable only through attribute access
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                imported.add((a.asname or a.name).split(".")[0])
                modules.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                imported.add(a.asname or a.name)
                if a.name in MODULE_NAMES:
                    modules.add(a.asname or a.name)
    # `m = torch` or `F = torch.nn.functional` makes m/F an alias of a module
    aliasing = set()
    grew = True
    while grew:
        grew = False
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                v, t = node.value, node.targets[0].id
                if _root_name(v) in imported and isinstance(v, (ast.Name, ast.Attribute)):
                    aliasing.add(id(v))
                    if t not in imported:
                        imported.add(t)
                        grew = True
                    is_module = (isinstance(v, ast.Name) and v.id in modules) or \
                        (isinstance(v, ast.Attribute) and v.attr in MODULE_NAMES)
                    if is_module and t not in modules:
                        modules.add(t)
                        grew = True
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node

    def bad(node, what):
        found.append((getattr(node, "lineno", 0), what))

    def check_target(t, node):
        for sub in ast.walk(t):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)) and \
                    sub.id.startswith("__") and sub.id.endswith("__"):
                bad(node, f"assignment to `{sub.id}`")
        if isinstance(t, (ast.Attribute, ast.Subscript)):
            r = _root_name(t)
            if r in imported:
                bad(node, f"assignment into imported module or class `{r}` (monkeypatching)")
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                check_target(e, node)
        elif isinstance(t, ast.Starred):
            check_target(t.value, node)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                why = _module_denied(a.name)
                if why:
                    bad(node, why)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                bad(node, "relative import")
                continue
            why = _module_denied(node.module or "")
            if why:
                bad(node, why)
            for a in node.names:
                if a.name == "*":
                    bad(node, f"`from {node.module} import *`")
                elif a.name.startswith("_") or a.name in DENIED_ATTRS or a.name in DENIED_NAMES or \
                        a.name.startswith("register_module_") or \
                        any(f"{node.module}.{a.name}" == d or f"{node.module}.{a.name}".startswith(d + ".")
                            for d in DENIED_MODULES):
                    bad(node, f"import of `{node.module}.{a.name}`")
        elif isinstance(node, ast.Name):
            par = parents.get(id(node))
            if node.id in modules and isinstance(node.ctx, ast.Load) and id(node) not in aliasing and \
                    not (isinstance(par, ast.Attribute) and par.value is node) and \
                    not (isinstance(par, ast.Call) and _last(par.func) in ("getattr", "hasattr") and par.args
                         and par.args[0] is node):
                bad(node, f"module `{node.id}` used as a value (use modules only through attribute access)")
            if node.id in DENIED_NAMES:
                bad(node, f"use of `{node.id}`")
            elif isinstance(node.ctx, ast.Load) and node.id.startswith("__") and node.id.endswith("__") \
                    and node.id not in ALLOWED_DUNDER_NAMES:
                bad(node, f"use of `{node.id}`")
        elif isinstance(node, ast.Attribute):
            a = node.attr
            if a.startswith("__") and a.endswith("__"):
                if a not in ALLOWED_DUNDER_ATTRS:
                    bad(node, f"dunder attribute `.{a}`")
            elif a in DENIED_ATTRS or a.startswith("register_module_"):
                bad(node, f"attribute `.{a}` (file, process or interpreter access)")
            elif a.startswith("_") and _root_name(node) in imported:
                bad(node, f"private attribute `.{a}` of an imported module")
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id == "getattr":
                name = node.args[1] if len(node.args) >= 2 else None
                if not (isinstance(name, ast.Constant) and isinstance(name.value, str)) or \
                        name.value.startswith("_") or name.value in DENIED_ATTRS:
                    bad(node, "getattr with a computed, private or denied attribute name")
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
                if last == "Tensor":
                    bad(node, f"class `{node.name}` subclasses torch.Tensor")
                if last == "Function" and (isinstance(b, ast.Name) or "autograd" in ast.unparse(b)):
                    bad(node, f"class `{node.name}` is a custom autograd Function (gradients must come from real autograd)")
            if node.keywords:
                bad(node, f"class `{node.name}` has a metaclass or class keywords")
            for st in node.body:
                if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)) and st.name.startswith("__") \
                        and st.name.endswith("__") and st.name not in ALLOWED_DUNDER_METHODS:
                    bad(st, f"class `{node.name}` defines `{st.name}`")
    return [f"line {ln}: {what}" for ln, what in sorted(set(found))]


def check_sandbox_safe(tree) -> dict:
    offences = _sandbox_offences(tree)
    if offences:
        shown = "; ".join(offences[:12]) + (f"; ... (+{len(offences) - 12} more)" if len(offences) > 12 else "")
        return _check("sandbox_safe", False, shown)
    return _check("sandbox_safe", True, "imports only allowed modules; no file, process or interpreter access, no monkeypatching")


# --- dead code: pruned before any criterion is looked for ------------------------------------

def _const_truth(test):
    """True/False when a condition is a constant (if False:, while 0:, not True), else None."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
        return False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        v = _const_truth(test.operand)
        return None if v is None else not v
    if isinstance(test, ast.BoolOp):
        vals = [_const_truth(v) for v in test.values]
        if isinstance(test.op, ast.And):
            if any(v is False for v in vals):
                return False
            if all(v is True for v in vals):
                return True
        else:
            if any(v is True for v in vals):
                return True
            if all(v is False for v in vals):
                return False
    return None


class _Pruner(ast.NodeTransformer):
    """Drops branches that can never run and statements after return/raise/break/continue."""

    def _body(self, stmts):
        out = []
        for st in stmts:
            r = self.visit(st)
            items = r if isinstance(r, list) else ([] if r is None else [r])
            out.extend(items)
            if items and isinstance(items[-1], (ast.Return, ast.Raise, ast.Continue, ast.Break)):
                break
        return out

    def generic_visit(self, node):
        for field, old in ast.iter_fields(node):
            if isinstance(old, list) and old and all(isinstance(x, ast.stmt) for x in old):
                new = self._body(old)
                setattr(node, field, new if new or field != "body" else [ast.Pass()])
            elif isinstance(old, list):
                new_list = []
                for x in old:
                    if isinstance(x, ast.AST):
                        r = self.visit(x)
                        if r is None:
                            continue
                        new_list.extend(r if isinstance(r, list) else [r])
                    else:
                        new_list.append(x)
                setattr(node, field, new_list)
            elif isinstance(old, ast.AST):
                r = self.visit(old)
                if r is not None:
                    setattr(node, field, r)
        return node

    def visit_If(self, node):
        v = _const_truth(node.test)
        if v is True:
            return self._body(node.body)
        if v is False:
            return self._body(node.orelse)
        return self.generic_visit(node)

    def visit_While(self, node):
        if _const_truth(node.test) is False:
            return self._body(node.orelse)
        return self.generic_visit(node)

    def visit_IfExp(self, node):
        v = _const_truth(node.test)
        if v is True:
            return self.visit(node.body)
        if v is False:
            return self.visit(node.orelse)
        return self.generic_visit(node)


def _dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _last(func):
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _dump(node) -> str:
    return ast.dump(node, annotate_fields=False, include_attributes=False).replace("Store()", "Load()")


def _size(node) -> int:
    return sum(1 for _ in ast.walk(node))


NOT_MODULES = {"Parameter", "Tensor", "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "BoolTensor",
               "Size", "Generator"}
PARAM_FREE_MODULES = {"Sigmoid", "Tanh", "ReLU", "GELU", "SiLU", "Dropout", "Identity", "Softmax",
                      "Softplus", "Flatten", "Unflatten", "LeakyReLU", "ELU", "Mish", "Hardtanh", "Softsign"}


class _Cls:
    def __init__(self, node):
        self.name = node.name
        self.node = node
        self.bases = [_last(b) if isinstance(b, (ast.Name, ast.Attribute)) else None for b in node.bases]
        self.methods = {st.name: st for st in node.body if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.params = set()   # self.<attr> = nn.Parameter(...) (learnable)
        self.modules = {}     # self.<attr> = Ctor(...) -> constructor names, nested ones included (ModuleList)
        for fn in self.methods.values():
            for st in ast.walk(fn):
                if isinstance(st, ast.Call) and _last(st.func) == "register_parameter" and len(st.args) >= 2 \
                        and isinstance(st.args[0], ast.Constant) and isinstance(st.args[0].value, str):
                    if self._learnable_param(st.args[1]):
                        self.params.add(st.args[0].value)
                if not isinstance(st, (ast.Assign, ast.AnnAssign)) or st.value is None:
                    continue
                targets = st.targets if isinstance(st, ast.Assign) else [st.target]
                for t in targets:
                    if not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"):
                        continue
                    if self._learnable_param(st.value):
                        self.params.add(t.attr)
                    elif isinstance(st.value, ast.Call):
                        ctors = {_last(c.func) for c in ast.walk(st.value) if isinstance(c, ast.Call)}
                        ctors = {c for c in ctors if c and c[:1].isupper() and c not in NOT_MODULES}
                        if ctors:
                            self.modules.setdefault(t.attr, set()).update(ctors)

    @staticmethod
    def _learnable_param(value) -> bool:
        if not (isinstance(value, ast.Call) and _last(value.func) == "Parameter"):
            return False
        for kw in value.keywords:
            if kw.arg == "requires_grad" and isinstance(kw.value, ast.Constant) and not kw.value.value:
                return False
        if len(value.args) >= 2 and isinstance(value.args[1], ast.Constant) and not value.args[1].value:
            return False
        return True


class _Source:
    def __init__(self, tree):
        self.tree = _Pruner().visit(_without_main_block(tree))
        self.classes = {n.name: _Cls(n) for n in self.tree.body if isinstance(n, ast.ClassDef)}
        self.functions = {n.name: n for n in self.tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.imported = set()
        for n in ast.walk(self.tree):
            if isinstance(n, ast.Import):
                self.imported.update((a.asname or a.name).split(".")[0] for a in n.names)
            elif isinstance(n, ast.ImportFrom):
                self.imported.update(a.asname or a.name for a in n.names)

    def mro(self, cname):
        out, todo = [], [cname]
        while todo:
            c = todo.pop(0)
            if c in self.classes and c not in [x.name for x in out]:
                out.append(self.classes[c])
                todo.extend(b for b in self.classes[c].bases if b)
        return out

    def lookup(self, cname, meth):
        for c in self.mro(cname):
            if meth in c.methods:
                return c.methods[meth]
        return None

    def is_module(self, cname) -> bool:
        return any("Module" in c.bases for c in self.mro(cname))

    def params(self, cname) -> set:
        return set().union(*[c.params for c in self.mro(cname)]) if cname in self.classes else set()

    def modules(self, cname) -> dict:
        out = {}
        for c in reversed(self.mro(cname)):
            out.update(c.modules)
        return out

    def is_memory_class(self, name) -> bool:
        return name in self.classes and MEMORY_CLASS in [c.name for c in self.mro(name)]

    def reachable(self, root):
        """Functions that can run once `root` is instantiated: its __init__/forward, methods called on self,
        classes instantiated (their __init__/forward), module functions referenced. Over-approximate on
        purpose: only code that is never referenced at all counts as dead."""
        funcs, inst, attr_names, work = {}, set(), set(), []

        def add(cname, fn):
            key = (cname, id(fn))
            if fn is not None and key not in funcs:
                funcs[key] = (cname, fn)
                work.append((cname, fn))

        def instantiate(c):
            if c in inst or c not in self.classes:
                return
            inst.add(c)
            for m in {"__init__", "forward", "__call__"} | attr_names:
                add(c, self.lookup(c, m))

        instantiate(root)
        while work:
            cname, fn = work.pop()
            for node in ast.walk(fn):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    if node.id in self.classes:
                        instantiate(node.id)
                    elif node.id in self.functions:
                        add(None, self.functions[node.id])
                elif isinstance(node, ast.Attribute):
                    v = node.value
                    if isinstance(v, ast.Name) and v.id == "self" and cname:
                        add(cname, self.lookup(cname, node.attr))
                    elif isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "super" and cname:
                        for c in self.mro(cname)[1:]:
                            if node.attr in c.methods:
                                add(cname, c.methods[node.attr])
                                break
                    else:
                        attr_names.add(node.attr)
                        for c in list(inst):
                            add(c, self.lookup(c, node.attr))
        return list(funcs.values()), inst


# --- labels: a small taint analysis over the memory's code -------------------------------------
# OUTER  an outer product (einsum with one free index per operand, torch.outer/ger/addr, products of
#        vectors expanded on different axes, autograd.grad of a recall loss w.r.t. a matrix)
# STATE  read from the memory state (a variable carried across loop iterations and written with an
#        outer product, or the result of a cumulative scan over outer products)
# ERR    a prediction error: a difference (or mse/l1/cosine) between something read from the state
#        and something that is not
# SIG    a sigmoid; SURP  a sigmoid of a prediction error
# P:name a learnable parameter or a learned submodule; MEM  the output of a NeuralMemory
INPLACE_SKIP = {"requires_grad_", "retain_grad", "share_memory_"}
SIZE_FUNCS = {"size", "dim", "numel", "len", "ndimension", "nelement", "element_size", "type", "isinstance"}
SIZE_ATTRS = {"shape", "dtype", "device", "ndim", "is_cuda", "requires_grad", "training", "layout"}
MATMUL_FUNCS = {"matmul", "bmm", "mm", "mv", "einsum", "linear", "baddbmm", "addmm", "addmv", "tensordot", "bilinear"}
LOSS_FUNCS = {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cosine_similarity", "pairwise_distance",
              "dist", "cdist"}
LOSS_MODULES = {"MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CosineSimilarity", "PairwiseDistance"}
SHAPE_METHODS = {"unsqueeze", "view", "reshape", "transpose", "permute", "contiguous", "clone", "squeeze",
                 "expand", "expand_as", "t", "float", "to", "type_as", "flatten", "unflatten", "detach"}


def _has_param(labels) -> bool:
    return any(l.startswith("P:") for l in labels)


def _param_names(labels) -> list:
    return sorted(l[2:] for l in labels if l.startswith("P:"))


def _einsum_outer(spec: str) -> bool:
    spec = spec.replace(" ", "").replace("...", "")
    if "->" in spec:
        ins, out = spec.split("->", 1)
    else:
        ins = spec
        letters = [c for c in ins if c.isalpha()]
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ops = ins.split(",")
    if len(ops) < 2:
        return False
    a, b = set(ops[0]), set(ops[1])
    return any(c in a and c not in b for c in out) and any(c in b and c not in a for c in out)


def _expansions(node) -> set:
    """How an operand was made into a column/row: unsqueeze(k), [..., None], view(..., 1)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _expansions(node.left) | _expansions(node.right)
    if isinstance(node, ast.Call):
        last = _last(node.func)
        if last == "unsqueeze":
            arg = node.args[-1] if node.args else (node.keywords[0].value if node.keywords else None)
            return {("u", _dump(arg) if arg is not None else "")}
        if last in ("view", "reshape") and isinstance(node.func, ast.Attribute):
            args = list(node.args)
            if len(args) == 1 and isinstance(args[0], (ast.Tuple, ast.List)):
                args = list(args[0].elts)
            ones = tuple(len(args) - i for i, a in enumerate(args) if isinstance(a, ast.Constant) and a.value == 1)
            if ones:
                return {("v", ones)}
    if isinstance(node, ast.Subscript):
        sl = node.slice
        elts = list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]
        pos = tuple(i for i, e in enumerate(elts) if isinstance(e, ast.Constant) and e.value is None)
        if pos:
            return {("n", pos)}
    return set()


def _outer_pair(a, b) -> bool:
    ea, eb = _expansions(a), _expansions(b)
    return bool(ea and eb and any(x != y for x in ea for y in eb))


def _strip_views(node):
    while True:
        if isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SHAPE_METHODS:
            node = node.func.value
        else:
            return node


def _local_key(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return "self." + node.attr
    return None


def _reads(node) -> set:
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            out.add(n.id)
        elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self" \
                and isinstance(n.ctx, ast.Load):
            out.add("self." + n.attr)
    return out


def _writes(t) -> set:
    k = _local_key(t)
    if k:
        return {k}
    if isinstance(t, (ast.Tuple, ast.List)):
        return set().union(*[_writes(e) for e in t.elts]) if t.elts else set()
    if isinstance(t, ast.Starred):
        return _writes(t.value)
    if isinstance(t, ast.Subscript):
        return _writes(_strip_views(t))
    return set()


def _is_inplace(call) -> bool:
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
        bool(re.fullmatch(r"[a-z][a-z0-9_]*_", call.func.attr)) and call.func.attr not in INPLACE_SKIP


def _inplace_call(st):
    """`X.add_(...)` or `X.mul_(a).add_(b)` as a statement: returns (receiver key, [calls]) or None."""
    if not (isinstance(st, ast.Expr) and _is_inplace(st.value)):
        return None
    calls, node = [], st.value
    while _is_inplace(node):
        calls.append(node)
        node = node.func.value
    k = _local_key(_strip_views(node))
    return (k, calls) if k else None


def _carried(loop) -> set:
    """Variables read in a loop body before they are (re)assigned in it and assigned in it: loop-carried."""
    assigned, early_reads, everywhere = set(), set(), set()
    targets = _writes(loop.target) if isinstance(loop, (ast.For, ast.AsyncFor)) else set()

    def note(keys):
        early_reads.update(k for k in keys if k not in assigned)

    def write(keys):
        assigned.update(keys)
        everywhere.update(keys)

    def visit(stmts):
        for st in stmts:
            if isinstance(st, (ast.Assign, ast.AnnAssign)):
                if st.value is not None:
                    note(_reads(st.value))
                ts = st.targets if isinstance(st, ast.Assign) else [st.target]
                for t in ts:
                    if isinstance(t, ast.Subscript):
                        note(_writes(t))
                    write(_writes(t))
            elif isinstance(st, ast.AugAssign):
                note(_writes(st.target) | _reads(st.value))
                write(_writes(st.target))
            elif _inplace_call(st):
                k, calls = _inplace_call(st)
                note({k} | set().union(*[_reads(c) for c in calls]))
                write({k})
            elif isinstance(st, (ast.For, ast.AsyncFor)):
                note(_reads(st.iter))
                write(_writes(st.target))
                visit(st.body)
                visit(st.orelse)
            elif isinstance(st, ast.While):
                note(_reads(st.test))
                visit(st.body)
                visit(st.orelse)
            elif isinstance(st, ast.If):
                note(_reads(st.test))
                visit(st.body)
                visit(st.orelse)
            elif isinstance(st, (ast.With, ast.AsyncWith)):
                for it in st.items:
                    note(_reads(it.context_expr))
                visit(st.body)
            elif isinstance(st, ast.Try):
                visit(st.body)
                for h in st.handlers:
                    visit(h.body)
                visit(st.orelse)
                visit(st.finalbody)
            elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            else:
                note(_reads(st))

    visit(loop.body)
    return (early_reads & everywhere) - targets


class AnalysisTimeout(Exception):
    pass


ANALYSIS_SECONDS = 20.0  # hostile source must not turn into a grader timeout (an infra error)


class _Flow:
    """Walks functions in order, tracking labels per variable; records writes, fusions and decays."""

    def __init__(self, src: _Source, states=frozenset(), summaries=None, deadline=None):
        self.src = src
        self.deadline = deadline if deadline is not None else time.monotonic() + ANALYSIS_SECONDS
        self.cache = {}
        self.states = set(states)
        self.summaries = summaries if summaries is not None else {}
        self.updates = {}         # global key -> {labels, lines, carried, loop_lines, refs}
        self.outer_forms = {}     # line -> description
        self.retrieval = set()    # state keys read by a matmul-like op
        self.decays = []          # (state key, line, parameter names)
        self.pending = {}         # local key -> decays in its value, promoted when it flows into a state
        self.fusions = []         # (line, ok, description)
        self.param_states = set() # callee parameters that receive a state

    # keys: a Name is local to its function; self.<attr> is shared by the class
    def gkey(self, k):
        if k is None:
            return None
        return (self.cname, k) if k.startswith("self.") else (self.fid, k)

    def run(self, cname, fn):
        self.cname, self.fid, self.fn = cname, id(fn), fn
        self.loop_stack, self.ret, self.local_funcs = [], set(), {}
        env, al = {}, {}
        args = fn.args.args if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) else []
        for a in args:
            env[a.arg] = set()
        self.block(fn.body, env, al)
        return self.ret

    # ---- expressions
    def L(self, e, env) -> set:
        if e is None:
            return set()
        hit = self.cache.get(id(e))
        if hit is not None and hit[0] is e:
            return set(hit[1])
        out = self._L(e, env)
        self.cache[id(e)] = (e, frozenset(out))
        return out

    def _L(self, e, env) -> set:
        if isinstance(e, ast.Constant):
            return set()
        if isinstance(e, ast.Name):
            if self.gkey(e.id) in self.states:
                return {"STATE"}
            return set(env.get(e.id, set()))
        if isinstance(e, ast.Attribute):
            if e.attr in SIZE_ATTRS:
                return set()
            k = _local_key(e)
            if k:
                if self.gkey(k) in self.states:
                    return {"STATE"}
                out = set(env.get(k, set()))
                if self.cname and e.attr in self.src.params(self.cname):
                    out.add("P:" + e.attr)
                mods = self.src.modules(self.cname).get(e.attr, set()) if self.cname else set()
                if mods and not mods <= PARAM_FREE_MODULES:
                    out.add("P:" + e.attr)
                if any(self.src.is_memory_class(m) for m in mods):
                    out.add("MEMMOD")
                return out
            return self.L(e.value, env)
        if isinstance(e, ast.Subscript):
            return self.L(e.value, env)
        if isinstance(e, ast.Call):
            return self.call(e, env)
        if isinstance(e, ast.BinOp):
            l, r = self.L(e.left, env), self.L(e.right, env)
            out = l | r
            if isinstance(e.op, ast.Sub) and (("STATE" in l) != ("STATE" in r)):
                out.add("ERR")
            if isinstance(e.op, (ast.Mult, ast.MatMult)) and _outer_pair(e.left, e.right):
                out.add("OUTER")
                self.outer_forms[e.lineno] = "product of vectors expanded on different axes"
            if isinstance(e.op, ast.MatMult):
                self.note_retrieval([e.left, e.right])
            return out
        if isinstance(e, ast.NamedExpr):
            lab = self.L(e.value, env)
            env[e.target.id] = lab
            return lab
        if isinstance(e, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            inner = dict(env)
            lab = set()
            for g in e.generators:
                it = self.L(g.iter, inner)
                lab |= it
                for k in _writes(g.target):
                    inner[k] = it
            return lab | self.L(e.elt, inner)
        if isinstance(e, ast.Lambda):
            return set()
        out = set()
        for child in ast.iter_child_nodes(e):
            if isinstance(child, ast.expr):
                out |= self.L(child, env)
        return out

    def note_retrieval(self, operands):
        for op in operands:
            k = self.gkey(_local_key(_strip_views(op)))
            if k in self.states:
                self.retrieval.add(k)

    def bind_states(self, fn, e, skip_self):
        """A state passed to a function of this file makes the matching parameter a state there."""
        if fn is None or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        params = [a.arg for a in fn.args.args][1 if skip_self else 0:]
        pairs = list(zip(params, e.args)) + [(k.arg, k.value) for k in e.keywords if k.arg in params]
        for name, arg in pairs:
            if self.gkey(_local_key(_strip_views(arg))) in self.states:
                self.param_states.add((id(fn), name))

    def summary(self, cname, fn, base) -> set:
        s = set(self.summaries.get((cname, id(fn)), set())) if fn is not None else set()
        if "SIG" in s and "ERR" in base:
            s.add("SURP")
        return s

    def call(self, e, env) -> set:
        f = e.func
        last = _last(f)
        args = list(e.args) + [k.value for k in e.keywords]
        if last in SIZE_FUNCS:
            return set()
        base = set()
        for a in args:
            base |= self.L(a, env)
        recv = set()
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
            recv = self.L(f, env)   # self.<submodule>(...): the submodule's own labels (P:, MEMMOD)
        elif isinstance(f, ast.Attribute):
            recv = self.L(f.value, env)
        else:   # a local module (`for mem in self.mems: mem(x)`), a subscript, a call result
            recv = self.L(f, env)
        mem_call = "MEMMOD" in recv
        recv.discard("MEMMOD")
        out = base | recv
        if mem_call:
            out.add("MEM")
        # self.<submodule>(...) and self.<method>(...), functions of this file
        k = _local_key(f)
        if k and k.startswith("self.") and self.cname:
            attr = k[5:]
            mods = self.src.modules(self.cname).get(attr, set())
            for m in mods:
                if m in self.src.classes:
                    out |= self.summary(m, self.src.lookup(m, "forward"), base)
                    self.bind_states(self.src.lookup(m, "forward"), e, True)
                if self.src.is_memory_class(m):
                    out.add("MEM")
                if m == "Sigmoid":
                    out |= {"SIG"} | ({"SURP"} if "ERR" in base else set())
                if m in LOSS_MODULES and self.mixed(args, env):
                    out.add("ERR")
            meth = self.src.lookup(self.cname, attr)
            if meth is not None:
                out |= self.summary(self.cname, meth, base)
                self.bind_states(meth, e, True)
        elif isinstance(f, ast.Name):
            if f.id in self.local_funcs:
                s = set(self.local_funcs[f.id])
                if "SIG" in s and "ERR" in base:
                    s.add("SURP")
                out |= s
            elif f.id in self.src.functions:
                out |= self.summary(None, self.src.functions[f.id], base)
                self.bind_states(self.src.functions[f.id], e, False)
        elif isinstance(f, ast.Call) and _last(f.func) == "Sigmoid":
            out |= {"SIG"} | ({"SURP"} if "ERR" in base else set())
        if last in ("sigmoid", "expit"):
            out.add("SIG")
            if "ERR" in base or "ERR" in recv:
                out.add("SURP")
        if last in ("outer", "ger", "addr", "addr_"):
            out.add("OUTER")
            self.outer_forms[e.lineno] = f"{last}()"
        elif last == "einsum" and e.args and isinstance(e.args[0], ast.Constant) and isinstance(e.args[0].value, str):
            if _einsum_outer(e.args[0].value):
                out.add("OUTER")
                self.outer_forms[e.lineno] = f"einsum('{e.args[0].value}')"
            else:
                ops = e.args[1:]
                if len(ops) == 1 and isinstance(ops[0], (ast.List, ast.Tuple)):
                    ops = ops[0].elts
                self.note_retrieval(ops)
        elif last in ("bmm", "matmul", "mul", "multiply"):
            pair = self.operands(e)[:2]
            if len(pair) == 2 and _outer_pair(pair[0], pair[1]):
                out.add("OUTER")
                self.outer_forms[e.lineno] = f"{last}() of vectors expanded on different axes"
            elif last in ("bmm", "matmul"):
                self.note_retrieval(pair)
        elif last in MATMUL_FUNCS:
            self.note_retrieval(self.operands(e)[:2])
        if last == "grad" and ("autograd" in (_dotted(f) or "") or isinstance(f, ast.Name)):
            out.add("OUTER")
            self.outer_forms[e.lineno] = "autograd.grad of the recall loss"
        if last in ("cumsum", "cumprod") and "OUTER" in out:
            out.add("SCAN")
        if last in LOSS_FUNCS and self.mixed(self.operands(e) + [k.value for k in e.keywords], env):
            out.add("ERR")
        return out

    def operands(self, e) -> list:
        """Tensor operands of a call: torch.f(a, b) -> [a, b]; a.f(b) -> [a, b]."""
        f = e.func
        if isinstance(f, ast.Name) or (isinstance(f, ast.Attribute) and _dotted(f.value)
                                       and _root_name(f.value) in self.src.imported):
            return list(e.args)
        return [f.value] + list(e.args)

    def mixed(self, args, env) -> bool:
        labs = [self.L(a, env) for a in args if not isinstance(a, ast.Constant)]
        return any("STATE" in l for l in labs) and any("STATE" not in l for l in labs)

    # ---- fusion patterns: g * A + (1 - g) * B, A + g * (B - A), lerp(A, B, g)
    def expand(self, e, al):
        class Sub(ast.NodeTransformer):
            def visit_Name(s, n):
                if isinstance(n.ctx, ast.Load) and n.id in al:
                    return copy.deepcopy(al[n.id])
                return n
        return Sub().visit(copy.deepcopy(e))

    def scan_fusion(self, expr, env, al):
        inner = set()   # only maximal a + b + c chains: their sub-chains hold nothing new
        for node in ast.walk(expr):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                for side in (node.left, node.right):
                    if isinstance(side, ast.BinOp) and isinstance(side.op, ast.Add):
                        inner.add(id(side))
        for node in ast.walk(expr):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and id(node) not in inner:
                self.match_fusion(self.expand(node, al), env, node.lineno)
            elif isinstance(node, ast.Call) and _last(node.func) == "lerp":
                ex = self.expand(node, al)
                a = self.operands(ex)
                if len(a) >= 3:
                    self.judge_fusion(a[2], [a[0]], [a[1]], env, node.lineno, "torch.lerp(A, B, g)")

    def match_fusion(self, e, env, line):
        terms = []

        def flat(n):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
                flat(n.left)
                flat(n.right)
            elif isinstance(n, ast.Call) and _last(n.func) == "add" and len(n.args) == 2 and not n.keywords:
                flat(n.args[0])
                flat(n.args[1])
            else:
                terms.append(n)
        flat(e)
        terms = terms[:40]

        def factors(n):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
                return factors(n.left) + factors(n.right)
            if isinstance(n, ast.Call) and _last(n.func) == "mul" and len(n.args) == 2 and \
                    (isinstance(n.func, ast.Name) or _dotted(n.func.value) == "torch"):
                return factors(n.args[0]) + factors(n.args[1])
            return [n]

        def complement_of(n):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub):
                one = n.left
                if isinstance(one, ast.Constant) and one.value == 1:
                    return n.right
                if isinstance(one, ast.Call) and _last(one.func) == "ones_like":
                    return n.right
            return None

        facs = [factors(t)[:12] for t in terms]
        fdumps = [[_dump(x) for x in fi] for fi in facs]
        for j, fj in enumerate(facs):
            for c in fj:
                g = complement_of(c)
                if g is None:
                    continue
                gd = _dump(g)
                for i, fi in enumerate(facs):
                    if i == j:
                        continue
                    for x, xd in zip(fi, fdumps[i]):
                        if xd == gd:
                            A = [y for y in fi if y is not x]
                            B = [y for y in fj if y is not c]
                            if A and B:
                                self.judge_fusion(g, A, B, env, line, "g * A + (1 - g) * B")
        # lerp written out: A + g * (B - A)
        dumps = [_dump(t) for t in terms]
        for j, fj in enumerate(facs):
            for x in fj:
                if isinstance(x, ast.BinOp) and isinstance(x.op, ast.Sub) and _dump(x.right) in dumps:
                    if dumps.index(_dump(x.right)) != j:
                        gs = [y for y in fj if y is not x]
                        if len(gs) == 1:
                            self.judge_fusion(gs[0], [x.right], [x.left], env, line, "A + g * (B - A)")

    def judge_fusion(self, g, A, B, env, line, form):
        la = set().union(*[self.L(a, env) for a in A])
        lb = set().union(*[self.L(b, env) for b in B])
        lg = self.L(g, env)
        ma, mb = bool(la & {"MEM", "STATE"}), bool(lb & {"MEM", "STATE"})
        learned = "SIG" in lg or _has_param(lg)
        if ma == mb:
            why = "both sides come from the memory" if ma else "neither side comes from the memory"
            self.fusions.append((line, False, f"line {line}: {form}, but {why}"))
        elif not learned:
            self.fusions.append((line, False, f"line {line}: {form}, but the gate is neither a sigmoid nor learned"))
        else:
            self.fusions.append((line, True, f"line {line}: {form} blends memory and attention/input with a learned gate"))

    # ---- statements
    def assign(self, t, lab, env, al, value, line):
        if isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                self.assign(e, lab, env, al, None, line)
            return
        if isinstance(t, ast.Starred):
            self.assign(t.value, lab, env, al, None, line)
            return
        if isinstance(t, ast.Subscript):
            k = _local_key(_strip_views(t))
            if k:
                env[k] = env.get(k, set()) | lab
                self.record(k, lab, line, value)
                al.pop(k, None)
            return
        k = _local_key(t)
        if not k:
            return
        self.record(k, lab, line, value)
        env[k] = {"STATE"} if self.gkey(k) in self.states else lab
        if value is not None:
            ex = self.expand(value, al)
            if _size(ex) <= 80:
                al[k] = ex
            else:
                al.pop(k, None)
        else:
            al.pop(k, None)

    def record(self, k, lab, line, value):
        gk = self.gkey(k)
        u = self.updates.setdefault(gk, dict(labels=set(), lines=set(), carried=False, loop_lines=set(), refs=set()))
        u["labels"] |= lab
        u["lines"].add(line)
        for loop, carried in self.loop_stack:
            if k in carried:
                u["carried"] = True
                u["loop_lines"].add(loop.lineno)
        if value is not None:
            reads = _reads(value)
            u["refs"] |= {self.gkey(r) for r in reads}
            found = self.find_decay(value)
            if gk in self.states:
                self.decays.extend(found)
                for r in reads:
                    self.decays.extend(self.pending.get(self.gkey(r), []))
            else:
                self.pending[gk] = found + [d for r in reads for d in self.pending.get(self.gkey(r), [])]

    def find_decay(self, value) -> list:
        """Multiplications of a state by something learnable (nn.Parameter or learned submodule)."""
        env, found = self.cur_env, []
        for n in ast.walk(value):
            pair = None
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
                pair = (n.left, n.right)
            elif isinstance(n, ast.Call) and _last(n.func) in ("mul", "multiply") and len(n.args) == 2:
                pair = (n.args[0], n.args[1])
            if not pair:
                continue
            for s, f in (pair, pair[::-1]):
                sk = self.gkey(_local_key(_strip_views(s)))
                if sk in self.states:
                    lf = self.L(f, env)
                    if _has_param(lf):
                        found.append((sk, getattr(n, "lineno", 0), _param_names(lf)))
        return found

    def block(self, stmts, env, al):
        for st in stmts:
            self.stmt(st, env, al)

    def stmt(self, st, env, al):
        if time.monotonic() > self.deadline:
            raise AnalysisTimeout()
        self.cache = {}   # labels are memoised within one statement only: the env changes between them
        self.cur_env = env
        for child in ast.iter_child_nodes(st):
            if isinstance(child, ast.expr) and not isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                self.scan_fusion(child, env, al)
        if isinstance(st, (ast.Assign, ast.AnnAssign)):
            if st.value is None:
                return
            lab = self.L(st.value, env)
            for t in (st.targets if isinstance(st, ast.Assign) else [st.target]):
                self.assign(t, lab, env, al, st.value, st.lineno)
        elif isinstance(st, ast.AugAssign):
            k = _local_key(_strip_views(st.target))
            lab = self.L(st.value, env) | (self.L(st.target, env) if k else set())
            if k:
                full = ast.BinOp(left=ast.Name(id=k, ctx=ast.Load()) if "." not in k else st.target, op=st.op, right=st.value)
                ast.copy_location(full, st)
                if isinstance(st.op, ast.Mult) and self.gkey(k) in self.states and _has_param(self.L(st.value, env)):
                    self.decays.append((self.gkey(k), st.lineno, _param_names(self.L(st.value, env))))
                self.record(k, lab, st.lineno, st.value)
                env[k] = {"STATE"} if self.gkey(k) in self.states else lab
                if isinstance(st.op, ast.Add):
                    self.scan_fusion(full, env, al)
                ex = self.expand(full, al)
                if _size(ex) <= 80 and "." not in k:
                    al[k] = ex
                else:
                    al.pop(k, None)
        elif isinstance(st, ast.Expr):
            ip = _inplace_call(st)
            if ip:
                k, calls = ip
                lab = set()
                for call in calls:
                    for a in list(call.args) + [kw.value for kw in call.keywords]:
                        lab |= self.L(a, env)
                    if call.func.attr == "mul_" and self.gkey(k) in self.states and call.args and \
                            _has_param(self.L(call.args[0], env)):
                        self.decays.append((self.gkey(k), st.lineno, _param_names(self.L(call.args[0], env))))
                lab |= self.call(calls[0], env)
                self.record(k, lab, st.lineno, st.value)
                env[k] = {"STATE"} if self.gkey(k) in self.states else env.get(k, set()) | lab
                al.pop(k, None)
            elif isinstance(st.value, ast.Call) and _last(st.value.func) in ("append", "extend", "insert") \
                    and isinstance(st.value.func, ast.Attribute):
                k = _local_key(st.value.func.value)
                if k:
                    lab = set()
                    for a in st.value.args:
                        lab |= self.L(a, env)
                    env[k] = env.get(k, set()) | lab
                    al.pop(k, None)   # mutated: its defining expression no longer describes it
            else:
                self.L(st.value, env)
        elif isinstance(st, (ast.For, ast.AsyncFor, ast.While)):
            before = {k: set(v) for k, v in env.items()}
            if isinstance(st, ast.While):
                self.L(st.test, env)
            else:
                it = self.L(st.iter, env)
                tgt, src_it = st.target, st.iter
                if isinstance(src_it, ast.Call) and _last(src_it.func) == "enumerate" and src_it.args and \
                        isinstance(tgt, ast.Tuple) and len(tgt.elts) == 2:
                    for k in _writes(tgt.elts[0]):
                        env[k] = set()
                    tgt, src_it = tgt.elts[1], src_it.args[0]
                if isinstance(src_it, ast.Call) and _last(src_it.func) == "zip" and isinstance(tgt, ast.Tuple) \
                        and len(tgt.elts) == len(src_it.args):
                    for t_el, s_el in zip(tgt.elts, src_it.args):
                        for k in _writes(t_el):
                            env[k] = self.L(s_el, env)
                else:
                    for k in _writes(tgt):
                        env[k] = set(self.L(src_it, env)) if tgt is not st.target else set(it)
                for k in _writes(st.target):
                    al.pop(k, None)
            self.loop_stack.append((st, _carried(st)))
            # twice so loop-carried labels reach their uses; once when deeply nested (cost is 2^depth)
            for _ in range(2 if len(self.loop_stack) <= 3 else 1):
                self.block(st.body, env, al)
            self.loop_stack.pop()
            for k, v in before.items():
                env[k] = env.get(k, set()) | v
            self.block(st.orelse, env, al)
        elif isinstance(st, ast.If):
            self.L(st.test, env)
            e1, a1 = {k: set(v) for k, v in env.items()}, dict(al)
            e2, a2 = {k: set(v) for k, v in env.items()}, dict(al)
            self.block(st.body, e1, a1)
            self.block(st.orelse, e2, a2)
            env.clear()
            for k in set(e1) | set(e2):
                env[k] = e1.get(k, set()) | e2.get(k, set())
            al.clear()
            al.update({k: v for k, v in a1.items() if k in a2 and _dump(a2[k]) == _dump(v)})
            self.cur_env = env
        elif isinstance(st, (ast.With, ast.AsyncWith)):
            for it in st.items:
                lab = self.L(it.context_expr, env)
                if it.optional_vars is not None:
                    self.assign(it.optional_vars, lab, env, al, None, st.lineno)
            self.block(st.body, env, al)
        elif isinstance(st, ast.Try):
            self.block(st.body, env, al)
            for h in st.handlers:
                self.block(h.body, env, al)
            self.block(st.orelse, env, al)
            self.block(st.finalbody, env, al)
        elif isinstance(st, ast.Return):
            self.ret |= self.L(st.value, env)
            if st.value is not None:   # a helper returning the decayed state
                self.decays.extend(self.find_decay(st.value))
                for r in _reads(st.value):
                    self.decays.extend(self.pending.get(self.gkey(r), []))
        elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
            saved = (self.ret, self.loop_stack)
            self.ret, self.loop_stack = set(), []
            inner_env = {k: set(v) for k, v in env.items()}
            for a in st.args.args:
                inner_env[a.arg] = set()
            self.block(st.body, inner_env, dict(al))
            self.local_funcs[st.name] = self.ret
            self.ret, self.loop_stack = saved
            self.cur_env = env


def _run_flow(src, funcs, states, deadline):
    """Runs the label analysis over `funcs` until the function summaries and the set of states
    (including helper parameters that receive a state) stop changing."""
    summaries, states = {}, set(states)
    flow = None
    for _ in range(6):
        flow = _Flow(src, frozenset(states), summaries, deadline)
        changed = False
        for cname, fn in funcs:
            r = flow.run(cname, fn)
            key = (cname, id(fn))
            if summaries.get(key) != r:
                summaries[key] = r
                changed = True
        if not flow.param_states <= states:
            states |= flow.param_states
            changed = True
        if not changed:
            break
    flow.all_states = states
    return flow


def _name(gk) -> str:
    return gk[1] if gk else "?"


def _lines(u) -> str:
    return ",".join(str(x) for x in sorted(u["lines"])[:4])


def analyse_criteria(tree) -> list:
    """The six criteria of the seed, each as a named check, found in code that can run."""
    src = _Source(tree)
    deadline = time.monotonic() + ANALYSIS_SECONDS
    out = {}
    mem = src.classes.get(MEMORY_CLASS)
    model = src.classes.get(MODEL_CLASS)
    model_funcs, model_inst = src.reachable(MODEL_CLASS) if model else ([], set())

    # 1. a NeuralMemory nn.Module with a forward, built by the model
    if mem is None:
        out["neural_memory_class"] = (False, f"no top-level class `{MEMORY_CLASS}`")
    elif not src.is_module(MEMORY_CLASS):
        out["neural_memory_class"] = (False, f"`{MEMORY_CLASS}` is not an nn.Module subclass")
    elif src.lookup(MEMORY_CLASS, "forward") is None:
        out["neural_memory_class"] = (False, f"`{MEMORY_CLASS}` has no forward()")
    elif model is None:
        out["neural_memory_class"] = (False, f"no top-level class `{MODEL_CLASS}` to build it")
    elif not any(src.is_memory_class(c) for c in model_inst):
        out["neural_memory_class"] = (False, f"`{MEMORY_CLASS}` is never instantiated by code that `{MODEL_CLASS}` runs")
    else:
        out["neural_memory_class"] = (True, f"class {MEMORY_CLASS}(nn.Module) with forward(), built by {MODEL_CLASS} (line {mem.node.lineno})")

    if mem is None:
        for name in CRITERIA[1:5]:
            out[name] = (False, f"no `{MEMORY_CLASS}` class to look in")
        states, f2 = set(), None
    else:
        mem_funcs, _ = src.reachable(MEMORY_CLASS)
        f1 = _run_flow(src, mem_funcs, frozenset(), deadline)
        states = set()
        for gk, u in f1.updates.items():
            if ("OUTER" in u["labels"] and (u["carried"] or gk[1].startswith("self."))) or "SCAN" in u["labels"]:
                states.add(gk)
        grew = True
        while grew:
            grew = False
            for gk, u in f1.updates.items():
                if gk not in states and u["carried"] and u["refs"] & states:
                    states.add(gk)
                    grew = True
        f2 = _run_flow(src, mem_funcs, frozenset(states), deadline)
        states = set(f2.all_states)
        ups = {gk: f2.updates[gk] for gk in states if gk in f2.updates}
        forms = sorted(set(f1.outer_forms.values()) | set(f2.outer_forms.values()))

        # 4. outer product written into the memory
        outer = [gk for gk, u in ups.items() if "OUTER" in u["labels"]]
        if outer:
            gk = outer[0]
            out["outer_product"] = (True, f"`{_name(gk)}` (line {_lines(ups[gk])}) is written with an outer product: {', '.join(forms)[:200]}")
        elif forms:
            out["outer_product"] = (False, f"an outer product is computed ({', '.join(forms)[:160]}) but never written into a memory state")
        else:
            out["outer_product"] = (False, "no outer product of value and key (torch.outer, einsum 'bi,bj->bij', "
                                           "v.unsqueeze(-1) * k.unsqueeze(-2), bmm of expanded vectors, ...) in the memory's live code")

        # 5. per-token recurrent update of that state
        carried = [gk for gk, u in ups.items() if u["carried"]]
        scans = [gk for gk, u in ups.items() if "SCAN" in u["labels"]]
        if carried:
            gk = carried[0]
            u = ups[gk]
            out["recurrent_update"] = (True, f"`{_name(gk)}` is carried across the loop at line "
                                             f"{min(u['loop_lines'])} and rewritten each step (line {_lines(u)})")
        elif scans:
            out["recurrent_update"] = (True, f"`{_name(scans[0])}` is a cumulative scan over per-token outer products")
        elif states:
            out["recurrent_update"] = (False, f"the memory `{_name(sorted(states)[0])}` is written once per call, "
                                              "not step by step inside a loop over the sequence")
        else:
            out["recurrent_update"] = (False, "no state carried across a loop over the sequence (read in an iteration, "
                                              "then rewritten with an outer-product write)")

        # 2. the write is gated by a sigmoid of the prediction error
        surp = [gk for gk, u in ups.items() if "SURP" in u["labels"]]
        if surp:
            out["surprise_gate"] = (True, f"the write to `{_name(surp[0])}` (line {_lines(ups[surp[0]])}) is scaled by a "
                                          "sigmoid of the prediction error (what the memory recalls vs. the input)")
        elif not states:
            out["surprise_gate"] = (False, "no memory state written with an outer product, so no gated write to find")
        elif any("SIG" in u["labels"] for u in ups.values()):
            out["surprise_gate"] = (False, "a sigmoid gate scales the memory write, but it is not computed from a "
                                           "prediction error (input vs. what the memory retrieves)")
        elif any("ERR" in u["labels"] for u in f2.updates.values()):
            out["surprise_gate"] = (False, "a prediction error is computed, but no sigmoid of it gates the memory write")
        else:
            out["surprise_gate"] = (False, "the memory write is not gated by a sigmoid of a prediction error")

        # 3. a learnable decay multiplies the state that is read
        read = f2.retrieval & states or states
        decays = [d for d in f2.decays if d[0] in read]
        if decays:
            gk, line, names = decays[0]
            out["learnable_decay"] = (True, f"line {line}: `{_name(gk)}` is multiplied by a factor from learnable "
                                            f"`{', '.join(names)}`")
        elif f2.decays:
            gk, line, names = f2.decays[0]
            out["learnable_decay"] = (False, f"only `{_name(gk)}` decays (line {line}); the memory that is read "
                                             f"(`{', '.join(_name(k) for k in sorted(read))}`) never fades")
        elif states:
            out["learnable_decay"] = (False, "the memory state is never multiplied by a learnable factor (an "
                                             "nn.Parameter or a learned gate); a constant or buffer does not count")
        else:
            out["learnable_decay"] = (False, "no memory state written with an outer product, so no decay to find")

    # 6. complementary gated fusion, anywhere the model runs
    f3 = _run_flow(src, model_funcs, frozenset(states), deadline) if model_funcs else None
    fus = f3.fusions if f3 else []
    good = [d for _, ok, d in fus if ok]
    if good:
        out["gated_fusion"] = (True, good[0])
    elif fus:
        out["gated_fusion"] = (False, sorted(set(d for _, _, d in fus))[0])
    else:
        out["gated_fusion"] = (False, "no complementary gate g * A + (1 - g) * B between the memory output and "
                                      "attention/input (residual adds and concatenation do not count)")
    return [_check(n, out[n][0], out[n][1]) for n in CRITERIA]


def static_checks(source: bytes | None) -> list:
    # long expressions (a + b + ... ) are deep trees; allow them, but a RecursionError still just fails
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 6000))
    if source is None:
        why = "submission file unreadable"
        return [_check(n, False, why) for n in ("sandbox_safe",) + CRITERIA]
    try:
        tree = ast.parse(source)
    except Exception as e:  # noqa: BLE001  (SyntaxError, ValueError, RecursionError)
        why = f"cannot parse submission: {type(e).__name__}: {str(e)[:300]}"
        return [_check(n, False, why) for n in ("sandbox_safe",) + CRITERIA]
    checks = []
    try:
        checks.append(check_sandbox_safe(tree))
    except Exception as e:  # noqa: BLE001
        checks.append(_check("sandbox_safe", False, f"could not analyse source: {type(e).__name__}: {e}"))
    try:
        checks.extend(analyse_criteria(tree))
    except RecursionError:
        checks.extend(_check(n, False, "source too deeply nested to analyse") for n in CRITERIA)
    except AnalysisTimeout:
        checks.extend(_check(n, False, f"source too complex to analyse within {ANALYSIS_SECONDS:g} s") for n in CRITERIA)
    except Exception as e:  # noqa: BLE001  (a checker bug must not pass anything)
        checks.extend(_check(n, False, f"could not analyse source: {type(e).__name__}: {e}") for n in CRITERIA)
    return checks


# ===========================================================================
# prepare (trusted)
# ===========================================================================

def prepare_data() -> dict:
    """A random model configuration and token ids. Nothing here is secret: every runtime check is a
    property of the submitted code (shape, causality, state, gradients), decided in compare."""
    import random
    rng = random.SystemRandom()
    vocab = rng.randint(40, 72)
    cfg = dict(vocab_size=vocab, d_model=32, n_heads=4, n_layers=2, max_seq_len=24)
    shapes = [(2, 13), (1, 5), (2, 24)]   # case 0 (T=13, prime) is the one every probe uses
    cases = [dict(batch=b, seq_len=t, ids=[[rng.randrange(vocab) for _ in range(t)] for _ in range(b)])
             for b, t in shapes]
    p = rng.randint(4, 8)
    pert = [row[:] for row in cases[0]["ids"]]
    for row in pert:
        row[p] = (row[p] + rng.randint(1, vocab - 1)) % vocab
    return dict(version=FORMAT_VERSION, config=cfg, cases=cases, position=p, perturbed_ids=pert,
                seed=rng.randrange(2 ** 31))


def _write_json(path, obj, mode=None):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.replace(tmp, path)
    if mode is not None:
        os.chmod(path, mode)


def cmd_prepare(args) -> int:
    data = prepare_data()
    in_path = os.path.join(args.out, "inputs.json")
    exp_path = os.path.join(args.expected_out or args.out, "expected.json")
    _write_json(in_path, data)
    if args.expected_out:
        os.makedirs(args.expected_out, mode=0o700, exist_ok=True)
    _write_json(exp_path, data, 0o600)
    emit(dict(ok=True, inputs=os.path.abspath(in_path), expected=os.path.abspath(exp_path)))
    return 0


# ===========================================================================
# run-submission (UNTRUSTED: imports and runs the submission)
# ===========================================================================

def _load_submission(path: str):
    import importlib.util
    spec = importlib.util.spec_from_file_location("submission", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = mod
    spec.loader.exec_module(mod)
    return mod


def _tail(tb: str, n=1500) -> str:
    return tb[-n:]


def _trace_square_states(torch, fn, sub_path, T):
    """Runs fn() with a line tracer on the submission's own frames and fingerprints every square
    matrix (last two dims d x d, d >= 4, d != seq_len) held in a local or on `self`: a memory state
    updated per token takes a new value at every step."""
    found, events = {}, [0]

    def fp(t):
        d = t.detach().double()
        return (float("%.8g" % float(d.sum())), float("%.8g" % float((d * d).sum())))

    def consider(key, v):
        if isinstance(v, torch.nn.Parameter) or v.layout != torch.strided or v.dim() < 2:
            return
        d = v.shape[-1]
        if v.shape[-2] != d or d < 4 or d == T:
            return
        rec = found.setdefault(key, dict(shape=list(v.shape), fps=set(), scan=0))
        if len(rec["fps"]) < 8 * T + 8:
            rec["fps"].add(fp(v))
        if v.dim() >= 3 and v.shape[-3] == T:  # a scan: all per-token states at once
            rows = v.detach().double().movedim(-3, 0).reshape(T, -1)
            sigs = {(float("%.8g" % float(r.sum())), float("%.8g" % float((r * r).sum()))) for r in rows}
            rec["scan"] = max(rec["scan"], len(sigs))

    def local(frame, event, arg):
        if event in ("line", "return"):
            events[0] += 1
            if events[0] > 200_000:
                return None
            for name, v in list(frame.f_locals.items()):
                if isinstance(v, torch.Tensor):
                    consider(f"{frame.f_code.co_name}:{name}", v)
                elif name == "self" and isinstance(v, torch.nn.Module):
                    d = object.__getattribute__(v, "__dict__")
                    items = list(d.items()) + list(d.get("_buffers", {}).items())
                    for an, av in items:
                        if isinstance(av, torch.Tensor):
                            consider(f"self.{an}", av)
        return local

    def glob(frame, event, arg):
        if event == "call" and frame.f_code.co_filename == sub_path:
            return local
        return None

    old = sys.gettrace()
    sys.settrace(glob)
    try:
        result = fn()
    finally:
        sys.settrace(old)
    states = sorted((dict(key=k, shape=r["shape"], distinct=len(r["fps"]), scan=r["scan"]) for k, r in found.items()),
                    key=lambda r: (-max(r["distinct"], r["scan"]), r["key"]))
    return result, states[:20]


def _probe(mod, inp, status, arrays, device, sub_path, pristine):
    import torch
    nn = torch.nn
    P = pristine
    errors = status["errors"]
    cfg = inp["config"]
    cls = mod.__dict__.get(MODEL_CLASS)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        status["build_error"] = f"the module defines no nn.Module subclass named {MODEL_CLASS}"
        return
    try:
        torch.manual_seed(inp["seed"])
        model = cls(**cfg)
        P["to"](model, device)
        gen = torch.Generator().manual_seed(inp["seed"] + 1)
        # Generic weights: the submission's init plus small noise, so a zero-initialised layer cannot
        # hide the memory path from the probes below.
        with torch.no_grad():
            for p in P["parameters"](model):
                if p.is_floating_point():
                    noise = P["randn"](p.shape, generator=gen).to(device=p.device, dtype=p.dtype)
                    p.add_(noise * (0.02 + 0.05 * float(p.detach().abs().mean())))
        P["train"](model, False)
    except BaseException:  # noqa: BLE001
        status["build_error"] = _tail(traceback.format_exc())
        return

    def is_memory(m):
        return any(c.__name__ == MEMORY_CLASS and c.__module__ == "submission" for c in type(m).__mro__)

    mems = [m for m in P["modules"](model) if is_memory(m)]
    status["memory_instances"] = len(mems)
    rec = dict(mode="record", capture=False, calls={}, captured={})
    noise_gen = torch.Generator().manual_seed(inp["seed"] + 2)

    def perturb(out):
        if isinstance(out, torch.Tensor):
            n = P["randn"](out.shape, generator=noise_gen).to(device=out.device, dtype=out.dtype)
            return out + n * (float(out.detach().float().std()) + 0.1)
        if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
            return type(out)([perturb(out[0])] + list(out[1:])) if isinstance(out, list) else (perturb(out[0]),) + tuple(out[1:])
        return out

    def clone(v):
        return v.detach().clone() if isinstance(v, torch.Tensor) else v

    def make_wrapper(i, orig):
        def wrapper(*a, **kw):
            rec["calls"][i] = rec["calls"].get(i, 0) + 1
            if rec["capture"] and i not in rec["captured"]:
                rec["captured"][i] = ([clone(x) for x in a], {k: clone(v) for k, v in kw.items()})
            out = orig(*a, **kw)
            return perturb(out) if rec["mode"] == "intervene" else out
        return wrapper

    for i, m in enumerate(mems):
        object.__setattr__(m, "forward", make_wrapper(i, m.forward))

    def as_array(out):
        return out.detach().to(device="cpu", dtype=torch.float32).numpy()

    # 1. shapes, on every case
    ids = [P["tensor"](c["ids"], dtype=torch.long, device=device) for c in inp["cases"]]
    status["cases"] = []
    for ci, x in enumerate(ids):
        r = dict(type=None, plain_tensor=False, error=None)
        status["cases"].append(r)
        rec["capture"] = ci == 0
        if ci == 0:
            rec["calls"] = {}
        try:
            out = model(input_ids=x)
            r["type"] = type(out).__name__
            r["plain_tensor"] = type(out) is torch.Tensor
            if r["plain_tensor"]:
                arrays[f"logits_{ci}"] = as_array(out)
        except BaseException:  # noqa: BLE001
            r["error"] = _tail(traceback.format_exc())
        if ci == 0:
            status["memory_calls"] = [rec["calls"].get(j, 0) for j in range(len(mems))]
        rec["capture"] = False

    # 2. causality and fresh state: the same ids again, then ids changed at one position
    try:
        arrays["repeat"] = as_array(model(input_ids=ids[0]))
        pert = P["tensor"](inp["perturbed_ids"], dtype=torch.long, device=device)
        arrays["causal_pert"] = as_array(model(input_ids=pert))
    except BaseException:  # noqa: BLE001
        errors["causal"] = _tail(traceback.format_exc())

    # 3. is the memory's output used: perturb it and watch the logits
    try:
        rec["mode"] = "intervene"
        arrays["intervened"] = as_array(model(input_ids=ids[0]))
    except BaseException:  # noqa: BLE001
        errors["memory_used"] = _tail(traceback.format_exc())
    finally:
        rec["mode"] = "record"

    # 4. replay the first memory that ran on its own input: perturb one position, swap two, trace
    B, T, p = inp["cases"][0]["batch"], inp["cases"][0]["seq_len"], inp["position"]
    called = [i for i in range(len(mems)) if status.get("memory_calls", [0] * len(mems))[i] > 0]
    try:
        if not called:
            raise RuntimeError(f"no {MEMORY_CLASS} ran during the model's forward")
        i = called[0]
        a, kw = rec["captured"][i]
        where = None
        for j, v in enumerate(a):
            if isinstance(v, torch.Tensor) and v.dim() >= 2 and tuple(v.shape[:2]) == (B, T):
                where = ("arg", j)
                break
        if where is None:
            for k, v in kw.items():
                if isinstance(v, torch.Tensor) and v.dim() >= 2 and tuple(v.shape[:2]) == (B, T):
                    where = ("kw", k)
                    break
        if where is None:
            shapes = [list(v.shape) for v in list(a) + list(kw.values()) if isinstance(v, torch.Tensor)]
            raise RuntimeError(f"{MEMORY_CLASS}.forward was not given a [batch={B}, seq_len={T}, ...] tensor "
                               f"(tensor arguments: {shapes}); it must take the whole sequence")
        x0 = a[where[1]] if where[0] == "arg" else kw[where[1]]

        def replay(x):
            aa, kk = [clone(v) for v in a], {k: clone(v) for k, v in kw.items()}
            if where[0] == "arg":
                aa[where[1]] = x
            else:
                kk[where[1]] = x
            out = mems[i](*aa, **kk)
            if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
                out = out[0]
            if not isinstance(out, torch.Tensor):
                raise TypeError(f"{MEMORY_CLASS}.forward returned {type(out).__name__}, not a tensor")
            return as_array(out)

        arrays["mem_base"] = replay(x0.clone())
        g = torch.Generator().manual_seed(inp["seed"] + 3)
        xp = x0.clone()
        xp[:, p] = xp[:, p] + P["randn"](xp[:, p].shape, generator=g).to(device=xp.device, dtype=xp.dtype) * \
            (float(x0.float().std()) + 1e-3)
        arrays["mem_pert"] = replay(xp)
        xs = x0.clone()
        xs[:, 0], xs[:, 1] = x0[:, 1].clone(), x0[:, 0].clone()
        arrays["mem_swap"] = replay(xs)
        arrays["mem_base2"], status["trace"] = _trace_square_states(torch, lambda: replay(x0.clone()), sub_path, T)
    except BaseException:  # noqa: BLE001
        errors["replay"] = _tail(traceback.format_exc())

    # 5. gradients from the logits into every parameter of the memories that ran
    try:
        P["train"](model, True)
        with torch.enable_grad():
            out = model(input_ids=ids[0])
            if type(out) is not torch.Tensor:
                raise TypeError(f"forward returned {type(out).__name__}")
            R = P["randn"](out.shape, generator=torch.Generator().manual_seed(inp["seed"] + 4)).to(out.device)
            loss = (out.float() * R).sum()
            named, seen = [], set()
            for i in called:
                for n, prm in P["named_parameters"](mems[i]):
                    if prm.requires_grad and id(prm) not in seen:
                        seen.add(id(prm))
                        named.append((f"memory[{i}].{n}", prm))
            grads = P["grad"](loss, [q for _, q in named], allow_unused=True) if named else []
        status["grads"] = [dict(name=n, numel=int(q.numel()), none=g is None,
                                finite=bool(P["isfinite"](g).all()) if g is not None else False,
                                norm=float(g.detach().double().norm()) if g is not None else 0.0)
                           for (n, q), g in zip(named, grads)][:300]
    except BaseException:  # noqa: BLE001
        errors["grads"] = _tail(traceback.format_exc())
    finally:
        P["train"](model, False)


def cmd_run_submission(args) -> int:
    # Anything the submission prints goes to stderr, so the last line of our stdout is ours
    # (nothing from this phase is trusted anyway: compare decides).
    saved_stdout_fd = os.dup(1)
    sys.stdout.flush()
    os.dup2(2, 1)

    def finish(obj, code):
        try:
            os.write(saved_stdout_fd, (json.dumps(obj, separators=(",", ":")) + "\n").encode())
        finally:
            sys.stderr.flush()
        return code

    try:
        import numpy as np
        import torch
        with open(args.inputs) as f:
            inp = json.load(f)
    except Exception:  # noqa: BLE001
        sys.stderr.write(traceback.format_exc())
        return finish(dict(ok=False, error="cannot load inputs"), 2)

    if args.device == "cuda" and not torch.cuda.is_available():
        return finish(dict(ok=False, error="--device cuda but cuda is not available"), 2)
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if use_cuda else "cpu")
    if use_cuda:  # exact fp32 matmuls, so "unchanged" comparisons are tight
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    status = dict(version=FORMAT_VERSION, device=device.type, torch=torch.__version__,
                  cuda_available=bool(torch.cuda.is_available()), import_error=None, errors={})
    arrays = {}

    def save(code):
        try:
            tmp = args.out + ".tmp.npz"
            np.savez(tmp, status=np.array(json.dumps(status)), **arrays)
            os.replace(tmp, args.out)
        except Exception:  # noqa: BLE001
            sys.stderr.write(traceback.format_exc())
            return finish(dict(ok=False, error="cannot write outputs"), 2)
        return finish(dict(ok=True, device=device.type, import_error=status["import_error"] is not None), code)

    # The probes use these, taken before the submission is imported: a file that patches torch
    # (sandbox_safe forbids it, but belt and braces) cannot change what the probes call.
    pristine = dict(grad=torch.autograd.grad, modules=torch.nn.Module.modules, parameters=torch.nn.Module.parameters,
                    named_parameters=torch.nn.Module.named_parameters, train=torch.nn.Module.train,
                    to=torch.nn.Module.to, randn=torch.randn, isfinite=torch.isfinite, tensor=torch.tensor)
    try:
        mod = _load_submission(args.submission)
    except BaseException:  # noqa: BLE001  (SystemExit too)
        tb = traceback.format_exc()
        sys.stderr.write(tb)
        status["import_error"] = tb[-4000:]
        return save(3)
    try:
        _probe(mod, inp, status, arrays, device, args.submission, pristine)
    except BaseException:  # noqa: BLE001
        if sys.exc_info()[0] is KeyboardInterrupt:
            raise
        status["errors"]["probe"] = _tail(traceback.format_exc())
    return save(0)


# ===========================================================================
# compare (trusted; stdlib + numpy; the submission is only parsed)
# ===========================================================================

def _load_outputs(path: str):
    """(status dict, arrays dict, error or None). Never raises; everything in it is untrusted."""
    import numpy as np
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        status = json.loads(str(arrays.pop("status")))
        if not isinstance(status, dict):
            raise ValueError("status is not an object")
        return status, arrays, None
    except Exception as e:  # noqa: BLE001
        return None, {}, f"outputs file missing or malformed ({type(e).__name__}: {str(e)[:200]})"


def _last_line(tb) -> str:
    lines = [ln for ln in str(tb or "").strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "?")[:300]


def _arr(arrays, name, ndim=None):
    import numpy as np
    a = arrays.get(name)
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f" or (ndim is not None and a.ndim < ndim):
        return None
    return a.astype(np.float64)


def _tol(a, b) -> float:
    import numpy as np
    return 1e-5 + 1e-4 * float(max(np.max(np.abs(a)), np.max(np.abs(b)))) if a.size else 1e-5


def _diff(a, b) -> float:
    import numpy as np
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def runtime_checks(exp: dict, status, arrays, out_err) -> list:
    import numpy as np
    names = ["runs", "logits_shape", "causal", "memory_used", "memory_state_per_token", "memory_recurrent",
             "memory_gradients"]
    if out_err is not None:
        return [_check(n, False, out_err) for n in names]
    if status.get("import_error"):
        why = f"the submission could not be imported: {_last_line(status['import_error'])}"
        return [_check(n, False, why) for n in names]
    errors = status.get("errors") if isinstance(status.get("errors"), dict) else {}
    if status.get("build_error") or errors.get("probe"):
        why = f"{MODEL_CLASS}(**config) failed: {_last_line(status.get('build_error') or errors.get('probe'))}"
        return [_check(n, False, why) for n in names]
    cfg = exp["config"]
    V = cfg["vocab_size"]
    B, T, p = exp["cases"][0]["batch"], exp["cases"][0]["seq_len"], exp["position"]
    cases = status.get("cases") if isinstance(status.get("cases"), list) else []
    out = []

    # runs
    c0 = cases[0] if cases and isinstance(cases[0], dict) else {}
    if c0.get("error"):
        out.append(_check("runs", False, f"model(input_ids=ids) raised: {_last_line(c0['error'])}"))
    elif not c0.get("plain_tensor"):
        out.append(_check("runs", False, f"model(input_ids=ids) returned {c0.get('type')}, not a torch.Tensor of logits"))
    else:
        out.append(_check("runs", True, f"{MODEL_CLASS}({', '.join(f'{k}={v}' for k, v in cfg.items())}) builds and "
                                        "model(input_ids=ids) returns a tensor"))
    # logits_shape
    bad = []
    for ci, case in enumerate(exp["cases"]):
        want = (case["batch"], case["seq_len"], V)
        r = cases[ci] if ci < len(cases) and isinstance(cases[ci], dict) else {}
        a = _arr(arrays, f"logits_{ci}")
        if r.get("error"):
            bad.append(f"ids {list(want[:2])}: raised {_last_line(r['error'])}")
        elif not r.get("plain_tensor") or a is None:
            bad.append(f"ids {list(want[:2])}: returned {r.get('type')}")
        elif tuple(a.shape) != want:
            bad.append(f"ids {list(want[:2])}: logits {list(a.shape)}, expected {list(want)}")
        elif not np.all(np.isfinite(a)):
            bad.append(f"ids {list(want[:2])}: logits contain NaN/Inf")
    out.append(_check("logits_shape", not bad, "; ".join(bad) if bad else
                      "logits [batch, seq_len, vocab_size], finite, for " +
                      ", ".join(f"[{c['batch']}, {c['seq_len']}]" for c in exp["cases"])))
    # causal (and a fresh state on every call)
    base, rep, pert = _arr(arrays, "logits_0", 3), _arr(arrays, "repeat", 3), _arr(arrays, "causal_pert", 3)
    if base is None or rep is None or pert is None:
        why = _last_line(errors.get("causal")) if errors.get("causal") else "no logits"
        out.append(_check("causal", False, f"could not run the causality probe: {why}"))
    elif _diff(base, rep) > _tol(base, rep):
        out.append(_check("causal", False, f"two calls with the same input_ids disagree (max diff {_diff(base, rep):.3g}): "
                                           "the memory must start fresh on every forward call"))
    elif base.shape != pert.shape or base.shape[1] <= p:
        out.append(_check("causal", False, "logits have the wrong shape for the causality probe"))
    elif _diff(base[:, :p], pert[:, :p]) > _tol(base, pert):
        out.append(_check("causal", False, f"changing the token at position {p} changed the logits at earlier positions "
                                           f"(max diff {_diff(base[:, :p], pert[:, :p]):.3g}): the model sees the future"))
    elif _diff(base[:, p], pert[:, p]) <= _tol(base, pert):
        out.append(_check("causal", False, f"changing the token at position {p} did not change the logits there"))
    else:
        out.append(_check("causal", True, f"token {p} changed: logits before it identical, at it changed; repeat calls identical"))
    # memory_used
    calls = status.get("memory_calls") if isinstance(status.get("memory_calls"), list) else []
    inter = _arr(arrays, "intervened", 3)
    n_inst = status.get("memory_instances", 0)
    if not n_inst:
        out.append(_check("memory_used", False, f"the built model contains no {MEMORY_CLASS} module"))
    elif not any(isinstance(c, int) and c > 0 for c in calls):
        out.append(_check("memory_used", False, f"{n_inst} {MEMORY_CLASS} module(s) in the model, none called by forward()"))
    elif base is None or inter is None:
        out.append(_check("memory_used", False, f"could not run the intervention probe: {_last_line(errors.get('memory_used'))}"))
    elif _diff(base, inter) <= _tol(base, inter):
        out.append(_check("memory_used", False, f"{MEMORY_CLASS} runs, but perturbing its output leaves the logits unchanged"))
    else:
        out.append(_check("memory_used", True, f"{sum(1 for c in calls if c)} {MEMORY_CLASS} module(s) called; perturbing "
                                               f"their output changes the logits (max diff {_diff(base, inter):.3g})"))
    # memory_state_per_token
    trace = status.get("trace") if isinstance(status.get("trace"), list) else None
    if trace is None:
        out.append(_check("memory_state_per_token", False, f"could not replay the memory: {_last_line(errors.get('replay'))}"))
    else:
        good = [r for r in trace if isinstance(r, dict) and (int(r.get("distinct", 0)) >= T or int(r.get("scan", 0)) >= T)]
        if good:
            r = good[0]
            how = (f"took {r['distinct']} distinct values" if int(r.get("distinct", 0)) >= T
                   else f"holds {r['scan']} distinct per-token states")
            out.append(_check("memory_state_per_token", True, f"`{str(r.get('key'))[:60]}` {r.get('shape')} {how} over {T} tokens"))
        elif trace:
            r = trace[0]
            out.append(_check("memory_state_per_token", False, f"no square d x d memory changes every token: the most active, "
                                                               f"`{str(r.get('key'))[:60]}` {r.get('shape')}, took "
                                                               f"{r.get('distinct')} values over {T} tokens"))
        else:
            out.append(_check("memory_state_per_token", False, f"no square d x d matrix (d >= 4) in {MEMORY_CLASS}'s "
                                                               "frames while it processed a sequence"))
    # memory_recurrent
    mb, mp, ms, mb2 = (_arr(arrays, n, 2) for n in ("mem_base", "mem_pert", "mem_swap", "mem_base2"))
    if mb is None or mp is None or ms is None or mb2 is None:
        out.append(_check("memory_recurrent", False, f"could not replay the memory: {_last_line(errors.get('replay'))}"))
    elif tuple(mb.shape[:2]) != (B, T):
        out.append(_check("memory_recurrent", False, f"{MEMORY_CLASS} output {list(mb.shape)} does not start with [batch={B}, seq_len={T}]"))
    elif _diff(mb, mb2) > _tol(mb, mb2):
        out.append(_check("memory_recurrent", False, f"{MEMORY_CLASS} gives different outputs for the same input: its state must start fresh on every call"))
    elif _diff(mb[:, :p], mp[:, :p]) > _tol(mb, mp):
        out.append(_check("memory_recurrent", False, f"changing the memory input at position {p} changed its outputs before {p}: "
                                                     "the memory reads the future"))
    elif _diff(mb[:, p + 1:], mp[:, p + 1:]) <= _tol(mb, mp):
        out.append(_check("memory_recurrent", False, f"changing the memory input at position {p} does not change any later "
                                                     "output: nothing is carried from token to token"))
    elif _diff(mb[:, 2:], ms[:, 2:]) <= _tol(mb, ms):
        out.append(_check("memory_recurrent", False, "swapping the first two inputs does not change any later output: the "
                                                     "memory ignores order (a set, not a recurrent state)"))
    else:
        out.append(_check("memory_recurrent", True, f"input {p} changes later outputs only; the order of inputs matters"))
    # memory_gradients
    grads = status.get("grads") if isinstance(status.get("grads"), list) else None
    if not any(isinstance(c, int) and c > 0 for c in calls):
        out.append(_check("memory_gradients", False, f"no {MEMORY_CLASS} ran during forward(), so no memory parameter to train"))
    elif grads is None:
        out.append(_check("memory_gradients", False, f"could not run backward: {_last_line(errors.get('grads'))}"))
    elif not grads:
        out.append(_check("memory_gradients", False, f"no trainable parameters in the {MEMORY_CLASS} modules that ran"))
    else:
        grads = [g for g in grads if isinstance(g, dict)]
        none = [str(g.get("name"))[:60] for g in grads if g.get("none")]
        nonfinite = [str(g.get("name"))[:60] for g in grads if not g.get("none") and not g.get("finite")]
        nonzero = [g for g in grads if not g.get("none") and g.get("finite") and float(g.get("norm", 0)) > 0]
        if none:
            out.append(_check("memory_gradients", False, f"no gradient from the logits reaches {len(none)} of {len(grads)} "
                                                         f"memory parameters: {', '.join(none[:6])}"))
        elif nonfinite:
            out.append(_check("memory_gradients", False, f"non-finite gradients: {', '.join(nonfinite[:6])}"))
        elif not nonzero:
            out.append(_check("memory_gradients", False, "every memory parameter gets an all-zero gradient"))
        else:
            out.append(_check("memory_gradients", True, f"all {len(grads)} memory parameters get finite gradients from the logits"))
    return out


def compare(exp: dict, outputs_path: str, source: bytes | None) -> dict:
    checks = static_checks(source)
    status, arrays, out_err = _load_outputs(outputs_path)
    if status is not None:
        dev = status.get("device")
        detail = f"ran on {dev} (torch {status.get('torch')})"
        if dev == "cpu":
            detail += "; cuda: " + ("available but not used" if status.get("cuda_available") else "not available")
        checks.append(_check("ran_on", None, detail))
    else:
        checks.append(_check("ran_on", None, f"unknown: {out_err}"))
    try:
        checks.extend(runtime_checks(exp, status or {}, arrays, out_err))
    except Exception as e:  # noqa: BLE001
        checks.append(_check("runtime", False, f"checker could not evaluate the outputs ({type(e).__name__}: {e})"))
    graded = [c for c in checks if c["passed"] is not None]
    score = sum(1 for c in graded if c["passed"]) / len(graded) if graded else 0.0
    passed = bool(graded) and all(c["passed"] for c in graded)
    return dict(passed=passed, score=round(float(score), 6), checks=checks)


def _read_source(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _load_expected(path: str) -> dict:
    try:
        with open(path) as f:
            exp = json.load(f)
        exp["config"]["vocab_size"], exp["cases"][0]["seq_len"], exp["position"]  # noqa: B018
        return exp
    except Exception as e:  # noqa: BLE001
        raise CheckerError(f"cannot load expected file {path}: {type(e).__name__}: {e}") from e


def cmd_compare(args) -> int:
    emit(compare(_load_expected(args.expected), args.outputs, _read_source(args.submission)))
    return 0


# ===========================================================================
# standalone: prepare (in memory) -> run-submission (child process) -> compare
# ===========================================================================

def _run_child(cmd, cwd, log_dir, timeout):
    """The untrusted phase in its own session; stdout/stderr to files (not pipes) so lingering
    grandchildren cannot block us. Returns (rc or None on timeout, stderr tail)."""
    out_f = open(os.path.join(log_dir, "child.stdout"), "wb")
    err_path = os.path.join(log_dir, "child.stderr")
    err_f = open(err_path, "wb")
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out_f, stderr=err_f,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        try:
            os.killpg(proc.pid, 9)
        except OSError:
            pass
        proc.wait()
    finally:
        out_f.close()
        err_f.close()
    with open(err_path, "rb") as f:
        err = f.read()[-20000:].decode(errors="replace")
    return rc, err


def cmd_standalone(args) -> int:
    source = _read_source(args.submission)  # snapshot before the submission runs
    if source is None:
        raise CheckerError(f"cannot read submission {args.submission}")
    t0 = time.perf_counter()
    exp = prepare_data()  # the trusted copy stays in this process
    work = tempfile.mkdtemp(prefix="neural-memory-run-")
    logs = tempfile.mkdtemp(prefix="neural-memory-log-")
    try:
        sub_copy = os.path.join(work, "submission.py")
        with open(sub_copy, "wb") as f:
            f.write(source)
        in_path = os.path.join(work, "inputs.json")
        out_path = os.path.join(work, "outputs.npz")
        _write_json(in_path, exp)
        cmd = [sys.executable, os.path.abspath(__file__), "run-submission", "--submission", sub_copy,
               "--inputs", in_path, "--out", out_path, "--device", args.device]
        rc, child_err = _run_child(cmd, work, logs, args.timeout)
        if args.verbose:
            sys.stderr.write(f"[run-submission rc={rc}] stderr tail:\n{child_err[-3000:]}\n")
        if rc is None and os.path.exists(out_path):
            os.remove(out_path)
        verdict = compare(exp, out_path, source)
        tail = [ln for ln in child_err.strip().splitlines() if ln.strip()][-1:]
        info = "timed out after %gs" % args.timeout if rc is None else f"exit code {rc}"
        if rc not in (0, None) and tail:
            info += f"; last stderr line: {tail[0][:300]}"
        verdict["checks"].append(_check("run_submission", None, info))
        if rc is None or rc not in (0, 3):
            # 3 = import failed (already a failure above); anything else is the submission killing its host
            verdict["checks"].append(_check("runs_cleanly", False, info))
            graded = [c for c in verdict["checks"] if c["passed"] is not None]
            verdict["passed"] = False
            verdict["score"] = round(sum(1 for c in graded if c["passed"]) / len(graded), 6)
        sys.stderr.write(f"[check.py] standalone run took {time.perf_counter() - t0:.2f}s\n")
        emit(verdict)
        return 0 if verdict["passed"] else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)


# ===========================================================================

class _Parser(argparse.ArgumentParser):
    def error(self, message):  # bad arguments are a checker failure: exit 2 + JSON
        self.print_usage(sys.stderr)
        raise CheckerError(f"bad arguments: {message}")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in ("prepare", "run-submission", "compare", "static"):
            p = _Parser(prog="check.py", description=__doc__.splitlines()[0])
            sub = p.add_subparsers(dest="cmd", required=True)
            sp = sub.add_parser("prepare", help="trusted: write inputs.json and expected.json")
            sp.add_argument("--out", required=True)
            sp.add_argument("--expected-out", default=None)
            sp = sub.add_parser("run-submission", help="UNTRUSTED: run the runtime probes on the submission")
            sp.add_argument("--submission", required=True)
            sp.add_argument("--inputs", required=True)
            sp.add_argument("--out", required=True)
            sp.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
            sp = sub.add_parser("compare", help="trusted: the verdict from outputs.npz and the source")
            sp.add_argument("--expected", required=True)
            sp.add_argument("--outputs", required=True)
            sp.add_argument("--submission", required=True)
            sp = sub.add_parser("static", help="trusted: only the static checks (no torch needed)")
            sp.add_argument("submission")
            args = p.parse_args(argv)
            if args.cmd == "static":
                checks = static_checks(_read_source(args.submission))
                emit(dict(passed=all(c["passed"] for c in checks), checks=checks))
                return 0
            return {"prepare": cmd_prepare, "run-submission": cmd_run_submission,
                    "compare": cmd_compare}[args.cmd](args)
        p = _Parser(prog="check.py", description="standalone: prepare + run-submission + compare")
        p.add_argument("submission")
        p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
        p.add_argument("--timeout", type=float, default=300.0)
        p.add_argument("--verbose", action="store_true", help="show the child's stderr")
        return cmd_standalone(p.parse_args(argv))
    except CheckerError as e:
        emit(dict(error=str(e)[:4000]))
        return 2
    except Exception as e:  # noqa: BLE001
        sys.stderr.write(traceback.format_exc())
        emit(dict(error=f"checker failure: {type(e).__name__}: {str(e)[:2000]}"))
        return 2


if __name__ == "__main__":
    sys.exit(main())
