"""Step 3: the update rule, with forgetting."""
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    """Associative memory: one d_mem x d_mem matrix per sequence, kept in self.M ([batch, d_mem, d_mem])."""

    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        """[batch, d_mem] -> [batch, d_mem]"""
        return torch.einsum("bij,bj->bi", self.M, query)

    def write(self, key, value):
        # TODO: this keeps everything ever written, forever.
        self.M = self.M + value.unsqueeze(-1) * key.unsqueeze(-2)
