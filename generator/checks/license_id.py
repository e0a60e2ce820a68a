"""Identifying the license of an upstream repository from the text of its license file.

Each known license is recognised by short phrases distinctive of its text (its title line and, where
needed, a clause that tells it from its relatives), compared after normalising case, punctuation and
whitespace. Phrases that would make a text something else (an extra clause, a variant's title) are
listed as `absent`. A text that matches no entry is unrecognised: a wrong answer is worse than none.

Where a file holds several licenses (a dual license, a project license followed by third-party
notices), all are reported, in the order they appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from generator.paths import outside


@dataclass(frozen=True)
class KnownLicense:
    spdx: str
    """The family's SPDX id as the file shows it (`GPL-2.0`: the text cannot tell -only from -or-later)."""
    title: tuple[str, ...]
    """Any one of these locates the license in the text (its heading or its usual one-line notice)."""
    required: tuple[str, ...] = ()
    """All of these must appear as well."""
    absent: tuple[str, ...] = ()
    """None of these may appear (they belong to a variant)."""


# Ordered from most to least specific: the first entry whose phrases match at the earliest title
# position wins, so LGPL precedes GPL, BSD-3-Clause precedes BSD-2-Clause, CC variants precede CC-BY.
KNOWN: tuple[KnownLicense, ...] = (
    KnownLicense(
        "AGPL-3.0",
        (
            "gnu affero general public license version 3 19 november 2007",
            "gnu affero general public license as published by the free software",
        ),
    ),
    KnownLicense("LGPL-3.0", ("gnu lesser general public license version 3 29 june 2007",)),
    KnownLicense("LGPL-2.1", ("gnu lesser general public license version 2 1 february 1999",)),
    KnownLicense("LGPL-2.0", ("gnu library general public license version 2 june 1991",)),
    KnownLicense("GPL-3.0", ("gnu general public license version 3 29 june 2007",)),
    KnownLicense("GPL-2.0", ("gnu general public license version 2 june 1991",)),
    KnownLicense("MPL-2.0", ("mozilla public license version 2 0",), ("covered software",)),
    KnownLicense(
        "Apache-2.0",
        ("apache license version 2 0 january 2004", "licensed under the apache license version 2 0"),
    ),
    KnownLicense("CC-BY-NC-SA-4.0", ("attribution noncommercial sharealike 4 0 international",)),
    KnownLicense("CC-BY-NC-ND-4.0", ("attribution noncommercial noderivatives 4 0 international",)),
    KnownLicense("CC-BY-NC-4.0", ("attribution noncommercial 4 0 international",)),
    KnownLicense("CC-BY-SA-4.0", ("attribution sharealike 4 0 international",)),
    KnownLicense("CC-BY-ND-4.0", ("attribution noderivatives 4 0 international",)),
    KnownLicense("CC-BY-4.0", ("creative commons attribution 4 0 international",)),
    KnownLicense("CC0-1.0", ("cc0 1 0 universal",), ("statement of purpose",)),
    KnownLicense(
        "Unlicense",
        ("this is free and unencumbered software released into the public domain",),
        ("for more information please refer to",),
    ),
    KnownLicense(
        "BSD-3-Clause",
        (
            "redistribution and use in source and binary forms with or without modification are "
            "permitted provided that the following conditions are met",
        ),
        (
            "redistributions of source code must retain the above copyright notice",
            "used to endorse or promote products derived from this software without specific prior",
        ),
        ("all advertising materials mentioning features", "no express or implied licenses to any"),
    ),
    KnownLicense(
        "BSD-2-Clause",
        (
            "redistribution and use in source and binary forms with or without modification are "
            "permitted provided that the following conditions are met",
        ),
        (
            "redistributions of source code must retain the above copyright notice",
            "redistributions in binary form must reproduce the above copyright notice",
        ),
        (
            "neither the name",
            "endorse or promote products",
            "all advertising materials",
            "no express or implied licenses to any",
        ),
    ),
    KnownLicense(
        "MIT",
        ("permission is hereby granted free of charge to any person obtaining a copy",),
        (
            "without restriction including without limitation the rights to use copy modify merge",
            "the above copyright notice and this permission notice shall be included in all copies",
        ),
        ("x consortium", "except as contained in this notice the name of"),
    ),
    KnownLicense(
        "ISC",
        (
            "permission to use copy modify and or distribute this software for any purpose "
            "with or without fee is hereby granted",
            "permission to use copy modify and distribute this software for any purpose "
            "with or without fee is hereby granted",
        ),
        ("provided that the above copyright notice and this permission notice appear in all",),
    ),
)

LICENSE_FILE_NAMES = re.compile(r"^(licen[cs]e|copying|copyright)([-._].*)?$", re.IGNORECASE)
"""LICENSE, LICENSE.md, LICENCE.txt, COPYING, COPYING.LESSER, LICENSE-APACHE, ..."""


def normalise(text: str) -> str:
    """Lower case, every run of non-alphanumerics one space (so markup, quotes and wrapping vanish)."""
    return " " + re.sub(r"[^a-z0-9]+", " ", text.lower()).strip() + " "


@lru_cache(maxsize=1)
def _normalised_known() -> tuple[tuple[KnownLicense, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...]:
    def n(phrases: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(normalise(p).strip() for p in phrases)

    return tuple((k, n(k.title), n(k.required), n(k.absent)) for k in KNOWN)


def identify_all(text: str) -> list[str]:
    """Every known license found in a text (SPDX family ids), in the order their titles appear.

    A file may hold several (a dual license, or a project license followed by third-party notices).
    """
    body = normalise(text)
    found: list[tuple[int, int, str]] = []
    for order, (known, titles, required, absent) in enumerate(_normalised_known()):
        positions = [i for i in (body.find(t) for t in titles) if i >= 0]
        if not positions:
            continue
        if not all(r in body for r in required) or any(a in body for a in absent):
            continue
        found.append((min(positions), order, known.spdx))
    return [spdx for _, _, spdx in sorted(found)]


def identify(text: str) -> str | None:
    """The first license of a text (SPDX family id, see `KnownLicense.spdx`); None when unrecognised."""
    found = identify_all(text)
    return found[0] if found else None


def identify_file(path: Path) -> list[str]:
    """`identify_all` of a file's text ([] when unreadable or unrecognised)."""
    try:
        return identify_all(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


def find_license_files(repo_dir: Path) -> list[Path]:
    """License files at the top of a repository, most conventional name first. A tracked symbolic link
    that leads out of the clone (`LICENSE -> ~/.ssh/id_rsa`) is not a license file: it is never read."""
    if not repo_dir.is_dir():
        return []
    found = [
        p
        for p in repo_dir.iterdir()
        if LICENSE_FILE_NAMES.match(p.name) and p.is_file() and outside(p, repo_dir) is None
    ]

    def rank(p: Path) -> tuple[int, str]:
        name = p.name.lower()
        return (0 if name.startswith("licen") else 1 if name.startswith("copying") else 2, name)

    return sorted(found, key=rank)


def family(spdx_id: str) -> str:
    """`GPL-2.0-only`, `GPL-2.0-or-later`, `GPL-2.0+` -> `GPL-2.0`: what a license file can show."""
    for suffix in ("-only", "-or-later", "+"):
        if spdx_id.endswith(suffix):
            return spdx_id[: -len(suffix)]
    return spdx_id
