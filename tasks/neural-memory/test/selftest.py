#!/usr/bin/env python3
"""Self-test for check.py: the static rules on small programs (honest variations that must pass, traps
that must fail, sandbox rules), then the standalone grader on the reference, the starter, the valid
alternatives, the wrong and cheating submissions and the judge examples.

    /usr/bin/python3 tasks/neural-memory/test/selftest.py [--quick]

--quick runs the static tests only (no torch needed). Exit code 0 when everything is as expected.
"""
import ast
import importlib.util
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
TASK = os.path.dirname(HERE)
CHECK = os.path.join(TASK, "check.py")

spec = importlib.util.spec_from_file_location("nm_check", CHECK)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)

SIX = list(check.CRITERIA)

# --- a tiny program template: the memory class, the block's fusion, optional extras ---------------
MODEL = '''
class SimpleTransformer(nn.Module):
    def __init__(self, vocab_size, d_model=64, n_heads=4, n_layers=2, max_seq_len=256):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, d_model)
        self.blocks = nn.ModuleList([Block(d_model) for _ in range(n_layers)])
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, input_ids):
        x = self.emb(input_ids)
        for block in self.blocks:
            x = block(x)
        return self.head(x)
'''
BLOCK = '''
class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.attn = nn.Linear(d, d)
        self.memory = NeuralMemory(d)
        self.gate = nn.Linear(d, d)

    def forward(self, x):
        a = self.attn(x)
        m = self.memory(x)
{FUSE}
'''
GOOD_FUSE = '''        g = torch.sigmoid(self.gate(x))
        return x + g * a + (1 - g) * m'''
INIT = '''
    def __init__(self, d):
        super().__init__()
        self.d = d
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.q = nn.Linear(d, d)
        self.surprise_net = nn.Linear(d, 1)
        self.decay_logit = nn.Parameter(torch.tensor(-2.0))
'''
GOOD_FORWARD = '''
    def forward(self, x):
        B, T, _ = x.shape
        alpha = torch.sigmoid(self.decay_logit)
        M = x.new_zeros(B, self.d, self.d)
        outs = []
        for t in range(T):
            k, v, q = self.k(x[:, t]), self.v(x[:, t]), self.q(x[:, t])
            pred = torch.einsum("bij,bj->bi", M, k)
            s = torch.sigmoid(self.surprise_net(v - pred)).unsqueeze(-1)
            M = (1 - alpha) * M + s * torch.einsum("bi,bj->bij", v, k)
            outs.append(torch.einsum("bij,bj->bi", M, q))
        return torch.stack(outs, 1)
'''


def program(forward=GOOD_FORWARD, init=INIT, fuse=GOOD_FUSE, extra="", memory_base="nn.Module", block=BLOCK):
    return ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n" + extra +
            f"\nclass NeuralMemory({memory_base}):" + init + forward + block.replace("{FUSE}", fuse) + MODEL)

# --- scans (issue 14): memory state carried through an associative scan, a helper, a chunked loop ------------
LOG_SCAN = '''
def assoc_scan(log_gates, inputs):
    """h_t = exp(log_gates_t) h_{t-1} + inputs_t for every t at once (log-space cumsum, segment sums)."""
    T = log_gates.shape[1]
    cum = log_gates.cumsum(dim=1)
    seg = cum[:, :, None] - cum[:, None, :]
    future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=cum.device), diagonal=1)
    w = seg.masked_fill(future, float("-inf")).exp()
    return torch.einsum("bts,bsij->btij", w, inputs)
'''
DOUBLING_SCAN = '''
def scan(a, b):
    """h_t = a_t h_{t-1} + b_t by recursive doubling (Hillis-Steele): log2(T) steps."""
    T = a.shape[1]
    step = 1
    while step < T:
        b = b + a[..., None, None] * F.pad(b, (0, 0, 0, 0, step, 0))[:, :T]
        a = a * F.pad(a, (step, 0), value=1.0)[:, :T]
        step *= 2
    return b
'''
# the surprise of a loop-free scan: the error against the previous token's state of an ungated draft scan
SCAN_FORWARD = '''
    def forward(self, x):
        B, T, _ = x.shape
        k, v, q = self.k(x), self.v(x), self.q(x)
        log_keep = F.logsigmoid(-self.decay_logit).expand(B, T)
        kv = torch.einsum("bti,btj->btij", v, k)
        draft = assoc_scan(log_keep, kv)
        prev = F.pad(draft, (0, 0, 0, 0, 1, 0))[:, :T]
        err = v - torch.einsum("btij,btj->bti", prev, k)
        s = torch.sigmoid(self.surprise_net(err)).unsqueeze(-1)
        M = assoc_scan(log_keep, s * kv)
        return torch.einsum("btij,btj->bti", M, q)
'''


