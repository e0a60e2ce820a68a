"""The CI checks: links of the built site, licenses of the cards and their upstream repositories.

`check_site` and `check_licenses` return located `Problem`s; `kb check` prints them and `kb build`
runs them as its last stage.
"""

from __future__ import annotations

from generator.checks.links import check_site

__all__ = ["check_site"]
