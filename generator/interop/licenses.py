"""SPDX license expressions <-> the Hugging Face Hub's license ids (https://huggingface.co/docs/hub/repositories-licenses).

The Hub knows a fixed list of ids, mostly lower-cased SPDX ids. Anything else is published as
`license: other` with `license_name` (a slug) and `license_link`.
"""

from __future__ import annotations

import re

_HUB_LIST = """
apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda
cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0
cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0
cc-by-nc-sa-4.0 cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0
etalab-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc h-research
intel-research lppl-1.3c ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql
ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license llama2 llama3 llama3.1 llama3.2 llama3.3
llama4 gemma unknown other
"""
HUB_LICENSES = frozenset(_HUB_LIST.split())
"""License ids the Hub accepts in a model card's `license:` field."""

_SPDX_TO_HUB = {
    "GPL-2.0-only": "gpl-2.0",
    "GPL-2.0-or-later": "gpl-2.0",
    "GPL-3.0-only": "gpl-3.0",
    "GPL-3.0-or-later": "gpl-3.0",
    "LGPL-2.1-only": "lgpl-2.1",
    "LGPL-2.1-or-later": "lgpl-2.1",
    "LGPL-3.0-only": "lgpl-3.0",
    "LGPL-3.0-or-later": "lgpl-3.0",
    "AGPL-3.0-only": "agpl-3.0",
    "AGPL-3.0-or-later": "agpl-3.0",
    "ODbL-1.0": "odbl",
    "ODC-By-1.0": "odc-by",
    "PDDL-1.0": "pddl",
}
"""SPDX ids whose Hub id is not simply the lower-cased SPDX id."""

_HUB_TO_SPDX = {
    "gpl-2.0": "GPL-2.0-only",
    "gpl-3.0": "GPL-3.0-only",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-3.0": "LGPL-3.0-only",
    "agpl-3.0": "AGPL-3.0-only",
    "odbl": "ODbL-1.0",
    "odc-by": "ODC-By-1.0",
    "pddl": "PDDL-1.0",
}
_FAMILIES = {"bsd", "cc", "gpl", "lgpl", "gfdl", "openrail", "unknown", "other"}
"""Hub ids naming a family or nothing in particular: no single SPDX id stands for them."""


def _is_single_id(expression: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9.+-]+", expression) is not None


def spdx_to_hub(expression: str, fallback_link: str | None = None) -> dict[str, str]:
    """Front matter for an SPDX expression: `{"license": id}`, or `other` + `license_name`/`license_link`."""
    if _is_single_id(expression):
        hub = _SPDX_TO_HUB.get(expression, expression.lower())
        if hub in HUB_LICENSES and hub not in _FAMILIES:
            return {"license": hub}
    name = re.sub(r"[^a-z0-9.]+", "-", expression.lower()).strip("-")
    if _is_single_id(expression) and not expression.startswith("LicenseRef-"):
        link = f"https://spdx.org/licenses/{expression}.html"
    else:
        link = fallback_link or "https://spdx.org/licenses/"
    return {"license": "other", "license_name": name, "license_link": link}


def hub_to_spdx(meta: dict[str, object]) -> str | None:
    """The SPDX expression for a README's license keys, or None when it cannot be told."""
    license_id = str(meta.get("license") or "").strip()
    if license_id and license_id != "other":
        if license_id in _FAMILIES:
            return None
        if license_id in _HUB_TO_SPDX:
            return _HUB_TO_SPDX[license_id]
        return _canonical(license_id)
    name = meta.get("license_name")
    if isinstance(name, str) and name:
        # Our own exports write the expression lower-cased with spaces as '-': try it as written,
        # then with the operators restored.
        restored = re.sub(r"-(or|and|with)-", r" \1 ", name)
        return _canonical(name) or _canonical(restored)
    return None


def _canonical(expression: str) -> str | None:
    from generator.schema.common import spdx_check

    normalised, errors = spdx_check(expression)
    return None if errors else normalised
