# Valid, in the style of a popular open-source training script (nanoGPT's train.py / model.py): config
# globals at the top of the module (`compile = True`, which shadows the builtin, `dtype` chosen from what the
# GPU supports, gradient_accumulation_steps), `ptdtype` looked up from the dtype string, a context
# `ctx = nullcontext() if device_type == 'cpu' else torch.amp.autocast(device_type=..., dtype=ptdtype)`,
# a GradScaler enabled only for float16, `self.flash = hasattr(F, 'scaled_dot_product_attention')` with the
# manual attention as the fallback branch, a model-level `if compile: model = torch.compile(model)`, micro-steps
# with loss / gradient_accumulation_steps, and zero_grad(set_to_none=True) after the step. Checkpointing of
# each block is added behind one more config global, as forks of that script do: off among the defaults, turned
# on in an overrides section below them (a name bound twice at the top: functions see the last value, True).
"""Memory-lean training of the baseline transformer, nanoGPT style."""

import math
from contextlib import nullcontext

import torch
import torch.nn as nn
from torch.nn import functional as F
from torch.utils.checkpoint import checkpoint

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

# -----------------------------------------------------------------------------
# default config values
gradient_accumulation_steps = 2  # used to simulate larger batch sizes
grad_clip = 0.0  # clip gradients at this value, or disable if == 0.0
# 'float32', 'bfloat16', or 'float16', the latter will auto implement a GradScaler
dtype = 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float16'
compile = True  # use PyTorch 2.0 to compile the model to be faster
activation_checkpointing = False  # recompute each block's activations in backward
# -----------------------------------------------------------------------------
# overrides for a memory-constrained GPU (what a config/train_*.py file would set)
activation_checkpointing = True
# -----------------------------------------------------------------------------


class CausalSelfAttention(nn.Module):

    def __init__(self, d_model, n_heads):
        super().__init__()
        assert d_model % n_heads == 0
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        # key, query, value projections for all heads, but in a batch
        self.qkv = nn.Linear(d_model, 3 * d_model)
        # output projection
        self.proj = nn.Linear(d_model, d_model)
        # flash attention make GPU go brrrrr but support is only in PyTorch >= 2.0
        self.flash = hasattr(torch.nn.functional, 'scaled_dot_product_attention')

    def forward(self, x):
        B, T, C = x.size()  # batch size, sequence length, embedding dimensionality (d_model)
        q, k, v = self.qkv(x).split(C, dim=2)
        k = k.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_heads, C // self.n_heads).transpose(1, 2)  # (B, nh, T, hs)
        if self.flash:
            # efficient attention using Flash Attention CUDA kernels
            y = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True)
        else:
            # manual implementation of attention
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            att = F.softmax(att.masked_fill(mask, float('-inf')), dim=-1)
            y = att @ v  # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble all head outputs side by side
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


class GPT(nn.Module):

    def __init__(self, vocab_size, d_model, n_heads, n_layers, d_ff, max_seq_len):
        super().__init__()
        self.max_seq_len = max_seq_len
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_seq_len, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_heads, d_ff) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)

    def forward(self, idx, targets=None):
        device = idx.device
        b, t = idx.size()
        assert t <= self.max_seq_len, f"Cannot forward sequence of length {t}, block size is only {self.max_seq_len}"
        pos = torch.arange(0, t, dtype=torch.long, device=device)  # shape (t)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        for block in self.blocks:
            if activation_checkpointing and self.training:
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        x = self.ln_f(x)
        logits = self.head(x)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate):
        # every 2D parameter (matmul weights, embeddings) decays; biases and layernorms do not
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {'params': decay_params, 'weight_decay': weight_decay},
            {'params': nodecay_params, 'weight_decay': 0.0},
        ]
        return torch.optim.AdamW(optim_groups, lr=learning_rate)


def build_model(config):
    return GPT(config["vocab_size"], config["d_model"], config["n_heads"], config["n_layers"], config["d_ff"],
               config["max_seq_len"])


def train(model, batches, config):
    device = config["device"]
    device_type = 'cuda' if 'cuda' in device else 'cpu'  # for later use in torch.autocast
    ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
    ctx = nullcontext() if device_type == 'cpu' else torch.amp.autocast(device_type=device_type, dtype=ptdtype)
    # initialize a GradScaler. If enabled=False scaler is a no-op
    scaler = torch.cuda.amp.GradScaler(enabled=(dtype == 'float16' and device_type == 'cuda'))
    optimizer = model.configure_optimizers(config["weight_decay"], config["lr"])
    if compile and device_type == 'cuda':
        print("compiling the model... (takes a ~minute)")
        model = torch.compile(model)  # requires PyTorch 2.0
    model.train()
    for X_full, Y_full in batches:
        X_full, Y_full = X_full.to(device), Y_full.to(device)
        micro_X = X_full.chunk(gradient_accumulation_steps)
        micro_Y = Y_full.chunk(gradient_accumulation_steps)
        # forward backward update, with optional gradient accumulation to simulate larger batch size
        # and using the GradScaler if data type is float16
        for micro_step in range(len(micro_X)):
            with ctx:
                logits, loss = model(micro_X[micro_step], micro_Y[micro_step])
                loss = loss / len(micro_X)  # scale the loss to account for gradient accumulation
            # backward pass, with gradient scaling if training in fp16
            scaler.scale(loss).backward()
        # clip the gradient
        if grad_clip != 0.0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        # step the optimizer and scaler if training in fp16
        scaler.step(optimizer)
        scaler.update()
        # flush the gradients as soon as we can, no need for this memory anymore
        optimizer.zero_grad(set_to_none=True)


if __name__ == "__main__":
    torch.manual_seed(1337)
    cfg = dict(CONFIG)
    data = [(torch.randint(cfg["vocab_size"], (8, 128)), torch.randint(cfg["vocab_size"], (8, 128))) for _ in range(3)]
    gpt = build_model(cfg).to(cfg["device"])
    train(gpt, data, cfg)
