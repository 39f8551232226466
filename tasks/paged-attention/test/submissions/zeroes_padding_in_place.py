# Near miss: instead of masking the scores, zeroes every cache slot past each sequence's end in place
# (value_cache[...] = 0, key_cache[...] = -inf-like), then attends over all slots. Padding table entries point at
# other sequences' live blocks, so this overwrites their keys and values in the shared pool; it can also wipe
# its own sequences' tokens. In this grader's draws the padding entries usually hit live blocks, so the output is wrong too.
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    S, H, D = query.shape
    bs = key_cache.shape[2]
    T = block_tables.shape[1] * bs
    tables = block_tables.long()
    tok = torch.arange(T, device=query.device)
    blk = tables[:, tok // bs]  # [S, T]
    off = (tok % bs).expand(S, T)
    dead = tok[None, :] >= context_lens.long()[:, None]
    key_cache[blk[dead], :, off[dead], :] = -1e4
    value_cache[blk[dead], :, off[dead], :] = 0
    k = key_cache[tables].permute(0, 2, 1, 3, 4).reshape(S, H, T, D).float()
    v = value_cache[tables].permute(0, 2, 1, 3, 4).reshape(S, H, T, D).float()
    scores = torch.einsum("shd,shtd->sht", query.float(), k) * scale
    return torch.einsum("sht,shtd->shd", torch.softmax(scores, dim=-1), v).to(query.dtype)
