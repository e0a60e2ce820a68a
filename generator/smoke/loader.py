"""Loading a card's checkpoint offline: Auto classes, a masked-LM wrapper's base model, or an entry point.

Each way of loading is one function registered under its `smoke_test.loader` name in `LOADERS`
(`@loader("masked-lm")`); `load` looks it up. A new loader is one such function here and its name in
the `loader` literal of `generator/schema/smoke.py`. Every loader that builds through `from_pretrained`
(`_pretrained`) gets the weights the model's code ties tied again (`generator.smoke.tying`).

Everything here runs with the hub switched off (`HF_HUB_OFFLINE=1`, `local_files_only=True`) and with
custom code cached in a temporary `HF_MODULES_CACHE`, so a run neither downloads nor leaves code
behind. Optional packages a card needs (mamba-ssm, flash-attn) are imported only for that card.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.exceptions import MissingDependency, SmokeError, SmokeStage
from generator.smoke.kernels import Kernels, kernels_for
from generator.smoke.pinned import auto_map_refs, code_outside_folder, module_file
from generator.smoke.tying import Ties, retie

if TYPE_CHECKING:
    from generator.schema.model_card import ModelCard
    from generator.schema.smoke import SmokeTest

IMPORT_NAMES = {"mamba-ssm": "mamba_ssm", "causal-conv1d": "causal_conv1d", "flash-attn": "flash_attn"}
"""pip name -> import name for packages cards list in `smoke_test.requires`."""

EXTRAS = {"mamba-ssm": "gpu", "causal-conv1d": "gpu", "flash-attn": "gpu"}
"""Which extra of foundation-model-kb installs a package; any other is installed by its own name."""

PIP_NAMES = {"sklearn": "scikit-learn", "yaml": "pyyaml", "PIL": "pillow", "cv2": "opencv-python"}
"""import name -> pip name, where they differ (hub code names modules, pip installs distributions)."""


def pip_name(module: str) -> str:
    top = module.split(".")[0]
    reverse = {v: k for k, v in IMPORT_NAMES.items()}
    return reverse.get(top) or PIP_NAMES.get(top) or top.replace("_", "-")


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


def import_required(card: ModelCard, kernels: Kernels | None = None) -> None:
    """Check that the extra packages the card's model code needs are installed, naming the line that
    installs each. They are distributions, looked up in the installed metadata and never imported
    here: a card-given name must not run a module (of the project tree, or anywhere else). A package
    the reference kernels stand in for in this run needs no installation."""
    import importlib.metadata

    standing_in = set(kernels.packages) if kernels and kernels.kind == "reference" else set()
    for package in _smoke(card).requires:
        if package in standing_in:
            continue
        try:
            importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            raise MissingDependency(
                package, EXTRAS.get(package), f"card '{card.id}' (smoke_test.requires)"
            ) from None


def missing_code_imports(card: ModelCard, ckpt: Path) -> None:
    """Refuse, before anything runs, when the checkpoint's own code imports a package that is missing.

    transformers makes the same check while loading, but stops at the first file and says it as text;
    this names every missing package with its pip line and the card field that should list it. Only
    imports that always run are counted (transformers' own rule: not inside `try` or an availability
    test), from the modules `auto_map` names and what they import relatively, outside `try` blocks."""
    import importlib.util

    from transformers.dynamic_module_utils import get_imports

    local = {p.stem for p in ckpt.rglob("*.py")}
    missing: set[str] = set()
    for py in _code_modules(ckpt):
        for name in get_imports(str(py)):
            top = name.split(".")[0]
            if top not in local and top not in sys.modules and importlib.util.find_spec(top) is None:
                missing.add(pip_name(top))
    if missing:
        names = sorted(missing)
        raise SmokeError(
            f"card '{card.id}': the checkpoint's code imports {', '.join(names)}, not installed here. "
            f"Install with: pip install {' '.join(names)} (and list them in smoke_test.requires)",
            SmokeStage.DEPENDENCIES,
        )


def _code_modules(ckpt: Path) -> list[Path]:
    """The checkpoint's Python files that loading imports for sure: those `auto_map` names (config and
    tokenizer), and the files they import relatively outside `try` blocks, transitively."""
    import ast

    todo = [ref.rsplit(".", 1)[0] for _, ref in auto_map_refs(ckpt) if "." in ref]
    seen: dict[str, Path] = {}
    while todo:
        module = todo.pop()
        path = ckpt / f"{module.replace('.', '/')}.py"
        if module in seen or not path.is_file():
            continue
        seen[module] = path
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        todo += [node.module for node in _unguarded(tree) if node.level == 1 and node.module]
    return list(seen.values())


def _unguarded(tree: Any) -> Iterator[Any]:
    """`from . import` statements of a module that are not inside a `try` block."""
    import ast

    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Try):
            continue
        if isinstance(node, ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _smoke(card: ModelCard) -> SmokeTest:
    assert card.smoke_test is not None  # only cards with a smoke test are loaded
    return card.smoke_test


@contextlib.contextmanager
def offline_hub() -> Iterator[Path]:
    """Hub off and a throwaway modules cache for custom code, restored afterwards.

    transformers reads HF_MODULES_CACHE once, at import, into `transformers.dynamic_module_utils`;
    the environment variable covers a transformers imported later (a child process), and the module
    attribute the one already imported. The folder is taken off sys.path and the modules imported from
    it are forgotten afterwards, so nothing points into a deleted folder."""
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_MODULES_CACHE")}
    import transformers.dynamic_module_utils as dyn

    with tempfile.TemporaryDirectory(prefix="kb-hf-modules-") as tmp:
        os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_MODULES_CACHE=tmp)
        saved_dyn = dyn.HF_MODULES_CACHE
        dyn.HF_MODULES_CACHE = tmp
        try:
            yield Path(tmp)
        finally:
            dyn.HF_MODULES_CACHE = saved_dyn
            _forget_modules(tmp)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _forget_modules(folder: str) -> None:
    """Drop `folder` from sys.path and every module imported from it."""
    with contextlib.suppress(ValueError):
        sys.path.remove(folder)
    for name in [n for n in sys.modules if n.split(".")[0] == "transformers_modules"]:
        module = sys.modules[name]
        paths = [str(getattr(module, "__file__", "") or "")]
        with contextlib.suppress(TypeError):  # namespace packages have a path object, not a list
            paths += [str(p) for p in getattr(module, "__path__", []) or []]
        if any(p.startswith(folder) for p in paths):
            del sys.modules[name]
    importlib.invalidate_caches()


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
    ties: Ties | None = None
    """Weights the model's code shares, tied again after loading (`generator.smoke.tying`)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Configuration values changed for inference (ViT-MAE's mask_ratio)."""


def _forward_params(module: Any) -> tuple[set[str], bool]:
    try:
        sig = inspect.signature(module.forward)
    except (TypeError, ValueError):
        return set(), True
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    return set(sig.parameters), var_kw


def load(
    card: ModelCard,
    ckpt: Path,
    repo_dir: Path,
    device: Any,
    dtype: Any,
    trusted: bool,
    kernels: Kernels | None = None,
) -> LoadedModel:
    """Load the card's checkpoint onto `device` in `dtype`, in eval mode.

    `trusted`: the upstream code was verified at the pinned commit, so it may run. `kernels`: where
    they are the reference kernels, model code imported during this load gets them for mamba-ssm."""
    import_torch()
    transformers = import_transformers()
    smoke = _smoke(card)
    kwargs: dict[str, Any] = {"local_files_only": True, "trust_remote_code": trusted}
    with kernels_for(kernels), offline_hub():
        import_required(card, kernels)
        code_outside_folder(card, ckpt)
        if trusted:
            missing_code_imports(card, ckpt)
        got = LOADERS[smoke.loader](ToLoad(transformers, card, ckpt, repo_dir, dtype, kwargs))
    full = got.full.to(device).eval()
    encoder = got.encoder(full) if got.encoder else full
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
        got.tokenizer,
        got.config,
        "attention_mask" in params,
        input_name,
        set() if var_kw else params,
        got.missing,
        got.ties,
        got.overrides,
    )


@dataclass(frozen=True)
class ToLoad:
    """What a loader is handed: transformers, the card, its checkpoint folder and upstream clone, the
    dtype, and the keyword arguments every `from_pretrained` gets (offline; remote code when trusted)."""

    transformers: Any
    card: ModelCard
    folder: Path
    repo_dir: Path
    dtype: Any
    kwargs: dict[str, Any]


@dataclass
class Loaded:
    """What a loader gives back."""

    full: Any
    tokenizer: Any | None
    config: Any | None
    missing: list[str] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)
    ties: Ties | None = None
    """Weights the model's code shares, tied again after loading (None: not built by from_pretrained)."""
    encoder: Callable[[Any], Any] | None = None
    """The module whose hidden states are pooled, from the loaded model (None: the model itself)."""


