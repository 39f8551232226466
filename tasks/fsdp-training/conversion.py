"""The fsdp-training task's 11 static checks of an FSDP conversion (trusted; the script is parsed, never run):
which code a run reaches, names resolved through imports and simple assignments, values followed through
helpers, functools.partial, kwargs dicts and loop-called helpers (the check library's envbench_check.flow),
and each of the seed's criteria. check.py's compare phase calls static_checks(source)."""

from __future__ import annotations

import ast
import os

try:
    from envbench_check.constants import ModuleConstants
    from envbench_check.flow import Flow, Value
except ImportError:  # conversion.py imported on its own: the library is in the repository's src/grading/python
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "grading", "python"))
    from envbench_check.constants import ModuleConstants
    from envbench_check.flow import Flow, Value


MIN_WRAP_PARAMS = 1_000_000

STATIC_CHECKS = ("nccl_init", "local_rank_from_env", "fsdp_lambda_auto_wrap", "wrap_criteria",
                 "no_transformer_auto_wrap_policy", "distributed_sampler", "set_epoch_in_loop",
                 "optimizer_after_fsdp", "full_state_dict_config", "rank0_state_dict_save",
                 "destroy_process_group")


FSDP_CLASS = {"torch.distributed.fsdp.FullyShardedDataParallel",
              "torch.distributed.fsdp.fully_sharded_data_parallel.FullyShardedDataParallel"}
CANONICAL = {
    "torch.distributed.fsdp.fully_sharded_data_parallel.FullyShardedDataParallel": "torch.distributed.fsdp.FullyShardedDataParallel",
    "torch.distributed.fsdp.fully_sharded_data_parallel.FullStateDictConfig": "torch.distributed.fsdp.FullStateDictConfig",
    "torch.distributed.fsdp.api.FullStateDictConfig": "torch.distributed.fsdp.FullStateDictConfig",
    "torch.distributed.fsdp.fully_sharded_data_parallel.StateDictType": "torch.distributed.fsdp.StateDictType",
    "torch.distributed.fsdp.api.StateDictType": "torch.distributed.fsdp.StateDictType",
    "torch.distributed.distributed_c10d.init_process_group": "torch.distributed.init_process_group",
    "torch.distributed.distributed_c10d.destroy_process_group": "torch.distributed.destroy_process_group",
    "torch.distributed.distributed_c10d.get_rank": "torch.distributed.get_rank",
    "torch.utils.data.DistributedSampler": "torch.utils.data.distributed.DistributedSampler",
    "torch.utils.data.dataloader.DataLoader": "torch.utils.data.DataLoader",
}
LAMBDA_POLICY = "torch.distributed.fsdp.wrap.lambda_auto_wrap_policy"
TRANSFORMER_POLICY_NAME = "transformer_auto_wrap_policy"
PARTIAL = "functools.partial"
LOOPS = (ast.For, ast.While, ast.AsyncFor)


def _line(node) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001
        text = type(node).__name__
    text = " ".join(text.split())
    return f"line {getattr(node, 'lineno', '?')}: {text[:90]}"


def _pos(node) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def _is_main_guard(stmt) -> bool:
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    parts = [stmt.test.left, *stmt.test.comparators]
    return any(isinstance(p, ast.Name) and p.id == "__name__" for p in parts) and \
        any(isinstance(p, ast.Constant) and p.value == "__main__" for p in parts)


def _kw(call: ast.Call, name: str):
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


