#!/usr/bin/env python3
"""Grader for neural-memory-progressive: one step (a concept) of a Titans-style memory per sample. Task
logic only: the phases, the isolated runner, the verdict file and the static rule set come from the shared
check library (src/grading/python/envbench_check.py).

  prepare  (trusted)    --step S: random probe inputs for the step -> inputs.npz, expected.npz
  run      (UNTRUSTED)  in the library's isolated child: the step's probe on the submission; its results
                        leave the child only through the library's pipe
  compare  (trusted)    never imports the submission: parses, sandbox_safe (the shared rules), interface,
                        and every runtime check decided from the raw arrays here

`/usr/bin/python3 tasks/neural-memory-progressive/check.py SUBMISSION.py --step S` runs all three.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import sys
import traceback

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(_here, *[".."] * n, "src", "grading", "python") for n in (2, 3)]
import envbench_check as ec  # noqa: E402

import numpy as np  # noqa: E402

# What a file may use: the shared default (the probes run in the submission's process).
RULES = ec.DEFAULT_RULES

FORMAT_VERSION = 1
STEPS = ("memory-structure", "surprise", "update-decay", "fusion", "full")

# What each step's file must define: class -> methods (looked up through classes of the same file).
INTERFACE = {
    "memory-structure": {"NeuralMemory": ("reset", "write", "read")},
    "surprise": {"NeuralMemory": ("reset", "write", "read", "surprise")},
    "update-decay": {"NeuralMemory": ("reset", "write", "read")},
    "fusion": {"MemoryAttentionFusion": ("forward",)},
    "full": {"SimpleTransformer": ("forward",), "NeuralMemory": ("forward",)},
}

# Runtime checks per step, in report order (a failed import or probe still reports each one).
RUNTIME_CHECKS = {
    "memory-structure": ("runs", "fixed_size_state", "matrix_state", "outer_product_write", "recall"),
    "surprise": ("runs", "surprise_range", "surprise_tracks_error", "surprise_uses_memory",
                 "surprise_learnable", "write_gated_by_surprise", "write_stores"),
    "update-decay": ("runs", "old_content_decays", "decay_learnable", "decay_bounded", "write_stores"),
    "fusion": ("runs", "convex_blend", "complementary", "gate_mixes", "gate_learned"),
    "full": ("runs", "causal", "memory_module", "memory_matters", "memory_recurrent", "memory_trains"),
}


def _check(name, passed, detail) -> dict:
    return ec.check(name, passed, detail)


def _live_module(tree):
    """The module as imported: top-level `if __name__ == "__main__":` bodies dropped (else kept)."""
    return ec.without_main_block(tree)


def _bases(node) -> list:
    return [b.attr if isinstance(b, ast.Attribute) else b.id if isinstance(b, ast.Name) else "" for b in node.bases]


def interface_problems(tree, step) -> list:
    """Required classes (top level, nn.Module subclasses, directly or through classes of this file) and
    their methods (defined in the class or a base class of this file)."""
    live = _live_module(tree)
    classes = {n.name: n for n in live.body if isinstance(n, ast.ClassDef)}
    problems = []
    for cname, methods in INTERFACE[step].items():
        if cname not in classes:
            problems.append(f"no top-level class `{cname}`")
            continue
        mro, todo = [], [cname]
        while todo:
            c = todo.pop(0)
            if c in classes and c not in mro:
                mro.append(c)
                todo.extend(_bases(classes[c]))
        if not any("Module" in _bases(classes[c]) for c in mro):
            problems.append(f"`{cname}` is not an nn.Module subclass")
        have = {st.name for c in mro for st in classes[c].body if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef))}
        missing = [m for m in methods if m not in have]
        if missing:
            problems.append(f"`{cname}` has no {', '.join(f'`{m}()`' for m in missing)}")
    return problems


def static_checks(source, step) -> list:
    if source is None:
        return [_check(n, False, "submission file unreadable") for n in ("parses", "sandbox_safe", "interface")]
    tree, why = ec.parse_source(source)
    if tree is None:
        return [_check("parses", False, why)] + [_check(n, False, why) for n in ("sandbox_safe", "interface")]
    checks = [_check("parses", True, "the submission is valid Python")]
    try:
        checks.append(ec.rules_check("sandbox_safe", tree, RULES,
                                     "imports only allowed modules; no file, process or interpreter access, no monkeypatching"))
    except RecursionError:
        checks.append(_check("sandbox_safe", False, "source too deeply nested to analyse"))
    problems = interface_problems(tree, step)
    wanted = "; ".join(f"{c}({', '.join(ms)})" for c, ms in INTERFACE[step].items())
    checks.append(_check("interface", not problems, "; ".join(problems) if problems else f"defines {wanted}"))
    return checks


def _orthonormal(rng, batch, n, d):
    """[batch, n, d]: n orthonormal keys per row."""
    q = np.linalg.qr(rng.standard_normal((batch, d, n)))[0]  # [batch, d, n], orthonormal columns
    return np.ascontiguousarray(q.transpose(0, 2, 1))


def prepare_data(step, seed) -> dict:
    """Float arrays are float32, as the submission gets them; nothing here is secret, every check is a
    property of the submitted code decided in compare."""
    rng = np.random.default_rng(seed)
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    data = dict(version=np.array(FORMAT_VERSION), step=np.array(STEPS.index(step)),
                seed=np.array(int(rng.integers(0, 2 ** 31 - 1))))
    if step in ("memory-structure", "surprise", "update-decay"):
        d = int(rng.choice([12, 16, 20]))
        data["d"] = np.array(d)
    if step == "memory-structure":
        B, n, extra = 4, d // 2, 3 * d
        data.update(batch=np.array(B), keys=f32(_orthonormal(rng, B, n, d)),
                    values=f32(rng.standard_normal((B, n, d))),
                    k1=f32(rng.standard_normal((B, d)) / np.sqrt(d)), v1=f32(rng.standard_normal((B, d))),
                    extra_keys=f32(rng.standard_normal((extra, B, d)) / np.sqrt(d)),
                    extra_values=f32(rng.standard_normal((extra, B, d))))
    elif step == "surprise":
        B, n = 16, d // 2
        keys = _orthonormal(rng, B, n, d)
        values = rng.standard_normal((B, n, d))
        other = rng.standard_normal((B, n, d))
        other *= np.linalg.norm(values, axis=-1, keepdims=True) / np.linalg.norm(other, axis=-1, keepdims=True)
        # The memory as it would be after storing every (key, value): sum_j v_j k_j^T, so M k_j = v_j.
        stored = np.einsum("bni,bnj->bij", values, keys)
        data.update(batch=np.array(B), keys=f32(keys), values=f32(values), other_values=f32(other),
                    stored=f32(stored))
    elif step == "update-decay":
        B = 8
        k = rng.standard_normal((B, d)) / np.sqrt(d)
        data.update(batch=np.array(B), old=f32(rng.standard_normal((B, d, d)) / np.sqrt(d)), k=f32(k),
                    v=f32(rng.standard_normal((B, d))))
    elif step == "fusion":
        d, B, T = int(rng.choice([16, 24, 32])), 2, 7
        data.update(d=np.array(d), attn=f32(rng.standard_normal((B, T, d))), mem=f32(rng.standard_normal((B, T, d))))
    elif step == "full":
        vocab, T = int(rng.integers(40, 73)), 13
        ids = rng.integers(0, vocab, size=(2, T))
        p = int(rng.integers(4, 9))
        pert = ids.copy()
        pert[:, p] = (pert[:, p] + rng.integers(1, vocab, size=2)) % vocab
        data.update(vocab=np.array(vocab), d_model=np.array(32), n_heads=np.array(4), n_layers=np.array(2),
                    max_seq_len=np.array(24), ids=ids.astype(np.int64), ids_short=rng.integers(0, vocab, size=(1, 5)).astype(np.int64),
                    perturbed=pert.astype(np.int64), position=np.array(p),
                    targets=rng.integers(0, vocab, size=(2, T)).astype(np.int64))
    return data


def _save_npz(path, arrays, mode=None):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    if mode is not None:
        os.chmod(path, mode)


def _load_npz(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def prepare(out_dir: str, device: str, step: str) -> None:
    if step not in STEPS:
        raise ec.CheckerError(f"--step must be one of {', '.join(STEPS)}, got {step!r}")
    data = prepare_data(step, secrets.randbits(62))
    _save_npz(os.path.join(out_dir, "inputs.npz"), data)
    _save_npz(os.path.join(out_dir, "expected.npz"), data)


class ProbeError(Exception):
    """The submission misbehaved in a way the probe reports (wrong type or shape)."""


class _Rec:
    """What the probe saw: arrays (float64) and a JSON status, written to outputs.npz."""

    def __init__(self, torch):
        self.torch = torch
        self.arrays = {}
        self.status = dict(stage="start", error=None)

    def stage(self, name):
        self.status["stage"] = name

    def put(self, name, t):
        self.arrays[name] = t.detach().to("cpu", self.torch.float64).numpy().copy()


def _load_submission(path: str):
    import importlib.util
    spec = importlib.util.spec_from_file_location("submission", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = mod
    spec.loader.exec_module(mod)
    return mod


def _cls(torch, mod, name):
    c = mod.__dict__.get(name)
    if not (isinstance(c, type) and issubclass(c, torch.nn.Module)):
        raise ProbeError(f"the module defines no nn.Module subclass named {name}")
    return c


def _tensor(torch, out, what, shape=None):
    """The submission's return value as a tensor: a tuple/list gives its first element."""
    if isinstance(out, (tuple, list)) and out:
        out = out[0]
    if not isinstance(out, torch.Tensor):
        raise ProbeError(f"{what} returned {type(out).__name__}, not a tensor")
    if not out.is_floating_point():
        raise ProbeError(f"{what} returned a {out.dtype} tensor, not floating point")
    if shape is not None and tuple(out.shape) != tuple(shape):
        raise ProbeError(f"{what} returned shape {tuple(out.shape)}, expected {tuple(shape)}")
    return out


