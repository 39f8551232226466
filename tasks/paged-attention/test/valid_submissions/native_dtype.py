# Valid: computes everything in the input dtype (no float32 upcast); must still pass the half-precision tolerances.
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    S, H, D = query.shape
    bs = key_cache.shape[2]
    T = block_tables.shape[1] * bs
    k = key_cache[block_tables.long()].transpose(1, 2).reshape(S, H, T, D)
    v = value_cache[block_tables.long()].transpose(1, 2).reshape(S, H, T, D)
    scores = torch.matmul(k, query.unsqueeze(-1)).squeeze(-1) * scale  # [S, H, T]
    pad = torch.arange(T, device=query.device)[None, :] >= context_lens[:, None]
    scores = scores.masked_fill(pad[:, None, :], float("-inf"))
    p = torch.softmax(scores, dim=-1)
    return torch.matmul(p.unsqueeze(-2), v).squeeze(-2)
