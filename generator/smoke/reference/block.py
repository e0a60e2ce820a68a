"""mamba-ssm's residual `Block`: 2.x (`mamba_ssm.modules.block`, with `mlp_cls`) and 1.x
(`mamba_ssm.modules.mamba_simple`, without). Add -> norm -> mixer, returning the mixer's output and
the residual; with `fused_add_norm` the add and the norm are one `layer_norm_fn` call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from generator.smoke.reference.layer_norm import RMSNorm, layer_norm_fn


def _add_norm(
    block: Any, norm: Any, hidden: torch.Tensor, residual: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    if not block.fused_add_norm:
        residual = (hidden + residual) if residual is not None else hidden
        hidden = norm(residual.to(dtype=norm.weight.dtype))
        if block.residual_in_fp32:
            residual = residual.to(torch.float32)
        return hidden, residual
    out = layer_norm_fn(
        hidden,
        norm.weight,
        norm.bias,
        residual=residual,
        prenorm=True,
        residual_in_fp32=block.residual_in_fp32,
        eps=norm.eps,
        is_rms_norm=isinstance(norm, RMSNorm),
    )
    assert isinstance(out, tuple)
    return out


def _check_norm(block: Any) -> None:
    if block.fused_add_norm and not isinstance(block.norm, (nn.LayerNorm, RMSNorm)):
        raise TypeError("Only LayerNorm and RMSNorm are supported for fused_add_norm")


class Block(nn.Module):
    """mamba-ssm 2.x's Block(dim, mixer_cls, mlp_cls, norm_cls, fused_add_norm, residual_in_fp32)."""

    def __init__(
        self,
        dim: int,
        mixer_cls: Callable[[int], nn.Module],
        mlp_cls: Callable[[int], nn.Module],
        norm_cls: Callable[[int], nn.Module] = nn.LayerNorm,
        fused_add_norm: bool = False,
        residual_in_fp32: bool = False,
    ) -> None:
        super().__init__()
        self.residual_in_fp32 = residual_in_fp32
        self.fused_add_norm = fused_add_norm
        self.norm = norm_cls(dim)
        self.mixer = mixer_cls(dim)
        self.mlp: nn.Module | None = None
        if mlp_cls is not nn.Identity:
            self.norm2 = norm_cls(dim)
            self.mlp = mlp_cls(dim)
        _check_norm(self)

    def forward(
        self,
        hidden_states: torch.Tensor,
        residual: torch.Tensor | None = None,
        inference_params: Any = None,
        **mixer_kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden_states, residual = _add_norm(self, self.norm, hidden_states, residual)
        hidden_states = self.mixer(hidden_states, inference_params=inference_params, **mixer_kwargs)
        if self.mlp is not None:
            hidden_states, residual = _add_norm(self, self.norm2, hidden_states, residual)
            hidden_states = self.mlp(hidden_states)
        return hidden_states, residual


class BlockV1(nn.Module):
    """mamba-ssm 1.x's Block(dim, mixer_cls, norm_cls, fused_add_norm, residual_in_fp32)."""

    def __init__(
        self,
        dim: int,
        mixer_cls: Callable[[int], nn.Module],
        norm_cls: Callable[[int], nn.Module] = nn.LayerNorm,
        fused_add_norm: bool = False,
        residual_in_fp32: bool = False,
    ) -> None:
        super().__init__()
        self.residual_in_fp32 = residual_in_fp32
        self.fused_add_norm = fused_add_norm
        self.mixer = mixer_cls(dim)
        self.norm = norm_cls(dim)
        _check_norm(self)

    def forward(
        self, hidden_states: torch.Tensor, residual: torch.Tensor | None = None, inference_params: Any = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden_states, residual = _add_norm(self, self.norm, hidden_states, residual)
        return self.mixer(hidden_states, inference_params=inference_params), residual