# (name, source, {check: expected}) -- unspecified criteria must pass
HONEST = [
    ("reference-shaped", program(), {}),
    ("step helper returning the decayed state", program(forward='''
    def _step(self, M, k, v):
        pred = M @ k.unsqueeze(-1)
        err = v - pred.squeeze(-1)
        s = torch.sigmoid(self.surprise_net(err))[..., None]
        decay = torch.sigmoid(self.decay_logit)
        return M * (1 - decay) + s * (v.unsqueeze(-1) @ k.unsqueeze(-2))

    def forward(self, x):
        M = x.new_zeros(x.shape[0], self.d, self.d)
        outs = []
        for x_t in x.unbind(1):
            M = self._step(M, self.k(x_t), self.v(x_t))
            outs.append((M @ self.q(x_t).unsqueeze(-1)).squeeze(-1))
        return torch.stack(outs, 1)
'''), {}),
    ("momentum through a tuple-returning helper", program(init=INIT + '''        self.eta = nn.Parameter(torch.tensor(0.5))
''', forward='''
    def update(self, M, S, k, v):
        err = torch.einsum("bij,bj->bi", M, k) - v
        gate = torch.sigmoid(self.surprise_net(err)).unsqueeze(-1)
        S_new = self.eta * S - gate * torch.einsum("bi,bj->bij", err, k)
        M_new = (1 - torch.sigmoid(self.decay_logit)) * M + S_new
        return M_new, S_new

    def forward(self, x):
        B, T, _ = x.shape
        M = x.new_zeros(B, self.d, self.d)
        S = torch.zeros_like(M)
        outs = []
        for t, x_t in enumerate(x.unbind(dim=1)):
            M, S = self.update(M, S, self.k(x_t), self.v(x_t))
            outs.append(torch.einsum("bij,bj->bi", M, self.q(x_t)))
        return torch.stack(outs, 1)
'''), {}),
    ("state on self, view-based outer product, mse surprise, while loop", program(init=INIT + '''        self.w = nn.Parameter(torch.tensor(1.0))
        self.b = nn.Parameter(torch.tensor(0.0))
''', forward='''
    def forward(self, x):
        B, T, _ = x.shape
        self.M = x.new_zeros(B, self.d, self.d)
        outs, t = [], 0
        while t < T:
            k, v = self.k(x[:, t]), self.v(x[:, t])
            recall = torch.bmm(self.M, k.view(B, -1, 1)).view(B, -1)
            err = F.mse_loss(recall, v, reduction="none").mean(-1, keepdim=True)
            s = torch.sigmoid(self.w * err + self.b)
            self.M = self.M * torch.sigmoid(self.decay_logit) + s.unsqueeze(-1) * (v.view(B, -1, 1) @ k.view(B, 1, -1))
            outs.append(torch.bmm(self.M, self.q(x[:, t]).view(B, -1, 1)).view(B, -1))
            t += 1
        return torch.stack(outs, 1)
'''), {}),
    ("in-place chained update with None-indexed outer product", program(forward='''
    def forward(self, x):
        B, T, _ = x.shape
        M = x.new_zeros(B, self.d, self.d)
        outs = []
        for t in range(T):
            k, v = self.k(x[:, t]), self.v(x[:, t])
            err = v - torch.einsum("bij,bj->bi", M, k)
            s = self.surprise_net(err).sigmoid()
            M = M.clone()
            M.mul_(1 - torch.sigmoid(self.decay_logit)).add_(s[:, :, None] * v[:, :, None] * k[:, None, :])
            outs.append(torch.einsum("bij,bj->bi", M, self.q(x[:, t])))
        return torch.stack(outs, 1)
'''), {}),
    ("surprise from a submodule class and a learned forget gate", program(
        extra='''
class SurpriseNet(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, d), nn.Tanh(), nn.Linear(d, 1))

    def forward(self, e):
        return torch.sigmoid(self.net(e))
''', init='''
    def __init__(self, d):
        super().__init__()
        self.d = d
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.q = nn.Linear(d, d)
        self.surprise = SurpriseNet(d)
        self.forget = nn.Linear(d, 1)
''', forward='''
    def forward(self, x):
        B, T, _ = x.shape
        M = x.new_zeros(B, self.d, self.d)
        outs = []
        for t in range(T):
            x_t = x[:, t]
            k, v = self.k(x_t), self.v(x_t)
            novelty = self.surprise(x_t - torch.bmm(M, k.unsqueeze(2)).squeeze(2))
            keep = 1.0 - torch.sigmoid(self.forget(x_t))
            M = keep.unsqueeze(-1) * M + novelty.unsqueeze(-1) * torch.bmm(v.unsqueeze(2), k.unsqueeze(1))
            outs.append(torch.bmm(M, self.q(x_t).unsqueeze(2)).squeeze(2))
        return torch.stack(outs, 1)
'''), {}),
    ("fusion written mem * g + attn * (1.0 - g)", program(fuse='''        g = self.gate(x).sigmoid()
        return x + m * g + a * (1.0 - g)'''), {}),
    ("fusion written as x + g * (m - x)", program(fuse='''        g = torch.sigmoid(self.gate(x))
        return a + g * (m - a)'''), {}),
    ("fusion accumulated with +=", program(fuse='''        g = torch.sigmoid(self.gate(x))
        gm = 1 - g
        out = g * a
        out += gm * m
        return x + out'''), {}),
    ("fusion by torch.lerp with a static learned gate", program(fuse='''        return x + torch.lerp(a, m, torch.sigmoid(self.gate.bias))'''), {}),
    ("fusion inside NeuralMemory", program(
        forward=GOOD_FORWARD.replace("        return torch.stack(outs, 1)\n",
                                     "        r = torch.stack(outs, 1)\n        g = torch.sigmoid(self.mix(x))\n"
                                     "        return g * x + (1 - g) * r\n"),
        init=INIT + "        self.mix = nn.Linear(d, d)\n",
        fuse='''        return x + m'''), {}),
    ("memories in their own ModuleList, fused in a zip loop", program(fuse="        return a").replace(MODEL, '''
class SimpleTransformer(nn.Module):
    def __init__(self, vocab_size, d_model=64, n_heads=4, n_layers=2, max_seq_len=256):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, d_model)
        self.blocks = nn.ModuleList([Block(d_model) for _ in range(n_layers)])
        self.mems = nn.ModuleList([NeuralMemory(d_model) for _ in range(n_layers)])
        self.gates = nn.ModuleList([nn.Linear(d_model, d_model) for _ in range(n_layers)])
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, input_ids):
        x = self.emb(input_ids)
        for blk, mem, gate in zip(self.blocks, self.mems, self.gates):
            a = blk(x)
            m = mem(x)
            g = torch.sigmoid(gate(x))
            x = x + g * a + (1 - g) * m
        return self.head(x)
'''), {}),
    ("scan: loop-free log-space associative scan helper", program(extra=LOG_SCAN, forward=SCAN_FORWARD), {}),
    ("scan: Hillis-Steele doubling loop helper", program(extra=DOUBLING_SCAN, forward=SCAN_FORWARD.replace(
        "log_keep = F.logsigmoid(-self.decay_logit).expand(B, T)", "keep = (1 - torch.sigmoid(self.decay_logit)).expand(B, T)").replace(
        "assoc_scan(log_keep,", "scan(keep,")), {}),
    ("scan: inline cumprod of decays, h_t = P_t cumsum(u / P)", program(forward=SCAN_FORWARD.replace(
        "        M = assoc_scan(log_keep, s * kv)\n",
        "        P = torch.cumprod(torch.sigmoid(self.forget(x)), dim=1)[..., None, None]\n"
        "        M = P * torch.cumsum(s * kv / P, dim=1)\n"), extra=LOG_SCAN,
        init=INIT + "        self.forget = nn.Linear(d, 1)\n"), {}),
    ("scan: a staticmethod scan called with keywords, states cat-ed over chunks", program(init=INIT + '''        self.chunk = 4
''', forward='''
    @staticmethod
    def _scan(gates, inputs, h0):
        P = torch.cumprod(gates, dim=1)[..., None, None]
        return P * (h0.unsqueeze(1) + torch.cumsum(inputs / P, dim=1))

    def forward(self, x):
        B, T, _ = x.shape
        k, v, q = self.k(x), self.v(x), self.q(x)
        keep = (1 - torch.sigmoid(self.decay_logit)).expand(B, T)
        M = x.new_zeros(B, self.d, self.d)
        chunks = []
        for i in range(0, T, self.chunk):
            kc, vc = k[:, i:i + self.chunk], v[:, i:i + self.chunk]
            err = vc - torch.einsum("bij,bcj->bci", M, kc)
            s = torch.sigmoid(self.surprise_net(err)).unsqueeze(-1)
            Ms = self._scan(inputs=s * torch.einsum("bci,bcj->bcij", vc, kc), h0=M, gates=keep[:, i:i + self.chunk])
            chunks.append(Ms)
            M = Ms[:, -1]
        states = torch.cat(chunks, dim=1)
        return torch.einsum("btij,btj->bti", states, q)
'''), {}),
    ("main block and comments are ignored, not required", program() + '''
if __name__ == "__main__":
    import sys, os  # exempt
    print(open(__file__).read()[:10], file=sys.stderr)
''', {}),
]

