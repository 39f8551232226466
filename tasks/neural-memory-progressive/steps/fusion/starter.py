"""Step 4: combining attention with the memory.

Where it is used, inside a Transformer block (for orientation; only MemoryAttentionFusion is graded):

    h = self.ln1(x)
    attn_out = self.attn(h)          # [batch, seq_len, d_model]: causal self-attention (recent context)
    mem_out = self.memory(h)         # [batch, seq_len, d_model]: read from the long-term memory
    x = x + self.fusion(attn_out, mem_out)
    x = x + self.mlp(self.ln2(x))
"""
import torch
import torch.nn as nn


class MemoryAttentionFusion(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.d_model = d_model

    def forward(self, attn_out, mem_out):
        """attn_out, mem_out: [batch, seq_len, d_model] -> [batch, seq_len, d_model]"""
        raise NotImplementedError  # TODO
