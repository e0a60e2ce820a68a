"""Shared building blocks of every card schema: the strict base node and the checked string types."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

PLACEHOLDER = re.compile(r"<[^<>\n]{1,60}>|\bTODO\b|\bTBD\b|\bFIXME\b")
"""Leftover template placeholders: `<tag-or-sha>`, TODO, TBD, FIXME."""


class Node(BaseModel):
    """Base of every schema object: unknown keys are errors, attribute docstrings describe fields."""

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        frozen=True,
        str_strip_whitespace=False,
    )


SLUG = r"[a-z0-9][a-z0-9._-]*"
"""A card id, a repository folder name: safe as one file or folder name (no `/`, never `..`)."""


def slug(value: str) -> str:
    if not re.fullmatch(SLUG, value):
        raise ValueError(f"'{value}' is not a valid id: use lower-case letters, digits, '.', '_' and '-'")
    return value


def _commit(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{40}", value):
        raise ValueError(
            f"'{value}' is not a full commit hash: give all 40 lower-case hex digits "
            "(git rev-parse <tag>^{commit} prints it)"
        )
    return value


def _hub_commit(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{40}", value):
        raise ValueError(
            f"'{value}' is not a full commit hash of the hub repository (a branch or tag can move): give "
            'all 40 lower-case hex digits (python -c "import huggingface_hub as h; '
            "print(h.HfApi().model_info('<hub_id>', revision='<branch or tag>').sha)\" prints it)"
        )
    return value


# A model hub repository id as the hub names them: `namespace/name` (or a bare legacy `name`, e.g.
# `gpt2`), letters, digits, `-`, `_`, `.`, neither starting nor ending with `-` or `.`, no `--` or `..`,
# names of at most 96 characters (huggingface_hub's `validate_repo_id` rules).
_HUB_PART = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?"
HUB_ID_RE = rf"^(?:{_HUB_PART}/)?{_HUB_PART}$"


def _hub_id(value: str) -> str:
    if re.fullmatch(r"<[^<>\n]{1,60}>", value):
        return value  # a skeleton's `<owner/name>`: the leftover-placeholder check reports it
    if value.startswith(("http://", "https://", "hf.co/", "huggingface.co/")):
        raise ValueError(
            f"'{value}' is a web address, not a model hub id: give `namespace/name` only "
            "(e.g. zhihan1996/DNABERT-2-117M for https://huggingface.co/zhihan1996/DNABERT-2-117M)"
        )
    if not re.fullmatch(HUB_ID_RE, value) or "--" in value or ".." in value:
        raise ValueError(
            f"'{value}' is not a model hub id: expected `namespace/name` as the hub writes it "
            "(letters, digits, '-', '_' and '.'; e.g. zhihan1996/DNABERT-2-117M)"
        )
    return value


def _doi(value: str) -> str:
    if not re.fullmatch(r"10\.\d{4,9}/[^\s]+", value):
        raise ValueError(
            f"'{value}' is not a DOI: expected the form 10.NNNN/suffix, without https://doi.org/"
        )
    return value


def _arxiv(value: str) -> str:
    if not re.fullmatch(r"\d{4}\.\d{4,5}(v\d+)?|[a-z-]+(\.[A-Z]{2})?/\d{7}(v\d+)?", value):
        raise ValueError(f"'{value}' is not an arXiv id: expected e.g. 2403.03234 (no 'arXiv:' prefix)")
    return value


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s]*)?", value):
        raise ValueError(f"'{value}' is not an http(s) URL")
    return value


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
FORGE_URL_RE = rf"^https://{_LABEL}(?:\.{_LABEL})+(?::[0-9]{{1,5}})?(?:/[A-Za-z0-9_~][A-Za-z0-9_.~-]*)+/?$"
"""`https://host.tld[:port]/owner/name[.git]`: a repository on a forge, nothing else git would also take
(a local path, `file://`, `ssh://`, `ext::`, an option). A mirror for tests or offline use is a setting
(`repo_mirrors` in mkdocs.yml), never a card's."""


def _forge_url(value: str) -> str:
    """An https URL of a repository on a forge (or a skeleton's `<repository-url>` placeholder)."""
    if re.fullmatch(r"<[^<>\n]{1,60}>", value):
        return value  # the leftover-placeholder check reports it
    if not re.fullmatch(FORGE_URL_RE, value) or "/../" in value + "/" or "/./" in value + "/":
        raise ValueError(
            f"'{value}' is not the https URL of a repository on a forge (https://github.com/owner/name): "
            "local paths, file://, ssh:// and other schemes are refused; a mirror for tests or offline "
            "use is set in mkdocs.yml (repo_mirrors), not on the card"
        )
    return value


