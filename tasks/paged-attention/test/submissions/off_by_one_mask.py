# Near miss: masks positions > context_lens[s] instead of >= context_lens[s], so each sequence also attends to the
# one slot just past its last token (an unused slot of its last block, or the first slot of a padding block).
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    S, H, D = query.shape
    bs = key_cache.shape[2]
    T = block_tables.shape[1] * bs
    tables = block_tables.long()
    k = key_cache[tables].permute(0, 2, 1, 3, 4).reshape(S, H, T, D).float()
    v = value_cache[tables].permute(0, 2, 1, 3, 4).reshape(S, H, T, D).float()
    scores = torch.einsum("shd,shtd->sht", query.float(), k) * scale
    pad = torch.arange(T, device=query.device)[None, :] > context_lens.long()[:, None]
    p = torch.softmax(scores.masked_fill(pad[:, None, :], float("-inf")), dim=-1)
    return torch.einsum("sht,shtd->shd", p, v).to(query.dtype)
