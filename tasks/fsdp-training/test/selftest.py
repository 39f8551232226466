#!/usr/bin/env python3
"""Self-test for check.py, runnable without a GPU:

  1. the 11 static checks on small scripts (aliases, reachability, ordering, the wrap rule);
  2. the trusted half of the run (compare) on fabricated run outputs, as a CUDA run would leave them:
     a real full state dict, prefixed or flattened (sharded) ones, a malicious pickle, a missing
     checkpoint, a failed or FSDP-less run;
  3. the worker's tracer (probe-run) on a one-process gloo job on the CPU, launched as torchrun would
     (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT in the environment).

    /usr/bin/python3 tasks/fsdp-training/test/selftest.py

Exit code 0 when everything is as expected. torchrun itself, NCCL and FSDP need a GPU runner.
"""
import ast
import importlib.util
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TASK = os.path.dirname(HERE)
CHECK = os.path.join(TASK, "check.py")

spec = importlib.util.spec_from_file_location("fsdp_check", CHECK)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)
conversion = sys.modules["conversion"]  # the static checks, imported by check.py

HEAD = """\
import functools, os
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP, FullStateDictConfig, StateDictType
from torch.distributed.fsdp.wrap import lambda_auto_wrap_policy
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler
"""


def run_check(name: str, body: str) -> bool:
    src = conversion.Source(ast.parse(HEAD + textwrap.dedent(body)))
    if name == "fsdp_lambda_auto_wrap":
        return conversion.check_fsdp_lambda(src)[0]["passed"]
    if name == "wrap_criteria":
        return conversion.check_wrap_criteria(src, conversion.check_fsdp_lambda(src)[1])["passed"]
    fn = {"nccl_init": conversion.check_nccl_init, "local_rank_from_env": conversion.check_local_rank,
          "no_transformer_auto_wrap_policy": conversion.check_no_transformer_policy,
          "distributed_sampler": conversion.check_distributed_sampler, "set_epoch_in_loop": conversion.check_set_epoch,
          "optimizer_after_fsdp": conversion.check_optimizer_after_fsdp,
          "full_state_dict_config": conversion.check_full_state_dict_config,
          "rank0_state_dict_save": conversion.check_rank0_save, "destroy_process_group": conversion.check_destroy}[name]
    return fn(src)["passed"]


POLICY = "policy = functools.partial(lambda_auto_wrap_policy, lambda_fn=lambda m: {})\nmodel = FSDP(model, auto_wrap_policy=policy)\n"

