# Surprise is a learnable constant: the same score whatever the memory holds or is told.
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        self.level = nn.Parameter(torch.tensor(0.0))

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def surprise(self, key, value):
        return torch.sigmoid(self.level).expand(key.shape[0])

    def write(self, key, value):
        s = self.surprise(key, value)
        self.M = self.M + s[:, None, None] * value.unsqueeze(-1) * key.unsqueeze(-2)
