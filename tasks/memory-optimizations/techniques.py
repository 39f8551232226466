"""The memory-optimizations task's static analysis (trusted; the submission is parsed, never run): which
memory techniques the code the grader runs really uses, whether the torch APIs get arguments they accept,
and the shared rule set of the check library for anything that could fake the measurement. check.py's
compare phase calls static_checks(source)."""

from __future__ import annotations

import ast

import envbench_check as ec
from envbench_check.constants import ModuleConstants, reachable_units

REQUIRED = ("required_mixed_precision", "required_gradient_checkpointing", "required_sdpa")
OPTIONAL = ("optional_gradient_accumulation", "optional_memory_efficient_optimizer", "optional_memory_management",
            "optional_cpu_offload_or_pinned_memory", "optional_torch_compile", "optional_inplace_operations")
MIN_OPTIONAL = 2


AUTOCAST = {"torch.autocast", "torch.cuda.amp.autocast", "torch.cpu.amp.autocast", "torch.amp.autocast"}
GRADSCALER = {"torch.cuda.amp.GradScaler", "torch.amp.GradScaler", "torch.GradScaler", "torch.cpu.amp.GradScaler"}
HALF_DTYPES = {"torch.bfloat16", "torch.float16", "torch.half"}
CHECKPOINT = {"torch.utils.checkpoint.checkpoint", "torch.utils.checkpoint.checkpoint_sequential"}
SDPA = {"torch.nn.functional.scaled_dot_product_attention"}
COMPILE = {"torch.compile"}
EMPTY_CACHE = {"torch.cuda.empty_cache", "torch.cuda.memory.empty_cache"}
OFFLOAD = {"torch.autograd.graph.save_on_cpu", "torch.autograd.graph.saved_tensors_hooks"}
# Where torch defines a name that it also exports under a shorter path.
CANONICAL = {
    "torch.cuda.amp.autocast_mode.autocast": "torch.cuda.amp.autocast",
    "torch.amp.autocast_mode.autocast": "torch.autocast",
    "torch.cuda.amp.grad_scaler.GradScaler": "torch.cuda.amp.GradScaler",
    "torch.amp.grad_scaler.GradScaler": "torch.amp.GradScaler",
    "torch._C._nn.scaled_dot_product_attention": "torch.nn.functional.scaled_dot_product_attention",
    "torch.cuda.memory.empty_cache": "torch.cuda.empty_cache",
}
INPLACE_METHODS = {"add_", "sub_", "mul_", "div_", "masked_fill_", "clamp_", "clamp_min_", "clamp_max_", "relu_",
                   "sigmoid_", "tanh_", "exp_", "neg_", "addcmul_", "addcdiv_", "pow_", "sqrt_", "rsqrt_",
                   "baddbmm_", "addmm_", "copy_", "fill_", "zero_", "softmax_", "gelu_", "silu_", "dropout_",
                   "index_add_", "scatter_add_", "lerp_", "masked_scatter_"}
# Functions that only build the model: in-place calls there (weight init) save no training memory.
CONSTRUCTION_ONLY = {"__init__", "build_model", "_init_weights", "init_weights", "reset_parameters"}
# The allocator and peak-statistics APIs this task's measurement depends on: the one task-specific option
# of the shared rule set here (everything else - other processes, torch._C, patching torch, files - is the
# shared allowlist's).
MEASUREMENT_APIS = frozenset({"reset_peak_memory_stats", "reset_max_memory_allocated", "reset_max_memory_cached",
                              "reset_accumulated_memory_stats", "change_current_allocator", "CUDAPluggableAllocator"})
RULES = ec.Rules(forbidden_attrs=MEASUREMENT_APIS, settable=("torch.backends",))


def _line(node) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001
        text = type(node).__name__
    text = " ".join(text.split())
    return f"line {getattr(node, 'lineno', '?')}: {text[:90]}"


