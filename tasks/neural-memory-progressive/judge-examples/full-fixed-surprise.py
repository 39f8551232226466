"""Transformer with a neural long-term memory: surprise-weighted outer-product writes, learnable forgetting, gated fusion."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


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
    """Associative matrix memory written token by token, gated by surprise, with learnable forgetting."""

    def __init__(self, d_model, d_mem=None):
        super().__init__()
        self.d_mem = d_mem or d_model
        self.to_k = nn.Linear(d_model, self.d_mem, bias=False)
        self.to_v = nn.Linear(d_model, self.d_mem, bias=False)
        self.to_q = nn.Linear(d_model, self.d_mem, bias=False)
        self.to_out = nn.Linear(self.d_mem, d_model)
        self.retain_logit = nn.Parameter(torch.tensor(3.0))  # keeps ~95% of the memory per token

    def forward(self, h):
        """h: [batch, seq_len, d_model] -> [batch, seq_len, d_model]; the memory starts empty on every call."""
        B, T, _ = h.shape
        k = F.normalize(self.to_k(h), dim=-1)
        v = self.to_v(h)
        q = self.to_q(h)
        keep = torch.sigmoid(self.retain_logit)
        M = h.new_zeros(B, self.d_mem, self.d_mem)
        reads = []
        for t in range(T):
            k_t, v_t = k[:, t], v[:, t]
            pred = torch.einsum("bij,bj->bi", M, k_t)
            err = (v_t - pred).pow(2).mean(dim=-1)
            s = torch.sigmoid(err - 0.5)  # surprise: squashed prediction error
            M = keep * M + s[:, None, None] * torch.einsum("bi,bj->bij", v_t, k_t)
            reads.append(torch.einsum("bij,bj->bi", M, q[:, t]))
        return self.to_out(torch.stack(reads, dim=1))


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.memory = NeuralMemory(d_model)
        self.gate = nn.Linear(2 * d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        h = self.ln1(x)
        attn_out = self.attn(h)
        mem_out = self.memory(h)
        g = torch.sigmoid(self.gate(torch.cat([attn_out, mem_out], dim=-1)))
        x = x + g * attn_out + (1 - g) * mem_out
        x = x + self.mlp(self.ln2(x))
        return x


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
