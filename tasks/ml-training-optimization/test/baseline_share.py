#!/usr/bin/env python3
"""Whether a baseline run of a few data sets, scaled to all of them, stands for a full one (check.py's
baseline_sets; README.md, "What it costs"). Draws one grading's data as prepare does, then runs the variant's
baseline through check.py's own timer (`run`, one sandbox-less process per run, as the standalone grader does)
alternately in full (round 0) and for each later round's few data sets, --repeats times, and prints per data set
the CPU and wall seconds of each kind of run and their ratio (scaled / full: 1.00 means the estimate is fair).

    python3 tasks/ml-training-optimization/test/baseline_share.py --variant pytorch --repeats 3

Not a security boundary: it runs our own baseline only."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TASK = os.path.dirname(HERE)
sys.path.insert(0, TASK)
import check  # noqa: E402


def timed(variant: str, public: str, tmp: str, rnd: int, i: int) -> tuple[float, float, int]:
    d = os.path.join(tmp, f"run-{rnd}-{i}")
    os.makedirs(d)
    for name in ("train.npz", "test_inputs.npz"):
        shutil.copy(os.path.join(public, name), d)
    shutil.copy(os.path.join(TASK, "baselines", f"train_{variant}.py"), os.path.join(d, check.MODULE_FILE))
    nonce = os.urandom(8).hex()
    p = subprocess.run([sys.executable, os.path.join(TASK, "check.py"), "run", "--variant", variant, "--module",
                        check.MODULE_FILE, "--data", ".", "--out", ".", "--baseline-round", str(rnd)],
                       cwd=d, input=nonce + "\n", capture_output=True, text=True, check=True)
    rep = check.parse_report(p.stdout, nonce)
    if rep is None or rep["exit"] != 0:
        raise SystemExit(f"round {rnd}: no report\n{p.stderr[-2000:]}")
    return rep["child_cpu_s"], rep["child_wall_s"], rep["data_sets"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", default="pytorch", choices=sorted(check.VARIANTS))
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    later = list(range(1, 1 + check.DATA_SETS // check.BASELINE_LATER_SETS))
    per_set = {"full": [], "later": []}
    with tempfile.TemporaryDirectory(prefix="baseline-share-") as tmp:
        public, private = os.path.join(tmp, "public"), os.path.join(tmp, "private")
        check.prepare(a.variant, public, private)
        for i in range(a.repeats):
            cpu, wall, n = timed(a.variant, public, tmp, 0, i)
            per_set["full"].append((cpu / n, wall / n))
            for rnd in later:
                cpu, wall, n = timed(a.variant, public, tmp, rnd, i)
                per_set["later"].append((cpu / n, wall / n))
    mean = lambda xs: sum(xs) / len(xs)
    out = {"variant": a.variant, "repeats": a.repeats, "later_sets": check.BASELINE_LATER_SETS}
    for kind, rows in per_set.items():
        out[kind] = {"runs": len(rows), "cpu_per_set_s": round(mean([r[0] for r in rows]), 3),
                     "wall_per_set_s": round(mean([r[1] for r in rows]), 3),
                     "cpu_per_set_range_s": [round(min(r[0] for r in rows), 3), round(max(r[0] for r in rows), 3)]}
    out["cpu_ratio_later_over_full"] = round(out["later"]["cpu_per_set_s"] / out["full"]["cpu_per_set_s"], 3)
    out["wall_ratio_later_over_full"] = round(out["later"]["wall_per_set_s"] / out["full"]["wall_per_set_s"], 3)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
