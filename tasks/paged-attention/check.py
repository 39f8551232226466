#!/usr/bin/env python3
"""Grader for the paged-attention task.

The grading is split into phases so that the submission never sees the seed,
the expected outputs, or the code that decides the verdict:

  prepare         (trusted)   make random inputs + float64 expected outputs
  run-submission  (UNTRUSTED) import the submission, call it on every case,
                              save its outputs; sees inputs.npz only
  compare         (trusted)   numpy-only; never imports the submission (reads
                              its source with `ast`); prints the verdict JSON

Running `check.py SUBMISSION.py` does all three on one machine: the expected
outputs stay in this process's memory (never written to disk) and the
untrusted phase runs in a child process whose stdout is not forwarded.

Every subcommand prints one compact JSON object as the last line of stdout.
Exit codes: prepare/compare 0 = ok, 2 = checker failure;
run-submission 0 = ran (submission errors are recorded in the outputs file),
3 = the submission could not be imported, 2 = checker failure;
standalone 0 = passed, 1 = failed, 2 = checker failure.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

FUNC_NAME = "paged_attention_decode"
PARAMS = ["query", "key_cache", "value_cache", "block_tables", "context_lens", "scale"]
FORMAT_VERSION = 1

# Tolerances: |out - expected| <= atol + rtol * |expected|, elementwise.
TOLERANCE = {
    "float32": (1e-4, 1e-4),
    "bfloat16": (3e-2, 3e-2),
    "float16": (1e-2, 1e-2),
}
REDUCED = ("bfloat16", "float16")

# Configurations. ctx_fixed are context lengths that must appear (1, a block
# multiple, the table's capacity); the remaining sequences get random lengths.
# extra_cols adds block-table columns beyond what the longest sequence needs.
CONFIGS = [
    dict(num_seqs=4, num_heads=8, head_dim=64, block_size=16, max_ctx=64,
         ctx_fixed=[1, 16, 64], extra_cols=0, index_dtype="int32", scale=None),
    dict(num_seqs=8, num_heads=2, head_dim=128, block_size=8, max_ctx=80,
         ctx_fixed=[1, 24, 80], extra_cols=2, index_dtype="int64", scale=0.05),
    dict(num_seqs=3, num_heads=2, head_dim=40, block_size=32, max_ctx=96,
         ctx_fixed=[1, 32, 96], extra_cols=1, index_dtype="int32", scale=None),
    dict(num_seqs=1, num_heads=12, head_dim=64, block_size=16, max_ctx=160,
         ctx_fixed=[160], extra_cols=0, index_dtype="int64", scale=0.2),
    dict(num_seqs=5, num_heads=3, head_dim=40, block_size=8, max_ctx=40,
         ctx_fixed=[1, 8, 40], extra_cols=3, index_dtype="int32", scale=0.3),
    dict(num_seqs=4, num_heads=2, head_dim=128, block_size=32, max_ctx=200,
         ctx_fixed=[1, 64, 200], extra_cols=1, index_dtype="int64", scale=None),
]
# (config index, dtype). fp32 for every config; reduced precision for some.
CASES = [(i, "float32") for i in range(len(CONFIGS))] + [
    (0, "bfloat16"), (2, "bfloat16"), (5, "bfloat16"),
    (1, "float16"), (4, "float16"),
]


class CheckerError(Exception):
    """A failure of the checker itself (bad arguments, unreadable trusted files)."""


def emit(obj) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------
# prepare (trusted)
# ---------------------------------------------------------------------------

def round_to_dtype(x: np.ndarray, dtype: str) -> np.ndarray:
    """float32 -> dtype -> float64, with round-to-nearest-even (as torch's cast)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if dtype == "float32":
        return x.astype(np.float64)
    if dtype == "float16":
        return x.astype(np.float16).astype(np.float64)
    if dtype == "bfloat16":
        bits = x.view(np.uint32).astype(np.uint64)
        bias = ((bits >> 16) & 1) + 0x7FFF
        rounded = ((bits + bias) & 0xFFFF0000).astype(np.uint32)
        return rounded.view(np.float32).astype(np.float64)
    raise ValueError(dtype)


def make_config(rng: np.random.Generator, cfg: dict) -> dict:
    S, H, D, bs = cfg["num_seqs"], cfg["num_heads"], cfg["head_dim"], cfg["block_size"]
    max_ctx = cfg["max_ctx"]
    ctx = list(cfg["ctx_fixed"])[:S]
    while len(ctx) < S:
        ctx.append(int(rng.integers(1, max_ctx + 1)))
    ctx = np.array(ctx, dtype=np.int64)
    rng.shuffle(ctx)
    width = -(-max_ctx // bs) + cfg["extra_cols"]
    needed = [-(-int(c) // bs) for c in ctx]
    total_needed = sum(needed)
    num_blocks = total_needed + max(4, total_needed // 3)

    # Garbage everywhere first: blocks not owned by any sequence and slots past
    # a sequence's context keep these values, so attending to them is visible.
    kc = (rng.standard_normal((num_blocks, H, bs, D)) * 4.0).astype(np.float32)
    sign = rng.choice(np.array([-1.0, 1.0]), size=(num_blocks, H, bs, 1))
    vc = (sign * rng.uniform(100.0, 1000.0, size=(num_blocks, H, bs, D))).astype(np.float32)

    perm = rng.permutation(num_blocks)
    tables = np.empty((S, width), dtype=np.int64)
    pos = 0
    for s in range(S):
        n = needed[s]
        tables[s, :n] = perm[pos:pos + n]
        pos += n
        # padding: any valid block index (others' blocks, pure garbage, 0)
        tables[s, n:] = rng.integers(0, num_blocks, size=width - n)
        for i in range(int(ctx[s])):
            b, o = tables[s, i // bs], i % bs
            kc[b, :, o, :] = rng.standard_normal((H, D)) * 1.5
            vc[b, :, o, :] = rng.standard_normal((H, D))
    query = rng.standard_normal((S, H, D)).astype(np.float32)
    scale = cfg["scale"] if cfg["scale"] is not None else 1.0 / math.sqrt(D)
    idt = np.int32 if cfg["index_dtype"] == "int32" else np.int64
    meta = dict(num_seqs=S, num_heads=H, head_dim=D, block_size=bs, num_blocks=num_blocks,
                max_blocks_per_seq=width, index_dtype=cfg["index_dtype"], scale=float(scale),
                context_lens=[int(c) for c in ctx])
    arrays = dict(query=query, key_cache=kc.astype(np.float32), value_cache=vc.astype(np.float32),
                  block_tables=tables.astype(idt), context_lens=ctx.astype(idt))
    return dict(meta=meta, arrays=arrays)


def reference_decode(q, kc, vc, tables, ctx, scale) -> np.ndarray:
    """Straightforward float64 reference with explicit loops (trusted code)."""
    S, H, D = q.shape
    bs = kc.shape[2]
    out = np.zeros((S, H, D), dtype=np.float64)
    for s in range(S):
        n = int(ctx[s])
        keys = np.empty((n, H, D))
        vals = np.empty((n, H, D))
        for i in range(n):
            b = int(tables[s, i // bs])
            keys[i] = kc[b, :, i % bs, :]
            vals[i] = vc[b, :, i % bs, :]
        for h in range(H):
            scores = keys[:, h, :] @ q[s, h] * scale
            w = np.exp(scores - scores.max())
            w /= w.sum()
            out[s, h] = w @ vals[:, h, :]
    return out


def prepare_data():
    """Returns (inputs dict of arrays, expected dict of arrays). Seed never leaves."""
    seed = int.from_bytes(os.urandom(16), "little")
    rng = np.random.default_rng(seed)
    del seed
    configs = [make_config(rng, c) for c in CONFIGS]
    inputs, expected = {}, {}
    for i, c in enumerate(configs):
        for name, arr in c["arrays"].items():
            inputs[f"c{i}_{name}"] = arr
    cases = []
    for j, (ci, dt) in enumerate(CASES):
        a = configs[ci]["arrays"]
        m = configs[ci]["meta"]
        exp = reference_decode(round_to_dtype(a["query"], dt), round_to_dtype(a["key_cache"], dt),
                               round_to_dtype(a["value_cache"], dt), a["block_tables"],
                               a["context_lens"], m["scale"])
        expected[f"case{j}"] = exp
        cases.append(dict(id=j, config=ci, dtype=dt, reduced=dt in REDUCED))
    meta = dict(version=FORMAT_VERSION, configs=[c["meta"] for c in configs], cases=cases)
    inputs["meta"] = np.array(json.dumps(meta))
    expected["meta"] = np.array(json.dumps(meta))
    return inputs, expected


def write_npz(path: str, arrays: dict) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def cmd_prepare(args) -> int:
    inputs, expected = prepare_data()
    in_path = os.path.join(args.out, "inputs.npz")
    exp_path = os.path.join(args.expected_out or args.out, "expected.npz")
    write_npz(in_path, inputs)
    if args.expected_out:
        os.makedirs(args.expected_out, mode=0o700, exist_ok=True)
    write_npz(exp_path, expected)
    os.chmod(exp_path, 0o600)  # helps only against a sandbox running as another user
    emit(dict(ok=True, inputs=os.path.abspath(in_path), expected=os.path.abspath(exp_path),
              cases=len(CASES), inputs_bytes=os.path.getsize(in_path)))
    return 0


# ---------------------------------------------------------------------------
# run-submission (UNTRUSTED: imports and calls the submission)
# ---------------------------------------------------------------------------

def _probe_dtype(torch, dt, device) -> str | None:
    """None if the ops a reasonable solution needs work in dt on device, else why not."""
    try:
        a = torch.randn(2, 4, 4).to(device=device, dtype=dt)
        (a @ a).sum()
        torch.bmm(a, a)
        torch.softmax(a, dim=-1)
        a.exp()
        a.masked_fill(a > 0, float("-inf"))
        torch.einsum("bij,bjk->bik", a, a)
        a.index_select(0, torch.tensor([1, 0], device=device))
        return None
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {str(e)[:160]}"


def _load_submission(path: str):
    import importlib.util
    spec = importlib.util.spec_from_file_location("submission", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = mod
    spec.loader.exec_module(mod)
    return mod


def cmd_run_submission(args) -> int:
    # Anything the submission writes to stdout goes to stderr, so the last line
    # of our stdout is ours. (Nothing from this phase is trusted anyway.)
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
        import torch
        with np.load(args.inputs, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(str(data["meta"]))
    except Exception:  # noqa: BLE001
        sys.stderr.write(traceback.format_exc())
        return finish(dict(ok=False, error="cannot load inputs"), 2)

    if args.device == "cuda" and not torch.cuda.is_available():
        return finish(dict(ok=False, error="--device cuda but cuda is not available"), 2)
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if use_cuda else "cpu")
    if use_cuda:  # exact fp32 matmuls, whatever the environment defaults are
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    status = dict(version=FORMAT_VERSION, device=device.type, torch=torch.__version__,
                  cuda_available=bool(torch.cuda.is_available()), import_error=None, cases=[])
    outputs = {}

    def save(code):
        try:
            outputs["status"] = np.array(json.dumps(status))
            write_npz(args.out, outputs)
        except Exception:  # noqa: BLE001
            sys.stderr.write(traceback.format_exc())
            return finish(dict(ok=False, error="cannot write outputs"), 2)
        n_err = sum(1 for c in status["cases"] if c["status"] == "error")
        return finish(dict(ok=True, device=device.type, cases=len(status["cases"]), errors=n_err,
                           import_error=status["import_error"] is not None), code)

    try:
        mod = _load_submission(args.submission)
        fn = getattr(mod, FUNC_NAME)
    except BaseException:  # noqa: BLE001  (SystemExit too)
        tb = traceback.format_exc()
        sys.stderr.write(tb)
        status["import_error"] = tb[-4000:]
        return save(3)

    dtypes = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    support = {name: _probe_dtype(torch, dt, device) for name, dt in dtypes.items()}
    sync = torch.cuda.synchronize if use_cuda else (lambda: None)
    idx = {"int32": torch.int32, "int64": torch.int64}

    for case in meta["cases"]:
        j, ci, dt_name = case["id"], case["config"], case["dtype"]
        cm = meta["configs"][ci]
        rec = dict(id=j, dtype=dt_name, status="ok", error=None, time_ms=None,
                   out_shape=None, out_dtype=None, out_device=None)
        status["cases"].append(rec)
        if support.get(dt_name) is not None and dt_name in REDUCED:
            rec["status"] = "unsupported"
            rec["error"] = (f"{dt_name} on {device.type}: not supported by torch "
                            f"{torch.__version__} ({support[dt_name]})")
            continue
        try:
            dt = dtypes[dt_name]
            q = torch.from_numpy(data[f"c{ci}_query"].copy()).to(device=device, dtype=dt)
            k = torch.from_numpy(data[f"c{ci}_key_cache"].copy()).to(device=device, dtype=dt)
            v = torch.from_numpy(data[f"c{ci}_value_cache"].copy()).to(device=device, dtype=dt)
            bt = torch.from_numpy(data[f"c{ci}_block_tables"].copy()).to(device=device, dtype=idx[cm["index_dtype"]])
            cl = torch.from_numpy(data[f"c{ci}_context_lens"].copy()).to(device=device, dtype=idx[cm["index_dtype"]])
            scale = float(cm["scale"])
            sync()
            t0 = time.perf_counter()
            out = fn(q, k, v, bt, cl, scale)
            sync()
            rec["time_ms"] = round((time.perf_counter() - t0) * 1000.0, 4)
            if not isinstance(out, torch.Tensor):
                raise TypeError(f"returned {type(out).__name__}, expected torch.Tensor")
            rec["out_shape"] = [int(x) for x in out.shape]
            rec["out_dtype"] = str(out.dtype).replace("torch.", "")
            rec["out_device"] = out.device.type
            outputs[f"out{j}"] = out.detach().to(device="cpu", dtype=torch.float32).contiguous().numpy()
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            rec["status"] = "error"
            rec["error"] = traceback.format_exc()[-2000:]
    return save(0)


# ---------------------------------------------------------------------------
# compare (trusted; numpy only; the submission is only parsed, never run)
# ---------------------------------------------------------------------------

BANNED_CALL_NAMES = {"exec", "eval", "compile", "__import__", "map", "filter", "reduce",
                     "__builtins__", "breakpoint"}
BANNED_ATTRS = {"import_module", "vectorize", "frompyfunc", "apply_", "map_", "map2_",
                "apply_along_axis", "apply_over_axes", "__builtins__"}
BANNED_MODULES = {"itertools", "importlib", "builtins"}
BANNED_STRINGS = {"exec", "eval", "compile", "__import__", "import_module", "map", "filter",
                  "reduce"}


def check_defines_function(tree) -> dict:
    name = "defines_function"
    if tree is None:
        return dict(name=name, passed=False, detail="submission source could not be parsed")
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == FUNC_NAME]
    if not defs:
        return dict(name=name, passed=False, detail=f"no top-level `def {FUNC_NAME}(...)`")
    fn = defs[-1]
    positional = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    if positional[:6] != PARAMS:
        return dict(name=name, passed=False,
                    detail=f"parameters are ({', '.join(positional)}); expected ({', '.join(PARAMS)})")
    n_defaults = len(fn.args.defaults)
    if len(positional) - n_defaults > 6:
        return dict(name=name, passed=False, detail="extra required parameters after `scale`")
    return dict(name=name, passed=True, detail=f"line {fn.lineno}: def {FUNC_NAME}({', '.join(PARAMS)})")


def _find_offences(tree) -> list[str]:
    found = []
    functools_aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                root = a.name.split(".")[0]
                if root in BANNED_MODULES:
                    found.append((node.lineno, f"import {a.name}"))
                if root == "functools":
                    functools_aliases.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            root = (node.module or "").split(".")[0]
            if root in BANNED_MODULES:
                found.append((node.lineno, f"from {node.module} import ..."))
            for a in node.names:
                if a.name in BANNED_CALL_NAMES or a.name in BANNED_ATTRS:
                    found.append((node.lineno, f"from {node.module} import {a.name}"))
    kinds = {ast.For: "for loop", ast.AsyncFor: "async for loop", ast.While: "while loop",
             ast.ListComp: "list comprehension", ast.SetComp: "set comprehension",
             ast.DictComp: "dict comprehension", ast.GeneratorExp: "generator expression"}
    for node in ast.walk(tree):
        for k, label in kinds.items():
            if isinstance(node, k):
                found.append((node.lineno, label))
        if isinstance(node, ast.Name) and node.id in BANNED_CALL_NAMES:
            found.append((node.lineno, f"use of `{node.id}`"))
        elif isinstance(node, ast.Attribute):
            if node.attr in BANNED_ATTRS:
                found.append((node.lineno, f"use of `.{node.attr}`"))
            elif node.attr == "reduce" and isinstance(node.value, ast.Name) and \
                    node.value.id in functools_aliases:
                found.append((node.lineno, f"use of `{node.value.id}.reduce`"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                node.value in BANNED_STRINGS:
            found.append((node.lineno, f"string constant {node.value!r} (dynamic lookup)"))
    found.extend(_find_recursion(tree))
    return [f"line {ln}: {what}" for ln, what in sorted(set(found))]


def _find_recursion(tree) -> list:
    """Functions (def or name = lambda) that reach themselves through calls by name."""
    bodies = {}
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
                    line = bodies[start][0].lineno
                    out.append((line, "recursion: " + " -> ".join(path + [start])))
                    stack = []
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    return out


def check_no_loops(tree) -> dict:
    name = "no_loops"
    if tree is None:
        return dict(name=name, passed=False, detail="submission source could not be parsed")
    offences = _find_offences(tree)
    if offences:
        shown = "; ".join(offences[:20]) + (f"; ... (+{len(offences) - 20} more)" if len(offences) > 20 else "")
        return dict(name=name, passed=False, detail=shown)
    return dict(name=name, passed=True,
                detail="no loops, comprehensions, recursion, exec/eval or functional iteration")


def _parse_source(source: bytes | None):
    if source is None:
        return None, "submission file unreadable"
    try:
        return ast.parse(source), None
    except Exception as e:  # noqa: BLE001  (SyntaxError, ValueError, RecursionError, ...)
        return None, f"cannot parse submission: {type(e).__name__}: {str(e)[:300]}"


def _load_outputs(path: str):
    """Returns (status dict, arrays dict, error str or None). Never raises."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        status = json.loads(str(arrays.pop("status")))
        if not isinstance(status, dict) or not isinstance(status.get("cases"), list):
            raise ValueError("status is not a dict with a `cases` list")
        return status, arrays, None
    except Exception as e:  # noqa: BLE001
        return None, {}, f"outputs file missing or malformed ({type(e).__name__}: {str(e)[:200]})"


def _describe(cm: dict, dt: str) -> str:
    return (f"seqs={cm['num_seqs']} heads={cm['num_heads']} dim={cm['head_dim']} "
            f"block={cm['block_size']} table={cm['index_dtype']}x{cm['max_blocks_per_seq']} "
            f"scale={cm['scale']:.4g} ctx={cm['context_lens']} dtype={dt}")


def _check_case(case, cm, expected, status, arrays, out_err) -> dict:
    j, dt = case["id"], case["dtype"]
    name = f"case_{j}_{dt}"
    desc = _describe(cm, dt)
    try:
        if out_err is not None:
            return dict(name=name, passed=False, detail=f"{desc}: {out_err}")
        if status.get("import_error"):
            first = str(status["import_error"]).strip().splitlines()[-1:] or ["?"]
            return dict(name=name, passed=False, detail=f"{desc}: submission import failed: {first[0][:300]}")
        recs = [r for r in status["cases"] if isinstance(r, dict) and r.get("id") == j]
        if not recs:
            return dict(name=name, passed=False, detail=f"{desc}: no result recorded")
        rec = recs[0]
        st = rec.get("status")
        if st == "unsupported":
            if dt in REDUCED and status.get("device") == "cpu":
                return dict(name=name, passed=None, detail=f"skipped: {str(rec.get('error'))[:300]}")
            return dict(name=name, passed=False, detail=f"{desc}: claimed unsupported on {status.get('device')}")
        if st != "ok":
            err = str(rec.get("error") or "").strip().splitlines()
            return dict(name=name, passed=False, detail=f"{desc}: raised {(err[-1] if err else '?')[:300]}")
        if rec.get("out_dtype") != dt:
            return dict(name=name, passed=False, detail=f"{desc}: output dtype {rec.get('out_dtype')}, expected {dt}")
        out = arrays.get(f"out{j}")
        if out is None or not isinstance(out, np.ndarray) or out.dtype.kind != "f":
            return dict(name=name, passed=False, detail=f"{desc}: output array missing")
        if tuple(out.shape) != tuple(expected.shape):
            return dict(name=name, passed=False,
                        detail=f"{desc}: output shape {list(out.shape)}, expected {list(expected.shape)}")
        out = out.astype(np.float64)
        if not np.all(np.isfinite(out)):
            return dict(name=name, passed=False, detail=f"{desc}: output has NaN/Inf")
        atol, rtol = TOLERANCE[dt]
        diff = np.abs(out - expected)
        ratio = float(np.max(diff / (atol + rtol * np.abs(expected))))
        max_abs = float(diff.max())
        ok = ratio <= 1.0
        t = rec.get("time_ms")
        timing = f" time={t}ms" if isinstance(t, (int, float)) else ""
        return dict(name=name, passed=bool(ok),
                    detail=f"{desc}: max_abs_err={max_abs:.3g} worst_err/tol={ratio:.3g} "
                           f"(atol={atol:g} rtol={rtol:g}){timing}")
    except Exception as e:  # noqa: BLE001
        return dict(name=name, passed=False, detail=f"{desc}: checker could not evaluate output ({type(e).__name__}: {e})")


def compare(expected: dict, outputs_path: str, source: bytes | None) -> dict:
    meta = json.loads(str(expected["meta"]))
    tree, parse_err = _parse_source(source)
    checks = []
    for name, fn in (("defines_function", check_defines_function), ("no_loops", check_no_loops)):
        try:
            c = fn(tree)
        except Exception as e:  # noqa: BLE001
            c = dict(name=name, passed=False, detail=f"could not analyse source: {type(e).__name__}: {e}")
        if parse_err:
            c["detail"] = parse_err
        checks.append(c)

    status, arrays, out_err = _load_outputs(outputs_path)
    if status is not None:
        dev = status.get("device")
        detail = f"ran on {dev} (torch {status.get('torch')})"
        if dev == "cpu":
            detail += "; cuda: " + ("available but not used" if status.get("cuda_available") else "not available")
        checks.append(dict(name="ran_on", passed=None, detail=detail))
    else:
        checks.append(dict(name="ran_on", passed=None, detail=f"unknown: {out_err}"))

    for case in meta["cases"]:
        cm = meta["configs"][case["config"]]
        c = _check_case(case, cm, expected[f"case{case['id']}"], status or {}, arrays, out_err)
        if case["dtype"] == "float32" and c["passed"] is None:  # fp32 must always run
            c["passed"] = False
        checks.append(c)

    graded = [c for c in checks if c["passed"] is not None]
    score = sum(1 for c in graded if c["passed"]) / len(graded) if graded else 0.0
    # fp32 cases are never skippable, so "every graded check passed" implies they ran.
    passed = bool(graded) and all(c["passed"] for c in graded) and \
        checks[0]["passed"] is True and checks[1]["passed"] is True
    return dict(passed=bool(passed), score=round(float(score), 6), checks=checks)


def _read_source(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _load_expected(path: str) -> dict:
    try:
        with np.load(path, allow_pickle=False) as z:
            exp = {k: z[k] for k in z.files}
        meta = json.loads(str(exp["meta"]))
        for case in meta["cases"]:
            exp[f"case{case['id']}"]  # noqa: B018  (presence check)
        return exp
    except Exception as e:  # noqa: BLE001
        raise CheckerError(f"cannot load expected file {path}: {type(e).__name__}: {e}") from e


def cmd_compare(args) -> int:
    expected = _load_expected(args.expected)
    emit(compare(expected, args.outputs, _read_source(args.submission)))
    return 0


# ---------------------------------------------------------------------------
# standalone: prepare (in memory) -> run-submission (child process) -> compare
# ---------------------------------------------------------------------------

def _run_child(cmd, cwd, log_dir, timeout):
    """Run the untrusted phase in its own session; stdout/stderr go to files (not
    pipes) so lingering grandchildren cannot block us. Returns (rc or None, stderr)."""
    out_f = open(os.path.join(log_dir, "child.stdout"), "wb")
    err_path = os.path.join(log_dir, "child.stderr")
    err_f = open(err_path, "wb")
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out_f,
                                stderr=err_f, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        try:  # whatever the child left behind in its process group goes too
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
    inputs, expected = prepare_data()  # expected stays in this process's memory only
    work = tempfile.mkdtemp(prefix="paged-attn-run-")
    logs = tempfile.mkdtemp(prefix="paged-attn-log-")
    try:
        sub_copy = os.path.join(work, "submission.py")
        with open(sub_copy, "wb") as f:
            f.write(source)
        in_path = os.path.join(work, "inputs.npz")
        out_path = os.path.join(work, "outputs.npz")
        write_npz(in_path, inputs)
        cmd = [sys.executable, os.path.abspath(__file__), "run-submission", "--submission", sub_copy,
               "--inputs", in_path, "--out", out_path, "--device", args.device]
        rc, child_err = _run_child(cmd, work, logs, args.timeout)
        if args.verbose:
            sys.stderr.write(f"[run-submission rc={rc}] stderr tail:\n{child_err[-3000:]}\n")
        if rc is None and os.path.exists(out_path):
            os.remove(out_path)
        # The child's exit code is untrusted (the submission controls that process),
        # so it is reported, never treated as a checker failure.
        verdict = compare(expected, out_path, source)
        tail = [ln for ln in child_err.strip().splitlines() if ln.strip()][-1:]
        info = "timed out after %gs" % args.timeout if rc is None else f"exit code {rc}"
        if rc not in (0, None) and tail:
            info += f"; last stderr line: {tail[0][:300]}"
        verdict["checks"].insert(3, dict(name="run_submission", passed=None, detail=info))
        if rc is None:
            verdict["checks"].append(dict(name="timeout", passed=False, detail=info))
            graded = [c for c in verdict["checks"] if c["passed"] is not None]
            verdict["passed"] = False
            verdict["score"] = round(sum(1 for c in graded if c["passed"]) / len(graded), 6)
        sys.stderr.write(f"[check.py] standalone run took {time.perf_counter() - t0:.2f}s\n")
        emit(verdict)
        return 0 if verdict["passed"] else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)


# ---------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):  # bad arguments are a checker failure: exit 2 + JSON
        self.print_usage(sys.stderr)
        raise CheckerError(f"bad arguments: {message}")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in ("prepare", "run-submission", "compare"):
            p = _Parser(prog="check.py", description=__doc__.splitlines()[0])
            sub = p.add_subparsers(dest="cmd", required=True)
            sp = sub.add_parser("prepare", help="trusted: write inputs.npz and expected.npz")
            sp.add_argument("--out", required=True, help="directory for inputs.npz (and expected.npz)")
            sp.add_argument("--expected-out", default=None,
                            help="separate directory for expected.npz (default: --out)")
            sp = sub.add_parser("run-submission", help="UNTRUSTED: run the submission on inputs.npz")
            sp.add_argument("--submission", required=True)
            sp.add_argument("--inputs", required=True)
            sp.add_argument("--out", required=True)
            sp.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
            sp = sub.add_parser("compare", help="trusted: grade outputs against expected.npz")
            sp.add_argument("--expected", required=True)
            sp.add_argument("--outputs", required=True)
            sp.add_argument("--submission", required=True)
            args = p.parse_args(argv)
            return {"prepare": cmd_prepare, "run-submission": cmd_run_submission,
                    "compare": cmd_compare}[args.cmd](args)
        p = _Parser(prog="check.py", description="standalone: prepare + run-submission + compare")
        p.add_argument("submission")
        p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
        p.add_argument("--timeout", type=float, default=300.0)
        p.add_argument("--verbose", action="store_true", help="show the child's stderr")
        args = p.parse_args(argv)
        return cmd_standalone(args)
    except CheckerError as e:
        emit(dict(error=str(e)[:4000]))
        return 2
    except Exception as e:  # noqa: BLE001
        sys.stderr.write(traceback.format_exc())
        emit(dict(error=f"checker failure: {type(e).__name__}: {str(e)[:2000]}"))
        return 2


if __name__ == "__main__":
    sys.exit(main())
