#!/usr/bin/env python3
"""Grader for the memory-optimizations task.

The submission is a training script exposing build_model(config) and
train(model, batches, config). Grading is split so that the submission never
sees the held-out data or the baseline's numbers, and never shares a process
with the code that decides the verdict:

  prepare         (trusted)   draw a secret seed, make training and held-out
                              data; with CUDA (torch >= 2) also train the
                              baseline (starter.py) under the measuring wrapper
  run-submission  (UNTRUSTED) import the submission and train it under the
                              same wrapper; save its weights and the wrapper's
                              measurements; sees the training data only
  compare         (trusted)   never imports the submission: AST analysis of
                              its source, weights checked against the
                              baseline's architecture, held-out loss computed
                              here; prints the verdict JSON

Running `check.py SUBMISSION.py` does all three on one machine: the held-out
data stays in this process's memory and the untrusted phase runs in a child
process whose stdout is not forwarded.

Every subcommand prints one compact JSON object as the last line of stdout.
Exit codes: prepare/compare 0 = ok, 2 = checker failure;
run-submission 0 = ran (submission errors are recorded in the outputs file),
3 = the submission could not be imported, 2 = checker failure;
standalone 0 = passed, 1 = failed, 2 = checker failure.
"""

from __future__ import annotations

import argparse
import ast
import functools
import importlib.util
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

REQUIRED = ("required_mixed_precision", "required_gradient_checkpointing", "required_sdpa")
OPTIONAL = ("optional_gradient_accumulation", "optional_memory_efficient_optimizer", "optional_memory_management",
            "optional_cpu_offload_or_pinned_memory", "optional_torch_compile", "optional_inplace_operations")
MIN_OPTIONAL = 2


class CheckerError(Exception):
    """A failure of the checker itself (bad arguments, unreadable trusted files)."""


def emit(obj) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n")
    sys.stdout.flush()


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
            raise CheckerError("--device cuda but torch.cuda.is_available() is false")
        return "cpu", f"CUDA is not available (torch {torch.__version__})"
    if _torch_major(torch) < 2:
        if requested == "cuda":
            raise CheckerError(f"--device cuda needs torch >= 2.0 (F.scaled_dot_product_attention); have {torch.__version__}")
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
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def cmd_prepare(args) -> int:
    inputs, expected = prepare_data(args.device)
    in_path = os.path.join(args.out, "inputs.npz")
    exp_path = os.path.join(args.expected_out or args.out, "expected.npz")
    write_npz(in_path, inputs)
    if args.expected_out:
        os.makedirs(args.expected_out, mode=0o700, exist_ok=True)
    write_npz(exp_path, expected)
    os.chmod(exp_path, 0o600)
    meta = json.loads(str(expected["meta"]))
    emit(dict(ok=True, inputs=os.path.abspath(in_path), expected=os.path.abspath(exp_path), mode=meta["mode"],
              baseline_peak_mib=None if not meta["baseline"] else round(meta["baseline"]["peak_bytes"] / 2**20, 1)))
    return 0


# ---------------------------------------------------------------------------
# run-submission (UNTRUSTED: imports and runs the submission)
# ---------------------------------------------------------------------------

def _summary(e: BaseException) -> str:
    """`Type: first line of the message` and where in the submission it was raised."""
    msg = (str(e).strip().splitlines() or [""])[0][:300]
    where = ""
    for fr in traceback.extract_tb(e.__traceback__):
        if os.path.basename(fr.filename) == "submission.py":
            where = f" at submission line {fr.lineno} (`{(fr.line or '').strip()[:100]}`)"
    return f"{type(e).__name__}{where}: {msg}"


