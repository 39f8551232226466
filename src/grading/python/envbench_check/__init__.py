"""The shared check library (a package: verdict, rules, runner, outputs, protocol) every task's check.py builds on (issue 12).

A task's check.py supplies only its task logic as a `Task`: prepare (inputs + private expected data), run
(what to call in the submission, executed in an untrusted child) and compare (the verdict's checks). This
library owns everything else, once:

  phases     check.py prepare --out DIR
             check.py run-submission --submission FILE --inputs DIR --out FILE [--device D] [--timeout S]
             check.py compare --private DIR --outputs FILE --submission FILE --verdict FILE [--device D]
             check.py SUBMISSION.py [--device D] [--timeout S] [--verbose]      (standalone: all three)
  exit codes EXIT_OK 0 (phase done / standalone passed), EXIT_FAILED 1 (standalone failed),
             EXIT_CHECKER 2 (the checker itself broke), EXIT_IMPORT 3 (run-submission: import failed)
  verdict    {"passed", "score", "checks": [{"name", "passed": true|false|null, "detail"}]}, written by the
             trusted compare phase to the --verdict FILE; never read from a stdout the submission shares
  strings    bounded(): every detail that can carry submission-controlled text is escaped and truncated,
             and write_verdict() bounds every check again, so no output can grow the verdict past its cap
  rules      static_offences(): ONE allowlist rule set (which imports, builtins and dynamic features a
             submission may use), per-task options through Rules(...), the shared default in DEFAULT_RULES
  runner     run_isolated(): the submission runs in a forked child; its results leave only through a pipe
             the trusted parent reads and closes as soon as the work returns; then the child's whole tree
             is SIGKILLed (no exit handlers run) and reaped (the parent is a child subreaper, so orphans
             come back to it); files the submission wrote are snapshotted by the parent at that moment.

The run phase's parent shares its sandbox with the submission, so nothing it reports can turn a failure
into an `error`: the harness treats any abnormal end of that phase as the submission's failure. Only a
broken prepare or compare (trusted code, own sandboxes) is a grading error.
"""

from .devices import cuda_available, gpu_nodes  # noqa: F401
from .outputs import FILE_PREFIX, RUNNER_KEY, STATUS_KEY, Outputs, load_outputs, pack  # noqa: F401
from .protocol import CompareContext, Task, load_submission, main, read_source, runner_checks  # noqa: F401
from .rules import (  # noqa: F401
    DEFAULT_MODULES, DEFAULT_RULES, FUNCTIONAL_ITERATION, IO_ATTRS, SAFE_BUILTINS, SAFE_MODULE_TREES, Rules,
    module_map, parse_source, rules_check, static_offences, use_module_map, without_main_block,
)
from .runner import Isolated, descendants, kill_tree, read_plain_file, run_isolated  # noqa: F401
from .verdict import (  # noqa: F401
    CHECKS_MAX, DETAIL_MAX, EXIT_CHECKER, EXIT_FAILED, EXIT_IMPORT, EXIT_OK, EXIT_TREE_SURVIVED, CheckerError, bounded, check, emit,
    last_line, verdict_of, write_verdict,
)
