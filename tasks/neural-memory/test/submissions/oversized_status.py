# Cheat (issue 12): the reference model, plus a 4 MB torch.__version__ and 10 MB of stdout, so that a
# verdict line that copies the version into a detail exceeds the output cap and the grading ends as an error.
"""Reference: the starter Transformer with a Titans-style neural long-term memory (arXiv 2501.00663).

The memory is a linear associative map M (d_mem x d_mem) that is trained *while reading*: at each token
it is asked to recall v_t from k_t, and the recall error drives the write.

    pred_t  = M_{t-1} k_t                         what the memory recalls for this key
    err_t   = pred_t - v_t                        prediction error (the "surprise" signal)
    s_t     = sigmoid(w . err_t + b)              learned surprise gate: how much to write
    G_t     = 2 err_t k_t^T                       gradient of ||M k_t - v_t||^2 w.r.t. M: an outer product
    S_t     = eta * S_{t-1} - theta * s_t * G_t   momentum over past surprise
    M_t     = (1 - alpha) * M_{t-1} + S_t         forgetting gate alpha (learnable decay), then the write
    y_t     = M_t q_t                             retrieval

Attention and memory are blended per channel by a learned gate: g * attn + (1 - g) * mem.
"""
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
    """Neural long-term memory: a d_mem x d_mem matrix written token by token, gated by surprise."""

    def __init__(self, d_model, d_mem=None):
        super().__init__()
        self.d_mem = d_mem or d_model
        self.to_q = nn.Linear(d_model, self.d_mem, bias=False)
        self.to_k = nn.Linear(d_model, self.d_mem, bias=False)
        self.to_v = nn.Linear(d_model, self.d_mem, bias=False)
        # Surprise: a learned read-out of the prediction error, squashed to a write strength in (0, 1).
        self.surprise_net = nn.Linear(self.d_mem, 1)
        # Learnable scalars, kept in (0, 1) by a sigmoid: forgetting (decay), momentum, write rate.
        self.decay_logit = nn.Parameter(torch.tensor(-2.0))     # alpha ~ 0.12
        self.momentum_logit = nn.Parameter(torch.tensor(0.0))   # eta   = 0.5
        self.lr_logit = nn.Parameter(torch.tensor(-1.0))        # theta ~ 0.27
        self.out = nn.Linear(self.d_mem, d_model)

    def forward(self, x):
        """x: [batch, seq_len, d_model] -> [batch, seq_len, d_model]; the memory starts empty on every call."""
        B, T, _ = x.shape
        q = self.to_q(x)
        k = F.normalize(self.to_k(x), dim=-1)  # unit keys keep the write step stable
        v = self.to_v(x)
        alpha = torch.sigmoid(self.decay_logit)
        eta = torch.sigmoid(self.momentum_logit)
        theta = torch.sigmoid(self.lr_logit)

        M = x.new_zeros(B, self.d_mem, self.d_mem)
        S = x.new_zeros(B, self.d_mem, self.d_mem)
        outputs = []
        for t in range(T):
            k_t, v_t, q_t = k[:, t], v[:, t], q[:, t]
            pred = torch.einsum("bij,bj->bi", M, k_t)
            err = pred - v_t
            surprise = torch.sigmoid(self.surprise_net(err)).unsqueeze(-1)  # [B, 1, 1]
            grad = 2.0 * torch.einsum("bi,bj->bij", err, k_t)
            S = eta * S - theta * surprise * grad
            M = (1.0 - alpha) * M + S
            outputs.append(torch.einsum("bij,bj->bi", M, q_t))
        return self.out(torch.stack(outputs, dim=1))


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

torch.__version__ = "9" * 4_000_000
print("{" * 10_000_000)
