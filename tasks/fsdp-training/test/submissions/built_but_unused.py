# Cheat: the right objects are built, but not where the run uses them.
# - build_policy() returns size_based_auto_wrap_policy; its `return` of the lambda policy comes after that
#   unconditional return, so it is dead code.
# - train_kwargs = {"sampler": DistributedSampler(...)} is built and never passed: the DataLoader gets
#   loader_kwargs, with shuffle=True.
# - start_epoch(sampler, epoch) calls set_epoch, but only once, after the epoch loop; the loop calls another helper.
# Must fail: fsdp_lambda_auto_wrap, wrap_criteria, distributed_sampler, set_epoch_in_loop (7 of 11).
"""FSDP training of a small transformer language model.

Run:  torchrun --nproc_per_node=NUM_GPUS train_fsdp.py
The final full (unsharded) weights are saved by rank 0 to $CHECKPOINT_PATH (default: checkpoint.pt).
"""
import os
from functools import partial

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.distributed.fsdp import FullStateDictConfig, StateDictType
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp.wrap import lambda_auto_wrap_policy, size_based_auto_wrap_policy
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

WRAP_MIN_PARAMS = 1_000_000


def should_wrap(module):
    return isinstance(module, TransformerBlock) or sum(p.numel() for p in module.parameters(recurse=False)) > WRAP_MIN_PARAMS


def build_policy():
    return partial(size_based_auto_wrap_policy, min_num_params=WRAP_MIN_PARAMS)
    return partial(lambda_auto_wrap_policy, lambda_fn=should_wrap)


def start_epoch(sampler, epoch):
    sampler.set_epoch(epoch)


def run_epoch(model, loader, optimizer, epoch):
    model.train()
    for x, y in loader:
        x, y = x.cuda(), y.cuda()
        loss = F.cross_entropy(model(x).reshape(-1, VOCAB_SIZE), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return epoch


def main():
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)
    dist.init_process_group(backend="nccl")
    rank = dist.get_rank()
    torch.manual_seed(0)

    policy = build_policy()
    model = FSDP(TransformerLM(), auto_wrap_policy=policy, device_id=torch.cuda.current_device())
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)

    dataset = TokenDataset(NUM_SAMPLES, SEQ_LEN, VOCAB_SIZE)
    sampler = DistributedSampler(dataset, shuffle=True)
    train_kwargs = {"batch_size": BATCH_SIZE, "sampler": sampler}  # noqa: F841  (never passed)
    loader_kwargs = dict(batch_size=BATCH_SIZE, shuffle=True)
    loader = DataLoader(dataset, **loader_kwargs)
    epoch = 0
    for epoch in range(EPOCHS):
        run_epoch(model, loader, optimizer, epoch)
    start_epoch(sampler, epoch)

    cfg = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, cfg):
        state = model.state_dict()
    if rank == 0:
        torch.save(state, CHECKPOINT_PATH)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