class Source:
    """The script's AST with import aliases resolved and the code a run reaches found.

    A script runs top to bottom as __main__, so reachable code is: every module-level statement (the
    `if __name__ == "__main__":` block included) and every top-level function or class named in
    reachable code, transitively (a class brings its methods). A function nobody calls is dead code.
    """

    def __init__(self, tree: ast.Module):
        self.tree = tree
        self.aliases: dict[str, str] = {}
        self.functions: dict[str, list] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.assigned: dict[str, list] = {}  # name -> every expression assigned to it, anywhere
        self._parents: dict[int, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self._parents[id(child)] = node
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.ClassDef) and node in tree.body:
                self.classes[node.name] = node
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for name in self._target_names(t):
                        self.assigned.setdefault(name, []).append(node.value)
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                for name in self._target_names(node.optional_vars):
                    self.assigned.setdefault(name, []).append(node.context_expr)
        self._collect_aliases()
        # Code that can never run counts for nothing: branches whose condition folds to a constant (`if False:`,
        # `if RUN:` with `RUN = False` at the top) and statements after an unconditional return or raise. The
        # script runs as __main__ under torchrun, so its main block is live.
        self.consts = ModuleConstants(tree, main_runs=True)
        self.units = self._reachable_units()
        self.flow = Flow(tree, qualname=self.qualname, branch=self.consts.truth)

    @staticmethod
    def _target_names(t) -> list[str]:
        if isinstance(t, ast.Name):
            return [t.id]
        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in ("self", "cls"):
            return [f"{t.value.id}.{t.attr}"]
        if isinstance(t, (ast.Tuple, ast.List)):
            return [n for e in t.elts for n in Source._target_names(e)]
        return []

    def _collect_aliases(self):
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        self.aliases[top] = top
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for a in node.names:
                    if a.name != "*":
                        self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        for _ in range(4):  # simple aliases by assignment, to a fixed point
            changed = False
            for name, values in self.assigned.items():
                if len(values) != 1 or not isinstance(values[0], (ast.Name, ast.Attribute)):
                    continue
                q = self.qualname(values[0])
                if q and self.aliases.get(name) != q and name != q.split(".")[0]:
                    self.aliases[name] = q
                    changed = True
            if not changed:
                break

    def qualname(self, node) -> str | None:
        if isinstance(node, ast.Name):
            q = self.aliases.get(node.id)
        elif isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                key = f"{node.value.id}.{node.attr}"
                if key in self.aliases:
                    return CANONICAL.get(self.aliases[key], self.aliases[key])
            base = self.qualname(node.value)
            q = f"{base}.{node.attr}" if base else None
            if q:
                q = CANONICAL.get(q, q)
                for long, short in CANONICAL.items():  # FSDP.state_dict_type through the long class path
                    if q.startswith(long + "."):
                        q = short + q[len(long):]
        else:
            return None
        return CANONICAL.get(q, q) if q else None

    def _reachable_units(self) -> list:
        units, seen, queue = [], set(), []

        def add(node):
            if id(node) not in seen:
                seen.add(id(node))
                queue.append(node)

        def add_class(cls):
            if id(cls) in seen:
                return
            seen.add(id(cls))
            for item in cls.body:
                add(item)
            for base in cls.bases:
                if isinstance(base, ast.Name) and base.id in self.classes:
                    add_class(self.classes[base.id])

        for stmt in self.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for dec in stmt.decorator_list:
                    add(dec)
            elif self.consts.is_live(stmt):
                add(stmt)
        top_funcs = {n.name: n for n in self.tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        while queue:
            unit = queue.pop(0)
            units.append(unit)
            for node in self.consts.iter_live(unit):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    if node.id in top_funcs:
                        add(top_funcs[node.id])
                    if node.id in self.classes:
                        add_class(self.classes[node.id])
        return units

    def walk(self):
        for unit in self.units:
            yield from self.consts.iter_live(unit)

    def calls(self, targets: set):
        for node in self.walk():
            if isinstance(node, ast.Call) and self.qualname(node.func) in targets:
                yield node

    def ancestors(self, node):
        p = self._parents.get(id(node))
        while p is not None:
            yield p
            p = self._parents.get(id(p))

    def const(self, node, depth=0):
        """The value of a literal, a name bound once to one, or simple arithmetic on them; else None."""
        if depth > 4 or node is None:
            return None
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name) and len(self.assigned.get(node.id, [])) == 1:
            return self.const(self.assigned[node.id][0], depth + 1)
        if isinstance(node, ast.BinOp):
            a, b = self.const(node.left, depth + 1), self.const(node.right, depth + 1)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
                try:
                    if isinstance(node.op, ast.Pow) and abs(b) <= 12:
                        return a ** b
                    if isinstance(node.op, ast.Mult):
                        return a * b
                except Exception:  # noqa: BLE001
                    return None
        return None

    def resolve(self, node, depth=0) -> list:
        """node, and what a name in it was assigned (two levels): the expressions it may stand for."""
        out = [node]
        if depth < 2 and isinstance(node, ast.Name):
            for v in self.assigned.get(node.id, []):
                out += self.resolve(v, depth + 1)
        return out

    def function_named(self, node):
        """The def or lambda an expression names, if any."""
        for e in self.resolve(node):
            if isinstance(e, ast.Lambda):
                return e
            if isinstance(e, ast.Name) and e.id in self.functions:
                return self.functions[e.id][-1]
        return None


