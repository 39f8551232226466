"""How often correct solutions pass the reduced-precision cases, over many draws of the grader's inputs.

For each draw (the grader's own prepare_data, seeded here so runs repeat) and each bfloat16 case, every file
named on the command line is called in-process (trusted files only: the reference and the valid
alternatives) and its worst elementwise error is divided by the case's tolerance, both as the base tolerance
(TOLERANCE) and as deployed (scaled by check.native_scales: NATIVE_MARGIN times this platform's own
native-dtype error on the same inputs). Prints, per file, the median and worst ratio and the share of
gradings (all bfloat16 cases of one draw) that would fail each way.

  /usr/bin/python3 tasks/paged-attention/test/precision_spread.py --draws 300 \\
      tasks/paged-attention/solution/reference.py tasks/paged-attention/test/valid_submissions/*.py
"""
import argparse
import importlib.util
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import check as C  # noqa: E402


def load(path):
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--first-seed", type=int, default=30_000)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    if a.draws < 1:
        print("precision_spread: --draws must be at least 1", file=sys.stderr)
        return 2
    mods = {os.path.basename(f): load(f) for f in a.files}
    base = {k: [] for k in mods}
    deployed = {k: [] for k in mods}
    scales_seen = []
    for d in range(a.draws):
        inputs, expected = C.prepare_data(a.first_seed + d)
        meta = json.loads(str(inputs["meta"]))
        scales = C.native_scales(inputs, expected, "cpu")
        row_b = {k: [] for k in mods}
        row_d = {k: [] for k in mods}
        for j, (ci, dt) in enumerate(C.CASES):
            if dt != "bfloat16":
                continue
            t = [torch.from_numpy(inputs[f"c{ci}_{n}"].copy()).to(torch.bfloat16) for n in ("query", "key_cache", "value_cache")]
            bt, cl = (torch.from_numpy(inputs[f"c{ci}_{n}"].copy()) for n in ("block_tables", "context_lens"))
            s = scales.get(str(j), 1.0)
            scales_seen.append(s)
            for k, mod in mods.items():
                out = mod.paged_attention_decode(*t, bt, cl, float(meta["configs"][ci]["scale"])).to(torch.float64).numpy()
                r = C.error_ratio(out, expected[f"case{j}"], dt)
                row_b[k].append(r)
                row_d[k].append(r / s)
        for k in mods:
            base[k].append(max(row_b[k]))
            deployed[k].append(max(row_d[k]))
    sc = np.array(scales_seen)
    print(f"{a.draws} draws x {len(sc) // a.draws} bfloat16 cases on {torch.__version__} (cpu); tolerance scale: "
          f"median {np.median(sc):.2f}, max {sc.max():.2f}, >1 in {np.mean(sc > 1):.0%} of cases")
    print(f"{'file':36s} {'base: median / worst':>22s} {'fails':>7s} {'deployed: median / worst':>26s} {'fails':>7s}")
    for k in mods:
        b, dp = np.array(base[k]), np.array(deployed[k])
        print(f"{k:36s} {np.median(b):10.3f} / {b.max():7.3f} {np.mean(b > 1):7.1%} {np.median(dp):14.3f} / {dp.max():7.3f} {np.mean(dp > 1):7.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
