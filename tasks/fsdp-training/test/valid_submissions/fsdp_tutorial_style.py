# Valid, in the style of the PyTorch FSDP tutorials (getting started / advanced): setup()/cleanup(), configuration
# as plain config classes, a get_policies(cfg) helper returning (mixed_precision_policy, wrapping_policy) whose
# wrapping policy comes from get_lm_wrapper() (a helper returning functools.partial(lambda_auto_wrap_policy, ...)),
# train_kwargs/test_kwargs dicts with their own samplers, train() and validation() helpers with fsdp_loss
# all_reduce, a ShardingStrategy, and a save_model_checkpoint() helper with a module-level FullStateDictConfig.
# Needs the value flow: the policy is returned by a helper and unpacked from a tuple; the sampler is passed only
# through **train_kwargs; set_epoch is called in train(), which the epoch loop calls.
"""FSDP training of a small transformer language model.

Run:  torchrun --nproc_per_node=NUM_GPUS train_fsdp.py
The final full (unsharded) weights are saved by rank 0 to $CHECKPOINT_PATH (default: checkpoint.pt).
"""
import functools
import os
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.distributed.fsdp import (
    FullStateDictConfig,
    FullyShardedDataParallel as FSDP,
    MixedPrecision,
    ShardingStrategy,
    StateDictType,
)
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



class fsdp_config:
    mixed_precision: bool = False  # fp32 throughout, as the single-GPU script trains
    sharding_strategy: ShardingStrategy = ShardingStrategy.FULL_SHARD


class train_config:
    batch_size: int = BATCH_SIZE
    val_batch_size: int = BATCH_SIZE
    num_epochs: int = EPOCHS
    lr: float = LR
    seed: int = 0
    run_validation: bool = True
    save_model: bool = True
    checkpoint_path: str = CHECKPOINT_PATH


bfSixteen = MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.bfloat16, buffer_dtype=torch.bfloat16)
fullstate_save_policy = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
WRAP_THRESHOLD = 1_000_000


def setup():
    # initialize the process group
    dist.init_process_group("nccl")


def cleanup():
    dist.destroy_process_group()


def params_not_in_fsdp_children(module: nn.Module) -> int:
    n = sum(p.numel() for p in module.parameters(recurse=False))
    for child in module.children():
        if not isinstance(child, FSDP):
            n += params_not_in_fsdp_children(child)
    return n


def lm_wrap_rule(module: nn.Module) -> bool:
    """Wrap each TransformerBlock, and any other module that still holds more than 1M parameters of its own
    (the embeddings and the output head); the blocks' ModuleList is a container, never a unit."""
    if isinstance(module, TransformerBlock):
        return True
    if isinstance(module, nn.ModuleList):
        return False
    return params_not_in_fsdp_children(module) > WRAP_THRESHOLD


def get_lm_wrapper():
    """The auto-wrap policy for the transformer LM."""
    lm_auto_wrap_policy = functools.partial(lambda_auto_wrap_policy, lambda_fn=lm_wrap_rule)
    return lm_auto_wrap_policy


def get_policies(cfg, rank):
    """(mixed precision policy, wrapping policy)."""
    bf16_ready = torch.version.cuda and torch.cuda.is_bf16_supported()
    mixed_precision_policy = None
    if cfg.mixed_precision and bf16_ready:
        mixed_precision_policy = bfSixteen
        if rank == 0:
            print("bFloat16 enabled for mixed precision")
    wrapping_policy = get_lm_wrapper()
    return mixed_precision_policy, wrapping_policy


def train(args, model, rank, world_size, train_loader, optimizer, epoch, sampler=None):
    model.train()
    local_rank = int(os.environ["LOCAL_RANK"])
    fsdp_loss = torch.zeros(2).to(local_rank)
    if sampler:
        sampler.set_epoch(epoch)
    for batch in train_loader:
        inputs, targets = (t.to(local_rank) for t in batch)
        optimizer.zero_grad()
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), targets.reshape(-1))
        loss.backward()
        optimizer.step()
        fsdp_loss[0] += loss.item()
        fsdp_loss[1] += len(inputs)
    dist.all_reduce(fsdp_loss, op=dist.ReduceOp.SUM)
    train_loss = fsdp_loss[0] / fsdp_loss[1]
    if rank == 0:
        print(f"Train Epoch: \t{epoch}, Loss: \t{train_loss:.4f}")
    return train_loss


def validation(model, rank, world_size, val_loader):
    model.eval()
    local_rank = int(os.environ["LOCAL_RANK"])
    fsdp_loss = torch.zeros(2).to(local_rank)
    with torch.no_grad():
        for inputs, targets in val_loader:
            inputs, targets = inputs.to(local_rank), targets.to(local_rank)
            logits = model(inputs)
            fsdp_loss[0] += F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), targets.reshape(-1)).item()
            fsdp_loss[1] += len(inputs)
    dist.all_reduce(fsdp_loss, op=dist.ReduceOp.SUM)
    val_loss = fsdp_loss[0] / fsdp_loss[1]
    if rank == 0:
        print(f"Validation Loss: {val_loss:.4f}")
    return val_loss


def save_model_checkpoint(model, rank, cfg):
    """Every rank takes part in the gather; rank 0 receives the full state dict on the CPU and writes it."""
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, fullstate_save_policy):
        cpu_state = model.state_dict()
    if rank == 0:
        print("--> saving model ...")
        torch.save(cpu_state, cfg.checkpoint_path)
        print(f"--> model saved to {cfg.checkpoint_path}")


def fsdp_main():
    cfg = train_config()
    local_rank = int(os.environ["LOCAL_RANK"])
    rank = int(os.environ["RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    torch.manual_seed(cfg.seed)

    setup()
    torch.cuda.set_device(local_rank)

    train_dataset = TokenDataset(NUM_SAMPLES, SEQ_LEN, VOCAB_SIZE)
    sampler1 = DistributedSampler(train_dataset, rank=rank, num_replicas=world_size, shuffle=True)
    sampler2 = DistributedSampler(train_dataset, rank=rank, num_replicas=world_size, shuffle=False)

    train_kwargs = {"batch_size": cfg.batch_size, "sampler": sampler1}
    test_kwargs = {"batch_size": cfg.val_batch_size, "sampler": sampler2}
    cuda_kwargs = {"num_workers": 0, "pin_memory": True, "shuffle": False}
    train_kwargs.update(cuda_kwargs)
    test_kwargs.update(cuda_kwargs)

    train_loader = DataLoader(train_dataset, **train_kwargs)
    val_loader = DataLoader(train_dataset, **test_kwargs)

    mixed_precision_policy, lm_auto_wrap_policy = get_policies(fsdp_config, rank)

    model = TransformerLM()
    model = FSDP(
        model,
        auto_wrap_policy=lm_auto_wrap_policy,
        mixed_precision=mixed_precision_policy,
        sharding_strategy=fsdp_config.sharding_strategy,
        device_id=torch.cuda.current_device(),
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr)

    best_val_loss = float("inf")
    for epoch in range(1, cfg.num_epochs + 1):
        t0 = time.time()
        train(cfg, model, rank, world_size, train_loader, optimizer, epoch, sampler=sampler1)
        if cfg.run_validation:
            curr_val_loss = validation(model, rank, world_size, val_loader)
            best_val_loss = min(best_val_loss, float(curr_val_loss))
        if rank == 0:
            print(f"--> epoch {epoch} completed in {time.time() - t0:.1f}s")

    if cfg.save_model:
        dist.barrier()
        save_model_checkpoint(model, rank, cfg)

    dist.barrier()
    cleanup()


if __name__ == "__main__":
    fsdp_main()
