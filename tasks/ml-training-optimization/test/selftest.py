#!/usr/bin/env python3
"""Self-test of check.py's verdict rules on synthetic runs (no training, no timing): each rule flips the
check it should, and nothing else. Also the AST check and the timer report's nonce. Exit 0 = all passed."""
import copy
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import check  # noqa: E402

VARIANT = "pytorch"
N = check.VARIANTS[VARIANT]["n_test"]
M = check.DATA_SETS
SOURCE_OK = "class SimpleNN: pass\ndef train_model(X_train, y_train, seed=0): pass\ndef predict(model, X): pass\n"

rng = np.random.default_rng(0)
LABELS = rng.integers(0, 2, (M, N))  # one row per data set


def flipped(frac, seed):
    """The labels with a fraction of rows flipped, per data set: accuracy 1 - frac on each (frac may be a
    list, one per data set)."""
    r = np.random.default_rng(seed)
    p = LABELS.copy()
    for k, f in enumerate(np.broadcast_to(np.asarray(frac, dtype=float), (M,))):
        idx = r.choice(N, int(round(f * N)), replace=False)
        p[k, idx] = 1 - p[k, idx]
    return p


BASE_PREDS = flipped(0.10, 1)  # accuracy 0.90 on every data set
GOOD_PREDS = flipped(0.09, 2)  # accuracy 0.91


def run(role, rnd, wall, cpu=None, outer=None, exit=0, preds="same", tail=""):
    return {"role": role, "round": rnd, "outer_s": outer if outer is not None else wall + 1.5, "exit": exit,
            "child_wall_s": wall, "child_cpu_s": cpu if cpu is not None else wall, "killed": None,
            "output_tail": tail, "predictions": preds}


def save_preds(path, preds, sets=None):
    """A run's predictions as the timer writes them: one npy entry per data set in a zip. `preds` is an
    (M, N) array, or a list of per-set arrays (any shape, to test the validation); `sets`: only those."""
    import io
    import zipfile
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for k, p in enumerate(preds):
            if sets is not None and k not in sets:
                continue
            buf = io.BytesIO()
            np.save(buf, np.asarray(p), allow_pickle=False)
            z.writestr(f"set{k}.npy", buf.getvalue())


def scenario(cand_walls=(0.5, 0.5, 0.5), base_walls=(3.0, 3.1, 2.9), cand_cpus=None, cand_outer=None,
             cand_preds=None, cand_exit=0, source=SOURCE_OK, cand_tail="", base_preds=None):
    """Runs compare on a synthetic grading; returns {check name: passed} and the verdict."""
    cand_preds = cand_preds if cand_preds is not None else [GOOD_PREDS] * len(cand_walls)
    base_preds = BASE_PREDS if base_preds is None else base_preds
    with tempfile.TemporaryDirectory() as d:
        np.savez(os.path.join(d, "labels.npz"), y_test=LABELS)
        runs = []
        for i, w in enumerate(base_walls):
            # As the timer runs the baseline: all data sets in round 1, check.baseline_sets(i) after; `w` is the
            # time of all of them, so a later run reports its share.
            sets = check.baseline_sets(i, M)
            save_preds(os.path.join(d, f"b{i}.npz"), base_preds, sets)
            b = run("baseline", i, w * len(sets) / M, preds=f"b{i}.npz")
            b["data_sets"] = len(sets)
            runs.append(b)
        for i, w in enumerate(cand_walls):
            p = cand_preds[i]
            name = None
            if p is not None and cand_exit == 0:
                name = f"c{i}.npz"
                save_preds(os.path.join(d, name), p)
            runs.append(run("candidate", i, w, cpu=(cand_cpus[i] if cand_cpus else None),
                            outer=(cand_outer[i] if cand_outer else None), exit=cand_exit, preds=name,
                            tail=cand_tail))
        with open(os.path.join(d, "runs.json"), "w") as f:
            json.dump({"runs": runs}, f)
        v = check.compare(VARIANT, d, source)
    return {c["name"]: c["passed"] for c in v["checks"]}, v


FAILURES = []