def _fail(name, detail):
    return dict(name=name, passed=False, detail=detail)


def _ok(name, detail):
    return dict(name=name, passed=True, detail=detail)


def check_nccl_init(src: Source) -> dict:
    name = "nccl_init"
    calls = list(src.calls({"torch.distributed.init_process_group"}))
    for c in calls:
        backend = _kw(c, "backend") or (c.args[0] if c.args else None)
        v = src.const(backend)
        if isinstance(v, str) and "nccl" in v.lower():
            return _ok(name, _line(c))
    if calls:
        return _fail(name, f"{_line(calls[0])}: backend is not NCCL")
    return _fail(name, "no torch.distributed.init_process_group(...) call in code the script runs")


def _env_reads(src: Source, var: str) -> list:
    out = []
    for node in src.walk():
        if isinstance(node, ast.Subscript) and src.qualname(node.value) == "os.environ" and \
                src.const(node.slice) == var:
            out.append(node)
        elif isinstance(node, ast.Call) and node.args and src.const(node.args[0]) == var and \
                src.qualname(node.func) in ("os.environ.get", "os.getenv", "os.environ.__getitem__"):
            out.append(node)
    return out


def _derives_from_global_rank(src: Source, expr, depth=0) -> bool:
    """Whether expr is computed from dist.get_rank() or $RANK, through names it was assigned from."""
    if depth > 3:
        return False
    for n in ast.walk(expr):
        if isinstance(n, ast.Call) and src.qualname(n.func) == "torch.distributed.get_rank":
            return True
        if isinstance(n, ast.Subscript) and src.qualname(n.value) == "os.environ" and src.const(n.slice) == "RANK":
            return True
        if isinstance(n, ast.Call) and n.args and src.const(n.args[0]) == "RANK" and \
                src.qualname(n.func) in ("os.environ.get", "os.getenv"):
            return True
        if isinstance(n, ast.Name) and any(_derives_from_global_rank(src, v, depth + 1)
                                           for v in src.assigned.get(n.id, [])):
            return True
    return False


def check_local_rank(src: Source) -> dict:
    name = "local_rank_from_env"
    reads = _env_reads(src, "LOCAL_RANK")
    bad = []
    for node in src.walk():
        if not isinstance(node, ast.Call):
            continue
        q = src.qualname(node.func)
        args = []
        if q in ("torch.cuda.set_device", "torch.device"):
            args = list(node.args)
        if _kw(node, "device_id") is not None:
            args.append(_kw(node, "device_id"))
        if any(_derives_from_global_rank(src, a) for a in args):
            bad.append(node)
    if bad:
        return _fail(name, f"{_line(bad[0])}: the device comes from the global rank; on more than one node that "
                           "is not this process's GPU (use LOCAL_RANK)")
    if not reads:
        return _fail(name, 'LOCAL_RANK is never read from the environment (os.environ["LOCAL_RANK"])')
    return _ok(name, _line(reads[0]))


def _lambda_fn_of_policy(src: Source, policy) -> tuple[object, str] | None:
    """(the lambda_fn expression, evidence) if `policy` is lambda_auto_wrap_policy with a custom lambda_fn."""
    for e in src.resolve(policy):
        if isinstance(e, ast.Call) and src.qualname(e.func) == PARTIAL and e.args and \
                src.qualname(e.args[0]) == LAMBDA_POLICY:
            fn = _kw(e, "lambda_fn")
            if fn is not None:
                return fn, _line(e)
        fn_node = e if isinstance(e, ast.Lambda) else src.function_named(e) if isinstance(e, ast.Name) else None
        if fn_node is not None:
            for n in ast.walk(fn_node):
                if isinstance(n, ast.Call) and src.qualname(n.func) == LAMBDA_POLICY and _kw(n, "lambda_fn") is not None:
                    return _kw(n, "lambda_fn"), _line(n)
    return None


