"""Exponential forgetting: 10% of the memory fades at every write, then the new association is added."""
import torch
import torch.nn as nn

RETENTION = 0.9


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        self.register_buffer("retention", torch.tensor(RETENTION))

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def write(self, key, value):
        self.M = self.retention * self.M + value.unsqueeze(-1) * key.unsqueeze(-2)
