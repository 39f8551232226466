"""The neural-memory task's static analysis of the six criteria (trusted; the submission is parsed, never
run): dead code is pruned, then a small taint analysis over the memory's code follows where each value
comes from (surprise gates, learnable decay, outer-product writes, state carried across tokens, the gated
fusion). check.py's compare phase calls analyse_criteria(tree); the rules of what a file may use at all are
the shared check library's (envbench_check.static_offences), not this module's."""

from __future__ import annotations

import ast
import copy
import re
import time

from envbench_check import check as _lib_check, without_main_block as _without_main_block

MODEL_CLASS = "SimpleTransformer"
MEMORY_CLASS = "NeuralMemory"
CRITERIA = ("neural_memory_class", "surprise_gate", "learnable_decay", "outer_product",
            "recurrent_update", "gated_fusion")


def _check(name, passed, detail) -> dict:
    return _lib_check(name, passed, detail)


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None



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


# --- scans: memory state carried through a cumulative or associative scan, not a Python loop ---------------
# Self-contained on purpose (it could move to the shared check library with the interprocedural part of _Flow):
# SCAN   a per-token state computed for every position at once: cumsum/cumprod/logcumsumexp over outer
#        products, a causal (lower-triangular) weight matrix times per-token outer products (the log-space /
#        segment-sum form), or a helper's return value that is such a scan or a state carried across the
#        helper's own loop (a Hillis-Steele / Blelloch doubling loop). SCAN survives arithmetic, indexing,
#        views and cat/stack (the same states, rearranged) but not other calls: what is read *from* a scan
#        (M_t q_t, a prediction error) is a retrieval, not another state.
# TRIL / TRIU  a lower- / upper-triangular mask or weight matrix (tril, masked_fill with an upper mask ...).
# REV    the sequence is reversed (flip on a time axis) or summed from the future (upper-triangular
#        weights): a scan carrying REV runs backwards and lets each position see later tokens.
# LC:p / D:p  a cumulative sum of (log) gates from learnable p / the cumulative decay itself (cumprod of
#        gates, exp of a log-cumsum): a scan state carrying D:p fades at a rate learnt through p.
SCAN_FUNCS = {"cumsum", "cumprod", "logcumsumexp"}
KEEP_SCAN = SHAPE_METHODS | {"view_as", "reshape_as", "flip", "fliplr", "flipud", "cat", "stack", "concat", "narrow",
                             "select", "index_select", "chunk", "split", "unbind", "movedim", "moveaxis", "swapaxes",
                             "swapdims"}
# shape-only constructors: the result holds none of the argument's data (the fill value aside)
LIKE_FUNCS = {"zeros_like", "ones_like", "empty_like", "rand_like", "randn_like", "new_zeros", "new_ones",
              "new_empty"}
FILL_FUNCS = {"full_like", "new_full"}
MASK_LABELS = {"TRIL", "TRIU"}


