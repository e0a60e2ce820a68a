"""From token ids to one pooled embedding per sequence: batching, forward pass, layer, pooling, RC.

The pooling follows the card's `pooling` section: mean over real tokens (by the attention mask), CLS,
last real token, mean over hub tokens, or max; reverse complement none, `average` (forward and RC
embeddings averaged) or `split` (the one-pass split of an RC-equivariant model's 2 x d channels:
`0.5 * (mean h[..., :d] + flip_channels(mean h[..., d:]))`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from generator.exceptions import SmokeError, SmokeStage
from generator.smoke.loader import LoadedModel


class PoolingError(SmokeError):
    """The hidden states do not fit the card's pooling (reported as the failed check 'pooling')."""

    def __init__(self, message: str):
        super().__init__(message, SmokeStage.POOL)


def pool(h: torch.Tensor, mask: torch.Tensor, strategy: str, hub_tokens: int | None = None) -> torch.Tensor:
    """[B, L, D] hidden states and a [B, L] 0/1 mask of real tokens -> [B, D] (float32)."""
    h = h.float()
    m = mask.to(h.device, torch.float32).unsqueeze(-1)
    if strategy == "mean":
        return (h * m).sum(1) / m.sum(1).clamp_min(1.0)
    if strategy == "cls":
        return h[:, 0]
    if strategy == "last":
        last = mask.to(h.device).long().sum(1).clamp_min(1) - 1  # right padding: the last real token
        return h[torch.arange(h.shape[0], device=h.device), last]
    if strategy == "hub_mean":
        if not hub_tokens:
            raise PoolingError("pooling.strategy hub_mean needs pooling.hub_tokens")
        return h[:, :hub_tokens].mean(1)
    if strategy == "max":
        return h.masked_fill(m == 0, float("-inf")).amax(1)
    raise PoolingError(f"unknown pooling strategy '{strategy}'")


def split_rc(
    h: torch.Tensor, mask: torch.Tensor, strategy: str, hub_tokens: int | None = None
) -> torch.Tensor:
    """The one-pass RC-invariant embedding of an RC-equivariant model (Caduceus-PS): d of 2 x d channels."""
    width = h.shape[-1]
    if width % 2:
        raise PoolingError(
            f"reverse_complement 'split' needs an even number of channels; the model gives {width}"
        )
    d = width // 2
    fwd = pool(h[..., :d], mask, strategy, hub_tokens)
    rev = pool(h[..., d:], mask, strategy, hub_tokens)
    return 0.5 * (fwd + rev.flip(-1))


@dataclass
class Forward:
    """What one forward pass gave."""

    hidden: torch.Tensor
    """[B, L, D] hidden states of the card's layer."""
    logits: torch.Tensor | None
    mask: torch.Tensor
    """[B, L] 1 for real tokens."""


def forward(
    model: LoadedModel,
    ids: torch.Tensor,
    mask: torch.Tensor | None,
    layer: int,
    extra: dict[str, Any] | None = None,
) -> Forward:
    """One forward pass; the mask is passed only to models that take one."""
    kwargs: dict[str, Any] = {model.input_name: ids, **(extra or {})}
    accepts = model.accepted

    def ok(name: str) -> bool:
        return not accepts or name in accepts

    if mask is not None and model.takes_mask:
        kwargs["attention_mask"] = mask
    if ok("output_hidden_states"):
        kwargs["output_hidden_states"] = True
    if ok("return_dict"):
        kwargs["return_dict"] = True
    with torch.inference_mode():
        out = model.encoder(**kwargs)
    hidden_states = _get(out, "hidden_states")
    last = _get(out, "last_hidden_state")
    logits = _get(out, "logits")
    if isinstance(out, (tuple, list)) and last is None and hidden_states is None:
        last = out[0]  # DNABERT-2 style: a tuple whose first element is the last hidden state
    if layer == -1 and last is not None:
        hidden = last
    elif hidden_states is not None:
        try:
            hidden = hidden_states[layer]
        except IndexError:
            raise PoolingError(
                f"pooling.layer {layer} does not exist: the model returns "
                f"{len(hidden_states)} hidden states (embeddings + layers)"
            ) from None
    elif torch.is_tensor(out):
        hidden = out
    else:
        raise PoolingError(f"pooling.layer {layer}: the model returns no hidden_states to take it from")
    if hidden.dim() != 3:
        raise PoolingError(f"expected hidden states [batch, tokens, width], got shape {list(hidden.shape)}")
    full_mask = (
        mask if mask is not None else torch.ones(hidden.shape[:2], dtype=torch.long, device=hidden.device)
    )
    return Forward(hidden, logits, full_mask)