def _policy_outcome(src: Source, v: Value):
    """(the lambda_fn's def or lambda, or its expression; evidence) when the value is
    functools.partial(lambda_auto_wrap_policy, lambda_fn=F) or a function calling lambda_auto_wrap_policy with
    lambda_fn=F; else None."""
    p = src.flow.partial(v)
    if p is not None and src.qualname(p.func.node) == LAMBDA_POLICY and "lambda_fn" in p.keywords:
        fn = src.flow.function(p.keywords["lambda_fn"])
        return (fn if fn is not None else p.keywords["lambda_fn"].node), _line(v.node)
    if isinstance(v.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        for n in ast.walk(v.node):
            if isinstance(n, ast.Call) and src.qualname(n.func) == LAMBDA_POLICY and _kw(n, "lambda_fn") is not None:
                fn = src.flow.function(src.flow.value(_kw(n, "lambda_fn")))
                return (fn if fn is not None else _kw(n, "lambda_fn")), _line(n)
    return None


def _policy_via_flow(src: Source, call: ast.Call):
    """The policy followed through helpers that return it, partials and **kwargs. A helper's result counts only
    when every way it can return (an implicit None included) is the lambda policy: a policy returned under a
    condition the run may not meet, or only in dead code, is not the policy the model gets."""
    vals = src.flow.keyword(call, "auto_wrap_policy")
    by_helper: dict[int, list] = {}
    for v in vals:
        by_helper.setdefault(id(v.via[0]) if v.via else id(v), []).append(v)
    for group in by_helper.values():
        outcomes = [_policy_outcome(src, v) for v in group]
        if outcomes and all(outcomes) and (len(group) == 1 or group[0].via):
            fn, evidence = outcomes[0]
            via = f" (returned by {_line(group[0].via[0])})" if group[0].via else ""
            return fn, evidence + via
        if not group[0].via:
            good = [o for o in outcomes if o]
            if good:
                return good[0]
    return None


def _fsdp_calls(src: Source) -> list:
    return list(src.calls(FSDP_CLASS))


def check_fsdp_lambda(src: Source) -> tuple[dict, object]:
    name = "fsdp_lambda_auto_wrap"
    calls = _fsdp_calls(src)
    if not calls:
        return _fail(name, "no FullyShardedDataParallel(...) call in code the script runs"), None
    for c in calls:
        policy = _kw(c, "auto_wrap_policy")
        if policy is None and not any(k.arg is None for k in c.keywords):
            continue
        # given directly, or as the "auto_wrap_policy" key of a **kwargs dict as it stands at the call
        found = (policy is not None and _lambda_fn_of_policy(src, policy)) or _policy_via_flow(src, c)
        if found:
            return _ok(name, f"{_line(c)} with {found[1]}"), found[0]
    with_policy = [c for c in calls if _kw(c, "auto_wrap_policy") is not None]
    if with_policy:
        return _fail(name, f"{_line(with_policy[0])}: auto_wrap_policy is not "
                           "functools.partial(lambda_auto_wrap_policy, lambda_fn=...)"), None
    return _fail(name, f"{_line(calls[0])}: no auto_wrap_policy"), None


def _numel_expr(src: Source, expr, depth=0) -> bool:
    """Does expr count parameters (a .numel() somewhere in it, in a name it was assigned, or in a
    function it calls)?"""
    if depth > 2:
        return False
    for e in src.resolve(expr):
        for n in ast.walk(e):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "numel":
                return True
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in src.functions:
                if any(_numel_expr(src, body, depth + 1) for body in src.functions[n.func.id][-1].body):
                    return True
            if isinstance(n, ast.Return) and n.value is not None and _numel_expr(src, n.value, depth + 1):
                return True
    return False


def check_wrap_criteria(src: Source, lambda_fn) -> dict:
    name = "wrap_criteria"
    if lambda_fn is None:
        return _fail(name, "no lambda_fn given to lambda_auto_wrap_policy")
    fn = lambda_fn if isinstance(lambda_fn, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)) else \
        src.function_named(lambda_fn)
    if fn is None:
        return _fail(name, f"{_line(lambda_fn)}: cannot find the lambda_fn's definition")
    type_nodes, size_nodes = [], []
    for n in ast.walk(fn):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "isinstance" and len(n.args) == 2:
            classes = n.args[1].elts if isinstance(n.args[1], ast.Tuple) else [n.args[1]]
            if any(isinstance(c, ast.Name) and c.id == "TransformerBlock" or
                   isinstance(c, ast.Attribute) and c.attr == "TransformerBlock" for c in classes):
                type_nodes.append(n)
        elif isinstance(n, ast.Compare):
            sides = [n.left, *n.comparators]
            if any(isinstance(s, ast.Name) and s.id == "TransformerBlock" for s in sides) or \
                    any(src.const(s) == "TransformerBlock" for s in sides):
                type_nodes.append(n)
            elif len(n.ops) == 1:
                left, right, op = n.left, n.comparators[0], n.ops[0]
                if isinstance(op, (ast.Gt, ast.GtE)) and src.const(right) in (MIN_WRAP_PARAMS, float(MIN_WRAP_PARAMS)) \
                        and _numel_expr(src, left):
                    size_nodes.append(n)
                elif isinstance(op, (ast.Lt, ast.LtE)) and src.const(left) in (MIN_WRAP_PARAMS, float(MIN_WRAP_PARAMS)) \
                        and _numel_expr(src, right):
                    size_nodes.append(n)
    missing = []
    if not type_nodes:
        missing.append("no isinstance(module, TransformerBlock) test")
    if not size_nodes:
        missing.append("no comparison of a parameter count (.numel()) with 1,000,000")
    if missing:
        return _fail(name, f"lambda_fn at line {fn.lineno}: " + "; ".join(missing))
    for n in ast.walk(fn):  # both tests required at once would wrap far too little
        if isinstance(n, ast.BoolOp) and isinstance(n.op, ast.And):
            inside = {id(x) for x in ast.walk(n)}
            if any(id(t) in inside for t in type_nodes) and any(id(s) in inside for s in size_nodes):
                return _fail(name, f"{_line(n)}: wraps only modules that are TransformerBlocks AND over 1M "
                                   "parameters; the rule is OR")
    return _ok(name, f"{_line(type_nodes[0])}; {_line(size_nodes[0])}")