def cmd_run_submission(args) -> int:
    # The submission's prints go to stderr, so the last line of our stdout is ours.
    # (Nothing from this phase is trusted anyway.)
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
            train_tokens = z["train_tokens"]
            meta = json.loads(str(z["meta"]))
        config = meta["config"]
    except Exception:  # noqa: BLE001
        sys.stderr.write(traceback.format_exc())
        return finish(dict(ok=False, error="cannot load inputs"), 2)

    cuda = meta["mode"] == "cuda"
    status = dict(version=FORMAT_VERSION, mode=meta["mode"], torch=torch.__version__,
                  cuda_available=bool(torch.cuda.is_available()), shims=[], import_error=None,
                  error=None, counts=None, reset_attempts=0)
    arrays = {}

    def save(code):
        try:
            arrays["status"] = np.array(json.dumps(status))
            write_npz(args.out, arrays)
        except Exception:  # noqa: BLE001
            sys.stderr.write(traceback.format_exc())
            return finish(dict(ok=False, error="cannot write outputs"), 2)
        return finish(dict(ok=True, mode=status["mode"], error=status["error"] is not None,
                           import_error=status["import_error"] is not None), code)

    if cuda and not torch.cuda.is_available():
        status["error"] = "prepare chose CUDA but torch.cuda.is_available() is false in this phase"
        return save(0)
    try:
        status["shims"] = install_shims(torch)
        guards = Guards(torch, cuda)
    except Exception:  # noqa: BLE001
        sys.stderr.write(traceback.format_exc())
        return finish(dict(ok=False, error="cannot install the measuring wrapper"), 2)

    try:
        mod = _load_module(args.submission, "submission")
        build_model, train = getattr(mod, "build_model"), getattr(mod, "train")
        if not callable(build_model) or not callable(train):
            raise TypeError("build_model and train must be callable")
    except BaseException as e:  # noqa: BLE001  (SystemExit too)
        tb = traceback.format_exc()
        sys.stderr.write(tb)
        status["import_error"] = _summary(e)
        return save(3)

    try:
        r = measured_run(torch, build_model, train, config, train_tokens, meta["init_seed"], guards)
        status.update(seconds=r["seconds"], on_device=r["on_device"], peak_bytes=r.get("peak_bytes"),
                      allocated_total_bytes=r.get("allocated_total_bytes"))
        for name, arr in r["final"].items():
            arrays["final/" + name] = arr
        for name, arr in r["init"].items():
            arrays["init/" + name] = arr
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, KeyboardInterrupt):
            raise
        sys.stderr.write(traceback.format_exc())
        status["error"] = _summary(e)
    status["counts"] = dict(guards.counts)
    status["reset_attempts"] = guards.reset_attempts
    return save(0)


# ---------------------------------------------------------------------------
# static analysis (trusted): which techniques the source really uses
# ---------------------------------------------------------------------------

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
TAMPER_ATTRS = {"reset_peak_memory_stats", "reset_max_memory_allocated", "reset_max_memory_cached",
                "reset_accumulated_memory_stats", "_cuda_resetPeakMemoryStats", "_cuda_resetAccumulatedMemoryStats",
                "change_current_allocator", "CUDAPluggableAllocator", "_cuda_memoryStats"}
PROCESS_MODULES = {"subprocess", "multiprocessing", "torch.multiprocessing", "ctypes", "pty", "concurrent.futures"}
PROCESS_CALLS = {"os.system", "os.fork", "os.forkpty", "os.popen", "os.posix_spawn", "os.posix_spawnp",
                 "os.execv", "os.execve", "os.execl", "os.execlp", "os.execvp", "os.execvpe", "os.spawnv",
                 "os.spawnl", "os.spawnlp", "os.spawnvp", "os._exit"}


def _line(node) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001
        text = type(node).__name__
    text = " ".join(text.split())
    return f"line {getattr(node, 'lineno', '?')}: {text[:90]}"


def _is_main_guard(stmt) -> bool:
    """`if __name__ == "__main__":` — code the grader never runs."""
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    parts = [stmt.test.left, *stmt.test.comparators]
    names = [p for p in parts if isinstance(p, ast.Name) and p.id == "__name__"]
    consts = [p for p in parts if isinstance(p, ast.Constant) and p.value == "__main__"]
    return bool(names and consts)


