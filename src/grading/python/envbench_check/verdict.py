"""Verdicts and bounded details: what the trusted compare phase writes, bounded whatever the checks carry."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_CHECKER, EXIT_IMPORT = 0, 1, 2, 3
# run-submission: the submission's processes outlived its results (the kill did not take them all), so any
# file in its folder could still be rewritten; nothing is written and the run is the submission's failure.
EXIT_TREE_SURVIVED = 4

DETAIL_MAX = 2000      # one check's detail, in characters
CHECKS_MAX = 200       # checks in one verdict
NAME_MAX = 80


class CheckerError(Exception):
    """A failure of the checker itself (bad arguments, unreadable trusted files): exit EXIT_CHECKER."""


# ---------------------------------------------------------------------------------------------------
# bounded strings and the verdict
# ---------------------------------------------------------------------------------------------------

def bounded(value: Any, limit: int = 300) -> str:
    """`value` as text fit for a detail: control characters escaped (newlines kept), at most `limit` chars."""
    s = value if isinstance(value, str) else str(value)
    if len(s) > 4 * limit + 64:  # never escape megabytes just to cut them
        s = s[:2 * limit] + s[-2 * limit:]
    out = "".join(c if (c.isprintable() or c == "\n") else c.encode("unicode_escape").decode("ascii") for c in s)
    if len(out) > limit:
        keep = max(limit - 24, 8)
        out = out[:keep] + f"... [{len(out) - keep} chars cut]"
    return out


def last_line(text: Any, limit: int = 300) -> str:
    lines = [ln for ln in str(text or "").strip().splitlines() if ln.strip()]
    return bounded(lines[-1] if lines else "?", limit)


def check(name: str, passed: bool | None, detail: Any) -> dict:
    """One check. passed None = skipped, with the reason in detail."""
    return {"name": bounded(name, NAME_MAX), "passed": None if passed is None else bool(passed),
            "detail": bounded(detail, DETAIL_MAX)}


def verdict_of(checks: list, required: tuple | list = (), optional: tuple | list = ()) -> dict:
    """Passed when no check failed (an `optional` one may: it only counts in the score), at least one
    passed, and every `required` name passed (not skipped)."""
    checks = [check(c["name"], c["passed"], c["detail"]) for c in checks][:CHECKS_MAX]
    graded = [c for c in checks if c["passed"] is not None]
    gating = [c for c in graded if c["name"] not in optional]
    ok_names = {c["name"] for c in checks if c["passed"] is True}
    passed = bool(gating) and all(c["passed"] for c in gating) and set(required) <= ok_names
    score = 1.0 if passed else (sum(1 for c in graded if c["passed"]) / len(graded) if graded else 0.0)
    return {"passed": passed, "score": round(float(score), 6), "checks": checks}


def write_verdict(path: str, verdict: dict) -> None:
    """The verdict file the harness reads. Every check is bounded again here, whatever the task built."""
    checks = [check(c["name"], c["passed"], c["detail"]) for c in verdict["checks"]][:CHECKS_MAX]
    v = {"passed": bool(verdict["passed"]), "score": min(max(float(verdict["score"]), 0.0), 1.0), "checks": checks}
    data = json.dumps(v, separators=(",", ":"), allow_nan=False)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(data)
    os.replace(tmp, path)


def emit(obj: dict) -> None:
    """A one-line JSON summary on stdout, for people; the harness never decides from it."""
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str) + "\n")
    sys.stdout.flush()
