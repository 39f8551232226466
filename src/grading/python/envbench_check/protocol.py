"""The task and the phases: prepare, run-submission, compare and the standalone runner, with their exit codes."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from .outputs import FILE_PREFIX, RUNNER_KEY, STATUS_KEY, Outputs, load_outputs, pack
from .rules import parse_source, use_module_map
from .runner import read_plain_file, run_isolated
from .verdict import EXIT_CHECKER, EXIT_FAILED, EXIT_IMPORT, EXIT_OK, EXIT_TREE_SURVIVED, CheckerError, bounded, check, emit, last_line, verdict_of, write_verdict

# ---------------------------------------------------------------------------------------------------
# the task and the phases
# ---------------------------------------------------------------------------------------------------

@dataclass
class Task:
    """A task's logic; the library supplies the protocol around it.

    prepare(out_dir, device)          trusted: write the public files and the private expected data
    run(module, inputs_dir, device)   UNTRUSTED child: call the submission; return (status dict, arrays dict)
    compare(ctx)                      trusted: list of checks (ctx: CompareContext)
    child_setup(inputs_dir, device)   in the child, before the submission is imported (measuring wrappers)
    """
    name: str
    public_files: tuple
    prepare: Callable[[str, str], None]
    run: Callable[[Any, str, str], tuple]
    compare: Callable[["CompareContext"], list]
    required: tuple = ()
    optional: tuple = ()   # checks that only count in the score, never fail the verdict alone
    snapshot: tuple = ()   # files the submission writes that compare may read, snapshotted at return
    max_output_mb: int = 256
    child_setup: Callable[[str, str], None] | None = None
    prepare_params: tuple = ()   # extra `--NAME VALUE` options of prepare and standalone, passed to prepare
    import_submission: bool = True   # False: a script task; run() gets the submission's path, not a module


@dataclass
class CompareContext:
    private_dir: str
    outputs: Outputs
    source: bytes | None
    tree: Any
    parse_error: str | None
    device: str


def load_submission(path: str):
    import importlib.util
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location("submission", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = mod
    spec.loader.exec_module(mod)
    return mod


def _run_phase(task: Task, submission: str, inputs: str, out: str, device: str, timeout: float | None) -> int:
    def work() -> bytes:
        if not task.import_submission:
            status, arrays = task.run(os.path.abspath(submission), inputs, device)
            return pack(status, arrays)
        try:
            module = load_submission(submission)
        except BaseException:  # noqa: BLE001  (SystemExit too)
            return pack({"import_error": traceback.format_exc()[-4000:]}, {})
        status, arrays = task.run(module, inputs, device)
        return pack(status, arrays)

    res = run_isolated(work, timeout=timeout, max_bytes=task.max_output_mb << 20, snapshot=task.snapshot, max_file_bytes=task.max_output_mb << 20,
                       snapshot_dir=os.path.dirname(os.path.abspath(submission)),
                       child_setup=(lambda: task.child_setup(inputs, device)) if task.child_setup else None)
    if not res.tree_killed:
        # A process of the submission is still alive: it could rewrite whatever is written here.
        sys.stderr.write("envbench: the submission's processes outlived its results and could not all be killed\n")
        return EXIT_TREE_SURVIVED
    import numpy as np
    runner = {"ended": res.ended, "detail": res.detail, "wall_s": res.wall_s, "tree_cpu_s": res.tree_cpu_s,
              "tree_killed": res.tree_killed}
    arrays: dict = {}
    import_failed = False
    if res.payload is not None:
        try:
            with np.load(io.BytesIO(res.payload), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files if not k.startswith("__") or k == STATUS_KEY}
            status = json.loads(str(arrays.get(STATUS_KEY, np.array("{}"))))
            import_failed = isinstance(status, dict) and bool(status.get("import_error"))
        except Exception as e:  # noqa: BLE001
            arrays = {}
            runner.update(ended="malformed", detail=f"the submission's results are malformed ({type(e).__name__})")
    for name, data in res.files.items():
        arrays[FILE_PREFIX + name] = np.frombuffer(data, dtype=np.uint8)
    arrays[RUNNER_KEY] = np.array(json.dumps(runner))
    tmp = out + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, out)
    emit({"ended": runner["ended"], "wall_s": round(res.wall_s, 4)})
    return EXIT_IMPORT if import_failed else EXIT_OK


def read_source(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def runner_checks(outputs: Outputs) -> list:
    """The checks every Python grader reports about the run itself."""
    if outputs.ok:
        if outputs.import_error:
            return [check("imports", False, f"the submission could not be imported: {last_line(outputs.import_error)}")]
        return []
    return [check("runs_cleanly", False, f"no results from the submission: {bounded(outputs.error, 500)}")]


def _compare_phase(task: Task, private_dir: str, outputs_path: str, submission: str, device: str) -> dict:
    source = read_source(submission)
    tree, parse_error = parse_source(source)
    outputs = load_outputs(outputs_path)
    ctx = CompareContext(private_dir, outputs, source, tree, parse_error, device)
    checks = runner_checks(outputs) + list(task.compare(ctx))
    return verdict_of(checks, task.required, task.optional)


def _standalone(task: Task, script: str, submission: str, device: str, timeout: float, verbose: bool,
                params: dict | None = None) -> int:
    source = read_source(submission)
    if source is None:
        raise CheckerError(f"cannot read submission {submission}")
    private = tempfile.mkdtemp(prefix=f"{task.name}-private-")
    work = tempfile.mkdtemp(prefix=f"{task.name}-run-")
    try:
        task.prepare(private, device, **(params or {}))
        for f in task.public_files:
            shutil.copyfile(os.path.join(private, f), os.path.join(work, f))
        # No sandbox here: the private files stay in this process's memory while the submission runs, and
        # go back on disk only after its whole tree is gone.
        held = {}
        for root, _, files in os.walk(private):
            for f in files:
                full = os.path.join(root, f)
                with open(full, "rb") as fh:
                    held[os.path.relpath(full, private)] = fh.read()
        shutil.rmtree(private)
        os.mkdir(private, 0o700)
        sub = os.path.join(work, "submission.py")
        with open(sub, "wb") as f:
            f.write(source)
        out = os.path.join(work, "outputs.npz")
        cmd = [sys.executable, script, "run-submission", "--submission", sub, "--inputs", work, "--out", out,
               "--device", device, "--timeout", str(timeout)]
        err_path = os.path.join(work, ".run.stderr")
        with open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=True)
            try:
                proc.wait(timeout=timeout + 60)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
        if verbose:
            with open(err_path, "rb") as f:
                sys.stderr.write(f.read()[-3000:].decode(errors="replace"))
        for rel, data in held.items():
            os.makedirs(os.path.dirname(os.path.join(private, rel)), exist_ok=True)
            with open(os.path.join(private, rel), "wb") as fh:
                fh.write(data)
        trusted_out = os.path.join(private, "outputs.npz")
        data = read_plain_file(out, task.max_output_mb << 20)
        if data is not None:
            with open(trusted_out, "wb") as f:
                f.write(data)
        with open(os.path.join(private, "submission.py"), "wb") as f:
            f.write(source)
        verdict = _compare_phase(task, private, trusted_out, os.path.join(private, "submission.py"), device)
        emit(verdict)
        return EXIT_OK if verdict["passed"] else EXIT_FAILED
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)


MODULE_MAP_MAX_BYTES = 4 << 20


def _read_module_map(path: str) -> dict | None:
    """The harness's module map (rules.module_map(), written by a trusted process); None when it is missing or
    not of that shape, and then every walk imports for real: a bad map can cost time, never a check."""
    try:
        data = read_plain_file(path, MODULE_MAP_MAX_BYTES)
        m = json.loads(data) if data is not None else None
    except (OSError, ValueError):
        return None
    ok = isinstance(m, dict) and isinstance(m.get("roots"), dict) and isinstance(m.get("absent"), list) and \
        isinstance(m.get("modules"), dict) and all(
            isinstance(e, dict) and isinstance(e.get("attrs"), dict) and isinstance(e.get("subs"), list)
            and isinstance(e.get("opaque"), bool) for e in m["modules"].values())
    return m if ok else None


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # bad arguments are a checker failure
        self.print_usage(sys.stderr)
        raise CheckerError(f"bad arguments: {message}")


def main(task: Task, script: str, argv: list | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    devices = ["auto", "cpu", "cuda"]
    try:
        if argv and argv[0] in ("prepare", "run-submission", "compare"):
            p = _Parser(prog="check.py")
            sub = p.add_subparsers(dest="cmd", required=True)
            sp = sub.add_parser("prepare")
            sp.add_argument("--out", required=True)
            sp.add_argument("--device", choices=devices, default="auto")
            for name in task.prepare_params:
                sp.add_argument(f"--{name}", required=True)
            sp = sub.add_parser("run-submission")
            sp.add_argument("--submission", required=True)
            sp.add_argument("--inputs", required=True)
            sp.add_argument("--out", required=True)
            sp.add_argument("--device", choices=devices, default="auto")
            sp.add_argument("--timeout", type=float, default=None)
            sp = sub.add_parser("compare")
            sp.add_argument("--private", required=True)
            sp.add_argument("--outputs", required=True)
            sp.add_argument("--submission", required=True)
            sp.add_argument("--verdict", required=True)
            sp.add_argument("--device", choices=devices, default="auto")
            sp.add_argument("--module-map", default=None)
            a = p.parse_args(argv)
            if a.cmd == "prepare":
                os.makedirs(a.out, exist_ok=True)
                task.prepare(a.out, a.device, **{n: getattr(a, n) for n in task.prepare_params})
                emit({"ok": True})
                return EXIT_OK
            if a.cmd == "run-submission":
                return _run_phase(task, a.submission, a.inputs, a.out, a.device, a.timeout)
            if a.module_map:
                use_module_map(_read_module_map(a.module_map))
            v = _compare_phase(task, a.private, a.outputs, a.submission, a.device)
            write_verdict(a.verdict, v)
            emit({"passed": v["passed"], "score": v["score"]})
            return EXIT_OK
        p = _Parser(prog="check.py", description=f"{task.name}: prepare + run-submission + compare")
        p.add_argument("submission")
        p.add_argument("--device", choices=devices, default="auto")
        p.add_argument("--timeout", type=float, default=300.0)
        p.add_argument("--verbose", action="store_true")
        for name in task.prepare_params:
            p.add_argument(f"--{name}", required=True)
        a = p.parse_args(argv)
        return _standalone(task, os.path.abspath(script), a.submission, a.device, a.timeout, a.verbose,
                           {n: getattr(a, n) for n in task.prepare_params})
    except CheckerError as e:
        emit({"error": bounded(e, 4000)})
        return EXIT_CHECKER
    except Exception as e:  # noqa: BLE001
        sys.stderr.write(traceback.format_exc())
        emit({"error": f"checker failure: {type(e).__name__}: {bounded(e, 2000)}"})
        return EXIT_CHECKER
