# The seed's failure mode: a residual add of gated memory, attn + g * mem, instead of a complementary blend.
import torch
import torch.nn as nn


class MemoryAttentionFusion(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.gate = nn.Linear(d_model, d_model)

    def forward(self, attn_out, mem_out):
        g = torch.sigmoid(self.gate(attn_out))
        return attn_out + g * mem_out
