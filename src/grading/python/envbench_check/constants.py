"""Constant-folded conditions and the code that runs (issue 14): which branches of a module can never execute,
so that a task can ask "does this call appear in code that runs" rather than "does it appear in the file".

    consts = ModuleConstants(tree, main_runs=False)   # False: the grader imports the file, __main__ never runs
    consts.truth(if_node.test)         -> True / False / None (not decided)
    consts.iter_live(node)             -> the nodes of node's subtree that can run (like ast.walk, pruned)
    consts.is_live(node)               -> False when node sits in a branch that can never run
    reachable_units(tree, consts, roots=("train",))   -> live module statements + functions/classes named from them
    dead_functions(tree, consts, roots=...)            -> top-level defs nothing live names

What is decided (everything else is "not decided", and both sides stay live):
  - literals (`if False`, `if 0`, `while 0`, `if ""`), `not`, `and`/`or` (with short-circuit: `DEBUG and x` is
    False when DEBUG is; `x and False` is falsy too, though x still runs), comparisons and arithmetic of
    constants, `a if C else b`, tuples/lists/sets of constants (`MODE in ("a", "b")`);
  - module names. A name is a module constant when EVERY binding of it anywhere in the module is an
    unconditional top-level `NAME = <constant expression>` (or `NAME: T = ...`) statement. Any other binding
    anywhere - in a branch, a loop, a `for`/`with`/`import`/`def`/`class`/`except ... as`, a parameter or local
    of the same name, a walrus, `del`, `global NAME` in some function - or a value that does not fold
    (argparse, os.environ, a call, `hasattr(...)`) makes it NOT constant. The rule for a name bound more than
    once (`FLAG = True` ... `FLAG = False`, both top-level): module-level code sees the value of the last binding
    above it (straight-line code); code inside functions sees the LAST binding's value, because functions run
    when called and the grader calls them after the import finished - provided no top-level statement before
    the last binding can run this module's own code (names one of its functions or classes, or makes a lambda
    or generator expression); otherwise it is not constant in functions. The same proviso holds for a
    builtin's name bound once (nanoGPT's `compile = True`): before the binding, code would see the builtin;
  - `if __name__ == "__main__":` is live (not decided) unless the caller says main_runs=False, when its body
    is dead (the grader imports the module; it never runs it as a script).

What is pruned by iter_live: the untaken side of a decided `if`/`while`/conditional expression (the `else` of a
constant-True `if`, the body of `while False`, the `else` of `while True`), the operands a decided `and`/`or`
never evaluates, and in any block the statements after one that always leaves it (`return`, `raise`, `break`,
`continue`, or an `if` whose live sides all do).

Bounded: constant values are small (ints under 4096 bits, strings/tuples under 10,000 items); expressions are
folded to a fixed depth; any error inside the analysis makes the answer "not decided" (live), never a crash.
"""

from __future__ import annotations

import ast
import bisect
import builtins
import operator

__all__ = ["UNKNOWN", "ModuleConstants", "reachable_units", "dead_functions", "is_main_guard"]


class _Unknown:
    __slots__ = ()

    def __repr__(self):
        return "UNKNOWN"

    def __bool__(self):  # never let an unknown value be mistaken for a decided one
        raise TypeError("UNKNOWN has no truth value")


UNKNOWN = _Unknown()

_SCALARS = (bool, int, float, complex, str, bytes, type(None))
_MAX_DEPTH = 40
_MAX_LEN = 10_000
_MAX_INT_BITS = 4096
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = _FUNCS + (ast.ClassDef,) + _COMPS
_BLOCK_FIELDS = ("body", "orelse", "finalbody")

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.LShift: operator.lshift,
           ast.RShift: operator.rshift, ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor}
_CMPOPS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
           ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
           ast.Is: operator.is_, ast.IsNot: operator.is_not}


def is_main_guard(stmt) -> bool:
    """`if __name__ == "__main__":` (either order)."""
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare) or len(stmt.test.ops) != 1 \
            or not isinstance(stmt.test.ops[0], ast.Eq):
        return False
    parts = [stmt.test.left, *stmt.test.comparators]
    return any(isinstance(p, ast.Name) and p.id == "__name__" for p in parts) and \
        any(isinstance(p, ast.Constant) and p.value == "__main__" for p in parts)


