# Near miss in the FlashAttention style: online softmax over blocks, rescaled correctly, but a block past the end
# of a sequence (a padding table entry) has no live slot, its max is -inf, and exp(-inf - (-inf)) is NaN.
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    bs = key_cache.shape[2]
    nt = block_tables.shape[1]
    tables = block_tables.long()
    k = key_cache[tables].float()
    v = value_cache[tables].float()
    s = torch.einsum("nhd,nthbd->nthb", query.float() * scale, k)
    token = torch.arange(nt * bs, device=query.device).view(nt, bs)
    live = (token[None] < context_lens.long()[:, None, None])[:, :, None, :]
    s = s.masked_fill(~live, float("-inf"))
    m_tile = s.amax(dim=-1)
    p = torch.exp(s - m_tile[..., None])
    l_tile = p.sum(dim=-1)
    acc_tile = torch.einsum("nthb,nthbd->nthd", p, v)
    m = m_tile.amax(dim=1, keepdim=True)
    alpha = torch.exp(m_tile - m)
    return ((alpha[..., None] * acc_tile).sum(dim=1) / (alpha * l_tile).sum(dim=1)[..., None]).to(query.dtype)
