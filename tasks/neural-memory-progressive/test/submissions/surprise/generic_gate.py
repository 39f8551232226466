# The seed's most common failure: a generic learned write gate sigmoid(Linear(value)) that never asks what the memory predicts.
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        self.importance = nn.Linear(d_mem, 1)

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def surprise(self, key, value):
        # "surprise": how important this value looks
        return torch.sigmoid(self.importance(value)).squeeze(-1)

    def write(self, key, value):
        s = self.surprise(key, value)
        self.M = self.M + s[:, None, None] * value.unsqueeze(-1) * key.unsqueeze(-2)
