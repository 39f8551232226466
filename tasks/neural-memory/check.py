#!/usr/bin/env python3
"""Grader for the neural-memory task (a Titans-style neural long-term memory added to a Transformer):
task logic only. The phases, the isolated runner, the verdict file and the static rule set come from the
shared check library (src/grading/python/envbench_check.py); the six criteria's analysis is criteria.py.

  prepare  (trusted)    a random model configuration and token ids -> inputs.json, expected.json
  run      (UNTRUSTED)  in the library's isolated child: build the model and run the runtime probes
                        (logits shape, causality, memory use, per-token state, recurrence, gradients);
                        the raw tensors and observations leave it only through the library's pipe
  compare  (trusted)    never imports the submission: sandbox_safe (the shared rules) and the six criteria
                        from the source, every runtime check decided from the raw arrays here

`/usr/bin/python3 tasks/neural-memory/check.py SUBMISSION.py` runs all three on one machine.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "grading", "python"))
import envbench_check as ec  # noqa: E402

FORMAT_VERSION = 1
MODEL_CLASS = "SimpleTransformer"
MEMORY_CLASS = "NeuralMemory"
CRITERIA = ("neural_memory_class", "surprise_gate", "learnable_decay", "outer_product",
            "recurrent_update", "gated_fusion")
# What a model file may use: the shared default. The probes run in the submission's process, and honest
# model code needs no files, processes, interpreter internals or monkeypatching.
RULES = ec.DEFAULT_RULES


def _check(name, passed, detail) -> dict:
    return ec.check(name, passed, detail)


def check_sandbox_safe(tree) -> dict:
    return ec.rules_check("sandbox_safe", tree, RULES,
                          "imports only allowed modules; no file, process or interpreter access, no monkeypatching")


def _criteria():
    """The analysis module, imported only in the trusted compare phase (it is not in the run's mount)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import criteria
    return criteria



def static_checks(source: bytes | None) -> list:
    # long expressions (a + b + ... ) are deep trees; allow them, but a RecursionError still just fails
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 6000))
    if source is None:
        why = "submission file unreadable"
        return [_check(n, False, why) for n in ("sandbox_safe",) + CRITERIA]
    tree, why = ec.parse_source(source)
    if tree is None:
        return [_check(n, False, why) for n in ("sandbox_safe",) + CRITERIA]
    checks = []
    try:
        checks.append(check_sandbox_safe(tree))
    except Exception as e:  # noqa: BLE001
        checks.append(_check("sandbox_safe", False, f"could not analyse source: {type(e).__name__}: {ec.bounded(e)}"))
    try:
        checks.extend(_criteria().analyse_criteria(tree))
    except RecursionError:
        checks.extend(_check(n, False, "source too deeply nested to analyse") for n in CRITERIA)
    except _criteria().AnalysisTimeout:
        checks.extend(_check(n, False, f"source too complex to analyse within {_criteria().ANALYSIS_SECONDS:g} s") for n in CRITERIA)
    except Exception as e:  # noqa: BLE001  (a checker bug must not pass anything)
        checks.extend(_check(n, False, f"could not analyse source: {type(e).__name__}: {e}") for n in CRITERIA)
    return checks



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


def prepare(out_dir: str, device: str) -> None:
    data = prepare_data()
    _write_json(os.path.join(out_dir, "inputs.json"), data)
    _write_json(os.path.join(out_dir, "expected.json"), data)


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
        rec = found.setdefault(key, dict(shape=list(v.shape), fps=set(), scan=0, rows=set()))
        if len(rec["fps"]) < 8 * T + 8:
            rec["fps"].add(fp(v))
        if v.dim() >= 3 and v.shape[-3] == T:  # a scan: all per-token states at once
            rows = v.detach().double().movedim(-3, 0).reshape(T, -1)
            sigs = {(float("%.8g" % float(r.sum())), float("%.8g" % float((r * r).sum()))) for r in rows}
            rec["scan"] = max(rec["scan"], len(sigs))
        elif v.dim() >= 4 and 1 < v.shape[-3] < T and len(rec["rows"]) < 8 * T + 8:
            # a chunked scan: each chunk's per-token states [batch, ..., C, d, d] (a leading batch axis, so a
            # plain batched [B, d, d] matrix never counts its rows as tokens); distinct states over all chunks
            n = v.shape[-3]
            rows = v.detach().double().movedim(-3, 0).reshape(n, -1)
            rec["rows"] |= {(float("%.8g" % float(r.sum())), float("%.8g" % float((r * r).sum()))) for r in rows}
            rec["scan"] = max(rec["scan"], len(rec["rows"]))

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


_PRISTINE: dict = {}


