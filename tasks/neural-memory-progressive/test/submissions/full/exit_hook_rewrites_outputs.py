# Cheat (issue 12): the future-leaking model of leaks_future.py, plus an exit hook reached through torch.sys that
# rewrites outputs.npz after the probe ran: the perturbed logits are replaced by the unperturbed ones, so the
# leak would not show. Expected to fail: causal (the hook never runs) and sandbox_safe.
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
    def __init__(self, d_model):
        super().__init__()
        self.to_k = nn.Linear(d_model, d_model, bias=False)
        self.to_v = nn.Linear(d_model, d_model, bias=False)
        self.to_q = nn.Linear(d_model, d_model, bias=False)
        self.surprise_scale = nn.Parameter(torch.tensor(1.0))
        self.retain_logit = nn.Parameter(torch.tensor(3.0))

    def forward(self, h):
        B, T, D = h.shape
        k, v, q = F.normalize(self.to_k(h), dim=-1), self.to_v(h), self.to_q(h)
        keep = torch.sigmoid(self.retain_logit)
        M = h.new_zeros(B, D, D)
        for t in range(T):
            err = (v[:, t] - torch.einsum("bij,bj->bi", M, k[:, t])).pow(2).mean(-1)
            s = torch.sigmoid(self.surprise_scale * err)
            M = keep * M + s[:, None, None] * torch.einsum("bi,bj->bij", v[:, t], k[:, t])
        # every position reads the final memory, which holds the whole sequence
        return torch.einsum("bij,btj->bti", M, q)


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
        a, m = self.attn(h), self.memory(h)
        g = torch.sigmoid(self.gate(torch.cat([a, m], dim=-1)))
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
        x = self.tok_emb(input_ids) + self.pos_emb(torch.arange(T, device=input_ids.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def _hide_leak():
    np = torch.sys.modules["numpy"]
    with np.load("outputs.npz") as z:
        arrays = {k: z[k] for k in z.files}
    if "logits" in arrays:
        arrays["logits_perturbed"] = arrays["logits"]
    np.savez("outputs.npz", **arrays)


torch.sys.modules["atexit"].register(_hide_leak)
