"""Loading a card's checkpoint offline: Auto classes, a masked-LM wrapper's base model, or an entry point.

Everything here runs with the hub switched off (`HF_HUB_OFFLINE=1`, `local_files_only=True`) and with
custom code cached in a temporary `HF_MODULES_CACHE`, so a run neither downloads nor leaves code
behind. Optional packages a card needs (mamba-ssm, flash-attn) are imported only for that card.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.exceptions import MissingDependency, SmokeError

IMPORT_NAMES = {"mamba-ssm": "mamba_ssm", "causal-conv1d": "causal_conv1d", "flash-attn": "flash_attn"}
"""pip name -> import name for packages cards list in `smoke_test.requires`."""

EXTRAS = {"mamba-ssm": "gpu", "causal-conv1d": "gpu", "flash-attn": "gpu"}
"""Which extra of foundation-model-kb installs a package (default: smoke)."""


def import_torch(purpose: str = "The embedding smoke test") -> Any:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependency("torch", "smoke", purpose) from exc
    return torch


def import_transformers(purpose: str = "The embedding smoke test") -> Any:
    try:
        import transformers
    except ImportError as exc:
        raise MissingDependency("transformers", "smoke", purpose) from exc
    return transformers


def import_required(card: Any) -> None:
    """Import the extra packages the card's model code needs, naming the extra that installs each."""
    for package in card.smoke_test.requires:
        name = IMPORT_NAMES.get(package, package.replace("-", "_"))
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise MissingDependency(
                package, EXTRAS.get(package, "smoke"), f"card '{card.id}' (smoke_test.requires)"
            ) from exc


@contextlib.contextmanager
def offline_hub() -> Iterator[Path]:
    """Hub off and a throwaway modules cache for custom code, restored afterwards."""
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_MODULES_CACHE")}
    with tempfile.TemporaryDirectory(prefix="kb-hf-modules-") as tmp:
        os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_MODULES_CACHE=tmp)
        # transformers reads HF_MODULES_CACHE once at import; point its module-level copy here too.
        dyn = sys.modules.get("transformers.dynamic_module_utils")
        saved_dyn = getattr(dyn, "HF_MODULES_CACHE", None)
        if dyn is not None:
            dyn.HF_MODULES_CACHE = tmp  # type: ignore[attr-defined]
        try:
            yield Path(tmp)
        finally:
            if dyn is not None:
                dyn.HF_MODULES_CACHE = saved_dyn  # type: ignore[attr-defined]
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@dataclass
class LoadedModel:
    """The model as the smoke test uses it."""

    encoder: Any
    """The module whose hidden states are pooled (the base model of a masked-LM wrapper)."""
    full: Any
    """What was loaded (the wrapper, with its head): parameters are counted on both."""
    tokenizer: Any | None
    config: Any | None
    takes_mask: bool
    input_name: str
    accepted: set[str] = field(default_factory=set)
    """Keyword arguments the encoder's forward accepts (empty: it takes **kwargs)."""
    missing_keys: list[str] = field(default_factory=list)
    """Weights the checkpoint did not provide (initialised at random by transformers)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Configuration values changed for inference (ViT-MAE's mask_ratio)."""


def _forward_params(module: Any) -> tuple[set[str], bool]:
    try:
        sig = inspect.signature(module.forward)
    except (TypeError, ValueError):
        return set(), True
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    return set(sig.parameters), var_kw