TRAPS = [
    ("surprise from concat, no difference", program(init=INIT.replace("nn.Linear(d, 1)", "nn.Linear(2 * d, 1)"),
                                                    forward=GOOD_FORWARD.replace("self.surprise_net(v - pred)", "self.surprise_net(torch.cat([v, pred], -1))")),
     {"surprise_gate": False}),
    ("generic gate on the token", program(forward=GOOD_FORWARD.replace("self.surprise_net(v - pred)", "self.surprise_net(v)")),
     {"surprise_gate": False}),
    ("surprise computed but scales only the read", program(forward=GOOD_FORWARD.replace(
        "M = (1 - alpha) * M + s * torch.einsum", "M = (1 - alpha) * M + torch.einsum").replace(
        "outs.append(torch.einsum(\"bij,bj->bi\", M, q))", "outs.append(s.squeeze(-1) * torch.einsum(\"bij,bj->bi\", M, q))")),
     {"surprise_gate": False}),
    ("surprise only in an if False block", program(forward=GOOD_FORWARD.replace(
        "            s = torch.sigmoid(self.surprise_net(v - pred)).unsqueeze(-1)\n",
        "            s = torch.sigmoid(self.surprise_net(v)).unsqueeze(-1)\n            if False:\n"
        "                s = torch.sigmoid(self.surprise_net(v - pred)).unsqueeze(-1)\n")),
     {"surprise_gate": False}),
    ("surprise only after a return", program(forward=GOOD_FORWARD.replace(
        "            s = torch.sigmoid(self.surprise_net(v - pred)).unsqueeze(-1)\n",
        "            s = torch.sigmoid(self.surprise_net(v)).unsqueeze(-1)\n").replace(
        "        return torch.stack(outs, 1)\n",
        "        return torch.stack(outs, 1)\n        s = torch.sigmoid(self.surprise_net(v - pred))\n        M = s * M\n")),
     {"surprise_gate": False}),
    ("decay is a buffer", program(init=INIT.replace("self.decay_logit = nn.Parameter(torch.tensor(-2.0))",
                                                    "self.register_buffer('decay_logit', torch.tensor(-2.0))")),
     {"learnable_decay": False}),
    ("decay parameter frozen", program(init=INIT.replace("nn.Parameter(torch.tensor(-2.0))",
                                                         "nn.Parameter(torch.tensor(-2.0), requires_grad=False)")),
     {"learnable_decay": False}),
    ("decay only on the momentum", program(init=INIT + "        self.eta = nn.Parameter(torch.tensor(0.5))\n", forward='''
    def forward(self, x):
        B, T, _ = x.shape
        M = x.new_zeros(B, self.d, self.d)
        S = torch.zeros_like(M)
        outs = []
        for t in range(T):
            k, v, q = self.k(x[:, t]), self.v(x[:, t]), self.q(x[:, t])
            err = v - torch.einsum("bij,bj->bi", M, k)
            s = torch.sigmoid(self.surprise_net(err)).unsqueeze(-1)
            S = torch.sigmoid(self.eta) * S + s * torch.einsum("bi,bj->bij", err, k)
            M = M + S
            outs.append(torch.einsum("bij,bj->bi", M, q))
        return torch.stack(outs, 1)
'''), {"learnable_decay": False}),
    ("outer product computed, never stored", program(forward=GOOD_FORWARD.replace(
        "            M = (1 - alpha) * M + s * torch.einsum(\"bi,bj->bij\", v, k)\n",
        "            upd = s * torch.einsum(\"bi,bj->bij\", v, k)\n            M = (1 - alpha) * M + s * v.sum()\n")),
     {"outer_product": False, "recurrent_update": False, "surprise_gate": False, "learnable_decay": False}),
    ("memory written once per call, no loop", program(init=INIT + '''        self.register_buffer("M", torch.zeros(d, d))
''', forward='''
    def forward(self, x):
        k, v, q = self.k(x), self.v(x), self.q(x)
        err = v - torch.einsum("ij,btj->bti", self.M, k)
        s = torch.sigmoid(self.surprise_net(err))
        self.M = torch.sigmoid(self.decay_logit) * self.M + torch.einsum("bti,btj->ij", s * v, k)
        return torch.einsum("ij,btj->bti", self.M, q)
'''), {"recurrent_update": False}),
    ("scan: the gate reads a draft scan, the output reads only the token's own write",
     program(extra=LOG_SCAN, forward=SCAN_FORWARD.replace("einsum(\"btij,btj->bti\", M, q)", "einsum(\"btij,btj->bti\", s * kv, q)")),
     {"recurrent_update": False}),
    ("scan: reversed with flip (each position sums the tokens after it)",
     program(extra=LOG_SCAN, forward=SCAN_FORWARD.replace("M = assoc_scan(log_keep, s * kv)", "M = assoc_scan(log_keep.flip(1), (s * kv).flip(1)).flip(1)")),
     {"recurrent_update": False}),
    ("scan: upper-triangular weights sum the future", program(extra=LOG_SCAN.replace("diagonal=1)", "diagonal=1).logical_not()"), forward=SCAN_FORWARD),
     {"recurrent_update": False}),
    ("scan: inline flipped cumsum", program(extra=LOG_SCAN, forward=SCAN_FORWARD.replace(
        "M = assoc_scan(log_keep, s * kv)", "M = torch.cumsum((s * kv).flip(1), dim=1).flip(1)")), {"recurrent_update": False, "learnable_decay": False}),
    ("scan: helper only called under if False", program(extra=LOG_SCAN, forward='''
    def forward(self, x):
        B, T, _ = x.shape
        k, v, q = self.k(x), self.v(x), self.q(x)
        kv = torch.einsum("bti,btj->btij", v, k)
        s = torch.sigmoid(self.surprise_net(v))
        if False:
            kv = assoc_scan(F.logsigmoid(-self.decay_logit).expand(B, T), kv)
        return torch.einsum("btij,btj->bti", s.unsqueeze(-1) * kv, q)
'''), {"surprise_gate": False, "learnable_decay": False, "outer_product": False, "recurrent_update": False}),
    ("scan: constant decay filled with full_like", program(extra=LOG_SCAN, forward=SCAN_FORWARD.replace(
        "log_keep = F.logsigmoid(-self.decay_logit).expand(B, T)", "log_keep = torch.full_like(self.k(x)[..., 0], -0.1)")),
     {"learnable_decay": False}),
    ("scan: decay from a buffer", program(extra=LOG_SCAN, init=INIT.replace("self.decay_logit = nn.Parameter(torch.tensor(-2.0))",
                                                                            "self.register_buffer('decay_logit', torch.tensor(-2.0))"),
                                          forward=SCAN_FORWARD), {"learnable_decay": False}),
    ("scan: learned decay on the momentum scan only, the memory scan never fades", program(extra=LOG_SCAN, forward='''
    def forward(self, x):
        B, T, _ = x.shape
        k, v, q = self.k(x), self.v(x), self.q(x)
        kv = torch.einsum("bti,btj->btij", v, k)
        prev = F.pad(assoc_scan(torch.zeros_like(k[..., 0]), kv), (0, 0, 0, 0, 1, 0))[:, :T]
        s = torch.sigmoid(self.surprise_net(v - torch.einsum("btij,btj->bti", prev, k))).unsqueeze(-1)
        S = assoc_scan(F.logsigmoid(-self.decay_logit).expand(B, T), s * kv)
        M = assoc_scan(torch.zeros_like(k[..., 0]), S)
        return torch.einsum("btij,btj->bti", M, q)
'''), {"learnable_decay": False}),
    ("residual fusion x + g * m", program(fuse='''        g = torch.sigmoid(self.gate(x))
        return x + a + g * m'''), {"gated_fusion": False}),
    ("concat fusion", program(fuse='''        return x + self.gate(torch.cat([a, m], -1))'''), {"gated_fusion": False}),
    ("constant complementary weights", program(fuse='''        return x + 0.5 * a + (1 - 0.5) * m'''), {"gated_fusion": False}),
    ("complementary gate between two non-memory paths", program(fuse='''        g = torch.sigmoid(self.gate(x))
        return g * a + (1 - g) * x + m'''), {"gated_fusion": False}),
    ("fusion only in a function nobody calls", program(fuse='''        g = torch.sigmoid(self.gate(x))
        return x + a + g * m''', extra='''
def fuse(g, a, m):
    return g * a + (1 - g) * m
'''), {"gated_fusion": False}),
    ("fusion only in the main block", program(fuse='''        return x + a + m''') + '''
if __name__ == "__main__":
    g = torch.sigmoid(torch.zeros(3))
    y = g * torch.ones(3) + (1 - g) * NeuralMemory(3)(torch.ones(1, 1, 3))
''', {"gated_fusion": False}),
    ("memory class never built by the model", program(block=BLOCK.replace("self.memory = NeuralMemory(d)", "self.memory = nn.Identity()")),
     {"neural_memory_class": False, "gated_fusion": False}),
    ("memory class not an nn.Module", program(memory_base="object"), {"neural_memory_class": False}),
    ("no memory class", program().replace("NeuralMemory", "LongTermMemory"),
     {n: False for n in SIX}),
]