def _take_pristine(inputs_dir: str, device: str) -> None:
    """In the child, before the submission is imported: the probes call these, so a file that patches torch
    (sandbox_safe forbids it, but belt and braces) cannot change what the probes call."""
    import torch
    _PRISTINE.update(grad=torch.autograd.grad, modules=torch.nn.Module.modules, parameters=torch.nn.Module.parameters,
                     named_parameters=torch.nn.Module.named_parameters, train=torch.nn.Module.train,
                     to=torch.nn.Module.to, randn=torch.randn, isfinite=torch.isfinite, tensor=torch.tensor)


def run(mod, inputs_dir: str, device_arg: str):
    """UNTRUSTED child (the shared library's isolated runner): the runtime probes. Returns (status, arrays)."""
    import torch
    with open(os.path.join(inputs_dir, "inputs.json")) as f:
        inp = json.load(f)
    use_cuda = device_arg == "cuda" or (device_arg == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if use_cuda else "cpu")
    if use_cuda:  # exact fp32 matmuls, so "unchanged" comparisons are tight
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    status = dict(version=FORMAT_VERSION, device=device.type, torch=torch.__version__,
                  cuda_available=bool(torch.cuda.is_available()), import_error=None, errors={})
    arrays: dict = {}
    try:
        _probe(mod, inp, status, arrays, device, os.path.abspath(mod.__file__), _PRISTINE)
    except Exception:  # noqa: BLE001
        status["errors"]["probe"] = _tail(traceback.format_exc())
    return status, arrays


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
        why = f"the submission could not be imported: {ec.last_line(status['import_error'])}"
        return [_check(n, False, why) for n in names]
    errors = status.get("errors") if isinstance(status.get("errors"), dict) else {}
    if status.get("build_error") or errors.get("probe"):
        why = f"{MODEL_CLASS}(**config) failed: {ec.last_line(status.get('build_error') or errors.get('probe'))}"
        return [_check(n, False, why) for n in names]
    cfg = exp["config"]
    V = cfg["vocab_size"]
    B, T, p = exp["cases"][0]["batch"], exp["cases"][0]["seq_len"], exp["position"]
    cases = status.get("cases") if isinstance(status.get("cases"), list) else []
    out = []

    # runs
    c0 = cases[0] if cases and isinstance(cases[0], dict) else {}
    if c0.get("error"):
        out.append(_check("runs", False, f"model(input_ids=ids) raised: {ec.last_line(c0['error'])}"))
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
            bad.append(f"ids {list(want[:2])}: raised {ec.last_line(r['error'])}")
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
        why = ec.last_line(errors.get("causal")) if errors.get("causal") else "no logits"
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
        out.append(_check("memory_used", False, f"could not run the intervention probe: {ec.last_line(errors.get('memory_used'))}"))
    elif _diff(base, inter) <= _tol(base, inter):
        out.append(_check("memory_used", False, f"{MEMORY_CLASS} runs, but perturbing its output leaves the logits unchanged"))
    else:
        out.append(_check("memory_used", True, f"{sum(1 for c in calls if c)} {MEMORY_CLASS} module(s) called; perturbing "
                                               f"their output changes the logits (max diff {_diff(base, inter):.3g})"))
    # memory_state_per_token
    trace = status.get("trace") if isinstance(status.get("trace"), list) else None
    if trace is None:
        out.append(_check("memory_state_per_token", False, f"could not replay the memory: {ec.last_line(errors.get('replay'))}"))
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
        out.append(_check("memory_recurrent", False, f"could not replay the memory: {ec.last_line(errors.get('replay'))}"))
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
        out.append(_check("memory_gradients", False, f"could not run backward: {ec.last_line(errors.get('grads'))}"))
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


def compare(ctx: ec.CompareContext) -> list:
    with open(os.path.join(ctx.private_dir, "expected.json")) as f:
        exp = json.load(f)
    checks = static_checks(ctx.source)
    out = ctx.outputs
    status = out.status if out.ok else {}
    out_err = out.error
    if out.ok:
        dev = status.get("device")
        detail = f"ran on {ec.bounded(dev, 20)} (torch {ec.bounded(status.get('torch'), 40)})"
        if dev == "cpu":
            detail += "; cuda: " + ("available but not used" if status.get("cuda_available") else "not available")
        checks.append(_check("ran_on", None, detail))
    else:
        checks.append(_check("ran_on", None, f"unknown: {out_err}"))
    checks.extend(runtime_checks(exp, status, out.arrays, out_err))
    return checks


TASK = ec.Task(name="neural-memory", public_files=("inputs.json",), prepare=prepare, run=run, compare=compare,
               child_setup=_take_pristine, max_output_mb=16)

if __name__ == "__main__":
    sys.exit(ec.main(TASK, __file__))
