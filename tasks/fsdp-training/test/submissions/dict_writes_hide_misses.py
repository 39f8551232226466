# Cheat: the official-examples style (valid_submissions/pytorch_examples_style.py) with its kwargs dicts changed
# where a flow that reads only `kw[k] = v` statements and `kw.update(...)` statements would not look.
# - distributed_sampler: a helper, finalize_loader_kwargs(kw), sets kw["sampler"] = None on the dict it is given,
#   so the DataLoader gets no sampler (and the epoch loop's set_epoch goes to a sampler nobody reads).
# - fsdp_lambda_auto_wrap, wrap_criteria: the wrap policy travels in fsdp_kwargs, but
#   `_ = fsdp_kwargs.pop("auto_wrap_policy", None)` drops it before FSDP(model, **fsdp_kwargs), so FSDP wraps
#   the whole model as one unit. Every other requirement is met.
"""FSDP training of a small transformer language model.

Run:  torchrun --nproc_per_node=NUM_GPUS train_fsdp.py
The final full (unsharded) weights are saved by rank 0 to $CHECKPOINT_PATH (default: checkpoint.pt).
"""
import argparse
import functools
import os

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp import FullStateDictConfig, StateDictType
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



WRAP_MIN_PARAMS = 1_000_000


def setup():
    # torchrun provides RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT
    dist.init_process_group("nccl")


def cleanup():
    dist.destroy_process_group()


def unsharded_param_count(module):
    """Parameters of module that no FSDP unit below it already holds (wrapping goes bottom-up)."""
    total, stack = 0, [module]
    while stack:
        m = stack.pop()
        total += sum(p.numel() for p in m.parameters(recurse=False))
        stack.extend(c for c in m.children() if not isinstance(c, FSDP))
    return total


def lm_wrap_fn(module):
    if isinstance(module, TransformerBlock):
        return True
    if isinstance(module, nn.ModuleList):  # the model iterates over blocks: never make the list a unit
        return False
    return unsharded_param_count(module) > WRAP_MIN_PARAMS


def train(args, model, rank, world_size, train_loader, optimizer, epoch, sampler=None):
    model.train()
    local_rank = int(os.environ["LOCAL_RANK"])
    ddp_loss = torch.zeros(2).to(local_rank)
    if sampler:
        sampler.set_epoch(epoch)
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(local_rank), target.to(local_rank)
        optimizer.zero_grad()
        output = model(data)
        loss = F.cross_entropy(output.reshape(-1, VOCAB_SIZE), target.reshape(-1))
        loss.backward()
        optimizer.step()
        ddp_loss[0] += loss.item()
        ddp_loss[1] += len(data)
    dist.all_reduce(ddp_loss, op=dist.ReduceOp.SUM)
    if rank == 0:
        print("Train Epoch: {} \tLoss: {:.6f}".format(epoch, ddp_loss[0] / ddp_loss[1]))


def finalize_loader_kwargs(kwargs):
    # the sampler is set per epoch below
    kwargs["sampler"] = None


def fsdp_main(args):
    local_rank = int(os.environ["LOCAL_RANK"])
    rank = int(os.environ["RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    setup()
    torch.cuda.set_device(local_rank)

    dataset1 = TokenDataset(NUM_SAMPLES, SEQ_LEN, VOCAB_SIZE)
    sampler1 = DistributedSampler(dataset1, rank=rank, num_replicas=world_size, shuffle=True)

    train_kwargs = {"batch_size": args.batch_size, "sampler": sampler1}
    cuda_kwargs = {"num_workers": 0, "pin_memory": True, "shuffle": False}
    train_kwargs.update(cuda_kwargs)
    finalize_loader_kwargs(train_kwargs)
    train_loader = torch.utils.data.DataLoader(dataset1, **train_kwargs)

    my_auto_wrap_policy = functools.partial(lambda_auto_wrap_policy, lambda_fn=lm_wrap_fn)

    init_start_event = torch.cuda.Event(enable_timing=True)
    init_end_event = torch.cuda.Event(enable_timing=True)

    model = TransformerLM().to(local_rank)
    fsdp_kwargs = {"auto_wrap_policy": my_auto_wrap_policy, "device_id": torch.cuda.current_device()}
    _ = fsdp_kwargs.pop("auto_wrap_policy", None)
    model = FSDP(model, **fsdp_kwargs)
    optimizer = optim.AdamW(model.parameters(), lr=args.lr)

    init_start_event.record()
    for epoch in range(1, args.epochs + 1):
        train(args, model, rank, world_size, train_loader, optimizer, epoch, sampler=sampler1)
    init_end_event.record()

    if rank == 0:
        torch.cuda.synchronize()
        print(f"CUDA event elapsed time: {init_start_event.elapsed_time(init_end_event) / 1000}sec")
        print(f"{model}")

    if args.save_model:
        # use a barrier to make sure training is done on all ranks
        dist.barrier()
        save_policy = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
        with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, save_policy):
            states = model.state_dict()
        if rank == 0:
            torch.save(states, CHECKPOINT_PATH)

    cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="PyTorch FSDP transformer LM example")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, metavar="N",
                        help=f"input batch size for training (default: {BATCH_SIZE})")
    parser.add_argument("--epochs", type=int, default=EPOCHS, metavar="N",
                        help=f"number of epochs to train (default: {EPOCHS})")
    parser.add_argument("--lr", type=float, default=LR, metavar="LR", help=f"learning rate (default: {LR})")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    parser.add_argument("--no-save-model", dest="save_model", action="store_false",
                        help="skip saving the final model (saved by default)")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    fsdp_main(args)
