# Cheat: the Trainer-class style (valid_submissions/ddp_tutorial_trainer_style.py) used to hide two misses from
# the value flow through methods and attributes.
# - distributed_sampler, fsdp_lambda_auto_wrap, wrap_criteria: the DistributedSampler and the lambda policy are
#   stored in self.sampler and self.policy, but a method called just before the DataLoader and the FSDP wrap are
#   built resets both to None, so the loader gets no sampler and FSDP no wrap policy.
# - set_epoch_in_loop: the only set_epoch(epoch) call is in Evaluator._run_epoch, which is called once, outside
#   any loop; the epoch loop calls Trainer._run_epoch, a method of the same name on another class, which never
#   calls set_epoch. Every other requirement is met.
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


def ddp_setup():
    dist.init_process_group(backend="nccl")
    torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))


def should_wrap(module: nn.Module) -> bool:
    own = sum(p.numel() for p in module.parameters(recurse=False))
    return isinstance(module, TransformerBlock) or own >= 1_000_000


class Trainer:
    def __init__(self, model: nn.Module, dataset: Dataset, batch_size: int, save_path: str) -> None:
        self.local_rank = int(os.environ["LOCAL_RANK"])
        self.global_rank = dist.get_rank()
        self.sampler = DistributedSampler(dataset)
        self.policy = functools.partial(lambda_auto_wrap_policy, lambda_fn=should_wrap)
        self._reset()
        self.train_data = DataLoader(dataset, batch_size=batch_size, pin_memory=True, shuffle=False,
                                     sampler=self.sampler)
        self.model = FSDP(model.to(self.local_rank), auto_wrap_policy=self.policy, device_id=self.local_rank)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=LR)
        self.save_path = save_path

    def _run_batch(self, source, targets):
        self.optimizer.zero_grad()
        output = self.model(source)
        loss = F.cross_entropy(output.flatten(0, 1), targets.flatten())
        loss.backward()
        self.optimizer.step()

    def _reset(self):
        self.sampler = None
        self.policy = None

    def _run_epoch(self, epoch):
        for source, targets in self.train_data:
            self._run_batch(source.to(self.local_rank), targets.to(self.local_rank))

    def _save_checkpoint(self):
        cfg = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
        with FSDP.state_dict_type(self.model, StateDictType.FULL_STATE_DICT, cfg):
            state = self.model.state_dict()
        if self.global_rank == 0:
            torch.save(state, self.save_path)

    def train(self, max_epochs: int):
        for epoch in range(max_epochs):
            self._run_epoch(epoch)
        self._save_checkpoint()


class Evaluator:
    def __init__(self, dataset: Dataset):
        self.sampler = DistributedSampler(dataset, shuffle=False)

    def _run_epoch(self, epoch):
        self.sampler.set_epoch(epoch)


def main(total_epochs: int, batch_size: int):
    ddp_setup()
    torch.manual_seed(0)
    dataset = TokenDataset(NUM_SAMPLES, SEQ_LEN, VOCAB_SIZE)
    trainer = Trainer(TransformerLM(), dataset, batch_size, CHECKPOINT_PATH)
    evaluator = Evaluator(dataset)
    evaluator._run_epoch(0)
    trainer.train(total_epochs)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(EPOCHS, BATCH_SIZE)
