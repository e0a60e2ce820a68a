"""mamba-ssm's `Mamba` layer (`mamba_ssm.modules.mamba_simple.Mamba`) on transformers' `MambaMixer`.

The constructor, its defaults, its initialisation and the parameter names and shapes are mamba-ssm's
(`in_proj`, `conv1d`, `x_proj`, `dt_proj`, `A_log`, `D`, `out_proj`), so a mamba-ssm checkpoint loads
unchanged. `forward` computes what mamba-ssm's fused CUDA kernel (`mamba_inner_fn`) computes:
projection, causal depthwise convolution, SiLU, selective scan with the softplus time step and the D
skip, SiLU gate, output projection; the convolution and the gating are whole-sequence tensor
operations and the scan runs in chunks (`generator.smoke.reference.scan`), exact and bounded in memory.
Inside `sequential_scan()`, every layer runs transformers' `MambaMixer.slow_forward` instead (a Python
step per position): the baseline the benchmark and the exactness tests compare against.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from transformers import MambaConfig
from transformers.models.mamba.modeling_mamba import MambaMixer

from generator.smoke.reference.scan import selective_scan

_SEQUENTIAL = [False]
"""Set inside `sequential_scan()` (a list, so the context manager changes it in place)."""


@contextlib.contextmanager
def sequential_scan() -> Iterator[None]:
    """Inside the block, reference Mamba layers run transformers' sequential scan (the baseline)."""
    saved = _SEQUENTIAL[0]
    _SEQUENTIAL[0] = True
    try:
        yield
    finally:
        _SEQUENTIAL[0] = saved


class Mamba(MambaMixer):
    """One Mamba layer with mamba-ssm's signature; `forward(hidden_states)` maps (B, L, D) to (B, L, D)."""

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dt_rank: int | str = "auto",
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        dt_init: str = "random",
        dt_scale: float = 1.0,
        dt_init_floor: float = 1e-4,
        conv_bias: bool = True,
        bias: bool = False,
        use_fast_path: bool = True,
        layer_idx: int | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        config = MambaConfig(
            hidden_size=d_model,
            state_size=d_state,
            conv_kernel=d_conv,
            expand=expand,
            time_step_rank=dt_rank,
            use_conv_bias=conv_bias,
            use_bias=bias,
            hidden_act="silu",
            use_mambapy=False,
        )
        super().__init__(config, layer_idx if layer_idx is not None else 0)
        self.layer_idx = layer_idx  # type: ignore[assignment]  # mamba-ssm allows None
        self.d_model, self.d_state, self.d_conv, self.expand = d_model, d_state, d_conv, expand
        self.d_inner = int(expand * d_model)
        self.dt_rank = math.ceil(d_model / 16) if dt_rank == "auto" else int(dt_rank)
        self.use_fast_path = use_fast_path  # kept for the attribute; there is no fast path here
        # mamba-ssm's initialisation of the time-step projection (MambaMixer leaves it to its model).
        std = self.dt_rank**-0.5 * dt_scale
        if dt_init == "constant":
            nn.init.constant_(self.dt_proj.weight, std)
        elif dt_init == "random":
            nn.init.uniform_(self.dt_proj.weight, -std, std)
        else:
            raise NotImplementedError(f"dt_init '{dt_init}'")
        dt = torch.exp(
            torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        ).clamp(min=dt_init_floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # the inverse of softplus
        self.dt_proj.bias._no_reinit = True  # type: ignore[attr-defined]  # read by _init_weights
        self.A_log._no_weight_decay = True  # type: ignore[attr-defined]  # a flag optimisers read, as upstream sets it
        self.D._no_weight_decay = True  # type: ignore[attr-defined]  # a flag optimisers read, as upstream sets it
        if device is not None or dtype is not None:
            for layer in (self.in_proj, self.conv1d, self.x_proj, self.dt_proj, self.out_proj):
                layer.to(device=device, dtype=dtype)
            self.A_log.data = self.A_log.data.to(device=device)  # A_log and D stay in float32, as upstream
            self.D.data = self.D.data.to(device=device)

    def warn_slow_implementation(self) -> None:
        """The reference is slow on purpose: the smoke report says so, not a warning per layer."""

    def forward(self, hidden_states: torch.Tensor, inference_params: Any = None) -> torch.Tensor:  # type: ignore[override]  # mamba-ssm's signature, not MambaMixer's
        if inference_params is not None:
            raise NotImplementedError("the reference Mamba layer does not implement step-by-step decoding")
        if _SEQUENTIAL[0]:
            return self.slow_forward(hidden_states)
        return self.chunked_forward(hidden_states)

    def chunked_forward(self, hidden_states: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        """(B, L, D) -> (B, L, D), laid out (batch, length, channels) throughout, so that every
        elementwise operation runs over contiguous channels."""
        dtype, length = hidden_states.dtype, hidden_states.shape[1]
        projected = self.in_proj(hidden_states)
        x, gate = projected.chunk(2, dim=-1)
        u = self.act(self._causal_conv(x, length))
        time_step, b, c = torch.split(
            self.x_proj(u), [self.time_step_rank, self.ssm_state_size, self.ssm_state_size], dim=-1
        )
        delta = F.softplus(self.dt_proj(time_step))
        y = selective_scan(u, delta, -torch.exp(self.A_log.float()), b, c, self.D, chunk)
        out: torch.Tensor = self.out_proj(y.to(dtype) * self.act(gate))
        return out

    def _causal_conv(self, x: torch.Tensor, length: int) -> torch.Tensor:
        """The depthwise causal convolution as shifted multiply-adds over (B, L, D): out[t] = bias +
        sum_k w[k] x[t - (K-1) + k], positions before the start counting as zero (conv1d's padding)."""
        weight = self.conv1d.weight[:, 0, :]  # (D, K)
        kernel = weight.shape[1]
        out = x * weight[:, kernel - 1]
        if self.conv1d.bias is not None:
            out += self.conv1d.bias
        for shift in range(1, min(kernel, length)):
            out[:, shift:] += x[:, :-shift] * weight[:, kernel - 1 - shift]
        return out