class Source:
    """The submission's AST with import aliases resolved and the code the grader can reach found.

    Reachable code: module-level statements (run at import; `if __name__ == "__main__":` excluded),
    build_model and train, and every top-level function or class named in reachable code (a class
    brings all its methods and its bases). A class that reachable code never names is dead code.
    Within it, only code that can run counts: the shared constant folding (envbench_check.constants)
    prunes the untaken side of an `if`/`while`/`x if c else y` whose condition is constant (`if False`,
    `if USE_COMPILE` with `USE_COMPILE = False` bound once at module level, `if DEBUG and x`), and what
    follows an unconditional `return`/`raise`; a function named only from pruned code is not reached.
    A technique counts only when used in reachable code: a call, a function passed as an argument,
    a decorator or a `with` item. Comments and strings never count; neither does an import alone.
    """

    def __init__(self, tree: ast.Module):
        self.tree = tree
        self.aliases: dict[str, str] = {}
        self.star_modules: list[str] = []
        self.functions: dict[str, list] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self._parents: dict[int, ast.AST] = {}
        # The grader imports the submission and calls build_model/train: its __main__ block never runs.
        self.consts = ModuleConstants(tree, main_runs=False)
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self._parents[id(child)] = node
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.setdefault(stmt.name, []).append(stmt)
            elif isinstance(stmt, ast.ClassDef):
                self.classes[stmt.name] = stmt
        self._collect_aliases()
        self.units = reachable_units(tree, self.consts, roots=("build_model", "train"))

    # -- names --------------------------------------------------------------
    def _collect_aliases(self):
        # Only from code that can run: `if False: ckpt = checkpoint` makes no alias.
        live = self.consts.iter_live(self.tree)
        for node in live:
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        self.aliases[top] = top
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for a in node.names:
                    if a.name == "*":
                        self.star_modules.append(node.module)
                    else:
                        self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        # Simple aliases by assignment (sdpa = F.scaled_dot_product_attention; self.ckpt = checkpoint),
        # to a fixed point so chains resolve.
        for _ in range(4):
            changed = False
            for node in live:
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    value, target = node.value, node.targets[0]
                elif isinstance(node, ast.AnnAssign) and node.value is not None:
                    value, target = node.value, node.target
                else:
                    continue
                if not isinstance(value, (ast.Name, ast.Attribute)):
                    continue
                q = self.qualname(value)
                key = self._target_key(target)
                if q and key and self.aliases.get(key) != q and key != q.split(".")[0]:
                    self.aliases[key] = q
                    changed = True
            if not changed:
                break

    @staticmethod
    def _target_key(t):
        if isinstance(t, ast.Name):
            return t.id
        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in ("self", "cls"):
            return f"{t.value.id}.{t.attr}"
        return None

    def qualname(self, node) -> str | None:
        """Dotted name an expression refers to, through imports and simple aliases; None if unknown."""
        if isinstance(node, ast.Name):
            q = self.aliases.get(node.id)
        elif isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                key = f"{node.value.id}.{node.attr}"
                if key in self.aliases:
                    return CANONICAL.get(self.aliases[key], self.aliases[key])
            base = self.qualname(node.value)
            q = f"{base}.{node.attr}" if base else None
        else:
            return None
        return CANONICAL.get(q, q) if q else None

    def refers_to(self, node, targets: set) -> bool:
        q = self.qualname(node)
        if q in targets:
            return True
        if q is None and isinstance(node, ast.Name):  # from m import * ; name()
            return any(f"{m}.{node.id}" in targets for m in self.star_modules)
        return False

    def walk(self, units=None):
        for unit in (self.units if units is None else units):
            yield from self.consts.iter_live(unit)

    def step_units(self):
        """Reachable code that runs while training (not construction-only functions, not import-time code)."""
        return [u for u in self.units if isinstance(u, (ast.FunctionDef, ast.AsyncFunctionDef))
                and u.name not in CONSTRUCTION_ONLY]

    def ancestors(self, node):
        p = self._parents.get(id(node))
        while p is not None:
            yield p
            p = self._parents.get(id(p))

    # -- uses ---------------------------------------------------------------
    def uses(self, targets: set, units=None) -> list[str]:
        """Calls of, functions passed on to, decorators and `with` items naming one of targets."""
        found = []
        for node in self.walk(units):
            if isinstance(node, ast.Call):
                if self.refers_to(node.func, targets):
                    found.append(_line(node))
                    continue
                for arg in [*node.args, *(k.value for k in node.keywords)]:
                    if isinstance(arg, (ast.Name, ast.Attribute)) and self.refers_to(arg, targets):
                        found.append(_line(node))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for dec in node.decorator_list:
                    if self.refers_to(dec, targets):
                        found.append(_line(dec))
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    e = item.context_expr
                    if isinstance(e, (ast.Name, ast.Attribute)) and self.refers_to(e, targets):
                        found.append(_line(e))
        return found


