# The decay is a plain Python float: the memory forgets, but the rate can never be learned.
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        self.decay = 0.9

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def write(self, key, value):
        self.M = self.decay * self.M + value.unsqueeze(-1) * key.unsqueeze(-2)
