# Wrong: assumes block_tables is arange (sequence s owns blocks s*max_blocks ... (s+1)*max_blocks-1) and reads key_cache contiguously.
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    num_blocks, H, bs, D = key_cache.shape
    S, width = block_tables.shape
    T = width * bs
    # Pretend the tables are contiguous; clamp so the read stays in range.
    ids = torch.arange(S * width, device=query.device).clamp(max=num_blocks - 1).reshape(S, width)
    k = key_cache[ids].permute(0, 2, 1, 3, 4).reshape(S, H, T, D).float()
    v = value_cache[ids].permute(0, 2, 1, 3, 4).reshape(S, H, T, D).float()
    scores = torch.einsum("shd,shtd->sht", query.float(), k) * scale
    mask = torch.arange(T, device=query.device)[None, :] >= context_lens.long()[:, None]
    w = torch.softmax(scores.masked_fill(mask[:, None, :], float("-inf")), dim=-1)
    return torch.einsum("sht,shtd->shd", w, v).to(query.dtype)
