# Valid, written differently from the reference: module imports (from torch.distributed import fsdp),
# setup/wrap/save helpers, a policy function calling lambda_auto_wrap_policy with an inline lambda,
# the sampler passed inline, a while-loop over epochs, save guarded by dist.get_rank() == 0.
"""FSDP training of a small transformer language model (reference solution).

Run:  torchrun --nproc_per_node=NUM_GPUS train_fsdp.py
The final full (unsharded) weights are saved by rank 0 to $CHECKPOINT_PATH (default: checkpoint.pt).
"""

import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.data
from torch import distributed
from torch.distributed import fsdp
from torch.distributed.fsdp.wrap import lambda_auto_wrap_policy

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
BACKEND = "nccl"


class TokenDataset(torch.utils.data.Dataset):
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
    local_rank = int(os.getenv("LOCAL_RANK", "0"))
    torch.cuda.set_device(local_rank)
    distributed.init_process_group(BACKEND)
    return distributed.get_rank(), distributed.get_world_size()


def wrap_policy(module, recurse, nonwrapped_numel):
    return lambda_auto_wrap_policy(
        module, recurse, nonwrapped_numel,
        # Direct parameters only, so containers whose children are already wrapped are not counted again.
        lambda_fn=lambda m: isinstance(m, TransformerBlock) or sum(p.numel() for p in m.parameters(recurse=False)) >= 10**6,
    )


def wrap(model):
    return fsdp.FullyShardedDataParallel(model, auto_wrap_policy=wrap_policy, device_id=torch.cuda.current_device())


def save_checkpoint(model, rank):
    cfg = fsdp.FullStateDictConfig(rank0_only=True, offload_to_cpu=True)
    with fsdp.FullyShardedDataParallel.state_dict_type(model, fsdp.StateDictType.FULL_STATE_DICT, cfg):
        full = model.state_dict()
    if distributed.get_rank() == 0:
        torch.save(full, CHECKPOINT_PATH)


def main():
    rank, world = setup()
    torch.manual_seed(0)
    model = wrap(TransformerLM())
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    data = TokenDataset(NUM_SAMPLES, SEQ_LEN, VOCAB_SIZE)
    loader = torch.utils.data.DataLoader(
        data, batch_size=BATCH_SIZE,
        sampler=torch.utils.data.distributed.DistributedSampler(data, num_replicas=world, rank=rank),
    )
    epoch = 0
    while epoch < EPOCHS:
        loader.sampler.set_epoch(epoch)
        for x, y in loader:
            x, y = x.cuda(), y.cuda()
            loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        epoch += 1
    save_checkpoint(model, rank)
    distributed.barrier()
    distributed.destroy_process_group()


if __name__ == "__main__":
    main()