TAG_RE = r"^[A-Za-z0-9_][A-Za-z0-9_.+/-]*$"


def _tag(value: str) -> str:
    """A git tag name that cannot be read as a moving name, a revision expression or an option."""
    if re.fullmatch(r"<[^<>\n]{1,60}>", value):
        return value  # the leftover-placeholder check reports it
    bad = (
        not re.fullmatch(TAG_RE, value)
        or value == "HEAD"
        or ".." in value
        or "//" in value
        or value.endswith((".", "/", ".lock"))
    )
    if bad:
        raise ValueError(
            f"'{value}' is not a tag name (letters, digits, '.', '_', '+', '-' and '/'; not HEAD): a tag "
            "is looked up among the repository's tags only, and the pin is its commit"
        )
    return value


DISTRIBUTION_RE = r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$"
"""A distribution (pip) name, PEP 508."""


def _distribution(value: str) -> str:
    if not re.fullmatch(DISTRIBUTION_RE, value):
        raise ValueError(f"'{value}' is not a package name as pip installs it (e.g. mamba-ssm, einops)")
    return value


ENTRY_POINT_RE = r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"


def _rel_path(value: str) -> str:
    if not value or value.startswith(("/", "\\")) or re.match(r"[A-Za-z]:[\\/]", value):
        raise ValueError(f"'{value}' must be a relative path inside its folder, not an absolute one")
    if ".." in re.split(r"[\\/]", value):
        raise ValueError(f"'{value}' leaves its folder ('..' is not allowed)")
    return value


@lru_cache(maxsize=1)
def _licensing() -> Any:
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def _split_license_hint(expression: str) -> str:
    """For `Apache-2.0 (code), CC-BY-NC-4.0 (weights)`: the card has a field for each."""
    if not (
        re.search(r"\((code|weights?|model|checkpoints?)\)", expression, re.IGNORECASE)
        or re.fullmatch(r"[\w.+-]+\s*[,;/]\s*[\w.+-]+", expression.strip())
    ):
        return ""
    return (
        "; a card gives the code's license in `license` and the weights' in `weights_license`, e.g. "
        "license: Apache-2.0 and weights_license: CC-BY-NC-4.0"
    )


@lru_cache(maxsize=512)
def spdx_check(expression: str) -> tuple[str, tuple[str, ...]]:
    """Validate an SPDX expression offline: (normalised expression, error messages)."""
    licensing = _licensing()
    try:
        info = licensing.validate(expression, strict=True)
    except Exception:  # license-expression raises (not reports) on some malformed keys
        return expression, (
            f"'{expression}' is not a valid SPDX license expression "
            "(see https://spdx.org/licenses/)" + _split_license_hint(expression),
        )
    errors = list(info.errors)
    unknown = [str(s) for s in getattr(info, "invalid_symbols", [])]
    if errors and unknown and all(s.startswith("LicenseRef-") for s in unknown):
        # SPDX allows custom `LicenseRef-<idstring>` ids (model licenses such as Llama's).
        return expression, ()
    if errors:
        hint = ""
        if unknown:
            hint = " (unknown license id(s): " + ", ".join(unknown) + "; see https://spdx.org/licenses/)"
        return expression, (
            f"'{expression}' is not a valid SPDX license expression{hint}" + _split_license_hint(expression),
        )
    return str(info.normalized_expression or expression), ()


@lru_cache(maxsize=1)
def spdx_pattern() -> str:
    """A regular expression for SPDX expressions over the known license and exception ids.

    Pydantic validates with license-expression; this pattern lets JSON Schema tools (editors,
    `kb schema`) reject the same unknown ids.
    """
    licensing = _licensing()
    ids: list[str] = []
    exceptions: list[str] = []
    for symbol in licensing.known_symbols.values():
        if symbol.key.startswith("LicenseRef-"):
            continue  # covered by the generic LicenseRef-<idstring> form below
        (exceptions if getattr(symbol, "is_exception", False) else ids).append(symbol.key)
    lic = "(?:" + "|".join(re.escape(i) for i in sorted(set(ids), key=lambda s: (-len(s), s)))
    lic += r"|LicenseRef-[A-Za-z0-9.-]+)\+?"
    exc = "(?:" + "|".join(re.escape(i) for i in sorted(set(exceptions), key=lambda s: (-len(s), s))) + ")"
    term = rf"\(*{lic}(?: WITH {exc})?\)*"
    return rf"^{term}(?: (?:AND|OR) {term})*$"


def _spdx(value: str) -> str:
    normalised, errors = spdx_check(value)
    if errors:
        raise ValueError(errors[0])
    return normalised


