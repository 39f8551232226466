"""The module map gives _resolve the same answers as importing for real, on every Python file of the repo's
tasks and on chains written to reach modules outside the allowlist. Prints one JSON line:
{"files": N, "chains": N, "differ": [...], "flagged": {...}}."""
import ast
import glob
import json
import os
import sys

ROOT = sys.argv[1]
sys.path.insert(0, os.path.join(ROOT, "src", "grading", "python"))
import envbench_check as ec  # noqa: E402
from envbench_check import rules  # noqa: E402

m = json.loads(json.dumps(rules.module_map()))  # through JSON, as the harness hands it over
CHAINS = {
    "torch.sys": "import torch\nx = torch.sys.modules",
    "torch.os": "import torch\ntorch.os.system('true')",
    "torch.inspect": "import torch\ns = torch.inspect.stack()",
    "unloaded submodule": "import torch\nt = torch.utils.benchmark.Timer('x')",
    "namespace folder": "import torch\nl = torch.lib",
    "through an alias": "import torch.nn.functional as F\ns = F.torch.sys",
    "from-import": "from torch import sys",
    "from-import of a submodule": "from torch.utils import cpp_extension",
    "numpy.ctypeslib": "import numpy as np\nc = np.ctypeslib",
    # Through modules the map marks opaque (a ModuleType subclass, a module __getattr__): the walk must fall
    # back to the real import there, never answer "nothing" from the map.
    "through an opaque module": "import torch\ns = torch.backends.cudnn.sys",
    "numpy's lazy attributes": "import numpy as np\nt = np.testing\nc = np.ctypeslib.ctypes",
    "honest": "import torch\nimport torch.nn.functional as F\ny = F.relu(torch.zeros(3)).sum()\nz = torch.nn.Linear(2, 2)",
    "honest numpy": "import numpy as np\nx = np.linalg.norm(np.zeros(3))",
    "math": "import math\nx = math.sqrt(2)",
}
sources = {}
# What submissions look like: references, starters, baselines, every cheat and valid alternative, judge examples
# (the graders' own check.py and self-tests are trusted code the rules never see).
SUBMISSION_DIRS = ("solution", "submissions", "valid_submissions", "steps", "baselines", "judge-examples")
for pattern in ("tasks/**/*.py", "examples/tasks/**/*.py"):
    for f in glob.glob(os.path.join(ROOT, pattern), recursive=True):
        parts = os.path.relpath(f, ROOT).split(os.sep)
        if not (set(parts) & set(SUBMISSION_DIRS) or parts[-1] == "starter.py"):
            continue
        with open(f, "rb") as fh:
            sources[os.path.relpath(f, ROOT)] = fh.read()
sources.update({f"chain: {k}": v.encode() for k, v in CHAINS.items()})
differ, flagged = [], {}
for name, src in sources.items():
    try:
        tree = ast.parse(src)
    except SyntaxError:
        continue
    rules.use_module_map(None)
    real = ec.static_offences(tree)
    rules.use_module_map(m)
    mapped = ec.static_offences(tree)
    if real != mapped:
        differ.append({"file": name, "import": real, "map": mapped})
    if name.startswith("chain: "):
        flagged[name[7:]] = [o for o in mapped if "outside the allowlist" in o]
print(json.dumps({"files": sum(1 for n in sources if not n.startswith("chain: ")), "chains": len(CHAINS), "differ": differ, "flagged": flagged}))
