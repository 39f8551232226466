import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    """Single-query (decode) attention over a paged KV cache.

    query:        [num_seqs, num_heads, head_dim]               float32 / bfloat16 / float16
    key_cache:    [num_blocks, num_heads, block_size, head_dim]  same dtype as query
    value_cache:  [num_blocks, num_heads, block_size, head_dim]  same dtype as query
    block_tables: [num_seqs, max_blocks_per_seq]                 int32 or int64
    context_lens: [num_seqs]                                     int32 or int64, each >= 1
    scale:        float, multiplies q . k before the softmax

    Token i (0 <= i < context_lens[s]) of sequence s is stored in physical block
    block_tables[s, i // block_size] at slot i % block_size.

    Returns [num_seqs, num_heads, head_dim] in query's dtype, on query's device.
    """
    raise NotImplementedError
