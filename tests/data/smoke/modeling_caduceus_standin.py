"""Caduceus-like stand-ins (PH and PS), loaded with trust_remote_code from a local checkpoint folder.

Each block mixes both directions with one set of weights: the reverse direction reuses the forward
projection at call time (like Caduceus' tied BiMamba), not through shared parameters, which
save_pretrained would refuse. With `rcps` the model is reverse-complement equivariant by
construction and returns 2 x d_model channels whose second half is the reverse-complement strand."""

from __future__ import annotations

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput


class CaduceusStandinConfig(PretrainedConfig):
    model_type = "caduceus_standin"

    def __init__(
        self,
        vocab_size=16,
        d_model=16,
        n_layer=2,
        kernel_size=4,
        rcps=False,
        complement_map=None,
        pad_token_id=4,
        **kwargs,
    ):
        self.vocab_size, self.d_model, self.n_layer = vocab_size, d_model, n_layer
        self.kernel_size, self.rcps = kernel_size, rcps
        self.complement_map = {str(k): v for k, v in (complement_map or {}).items()}
        super().__init__(pad_token_id=pad_token_id, **kwargs)


class BiBlock(nn.Module):
    def __init__(self, d: int, k: int):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.proj = nn.Linear(d, d)
        self.conv = nn.Conv1d(d, d, k, groups=d)
        self.k = k

    def _causal(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(nn.functional.pad(self.proj(x).transpose(1, 2), (self.k - 1, 0))).transpose(1, 2)
        return torch.tanh(y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        # The reverse direction runs the same weights on the flipped sequence (tied at call time).
        return x + self._causal(h) + self._causal(h.flip(1)).flip(1)


class CaduceusStandinModel(PreTrainedModel):
    config_class = CaduceusStandinConfig
    base_model_prefix = "caduceus"

    def __init__(self, config: CaduceusStandinConfig):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.blocks = nn.ModuleList(
            BiBlock(config.d_model, config.kernel_size) for _ in range(config.n_layer)
        )
        self.norm = nn.LayerNorm(config.d_model)
        table = torch.arange(config.vocab_size)
        for k, v in config.complement_map.items():
            table[int(k)] = int(v)
        self.register_buffer("complement", table, persistent=False)
        self.post_init()

    def _strand(self, ids: torch.Tensor) -> list[torch.Tensor]:
        x = self.embed(ids)
        states = [x]
        for block in self.blocks:
            x = block(x)
            states.append(x)
        states[-1] = self.norm(x)
        return states

    def forward(self, input_ids, output_hidden_states=None, return_dict=None):
        fwd = self._strand(input_ids)
        if self.config.rcps:
            rc_ids = self.complement.to(input_ids.device)[input_ids].flip(1)
            rev = self._strand(rc_ids)
            # Second half: the RC strand mapped back to forward positions, channels flipped.
            fwd = [torch.cat([f, r.flip(1).flip(-1)], dim=-1) for f, r in zip(fwd, rev, strict=True)]
        return BaseModelOutput(
            last_hidden_state=fwd[-1], hidden_states=tuple(fwd) if output_hidden_states else None
        )
