"""Reference solution: vectorized single-query attention over a paged KV cache."""
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    num_seqs, num_heads, head_dim = query.shape
    block_size = key_cache.shape[2]
    max_blocks = block_tables.shape[1]
    max_tokens = max_blocks * block_size
    tables = block_tables.long()

    # Gather each sequence's blocks: [seqs, max_blocks, heads, block_size, dim],
    # then lay the tokens out in order: [seqs, heads, max_blocks * block_size, dim].
    keys = key_cache[tables].permute(0, 2, 1, 3, 4).reshape(num_seqs, num_heads, max_tokens, head_dim)
    values = value_cache[tables].permute(0, 2, 1, 3, 4).reshape(num_seqs, num_heads, max_tokens, head_dim)

    # Accumulate in float32 even for half-precision inputs.
    scores = torch.einsum("shd,shtd->sht", query.float(), keys.float()) * scale

    # Token positions at or past the sequence's length (padding blocks, unused
    # slots of the last block) must get zero weight.
    positions = torch.arange(max_tokens, device=query.device)
    invalid = positions.unsqueeze(0) >= context_lens.long().unsqueeze(1)  # [seqs, tokens]
    scores = scores.masked_fill(invalid.unsqueeze(1), float("-inf"))

    probs = torch.softmax(scores, dim=-1)
    out = torch.einsum("sht,shtd->shd", probs, values.float())
    return out.to(query.dtype)
