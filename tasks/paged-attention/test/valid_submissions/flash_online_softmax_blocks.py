# Valid: written the way FlashAttention / FlashDecoding (and vLLM's paged_attention_v2 partitions) compute
# decode attention: each KV block is a tile with its own running max m, normaliser l and unnormalised output
# acc; the tiles are then merged with the online-softmax rescaling exp(m_tile - m_global). The kernels walk
# the tiles in sequence; here all tiles of all sequences are computed at once and merged in one reduction.
import torch


def paged_attention_decode(query, key_cache, value_cache, block_tables, context_lens, scale):
    out_dtype = query.dtype
    num_seqs, num_heads, head_dim = query.shape
    block_size = key_cache.shape[2]
    num_tiles = block_tables.shape[1]
    tables = block_tables.long()

    # One tile per block-table entry: [seqs, tiles, heads, block_size, head_dim].
    k_tiles = key_cache[tables].float()
    v_tiles = value_cache[tables].float()
    q = query.float() * scale

    # s[seq, tile, head, slot] = q . k
    s = torch.einsum("nhd,nthbd->nthb", q, k_tiles)

    # Which slots hold real tokens: tile t, slot b is token t * block_size + b.
    token = torch.arange(num_tiles * block_size, device=query.device).view(num_tiles, block_size)
    live = token[None] < context_lens.long()[:, None, None]  # [seqs, tiles, block_size]
    live = live[:, :, None, :]  # broadcast over heads
    s = s.masked_fill(~live, float("-inf"))

    # Per-tile statistics. A tile past the end has no live slot: its max is -inf; use 0 there so that
    # exp(s - m) is exp(-inf) = 0, not NaN, and the tile carries zero weight in the merge.
    m_tile = s.amax(dim=-1)  # [seqs, tiles, heads]
    tile_empty = ~live.any(dim=-1)  # [seqs, tiles, 1]
    m_tile = torch.where(tile_empty, torch.zeros_like(m_tile), m_tile)
    p = torch.exp(s - m_tile[..., None])
    l_tile = p.sum(dim=-1)  # [seqs, tiles, heads]
    acc_tile = torch.einsum("nthb,nthbd->nthd", p, v_tiles)

    # Merge the tiles: rescale each by exp(m_tile - m) against the global max over the non-empty tiles.
    m_masked = m_tile.masked_fill(tile_empty, float("-inf"))
    m = m_masked.amax(dim=1, keepdim=True)  # [seqs, 1, heads]; tile 0 always holds token 0
    alpha = torch.exp(m_masked - m)  # 0 for empty tiles
    l = (alpha * l_tile).sum(dim=1)  # [seqs, heads]
    acc = (alpha[..., None] * acc_tile).sum(dim=1)  # [seqs, heads, head_dim]
    return (acc / l[..., None]).to(out_dtype)
