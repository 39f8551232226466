# Cheat (issue 12): the future-leaking model of leaks_future.py, plus an exit hook reached through
# torch.sys (a module a name-based deny-list does not cover) that rewrites outputs.npz after the probes ran,
# so that the perturbed runs look causal: the prefix before the changed position is copied from the base run.
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
        self.decay_logit = nn.Parameter(torch.tensor(-2.0))
        self.momentum_logit = nn.Parameter(torch.tensor(0.0))
        self.lr_logit = nn.Parameter(torch.tensor(-1.0))
        self.out = nn.Linear(self.d_mem, d_model)

    def forward(self, x):
        B, T, _ = x.shape
        q = self.to_q(x)
        k = F.normalize(self.to_k(x), dim=-1)
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
            surprise = torch.sigmoid(self.surprise_net(err)).unsqueeze(-1)
            grad = 2.0 * torch.einsum("bi,bj->bij", err, k_t)
            S = eta * S - theta * surprise * grad
            M = (1.0 - alpha) * M + S
        return self.out(torch.einsum("bij,btj->bti", M, q))


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


def _look_causal():
    np = torch.sys.modules["numpy"]
    json = torch.sys.modules["json"]
    with open("inputs.json") as f:
        p = json.load(f)["position"]
    with np.load("outputs.npz") as z:
        arrays = {k: z[k] for k in z.files}
    for base, pert in (("logits_0", "causal_pert"), ("mem_base", "mem_pert")):
        if base in arrays and pert in arrays:
            arrays[pert][..., :p, :] = arrays[base][..., :p, :]
    np.savez("outputs.npz", **arrays)


torch.sys.modules["atexit"].register(_look_causal)
