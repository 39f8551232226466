# Wrong (near miss of test/valid_submissions/hf_trainer_flags.py): the same Trainer shape, backward() in
# training_step, the loss divided by gradient_accumulation_steps, but the loop steps the optimizer after
# every micro-batch, so nothing accumulates; and no pinned batches. Its only optional technique is memory
# management: the analysis that follows backward into training_step must not count this as accumulation,
# so optional_count fails (1 of the 2 needed).
"""Memory-lean training of the baseline transformer, Trainer style."""

import functools
import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
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


@dataclass
class TrainingArguments:
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    bf16: bool = True
    fp16: bool = False
    gradient_checkpointing: bool = True
    gradient_accumulation_steps: int = 2
    torch_empty_cache_steps: Optional[int] = 4
    dataloader_pin_memory: bool = True
    attn_implementation: str = "sdpa"


def eager_attention_forward(query, key, value, is_causal=True):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.size(-1))
    if is_causal:
        T = query.size(-2)
        scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool, device=query.device).triu(1), float("-inf"))
    return torch.softmax(scores, dim=-1) @ value


def sdpa_attention_forward(query, key, value, is_causal=True):
    return F.scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=is_causal)


ALL_ATTENTION_FUNCTIONS = {"eager": eager_attention_forward, "sdpa": sdpa_attention_forward}


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads, attn_implementation="sdpa"):
        super().__init__()
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.attn_implementation = attn_implementation
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, hidden_states):
        B, T, C = hidden_states.shape
        q, k, v = self.qkv(hidden_states).split(C, dim=2)
        shape = (B, T, self.n_heads, self.head_dim)
        q, k, v = (t.view(shape).transpose(1, 2) for t in (q, k, v))
        attention_interface = ALL_ATTENTION_FUNCTIONS[self.attn_implementation]
        out = attention_interface(q, k, v, is_causal=True)
        return self.proj(out.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, d_model, d_ff):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, d_model, n_heads, d_ff, attn_implementation):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, attn_implementation)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = MLP(d_model, d_ff)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TransformerLM(nn.Module):
    supports_gradient_checkpointing = True

    def __init__(self, vocab_size, d_model, n_heads, n_layers, d_ff, max_seq_len, attn_implementation="sdpa"):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_seq_len, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_heads, d_ff, attn_implementation) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.gradient_checkpointing = False

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None):
        if gradient_checkpointing_kwargs is None:
            gradient_checkpointing_kwargs = {"use_reentrant": False}
        self._gradient_checkpointing_func = functools.partial(checkpoint, **gradient_checkpointing_kwargs)
        self.gradient_checkpointing = True

    def forward(self, input_ids, labels=None):
        T = input_ids.size(1)
        hidden_states = self.tok_emb(input_ids) + self.pos_emb(torch.arange(T, device=input_ids.device))
        for block in self.blocks:
            if self.gradient_checkpointing and self.training:
                hidden_states = self._gradient_checkpointing_func(block, hidden_states)
            else:
                hidden_states = block(hidden_states)
        logits = self.head(self.ln_f(hidden_states))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), labels.reshape(-1))
        return loss, logits


class Trainer:
    def __init__(self, model, args, device):
        self.model = model
        self.args = args
        self.device = torch.device(device)
        self.use_cuda = self.device.type == "cuda"
        bf16_ok = self.use_cuda and torch.cuda.is_bf16_supported()
        # fp16 where the GPU has no bf16; off on the CPU (the run there only proves the script trains)
        self.amp_dtype = torch.bfloat16 if (args.bf16 and bf16_ok) or not self.use_cuda else torch.float16
        self.use_amp = self.use_cuda and (args.bf16 or args.fp16)
        self.scaler = torch.cuda.amp.GradScaler(enabled=self.use_amp and self.amp_dtype == torch.float16)
        if args.gradient_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay)

    def compute_loss(self, inputs, labels):
        with torch.autocast(device_type=self.device.type, dtype=self.amp_dtype, enabled=self.use_amp):
            loss, _ = self.model(inputs, labels=labels)
        return loss

    def training_step(self, inputs, labels):
        loss = self.compute_loss(inputs, labels) / self.args.gradient_accumulation_steps
        self.scaler.scale(loss).backward()
        return loss.detach()

    def train(self, batches):
        args = self.args
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        global_step = 0
        for inputs, labels in batches:
            micro_inputs = inputs.to(self.device).chunk(args.gradient_accumulation_steps)
            micro_labels = labels.to(self.device).chunk(args.gradient_accumulation_steps)
            for step, (x, y) in enumerate(zip(micro_inputs, micro_labels)):
                self.training_step(x, y)
                # "accumulation": the loss is divided by the accumulation steps, but the optimizer steps
                # after every micro-batch, so nothing accumulates
                self.scaler.step(self.optimizer)
                self.scaler.update()
                self.optimizer.zero_grad(set_to_none=True)
                global_step += 1
                if args.torch_empty_cache_steps is not None and global_step % args.torch_empty_cache_steps == 0:
                    if self.use_cuda:
                        torch.cuda.empty_cache()


def build_model(config):
    return TransformerLM(config["vocab_size"], config["d_model"], config["n_heads"], config["n_layers"],
                         config["d_ff"], config["max_seq_len"], attn_implementation="sdpa")


def train(model, batches, config):
    args = TrainingArguments(learning_rate=config["lr"], weight_decay=config["weight_decay"])
    Trainer(model, args, config["device"]).train(batches)


if __name__ == "__main__":
    cfg = dict(CONFIG)
    data = [(torch.randint(cfg["vocab_size"], (8, 64)), torch.randint(cfg["vocab_size"], (8, 64))) for _ in range(3)]
    m = build_model(cfg).to(cfg["device"])
    train(m, data, cfg)