def _state_tensors(torch, module, limit=4):
    """Every tensor a module (and its submodules) holds: attributes, buffers, parameters, and tensors in
    lists/tuples/dicts (a growing cache). Returns [(name, tensor)]."""
    out = []

    def walk(name, v, depth):
        if isinstance(v, torch.Tensor):
            out.append((name, v))
        elif depth < limit and isinstance(v, (list, tuple)):
            for i, x in enumerate(v):
                walk(f"{name}[{i}]", x, depth + 1)
        elif depth < limit and isinstance(v, dict):
            for k, x in list(v.items()):
                walk(f"{name}[{k!r}]", x, depth + 1)

    for mname, m in module.named_modules():
        d = object.__getattribute__(m, "__dict__")
        for k, v in list(d.items()):
            if k == "_modules":
                continue
            walk(f"{mname}.{k}" if mname else k, v, 0)
    return out


def probe_memory_structure(torch, mod, inp, rec):
    d, B = int(inp["d"]), int(inp["batch"])
    T = lambda k: torch.from_numpy(inp[k]).clone()  # noqa: E731
    keys, values, k1, v1 = T("keys"), T("values"), T("k1"), T("v1")
    ek, ev = T("extra_keys"), T("extra_values")
    cls = _cls(torch, mod, "NeuralMemory")
    rec.stage("build")
    torch.manual_seed(int(inp["seed"]))
    mem = cls(d)
    with torch.no_grad():
        rec.stage("reset")
        mem.reset(B)
        before = {n: t for n, t in _state_tensors(torch, mem) if tuple(t.shape[-2:]) == (d, d)}
        for n, t in before.items():
            rec.put("s0:" + n, t)
        rec.stage("write")
        mem.write(k1.clone(), v1.clone())
        states = _state_tensors(torch, mem)
        rec.status["count_one"] = int(sum(t.numel() for _, t in states))
        for n, t in states:
            if tuple(t.shape[-2:]) == (d, d):
                rec.put("s1:" + n, t)
        rec.stage("recall")
        mem.reset(B)
        for j in range(keys.shape[1]):
            mem.write(keys[:, j].clone(), values[:, j].clone())
        reads = [_tensor(torch, mem.read(keys[:, j].clone()), "read(query)", (B, d)) for j in range(keys.shape[1])]
        rec.put("reads", torch.stack(reads, dim=1))
        rec.status["count_pairs"] = int(sum(t.numel() for _, t in _state_tensors(torch, mem)))
        rec.stage("many writes")
        for e in range(ek.shape[0]):
            mem.write(ek[e].clone(), ev[e].clone())
        rec.status["count_many"] = int(sum(t.numel() for _, t in _state_tensors(torch, mem)))