SANDBOX = [
    ("import torch\nimport torch.nn as nn\nfrom torch import Tensor\nimport math, typing, dataclasses\n", True),
    ("from dataclasses import dataclass\nfrom typing import Optional\nimport numpy as np\nx = np.zeros(3)\n", True),
    ("import torch\nx = torch.zeros(2).new_zeros(3)\ny = getattr(x, 'shape')\nprint(type(x).__name__, x.__class__)\n", True),
    ("import torch\ntorch.nn.init.xavier_uniform_(torch.empty(2, 2))\n", True),
    ("if __name__ == '__main__':\n    import os\n    os.system('ls')\n", True),
    ("import os\n", False),
    ("import sys\n", False),
    ("import subprocess\n", False),
    ("from os import path\n", False),
    ("import importlib\n", False),
    ("import torch.utils.cpp_extension\n", False),
    ("from torch.utils import cpp_extension\n", False),
    ("from torch import _C\n", False),
    ("import torch\nx = torch._C\n", False),
    ("import torch\ntorch.save({}, 'x.pt')\n", False),
    ("import torch\ny = torch.load('x.pt')\n", False),
    ("import numpy as np\nnp.save('x.npy', np.zeros(2))\n", False),
    ("import numpy as np\nnp.zeros(2).tofile('x')\n", False),
    ("f = open('/etc/passwd')\n", False),
    ("exec('1')\n", False),
    ("e = eval\n", False),
    ("g = globals()\n", False),
    ("x = ().__class__.__base__.__subclasses__()\n", False),
    ("def f():\n    try:\n        1/0\n    except Exception as e:\n        return e.__traceback__.tb_frame.f_globals\n", False),
    ("import torch\ntorch.sigmoid = lambda x: x\n", False),
    ("import torch.nn as nn\nnn.Module.__call__ = None\n", False),
    ("from torch import autograd\nautograd.grad = None\n", False),
    ("import torch\nsetattr(torch, 'sigmoid', None)\n", False),
    ("import torch\nf = getattr(torch, 'lo' + 'ad')\n", False),
    ("import torch\nf = getattr(torch, '_C')\n", False),
    ("__name__ = '__main__'\n", False),
    ("from . import x\n", False),
    ("import torch\nclass T(torch.Tensor):\n    pass\n", False),
    ("import torch\nclass F(torch.autograd.Function):\n    pass\n", False),
    ("class A:\n    def __getattribute__(self, n):\n        return 1\n", False),
    ("import operator\nf = operator.attrgetter('x')\n", False),
    ("import torch\ntorch.nn.modules.module.register_module_forward_hook(None)\n", False),
    ("import typing\ntyping.get_type_hints(object)\n", False),
    ("import torch\nimport torch.nn.functional as F\nG = torch.nn.functional\ny = G.relu(torch.zeros(1))\n", True),
    ("import torch\nfrom torch import nn, Tensor\nok = isinstance(torch.zeros(1), Tensor) and hasattr(nn, 'Linear')\n", True),
    ("import torch\nm = torch\nm.sigmoid = None\n", False),
    ("import torch\nfrom torch import nn\nf = nn.functional\nf.relu = None\n", False),
    ("import torch\ndef patch(mod):\n    mod.sigmoid = None\npatch(torch)\n", False),
    ("import torch\nfor m in [torch]:\n    pass\n", False),
    ("import numpy as np\nx = np.fromregex('f', 'r', float)\n", False),
    ("import torch\nt = torch.utils.benchmark.Timer('x')\n", False),
]


def static(src):
    return {c["name"]: c for c in check.static_checks(src.encode())}


def run_static_tests():
    failures = []
    for name, src, expect in HONEST + TRAPS:
        try:
            ast.parse(src)
        except SyntaxError as e:
            failures.append(f"[{name}] test program does not parse: {e}")
            continue
        got = static(src)
        for crit in SIX:
            want = expect.get(crit, True)
            if got[crit]["passed"] is not want:
                failures.append(f"[{name}] {crit}: expected {want}, got {got[crit]['passed']} ({got[crit]['detail']})")
        if got["sandbox_safe"]["passed"] is not True:
            failures.append(f"[{name}] sandbox_safe failed: {got['sandbox_safe']['detail']}")
    for src, want in SANDBOX:
        c = check.check_sandbox_safe(ast.parse(src))
        if c["passed"] is not want:
            failures.append(f"sandbox_safe on {src!r}: expected {want}, got {c['passed']} ({c['detail']})")
    # malformed input never crashes the checker and never passes
    for src in (b"def f(:\n", b"\xff\xfe", b"x = (" * 400 + b")" * 400):
        for c in check.static_checks(src):
            if c["passed"] is not False:
                failures.append(f"static check {c['name']} did not fail on malformed source")
    n = len(HONEST) + len(TRAPS) + len(SANDBOX)
    return n, failures


