# Valid, in the style of a popular open-source fine-tuning repo (llama-recipes-like layout, in one file): dataclass
# configs, "policies" (get_lm_wrapper() returning a functools.partial of lambda_auto_wrap_policy), "utils"
# (setup/setup_environ_flags/cleanup, get_dataloader_kwargs() building the DataLoader kwargs key by key, a
# train() that owns the epoch loop and calls train_one_epoch(), save_model_checkpoint()), and a main(**kwargs)
# that overrides config fields. Needs the value flow: the policy is returned by a helper and handed to FSDP in
# another; the sampler reaches the DataLoader only as a key of a dict a helper returns; set_epoch is called in
# train_one_epoch(), which train()'s epoch loop calls, on the loader's sampler.
"""FSDP training of a small transformer language model.

Run:  torchrun --nproc_per_node=NUM_GPUS train_fsdp.py
The final full (unsharded) weights are saved by rank 0 to $CHECKPOINT_PATH (default: checkpoint.pt).
"""
import functools
import os
from dataclasses import dataclass, fields
from typing import Callable

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.distributed.fsdp import FullStateDictConfig, FullyShardedDataParallel as FSDP, ShardingStrategy, StateDictType
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



# --- configs -------------------------------------------------------------------------------------------------

@dataclass
class train_config:
    batch_size_training: int = BATCH_SIZE
    num_epochs: int = EPOCHS
    lr: float = LR
    seed: int = 0
    num_workers_dataloader: int = 0
    enable_fsdp: bool = True
    save_model: bool = True
    checkpoint_path: str = CHECKPOINT_PATH


@dataclass
class fsdp_config:
    sharding_strategy: ShardingStrategy = ShardingStrategy.FULL_SHARD
    limit_all_gathers: bool = True


def update_config(config, **kwargs):
    names = {f.name for f in fields(config)}
    for k, v in kwargs.items():
        if k in names:
            setattr(config, k, v)


# --- policies ------------------------------------------------------------------------------------------------

MIN_PARAMS_TO_WRAP = 1_000_000


def _own_numel(module: nn.Module) -> int:
    """Parameters not yet inside an FSDP unit below module."""
    count = sum(p.numel() for p in module.parameters(recurse=False))
    return count + sum(_own_numel(c) for c in module.children() if not isinstance(c, FSDP))


def _lm_wrap_fn(module: nn.Module) -> bool:
    if isinstance(module, TransformerBlock):
        return True
    if isinstance(module, (nn.ModuleList, nn.ModuleDict)):
        return False
    return _own_numel(module) > MIN_PARAMS_TO_WRAP


def get_lm_wrapper() -> Callable:
    """Wrap every TransformerBlock, and any module holding more than 1M parameters of its own."""
    return functools.partial(lambda_auto_wrap_policy, lambda_fn=_lm_wrap_fn)


# --- utils ---------------------------------------------------------------------------------------------------

def setup():
    dist.init_process_group("nccl")


def setup_environ_flags(rank):
    os.environ["TORCH_SHOW_CPP_STACKTRACES"] = str(1)
    os.environ["NCCL_ASYNC_ERROR_HANDLING"] = str(1)
    if rank == 0:
        print("--> Running with torch dist debug set to detail")


def cleanup():
    dist.destroy_process_group()


def get_dataloader_kwargs(cfg, dataset, mode):
    kwargs = {}
    if cfg.enable_fsdp:
        kwargs["sampler"] = DistributedSampler(
            dataset, rank=dist.get_rank(), num_replicas=dist.get_world_size(), shuffle=mode == "train")
    kwargs["batch_size"] = cfg.batch_size_training
    kwargs["drop_last"] = True
    return kwargs


def train_one_epoch(model, dataloader, optimizer, epoch, local_rank):
    if isinstance(dataloader.sampler, DistributedSampler):
        dataloader.sampler.set_epoch(epoch)
    model.train()
    total_loss = torch.zeros(1, device=local_rank)
    for step, (x, y) in enumerate(dataloader):
        x, y = x.to(local_rank), y.to(local_rank)
        loss = F.cross_entropy(model(x).reshape(-1, VOCAB_SIZE), y.reshape(-1))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        total_loss += loss.detach()
    dist.all_reduce(total_loss, op=dist.ReduceOp.SUM)
    return total_loss.item() / (max(len(dataloader), 1) * dist.get_world_size())


def train(model, train_dataloader, optimizer, cfg, local_rank, rank):
    results = {"train_loss": []}
    for epoch in range(cfg.num_epochs):
        epoch_loss = train_one_epoch(model, train_dataloader, optimizer, epoch, local_rank)
        results["train_loss"].append(epoch_loss)
        if rank == 0:
            print(f"Epoch {epoch + 1}: train_loss={epoch_loss:.4f}")
    return results


def save_model_checkpoint(model, rank, cfg):
    save_policy = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
    with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, save_policy):
        cpu_state = model.state_dict()
    if rank == 0:
        torch.save(cpu_state, cfg.checkpoint_path)
        print(f"model checkpoint saved at {cfg.checkpoint_path}")


# --- main ----------------------------------------------------------------------------------------------------

def main(**kwargs):
    cfg, fsdp_cfg = train_config(), fsdp_config()
    update_config(cfg, **kwargs)
    update_config(fsdp_cfg, **kwargs)
    torch.manual_seed(cfg.seed)

    setup()
    local_rank = int(os.environ["LOCAL_RANK"])
    rank = int(os.environ["RANK"])
    torch.cuda.set_device(local_rank)
    setup_environ_flags(rank)

    model = TransformerLM()
    model = FSDP(
        model,
        auto_wrap_policy=get_lm_wrapper(),
        sharding_strategy=fsdp_cfg.sharding_strategy,
        limit_all_gathers=fsdp_cfg.limit_all_gathers,
        device_id=torch.cuda.current_device(),
    )

    dataset_train = TokenDataset(NUM_SAMPLES, SEQ_LEN, VOCAB_SIZE)
    train_dl_kwargs = get_dataloader_kwargs(cfg, dataset_train, "train")
    train_dataloader = DataLoader(
        dataset_train, num_workers=cfg.num_workers_dataloader, pin_memory=True, **train_dl_kwargs)

    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    results = train(model, train_dataloader, optimizer, cfg, local_rank, rank)
    if rank == 0:
        print({k: [round(v, 4) for v in vs] for k, vs in results.items()})

    if cfg.save_model:
        save_model_checkpoint(model, rank, cfg)
    dist.barrier()
    cleanup()


if __name__ == "__main__":
    main()
