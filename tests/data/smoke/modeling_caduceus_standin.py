"""Caduceus-shaped stand-ins (PH and PS), loaded with trust_remote_code from a local checkpoint folder.

Written for the tests on the structure of the upstream code (kuleshov-group/caduceus,
`caduceus/modeling_caduceus.py` and `modeling_rcps.py`): it imports mamba-ssm exactly as upstream does
(module paths, the 1.x/2.x `Block` probe and its `mlp_cls` detection, the Triton layer-norm module
of either release and the fused add-norm path), builds BiMamba blocks from mamba-ssm's `Mamba`, and
with `rcps` is reverse-complement equivariant by construction (2 x d_model channels, the second half
the reverse-complement strand with its channels flipped).

One deliberate difference: upstream ties the reverse Mamba's in/out projections to the forward ones
by sharing parameters, which save_pretrained refuses and transformers 4.57 unties on load; here the
reverse layer reads the forward layer's projections at call time (`_Tied`), with the same result.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from functools import partial

import torch
from mamba_ssm.modules.mamba_simple import Mamba

try:
    from mamba_ssm.modules.mamba_simple import Block  # mamba-ssm 1.x
except ImportError:
    from mamba_ssm.modules.block import Block  # mamba-ssm 2.x
from torch import nn
from torch.nn import functional as F
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithNoAttention

try:
    from mamba_ssm.ops.triton.layernorm import RMSNorm, layer_norm_fn, rms_norm_fn  # mamba-ssm 1.x
except ImportError:
    try:
        from mamba_ssm.ops.triton.layer_norm import RMSNorm, layer_norm_fn, rms_norm_fn  # mamba-ssm 2.x
    except ImportError:
        RMSNorm, layer_norm_fn, rms_norm_fn = None, None, None


class CaduceusStandinConfig(PretrainedConfig):
    model_type = "caduceus_standin"

    def __init__(
        self,
        d_model=16,
        n_layer=2,
        vocab_size=12,
        ssm_cfg=None,
        rms_norm=True,
        residual_in_fp32=False,
        fused_add_norm=True,
        pad_vocab_size_multiple=8,
        norm_epsilon=1e-5,
        bidirectional=True,
        bidirectional_strategy="add",
        bidirectional_weight_tie=True,
        rcps=False,
        complement_map=None,
        pad_token_id=4,
        **kwargs,
    ):
        self.d_model, self.n_layer, self.vocab_size = d_model, n_layer, vocab_size
        self.ssm_cfg = ssm_cfg
        self.rms_norm, self.residual_in_fp32, self.fused_add_norm = rms_norm, residual_in_fp32, fused_add_norm
        self.pad_vocab_size_multiple, self.norm_epsilon = pad_vocab_size_multiple, norm_epsilon
        self.bidirectional, self.bidirectional_strategy = bidirectional, bidirectional_strategy
        self.bidirectional_weight_tie, self.rcps = bidirectional_weight_tie, rcps
        self.complement_map = complement_map
        super().__init__(pad_token_id=pad_token_id, **kwargs)


def _rc(x):
    """Reverse complement of a [B, L, C] representation: flip length and channels."""
    return torch.flip(x, dims=[-2, -1])


class _Tied(nn.Module):
    """A Linear that uses another Linear's weight and bias, read when called (owns no parameters)."""

    def __init__(self, source):
        super().__init__()
        object.__setattr__(self, "_source", source)  # not a submodule: saved and counted once

    @property
    def weight(self):
        return self._source.weight

    @property
    def bias(self):
        return self._source.bias

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class BiMamba(nn.Module):
    """Mamba over the sequence plus Mamba over the flipped sequence, flipped back and added."""

    def __init__(
        self,
        d_model,
        bidirectional=True,
        bidirectional_strategy="add",
        bidirectional_weight_tie=True,
        **mamba_kwargs,
    ):
        super().__init__()
        self.bidirectional, self.strategy = bidirectional, bidirectional_strategy or "add"
        self.mamba_fwd = Mamba(d_model=d_model, **mamba_kwargs)
        self.mamba_rev = Mamba(d_model=d_model, **mamba_kwargs) if bidirectional else None
        if bidirectional and bidirectional_weight_tie:
            self.mamba_rev.in_proj = _Tied(self.mamba_fwd.in_proj)
            self.mamba_rev.out_proj = _Tied(self.mamba_fwd.out_proj)

    def forward(self, hidden_states, inference_params=None):
        out = self.mamba_fwd(hidden_states, inference_params=inference_params)
        if self.mamba_rev is not None:
            rev = self.mamba_rev(hidden_states.flip(dims=(1,)), inference_params=inference_params).flip(
                dims=(1,)
            )
            out = out + rev if self.strategy == "add" else out * rev
        return out


