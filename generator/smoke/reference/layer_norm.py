"""mamba-ssm's fused add + LayerNorm / RMSNorm (`mamba_ssm.ops.triton.layer_norm`, 1.x `layernorm`), in
plain PyTorch.

The Triton kernels add the residual and normalise in float32 in one pass; these functions do the same
steps one after the other: `residual_out = x + residual` (in the residual's dtype, float32 when
`residual_in_fp32` and there is no residual yet), then the norm of the float32 sum, returned in x's
dtype. Only what Caduceus calls is supported; the kernels' extras (a second input `x1`, `rowscale`,
returning the dropout mask) raise `NotImplementedError` rather than compute something else.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


def _unsupported(**extras: Any) -> None:
    used = [name for name, value in extras.items() if value is not None and value is not False]
    if used:
        raise NotImplementedError(
            f"the reference layer_norm_fn does not implement {', '.join(used)} (only what Caduceus uses)"
        )


def layer_norm_fn(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    residual: torch.Tensor | None = None,
    x1: torch.Tensor | None = None,
    weight1: torch.Tensor | None = None,
    bias1: torch.Tensor | None = None,
    eps: float = 1e-6,
    dropout_p: float = 0.0,
    rowscale: torch.Tensor | None = None,
    prenorm: bool = False,
    residual_in_fp32: bool = False,
    is_rms_norm: bool = False,
    return_dropout_mask: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """`norm(dropout(x) + residual)`; with `prenorm`, also the sum (the next block's residual)."""
    _unsupported(
        x1=x1, weight1=weight1, bias1=bias1, rowscale=rowscale, return_dropout_mask=return_dropout_mask
    )
    residual_dtype = (
        residual.dtype if residual is not None else (torch.float32 if residual_in_fp32 else x.dtype)
    )
    h = x.float()
    if dropout_p > 0.0:  # the kernel drops whenever asked; the modules pass 0 in eval mode
        h = F.dropout(h, dropout_p, training=True)
    if residual is not None:
        h = h + residual.float()
    w = weight.float()
    b = bias.float() if bias is not None else None
    if is_rms_norm:
        y = F.rms_norm(h, h.shape[-1:], w, eps)
        y = y + b if b is not None else y
    else:
        y = F.layer_norm(h, h.shape[-1:], w, b, eps)
    y = y.to(x.dtype)
    return (y, h.to(residual_dtype)) if prenorm else y


def rms_norm_fn(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    residual: torch.Tensor | None = None,
    x1: torch.Tensor | None = None,
    weight1: torch.Tensor | None = None,
    bias1: torch.Tensor | None = None,
    eps: float = 1e-6,
    dropout_p: float = 0.0,
    rowscale: torch.Tensor | None = None,
    prenorm: bool = False,
    residual_in_fp32: bool = False,
    return_dropout_mask: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """`layer_norm_fn` with `is_rms_norm=True`."""
    return layer_norm_fn(
        x,
        weight,
        bias,
        residual,
        x1,
        weight1,
        bias1,
        eps,
        dropout_p,
        rowscale,
        prenorm,
        residual_in_fp32,
        True,
        return_dropout_mask,
    )


class RMSNorm(nn.Module):
    """mamba-ssm 2.x's RMSNorm module: a weight, no bias (`bias` is None), `eps`."""

    bias: nn.Parameter | None  # registered as a None parameter, as mamba-ssm does

    def __init__(
        self,
        hidden_size: int,
        eps: float = 1e-5,
        dropout_p: float = 0.0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.eps = eps
        self.drop = nn.Dropout(dropout_p) if dropout_p > 0.0 else None
        self.weight = nn.Parameter(torch.empty(hidden_size, device=device, dtype=dtype))
        self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.ones_(self.weight)

    def forward(
        self,
        x: torch.Tensor,
        residual: torch.Tensor | None = None,
        prenorm: bool = False,
        residual_in_fp32: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        return rms_norm_fn(
            x,
            self.weight,
            self.bias,
            residual=residual,
            eps=self.eps,
            dropout_p=self.drop.p if self.drop is not None and self.training else 0.0,
            prenorm=prenorm,
            residual_in_fp32=residual_in_fp32,
        )


# --- mamba-ssm 1.x (`mamba_ssm.ops.triton.layernorm`): the same computation, the 1.x signatures -------


def layer_norm_fn_v1(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    residual: torch.Tensor | None = None,
    eps: float = 1e-6,
    prenorm: bool = False,
    residual_in_fp32: bool = False,
    is_rms_norm: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    return layer_norm_fn(
        x,
        weight,
        bias,
        residual,
        eps=eps,
        prenorm=prenorm,
        residual_in_fp32=residual_in_fp32,
        is_rms_norm=is_rms_norm,
    )


def rms_norm_fn_v1(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    residual: torch.Tensor | None = None,
    prenorm: bool = False,
    residual_in_fp32: bool = False,
    eps: float = 1e-6,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    return layer_norm_fn(
        x,
        weight,
        bias,
        residual,
        eps=eps,
        prenorm=prenorm,
        residual_in_fp32=residual_in_fp32,
        is_rms_norm=True,
    )


class RMSNormV1(RMSNorm):
    """mamba-ssm 1.x's RMSNorm (no dropout argument)."""

    def __init__(self, hidden_size: int, eps: float = 1e-5, device: Any = None, dtype: Any = None) -> None:
        super().__init__(hidden_size, eps, 0.0, device, dtype)
