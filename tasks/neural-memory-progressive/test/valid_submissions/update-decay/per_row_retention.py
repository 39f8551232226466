# Valid: a learnable retention per memory row (a vector of logits), M <- diag(sigmoid(r)) M + v k^T, written
# out with explicit names as in a tutorial.
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        # one forgetting rate per row of the memory; sigmoid(2.5) ~ 0.92 kept per write at the start
        self.retention_logits = nn.Parameter(torch.full((d_mem,), 2.5))

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def write(self, key, value):
        retention = torch.sigmoid(self.retention_logits)              # [d_mem], each in (0, 1)
        faded = retention.view(1, -1, 1) * self.M                     # row i keeps retention[i] of itself
        new_association = torch.einsum("bi,bj->bij", value, key)      # value (x) key
        self.M = faded + new_association