class RCPSEmbedding(nn.Module):
    def __init__(self, vocab_size, d_model, complement_map):
        super().__init__()
        table = torch.tensor(
            list(OrderedDict(sorted((int(k), int(v)) for k, v in complement_map.items())).values())
        )
        self.register_buffer("complement_map", table)
        self.embedding = nn.Embedding(vocab_size, d_model)

    def forward(self, input_ids):
        rc_ids = self.complement_map[input_ids].flip(dims=[-1])
        return torch.cat([self.embedding(input_ids), _rc(self.embedding(rc_ids))], dim=-1)


class RCPS(nn.Module):
    """Runs a module on the forward half and on the reverse complement of the second half."""

    def __init__(self, submodule):
        super().__init__()
        self.submodule = submodule

    def forward(self, x, **kwargs):
        d = x.shape[-1] // 2
        return torch.cat(
            [self.submodule(x[..., :d], **kwargs), _rc(self.submodule(_rc(x[..., d:]), **kwargs))], -1
        )


class RCPSAddNorm(RCPS):
    def forward(self, x, residual=None, prenorm=False):
        d = x.shape[-1] // 2
        dtype = self.submodule.weight.dtype
        res_f = x[..., :d] if residual is None else x[..., :d] + residual[..., :d]
        res_r = _rc(x[..., d:]) if residual is None else _rc(x[..., d:]) + _rc(residual[..., d:])
        out = torch.cat([self.submodule(res_f.to(dtype)), _rc(self.submodule(res_r.to(dtype)))], -1)
        return (out, torch.cat([res_f, _rc(res_r)], -1)) if prenorm else out


def _fused_rcps(fn, norm, x, residual, prenorm, residual_in_fp32):
    """The fused add-norm on both strands (the RC half flipped into forward orientation and back)."""
    d = x.shape[-1] // 2
    halves = []
    for part, flip in ((slice(None, d), False), (slice(d, None), True)):
        h = _rc(x[..., part]) if flip else x[..., part]
        r = None if residual is None else (_rc(residual[..., part]) if flip else residual[..., part])
        out = fn(
            h,
            norm.weight,
            norm.bias,
            residual=r,
            prenorm=prenorm,
            residual_in_fp32=residual_in_fp32,
            eps=norm.eps,
        )
        out = out if prenorm else (out,)
        halves.append([_rc(o) if flip else o for o in out])
    joined = [torch.cat([f, r], -1) for f, r in zip(*halves, strict=True)]
    return tuple(joined) if prenorm else joined[0]


class RCPSBlock(nn.Module):
    def __init__(self, dim, mixer_cls, norm_cls=nn.LayerNorm, fused_add_norm=False, residual_in_fp32=False):
        super().__init__()
        self.fused_add_norm, self.residual_in_fp32 = fused_add_norm, residual_in_fp32
        self.mixer = RCPS(mixer_cls(dim))
        norm = norm_cls(dim)
        self.norm = norm if fused_add_norm else RCPSAddNorm(norm)

    def forward(self, hidden_states, residual=None, inference_params=None):
        if self.fused_add_norm:
            fn = rms_norm_fn if isinstance(self.norm, RMSNorm) else layer_norm_fn
            hidden_states, residual = _fused_rcps(
                fn, self.norm, hidden_states, residual, True, self.residual_in_fp32
            )
        else:
            hidden_states, residual = self.norm(hidden_states, residual=residual, prenorm=True)
            if self.residual_in_fp32:
                residual = residual.to(torch.float32)
        return self.mixer(hidden_states, inference_params=inference_params), residual


