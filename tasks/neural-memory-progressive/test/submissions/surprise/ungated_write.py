# A correct prediction-error surprise that write() never uses: everything is still stored at full strength.
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        self.scale = nn.Parameter(torch.tensor(1.0))
        self.bias = nn.Parameter(torch.tensor(0.0))

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def surprise(self, key, value):
        err = (value - self.read(key)).pow(2).mean(dim=-1)
        return torch.sigmoid(self.scale * err + self.bias)

    def write(self, key, value):
        self.surprise(key, value)  # computed, then ignored
        self.M = self.M + value.unsqueeze(-1) * key.unsqueeze(-2)