def check_no_transformer_policy(src: Source) -> dict:
    name = "no_transformer_auto_wrap_policy"
    for node in ast.walk(src.tree):  # anywhere in the file, imports included; comments and strings never count
        hit = (isinstance(node, ast.Name) and node.id == TRANSFORMER_POLICY_NAME) or \
              (isinstance(node, ast.Attribute) and node.attr == TRANSFORMER_POLICY_NAME) or \
              (isinstance(node, ast.alias) and TRANSFORMER_POLICY_NAME in (node.name, node.asname))
        if hit:
            where = node if hasattr(node, "lineno") else next(src.ancestors(node), node)
            return _fail(name, f"{_line(where)}: uses transformer_auto_wrap_policy")
    return _ok(name, "transformer_auto_wrap_policy is not used")


def check_distributed_sampler(src: Source) -> dict:
    name = "distributed_sampler"
    samplers = list(src.calls({"torch.utils.data.distributed.DistributedSampler"}))
    if not samplers:
        return _fail(name, "no DistributedSampler(...) in code the script runs")
    sampler_ids = {id(s) for s in samplers}
    loaders = list(src.calls({"torch.utils.data.DataLoader"}))
    for dl in loaders:
        # sampler= given directly or as the "sampler" key of a **kwargs dict, through names and helpers, as
        # it stands when the DataLoader is built (a key overwritten before then is what the loader gets)
        if any(id(v.node) in sampler_ids for v in src.flow.keyword(dl, "sampler")):
            if any(isinstance(v.node, ast.Constant) and v.node.value is True for v in src.flow.keyword(dl, "shuffle")):
                return _fail(name, f"{_line(dl)}: shuffle=True together with a sampler raises; the sampler shuffles")
            return _ok(name, f"{_line(samplers[0])}; {_line(dl)}")
    return _fail(name, f"{_line(samplers[0])}: never passed to a DataLoader as sampler= (directly or in its "
                       "**kwargs) when the loader is built")


