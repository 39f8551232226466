import torch
import torch.nn as nn


class MemoryAttentionFusion(nn.Module):
    """Attention output plus a gated contribution from the memory; the gate learns when memory helps."""

    def __init__(self, d_model):
        super().__init__()
        self.gate = nn.Linear(2 * d_model, d_model)

    def forward(self, attn_out, mem_out):
        g = torch.sigmoid(self.gate(torch.cat([attn_out, mem_out], dim=-1)))
        return attn_out + g * mem_out
