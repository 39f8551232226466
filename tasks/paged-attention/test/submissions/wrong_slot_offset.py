# Wrong: mixes up the in-block slot index (uses i // block_size as the slot instead of i % block_size).
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    num_blocks, H, bs, D = key_cache.shape
    S, width = block_tables.shape
    T = width * bs
    tok = torch.arange(T, device=query.device)
    blk = block_tables.long()[:, tok // bs]                 # [S, T]
    slot = (tok // bs) % bs                                  # BUG: should be tok % bs
    k = key_cache.permute(0, 2, 1, 3)[blk, slot[None, :].expand(S, T)].float()  # [S, T, H, D]
    v = value_cache.permute(0, 2, 1, 3)[blk, slot[None, :].expand(S, T)].float()
    scores = torch.einsum("shd,sthd->sht", query.float(), k) * scale
    mask = tok[None, :] >= context_lens.long()[:, None]
    w = torch.softmax(scores.masked_fill(mask[:, None, :], float("-inf")), dim=-1)
    return torch.einsum("sht,sthd->shd", w, v).to(query.dtype)
