"""Reference for step 4 (attention-memory fusion): a learned, complementary gate.

Per token and channel, a sigmoid gate computed from both streams decides how much of the output comes
from attention (recent context) and how much from the memory (long-term); the two weights sum to one.

    g   = sigmoid(W [attn; mem] + b)
    out = g * attn + (1 - g) * mem
"""
import torch
import torch.nn as nn


class MemoryAttentionFusion(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.gate = nn.Linear(2 * d_model, d_model)

    def forward(self, attn_out, mem_out):
        g = torch.sigmoid(self.gate(torch.cat([attn_out, mem_out], dim=-1)))
        return g * attn_out + (1 - g) * mem_out
