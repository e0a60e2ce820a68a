"""The license policy of the settings (`plugins.kb.license_policy`) applied to SPDX expressions: which
license ids an expression names, and which of them the policy flags or refuses."""

from __future__ import annotations

import fnmatch
from functools import lru_cache

from generator.schema.card import Card, HasLicense
from generator.settings import LicensePolicy


def license_ids(expression: str) -> list[str]:
    """The SPDX license ids of an expression (`Apache-2.0 OR MIT` -> both), exceptions left out."""
    return list(_license_ids(expression))


@lru_cache(maxsize=1024)
def _license_ids(expression: str) -> tuple[str, ...]:
    """Parsing is the costly part of a card's facts (every card, every rebuild): once per expression."""
    from generator.schema.common import _licensing

    try:
        parsed = _licensing().parse(expression)
    except Exception:  # the schema already reported an unparsable expression
        return ()
    if parsed is None:
        return ()
    symbols = _licensing().license_symbols(parsed, decompose=False)
    # `X WITH exception` counts as X: the exception adds a permission, it is not a license of its own.
    return tuple(str(getattr(s, "license_symbol", s).key) for s in symbols)


def matches(patterns: list[str], license_id: str) -> str | None:
    """The first pattern (an SPDX id or a shell pattern such as `CC-BY-NC-*`) matching the id."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(license_id.lower(), pattern.lower()):
            return pattern
    return None


def flagged_licenses(policy: LicensePolicy, card: Card) -> list[str]:
    """The licenses of a card that the policy flags (or refuses), for the badge on its page."""
    if not isinstance(card, HasLicense):
        return []
    return sorted(
        {
            i
            for _name, value in card.license_fields()
            for i in license_ids(value)
            if matches(policy.flag, i) or matches(policy.refuse, i)
        }
    )