def _get(out: Any, name: str) -> Any:
    """A field of a model output (ModelOutput, dict or plain object), or None."""
    if isinstance(out, dict) or hasattr(out, "keys"):
        try:
            return out.get(name)
        except (KeyError, TypeError, AttributeError):
            return None
    return getattr(out, name, None)


def pad_batch(seqs: list[list[int]], pad_id: int, device: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token id lists into [B, L] ids and a [B, L] mask."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids.to(device), mask.to(device)


@dataclass
class Embedder:
    """Turns token id lists into pooled embeddings following the card."""

    model: LoadedModel
    strategy: str
    layer: int
    rc_mode: str
    hub_tokens: int | None
    batching: str
    """`padded` or `unpadded` (resolved from the card's `auto`)."""
    pad_id: int
    device: Any
    _computed: dict[tuple[tuple[int, ...], ...], torch.Tensor] = field(default_factory=dict, repr=False)
    """Pooled outputs by the exact batch of token ids that produced them (see `pooled`)."""

    def pooled(self, seqs: list[list[int]], fresh: bool = False) -> torch.Tensor:
        """[B, D] pooled embeddings (RC split applied; RC averaging is the caller's, it needs the strings).

        A batch computed before in this run is not computed again (the checks ask for the same inputs
        several times: a sequence, then its reverse complement's reverse complement), unless `fresh`:
        the determinism check and the timed encoding run the model anew."""
        if self.batching == "unpadded":
            return torch.cat([self._pooled_batch([s], fresh) for s in seqs])
        return self._pooled_batch(seqs, fresh)

    def _pooled_batch(self, seqs: list[list[int]], fresh: bool) -> torch.Tensor:
        key = tuple(tuple(s) for s in seqs)
        if not fresh and key in self._computed:
            return self._computed[key]
        ids, mask = pad_batch(seqs, self.pad_id, self.device)
        out = forward(self.model, ids, mask, self.layer)
        if self.rc_mode == "split":
            pooled = split_rc(out.hidden, out.mask, self.strategy, self.hub_tokens)
        else:
            pooled = pool(out.hidden, out.mask, self.strategy, self.hub_tokens)
        self._computed[key] = pooled
        return pooled

    def hidden_width(self, item: list[int]) -> int:
        """Width of the hidden states themselves (2 x d_model for an RC-equivariant PS model)."""
        ids, mask = pad_batch([item], self.pad_id, self.device)
        return int(forward(self.model, ids, mask, self.layer).hidden.shape[-1])

    def log_likelihood(self, seq: list[int]) -> float:
        """Sum of next-token log-probabilities of a sequence (for the log-likelihood ratio)."""
        ids, mask = pad_batch([seq], self.pad_id, self.device)
        out = forward(self.model, ids, mask, -1)
        if out.logits is None:
            raise PoolingError(
                "the loaded model returns no logits; load it with smoke_test.loader: causal-lm"
            )
        logp = torch.log_softmax(out.logits[0, :-1].float(), dim=-1)
        return float(logp.gather(-1, ids[0, 1:].unsqueeze(-1)).sum())


@dataclass
class TensorEmbedder:
    """Pooled embeddings of fixed-size numeric samples (fMRI ROI-by-time tensors): no tokens, no mask."""

    model: LoadedModel
    strategy: str
    layer: int
    hub_tokens: int | None
    device: Any
    dtype: Any
    batching: str = "batch"

    def _hidden(self, items: list[Any]) -> Forward:
        x = torch.stack([torch.as_tensor(i) for i in items]).to(self.device, self.dtype)
        return forward(self.model, x, None, self.layer, self._noise(x))

    def _noise(self, x: torch.Tensor) -> dict[str, Any]:
        """ViT-MAE shuffles patches by random noise even with mask_ratio 0; fixed noise keeps their order,
        so two runs sum in the same order and agree exactly."""
        config = self.model.config
        patch = getattr(config, "patch_size", None)
        if getattr(config, "mask_ratio", None) is None or not isinstance(patch, int) or x.dim() != 4:
            return {}
        if self.model.accepted and "noise" not in self.model.accepted:
            return {}
        n = (x.shape[-2] // patch) * (x.shape[-1] // patch)
        return {"noise": torch.arange(n, device=x.device, dtype=torch.float32).expand(x.shape[0], n)}

    def pooled(self, items: list[Any], fresh: bool = False) -> torch.Tensor:
        """Computed anew every time (`fresh` is for the `Embedder` interface): samples are tensors."""
        out = self._hidden(items)
        return pool(out.hidden, out.mask, self.strategy, self.hub_tokens)

    def hidden_width(self, item: Any) -> int:
        return int(self._hidden([item]).hidden.shape[-1])
