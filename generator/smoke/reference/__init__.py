"""Reference kernels: plain-PyTorch stand-ins for the parts of mamba-ssm that model code imports.

mamba-ssm compiles only against CUDA, and its `selective_scan_interface` imports the compiled
extension at module level, so on a CPU machine `import mamba_ssm` fails and so does every model file
that imports it (Caduceus does, at module level). `installed()` puts a `mamba_ssm` module tree made of
this package's modules into `sys.modules` for the duration of a `with` block, in the layout of one
mamba-ssm release, and takes every trace of it out again afterwards:

| mamba-ssm module | 2.x layout (default) | 1.x layout |
| --- | --- | --- |
| `mamba_ssm.modules.mamba_simple` | `Mamba` | `Mamba`, `Block` (1.x signature) |
| `mamba_ssm.modules.block` | `Block` (with `mlp_cls`) | absent |
| `mamba_ssm.ops.triton.layer_norm` | `RMSNorm`, `layer_norm_fn`, `rms_norm_fn` | absent |
| `mamba_ssm.ops.triton.layernorm` | absent | the same three, 1.x signatures |

Only those names exist (packages have an empty `__path__`), so model code that probes for one
layout and falls back to the other takes the same branch it takes with the real release. The
computation is exact, not approximate: `mamba.Mamba` has transformers' `MambaMixer` parameters and
computes the selective scan in chunks (`scan`), equal to its position-by-position scan within float32
rounding; `layer_norm` adds and normalises in float32 as the Triton kernels do.

Importing this package is light; the modules import torch and transformers when installed.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import sys
import types
from collections.abc import Iterator

PACKAGE = "mamba_ssm"
VERSION = "reference"
"""`mamba_ssm.__version__` while installed: no release number, so nothing mistakes it for one."""

LAYOUTS: dict[str, dict[str, dict[str, str]]] = {
    "v2": {
        "mamba_ssm.modules.mamba_simple": {"Mamba": "mamba:Mamba"},
        "mamba_ssm.modules.block": {"Block": "block:Block"},
        "mamba_ssm.ops.triton.layer_norm": {
            "RMSNorm": "layer_norm:RMSNorm",
            "layer_norm_fn": "layer_norm:layer_norm_fn",
            "rms_norm_fn": "layer_norm:rms_norm_fn",
        },
    },
    "v1": {
        "mamba_ssm.modules.mamba_simple": {"Mamba": "mamba:Mamba", "Block": "block:BlockV1"},
        "mamba_ssm.ops.triton.layernorm": {
            "RMSNorm": "layer_norm:RMSNormV1",
            "layer_norm_fn": "layer_norm:layer_norm_fn_v1",
            "rms_norm_fn": "layer_norm:rms_norm_fn_v1",
        },
    },
}
"""mamba-ssm module -> {exported name: "<module of this package>:<attribute>"}, per release layout."""


def module_tree(layout: str = "v2") -> dict[str, types.ModuleType]:
    """The `mamba_ssm` modules of one layout (not installed), parents included."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown mamba-ssm layout '{layout}' (one of: {', '.join(LAYOUTS)})")
    tree: dict[str, types.ModuleType] = {}
    for name, exports in LAYOUTS[layout].items():
        parts = name.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent not in tree:
                tree[parent] = _module(parent, package=True)
        module = tree[name] = _module(name, package=False)
        for attr, where in exports.items():
            source, _, obj = where.partition(":")
            setattr(module, attr, getattr(importlib.import_module(f"{__name__}.{source}"), obj))
    for name, module in tree.items():  # `import a.b` binds b on a
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(tree[parent], child, module)
    tree[PACKAGE].__version__ = VERSION  # type: ignore[attr-defined]  # a module attribute mamba-ssm's own package sets
    return tree


def _module(name: str, package: bool) -> types.ModuleType:
    module = types.ModuleType(name, f"kb reference kernels standing in for {name}")
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=package)
    module.__file__ = None
    module.__kb_reference__ = True  # type: ignore[attr-defined]  # a marker that this module is ours
    if package:
        module.__path__ = []  # nothing can be found below it but what the layout lists
    return module


def is_reference(module: object) -> bool:
    return bool(getattr(module, "__kb_reference__", False))


@contextlib.contextmanager
def installed(layout: str = "v2") -> Iterator[dict[str, types.ModuleType]]:
    """`mamba_ssm` is the reference tree inside the block; afterwards sys.modules is as it was, except
    that modules first imported inside the block which hold reference objects are dropped too (model
    code keeps what it bound; a later import runs the file again, with whatever mamba-ssm is there)."""
    tree = module_tree(layout)
    shadowed = {n: m for n, m in sys.modules.items() if n == PACKAGE or n.startswith(f"{PACKAGE}.")}
    before = set(sys.modules)
    for name in shadowed:
        del sys.modules[name]
    sys.modules.update(tree)
    try:
        yield tree
    finally:
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
        for name in [n for n in sys.modules if n not in before and _holds_reference(sys.modules[n])]:
            del sys.modules[name]
        sys.modules.update(shadowed)
        importlib.invalidate_caches()


def _holds_reference(module: types.ModuleType | None) -> bool:
    prefix = f"{__name__}."
    for value in list(vars(module).values()) if module is not None else []:
        if is_reference(value) or str(getattr(value, "__module__", "")).startswith(prefix):
            return True
    return False
