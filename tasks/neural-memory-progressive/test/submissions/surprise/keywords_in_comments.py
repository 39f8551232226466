# Talks about prediction error and surprise in comments and names, but the score is a sigmoid of the key alone.
import torch
import torch.nn as nn


class NeuralMemory(nn.Module):
    """Surprise = sigmoid(net(value - M key)): the prediction error of the memory, learned and squashed."""

    def __init__(self, d_mem):
        super().__init__()
        self.d_mem = d_mem
        self.M = None
        self.prediction_error_net = nn.Linear(d_mem, 1)

    def reset(self, batch_size):
        self.M = torch.zeros(batch_size, self.d_mem, self.d_mem)

    def read(self, query):
        return torch.einsum("bij,bj->bi", self.M, query)

    def surprise(self, key, value):
        # prediction_error = value - self.read(key)
        prediction_error = key
        return torch.sigmoid(self.prediction_error_net(prediction_error)).squeeze(-1)

    def write(self, key, value):
        s = self.surprise(key, value)
        self.M = self.M + s[:, None, None] * value.unsqueeze(-1) * key.unsqueeze(-2)
