#!/usr/bin/env python3
"""Grader for the memory-optimizations task: task logic only. The phases, the isolated runner, the verdict
file and the static rule set come from the shared check library (src/grading/python/envbench_check.py);
the technique analysis is techniques.py.

The submission is a training script exposing build_model(config) and train(model, batches, config):

  prepare  (trusted)    a secret seed, training and held-out data; with CUDA (torch >= 2) also the
                        baseline (starter.py) trained under the measuring wrapper
  run      (UNTRUSTED)  in the library's isolated child: the wrapper installed before the import, then
                        train the submission under it; its weights and the wrapper's measurements leave
                        the child only through the library's pipe, and the child's tree is killed then
  compare  (trusted)    never imports the submission: the static analysis, the weights checked against the
                        baseline's architecture, the held-out loss computed here

`/usr/bin/python3 tasks/memory-optimizations/check.py SUBMISSION.py` runs all three on one machine.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "grading", "python"))
import envbench_check as ec  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import techniques  # noqa: E402  (the static analysis; also in the run's mount, as public grader code)

HERE = os.path.dirname(os.path.abspath(__file__))
BASELINE_FILE = os.path.join(HERE, "starter.py")
FORMAT_VERSION = 1

# The small CPU configuration only proves the script runs and trains; the CUDA one
# is large enough that activations dominate the baseline's peak memory.
MODEL_KEYS = ("vocab_size", "d_model", "n_heads", "n_layers", "d_ff", "max_seq_len", "lr", "weight_decay")
CPU_CONFIG = dict(vocab_size=64, d_model=32, n_heads=2, n_layers=2, d_ff=64, max_seq_len=32, lr=1e-3, weight_decay=0.01)
CPU_DATA = dict(steps=4, batch_size=4, seq_len=32, eval_seqs=0)
GPU_CONFIG = dict(vocab_size=512, d_model=256, n_heads=4, n_layers=4, d_ff=1024, max_seq_len=512, lr=1e-3, weight_decay=0.01)
GPU_DATA = dict(steps=120, batch_size=32, seq_len=512, eval_seqs=32)
MARKOV_SUCCESSORS = 4  # each token has 4 possible successors: learnable, entropy ~1 nat

MIN_REDUCTION = 0.30  # peak memory must drop by at least 30% against the baseline
# Held-out loss may exceed the baseline's by max(abs, rel * baseline). Measured on CPU at a
# smaller size: a different initialization moves it by up to 0.02 nats; bf16 autocast, < 0.001.
LOSS_TOL_ABS = 0.10
LOSS_TOL_REL = 0.05
MIN_CHANGED_FRACTION = 0.9  # of parameter tensors that training must change




def _torch_major(torch) -> int:
    try:
        return int(torch.__version__.split(".")[0])
    except ValueError:
        return 0


# ---------------------------------------------------------------------------
# data (trusted): a random first-order Markov chain over the vocabulary
# ---------------------------------------------------------------------------

def _markov_sequences(rng, succ, cum, n, length) -> np.ndarray:
    V, K = succ.shape
    out = np.empty((n, length), dtype=np.int64)
    state = rng.integers(V, size=n)
    out[:, 0] = state
    for t in range(1, length):
        u = rng.random(n)
        idx = np.minimum((u[:, None] > cum[state]).sum(axis=1), K - 1)
        state = succ[state, idx]
        out[:, t] = state
    return out


def make_data(rng, vocab, data) -> tuple[np.ndarray, np.ndarray]:
    """(train tokens [steps, batch, seq+1], held-out tokens [eval_seqs, seq+1]) from one chain."""
    succ = np.stack([rng.choice(vocab, MARKOV_SUCCESSORS, replace=False) for _ in range(vocab)])
    cum = np.cumsum(rng.dirichlet(np.ones(MARKOV_SUCCESSORS), size=vocab), axis=1)
    T1 = data["seq_len"] + 1
    train = _markov_sequences(rng, succ, cum, data["steps"] * data["batch_size"], T1)
    train = train.reshape(data["steps"], data["batch_size"], T1)
    held = _markov_sequences(rng, succ, cum, max(data["eval_seqs"], 1), T1)[: data["eval_seqs"]]
    return train.astype(np.int32), held.astype(np.int32)


# ---------------------------------------------------------------------------
# the measuring wrapper: used for the baseline (prepare) and the submission (run)
# ---------------------------------------------------------------------------

def _sdpa_math(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, **_):
    """Math-only stand-in for F.scaled_dot_product_attention on torch < 2.0 (same result, no fused kernel)."""
    import torch
    L, S = query.size(-2), key.size(-2)
    s = scale if scale is not None else 1.0 / math.sqrt(query.size(-1))
    scores = (query @ key.transpose(-2, -1)) * s
    if is_causal:
        scores = scores.masked_fill(torch.ones(L, S, dtype=torch.bool, device=query.device).triu(1), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    weights = torch.softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = torch.nn.functional.dropout(weights, p=dropout_p)
    return weights @ value


def _compile_identity(model=None, **_kwargs):
    """Stand-in for torch.compile on torch < 2.0: returns the model (or decorator target) unchanged."""
    if model is None:
        return lambda m: m
    return model


class _NoopContext:
    def __init__(self, *a, **k):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def install_shims(torch) -> list[str]:
    """Makes a script written for torch 2.x runnable on an older torch (CI's CPU-only torch 1.13).
    Each one is recorded in the `runs` check's detail. With CUDA the memory and loss checks need
    torch >= 2.0, so none of the stand-ins below ever stands in for what those checks measure."""
    shims = []
    F = torch.nn.functional
    if not hasattr(F, "scaled_dot_product_attention"):
        F.scaled_dot_product_attention = _sdpa_math
        shims.append("F.scaled_dot_product_attention (math implementation)")
    if not hasattr(torch, "compile"):
        torch.compile = _compile_identity
        shims.append("torch.compile (identity)")
    if not hasattr(torch.backends.cuda, "sdp_kernel"):
        torch.backends.cuda.sdp_kernel = _NoopContext
        shims.append("torch.backends.cuda.sdp_kernel (no-op)")
    amp = getattr(torch, "amp", None)
    if amp is not None and not hasattr(amp, "GradScaler") and hasattr(torch.cuda.amp, "GradScaler"):
        base = torch.cuda.amp.GradScaler

        class GradScaler(base):  # torch.amp.GradScaler(device="cuda", ...) of torch >= 2.3
            def __init__(self, device="cuda", *args, **kwargs):
                kwargs.setdefault("enabled", True)
                kwargs["enabled"] = bool(kwargs["enabled"]) and device == "cuda"
                super().__init__(*args, **kwargs)

        amp.GradScaler = GradScaler
        shims.append("torch.amp.GradScaler (torch.cuda.amp.GradScaler)")
    if _torch_major(torch) < 2 and not torch.cuda.is_available():
        # torch 1.13 raises where torch 2.x disables autocast with a warning: a CUDA autocast with
        # bfloat16 on a machine without CUDA, and a CPU autocast with float16 (even when disabled).
        ac = torch.amp.autocast_mode.autocast
        orig_init = ac.__init__

        @functools.wraps(orig_init)
        def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
            if device_type == "cuda" or (device_type == "cpu" and dtype not in (None, torch.bfloat16)):
                return orig_init(self, "cpu", dtype=torch.bfloat16, enabled=False, cache_enabled=cache_enabled)
            return orig_init(self, device_type, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

        ac.__init__ = __init__
        shims.append("autocast on a CPU-only torch 1.13: CUDA and float16-CPU autocast disabled as torch 2.x does")
    return shims


class Guards:
    """Installed before the submission is imported: counts calls of the techniques that must run,
    turns peak-statistics resets into recorded no-ops, and keeps its own references to the
    allocator's statistics so that patching torch.cuda's Python functions cannot fake them."""

    def __init__(self, torch, cuda: bool):
        self.torch = torch
        self.cuda = cuda
        self.counts = {"checkpoint": 0, "sdpa": 0}
        self.reset_attempts = 0
        self._stats = self._reset = self._sync = None
        if cuda:
            torch.cuda.init()
            torch.cuda.current_device()
            C = torch._C
            # The C functions behind torch.cuda.memory_stats / reset_peak_memory_stats, held before the
            # submission can replace anything. Where a torch build lacks them, the public functions
            # themselves (the objects, captured now).
            self._stats = getattr(C, "_cuda_memoryStats", None) or torch.cuda.memory_stats
            self._reset = getattr(C, "_cuda_resetPeakMemoryStats", None) or torch.cuda.reset_peak_memory_stats
            self._sync = getattr(C, "_cuda_synchronize", None) or torch.cuda.synchronize
        self._install_counters()
        self._neutralize_resets()

    def _install_counters(self):
        torch = self.torch
        import torch.utils.checkpoint as cp
        counts = self.counts
        no_trace = lambda f: f  # noqa: E731
        if _torch_major(torch) >= 2:
            try:  # a Python wrapper inside a compiled region: run it eagerly (graph break), never trace it
                import torch._dynamo
                no_trace = torch._dynamo.disable
            except Exception:  # noqa: BLE001
                pass

        def counting(name, fn):
            @functools.wraps(fn)
            def wrapper(*a, **k):
                counts[name] += 1
                return fn(*a, **k)
            return no_trace(wrapper)

        cp.checkpoint = counting("checkpoint", cp.checkpoint)
        cp.checkpoint_sequential = counting("checkpoint", cp.checkpoint_sequential)
        F = torch.nn.functional
        F.scaled_dot_product_attention = counting("sdpa", F.scaled_dot_product_attention)

    def _neutralize_resets(self):
        torch = self.torch

        def refused(*_a, **_k):
            self.reset_attempts += 1

        mem = getattr(torch.cuda, "memory", None)
        for owner in (torch.cuda, mem):
            if owner is None:
                continue
            for name in ("reset_peak_memory_stats", "reset_max_memory_allocated", "reset_max_memory_cached",
                         "reset_accumulated_memory_stats"):
                if hasattr(owner, name):
                    setattr(owner, name, refused)
        for name in ("_cuda_resetPeakMemoryStats", "_cuda_resetAccumulatedMemoryStats"):
            if hasattr(torch._C, name):
                setattr(torch._C, name, refused)

    def sync(self):
        if self.cuda:
            self._sync()

    def start_window(self):
        if self.cuda:
            self._sync()
            dev = self.torch.cuda.current_device()
            self._reset(dev)

    def stats(self) -> dict:
        dev = self.torch.cuda.current_device()
        return _allocated_bytes(self._stats(dev))


def _allocated_bytes(stats: dict) -> dict:
    """Peak, current and cumulative allocated bytes from the allocator's statistics: torch._C returns
    them nested ({"allocated_bytes": {"all": {"peak": ...}}}), torch.cuda.memory_stats flattened."""
    nested = stats.get("allocated_bytes")
    if isinstance(nested, dict):
        a = nested.get("all", {})
        get = lambda k: a.get(k, 0)  # noqa: E731
    else:
        get = lambda k: stats.get(f"allocated_bytes.all.{k}", 0)  # noqa: E731
    return {"peak": int(get("peak")), "current": int(get("current")), "allocated_total": int(get("allocated"))}


def _core_module(model):
    """The module whose parameters count: torch.compile wraps it as _orig_mod."""
    return getattr(model, "_orig_mod", model)


def _param_arrays(torch, model) -> dict:
    out = {}
    for name, p in _core_module(model).named_parameters():
        # Copy to the CPU first: a cast on the GPU would allocate there.
        out[name] = p.detach().to("cpu", copy=True).float().numpy()
    return out


def measured_run(torch, build_model, train, config: dict, train_tokens: np.ndarray, init_seed: int,
                 guards: Guards) -> dict:
    """build_model + train under the wrapper. The peak covers everything from before the model is
    built to the end of train (weights, gradients, optimizer state, activations)."""
    device = config["device"]
    batches = []
    for b in train_tokens:
        t = torch.from_numpy(np.ascontiguousarray(b, dtype=np.int64))
        batches.append((t[:, :-1].contiguous(), t[:, 1:].contiguous()))
    alloc_before = guards.stats()["allocated_total"] if guards.cuda else 0
    guards.start_window()
    torch.manual_seed(init_seed)
    model = build_model(dict(config))
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"build_model returned {type(model).__name__}, expected a torch.nn.Module")
    model = model.to(device)
    init = _param_arrays(torch, model)
    t0 = time.perf_counter()
    train(model, batches, dict(config))
    guards.sync()
    seconds = time.perf_counter() - t0
    res = {"seconds": round(seconds, 3), "init": init}
    if guards.cuda:
        st = guards.stats()
        res["peak_bytes"] = st["peak"]
        res["allocated_total_bytes"] = st["allocated_total"] - alloc_before
    core = _core_module(model)
    res["on_device"] = all(p.device.type == torch.device(device).type for p in core.parameters())
    res["final"] = _param_arrays(torch, model)
    return res


def _load_module(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def heldout_loss(torch, build_model, config: dict, params: dict, tokens: np.ndarray) -> float:
    """Mean next-token cross-entropy of the weights `params` in the trusted baseline architecture,
    on the CPU in float32."""
    F = torch.nn.functional
    cfg = dict(config, device="cpu")
    torch.manual_seed(0)
    model = build_model(cfg)
    state = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in params.items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(tokens), 8):
            t = torch.from_numpy(np.asarray(tokens[i:i + 8], dtype=np.int64))
            logits = model(t[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), t[:, 1:].reshape(-1), reduction="sum")
            total += float(loss)
            count += t[:, 1:].numel()
    return total / max(count, 1)


# ---------------------------------------------------------------------------
# prepare (trusted)
# ---------------------------------------------------------------------------

def choose_mode(torch, requested: str) -> tuple[str, str]:
    """('cuda' | 'cpu', why). The memory and loss checks need CUDA and torch >= 2.0."""
    has_cuda = bool(torch.cuda.is_available())
    if requested == "cpu":
        return "cpu", "CPU requested (--device cpu)"
    if not has_cuda:
        if requested == "cuda":
            raise ec.CheckerError("--device cuda but torch.cuda.is_available() is false")
        return "cpu", f"CUDA is not available (torch {torch.__version__})"
    if _torch_major(torch) < 2:
        if requested == "cuda":
            raise ec.CheckerError(f"--device cuda needs torch >= 2.0 (F.scaled_dot_product_attention); have {torch.__version__}")
        return "cpu", f"CUDA is available but torch {torch.__version__} < 2.0 lacks F.scaled_dot_product_attention"
    return "cuda", f"CUDA ({torch.cuda.get_device_name(0)}), torch {torch.__version__}"


def prepare_data(requested_device: str = "auto"):
    """Returns (inputs dict of arrays, expected dict of arrays). The seed never leaves this function."""
    import torch
    mode, why = choose_mode(torch, requested_device)
    model_cfg, data = (GPU_CONFIG, GPU_DATA) if mode == "cuda" else (CPU_CONFIG, CPU_DATA)
    config = dict(model_cfg, device=mode)
    rng = np.random.default_rng(int.from_bytes(os.urandom(16), "little"))
    train_tokens, held = make_data(rng, config["vocab_size"], data)
    init_seed = int(rng.integers(0, 2**31 - 1))

    baseline_mod = _load_module(BASELINE_FILE, "envbench_baseline")
    torch.manual_seed(0)
    spec = [[n, list(p.shape)] for n, p in baseline_mod.build_model(dict(config, device="cpu")).named_parameters()]
    baseline = None
    if mode == "cuda":
        guards = Guards(torch, cuda=True)
        r = measured_run(torch, baseline_mod.build_model, baseline_mod.train, config, train_tokens, init_seed, guards)
        baseline = dict(peak_bytes=r["peak_bytes"], allocated_total_bytes=r["allocated_total_bytes"],
                        seconds=r["seconds"], eval_loss=heldout_loss(torch, baseline_mod.build_model, config,
                                                                      r["final"], held))
        torch.cuda.empty_cache()
    meta_public = dict(version=FORMAT_VERSION, mode=mode, config=config, data=data, init_seed=init_seed)
    meta_private = dict(version=FORMAT_VERSION, mode=mode, mode_reason=why, config=config, data=data,
                        spec=spec, baseline=baseline, torch=torch.__version__)
    inputs = dict(train_tokens=train_tokens, meta=np.array(json.dumps(meta_public)))
    expected = dict(heldout_tokens=held, meta=np.array(json.dumps(meta_private)))
    return inputs, expected


def write_npz(path: str, arrays: dict) -> None:
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def prepare(out_dir: str, device: str) -> None:
    inputs, expected = prepare_data(device)
    write_npz(os.path.join(out_dir, "inputs.npz"), inputs)
    write_npz(os.path.join(out_dir, "expected.npz"), expected)


def _summary(e: BaseException) -> str:
    """`Type: first line of the message` and where in the submission it was raised."""
    msg = (str(e).strip().splitlines() or [""])[0][:300]
    where = ""
    for fr in traceback.extract_tb(e.__traceback__):
        if os.path.basename(fr.filename) == "submission.py":
            where = f" at submission line {fr.lineno} (`{(fr.line or '').strip()[:100]}`)"
    return f"{type(e).__name__}{where}: {msg}"


_WRAPPER: dict = {}


def _install_wrapper(inputs_dir: str, device: str) -> None:
    """In the child, before the submission is imported: the shims (torch < 2) and the measuring guards."""
    import torch
    with np.load(os.path.join(inputs_dir, "inputs.npz"), allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
    _WRAPPER["shims"] = install_shims(torch)
    _WRAPPER["torch"] = torch
    _WRAPPER["guards"] = Guards(torch, meta["mode"] == "cuda" and torch.cuda.is_available())


def run(mod, inputs_dir: str, device_arg: str):
    """UNTRUSTED child: trains the submission under the measuring wrapper. Returns (status, arrays)."""
    torch = _WRAPPER["torch"]
    with np.load(os.path.join(inputs_dir, "inputs.npz"), allow_pickle=False) as z:
        train_tokens = z["train_tokens"]
        meta = json.loads(str(z["meta"]))
    config = meta["config"]
    cuda = meta["mode"] == "cuda"
    status = dict(version=FORMAT_VERSION, mode=meta["mode"], torch=torch.__version__,
                  cuda_available=bool(torch.cuda.is_available()), shims=_WRAPPER["shims"], import_error=None,
                  error=None, counts=None, reset_attempts=0)
    arrays = {}
    if cuda and not torch.cuda.is_available():
        status["error"] = "prepare chose CUDA but torch.cuda.is_available() is false in this phase"
        return status, arrays
    guards = _WRAPPER["guards"]
    build_model, train = getattr(mod, "build_model", None), getattr(mod, "train", None)
    if not callable(build_model) or not callable(train):
        status["import_error"] = "TypeError: build_model and train must be callable module-level functions"
        return status, arrays
    try:
        r = measured_run(torch, build_model, train, config, train_tokens, meta["init_seed"], guards)
        status.update(seconds=r["seconds"], on_device=r["on_device"], peak_bytes=r.get("peak_bytes"),
                      allocated_total_bytes=r.get("allocated_total_bytes"))
        for name, arr in r["final"].items():
            arrays["final/" + name] = arr
        for name, arr in r["init"].items():
            arrays["init/" + name] = arr
    except Exception as e:  # noqa: BLE001
        sys.stderr.write(traceback.format_exc())
        status["error"] = _summary(e)
    status["counts"] = dict(guards.counts)
    status["reset_attempts"] = guards.reset_attempts
    return status, arrays


def _mib(b) -> str:
    return f"{b / 2**20:.1f} MiB"


def runtime_checks(exp_meta: dict, held: np.ndarray, outputs: ec.Outputs) -> list[dict]:
    cuda = exp_meta["mode"] == "cuda"
    skip_reason = f"needs CUDA and torch >= 2.0; {exp_meta['mode_reason']}"
    out_err = outputs.error
    status = outputs.status if outputs.ok else None
    final = {k[len("final/"):]: v for k, v in outputs.arrays.items() if k.startswith("final/")}
    init = {k[len("init/"):]: v for k, v in outputs.arrays.items() if k.startswith("init/")}
    names = ["runs", "architecture_unchanged", "weights_updated", "techniques_exercised",
             "peak_memory_reduction", "weights_on_device", "loss_matches_baseline"]
    problem = out_err
    if status is not None and status.get("import_error"):
        problem = "submission import failed: " + ec.bounded(status["import_error"], 600)
    elif status is not None and status.get("error"):
        problem = "build_model/train raised " + ec.bounded(status["error"], 600)
    if problem:
        checks = [dict(name="runs", passed=False, detail=problem)]
        for n in names[1:]:
            gpu_only = n in ("peak_memory_reduction", "weights_on_device", "loss_matches_baseline")
            checks.append(dict(name=n, passed=None if gpu_only and not cuda else False,
                               detail=skip_reason if gpu_only and not cuda else "the submission did not run"))
        return checks

    checks = []
    shims = status.get("shims") or []
    detail = (f"trained on {exp_meta['mode']} (torch {ec.bounded(status.get('torch'), 40)}) in "
              f"{ec.bounded(status.get('seconds'), 20)} s")
    if shims:
        detail += "; torch < 2.0 here, so the grader supplied: " + ec.bounded(", ".join(map(str, shims)), 300)
    checks.append(dict(name="runs", passed=True, detail=detail))

    spec = {n: tuple(s) for n, s in exp_meta["spec"]}
    got = {n: tuple(np.shape(a)) for n, a in final.items()}
    missing = sorted(set(spec) - set(got))
    extra = sorted(set(got) - set(spec))
    wrong = sorted(n for n in set(spec) & set(got) if spec[n] != got[n])
    arch_ok = not (missing or extra or wrong)
    if arch_ok:
        checks.append(dict(name="architecture_unchanged", passed=True,
                           detail=f"{len(spec)} parameters, names and shapes as the baseline's"))
    else:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing[:5]))
        if extra:
            parts.append("unexpected " + ", ".join(extra[:5]))
        if wrong:
            parts.append("shape differs: " + ", ".join(f"{n} {list(got[n])} vs {list(spec[n])}" for n in wrong[:5]))
        checks.append(dict(name="architecture_unchanged", passed=False, detail="; ".join(parts)))

    finite = all(np.all(np.isfinite(a)) for a in final.values())
    changed = [n for n in final if n in init and np.shape(init[n]) == np.shape(final[n])
               and not np.array_equal(init[n], final[n])]
    frac = len(changed) / max(len(final), 1)
    checks.append(dict(name="weights_updated", passed=bool(finite and final and frac >= MIN_CHANGED_FRACTION),
                       detail=("weights contain NaN/Inf; " if not finite else "") +
                       f"{len(changed)} of {len(final)} parameter tensors changed by training"))

    counts = status.get("counts") or {}
    ck, sd = int(counts.get("checkpoint") or 0), int(counts.get("sdpa") or 0)
    checks.append(dict(name="techniques_exercised", passed=ck > 0 and sd > 0,
                       detail=f"during train: torch.utils.checkpoint called {ck} times, "
                              f"F.scaled_dot_product_attention {sd} times"))

    if not cuda:
        for n in ("peak_memory_reduction", "weights_on_device", "loss_matches_baseline"):
            checks.append(dict(name=n, passed=None, detail=f"skipped: {skip_reason}"))
        return checks

    base = exp_meta["baseline"]
    peak = status.get("peak_bytes")
    if not isinstance(peak, (int, float)) or peak <= 0:
        checks.append(dict(name="peak_memory_reduction", passed=False, detail="no peak measurement recorded"))
    else:
        red = 1.0 - peak / base["peak_bytes"]
        resets = int(status.get("reset_attempts") or 0)
        checks.append(dict(name="peak_memory_reduction", passed=bool(red >= MIN_REDUCTION),
                           detail=f"peak {_mib(peak)} vs baseline {_mib(base['peak_bytes'])}: {red:.1%} lower "
                                  f"(need >= {MIN_REDUCTION:.0%})" +
                                  (f"; {resets} reset(s) of the peak statistics were ignored" if resets else "")))
    checks.append(dict(name="weights_on_device", passed=status.get("on_device") is True,
                       detail="parameters on cuda after train" if status.get("on_device") is True else
                       "after train the parameters are not on cuda: training must run on config['device']"))
    if arch_ok and finite:
        import torch
        baseline_mod = _load_module(BASELINE_FILE, "envbench_baseline")
        loss = heldout_loss(torch, baseline_mod.build_model, exp_meta["config"], final, held)
        tol = max(LOSS_TOL_ABS, LOSS_TOL_REL * base["eval_loss"])
        checks.append(dict(name="loss_matches_baseline", passed=bool(loss <= base["eval_loss"] + tol),
                           detail=f"held-out loss {loss:.4f} vs baseline {base['eval_loss']:.4f} "
                                  f"(allowed up to +{tol:.3f})"))
    else:
        checks.append(dict(name="loss_matches_baseline", passed=False,
                           detail="weights do not fit the baseline architecture or are not finite"))
    return checks


def compare(ctx: ec.CompareContext) -> list:
    with np.load(os.path.join(ctx.private_dir, "expected.npz"), allow_pickle=False) as z:
        expected = {k: z[k] for k in z.files}
    meta = json.loads(str(expected["meta"]))
    return techniques.static_checks(ctx.source) + runtime_checks(meta, expected["heldout_tokens"], ctx.outputs)


TASK = ec.Task(name="memory-optimizations", public_files=("inputs.npz",), prepare=prepare, run=run, compare=compare,
               required=("runs",), optional=techniques.OPTIONAL, child_setup=_install_wrapper, max_output_mb=128)

if __name__ == "__main__":
    sys.exit(ec.main(TASK, __file__))