def make_block(config, layer_idx):
    mixer_cls = partial(
        BiMamba,
        layer_idx=layer_idx,
        **(config.ssm_cfg or {}),
        bidirectional=config.bidirectional,
        bidirectional_strategy=config.bidirectional_strategy,
        bidirectional_weight_tie=config.bidirectional_weight_tie,
    )
    norm_cls = partial(RMSNorm if config.rms_norm else nn.LayerNorm, eps=config.norm_epsilon)
    block_cls = RCPSBlock if config.rcps else Block
    kwargs = {
        "norm_cls": norm_cls,
        "fused_add_norm": config.fused_add_norm,
        "residual_in_fp32": config.residual_in_fp32,
    }
    if "mlp_cls" in inspect.signature(block_cls.__init__).parameters:  # mamba-ssm 2.x
        kwargs["mlp_cls"] = nn.Identity
    return block_cls(config.d_model, mixer_cls, **kwargs)


class CaduceusStandinModel(PreTrainedModel):
    config_class = CaduceusStandinConfig
    base_model_prefix = "caduceus"

    def __init__(self, config):
        super().__init__(config)
        if config.vocab_size % config.pad_vocab_size_multiple:
            config.vocab_size += (
                config.pad_vocab_size_multiple - config.vocab_size % config.pad_vocab_size_multiple
            )
        if config.complement_map is not None:
            config.complement_map = {
                str(i): int(config.complement_map.get(str(i), config.complement_map.get(i, i)))
                for i in range(config.vocab_size)
            }
        if config.fused_add_norm and (layer_norm_fn is None or rms_norm_fn is None):
            raise ImportError("Failed to import Triton LayerNorm / RMSNorm kernels")
        self.embeddings = (
            RCPSEmbedding(config.vocab_size, config.d_model, config.complement_map)
            if config.rcps
            else nn.Embedding(config.vocab_size, config.d_model)
        )
        self.layers = nn.ModuleList(make_block(config, i) for i in range(config.n_layer))
        norm_f = (RMSNorm if config.rms_norm else nn.LayerNorm)(config.d_model, eps=config.norm_epsilon)
        self.norm_f = norm_f if (config.fused_add_norm or not config.rcps) else RCPSAddNorm(norm_f)
        self.post_init()

    def _init_weights(self, module):
        """As upstream: zero Linear biases (not the time-step bias, marked `_no_reinit`) and small
        embeddings; other weights keep PyTorch's initialisation."""
        if (
            isinstance(module, nn.Linear)
            and module.bias is not None
            and not getattr(module.bias, "_no_reinit", False)
        ):
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def _final_norm(self, hidden, residual):
        config, norm = self.config, self.norm_f
        if not config.fused_add_norm:
            if config.rcps:
                return norm(hidden, residual=residual, prenorm=False)
            residual = hidden + residual if residual is not None else hidden
            return norm(residual.to(dtype=norm.weight.dtype))
        fn = rms_norm_fn if isinstance(norm, RMSNorm) else layer_norm_fn
        if config.rcps:
            return _fused_rcps(fn, norm, hidden, residual, False, config.residual_in_fp32)
        return fn(
            hidden,
            norm.weight,
            norm.bias,
            eps=norm.eps,
            residual=residual,
            prenorm=False,
            residual_in_fp32=config.residual_in_fp32,
        )

    def forward(self, input_ids, output_hidden_states=None, return_dict=None):
        hidden, residual, states = self.embeddings(input_ids), None, []
        for layer in self.layers:
            states.append(hidden)
            hidden, residual = layer(hidden, residual, inference_params=None)
        hidden = self._final_norm(hidden, residual)
        states.append(hidden)
        return BaseModelOutputWithNoAttention(
            last_hidden_state=hidden, hidden_states=tuple(states) if output_hidden_states else None
        )
