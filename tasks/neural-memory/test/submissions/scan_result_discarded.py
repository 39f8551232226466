# Wrong: an associative scan over the per-token writes is computed and then thrown away; the memory's output reads each token's own write, so nothing is carried from earlier tokens.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def assoc_scan(log_gates, inputs, initial=None):
    """Every prefix state of h_t = exp(log_gates[:, t]) * h_{t-1} + inputs[:, t], at once.

    log_gates: [B, T], the log of each step's decay (<= 0); inputs: [B, T, *S]; initial: [B, *S] (h_{-1}).
    The decay from step s to step t is exp(cum[t] - cum[s]) with cum = cumsum(log_gates), so the scan is one
    lower-triangular matrix product, no Python loop over t.
    """
    B, T = log_gates.shape
    cum = torch.cumsum(log_gates, dim=1)                                      # [B, T]
    rel = cum.unsqueeze(2) - cum.unsqueeze(1)                                 # [B, T, T]: cum[t] - cum[s]
    causal = torch.ones(T, T, dtype=torch.bool, device=log_gates.device).tril()
    weights = rel.masked_fill(~causal, float("-inf")).exp()                   # zero for s > t
    h = torch.bmm(weights, inputs.reshape(B, T, -1)).view_as(inputs)
    if initial is not None:
        carry = cum.exp().view(B, T, *([1] * (inputs.dim() - 2)))
        h = h + carry * initial.unsqueeze(1)
    return h


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
    def __init__(self, d_model, d_mem=None):
        super().__init__()
        self.d_mem = d_mem or d_model
        self.to_q = nn.Linear(d_model, self.d_mem, bias=False)
        self.to_k = nn.Linear(d_model, self.d_mem, bias=False)
        self.to_v = nn.Linear(d_model, self.d_mem, bias=False)
        self.surprise_net = nn.Linear(self.d_mem, 1)
        self.forget = nn.Linear(d_model, 1)
        nn.init.constant_(self.forget.bias, -2.5)
        self.out = nn.Linear(self.d_mem, d_model)

    def forward(self, x):
        B, T, _ = x.shape
        q = self.to_q(x)
        k = F.normalize(self.to_k(x), dim=-1)
        v = self.to_v(x)
        log_keep = F.logsigmoid(-self.forget(x)).squeeze(-1)                     # learned forgetting, [B, T]
        empty = x.new_zeros(B, self.d_mem, self.d_mem)
        err = v - torch.einsum("bij,btj->bti", empty, k)
        surprise = torch.sigmoid(self.surprise_net(err)).unsqueeze(-1)            # [B, T, 1, 1]
        writes = surprise * torch.einsum("bti,btj->btij", v, k)                   # per-token v k^T
        states = assoc_scan(log_keep, writes)                                     # [B, T, d, d], never read
        return self.out(torch.einsum("btij,btj->bti", writes, q))


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.memory = NeuralMemory(d_model)
        self.gate = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        h = self.ln1(x)
        attn_out = self.attn(h)
        mem_out = self.memory(h)
        g = torch.sigmoid(self.gate(h))
        x = x + g * attn_out + (1 - g) * mem_out
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
