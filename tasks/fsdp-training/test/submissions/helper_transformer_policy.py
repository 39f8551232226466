# Cheat: the wrap policy comes from a helper, get_policy(), that returns
# functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={TransformerBlock}). A decoy helper,
# make_lambda_policy(), returns the lambda policy with a correct rule, and its result is even assigned, but it is
# never handed to FSDP. Everything else is a correct conversion (kwargs dict, set_epoch in a train helper).
# Must fail: no_transformer_auto_wrap_policy, fsdp_lambda_auto_wrap, wrap_criteria (8 of 11).
"""FSDP training of a small transformer language model.

Run:  torchrun --nproc_per_node=NUM_GPUS train_fsdp.py
The final full (unsharded) weights are saved by rank 0 to $CHECKPOINT_PATH (default: checkpoint.pt).
"""
import functools
import os

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.distributed.fsdp import FullStateDictConfig, StateDictType
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp import wrap
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

VOCAB_SIZE = 8192
D_MODEL = 256
N_HEADS = 4
N_LAYERS = 4
D_FF = 1024
SEQ_LEN = 128
BATCH_SIZE = 8
NUM_SAMPLES = 256
EPOCHS = 2
LR = 3e-4
CHECKPOINT_PATH = os.environ.get("CHECKPOINT_PATH", "checkpoint.pt")


class TokenDataset(Dataset):
    """Synthetic next-token data, the same on every run."""

    def __init__(self, num_samples, seq_len, vocab_size, seed=1234):
        g = torch.Generator().manual_seed(seed)
        self.data = torch.randint(vocab_size, (num_samples, seq_len + 1), generator=g)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        row = self.data[i]
        return row[:-1], row[1:]


class TransformerBlock(nn.Module):
    def __init__(self, d_model, n_heads, d_ff):
        super().__init__()
        self.n_heads = n_heads
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)

    def attention(self, x):
        B, T, C = x.shape
        h = self.n_heads
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, h, C // h).transpose(1, 2) for t in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / (C // h) ** 0.5
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        weights = scores.masked_fill(causal, float("-inf")).softmax(dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(B, T, C))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class TransformerLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB_SIZE, D_MODEL)
        self.pos = nn.Embedding(SEQ_LEN, D_MODEL)
        self.blocks = nn.ModuleList([TransformerBlock(D_MODEL, N_HEADS, D_FF) for _ in range(N_LAYERS)])
        self.ln_f = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, VOCAB_SIZE, bias=False)

    def forward(self, idx):
        x = self.embed(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))



def should_wrap(module):
    if isinstance(module, TransformerBlock):
        return True
    return sum(p.numel() for p in module.parameters(recurse=False)) > 1_000_000


def make_lambda_policy():
    return functools.partial(wrap.lambda_auto_wrap_policy, lambda_fn=should_wrap)


def get_policy():
    return functools.partial(wrap.transformer_auto_wrap_policy, transformer_layer_cls={TransformerBlock})


def train(model, loader, optimizer, sampler, epoch):
    sampler.set_epoch(epoch)
    model.train()
    for x, y in loader:
        x, y = x.cuda(), y.cuda()
        loss = F.cross_entropy(model(x).reshape(-1, VOCAB_SIZE), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)
    dist.init_process_group(backend="nccl")
    rank = dist.get_rank()
    torch.manual_seed(0)

    lambda_policy = make_lambda_policy()  # noqa: F841  (the decoy: never given to FSDP)
    model = FSDP(TransformerLM(), auto_wrap_policy=get_policy(), device_id=torch.cuda.current_device())
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)

    dataset = TokenDataset(NUM_SAMPLES, SEQ_LEN, VOCAB_SIZE)
    sampler = DistributedSampler(dataset, shuffle=True)
    train_kwargs = {"batch_size": BATCH_SIZE, "sampler": sampler}
    loader = DataLoader(dataset, **train_kwargs)
    for epoch in range(EPOCHS):
        train(model, loader, optimizer, sampler, epoch)

    cfg = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, cfg):
        state = model.state_dict()
    if rank == 0:
        torch.save(state, CHECKPOINT_PATH)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
