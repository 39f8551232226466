# Cheat/wrong: numerically correct, but loops over sequences in Python (violates the vectorization rule).
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    bs = key_cache.shape[2]
    outs = []
    for s in range(query.shape[0]):
        n = int(context_lens[s])
        nb = (n + bs - 1) // bs
        blocks = block_tables[s, :nb].long()
        k = key_cache[blocks].permute(1, 0, 2, 3).reshape(key_cache.shape[1], nb * bs, -1)[:, :n].float()
        v = value_cache[blocks].permute(1, 0, 2, 3).reshape(value_cache.shape[1], nb * bs, -1)[:, :n].float()
        w = torch.softmax(torch.einsum("hd,htd->ht", query[s].float(), k) * scale, dim=-1)
        outs.append(torch.einsum("ht,htd->hd", w, v))
    return torch.stack(outs).to(query.dtype)
