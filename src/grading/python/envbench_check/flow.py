"""Interprocedural value flow within one module, for static checks that read a submission's AST (trusted code:
the submission is parsed, never run).

Real code rarely hands a value straight to the call a check looks at. It builds it in a helper and returns it,
wraps a function in `functools.partial`, collects keyword arguments in a dict passed as `**kw`, or makes the
call in a helper that a loop calls. `Flow` follows those idioms, within the module, to a bounded depth:

    flow = Flow(tree)                      # tree: ast.Module; optional qualname= and branch= (below)
    vals = flow.values(expr)               # [Value]: the expressions `expr` may evaluate to
    vals = flow.keyword(call, "sampler")   # [Value]: what keyword `sampler` of a call is, `**kw` dicts included
    p = flow.partial(value)                # Partial(func, keywords) or None: functools.partial unwrapped
    fn = flow.function(value)              # the def or lambda a value is, or None
    for c in flow.calls_from(node): ...    # [Value] of every ast.Call a run of `node` executes, descending
                                           # into the module's functions it calls, arguments bound
    flow.derives_from(value, names, scope) # whether a value is computed from these names of that scope

A `Value` is an expression together with where it is evaluated: `node` (the ast node), `scope` (the enclosing
def, or None for the module), `env` (parameter name -> [Value] bound at the call site that led here), `at`
(the node whose position decides which assignments reach it) and `via` (the chain of helper calls it was
returned through). A value the analysis cannot see through is returned as itself (a Name it cannot resolve,
a call of something outside the module), so callers test `value.node` and never get an exception.

What is followed:
  - names: the assignments in the name's scope that reach the point of use (the last one in straight-line
    code, plus any in a branch or loop after it), else the module's assignments; a parameter resolves to the
    argument bound at the call site, or, without one, to the arguments of every call of that function in the
    module; tuple unpacking of a tuple literal; `with ... as name`.
  - calls of the module's own functions (top-level or nested defs): every live `return` value, with
    arguments bound to parameters (positional, keyword, defaults). A function that can end without a
    return also yields `None`, so a caller can insist on every outcome (`via` groups them).
  - `functools.partial(f, ...)` (or `partial` imported by name), nested partials merged.
  - dicts: literals (`**` spreads included), `dict(...)`, `kw.update({...})`, `kw.update(k=v)`, `kw[k] = v`,
    `kw |= {...}`, `del kw[k]`, `kw.pop(k)`, `kw.setdefault(k, v)`, `kw.clear()`, in order and wherever they
    stand (`_ = kw.pop(k)` too); a write in a branch, a loop, a comprehension or after `and`/`or` adds a
    possibility, one in straight-line code replaces; within a scope, names that alias one dict (`a = kw`,
    `(a := kw)`) share its writes. A call of one of the module's functions replays, where it is made, what
    that function does to the dict, whether it is handed the dict (`patch(kw)`) or uses its name freely (a
    module-level dict, a closure's), through the functions it calls in turn; a class body counts where the
    class is defined, a default argument where its def runs. Every other use that could change the dict
    leaves each of its keys unknown (`...`) from there on: a method or function outside the module
    (`kw.__setitem__`, `operator.setitem(kw, ...)`), a computed key, the dict stored in a container or an
    attribute, a module-level dict handed out by `return`, a function that writes it handed on rather than
    called (a callback, a thread, a decorator that is not a plain wrapper), `globals()`, `locals()`,
    `eval`, `exec`, a computed `getattr`, the module reached as an object (`__main__.kw`), and, anywhere in
    the module, frame or garbage-collector introspection, a helper that returns the dict it was handed unless
    its result is dropped or bound back (`kw = fill(kw)`). Merging in keys the flow cannot name (pairs, a
    comprehension, a computed key, a dict built outside the module) makes every key already set unknown;
    a key set after that is known again. Reads (`kw[k]`, `kw.get`, `in`, `len`, `print`, logging,
    `json.dumps`, iteration, `**kw`, `dict(kw)`, `kw.copy()`, `other.update(kw)`) leave it as it is.
  - `a if c else b` and `a or b`: both.
  - classes of the module: `self.m(...)` and `obj.m(...)` (obj built as `Cls(...)` in the module, or a
    parameter bound to one) call the method found on the class or its bases in the module, `self` inside it
    resolving to the class that defines it; `self.x` (and `obj.x`) is what the class's methods assign to it:
    in the method that reads it, its own writes and its `self.k(...)` calls of methods that write it, replayed
    in order before the read (in straight-line code each replaces, in a branch or loop each adds a
    possibility); with none of those, every assignment in any method, and class-level `x = ...`. A method's
    parameters bind to the arguments of its calls, `Cls(...)` included for `__init__`.
Dead code is skipped: statements after an unconditional `return`/`raise`/`break`/`continue`, and branches the
optional `branch(test) -> True | False | None` callback folds (constant conditions are another module's job;
pass its folding function here).

Limits: depth (`max_depth`, default 6) bounds every chain, and recursion ends there; `max_work` (default 20,000
steps; a 200-line conversion takes a few hundred) bounds the whole analysis of a module, after which `flow.exhausted` is true and answers are opaque; attributes of
objects other than the module's classes (`args.x` from argparse, `cfg.x` of a namespace) are not followed; an
attribute or method also written from outside its class's methods (`obj.x = v`, `Cls.m = f`, `setattr`,
`__dict__`, `vars()`) is opaque rather than taken from the writes the flow sees; a dict held in an attribute
(`self.kw = {...}`, then `**self.kw`) is not followed, nor a dict reached through a container; a decorated
function is taken to be called as written (a decorator that replaces what it does is not followed); a name
assigned in a loop is taken as possibly any of its assignments. Nothing here raises on an odd AST: unknown shapes are opaque.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Callable, Iterator

FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
BRANCHING = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.ExceptHandler, ast.IfExp) + \
    ((ast.match_case,) if hasattr(ast, "match_case") else ())
TERMINAL = (ast.Return, ast.Raise, ast.Break, ast.Continue)
PARTIAL = "functools.partial"
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
# a dict's methods and the calls given a dict that cannot change it
DICT_READS = frozenset({"get", "keys", "values", "items", "copy", "__contains__", "__len__", "__getitem__",
                        "__iter__", "__repr__", "__str__", "__format__", "__eq__", "__ne__", "__or__", "__ror__",
                        "__reversed__", "__sizeof__"})
PURE_BUILTINS = frozenset({"print", "len", "str", "repr", "ascii", "bool", "list", "tuple", "sorted", "set",
                           "frozenset", "dict", "isinstance", "id", "type", "hash", "format", "iter", "any", "all",
                           "enumerate", "zip", "reversed", "min", "max"})
PURE_CALLS = frozenset({"json.dumps", "json.dump", "pprint.pprint", "pprint.pformat", "copy.copy", "copy.deepcopy",
                        "logging.debug", "logging.info", "logging.warning", "logging.error", "logging.critical",
                        "logging.exception", "logging.log"})
# decorators that only wrap a function, to run when it is called: its calls are where its writes happen
PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod", "property", "torch.no_grad", "torch.inference_mode",
                              "torch.enable_grad", "functools.wraps", "functools.lru_cache", "functools.cache",
                              "contextlib.contextmanager",
                              "torch.distributed.elastic.multiprocessing.errors.record"})
# calls that reach a dict by a name the flow does not see, and what reaches any object of a run
REFLECTION = frozenset({"globals", "locals", "vars", "eval", "exec", "compile", "__import__", "getattr", "setattr",
                        "delattr", "hasattr"})
# attributes only frames have, whatever object they are read from; and the calls and modules that reach frames
# or every live object (by qualified name: `model.modules()` and `torch.stack` are not these)
FRAME_ATTRS = frozenset({"f_locals", "f_globals", "f_back", "f_builtins", "gi_frame", "cr_frame", "ag_frame",
                         "tb_frame", "_getframe", "currentframe"})
INTROSPECTION_NAMES = frozenset({"sys.modules", "sys._getframe", "inspect.currentframe", "inspect.stack",
                                 "inspect.trace", "inspect.getouterframes", "inspect.getinnerframes",
                                 "gc.get_objects", "gc.get_referrers", "gc.get_referents"})
INTROSPECTION = FRAME_ATTRS | {q.rsplit(".", 1)[1] for q in INTROSPECTION_NAMES}  # words, for _touchers
LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})
_MISSING = object()
UNKNOWN_KEYS = "\0unknown keys"  # in a dict state: keys the flow cannot name, holding values it cannot know


@dataclass(eq=False)
class Value:
    node: ast.AST
    scope: ast.AST | None = None
    env: dict = field(default_factory=dict)
    at: ast.AST | None = None
    via: tuple = ()

    def const(self):
        """The literal this value is (ast.Constant), else the _MISSING marker."""
        return self.node.value if isinstance(self.node, ast.Constant) else _MISSING


@dataclass(eq=False)
class Partial:
    func: Value
    keywords: dict  # name -> Value


def is_const(v: Value, const) -> bool:
    return isinstance(v.node, ast.Constant) and v.node.value is const if const in (None, True, False) \
        else isinstance(v.node, ast.Constant) and v.node.value == const


class Flow:
    def __init__(self, tree: ast.Module, qualname: Callable | None = None,
                 branch: Callable | None = None, max_depth: int = 6, max_work: int = 20_000):
        self.tree = tree
        self.max_depth = max_depth
        self.max_work = max_work  # steps for the whole analysis of this module; then everything is opaque
        self.work = 0
        self.branch = branch or (lambda test: None)
        self.parents: dict[int, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node
        self.aliases = _import_aliases(tree)
        self._qualname = qualname
        self._writes: dict[int, dict[str, list]] = {}
        self._live: dict[int, bool] = {}
        self._events: dict[tuple, list] = {}
        self._defs: dict[int, dict] = {}  # scope -> its defs by name
        self._building = 0  # how deep _dict_events calls nest
        self._plain_callees: dict[int, object] = {}  # call -> its callee, resolved with no call context
        self._mentions: list | None = None  # (def, the words its code uses, the names it is bound to)
        self._toucher_memo: dict[str, set] = {}
        self._introspection: bool | None = None  # whether the module reaches objects through frames or gc
        self._slots: dict[int, tuple] = {}  # statement -> (parent, block field, index)
        self._first_terminal: dict[tuple, int] = {}
        for node in ast.walk(tree):
            for fname in ("body", "orelse", "finalbody"):
                block = getattr(node, fname, None)
                if isinstance(block, list):
                    for i, st in enumerate(block):
                        self._slots[id(st)] = (node, fname, i)
                        if isinstance(st, TERMINAL) and (id(node), fname) not in self._first_terminal:
                            self._first_terminal[(id(node), fname)] = i
        self._callees: dict[int, object] = {}
        self._attrs: dict[int, dict[str, list]] = {}  # class -> attribute -> [(stmt, value, method or class)]
        self._foreign: tuple[set, bool] | None = None  # attribute names written where the flow does not look

    # -- names and scopes -------------------------------------------------------------------------------------

    def qualname(self, node) -> str | None:
        """The dotted name an expression refers to through imports ("functools.partial"), else None."""
        if self._qualname is not None:
            try:
                return self._qualname(node)
            except Exception:  # noqa: BLE001
                return None
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def scope_of(self, node) -> ast.AST | None:
        """The def (or lambda, or class) whose body holds node; None for the module."""
        p = self.parents.get(id(node))
        while p is not None:
            if isinstance(p, SCOPES):
                return p
            p = self.parents.get(id(p))
        return None

    def function_def(self, name: str, scope) -> ast.AST | None:
        """The def `name` refers to from `scope`: a def nested in an enclosing function, else a top-level one."""
        s = scope
        for _ in range(50):
            key = id(s) if s is not None else 0
            defs = self._defs.get(key)
            if defs is None:
                body = self.tree.body if s is None else getattr(s, "body", [])
                defs = {st.name: st for st in body if isinstance(st, FUNCS)} if isinstance(body, list) else {}
                self._defs[key] = defs  # a later def of the same name wins, as the last binding would
            if name in defs:
                return defs[name]
            if s is None:
                return None
            s = self.scope_of(s)
        return None

    def _scope_writes(self, scope) -> dict[str, list]:
        """name -> [(stmt-ish node, value node or None, kind)] for the bindings made directly in scope."""
        key = id(scope) if scope is not None else 0
        if key in self._writes:
            return self._writes[key]
        out: dict[str, list] = {}

        def add(name, node, value, kind="assign"):
            out.setdefault(name, []).append((node, value, kind))

        def bind_target(t, value, node, item=None):
            if isinstance(t, ast.Name):
                if item is not None:  # `a, b = helper()`: element i of what the helper returns
                    add(t.id, node, (value, item), "item")
                else:
                    add(t.id, node, value)
            elif isinstance(t, ast.Starred):
                bind_target(t.value, None, node)
            elif isinstance(t, (ast.Tuple, ast.List)):
                starred = any(isinstance(e, ast.Starred) for e in t.elts)
                vals = value.elts if isinstance(value, (ast.Tuple, ast.List)) and \
                    len(value.elts) == len(t.elts) and not any(isinstance(e, ast.Starred) for e in value.elts) else None
                for i, e in enumerate(t.elts):
                    if vals:
                        bind_target(e, vals[i], node)
                    elif isinstance(value, ast.Call) and not starred and item is None:
                        bind_target(e, value, node, i)
                    else:
                        bind_target(e, None, node)

        root = self.tree if scope is None else scope
        if isinstance(root, ast.Lambda):
            self._writes[key] = out
            return out
        todo = list(ast.iter_child_nodes(root))
        while todo:
            n = todo.pop()
            if isinstance(n, SCOPES):
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    add(n.name, n, n, "def")
                continue
            if isinstance(n, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                continue
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    bind_target(t, n.value, n)
            elif isinstance(n, ast.AnnAssign) and n.value is not None:
                bind_target(n.target, n.value, n)
            elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
                add(n.target.id, n, None, "aug")
            elif isinstance(n, (ast.For, ast.AsyncFor)):
                bind_target(n.target, None, n)
            elif isinstance(n, ast.withitem) and n.optional_vars is not None:
                bind_target(n.optional_vars, n.context_expr, self.parents.get(id(n), n))
            elif isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name):
                add(n.target.id, n, n.value)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                for a in n.names:
                    add((a.asname or a.name).split(".")[0], n, None, "import")
            todo.extend(ast.iter_child_nodes(n))
        self._writes[key] = out
        return out

    def _conditional(self, node, scope, at) -> bool:
        """Whether node, inside scope, sits in a branch or loop that does not also hold `at`: a branch's or
        loop's body, not its test or (for `for`) its iterable, which always run; an operand of `and`/`or` after
        the first; a comprehension's element, condition or any iterable but the first."""
        at_anc = {id(a) for a in self._ancestors(at)} if at is not None else set()
        child = node
        for a in self._ancestors(node):
            if a is scope or (scope is None and a is self.tree):
                return False
            if id(a) not in at_anc:
                always = isinstance(a, (ast.If, ast.While, ast.IfExp)) and child is a.test or \
                    isinstance(a, (ast.For, ast.AsyncFor)) and child is a.iter
                if isinstance(a, BRANCHING) and not always:
                    return True
                if isinstance(a, ast.BoolOp) and child is not a.values[0]:
                    return True
                if isinstance(a, ast.comprehension) and not (child is a.iter and self._first_generator(a)):
                    return True
                if isinstance(a, COMPREHENSIONS) and not isinstance(child, ast.comprehension):
                    return True
                if isinstance(a, ast.Try) and any(node is s or self._inside(node, s) for s in a.orelse):
                    return True
            child = a
        return False

    def _first_generator(self, g) -> bool:
        p = self.parents.get(id(g))
        return isinstance(p, COMPREHENSIONS) and p.generators[0] is g

    def _inside(self, node, container) -> bool:
        return any(a is container for a in self._ancestors(node))

    def _ancestors(self, node) -> Iterator[ast.AST]:
        p = self.parents.get(id(node))
        while p is not None:
            yield p
            p = self.parents.get(id(p))

    def _reaching(self, writes: list, scope, at) -> list:
        """Of a name's writes in one scope, those that may reach `at`: the last unconditional one before it,
        and every conditional one after that. Without a position (use from another scope), all of them."""
        live = [w for w in writes if self.live(w[0])]
        if at is None or scope is None and self.scope_of(at) is not None:
            return live
        pos = _pos(at)
        def precedes(w) -> bool:  # `x = f(x)`: the x read on the right is the previous binding
            if self._inside(at, w[0]):
                return isinstance(w[0], (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith))
            return _pos(w[0]) < pos
        before = sorted((w for w in live if precedes(w)), key=lambda w: _pos(w[0]))
        if not before:
            return [w for w in live if self._in_loop_with(w[0], at)]  # assigned later in a loop around the use
        out = []
        for w in reversed(before):
            out.append(w)
            if not self._conditional(w[0], scope, at):
                break
        return list(reversed(out))

    def _in_loop_with(self, node, at) -> bool:
        at_anc = {id(a) for a in self._ancestors(at)}
        return any(isinstance(a, (ast.For, ast.While, ast.AsyncFor)) and id(a) in at_anc for a in self._ancestors(node))

    # -- liveness ---------------------------------------------------------------------------------------------

    def live(self, node) -> bool:
        """False when node is dead code: after an unconditional return/raise/break/continue in its block, or
        in a branch the `branch` callback folds away. Memoized per node (amortized O(1))."""
        chain, cur = [], node
        while True:
            k = id(cur)
            if k in self._live:
                result = self._live[k]
                break
            chain.append(cur)
            a = self.parents.get(k)
            if a is None:
                result = True
                break
            if not self._live_here(cur, a):
                result = False  # cur is dead, and so is everything below it on the chain
                break
            if isinstance(a, SCOPES) or a is self.tree:
                result = True
                break
            cur = a
        for c in chain:
            self._live[id(c)] = result
        return result

    def _live_here(self, child, a) -> bool:
        """Whether child is live within its parent a alone (its block, a's folded test)."""
        slot = self._slots.get(id(child))
        if slot is not None and slot[0] is a:
            _, fname, idx = slot
            first = self._first_terminal.get((id(a), fname))
            if first is not None and first < idx:
                return False
            if isinstance(a, (ast.If, ast.While)) and fname in ("body", "orelse"):
                try:
                    truth = self.branch(a.test)
                except Exception:  # noqa: BLE001
                    truth = None
                if (truth is False and fname == "body") or (truth is True and fname == "orelse" and isinstance(a, ast.If)):
                    return False
        if isinstance(a, ast.IfExp) and child is not a.test:
            try:
                truth = self.branch(a.test)
            except Exception:  # noqa: BLE001
                truth = None
            if (truth is False and child is a.body) or (truth is True and child is a.orelse):
                return False
        return True

    def returns(self, fn) -> tuple[list, bool]:
        """(the live `return` value nodes of a def, and whether it can end without returning a value)."""
        if isinstance(fn, ast.Lambda):
            return [fn.body], False
        if not isinstance(fn, FUNCS):
            return [], True
        vals = []
        todo = list(fn.body)
        while todo:
            n = todo.pop()
            if isinstance(n, SCOPES):
                continue
            if isinstance(n, ast.Return) and self.live(n):
                vals.append(n.value if n.value is not None else ast.Constant(value=None))
            todo.extend(c for c in ast.iter_child_nodes(n) if isinstance(c, (ast.stmt, ast.excepthandler)) or
                        (hasattr(ast, "match_case") and isinstance(c, ast.match_case)))
        vals.sort(key=_pos)
        return vals, not self._always_returns(fn.body)

    def _always_returns(self, block) -> bool:
        for s in block:
            if not self.live(s):
                continue
            if isinstance(s, (ast.Return, ast.Raise)):
                return True
            if isinstance(s, ast.If):
                try:
                    truth = self.branch(s.test)
                except Exception:  # noqa: BLE001
                    truth = None
                if truth is True and self._always_returns(s.body) or truth is False and self._always_returns(s.orelse):
                    return True
                if s.orelse and self._always_returns(s.body) and self._always_returns(s.orelse):
                    return True
            if isinstance(s, (ast.With, ast.AsyncWith)) and self._always_returns(s.body):
                return True
            if isinstance(s, ast.Try) and self._always_returns(s.body + s.orelse) and \
                    all(self._always_returns(h.body) for h in s.handlers):
                return True
            if isinstance(s, ast.While) and isinstance(s.test, ast.Constant) and s.test.value is True and \
                    not any(isinstance(n, ast.Break) for n in ast.walk(s)):
                return True
        return False

    # -- values -----------------------------------------------------------------------------------------------

    def value(self, node, at=None) -> Value:
        """node as a Value in its own scope, positioned at itself."""
        return Value(node, self.scope_of(node), {}, at if at is not None else node)

    def values(self, expr, depth: int = 0) -> list[Value]:
        """The expressions `expr` (an ast node or a Value) may evaluate to, as Values (opaque ones included)."""
        v = expr if isinstance(expr, Value) else self.value(expr)
        out: list[Value] = []
        self._values(v, depth, out, set())
        return out

    @property
    def exhausted(self) -> bool:
        return self.work > self.max_work

    def spent(self) -> bool:
        """Counts one step; True once the analysis has used its budget (a hostile fan-out of helpers calling
        helpers must not stall a grader): from then on values are opaque, dicts empty, and no calls are reached."""
        self.work += 1
        return self.work > self.max_work

    def _values(self, v: Value, depth: int, out: list, seen: set):
        key = (id(v.node), id(v.env), id(v.at))
        if key in seen or len(out) > 200:
            return
        if self.spent():
            out.append(v)
            return
        seen.add(key)
        n = v.node
        if depth >= self.max_depth:
            out.append(v)
            return
        if isinstance(n, ast.Name):
            res = self._resolve_name(v, depth)
            if res is None:
                out.append(v)
                return
            for r in res:
                if r is v:
                    out.append(v)
                else:
                    self._values(r, depth + 1, out, seen)
            return
        if isinstance(n, ast.IfExp):
            for b in (n.body, n.orelse):
                if self.live(b):
                    self._values(Value(b, v.scope, v.env, v.at, v.via), depth + 1, out, seen)
            return
        if isinstance(n, ast.BoolOp) and isinstance(n.op, ast.Or):
            for b in n.values:
                self._values(Value(b, v.scope, v.env, v.at, v.via), depth + 1, out, seen)
            return
        if isinstance(n, ast.NamedExpr):
            self._values(Value(n.value, v.scope, v.env, v.at, v.via), depth + 1, out, seen)
            return
        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load):
            res = self._attribute(v, depth)
            if res:
                for r in res:
                    self._values(r, depth + 1, out, seen)
                return
        if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute)):
            fn = self._callee(v)
            if fn is not None and isinstance(fn, FUNCS):
                env = self.bind(v, fn, depth)
                rets, falls_off = self.returns(fn)
                via = v.via + (n,)
                for r in rets:
                    self._values(Value(r, fn, env, r, via), depth + 1, out, seen)
                if falls_off:
                    out.append(Value(ast.Constant(value=None), fn, env, fn, via))
                return
        out.append(v)

    def _callee(self, v: Value):
        """The module's def (or lambda) a call's function name resolves to, else None."""
        n = v.node
        if not isinstance(n, ast.Call):
            return None
        cacheable = isinstance(n.func, ast.Name) and n.func.id not in v.env  # not a function passed in
        if cacheable and id(n) in self._callees:
            return self._callees[id(n)]
        found = None
        fv = Value(n.func, v.scope, v.env, v.at, v.via)
        for f in self.values(fv, depth=self.max_depth - 2):
            if isinstance(f.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                found = f.node
                break
        if cacheable and not self.exhausted:
            self._callees[id(n)] = found
        return found

    def _resolve_name(self, v: Value, depth: int) -> list[Value] | None:
        name = v.node.id
        if name in v.env:
            return v.env[name]
        s = v.scope
        first = True
        while True:
            if s is not None and not isinstance(s, ast.ClassDef) or s is None:
                if s is not None and name in _params(s):
                    if first:
                        return self._callers_args(s, name, depth)
                    return None
                writes = self._scope_writes(s).get(name)
                if writes:
                    at = v.at if first else None
                    res = []
                    for node, value, kind in self._reaching(writes, s, at):
                        if kind == "def":
                            res.append(Value(value, self.scope_of(value), {}, value))
                        elif value is None:  # an import, a loop target, `x += ...`: opaque, the name itself
                            res.append(v)
                        elif kind == "item":
                            res.extend(self._element(Value(value[0], s, v.env if s is v.scope else {}, node, v.via),
                                                     value[1], depth, v))
                        else:
                            res.append(Value(value, s, v.env if s is v.scope else {}, node, v.via))
                    return res or None
            if s is None:
                return None
            s = self.scope_of(s)
            first = False

    def _element(self, call: Value, i: int, depth: int, name: Value) -> list[Value]:
        """Element i of each tuple a call may return; the name itself (opaque) where it is not a tuple literal."""
        out = []
        for r in self.values(call, depth + 1):
            if isinstance(r.node, (ast.Tuple, ast.List)) and i < len(r.node.elts) and \
                    not any(isinstance(e, ast.Starred) for e in r.node.elts):
                out.append(Value(r.node.elts[i], r.scope, r.env, r.at, r.via))
            else:
                out.append(name)
        return out

    # -- classes: methods and attributes ------------------------------------------------------------------------

    def _self_class(self, name: str, scope) -> ast.ClassDef | None:
        """The class whose method binds `name` as its first parameter (`self`), seen from scope (the method or
        a def nested in it that does not rebind the name); None for anything else."""
        s = scope
        for _ in range(50):
            if s is None or isinstance(s, ast.ClassDef):
                return None
            parent = self.scope_of(s)
            if isinstance(s, FUNCS) and isinstance(parent, ast.ClassDef) and _first_param(s) == name and \
                    not _decorated(s, "staticmethod"):
                return parent
            if name in _params(s) or name in self._scope_writes(s):
                return None
            s = parent
        return None

    def _receiver_classes(self, r: Value, depth: int) -> list[tuple[ast.ClassDef, bool]]:
        """The module's classes the receiver of an attribute may be, each with whether it is an instance
        (`self`, `Cls(...)`) rather than the class itself (`Cls`)."""
        n = r.node
        if isinstance(n, ast.Name) and n.id not in r.env:
            cls = self._self_class(n.id, r.scope)
            if cls is not None:
                return [(cls, True)]
        out = []
        for x in self.values(r, depth + 1):
            if isinstance(x.node, ast.ClassDef):
                out.append((x.node, False))
            elif isinstance(x.node, ast.Name) and x.node.id not in x.env:
                cls = self._self_class(x.node.id, x.scope)
                if cls is not None:
                    out.append((cls, True))
            elif isinstance(x.node, ast.Call):
                for f in self.values(Value(x.node.func, x.scope, x.env, x.at, x.via), depth + 1):
                    if isinstance(f.node, ast.ClassDef):
                        out.append((f.node, True))
        return out

    def _mro(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        """cls, then its bases that are classes of the module, depth first, each once."""
        out, todo = [], [cls]
        while todo and len(out) < 20:
            c = todo.pop(0)
            if any(c is o for o in out):
                continue
            out.append(c)
            for b in c.bases:
                if isinstance(b, ast.Name):
                    for w in self._scope_writes(self.scope_of(c)).get(b.id, []):
                        if w[2] == "def" and isinstance(w[1], ast.ClassDef):
                            todo.append(w[1])
        return out

    def method(self, cls: ast.ClassDef, name: str) -> ast.AST | None:
        """The def `name` on cls or its module bases (the last one in a class body wins); None when the name is
        written where the flow does not follow it (`Cls.m = other`, setattr, __dict__)."""
        if self._unseen(name):
            return None
        for c in self._mro(cls):
            found = [st for st in c.body if isinstance(st, FUNCS) and st.name == name and self.live(st)]
            if found:
                return found[-1]
        return None

    def _attr_writes(self, cls: ast.ClassDef) -> dict[str, list]:
        """attribute -> [(stmt, value node, the method or class whose body assigns it)], for cls and its
        bases: `self.x = v` (and `self.x: T = v`, `self.a, self.b = p, q`) in methods, `x = v` in the body."""
        cached = self._attrs.get(id(cls))
        if cached is not None:
            return cached
        out: dict[str, list] = {}
        for c in self._mro(cls):
            for st in c.body:
                if isinstance(st, (ast.Assign, ast.AnnAssign)) and st.value is not None and self.live(st):
                    for t in (st.targets if isinstance(st, ast.Assign) else [st.target]):
                        if isinstance(t, ast.Name):
                            out.setdefault(t.id, []).append((st, st.value, c))
            for m in c.body:
                if not isinstance(m, FUNCS) or _decorated(m, "staticmethod"):
                    continue
                me = _first_param(m)
                todo = list(m.body)
                while todo:
                    st = todo.pop()
                    if isinstance(st, SCOPES):
                        continue
                    if isinstance(st, (ast.Assign, ast.AnnAssign)) and st.value is not None and self.live(st):
                        for t in (st.targets if isinstance(st, ast.Assign) else [st.target]):
                            pairs = [(t, st.value)]
                            if isinstance(t, (ast.Tuple, ast.List)) and isinstance(st.value, (ast.Tuple, ast.List)) \
                                    and len(t.elts) == len(st.value.elts):
                                pairs = list(zip(t.elts, st.value.elts))
                            for tt, val in pairs:
                                if isinstance(tt, ast.Attribute) and isinstance(tt.value, ast.Name) and tt.value.id == me:
                                    out.setdefault(tt.attr, []).append((st, val, m))
                    if isinstance(st, ast.Expr) and self.live(st) and _setattr_on(st.value, me) is not None:
                        name = _setattr_on(st.value, me)
                        if isinstance(name, str):
                            out.setdefault(name, []).append((st, st.value.args[2], m))
                    todo.extend(ast.iter_child_nodes(st))
        self._attrs[id(cls)] = out
        return out

    def _attribute(self, v: Value, depth: int) -> list[Value] | None:
        """What `recv.attr` may be when recv is one of the module's classes or its instances: a method (as its
        def), or the values its class's methods assign to it (see the module docstring); None otherwise."""
        n = v.node
        if depth >= self.max_depth - 1:
            return None
        if self._unseen(n.attr):
            return None
        classes = self._receiver_classes(Value(n.value, v.scope, v.env, v.at, v.via), depth)
        res: list[Value] = []
        for cls, _instance in classes:
            writes = self._attr_writes(cls).get(n.attr, [])
            if not writes:
                m = self.method(cls, n.attr)
                if m is not None:
                    res.append(Value(m, self.scope_of(m), {}, m))
                continue
            reading = self._enclosing_method(v.scope, cls)
            chosen = self._replay_attr(reading, cls, n.attr, v.at) if reading is not None else None
            for st, val, where in (writes if chosen is None else chosen):
                res.append(Value(val, where if isinstance(where, FUNCS) else self.scope_of(where),
                                 v.env if where is v.scope else {}, st, v.via))
        return res or None

    def _unseen(self, attr: str) -> bool:
        """Whether attribute `attr` may be written where _attr_writes does not look: `obj.attr = v` (or del, or
        augmented) anywhere but directly in a method through its own `self`, `setattr`/`delattr` naming it, and
        for every name, a setattr/delattr with a computed name or any use of `__dict__` or `vars()`. Such an
        attribute, or method, is opaque: a hidden write must not leave a visible one standing."""
        if self._foreign is None:
            names, wildcard = set(), False
            for n in ast.walk(self.tree):
                targets = n.targets if isinstance(n, (ast.Assign, ast.Delete)) else \
                    [n.target] if isinstance(n, (ast.AnnAssign, ast.AugAssign)) else []
                for t in targets:
                    for a in (ast.walk(t) if isinstance(t, (ast.Tuple, ast.List)) else [t]):
                        if isinstance(a, ast.Attribute) and not self._own_self_write(a, n):
                            names.add(a.attr)
                if isinstance(n, ast.Attribute) and n.attr == "__dict__":
                    wildcard = True
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
                    if n.func.id == "vars":
                        wildcard = True
                    elif n.func.id in ("setattr", "delattr"):
                        key = n.args[1] if len(n.args) > 1 else None
                        if isinstance(key, ast.Constant) and isinstance(key.value, str):
                            st = self._statement(n)
                            if n.func.id == "delattr" or not (isinstance(st, ast.Expr) and st.value is n and
                                                              self._own_self_write(n.args[0], st)):
                                names.add(key.value)
                        else:
                            wildcard = True
            self._foreign = (names, wildcard)
        names, wildcard = self._foreign
        return wildcard or attr in names

    def _own_self_write(self, target, stmt) -> bool:
        """Whether `self.x` (target, or setattr's object) is written directly in a method through that method's
        own first parameter, where _attr_writes sees it."""
        recv = target.value if isinstance(target, ast.Attribute) else target
        m = self.scope_of(stmt)
        return isinstance(recv, ast.Name) and isinstance(m, FUNCS) and isinstance(self.scope_of(m), ast.ClassDef) \
            and recv.id == _first_param(m) and not _decorated(m, "staticmethod")

    def _enclosing_method(self, scope, cls: ast.ClassDef):
        s = scope
        for _ in range(50):
            if s is None:
                return None
            parent = self.scope_of(s)
            if parent is cls and isinstance(s, FUNCS):
                return s
            s = parent
        return None

    def _replay_attr(self, m, cls: ast.ClassDef, attr: str, at) -> list | None:
        """What `self.attr` holds at `at` inside method m, replaying in order m's own writes and its calls
        `self.k(...)` of methods that write it (one level: their own writes): a write or call in straight-line
        code replaces, one in a branch or loop adds a possibility. None when nothing in m before `at` writes it
        (then every write of the class counts)."""
        writes = self._attr_writes(cls).get(attr, [])
        me = _first_param(m)
        events = []
        for st, val, where in writes:
            if where is m and self.live(st):
                events.append((st, [(st, val, where)], not self._conditional(st, m, at)))
        for n in _walk_scope(m):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) \
                    and n.func.value.id == me and self.live(self._statement(n)):
                f = self.method(cls, n.func.attr)
                theirs = [w for w in writes if w[2] is f] if f is not None and f is not m else []
                if theirs:
                    # the callee's writes as they stand when it returns: its last straight-line one and any after
                    ordered = sorted(theirs, key=lambda w: _pos(w[0]))
                    keep, replaces = [], False
                    for w in reversed(ordered):
                        keep.append(w)
                        if not self._conditional(w[0], f, None):
                            replaces = True
                            break
                    events.append((n, list(reversed(keep)), replaces and not self._conditional(n, m, at)))
        pos = _pos(at) if at is not None else (1 << 30, 0)
        before = sorted((e for e in events if _pos(e[0]) < pos and not self._inside(at, e[0])), key=lambda e: _pos(e[0]))
        if not before:
            return None
        state: list = []
        for _node, ws, replaces in before:
            state = list(ws) if replaces else state + list(ws)
        return state

    def _statement(self, node):
        """The statement that holds an expression node."""
        cur = node
        while cur is not None and not isinstance(cur, ast.stmt):
            cur = self.parents.get(id(cur))
        return cur if cur is not None else node

    def _callers_args(self, fn, name: str, depth: int) -> list[Value] | None:
        """What parameter `name` of fn is bound to at each of the module's calls of fn (no call context known)."""
        if isinstance(fn, ast.Lambda) or depth >= self.max_depth - 1:
            return None
        res = []
        for call in self.calls_of(fn):
            cv = self.value(call)
            bound = self.bind(cv, fn, depth).get(name)
            if bound:
                res.extend(bound)
        return res or None

    def calls_of(self, fn) -> list[ast.Call]:
        """The module's calls of fn: `fn(...)` by its name where that name resolves to fn; for a method,
        `recv.fn(...)` where the receiver is its class or an instance of it; for `__init__`, `Cls(...)`."""
        name = getattr(fn, "name", None)
        out = []
        if name is None:
            return out
        owner = self.scope_of(fn)
        method = isinstance(owner, ast.ClassDef)
        for n in ast.walk(self.tree):
            if not isinstance(n, ast.Call):
                continue
            if isinstance(n.func, ast.Name):
                if not method and n.func.id == name and self.function_def(name, self.scope_of(n)) is fn:
                    out.append(n)
                elif method and name == "__init__" and n.func.id == owner.name and \
                        any(isinstance(f.node, ast.ClassDef) and self.method(f.node, "__init__") is fn
                            for f in self.values(Value(n.func, self.scope_of(n), {}, n), self.max_depth - 2)):
                    out.append(n)
            elif method and isinstance(n.func, ast.Attribute) and n.func.attr == name and \
                    self._callee(self.value(n)) is fn:
                out.append(n)
        return out

    def bind(self, call: Value, fn, depth: int = 0) -> dict[str, list]:
        """Parameter name -> [Value] for a call of fn: positional and keyword arguments, else defaults."""
        env: dict[str, list] = {}
        c = call.node
        if not isinstance(c, ast.Call) or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return env
        a = fn.args
        positional = [p.arg for p in list(getattr(a, "posonlyargs", [])) + list(a.args)]
        mk = lambda e: Value(e, call.scope, call.env, call.at, call.via)  # noqa: E731
        constructor = isinstance(c.func, ast.Name) and getattr(fn, "name", None) == "__init__" and \
            isinstance(self.scope_of(fn), ast.ClassDef)
        if positional and (constructor or isinstance(c.func, ast.Attribute) and self._bound_call(call, fn, depth)):
            # self (or cls) is the receiver. It is left unbound: inside the method it resolves to the method's
            # own class (_self_class), so a chain of self.a() -> self.b() -> ... costs one step per level, not one
            # per level above it (a bound self would resolve through every caller's self in turn).
            positional = positional[1:]
        args = list(c.args)
        for i, e in enumerate(args):
            if isinstance(e, ast.Starred):
                break
            if i < len(positional):
                env[positional[i]] = [mk(e)]
        kwonly = [p.arg for p in a.kwonlyargs]
        for k in c.keywords:
            if k.arg is not None and (k.arg in positional or k.arg in kwonly):
                env[k.arg] = [mk(k.value)]
            elif k.arg is None:  # **kw: the dict's keys that name parameters
                for p in positional + kwonly:
                    if p not in env:
                        got = self.dict_key(mk(k.value), p, depth + 1)
                        if got:
                            env[p] = got
        defaults = list(a.defaults)
        for p, d in zip(positional[len(positional) - len(defaults):], defaults):
            env.setdefault(p, [Value(d, self.scope_of(fn), {}, d)])
        for p, d in zip(kwonly, a.kw_defaults):
            if d is not None:
                env.setdefault(p, [Value(d, self.scope_of(fn), {}, d)])
        return env

    def _bound_call(self, call: Value, fn, depth: int) -> bool:
        """Whether `recv.m(...)` passes recv as m's first parameter: m is a method (not a staticmethod) and
        recv is an instance, or m is a classmethod."""
        if not isinstance(fn, FUNCS) or not isinstance(self.scope_of(fn), ast.ClassDef) or _decorated(fn, "staticmethod"):
            return False
        if _decorated(fn, "classmethod"):
            return True
        kinds = self._receiver_classes(Value(call.node.func.value, call.scope, call.env, call.at, call.via), depth)
        return not kinds or any(instance for _, instance in kinds)

    # -- partial, functions ------------------------------------------------------------------------------------

    def partial(self, v: Value, depth: int = 0) -> Partial | None:
        """functools.partial(f, **kw) unwrapped (nested partials merged; inner keywords lose to outer), or None."""
        n = v.node
        if depth > self.max_depth or not isinstance(n, ast.Call) or not n.args:
            return None
        if self.qualname(n.func) != PARTIAL:
            return None
        kws = {k.arg: Value(k.value, v.scope, v.env, v.at, v.via) for k in n.keywords if k.arg is not None}
        for k in n.keywords:
            if k.arg is None:
                for key, vals in self.dict_items(Value(k.value, v.scope, v.env, v.at, v.via), depth + 1).items():
                    if vals and key not in kws and key != UNKNOWN_KEYS:
                        kws[key] = vals[-1]
        func = Value(n.args[0], v.scope, v.env, v.at, v.via)
        for f in self.values(func, depth + 1):
            inner = self.partial(f, depth + 1)
            if inner is not None:
                return Partial(inner.func, {**inner.keywords, **kws})
            func = f
            break
        return Partial(func, kws)

    def function(self, v: Value) -> ast.AST | None:
        """The def or lambda a value is (through names, helpers returning a function), else None."""
        for f in self.values(v):
            if isinstance(f.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return f.node
        return None

    # -- keyword arguments and dicts ---------------------------------------------------------------------------

    def keyword(self, call, name: str) -> list[Value]:
        """What keyword argument `name` of a call (ast.Call or Value) may be: an explicit `name=`, or the key
        `name` of a `**kw` dict; [] when the call never passes it."""
        v = call if isinstance(call, Value) else self.value(call)
        c = v.node
        if not isinstance(c, ast.Call):
            return []
        out = []
        for k in c.keywords:
            if k.arg == name:
                out = self.values(Value(k.value, v.scope, v.env, v.at, v.via))
            elif k.arg is None:
                got = self.dict_key(Value(k.value, v.scope, v.env, v.at, v.via), name)
                if got:
                    out = got
        return out

    def dict_key(self, d: Value, key: str, depth: int = 0) -> list[Value]:
        vals = self.dict_items(d, depth).get(key) or []
        res = []
        for x in vals:
            res.extend(self.values(x, depth + 1))
        return res

    def dict_items(self, d: Value, depth: int = 0) -> dict[str, list]:
        """key -> [Value] (the possible values) of the dict a value is, following its writes up to d.at."""
        if depth > self.max_depth or self.spent():
            return {}
        n = d.node
        if isinstance(n, ast.Name):
            def merged(resolved) -> dict[str, list]:
                out: dict[str, list] = {}
                for r in resolved:
                    for k, vs in self.dict_items(r, depth + 1).items():
                        out.setdefault(k, []).extend(vs)
                return out
            s = d.scope
            if n.id in d.env:  # a parameter bound at the call site, then what the function does to it
                return self._dict_by_writes(d, depth, base=merged(d.env[n.id]))
            writes = self._scope_writes(s).get(n.id) if not isinstance(s, ast.Lambda) else None
            if writes:
                return self._dict_by_writes(d, depth)
            if s is not None and n.id in _params(s):
                return self._dict_by_writes(d, depth, base=merged(self._callers_args(s, n.id, depth)))
            # bound in an enclosing scope or the module: all its events there count, then this scope's own
            outer = self._name_scope(n.id, self.scope_of(s)) if s is not None else None
            if s is None or outer is s:
                return {}
            base = merged(self._callers_args(outer, n.id, depth)) if outer is not None and n.id in _params(outer) else None
            return self._dict_by_writes(d, depth, base=base, outer=outer)
        unknown = Value(_unknown_at(n), d.scope, {}, n, d.via)
        if isinstance(n, ast.Dict):
            items: dict[str, list] = {}
            for k, val in zip(n.keys, n.values):
                sub = Value(val, d.scope, d.env, d.at, d.via)
                if k is None:
                    _merge(items, self.dict_items(sub, depth + 1), unknown)
                elif isinstance(k, ast.Constant) and isinstance(k.value, str):
                    items[k.value] = [sub]
                else:  # a computed key may be any key, one already set included
                    _merge(items, {UNKNOWN_KEYS: [unknown]}, unknown)
            return items
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name) and f.id == "dict" and self.function_def("dict", d.scope) is None:
                items = {}
                for a in n.args[:1]:
                    _merge(items, self.dict_items(Value(a, d.scope, d.env, d.at, d.via), depth + 1), unknown)
                for k in n.keywords:
                    sub = Value(k.value, d.scope, d.env, d.at, d.via)
                    if k.arg is None:
                        _merge(items, self.dict_items(sub, depth + 1), unknown)
                    else:
                        items[k.arg] = [sub]
                return items
            copied = f.value if isinstance(f, ast.Attribute) and f.attr == "copy" and not n.args else \
                n.args[0] if self.qualname(f) in ("copy.copy", "copy.deepcopy") and n.args else None
            if copied is not None:  # kw.copy(), copy.copy(kw), copy.deepcopy(kw): the same keys
                return dict(self.dict_items(Value(copied, d.scope, d.env, d.at, d.via), depth + 1))
            fn = self._callee(d)  # a helper that builds and returns the dict: each return, as its own scope saw it
            merged = {}
            if isinstance(fn, FUNCS) and depth < self.max_depth:
                env = self.bind(d, fn, depth)
                for r in self.returns(fn)[0]:
                    for k, vs in self.dict_items(Value(r, fn, env, r, d.via + (n,)), depth + 1).items():
                        merged.setdefault(k, []).extend(vs)
                return merged
            return {UNKNOWN_KEYS: [unknown]}  # built outside the module (a config loader, zip pairs): any keys
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr):
            left = self.dict_items(Value(n.left, d.scope, d.env, d.at, d.via), depth + 1)
            _merge(left, self.dict_items(Value(n.right, d.scope, d.env, d.at, d.via), depth + 1), unknown)
            return left
        if isinstance(n, ast.IfExp):
            merged = {}
            for b in (n.body, n.orelse):
                for k, vs in self.dict_items(Value(b, d.scope, d.env, d.at, d.via), depth + 1).items():
                    merged.setdefault(k, []).extend(vs)
            return merged
        if isinstance(n, ast.Constant) and n.value is None:
            return {}
        # pairs (`kw.update([("sampler", s)])`), a comprehension, an attribute or item the flow does not follow
        return {UNKNOWN_KEYS: [unknown]}

    def _dict_by_writes(self, d: Value, depth: int, base: dict | None = None, outer=_MISSING) -> dict[str, list]:
        """Replays, in order, what changes the dict named d.node.id before d.at: assignments reset it, item
        writes and update() set keys, del and pop() remove them, a call of one of the module's functions that
        writes it (given the dict as an argument, or using it as a free name) replays that function's writes
        there, and any other use that could change it (a method or function the flow does not know, the dict
        stored in a container or attribute) leaves every key unknown from there on. `base` is what the dict held
        on entry (a parameter's arguments). With `outer` (the scope that binds the name, None for the module),
        d is read inside a function that uses the name freely: every event of that scope comes first, then the
        reading function's own before d.at.
        Aliases in a scope (`a = kw`, `kw = a`, `(a := kw)`) share one dict: a write through any name that holds
        the same dict at that point is a write to it, and rebinding a name to something else ends its share."""
        name, scope = d.node.id, d.scope
        segments = []
        if outer is not _MISSING:
            segments.append((outer, self._alias_group(outer, name), None, scope))
        segments.append((scope, self._alias_group(scope, name), d.at, None))
        group = set().union(*(g for _s, g, _a, _k in segments))
        holds: dict[str, int] = {}  # name -> the dict (an index into states) it holds
        states: list[dict[str, list]] = []
        if base is not None:
            holds[name] = 0
            states.append({k: list(vs) for k, vs in base.items()})
        shaky: set[str] = set()  # names that hold their dict only on some paths: their writes add, never replace
        for seg_scope, seg_group, at, skip in segments:
            for node, kind, payload, who, cond, ev_scope in self._replayed(seg_scope, seg_group, at, skip, d.via, depth):
                cond = cond or who in shaky
                sub = lambda e, s=ev_scope: Value(e, s, d.env if s is scope else {}, node, d.via)  # noqa: E731
                if kind == "reset" and isinstance(payload, ast.Name) and payload.id in group and payload.id in holds:
                    if cond and who in holds:
                        shaky.add(who)  # `if c: a = kw`: a holds kw's dict, or its own
                        continue
                    holds[who] = holds[payload.id]
                    if cond:
                        shaky.add(who)
                    else:
                        shaky.discard(who)
                    continue
                if kind == "reset":
                    new = self.dict_items(sub(payload), depth + 1) if payload is not None else {}
                    if cond and who in holds:
                        state = states[holds[who]]
                        for k, vs in new.items():
                            state.setdefault(k, []).extend(vs)
                    else:
                        holds[who] = len(states)
                        states.append({k: list(vs) for k, vs in new.items()})
                        shaky.discard(who)
                    continue
                if who not in holds:
                    holds[who] = len(states)
                    states.append({})
                state = states[holds[who]]
                if kind == "update":
                    unknown = Value(_unknown_at(node), ev_scope, {}, node, d.via)
                    new = {}
                    for p in payload:
                        if isinstance(p, tuple):
                            new[p[0]] = [sub(p[1])]
                        else:
                            _merge(new, self.dict_items(sub(p), depth + 1), unknown)
                    _merge(state, new, unknown, cond)
                elif kind == "set":
                    k, e = payload
                    state[k] = (state.get(k, []) + [sub(e)]) if cond else [sub(e)]
                elif kind == "fill":  # setdefault: only a missing key gets the value
                    k, e = payload
                    if k not in state:
                        state[k] = [sub(e)]
                elif kind == "del" and not cond:
                    state.pop(payload, None)
                elif kind == "clear" and not cond:
                    state.clear()
                elif kind == "unknown":  # anything may have happened to the dict here
                    unknown = Value(_unknown_at(node), ev_scope, {}, node, d.via)
                    _merge(state, {UNKNOWN_KEYS: [unknown]}, unknown, cond)
        out = states[holds[name]] if name in holds else {}
        if self._introspects():  # frames and the garbage collector reach any dict, by no name the flow sees
            unknown = Value(_unknown_at(d.node), scope, {}, d.node, d.via)
            out = {k: [unknown] for k in out}
        return out

    def _introspects(self) -> bool:
        if self._introspection is None:
            self._introspection = any(
                isinstance(n, ast.Attribute) and n.attr in FRAME_ATTRS
                or isinstance(n, (ast.Attribute, ast.Name)) and self.qualname(n) in INTROSPECTION_NAMES
                or isinstance(n, (ast.Import, ast.ImportFrom)) and any(  # ctypes reaches memory itself
                    (a.name if isinstance(n, ast.Import) else n.module or "").split(".")[0] == "ctypes" for a in n.names)
                for n in ast.walk(self.tree))
        return self._introspection

    def _replayed(self, scope, group: set, at, skip, via: tuple, depth: int) -> list:
        """The events of `scope` (not nested scopes) on the dict held by the names of `group`, before `at`
        (every one without it), live, in source order, with the writes of the module's functions a call there
        makes expanded in place: [(node, kind, payload, name, conditional, scope the payload is evaluated in)].
        A call of `skip` (the function being read from, replayed after its caller) is left out."""
        end = _pos(at) if at is not None else (1 << 30, 0)
        raw = sorted(((n, ev, g) for g in group for n, ev in self._dict_events(scope, g)
                      if _pos(n) < end and self.live(n)), key=lambda e: _pos(e[0]))
        out = []
        for n, (kind, payload), who in raw:
            cond = self._conditional(n, scope, at)
            if kind != "call":
                out.append((n, kind, payload, who, cond, scope))
                continue
            fn, inner = payload
            if fn is skip:
                continue
            for k, p, c, s in self._called_writes(fn, inner, depth + 1, ()):
                out.append((n, k, p, who, cond or c, s))
        return out

    def _called_writes(self, fn, name: str, depth: int, stack: tuple) -> list:
        """What a run of fn does to the dict its name `name` holds on entry (a parameter, or a free name),
        flattened through the calls it makes: [(kind, payload, conditional, scope)]. Rebinding the name inside
        fn ends its share; past the depth limit, or in recursion, the dict is unknown."""
        if depth > self.max_depth or fn in stack or self.spent() or \
                any(isinstance(n, (ast.Global, ast.Nonlocal)) and name in n.names for n in _walk_scope(fn)):
            return [("unknown", None, False, fn)]  # (`global kw`: fn may rebind the caller's name itself)
        group = self._alias_group(fn, name)
        raw = sorted(((n, ev, g) for g in group for n, ev in self._dict_events(fn, g) if self.live(n)),
                     key=lambda e: _pos(e[0]))
        gone: set[str] = set()
        shaky: set[str] = set()
        out = []
        for n, (kind, payload), who in raw:
            if who in gone:
                continue
            cond = self._conditional(n, fn, None) or who in shaky
            if kind == "reset":
                if isinstance(payload, ast.Name) and payload.id in group:
                    continue  # an alias of the same dict
                (shaky if cond else gone).add(who)
                continue
            if kind == "returned":
                continue  # not a change; the caller checks where the dict goes (_dict_argument)
            if kind == "call":
                g, inner = payload
                out.extend((k, p, cond or c, s) for k, p, c, s in self._called_writes(g, inner, depth + 1, stack + (fn,)))
                continue
            out.append((kind, payload, cond, fn))
        return out

    def _alias_group(self, scope, name: str) -> set[str]:
        """name and every name of the scope linked to it by plain `a = b` (or `a := b`) assignments, either way."""
        writes = self._scope_writes(scope) if not isinstance(scope, ast.Lambda) else {}
        links: dict[str, set] = {}
        for n, ws in writes.items():
            for _node, value, kind in ws:
                if kind == "assign" and isinstance(value, ast.Name) and value.id != n:
                    links.setdefault(n, set()).add(value.id)
                    links.setdefault(value.id, set()).add(n)
        group, todo = {name}, [name]
        while todo and len(group) < 50:
            for m in links.get(todo.pop(), ()):
                if m not in group:
                    group.add(m)
                    todo.append(m)
        return group

    def _dict_events(self, scope, name: str) -> list:
        """What the code of scope (not nested scopes) does to the dict `name` holds there, in source order:
        [(node, (kind, payload))], kind one of reset, set, update, fill, del, clear, unknown, call, returned (payload: the
        module's function, and its name for the dict: a parameter given it, or the same free name)."""
        key = (id(scope) if scope is not None else 0, name)
        cached = self._events.get(key)
        if cached is not None:
            return cached
        root = self.tree if scope is None else scope
        if self._building > self.max_depth:  # functions that reach functions that reach ...: unknown, uncached
            return [(root, ("unknown", None))]
        self._events[key] = []  # a cycle (a function reached again while its events are built) sees none
        self._building += 1
        try:
            events = self._build_dict_events(scope, name, root)
        finally:
            self._building -= 1
        self._events[key] = events
        return events

    def _build_dict_events(self, scope, name: str, root) -> list:
        home = self._home(scope, name)
        events = []
        todo = list(ast.iter_child_nodes(root))
        walked = 0
        while todo:
            n = todo.pop()
            walked += 1
            if walked % 16 == 0 and self.spent():  # a step per 16 nodes: a walk is linear, a fan-out is not
                events.append((n, ("unknown", None)))
                break
            if isinstance(n, SCOPES):
                # evaluated here, when the def or class statement runs: decorators, defaults, bases
                a = getattr(n, "args", None)
                if isinstance(a, ast.arguments):
                    todo.extend(list(a.defaults) + [x for x in a.kw_defaults if x is not None])
                todo.extend(getattr(n, "decorator_list", []))
                if isinstance(n, ast.ClassDef):
                    todo.extend(list(n.bases) + [k.value for k in n.keywords])
                    if self._free_writer(n, home, name):
                        events.append((n, ("call", (n, name))))  # a class body runs where the class is defined
                    if any(isinstance(m, FUNCS) and self._free_writer(m, home, name) for m in ast.walk(n) if m is not n):
                        events.append((n, ("unknown", None)))  # a method: called in ways the flow may not see
                elif isinstance(n, ast.Lambda):
                    p = self.parents.get(id(n))
                    if self._free_writer(n, home, name):
                        events.append((n, ("call", (n, name))) if isinstance(p, ast.Call) and p.func is n
                                      else (n, ("unknown", None)))  # kept or handed on: runs at any time
                elif any(self._qualname_of_decorator(dec) not in PLAIN_DECORATORS for dec in n.decorator_list) and \
                        self._free_writer(n, home, name):
                    events.append((n, ("unknown", None)))  # a decorator may call it, or keep it to call later
                continue
            if isinstance(n, ast.Name) and n.id == name and not self._comprehension_bound(n, root):
                ev = self._dict_use(n, scope, home, depth=0)
                if ev is not None:
                    events.append(ev)
            elif isinstance(n, ast.Call):
                key = id(n)
                if key not in self._plain_callees:  # the same calls are asked about for every dict of the scope
                    self._plain_callees[key] = self._callee(Value(n, scope, {}, n))
                fn = self._plain_callees[key]
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and self._free_writer(fn, home, name):
                    events.append((n, ("call", (fn, name))))
                elif self._reflective(n, scope, home, name):
                    events.append((n, ("unknown", None)))  # globals()["kw"], eval("kw.clear()"), ...
            elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and not self._called_here(n):
                fn = self.function_def(n.id, scope)
                if fn is not None and self._free_writer(fn, home, name):
                    events.append((n, ("unknown", None)))  # handed on (a callback, a thread): runs at any time
                elif fn is None and n.id in REFLECTION:
                    events.append((n, ("unknown", None)))  # `run = exec`: called under another name
            elif isinstance(n, ast.Attribute) and n.attr in REFLECTION and self.qualname(n.value) == "builtins" or \
                    isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "__builtins__":
                events.append((n, ("unknown", None)))  # builtins.exec(...), __builtins__.eval
            elif isinstance(n, ast.Attribute) and home is None and not (isinstance(n.value, ast.Name) and n.value.id in ("self", "cls")):
                fn = self.function_def(n.attr, None)
                if n.attr == name or fn is not None and self._free_writer(fn, None, name):
                    events.append((n, ("unknown", None)))  # the module reached as an object: sys.modules[...].kw
            todo.extend(ast.iter_child_nodes(n))
        events.sort(key=lambda e: _pos(e[0]))
        return events

    def _home(self, scope, name: str):
        """The scope whose binding of `name` is the one scope sees."""
        if scope is None or name in _params(scope) or (not isinstance(scope, ast.Lambda) and name in self._scope_writes(scope)):
            return scope
        return self._name_scope(name, self.scope_of(scope))

    def _free_writer(self, fn, home, name: str) -> bool:
        """Whether a run of fn (one of the module's functions) may change the dict `name` that scope `home`
        binds, through the name used freely in fn (or in what fn calls)."""
        if fn is home or id(fn) not in self._touchers(name):
            return False
        if any(isinstance(n, (ast.Global, ast.Nonlocal)) and name in n.names for n in _walk_scope(fn)):
            return self._name_scope(name, self.scope_of(fn)) is home  # `global kw; kw = ...` rebinds it
        if self._home(fn, name) is not home:
            return False
        return any(kind != "reset" or not isinstance(payload, ast.Name)
                   for _n, (kind, payload) in self._dict_events(fn, name))

    def _touchers(self, name: str) -> set:
        """ids of the module's defs, lambdas and classes that could reach a dict named `name` at all: those
        whose code mentions the name (or reflection), and, to a fixed point, those that mention one of
        them. A cheap, uncounted filter before the counted walk of _dict_events (a 2,000-line script with
        ten dicts would otherwise walk every function once per dict)."""
        got = self._toucher_memo.get(name)
        if got is not None:
            return got
        if self._mentions is None:
            self._mentions = []
            for d in ast.walk(self.tree):
                if isinstance(d, SCOPES):
                    words = set()
                    for x in ast.walk(d):
                        if isinstance(x, ast.Name):
                            words.add(x.id)
                        elif isinstance(x, ast.Attribute):
                            words.add(x.attr)
                        elif isinstance(x, (ast.Global, ast.Nonlocal)):
                            words.update(x.names)
                    own = {d.name} if not isinstance(d, ast.Lambda) else \
                        {t.id for t in getattr(self.parents.get(id(d)), "targets", []) if isinstance(t, ast.Name)}
                    self._mentions.append((d, words, own))
        seeds = {name} | REFLECTION | INTROSPECTION
        found: set = set()
        names = set(seeds)
        changed = True
        while changed:
            changed = False
            for d, words, own in self._mentions:
                if id(d) not in found and words & names:
                    found.add(id(d))
                    names |= own
                    changed = True
        self._toucher_memo[name] = found
        return found

    def _reflective(self, c: ast.Call, scope, home, name: str) -> bool:
        """Whether a call may reach the dict `name` by a name computed at run time."""
        f = c.func
        if not (isinstance(f, ast.Name) and f.id in REFLECTION and self.function_def(f.id, scope) is None):
            return False
        if f.id in ("getattr", "setattr", "delattr", "hasattr"):
            key = c.args[1] if len(c.args) > 1 else None
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                return True  # getattr(module, computed)
            fn = self.function_def(key.value, None)
            return key.value == name or fn is not None and self._free_writer(fn, home, name)
        if f.id == "vars" and len(c.args) == 1:
            a = c.args[0]
            return not isinstance(a, ast.Name) or a.id in self.aliases  # vars(args) is args' own __dict__
        return True

    def _qualname_of_decorator(self, dec) -> str | None:
        f = dec.func if isinstance(dec, ast.Call) else dec
        if isinstance(f, ast.Name) and f.id in ("staticmethod", "classmethod", "property"):
            return f.id
        return self.qualname(f)

    def _called_here(self, n) -> bool:
        p = self.parents.get(id(n))
        return isinstance(p, ast.Call) and p.func is n

    def _comprehension_bound(self, n, root) -> bool:
        """Whether the name n is a comprehension's own variable there (`[kw for kw in ds]`), not the scope's."""
        for a in self._ancestors(n):
            if a is root:
                return False
            if isinstance(a, COMPREHENSIONS) and any(
                    isinstance(t, ast.Name) and t.id == n.id for g in a.generators for t in ast.walk(g.target)):
                return True
        return False

    def _dict_use(self, n: ast.Name, scope, home, depth: int):
        """The event one occurrence of the dict's name makes: (node, (kind, payload)), or None for a use that
        cannot change the dict (a read, a `**` spread, a copy, an alias the group follows)."""
        p = self.parents.get(id(n))
        if isinstance(n.ctx, ast.Store):
            if isinstance(p, ast.Assign) and n in p.targets or isinstance(p, ast.AnnAssign) and p.target is n:
                return (p, ("reset", p.value)) if p.value is not None else None
            if isinstance(p, ast.NamedExpr) and p.target is n:
                return p, ("reset", p.value)
            if isinstance(p, ast.AugAssign) and p.target is n:
                return (p, ("update", [p.value])) if isinstance(p.op, ast.BitOr) else (p, ("reset", None))
            return n, ("reset", None)  # a loop or with target, tuple unpacking: some other value
        if isinstance(n.ctx, ast.Del):
            return n, ("reset", None)
        if isinstance(p, ast.Subscript) and p.value is n:
            key = p.slice.value if isinstance(p.slice, ast.Constant) and isinstance(p.slice.value, str) else None
            if isinstance(p.ctx, ast.Load):
                return None
            if key is None:
                return p, ("unknown", None)
            if isinstance(p.ctx, ast.Del):
                return p, ("del", key)
            gp = self.parents.get(id(p))
            if isinstance(gp, ast.Assign) and p in gp.targets or isinstance(gp, ast.AnnAssign) and gp.value is not None:
                return gp, ("set", (key, gp.value))
            return p, ("set", (key, _unknown_at(p)))  # `kw[k] += 1`, a loop target
        if isinstance(p, ast.Attribute) and p.value is n:
            gp = self.parents.get(id(p))
            if not (isinstance(gp, ast.Call) and gp.func is p):
                return None if p.attr in DICT_READS else (p, ("unknown", None))
            ev = self._dict_method(gp, p.attr)
            return None if ev is None else (gp, ev)
        if isinstance(p, ast.keyword):
            return None if p.arg is None else self._dict_argument(self.parents.get(id(p)), n, scope, depth)
        if isinstance(p, ast.Call):
            return (p, ("unknown", None)) if p.func is n else self._dict_argument(p, n, scope, depth)
        if isinstance(p, ast.Dict):
            return None if any(k is None and v is n for k, v in zip(p.keys, p.values)) else (n, ("unknown", None))
        if isinstance(p, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and p.value is n:
            targets = p.targets if isinstance(p, ast.Assign) else [p.target]
            return None if all(isinstance(t, ast.Name) for t in targets) else (n, ("unknown", None))
        if isinstance(p, ast.AugAssign) and p.value is n:
            return None  # `other |= kw` copies its items
        if isinstance(p, (ast.Compare, ast.UnaryOp, ast.FormattedValue, ast.Expr, ast.Starred, ast.BinOp, ast.Assert)):
            return None
        if isinstance(p, (ast.If, ast.While, ast.IfExp)) and p.test is n or \
                isinstance(p, (ast.For, ast.AsyncFor, ast.comprehension)) and p.iter is n:
            return None
        if isinstance(p, ast.BoolOp) and self._only_tested(p):
            return None
        if isinstance(p, ast.Return) and home is scope and scope is not None:
            # the function's own dict, handed back as it ends; a parameter's is the caller's (see _dict_argument)
            return None if n.id not in _params(scope) else (p, ("returned", None))
        return n, ("unknown", None)

    def _only_tested(self, b) -> bool:
        """Whether a BoolOp's value is only tested for truth (`if kw and x:`), never passed on."""
        while True:
            p = self.parents.get(id(b))
            if isinstance(p, ast.BoolOp):
                b = p
                continue
            return isinstance(p, (ast.UnaryOp, ast.Assert)) or isinstance(p, (ast.If, ast.While, ast.IfExp)) and p.test is b

    @staticmethod
    def _dict_method(c: ast.Call, meth: str):
        def key_of(s):
            return s.value if isinstance(s, ast.Constant) and isinstance(s.value, str) else None
        if meth == "update" and len(c.args) <= 1:
            return ("update", list(c.args) + [(k.arg, k.value) for k in c.keywords if k.arg] +
                    [k.value for k in c.keywords if k.arg is None])
        if meth == "pop" and c.args and key_of(c.args[0]) is not None:
            return ("del", key_of(c.args[0]))
        if meth == "clear" and not c.args:
            return ("clear", None)
        if meth == "setdefault" and c.args and key_of(c.args[0]) is not None:
            return ("fill", (key_of(c.args[0]), c.args[1] if len(c.args) > 1 else ast.Constant(value=None)))
        if meth in DICT_READS:
            return None
        return ("unknown", None)

    def _dict_argument(self, call, n, scope, depth: int):
        """The event of handing the dict to a call as an argument (not as `**kw`)."""
        if not isinstance(call, ast.Call):
            return n, ("unknown", None)
        v = Value(call, scope, {}, call)
        fn = self._callee(v)
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            env = self.bind(v, fn, depth)
            params = [p for p, vs in env.items() if any(x.node is n for x in vs)]
            if not params:
                return call, ("unknown", None)  # into *args or **kwargs: held in a container there
            if isinstance(fn, ast.Lambda):
                return None if not any(self._dict_events(fn, p) for p in params) else (call, ("unknown", None))
            returned = any(kind == "returned" for p in params for g in self._alias_group(fn, p)
                           for _x, (kind, _y) in self._dict_events(fn, g))
            if returned and not self._result_stays(call, n, scope):
                return call, ("unknown", None)  # `a = same(kw)`: an alias made where the flow does not see it
            writes = [p for p in params if self._called_writes(fn, p, depth + 1, ())]
            return (call, ("call", (fn, writes[0]))) if len(writes) == 1 else \
                (None if not writes else (call, ("unknown", None)))
        f = call.func
        if isinstance(f, ast.Name) and f.id in PURE_BUILTINS and self.function_def(f.id, scope) is None and \
                not self._defines_class(f.id):
            return None
        if self.qualname(f) in PURE_CALLS:
            return None
        if isinstance(f, ast.Attribute) and f.attr in LOG_METHODS and not self._defines_method(f.attr):
            return None  # logger.info("%s", kw)
        if isinstance(f, ast.Attribute) and f.attr == "update" and len(call.args) == 1 and call.args[0] is n and \
                not call.keywords and not self._defines_method("update"):
            return None  # other.update(kw) copies its items (dict.update(kw, k=v), its first argument changed, does not)
        return call, ("unknown", None)

    def _result_stays(self, call, n, scope) -> bool:
        """Whether the result of a call that returns the dict it was handed is dropped, spread (`**f(kw)`), or
        bound back to a name of the same dict (`kw = fill(kw)`): no alias the flow cannot see."""
        p = self.parents.get(id(call))
        if isinstance(p, ast.Expr) or isinstance(p, ast.keyword) and p.arg is None:
            return True
        if isinstance(p, ast.Assign) and p.value is call:
            group = self._alias_group(scope, n.id)
            return all(isinstance(t, ast.Name) and t.id in group for t in p.targets)
        return False

    def _defines_class(self, name: str) -> bool:
        return any(isinstance(n, ast.ClassDef) and n.name == name for n in ast.walk(self.tree))

    def _defines_method(self, name: str) -> bool:
        return any(isinstance(n, ast.ClassDef) and any(isinstance(s, FUNCS) and s.name == name for s in n.body)
                   for n in ast.walk(self.tree))

    # -- calls a run executes ------------------------------------------------------------------------------------

    def calls_from(self, node, env: dict | None = None, depth: int = 0, _stack: tuple = (),
                   _fns: tuple = ()) -> Iterator[Value]:
        """Every ast.Call in the live code of node (a statement, a block's parent, or a def), as a Value in
        its scope, and, for each call of one of the module's functions, the calls in that function's body
        with the arguments bound (Value.via is the chain of calls that led there). Nested defs and lambdas
        are not entered where they are defined, only where they are called."""
        scope = node if isinstance(node, FUNCS) else self.scope_of(node)
        env = env or {}
        _fns = _fns or ((node,) if isinstance(node, FUNCS) else ())
        todo = list(node.body) if isinstance(node, FUNCS) else [node]
        while todo:
            if self.spent():
                return
            n = todo.pop(0)
            if isinstance(n, SCOPES) and n is not node:
                continue
            if isinstance(n, ast.stmt) and not self.live(n):
                continue
            if isinstance(n, ast.Call):
                v = Value(n, scope, env, n, _stack)
                yield v
                fn = self._callee(v)
                if isinstance(fn, FUNCS) and depth < self.max_depth and not any(fn is f for f in _fns):
                    yield from self.calls_from(fn, self.bind(v, fn, depth), depth + 1, _stack + (n,), _fns + (fn,))
            todo[:0] = list(ast.iter_child_nodes(n))

    def derives_from(self, expr, names: set, scope, depth: int = 0) -> bool:
        """Whether expr (a node or Value) is computed from any of `names` as bound in `scope`: through the
        names in it, their assignments, and parameters bound to call-site arguments."""
        v = expr if isinstance(expr, Value) else self.value(expr)
        return self._derives(v, names, scope, depth, set())

    def _derives(self, v: Value, names: set, scope, depth: int, seen: set) -> bool:
        if depth > self.max_depth or (id(v.node), id(v.env)) in seen or self.spent():
            return False
        seen.add((id(v.node), id(v.env)))
        for n in ast.walk(v.node):
            if not isinstance(n, ast.Name) or not isinstance(n.ctx, ast.Load):
                continue
            if n.id in v.env:
                if any(self._derives(b, names, scope, depth + 1, seen) for b in v.env[n.id]):
                    return True
                continue
            if n.id in names and self._name_scope(n.id, v.scope) is scope:
                return True
            writes = self._scope_writes(v.scope).get(n.id, []) if not isinstance(v.scope, ast.Lambda) else []
            for w, value, kind in self._reaching(writes, v.scope, v.at if v.at is not None else n):
                if value is not None and kind == "assign" and \
                        self._derives(Value(value, v.scope, v.env, w), names, scope, depth + 1, seen):
                    return True
        return False

    def _name_scope(self, name: str, scope):
        """The scope that binds `name` as seen from `scope` (the function itself, an enclosing one, or None)."""
        s = scope
        while s is not None:
            if not isinstance(s, ast.ClassDef) and (name in _params(s) or name in self._scope_writes(s)):
                return s
            s = self.scope_of(s)
        return None


def _params(fn) -> set:
    a = getattr(fn, "args", None)
    if not isinstance(a, ast.arguments):
        return set()
    names = [p.arg for p in list(getattr(a, "posonlyargs", [])) + list(a.args) + list(a.kwonlyargs)]
    names += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    return set(names)


def _first_param(fn) -> str | None:
    a = getattr(fn, "args", None)
    ps = list(getattr(a, "posonlyargs", [])) + list(getattr(a, "args", [])) if isinstance(a, ast.arguments) else []
    return ps[0].arg if ps else None


def _setattr_on(call, me: str | None):
    """For `setattr(me, key, value)`: the key's string, or True when the key is computed; else None."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "setattr"
            and len(call.args) == 3 and isinstance(call.args[0], ast.Name) and call.args[0].id == me):
        return None
    key = call.args[1]
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else True


def _walk_scope(fn) -> Iterator[ast.AST]:
    """The nodes of fn's own body, not those of defs, lambdas or classes nested in it."""
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        n = todo.pop()
        if isinstance(n, SCOPES):
            continue
        yield n
        todo.extend(ast.iter_child_nodes(n))


def _decorated(fn, name: str) -> bool:
    return any(isinstance(d, ast.Name) and d.id == name for d in getattr(fn, "decorator_list", []))


def _merge(items: dict, new: dict, unknown: Value, cond: bool = False) -> None:
    """items.update(new) for dict states: with cond (a write on some paths) each key gains possibilities
    instead; keys `new` may hold but cannot name (UNKNOWN_KEYS) may overwrite any key already there."""
    if UNKNOWN_KEYS in new:
        for k in list(items):
            if k != UNKNOWN_KEYS:
                items[k] = (items[k] + [unknown]) if cond else [unknown]
    for k, vs in new.items():
        items[k] = (items.get(k, []) + list(vs)) if cond else list(vs)


def _unknown_at(node) -> ast.AST:
    """A stand-in for a value the flow cannot know (`...`), placed where it arises."""
    u = ast.Constant(value=Ellipsis)
    return ast.copy_location(u, node) if hasattr(node, "lineno") else u


def _pos(node) -> tuple[int, int]:
    return getattr(node, "lineno", 0) or 0, getattr(node, "col_offset", 0) or 0


def _import_aliases(tree: ast.Module) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    aliases[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for a in node.names:
                if a.name != "*":
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases
