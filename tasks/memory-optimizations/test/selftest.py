#!/usr/bin/env python3
"""Self-test for check.py: the AST analysis on small modules (fast, no torch), then, unless --quick,
the standalone grader on the reference, the starter, the valid alternatives and every wrong submission.

    /usr/bin/python3 tasks/memory-optimizations/test/selftest.py [--quick]

Exit code 0 when everything is as expected.
"""
import ast
import importlib.util
import json
import os
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
TASK = os.path.dirname(HERE)
CHECK = os.path.join(TASK, "check.py")

spec = importlib.util.spec_from_file_location("memopt_check", CHECK)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def found(finder_name: str, body: str) -> bool:
    if finder_name == "find_tampering":  # now the shared rule set with this task's options
        return bool(check.ec.static_offences(ast.parse(HEAD + textwrap.dedent(body)), check.techniques.RULES))
    src = check.techniques.Source(ast.parse(HEAD + textwrap.dedent(body)))
    finder = check.techniques.TECHNIQUES[finder_name][0] if finder_name in check.techniques.TECHNIQUES else getattr(check.techniques, finder_name)
    return bool(finder(src))


# (check or finder, module body, should the technique be found?)
CASES = [
    # mixed precision: aliases, contexts, dtype casts; dead code and comments do not count
    ("required_mixed_precision", """
        from torch.cuda.amp import autocast as ac
        def train(model, batches, config):
            with ac():
                pass
        """, True),
    ("required_mixed_precision", """
        def train(model, batches, config):
            with torch.autocast("cuda", dtype=torch.bfloat16):
                pass
        """, True),
    ("required_mixed_precision", """
        from torch import amp
        def train(model, batches, config):
            scaler = amp.GradScaler("cuda")
        """, True),
    ("required_mixed_precision", """
        # with torch.autocast("cuda"): ...
        def train(model, batches, config):
            '''uses torch.autocast and GradScaler'''
            s = "torch.cuda.amp.GradScaler()"
        """, False),
    ("required_mixed_precision", """
        from torch.cuda.amp import autocast
        def helper():
            with autocast():
                pass
        def train(model, batches, config):
            pass
        """, False),
    ("required_mixed_precision", """
        from torch.cuda.amp import autocast
        def helper():
            with autocast():
                pass
        def train(model, batches, config):
            helper()
        """, True),
    ("required_mixed_precision", """
        def build_model(config):
            return Net().half()
        """, True),
    ("required_mixed_precision", """
        def train(model, batches, config):
            x = batches[0][0].to(dtype=torch.float16)
        """, True),
    ("required_mixed_precision", """
        def train(model, batches, config):
            x = batches[0][0].to(torch.float32)
        """, False),
    ("required_mixed_precision", """
        def train(model, batches, config):
            pass
        if __name__ == "__main__":
            with torch.autocast("cuda"):
                train(None, [], {})
        """, False),
    # gradient checkpointing
    ("required_gradient_checkpointing", """
        import torch.utils.checkpoint as cp
        class Net(nn.Module):
            def forward(self, x):
                return cp.checkpoint(self.block, x, use_reentrant=False)
        def build_model(config):
            return Net()
        """, True),
    ("required_gradient_checkpointing", """
        import functools
        from torch.utils.checkpoint import checkpoint
        ckpt = functools.partial(checkpoint, use_reentrant=False)
        def train(model, batches, config):
            pass
        """, True),
    ("required_gradient_checkpointing", """
        from torch.utils.checkpoint import checkpoint_sequential
        def train(model, batches, config):
            out = checkpoint_sequential(model.blocks, 2, batches[0][0])
        """, True),
    ("required_gradient_checkpointing", """
        from torch.utils.checkpoint import checkpoint
        class Unused(nn.Module):
            def forward(self, x):
                return checkpoint(self.f, x)
        def build_model(config):
            return nn.Linear(2, 2)
        """, False),
    ("required_gradient_checkpointing", """
        import torch.utils.checkpoint
        def train(model, batches, config):
            torch.utils.checkpoint.checkpoint(model, batches[0][0])
        """, True),
    # SDPA
    ("required_sdpa", """
        sdpa = F.scaled_dot_product_attention
        class Attn(nn.Module):
            def forward(self, q, k, v):
                return sdpa(q, k, v, is_causal=True)
        def build_model(config):
            return Attn()
        """, True),
    ("required_sdpa", """
        class Attn(nn.Module):
            def __init__(self):
                super().__init__()
                self.attn_fn = F.scaled_dot_product_attention
            def forward(self, q, k, v):
                return self.attn_fn(q, k, v)
        class Net(Attn):
            pass
        def build_model(config):
            return Net()
        """, True),
    ("required_sdpa", """
        from torch.nn.functional import *
        class Attn(nn.Module):
            def forward(self, q, k, v):
                return scaled_dot_product_attention(q, k, v)
        def build_model(config):
            return Attn()
        """, True),
    ("required_sdpa", """
        class Attn(nn.Module):
            def forward(self, q, k, v):
                return getattr(F, "scaled_dot_product_attention")(q, k, v)
        def build_model(config):
            return Attn()
        """, False),
    ("required_sdpa", """
        class FastAttn(nn.Module):
            def forward(self, q, k, v):
                return F.scaled_dot_product_attention(q, k, v)
        class Attn(nn.Module):
            def forward(self, q, k, v):
                return (q @ k.transpose(-1, -2)).softmax(-1) @ v
        def build_model(config):
            return Attn()
        """, False),
    # gradient accumulation
    ("optional_gradient_accumulation", """
        def train(model, batches, config):
            for i, (x, y) in enumerate(batches):
                loss = model(x).mean() / 4
                loss.backward()
                if (i + 1) % 4 == 0:
                    opt.step()
                    opt.zero_grad()
        """, True),
    ("optional_gradient_accumulation", """
        def train(model, batches, config):
            for x, y in batches:
                for xm in x.chunk(2):
                    scaler.scale(model(xm).mean()).backward()
                scaler.step(opt)
        """, True),
    ("optional_gradient_accumulation", """
        def train(model, batches, config):
            for x, y in batches:
                model(x).mean().backward()
                if scaler is not None:
                    scaler.step(opt)
                else:
                    opt.step()
        """, False),
    ("optional_gradient_accumulation", """
        def train(model, batches, config):
            for epoch in range(2):
                for x, y in batches:
                    model(x).mean().backward()
                    opt.step()
                    scheduler.step()
        """, False),
    # issue 14: accumulation split across functions, as Hugging Face's Trainer writes it (backward in
    # training_step, the gated step in the loop that calls it), and the near misses it must not let through
    ("optional_gradient_accumulation", """
        class Trainer:
            def training_step(self, x):
                loss = self.model(x).mean() / 2
                self.scaler.scale(loss).backward()
            def train(self, batches):
                for i, x in enumerate(batches):
                    self.training_step(x)
                    if (i + 1) % 2 == 0:
                        self.scaler.step(self.optimizer)
        def train(model, batches, config):
            Trainer().train(batches)
        """, True),
    ("optional_gradient_accumulation", """
        def micro_step(model, x):
            scaled(model, x)
        def scaled(model, x):
            (model(x).mean() / 4).backward()
        def train(model, batches, config):
            for x, y in batches:
                for xm in x.chunk(4):
                    micro_step(model, xm)
                opt.step()
        """, True),  # through two helpers, the step in the outer loop
    ("optional_gradient_accumulation", """
        class Base:
            def training_step(self, x):
                self.model(x).mean().backward()
        class Trainer(Base):
            def train(self, batches):
                for i, x in enumerate(batches):
                    self.training_step(x)
                    if i % 2 == 1:
                        self.optimizer.step()
        def train(model, batches, config):
            Trainer().train(batches)
        """, True),  # the helper inherited from a base class of the module
    ("optional_gradient_accumulation", """
        class Trainer:
            def training_step(self, x):
                self.model(x).mean().backward()
            def train(self, batches):
                for x in batches:
                    self.training_step(x)
                    self.optimizer.step()
        def train(model, batches, config):
            Trainer().train(batches)
        """, False),  # a step every micro-batch: no accumulation, whatever function holds backward
    ("optional_gradient_accumulation", """
        class Trainer:
            def training_step(self, x):
                loss = self.model(x).mean()
                if False:
                    loss.backward()
            def train(self, batches):
                for i, x in enumerate(batches):
                    self.training_step(x)
                    if (i + 1) % 2 == 0:
                        self.optimizer.step()
        def train(model, batches, config):
            Trainer().train(batches)
        """, False),  # the helper's backward never runs
    ("optional_gradient_accumulation", """
        DEBUG = False
        def micro_step(model, x):
            model(x).mean().backward()
        def train(model, batches, config):
            for i, x in enumerate(batches):
                if DEBUG:
                    micro_step(model, x)
                if (i + 1) % 2 == 0:
                    opt.step()
        """, False),  # the helper is called only from a branch that never runs
    ("optional_gradient_accumulation", """
        def step_all(model, opt, x):
            model(x).mean().backward()
            opt.step()
        def train(model, batches, config):
            for i, x in enumerate(batches):
                step_all(model, opt, x)
        """, False),  # backward and step together in the helper, every call
    ("optional_gradient_accumulation", """
        import somelib
        from somelib import training_step
        def train(model, batches, config):
            for i, x in enumerate(batches):
                training_step(x)
                if (i + 1) % 2 == 0:
                    opt.step()
        """, False),  # an imported function is not the module's own: nothing says it calls backward
    # a backward in a def or lambda that is never called runs nowhere, in the loop's function or in a helper;
    # a closure the loop does call still counts
    ("optional_gradient_accumulation", """
        def micro(model, x):
            def never():
                model(x).mean().backward()
            return model(x)
        def train(model, batches, config):
            for i, x in enumerate(batches):
                micro(model, x)
                if (i + 1) % 2 == 0:
                    opt.step()
        """, False),
    ("optional_gradient_accumulation", """
        def micro(model, x):
            f = lambda: model(x).mean().backward()
            return model(x)
        def train(model, batches, config):
            for i, x in enumerate(batches):
                micro(model, x)
                if (i + 1) % 2 == 0:
                    opt.step()
        """, False),
    ("optional_gradient_accumulation", """
        def train(model, batches, config):
            for i, x in enumerate(batches):
                def never():
                    model(x).mean().backward()
                if (i + 1) % 2 == 0:
                    opt.step()
        """, False),
    ("optional_gradient_accumulation", """
        def train(model, batches, config):
            def micro_step(x):
                (model(x).mean() / 2).backward()
            for i, x in enumerate(batches):
                micro_step(x)
                if (i + 1) % 2 == 0:
                    opt.step()
        """, True),
    # memory-efficient optimizers
    ("optional_memory_efficient_optimizer", """
        def train(model, batches, config):
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
        """, True),
    ("optional_memory_efficient_optimizer", """
        def train(model, batches, config):
            opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        """, False),
    ("optional_memory_efficient_optimizer", """
        import bitsandbytes as bnb
        def train(model, batches, config):
            opt = bnb.optim.AdamW8bit(model.parameters(), lr=1e-3)
        """, True),
    ("optional_memory_efficient_optimizer", """
        from transformers.optimization import Adafactor
        def train(model, batches, config):
            opt = Adafactor(model.parameters(), lr=1e-3, relative_step=False)
        """, True),
    ("optional_memory_efficient_optimizer", """
        from torch.optim import AdamW
        def train(model, batches, config):
            opt = AdamW(model.parameters(), lr=1e-3, foreach=False)
        """, True),
    ("optional_memory_efficient_optimizer", """
        def train(model, batches, config):
            opt = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)
        """, False),
    # memory management
    ("optional_memory_management", """
        def train(model, batches, config):
            torch.cuda.empty_cache()
        """, True),
    ("optional_memory_management", """
        def train(model, batches, config):
            opt.zero_grad(set_to_none=True)
        """, True),
    ("optional_memory_management", """
        def train(model, batches, config):
            opt.zero_grad()
        """, False),
    ("optional_memory_management", """
        def train(model, batches, config):
            for x, y in batches:
                out = model(x)
                del out
        """, True),
    ("optional_memory_management", """
        def train(model, batches, config):
            for p in model.parameters():
                p.grad = None
        """, True),
    # offload / pinned memory
    ("optional_cpu_offload_or_pinned_memory", """
        def train(model, batches, config):
            x = batches[0][0].pin_memory()
        """, True),
    ("optional_cpu_offload_or_pinned_memory", """
        from torch.utils.data import DataLoader
        def train(model, batches, config):
            dl = DataLoader(batches, pin_memory=True)
        """, True),
    ("optional_cpu_offload_or_pinned_memory", """
        from torch.autograd.graph import save_on_cpu
        def train(model, batches, config):
            with save_on_cpu(pin_memory=True):
                pass
        """, True),
    # torch.compile
    ("optional_torch_compile", """
        def build_model(config):
            return torch.compile(Net())
        """, True),
    ("optional_torch_compile", """
        @torch.compile
        def step(x):
            return x
        def train(model, batches, config):
            step(1)
        """, True),
    ("optional_torch_compile", """
        def train(model, batches, config):
            pass
        if __name__ == "__main__":
            torch.compile(None)
        """, False),
    # in-place operations
    ("optional_inplace_operations", """
        class Net(nn.Module):
            def forward(self, x):
                return self.f(x).add_(x)
        def build_model(config):
            return Net()
        """, True),
    ("optional_inplace_operations", """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(torch.randn(3))
                self.w.data.mul_(0.02)
            def forward(self, x):
                return x * self.w
        def build_model(config):
            return Net()
        """, False),
    ("optional_inplace_operations", """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = nn.ReLU(inplace=True)
        def build_model(config):
            return Net()
        """, True),
    # measurement tampering
    ("find_tampering", """
        def train(model, batches, config):
            torch.cuda.reset_peak_memory_stats()
        """, True),
    ("find_tampering", """
        def train(model, batches, config):
            pass
        if __name__ == "__main__":
            torch.cuda.reset_peak_memory_stats()
            train(None, [], {})
            print(torch.cuda.max_memory_allocated())
        """, False),
    ("find_tampering", """
        import subprocess
        def train(model, batches, config):
            pass
        """, True),
    ("find_tampering", """
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        def train(model, batches, config):
            pass
        """, False),
    ("find_tampering", """
        F.scaled_dot_product_attention = lambda q, k, v, **kw: q
        def train(model, batches, config):
            pass
        """, True),
    ("find_tampering", """
        def train(model, batches, config):
            setattr(torch.cuda, "max_memory_allocated", lambda: 0)
        """, True),
    # issue 14: only code that runs counts (the shared constant folding, envbench_check/constants.py)
    ("optional_torch_compile", """
        use_compile = False
        def train(model, batches, config):
            if use_compile:
                model = torch.compile(model)
        """, False),
    ("optional_torch_compile", """
        use_compile = True
        def train(model, batches, config):
            if use_compile:
                model = torch.compile(model)
        """, True),
    ("optional_torch_compile", """
        compile = True
        def train(model, batches, config):
            if compile and config["device"] == "cuda":
                model = torch.compile(model)
        """, True),
    ("optional_torch_compile", """
        def train(model, batches, config):
            if config.get("compile"):
                model = torch.compile(model)
        """, True),  # not constant: a grader-set value (the runtime checks cover the required techniques)
    ("optional_torch_compile", """
        USE = True
        USE = False
        def train(model, batches, config):
            if USE:
                model = torch.compile(model)
        """, False),
    ("optional_torch_compile", """
        USE = True
        def configure():
            global USE
            USE = False
        def train(model, batches, config):
            if USE:
                model = torch.compile(model)
        """, True),
    ("optional_torch_compile", """
        def train(model, batches, config):
            model = model if True else torch.compile(model)
        """, False),
    ("optional_torch_compile", """
        def train(model, batches, config):
            return
            torch.compile(model)
        """, False),
    ("optional_torch_compile", """
        def speed_up(m):
            return torch.compile(m)
        def train(model, batches, config):
            if 0:
                speed_up(model)
        """, False),
    ("optional_cpu_offload_or_pinned_memory", """
        DEBUG = False
        def train(model, batches, config):
            for x, y in batches:
                if DEBUG and torch.cuda.is_available():
                    x = x.pin_memory()
        """, False),
    ("required_gradient_checkpointing", """
        from torch.utils.checkpoint import checkpoint
        ckpt = lambda f, x: f(x)
        if False:
            ckpt = checkpoint
        class Net(nn.Module):
            def forward(self, x):
                return ckpt(self.f, x)
        def build_model(config):
            return Net()
        """, False),  # an alias made only in dead code is no alias
    ("optional_gradient_accumulation", """
        ACCUM = 2
        def train(model, batches, config):
            for x, y in batches:
                for xs in x.chunk(ACCUM):
                    model(xs).sum().backward()
                if False:
                    opt.step()
        """, False),
    ("optional_torch_compile", """
        class Net(nn.Module):
            def forward(self, x):
                return x
            def fast(self):
                return torch.compile(self)
        def build_model(config):
            return Net()
        """, False),  # a method nothing names is dead
    ("optional_torch_compile", """
        class Net(nn.Module):
            def forward(self, x):
                return x
            def fast(self):
                return torch.compile(self)
        def build_model(config):
            return Net().fast()
        """, True),
    ("optional_torch_compile", """
        class Net(nn.Module):
            def forward(self, x):
                return x
            def fast(self):
                return torch.compile(self)
        def build_model(config):
            return getattr(Net(), "fast")()
        """, True),
    ("optional_gradient_accumulation", """
        ACCUM = 2
        def train(model, batches, config):
            for x, y in batches:
                for xs in x.chunk(ACCUM):
                    model(xs).sum().backward()
                if ACCUM > 0:
                    opt.step()
        """, True),
]

API_CASES = [
    ("def train(model, batches, config):\n    with torch.cuda.amp.autocast(device_type='cuda'):\n        pass\n", False),
    ("def train(model, batches, config):\n    with torch.autocast(dtype=torch.bfloat16):\n        pass\n", False),
    ("def train(model, batches, config):\n    with torch.autocast('cuda', torch.bfloat16):\n        pass\n", True),
    ("def train(model, batches, config):\n    s = torch.cuda.amp.GradScaler('cuda')\n", True),  # init_scale='cuda': a runtime problem, not an argument name
    ("def train(model, batches, config):\n    s = torch.cuda.amp.GradScaler(device='cuda')\n", False),
    ("def train(model, batches, config):\n    y = F.scaled_dot_product_attention(q, k, v, causal=True)\n", False),
    ("def train(model, batches, config):\n    kw = {}\n    y = F.scaled_dot_product_attention(q, k, v, **kw)\n", True),
]

INTERFACE_CASES = [
    ("def build_model(config):\n    pass\ndef train(model, batches, config):\n    pass\n", True),
    ("def build_model(config, extra=1):\n    pass\ndef train(model, batches, config, *, log=False):\n    pass\n", True),
    ("def build_model():\n    pass\ndef train(model, batches, config):\n    pass\n", False),
    ("def build_model(config):\n    pass\ndef train(model, batches):\n    pass\n", False),
    ("def build_model(config):\n    pass\n", False),
]

# file -> (expected verdict, checks that must fail, checks that must pass)
SUBMISSIONS = {
    "solution/reference.py": (True, [], ["runs", "techniques_exercised", "optional_count"]),
    "test/valid_submissions/aliases_and_compile.py": (True, [], ["runs", "optional_torch_compile",
                                                                "optional_inplace_operations"]),
    "test/valid_submissions/pytorch_amp_recipe.py": (True, [], ["runs", "required_gradient_checkpointing",
                                                               "optional_gradient_accumulation", "optional_memory_management"]),
    "test/valid_submissions/nanogpt_style.py": (True, [], ["runs", "optional_torch_compile", "required_gradient_checkpointing",
                                                          "optional_gradient_accumulation", "no_measurement_tampering"]),
    "test/valid_submissions/hf_trainer_flags.py": (True, [], ["runs", "required_gradient_checkpointing", "required_sdpa",
                                                             "optional_memory_management", "optional_cpu_offload_or_pinned_memory",
                                                             "optional_gradient_accumulation"]),
    "starter.py": (False, ["required_sdpa", "techniques_exercised"], ["runs", "architecture_unchanged"]),
    "test/submissions/comments_only.py": (False, ["required_mixed_precision", "required_gradient_checkpointing",
                                                  "required_sdpa"], ["runs"]),
    "test/submissions/unused_imports.py": (False, ["required_mixed_precision", "required_gradient_checkpointing",
                                                   "required_sdpa"], ["runs"]),
    "test/submissions/architecture_changed.py": (False, ["architecture_unchanged"], ["required_sdpa"]),
    "test/submissions/wrong_autocast_api.py": (False, ["torch_api_arguments"], ["runs"]),
    "test/submissions/unguarded_pin_memory.py": (False, ["runs"], ["required_sdpa"]),
    "test/submissions/gated_techniques.py": (False, ["techniques_exercised"], ["required_sdpa", "runs"]),
    "test/submissions/trains_a_copy.py": (False, ["weights_updated"], ["runs"]),
    "test/submissions/resets_peak_stats.py": (False, ["no_measurement_tampering"], ["runs"]),
    "test/submissions/patches_torch.py": (False, ["no_measurement_tampering"], []),
    "test/submissions/one_extra_technique.py": (False, ["optional_count"], ["runs"]),
    "test/submissions/prints_fake_verdict.py": (False, ["runs"], []),
    "test/submissions/exit_hook_forges_counters.py": (False, ["techniques_exercised", "no_measurement_tampering"], ["runs"]),
    "test/submissions/oversized_status.py": (False, ["no_measurement_tampering"], ["runs", "techniques_exercised"]),
    # issue 14: techniques hidden in code that never runs
    "test/submissions/constant_false_flags.py": (False, ["optional_count", "optional_torch_compile"], ["runs", "techniques_exercised"]),
    "test/submissions/false_and_guard.py": (False, ["optional_count", "optional_torch_compile"], ["runs", "no_measurement_tampering"]),
    "test/submissions/flag_rebound_false.py": (False, ["optional_count", "optional_torch_compile"], ["runs"]),
    "test/submissions/uncalled_technique_helpers.py": (False, ["optional_count", "optional_memory_efficient_optimizer"], ["runs"]),
    "test/submissions/technique_after_return.py": (False, ["optional_count", "optional_cpu_offload_or_pinned_memory"], ["runs"]),
    "test/submissions/uncalled_methods.py": (False, ["optional_count", "optional_torch_compile"], ["runs"]),
    # issue 14: backward in a helper, but a step after every micro-batch: not accumulation
    "test/submissions/split_accumulation_steps_every_call.py": (False, ["optional_count", "optional_gradient_accumulation"],
                                                               ["runs", "optional_memory_management"]),
}


def wrapper_tests(failures: list) -> None:
    """The measuring wrapper's pieces that can run without a GPU (they patch torch in this process)."""
    import torch
    import torch.nn.functional as F
    nested = {"allocated_bytes": {"all": {"peak": 7, "current": 3, "allocated": 11}}}
    flat = {"allocated_bytes.all.peak": 7, "allocated_bytes.all.current": 3, "allocated_bytes.all.allocated": 11}
    for stats in (nested, flat):
        if check._allocated_bytes(stats) != {"peak": 7, "current": 3, "allocated_total": 11}:
            failures.append(f"_allocated_bytes misreads {stats}")
    shims = check.install_shims(torch)
    guards = check.Guards(torch, cuda=False)
    torch.cuda.reset_peak_memory_stats()
    torch.cuda.reset_max_memory_allocated()
    if guards.reset_attempts != 2:
        failures.append(f"resets of the peak statistics were not intercepted ({guards.reset_attempts} of 2)")
    import torch.utils.checkpoint as cp
    q = torch.randn(1, 2, 5, 4, requires_grad=True)
    out = cp.checkpoint(lambda t: F.scaled_dot_product_attention(t, t, t, is_causal=True), q, use_reentrant=False)
    out.sum().backward()
    ref = torch.softmax((q @ q.transpose(-1, -2) / 2).masked_fill(torch.ones(5, 5, dtype=torch.bool).triu(1),
                                                                   float("-inf")), -1) @ q
    if not torch.allclose(out, ref, atol=1e-5):
        failures.append("scaled_dot_product_attention (real or shim) disagrees with the math")
    if guards.counts["checkpoint"] < 1 or guards.counts["sdpa"] < 1:
        failures.append(f"technique counters missed calls: {guards.counts}")
    if check._torch_major(torch) < 2 and not torch.cuda.is_available():
        try:  # torch 2.x semantics: a CUDA autocast without CUDA is disabled, not an error
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=False):
                pass
            with torch.cuda.amp.autocast(dtype=torch.bfloat16):
                pass
        except Exception as e:  # noqa: BLE001
            failures.append(f"autocast shim: {type(e).__name__}: {e}")
        try:
            torch.cuda.amp.autocast(device_type="cuda")
            failures.append("torch.cuda.amp.autocast(device_type=...) must still raise TypeError")
        except TypeError:
            pass
    print(f"wrapper: {'ok' if not failures else 'see failures'} (shims here: {len(shims)})")


def main() -> int:
    failures = []
    for name, body, want in CASES:
        try:
            got = found(name, body)
        except Exception as e:  # noqa: BLE001
            got = f"crash: {type(e).__name__}: {e}"
        if got is not want:
            failures.append(f"{name}: expected {want}, got {got} for:\n{textwrap.dedent(body)}")
    for body, ok in API_CASES:
        n, problems = check.techniques.find_api_misuse(check.techniques.Source(ast.parse(HEAD + body)))
        if (not problems) is not ok:
            failures.append(f"find_api_misuse: expected ok={ok}, got {problems} for:\n{body}")
    for body, ok in INTERFACE_CASES:
        c = check.techniques.check_interface(ast.parse(body))
        if c["passed"] is not ok:
            failures.append(f"check_interface: expected {ok}, got {c} for:\n{body}")
    print(f"AST cases: {len(CASES) + len(API_CASES) + len(INTERFACE_CASES)} run, {len(failures)} wrong")
    wrapper_tests(failures)

    if "--quick" not in sys.argv:
        for rel, (verdict, must_fail, must_pass) in SUBMISSIONS.items():
            r = subprocess.run([sys.executable, CHECK, os.path.join(TASK, rel), "--device", "cpu"],
                               capture_output=True, text=True, timeout=600)
            try:
                v = json.loads(r.stdout.strip().splitlines()[-1])
            except Exception:  # noqa: BLE001
                failures.append(f"{rel}: no verdict (exit {r.returncode}): {r.stderr[-500:]}")
                continue
            by = {c["name"]: c["passed"] for c in v["checks"]}
            problems = []
            if v["passed"] is not verdict:
                problems.append(f"verdict {v['passed']}, expected {verdict}")
            problems += [f"{n} did not fail" for n in must_fail if by.get(n) is not False]
            problems += [f"{n} did not pass" for n in must_pass if by.get(n) is not True]
            if problems:
                failures.append(f"{rel}: " + "; ".join(problems) + "\n" + json.dumps(v["checks"], indent=1)[:3000])
            print(f"{rel}: {'ok' if not problems else 'WRONG'}")
    for f in failures:
        print("FAIL", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