Loader = Callable[[ToLoad], Loaded]

LOADERS: dict[str, Loader] = {}
"""`smoke_test.loader` name -> the function that loads such a checkpoint."""


def loader(name: str) -> Callable[[Loader], Loader]:
    """Register a loader under its `smoke_test.loader` name."""

    def register(fn: Loader) -> Loader:
        LOADERS[name] = fn
        return fn

    return register


@loader("auto")
def _auto(c: ToLoad) -> Loaded:
    return _pretrained(c, c.transformers.AutoModel)


@loader("masked-lm")
def _masked_lm(c: ToLoad) -> Loaded:
    loaded = _pretrained(c, c.transformers.AutoModelForMaskedLM)
    loaded.encoder = lambda full: _encoder(c.card, full)
    return loaded


@loader("causal-lm")
def _causal_lm(c: ToLoad) -> Loaded:
    return _pretrained(c, c.transformers.AutoModelForCausalLM)  # its hidden states come with the logits


@loader("entry-point")
def _from_entry_point(c: ToLoad) -> Loaded:
    full, tokenizer = _entry_point(c.card, c.folder, c.repo_dir)
    full = full.to(dtype=c.dtype)
    if tokenizer is None:
        tokenizer = _load_tokenizer(c.transformers, c.card, c.folder, c.kwargs)
    return Loaded(full, tokenizer, getattr(full, "config", None))


