# Valid: a per-head memory (n_heads matrices of head_dim x head_dim), delta-rule writes gated by a novelty network on the error, a per-token forget gate, and one fusion gate per token.
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
    def __init__(self, d_model, n_heads=4):
        super().__init__()
        self.h, self.dh = n_heads, d_model // n_heads
        self.kvq = nn.Linear(d_model, 3 * d_model, bias=False)
        self.novelty = nn.Sequential(nn.Linear(self.dh, self.dh), nn.Tanh(), nn.Linear(self.dh, 1))
        self.forget = nn.Linear(d_model, n_heads)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, D = x.shape
        k, v, q = self.kvq(x).view(B, T, 3, self.h, self.dh).unbind(2)
        k = F.normalize(k, dim=-1)
        alpha = torch.sigmoid(self.forget(x) - 3.0)          # [B, T, H], learned forgetting per token
        M = x.new_zeros(B, self.h, self.dh, self.dh)
        outs = []
        for t in range(T):
            err = v[:, t] - (M @ k[:, t].unsqueeze(-1)).squeeze(-1)          # [B, H, dh]
            s = torch.sigmoid(self.novelty(err.abs()))                        # [B, H, 1]
            M = (1 - alpha[:, t, :, None, None]) * M + s.unsqueeze(-1) * err.unsqueeze(-1) * k[:, t].unsqueeze(-2)
            outs.append((M @ q[:, t].unsqueeze(-1)).squeeze(-1).reshape(B, D))
        return self.out(torch.stack(outs, dim=1))


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.mem = NeuralMemory(d_model, n_heads)
        self.fuse = nn.Linear(d_model, 1)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        h = self.ln1(x)
        a = self.attn(h)
        m = self.mem(h)
        g = torch.sigmoid(self.fuse(h))
        x = x + g * a + (1.0 - g) * m
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