def load(card: Any, ckpt: Path, repo_dir: Path, device: Any, dtype: Any, trusted: bool) -> LoadedModel:
    """Load the card's checkpoint onto `device` in `dtype`, in eval mode.

    `trusted`: the upstream code was verified at the pinned commit, so it may run."""
    import_torch()
    transformers = import_transformers()
    smoke = card.smoke_test
    import_required(card)
    kwargs: dict[str, Any] = {"local_files_only": True, "trust_remote_code": trusted}
    with offline_hub():
        config = None
        overrides: dict[str, Any] = {}
        if smoke.loader != "entry-point":
            config = _load_config(transformers, card, ckpt, kwargs)
            overrides = {"mask_ratio": 0.0} if hasattr(config, "mask_ratio") else {}
            for key, value in overrides.items():  # ViT-MAE masks at random unless told not to
                setattr(config, key, value)
            auto = {
                "auto": transformers.AutoModel,
                "masked-lm": transformers.AutoModelForMaskedLM,
                "causal-lm": transformers.AutoModelForCausalLM,
            }[smoke.loader]
            try:
                full, info = auto.from_pretrained(
                    str(ckpt), config=config, dtype=dtype, output_loading_info=True, **kwargs
                )
                missing = sorted(info.get("missing_keys", []))
            except (OSError, ValueError, KeyError) as exc:
                first = (str(exc).strip().splitlines() or [""])[0]  # transformers lists every class after it
                raise SmokeError(
                    f"card '{card.id}': loading {ckpt} with {auto.__name__} failed: {first} "
                    "(smoke_test.loader: auto, masked-lm, causal-lm or entry-point)"
                ) from exc
            tokenizer = _load_tokenizer(transformers, card, ckpt, kwargs)
        else:
            full, tokenizer = _entry_point(card, ckpt, repo_dir)
            missing = []
            full = full.to(dtype=dtype)
            config = getattr(full, "config", None)
            if tokenizer is None:
                tokenizer = _load_tokenizer(transformers, card, ckpt, kwargs)
    full = full.to(device).eval()
    encoder = full
    if smoke.loader == "masked-lm":
        attr = smoke.base_model_attr
        encoder = getattr(full, attr, None) if attr else getattr(full, "base_model", None)
        if encoder is None:
            raise SmokeError(
                f"card '{card.id}': the masked-LM wrapper {type(full).__name__} has no attribute "
                f"'{attr or 'base_model'}'; set smoke_test.base_model_attr to the base model's name"
            )
    if smoke.loader == "causal-lm":
        encoder = full  # hidden states come with the logits
    params, var_kw = _forward_params(encoder)
    input_name = smoke.input.argument or (
        "pixel_values" if smoke.input.kind == "roi-timeseries" else "input_ids"
    )
    if not var_kw and input_name not in params:
        raise SmokeError(
            f"card '{card.id}': {type(encoder).__name__}.forward takes no '{input_name}'; set "
            f"smoke_test.input.argument to one of: {', '.join(sorted(params - {'self'}))}"
        )
    return LoadedModel(
        encoder,
        full,
        tokenizer,
        config,
        "attention_mask" in params,
        input_name,
        set() if var_kw else params,
        missing,
        overrides,
    )


def _load_config(transformers: Any, card: Any, ckpt: Path, kwargs: dict[str, Any]) -> Any:
    try:
        return transformers.AutoConfig.from_pretrained(str(ckpt), **kwargs)
    except ValueError as exc:
        if "trust_remote_code" in str(exc) and not kwargs["trust_remote_code"]:
            raise SmokeError(
                f"card '{card.id}': the checkpoint ships its own model code; set "
                "smoke_test.trust_remote_code: true after reviewing it at the pinned commit"
            ) from exc
        raise SmokeError(f"card '{card.id}': cannot read the model configuration in {ckpt}: {exc}") from exc
    except OSError as exc:
        raise SmokeError(f"card '{card.id}': cannot read the model configuration in {ckpt}: {exc}") from exc


def _load_tokenizer(transformers: Any, card: Any, ckpt: Path, kwargs: dict[str, Any]) -> Any | None:
    if card.smoke_test.tokenizer == "none":
        return None
    try:
        return transformers.AutoTokenizer.from_pretrained(str(ckpt), **kwargs)
    except (OSError, ValueError, KeyError) as exc:
        raise SmokeError(
            f"card '{card.id}': no usable tokenizer in {ckpt} ({exc}); save the checkpoint's "
            "tokenizer there, or set smoke_test.tokenizer: none for numeric inputs"
        ) from exc


def _entry_point(card: Any, ckpt: Path, repo_dir: Path) -> tuple[Any, Any | None]:
    """Call `module:function(checkpoint_dir)` from the upstream repository; it returns a model or
    (model, tokenizer)."""
    module_name, _, func_name = card.smoke_test.entry_point.partition(":")
    top = module_name.split(".")[0]
    cached = sys.modules.get(top)
    if cached is not None and not str(getattr(cached, "__file__", "") or "").startswith(str(repo_dir)):
        # A module of the same name from another repository (or another checkout) must not be reused.
        for name in [n for n in sys.modules if n == top or n.startswith(f"{top}.")]:
            del sys.modules[name]
    sys.path.insert(0, str(repo_dir))
    try:
        module = importlib.import_module(module_name)
        func = getattr(module, func_name)
    except ImportError as exc:
        raise SmokeError(f"card '{card.id}': cannot import {module_name} from {repo_dir}: {exc}") from exc
    except AttributeError:
        raise SmokeError(f"card '{card.id}': {module_name} has no function '{func_name}'") from None
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(repo_dir))
    result = func(ckpt)
    if isinstance(result, tuple):
        return result[0], result[1] if len(result) > 1 else None
    return result, None
