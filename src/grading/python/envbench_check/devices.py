"""Whether a GPU could be visible here, without importing torch (about 1.5 s of CPU per phase).

CUDA needs the driver's device nodes: NVIDIA's /dev/nvidia* (the sandbox binds them only into a GPU run), AMD's
/dev/kfd for ROCm builds of torch, /dev/dxg under WSL. Where none exists, torch.cuda.is_available() is False
too, so a phase that only asks can skip the import; where one exists, ask torch itself.
"""
from __future__ import annotations

import os

OTHER_GPU_NODES = ("/dev/kfd", "/dev/dxg")


def gpu_nodes(dev: str = "/dev") -> list:
    """The GPU device nodes present (empty: no GPU can be visible to this process)."""
    try:
        names = sorted(n for n in os.listdir(dev) if n.startswith("nvidia"))
    except OSError:
        names = []
    return [os.path.join(dev, n) for n in names] + [p for p in OTHER_GPU_NODES if dev == "/dev" and os.path.exists(p)]


def cuda_available() -> bool:
    """torch.cuda.is_available(), without importing torch when no GPU device node exists."""
    if not gpu_nodes():
        return False
    try:
        import torch
        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001  (a torch that cannot load sees no GPU)
        return False