# file -> (passes?, checks that must fail, checks that must pass)
RUNTIME = ["runs", "logits_shape", "causal", "memory_used", "memory_state_per_token", "memory_recurrent", "memory_gradients"]
SUBMISSIONS = {
    "solution/reference.py": (True, [], ["sandbox_safe"] + SIX + RUNTIME),
    "test/valid_submissions/novelty_bmm_forget_gate.py": (True, [], SIX + RUNTIME),
    "test/valid_submissions/autograd_surprise.py": (True, [], SIX + RUNTIME),
    "test/valid_submissions/assoc_scan_log_space.py": (True, [], SIX + RUNTIME),
    "test/valid_submissions/chunked_titans_port.py": (True, [], SIX + RUNTIME),
    "test/valid_submissions/tutorial_token_loop.py": (True, [], SIX + RUNTIME),
    "judge-examples/pass.py": (True, [], SIX + RUNTIME),
    "judge-examples/fail.py": (False, ["surprise_gate", "gated_fusion"], RUNTIME),
    "judge-examples/borderline.py": (False, ["surprise_gate"], RUNTIME),
    "starter.py": (False, ["neural_memory_class", "memory_used"], ["sandbox_safe", "runs", "logits_shape", "causal"]),
    "test/submissions/memory_unused.py": (False, ["memory_used"], ["neural_memory_class", "runs"]),
    "test/submissions/constant_decay.py": (False, ["learnable_decay"], ["surprise_gate", "outer_product", "gated_fusion"] + RUNTIME),
    "test/submissions/additive_fusion.py": (False, ["gated_fusion"], ["surprise_gate", "learnable_decay"] + RUNTIME),
    "test/submissions/concat_fusion.py": (False, ["gated_fusion"], RUNTIME),
    "test/submissions/generic_gate.py": (False, ["surprise_gate"], ["learnable_decay", "gated_fusion"] + RUNTIME),
    "test/submissions/static_memory.py": (False, ["recurrent_update", "memory_recurrent"], ["runs", "memory_used"]),
    "test/submissions/keywords_in_comments.py": (False, ["surprise_gate", "gated_fusion"], ["outer_product", "recurrent_update"]),
    "test/submissions/changes_signature.py": (False, ["runs", "logits_shape"], SIX),
    "test/submissions/returns_tuple.py": (False, ["runs", "logits_shape"], SIX),
    "test/submissions/no_grad_memory.py": (False, ["memory_gradients"], SIX),
    "test/submissions/detached_memory_output.py": (False, ["memory_gradients"], SIX),
    "test/submissions/kv_cache_memory.py": (False, ["outer_product", "memory_state_per_token", "memory_recurrent"], ["runs", "causal"]),
    "test/submissions/leaks_future.py": (False, ["causal", "memory_recurrent"], SIX),
    "test/submissions/escapes_sandbox.py": (False, ["sandbox_safe"], SIX),
    "test/submissions/prints_fake_verdict.py": (False, ["sandbox_safe", "runs"], []),
    "test/submissions/monkeypatch_torch.py": (False, ["sandbox_safe", "memory_gradients"], []),
    "test/submissions/scan_result_discarded.py": (False, ["recurrent_update", "memory_recurrent"], ["outer_product", "learnable_decay", "causal"]),
    "test/submissions/scan_reversed_leaks_future.py": (False, ["recurrent_update", "causal", "memory_recurrent"], ["outer_product", "learnable_decay"]),
    "test/submissions/scan_helper_unused.py": (False, ["recurrent_update", "memory_recurrent"], ["causal", "memory_used"]),
    "test/submissions/scan_constant_decay.py": (False, ["learnable_decay"], ["surprise_gate", "outer_product", "recurrent_update", "gated_fusion"] + RUNTIME),
}