def _const(node, value) -> bool:
    """node is the literal `value` (True is not 1 here)."""
    return isinstance(node, ast.Constant) and type(node.value) is type(value) and node.value == value


def _kw(call: ast.Call, name: str):
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def _kw_is(call: ast.Call, name: str, value) -> bool:
    v = _kw(call, name)
    return v is not None and _const(v, value)


def _method_calls(src: Source, attr_names: set, units=None):
    for node in src.walk(units):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in attr_names:
            yield node


def find_mixed_precision(src: Source) -> list[str]:
    found = src.uses(AUTOCAST | GRADSCALER)
    for call in _method_calls(src, {"half", "bfloat16"}):
        if not call.args and not call.keywords:
            found.append(_line(call))
    for call in _method_calls(src, {"to", "type"}):
        vals = [*call.args, *(k.value for k in call.keywords if k.arg == "dtype")]
        if any(src.qualname(v) in HALF_DTYPES for v in vals if isinstance(v, (ast.Name, ast.Attribute))):
            found.append(_line(call))
    for node in src.walk():
        if isinstance(node, ast.Call) and src.qualname(node.func) == "torch.set_default_dtype" and node.args \
                and src.qualname(node.args[0]) in HALF_DTYPES:
            found.append(_line(node))
    return found


def _is_backward(src: Source, call: ast.Call) -> bool:
    return (isinstance(call.func, ast.Attribute) and call.func.attr == "backward") or \
        src.qualname(call.func) == "torch.autograd.backward"


def _class_method(src: Source, cls: ast.ClassDef, name: str, seen=None) -> list:
    """The method `name` of a class of the module, looked up in its body, then in its bases of the module."""
    seen = seen if seen is not None else set()
    if id(cls) in seen:
        return []
    seen.add(id(cls))
    own = [s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == name]
    if own:
        return own
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in src.classes:
            found = _class_method(src, src.classes[base.id], name, seen)
            if found:
                return found
    return []


_FUNC_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _scope_of(src: Source, node):
    """The nearest def or lambda around `node`, or None at module level."""
    for a in src.ancestors(node):
        if isinstance(a, _FUNC_SCOPES):
            return a
    return None


def _own_calls(src: Source, fn) -> list:
    """The live calls of `fn` itself: not those in a def or lambda nested in it, which run only if called."""
    return [n for n in src.consts.iter_live(fn) if isinstance(n, ast.Call) and _scope_of(src, n) is fn]


def _local_callees(src: Source, call: ast.Call) -> list:
    """The module's own functions a call runs: `helper(...)` (a def nested in a function around the call, else
    a top-level function) or `self.helper(...)` (a method of the class the call sits in, or of its bases in
    the module)."""
    f = call.func
    if isinstance(f, ast.Name) and f.id not in src.aliases:
        for a in src.ancestors(call):
            if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef)):
                nested = [s for s in ast.walk(a) if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                          and s.name == f.id and _scope_of(src, s) is a]
                if nested:
                    return nested
        return list(src.functions.get(f.id, []))
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in ("self", "cls"):
        for a in src.ancestors(call):
            if isinstance(a, ast.ClassDef):
                return _class_method(src, a, f.attr)
    return []