def _small(v) -> bool:
    """A value the folder may hold: scalars and small tuples/lists/frozensets of them."""
    if isinstance(v, bool) or v is None or isinstance(v, (float, complex)):
        return True
    if isinstance(v, int):
        return v.bit_length() <= _MAX_INT_BITS
    if isinstance(v, (str, bytes)):
        return len(v) <= _MAX_LEN
    if isinstance(v, (tuple, list, frozenset)):
        return len(v) <= _MAX_LEN and all(isinstance(x, _SCALARS) and _small(x) for x in v)
    return False


def _binop(op, a, b):
    if isinstance(op, ast.Pow):
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or abs(b) > 64 or \
                (isinstance(a, int) and a.bit_length() > 64):
            return UNKNOWN
    elif isinstance(op, (ast.LShift, ast.RShift)):
        if not isinstance(b, int) or b > 64:
            return UNKNOWN
    elif isinstance(op, ast.Mult):
        seq = a if isinstance(a, (str, bytes, tuple, list)) else b if isinstance(b, (str, bytes, tuple, list)) else None
        n = b if seq is a else a
        if seq is not None and (not isinstance(n, int) or len(seq) * max(n, 0) > _MAX_LEN):
            return UNKNOWN
    elif isinstance(op, ast.Mod) and isinstance(a, (str, bytes)):
        return UNKNOWN  # %-formatting can build huge strings ("%*d")
    fn = _BINOPS.get(type(op))
    return fn(a, b) if fn else UNKNOWN


def _bound_names(target) -> list:
    """Names a binding target (Name, Tuple, Starred, ...) binds."""
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _scope_locals(scope) -> set:
    """Names bound directly in a function/lambda/class/comprehension scope (not in nested scopes), minus the
    ones it declares global. Parameters included. Used to know where a module name is shadowed."""
    names: set = set()
    globals_: set = set()
    if isinstance(scope, _FUNCS):
        a = scope.args
        for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
            if arg is not None:
                names.add(arg.arg)
        roots = scope.body if isinstance(scope.body, list) else [scope.body]
    elif isinstance(scope, ast.ClassDef):
        roots = scope.body
    else:  # comprehension: its targets are its own
        for gen in scope.generators:
            names.update(_bound_names(gen.target))
        return names
    stack = list(roots)
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
            stack.extend(getattr(n, "decorator_list", []))
            continue  # its body is its own scope
        if isinstance(n, (ast.Lambda, *_COMPS)):
            continue
        if isinstance(n, ast.Global):
            globals_.update(n.names)
        elif isinstance(n, ast.Nonlocal):
            names.update(n.names)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for al in n.names:
                names.add(al.asname or al.name.split(".")[0])
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
            names.add(n.target.id)
        else:
            for attr in ("name", "rest"):  # match patterns: MatchAs.name, MatchStar.name, MatchMapping.rest
                v = getattr(n, attr, None)
                if isinstance(v, str) and type(n).__name__.startswith("Match"):
                    names.add(v)
        stack.extend(ast.iter_child_nodes(n))
    return names - globals_


class _All(frozenset):
    """Every name (the locals of a scope the analysis could not read: all of them shadow)."""

    def __contains__(self, item):
        return True

    def __or__(self, other):
        return self

    __ror__ = __or__


_EVERYTHING = _All()
_BUILTIN_NAMES = frozenset(dir(builtins))


class _Ctx:
    """Where an expression is evaluated: at module level (index of the top-level statement) or deferred (inside
    a function body, run when called), and which module names an enclosing scope shadows."""
    __slots__ = ("index", "deferred", "shadowed")

    def __init__(self, index, deferred, shadowed):
        self.index, self.deferred, self.shadowed = index, deferred, shadowed

    def enter(self, scope, locals_, deferred=None):
        return _Ctx(self.index, self.deferred if deferred is None else deferred, self.shadowed | locals_)


