"""What the run phase hands to compare: the child's status and arrays, the trusted parent's record, snapshotted files."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

from .verdict import bounded

STATUS_KEY = "__status__"   # the child's JSON status inside the outputs file
RUNNER_KEY = "__runner__"   # the trusted parent's record of the run inside the outputs file
FILE_PREFIX = "__file__"    # snapshotted files inside the outputs file


# ---------------------------------------------------------------------------------------------------
# outputs: what the run phase hands to compare
# ---------------------------------------------------------------------------------------------------

def pack(status: dict, arrays: dict) -> bytes:
    """The child's results: a JSON status and numeric arrays, as npz bytes (no pickle)."""
    import numpy as np
    buf = io.BytesIO()
    np.savez(buf, **{STATUS_KEY: np.array(json.dumps(status, default=str))}, **arrays)
    return buf.getvalue()


@dataclass
class Outputs:
    """The run phase's results as compare sees them. `ok` False: the work never returned its results."""
    ok: bool
    status: dict
    arrays: dict
    runner: dict
    files: dict
    error: str | None

    @property
    def import_error(self) -> str | None:
        e = self.status.get("import_error")
        return str(e) if e else None


def load_outputs(path: str) -> Outputs:
    """Never raises: anything wrong with the file is the submission's failure."""
    import numpy as np
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        runner = json.loads(str(arrays.pop(RUNNER_KEY)))
    except Exception as e:  # noqa: BLE001
        return Outputs(False, {}, {}, {}, {}, f"outputs file missing or malformed ({type(e).__name__}: {bounded(e, 200)})")
    files = {k[len(FILE_PREFIX):]: arrays.pop(k).tobytes() for k in list(arrays) if k.startswith(FILE_PREFIX)}
    try:
        status = json.loads(str(arrays.pop(STATUS_KEY))) if STATUS_KEY in arrays else {}
        if not isinstance(status, dict):
            raise ValueError("status is not an object")
    except Exception as e:  # noqa: BLE001
        return Outputs(False, {}, {}, runner, files, f"the submission's status is malformed ({bounded(e, 200)})")
    if runner.get("ended") != "returned":
        return Outputs(False, status, arrays, runner, files, str(runner.get("detail", "no results")))
    return Outputs(True, status, arrays, runner, files, None)
