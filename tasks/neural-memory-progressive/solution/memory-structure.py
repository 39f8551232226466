"""Reference for step 1 (memory structure): an associative matrix memory.

The memory is one d_mem x d_mem matrix per sequence. Storing an association adds the outer product
value key^T to it; recalling multiplies the matrix by the cue. With orthonormal keys the recall is
exact, and the state never grows: every association is superposed in the same matrix.

    write(k, v):  M <- M + v k^T
    read(q):      r  = M q
"""
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None

    def reset(self, batch_size):
        # One empty matrix per sequence in the batch.
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def write(self, key, value):
        # Bind value to key: add the outer product value key^T ([B, d, 1] x [B, 1, d]).
        self.M = self.M + value.unsqueeze(-1) * key.unsqueeze(-2)

    def read(self, query):
        # Recall: the matrix applied to the cue.
        return torch.einsum("bij,bj->bi", self.M, query)