class ModuleConstants:
    """The constant names of one module and the folding of conditions over them. See the module docstring."""

    def __init__(self, tree, *, main_runs: bool = True):
        self.tree = tree
        self.main_runs = main_runs
        self._parents: dict = {}
        self._locals_cache: dict = {}
        # name -> [(top-level index, value or UNKNOWN)]; a name absent here is not constant
        self._bindings: dict = {}
        self._binding_index: dict = {}
        self._final: dict = {}
        self._live_cache: dict = {}
        try:
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    self._parents[id(child)] = node
            self._collect()
        except Exception:  # noqa: BLE001  (an odd tree: nothing is constant, everything stays live)
            self._bindings, self._binding_index, self._final = {}, {}, {}

    # -- module constants --------------------------------------------------
    def _body(self):
        body = getattr(self.tree, "body", None)
        return body if isinstance(body, list) else []

    def _module_scope_binding_sites(self):
        """(name, top-level index, statement) for every binding in module scope, and the names declared
        global anywhere (bound from inside a function: never constant)."""
        sites, tainted = [], set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Global):
                tainted.update(node.names)
            elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                tainted.add(node.target.id)  # a walrus in a comprehension binds in the enclosing scope
        for i, stmt in enumerate(self._body()):
            if not self.main_runs and is_main_guard(stmt):
                continue
            stack = [stmt]
            while stack:
                n = stack.pop()
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    sites.append((n.name, i, n))
                    stack.extend(n.decorator_list)
                    if not isinstance(n, ast.ClassDef):
                        stack.extend(n.args.defaults)
                        stack.extend(d for d in n.args.kw_defaults if d is not None)
                    else:
                        stack.extend(n.bases)
                        stack.extend(k.value for k in n.keywords)
                    continue
                if isinstance(n, (ast.Lambda, *_COMPS)):
                    continue
                if isinstance(n, ast.If) and isinstance(n.test, ast.Constant):
                    # a literal test: the untaken side never binds anything
                    stack.append(n.test)
                    try:
                        stack.extend(n.body if n.test.value else n.orelse)
                    except Exception:  # noqa: BLE001
                        stack.extend([*n.body, *n.orelse])
                    continue
                if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
                    sites.append((n.id, i, stmt))
                elif isinstance(n, (ast.Import, ast.ImportFrom)):
                    for al in n.names:
                        sites.append((al.asname or al.name.split(".")[0], i, n))
                elif isinstance(n, ast.ExceptHandler) and n.name:
                    sites.append((n.name, i, n))
                elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.value is None:
                    pass  # `x: int` binds nothing
                else:
                    for attr in ("name", "rest"):
                        v = getattr(n, attr, None)
                        if isinstance(v, str) and type(n).__name__.startswith("Match"):
                            sites.append((v, i, n))
                stack.extend(ast.iter_child_nodes(n))
        return sites, tainted

    @staticmethod
    def _plain_assign(stmt):
        """(names, value) when stmt is `A = B = <expr>` / `A: T = <expr>` with plain names; else None."""
        if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
            return [t.id for t in stmt.targets], stmt.value
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None \
                and stmt.simple:
            return [stmt.target.id], stmt.value
        return None

    def _collect(self):
        body = self._body()
        sites, tainted = self._module_scope_binding_sites()
        by_name: dict = {}
        for name, i, stmt in sites:
            by_name.setdefault(name, []).append((i, stmt))
        # Every name bound anywhere in a function or class with the same name is still a module name there only
        # if not shadowed; shadowing is handled per read (_Ctx.shadowed). Eligible: every site a plain
        # top-level assignment.
        eligible = set()
        for name, occ in by_name.items():
            if name in tainted:
                continue
            if all(0 <= i < len(body) and body[i] is stmt and self._plain_assign(stmt) for i, stmt in occ):
                eligible.add(name)
        for i, stmt in enumerate(body):
            pa = self._plain_assign(stmt)
            if not pa:
                continue
            names, value = pa
            names = [n for n in names if n in eligible]
            if not names:
                continue
            v = self._fold(value, _Ctx(i, False, frozenset()), 0)
            for n in names:
                self._bindings.setdefault(n, []).append((i, v))
                self._binding_index.setdefault(n, []).append(i)
        user = {name for name, _, stmt in sites if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        runs_user = [self._runs_user_code(s, user) for s in body]
        for name, occ in self._bindings.items():
            last = occ[-1][0]
            if (len(occ) > 1 or name in _BUILTIN_NAMES) and any(runs_user[:last]):
                # Code before the last binding could run a function of this module that reads an earlier
                # value (or, for a builtin's name, the builtin): functions may not see the last one only.
                continue
            self._final[name] = occ[-1][1]

    def _runs_user_code(self, stmt, user) -> bool:
        """A top-level statement whose executed parts (not the bodies of the functions it defines) could run
        code of this module: it names a function or class the module defines, or makes a lambda or a
        generator expression (code that runs later)."""
        if not self.main_runs and is_main_guard(stmt):
            return False
        stack = [stmt]
        while stack:
            n = stack.pop()
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = n.args
                stack.extend([*n.decorator_list, *a.defaults, *(d for d in a.kw_defaults if d is not None)])
                continue
            if isinstance(n, (ast.Lambda, ast.GeneratorExp, ast.Yield, ast.YieldFrom, ast.Await)):
                return True
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in user:
                return True
            stack.extend(ast.iter_child_nodes(n))
        return False

    def _lookup(self, name, ctx):
        if name in ctx.shadowed:
            return UNKNOWN
        if ctx.deferred:
            return self._final.get(name, UNKNOWN)
        occ = self._bindings.get(name)
        if not occ:
            return UNKNOWN
        k = bisect.bisect_left(self._binding_index[name], ctx.index)  # bindings strictly above the read
        return occ[k - 1][1] if k else UNKNOWN

    # -- folding ------------------------------------------------------------
    def _fold(self, node, ctx, depth):
        if depth > _MAX_DEPTH:
            return UNKNOWN
        try:
            v = self._fold1(node, ctx, depth + 1)
        except RecursionError:
            return UNKNOWN
        except Exception:  # noqa: BLE001  (1/0, "a" < 1, ...: not a constant)
            return UNKNOWN
        if v is UNKNOWN or not _small(v):
            return UNKNOWN
        return v

    def _fold1(self, node, ctx, depth):
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, _SCALARS) else UNKNOWN
        if isinstance(node, ast.Name):
            return self._lookup(node.id, ctx)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                t = self._truth(node.operand, ctx, depth)
                return UNKNOWN if t is None else (not t)
            v = self._fold(node.operand, ctx, depth)
            if v is UNKNOWN or not isinstance(v, (int, float, complex)):
                return UNKNOWN
            return {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}[type(node.op)](v)
        if isinstance(node, ast.BinOp):
            a = self._fold(node.left, ctx, depth)
            b = self._fold(node.right, ctx, depth) if a is not UNKNOWN else UNKNOWN
            return UNKNOWN if b is UNKNOWN else _binop(node.op, a, b)
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And)
            v = UNKNOWN
            for operand in node.values:
                v = self._fold(operand, ctx, depth)
                if v is UNKNOWN:
                    return UNKNOWN
                if bool(v) != is_and:  # and: first falsy; or: first truthy
                    return v
            return v
        if isinstance(node, ast.Compare):
            left = self._fold(node.left, ctx, depth)
            if left is UNKNOWN:
                return UNKNOWN
            for op, comp in zip(node.ops, node.comparators):
                right = self._fold(comp, ctx, depth)
                if right is UNKNOWN:
                    return UNKNOWN
                if isinstance(op, (ast.Is, ast.IsNot)) and not any(x is None or isinstance(x, bool) for x in (left, right)):
                    return UNKNOWN  # identity of other constants is an implementation detail
                if not _CMPOPS[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            t = self._truth(node.test, ctx, depth)
            return UNKNOWN if t is None else self._fold(node.body if t else node.orelse, ctx, depth)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            if len(node.elts) > _MAX_LEN or any(isinstance(e, ast.Starred) for e in node.elts):
                return UNKNOWN
            vals = [self._fold(e, ctx, depth) for e in node.elts]
            if any(v is UNKNOWN for v in vals):
                return UNKNOWN
            return tuple(vals) if isinstance(node, ast.Tuple) else list(vals) if isinstance(node, ast.List) \
                else frozenset(vals)
        if isinstance(node, ast.NamedExpr):
            return UNKNOWN  # binds a name: its target is never constant; the value is folded for truth only
        return UNKNOWN

    def _truth(self, node, ctx, depth):
        """True / False when node's truth value is decided, else None. Knows more than _fold: `x and False`
        is falsy, `x or True` truthy, whatever x is."""
        if depth > _MAX_DEPTH:
            return None
        try:
            if isinstance(node, ast.BoolOp):
                is_and = isinstance(node.op, ast.And)
                ts = [self._truth(v, ctx, depth + 1) for v in node.values]
                if is_and:
                    return False if False in ts else True if all(t is True for t in ts) else None
                return True if True in ts else False if all(t is False for t in ts) else None
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                t = self._truth(node.operand, ctx, depth + 1)
                return None if t is None else not t
            if isinstance(node, ast.IfExp):
                t = self._truth(node.test, ctx, depth + 1)
                if t is not None:
                    return self._truth(node.body if t else node.orelse, ctx, depth + 1)
                a, b = self._truth(node.body, ctx, depth + 1), self._truth(node.orelse, ctx, depth + 1)
                return a if a is not None and a == b else None
            if isinstance(node, ast.NamedExpr):
                return self._truth(node.value, ctx, depth + 1)
            v = self._fold(node, ctx, depth + 1)
            return None if v is UNKNOWN else bool(v)
        except RecursionError:
            return None
        except Exception:  # noqa: BLE001
            return None

    # -- contexts -------------------------------------------------------------
    def _locals(self, scope):
        key = id(scope)
        if key not in self._locals_cache:
            try:
                self._locals_cache[key] = frozenset(_scope_locals(scope))
            except Exception:  # noqa: BLE001
                self._locals_cache[key] = _EVERYTHING
        return self._locals_cache[key]

    def _ancestors(self, node):
        out = []
        p = self._parents.get(id(node))
        while p is not None and len(out) < 10_000:
            out.append(p)
            p = self._parents.get(id(p))
        return out

    def _ctx_of(self, node):
        """The context an expression at node is evaluated in, from its enclosing scopes."""
        index, deferred, shadowed = len(self._body()), False, frozenset()
        prev = node
        for a in self._ancestors(node):
            if isinstance(a, _FUNCS):
                body = a.body if isinstance(a.body, list) else [a.body]
                if any(prev is b for b in body):  # not its defaults, decorators or annotations
                    deferred = True
                    shadowed = shadowed | self._locals(a)
            elif isinstance(a, ast.ClassDef):
                if any(prev is b for b in a.body):
                    shadowed = shadowed | self._locals(a)
            elif isinstance(a, _COMPS):
                shadowed = shadowed | self._locals(a)
            elif a is self.tree:
                for i, s in enumerate(self._body()):
                    if s is prev:
                        index = i
                        break
            prev = a
        return _Ctx(index, deferred, shadowed)

    # -- public -------------------------------------------------------------
    def truth(self, expr, at=None):
        """The truth value of expr (True / False) if it is decided, else None. `at`: the node whose context
        applies (default: expr itself, which must belong to this module's tree)."""
        try:
            return self._truth(expr, self._ctx_of(at if at is not None else expr), 0)
        except Exception:  # noqa: BLE001
            return None

    def value(self, expr, at=None):
        """The constant value of expr, or UNKNOWN."""
        try:
            return self._fold(expr, self._ctx_of(at if at is not None else expr), 0)
        except Exception:  # noqa: BLE001
            return UNKNOWN

    def constant_names(self) -> dict:
        """Module constants as functions see them (name -> value)."""
        return {k: v for k, v in self._final.items() if v is not UNKNOWN}

    def _terminates(self, stmt, ctx, depth=0) -> bool:
        """stmt always leaves its block (return, raise, break, continue; or an if whose live sides all do)."""
        if depth > _MAX_DEPTH:
            return False
        if isinstance(stmt, (ast.Return, ast.Raise, ast.Break, ast.Continue)):
            return True
        if isinstance(stmt, ast.If):
            t = self._truth(stmt.test, ctx, 0)
            sides = [stmt.body] if t is True else [stmt.orelse] if t is False else [stmt.body, stmt.orelse]
            return all(any(self._terminates(s, ctx, depth + 1) for s in side) for side in sides)
        return False

    def _live_block(self, stmts, ctx):
        out = []
        for s in stmts:
            out.append(s)
            if self._terminates(s, ctx):
                break
        return out

    def _live_children(self, node, ctx):
        """[(child, ctx)] of node that can run."""
        if isinstance(node, ast.Module):
            out = []
            for i, s in enumerate(node.body):
                c = _Ctx(i, False, frozenset())
                if not self.main_runs and is_main_guard(s):
                    out.append((s.test, c))
                    continue
                out.append((s, c))
            return out
        if isinstance(node, ast.If):
            if not self.main_runs and is_main_guard(node):
                return [(node.test, ctx)]
            t = self._truth(node.test, ctx, 0)
            kids = [node.test]
            kids += self._live_block(node.body, ctx) if t is not False else []
            kids += self._live_block(node.orelse, ctx) if t is not True else []
            return [(k, ctx) for k in kids]
        if isinstance(node, ast.While):
            t = self._truth(node.test, ctx, 0)
            kids = [node.test]
            kids += self._live_block(node.body, ctx) if t is not False else []
            kids += self._live_block(node.orelse, ctx) if t is not True else []
            return [(k, ctx) for k in kids]
        if isinstance(node, ast.IfExp):
            t = self._truth(node.test, ctx, 0)
            kids = [node.test] + ([node.body] if t is not False else []) + ([node.orelse] if t is not True else [])
            return [(k, ctx) for k in kids]
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And)
            kids = []
            for v in node.values:
                kids.append(v)
                if self._truth(v, ctx, 0) is (not is_and):  # and: stops at a decided falsy operand
                    break
            return [(k, ctx) for k in kids]
        if isinstance(node, _FUNCS):
            a = node.args
            outer = [*getattr(node, "decorator_list", []), *a.defaults, *(d for d in a.kw_defaults if d is not None)]
            outer += [x.annotation for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
                      if x is not None and x.annotation is not None]
            if getattr(node, "returns", None) is not None:
                outer.append(node.returns)
            inner = ctx.enter(node, self._locals(node), deferred=True)
            body = node.body if isinstance(node.body, list) else [node.body]
            body = self._live_block(body, inner) if isinstance(node.body, list) else body
            return [(k, ctx) for k in outer] + [(k, inner) for k in body]
        if isinstance(node, ast.ClassDef):
            outer = [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]
            inner = ctx.enter(node, self._locals(node))
            return [(k, ctx) for k in outer] + [(k, inner) for k in self._live_block(node.body, inner)]
        if isinstance(node, _COMPS):
            inner = ctx.enter(node, self._locals(node))
            return [(k, inner) for k in ast.iter_child_nodes(node)]
        out = []
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                items = [v for v in value if isinstance(v, ast.AST)]
                if field in _BLOCK_FIELDS and all(isinstance(v, ast.stmt) for v in items):
                    items = self._live_block(items, ctx)
                out.extend((v, ctx) for v in items)
            elif isinstance(value, ast.AST):
                out.append((value, ctx))
        return out

    def iter_live(self, node=None) -> list:
        """The nodes of node's subtree (default: the module) that can run, node included; like ast.walk with
        dead branches pruned. On any internal error: the whole subtree (everything live)."""
        root = self.tree if node is None else node
        cached = self._live_cache.get(id(root))
        if cached is not None and cached[0] is root:
            return cached[1]
        try:
            out = []
            stack = [(root, self._ctx_of(root) if root is not self.tree else _Ctx(0, False, frozenset()))]
            while stack:
                n, c = stack.pop()
                out.append(n)
                kids = self._live_children(n, c)
                stack.extend(reversed(kids))
            self._live_cache[id(root)] = (root, out)
            return out
        except Exception:  # noqa: BLE001
            return list(ast.walk(root))

    def is_live(self, node) -> bool:
        """False when node lies in code that can never run (by the rules above); True otherwise."""
        try:
            path = [node, *self._ancestors(node)][::-1]
            if path[0] is not self.tree:
                return True
            ctx = _Ctx(0, False, frozenset())
            for parent, child in zip(path, path[1:]):
                for k, c in self._live_children(parent, ctx):
                    if k is child:
                        ctx = c
                        break
                else:
                    return False
            return True
        except Exception:  # noqa: BLE001
            return True




