# Valid, written differently from the reference: aliased imports (autocast/GradScaler from torch.cuda.amp,
# checkpoint through a module alias, SDPA bound to a module-level name), a bound method checkpointed,
# accumulation under a modulo test across batches' micro-batches, torch.compile on the GPU, in-place
# residual adds, and AdamW with foreach=False.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as tuc
from torch.cuda.amp import GradScaler
from torch.cuda.amp import autocast as amp_autocast

CONFIG = dict(
    vocab_size=512,
    d_model=256,
    n_heads=4,
    n_layers=4,
    d_ff=1024,
    max_seq_len=512,
    lr=1e-3,
    weight_decay=0.01,
    device="cuda" if torch.cuda.is_available() else "cpu",
)

attention = F.scaled_dot_product_attention


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.n_heads, self.head_dim).transpose(1, 2) for t in self.qkv(x).split(C, dim=2))
        out = attention(q, k, v, is_causal=True)
        return self.proj(out.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, d_model, d_ff):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, d_model, n_heads, d_ff):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = MLP(d_model, d_ff)

    def _inner(self, x):
        # The sublayer outputs are fresh tensors nobody saved, so adding the residual in place is safe.
        h = self.attn(self.ln1(x)).add_(x)
        return self.mlp(self.ln2(h)).add_(h)

    def forward(self, x):
        if self.training and torch.is_grad_enabled():
            return tuc.checkpoint(self._inner, x, use_reentrant=False)
        return self._inner(x)


class TransformerLM(nn.Module):
    def __init__(self, vocab_size, d_model, n_heads, n_layers, d_ff, max_seq_len):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_seq_len, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_heads, d_ff) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(T, device=idx.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def build_model(config):
    model = TransformerLM(config["vocab_size"], config["d_model"], config["n_heads"], config["n_layers"],
                          config["d_ff"], config["max_seq_len"])
    # Compiled only on the GPU: the wrapper keeps the original module's parameters as _orig_mod.
    if config["device"] == "cuda":
        model = torch.compile(model)
    return model


ACCUM = 4


def train(model, batches, config):
    device = config["device"]
    cuda = device == "cuda"
    half = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float16
    scaler = GradScaler(enabled=cuda and half == torch.float16)
    opt = torch.optim.AdamW(model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"], foreach=False)
    model.train()
    micro = []
    for inputs, targets in batches:
        micro.extend(zip(inputs.chunk(ACCUM), targets.chunk(ACCUM)))
    for i, (x, y) in enumerate(micro):
        x, y = x.to(device), y.to(device)
        with amp_autocast(enabled=cuda, dtype=half):
            logits = model(x)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten()) / ACCUM
        scaler.scale(loss).backward()
        if (i + 1) % ACCUM == 0:
            scaler.step(opt)
            scaler.update()
            opt.zero_grad(set_to_none=True)