def _loop_vars(lp) -> set:
    if isinstance(lp, (ast.For, ast.AsyncFor)):
        return {n.id for n in ast.walk(lp.target) if isinstance(n, ast.Name)}
    return {n.id for s in ast.walk(lp) if isinstance(s, (ast.Assign, ast.AugAssign))  # a while loop's counter
            for t in (s.targets if isinstance(s, ast.Assign) else [s.target])
            for n in ast.walk(t) if isinstance(n, ast.Name)}


def check_set_epoch(src: Source) -> dict:
    name = "set_epoch_in_loop"
    calls = [n for n in src.walk() if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr == "set_epoch"]
    if not calls:
        return _fail(name, "set_epoch is never called")
    for c in calls:
        loops = [a for a in src.ancestors(c) if isinstance(a, LOOPS)]
        loop_vars = set()
        for lp in loops:
            if isinstance(lp, (ast.For, ast.AsyncFor)):
                loop_vars |= {n.id for n in ast.walk(lp.target) if isinstance(n, ast.Name)}
            else:  # a while loop's counter: anything assigned inside it
                loop_vars |= {n.id for s in ast.walk(lp) if isinstance(s, (ast.Assign, ast.AugAssign))
                              for t in (s.targets if isinstance(s, ast.Assign) else [s.target])
                              for n in ast.walk(t) if isinstance(n, ast.Name)}
        used = {n.id for a in c.args for n in ast.walk(a) if isinstance(n, ast.Name)}
        if loops and used & loop_vars:
            return _ok(name, _line(c))
    # set_epoch in a helper that the epoch loop calls (train(model, loader, sampler, epoch)), its argument
    # bound, through the helpers' parameters, to the loop's counter
    reached_const = None
    for lp in (n for n in src.walk() if isinstance(n, LOOPS)):
        loop_vars = _loop_vars(lp)
        scope = src.flow.scope_of(lp)
        for v in src.flow.calls_from(lp):
            c = v.node
            if not v.via or not (isinstance(c.func, ast.Attribute) and c.func.attr == "set_epoch"):
                continue
            receiver = src.flow.values(Value(c.func.value, v.scope, v.env, c, v.via))
            if receiver and all(isinstance(r.node, ast.Constant) and r.node.value is None for r in receiver):
                continue  # the loop hands the helper sampler=None: that set_epoch never runs
            if any(src.flow.derives_from(Value(a, v.scope, v.env, c, v.via), loop_vars, scope) for a in c.args):
                return _ok(name, f"{_line(c)}, in a helper the loop at line {lp.lineno} calls ({_line(v.via[0])})")
            reached_const = reached_const or (c, v.via[0])
    if reached_const:
        c, site = reached_const
        return _fail(name, f"{_line(c)}: reached from the loop through {_line(site)}, but its argument is not the "
                           "loop's epoch counter")
    c = calls[0]
    if not any(isinstance(a, LOOPS) for a in src.ancestors(c)):
        return _fail(name, f"{_line(c)}: not inside the epoch loop, nor in a helper the loop calls")
    return _fail(name, f"{_line(c)}: its argument is not the loop's epoch counter")


def _is_optimizer_ctor(src: Source, call: ast.Call) -> bool:
    q = src.qualname(call.func) or ""
    last = q.rsplit(".", 1)[-1]
    return q.startswith("torch.optim.") and ".lr_scheduler" not in q and last[:1].isupper() and last != "Optimizer"


def _contains(src: Source, fn_node, pred, depth=0, memo=None) -> bool:
    """Whether fn_node (a def), or a top-level function it calls, contains a node matching pred. Memoized per
    (function, depth) within one pred: helpers that each call the next many times must not blow up."""
    if depth > 3:
        return False
    memo = {} if memo is None else memo
    key = (id(fn_node), id(pred), depth)
    if key in memo:
        return memo[key]
    memo[key] = False
    found = False
    for n in ast.walk(fn_node):
        if pred(n):
            found = True
            break
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in src.functions and \
                any(_contains(src, f, pred, depth + 1, memo) for f in src.functions[n.func.id] if f is not fn_node):
            found = True
            break
    memo[key] = found
    return found


