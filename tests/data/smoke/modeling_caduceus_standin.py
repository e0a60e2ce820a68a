"""Caduceus-shaped stand-ins (PH and PS), loaded with trust_remote_code from a local checkpoint folder.

Written for the tests on the structure of the upstream code (kuleshov-group/caduceus at 2593c80,
`caduceus/modeling_caduceus.py` and `caduceus/modeling_rcps.py`, Apache-2.0), in one file, with the
same module tree and parameter names (`backbone.embeddings.word_embeddings`, `backbone.layers.N.mixer`
(`.submodule` under RCPS) `.mamba_fwd` / `.mamba_rev`, `backbone.norm_f`) and the same computation:

- mamba-ssm imported exactly as upstream does (module paths, the 1.x/2.x `Block` probe and its
  `mlp_cls` detection, the Triton layer-norm module of either release, the fused add-norm path);
- BiMamba blocks whose reverse Mamba shares the forward one's in/out projections as upstream ties
  them: the same `nn.Parameter` assigned to both (`bidirectional_weight_tie`), which transformers 4.57
  neither saves twice (save_pretrained refuses) nor ties again on load;
- with `rcps`, reverse-complement equivariance by construction (2 x d_model channels, the second half
  the reverse-complement strand with its channels flipped), including upstream's fused RCPS add-norm,
  which normalises the second half as the forward strand (equivariant all the same).

Only the classes' names differ (CaduceusStandinConfig, CaduceusStandinModel), and the masked-LM and
classification heads are left out: the smoke test loads the backbone (AutoModel).
"""

from __future__ import annotations

import inspect
import math
from collections import OrderedDict
from functools import partial

import torch
from mamba_ssm.modules.mamba_simple import Mamba

try:
    from mamba_ssm.modules.mamba_simple import Block  # mamba-ssm 1.x
except ImportError:
    from mamba_ssm.modules.block import Block  # mamba-ssm 2.x
from torch import nn
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
    """upstream's CaduceusConfig (its defaults shrunk to a tiny model)."""

    model_type = "caduceus_standin"

    def __init__(
        self,
        d_model=16,
        n_layer=2,
        vocab_size=16,
        ssm_cfg=None,
        rms_norm=True,
        residual_in_fp32=False,
        fused_add_norm=True,
        pad_vocab_size_multiple=8,
        norm_epsilon=1e-5,
        initializer_cfg=None,
        bidirectional=True,
        bidirectional_strategy="add",
        bidirectional_weight_tie=True,
        rcps=False,
        complement_map=None,
        **kwargs,
    ):
        kwargs.setdefault("pad_token_id", 4)
        super().__init__(**kwargs)
        self.d_model, self.n_layer, self.vocab_size, self.ssm_cfg = d_model, n_layer, vocab_size, ssm_cfg
        self.rms_norm, self.residual_in_fp32, self.fused_add_norm = rms_norm, residual_in_fp32, fused_add_norm
        self.pad_vocab_size_multiple, self.norm_epsilon = pad_vocab_size_multiple, norm_epsilon
        self.initializer_cfg = initializer_cfg
        self.bidirectional, self.bidirectional_strategy = bidirectional, bidirectional_strategy
        self.bidirectional_weight_tie, self.rcps = bidirectional_weight_tie, rcps
        self.complement_map = complement_map


# --- modeling_rcps.py -----------------------------------------------------------------------------------


class RCPSEmbedding(nn.Module):
    """Embeds the sequence and its reverse complement: (B, L) ids -> (B, L, 2 * d_model)."""

    def __init__(self, vocab_size, d_model, complement_map, **factory_kwargs):
        super().__init__()
        self.register_buffer(
            "complement_map", torch.tensor(list(OrderedDict(complement_map).values()), dtype=torch.long)
        )
        self.embedding = nn.Embedding(vocab_size, d_model, **factory_kwargs)

    @property
    def weight(self):
        return self.embedding.weight

    def rc(self, x):
        return torch.gather(
            self.complement_map.unsqueeze(0).expand(x.shape[0], -1), dim=1, index=torch.flip(x, dims=[-1])
        )

    def forward(self, input_ids):
        fwd_out = self.embedding(input_ids)
        rc_out = torch.flip(self.embedding(self.rc(input_ids)), dims=[-2, -1])
        return torch.cat([fwd_out, rc_out], dim=-1)


