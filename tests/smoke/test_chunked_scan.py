"""The chunked selective scan of the reference kernels equals the recurrence computed one position at a
time (written here from the Mamba paper, independently of the product and of transformers), within
float32 rounding, on random shapes and chunk lengths that do not divide the sequence; and it never
holds the whole (batch, length, d_inner, d_state) state."""

from __future__ import annotations

import random
from typing import Any

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from generator.smoke.reference.scan import chunk_length, selective_scan


def recurrence(
    u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, D: torch.Tensor
) -> torch.Tensor:
    """h[t] = exp(delta[t] A) h[t-1] + delta[t] B[t] u[t]; y[t] = C[t] . h[t] + D u[t], one t at a time."""
    batch, length, d_inner = u.shape
    h = torch.zeros(batch, d_inner, A.shape[1], dtype=u.dtype)
    ys = []
    for t in range(length):
        dt = delta[:, t, :, None]
        h = torch.exp(dt * A) * h + dt * B[:, t, None, :] * u[:, t, :, None]
        ys.append((h * C[:, t, None, :]).sum(-1) + D * u[:, t])
    return torch.stack(ys, dim=1)


def _inputs(seed: int, batch: int, length: int, d_inner: int, d_state: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "u": torch.randn(batch, length, d_inner, generator=g),
        "delta": torch.nn.functional.softplus(torch.randn(batch, length, d_inner, generator=g) - 1),
        "A": -torch.exp(torch.randn(d_inner, d_state, generator=g)),
        "B": torch.randn(batch, length, d_state, generator=g),
        "C": torch.randn(batch, length, d_state, generator=g),
        "D": torch.randn(d_inner, generator=g),
    }


def _shapes(count: int) -> list[tuple[int, int, int, int, int, int]]:
    """(seed, batch, length, d_inner, d_state, chunk): random, lengths mostly not a multiple of chunk."""
    rng = random.Random(25)
    out = []
    for seed in range(count):
        length = rng.choice([1, 2, 7, 31, 64, 100, 257])
        chunk = rng.choice([1, 3, 8, 16, 50, length, length + 5])
        out.append((seed, rng.randint(1, 3), length, rng.choice([1, 5, 24]), rng.choice([1, 4, 16]), chunk))
    return out


@pytest.mark.parametrize("form", ["sequential", "associative"])
@pytest.mark.parametrize(("seed", "batch", "length", "d_inner", "d_state", "chunk"), _shapes(12))
def test_chunked_scan_equals_the_recurrence(
    form: Any, seed: int, batch: int, length: int, d_inner: int, d_state: int, chunk: int
) -> None:
    x = _inputs(seed, batch, length, d_inner, d_state)
    want = recurrence(**{k: v.double() for k, v in x.items()})  # the ground truth, in float64
    float32 = recurrence(**x)
    got = selective_scan(**x, chunk=chunk, form=form)
    assert got.dtype == torch.float32 and got.shape == (batch, length, d_inner)
    # As close to the truth as the float32 recurrence itself is: rounding, nothing more.
    scale = float(want.abs().max()) + 1.0
    error, reference_error = (
        float((got.double() - want).abs().max()),
        float((float32.double() - want).abs().max()),
    )
    assert error <= max(4 * reference_error, 1e-6 * scale), (error, reference_error)
    torch.testing.assert_close(got, float32, rtol=1e-5, atol=1e-5 * scale)


def test_the_default_chunk_divides_nothing_and_the_forms_agree() -> None:
    x = _inputs(0, 2, 1000, 64, 16)
    assert 1000 % chunk_length(2, 64, 16, torch.device("cpu")) != 0
    default = selective_scan(**x)
    torch.testing.assert_close(
        default, selective_scan(**x, form="associative", chunk=96), rtol=1e-5, atol=1e-5
    )
    torch.testing.assert_close(default, recurrence(**x), rtol=1e-5, atol=1e-5)


def test_without_d_the_skip_is_left_out() -> None:
    x = _inputs(1, 1, 20, 8, 4)
    d = x.pop("D")
    torch.testing.assert_close(
        selective_scan(**x, D=d) - d * x["u"], selective_scan(**x), rtol=1e-5, atol=1e-6
    )


class _Largest(TorchDispatchMode):
    """The largest tensor any operation produced while active."""

    largest = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return out


def test_the_whole_state_never_exists() -> None:
    """Memory is bounded by chunks: no tensor as large as (batch, length, d_inner, d_state)."""
    batch, length, d_inner, d_state = 2, 2048, 64, 16
    x = _inputs(2, batch, length, d_inner, d_state)
    with _Largest() as seen:
        selective_scan(**x)
    chunk = chunk_length(batch, d_inner, d_state, torch.device("cpu"))
    assert seen.largest <= max(batch * length * d_inner, batch * chunk * d_inner * d_state)
    assert seen.largest < batch * length * d_inner * d_state // 8


def test_the_mamba_layer_is_the_same_on_either_scan() -> None:
    """The reference `Mamba` layer: chunked (the default) and transformers' sequential scan agree."""
    from generator.smoke.reference.mamba import Mamba, sequential_scan

    torch.manual_seed(3)
    layer = Mamba(d_model=24, d_state=8, d_conv=4, expand=2).eval()
    x = torch.randn(2, 77, 24)
    with torch.no_grad():
        chunked = layer(x)
        with sequential_scan():
            sequential = layer(x)
        odd_chunk = layer.chunked_forward(x, chunk=10)
    torch.testing.assert_close(chunked, sequential, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(odd_chunk, sequential, rtol=1e-5, atol=1e-6)
