# Fixed-size slot memory (a ring buffer of d_mem key slots and value slots) with nearest-key lookup: fixed size and exact recall, but no associative matrix.
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.slot_keys = None
        self.slot_values = None
        self.next = 0

    def reset(self, batch_size):
        self.slot_keys = torch.zeros(batch_size, self.d_mem, self.d_mem)
        self.slot_values = torch.zeros(batch_size, self.d_mem, self.d_mem)
        self.next = 0

    def write(self, key, value):
        i = self.next % self.d_mem
        self.slot_keys = self.slot_keys.clone()
        self.slot_values = self.slot_values.clone()
        self.slot_keys[:, i] = key
        self.slot_values[:, i] = value
        self.next += 1

    def read(self, query):
        best = torch.einsum("bsd,bd->bs", self.slot_keys, query).argmax(dim=-1)
        return self.slot_values[torch.arange(query.shape[0]), best]
