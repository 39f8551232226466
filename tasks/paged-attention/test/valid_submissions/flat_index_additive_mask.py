# Valid: builds per-token physical slot indices into a flattened cache and uses an additive finfo.min mask.
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    num_blocks, H, bs, D = key_cache.shape
    S, width = block_tables.shape
    T = width * bs
    tok = torch.arange(T, device=query.device)
    phys = block_tables.long()[:, tok // bs] * bs + tok % bs  # [S, T] flat slot ids
    kf = key_cache.permute(0, 2, 1, 3).reshape(num_blocks * bs, H, D)
    vf = value_cache.permute(0, 2, 1, 3).reshape(num_blocks * bs, H, D)
    k = kf[phys].float()  # [S, T, H, D]
    v = vf[phys].float()
    scores = (k * query.float()[:, None]).sum(-1) * scale  # [S, T, H]
    bad = (tok[None, :] >= context_lens.long()[:, None]).float()
    scores = scores + bad[:, :, None] * torch.finfo(torch.float32).min
    w = torch.softmax(scores, dim=1)
    return (w[..., None] * v).sum(1).to(query.dtype)