def _memory_state(torch, mem, B, d, what):
    M = getattr(mem, "M", None)
    if not isinstance(M, torch.Tensor):
        raise ProbeError(f"after {what}, `self.M` is {type(M).__name__}, not a tensor (keep the memory in self.M)")
    if tuple(M.shape) != (B, d, d):
        raise ProbeError(f"after {what}, `self.M` has shape {tuple(M.shape)}, expected {(B, d, d)}")
    return M


def _grads(torch, module, rec, prefix):
    names = []
    for n, p in module.named_parameters():
        if p.grad is not None and float(p.grad.detach().abs().sum()) > 0:
            names.append(n)
    rec.status[prefix + "_params"] = [n for n, p in module.named_parameters() if p.requires_grad]
    rec.status[prefix + "_nonzero"] = names
    return names


def probe_surprise(torch, mod, inp, rec):
    d, B = int(inp["d"]), int(inp["batch"])
    T = lambda k: torch.from_numpy(inp[k]).clone()  # noqa: E731
    keys, values, other, stored = T("keys"), T("values"), T("other_values"), T("stored")
    n = min(4, keys.shape[1])
    cls = _cls(torch, mod, "NeuralMemory")
    rec.stage("build")
    torch.manual_seed(int(inp["seed"]))
    mem = cls(d)
    mem.reset(B)

    def holding():
        mem.reset(B)
        mem.M = stored.clone()

    def score(k, v, what):
        s = _tensor(torch, mem.surprise(k.clone(), v.clone()), what)
        if s.numel() != B:
            raise ProbeError(f"{what} returned shape {tuple(s.shape)}, expected one score per batch row ({B},)")
        return s.reshape(B)

    with torch.no_grad():
        rec.stage("surprise")
        good, bad = [], []
        for j in range(n):
            holding()
            good.append(score(keys[:, j], values[:, j], "surprise(key, value)"))
            bad.append(score(keys[:, j], other[:, j], "surprise(key, value)"))
        rec.put("s_good", torch.stack(good))
        rec.put("s_bad", torch.stack(bad))
        mem.reset(B)
        rec.put("s_empty", torch.stack([score(keys[:, j], values[:, j], "surprise(key, value)") for j in range(n)]))
        rec.stage("write")
        holding()
        mem.write(keys[:, 0].clone(), values[:, 0].clone())
        rec.put("dM_good", _memory_state(torch, mem, B, d, "write") - stored)
        holding()
        mem.write(keys[:, 0].clone(), other[:, 0].clone())
        rec.put("dM_bad", _memory_state(torch, mem, B, d, "write") - stored)
        rec.stage("write then read")
        mem.reset(B)
        mem.write(keys[:, 0].clone(), values[:, 0].clone())
        rec.put("read_back", _tensor(torch, mem.read(keys[:, 0].clone()), "read(query)", (B, d)))
    rec.stage("surprise gradient")
    holding()
    mem.zero_grad()
    s = score(keys[:, 0], other[:, 0], "surprise(key, value)")
    if s.requires_grad:
        s.sum().backward()
    _grads(torch, mem, rec, "surprise")


