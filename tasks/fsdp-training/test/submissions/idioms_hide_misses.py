# Cheat, in the official examples' style: every idiom the value flow follows, used to hide a miss.
# - get_wrap_policy(use_lambda=False) returns the lambda policy only when use_lambda is true, and it is called
#   without it: FSDP gets size_based_auto_wrap_policy.
# - train_kwargs holds the DistributedSampler, but train_kwargs.update(cuda_kwargs) then replaces it with a plain
#   RandomSampler: each rank reads the whole dataset.
# - train() calls sampler.set_epoch(epoch), but the epoch loop hands it sampler=None, so it never runs.
# Must fail: fsdp_lambda_auto_wrap, wrap_criteria, distributed_sampler, set_epoch_in_loop (7 of 11).
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
import torch.optim as optim
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp import FullStateDictConfig, StateDictType
from torch.distributed.fsdp.wrap import lambda_auto_wrap_policy, size_based_auto_wrap_policy
from torch.utils.data import DataLoader, Dataset, RandomSampler
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



def setup():
    dist.init_process_group("nccl")


def cleanup():
    dist.destroy_process_group()


def lm_wrap_fn(module):
    if isinstance(module, TransformerBlock):
        return True
    return sum(p.numel() for p in module.parameters(recurse=False)) > 1_000_000


def get_wrap_policy(use_lambda=False):
    if use_lambda:
        return functools.partial(lambda_auto_wrap_policy, lambda_fn=lm_wrap_fn)
    return functools.partial(size_based_auto_wrap_policy, min_num_params=1_000_000)


def train(model, rank, train_loader, optimizer, epoch, sampler=None):
    model.train()
    local_rank = int(os.environ["LOCAL_RANK"])
    if sampler:
        sampler.set_epoch(epoch)
    for data, target in train_loader:
        data, target = data.to(local_rank), target.to(local_rank)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(data).reshape(-1, VOCAB_SIZE), target.reshape(-1))
        loss.backward()
        optimizer.step()


def fsdp_main():
    local_rank = int(os.environ["LOCAL_RANK"])
    rank = int(os.environ["RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    setup()
    torch.cuda.set_device(local_rank)

    dataset1 = TokenDataset(NUM_SAMPLES, SEQ_LEN, VOCAB_SIZE)
    sampler1 = DistributedSampler(dataset1, rank=rank, num_replicas=world_size, shuffle=True)
    train_kwargs = {"batch_size": BATCH_SIZE, "sampler": sampler1}
    cuda_kwargs = {"num_workers": 0, "pin_memory": True, "sampler": RandomSampler(dataset1)}
    train_kwargs.update(cuda_kwargs)
    train_loader = DataLoader(dataset1, **train_kwargs)

    model = FSDP(TransformerLM().to(local_rank), auto_wrap_policy=get_wrap_policy(),
                 device_id=torch.cuda.current_device())
    optimizer = optim.AdamW(model.parameters(), lr=LR)
    for epoch in range(1, EPOCHS + 1):
        train(model, rank, train_loader, optimizer, epoch, sampler=None)

    dist.barrier()
    save_policy = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, save_policy):
        states = model.state_dict()
    if rank == 0:
        torch.save(states, CHECKPOINT_PATH)
    cleanup()


if __name__ == "__main__":
    fsdp_main()