CASES = [
    ("nccl_init", "def main():\n    dist.init_process_group('nccl')\nmain()\n", True),
    ("nccl_init", "BACKEND = 'nccl'\ndef main():\n    dist.init_process_group(backend=BACKEND)\nif __name__ == '__main__':\n    main()\n", True),
    ("nccl_init", "import torch.distributed\ntorch.distributed.init_process_group(backend='nccl')\n", True),
    ("nccl_init", "dist.init_process_group('gloo')\n", False),
    ("nccl_init", "def unused():\n    dist.init_process_group('nccl')\n", False),
    ("nccl_init", "# dist.init_process_group('nccl')\ns = \"dist.init_process_group('nccl')\"\n", False),
    ("local_rank_from_env", "local_rank = int(os.environ['LOCAL_RANK'])\ntorch.cuda.set_device(local_rank)\n", True),
    ("local_rank_from_env", "lr = int(os.environ.get('LOCAL_RANK', 0))\n", True),
    ("local_rank_from_env", "lr = int(os.getenv('LOCAL_RANK'))\n", True),
    ("local_rank_from_env", "torch.cuda.set_device(dist.get_rank())\n", False),
    ("local_rank_from_env", "lr = int(os.environ['LOCAL_RANK'])\nrank = dist.get_rank()\nm = FSDP(m, device_id=rank)\n", False),
    ("local_rank_from_env", "torch.cuda.set_device(0)\n", False),
    ("fsdp_lambda_auto_wrap", POLICY.format("isinstance(m, TransformerBlock)"), True),
    ("fsdp_lambda_auto_wrap", "from functools import partial\nmodel = FSDP(model, auto_wrap_policy=partial(lambda_auto_wrap_policy, lambda_fn=f))\n", True),
    ("fsdp_lambda_auto_wrap", "def pol(module, recurse, nonwrapped_numel):\n    return lambda_auto_wrap_policy(module, recurse, nonwrapped_numel, lambda_fn=f)\nmodel = FSDP(model, auto_wrap_policy=pol)\n", True),
    ("fsdp_lambda_auto_wrap", "from torch.distributed.fsdp.wrap import size_based_auto_wrap_policy\nmodel = FSDP(model, auto_wrap_policy=size_based_auto_wrap_policy)\n", False),
    ("fsdp_lambda_auto_wrap", "model = FSDP(model, auto_wrap_policy=functools.partial(lambda_auto_wrap_policy))\n", False),
    ("fsdp_lambda_auto_wrap", "model = FSDP(model)\n", False),
    ("wrap_criteria", POLICY.format("isinstance(m, TransformerBlock) or sum(p.numel() for p in m.parameters()) > 1_000_000"), True),
    ("wrap_criteria", POLICY.format("type(m) == TransformerBlock or sum(p.numel() for p in m.parameters()) >= 1e6"), True),
    ("wrap_criteria", "LIMIT = 10 ** 6\ndef count(m):\n    return sum(p.numel() for p in m.parameters())\ndef f(m):\n    if isinstance(m, (TransformerBlock,)):\n        return True\n    return count(m) > LIMIT\n"
                      "model = FSDP(model, auto_wrap_policy=functools.partial(lambda_auto_wrap_policy, lambda_fn=f))\n", True),
    ("wrap_criteria", POLICY.format("isinstance(m, TransformerBlock) and sum(p.numel() for p in m.parameters()) > 1_000_000"), False),
    ("wrap_criteria", POLICY.format("isinstance(m, TransformerBlock)"), False),
    ("wrap_criteria", POLICY.format("isinstance(m, TransformerBlock) or sum(p.numel() for p in m.parameters()) > 100_000"), False),
    ("wrap_criteria", POLICY.format("isinstance(m, nn.Linear) or sum(p.numel() for p in m.parameters()) > 1_000_000"), False),
    ("no_transformer_auto_wrap_policy", "from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy\n", False),
    ("no_transformer_auto_wrap_policy", "import torch.distributed.fsdp.wrap as w\np = w.transformer_auto_wrap_policy\n", False),
    ("no_transformer_auto_wrap_policy", "# transformer_auto_wrap_policy is not used\ns = 'transformer_auto_wrap_policy'\n", True),
    ("distributed_sampler", "s = DistributedSampler(ds)\ndl = DataLoader(ds, sampler=s)\n", True),
    ("distributed_sampler", "dl = DataLoader(ds, batch_size=8, sampler=DistributedSampler(ds))\n", True),
    ("distributed_sampler", "s = DistributedSampler(ds)\ndl = DataLoader(ds, shuffle=True)\n", False),
    ("distributed_sampler", "s = DistributedSampler(ds)\ndl = DataLoader(ds, sampler=s, shuffle=True)\n", False),
    ("set_epoch_in_loop", "for epoch in range(3):\n    sampler.set_epoch(epoch)\n", True),
    ("set_epoch_in_loop", "e = 0\nwhile e < 3:\n    loader.sampler.set_epoch(e)\n    e += 1\n", True),
    ("set_epoch_in_loop", "sampler.set_epoch(0)\nfor epoch in range(3):\n    pass\n", False),
    ("set_epoch_in_loop", "for epoch in range(3):\n    sampler.set_epoch(0)\n", False),
    ("optimizer_after_fsdp", "def main():\n    model = FSDP(Net())\n    opt = torch.optim.AdamW(model.parameters())\nmain()\n", True),
    ("optimizer_after_fsdp", "def main():\n    opt = torch.optim.AdamW(model.parameters())\n    model = FSDP(model)\nmain()\n", False),
    ("optimizer_after_fsdp", "def wrap(m):\n    return FSDP(m)\ndef main():\n    model = wrap(Net())\n    opt = torch.optim.SGD(model.parameters(), lr=0.1)\nmain()\n", True),
    ("optimizer_after_fsdp", "def make_opt(m):\n    return torch.optim.Adam(m.parameters())\ndef main():\n    opt = make_opt(model)\n    model = FSDP(model)\nmain()\n", False),
    ("optimizer_after_fsdp", "def unused():\n    model = FSDP(Net())\n    opt = torch.optim.AdamW(model.parameters())\n", False),
    ("full_state_dict_config", "cfg = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)\n", True),
    ("full_state_dict_config", "cfg = FullStateDictConfig(offload_to_cpu=True)\n", False),
    ("rank0_state_dict_save", "cfg = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)\nwith FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, cfg):\n    sd = model.state_dict()\nif rank == 0:\n    torch.save(sd, 'c.pt')\n", True),
    ("rank0_state_dict_save", "with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, cfg):\n    sd = model.state_dict()\n    if dist.get_rank() == 0:\n        torch.save(sd, 'c.pt')\n", True),
    ("rank0_state_dict_save", "with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, cfg):\n    sd = model.state_dict()\nif not rank:\n    torch.save(sd, 'c.pt')\n", True),
    ("rank0_state_dict_save", "with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, cfg):\n    sd = model.state_dict()\nif local_rank == 0:\n    torch.save(sd, 'c.pt')\n", False),
    ("rank0_state_dict_save", "with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, cfg):\n    sd = model.state_dict()\ntorch.save(sd, 'c.pt')\n", False),
    ("rank0_state_dict_save", "with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, cfg):\n    sd = model.state_dict()\nif rank == 0:\n    torch.save(Net().state_dict(), 'c.pt')\n", False),
    ("rank0_state_dict_save", "with FSDP.state_dict_type(model, StateDictType.SHARDED_STATE_DICT):\n    sd = model.state_dict()\nif rank == 0:\n    torch.save(sd, 'c.pt')\n", False),
    ("destroy_process_group", "dist.destroy_process_group()\n", True),
    ("destroy_process_group", "def cleanup():\n    dist.destroy_process_group()\n", False),
] + [
    # The idioms real conversions use, followed by envbench_check.flow (issue 14), and the attacks they must not
    # let through: each attack is one miss, so the checks name it (the 9-of-11 rule decides the verdict).
    ("fsdp_lambda_auto_wrap", "def make_policy():\n    return functools.partial(lambda_auto_wrap_policy, lambda_fn=f)\npolicy = make_policy()\nmodel = FSDP(model, auto_wrap_policy=policy)\n", True),
    ("wrap_criteria", "def f(m):\n    return isinstance(m, TransformerBlock) or sum(p.numel() for p in m.parameters()) > 1_000_000\n"
                      "def make_policy(fn):\n    return functools.partial(lambda_auto_wrap_policy, lambda_fn=fn)\nmodel = FSDP(model, auto_wrap_policy=make_policy(f))\n", True),
    ("fsdp_lambda_auto_wrap", "from functools import partial\ndef get_policies(cfg):\n    return None, partial(lambda_auto_wrap_policy, lambda_fn=f)\nmp, wp = get_policies(cfg)\nmodel = FSDP(model, auto_wrap_policy=wp, mixed_precision=mp)\n", True),
    ("fsdp_lambda_auto_wrap", "from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy as tp\ndef get_policy():\n    return functools.partial(tp, transformer_layer_cls={TransformerBlock})\nmodel = FSDP(model, auto_wrap_policy=get_policy())\n", False),
    ("fsdp_lambda_auto_wrap", "from torch.distributed.fsdp.wrap import size_based_auto_wrap_policy as sp\ndef get_policy(use_lambda=False):\n    if use_lambda:\n        return functools.partial(lambda_auto_wrap_policy, lambda_fn=f)\n    return sp\nmodel = FSDP(model, auto_wrap_policy=get_policy())\n", False),
    ("fsdp_lambda_auto_wrap", "def get_policy():\n    return None\n    return functools.partial(lambda_auto_wrap_policy, lambda_fn=f)\nmodel = FSDP(model, auto_wrap_policy=get_policy())\n", False),
    ("fsdp_lambda_auto_wrap", "def get_policy():\n    if os.environ.get('USE_LAMBDA_POLICY'):\n        return functools.partial(lambda_auto_wrap_policy, lambda_fn=f)\nmodel = FSDP(model, auto_wrap_policy=get_policy())\n", False),
    ("fsdp_lambda_auto_wrap", "def make_policy():\n    return functools.partial(lambda_auto_wrap_policy, lambda_fn=f)\ndecoy = make_policy()\nmodel = FSDP(model, auto_wrap_policy=other)\n", False),
    ("distributed_sampler", "s = DistributedSampler(ds)\ntrain_kwargs = {'batch_size': 8, 'sampler': s}\ntrain_kwargs.update({'num_workers': 2, 'shuffle': False})\ndl = DataLoader(ds, **train_kwargs)\n", True),
    ("distributed_sampler", "kw = dict(batch_size=8)\nkw['sampler'] = DistributedSampler(ds)\ndl = DataLoader(ds, **kw)\n", True),
    ("distributed_sampler", "def loader_kwargs(ds):\n    kw = {}\n    kw['sampler'] = DistributedSampler(ds)\n    return kw\ndl = DataLoader(ds, **loader_kwargs(ds))\n", True),
    ("distributed_sampler", "kw = {'sampler': DistributedSampler(ds)}\nkw['sampler'] = None\ndl = DataLoader(ds, **kw)\n", False),
    ("distributed_sampler", "from torch.utils.data import RandomSampler\nkw = {'sampler': DistributedSampler(ds)}\nkw.update(sampler=RandomSampler(ds))\ndl = DataLoader(ds, **kw)\n", False),
    ("distributed_sampler", "from torch.utils.data import RandomSampler\nkw = {'sampler': DistributedSampler(ds)}\nkw.update({'num_workers': 0, 'sampler': RandomSampler(ds)})\ndl = DataLoader(ds, **kw)\n", False),
    ("distributed_sampler", "train_kwargs = {'sampler': DistributedSampler(ds)}\nother = {'batch_size': 8}\ndl = DataLoader(ds, **other)\n", False),
    ("distributed_sampler", "kw = {'sampler': DistributedSampler(ds)}\ndel kw['sampler']\ndl = DataLoader(ds, **kw)\n", False),
    ("distributed_sampler", "kw = {'sampler': DistributedSampler(ds), 'shuffle': True}\ndl = DataLoader(ds, **kw)\n", False),
    ("distributed_sampler", "s = DistributedSampler(ds)\ns = None\ndl = DataLoader(ds, sampler=s)\n", False),
    ("set_epoch_in_loop", "def train(model, loader, sampler, epoch):\n    sampler.set_epoch(epoch)\nfor epoch in range(3):\n    train(model, loader, sampler, epoch)\n", True),
    ("set_epoch_in_loop", "def train(args, model, loader, opt, epoch, sampler=None):\n    if sampler:\n        sampler.set_epoch(epoch)\ndef main():\n    for epoch in range(1, 3):\n        train(args, model, loader, opt, epoch, sampler=s1)\nmain()\n", True),
    ("set_epoch_in_loop", "def train(sampler, epoch):\n    sampler.set_epoch(epoch)\nfor epoch in range(3):\n    pass\n", False),
    ("set_epoch_in_loop", "def train(sampler, epoch):\n    sampler.set_epoch(epoch)\nfor epoch in range(3):\n    pass\ntrain(sampler, epoch)\n", False),
    ("set_epoch_in_loop", "def train(sampler, epoch):\n    sampler.set_epoch(epoch)\nfor epoch in range(3):\n    train(sampler, 0)\n", False),
    ("set_epoch_in_loop", "def train(epoch, sampler=None):\n    if sampler:\n        sampler.set_epoch(epoch)\nfor epoch in range(3):\n    train(epoch, sampler=None)\n", False),
    ("set_epoch_in_loop", "def train(sampler, epoch):\n    return\n    sampler.set_epoch(epoch)\nfor epoch in range(3):\n    train(sampler, epoch)\n", False),
    # A kwargs dict written through an alias.
    ("distributed_sampler", "def main():\n    train_kwargs = {'batch_size': 8}\n    kw = train_kwargs\n    kw['sampler'] = DistributedSampler(ds)\n    DataLoader(ds, **train_kwargs)\nmain()\n", True),
    ("distributed_sampler", "def main():\n    train_kwargs = {'sampler': DistributedSampler(ds)}\n    cuda = train_kwargs\n    cuda['sampler'] = None\n    DataLoader(ds, **train_kwargs)\nmain()\n", False),
    # writes to the kwargs dict out of a statement-only flow's sight, and the helpers that legitimately fill it
    ("distributed_sampler", "def finalize(kw):\n    kw['sampler'] = None\nkw = {'sampler': DistributedSampler(ds)}\nfinalize(kw)\ndl = DataLoader(ds, **kw)\n", False),
    ("distributed_sampler", "kw = {'sampler': DistributedSampler(ds)}\n_ = kw.pop('sampler', None)\ndl = DataLoader(ds, **kw)\n", False),
    ("distributed_sampler", "kw = {'sampler': DistributedSampler(ds)}\nkw.__setitem__('sampler', None)\ndl = DataLoader(ds, **kw)\n", False),
    ("distributed_sampler", "kw = {'sampler': DistributedSampler(ds)}\nglobals()['kw']['sampler'] = None\ndl = DataLoader(ds, **kw)\n", False),
    ("distributed_sampler", "kw = {'sampler': DistributedSampler(ds)}\ndef reset():\n    kw.clear()\nreset()\ndl = DataLoader(ds, **kw)\n", False),
    ("distributed_sampler", "def add_sampler(kw, ds):\n    kw['sampler'] = DistributedSampler(ds)\nkw = {'batch_size': 8}\nadd_sampler(kw, ds)\ndl = DataLoader(ds, **kw)\n", True),
    ("fsdp_lambda_auto_wrap", "fsdp_kwargs = {'auto_wrap_policy': functools.partial(lambda_auto_wrap_policy, lambda_fn=f)}\nmodel = FSDP(model, **fsdp_kwargs)\n", True),
    ("fsdp_lambda_auto_wrap", "fsdp_kwargs = {'auto_wrap_policy': functools.partial(lambda_auto_wrap_policy, lambda_fn=f)}\n_ = fsdp_kwargs.pop('auto_wrap_policy')\nmodel = FSDP(model, **fsdp_kwargs)\n", False),
    # Classes: methods through self and instances, attributes the methods assign.
    ("set_epoch_in_loop", "class Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n    def _run_epoch(self, epoch):\n        self.sampler.set_epoch(epoch)\n    def train(self, n):\n        for epoch in range(n):\n            self._run_epoch(epoch)\nTrainer(ds).train(3)\n", True),
    ("set_epoch_in_loop", "class Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n    def step(self, epoch):\n        self.sampler.set_epoch(epoch)\nt = Trainer(ds)\nfor epoch in range(3):\n    t.step(epoch)\n", True),
    ("set_epoch_in_loop", "class Other:\n    def _run_epoch(self, epoch):\n        self.sampler.set_epoch(epoch)\nclass Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n    def _run_epoch(self, epoch):\n        pass\n    def train(self, n):\n        for epoch in range(n):\n            self._run_epoch(epoch)\nTrainer(ds).train(3)\nOther()._run_epoch(0)\n", False),
    ("set_epoch_in_loop", "class Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n        self.sampler = None\n    def _run_epoch(self, epoch):\n        if self.sampler is not None:\n            self.sampler.set_epoch(epoch)\n    def train(self, n):\n        for epoch in range(n):\n            self._run_epoch(0)\nTrainer(ds).train(3)\n", False),
    ("distributed_sampler", "class Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n        self.loader = DataLoader(ds, sampler=self.sampler)\nTrainer(ds)\n", True),
    ("distributed_sampler", "class Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n        self.loader = self.make(ds)\n    def make(self, ds):\n        return DataLoader(ds, sampler=self.sampler)\nTrainer(ds)\n", True),
    ("distributed_sampler", "class Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n        self._reset()\n        self.loader = DataLoader(ds, sampler=self.sampler)\n    def _reset(self):\n        self.sampler = None\nTrainer(ds)\n", False),
    ("distributed_sampler", "class Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n        self.sampler = None\n        self.loader = DataLoader(ds, sampler=self.sampler)\nTrainer(ds)\n", False),
    ("distributed_sampler", "class Trainer:\n    train_sampler = None\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n        self.loader = DataLoader(ds, sampler=self.train_sampler)\nTrainer(ds)\n", False),
    ("fsdp_lambda_auto_wrap", "from functools import partial\nclass W:\n    def __init__(self, m):\n        self.policy = partial(lambda_auto_wrap_policy, lambda_fn=f)\n        self.model = FSDP(m, auto_wrap_policy=self.policy)\nW(m)\n", True),
    # Writes the flow does not replay (setattr, __dict__, from outside the class) leave the attribute opaque.
    ("distributed_sampler", "class Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n        setattr(self, 'sampler', None)\n        self.loader = DataLoader(ds, sampler=self.sampler)\nTrainer(ds)\n", False),
    ("distributed_sampler", "class Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n        self.__dict__['sampler'] = None\n        self.loader = DataLoader(ds, sampler=self.sampler)\nTrainer(ds)\n", False),
    ("distributed_sampler", "class Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n    def loader(self, ds):\n        return DataLoader(ds, sampler=self.sampler)\nt = Trainer(ds)\nt.sampler = None\nt.loader(ds)\n", False),
    ("set_epoch_in_loop", "class Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n    def _run_epoch(self, epoch):\n        self.sampler.set_epoch(epoch)\n    def train(self, n):\n        for epoch in range(n):\n            self._run_epoch(epoch)\nTrainer._run_epoch = lambda self, epoch: None\nTrainer(ds).train(3)\n", False),
    ("set_epoch_in_loop", "class Trainer:\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n    def _run_epoch(self, epoch):\n        self.sampler.set_epoch(epoch)\n    def train(self, n):\n        for epoch in range(n):\n            self._run_epoch(epoch)\nTrainer(ds).train(3)\n", True),
    ("distributed_sampler", "class Trainer:\n    def __init__(self, ds, sampler):\n        self.sampler = sampler\n        self.loader = DataLoader(ds, sampler=self.sampler)\nTrainer(ds, DistributedSampler(ds))\n", True),
    ("distributed_sampler", "class Trainer:\n    def __init__(self, ds, sampler):\n        self.sampler = sampler\n        self.loader = DataLoader(ds, sampler=self.sampler)\ns = DistributedSampler(ds)\nTrainer(ds, None)\n", False),
    ("fsdp_lambda_auto_wrap", "from functools import partial\nclass W:\n    def __init__(self, m):\n        self.policy = partial(lambda_auto_wrap_policy, lambda_fn=f)\n        self._defaults()\n        self.model = FSDP(m, auto_wrap_policy=self.policy)\n    def _defaults(self):\n        self.policy = None\nW(m)\n", False),
    # Constant-folded conditions (envbench_check.constants): code under a condition that is always false runs
    # never and counts for nothing; under one that is always true it counts.
    ("nccl_init", "if False:\n    dist.init_process_group('nccl')\n", False),
    ("nccl_init", "DISTRIBUTED = False\nif DISTRIBUTED:\n    dist.init_process_group('nccl')\n", False),
    ("nccl_init", "DISTRIBUTED = True\nif DISTRIBUTED:\n    dist.init_process_group('nccl')\n", True),
    ("nccl_init", "RUN = False\ndef main():\n    dist.init_process_group('nccl')\nif __name__ == '__main__' and RUN:\n    main()\n", False),
    ("nccl_init", "def main():\n    dist.init_process_group('nccl')\nif False:\n    main()\n", False),
    ("nccl_init", "DEBUG = 0\ndef main():\n    if DEBUG:\n        dist.init_process_group('nccl')\nmain()\n", False),
    ("nccl_init", "USE = False\nUSE = True\nif USE:\n    dist.init_process_group('nccl')\n", True),
    ("nccl_init", "import sys\nUSE = len(sys.argv) > 0\nif USE:\n    dist.init_process_group('nccl')\n", True),
    ("fsdp_lambda_auto_wrap", "USE_FSDP = False\nif USE_FSDP:\n    model = FSDP(model, auto_wrap_policy=functools.partial(lambda_auto_wrap_policy, lambda_fn=f))\n", False),
    ("fsdp_lambda_auto_wrap", "def get_policy():\n    if False:\n        return functools.partial(lambda_auto_wrap_policy, lambda_fn=f)\n    return None\nmodel = FSDP(model, auto_wrap_policy=get_policy())\n", False),
    ("set_epoch_in_loop", "for epoch in range(3):\n    if 0:\n        sampler.set_epoch(epoch)\n", False),
]


