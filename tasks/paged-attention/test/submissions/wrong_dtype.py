# Wrong: right values, but always returns float32 (the output must be in the query's dtype, e.g. bfloat16).
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    S, H, D = query.shape
    bs = key_cache.shape[2]
    T = block_tables.shape[1] * bs
    k = key_cache[block_tables.long()].permute(0, 2, 1, 3, 4).reshape(S, H, T, D).float()
    v = value_cache[block_tables.long()].permute(0, 2, 1, 3, 4).reshape(S, H, T, D).float()
    scores = torch.einsum("shd,shtd->sht", query.float(), k) * scale
    mask = torch.arange(T, device=query.device)[None, :] >= context_lens.long()[:, None]
    w = torch.softmax(scores.masked_fill(mask[:, None, :], float("-inf")), dim=-1)
    return torch.einsum("sht,shtd->shd", w, v)