def probe_update_decay(torch, mod, inp, rec):
    d, B = int(inp["d"]), int(inp["batch"])
    T = lambda k: torch.from_numpy(inp[k]).clone()  # noqa: E731
    old, k, v = T("old"), T("k"), T("v")
    kh = k / k.norm(dim=-1, keepdim=True)
    # Projector onto the directions orthogonal to the written key: there, only forgetting changes M.
    P = torch.eye(d).expand(B, d, d) - kh.unsqueeze(-1) * kh.unsqueeze(-2)
    cls = _cls(torch, mod, "NeuralMemory")
    rec.stage("build")
    torch.manual_seed(int(inp["seed"]))
    mem = cls(d)

    def write_on_old():
        mem.reset(B)
        mem.M = old.clone()
        mem.write(k.clone(), v.clone())
        return _memory_state(torch, mem, B, d, "write")

    rec.stage("write")
    with torch.no_grad():
        rec.put("M_new", write_on_old())
    rec.stage("decay gradient")
    mem.zero_grad()
    M = write_on_old()
    if M.requires_grad:
        (M @ P).pow(2).sum().backward()
    learn = _grads(torch, mem, rec, "decay")
    rec.stage("decay parameters pushed")
    params = dict(mem.named_parameters())
    with torch.no_grad():
        saved = {n: params[n].detach().clone() for n in learn}
        for tag, delta in (("plus", 8.0), ("minus", -8.0)):
            for n in learn:
                params[n].copy_(saved[n] + delta)
            rec.put("M_" + tag, write_on_old())
        for n in learn:
            params[n].copy_(saved[n])
        rec.stage("write then read")
        mem.reset(B)
        mem.write(k.clone(), v.clone())
        rec.put("read_back", _tensor(torch, mem.read(k.clone()), "read(query)", (B, d)))


def probe_fusion(torch, mod, inp, rec):
    d = int(inp["d"])
    a, m = torch.from_numpy(inp["attn"]).clone(), torch.from_numpy(inp["mem"]).clone()
    cls = _cls(torch, mod, "MemoryAttentionFusion")
    rec.stage("build")
    torch.manual_seed(int(inp["seed"]))
    fus = cls(d)
    rec.stage("forward")
    fus.zero_grad()
    out = _tensor(torch, fus(a.clone(), m.clone()), "forward(attn_out, mem_out)", tuple(a.shape))
    rec.put("out", out)
    if out.requires_grad:
        out.sum().backward()
    _grads(torch, fus, rec, "gate")
    rec.stage("forward(a, a)")
    with torch.no_grad():
        rec.put("out_same", _tensor(torch, fus(a.clone(), a.clone()), "forward(attn_out, attn_out)", tuple(a.shape)))


