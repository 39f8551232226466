# A growing key/value cache read by softmax attention: the state grows with every write (seed: models build K,V caches).
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.keys, self.values = [], []

    def reset(self, batch_size):
        self.keys, self.values = [], []

    def write(self, key, value):
        self.keys.append(key)
        self.values.append(value)

    def read(self, query):
        if not self.keys:
            return torch.zeros_like(query)
        K = torch.stack(self.keys, dim=1)      # [B, n, d]
        V = torch.stack(self.values, dim=1)
        w = torch.softmax(torch.einsum("bnd,bd->bn", K, query) / self.d_mem ** 0.5, dim=-1)
        return torch.einsum("bn,bnd->bd", w, V)
