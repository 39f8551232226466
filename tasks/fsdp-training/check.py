#!/usr/bin/env python3
"""Grader for the fsdp-training task.

The submission is a training script converted from single-GPU training to FSDP. It is graded by
11 static checks on its AST (pass at 9 of 11, the seed's rule) and, with CUDA and torch >= 2.0,
by a world-size-1 run under torchrun whose checkpoint the grader loads itself:

  prepare         (trusted)   decide whether the run can happen here; the model's state-dict
                              keys and shapes, from the single-GPU starter (trusted code)
  run-submission  (UNTRUSTED) in the shared library's isolated child, launch the script under
                              torchrun (--nproc_per_node=1 --standalone) with a tracer; when it
                              returns, the library's trusted parent kills the whole tree and
                              snapshots the checkpoint file itself
  compare         (trusted)   never imports the submission: AST checks on its source, the
                              checkpoint loaded with torch.load(weights_only=True) and checked
                              against the model's keys and shapes; prints the verdict JSON

Internal subcommands run inside the untrusted phase: `launch` (torchrun in-process, its host name
pinned to 127.0.0.1 because a sandbox's host name does not resolve) and `probe-run` (the worker:
installs the tracer, then runs the script as __main__).

The phases, exit codes, standalone runner and verdict file are the shared check library's
(src/grading/python/envbench_check.py); this file holds the task's logic.
"""

from __future__ import annotations

import argparse

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(_here, *[".."] * n, "src", "grading", "python") for n in (2, 3)]
import envbench_check as ec  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, _here)
from conversion import STATIC_CHECKS, static_checks  # noqa: E402  (public grader code, also in the run's mount)

HERE = os.path.dirname(os.path.abspath(__file__))
STARTER_FILE = os.path.join(HERE, "starter.py")
FORMAT_VERSION = 1
STATIC_PASS = 9  # of 11, the seed's rule
RUN_TIMEOUT_S = 300.0
MAX_CHECKPOINT_BYTES = 256 * 2**20
# Where the script saves its checkpoint ($CHECKPOINT_PATH), relative to the run folder: the library snapshots it.
CHECKPOINT_FILE = "run/checkpoint.pt"
RUNTIME_CHECKS = ("torchrun_completes", "checkpoint_full_state_dict", "fsdp_at_runtime")


def _torch_major(torch) -> int:
    try:
        return int(torch.__version__.split(".")[0])
    except ValueError:
        return 0