def _int_const(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _int_const(node.operand)
        return None if v is None else -v
    return None


def _flip_dims(call):
    """The dims a flip reverses (None when not constant)."""
    if _last(call.func) in ("fliplr", "flipud"):
        return None
    cand = [kw.value for kw in call.keywords if kw.arg in ("dims", "dim")]
    args = list(call.args)
    if isinstance(call.func, ast.Attribute) and _dotted(call.func.value) == "torch" and args:
        args = args[1:]   # torch.flip(x, dims)
    cand += args
    if not cand:
        return None
    dims = []
    for a in cand:
        for el in (a.elts if isinstance(a, (ast.Tuple, ast.List)) else [a]):
            v = _int_const(el)
            if v is None:
                return None
            dims.append(v)
    return dims


def _diagonal(call):
    """tril/triu's diagonal: the keyword, else the first integer argument (the tensor, in torch.tril(x, d),
    is not one), else the default 0."""
    for kw in call.keywords:
        if kw.arg == "diagonal":
            return _int_const(kw.value)
    ints = [v for v in (_int_const(a) for a in call.args) if v is not None]
    return ints[0] if ints else 0


def _is_static(fn) -> bool:
    return any(_last(d) == "staticmethod" for d in fn.decorator_list if isinstance(d, (ast.Name, ast.Attribute)))


def _invert_mask(labels) -> set:
    """~mask / logical_not(mask): a lower-triangular mask becomes an upper one and back."""
    out = set(labels) - MASK_LABELS
    if "TRIL" in labels:
        out.add("TRIU")
    if "TRIU" in labels:
        out.add("TRIL")
    return out


def _copy_sources(node) -> set:
    """Variables a value merely rearranges (x, x[:, -1], x.view(...), cat([a, b]), cat(list_var)): the same
    states, so a decay of the source is a decay of the copy."""
    if isinstance(node, (ast.Name, ast.Attribute)):
        k = _local_key(node)
        return {k} if k else set()
    if isinstance(node, ast.Subscript):
        return _copy_sources(node.value)
    if isinstance(node, (ast.List, ast.Tuple)):
        return set().union(*[_copy_sources(e) for e in node.elts]) if node.elts else set()
    if isinstance(node, ast.Call):
        last = _last(node.func)
        if last in SHAPE_METHODS and isinstance(node.func, ast.Attribute):
            return _copy_sources(node.func.value)
        if last in ("cat", "stack", "concat") and node.args:
            return _copy_sources(node.args[0])
    return set()


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

    def __init__(self, src: _Source, states=frozenset(), summaries=None, deadline=None, rev=frozenset()):
        self.src = src
        self.rev = set(rev)       # states that are scans run backwards (REV in their writes)
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
        self.scan_operands = set()  # keys multiplied by triangular weights: the scan's inputs, not a read
        self.copies = {}          # global key -> global keys it merely rearranges (see _copy_sources)
        self.inline_stack = []    # helpers being analysed for a call site (recursion guard)
        self.inline_memo = {}     # (helper, bound argument labels) -> labels it returns
        self.returned_keys = set()  # locals a followed helper returns: the caller's variable holds that state

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
                sc = self.masked_scan(l, r)
                out |= sc
                if sc:
                    self.scan_operands |= self.operand_keys([e.left, e.right])
                self.note_retrieval([e.left, e.right])
            if isinstance(e.op, (ast.Mult, ast.MatMult)):
                out |= self.read_of([e.left, e.right])
            return out
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Invert):
            return _invert_mask(self.L(e.operand, env))
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

    @staticmethod
    def masked_scan(a, b) -> set:
        """A triangular weight matrix times per-token outer products is a scan over the sequence: forwards
        (SCAN) for lower-triangular weights, backwards (SCAN and REV) for upper-triangular ones."""
        for w, x in ((a, b), (b, a)):
            if ("OUTER" in x or "STATE" in x) and w & MASK_LABELS:
                return {"SCAN", "REV"} if "TRIU" in w else {"SCAN"}
        return set()

    def read_of(self, operands) -> set:
        """READ: a product with a memory state itself (M q, einsum(states, q), M * q[:, None]); READREV when
        that state is a scan run backwards. A value merely computed from a state (a gate) is not a read."""
        keys = self.operand_keys(operands) & self.states
        if not keys:
            return set()
        return {"READREV" if keys & self.rev else "READ"}

    def operand_keys(self, operands) -> set:
        return {self.gkey(_local_key(_strip_views(op))) for op in operands} - {None}

    def note_retrieval(self, operands):
        for op in operands:
            k = self.gkey(_local_key(_strip_views(op)))
            if k in self.states:
                self.retrieval.add(k)

    def bind_states(self, fn, e, skip_self):
        """A state passed to a function of this file makes the matching parameter a state there."""
        if fn is None or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        params = [a.arg for a in fn.args.args][1 if skip_self and not _is_static(fn) else 0:]
        pairs = list(zip(params, e.args)) + [(k.arg, k.value) for k in e.keywords if k.arg in params]
        for name, arg in pairs:
            if self.gkey(_local_key(_strip_views(arg))) in self.states:
                self.param_states.add((id(fn), name))
            # the parameter holds what was passed: a decay of the argument is a decay of the parameter
            self.copies.setdefault((id(fn), name), set()).update(self.gkey(c) for c in _copy_sources(arg))

    def summary(self, cname, fn, base) -> set:
        s = set(self.summaries.get((cname, id(fn)), set())) if fn is not None else set()
        if "SIG" in s and "ERR" in base:
            s.add("SURP")
        return s

    def call(self, e, env) -> set:
        f = e.func
        last = _last(f)
        args = list(e.args) + [k.value for k in e.keywords]
        if last in SIZE_FUNCS or last in LIKE_FUNCS:
            return set()
        if last in FILL_FUNCS:   # full_like(x, v) / x.new_full(size, v): only the fill value's labels
            fill = [kw.value for kw in e.keywords if kw.arg == "fill_value"] + list(e.args[1:2])
            return set().union(*[self.L(a, env) for a in fill]) if fill else set()
        mask_arg = None
        if last in ("masked_fill", "masked_fill_"):
            torch_form = isinstance(f, ast.Attribute) and _dotted(f.value) == "torch"
            pos = 1 if torch_form else 0
            mask_arg = e.args[pos] if len(e.args) > pos else next((kw.value for kw in e.keywords if kw.arg == "mask"), None)
        base = set()
        for a in args:
            lab = self.L(a, env)
            if a is mask_arg:   # filling where an upper mask is set keeps the lower triangle, and back
                lab = _invert_mask(lab) & MASK_LABELS | (lab - MASK_LABELS)
            base |= lab
        recv = set()
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
            recv = self.L(f, env)   # self.<submodule>(...): the submodule's own labels (P:, MEMMOD)
        elif isinstance(f, ast.Attribute):
            recv = self.L(f.value, env)
        else:   # a local module (`for mem in self.mems: mem(x)`), a subscript, a call result
            recv = self.L(f, env)
        if last not in KEEP_SCAN:   # what is computed from a scan is not itself a scan (see SCAN)
            base.discard("SCAN")
            recv.discard("SCAN")
        mem_call = "MEMMOD" in recv
        recv.discard("MEMMOD")
        out = base | recv
        if mem_call:
            out.add("MEM")
        if last in ("tril", "triu"):
            d = _diagonal(e)
            out -= MASK_LABELS
            out.add("TRIL" if last == "tril" and d is not None and d <= 0 else "TRIU")
        elif last == "logical_not":
            out = _invert_mask(out)
        elif last in ("flip", "fliplr", "flipud"):
            dims = _flip_dims(e)
            if dims is None or any(d != -1 for d in dims):
                out.add("REV")
        if last in ("cumsum", "cumprod", "exp") and "OUTER" not in out:   # cumulative decays from gates
            learned = _param_names(out)
            if last == "cumsum":
                out |= {"LC:" + n for n in learned}
            elif last == "cumprod":
                out |= {"D:" + n for n in learned}
            else:
                out |= {"D:" + l[3:] for l in out if l.startswith("LC:")}
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
                    out.discard("READ")
                if m in LOSS_MODULES and self.mixed(args, env):
                    out.add("ERR")
            meth = self.src.lookup(self.cname, attr)
            if meth is not None:
                r = self.inline(self.cname, meth, e, env, True)
                out = (out - base) | r if r is not None else out | self.summary(self.cname, meth, base)
                self.bind_states(meth, e, True)
        elif isinstance(f, ast.Name):
            if f.id in self.local_funcs:
                s = set(self.local_funcs[f.id])
                if "SIG" in s and "ERR" in base:
                    s.add("SURP")
                out |= s
            elif f.id in self.src.functions:
                fn = self.src.functions[f.id]
                r = self.inline(None, fn, e, env, False)
                out = (out - base) | r if r is not None else out | self.summary(None, fn, base)
                self.bind_states(fn, e, False)
        elif isinstance(f, ast.Call) and _last(f.func) == "Sigmoid":
            out |= {"SIG"} | ({"SURP"} if "ERR" in base else set())
        if last in ("sigmoid", "expit"):
            out.add("SIG")
            out.discard("READ")   # a gate computed from what the memory recalls is not a read of the memory
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
        if last in SCAN_FUNCS and "OUTER" in out:
            out.add("SCAN")
        if last in MATMUL_FUNCS | {"mul", "multiply"}:
            nodes = self.operands(e) if last != "einsum" else list(e.args[1:])
            ops = [self.L(a, env) for a in nodes]
            for i, a in enumerate(ops):
                for b in ops[i + 1:]:
                    sc = self.masked_scan(a, b)
                    if sc:
                        out |= sc
                        self.scan_operands |= self.operand_keys(nodes)
            out |= self.read_of(nodes)
        if last in LOSS_FUNCS and self.mixed(self.operands(e) + [k.value for k in e.keywords], env):
            out.add("ERR")
        return out

    def inline(self, cname, fn, e, env, skip_self):
        """A helper of this file analysed for this call: its parameters bound to the labels of the arguments
        passed here, and the labels of what it returns are the call's. Context-sensitive, so a scan helper used
        for both the momentum and the memory gives each the decay of its own gates. None when it cannot be
        followed (recursion, too deep, *args at the call): the caller falls back to the helper's summary."""
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or id(fn) in self.inline_stack \
                or len(self.inline_stack) >= 4 or any(isinstance(a, ast.Starred) for a in e.args):
            return None
        a = fn.args
        skip_self = skip_self and not _is_static(fn)
        params = [x.arg for x in a.posonlyargs + a.args][1 if skip_self else 0:]
        names = set(params) | {x.arg for x in a.kwonlyargs}
        bound = {}
        for name, arg in zip(params, e.args):
            bound[name] = self.L(arg, env)
        for kw in e.keywords:
            if kw.arg in names:
                bound[kw.arg] = self.L(kw.value, env)
            elif kw.arg is None:
                return None
        memo = (cname, id(fn), frozenset((k, frozenset(v)) for k, v in bound.items()))
        if memo in self.inline_memo:
            return set(self.inline_memo[memo])
        saved = (self.cname, self.fid, self.fn, self.loop_stack, self.ret, self.local_funcs, self.cur_env, self.cache)
        self.inline_stack.append(id(fn))
        try:
            self.cname, self.fid, self.fn = cname, id(fn), fn
            self.loop_stack, self.ret, self.local_funcs, self.cache = [], set(), {}, {}
            inner = {x.arg: set() for x in a.posonlyargs + a.args + a.kwonlyargs}
            for name, lab in bound.items():
                inner[name] = {"STATE"} if self.gkey(name) in self.states else set(lab)
                if lab:
                    self.record(name, lab, fn.lineno, None)   # the call writes its argument into the parameter
            self.block(fn.body, inner, {})
            r = set(self.ret)
        finally:
            self.inline_stack.pop()
            (self.cname, self.fid, self.fn, self.loop_stack, self.ret, self.local_funcs, self.cur_env,
             self.cache) = saved
        self.inline_memo[memo] = frozenset(r)
        return r

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
        if value is not None:
            lab = lab | self.loop_decay(k, value)
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
        decayed = sorted(l[2:] for l in lab if l.startswith("D:"))
        if decayed and gk in self.states:   # a scan whose cumulative decay comes from learnable gates
            self.decays.append((gk, line, decayed))
        if value is not None:
            reads = _reads(value)
            u["refs"] |= {self.gkey(r) for r in reads}
            self.copies.setdefault(gk, set()).update(self.gkey(c) for c in _copy_sources(value))
            found = self.find_decay(value)
            if gk in self.states:
                self.decays.extend(found)
                for r in reads:
                    self.decays.extend(self.pending.get(self.gkey(r), []))
            else:
                self.pending[gk] = found + [d for r in reads for d in self.pending.get(self.gkey(r), [])]

    def loop_decay(self, k, value) -> set:
        """D:p when a variable carried by the enclosing loop is rewritten as (something of itself) times a
        learnable factor: `h = a * h + x`, a doubling loop's `b = b + a * shift(b)`."""
        if not any(k in carried for _, carried in self.loop_stack):
            return set()
        out = set()
        for n in ast.walk(value):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
                for a, b in ((n.left, n.right), (n.right, n.left)):
                    if k in _reads(a) and k not in _reads(b):
                        out |= {"D:" + p for p in _param_names(self.L(b, self.cur_env))}
        return out

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
                        self.copies.setdefault(self.gkey(k), set()).update(self.gkey(c) for c in _copy_sources(a))
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
            if st.value is not None:   # a helper returning what its own loop carried (a doubling-loop scan)
                if self.inline_stack:
                    self.returned_keys |= {self.gkey(r) for r in _copy_sources(st.value) if not r.startswith("self.")}
                for r in _copy_sources(st.value):
                    u = self.updates.get(self.gkey(r))
                    if u and u["carried"] and ("OUTER" in u["labels"] or "SCAN" in u["labels"]):
                        self.ret.add("SCAN")
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


