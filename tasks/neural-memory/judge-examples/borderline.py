# Judge example (label: borderline). Everything is in place except that "surprise" is a learned function of
# the token and the memory's recall side by side (a Linear over their concatenation) rather than of their
# difference, and the fusion gate is one learned vector, the same for every token.
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
    def __init__(self, d_model, d_mem=None):
        super().__init__()
        self.d_mem = d_mem or d_model
        self.key = nn.Linear(d_model, self.d_mem, bias=False)
        self.value = nn.Linear(d_model, self.d_mem, bias=False)
        self.query = nn.Linear(d_model, self.d_mem, bias=False)
        # sees the value to store and what the memory currently recalls for its key, side by side
        self.surprise = nn.Linear(2 * self.d_mem, 1)
        self.forget_logit = nn.Parameter(torch.tensor(-2.0))
        self.out = nn.Linear(self.d_mem, d_model)

    def forward(self, x):
        B, T, _ = x.shape
        M = x.new_zeros(B, self.d_mem, self.d_mem)
        forget = torch.sigmoid(self.forget_logit)
        reads = []
        for t in range(T):
            k = F.normalize(self.key(x[:, t]), dim=-1)
            v = self.value(x[:, t])
            recalled = torch.einsum("bij,bj->bi", M, k)
            s = torch.sigmoid(self.surprise(torch.cat([v, recalled], dim=-1))).unsqueeze(-1)
            M = (1 - forget) * M + s * torch.einsum("bi,bj->bij", v, k)
            reads.append(torch.einsum("bij,bj->bi", M, self.query(x[:, t])))
        return self.out(torch.stack(reads, dim=1))


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.memory = NeuralMemory(d_model)
        self.mix_logit = nn.Parameter(torch.zeros(d_model))
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        h = self.ln1(x)
        g = torch.sigmoid(self.mix_logit)
        x = x + g * self.attn(h) + (1 - g) * self.memory(h)
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