def run_standalone(rel):
    path = os.path.join(TASK, rel)
    r = subprocess.run([sys.executable, CHECK, path, "--device", "cpu"], capture_output=True, text=True, timeout=600)
    lines = [ln for ln in r.stdout.strip().splitlines() if ln.strip()]
    return r.returncode, json.loads(lines[-1]) if lines else None


def main():
    quick = "--quick" in sys.argv
    n, failures = run_static_tests()
    print(f"static: {n} programs, {len(failures)} failures")
    if not quick:
        with ThreadPoolExecutor(max_workers=2) as ex:
            results = dict(zip(SUBMISSIONS, ex.map(run_standalone, SUBMISSIONS)))
        for rel, (want, must_fail, must_pass) in SUBMISSIONS.items():
            rc, v = results[rel]
            if v is None or "checks" not in v:
                failures.append(f"{rel}: no verdict (rc={rc})")
                continue
            by = {c["name"]: c["passed"] for c in v["checks"]}
            if v["passed"] is not want or rc != (0 if want else 1):
                failures.append(f"{rel}: expected passed={want}, got {v['passed']} (rc={rc}); failing: "
                                f"{[c['name'] for c in v['checks'] if c['passed'] is False]}")
            for name in must_fail:
                if by.get(name) is not False:
                    failures.append(f"{rel}: check {name} should fail, got {by.get(name)}")
            for name in must_pass:
                if by.get(name) is not True:
                    failures.append(f"{rel}: check {name} should pass, got {by.get(name)}")
        print(f"standalone: {len(SUBMISSIONS)} submissions")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