def _run_flow(src, funcs, states, deadline, returned=frozenset(), rev=frozenset()):
    """Runs the label analysis over `funcs` until the function summaries and the set of states
    (including helper parameters that receive a state) stop changing. `returned`: what helpers return is
    never a state of its own (the caller's variable that receives it is)."""
    summaries, returned = {}, set(returned)
    states = set(states) - returned
    flow = None
    for _ in range(6):
        flow = _Flow(src, frozenset(states - returned), summaries, deadline, rev)
        changed = False
        for cname, fn in funcs:
            r = flow.run(cname, fn)
            key = (cname, id(fn))
            if summaries.get(key) != r:
                summaries[key] = r
                changed = True
        if not flow.returned_keys <= returned:
            returned |= flow.returned_keys
            changed = True
        if not flow.param_states - returned <= states:
            states |= flow.param_states - returned
            changed = True
        if not changed:
            break
    flow.all_states = states - returned
    return flow


def _copied_from(keys, copies) -> set:
    """The keys and everything they merely rearrange (per-token states cat-ed from chunks, the last state of a
    scan carried to the next chunk): a decay of any of them is a decay of the memory that is read."""
    out, todo = set(), list(keys)
    while todo:
        k = todo.pop()
        if k not in out:
            out.add(k)
            todo.extend(copies.get(k, ()))
    return out


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
        returned = f1.returned_keys
        states = set()
        for gk, u in f1.updates.items():
            if gk in returned:
                continue
            if ("OUTER" in u["labels"] and (u["carried"] or gk[1].startswith("self."))) or "SCAN" in u["labels"]:
                states.add(gk)
        grew = True
        while grew:
            grew = False
            for gk, u in f1.updates.items():
                if gk not in states and gk not in returned and u["carried"] and u["refs"] & states:
                    states.add(gk)
                    grew = True
        rev = {gk for gk in states if "REV" in f1.updates.get(gk, {}).get("labels", ())}
        f2 = _run_flow(src, mem_funcs, frozenset(states), deadline, returned, rev)
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
        scans = sorted(gk for gk, u in ups.items() if "SCAN" in u["labels"] and "REV" not in u["labels"])
        backwards = sorted(gk for gk, u in ups.items() if "SCAN" in u["labels"] and "REV" in u["labels"])
        fwd = src.lookup(MEMORY_CLASS, "forward")
        returned = f2.summaries.get((MEMORY_CLASS, id(fwd)), set()) if fwd is not None else set()
        if "READREV" in returned:
            gk = (backwards or sorted(rev & states) or [None])[0]
            out["recurrent_update"] = (False, f"what NeuralMemory returns is read from `{_name(gk)}`, a scan run backwards "
                                              "over the sequence (flipped, or summed from later tokens): each position "
                                              "sees the future, not the tokens before it")
        elif carried:
            gk = carried[0]
            u = ups[gk]
            out["recurrent_update"] = (True, f"`{_name(gk)}` is carried across the loop at line "
                                             f"{min(u['loop_lines'])} and rewritten each step (line {_lines(u)})")
        elif scans and "READ" in returned:
            out["recurrent_update"] = (True, f"`{_name(scans[0])}` (line {_lines(ups[scans[0]])}) holds every token's "
                                             "state at once: a causal scan over per-token outer products")
        elif backwards:
            out["recurrent_update"] = (False, f"`{_name(backwards[0])}` (line {_lines(ups[backwards[0]])}) is a scan run "
                                              "backwards over the sequence (flipped, or summed from later tokens): each "
                                              "position sees the future, not the tokens before it")
        elif scans:
            out["recurrent_update"] = (False, f"`{_name(scans[0])}` (line {_lines(ups[scans[0]])}) is a scan over "
                                              "per-token outer products, but what NeuralMemory returns is not read from it")
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
        read = (f2.retrieval - f2.scan_operands) & states or states
        decays = [d for d in f2.decays if d[0] in _copied_from(read, f2.copies)]
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
