# Judge example (label: fail). The seed's typical miss: the matrix memory, outer-product write, learnable
# decay and per-token loop are all there, but the write gate is a generic sigmoid(Linear(x_t)) that never
# looks at what the memory predicted, and the memory is added back as a residual (x + attn + g * mem).
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
    def __init__(self, d_model, d_mem=32):
        super().__init__()
        self.d_mem = d_mem
        self.W_k = nn.Linear(d_model, d_mem, bias=False)
        self.W_v = nn.Linear(d_model, d_mem, bias=False)
        self.W_q = nn.Linear(d_model, d_mem, bias=False)
        self.write_gate = nn.Linear(d_model, 1)          # "surprise": how important is this token?
        self.decay = nn.Parameter(torch.tensor(0.9))     # fraction of the memory kept per step
        self.W_o = nn.Linear(d_mem, d_model)

    def forward(self, x):
        B, T, _ = x.shape
        M = torch.zeros(B, self.d_mem, self.d_mem, device=x.device)
        outs = []
        for t in range(T):
            x_t = x[:, t]
            k = F.normalize(self.W_k(x_t), dim=-1)
            v = self.W_v(x_t)
            importance = torch.sigmoid(self.write_gate(x_t)).unsqueeze(-1)
            M = self.decay * M + importance * torch.bmm(v.unsqueeze(2), k.unsqueeze(1))
            outs.append(torch.bmm(M, self.W_q(x_t).unsqueeze(2)).squeeze(2))
        return self.W_o(torch.stack(outs, dim=1))


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.memory = NeuralMemory(d_model)
        self.mem_gate = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        h = self.ln1(x)
        gate = torch.sigmoid(self.mem_gate(h))
        x = x + self.attn(h) + gate * self.memory(h)
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
