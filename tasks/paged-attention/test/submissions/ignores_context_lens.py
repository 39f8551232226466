# Wrong: attends to every slot of every block listed in block_tables (no context_lens mask).
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    S, H, D = query.shape
    bs = key_cache.shape[2]
    T = block_tables.shape[1] * bs
    k = key_cache[block_tables.long()].permute(0, 2, 1, 3, 4).reshape(S, H, T, D).float()
    v = value_cache[block_tables.long()].permute(0, 2, 1, 3, 4).reshape(S, H, T, D).float()
    w = torch.softmax(torch.einsum("shd,shtd->sht", query.float(), k) * scale, dim=-1)
    return torch.einsum("sht,shtd->shd", w, v).to(query.dtype)