# Methods the framework calls without the module naming them (nn.Module.__call__ -> forward, autograd.Function).
FRAMEWORK_METHODS = frozenset({"forward", "backward", "setup_context", "jvp", "vjp", "vmap", "extra_repr",
                               "_load_from_state_dict", "_save_to_state_dict", "_apply"})


def _reach(tree, consts: ModuleConstants, roots, methods_by_name=True):
    body = getattr(tree, "body", None) or []
    functions: dict = {}
    classes: dict = {}
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.setdefault(stmt.name, []).append(stmt)
        elif isinstance(stmt, ast.ClassDef):
            classes.setdefault(stmt.name, []).append(stmt)
    units: list = []
    seen: set = set()
    queue: list = []

    def add(node):
        if id(node) not in seen:
            seen.add(id(node))
            queue.append(node)

    pending: dict = {}  # method name -> methods of reached classes not reached yet
    named: set = set()  # attribute names (and strings) in reached code

    def add_class(cls):
        if id(cls) in seen:
            return
        seen.add(id(cls))
        for item in cls.body:
            if isinstance(item, ast.ClassDef):
                add_class(item)
            elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and methods_by_name:
                n = item.name
                for dec in item.decorator_list:
                    add(dec)  # run when the class is made
                if (n.startswith("__") and n.endswith("__")) or n in FRAMEWORK_METHODS or n in named:
                    add(item)
                else:
                    pending.setdefault(n, []).append(item)
            else:
                add(item)  # class-level statements (run at import; iter_live prunes them), or every method
        for base in cls.bases:
            if isinstance(base, ast.Name):
                for c in classes.get(base.id, []):
                    add_class(c)

    live_top = {id(n) for n, _ in consts._live_children(tree, None)} if isinstance(tree, ast.Module) else set()
    for stmt in body:
        if id(stmt) not in live_top:
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = stmt.args
            for d in [*stmt.decorator_list, *a.defaults, *(x for x in a.kw_defaults if x is not None)]:
                add(d)
        elif isinstance(stmt, ast.ClassDef):
            for d in [*stmt.decorator_list, *stmt.bases, *(k.value for k in stmt.keywords)]:
                add(d)
        elif not (not consts.main_runs and is_main_guard(stmt)):
            add(stmt)
    for root in roots:
        for fn in functions.get(root, []):
            add(fn)
    steps = 0
    while queue and steps < 100_000:
        steps += 1
        unit = queue.pop(0)
        units.append(unit)
        for node in consts.iter_live(unit):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                for fn in functions.get(node.id, []):
                    add(fn)
                for c in classes.get(node.id, []):
                    add_class(c)
            elif methods_by_name and (isinstance(node, ast.Attribute) or
                                      (isinstance(node, ast.Constant) and isinstance(node.value, str))):
                n = node.attr if isinstance(node, ast.Attribute) else node.value
                if n not in named and len(named) < 100_000:
                    named.add(n)
                for m in pending.pop(n, []):
                    add(m)
    return units, seen


