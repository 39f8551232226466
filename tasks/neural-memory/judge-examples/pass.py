# Judge example (label: pass). A multi-head neural memory: each head keeps a d_head x d_head matrix that is
# read, compared with the value it should recall, and written with a surprise-scaled outer product.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
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
        y = (scores.masked_fill(future, float("-inf")).softmax(dim=-1) @ v).transpose(1, 2).reshape(B, T, D)
        return self.proj(y)


class NeuralMemory(nn.Module):
    """Per-head associative memory M_h (d_head x d_head), updated once per token."""

    def __init__(self, d_model, n_heads=2):
        super().__init__()
        self.h = n_heads
        self.dh = d_model // n_heads
        self.to_kvq = nn.Linear(d_model, 3 * d_model, bias=False)
        # surprise = sigmoid(a * mean squared recall error + b), one (a, b) per head
        self.surprise_scale = nn.Parameter(torch.ones(n_heads))
        self.surprise_bias = nn.Parameter(torch.full((n_heads,), -0.5))
        # per-head forgetting rate in (0, 1)
        self.decay = nn.Parameter(torch.full((n_heads,), -2.0))
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, D = x.shape
        k, v, q = self.to_kvq(x).view(B, T, 3, self.h, self.dh).unbind(2)
        k = F.normalize(k, dim=-1)
        forget = torch.sigmoid(self.decay)[None, :, None, None]
        M = x.new_zeros(B, self.h, self.dh, self.dh)
        reads = []
        for t in range(T):
            recall = torch.einsum("bhij,bhj->bhi", M, k[:, t])
            err = v[:, t] - recall
            surprise = torch.sigmoid(self.surprise_scale * err.pow(2).mean(-1) + self.surprise_bias)
            M = (1 - forget) * M + surprise[..., None, None] * torch.einsum("bhi,bhj->bhij", err, k[:, t])
            reads.append(torch.einsum("bhij,bhj->bhi", M, q[:, t]).reshape(B, D))
        return self.out(torch.stack(reads, dim=1))


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.memory = NeuralMemory(d_model)
        self.fuse = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        h = self.ln1(x)
        gate = torch.sigmoid(self.fuse(h))
        x = x + gate * self.attn(h) + (1 - gate) * self.memory(h)
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
        x = self.tok_emb(input_ids) + self.pos_emb(torch.arange(T, device=input_ids.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))
