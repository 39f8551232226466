import torch
import torch.nn as nn


class MemoryAttentionFusion(nn.Module):
    """Per token, a learned gate decides how much of the output comes from attention vs. the memory."""

    def __init__(self, d_model):
        super().__init__()
        self.score = nn.Linear(2 * d_model, 1)

    def forward(self, attn_out, mem_out):
        g = torch.sigmoid(self.score(torch.cat([attn_out, mem_out], dim=-1)))  # [B, T, 1]
        return torch.lerp(mem_out, attn_out, g)
