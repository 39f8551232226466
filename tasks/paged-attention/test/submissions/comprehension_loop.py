# Cheat: correct math, but hides the per-sequence loop in a list comprehension + torch.stack.
import torch


def _one(q, key_cache, value_cache, table, n, scale):
    bs = key_cache.shape[2]
    H, D = q.shape
    k = key_cache[table.long()].permute(1, 0, 2, 3).reshape(H, -1, D)[:, :n].float()
    v = value_cache[table.long()].permute(1, 0, 2, 3).reshape(H, -1, D)[:, :n].float()
    w = torch.softmax(torch.einsum("hd,htd->ht", q.float(), k) * scale, dim=-1)
    return torch.einsum("ht,htd->hd", w, v)


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    return torch.stack([
        _one(query[s], key_cache, value_cache, block_tables[s], int(context_lens[s]), scale)
        for s in range(query.shape[0])
    ]).to(query.dtype)
