# CHEAT: every FSDP requirement is written out correctly, but the script never runs any of it: the main block is
# guarded by a flag that is always False, so under torchrun the script exits at once. Before the check library's
# constant folding was wired into fsdp-training, this scored 11 of 11 on the static checks (and on CPU, where the
# torchrun checks are skipped, it passed). Caught by every static check that needs code that runs.
"""FSDP training of a small transformer language model (reference solution).

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
from torch.distributed.fsdp.wrap import lambda_auto_wrap_policy
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
WRAP_MIN_PARAMS = 1_000_000


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


def unwrapped_numel(module: nn.Module) -> int:
    """Parameters of `module` not already inside an FSDP unit: auto-wrapping goes bottom-up, so a parent
    must not count what its wrapped children already hold."""
    own = sum(p.numel() for p in module.parameters(recurse=False))
    return own + sum(unwrapped_numel(c) for c in module.children() if not isinstance(c, FSDP))


def should_wrap(module: nn.Module) -> bool:
    """Every TransformerBlock, or any module holding more than 1M parameters of its own.
    Containers are never wrapped: the model iterates over `blocks`."""
    if isinstance(module, TransformerBlock):
        return True
    if isinstance(module, (nn.ModuleList, nn.ModuleDict)):
        return False
    return unwrapped_numel(module) > WRAP_MIN_PARAMS


def main():
    # torchrun sets RANK, LOCAL_RANK and WORLD_SIZE; LOCAL_RANK picks this process's GPU on its node.
    local_rank = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)
    dist.init_process_group(backend="nccl")
    rank = dist.get_rank()
    world_size = dist.get_world_size()
    torch.manual_seed(0)

    model = TransformerLM()
    policy = functools.partial(lambda_auto_wrap_policy, lambda_fn=should_wrap)
    model = FSDP(model, auto_wrap_policy=policy, device_id=torch.cuda.current_device())
    # After wrapping: the optimizer must see FSDP's (sharded, flattened) parameters, not the originals.
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)

    dataset = TokenDataset(NUM_SAMPLES, SEQ_LEN, VOCAB_SIZE)
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True)
    loader = DataLoader(dataset, batch_size=BATCH_SIZE, sampler=sampler)

    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)  # a different shuffle each epoch, the same on every rank
        model.train()
        for step, (x, y) in enumerate(loader):
            x, y = x.cuda(non_blocking=True), y.cuda(non_blocking=True)
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 10 == 0:
                mean_loss = loss.detach().clone()
                dist.all_reduce(mean_loss, op=dist.ReduceOp.SUM)
                if rank == 0:
                    print(f"epoch {epoch} step {step} loss {mean_loss.item() / world_size:.4f}")

    # Every rank takes part in gathering the full state dict; only rank 0 receives it (on the CPU) and saves it.
    save_config = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, save_config):
        state = model.state_dict()
    if rank == 0:
        torch.save(state, CHECKPOINT_PATH)
        print(f"saved {CHECKPOINT_PATH}")
    dist.barrier()
    dist.destroy_process_group()


# Flip to True once the cluster is configured.
LAUNCH = False

if __name__ == "__main__" and LAUNCH:
    main()