def fabricated_runs(failures: list) -> int:
    """compare() on outputs a CUDA run could leave: the trusted checkpoint loader and the run checks."""
    import torch
    starter = check._load_module(check.STARTER_FILE, "fsdp_starter_for_test")
    torch.manual_seed(0)
    good = starter.TransformerLM().state_dict()
    spec = [[k, list(v.shape)] for k, v in good.items()]
    meta = dict(version=check.FORMAT_VERSION, mode="cuda", mode_reason="fabricated", spec=spec, torch="test")
    source = open(os.path.join(TASK, "solution", "reference.py"), "rb").read()
    trace_ok = dict(rank="0", fsdp_wrapped=["TransformerBlock"] * 4 + ["Embedding", "Linear", "TransformerLM"],
                    state_dict_types=[dict(type="FULL_STATE_DICT")], init_backend="nccl", destroyed=True,
                    set_epoch_calls=2, probe_error=None)
    marker = os.path.join(tempfile.gettempdir(), f"fsdp-selftest-pwned-{os.getpid()}")

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    def saved(obj) -> bytes:
        buf = io.BytesIO()
        torch.save(obj, buf)
        return buf.getvalue()

    cases = {
        "full state dict": (saved(good), 0, trace_ok, True, {}),
        "FSDP-prefixed keys": (saved({f"_fsdp_wrapped_module.{k}": v for k, v in good.items()}), 0, trace_ok, False,
                               {"checkpoint_full_state_dict": False}),
        "flattened shard": (saved({"_flat_param": torch.cat([v.flatten() for v in good.values()])}), 0, trace_ok, False,
                            {"checkpoint_full_state_dict": False}),
        "sharded shapes": (saved({k: v.flatten()[: max(1, v.numel() // 2)] for k, v in good.items()}), 0, trace_ok, False,
                           {"checkpoint_full_state_dict": False}),
        "malicious pickle": (saved({"embed.weight": Payload()}), 0, trace_ok, False, {"checkpoint_full_state_dict": False}),
        "not a checkpoint": (b"this is not a checkpoint", 0, trace_ok, False, {"checkpoint_full_state_dict": False}),
        "no checkpoint": (None, 0, trace_ok, False, {"checkpoint_full_state_dict": False}),
        "crashed run": (saved(good), 1, trace_ok, False, {"torchrun_completes": False}),
        "no FSDP at runtime": (saved(good), 0, dict(trace_ok, fsdp_wrapped=[]), False, {"fsdp_at_runtime": False}),
        "tracer unavailable": (saved(good), 0, dict(trace_ok, probe_error="ImportError: x"), True, {"fsdp_at_runtime": None}),
    }
    n = 0
    with tempfile.TemporaryDirectory() as d:
        for label, (raw, rc, trace, want, want_checks) in cases.items():
            status = dict(ran=True, exit_code=rc, timed_out=False, seconds=1.0, stderr_tail="", traces=[trace],
                          checkpoint=None if raw is None else f"{len(raw)} bytes", version=check.FORMAT_VERSION)
            # What the library hands compare: the status from the pipe, the checkpoint as the trusted parent
            # snapshotted it.
            ec = check.ec
            files = {} if raw is None else {check.CHECKPOINT_FILE: raw}
            outputs = ec.Outputs(True, status, {}, {"ended": "returned"}, files, None)
            check.write_npz(os.path.join(d, "expected.npz"), dict(meta=np.array(json.dumps(meta))))
            tree, err = ec.parse_source(source)
            ctx = ec.CompareContext(d, outputs, source, tree, err, "auto")
            v = ec.verdict_of(check.compare(ctx), check.TASK.required, check.TASK.optional)
            by = {c["name"]: c["passed"] for c in v["checks"]}
            problems = [] if v["passed"] is want else [f"verdict {v['passed']}, expected {want}"]
            problems += [f"{k} is {by.get(k)}, expected {w}" for k, w in want_checks.items() if by.get(k) is not w]
            if problems:
                failures.append(f"fabricated run '{label}': " + "; ".join(problems) + "\n" + json.dumps(v["checks"])[-1500:])
            n += 1
    if os.path.exists(marker):
        failures.append("the malicious pickle's payload ran in the trusted loader")
        os.remove(marker)
    return n


TINY_SCRIPT = """
import os, torch, torch.distributed as dist
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler
dist.init_process_group("gloo")
data = list(range(8))
sampler = DistributedSampler(data)
for epoch in range(2):
    sampler.set_epoch(epoch)
    for batch in DataLoader(data, batch_size=4, sampler=sampler):
        pass
if dist.get_rank() == 0:
    torch.save({"w": torch.ones(2)}, os.environ["CHECKPOINT_PATH"])
dist.destroy_process_group()
"""


def tracer_run(failures: list) -> None:
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "tiny.py")
        with open(script, "w") as f:
            f.write(TINY_SCRIPT)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ, RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port), CHECKPOINT_PATH=os.path.join(d, "ck.pt"), GLOO_SOCKET_IFNAME="lo")
        r = subprocess.run([sys.executable, CHECK, "probe-run", "--script", script, "--trace-dir", os.path.join(d, "t")],
                           env=env, capture_output=True, text=True, timeout=120)
        try:
            with open(os.path.join(d, "t", "trace.0.json")) as f:
                t = json.load(f)
        except Exception as e:  # noqa: BLE001
            failures.append(f"tracer: no trace (exit {r.returncode}, {type(e).__name__}): {r.stderr[-1500:]}")
            return
        problems = []
        if r.returncode != 0:
            problems.append(f"exit {r.returncode}: {r.stderr[-800:]}")
        if t.get("init_backend") != "gloo":
            problems.append(f"init_backend {t.get('init_backend')}")
        if t.get("set_epoch_calls") != 2:
            problems.append(f"set_epoch_calls {t.get('set_epoch_calls')}")
        if not t.get("destroyed"):
            problems.append("destroy_process_group not seen")
        if [s.get("rank") for s in t.get("saves", [])] != [0]:
            problems.append(f"saves {t.get('saves')}")
        if not os.path.exists(os.path.join(d, "ck.pt")):
            problems.append("the script's checkpoint was not written")
        if problems:
            failures.append("tracer: " + "; ".join(problems))
        print(f"tracer: {'ok' if not problems else 'WRONG'} (FSDP tracing: "
              f"{'installed' if not t.get('probe_error') else 'unavailable here: ' + t['probe_error'][:80]})")


# file -> (verdict, checks that must fail)
SUBMISSIONS = {
    "solution/reference.py": (True, []),
    "test/valid_submissions/helper_functions.py": (True, []),
    "test/valid_submissions/single_miss_global_rank.py": (True, ["local_rank_from_env"]),
    "test/valid_submissions/pytorch_examples_style.py": (True, []),
    "test/valid_submissions/fsdp_tutorial_style.py": (True, []),
    "test/valid_submissions/oss_recipes_style.py": (True, []),
    "test/valid_submissions/ddp_tutorial_trainer_style.py": (True, []),
    "test/valid_submissions/fsdp_kwargs_dict_style.py": (True, []),
    "starter.py": (False, ["static_score", "nccl_init"]),
    "test/submissions/transformer_policy.py": (False, ["no_transformer_auto_wrap_policy", "static_score"]),
    "test/submissions/naive_conversion.py": (False, ["optimizer_after_fsdp", "local_rank_from_env", "static_score"]),
    "test/submissions/keywords_in_comments.py": (False, ["fsdp_lambda_auto_wrap", "static_score"]),
    "test/submissions/dead_code.py": (False, ["fsdp_lambda_auto_wrap", "static_score"]),
    "test/submissions/fake_checkpoint.py": (False, ["rank0_state_dict_save", "static_score"]),
    "test/submissions/helper_transformer_policy.py": (False, ["no_transformer_auto_wrap_policy", "fsdp_lambda_auto_wrap",
                                                              "wrap_criteria", "static_score"]),
    "test/submissions/idioms_hide_misses.py": (False, ["fsdp_lambda_auto_wrap", "wrap_criteria", "distributed_sampler",
                                                       "set_epoch_in_loop", "static_score"]),
    "test/submissions/built_but_unused.py": (False, ["fsdp_lambda_auto_wrap", "wrap_criteria", "distributed_sampler",
                                                     "set_epoch_in_loop", "static_score"]),
    "test/submissions/trainer_hides_misses.py": (False, ["fsdp_lambda_auto_wrap", "wrap_criteria", "distributed_sampler",
                                                        "set_epoch_in_loop", "static_score"]),
    "test/submissions/dict_writes_hide_misses.py": (False, ["fsdp_lambda_auto_wrap", "wrap_criteria", "distributed_sampler",
                                                           "static_score"]),
    "test/submissions/main_never_runs.py": (False, ["nccl_init", "local_rank_from_env", "fsdp_lambda_auto_wrap",
                                                    "distributed_sampler", "set_epoch_in_loop", "optimizer_after_fsdp",
                                                    "rank0_state_dict_save", "destroy_process_group", "static_score"]),
}


def main() -> int:
    failures = []
    for name, body, want in CASES:
        try:
            got = run_check(name, body)
        except Exception as e:  # noqa: BLE001
            got = f"crash: {type(e).__name__}: {e}"
        if got is not want:
            failures.append(f"{name}: expected {want}, got {got} for:\n{body}")
    print(f"AST cases: {len(CASES)} run, {len(failures)} wrong")
    n = fabricated_runs(failures)
    print(f"fabricated runs: {n} compared")
    tracer_run(failures)
    for rel, (verdict, must_fail) in SUBMISSIONS.items():
        source = open(os.path.join(TASK, rel), "rb").read()
        static = check.static_checks(source)
        n_ok = sum(1 for c in static if c["passed"])
        by = {c["name"]: c["passed"] for c in static}
        by["static_score"] = n_ok >= check.STATIC_PASS
        problems = [] if by["static_score"] is verdict else [f"static verdict {by['static_score']} ({n_ok}/11), expected {verdict}"]
        problems += [f"{n} did not fail" for n in must_fail if by.get(n) is not False]
        if verdict:
            problems += [f"{n} failed" for n, p in by.items() if p is False and n not in must_fail]
        if problems:
            failures.append(f"{rel}: " + "; ".join(problems))
    print(f"submissions (static): {len(SUBMISSIONS)} checked")
    # A script whose dicts are rebuilt from each other 300 times exhausts the value flow's step budget: the
    # checks after that point fail with the reason instead of stalling the grader or passing on opaque values.
    hostile = "kw = {}\n" + "".join(f"if c{i}:\n    kw.update(kw{i})\nkw{i + 1} = dict(kw, **kw)\n" for i in range(300))
    hostile += "dl = DataLoader(ds, **kw)\n"
    ref = open(os.path.join(TASK, "solution/reference.py")).read()
    static = check.static_checks((ref + "\n" + hostile).encode())
    spent = [c["name"] for c in static if "spent its budget" in c["detail"]]
    if not spent or any(c["passed"] for c in static if c["name"] in spent):
        failures.append(f"hostile dict fan-out: no check failed for the spent budget ({spent})")
    print(f"budget: {len(spent)} checks failed once the value flow's budget was spent")
    # prepare decides the mode without importing torch where no GPU device node exists: the same mode and
    # reason as torch itself gives, for every request (and on a GPU machine torch is always asked).
    stand_in = check._NoGpuTorch.here()
    if check.ec.gpu_nodes():
        if stand_in is not None:
            failures.append("prepare's torch stand-in was used on a machine with GPU device nodes")
    else:
        import torch
        for requested in ("auto", "static", "cpu", "cuda"):
            got = []
            for t in (stand_in, torch):
                try:
                    got.append(check.choose_mode(t, requested))
                except check.ec.CheckerError as e:
                    got.append(("raised", str(e)))
            if got[0] != got[1]:
                failures.append(f"choose_mode({requested!r}) without torch {got[0]} differs from torch's {got[1]}")
        print("mode: decided without torch as with it, for auto/static/cpu/cuda")
    for f in failures:
        print("FAIL", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
