"""The reference kernels: exact against transformers' MambaMixer and the unfused norms, installed
for one block only, in either mamba-ssm layout, and chosen only where a card needs them."""

from __future__ import annotations

import importlib.util
import inspect
import sys

import pytest
import torch
from torch.nn import functional as F

from generator.knowledge import load_knowledge_base
from generator.smoke.kernels import REFERENCE_LABEL, choose, covers_cuda
from generator.smoke.reference import installed
from tests.factory import REPO_ROOT
from tests.smoke.standins import CADUCEUS_COMPLEMENT_MAP, CADUCEUS_SSM, DATA


def _real_mamba_ssm() -> bool:
    try:
        import mamba_ssm  # noqa: F401
    except ImportError:
        return False
    return True


# --- Mamba ------------------------------------------------------------------------------------------


def test_mamba_has_mamba_ssm_signature_and_parameters() -> None:
    from generator.smoke.reference.mamba import Mamba

    defaults = {k: p.default for k, p in inspect.signature(Mamba.__init__).parameters.items()}
    assert {k: defaults[k] for k in ("d_state", "d_conv", "expand", "dt_rank", "conv_bias", "bias")} == {
        "d_state": 16,
        "d_conv": 4,
        "expand": 2,
        "dt_rank": "auto",
        "conv_bias": True,
        "bias": False,
    }
    layer = Mamba(d_model=32)
    d_inner, dt_rank = 64, 2  # expand * d_model; ceil(d_model / 16)
    assert {k: tuple(v.shape) for k, v in layer.state_dict().items()} == {
        "in_proj.weight": (2 * d_inner, 32),
        "conv1d.weight": (d_inner, 1, 4),
        "conv1d.bias": (d_inner,),
        "x_proj.weight": (dt_rank + 2 * 16, d_inner),
        "dt_proj.weight": (d_inner, dt_rank),
        "dt_proj.bias": (d_inner,),
        "A_log": (d_inner, 16),
        "D": (d_inner,),
        "out_proj.weight": (32, d_inner),
    }
    # mamba-ssm's time-step initialisation: softplus(bias) lies in [dt_min, dt_max].
    dt = F.softplus(layer.dt_proj.bias.detach())
    assert float(dt.min()) >= 1e-3 - 1e-7 and float(dt.max()) <= 0.1 + 1e-6
    assert layer.dt_proj.bias._no_reinit


def test_mamba_equals_transformers_mamba_mixer_on_the_same_weights() -> None:
    from transformers import MambaConfig
    from transformers.models.mamba.modeling_mamba import MambaMixer

    from generator.smoke.reference.mamba import Mamba

    torch.manual_seed(0)
    ours = Mamba(d_model=24, d_state=8, d_conv=3, expand=2, dt_rank=5, conv_bias=True, bias=True).eval()
    config = MambaConfig(
        hidden_size=24,
        state_size=8,
        conv_kernel=3,
        expand=2,
        time_step_rank=5,
        use_conv_bias=True,
        use_bias=True,
        use_mambapy=False,
    )
    mixer = MambaMixer(config, layer_idx=0).eval()
    mixer.load_state_dict(ours.state_dict())
    x = torch.randn(3, 40, 24)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), mixer.slow_forward(x), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ours(x), _selective_scan_by_hand(ours, x), rtol=1e-5, atol=1e-5)


