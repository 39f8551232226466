# Valid, in the style of the official PyTorch recipes and examples: the "Automatic Mixed Precision" recipe's
# module-level `use_amp = True` switch with torch.autocast(..., enabled=use_amp) and a GradScaler(enabled=...),
# its gradient-accumulation loop (loss / iters_to_accumulate, step when (i + 1) % iters_to_accumulate == 0),
# zero_grad(set_to_none=True) as the recipe recommends, the torch.utils.checkpoint docs' non-reentrant
# checkpoint of each block behind a module-level flag, and the SDPA tutorial's call with
# attn_mask=None / dropout_p / is_causal=True. Every technique sits under a module flag bound once to True
# (the constant folding must keep those branches live and prune only their `else`).
"""Train a small decoder-only transformer LM with less GPU memory (AMP recipe style)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint

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

# Switches, as in the recipe: flip one to compare against the default precision / no checkpointing.
use_amp = True
use_checkpointing = True
iters_to_accumulate = 2


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        assert d_model % n_heads == 0
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.dropout_p = 0.0

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        k = k.view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        v = v.view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=None, dropout_p=self.dropout_p if self.training else 0.0, is_causal=True
        )
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)


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

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        x = x + self.mlp(self.ln2(x))
        return x


class TransformerLM(nn.Module):
    def __init__(self, vocab_size, d_model, n_heads, n_layers, d_ff, max_seq_len):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_seq_len, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_heads, d_ff) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)

    def forward(self, idx):
        B, T = idx.shape
        pos = torch.arange(T, device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        for block in self.blocks:
            if use_checkpointing:
                # Only the block's input is kept; its activations are recomputed in backward.
                x = torch.utils.checkpoint.checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.head(self.ln_f(x))


def build_model(config):
    return TransformerLM(
        vocab_size=config["vocab_size"],
        d_model=config["d_model"],
        n_heads=config["n_heads"],
        n_layers=config["n_layers"],
        d_ff=config["d_ff"],
        max_seq_len=config["max_seq_len"],
    )


def train(model, batches, config):
    device = config["device"]
    device_type = "cuda" if "cuda" in device else "cpu"
    amp_enabled = use_amp and device_type == "cuda"
    # bfloat16 needs no loss scaling; float16 (GPUs without bf16) does, so the scaler is enabled only then.
    amp_dtype = torch.bfloat16 if device_type != "cuda" or torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.cuda.amp.GradScaler(enabled=amp_enabled and amp_dtype == torch.float16)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"])
    opt.zero_grad(set_to_none=True)
    for inputs, targets in batches:
        inputs, targets = inputs.to(device), targets.to(device)
        micro = zip(inputs.chunk(iters_to_accumulate), targets.chunk(iters_to_accumulate))
        for i, (x, y) in enumerate(micro):
            with torch.autocast(device_type=device_type, dtype=amp_dtype, enabled=amp_enabled):
                output = model(x)
                loss = F.cross_entropy(output.view(-1, output.size(-1)).float(), y.reshape(-1))
                loss = loss / iters_to_accumulate
            # Scales the loss and calls backward() on it, to create scaled gradients.
            scaler.scale(loss).backward()
            if (i + 1) % iters_to_accumulate == 0:
                # Unscales the gradients and steps (skipped if they hold infs or NaNs).
                scaler.step(opt)
                scaler.update()
                opt.zero_grad(set_to_none=True)


if __name__ == "__main__":
    torch.manual_seed(0)
    cfg = dict(CONFIG)
    data = [(torch.randint(cfg["vocab_size"], (8, 128)), torch.randint(cfg["vocab_size"], (8, 128))) for _ in range(3)]
    net = build_model(cfg).to(cfg["device"])
    train(net, data, cfg)
    print("done")