def expect(label, got, **want):
    checks, verdict = got
    for name, value in want.items():
        if name == "verdict":
            ok = verdict["passed"] is value
        else:
            ok = checks.get(name, "missing") is value
        if not ok:
            FAILURES.append(f"{label}: {name} expected {value}, got {checks.get(name, verdict['passed'])}\n"
                            + json.dumps(verdict["checks"], indent=1))


def main():
    expect("good", scenario(), verdict=True, speedup=True, cpu_speedup=True, accuracy=True, deterministic=True,
           speedup_plausible=True, timing_consistent=True)
    expect("exactly 2x passes", scenario(cand_walls=(1.5, 1.55, 1.45)), speedup=True, verdict=True)
    expect("1.9x fails", scenario(cand_walls=(1.58, 1.6, 1.55)), speedup=False, verdict=False)
    # Parallelism or a lucky wall clock: wall 3x, CPU 1.03x, still so after the extra rounds.
    n = check.MAX_ROUNDS
    expect("cpu", scenario(cand_walls=(1.0,) * n, cand_cpus=(2.9,) * n, base_walls=(3.0,) * n), speedup=True,
           cpu_speedup=False, verdict=False)
    expect("implausible", scenario(cand_walls=(0.01, 0.01, 0.01)), speedup_plausible=False, verdict=False)
    expect("just under 100x", scenario(cand_walls=(0.031, 0.031, 0.031)), speedup_plausible=True, verdict=True)
    # A report claiming more time than the outside clock saw, and one with a huge unexplained fixed cost.
    expect("report > outside", scenario(cand_walls=(0.5, 0.5, 0.5), cand_outer=(0.2, 2.0, 2.0)), timing_consistent=False)
    expect("fixed cost", scenario(cand_walls=(0.5, 0.5, 0.5), cand_outer=(9.0, 9.0, 9.0)), timing_consistent=False,
           verdict=False)
    expect("nondeterministic", scenario(cand_preds=[GOOD_PREDS, flipped(0.09, 3), GOOD_PREDS]), deterministic=False,
           verdict=False)
    # The accuracy rule: the trimmed mean (middle half) of the per-data-set deltas >= -margin, and their mean
    # >= -tolerance.
    spec = check.VARIANTS[VARIANT]
    tol, margin = spec["tolerance"], spec["margin"]
    if check.trimmed_mean([5, -1, 0, 0, 1, 1, -9, 2]) != 0.5:
        FAILURES.append("trimmed_mean of 8 is not the mean of the middle 4")
    if check.trimmed_mean([5, -1, 0, 0, 1, 1, -9, 2, 7, -7, 3, -3, 0, 1, 9, -2]) != 0.5:
        FAILURES.append("trimmed_mean of 16 is not the mean of the middle 8")
    expect("trimmed mean at the margin", scenario(cand_preds=[flipped(0.10 + margin, 4)] * 3), accuracy=True,
           verdict=True)
    # A systematic 1.5-point deficit on every data set: well within the old per-draw tolerance of 0.02, but
    # beyond the margin.
    expect("systematic underfit", scenario(cand_preds=[flipped(0.115, 4)] * 3), accuracy=False, verdict=False)
    expect("trimmed mean just beyond the margin", scenario(cand_preds=[flipped(0.10 + margin + 0.0015, 4)] * 3),
           accuracy=False)
    # A quarter of the data sets unlucky, 6 points below (the old single draw failed any of them): trimmed away,
    # and the mean holds (-0.015 >= -0.02).
    q = M // 4
    expect("a quarter of the data sets unlucky", scenario(cand_preds=[flipped([0.16] * q + [0.10] * (M - q), 4)] * 3),
           accuracy=True, verdict=True)
    # One more unlucky set reaches the middle half.
    expect("more than a quarter unlucky", scenario(cand_preds=[flipped([0.16] * (q + 1) + [0.10] * (M - q - 1), 4)] * 3),
           accuracy=False)
    # Careless on 2 data sets (coin-flip labels there), exact elsewhere: trimmed away, but the mean pays in full.
    careless = flipped([0.5, 0.5] + [0.10] * (M - 2), 4)
    expect("careless on a few data sets", scenario(cand_preds=[careless] * 3), accuracy=False, verdict=False)
    # The mean rule on its own: 2 data sets far below (trimmed away), the rest exact; mean exactly -tol, then
    # beyond it.
    x = M * tol / 2
    expect("mean at the tolerance", scenario(cand_preds=[flipped([0.10 + x] * 2 + [0.10] * (M - 2), 4)] * 3),
           accuracy=True)
    expect("mean beyond the tolerance",
           scenario(cand_preds=[flipped([0.10 + x + 0.01] * 2 + [0.10] * (M - 2), 4)] * 3), accuracy=False)
    # Paired per data set: a candidate exactly as good as the baseline on each set passes, even where the
    # sets differ in difficulty (a 0.30 set and a 0.02 set).
    levels = ([0.30, 0.02, 0.10, 0.12, 0.08, 0.10, 0.15, 0.05] * M)[:M]
    expect("paired per data set", scenario(cand_preds=[flipped(levels, 6)] * 3, base_preds=flipped(levels, 7)),
           accuracy=True, verdict=True)
    expect("better accuracy is fine", scenario(cand_preds=[LABELS] * 3), accuracy=True, verdict=True)
    # The worst run counts.
    expect("one bad run", scenario(cand_preds=[GOOD_PREDS, GOOD_PREDS, flipped(0.5, 5)]), accuracy=False)
    expect("labels 2", scenario(cand_preds=[np.full((M, N), 2)] * 3), predictions_valid=False, verdict=False)
    expect("wrong length", scenario(cand_preds=[GOOD_PREDS[:, :-1]] * 3), predictions_valid=False)
    expect("a data set missing", scenario(cand_preds=[GOOD_PREDS[:-1]] * 3), predictions_valid=False)
    expect("nan", scenario(cand_preds=[np.full((M, N), np.nan)] * 3), predictions_valid=False)
    expect("float 0/1 ok", scenario(cand_preds=[GOOD_PREDS.astype(np.float32)] * 3), predictions_valid=True, verdict=True)
    expect("(n, 1) column ok", scenario(cand_preds=[list(GOOD_PREDS[:, :, None])] * 3), predictions_valid=True)
    expect("crash", scenario(cand_exit=4), candidate_runs=False, speedup=None, verdict=False)
    expect("no report", scenario(cand_exit=None), candidate_runs=False, verdict=False)
    # Issue 12: a module whose output tail is megabytes of control characters still fails for its crash, with
    # every detail bounded and escaped (the verdict file cannot overflow, so the failure never becomes an error).
    huge = scenario(cand_exit=4, cand_tail="\x1b[2J" + "{" * 3_000_000)
    expect("oversized output tail", huge, candidate_runs=False, verdict=False)
    if any(len(c["detail"]) > 2000 or "\x1b" in c["detail"] for c in huge[1]["checks"]):
        FAILURES.append("an oversized output tail reached a detail unbounded or unescaped")
    expect("missing predict", scenario(source=SOURCE_OK.replace("def predict", "def predict_labels")),
           required_names=False, speedup=None, verdict=False)
    expect("syntax error", scenario(source="def train_model(:\n"), required_names=False, verdict=False)
    # Partial gradings: nothing is passed before all rounds ran, but a decided failure is reported early.
    expect("one round", scenario(cand_walls=(0.5,), base_walls=(3.0,)), speedup=None, deterministic=None, verdict=False)
    expect("two rounds, decided", scenario(cand_walls=(2.5, 2.6), base_walls=(3.0, 3.1)), speedup=False,
           cpu_speedup=False, verdict=False)
    expect("two rounds, open", scenario(cand_walls=(0.5, 2.6), base_walls=(3.0, 3.1)), speedup=None, verdict=False)
    # Only one clock is decided: round 3 could still leave the clocks disagreeing, and then more rounds follow.
    expect("two rounds, one clock", scenario(cand_walls=(2.5, 2.6), cand_cpus=(0.5, 0.5), base_walls=(3.0, 3.1)),
           speedup=None, cpu_speedup=None)
    # The clocks disagree after 3 rounds: undecided; after MAX_ROUNDS, decided.
    expect("disagree at 3", scenario(cand_walls=(1.0, 1.0, 1.0), cand_cpus=(2.0, 2.0, 2.0)), speedup=None,
           cpu_speedup=None, timing_consistent=None, verdict=False)
    n = check.MAX_ROUNDS
    expect("disagree at max", scenario(cand_walls=(1.0,) * n, cand_cpus=(2.0,) * n, base_walls=(3.0,) * n),
           speedup=True, cpu_speedup=False, verdict=False)
    # More rounds move the medians: a wall-clock spike in 2 of the first 3 candidate runs is outvoted.
    expect("spike outvoted", scenario(cand_walls=(2.0, 2.0, 1.0, 1.0, 1.0), cand_cpus=(1.0,) * 5, base_walls=(3.0,) * 5),
           speedup=True, cpu_speedup=True, verdict=True)
    if not check.decided(scenario(cand_walls=(1.0, 1.0, 1.0), cand_cpus=(2.0, 2.0, 2.0))[1]) is False:
        FAILURES.append("decided() said a disagreeing 3-round grading was done")
    if not check.decided(scenario()[1]):
        FAILURES.append("decided() said a complete grading was not done")

    # A broken baseline is the grader's problem: CheckerError, never a verdict.
    with tempfile.TemporaryDirectory() as d:
        np.savez(os.path.join(d, "labels.npz"), y_test=LABELS)
        with open(os.path.join(d, "runs.json"), "w") as f:
            json.dump({"runs": [run("baseline", 0, 3.0, exit=4, preds=None), run("candidate", 0, 0.5, preds=None)]}, f)
        try:
            check.compare(VARIANT, d, SOURCE_OK)
            FAILURES.append("broken baseline: no CheckerError")
        except check.CheckerError:
            pass

    # The baseline's later runs: a rotating few data sets, which together cover every one, scaled to all of them.
    later = [check.baseline_sets(r, M) for r in range(1, 1 + M // check.BASELINE_LATER_SETS)]
    if check.baseline_sets(0, M) != list(range(M)) or sorted(k for s in later for k in s) != list(range(M)):
        FAILURES.append(f"baseline_sets: round 0 must do every data set and the later rounds cover each once: {later}")
    # "good" and "exactly 2x" above fail if the later runs' shares (a quarter of the work) are not scaled up; a
    # 1.5x module still fails with them scaled.
    expect("1.5x with the baseline's later runs doing a quarter of the sets", scenario(cand_walls=(2.0, 2.0, 2.0)),
           speedup=False, cpu_speedup=False, verdict=False)

    # Only the baseline's runs are ever scaled, by their round: a candidate record that claims twice the data sets
    # (a forged or buggy count, which a rule scaling by the reported count would halve its time for) gains
    # nothing. 1.5x stays 1.5x.
    checks, v = scenario(cand_walls=(2.0, 2.0, 2.0))
    with tempfile.TemporaryDirectory() as d:
        np.savez(os.path.join(d, "labels.npz"), y_test=LABELS)
        runs = []
        for i, w in enumerate((3.0, 3.1, 2.9)):
            sets = check.baseline_sets(i, M)
            save_preds(os.path.join(d, f"b{i}.npz"), BASE_PREDS, sets)
            b = run("baseline", i, w * len(sets) / M, preds=f"b{i}.npz")
            b["data_sets"] = len(sets)
            runs.append(b)
        for i in range(3):
            save_preds(os.path.join(d, f"c{i}.npz"), GOOD_PREDS)
            c = run("candidate", i, 2.0, preds=f"c{i}.npz")
            c["data_sets"] = 2 * M
            runs.append(c)
        with open(os.path.join(d, "runs.json"), "w") as f:
            json.dump({"runs": runs}, f)
        forged = {c["name"]: c["passed"] for c in check.compare(VARIANT, d, SOURCE_OK)["checks"]}
    if forged.get("speedup") is not False or forged.get("cpu_speedup") is not False or forged != checks:
        FAILURES.append(f"a candidate claiming {2 * M} data sets changed the verdict: {forged} vs {checks}")

    def broken(label, runs_doc):
        with tempfile.TemporaryDirectory() as d:
            np.savez(os.path.join(d, "labels.npz"), y_test=LABELS)
            for name, sets in (("b0.npz", None), ("b1.npz", check.baseline_sets(1, M)), ("c0.npz", None)):
                save_preds(os.path.join(d, name), BASE_PREDS, sets)
            with open(os.path.join(d, "runs.json"), "w") as f:
                json.dump(runs_doc, f)
            try:
                check.compare(VARIANT, d, SOURCE_OK)
                FAILURES.append(f"{label}: no CheckerError")
            except check.CheckerError:
                pass

    # A baseline run that did another number of data sets than its round names, or no full first run: the
    # harness is broken, and that is a grading error, never a verdict.
    bad_count = run("baseline", 1, 0.75, preds="b1.npz")
    bad_count["data_sets"] = M
    broken("baseline run with the wrong count", {"runs": [run("baseline", 0, 3.0, preds="b0.npz"), bad_count, run("candidate", 0, 0.5, preds="c0.npz")]})
    broken("no full first baseline run", {"runs": [run("baseline", 1, 0.75, preds="b1.npz"), run("candidate", 0, 0.5, preds="c0.npz")]})
    broken("no baseline run after a successful candidate run", {"runs": [run("candidate", 0, 0.5, preds="c0.npz")]})
    broken("no baseline run, and a failed candidate run after a good one",
           {"runs": [run("candidate", 0, 0.5, preds="c0.npz"), run("candidate", 1, 0.5, exit=4, preds=None)]})
    # The candidate runs first (RUN_ORDER) and grading stops at its failed run: that is a verdict, not an error.
    with tempfile.TemporaryDirectory() as d:
        np.savez(os.path.join(d, "labels.npz"), y_test=LABELS)
        with open(os.path.join(d, "runs.json"), "w") as f:
            json.dump({"runs": [run("candidate", 0, 0.5, exit=None, preds=None)]}, f)
        first_failed = check.compare(VARIANT, d, SOURCE_OK)
    got = {c["name"]: c["passed"] for c in first_failed["checks"]}
    if first_failed["passed"] is not False or got.get("candidate_runs") is not False or got.get("accuracy") is not None:
        FAILURES.append(f"a first candidate run that failed before any baseline run: {got}")
    broken("a later baseline run with every set's predictions", {"runs": [run("baseline", 0, 3.0, preds="b0.npz"), run("baseline", 1, 0.75, preds="b0.npz"), run("candidate", 0, 0.5, preds="c0.npz")]})

    # The timer's report counts only with this run's nonce.
    good = json.dumps({"nonce": "abc", "child_exit": 0, "child_wall_s": 1.0, "child_cpu_s": 0.9, "data_sets": 16})
    if check.parse_report("noise\n" + good + "\n", "abc") is None:
        FAILURES.append("parse_report rejected a good report")
    if check.parse_report(good, "other") is not None:
        FAILURES.append("parse_report accepted a wrong nonce")
    if check.parse_report(good + "\n" + json.dumps({"nonce": "abc"}), "abc") is not None:
        FAILURES.append("parse_report accepted an incomplete last line")

    # Required names are module-level defs/classes, per variant.
    for variant in check.VARIANTS:
        ok = check.check_required_names(open(os.path.join(HERE, "..", "baselines", f"train_{variant}.py")).read(), variant)
        if not ok["passed"]:
            FAILURES.append(f"baseline {variant} fails required_names: {ok['detail']}")
    nested = "class SimpleNN: pass\ndef train_model(X_train, y_train, seed=0):\n    def predict(model, X): pass\n"
    if check.check_required_names(nested, "pytorch")["passed"]:
        FAILURES.append("a nested predict was accepted")

    if FAILURES:
        print("\n\n".join(FAILURES))
        return 1
    print("selftest: all rules behave")
    return 0


if __name__ == "__main__":
    sys.exit(main())
