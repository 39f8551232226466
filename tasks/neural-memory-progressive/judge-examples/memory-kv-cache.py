"""Episodic memory: every (key, value) pair is kept, and a read attends over the stored keys."""
import math

import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.keys = []
        self.values = []

    def reset(self, batch_size):
        self.keys = []
        self.values = []

    def write(self, key, value):
        self.keys.append(key)
        self.values.append(value)

    def read(self, query):
        if not self.keys:
            return torch.zeros_like(query)
        K = torch.stack(self.keys, dim=1)
        V = torch.stack(self.values, dim=1)
        scores = torch.einsum("bnd,bd->bn", K, query) / math.sqrt(self.d_mem)
        return torch.einsum("bn,bnd->bd", scores.softmax(dim=-1), V)
