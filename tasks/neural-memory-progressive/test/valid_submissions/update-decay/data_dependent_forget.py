# Valid: a forget gate alpha = sigmoid(w . key + b) computed per sequence from the key, M <- (1 - alpha) M + v k^T.
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        self.forget = nn.Linear(d_mem, 1)
        nn.init.constant_(self.forget.bias, -2.0)

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def write(self, key, value):
        alpha = torch.sigmoid(self.forget(key)).unsqueeze(-1)  # [B, 1, 1]
        self.M = (1 - alpha) * self.M + torch.einsum("bi,bj->bij", value, key)