def _selective_scan_by_hand(m: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The Mamba layer written out from the paper's recurrence, one position at a time."""
    xz = m.in_proj(x)
    u, z = xz.chunk(2, dim=-1)
    seqlen = x.shape[1]
    u = F.silu(m.conv1d(u.transpose(1, 2))[..., :seqlen]).transpose(1, 2)  # causal depthwise conv
    dt, b, c = torch.split(m.x_proj(u), [m.dt_rank, m.d_state, m.d_state], dim=-1)
    delta = F.softplus(dt @ m.dt_proj.weight.T + m.dt_proj.bias)  # [B, L, d_inner]
    a = -torch.exp(m.A_log)  # [d_inner, N]
    state = torch.zeros(x.shape[0], m.d_inner, m.d_state)
    ys = []
    for t in range(seqlen):
        state = (
            torch.exp(delta[:, t, :, None] * a) * state
            + delta[:, t, :, None] * b[:, t, None, :] * u[:, t, :, None]
        )
        ys.append((state * c[:, t, None, :]).sum(-1) + m.D * u[:, t])
    y = torch.stack(ys, dim=1) * F.silu(z)
    return m.out_proj(y)  # type: ignore[no-any-return]


# --- the fused add-norm -----------------------------------------------------------------------------


def test_fused_add_norm_equals_its_unfused_definition() -> None:
    from generator.smoke.reference import layer_norm as ln

    torch.manual_seed(1)
    x, res = torch.randn(2, 7, 16), torch.randn(2, 7, 16)
    w, b = torch.randn(16), torch.randn(16)
    out, residual = ln.layer_norm_fn(x, w, b, residual=res, prenorm=True, eps=1e-5)
    torch.testing.assert_close(residual, x + res, rtol=0, atol=0)
    torch.testing.assert_close(out, F.layer_norm(x + res, (16,), w, b, 1e-5), rtol=1e-6, atol=1e-6)
    rms = (x + res) / torch.sqrt((x + res).pow(2).mean(-1, keepdim=True) + 1e-5) * w
    out, residual = ln.rms_norm_fn(x, w, None, residual=res, prenorm=True, eps=1e-5)
    torch.testing.assert_close(out, rms, rtol=1e-6, atol=1e-6)
    # No residual yet: the input is the residual; residual_in_fp32 keeps it in float32.
    out, residual = ln.rms_norm_fn(x.bfloat16(), w, None, prenorm=True, residual_in_fp32=True, eps=1e-5)
    assert (out.dtype, residual.dtype) == (torch.bfloat16, torch.float32)
    norm = ln.RMSNorm(16, eps=1e-5)
    assert norm.bias is None and norm.eps == 1e-5
    torch.testing.assert_close(norm(x), F.rms_norm(x, (16,), norm.weight, 1e-5))
    # 1.x signatures compute the same.
    torch.testing.assert_close(
        ln.layer_norm_fn_v1(x, w, b, res, 1e-5), ln.layer_norm_fn(x, w, b, res, eps=1e-5)
    )
    torch.testing.assert_close(
        ln.rms_norm_fn_v1(x, w, None, res, eps=1e-5), ln.rms_norm_fn(x, w, None, res, eps=1e-5)
    )
    with pytest.raises(NotImplementedError, match="x1"):
        ln.layer_norm_fn(x, w, b, x1=x)


# --- installing -------------------------------------------------------------------------------------


def _use_inside() -> None:
    with installed() as tree:
        from mamba_ssm.modules.block import Block
        from mamba_ssm.modules.mamba_simple import Mamba
        from mamba_ssm.ops.triton.layer_norm import RMSNorm, layer_norm_fn, rms_norm_fn  # noqa: F401

        assert "mlp_cls" in inspect.signature(Block.__init__).parameters
        assert Mamba.__module__ == "generator.smoke.reference.mamba"
        # Exactly the 2.x layout: the 1.x names are absent, as with the real release.
        with pytest.raises(ImportError):
            from mamba_ssm.modules.mamba_simple import Block as _  # noqa: F401
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("mamba_ssm.ops.triton.layernorm")
        assert importlib.util.find_spec("mamba_ssm") is not None
        assert set(tree) <= set(sys.modules)
        # A module imported inside that binds the reference objects is dropped afterwards.
        spec = importlib.util.spec_from_file_location(
            "_kb_test_uses_mamba", DATA / "modeling_caduceus_standin.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["_kb_test_uses_mamba"] = module
        spec.loader.exec_module(module)


@pytest.mark.skipif(_real_mamba_ssm(), reason="mamba-ssm is installed here")
def test_installed_for_one_block_only_and_nothing_left_behind() -> None:
    _use_inside()  # first use: torch and transformers import what they import once
    before = (set(sys.modules), list(sys.meta_path), list(sys.path_hooks), list(sys.path))
    _use_inside()
    assert (set(sys.modules), list(sys.meta_path), list(sys.path_hooks), list(sys.path)) == before
    assert not [n for n in sys.modules if n.startswith("mamba_ssm") or n == "_kb_test_uses_mamba"]
    with pytest.raises(ImportError):
        importlib.import_module("mamba_ssm")


def test_the_1x_layout() -> None:
    with installed("v1"):
        from mamba_ssm.modules.mamba_simple import Block
        from mamba_ssm.ops.triton.layernorm import rms_norm_fn

        assert "mlp_cls" not in inspect.signature(Block.__init__).parameters
        assert list(inspect.signature(rms_norm_fn).parameters)[3:7] == [
            "residual",
            "prenorm",
            "residual_in_fp32",
            "eps",
        ]
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("mamba_ssm.modules.block")


def _standin(layout: str, rcps: bool, fused: bool, rms: bool, seed: int = 0) -> torch.nn.Module:
    """The upstream-shaped stand-in built under one layout (its file imported afresh each time)."""
    with installed(layout):
        spec = importlib.util.spec_from_file_location(
            f"_kb_standin_{layout}", DATA / "modeling_caduceus_standin.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        config = module.CaduceusStandinConfig(
            vocab_size=16,
            d_model=16,
            n_layer=2,
            ssm_cfg=dict(CADUCEUS_SSM),
            rms_norm=rms,
            fused_add_norm=fused,
            rcps=rcps,
            complement_map=dict(CADUCEUS_COMPLEMENT_MAP),
        )
        torch.manual_seed(seed)
        return module.CaduceusStandinModel(config).eval()  # type: ignore[no-any-return]


@pytest.mark.parametrize("rcps", [False, True], ids=["ph", "ps"])
@pytest.mark.parametrize("rms", [True, False], ids=["rmsnorm", "layernorm"])
def test_layouts_and_fused_norms_compute_the_same_model(rcps: bool, rms: bool) -> None:
    """mamba-ssm 1.x and 2.x layouts give one model; so do the fused and unfused add-norm, except for
    PS: upstream's fused RCPS add-norm takes the second half as the forward strand (equivariant all the
    same), so there fused and unfused are two models, each the same under both layouts."""
    ids = torch.randint(7, 11, (2, 40))
    with torch.no_grad():
        for fused in (True, False):
            reference = _standin("v2", rcps, fused=fused if rcps else True, rms=rms)
            want = reference(ids).last_hidden_state
            for layout in ("v1", "v2"):
                other = _standin(layout, rcps, fused=fused, rms=rms, seed=1)
                other.load_state_dict(_renamed(reference.state_dict(), other.state_dict()))
                torch.testing.assert_close(other(ids).last_hidden_state, want, rtol=1e-5, atol=1e-6)
    assert want.shape[-1] == (32 if rcps else 16)


def _renamed(state: dict, like: dict) -> dict:
    """`state` under the names of `like`: the unfused RCPS norms sit inside a wrapper (`.submodule`)."""

    def plain(key: str) -> str:
        return key.replace("norm.submodule.", "norm.").replace("norm_f.submodule.", "norm_f.")

    by_plain = {plain(k): v for k, v in state.items()}
    return {k: by_plain[plain(k)] for k in like}


# --- which kernels a card gets ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> dict:
    kb, problems = load_knowledge_base(REPO_ROOT)
    assert not [p for p in problems if p.is_error]
    return {c.id: c.card for c in kb.models}


def test_shipped_caduceus_cards_run_on_the_reference_on_cpu_and_evo_does_not(shipped: dict) -> None:
    for card_id in ("caduceus-ph-131k", "caduceus-ps-131k"):
        card = shipped[card_id]
        assert covers_cuda(card)
        kernels = choose(card, "cpu", "auto")
        assert (kernels.kind, kernels.packages, kernels.label) == (
            "reference",
            ("mamba-ssm",),
            REFERENCE_LABEL,
        )
        assert choose(card, "cpu", "native").kind == "native"
    assert not covers_cuda(shipped["evo-1-131k"])  # flash-attn has no reference: still skipped on CPU
    assert choose(shipped["evo-1-131k"], "cpu", "auto").kind == "native"
    assert choose(shipped["dnabert-2-117m"], "cpu", "reference").kind == "native"  # nothing to replace


def test_shipped_caduceus_cards_state_what_a_run_checks(shipped: dict) -> None:
    """RC split (PS) or RC average (PH), pooled width 256, about 7.7M parameters, mamba-ssm."""
    for card_id, rc in (("caduceus-ps-131k", "split"), ("caduceus-ph-131k", "average")):
        card = shipped[card_id]
        assert card.pooling.reverse_complement == rc and card.smoke_test.rc_invariant is True
        assert (card.architecture.hidden_size, card.architecture.embedding_dim) == (256, 256)
        assert card.integration.projector.in_dim == 256
        assert card.architecture.parameters == "7.7M"
        assert card.smoke_test.requires == ["mamba-ssm"] and card.smoke_test.requires_cuda