def check_optimizer_after_fsdp(src: Source) -> dict:
    name = "optimizer_after_fsdp"
    is_fsdp = lambda n: isinstance(n, ast.Call) and src.qualname(n.func) in FSDP_CLASS  # noqa: E731
    is_opt = lambda n: isinstance(n, ast.Call) and _is_optimizer_ctor(src, n)  # noqa: E731
    scopes = [u for u in src.units if isinstance(u, (ast.FunctionDef, ast.AsyncFunctionDef))]
    scopes.append(ast.Module(body=[s for s in src.tree.body if not isinstance(
        s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))], type_ignores=[]))
    good = None
    memo: dict = {}
    for scope in scopes:
        wraps, opts = [], []
        for n in ast.walk(scope):
            if n is scope or not isinstance(n, ast.Call):
                continue
            if is_fsdp(n):
                wraps.append(n)
            elif is_opt(n):
                opts.append(n)
            elif isinstance(n.func, ast.Name) and n.func.id in src.functions:
                fns = [f for f in src.functions[n.func.id] if f is not scope]
                if any(_contains(src, f, is_fsdp, 0, memo) for f in fns):
                    wraps.append(n)
                elif any(_contains(src, f, is_opt, 0, memo) for f in fns):
                    opts.append(n)
        if not wraps or not opts:
            continue
        first_wrap = min(wraps, key=_pos)
        early = [o for o in opts if _pos(o) < _pos(first_wrap)]
        if early:
            return _fail(name, f"{_line(early[0])} creates the optimizer before the FSDP wrap at line "
                               f"{first_wrap.lineno}; it would hold the unwrapped parameters")
        good = good or f"{_line(min(opts, key=_pos))} after the wrap at line {first_wrap.lineno}"
    if good:
        return _ok(name, good)
    return _fail(name, "no function both wraps the model in FSDP and then creates the optimizer")


def check_full_state_dict_config(src: Source) -> dict:
    name = "full_state_dict_config"
    calls = list(src.calls({"torch.distributed.fsdp.FullStateDictConfig"}))
    for c in calls:
        if src.const(_kw(c, "offload_to_cpu")) is True and src.const(_kw(c, "rank0_only")) is True:
            return _ok(name, _line(c))
    if calls:
        return _fail(name, f"{_line(calls[0])}: needs offload_to_cpu=True and rank0_only=True")
    return _fail(name, "no FullStateDictConfig(offload_to_cpu=True, rank0_only=True) in code the script runs")


def _rank0_test(src: Source, test) -> bool:
    """`rank == 0`, `dist.get_rank() == 0`, `not rank`, `is_main_process`...; LOCAL_RANK does not count."""
    def ranky(e) -> bool:
        if isinstance(e, ast.Call) and src.qualname(e.func) == "torch.distributed.get_rank":
            return True
        n = e.id if isinstance(e, ast.Name) else e.attr if isinstance(e, ast.Attribute) else ""
        n = n.lower()
        return "rank" in n and "local" not in n
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.Is)):
        a, b = test.left, test.comparators[0]
        return (ranky(a) and src.const(b) == 0) or (ranky(b) and src.const(a) == 0)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return ranky(test.operand)
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_rank0_test(src, v) for v in test.values)
    n = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
    n = n.lower()
    return any(k in n for k in ("rank0", "rank_0", "rank_zero", "is_main", "main_process", "is_master", "master_process"))


