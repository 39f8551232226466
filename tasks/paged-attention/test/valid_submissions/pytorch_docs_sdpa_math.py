# Valid: written the way the official PyTorch documentation and tutorials write attention: the math that the
# torch.nn.functional.scaled_dot_product_attention docs give as its equivalent (a boolean attn_mask where True
# means "take part", turned into an additive attn_bias with masked_fill_; query @ key.transpose(-2, -1) *
# scale_factor; softmax; @ value), on [batch, heads, L, E] tensors with L = 1 query per sequence. The paged cache
# is first gathered into the contiguous [batch, heads, S, E] key and value that function expects.
import math

import torch


def scaled_dot_product_attention(query, key, value, attn_mask=None, scale=None):
    L, S = query.size(-2), key.size(-2)
    scale_factor = 1 / math.sqrt(query.size(-1)) if scale is None else scale
    attn_bias = torch.zeros(L, S, dtype=query.dtype, device=query.device)
    if attn_mask is not None:
        attn_bias = attn_bias.expand(attn_mask.shape).clone()
        attn_bias.masked_fill_(attn_mask.logical_not(), float("-inf"))
    attn_weight = query @ key.transpose(-2, -1) * scale_factor
    attn_weight += attn_bias
    attn_weight = torch.softmax(attn_weight, dim=-1)
    return attn_weight @ value


def contiguous_kv(cache, block_tables):
    """[num_blocks, heads, block_size, E] paged cache -> [batch, heads, max_blocks * block_size, E], in table order."""
    batch, max_blocks = block_tables.shape
    _, heads, block_size, head_dim = cache.shape
    blocks = cache.index_select(0, block_tables.reshape(-1).long())  # [batch * max_blocks, heads, block_size, E]
    blocks = blocks.view(batch, max_blocks, heads, block_size, head_dim).transpose(1, 2)
    return blocks.reshape(batch, heads, max_blocks * block_size, head_dim)


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    dtype = query.dtype
    q = query.float().unsqueeze(2)  # [batch, heads, 1, E]
    k = contiguous_kv(key_cache, block_tables).float()
    v = contiguous_kv(value_cache, block_tables).float()
    positions = torch.arange(k.size(-2), device=query.device)
    attn_mask = (positions < context_lens.long().unsqueeze(-1))[:, None, None, :]  # [batch, 1, 1, S]
    out = scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, scale=scale)
    return out.squeeze(2).to(dtype)