def _backward_helpers(src: Source, calls: dict) -> set:
    """Ids of the module's functions that call backward() in code that can run (`calls`: each function's own
    live calls), themselves or through other such functions (a fixed point: HF's Trainer calls backward in training_step, which the loop of
    train calls)."""
    funcs = [n for n in ast.walk(src.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    doing = {id(fn) for fn in funcs if any(_is_backward(src, c) for c in calls[id(fn)])}
    for _ in range(len(funcs)):
        more = {id(fn) for fn in funcs if id(fn) not in doing
                and any(id(g) in doing for c in calls[id(fn)] for g in _local_callees(src, c))}
        if not more:
            break
        doing |= more
    return doing


def find_gradient_accumulation(src: Source) -> list[str]:
    """backward() in a loop while the optimizer steps less often: either the step sits in an outer loop
    that also holds the backward's loop, or in an `if` (on a modulo or an accumulation counter) of the
    loop that calls backward, with the backward outside that `if`. Both in one function, where a call of
    one of the module's own functions that runs backward() (directly or through others) counts as the
    backward: the split of Hugging Face's Trainer (backward in training_step, the step in the loop)."""
    found = []
    loops = (ast.For, ast.While, ast.AsyncFor)
    # Each function's own live calls, once: the helpers' fixed point and the units below both read them.
    calls = {id(fn): _own_calls(src, fn) for fn in ast.walk(src.tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))}
    helpers = _backward_helpers(src, calls)
    for unit in src.step_units():
        backs, steps = [], []
        for node in calls[id(unit)]:
            if _is_backward(src, node) or any(id(g) in helpers for g in _local_callees(src, node)):
                backs.append(node)
            elif isinstance(node.func, ast.Attribute) and node.func.attr == "step":
                recv = node.func.value
                rname = recv.attr if isinstance(recv, ast.Attribute) else recv.id if isinstance(recv, ast.Name) else ""
                if "sched" not in rname.lower() and not rname.lower().startswith("lr"):
                    steps.append(node)

        def enclosing(node):
            out = []
            for a in src.ancestors(node):
                if a is unit:
                    break
                out.append(a)
            return out

        for s in steps:
            s_anc = enclosing(s)
            s_loops = [a for a in s_anc if isinstance(a, loops)]
            for b in backs:
                b_anc = enclosing(b)
                b_loops = [a for a in b_anc if isinstance(a, loops)]
                ids_b, ids_s = {id(x) for x in b_loops}, {id(x) for x in s_loops}
                if ids_s and ids_s < ids_b:
                    found.append(f"{_line(s)} (outside the inner loop of {_line(b)})")
                    break
                common = [x for x in s_loops if id(x) in ids_b]
                if not common:
                    continue
                inner = common[0]  # the innermost loop holding both
                b_anc_ids = {id(x) for x in b_anc}
                gate = None
                for a in s_anc:
                    if a is inner:
                        break
                    if isinstance(a, ast.If) and id(a) not in b_anc_ids and _accum_test(a.test):
                        gate = a
                        break
                if gate is not None:
                    found.append(f"{_line(s)} (under `if {ast.unparse(gate.test)[:50]}`)")
                    break
    return found


def _accum_test(test) -> bool:
    for n in ast.walk(test):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod):
            return True
        name = n.id if isinstance(n, ast.Name) else n.attr if isinstance(n, ast.Attribute) else ""
        if "accum" in name.lower():
            return True
    return False


def find_memory_efficient_optimizer(src: Source) -> list[str]:
    found = []
    for node in src.walk():
        if isinstance(node, ast.Call):
            q = src.qualname(node.func) or ""
            last = q.rsplit(".", 1)[-1] if q else (node.func.attr if isinstance(node.func, ast.Attribute)
                                                   else node.func.id if isinstance(node.func, ast.Name) else "")
            if "8bit" in last or (q.startswith("bitsandbytes.") and ".Paged" in q):
                found.append(f"{_line(node)} (8-bit / paged optimizer)")
            elif last == "Adafactor":
                found.append(f"{_line(node)} (Adafactor: factored second moments)")
            elif q == "torch.optim.SGD":
                mom = _kw(node, "momentum") or (node.args[2] if len(node.args) > 2 else None)
                if mom is None or (isinstance(mom, ast.Constant) and mom.value == 0):
                    found.append(f"{_line(node)} (SGD without momentum: no optimizer state)")
            if q.startswith("torch.optim.") and _kw_is(node, "foreach", False):
                found.append(f"{_line(node)} (foreach=False: no multi-tensor temporaries)")
            if isinstance(node.func, ast.Attribute) and node.func.attr == "register_post_accumulate_grad_hook":
                found.append(f"{_line(node)} (optimizer step fused into backward)")
    return found