def check_rank0_save(src: Source) -> dict:
    name = "rank0_state_dict_save"
    ctxs = []
    for node in src.walk():
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                e = item.context_expr
                if isinstance(e, ast.Call) and (src.qualname(e.func) or "").endswith("FullyShardedDataParallel.state_dict_type") \
                        and len(e.args) + len(e.keywords) >= 2:
                    kind = e.args[1] if len(e.args) > 1 else _kw(e, "state_dict_type")
                    if (src.qualname(kind) or "").endswith("StateDictType.FULL_STATE_DICT"):
                        ctxs.append(node)
    if not ctxs:
        return _fail(name, "no `with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, ...)` block")
    sd_names, sd_calls = set(), set()
    for w in ctxs:
        for n in ast.walk(w):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "state_dict":
                sd_calls.add(id(n))
                parent = next(src.ancestors(n), None)
                if isinstance(parent, (ast.Assign, ast.AnnAssign)):
                    for t in (parent.targets if isinstance(parent, ast.Assign) else [parent.target]):
                        sd_names |= set(Source._target_names(t))
    if not sd_calls:
        return _fail(name, f"{_line(ctxs[0].items[0].context_expr)}: model.state_dict() is not called inside the "
                           "state_dict_type block")
    saves = list(src.calls({"torch.save"}))
    if not saves:
        return _fail(name, "torch.save is never called")
    for s in saves:
        obj = s.args[0] if s.args else _kw(s, "obj")
        is_sd = obj is not None and ((isinstance(obj, ast.Name) and obj.id in sd_names) or id(obj) in sd_calls)
        guarded = False
        prev = s
        for a in src.ancestors(s):
            if isinstance(a, ast.If) and any(prev is b for b in a.body) and _rank0_test(src, a.test):
                guarded = True
                break
            prev = a
        if is_sd and guarded:
            return _ok(name, f"{_line(ctxs[0].items[0].context_expr)}; {_line(s)} on rank 0")
    s = saves[0]
    if not any((isinstance(o, ast.Name) and o.id in sd_names) or id(o) in sd_calls
               for o in [x.args[0] if x.args else None for x in saves]):
        return _fail(name, f"{_line(s)}: does not save the state dict gathered under FULL_STATE_DICT "
                           f"({', '.join(sorted(sd_names)) or 'no name'})")
    return _fail(name, f"{_line(s)}: not guarded by a rank-0 test (global rank, not LOCAL_RANK)")


def check_destroy(src: Source) -> dict:
    name = "destroy_process_group"
    calls = list(src.calls({"torch.distributed.destroy_process_group"}))
    if calls:
        return _ok(name, _line(calls[0]))
    return _fail(name, "torch.distributed.destroy_process_group() is never called")


def static_checks(source: bytes | None) -> list[dict]:
    tree, err = None, None
    if source is None:
        err = "submission file unreadable"
    else:
        try:
            tree = ast.parse(source)
        except Exception as e:  # noqa: BLE001
            err = f"cannot parse submission: {type(e).__name__}: {str(e)[:300]}"
    if tree is None:
        return [_fail(n, err) for n in STATIC_CHECKS]
    try:
        src = Source(tree)
    except Exception as e:  # noqa: BLE001
        return [_fail(n, f"could not analyse source: {type(e).__name__}: {e}") for n in STATIC_CHECKS]
    out = []

    def budgeted(result: dict) -> dict:
        # Past its step budget the value flow answers "opaque", which no rule should read as a pass.
        if result["passed"] and src.flow.exhausted:
            return _fail(result["name"], f"the value analysis spent its budget ({src.flow.max_work} steps) before "
                                         "this check: the script's helpers fan out too far to be followed")
        return result

    def run(name, fn, *a):
        try:
            return budgeted(fn(*a))
        except Exception as e:  # noqa: BLE001
            return _fail(name, f"could not analyse: {type(e).__name__}: {e}")

    out.append(run("nccl_init", check_nccl_init, src))
    out.append(run("local_rank_from_env", check_local_rank, src))
    try:
        fsdp_check, lambda_fn = check_fsdp_lambda(src)
    except Exception as e:  # noqa: BLE001
        fsdp_check, lambda_fn = _fail("fsdp_lambda_auto_wrap", f"could not analyse: {type(e).__name__}: {e}"), None
    out.append(budgeted(fsdp_check))
    out.append(run("wrap_criteria", check_wrap_criteria, src, lambda_fn))
    out.append(run("no_transformer_auto_wrap_policy", check_no_transformer_policy, src))
    out.append(run("distributed_sampler", check_distributed_sampler, src))
    out.append(run("set_epoch_in_loop", check_set_epoch, src))
    out.append(run("optimizer_after_fsdp", check_optimizer_after_fsdp, src))
    out.append(run("full_state_dict_config", check_full_state_dict_config, src))
    out.append(run("rank0_state_dict_save", check_rank0_save, src))
    out.append(run("destroy_process_group", check_destroy, src))
    return out


# ---------------------------------------------------------------------------
# compare (trusted; never imports the submission)
# ---------------------------------------------------------------------------
