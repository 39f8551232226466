# Computes a learned gate, then blends attention with itself: the memory input is ignored.
import torch
import torch.nn as nn


class MemoryAttentionFusion(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.gate = nn.Linear(2 * d_model, d_model)

    def forward(self, attn_out, mem_out):
        g = torch.sigmoid(self.gate(torch.cat([attn_out, mem_out], dim=-1)))
        return g * attn_out + (1 - g) * attn_out
