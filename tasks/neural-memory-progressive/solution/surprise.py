"""Reference for step 2 (surprise): write strength from the memory's own prediction error.

Before storing (k, v) the memory predicts what it would recall for k. The squared error between that
prediction and v, passed through a learnable affine map and a sigmoid, is the surprise: near its floor
for a value the memory already holds, close to 1 for one it gets wrong. The write is scaled by it.

    pred = M k
    err  = mean((v - pred)^2)
    s    = sigmoid(a * err + b)        a, b learnable
    M   <- M + s * v k^T
"""
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        self.surprise_scale = nn.Parameter(torch.tensor(1.0))
        self.surprise_bias = nn.Parameter(torch.tensor(-0.5))

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def surprise(self, key, value):
        # How badly the memory predicts the value it is about to be told.
        err = (value - self.read(key)).pow(2).mean(dim=-1)
        return torch.sigmoid(self.surprise_scale * err + self.surprise_bias)

    def write(self, key, value):
        s = self.surprise(key, value)
        self.M = self.M + s[:, None, None] * value.unsqueeze(-1) * key.unsqueeze(-2)