class Source:
    """The submission's AST with import aliases resolved and the code the grader can reach found.

    Reachable code: module-level statements (run at import; `if __name__ == "__main__":` excluded),
    build_model and train, and every top-level function or class named in reachable code (a class
    brings all its methods and its bases). A class that reachable code never names is dead code.
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
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self._parents[id(child)] = node
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.setdefault(stmt.name, []).append(stmt)
            elif isinstance(stmt, ast.ClassDef):
                self.classes[stmt.name] = stmt
        self._collect_aliases()
        self.units = self._reachable_units()

    # -- names --------------------------------------------------------------
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
                    if a.name == "*":
                        self.star_modules.append(node.module)
                    else:
                        self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        # Simple aliases by assignment (sdpa = F.scaled_dot_product_attention; self.ckpt = checkpoint),
        # to a fixed point so chains resolve.
        for _ in range(4):
            changed = False
            for node in ast.walk(self.tree):
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

    # -- reachability -------------------------------------------------------
    def _reachable_units(self) -> list:
        units: list = []
        seen: set[int] = set()
        queue: list = []

        def add(node):
            if id(node) not in seen:
                seen.add(id(node))
                queue.append(node)

        def add_class(cls: ast.ClassDef):
            if id(cls) in seen:
                return
            seen.add(id(cls))
            for item in cls.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    add(item)
                elif not isinstance(item, ast.ClassDef):
                    add(item)  # class-level statements run at import
                else:
                    add_class(item)
            for base in cls.bases:
                if isinstance(base, ast.Name) and base.id in self.classes:
                    add_class(self.classes[base.id])

        for stmt in self.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for dec in stmt.decorator_list:  # decorators run at import
                    add(dec)
            elif isinstance(stmt, ast.ClassDef):
                for dec in stmt.decorator_list:
                    add(dec)
            elif not _is_main_guard(stmt):
                add(stmt)
        for root in ("build_model", "train"):
            for fn in self.functions.get(root, []):
                add(fn)
        while queue:
            unit = queue.pop(0)
            units.append(unit)
            for node in ast.walk(unit):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    for fn in self.functions.get(node.id, []):
                        add(fn)
                    if node.id in self.classes:
                        add_class(self.classes[node.id])
        return units

    def walk(self, units=None):
        for unit in (self.units if units is None else units):
            yield from ast.walk(unit)

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


def find_gradient_accumulation(src: Source) -> list[str]:
    """backward() in a loop while the optimizer steps less often: either the step sits in an outer loop
    that also holds the backward's loop, or in an `if` (on a modulo or an accumulation counter) of the
    loop that calls backward, with the backward outside that `if`. Both in one function."""
    found = []
    loops = (ast.For, ast.While, ast.AsyncFor)
    for unit in src.step_units():
        backs, steps = [], []
        for node in ast.walk(unit):
            if not isinstance(node, ast.Call):
                continue
            if (isinstance(node.func, ast.Attribute) and node.func.attr == "backward") or \
                    src.qualname(node.func) == "torch.autograd.backward":
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
        for node in ast.walk(unit):
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


def find_tampering(src: Source) -> list[str]:
    """What could fake the wrapper's measurements: resets of the peak statistics, a swapped allocator,
    torch._C, patching torch's own attributes, or training in another process (whose GPU memory the
    wrapper would not see)."""
    found = []
    for node in src.walk():
        if isinstance(node, ast.Attribute) and node.attr in TAMPER_ATTRS:
            found.append(_line(node))
        elif isinstance(node, ast.Name) and node.id in TAMPER_ATTRS:
            found.append(_line(node))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in TAMPER_ATTRS:
            found.append(f"{_line(node)} (name as a string)")
        elif isinstance(node, ast.Attribute) and node.attr == "_C" and (src.qualname(node.value) or "").startswith("torch"):
            found.append(f"{_line(node)} (torch._C)")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for m in mods:
                if m in PROCESS_MODULES or any(m.startswith(p + ".") for p in PROCESS_MODULES) or m == "torch._C" \
                        or m.startswith("torch._C."):
                    found.append(f"{_line(node)} (another process / native code)")
        elif isinstance(node, ast.Call):
            q = src.qualname(node.func) or ""
            if q in PROCESS_CALLS:
                found.append(_line(node))
            if q in ("setattr", "delattr") or (isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr")):
                if node.args and (src.qualname(node.args[0]) or "").startswith("torch"):
                    found.append(f"{_line(node)} (patches torch)")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute):
                    q = src.qualname(t.value) or ""
                    if (q == "torch" or q.startswith("torch.")) and not q.startswith("torch.backends"):
                        found.append(f"{_line(node)} (assigns to an attribute of {q})")
                if isinstance(t, ast.Subscript) and src.qualname(t.value) == "sys.modules":
                    found.append(f"{_line(node)} (sys.modules)")
    return found


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
        try:
            tree = ast.parse(source)
        except Exception as e:  # noqa: BLE001
            err = f"cannot parse submission: {type(e).__name__}: {str(e)[:300]}"
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
    tamper = sorted(set(find_tampering(src)))
    checks.append(dict(name="no_measurement_tampering", passed=not tamper,
                       detail=("; ".join(tamper[:5])) if tamper else
                       "no peak-statistics resets, allocator swaps, torch._C, patching of torch, or other processes"))
    return checks


# ---------------------------------------------------------------------------
# compare (trusted; never imports the submission)
# ---------------------------------------------------------------------------

def _load_outputs(path: str):
    """(status dict, final params, init params, error or None). Never raises."""
    try:
        with np.load(path, allow_pickle=False) as z:
            status = json.loads(str(z["status"]))
            final = {k[len("final/"):]: z[k] for k in z.files if k.startswith("final/")}
            init = {k[len("init/"):]: z[k] for k in z.files if k.startswith("init/")}
        if not isinstance(status, dict):
            raise ValueError("status is not a dict")
        return status, final, init, None
    except Exception as e:  # noqa: BLE001
        return None, {}, {}, f"outputs file missing or malformed ({type(e).__name__}: {str(e)[:200]})"


def _mib(b) -> str:
    return f"{b / 2**20:.1f} MiB"


def runtime_checks(exp_meta: dict, held: np.ndarray, outputs_path: str) -> list[dict]:
    cuda = exp_meta["mode"] == "cuda"
    skip_reason = f"needs CUDA and torch >= 2.0; {exp_meta['mode_reason']}"
    status, final, init, out_err = _load_outputs(outputs_path)
    names = ["runs", "architecture_unchanged", "weights_updated", "techniques_exercised",
             "peak_memory_reduction", "weights_on_device", "loss_matches_baseline"]
    problem = out_err
    if status is not None and status.get("import_error"):
        problem = "submission import failed: " + str(status["import_error"])[:600]
    elif status is not None and status.get("error"):
        problem = "build_model/train raised " + str(status["error"])[:600]
    if problem:
        checks = [dict(name="runs", passed=False, detail=problem)]
        for n in names[1:]:
            gpu_only = n in ("peak_memory_reduction", "weights_on_device", "loss_matches_baseline")
            checks.append(dict(name=n, passed=None if gpu_only and not cuda else False,
                               detail=skip_reason if gpu_only and not cuda else "the submission did not run"))
        return checks

    checks = []
    shims = status.get("shims") or []
    detail = f"trained on {exp_meta['mode']} (torch {status.get('torch')}) in {status.get('seconds')} s"
    if shims:
        detail += "; torch < 2.0 here, so the grader supplied: " + ", ".join(map(str, shims))
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


def compare(expected: dict, outputs_path: str, source: bytes | None) -> dict:
    meta = json.loads(str(expected["meta"]))
    checks = static_checks(source) + runtime_checks(meta, expected["heldout_tokens"], outputs_path)
    gating = [c for c in checks if c["name"] not in OPTIONAL and c["passed"] is not None]
    passed = all(c["passed"] for c in gating) and any(c["name"] == "runs" and c["passed"] for c in checks)
    graded = [c for c in checks if c["passed"] is not None]
    score = sum(1 for c in graded if c["passed"]) / len(graded) if graded else 0.0
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
        if meta.get("version") != FORMAT_VERSION or "heldout_tokens" not in exp:
            raise ValueError("wrong format")
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
    """The untrusted phase in its own session; output to files so lingering grandchildren cannot
    block us. Returns (rc or None on timeout, stderr tail)."""
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
    inputs, expected = prepare_data(args.device)  # held-out data stays in this process's memory
    work = tempfile.mkdtemp(prefix="memopt-run-")
    logs = tempfile.mkdtemp(prefix="memopt-log-")
    try:
        sub_copy = os.path.join(work, "submission.py")
        with open(sub_copy, "wb") as f:
            f.write(source)
        in_path = os.path.join(work, "inputs.npz")
        out_path = os.path.join(work, "outputs.npz")
        write_npz(in_path, inputs)
        cmd = [sys.executable, os.path.abspath(__file__), "run-submission", "--submission", sub_copy,
               "--inputs", in_path, "--out", out_path]
        rc, child_err = _run_child(cmd, work, logs, args.timeout)
        if args.verbose:
            sys.stderr.write(f"[run-submission rc={rc}] stderr tail:\n{child_err[-3000:]}\n")
        if rc is None and os.path.exists(out_path):
            os.remove(out_path)
        verdict = compare(expected, out_path, source)
        tail = [ln for ln in child_err.strip().splitlines() if ln.strip()][-1:]
        info = "timed out after %gs" % args.timeout if rc is None else f"exit code {rc}"
        if rc not in (0, None) and tail:
            info += f"; last stderr line: {tail[0][:300]}"
        verdict["checks"].append(dict(name="run_submission", passed=None, detail=info))
        if rc is None:
            verdict["checks"].append(dict(name="timeout", passed=False, detail=info))
            verdict["passed"] = False
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
            sp = sub.add_parser("prepare", help="trusted: data, and the baseline's measurements with CUDA")
            sp.add_argument("--out", required=True, help="directory for inputs.npz (and expected.npz)")
            sp.add_argument("--expected-out", default=None, help="separate directory for expected.npz")
            sp.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
            sp = sub.add_parser("run-submission", help="UNTRUSTED: train the submission on inputs.npz")
            sp.add_argument("--submission", required=True)
            sp.add_argument("--inputs", required=True)
            sp.add_argument("--out", required=True)
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
        p.add_argument("--timeout", type=float, default=900.0)
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
