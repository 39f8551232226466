# Valid: written the way vLLM's test reference for paged attention is (ref_single_query_cached_kv_attention plus
# ref_masked_attention), with its names: block_number / block_offset looked up from the block table for every
# token position, the keys laid out [tokens, heads, head_size] per sequence, "qhd,khd->hqk"-style einsums, a
# float32 softmax cast back to the value dtype, and an additive mask. vLLM's reference walks the sequences and
# the tokens in Python; here the same lookups are batched over every sequence and token at once.
import torch


def ref_masked_attention(query, key, value, scale, attn_mask=None):
    # query: [num_seqs, num_heads, head_size]; key, value: [num_seqs, num_tokens, num_heads, head_size]
    attn_weights = scale * torch.einsum("shd,skhd->shk", query, key).float()
    if attn_mask is not None:
        attn_weights = attn_weights + attn_mask.float()
    attn_weights = torch.softmax(attn_weights, dim=-1).to(value.dtype)
    out = torch.einsum("shk,skhd->shd", attn_weights, value)
    return out


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    # value_cache is [num_blocks, num_heads, block_size, head_size], vLLM's layout; key_cache is the same here.
    block_size = value_cache.shape[2]
    max_num_blocks_per_seq = block_tables.shape[1]
    max_context_len = max_num_blocks_per_seq * block_size

    token_positions = torch.arange(max_context_len, device=query.device)
    block_number = block_tables.long()[:, token_positions // block_size]  # [num_seqs, max_context_len]
    block_offset = token_positions % block_size  # [max_context_len]

    # Two index tensors around a slice: the indexed dims come first -> [num_seqs, max_context_len, num_heads, head_size].
    keys = key_cache[block_number, :, block_offset, :]
    values = value_cache[block_number, :, block_offset, :]

    # Positions at or past context_lens[s] are padding: -inf before the softmax.
    past_end = token_positions[None, :] >= context_lens.long()[:, None]
    attn_mask = torch.zeros(past_end.shape, dtype=torch.float32, device=query.device).masked_fill(past_end, float("-inf"))

    output = ref_masked_attention(query, keys, values, scale, attn_mask[:, None, :])
    return output.to(query.dtype)