def _load_module(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def choose_mode(torch, requested: str) -> tuple[str, str]:
    """('cuda' | 'static', why): the torchrun run needs CUDA, NCCL and torch >= 2.0."""
    if requested in ("static", "cpu"):
        return "static", f"the run was not requested (--device {requested})"
    problems = []
    if _torch_major(torch) < 2:
        problems.append(f"torch {torch.__version__} < 2.0")
    if not torch.cuda.is_available() or torch.cuda.device_count() < 1:
        problems.append("CUDA is not available")
    else:
        try:
            import torch.distributed as dist
            if not (dist.is_available() and dist.is_nccl_available()):
                problems.append("torch.distributed has no NCCL backend")
        except Exception as e:  # noqa: BLE001
            problems.append(f"torch.distributed unusable ({type(e).__name__})")
    if problems:
        if requested == "cuda":
            raise ec.CheckerError("--device cuda but " + "; ".join(problems))
        return "static", "; ".join(problems)
    return "cuda", f"CUDA ({torch.cuda.get_device_name(0)}), torch {torch.__version__}"


class _NoGpuTorch:
    """What choose_mode asks of torch, answered without importing it (about 1.5 s) where no GPU device node
    exists (ec.gpu_nodes): CUDA cannot be available then, and the version comes from torch/version.py, the
    file torch's own __version__ is read from. None when the file cannot be read: then torch is imported."""
    class cuda:  # noqa: N801  (stands for torch.cuda)
        @staticmethod
        def is_available() -> bool:
            return False

        @staticmethod
        def device_count() -> int:
            return 0

    def __init__(self, version: str):
        self.__version__ = version

    @staticmethod
    def here():
        import re
        if ec.gpu_nodes():
            return None
        try:
            spec = importlib.util.find_spec("torch")
            folder = os.path.dirname(spec.origin) if spec and spec.origin else None
            with open(os.path.join(folder, "version.py")) as f:
                m = re.search(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", f.read(), re.M)
        except (OSError, ImportError, ValueError, TypeError):
            return None
        return _NoGpuTorch(m.group(1)) if m else None


def prepare_data(requested: str = "auto"):
    torch = _NoGpuTorch.here()
    if torch is None:
        import torch
    mode, why = choose_mode(torch, requested)
    spec = None
    if mode == "cuda":
        starter = _load_module(STARTER_FILE, "envbench_fsdp_starter")
        spec = [[k, list(v.shape)] for k, v in starter.TransformerLM().state_dict().items()]
    public = dict(version=FORMAT_VERSION, mode=mode)
    private = dict(version=FORMAT_VERSION, mode=mode, mode_reason=why, spec=spec, torch=torch.__version__)
    return dict(meta=np.array(json.dumps(public))), dict(meta=np.array(json.dumps(private)))



def cmd_launch(args) -> int:
    """torchrun, in this process so that its host-name lookup can be pinned: the elastic agent
    advertises socket.getfqdn() as MASTER_ADDR, and a sandbox's host name resolves nowhere."""
    import socket
    socket.getfqdn = lambda name="": "127.0.0.1"
    # One rank on one GPU over loopback, whatever interfaces the sandbox has.
    os.environ.setdefault("NCCL_SOCKET_IFNAME", "lo")
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    os.environ.setdefault("NCCL_IB_DISABLE", "1")
    from torch.distributed import run as torchrun
    torchrun.main(["--nproc_per_node=1", "--standalone", os.path.abspath(__file__), "probe-run",
                   "--script", args.script, "--trace-dir", args.trace_dir])
    return 0


def cmd_probe_run(args) -> int:
    """The torchrun worker: records what the script does with FSDP and torch.distributed, then runs
    it as __main__. The trace is as untrusted as the script; it only corroborates the AST checks."""
    import atexit
    import runpy
    trace = dict(rank=os.environ.get("RANK"), fsdp_wrapped=[], state_dict_types=[], saves=[],
                 init_backend=None, destroyed=False, set_epoch_calls=0, probe_error=None)

    def write():
        try:
            os.makedirs(args.trace_dir, exist_ok=True)
            with open(os.path.join(args.trace_dir, f"trace.{trace['rank']}.json"), "w") as f:
                json.dump(trace, f)
        except Exception:  # noqa: BLE001
            pass

    atexit.register(write)
    try:
        _install_tracer(trace)
    except Exception as e:  # noqa: BLE001
        trace["probe_error"] = f"{type(e).__name__}: {str(e)[:300]}"
    sys.argv = [args.script]
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.script)))
    runpy.run_path(args.script, run_name="__main__")
    write()
    return 0


def _install_tracer(trace: dict) -> None:
    import contextlib
    import functools

    import torch
    import torch.distributed as dist
    from torch.utils.data.distributed import DistributedSampler

    orig_init_pg = dist.init_process_group

    @functools.wraps(orig_init_pg)
    def init_process_group(*a, **k):
        trace["init_backend"] = str(k.get("backend", a[0] if a else None))
        return orig_init_pg(*a, **k)

    orig_destroy = dist.destroy_process_group

    @functools.wraps(orig_destroy)
    def destroy_process_group(*a, **k):
        trace["destroyed"] = True
        return orig_destroy(*a, **k)

    dist.init_process_group, dist.destroy_process_group = init_process_group, destroy_process_group

    orig_set_epoch = DistributedSampler.set_epoch

    def set_epoch(self, epoch):
        trace["set_epoch_calls"] += 1
        return orig_set_epoch(self, epoch)

    DistributedSampler.set_epoch = set_epoch

    orig_save = torch.save

    @functools.wraps(orig_save)
    def save(obj, f, *a, **k):
        rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else None
        trace["saves"].append(dict(rank=rank, path=str(f) if isinstance(f, (str, os.PathLike)) else type(f).__name__,
                                   type=type(obj).__name__))
        return orig_save(obj, f, *a, **k)

    torch.save = save

    # Last: on torch builds where FSDP cannot be imported this raises, and the trace says so.
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
    orig_fsdp_init = FSDP.__init__

    @functools.wraps(orig_fsdp_init)
    def fsdp_init(self, module, *a, **k):
        trace["fsdp_wrapped"].append(type(module).__name__)
        return orig_fsdp_init(self, module, *a, **k)

    FSDP.__init__ = fsdp_init
    orig_sdt = FSDP.state_dict_type

    @contextlib.contextmanager
    def state_dict_type(module, state_dict_type, state_dict_config=None, *a, **k):
        trace["state_dict_types"].append(dict(
            type=getattr(state_dict_type, "name", str(state_dict_type)),
            config=type(state_dict_config).__name__ if state_dict_config is not None else None,
            offload_to_cpu=getattr(state_dict_config, "offload_to_cpu", None),
            rank0_only=getattr(state_dict_config, "rank0_only", None)))
        with orig_sdt(module, state_dict_type, state_dict_config, *a, **k) as r:
            yield r

    FSDP.state_dict_type = staticmethod(state_dict_type)


