"""Mamba's selective scan in chunks: exact, vectorised, and bounded in memory.

The recurrence (per batch row b, channel d, state n, position t) is

    h[t] = exp(delta[t] * A) * h[t-1] + delta[t] * B[t] * u[t]      y[t] = C[t] . h[t] + D * u[t]

transformers' `MambaMixer.slow_forward` materialises `exp(delta * A)` and `delta * B * u` for the
whole sequence, (batch, d_inner, length, d_state) each, then loops over positions with a handful of
small tensor operations per step. Here the sequence is cut into chunks of `chunk` positions: the
decay and the input of one chunk are computed in one vectorised operation each, the recurrence runs
over the chunk in place, the chunk's outputs are contracted with C in one batched matrix product, and
the last state carries into the next chunk. The (batch, length, d_inner, d_state) tensor never
exists: memory is two chunk-sized state tensors plus the (batch, length, d_inner) activations.

Within a chunk the recurrence runs in one of two forms, the same arithmetic in a different order:

- `sequential`: one fused multiply-add per position over (batch, d_state, d_inner). Fastest on CPU,
  where one pass over each chunk-sized tensor costs less than the several passes of a parallel scan.
- `associative`: a Hillis-Steele prefix scan of the pairs (decay, input) under
  (a1, b1) . (a2, b2) = (a1 a2, a2 b1 + b2), in log2(chunk) vectorised steps; the choice on CUDA,
  where launching one small kernel per position costs more than the extra arithmetic.

Both compute in float32 (as mamba-ssm's kernel does) and equal the sequential scan within float32
rounding: every decay is in (0, 1], so reordering the products does not amplify errors.
"""

from __future__ import annotations

from typing import Literal

import torch

Form = Literal["auto", "sequential", "associative"]

CHUNK_ELEMENTS = 1 << 18
"""Elements of one chunk's state tensor (batch x chunk x d_state x d_inner) on CPU: 1 MiB in float32,
so that the decay and input of a chunk stay in cache while the recurrence runs over them (measured:
16 to 32 positions at d_inner 512, d_state 16 is fastest on CPU)."""

CHUNK_ELEMENTS_CUDA = 1 << 24
"""On CUDA, larger chunks: fewer kernel launches, and GPU memory is plentiful at this size (64 MiB)."""


def chunk_length(batch: int, d_inner: int, d_state: int, device: torch.device) -> int:
    """Positions per chunk so that one chunk's state tensor holds about `CHUNK_ELEMENTS` values."""
    budget = CHUNK_ELEMENTS_CUDA if device.type == "cuda" else CHUNK_ELEMENTS
    return max(1, budget // max(1, batch * d_inner * d_state))


def selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
    chunk: int | None = None,
    form: Form = "auto",
) -> torch.Tensor:
    """y of the selective scan, in float32, laid out (batch, length, d_inner).

    u, delta: (batch, length, d_inner) (delta after its softplus); A: (d_inner, d_state);
    B, C: (batch, length, d_state); D: (d_inner,) or None. `chunk`: positions per chunk (default from
    `chunk_length`); `form`: the in-chunk recurrence (`auto`: sequential on CPU, associative on CUDA)."""
    batch, length, d_inner = u.shape
    d_state = A.shape[1]
    u, delta, B, C = (t.float() for t in (u, delta, B, C))
    a_t = A.float().t().contiguous()  # (d_state, d_inner): d_inner innermost, so broadcasts vectorise
    du = delta * u
    step = chunk or chunk_length(batch, d_inner, d_state, u.device)
    associative = form == "associative" or (form == "auto" and u.device.type == "cuda")
    y = torch.empty(batch, length, 1, d_inner, device=u.device, dtype=torch.float32)
    state: torch.Tensor | None = None  # (batch, d_state, d_inner), carried from chunk to chunk
    for start in range(0, length, step):
        end = min(length, start + step)
        # (batch, positions, d_state, d_inner): the decay exp(delta A) and the input delta B u.
        decay = torch.mul(delta[:, start:end, None, :], a_t).exp_()
        h = torch.mul(du[:, start:end, None, :], B[:, start:end, :, None])
        if associative:
            _associative(decay, h)
            if state is not None:
                h.addcmul_(decay, state.unsqueeze(1))
        else:
            _sequential(decay, h, state)
        state = h[:, -1]
        # y[t] = C[t] . h[t]: (batch, positions, 1, d_state) @ (batch, positions, d_state, d_inner).
        torch.matmul(C[:, start:end, None, :], h, out=y[:, start:end])
    out = y.view(batch, length, d_inner)
    if D is not None:
        out.addcmul_(u, D.float())
    return out


def _sequential(decay: torch.Tensor, h: torch.Tensor, state: torch.Tensor | None) -> None:
    """h[t] += decay[t] * h[t-1] in place, position by position (h[-1] is the carried state)."""
    decays, states = decay.unbind(1), h.unbind(1)
    if state is not None:
        states[0].addcmul_(decays[0], state)
    for t in range(1, len(states)):
        states[t].addcmul_(decays[t], states[t - 1])


def _associative(decay: torch.Tensor, h: torch.Tensor) -> None:
    """Inclusive prefix scan over dim 1 in place: afterwards h[t] is the state from a zero start and
    decay[t] the product of the decays up to t (what multiplies the state carried in)."""
    span = 1
    while span < h.shape[1]:
        h[:, span:] = torch.addcmul(h[:, span:], decay[:, span:], h[:, :-span])
        decay[:, span:] = decay[:, span:] * decay[:, :-span]
        span *= 2
