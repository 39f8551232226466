# Claims a learnable sigmoid decay in its docstring; the "decay" is a sigmoid of a constant tensor, not a parameter.
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    """M <- sigmoid(decay_logit) * M + v k^T with decay_logit a learnable nn.Parameter."""

    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        # self.decay_logit = nn.Parameter(torch.tensor(3.0))
        self.decay_logit = torch.tensor(3.0)

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def write(self, key, value):
        keep = torch.sigmoid(self.decay_logit)
        self.M = keep * self.M + value.unsqueeze(-1) * key.unsqueeze(-2)
