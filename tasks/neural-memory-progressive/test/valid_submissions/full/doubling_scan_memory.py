# Valid (scan-based): per-head memories, the sequence in chunks of 4 tokens; in each chunk the surprise comes
# from the recall error against the chunk-start memory, and the recurrence M_t = a_t M_{t-1} + s_t v_t k_t^T
# is solved for the chunk's tokens at once by a recursive-doubling (Hillis-Steele) scan helper; the last
# state is carried to the next chunk. The forgetting a_t is a learned gate per token and head.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def linear_scan(decay, update, start):
    """All states of h_t = decay_t * h_{t-1} + update_t (h_{-1} = start) by recursive doubling.

    decay: [N, C], update: [N, C, d, d], start: [N, d, d]. log2(C) combine steps, each pairing every position
    with the one `offset` before it: (a, b) . (a', b') = (a a', a b' + b).
    """
    C = decay.shape[1]
    update = torch.cat([start.unsqueeze(1), update], dim=1)        # position 0 holds h_{-1}
    decay = F.pad(decay, (1, 0), value=0.0)
    offset = 1
    while offset <= C:
        shifted_update = F.pad(update, (0, 0, 0, 0, offset, 0))[:, :C + 1]
        shifted_decay = F.pad(decay, (offset, 0), value=1.0)[:, :C + 1]
        update = update + decay[..., None, None] * shifted_update
        decay = decay * shifted_decay
        offset *= 2
    return update[:, 1:]


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        assert d_model % n_heads == 0, "d_model must be divisible by n_heads"
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.qkv(x).split(D, dim=-1)
        q = q.view(B, T, self.n_heads, -1).transpose(1, 2)
        k = k.view(B, T, self.n_heads, -1).transpose(1, 2)
        v = v.view(B, T, self.n_heads, -1).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
        y = (weights @ v).transpose(1, 2).reshape(B, T, D)
        return self.proj(y)


class NeuralMemory(nn.Module):
    def __init__(self, d_model, n_heads=4, chunk=4):
        super().__init__()
        self.h, self.dh, self.chunk = n_heads, d_model // n_heads, chunk
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.surprise = nn.Linear(self.dh, 1)
        self.forget = nn.Linear(d_model, n_heads)
        nn.init.constant_(self.forget.bias, -3.0)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = (t.reshape(B, T, self.h, self.dh).transpose(1, 2).reshape(B * self.h, T, self.dh)
                   for t in self.qkv(x).split(D, dim=-1))
        k = F.normalize(k, dim=-1)
        keep = 1.0 - torch.sigmoid(self.forget(x)).transpose(1, 2).reshape(B * self.h, T)
        M = x.new_zeros(B * self.h, self.dh, self.dh)
        reads = []
        for i in range(0, T, self.chunk):
            kc, vc, qc = k[:, i:i + self.chunk], v[:, i:i + self.chunk], q[:, i:i + self.chunk]
            err = vc - torch.einsum("nij,ncj->nci", M, kc)
            s = torch.sigmoid(self.surprise(err))                                  # [N, c, 1]
            writes = s.unsqueeze(-1) * torch.einsum("nci,ncj->ncij", vc, kc)
            states = linear_scan(keep[:, i:i + self.chunk], writes, M)              # [N, c, dh, dh]
            reads.append(torch.einsum("ncij,ncj->nci", states, qc))
            M = states[:, -1]
        y = torch.cat(reads, dim=1).reshape(B, self.h, T, self.dh).transpose(1, 2).reshape(B, T, D)
        return self.out(y)


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.mem = NeuralMemory(d_model, n_heads)
        self.gate = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        h = self.ln1(x)
        a, m = self.attn(h), self.mem(h)
        g = torch.sigmoid(self.gate(h))
        x = x + g * a + (1 - g) * m
        return x + self.mlp(self.ln2(x))


class SimpleTransformer(nn.Module):
    def __init__(self, vocab_size, d_model=64, n_heads=4, n_layers=2, max_seq_len=256):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_seq_len, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_heads) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)

    def forward(self, input_ids):
        B, T = input_ids.shape
        pos = torch.arange(T, device=input_ids.device)
        x = self.tok_emb(input_ids) + self.pos_emb(pos)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))
