# Valid alternative in the style of an open-source Titans port: one memory per head, the sequence processed
# in chunks (`chunk_size`), `store_memories` / `retrieve_memories` methods, per-token momentum and decay
# gates from linear layers, and inside a chunk the momentum and forgetting recurrences solved for every
# token at once with `torch.cumprod` of the decays (h_t = P_t (h_0 + sum_s u_s / P_s)); the chunk's last
# state is carried to the next chunk. The surprise is a learned sigmoid of the recall error against the
# memory at the chunk start.
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
        q, k, v = (t.view(B, T, self.n_heads, -1).transpose(1, 2) for t in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        y = (scores.masked_fill(future, float("-inf")).softmax(dim=-1) @ v).transpose(1, 2).reshape(B, T, D)
        return self.proj(y)


class NeuralMemory(nn.Module):
    def __init__(self, dim, heads=4, chunk_size=4):
        super().__init__()
        self.heads, self.dim_head, self.chunk_size = heads, dim // heads, chunk_size
        self.to_queries = nn.Linear(dim, dim, bias=False)
        self.to_keys = nn.Linear(dim, dim, bias=False)
        self.to_values = nn.Linear(dim, dim, bias=False)
        self.to_surprise = nn.Linear(self.dim_head, 1)        # per head: recall error -> write strength
        self.to_adaptive_step = nn.Linear(dim, heads)         # theta_t
        self.to_momentum = nn.Linear(dim, heads)              # eta_t
        self.to_decay_factor = nn.Linear(dim, heads)          # alpha_t
        nn.init.constant_(self.to_decay_factor.bias, -3.0)
        self.combine_heads = nn.Linear(dim, dim, bias=False)

    def split_heads(self, t):
        b, n, _ = t.shape
        return t.view(b, n, self.heads, self.dim_head).transpose(1, 2).reshape(b * self.heads, n, self.dim_head)

    def gate(self, layer, x):
        b, n, _ = x.shape
        return torch.sigmoid(layer(x)).transpose(1, 2).reshape(b * self.heads, n)       # [(b h), n]

    @staticmethod
    def linear_recurrence(gates, inputs, initial):
        """h_t = gates_t * h_{t-1} + inputs_t over one chunk, for all t: P_t = prod_{s<=t} gates_s."""
        prods = torch.cumprod(gates, dim=1)[..., None, None]                            # [(b h), c, 1, 1]
        return prods * (initial.unsqueeze(1) + torch.cumsum(inputs / prods, dim=1))

    def store_memories(self, keys, values, step, momentum, keep, weights, past_momentum):
        """One chunk: gradients of the recall loss against the chunk-start weights, surprise-scaled, then the
        momentum and weight recurrences. Returns the per-token weights and momenta."""
        pred = torch.einsum("nij,ncj->nci", weights, keys)
        err = pred - values
        surprise = torch.sigmoid(self.to_surprise(err))                                 # [(b h), c, 1]
        grads = 2.0 * torch.einsum("nci,ncj->ncij", err, keys)
        updates = -(step * surprise.squeeze(-1))[..., None, None] * grads
        momenta = self.linear_recurrence(momentum, updates, past_momentum)
        per_token_weights = self.linear_recurrence(keep, momenta, weights)
        return per_token_weights, momenta

    def retrieve_memories(self, per_token_weights, queries):
        return torch.einsum("ncij,ncj->nci", per_token_weights, queries)

    def forward(self, seq):
        b, n, dim = seq.shape
        queries = self.split_heads(self.to_queries(seq))
        keys = F.normalize(self.split_heads(self.to_keys(seq)), dim=-1)
        values = self.split_heads(self.to_values(seq))
        step = self.gate(self.to_adaptive_step, seq)
        momentum = self.gate(self.to_momentum, seq)
        keep = 1.0 - self.gate(self.to_decay_factor, seq)

        weights = seq.new_zeros(b * self.heads, self.dim_head, self.dim_head)
        past_momentum = torch.zeros_like(weights)
        retrieved = []
        for i in range(0, n, self.chunk_size):
            c = slice(i, i + self.chunk_size)
            per_token_weights, momenta = self.store_memories(keys[:, c], values[:, c], step[:, c], momentum[:, c],
                                                             keep[:, c], weights, past_momentum)
            retrieved.append(self.retrieve_memories(per_token_weights, queries[:, c]))
            weights, past_momentum = per_token_weights[:, -1], momenta[:, -1]
        out = torch.cat(retrieved, dim=1)                                               # [(b h), n, dh]
        out = out.view(b, self.heads, n, self.dim_head).transpose(1, 2).reshape(b, n, dim)
        return self.combine_heads(out)


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.mem = NeuralMemory(d_model, heads=n_heads)
        self.to_gate = nn.Linear(2 * d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        h = self.ln1(x)
        attn_out = self.attn(h)
        mem_out = self.mem(h)
        gate = self.to_gate(torch.cat((attn_out, mem_out), dim=-1)).sigmoid()
        x = x + torch.lerp(mem_out, attn_out, gate)
        return x + self.ff(self.ln2(x))


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
