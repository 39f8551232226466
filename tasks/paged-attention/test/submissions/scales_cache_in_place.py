# Near miss: folds the softmax scale into the key cache with an in-place multiply ("scale K once, not every score"),
# and leaves the value cache alone. The output of this one call is right, but the shared KV cache is
# left scaled: every later decode step, for every sequence whose blocks live in the pool, reads keys scaled again.
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    S, H, D = query.shape
    bs = key_cache.shape[2]
    T = block_tables.shape[1] * bs
    key_cache.mul_(scale)
    tables = block_tables.long()
    k = key_cache[tables].permute(0, 2, 1, 3, 4).reshape(S, H, T, D).float()
    v = value_cache[tables].permute(0, 2, 1, 3, 4).reshape(S, H, T, D).float()
    scores = torch.einsum("shd,shtd->sht", query.float(), k)
    pad = torch.arange(T, device=query.device)[None, :] >= context_lens.long()[:, None]
    p = torch.softmax(scores.masked_fill(pad[:, None, :], float("-inf")), dim=-1)
    return torch.einsum("sht,shtd->shd", p, v).to(query.dtype)