_PARAM = re.compile(r"~?(\d+(?:\.\d+)?)\s*([KMBT])?", re.IGNORECASE)


def _param_count(value: int | str) -> int | str:
    """A parameter count: an integer or a string like `117M`, `2.5B`, `~7.7M`."""
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("a parameter count must be positive")
        return value
    if not _PARAM.fullmatch(value.strip()):
        raise ValueError(f"'{value}' is not a parameter count: write e.g. 117M, 2.5B or 7700000")
    return value


def param_count_value(value: int | str | None) -> int | None:
    """The number a parameter count stands for (`2.5B` -> 2_500_000_000)."""
    if value is None or isinstance(value, int):
        return value
    m = _PARAM.fullmatch(value.strip())
    assert m is not None
    scale = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}[(m.group(2) or "").upper()]
    return round(float(m.group(1)) * scale)


def _pattern(regex: str) -> Any:
    """Expose a validator's rule to the JSON Schema (editors, `kb schema`) without a second check."""
    return Field(json_schema_extra={"pattern": regex})


RELPATH_RE = r"^(?![/\\])(?![A-Za-z]:[/\\])(?!(.*[/\\])?\.\.([/\\]|$)).+$"

Slug = Annotated[str, AfterValidator(slug), _pattern(r"^[a-z0-9][a-z0-9._-]*$")]
Commit = Annotated[str, AfterValidator(_commit), _pattern(r"^[0-9a-f]{40}$")]
HubCommit = Annotated[str, AfterValidator(_hub_commit), _pattern(r"^[0-9a-f]{40}$")]
HubId = Annotated[str, AfterValidator(_hub_id), _pattern(HUB_ID_RE)]
Doi = Annotated[str, AfterValidator(_doi), _pattern(r"^10\.\d{4,9}/\S+$")]
ArxivId = Annotated[
    str, AfterValidator(_arxiv), _pattern(r"^(\d{4}\.\d{4,5}(v\d+)?|[a-z-]+(\.[A-Z]{2})?/\d{7}(v\d+)?)$")
]
HttpUrl = Annotated[str, AfterValidator(_http_url), _pattern(r"^https?://[A-Za-z0-9.-]+(:\d+)?(/\S*)?$")]
ForgeUrl = Annotated[str, AfterValidator(_forge_url), _pattern(FORGE_URL_RE)]
Tag = Annotated[str, AfterValidator(_tag), _pattern(TAG_RE)]
Distribution = Annotated[str, AfterValidator(_distribution), _pattern(DISTRIBUTION_RE)]
RelPath = Annotated[str, AfterValidator(_rel_path), _pattern(RELPATH_RE)]
Spdx = Annotated[
    str, AfterValidator(_spdx), Field(json_schema_extra=lambda s: s.update(pattern=spdx_pattern()))
]
ParamCount = Annotated[
    int | str,
    AfterValidator(_param_count),
    Field(
        json_schema_extra={
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": r"^~?\d+(\.\d+)?\s*[KMBTkmbt]?$"},
            ]
        }
    ),
]
MARKDOWN_FORMAT = {"format": "markdown"}
Markdown = Annotated[str, Field(json_schema_extra=MARKDOWN_FORMAT)]
"""Text rendered as Markdown (emphasis, links, code spans; block Markdown where the field is prose);
raw HTML inside it is escaped, never passed through. Every text field not typed `Markdown` is plain
text: names, titles, labels, ids and short values are shown exactly as written, `*` and backticks
included (`generator.render.markup.plain`)."""


class Citation(Node):
    """A paper or preprint to cite."""

    title: str
    """Title of the work."""
    authors: list[str] = []
    """Authors in citation order ("Family, Given" or "Given Family")."""
    year: int | None = None
    """Year of publication."""
    venue: str | None = None
    """Journal, conference or preprint server."""
    doi: Doi | None = None
    """DOI without the resolver prefix, e.g. 10.1038/s41592-024-02523-z."""
    arxiv: ArxivId | None = None
    """arXiv identifier without the `arXiv:` prefix, e.g. 2403.03234."""
    url: HttpUrl | None = None
    """Landing page when there is neither DOI nor arXiv id."""
    bibtex: str | None = None
    """The BibTeX entry, shown with a copy button."""


class NamedLink(Node):
    """A labelled external link."""

    title: str
    """Link text."""
    url: HttpUrl
    """Target URL."""


class CodeBlock(Node):
    """Code written in the card itself (not cited from upstream)."""

    language: str = "python"
    """Pygments language name used for highlighting."""
    source: str
    """The code."""
