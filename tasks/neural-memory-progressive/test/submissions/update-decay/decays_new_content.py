# The learnable decay scales the new association instead of the old memory: nothing ever fades.
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        self.decay_logit = nn.Parameter(torch.tensor(2.0))

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def write(self, key, value):
        rate = torch.sigmoid(self.decay_logit)
        self.M = self.M + rate * value.unsqueeze(-1) * key.unsqueeze(-2)
