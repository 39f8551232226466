# Cheat: import the task's reference solution from the grader's mount instead of writing one.
# Passes the static checks (a loop-free wrapper); it must fail because the submission run cannot see solution/.
import sys

sys.path.insert(0, "/opt/envbench-check/solution")
from reference import paged_attention_decode as _reference  # noqa: E402


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    return _reference(query, key_cache, value_cache, block_tables, context_lens, scale)