def probe_full(torch, mod, inp, rec):
    cfg = dict(vocab_size=int(inp["vocab"]), d_model=int(inp["d_model"]), n_heads=int(inp["n_heads"]),
               n_layers=int(inp["n_layers"]), max_seq_len=int(inp["max_seq_len"]))
    V = cfg["vocab_size"]
    ids, short, pert = (torch.from_numpy(inp[k]).clone() for k in ("ids", "ids_short", "perturbed"))
    cls = _cls(torch, mod, "SimpleTransformer")
    rec.stage("build")
    torch.manual_seed(int(inp["seed"]))
    model = cls(**cfg)
    gen = torch.Generator().manual_seed(int(inp["seed"]) + 1)
    with torch.no_grad():
        # Small noise on every weight: a zero-initialised layer must not hide the memory path or a leak.
        for p in model.parameters():
            if p.is_floating_point():
                p.add_(torch.randn(p.shape, generator=gen) * (0.02 + 0.05 * float(p.detach().abs().mean())))
    model.train(False)
    mems = [m for m in model.modules()
            if any(c.__name__ == "NeuralMemory" and c.__module__ == "submission" for c in type(m).__mro__)]
    rec.status["memory_instances"] = len(mems)
    calls, first = [0], []

    def hook(module, args, output):
        calls[0] += 1
        if not first:   # the first memory call's own inputs, replayed below
            first.append((module, [a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args]))

    handles = [m.register_forward_hook(hook) for m in mems]
    rec.stage("forward")
    with torch.no_grad():
        logits = _tensor(torch, model(input_ids=ids.clone()), "model(input_ids)", (ids.shape[0], ids.shape[1], V))
        rec.status["memory_calls"] = calls[0]
        rec.put("logits", logits)
        rec.put("logits_short", _tensor(torch, model(input_ids=short.clone()), "model(input_ids)", (1, short.shape[1], V)))
        rec.put("logits_perturbed", _tensor(torch, model(input_ids=pert.clone()), "model(input_ids)", (ids.shape[0], ids.shape[1], V)))
    for h in handles:
        h.remove()
    mem_params = [p for m in mems for p in m.parameters() if p.is_floating_point()]
    rec.status["memory_param_count"] = len(mem_params)
    rec.stage("memory parameters perturbed")
    with torch.no_grad():
        saved = [p.detach().clone() for p in mem_params]
        for p in mem_params:
            p.add_(torch.randn(p.shape, generator=gen) * (0.3 * float(p.detach().std()) if p.numel() > 1 else 0.0) + 0.3)
        rec.put("logits_mem_perturbed", _tensor(torch, model(input_ids=ids.clone()), "model(input_ids)", (ids.shape[0], ids.shape[1], V)))
        for p, s in zip(mem_params, saved):
            p.copy_(s)
    rec.stage("memory replay")
    B, T = ids.shape
    where = None
    if first:
        where = next((j for j, a in enumerate(first[0][1])
                      if isinstance(a, torch.Tensor) and a.dim() >= 2 and tuple(a.shape[:2]) == (B, T)), None)
    rec.status["replayed"] = where is not None
    if where is not None:
        module, args = first[0]
        x0 = args[where]

        def replay(x):
            a = list(args)
            a[where] = x
            out = _tensor(torch, module(*a), "NeuralMemory.forward")
            if out.dim() < 2 or tuple(out.shape[:2]) != (B, T):
                raise ProbeError(f"NeuralMemory.forward returned shape {tuple(out.shape)}, expected [{B}, {T}, ...]")
            return out

        p = int(inp["position"])
        with torch.no_grad():
            rec.put("mem_base", replay(x0.clone()))
            xp = x0.clone()
            xp[:, p] = xp[:, p] + torch.randn(xp[:, p].shape, generator=gen).to(xp.dtype) * (float(x0.float().std()) + 1e-3)
            rec.put("mem_pert", replay(xp))
    rec.stage("backward")
    model.zero_grad()
    out = _tensor(torch, model(input_ids=ids.clone()), "model(input_ids)", (ids.shape[0], ids.shape[1], V))
    loss = torch.nn.functional.cross_entropy(out.reshape(-1, V), torch.from_numpy(inp["targets"]).reshape(-1))
    if loss.requires_grad:
        loss.backward()
    nonzero = sum(1 for p in mem_params if p.grad is not None and float(p.grad.detach().abs().sum()) > 0)
    rec.status["memory_params_with_grad"] = nonzero


PROBES = {"memory-structure": probe_memory_structure, "surprise": probe_surprise,
          "update-decay": probe_update_decay, "fusion": probe_fusion, "full": probe_full}


def _describe_exc(e, sub_path) -> str:
    """The exception, and where in the submission it was raised (the probe's own frames are not shown)."""
    what = f"{type(e).__name__}: {str(e)[:400]}"
    if isinstance(e, ProbeError):
        return what
    frames = [f for f in traceback.extract_tb(e.__traceback__) if os.path.abspath(f.filename) == os.path.abspath(sub_path)]
    if frames:
        f = frames[-1]
        what += f" (submission line {f.lineno}, in {f.name}: {(f.line or '').strip()[:120]})"
    return what


def run(mod, inputs_dir: str, device: str):
    """UNTRUSTED child (the shared library's isolated runner): the step's probe. Returns (status, arrays)."""
    import torch
    torch.set_num_threads(1)
    inp = _load_npz(os.path.join(inputs_dir, "inputs.npz"))
    step = STEPS[int(inp["step"])]
    rec = _Rec(torch)
    try:
        PROBES[step](torch, mod, inp, rec)
        rec.stage("done")
    except Exception as e:  # noqa: BLE001  (the submission's own errors are results, not crashes)
        rec.status["error"] = _describe_exc(e, mod.__file__)
    return rec.status, rec.arrays


def _cos_rows(a, b):
    """Cosine similarity along the last axis (0 where either vector is zero)."""
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.sum(a * b, axis=-1) / (na * nb)
    return np.where((na > 0) & (nb > 0), c, 0.0)


