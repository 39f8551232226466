"""Step 1: how the memory stores and recalls associations."""
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        # TODO: the state the memory keeps between calls

    def reset(self, batch_size):
        """Forget everything: an empty memory for `batch_size` independent sequences."""
        raise NotImplementedError

    def write(self, key, value):
        """Store that `value` goes with `key` (both [batch, d_mem]); one association per sequence."""
        raise NotImplementedError

    def read(self, query):
        """Recall what the memory associates with `query` ([batch, d_mem]); returns [batch, d_mem]."""
        raise NotImplementedError