def _pretrained(c: ToLoad, auto: Any) -> Loaded:
    """Through an Auto class's from_pretrained, then the weights the model's code ties tied again (inside
    `load`'s kernels, which the model's code was built on and `retie` builds it with again)."""
    full, missing, config, overrides = _from_pretrained(
        c.transformers, c.card, c.folder, c.dtype, c.kwargs, auto
    )
    ties = retie(full, missing)
    tokenizer = _load_tokenizer(c.transformers, c.card, c.folder, c.kwargs)
    return Loaded(full, tokenizer, config, ties.missing, overrides, ties)


def _from_pretrained(
    transformers: Any, card: ModelCard, ckpt: Path, dtype: Any, kwargs: dict[str, Any], auto: Any
) -> tuple[Any, list[str], Any, dict[str, Any]]:
    """(model, missing weight names, config, config overrides) through an Auto class."""
    config = _load_config(transformers, card, ckpt, kwargs)
    overrides: dict[str, Any] = {"mask_ratio": 0.0} if hasattr(config, "mask_ratio") else {}
    for key, value in overrides.items():  # ViT-MAE masks at random unless told not to
        setattr(config, key, value)
    try:
        with _missing_weights_reported_by_the_check():
            full, info = auto.from_pretrained(
                str(ckpt), config=config, dtype=dtype, output_loading_info=True, **kwargs
            )
    except (OSError, ValueError, KeyError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]  # transformers lists every class after it
        raise SmokeError(
            f"card '{card.id}': loading {ckpt} with {auto.__name__} failed: {first} "
            "(smoke_test.loader: auto, masked-lm, causal-lm or entry-point)"
        ) from exc
    return full, sorted(info.get("missing_keys", [])), config, overrides


class _NotMissingWeights(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "and are newly initialized: " not in record.getMessage()


@contextlib.contextmanager
def _missing_weights_reported_by_the_check() -> Iterator[None]:
    """transformers' own warning about missing weights is dropped while loading: weights the model's
    code ties come back as missing before `retie` ties them, and the `weights` check names the ones
    that remain (shape mismatches are still warned about)."""
    logger, quiet = logging.getLogger("transformers.modeling_utils"), _NotMissingWeights()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _encoder(card: ModelCard, full: Any) -> Any:
    """A masked-LM wrapper's base model, whose hidden states are pooled."""
    smoke = _smoke(card)
    attr = smoke.base_model_attr
    encoder = getattr(full, attr, None) if attr else getattr(full, "base_model", None)
    if encoder is None:
        raise SmokeError(
            f"card '{card.id}': the masked-LM wrapper {type(full).__name__} has no attribute "
            f"'{attr or 'base_model'}'; set smoke_test.base_model_attr to the base model's name"
        )
    return encoder


def _load_config(transformers: Any, card: ModelCard, ckpt: Path, kwargs: dict[str, Any]) -> Any:
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


def _load_tokenizer(transformers: Any, card: ModelCard, ckpt: Path, kwargs: dict[str, Any]) -> Any | None:
    if _smoke(card).tokenizer == "none":
        return None
    try:
        return transformers.AutoTokenizer.from_pretrained(str(ckpt), **kwargs)
    except (OSError, ValueError, KeyError) as exc:
        raise SmokeError(
            f"card '{card.id}': no usable tokenizer in {ckpt} ({exc}); save the checkpoint's "
            "tokenizer there, or set smoke_test.tokenizer: none for numeric inputs"
        ) from exc


def _entry_point(card: ModelCard, ckpt: Path, repo_dir: Path) -> tuple[Any, Any | None]:
    """Call `module:function(checkpoint_dir)` from the upstream repository; it returns a model or
    (model, tokenizer)."""
    module_name, _, func_name = str(_smoke(card).entry_point).partition(":")
    top = module_name.split(".")[0]
    cached = sys.modules.get(top)
    if cached is not None and not str(getattr(cached, "__file__", "") or "").startswith(str(repo_dir)):
        # A module of the same name from another repository (or another checkout) must not be reused.
        for name in [n for n in sys.modules if n == top or n.startswith(f"{top}.")]:
            del sys.modules[name]
    sys.path.insert(0, str(repo_dir))
    try:
        module = importlib.import_module(module_name)
        expected = module_file(repo_dir, module_name)
        if expected is None or expected.resolve() != Path(str(module.__file__)).resolve():
            raise ImportError(f"{module_name} was found at {module.__file__}, not in the clone")
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