class RCPSWrapper(nn.Module):
    """Runs a module on the forward half and on the reverse complement of the second half."""

    def __init__(self, submodule):
        super().__init__()
        self.submodule = submodule

    @staticmethod
    def rc(x):
        return torch.flip(x, dims=[-2, -1])

    def forward(self, x, **kwargs):
        n_channels = x.shape[-1]
        fwd_out = self.submodule(x[..., : n_channels // 2], **kwargs)
        rc_out = self.submodule(self.rc(x[..., n_channels // 2 :]), **kwargs)
        return torch.cat([fwd_out, self.rc(rc_out)], dim=-1)


class RCPSAddNormWrapper(RCPSWrapper):
    def forward(self, x, residual=None, prenorm=False):
        n_channels = x.shape[-1]
        dtype = self.submodule.weight.dtype
        if residual is None:
            residual = x
            x_fwd = self.submodule(x[..., : n_channels // 2].to(dtype=dtype))
            x_rc = self.submodule(self.rc(x[..., n_channels // 2 :]).to(dtype=dtype))
            x = torch.cat([x_fwd, self.rc(x_rc)], dim=-1)
        else:
            residual_fwd = x[..., : n_channels // 2] + residual[..., : n_channels // 2]
            x_fwd = self.submodule(residual_fwd.to(dtype=dtype))
            residual_rc = self.rc(x[..., n_channels // 2 :]) + self.rc(residual[..., n_channels // 2 :])
            x_rc = self.submodule(residual_rc.to(dtype=dtype))
            residual = torch.cat([residual_fwd, self.rc(residual_rc)], dim=-1)
            x = torch.cat([x_fwd, self.rc(x_rc)], dim=-1)
        return x if not prenorm else (x, residual)


class RCPSMambaBlock(nn.Module):
    def __init__(self, dim, mixer_cls, norm_cls=nn.LayerNorm, fused_add_norm=False, residual_in_fp32=False):
        super().__init__()
        self.residual_in_fp32 = residual_in_fp32
        self.fused_add_norm = fused_add_norm
        self.mixer = RCPSWrapper(mixer_cls(dim))
        norm_f = norm_cls(dim)
        self.norm = norm_f if fused_add_norm else RCPSAddNormWrapper(norm_f)
        if self.fused_add_norm:
            assert RMSNorm is not None, "RMSNorm import fails"
            assert isinstance(self.norm, (nn.LayerNorm, RMSNorm)), (
                "Only LayerNorm and RMSNorm are supported for fused_add_norm"
            )

    def forward(self, hidden_states, residual=None, inference_params=None):
        if not self.fused_add_norm:
            hidden_states, residual = self.norm(hidden_states, residual=residual, prenorm=True)
            if self.residual_in_fp32:
                residual = residual.to(torch.float32)
        else:
            fused_add_norm_fn = rms_norm_fn if isinstance(self.norm, RMSNorm) else layer_norm_fn
            half = hidden_states.shape[-1] // 2
            # As upstream: the second half goes through as the forward strand, the first as the RC.
            hidden_states_fwd, residual_fwd = fused_add_norm_fn(
                hidden_states[..., half:],
                self.norm.weight,
                self.norm.bias,
                residual=residual[..., half:] if residual is not None else None,
                prenorm=True,
                residual_in_fp32=self.residual_in_fp32,
                eps=self.norm.eps,
            )
            hidden_states_rc, residual_rc = fused_add_norm_fn(
                hidden_states[..., :half].flip(dims=[-2, -1]),
                self.norm.weight,
                self.norm.bias,
                residual=residual[..., :half].flip(dims=[-2, -1]) if residual is not None else None,
                prenorm=True,
                residual_in_fp32=self.residual_in_fp32,
                eps=self.norm.eps,
            )
            hidden_states = torch.cat([hidden_states_fwd, hidden_states_rc.flip(dims=[-2, -1])], dim=-1)
            residual = torch.cat([residual_fwd, residual_rc.flip(dims=[-2, -1])], dim=-1)
        hidden_states = self.mixer(hidden_states, inference_params=inference_params)
        return hidden_states, residual


# --- modeling_caduceus.py -------------------------------------------------------------------------------


def create_block(
    d_model,
    ssm_cfg=None,
    norm_epsilon=1e-5,
    rms_norm=False,
    residual_in_fp32=False,
    fused_add_norm=False,
    layer_idx=None,
    bidirectional=True,
    bidirectional_strategy="add",
    bidirectional_weight_tie=True,
    rcps=False,
    device=None,
    dtype=None,
):
    ssm_cfg = ssm_cfg or {}
    factory_kwargs = {"device": device, "dtype": dtype}
    bidirectional_kwargs = {
        "bidirectional": bidirectional,
        "bidirectional_strategy": bidirectional_strategy,
        "bidirectional_weight_tie": bidirectional_weight_tie,
    }
    mixer_cls = partial(
        BiMambaWrapper, layer_idx=layer_idx, **ssm_cfg, **bidirectional_kwargs, **factory_kwargs
    )
    norm_cls = partial(nn.LayerNorm if not rms_norm else RMSNorm, eps=norm_epsilon, **factory_kwargs)
    block_cls = RCPSMambaBlock if rcps else Block
    kwargs = {"norm_cls": norm_cls, "fused_add_norm": fused_add_norm, "residual_in_fp32": residual_in_fp32}
    if "mlp_cls" in inspect.signature(block_cls.__init__).parameters:  # mamba-ssm 2.x
        kwargs["mlp_cls"] = nn.Identity
    block = block_cls(d_model, mixer_cls, **kwargs)
    block.layer_idx = layer_idx
    return block


class BiMambaWrapper(nn.Module):
    """Mamba over the sequence plus Mamba over the flipped sequence, flipped back and combined."""

    def __init__(
        self,
        d_model,
        bidirectional=True,
        bidirectional_strategy="add",
        bidirectional_weight_tie=True,
        **mamba_kwargs,
    ):
        super().__init__()
        if bidirectional and bidirectional_strategy is None:
            bidirectional_strategy = "add"
        if bidirectional and bidirectional_strategy not in ["add", "ew_multiply"]:
            raise NotImplementedError(
                f"`{bidirectional_strategy}` strategy for bi-directionality is not implemented!"
            )
        self.bidirectional = bidirectional
        self.bidirectional_strategy = bidirectional_strategy
        self.mamba_fwd = Mamba(d_model=d_model, **mamba_kwargs)
        if bidirectional:
            self.mamba_rev = Mamba(d_model=d_model, **mamba_kwargs)
            if bidirectional_weight_tie:  # tie in and out projections (where most of the parameters lie)
                self.mamba_rev.in_proj.weight = self.mamba_fwd.in_proj.weight
                self.mamba_rev.in_proj.bias = self.mamba_fwd.in_proj.bias
                self.mamba_rev.out_proj.weight = self.mamba_fwd.out_proj.weight
                self.mamba_rev.out_proj.bias = self.mamba_fwd.out_proj.bias
        else:
            self.mamba_rev = None

    def forward(self, hidden_states, inference_params=None):
        out = self.mamba_fwd(hidden_states, inference_params=inference_params)
        if self.bidirectional:
            out_rev = self.mamba_rev(hidden_states.flip(dims=(1,)), inference_params=inference_params).flip(
                dims=(1,)
            )
            if self.bidirectional_strategy == "add":
                out = out + out_rev
            elif self.bidirectional_strategy == "ew_multiply":
                out = out * out_rev
        return out


class CaduceusEmbeddings(nn.Module):
    def __init__(self, config, device=None, dtype=None):
        super().__init__()
        factory_kwargs = {"device": device, "dtype": dtype}
        if config.rcps:
            self.word_embeddings = RCPSEmbedding(
                config.vocab_size, config.d_model, config.complement_map, **factory_kwargs
            )
        else:
            self.word_embeddings = nn.Embedding(config.vocab_size, config.d_model, **factory_kwargs)

    def forward(self, input_ids):
        return self.word_embeddings(input_ids)


class CaduceusMixerModel(nn.Module):
    def __init__(self, config, device=None, dtype=None):
        super().__init__()
        factory_kwargs = {"device": device, "dtype": dtype}
        self.fused_add_norm = config.fused_add_norm
        self.rcps = config.rcps
        self.residual_in_fp32 = config.residual_in_fp32
        self.embeddings = CaduceusEmbeddings(config, **factory_kwargs)
        if config.fused_add_norm and (layer_norm_fn is None or rms_norm_fn is None):
            raise ImportError("Failed to import Triton LayerNorm / RMSNorm kernels")
        self.layers = nn.ModuleList(
            [
                create_block(
                    config.d_model,
                    ssm_cfg=config.ssm_cfg,
                    norm_epsilon=config.norm_epsilon,
                    rms_norm=config.rms_norm,
                    residual_in_fp32=config.residual_in_fp32,
                    fused_add_norm=config.fused_add_norm,
                    layer_idx=i,
                    bidirectional=config.bidirectional,
                    bidirectional_strategy=config.bidirectional_strategy,
                    bidirectional_weight_tie=config.bidirectional_weight_tie,
                    rcps=config.rcps,
                    **factory_kwargs,
                )
                for i in range(config.n_layer)
            ]
        )
        norm_f = (nn.LayerNorm if not config.rms_norm else RMSNorm)(
            config.d_model, eps=config.norm_epsilon, **factory_kwargs
        )
        self.norm_f = norm_f if (config.fused_add_norm or not config.rcps) else RCPSAddNormWrapper(norm_f)

    def forward(self, input_ids, inputs_embeds=None, output_hidden_states=False):
        all_hidden_states = []
        hidden_states = inputs_embeds if inputs_embeds is not None else self.embeddings(input_ids)
        residual = None
        for layer in self.layers:
            if output_hidden_states:
                all_hidden_states.append(hidden_states)
            hidden_states, residual = layer(hidden_states, residual, inference_params=None)
        if not self.fused_add_norm:
            if self.rcps:
                hidden_states = self.norm_f(hidden_states, residual=residual, prenorm=False)
            else:
                residual = (hidden_states + residual) if residual is not None else hidden_states
                hidden_states = self.norm_f(residual.to(dtype=self.norm_f.weight.dtype))
        else:
            fused_add_norm_fn = rms_norm_fn if isinstance(self.norm_f, RMSNorm) else layer_norm_fn
            norm = {"eps": self.norm_f.eps, "prenorm": False, "residual_in_fp32": self.residual_in_fp32}
            if self.rcps:
                half = hidden_states.shape[-1] // 2
                hidden_states_fwd = fused_add_norm_fn(
                    hidden_states[..., :half],
                    self.norm_f.weight,
                    self.norm_f.bias,
                    residual=residual[..., :half],
                    **norm,
                )
                hidden_states_rc = fused_add_norm_fn(
                    hidden_states[..., half:].flip(dims=[-2, -1]),
                    self.norm_f.weight,
                    self.norm_f.bias,
                    residual=residual[..., half:].flip(dims=[-2, -1]),
                    **norm,
                )
                hidden_states = torch.cat([hidden_states_fwd, hidden_states_rc.flip(dims=[-2, -1])], dim=-1)
            else:
                hidden_states = fused_add_norm_fn(
                    hidden_states, self.norm_f.weight, self.norm_f.bias, residual=residual, **norm
                )
            if output_hidden_states:
                all_hidden_states.append(hidden_states)
        return hidden_states, all_hidden_states


class CaduceusPreTrainedModel(PreTrainedModel):
    config_class = CaduceusStandinConfig
    base_model_prefix = "caduceus"
    supports_gradient_checkpointing = False
    _no_split_modules = ["BiMambaWrapper"]

    def _init_weights(self, module, initializer_range=0.02, **kwargs):
        """As upstream: zero Linear biases (not the time-step bias), small embeddings, and the GPT-2
        rescaling of the output projections by 1/sqrt(n_layer)."""
        n_layer = self.config.n_layer
        initialized_cfg = self.config.initializer_cfg if self.config.initializer_cfg is not None else {}
        rescale_prenorm_residual = initialized_cfg.get("rescale_prenorm_residual", True)
        initializer_range = initialized_cfg.get("initializer_range", initializer_range)
        n_residuals_per_layer = initialized_cfg.get("n_residuals_per_layer", 1)
        if isinstance(module, nn.Linear):
            if module.bias is not None and not getattr(module.bias, "_no_reinit", False):
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=initializer_range)
        if rescale_prenorm_residual:
            for name, p in module.named_parameters():
                if name in ["out_proj.weight", "fc2.weight"]:
                    nn.init.kaiming_uniform_(p, a=math.sqrt(5))
                    with torch.no_grad():
                        p /= math.sqrt(n_residuals_per_layer * n_layer)


class CaduceusStandinModel(CaduceusPreTrainedModel):
    """upstream's `Caduceus` (the backbone AutoModel loads)."""

    def __init__(self, config, device=None, dtype=None, **kwargs):
        super().__init__(config)
        if config.rcps:
            assert config.complement_map is not None, "Complement map must be provided for RCPS."
        if config.vocab_size % config.pad_vocab_size_multiple != 0:
            config.vocab_size += config.pad_vocab_size_multiple - (
                config.vocab_size % config.pad_vocab_size_multiple
            )
        if config.complement_map is not None and config.vocab_size > len(config.complement_map):
            for i in range(len(config.complement_map), config.vocab_size):
                config.complement_map[i] = i
        self.config = config
        self.backbone = CaduceusMixerModel(config, device=device, dtype=dtype, **kwargs)

    def forward(self, input_ids=None, inputs_embeds=None, output_hidden_states=None, return_dict=None):
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        return_dict = return_dict if return_dict is not None else self.config.use_return_dict
        hidden_states, all_hidden_states = self.backbone(
            input_ids, inputs_embeds=inputs_embeds, output_hidden_states=output_hidden_states
        )
        if return_dict:
            return BaseModelOutputWithNoAttention(
                last_hidden_state=hidden_states,
                hidden_states=all_hidden_states if output_hidden_states else None,
            )
        if output_hidden_states:
            return hidden_states, all_hidden_states
        return hidden_states
