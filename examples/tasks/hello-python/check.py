#!/usr/bin/env python3
"""Grader of the hello-python example: task logic only, on the shared check library.

  prepare  (trusted)    random rows, some with entries near 1e4, and the expected softmax (private)
  run      (UNTRUSTED)  in the library's isolated child: call softmax(x) on the inputs
  compare  (trusted)    the shared static rules, then the outputs against the expected values

`/usr/bin/python3 examples/tasks/hello-python/check.py SUBMISSION.py` runs all three on one machine.
"""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(_here, *[".."] * n, "src", "grading", "python") for n in (2, 3)]
import envbench_check as ec  # noqa: E402

import numpy as np  # noqa: E402


def prepare(out_dir: str, device: str) -> None:
    rng = np.random.default_rng(int.from_bytes(os.urandom(8), "little"))
    x = rng.standard_normal((16, 33)) * 3
    x[::4] *= 3000  # entries near 1e4: exp overflows without the max subtracted
    z = np.exp(x - x.max(axis=1, keepdims=True))
    np.savez(os.path.join(out_dir, "inputs.npz"), x=x)
    np.savez(os.path.join(out_dir, "expected.npz"), y=z / z.sum(axis=1, keepdims=True))


def run(module, inputs_dir: str, device: str):
    """In the isolated child: whatever the submission does here is untrusted."""
    with np.load(os.path.join(inputs_dir, "inputs.npz"), allow_pickle=False) as z:
        x = z["x"]
    try:
        y = np.asarray(module.softmax(x.copy()), dtype=np.float64)
    except Exception as e:  # noqa: BLE001
        return {"error": f"{type(e).__name__}: {e}"}, {}
    return {}, {"y": y}


def compare(ctx: ec.CompareContext) -> list:
    checks = [ec.rules_check("allowed_code", ctx.tree, ec.DEFAULT_RULES)]
    with np.load(os.path.join(ctx.private_dir, "expected.npz"), allow_pickle=False) as z:
        want = z["y"]
    out = ctx.outputs
    got = out.arrays.get("y")
    if not out.ok or out.import_error:
        checks.append(ec.check("matches", False, out.error or "the submission could not be imported"))
    elif out.status.get("error"):
        checks.append(ec.check("matches", False, f"softmax raised {ec.bounded(out.status['error'])}"))
    elif got is None or got.shape != want.shape:
        checks.append(ec.check("matches", False, f"expected an array of shape {want.shape}"))
    else:
        err = float(np.nanmax(np.abs(got - want))) if np.all(np.isfinite(got)) else float("inf")
        checks.append(ec.check("matches", err <= 1e-9, f"max abs error {err:.3g} (tolerance 1e-9)"))
    return checks


TASK = ec.Task(name="hello-python", public_files=("inputs.npz",), prepare=prepare, run=run, compare=compare,
               required=("matches",))

if __name__ == "__main__":
    sys.exit(ec.main(TASK, __file__))
