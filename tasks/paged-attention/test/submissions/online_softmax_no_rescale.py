# Near miss in the FlashAttention style: per-block max, sum and output are right, but the blocks are merged by
# adding their unnormalised outputs and sums without the exp(m_block - m) rescaling to a common max.
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
    empty = ~live.any(dim=-1)
    m = torch.where(empty, torch.zeros_like(s[..., 0]), s.amax(dim=-1))
    p = torch.exp(s - m[..., None])
    l = p.sum(dim=-1).sum(dim=1)
    acc = torch.einsum("nthb,nthbd->nthd", p, v).sum(dim=1)
    return (acc / l[..., None]).to(query.dtype)