def _arr(out, name, shape=None):
    a = out.get(name)
    if a is None:
        raise ProbeError(f"no `{name}` in the outputs")
    if a.dtype != np.float64 or (shape is not None and a.shape != tuple(shape)):
        raise ProbeError(f"`{name}` in the outputs has dtype {a.dtype} and shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ProbeError(f"`{name}` has NaN or inf values")
    return a


def _fmt(x) -> str:
    return f"{x:.4g}"


def runtime_memory_structure(exp, out, st):
    d, B = int(exp["d"]), int(exp["batch"])
    keys, values, k1, v1 = exp["keys"].astype(np.float64), exp["values"].astype(np.float64), \
        exp["k1"].astype(np.float64), exp["v1"].astype(np.float64)
    res = {}
    c1, c2, c3 = st.get("count_one"), st.get("count_pairs"), st.get("count_many")
    writes = 1 + keys.shape[1] + exp["extra_keys"].shape[0]
    if not all(isinstance(c, int) for c in (c1, c2, c3)):
        res["fixed_size_state"] = (False, "the state could not be measured after the writes")
    elif c1 <= 0:
        res["fixed_size_state"] = (False, "after a write the memory holds no tensor at all")
    else:
        res["fixed_size_state"] = (c1 == c2 == c3, f"tensor elements held by the memory after 1, {1 + keys.shape[1]} and "
                                                   f"{writes} writes: {c1}, {c2}, {c3}"
                                                   + ("" if c1 == c2 == c3 else " (it grows with what is stored)"))
    cands = {}
    for name, a in out.items():
        if name.startswith("s1:") and a.dtype == np.float64 and a.ndim >= 2 and int(np.prod(a.shape[:-2])) == B:
            cands[name[3:]] = a.reshape(B, d, d)
    if cands:
        res["matrix_state"] = (True, f"state {', '.join('`' + n + '`' for n in sorted(cands))}: one {d}x{d} matrix per batch row")
    else:
        res["matrix_state"] = (False, f"no state tensor of shape [batch={B}, {d}, {d}] after a write "
                                      "(a list of stored items, a cache or slots is not an associative matrix)")
    best = (-2.0, None)
    outer = np.einsum("bi,bj->bij", v1, k1).reshape(B, -1)
    for n, a in cands.items():
        b0 = out.get("s0:" + n)
        before = b0.reshape(B, d, d) if b0 is not None and b0.dtype == np.float64 and b0.size == B * d * d else 0.0
        delta = (a - before).reshape(B, -1)
        for orient, o in (("v k^T", outer), ("k v^T", np.einsum("bi,bj->bij", k1, v1).reshape(B, -1))):
            c = float(np.min(_cos_rows(delta, o)))
            if c > best[0]:
                best = (c, f"`{n}` changed by {orient} (min cosine over rows {_fmt(c)})")
    if not cands:
        res["outer_product_write"] = (False, "no matrix state to look at")
    else:
        ok = best[0] >= 0.99
        res["outer_product_write"] = (ok, best[1] if ok else f"a write(key, value) does not add a multiple of the outer product "
                                                            f"value x key to the matrix (best: {best[1]})")
    reads = _arr(out, "reads", (B, keys.shape[1], d))
    cos = _cos_rows(reads, values)
    ok = float(np.mean(cos)) >= 0.95 and float(np.mean(cos >= 0.9)) >= 0.9
    res["recall"] = (ok, f"after storing {keys.shape[1]} pairs with orthonormal keys, read(key) vs. its value: mean cosine "
                         f"{_fmt(float(np.mean(cos)))}, min {_fmt(float(np.min(cos)))} (needs mean >= 0.95, 90% >= 0.9)")
    return res


def _score_gap(lo, hi, what):
    frac = float(np.mean(hi > lo))
    gap = float(np.mean(hi - lo))
    return frac >= 0.9 and gap >= 0.01, f"{what}: higher in {frac:.0%} of cases, mean gap {_fmt(gap)} (needs 90% and 0.01)"


def runtime_surprise(exp, out, st):
    d, B = int(exp["d"]), int(exp["batch"])
    res = {}
    good, bad, empty = _arr(out, "s_good"), _arr(out, "s_bad"), _arr(out, "s_empty")
    allv = np.concatenate([good.ravel(), bad.ravel(), empty.ravel()])
    lo, hi = float(allv.min()), float(allv.max())
    res["surprise_range"] = (lo >= 0.0 and hi <= 1.0, f"surprise values in [{_fmt(lo)}, {_fmt(hi)}] (must lie in [0, 1])")
    res["surprise_tracks_error"] = _score_gap(good, bad, "surprise of a value the memory mispredicts vs. one it recalls exactly")
    res["surprise_uses_memory"] = _score_gap(good, empty, "surprise of a pair on an empty memory vs. the same pair once stored")
    names, nz = st.get("surprise_params") or [], st.get("surprise_nonzero") or []
    res["surprise_learnable"] = (bool(nz), f"parameters reached by the surprise's gradient: {', '.join(nz[:6])}" if nz else
                                 f"no parameter gets a gradient from surprise() (trainable parameters: {', '.join(names[:6]) or 'none'})")
    k0 = exp["keys"][:, 0].astype(np.float64)
    v0, o0 = exp["values"][:, 0].astype(np.float64), exp["other_values"][:, 0].astype(np.float64)
    kn = np.linalg.norm(k0, axis=-1)
    sg = np.linalg.norm(_arr(out, "dM_good", (B, d, d)).reshape(B, -1), axis=-1) / (kn * np.linalg.norm(v0, axis=-1))
    sb = np.linalg.norm(_arr(out, "dM_bad", (B, d, d)).reshape(B, -1), axis=-1) / (kn * np.linalg.norm(o0, axis=-1))
    frac = float(np.mean(sg < sb))
    ratio = float(np.mean(sg) / np.mean(sb)) if np.mean(sb) > 0 else float("inf")
    res["write_gated_by_surprise"] = (frac >= 0.9 and ratio <= 0.95,
                                      f"write strength for a pair the memory already recalls vs. a mispredicted one: "
                                      f"weaker in {frac:.0%} of rows, mean ratio {_fmt(ratio)} (needs 90% and <= 0.95)")
    cos = _cos_rows(_arr(out, "read_back", (B, d)), v0)
    res["write_stores"] = (float(np.mean(cos >= 0.9)) >= 0.9,
                           f"write(key, value) on an empty memory, then read(key): cosine with the value min {_fmt(float(cos.min()))}, "
                           f"mean {_fmt(float(cos.mean()))} (needs >= 0.9 in 90% of rows)")
    return res


def runtime_update_decay(exp, out, st):
    d, B = int(exp["d"]), int(exp["batch"])
    old, k, v = exp["old"].astype(np.float64), exp["k"].astype(np.float64), exp["v"].astype(np.float64)
    kh = k / np.linalg.norm(k, axis=-1, keepdims=True)
    P = np.eye(d)[None] - np.einsum("bi,bj->bij", kh, kh)
    base = np.linalg.norm((old @ P).reshape(B, -1), axis=-1)

    def kept(M):
        return np.linalg.norm((M @ P).reshape(B, -1), axis=-1) / base

    res = {}
    r = kept(_arr(out, "M_new", (B, d, d)))
    ok = bool(np.all(r >= 1e-3) and np.all(r <= 1 - 1e-5))
    res["old_content_decays"] = (ok, f"old memory in directions the write does not touch is scaled by {_fmt(float(r.min()))}..{_fmt(float(r.max()))} "
                                     "per write (needs a factor in [0.001, 0.99999]: forgetting, not erasing)")
    names, nz = st.get("decay_params") or [], st.get("decay_nonzero") or []
    res["decay_learnable"] = (bool(nz), f"the forgetting depends on learnable {', '.join(nz[:6])}" if nz else
                              "no parameter gets a gradient from the old content the write keeps: the decay is not learnable "
                              f"(trainable parameters: {', '.join(names[:6]) or 'none'})")
    if nz:
        rp, rm = kept(_arr(out, "M_plus", (B, d, d))), kept(_arr(out, "M_minus", (B, d, d)))
        lo, hi = float(min(rp.min(), rm.min())), float(max(rp.max(), rm.max()))
        res["decay_bounded"] = (lo >= 0.0 and hi <= 1 + 1e-5,
                                f"with those parameters moved by +8 and -8 the kept fraction is {_fmt(lo)}..{_fmt(hi)} "
                                "(must stay within [0, 1] whatever training does)")
    else:
        res["decay_bounded"] = (None, "not applicable: no learnable parameter controls the decay")
    cos = _cos_rows(_arr(out, "read_back", (B, d)), v)
    res["write_stores"] = (float(np.mean(cos >= 0.9)) >= 0.9,
                           f"write(key, value) on an empty memory, then read(key): cosine with the value min {_fmt(float(cos.min()))} "
                           "(needs >= 0.9 in 90% of rows)")
    return res


def runtime_fusion(exp, out, st):
    a, m = exp["attn"].astype(np.float64), exp["mem"].astype(np.float64)
    res = {}
    o = _arr(out, "out", a.shape)
    sel = np.abs(a - m) > 0.05
    g = (o - m)[sel] / (a - m)[sel]
    inside = float(np.mean((g >= -1e-3) & (g <= 1 + 1e-3)))
    res["convex_blend"] = (inside >= 0.999, f"{inside:.1%} of output elements lie between the attention and memory values "
                                            "(needs all: the output is g * attn + (1 - g) * mem with g in [0, 1])")
    same = _arr(out, "out_same", a.shape)
    err = float(np.max(np.abs(same - a)))
    res["complementary"] = (err <= 1e-4 * (1 + float(np.max(np.abs(a)))),
                            f"forward(x, x) differs from x by up to {_fmt(err)} (the weights of a complementary blend sum to 1, "
                            "so it must return x)")
    mix = float(np.mean((g > 1e-3) & (g < 1 - 1e-3)))
    res["gate_mixes"] = (mix >= 0.5, f"implied gate strictly between 0 and 1 for {mix:.0%} of elements (needs 50%: "
                                     "the output must draw on both inputs)")
    names, nz = st.get("gate_params") or [], st.get("gate_nonzero") or []
    res["gate_learned"] = (bool(nz), f"the output depends on learnable {', '.join(nz[:6])}" if nz else
                           f"no parameter gets a gradient from the output (trainable parameters: {', '.join(names[:6]) or 'none'}): "
                           "the gate is not learned")
    return res


def runtime_full(exp, out, st):
    V, p = int(exp["vocab"]), int(exp["position"])
    B, T = exp["ids"].shape
    res = {}
    lg = _arr(out, "logits", (B, T, V))
    _arr(out, "logits_short", (1, exp["ids_short"].shape[1], V))
    lp = _arr(out, "logits_perturbed", (B, T, V))
    scale = 1 + float(np.max(np.abs(lg)))
    leak = float(np.max(np.abs(lg[:, :p] - lp[:, :p])))
    res["causal"] = (leak <= 1e-4 * scale, f"changing token {p} moves the logits of earlier positions by up to {_fmt(leak)} "
                                           "(must not: position t may depend only on tokens 0..t)")
    n, calls = st.get("memory_instances", 0), st.get("memory_calls", 0)
    res["memory_module"] = (n >= 1 and calls >= 1, f"{n} NeuralMemory instance(s) in the model, {calls} call(s) to them in one forward pass"
                            + ("" if n >= 1 and calls >= 1 else " (the model must build and call a NeuralMemory)"))
    pc = st.get("memory_param_count", 0)
    if not pc:
        res["memory_matters"] = (False, "NeuralMemory has no parameters to perturb (it learns nothing)")
    else:
        moved = float(np.max(np.abs(_arr(out, "logits_mem_perturbed", (B, T, V)) - lg)))
        res["memory_matters"] = (moved > 1e-5 * scale, f"perturbing NeuralMemory's parameters moves the logits by up to {_fmt(moved)}"
                                 + ("" if moved > 1e-5 * scale else " (its output never reaches the logits)"))
    if not st.get("replayed"):
        res["memory_recurrent"] = (None, "not applicable: NeuralMemory was not called with the whole sequence "
                                         f"(no [batch={B}, seq_len={T}, ...] argument) to replay")
    else:
        mb, mp = _arr(out, "mem_base"), _arr(out, "mem_pert")
        tol = 1e-5 + 1e-4 * float(max(np.max(np.abs(mb)), np.max(np.abs(mp))))
        before = float(np.max(np.abs(mb[:, :p] - mp[:, :p]))) if p else 0.0
        after = float(np.max(np.abs(mb[:, p + 1:] - mp[:, p + 1:]))) if mb.shape[1] > p + 1 else 0.0
        if mb.shape != mp.shape or mb.shape[:2] != (B, T):
            res["memory_recurrent"] = (False, f"NeuralMemory's replayed outputs have shapes {mb.shape}, {mp.shape}")
        elif before > tol:
            res["memory_recurrent"] = (False, f"changing the memory's input at position {p} changes its outputs before {p} "
                                              f"(by up to {_fmt(before)}): the memory reads the future")
        elif after <= tol:
            res["memory_recurrent"] = (False, f"changing the memory's input at position {p} changes none of its later outputs: "
                                              "nothing is carried from token to token")
        else:
            res["memory_recurrent"] = (True, f"the memory replayed on its own input: changing position {p} moves later outputs "
                                             f"by up to {_fmt(after)}, earlier ones not at all")
    g = st.get("memory_params_with_grad", 0)
    res["memory_trains"] = (g >= 1, f"{g} of {pc} NeuralMemory parameter tensors get a gradient from the loss")
    return res


RUNTIME = {"memory-structure": runtime_memory_structure, "surprise": runtime_surprise,
           "update-decay": runtime_update_decay, "fusion": runtime_fusion, "full": runtime_full}


def compare(ctx: ec.CompareContext) -> list:
    exp = _load_npz(os.path.join(ctx.private_dir, "expected.npz"))
    step = STEPS[int(exp["step"])]
    checks = static_checks(ctx.source, step)
    names = RUNTIME_CHECKS[step]
    o = ctx.outputs
    out, st, why = (o.arrays, o.status, None) if o.ok else (None, {}, o.error)
    if o.ok and o.import_error:
        out, why = None, f"the submission could not be imported: {ec.last_line(o.import_error)}"
    if out is not None and st.get("error"):
        why = f"failed at stage `{ec.bounded(st.get('stage'), 60)}`: {ec.bounded(st['error'], 600)}"
    if why is not None:
        checks.append(_check("runs", False, why))
        checks.extend(_check(n, False, "not evaluated: the probe did not finish") for n in names[1:])
        return checks
    checks.append(_check("runs", True, "the probe ran to the end on the grader's inputs"))
    try:
        res = RUNTIME[step](exp, out, st)
    except Exception as e:  # noqa: BLE001  (outputs of a hostile process that do not fit: its failure)
        res = {}
        why = f"outputs do not fit the probe: {type(e).__name__}: {ec.bounded(e, 300)}"
        checks[-1] = _check("runs", False, why)
    for n in names[1:]:
        passed, detail = res.get(n, (False, why or "not evaluated"))
        checks.append(_check(n, passed, detail))
    return checks


TASK = ec.Task(name="neural-memory-progressive", public_files=("inputs.npz",), prepare=prepare, run=run,
               compare=compare, prepare_params=("step",), max_output_mb=8)

if __name__ == "__main__":
    sys.exit(ec.main(TASK, __file__))
