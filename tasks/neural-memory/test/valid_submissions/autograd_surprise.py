# Valid alternative, closest to the paper: the write is the true gradient of the recall loss
# ||M k - v||^2 taken with torch.autograd.grad (create_graph=True so the outer loop still trains), a
# surprise gate from the gradient's size, momentum, raw nn.Parameter projections, a memory of size
# d_model // 2 with its own width, a per-token forget gate and torch.lerp for the fusion.
import math

import torch
from torch import nn
from torch.nn import functional as F


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
        d = d_mem or d_model // 2
        self.d = d
        self.W_k = nn.Parameter(torch.randn(d_model, d) / math.sqrt(d_model))
        self.W_v = nn.Parameter(torch.randn(d_model, d) / math.sqrt(d_model))
        self.W_q = nn.Parameter(torch.randn(d_model, d) / math.sqrt(d_model))
        self.surprise_scale = nn.Parameter(torch.tensor(1.0))
        self.surprise_bias = nn.Parameter(torch.tensor(-1.0))
        self.forget_gate = nn.Linear(d_model, 1)
        self.momentum = nn.Parameter(torch.tensor(0.0))
        self.proj_out = nn.Linear(d, d_model)

    def forward(self, x):
        B, T, _ = x.shape
        keys = F.normalize(x @ self.W_k, dim=-1)
        values = x @ self.W_v
        queries = x @ self.W_q
        eta = torch.sigmoid(self.momentum)
        M = x.new_zeros(B, self.d, self.d).requires_grad_()
        S = x.new_zeros(B, self.d, self.d)
        reads = []
        for t in range(T):
            recall = torch.einsum("bij,bj->bi", M, keys[:, t])
            loss = ((recall - values[:, t]) ** 2).sum()
            (g,) = torch.autograd.grad(loss, M, create_graph=True)
            surprise = torch.sigmoid(self.surprise_scale * g.flatten(1).norm(dim=-1) + self.surprise_bias)
            alpha = torch.sigmoid(self.forget_gate(x[:, t]))
            S = eta * S - 0.5 * surprise[:, None, None] * g
            M = (1 - alpha)[..., None] * M + S
            reads.append(torch.einsum("bij,bj->bi", M, queries[:, t]))
        return self.proj_out(torch.stack(reads, dim=1))


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.memory = NeuralMemory(d_model)
        self.gate_logit = nn.Parameter(torch.zeros(d_model))
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        h = self.ln1(x)
        attn_out = self.attn(h)
        mem_out = self.memory(h)
        gate = torch.sigmoid(self.gate_logit)
        x = x + torch.lerp(attn_out, mem_out, gate)
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