def _tail(path: str, n: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, 9)
    except OSError:
        pass


def run_torchrun(script: str, work: str, timeout: float) -> dict:
    """Runs the script under torchrun in `work` and packs what came out. Never raises for the
    script's failures: they are recorded."""
    ckpt_dir = os.path.join(work, "run")
    trace_dir = os.path.join(work, "trace")
    for d in (ckpt_dir, trace_dir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    ckpt_path = os.path.join(ckpt_dir, "checkpoint.pt")
    env = dict(os.environ, CHECKPOINT_PATH=ckpt_path, PYTHONUNBUFFERED="1")
    out_path, err_path = os.path.join(work, "torchrun.stdout"), os.path.join(work, "torchrun.stderr")
    t0 = time.perf_counter()
    with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "launch", "--script", script,
                                 "--trace-dir", trace_dir], cwd=work, env=env, stdin=subprocess.DEVNULL,
                                stdout=out_f, stderr=err_f, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        _kill_group(proc.pid)
        proc.wait()
    status = dict(ran=True, exit_code=rc, timed_out=rc is None, seconds=round(time.perf_counter() - t0, 2),
                  stderr_tail=_tail(err_path), stdout_tail=_tail(out_path, 1500), traces=[],
                  checkpoint=None)
    for name in sorted(os.listdir(trace_dir)):
        try:
            with open(os.path.join(trace_dir, name)) as f:
                status["traces"].append(json.load(f))
        except Exception:  # noqa: BLE001
            pass
    # The checkpoint itself is not read here: the library's trusted parent snapshots CHECKPOINT_FILE once
    # this whole tree (torchrun, its worker, anything they left behind) is killed.
    return dict(status=status, arrays={})


def verify_checkpoint(raw: bytes, spec: list) -> tuple[bool, str]:
    """Loads the checkpoint with the restricted unpickler (tensors and containers only) and checks it is
    the model's full state dict: every key, full (unsharded) shapes, finite floating-point values."""
    import torch
    try:
        sd = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        return False, f"torch.load(weights_only=True) refused it: {type(e).__name__}: {str(e)[:200]}"
    if not isinstance(sd, dict):
        return False, f"the checkpoint is a {type(sd).__name__}, not a state dict"
    want = {k: tuple(s) for k, s in spec}
    not_tensor = [k for k, v in sd.items() if not isinstance(v, torch.Tensor)]
    if not_tensor:
        return False, f"values that are not tensors: {', '.join(map(str, not_tensor[:5]))}"
    missing = sorted(set(want) - set(sd))
    extra = sorted(set(map(str, sd)) - set(want))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} keys missing ({', '.join(missing[:4])})")
        if extra:
            parts.append(f"{len(extra)} unexpected keys ({', '.join(extra[:4])})")
        return False, "; ".join(parts) + " — a full state dict has exactly the model's keys"
    wrong = [k for k in want if tuple(sd[k].shape) != want[k]]
    if wrong:
        k = wrong[0]
        return False, (f"{len(wrong)} tensors with the wrong shape, e.g. {k} {list(sd[k].shape)} vs {list(want[k])} "
                       "(sharded or flattened?)")
    bad = [k for k, v in sd.items() if not v.is_floating_point() or not bool(torch.isfinite(v).all())]
    if bad:
        return False, f"non-float or non-finite tensors: {', '.join(bad[:4])}"
    return True, f"{len(want)} tensors, keys and full shapes as the model's"


