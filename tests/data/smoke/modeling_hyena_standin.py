"""A HyenaDNA-like stand-in: causal, character-level, and its forward takes no attention mask.

Loaded with trust_remote_code from a local checkpoint folder by the smoke test's tests. Each block is a
causal depthwise long convolution with a gate (the shape of a Hyena operator, tiny and random)."""

from __future__ import annotations

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutput


class HyenaStandinConfig(PretrainedConfig):
    model_type = "hyena_standin"

    def __init__(
        self, vocab_size=12, d_model=16, n_layer=2, kernel_size=8, max_seq_len=1024, pad_token_id=4, **kwargs
    ):
        self.vocab_size, self.d_model, self.n_layer = vocab_size, d_model, n_layer
        self.kernel_size, self.max_seq_len = kernel_size, max_seq_len
        super().__init__(pad_token_id=pad_token_id, **kwargs)


class HyenaBlock(nn.Module):
    def __init__(self, d: int, k: int):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.conv = nn.Conv1d(d, d, k, groups=d)
        self.gate = nn.Linear(d, 2 * d)
        self.out = nn.Linear(d, d)
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u, g = self.gate(self.norm(x)).chunk(2, dim=-1)
        # Left padding only: position t sees positions <= t (causal).
        y = self.conv(nn.functional.pad(u.transpose(1, 2), (self.k - 1, 0))).transpose(1, 2)
        return x + self.out(y * torch.sigmoid(g))


class HyenaStandinForCausalLM(PreTrainedModel):
    config_class = HyenaStandinConfig
    base_model_prefix = "hyena"

    def __init__(self, config: HyenaStandinConfig):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.blocks = nn.ModuleList(
            HyenaBlock(config.d_model, config.kernel_size) for _ in range(config.n_layer)
        )
        self.norm = nn.LayerNorm(config.d_model)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids, output_hidden_states=None, return_dict=None):
        x = self.embed(input_ids)
        states = [x]
        for block in self.blocks:
            x = block(x)
            states.append(x)
        x = self.norm(x)
        states[-1] = x
        return CausalLMOutput(
            logits=self.lm_head(x), hidden_states=tuple(states) if output_hidden_states else None
        )
