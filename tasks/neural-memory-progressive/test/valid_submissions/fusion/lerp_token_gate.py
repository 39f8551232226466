# Valid: one gate per token from a Linear over the memory output, blended with torch.lerp (mem + g * (attn - mem)).
import torch
import torch.nn as nn


class MemoryAttentionFusion(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.to_gate = nn.Linear(d_model, 1)

    def forward(self, attn_out, mem_out):
        g = torch.sigmoid(self.to_gate(mem_out))  # [B, T, 1]
        return torch.lerp(mem_out, attn_out, g)