def runtime_checks(meta: dict, outputs: ec.Outputs) -> list[dict]:
    if meta["mode"] != "cuda":
        why = f"skipped: the torchrun run needs CUDA, NCCL and torch >= 2.0; here {meta['mode_reason']}"
        return [dict(name=n, passed=None, detail=why) for n in RUNTIME_CHECKS]
    status, err = (outputs.status, None) if outputs.ok else (None, outputs.error)
    raw = outputs.files.get(CHECKPOINT_FILE)
    if status is None or not status.get("ran"):
        why = err or "the run did not happen"
        return [ec.check(n, False, why) for n in RUNTIME_CHECKS]
    checks = []
    tail = [ln for ln in str(status.get("stderr_tail") or "").strip().splitlines() if ln.strip()]
    if status.get("timed_out"):
        checks.append(ec.check("torchrun_completes", False, f"still running after {RUN_TIMEOUT_S:g} s"))
    elif status.get("exit_code") != 0:
        checks.append(ec.check("torchrun_completes", False, f"exit code {status.get('exit_code')}; "
                                                  f"last stderr line: {ec.bounded(tail[-1] if tail else '', 300)}"))
    else:
        checks.append(ec.check("torchrun_completes", True, f"torchrun --nproc_per_node=1 --standalone finished in "
                                                f"{status.get('seconds')} s"))
    if raw is None:
        checks.append(ec.check("checkpoint_full_state_dict", False, "no checkpoint at $CHECKPOINT_PATH when the run ended "
                                                          f"(a regular file under {MAX_CHECKPOINT_BYTES} bytes)"))
    else:
        ok, detail = verify_checkpoint(raw, meta["spec"])
        checks.append(dict(name="checkpoint_full_state_dict", passed=ok, detail=detail))
    traces = status.get("traces") or []
    t = traces[0] if traces and isinstance(traces[0], dict) else None
    if t is None:
        checks.append(ec.check("fsdp_at_runtime", False, "the worker left no trace (it did not start, or was killed)"))
    elif t.get("probe_error"):
        checks.append(dict(name="fsdp_at_runtime", passed=None,
                           detail=f"not observed: the tracer could not be installed ({ec.bounded(t['probe_error'])})"))
    else:
        wrapped = [ec.bounded(x, 80) for x in (t.get("fsdp_wrapped") or [])[:1000]]
        blocks = sum(1 for x in wrapped if x == "TransformerBlock")
        sdt = t.get("state_dict_types") or []
        detail = (f"FSDP units: {len(wrapped)} ({blocks} TransformerBlock); state_dict_type: "
                  f"{', '.join(str(s.get('type')) for s in sdt if isinstance(s, dict)) or 'never'}; "
                  f"backend {t.get('init_backend')}; set_epoch x{t.get('set_epoch_calls')}; "
                  f"destroy_process_group: {t.get('destroyed')}")
        checks.append(dict(name="fsdp_at_runtime", passed=bool(wrapped) and blocks > 0, detail=detail))
    return checks


def write_npz(path: str, arrays: dict) -> None:
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def prepare(out_dir: str, device: str) -> None:
    inputs, expected = prepare_data(device)
    write_npz(os.path.join(out_dir, "inputs.npz"), inputs)
    write_npz(os.path.join(out_dir, "expected.npz"), expected)


def run(script: str, inputs_dir: str, device: str):
    """In the library's isolated child (a script task: the file is run under torchrun, never imported)."""
    with np.load(os.path.join(inputs_dir, "inputs.npz"), allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
    if meta["mode"] != "cuda":
        return dict(ran=False, version=FORMAT_VERSION), {}
    r = run_torchrun(script, os.path.dirname(script), RUN_TIMEOUT_S)
    r["status"]["version"] = FORMAT_VERSION
    return r["status"], r["arrays"]


def compare(ctx: ec.CompareContext) -> list:
    with np.load(os.path.join(ctx.private_dir, "expected.npz"), allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
    static = static_checks(ctx.source)
    n_static = sum(1 for c in static if c["passed"])
    summary = dict(name="static_score", passed=n_static >= STATIC_PASS,
                   detail=f"{n_static} of {len(STATIC_CHECKS)} static checks passed; {STATIC_PASS} needed")
    return static + [summary] + runtime_checks(meta, ctx.outputs)


# The static checks decide together (static_score: 9 of 11, the seed's rule), never one by one.
TASK = ec.Task(name="fsdp-training", public_files=("inputs.npz",), prepare=prepare, run=run, compare=compare,
               required=("static_score",), optional=STATIC_CHECKS, snapshot=(CHECKPOINT_FILE,),
               import_submission=False, max_output_mb=MAX_CHECKPOINT_BYTES // 2**20 + 8)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The worker and the launcher run the submission: no JSON protocol, their exit status is theirs.
    if argv and argv[0] in ("probe-run", "launch"):
        p = argparse.ArgumentParser(prog=f"check.py {argv[0]}")
        p.add_argument("--script", required=True)
        p.add_argument("--trace-dir", required=True)
        args = p.parse_args(argv[1:])
        return cmd_probe_run(args) if argv[0] == "probe-run" else cmd_launch(args)
    return ec.main(TASK, __file__, argv)


if __name__ == "__main__":
    sys.exit(main())
