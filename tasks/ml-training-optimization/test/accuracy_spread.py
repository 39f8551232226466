#!/usr/bin/env python3
"""How often check.py's accuracy rule passes a module, measured rather than assumed (README.md, "The accuracy
decision"). For --seeds data seeds it draws a data set as prepare does (check.make_dataset) and a training
seed, trains the variant's baseline (twice: with that seed and with another one, which stands for a correct
rewrite exactly as good in expectation) and each MODULE on it, and records the held-out accuracy delta,
module minus baseline. Then it resamples gradings of check.DATA_SETS data sets from those deltas and prints,
per module: the deltas' mean, median and worst, the old one-draw rule's pass rate (delta >= -tolerance), and
the pass rate of check.accuracy_check's rule.

    python3 tasks/ml-training-optimization/test/accuracy_spread.py --variant pytorch --seeds 80 \\
        tasks/ml-training-optimization/solution/train_pytorch.py \\
        tasks/ml-training-optimization/test/submissions/underfits_short_schedule.py

The "baseline, another training seed" row stands for a correct rewrite exactly as good as the baseline in
expectation. Its two training seeds are exchangeable, so its delta is symmetric about 0 in distribution; the
rates use the measured deltas together with their negatives, so that a sample mean that happens to fall off 0
is not taken for a real deficit. --shift X also prints that symmetric distribution moved by X (a module X
below the baseline on average, with the baseline's own seed-to-seed spread: -0.016 for 1.6 points).

--save FILE keeps the per-seed deltas (JSON); --load FILE recomputes every rate from such a file without
training anything (other data sets x margins, shifts).

Not a security boundary: the modules are imported into this process. One thread, as in the timed runs."""
import argparse
import json
import importlib.util
import os
import sys

os.environ.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import check  # noqa: E402


def load(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def accuracy(module, X_train, y_train, seed, X_test, y_test) -> float:
    return float(np.mean(np.asarray(module.predict(module.train_model(X_train, y_train, seed), X_test)) == y_test))


def rule_pass_rate(d, spec, gradings: int, rng, n_sets: int = check.DATA_SETS, margin: float | None = None) -> float:
    """check.accuracy_check's rule on `gradings` resampled gradings of n_sets deltas each (by default the
    grader's DATA_SETS and the variant's margin; other values answer "what if")."""
    margin = spec["margin"] if margin is None else margin
    s = rng.choice(np.asarray(d), (gradings, n_sets))
    srt = np.sort(s, axis=1)
    k = n_sets // 4
    trimmed = srt[:, k:n_sets - k].mean(axis=1)
    return float(np.mean((trimmed >= -margin - 1e-12) & (s.mean(axis=1) >= -spec["tolerance"] - 1e-12)))


def number_list(kind):
    def parse(text: str):
        try:
            vals = [kind(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of numbers, got {text!r}")
        if not vals or any(v <= 0 for v in vals):
            raise argparse.ArgumentTypeError(f"expected positive numbers, got {text!r}")
        return vals
    return parse


def signed_list(text: str) -> list:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers such as -0.016, got {text!r}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("modules", nargs="*")
    p.add_argument("--variant", default="pytorch", choices=sorted(check.VARIANTS))
    p.add_argument("--seeds", type=int, default=40)
    p.add_argument("--first-seed", type=int, default=1000, help="data seed i is drawn from default_rng(first + i)")
    p.add_argument("--gradings", type=int, default=200_000)
    p.add_argument("--what-if-sets", type=number_list(int), default=None,
                   help="also print the rule's pass rate with these numbers of data sets per grading (e.g. 8,12,16)")
    p.add_argument("--what-if-margins", type=number_list(float), default=None,
                   help="... and these margins (default: the variant's)")
    p.add_argument("--shift", type=signed_list, default=[],
                   help="also the exactly-as-good row moved by these amounts (comma-separated; write --shift=-0.016)")
    p.add_argument("--save", default=None, help="write the per-seed deltas to this JSON file")
    p.add_argument("--load", default=None, help="read per-seed deltas from a --save file instead of training")
    a = p.parse_args()
    if a.load:
        with open(a.load) as f:
            saved = json.load(f)
        a.variant, a.seeds, a.first_seed = saved["variant"], saved["seeds"], saved["first_seed"]
        report(a, check.VARIANTS[a.variant], {k: list(v) for k, v in saved["deltas"].items()})
        return 0
    spec = check.VARIANTS[a.variant]
    base = load(os.path.join(HERE, "..", "baselines", f"train_{a.variant}.py"), "baseline")
    mods = {os.path.basename(m): load(m, f"m{i}") for i, m in enumerate(a.modules)}
    deltas = {"baseline, another training seed": [], **{n: [] for n in mods}}
    n_train, n_test = spec["n_train"], spec["n_test"]
    for i in range(a.seeds):
        rng = np.random.default_rng(a.first_seed + i)
        data_seed, seed, other = int(rng.integers(0, 2 ** 63)), int(rng.integers(0, 2 ** 31)), int(rng.integers(0, 2 ** 31))
        X, y = check.make_dataset(n_train + n_test, data_seed)
        args = (X[:n_train], y[:n_train])
        test = (X[n_train:], y[n_train:])
        b = accuracy(base, *args, seed, *test)
        deltas["baseline, another training seed"].append(accuracy(base, *args, other, *test) - b)
        for n, m in mods.items():
            deltas[n].append(accuracy(m, *args, seed, *test) - b)
        print(f"seed {i + 1}/{a.seeds}: baseline {b:.4f}", file=sys.stderr, flush=True)
    if a.save:
        with open(a.save, "w") as f:
            json.dump({"variant": a.variant, "seeds": a.seeds, "first_seed": a.first_seed, "deltas": deltas}, f)
    report(a, spec, deltas)
    return 0


SAME = "baseline, another training seed"


def report(a, spec: dict, deltas: dict) -> None:
    rng = np.random.default_rng(0)
    deltas = dict(deltas)
    same = np.asarray(deltas[SAME])
    deltas[SAME] = np.concatenate([same, -same])  # exchangeable seeds: symmetric about 0 (see the docstring)
    for x in a.shift:
        deltas[f"exactly as good, shifted {x:+.4f}"] = deltas[SAME] + x
    print(f"{a.variant}: {a.seeds} data seeds (from --first-seed {a.first_seed}); {SAME!r} symmetrized; rule: trimmed mean >= -{spec['margin']}, mean >= -{spec['tolerance']}, "
          f"over {check.DATA_SETS} data sets")
    print(f"{'module':40s} {'mean':>8s} {'median':>8s} {'worst':>8s} {'old rule':>9s} {'this rule':>10s}")
    for n, d in deltas.items():
        d = np.asarray(d)
        print(f"{n:40s} {d.mean():+8.4f} {np.median(d):+8.4f} {d.min():+8.4f} {np.mean(d >= -spec['tolerance'] - 1e-12):9.3f} "
              f"{rule_pass_rate(d, spec, a.gradings, rng):10.4f}")
    if a.what_if_sets or a.what_if_margins:
        sets = a.what_if_sets or [check.DATA_SETS]
        margins = a.what_if_margins or [spec["margin"]]
        print(f"what if (same deltas; tolerance {spec['tolerance']}): pass rate per data sets x margin")
        print(f"{'module':40s} " + " ".join(f"{f'{n}x{m}':>11s}" for n in sets for m in margins))
        for n, d in deltas.items():
            print(f"{n:40s} " + " ".join(f"{rule_pass_rate(d, spec, a.gradings, rng, ns, m):11.4f}" for ns in sets for m in margins))


if __name__ == "__main__":
    sys.exit(main())