def find_memory_management(src: Source) -> list[str]:
    found = src.uses(EMPTY_CACHE)
    for call in _method_calls(src, {"zero_grad"}):
        v = _kw(call, "set_to_none") or (call.args[0] if call.args else None)
        if v is not None and _const(v, True):
            found.append(_line(call))
    loops = (ast.For, ast.While, ast.AsyncFor)
    dels, gc_calls = [], []
    for unit in src.step_units():
        for node in src.consts.iter_live(unit):
            if isinstance(node, ast.Delete):
                dels.append(node)
                if any(isinstance(a, loops) for a in src.ancestors(node)):
                    found.append(f"{_line(node)} (frees tensors inside the training loop)")
            elif isinstance(node, ast.Call) and src.qualname(node.func) == "gc.collect":
                gc_calls.append(node)
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Attribute) and t.attr == "grad" for t in node.targets) and _const(node.value, None):
                found.append(f"{_line(node)} (gradient set to None)")
    if gc_calls and dels:
        found.append(f"{_line(dels[0])} + {_line(gc_calls[0])}")
    return found


def find_offload(src: Source) -> list[str]:
    found = src.uses(OFFLOAD)
    found += [_line(c) for c in _method_calls(src, {"pin_memory"})]
    for node in src.walk():
        if isinstance(node, ast.Call) and _kw_is(node, "pin_memory", True):
            found.append(_line(node))
    return found


def find_compile(src: Source) -> list[str]:
    return src.uses(COMPILE)


def find_inplace(src: Source) -> list[str]:
    """In-place tensor methods (x.add_(y)) in the forward pass or training loop, torch.relu_-style
    functions, or inplace=True anywhere reachable (nn.ReLU(inplace=True) is built in __init__)."""
    units = src.step_units()
    found = [_line(c) for c in _method_calls(src, INPLACE_METHODS, units)]
    for node in src.walk(units):
        if isinstance(node, ast.Call):
            q = src.qualname(node.func) or ""
            if q.startswith("torch.") and q.rsplit(".", 1)[-1] in INPLACE_METHODS:
                found.append(_line(node))
    for node in src.walk():
        if isinstance(node, ast.Call) and _kw_is(node, "inplace", True):
            found.append(_line(node))
    return sorted(set(found))


TECHNIQUES = {
    "required_mixed_precision": (find_mixed_precision, "autocast / GradScaler / bfloat16 or float16 casts"),
    "required_gradient_checkpointing": (lambda s: s.uses(CHECKPOINT), "torch.utils.checkpoint"),
    "required_sdpa": (lambda s: s.uses(SDPA), "F.scaled_dot_product_attention"),
    "optional_gradient_accumulation": (find_gradient_accumulation, "gradient accumulation"),
    "optional_memory_efficient_optimizer": (find_memory_efficient_optimizer,
                                            "8-bit/paged optimizer, Adafactor, SGD without momentum, foreach=False, "
                                            "or the step fused into backward"),
    "optional_memory_management": (find_memory_management,
                                   "torch.cuda.empty_cache, zero_grad(set_to_none=True), del in the training loop, "
                                   "del + gc.collect"),
    "optional_cpu_offload_or_pinned_memory": (find_offload, "pin_memory / save_on_cpu / saved_tensors_hooks"),
    "optional_torch_compile": (find_compile, "torch.compile"),
    "optional_inplace_operations": (find_inplace, "in-place tensor ops or inplace=True in the forward pass / training loop"),
}


# Keyword names (in positional order) each API accepts in torch 1.13 through 2.x, and those it requires.
API_PARAMS = {
    "torch.cuda.amp.autocast": (["enabled", "dtype", "cache_enabled"], []),
    "torch.cpu.amp.autocast": (["enabled", "dtype", "cache_enabled"], []),
    "torch.autocast": (["device_type", "dtype", "enabled", "cache_enabled"], ["device_type"]),
    "torch.cuda.amp.GradScaler": (["init_scale", "growth_factor", "backoff_factor", "growth_interval", "enabled"], []),
    "torch.amp.GradScaler": (["device", "init_scale", "growth_factor", "backoff_factor", "growth_interval", "enabled"], []),
    "torch.nn.functional.scaled_dot_product_attention": (
        ["query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa"], ["query", "key", "value"]),
    "torch.compile": (["model", "fullgraph", "dynamic", "backend", "mode", "options", "disable"], []),
}


