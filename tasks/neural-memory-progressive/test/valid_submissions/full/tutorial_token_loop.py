# Valid (tutorial style): explicit names and one loop over the tokens; surprise = sigmoid(w * ||v - M k|| + b)
# with two learnable scalars, a learnable forgetting rate, einsum for the outer product and the read, a
# 16 x 16 memory, and a per-channel gate from the block input blending attention and memory.
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
    def __init__(self, d_model, memory_dim=16):
        super().__init__()
        self.memory_dim = memory_dim
        self.key_proj = nn.Linear(d_model, memory_dim, bias=False)
        self.value_proj = nn.Linear(d_model, memory_dim, bias=False)
        self.query_proj = nn.Linear(d_model, memory_dim, bias=False)
        self.surprise_weight = nn.Parameter(torch.tensor(2.0))
        self.surprise_bias = nn.Parameter(torch.tensor(-1.0))
        self.forget_logit = nn.Parameter(torch.tensor(-2.0))
        self.output_proj = nn.Linear(memory_dim, d_model)

    def forward(self, hidden_states):
        batch_size, seq_len, _ = hidden_states.shape
        keys = F.normalize(self.key_proj(hidden_states), dim=-1)
        values = self.value_proj(hidden_states)
        queries = self.query_proj(hidden_states)
        keep = 1.0 - torch.sigmoid(self.forget_logit)

        memory = hidden_states.new_zeros(batch_size, self.memory_dim, self.memory_dim)
        outputs = []
        for t in range(seq_len):
            key, value, query = keys[:, t], values[:, t], queries[:, t]
            recalled = torch.einsum("bij,bj->bi", memory, key)
            error_norm = (value - recalled).norm(dim=-1, keepdim=True)
            surprise = torch.sigmoid(self.surprise_weight * error_norm + self.surprise_bias)
            memory = keep * memory + surprise.unsqueeze(-1) * torch.einsum("bi,bj->bij", value, key)
            outputs.append(torch.einsum("bij,bj->bi", memory, query))
        return self.output_proj(torch.stack(outputs, dim=1))


class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.memory = NeuralMemory(d_model)
        self.fusion_gate = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        hidden = self.ln1(x)
        attn_out = self.attn(hidden)
        memory_out = self.memory(hidden)
        gate = torch.sigmoid(self.fusion_gate(hidden))
        x = x + gate * attn_out + (1 - gate) * memory_out
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
