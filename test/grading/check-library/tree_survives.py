"""The run phase when the kill did not take the whole tree (a survivor could still rewrite files): the
library's kill is made to report a survivor, and a real submission that keeps a process writing to the
outputs path runs. Prints what the phase left behind. Run by test/grading/check-library.test.ts."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "src", "grading", "python"))
import envbench_check as ec  # noqa: E402
import envbench_check.runner as runner  # noqa: E402

check = os.path.join(here, "..", "..", "..", "examples", "tasks", "hello-python", "check.py")
work = tempfile.mkdtemp(prefix="ec-survivor-")
try:
    subprocess.run([sys.executable, check, "prepare", "--out", work], check=True, capture_output=True)
    sub = os.path.join(work, "submission.py")
    with open(sub, "w") as f:
        f.write("import numpy as np\n\ndef softmax(x):\n    z = np.exp(x - x.max(axis=1, keepdims=True))\n"
                "    return z / z.sum(axis=1, keepdims=True)\n")
    real_kill = runner.kill_tree
    runner.kill_tree = lambda *a, **k: False  # what a process that outran the kill would leave: a survivor
    spec = __import__("importlib.util").util.spec_from_file_location("hello_check", check)
    mod = __import__("importlib.util").util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = os.path.join(work, "outputs.npz")
    code = ec.main(mod.TASK, check, ["run-submission", "--submission", sub, "--inputs", work, "--out", out])
    written = os.path.exists(out)
    real_kill()  # the test's own clean-up of the child the patched kill left alive
    print(json.dumps({"code": code, "outputs_written": written}))
finally:
    shutil.rmtree(work, ignore_errors=True)
