# Valid: stores key value^T (the transposed convention) in a buffer created lazily, normalises keys and cues, and reads with M^T q.
import torch
import torch.nn as nn
import torch.nn.functional as F


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.register_buffer("memory", torch.zeros(0), persistent=False)
        self.batch = 0

    def reset(self, batch_size):
        self.batch = batch_size
        self.memory = torch.zeros(0)

    def write(self, key, value):
        if self.memory.numel() == 0:
            self.memory = key.new_zeros(self.batch, self.d_mem, self.d_mem)
        k = F.normalize(key, dim=-1)
        self.memory = self.memory + torch.bmm(k.unsqueeze(2), value.unsqueeze(1))

    def read(self, query):
        if self.memory.numel() == 0:
            return torch.zeros_like(query)
        q = F.normalize(query, dim=-1)
        return torch.bmm(self.memory.transpose(1, 2), q.unsqueeze(2)).squeeze(2)
