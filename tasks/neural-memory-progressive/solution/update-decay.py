"""Reference for step 3 (update rule with decay): learnable forgetting before every write.

A retention factor in (0, 1), a sigmoid of a learnable logit, multiplies the whole memory before the
new association is added, so old content fades geometrically unless it is written again.

    keep = sigmoid(decay_logit)
    M   <- keep * M + v k^T
"""
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        # sigmoid(3) ~ 0.95: about 5% of the old memory fades per write at initialisation.
        self.decay_logit = nn.Parameter(torch.tensor(3.0))

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def write(self, key, value):
        keep = torch.sigmoid(self.decay_logit)
        self.M = keep * self.M + value.unsqueeze(-1) * key.unsqueeze(-2)