def find_api_misuse(src: Source) -> tuple[int, list[str]]:
    """Calls of the APIs above with arguments they do not take, e.g. torch.cuda.amp.autocast(device_type=...),
    found statically so that a call on a CUDA-only path is caught on a CPU grader too."""
    n, problems = 0, []
    for node in src.walk():
        if not isinstance(node, ast.Call):
            continue
        q = src.qualname(node.func)
        if q not in API_PARAMS:
            continue
        n += 1
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            continue  # *args / **kwargs: cannot tell statically
        params, required = API_PARAMS[q]
        given = list(params[: len(node.args)])
        if len(node.args) > len(params):
            problems.append(f"{_line(node)}: {q} takes at most {len(params)} positional arguments")
            continue
        for k in node.keywords:
            if k.arg not in params:
                problems.append(f"{_line(node)}: {q} has no parameter `{k.arg}`")
            elif k.arg in given:
                problems.append(f"{_line(node)}: `{k.arg}` given twice")
            given.append(k.arg)
        for r in required:
            if r not in given:
                problems.append(f"{_line(node)}: {q} needs `{r}`")
    return n, problems


def check_interface(tree) -> dict:
    name = "interface"
    want = {"build_model": 1, "train": 3}
    problems = []
    for fn_name, n_params in want.items():
        defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == fn_name]
        if not defs:
            problems.append(f"no top-level `def {fn_name}(...)`")
            continue
        fn = defs[-1]
        positional = fn.args.posonlyargs + fn.args.args
        required = len(positional) - len(fn.args.defaults)
        if len(positional) < n_params and not fn.args.vararg:
            problems.append(f"{fn_name} takes {len(positional)} positional parameters; it is called with {n_params}")
        elif required > n_params:
            problems.append(f"{fn_name} requires {required} parameters; it is called with {n_params}")
    if problems:
        return dict(name=name, passed=False, detail="; ".join(problems))
    return dict(name=name, passed=True, detail="defines build_model(config) and train(model, batches, config)")


def static_checks(source: bytes | None) -> list[dict]:
    tree, err = None, None
    if source is None:
        err = "submission file unreadable"
    else:
        tree, err = ec.parse_source(source)
    names = ["interface", *TECHNIQUES, "optional_count", "torch_api_arguments", "no_measurement_tampering"]
    if tree is None:
        return [dict(name=n, passed=False, detail=err) for n in names]
    checks = [check_interface(tree)]
    try:
        src = Source(tree)
    except Exception as e:  # noqa: BLE001
        return checks + [dict(name=n, passed=False, detail=f"could not analyse source: {type(e).__name__}: {e}")
                         for n in names[1:]]
    n_optional = 0
    for name, (finder, what) in TECHNIQUES.items():
        try:
            ev = sorted(set(finder(src)))
        except Exception as e:  # noqa: BLE001
            checks.append(dict(name=name, passed=False, detail=f"could not analyse: {type(e).__name__}: {e}"))
            continue
        if ev:
            n_optional += name in OPTIONAL
            shown = "; ".join(ev[:3]) + (f"; (+{len(ev) - 3} more)" if len(ev) > 3 else "")
            checks.append(dict(name=name, passed=True, detail=shown))
        else:
            checks.append(dict(name=name, passed=False,
                               detail=f"not used in code the grader runs ({what})"))
    checks.append(dict(name="optional_count", passed=n_optional >= MIN_OPTIONAL,
                       detail=f"{n_optional} of {len(OPTIONAL)} additional techniques used; at least {MIN_OPTIONAL} needed"))
    n_api, misuse = find_api_misuse(src)
    checks.append(dict(name="torch_api_arguments", passed=not misuse,
                       detail="; ".join(misuse[:4]) if misuse else
                       f"{n_api} calls of autocast / GradScaler / SDPA / torch.compile take arguments those APIs accept"))
    checks.append(ec.rules_check("no_measurement_tampering", tree, RULES,
                                 "only allowed imports and builtins: no peak-statistics resets, allocator swaps, "
                                 "torch._C, patching of torch, files or other processes"))
    return checks