def reachable_units(tree, consts: ModuleConstants, roots=(), methods_by_name: bool = True) -> list:
    """The code that can run: live module-level statements (decorators, defaults and bases of top-level
    defs and classes run at import; with main_runs=False the `__main__` block does not), the top-level
    functions named in roots (called from outside, e.g. by a grader), and, transitively, every top-level
    function or class a live node names. A class brings its class-level statements, its bases and its
    methods; with methods_by_name, only the methods reached code names as an attribute or a string
    (`self.step()`, `model.configure()`, `getattr(self, "f")`), dunders, and those the framework calls
    itself (FRAMEWORK_METHODS: forward, autograd.Function's backward, ...); a method nobody names is dead.
    A function named only in dead code is not reached. Each unit is walked with consts.iter_live."""
    try:
        return _reach(tree, consts, roots, methods_by_name)[0]
    except Exception:  # noqa: BLE001  (never reached here in practice; everything is reachable then)
        return list(getattr(tree, "body", None) or [])


def dead_functions(tree, consts: ModuleConstants, roots=(), methods_by_name: bool = True) -> list:
    """Names of top-level functions and classes that no code that can run names, and of methods
    (`Class.method`) of reached classes that nothing reached names (see reachable_units)."""
    try:
        _, seen = _reach(tree, consts, roots, methods_by_name)
    except Exception:  # noqa: BLE001
        return []
    out = []
    for s in getattr(tree, "body", None) or []:
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and id(s) not in seen:
            out.append(s.name)
        elif isinstance(s, ast.ClassDef):
            out += [f"{s.name}.{m.name}" for m in s.body
                    if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and id(m) not in seen]
    return out
