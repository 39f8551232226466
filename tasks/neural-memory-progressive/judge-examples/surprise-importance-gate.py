"""Surprise-weighted memory.

Each incoming association gets an importance score in (0, 1) from a small learned network, and the
write is scaled by it, so the memory learns which inputs deserve to be stored.
"""
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        self.surprise_net = nn.Sequential(nn.Linear(2 * d_mem, d_mem), nn.Tanh(), nn.Linear(d_mem, 1))

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def surprise(self, key, value):
        return torch.sigmoid(self.surprise_net(torch.cat([key, value], dim=-1))).squeeze(-1)

    def write(self, key, value):
        s = self.surprise(key, value)
        self.M = self.M + s[:, None, None] * value.unsqueeze(-1) * key.unsqueeze(-2)
