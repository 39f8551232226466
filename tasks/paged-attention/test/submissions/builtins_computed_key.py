# Cheat: runs a loop through exec, reached as a computed key into the builtins namespace (no `exec` name
# or string constant anywhere in the file).
import torch

_run = torch.nn.functional.__builtins__["".join(["ex", "ec"])]
_ns = {"torch": torch}
_run("\n".join([
    "def decode(query, key_cache, value_cache, block_tables, context_lens, scale):",
    "    out = torch.empty_like(query)",
    "    bs = key_cache.shape[2]",
    "    for s in range(query.shape[0]):",
    "        n = int(context_lens[s])",
    "        idx = torch.arange(n)",
    "        blocks = block_tables[s].long()[idx // bs]",
    "        k = key_cache[blocks, :, idx % bs, :].float()",
    "        v = value_cache[blocks, :, idx % bs, :].float()",
    "        w = torch.softmax(torch.einsum('hd,nhd->hn', query[s].float(), k) * scale, dim=-1)",
    "        out[s] = torch.einsum('hn,nhd->hd', w, v).to(query.dtype)",
    "    return out",
]), _ns)


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    return _ns["decode"](query, key_cache, value_cache, block_tables, context_lens, scale)
